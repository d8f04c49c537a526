/* examples/common/ch06_authors.h — who wrote which poem: the facts of chapter 6's
 * hallucination (幻觉) and RAG demos, and the tiny GPTs that learn them, so that
 * ch06_hallucination and ch06_rag read the same table, split it the same way, train the same
 * way and ask the same way:
 *   authors_open          the table: every tang300 poem's title, author and text (titles
 *                         kept), or a small synthetic table when fortunes-zh is missing; its
 *                         titles split into seen ones (their fact line is trained on) and
 *                         unseen ones (held out)
 *   authors_settings_from the two models' settings and command line (below)
 *   authors_train         the training text and the GPT (gpt_train of gpt_train.h)
 *   authors_ask           the greedy answer to a prompt, up to the line end, and its probability
 *   authors_eval          accuracy and confidence over the seen or the unseen titles
 *   authors_reading_test  the share of made-up cards answered from the card
 *
 * The training text has up to two kinds of lines, shuffled together:
 *   facts     《静夜思》作者：李白                  (seen titles only, `copies` times each)
 *   reading   【资料】《寒江远》作者：王维           (a made-up title, a random poet)
 *             《寒江远》作者：王维
 * A reading card is practice in using what the prompt says: the title is made of random title
 * characters and the poet is drawn at random, so the answer can only come from the 【资料】
 * ("material") line above the question, never from memory; no card holds a real title's
 * author. That is the skill RAG relies on, and a model must be taught it (a real assistant
 * learns it in fine-tuning): a model that never saw a question answered from its context
 * ignores the document put there. The hallucination demo's model reads facts only; the RAG
 * demo's reads both.
 * The check text of gpt_train (its "validation", whose best weights are kept) is what the
 * model is meant to do: fresh reading cards and the first 60 seen facts. The unseen titles
 * stay out of it: they are measured by asking (authors_eval), which is what the demos are
 * about.
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_CH06_AUTHORS_H
#define EXAMPLES_COMMON_CH06_AUTHORS_H

#include "gpt_train.h"

#define AUTHORS_FN static __attribute__((unused))
#define AUTHORS_UNSEEN 0.2      /* the share of titles held out */
#define AUTHORS_MAX_ANSWER 6    /* characters read after "作者：" (names have 2 to 4) */
/* What a retrieved document starts with in a prompt. No "：" in it: then the only "：" before
 * the question's is the one after 作者 in the document, right before the author. */
#define AUTHORS_DOC_TAG "【资料】"

typedef struct author_card {
    char *title;    /* "《静夜思》" */
    char *author;   /* "李白" */
    char *poem;     /* the poem's lines, each ending in \n ("" when there are none) */
    bool seen;      /* its fact line is in the training text */
    bool repeat;    /* an earlier card has the same title (ask each title once) */
} author_card;

typedef struct authors_kb {
    bool tang;              /* tang300 was read (else the synthetic table) */
    int n;                  /* cards */
    author_card *cards;
    char **names;           /* the distinct authors, most poems first */
    int n_names;
    int titles_seen, titles_unseen;   /* distinct titles of each kind */
} authors_kb;

/* ---- a growing string --------------------------------------------------------------------- */

typedef struct authors_buf {
    char *s;
    size_t len, cap;
} authors_buf;

AUTHORS_FN void authors_put(authors_buf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = 2 * (b->len + n + 1) + 256;
        b->s = realloc(b->s, b->cap);
        if (!b->s) fprintf(stderr, "out of memory\n"), exit(1);
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

AUTHORS_FN char *authors_strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) fprintf(stderr, "out of memory\n"), exit(1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ---- the table ---------------------------------------------------------------------------- */

/* A made-up table for machines without fortunes-zh: titles of two or three words from
 * poems.h's synthetic grammar, eight invented poets, one 5-character line each. */
static const char *const authors_syn_poets[] = {"王清", "李远", "张明川", "刘春", "陈秋",
                                                "杨白", "赵青山", "周寒"};

AUTHORS_FN void authors_synthetic(authors_kb *kb, int count, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    kb->cards = calloc((size_t)count, sizeof *kb->cards);
    for (int i = 0; i < count; i++) {
        char t[64], p[64];
        for (;;) { /* a title not used yet */
            int words = 2 + nn_rng_int(&rng, 2);
            snprintf(t, sizeof t, "《%s%s%s》", PICK(&rng, syn_adj), PICK(&rng, syn_noun),
                     words == 3 ? PICK(&rng, syn_noun) : "");
            int k = 0;
            while (k < i && strcmp(kb->cards[k].title, t) != 0) k++;
            if (k == i) break;
        }
        snprintf(p, sizeof p, "%s%s%s%s%s。\n", PICK(&rng, syn_adj), PICK(&rng, syn_noun),
                 PICK(&rng, syn_verb), PICK(&rng, syn_noun), PICK(&rng, syn_place));
        author_card *c = &kb->cards[i];
        c->title = authors_strndup(t, strlen(t));
        const char *poet = PICK(&rng, authors_syn_poets);
        c->author = authors_strndup(poet, strlen(poet));
        c->poem = authors_strndup(p, strlen(p));
    }
    kb->n = count;
}

/* Cards from tang300 with titles kept: each entry is "《title》\n作者：author\n" and the
 * poem. An entry of another shape is skipped (and counted in *skipped). */
AUTHORS_FN int authors_from_tang(authors_kb *kb, const nn_corpus *c, int *skipped) {
    static const char tag[] = "作者：";
    kb->cards = calloc((size_t)c->n_entries, sizeof *kb->cards);
    *skipped = 0;
    for (int e = 0; e < c->n_entries; e++) {
        const char *s = c->text + c->entries[e].start, *end = s + c->entries[e].bytes;
        const char *l1 = memchr(s, '\n', (size_t)(end - s));
        const char *l2 = l1 ? memchr(l1 + 1, '\n', (size_t)(end - l1 - 1)) : NULL;
        size_t tl = sizeof tag - 1;
        if (!l2 || strncmp(s, "《", 3) != 0 || (size_t)(l2 - l1 - 1) <= tl ||
            strncmp(l1 + 1, tag, tl) != 0) {
            (*skipped)++;
            continue;
        }
        author_card *card = &kb->cards[kb->n++];
        card->title = authors_strndup(s, (size_t)(l1 - s));
        card->author = authors_strndup(l1 + 1 + tl, (size_t)(l2 - l1 - 1 - tl));
        card->poem = authors_strndup(l2 + 1, (size_t)(end - l2 - 1));
    }
    return kb->n > 0 ? 0 : -1;
}

/* The table, and the split of its titles into seen and unseen ones. tang300 unless it is
 * missing (then `fallback` synthetic cards, with a note). 0, or 1 after a message. */
AUTHORS_FN int authors_open(authors_kb *kb, int fallback, uint64_t seed) {
    memset(kb, 0, sizeof *kb);
    nn_fortunes_options fo = {.drop_titles = false};
    nn_corpus *c = nn_fortunes_load(TANG300, &fo);
    if (c) {
        int skipped;
        int rc = authors_from_tang(kb, c, &skipped);
        nn_corpus_free(c);
        if (rc != 0) return fprintf(stderr, "%s: no entry has a title and an author\n", TANG300), 1;
        kb->tang = true;
        if (skipped) printf("note: %d entries of %s have no title and author lines\n", skipped, TANG300);
    } else {
        printf("NOTE: %s is missing (%s)\n      (install it: apt-get install fortunes-zh, or "
               "scripts/deps.sh --data);\n      using a SYNTHETIC table instead: %d made-up "
               "titles, each given one of %d invented poets at random\n", TANG300, nn_last_error(),
               fallback, NN_COUNTOF(authors_syn_poets));
        authors_synthetic(kb, fallback, seed);
    }
    /* the distinct authors, most poems first (ties: first seen first) */
    int *count = calloc((size_t)kb->n, sizeof *count);
    kb->names = calloc((size_t)kb->n, sizeof *kb->names);
    for (int i = 0; i < kb->n; i++) {
        int k = 0;
        while (k < kb->n_names && strcmp(kb->names[k], kb->cards[i].author) != 0) k++;
        if (k == kb->n_names) kb->names[kb->n_names++] = kb->cards[i].author;
        count[k]++;
    }
    for (int i = 1; i < kb->n_names; i++) /* insertion sort: stable, and the list is short */
        for (int j = i; j > 0 && count[j] > count[j - 1]; j--) {
            int t = count[j];
            count[j] = count[j - 1], count[j - 1] = t;
            char *s = kb->names[j];
            kb->names[j] = kb->names[j - 1], kb->names[j - 1] = s;
        }
    free(count);
    /* the distinct titles, shuffled; the first AUTHORS_UNSEEN of them are held out. A title
     * several poems share (《送别》, 《无题》) is one question, in one part. */
    int *first = malloc(sizeof(int) * (size_t)kb->n), nt = 0;
    for (int i = 0; i < kb->n; i++) {
        int k = 0;
        while (k < i && strcmp(kb->cards[k].title, kb->cards[i].title) != 0) k++;
        kb->cards[i].repeat = k < i;
        if (k == i) first[nt++] = i;
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed + 7);
    nn_rng_shuffle(&rng, first, nt);
    int unseen = (int)(AUTHORS_UNSEEN * nt + 0.5);
    unseen = unseen < 1 ? 1 : unseen >= nt ? nt - 1 : unseen;
    for (int k = 0; k < nt; k++) {
        const char *t = kb->cards[first[k]].title;
        for (int i = 0; i < kb->n; i++)
            if (strcmp(kb->cards[i].title, t) == 0) kb->cards[i].seen = k >= unseen;
    }
    kb->titles_unseen = unseen, kb->titles_seen = nt - unseen;
    free(first);
    return 0;
}

AUTHORS_FN void authors_close(authors_kb *kb) {
    for (int i = 0; i < kb->n; i++)
        free(kb->cards[i].title), free(kb->cards[i].author), free(kb->cards[i].poem);
    free(kb->cards);
    free(kb->names);
    memset(kb, 0, sizeof *kb);
}

/* Is `answer` an author of a poem called `title`? */
AUTHORS_FN bool authors_correct(const authors_kb *kb, const char *title, const char *answer) {
    for (int i = 0; i < kb->n; i++)
        if (strcmp(kb->cards[i].title, title) == 0 && strcmp(kb->cards[i].author, answer) == 0)
            return true;
    return false;
}

AUTHORS_FN bool authors_is_poet(const authors_kb *kb, const char *name) {
    for (int k = 0; k < kb->n_names; k++)
        if (strcmp(kb->names[k], name) == 0) return true;
    return false;
}

/* The most frequent author among the seen cards: the answer that knows nothing. */
AUTHORS_FN const char *authors_majority(const authors_kb *kb) {
    int best = -1, best_k = 0;
    for (int k = 0; k < kb->n_names; k++) {
        int c = 0;
        for (int i = 0; i < kb->n; i++) c += kb->cards[i].seen && strcmp(kb->cards[i].author, kb->names[k]) == 0;
        if (c > best) best = c, best_k = k;
    }
    return kb->names[best_k];
}

/* "《title》作者：author" into buf. */
AUTHORS_FN void authors_fact(const author_card *c, char *buf, size_t size) {
    snprintf(buf, size, "%s作者：%s", c->title, c->author);
}

/* ---- the training text and the model ------------------------------------------------------ */

typedef struct authors_settings {
    gpt_settings gpt;       /* cfg.vocab is filled in */
    int copies;             /* copies of each seen fact line, each copy in a new order */
    int reading;            /* reading cards in the training text */
    int val_reading;        /* reading cards in the validation text */
} authors_settings;

/* The two models of the demos, and their command line.
 *   AUTHORS_FACTS    ch06_hallucination: the facts of the seen titles, nothing else to learn
 *                    default C 64, 1 block, T 24, batch 16, lr 5e-3, 600 steps, 3 copies
 *                    --quick C 32, batch 8, 60 steps;  --full C 96, 2 blocks, T 32, lr 3e-3,
 *                    1200 steps
 *   AUTHORS_READING  ch06_rag: the facts once and 1500 reading cards, so that it learns to
 *                    read: that takes two blocks (one to note which character precedes which,
 *                    one to find "the character after the earlier 作者：" and copy it: an
 *                    "induction head") and windows that hold a whole card
 *                    default C 32, 2 blocks, T 40, batch 16, lr 5e-3, 600 steps, 1 copy
 *                    --quick C 16, batch 8, 40 steps, 200 cards;  --full C 48, T 48, lr 3e-3,
 *                    1500 steps, 3 copies, 2500 cards
 * Usage:
 *   authors_cli cli = AUTHORS_CLI_FACTS;   (or AUTHORS_CLI_READING)
 *   nn_option opts[] = {AUTHORS_OPTIONS(cli), ...your own...};
 *   nn_parse_options(...);
 *   authors_settings as = authors_settings_from(&cli, opts, NN_COUNTOF(opts), AUTHORS_FACTS);
 * An option given on the command line wins over --quick and --full. */
typedef enum authors_kind { AUTHORS_FACTS, AUTHORS_READING } authors_kind;

typedef struct authors_cli {
    bool quick, full;
    int steps, dim, layers, context, batch, copies, reading;
    float lr;
} authors_cli;

#define AUTHORS_CLI_FACTS                                                                      \
    {.steps = 600, .dim = 64, .layers = 1, .context = 24, .batch = 16, .copies = 3,            \
     .reading = 0, .lr = 5e-3f}
#define AUTHORS_CLI_READING                                                                    \
    {.steps = 600, .dim = 32, .layers = 2, .context = 40, .batch = 16, .copies = 1,            \
     .reading = 1500, .lr = 5e-3f}

#define AUTHORS_OPTIONS(cli)                                                                    \
    NN_OPT_FLAG("--quick", &(cli).quick, "a tiny model and a few dozen steps (for the tests)"), \
    NN_OPT_FLAG("--full", &(cli).full, "a larger model, more steps (minutes)"),                 \
    NN_OPT_INT("--steps", &(cli).steps, 1, 1000000, "training steps"),                          \
    NN_OPT_INT("--dim", &(cli).dim, 4, 2048, "C: the width of every token vector"),             \
    NN_OPT_INT("--layers", &(cli).layers, 1, 64, "Transformer blocks"),                        \
    NN_OPT_INT("--context", &(cli).context, 16, 1024, "T: characters per window"),             \
    NN_OPT_INT("--batch", &(cli).batch, 1, 1024, "B: windows per step"),                       \
    NN_OPT_FLOAT("--lr", &(cli).lr, 1e-6, 1, "AdamW's learning rate"),                         \
    NN_OPT_INT("--copies", &(cli).copies, 1, 100, "copies of each seen fact in the training text"), \
    NN_OPT_INT("--reading", &(cli).reading, 0, 1000000, "reading cards in the training text")

AUTHORS_FN authors_settings authors_settings_from(const authors_cli *cli, const nn_option *opts,
                                                  int nopt, authors_kind kind) {
    authors_settings as = {.gpt = {.cfg = {.dim = cli->dim, .layers = cli->layers,
                                           .context = cli->context},
                                   .B = cli->batch, .steps = cli->steps,
                                   .patience = 1000000, .lr = cli->lr, .label = "authors"},
                           .copies = cli->copies, .reading = cli->reading};
#define AUTHORS_DEFAULT(flag, field, value) \
    if (!nn_option_given(opts, nopt, flag)) field = value
    if (cli->full && !cli->quick && kind == AUTHORS_FACTS) {
        AUTHORS_DEFAULT("--dim", as.gpt.cfg.dim, 96);
        AUTHORS_DEFAULT("--layers", as.gpt.cfg.layers, 2);
        AUTHORS_DEFAULT("--context", as.gpt.cfg.context, 32);
        AUTHORS_DEFAULT("--lr", as.gpt.lr, 3e-3f);
        AUTHORS_DEFAULT("--steps", as.gpt.steps, 1200);
    }
    if (cli->full && !cli->quick && kind == AUTHORS_READING) {
        AUTHORS_DEFAULT("--dim", as.gpt.cfg.dim, 48);
        AUTHORS_DEFAULT("--context", as.gpt.cfg.context, 48);
        AUTHORS_DEFAULT("--lr", as.gpt.lr, 3e-3f);
        AUTHORS_DEFAULT("--steps", as.gpt.steps, 1500);
        AUTHORS_DEFAULT("--copies", as.copies, 3);
        AUTHORS_DEFAULT("--reading", as.reading, 2500);
    }
    if (cli->quick) {
        AUTHORS_DEFAULT("--dim", as.gpt.cfg.dim, kind == AUTHORS_FACTS ? 32 : 16);
        AUTHORS_DEFAULT("--batch", as.gpt.B, 8);
        AUTHORS_DEFAULT("--steps", as.gpt.steps, kind == AUTHORS_FACTS ? 60 : 40);
        if (kind == AUTHORS_READING) AUTHORS_DEFAULT("--reading", as.reading, 200);
    }
#undef AUTHORS_DEFAULT
    /* a few checks of the check text: the best weights are kept, and it costs time */
    as.gpt.eval_every = as.gpt.steps / 5 > 10 ? as.gpt.steps / 5 : 10;
    as.val_reading = as.reading > 0 ? 40 : 0;
    int C = as.gpt.cfg.dim;
    as.gpt.cfg.heads = C % 4 == 0 ? 4 : C % 2 == 0 ? 2 : 1;
    return as;
}

/* The characters titles are made of (《》 and ・ left out), for the made-up titles. */
AUTHORS_FN int authors_title_chars(const authors_kb *kb, char (*out)[5], int max) {
    int n = 0;
    for (int i = 0; i < kb->n; i++) {
        const char *s = kb->cards[i].title;
        size_t len = strlen(s);
        for (size_t p = 0; p < len;) {
            uint32_t cp;
            int k = nn_utf8_decode(s + p, len - p, &cp);
            if (k <= 0) break;
            if (cp != 0x300a && cp != 0x300b && cp != 0x30fb && cp != 0xff65) {
                int j = 0;
                while (j < n && memcmp(out[j], s + p, (size_t)k) != 0) j++;
                if (j == n && n < max) memcpy(out[n], s + p, (size_t)k), out[n++][k] = 0;
            }
            p += (size_t)k;
        }
    }
    return n;
}

/* One reading card: a made-up title of 2 to 6 title characters and a random poet. */
AUTHORS_FN void authors_reading_card(const authors_kb *kb, char (*chars)[5], int nc, nn_rng *rng,
                                     authors_buf *b) {
    char t[64] = "《";
    int len = 2 + nn_rng_int(rng, 5);
    for (int i = 0; i < len; i++) strcat(t, chars[nn_rng_int(rng, nc)]);
    strcat(t, "》作者：");
    strcat(t, kb->names[nn_rng_int(rng, kb->n_names)]);
    authors_put(b, AUTHORS_DOC_TAG);
    authors_put(b, t);
    authors_put(b, "\n");
    authors_put(b, t);
    authors_put(b, "\n");
}

/* The training text (copies x the seen facts and the reading cards, shuffled together) and
 * the validation text (fresh reading cards), both malloc'd, NUL-terminated. */
AUTHORS_FN void authors_texts(const authors_kb *kb, const authors_settings *as, uint64_t seed,
                              char **train, char **val) {
    static char chars[4096][5];
    int nc = authors_title_chars(kb, chars, 4096);
    int n_seen = 0;
    for (int i = 0; i < kb->n; i++) n_seen += kb->cards[i].seen;
    int n_items = as->copies * n_seen + as->reading;
    int *items = malloc(sizeof(int) * (size_t)(n_items > 0 ? n_items : 1)), k = 0;
    for (int c = 0; c < as->copies; c++)
        for (int i = 0; i < kb->n; i++)
            if (kb->cards[i].seen) items[k++] = i;
    for (int r = 0; r < as->reading; r++) items[k++] = -1;   /* -1: a reading card */
    nn_rng rng;
    nn_rng_seed(&rng, seed + 11);
    nn_rng_shuffle(&rng, items, n_items);
    authors_buf tb = {0}, vb = {0};
    authors_put(&tb, "\n");
    authors_put(&vb, "\n");
    for (int i = 0; i < n_items; i++) {
        if (items[i] < 0) {
            authors_reading_card(kb, chars, nc, &rng, &tb);
        } else {
            char fact[512];
            authors_fact(&kb->cards[items[i]], fact, sizeof fact);
            authors_put(&tb, fact);
            authors_put(&tb, "\n");
        }
    }
    /* the check text: what the model is meant to do, fresh reading cards, and to know, the
     * first 60 seen facts (so that keeping the best weights never throws the facts away) */
    for (int r = 0; r < as->val_reading; r++) authors_reading_card(kb, chars, nc, &rng, &vb);
    for (int i = 0, k = 0; i < kb->n && k < 60; i++) {
        if (!kb->cards[i].seen) continue;
        char fact[512];
        authors_fact(&kb->cards[i], fact, sizeof fact);
        authors_put(&vb, fact);
        authors_put(&vb, "\n");
        k++;
    }
    free(items);
    *train = tb.s, *val = vb.s;
}

typedef struct authors_model {
    nn_vocab *vocab;        /* every character of the table and of the training text */
    gpt_run run;
    int train_chars, val_chars;
} authors_model;

/* Build the texts, the vocabulary and train the GPT. 0, or -1 with nn_last_error(). */
AUTHORS_FN int authors_train(authors_model *m, const authors_kb *kb, const authors_settings *as,
                             uint64_t seed) {
    memset(m, 0, sizeof *m);
    char *train, *val;
    authors_texts(kb, as, seed, &train, &val);
    /* the vocabulary: the training text and every card's fact line, so that a question about
     * an unseen title can be written (its characters' vectors are then never trained) */
    authors_buf all = {0};
    authors_put(&all, train);
    for (int i = 0; i < kb->n; i++) {
        char fact[512];
        authors_fact(&kb->cards[i], fact, sizeof fact);
        authors_put(&all, fact);
        authors_put(&all, "\n");
    }
    m->vocab = nn_vocab_build(all.s, all.len, 0);
    free(all.s);
    int rc = -1;
    if (m->vocab) {
        int nt = nn_vocab_encode(m->vocab, train, strlen(train), NULL, 0);
        int nv = nn_vocab_encode(m->vocab, val, strlen(val), NULL, 0);
        int *ti = malloc(sizeof(int) * (size_t)nt), *vi = malloc(sizeof(int) * (size_t)nv);
        nn_vocab_encode(m->vocab, train, strlen(train), ti, (size_t)nt);
        nn_vocab_encode(m->vocab, val, strlen(val), vi, (size_t)nv);
        m->train_chars = nt, m->val_chars = nv;
        gpt_settings st = as->gpt;
        st.cfg.vocab = m->vocab->size;
        char why[256];
        if (nv < 2 || nt <= st.cfg.context) {
            nn_set_last_error("the training text (%d characters) is shorter than a window", nt);
        } else if (nn_gpt_config_check(&st.cfg, why, sizeof why) != 0) {
            nn_set_last_error("%s", why);
        } else {
            rc = gpt_train(&m->run, &st, (nn_token_span){ti, nt}, (nn_token_span){vi, nv}, seed);
        }
        free(ti), free(vi);
    }
    free(train), free(val);
    return rc;
}

AUTHORS_FN void authors_model_free(authors_model *m) {
    nn_gpt_free(m->run.gpt);
    nn_vocab_free(m->vocab);
    memset(m, 0, sizeof *m);
}

/* ---- asking ---------------------------------------------------------------------------------- */

typedef struct author_answer {
    char text[4 * AUTHORS_MAX_ANSWER + 1];   /* the answer, without its line end */
    double prob;            /* the probability of the whole answer, its line end included:
                             * the product of each character's probability */
    double mean_char_prob;  /* the mean of those probabilities */
    bool ended;             /* the model ended the line within AUTHORS_MAX_ANSWER characters */
} author_answer;

/* The greedy continuation of "\n" + prompt up to the line end, and how sure the model was:
 * at each step the most probable next character and its probability p,
 *   confidence = prod p   (the answer and its line end, as one sequence)
 * The prompt keeps its last context - AUTHORS_MAX_ANSWER - 1 characters when it is longer
 * (the model sees no further back than its window). 0, or -1 for a prompt that is not UTF-8. */
AUTHORS_FN int authors_ask(nn_gpt *g, const nn_vocab *v, const char *prompt, author_answer *a) {
    memset(a, 0, sizeof *a);
    size_t plen = strlen(prompt);
    int np = nn_vocab_encode(v, prompt, plen, NULL, 0);
    if (np < 0) return -1;
    int V = g->cfg.vocab, nl = nn_vocab_id(v, '\n'), keep = g->cfg.context - AUTHORS_MAX_ANSWER - 1;
    int *ids = malloc(sizeof(int) * (size_t)(np + 1));
    ids[0] = nl;
    nn_vocab_encode(v, prompt, plen, ids + 1, (size_t)np);
    int n = np + 1, *start = ids;
    if (n > keep) start += n - keep, n = keep;
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_gpt_cache *cache = nn_gpt_cache_new(g, 1);
    nn_tensor *logits = nn_gpt_forward_cached(g, cache, start, 1, n);
    const float *row = logits->data + (size_t)(n - 1) * V;
    int out[AUTHORS_MAX_ANSWER], made = 0, counted = 0;
    double logp = 0.0, sum_p = 0.0;
    for (;;) {
        int next = nn_sample_greedy(row, V);
        double mx = row[next], z = 0.0;
        for (int i = 0; i < V; i++) z += exp((double)row[i] - mx);
        double p = 1.0 / z;    /* the softmax of the argmax: exp(0) / sum */
        if (next != nl && made == AUTHORS_MAX_ANSWER) break;   /* too long for a name */
        logp += log(p), sum_p += p, counted++;
        if (next == nl) {
            a->ended = true;
            break;
        }
        out[made++] = next;
        logits = nn_gpt_forward_cached(g, cache, &next, 1, 1);
        row = logits->data;
    }
    sum_p /= counted;
    nn_vocab_decode(v, out, made, a->text, sizeof a->text);
    a->prob = exp(logp);
    a->mean_char_prob = sum_p;
    nn_gpt_cache_free(cache);
    nn_graph_clear();
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    free(ids);
    return 0;
}

/* Print s and spaces up to `width` terminal columns (a Chinese character takes two). */
AUTHORS_FN void authors_print_padded(const char *s, int width) {
    int cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xc0) != 0x80) cols += *p < 0x80 ? 1 : 2;
    printf("%s%*s", s, width > cols ? width - cols : 0, "");
}

/* Accuracy and confidence over a set of questions. */
typedef struct authors_score {
    int asked, right, poets;       /* poets: answers that are some poet of the table */
    int sure, sure_wrong;          /* answers given with confidence above 0.5; wrong ones */
    double conf, conf_right, conf_wrong;   /* mean confidence (prod p): all, right, wrong */
    double char_prob;              /* mean of the per-character mean probabilities */
} authors_score;

AUTHORS_FN void authors_tally(authors_score *s, const authors_kb *kb, const author_card *c,
                              const author_answer *a) {
    bool ok = authors_correct(kb, c->title, a->text);
    s->asked++;
    s->right += ok;
    s->poets += authors_is_poet(kb, a->text);
    s->sure += a->prob > 0.5;
    s->sure_wrong += a->prob > 0.5 && !ok;
    s->conf += a->prob;
    s->char_prob += a->mean_char_prob;
    if (ok) s->conf_right += a->prob;
    else s->conf_wrong += a->prob;
}

AUTHORS_FN void authors_finish(authors_score *s) {
    int wrong = s->asked - s->right;
    s->conf_right = s->right ? s->conf_right / s->right : NAN;
    s->conf_wrong = wrong ? s->conf_wrong / wrong : NAN;
    s->conf = s->asked ? s->conf / s->asked : NAN;
    s->char_prob = s->asked ? s->char_prob / s->asked : NAN;
}

AUTHORS_FN double authors_accuracy(const authors_score *s) {
    return s->asked ? (double)s->right / s->asked : 0.0;
}

/* The reading skill alone: n fresh made-up cards, the question asked with the card before
 * it as the document; the share answered with the card's poet. */
AUTHORS_FN double authors_reading_test(nn_gpt *g, const nn_vocab *v, const authors_kb *kb, int n,
                                       uint64_t seed) {
    static char chars[4096][5];
    int nc = authors_title_chars(kb, chars, 4096), right = 0;
    nn_rng rng;
    nn_rng_seed(&rng, seed + 13);
    for (int i = 0; i < n; i++) {
        authors_buf b = {0};
        authors_reading_card(kb, chars, nc, &rng, &b);
        /* "【资料】《X》作者：Y\n《X》作者：Y\n": ask with the last line cut after "作者：" */
        char *last = b.s + b.len - 1;
        while (last > b.s && last[-1] != '\n') last--;
        char *colon = strstr(last, "作者：") + strlen("作者：");
        char poet[64];
        snprintf(poet, sizeof poet, "%.*s", (int)(b.s + b.len - 1 - colon), colon);
        *colon = 0;
        author_answer a;
        if (authors_ask(g, v, b.s, &a) == 0)
            right += strcmp(a.text, poet) == 0;
        free(b.s);
    }
    return n ? (double)right / n : 0.0;
}

/* Ask "《title》作者：" for every title of one kind (seen or not), once per title; show the first
 * `show` answers. */
AUTHORS_FN authors_score authors_eval(nn_gpt *g, const nn_vocab *v, const authors_kb *kb,
                                      bool seen, int show) {
    authors_score s = {0};
    for (int i = 0; i < kb->n; i++) {
        const author_card *c = &kb->cards[i];
        if (c->repeat || c->seen != seen) continue;
        char q[512];
        snprintf(q, sizeof q, "%s作者：", c->title);
        author_answer a;
        if (authors_ask(g, v, q, &a) != 0) continue;
        if (s.asked < show) {
            bool ok = authors_correct(kb, c->title, a.text);
            printf("    %s", q);
            authors_print_padded(a.text, 10);
            printf("p = %.3f   %s%s\n", a.prob, ok ? "right" : "WRONG: ", ok ? "" : c->author);
        }
        authors_tally(&s, kb, c, &a);
    }
    authors_finish(&s);
    return s;
}

#endif
