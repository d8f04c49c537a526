/* examples/ch06_rag/rag.c — retrieval-augmented generation (RAG, 检索增强生成): look the answer
 * up first, then let the model answer with it in view. Also 联网 (web access), 知识库
 * (knowledge base), 向量数据库 (vector database), 词嵌入 (embedding), 向量检索 (vector
 * retrieval).
 *
 * The tutorial (常见的大模型词, 22-25): to fight hallucination, look things up before
 * answering and send what was found together with the question (联网: on the internet; RAG:
 * in a private knowledge base, 知识库); to match a question with the knowledge, both are
 * turned into vectors (词嵌入) kept in a vector database (向量数据库), and the closest vectors
 * are the answer's sources (向量检索).
 *
 * Here: the knowledge base is every tang300 poem as one document,
 *   《静夜思》作者：李白\n床前明月光，疑是地上霜。...
 * each turned into a vector and stored in the library's vector index (nn/data/vector_index.h:
 * cosine top-k, saved to an NNVX file with a CRC and loaded back). A question
 * "《title》的作者是谁？" (who wrote 《title》?) becomes a vector the same way; the k documents
 * with the largest cosine are retrieved. The model is a tiny GPT on the same table and the
 * same split as ch06_hallucination (examples/common/ch06_authors.h): the facts of the 80%
 * seen titles, and reading cards that teach it to answer from a document placed before the
 * question (a made-up title with a random poet, so that only the document can tell; a model
 * never shown that ignores the document, as ch06_hallucination's would). Without a
 * document it knows next to nothing about the unseen titles and hallucinates; with RAG the
 * prompt becomes
 *   【资料】《title》作者：author     the first line of the best document ("material")
 *   《title》作者：                    the question, as before
 * and the unseen-title accuracy is measured before (no document) and after (the retrieved
 * one), and with the right document (what a perfect retriever would give: the reading skill
 * alone). The model needs two blocks for this (see ch06_authors.h: an induction head) and
 * reading practice more than facts: by default it sees each fact once and 1500 cards, so it
 * knows few facts by heart; --full trains longer on 3 copies and 2500 cards.
 *
 * The embedding. A character n-gram embedding, not the model's own token vectors: each
 * character and each pair of neighbouring characters (unigrams and bigrams) of a text is
 * hashed (FNV-1a) into one of D slots, weighted by tf-idf,
 *   w(g) = (1 + ln tf(g)) * ln((1 + N) / (1 + df(g)))      (0 when df(g) = 0)
 * tf: times g occurs in the text, df: documents holding g, N: documents; so a bigram of a
 * title, found in one poem, weighs far more than 作者 (in all of them: weight 0) or "，"; an
 * n-gram of a question that no document holds ("》的") could only match through a shared
 * slot, so it weighs nothing. Why this one: it needs no training and matches the exact
 * characters a title is written with, which is what looking up a title needs; and it works
 * for titles the model never saw. The
 * GPT's token vectors could be averaged instead (the other choice), but they were trained on
 * title lines only, for predicting the next character, and the characters that occur only in
 * unseen titles were never trained at all (their vectors are still random): exactly the
 * questions RAG is for would retrieve noise. Hashing keeps the vector a fixed size D whatever
 * the number of n-grams (about 20 000 here); two n-grams sharing a slot blur the match, and
 * the recall for a few D shows how much.
 *
 * What it prints: the knowledge base; recall@k (k = 1, 3, 5: the share of questions whose
 * poem is among the k retrieved documents) for the question form and the bare title, for a
 * few D; the index saved and loaded back (the same answers); then for the unseen titles (and
 * the seen ones) the accuracy and confidence of the model without a document, with the
 * retrieved one, and with the right one (what a perfect retriever would give).
 *
 *   rag [--quick | --full] [--embed D] [--steps N] [--dim C] [--layers N] [--context T]
 *       [--batch B] [--lr X] [--copies N] [--reading N] [--show N] [--seed N] [--out DIR]
 *   --quick  C 16, 2 blocks, T 40, batch 8, 40 steps, 200 cards (the smoke tests; seconds)
 *   default  C 32, 2 blocks, T 40, batch 16, AdamW lr 5e-3, 600 steps, 1 copy, 1500 cards,
 *            D 2048 (about 25 s)
 *   --full   C 48, 2 blocks, T 48, lr 3e-3, 1500 steps, 3 copies, 2500 cards (about 80 s)
 *
 * What it measured (tang300, seed 42, 60 unseen titles). Retrieval with D 2048: recall@1
 * 0.940, @3 0.987, @5 0.993 (D 64: 0.29, D 256: 0.72, D 1024: 0.89, D 4096: 0.95: the
 * slots shared by several n-grams cost what the larger D wins back). Default (about 22 s):
 * unseen-title accuracy 1.7% without a document, 75.0% with the retrieved one, 76.7% with the
 * right one; --full: 6.7% -> 93.3% (96.7% with the right one; made-up cards read right
 * 99.5% of the time). This model knows few facts by heart (seen titles without a document:
 * 6% by default, 11% with --full); ch06_hallucination's, trained on facts alone, knows 92%
 * of them and is as lost (12%) on the unseen ones.
 * Writes DIR/ch06_rag.nnvx, the knowledge base (the index of D-dimensional vectors with each
 * poem's text). DIR: out by default.
 */
#include "../common/ch06_authors.h"

/* ---- the embedding: hashed character unigrams and bigrams, tf-idf ------------------------- */

static uint64_t fnv1a(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* The n-grams of text: the hash of every character and of every pair of neighbours (never
 * across a line break, nor the line break itself), into g[] (malloc'd); their number. */
static int ngrams(const char *text, uint64_t **g) {
    size_t len = strlen(text);
    *g = malloc(sizeof(uint64_t) * (2 * len + 1));
    int n = 0;
    size_t prev = SIZE_MAX;   /* where the previous character started */
    for (size_t p = 0; p < len;) {
        uint32_t cp;
        int k = nn_utf8_decode(text + p, len - p, &cp);
        if (k <= 0) break;
        if (cp == '\n') {
            prev = SIZE_MAX;
        } else {
            (*g)[n++] = fnv1a(text + p, (size_t)k);
            if (prev != SIZE_MAX) (*g)[n++] = fnv1a(text + prev, p + (size_t)k - prev) ^ 0x9e3779b97f4a7c15ull;
            prev = p;
        }
        p += (size_t)k;
    }
    return n;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Document frequencies: the distinct n-grams of every document, sorted (df(g) = how often g
 * occurs in that list). */
typedef struct df_table {
    uint64_t *g;
    int n, docs;
} df_table;

static df_table df_build(char **docs, int n_docs) {
    df_table t = {NULL, 0, n_docs};
    size_t cap = 0;
    for (int d = 0; d < n_docs; d++) {
        uint64_t *g;
        int n = ngrams(docs[d], &g), u = 0;
        qsort(g, (size_t)n, sizeof *g, cmp_u64);
        for (int i = 0; i < n; i++) /* distinct ones only: df counts documents */
            if (i == 0 || g[i] != g[i - 1]) g[u++] = g[i];
        if ((size_t)(t.n + u) > cap) {
            cap = 2 * (size_t)(t.n + u);
            t.g = realloc(t.g, sizeof(uint64_t) * cap);
        }
        memcpy(t.g + t.n, g, sizeof(uint64_t) * (size_t)u);
        t.n += u;
        free(g);
    }
    qsort(t.g, (size_t)t.n, sizeof *t.g, cmp_u64);
    return t;
}

static int df_of(const df_table *t, uint64_t g) {
    int lo = 0, hi = t->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (t->g[mid] < g) lo = mid + 1; else hi = mid;
    }
    int a = lo;
    while (lo < t->n && t->g[lo] == g) lo++;
    return lo - a;
}

/* The embedding of text: D slots, each the sum of the tf-idf weights of the n-grams hashed
 * into it. (Zero when no n-gram of the text is in the knowledge base's documents.) */
static void embed(const df_table *t, const char *text, float *vec, int D) {
    memset(vec, 0, sizeof(float) * (size_t)D);
    uint64_t *g;
    int n = ngrams(text, &g);
    qsort(g, (size_t)n, sizeof *g, cmp_u64);
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && g[j] == g[i]) j++;   /* tf = j - i */
        int df = df_of(t, g[i]);   /* an n-gram no document holds cannot find one: weight 0 */
        double idf = df > 0 ? log((1.0 + t->docs) / (1.0 + df)) : 0.0;
        vec[(g[i] >> 17) % (uint64_t)D] += (float)((1.0 + log((double)(j - i))) * idf);
        i = j;
    }
    free(g);
}

/* ---- retrieval ------------------------------------------------------------------------------ */

static bool nonzero(const float *v, int D) {
    for (int i = 0; i < D; i++)
        if (v[i] != 0.0f) return true;
    return false;
}

/* The question about card c, in one of two forms. */
static void question(const author_card *c, bool bare, char *buf, size_t size) {
    snprintf(buf, size, bare ? "%s" : "%s的作者是谁？", c->title);
}

/* Recall@1, 3, 5 of ix over the distinct titles (of one kind: seen 1, unseen 0, all -1):
 * the share whose title is that of one of the k best documents (a title several poems share
 * is found by any of them). */
static void recall(const nn_vector_index *ix, const df_table *t, const authors_kb *kb, int D,
                   bool bare, int which, double r[3]) {
    static const int ks[3] = {1, 3, 5};
    int asked = 0, hit[3] = {0, 0, 0};
    float *q = malloc(sizeof(float) * (size_t)D);
    for (int i = 0; i < kb->n; i++) {
        const author_card *c = &kb->cards[i];
        if (c->repeat || (which >= 0 && c->seen != (which == 1))) continue;
        char text[512];
        question(c, bare, text, sizeof text);
        embed(t, text, q, D);
        asked++;
        int ids[5], n = nonzero(q, D) ? nn_vector_index_search(ix, q, 5, ids, NULL) : 0;
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < n && j < ks[k]; j++)
                if (strcmp(kb->cards[nn_vector_index_tag(ix, ids[j])].title, c->title) == 0) {
                    hit[k]++;
                    break;
                }
    }
    for (int k = 0; k < 3; k++) r[k] = asked ? (double)hit[k] / asked : 0.0;
    free(q);
}

/* The knowledge base: document i is card i's fact line and poem, its tag i. */
static nn_vector_index *build_index(const df_table *t, char **docs, int n, int D) {
    nn_vector_index *ix = nn_vector_index_new(D);
    float *v = malloc(sizeof(float) * (size_t)D);
    for (int i = 0; i < n; i++) {
        embed(t, docs[i], v, D);
        if (nn_vector_index_add(ix, v, docs[i], strlen(docs[i]), i) < 0)
            printf("note: document %d left out: %s\n", i, nn_last_error());
    }
    free(v);
    return ix;
}

/* ---- asking with a document ----------------------------------------------------------------- */

/* 资料：<the first line of doc> \n 《title》作者： */
static void rag_prompt(const char *doc, const char *title, char *buf, size_t size) {
    const char *nl = strchr(doc, '\n');
    int head = nl ? (int)(nl - doc) : (int)strlen(doc);
    snprintf(buf, size, "%s%.*s\n%s作者：", AUTHORS_DOC_TAG, head, doc, title);
}

typedef enum { NO_DOC, RETRIEVED, RIGHT_DOC } doc_mode;

/* The model's answers for the titles of one kind, with no document, the retrieved one, or
 * the right one; shows the first `show`. */
static authors_score ask_all(nn_gpt *g, const nn_vocab *v, const authors_kb *kb,
                             const nn_vector_index *ix, const df_table *t, char **docs, int D,
                             bool seen, doc_mode mode, int show) {
    authors_score s = {0};
    float *q = malloc(sizeof(float) * (size_t)D);
    for (int i = 0; i < kb->n; i++) {
        const author_card *c = &kb->cards[i];
        if (c->repeat || c->seen != seen) continue;
        char prompt[2048], text[512];
        const char *doc = NULL;
        if (mode == RIGHT_DOC) {
            doc = docs[i];
        } else if (mode == RETRIEVED) {
            question(c, false, text, sizeof text);
            embed(t, text, q, D);
            int id;
            if (nonzero(q, D) && nn_vector_index_search(ix, q, 1, &id, NULL) == 1)
                doc = nn_vector_index_text(ix, id, NULL);
        }
        if (doc) rag_prompt(doc, c->title, prompt, sizeof prompt);
        else snprintf(prompt, sizeof prompt, "%s作者：", c->title);
        author_answer a;
        if (authors_ask(g, v, prompt, &a) != 0) continue;
        if (s.asked < show) {
            bool ok = authors_correct(kb, c->title, a.text);
            char *p = prompt;
            for (char *x = strchr(p, '\n'); x; x = strchr(x, '\n')) *x = ' ';   /* one line */
            printf("    %s", p);
            authors_print_padded(a.text, 10);
            printf("p = %.3f  %s%s\n", a.prob, ok ? "right" : "WRONG: ", ok ? "" : c->author);
        }
        authors_tally(&s, kb, c, &a);
    }
    free(q);
    authors_finish(&s);
    return s;
}

int main(int argc, char **argv) {
    authors_cli cli = AUTHORS_CLI_READING;
    const char *out_dir = "out";
    int show = 5, D = 2048;
    uint64_t seed = 42;
    nn_option opts[] = {
        AUTHORS_OPTIONS(cli),
        NN_OPT_INT("--embed", &D, 16, 65536, "D: slots of the n-gram embedding (the index's dim)"),
        NN_OPT_INT("--show", &show, 0, 1000, "answers to print of each kind"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the knowledge base file"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Retrieval-augmented generation (RAG): the Tang poems as a knowledge base in a\n"
                     "vector index (character n-gram tf-idf embeddings, cosine top-k), recall@k, and\n"
                     "a tiny GPT (taught to read a document) answering with the retrieved poem in its\n"
                     "prompt: the unseen-title accuracy before and after.",
                     opts, nopt);
    printf("chapter 6: RAG (检索增强生成) — knowledge base, embeddings, vector retrieval\n");
    printf("seed %llu\n", (unsigned long long)seed);
    authors_settings as = authors_settings_from(&cli, opts, nopt, AUTHORS_READING);

    authors_kb kb;
    if (authors_open(&kb, 60, seed) != 0) return 1;

    /* ---- the knowledge base ---------------------------------------------------------------- */
    char **docs = malloc(sizeof(char *) * (size_t)kb.n);
    size_t doc_bytes = 0;
    for (int i = 0; i < kb.n; i++) {
        authors_buf b = {0};
        char fact[512];
        authors_fact(&kb.cards[i], fact, sizeof fact);
        authors_put(&b, fact);
        authors_put(&b, "\n");
        authors_put(&b, kb.cards[i].poem);
        docs[i] = b.s;
        doc_bytes += b.len;
    }
    df_table dft = df_build(docs, kb.n);
    int distinct = 0;
    for (int i = 0; i < dft.n; i++) distinct += i == 0 || dft.g[i] != dft.g[i - 1];
    printf("knowledge base (知识库): %d documents from %s, %zu bytes, e.g.\n  %.*s...\n", kb.n,
           kb.tang ? TANG300 : "a SYNTHETIC table", doc_bytes,
           (int)(strchr(docs[0], '\n') ? strchr(docs[0], '\n') - docs[0] : 0), docs[0]);
    printf("embedding (词嵌入): character unigrams and bigrams (%d distinct in the documents), "
           "tf-idf, hashed into D slots\n", distinct);

    /* ---- retrieval: recall@k ------------------------------------------------------------- */
    printf("\nretrieval (向量检索): cosine top-k; recall@k = the share of titles whose poem is "
           "among the k best documents (all %d titles)\n", kb.titles_seen + kb.titles_unseen);
    printf("  %7s  ", "D");
    authors_print_padded("query", 24);
    printf("%8s %8s %8s\n", "@1", "@3", "@5");
    static const int dims[] = {64, 256, 1024, 2048, 4096};
    double r_main[3] = {0, 0, 0}, r_bare[3] = {0, 0, 0};
    int nd = NN_COUNTOF(dims);
    for (int k = 0; k <= nd; k++) {
        int d = k < nd ? dims[k] : D;
        bool listed = false;
        for (int j = 0; j < nd; j++) listed |= dims[j] == D;
        if (k == nd && listed) break;     /* D was in the list already */
        nn_vector_index *ix = build_index(&dft, docs, kb.n, d);
        for (int bare = 0; bare < 2; bare++) {
            double r[3];
            recall(ix, &dft, &kb, d, bare, -1, r);
            printf("  %7d  ", d);
            authors_print_padded(bare ? "《title》" : "《title》的作者是谁？", 24);
            printf("%8.3f %8.3f %8.3f%s\n", r[0], r[1], r[2], d == D ? "   <- the index used below" : "");
            if (d == D) memcpy(bare ? r_bare : r_main, r, sizeof r);
        }
        nn_vector_index_free(ix);
    }

    /* ---- the vector database: built, saved, loaded back ----------------------------------- */
    int failed = 0;
    nn_vector_index *built = build_index(&dft, docs, kb.n, D), *ix = NULL;
    char path[4096];
    if (!nn_out_path(path, sizeof path, out_dir, "ch06_rag.nnvx") ||
        nn_vector_index_save(built, path) != 0 || !(ix = nn_vector_index_load(path))) {
        fprintf(stderr, "rag: the knowledge base file: %s\n", nn_last_error());
        failed = 1;
    } else {
        /* the loaded index answers as the built one (every question, top 5) */
        bool same = nn_vector_index_count(ix) == nn_vector_index_count(built);
        float *q = malloc(sizeof(float) * (size_t)D);
        for (int i = 0; same && i < kb.n; i++) {
            char text[512];
            question(&kb.cards[i], false, text, sizeof text);
            embed(&dft, text, q, D);
            if (!nonzero(q, D)) continue;
            int a[5], b[5];
            float sa[5], sb[5];
            int na = nn_vector_index_search(built, q, 5, a, sa), nb = nn_vector_index_search(ix, q, 5, b, sb);
            same = na == nb && memcmp(a, b, sizeof(int) * (size_t)na) == 0 &&
                   memcmp(sa, sb, sizeof(float) * (size_t)na) == 0;
        }
        free(q);
        printf("\nvector database (向量数据库): %d vectors of %d numbers with their poems, written "
               "to %s\n  and loaded back: %s\n", nn_vector_index_count(ix), D, path,
               same ? "the same top-5 documents and cosines for every question" : "DIFFERENT answers");
        failed = !same;
        /* one question, its top 3 */
        char text[512];
        const author_card *c = NULL;
        for (int i = 0; i < kb.n && !c; i++)
            if (!kb.cards[i].seen) c = &kb.cards[i];
        question(c, false, text, sizeof text);
        float *v = malloc(sizeof(float) * (size_t)D);
        embed(&dft, text, v, D);
        int ids[3];
        float cs[3];
        int n = nonzero(v, D) ? nn_vector_index_search(ix, v, 3, ids, cs) : 0;
        printf("  \"%s\" (an unseen title) retrieves:\n", text);
        for (int j = 0; j < n; j++) {
            const char *d = nn_vector_index_text(ix, ids[j], NULL), *e = strchr(d, '\n');
            printf("    cos %.3f  %.*s\n", cs[j], e ? (int)(e - d) : (int)strlen(d), d);
        }
        free(v);
    }
    nn_vector_index_free(built);

    /* ---- the model, and RAG ----------------------------------------------------------------- */
    const nn_gpt_config *cf = &as.gpt.cfg;
    printf("\nthe model: a tiny GPT (C %d, %d block%s, T %d, %d steps, seed %llu) trained on the "
           "facts of the same %d seen titles\n  as ch06_hallucination (%d cop%s) and on %d reading "
           "cards (【资料】《made-up title》作者：random poet, then the question)\n", cf->dim,
           cf->layers, cf->layers > 1 ? "s" : "", cf->context, as.gpt.steps,
           (unsigned long long)seed, kb.titles_seen, as.copies, as.copies > 1 ? "ies" : "y",
           as.reading);
    static authors_model m;
    if (failed || authors_train(&m, &kb, &as, seed) != 0) {
        if (!failed) fprintf(stderr, "rag: %s\n", nn_last_error());
        authors_model_free(&m);
        nn_vector_index_free(ix);
        for (int i = 0; i < kb.n; i++) free(docs[i]);
        free(docs), free(dft.g);
        authors_close(&kb);
        nn_graph_release();
        return 1;
    }
    nn_gpt *g = m.run.gpt;
    double reading = authors_reading_test(g, m.vocab, &kb, 200, seed);
    printf("  %zu parameters, loss %.3f on the training text; reading skill: %.1f%% of 200 fresh "
           "made-up cards answered from the card\n", g->model->count, m.run.train, 100 * reading);
    static const char *const mode_name[] = {"no document", "retrieved (RAG)", "the right document"};
    authors_score sc[2][3];
    for (int seen = 0; seen < 2; seen++)
        for (int mode = 0; mode < 3; mode++) {
            if (mode != RIGHT_DOC)
                printf("  %s titles, %s:\n", seen ? "seen" : "unseen", mode_name[mode]);
            sc[seen][mode] = ask_all(g, m.vocab, &kb, ix, &dft, docs, D, seen, (doc_mode)mode,
                                     mode == RIGHT_DOC || seen ? 0 : show);
        }
    printf("\n  %-8s %-20s %6s %9s %10s %10s\n", "titles", "prompt", "asked", "accuracy",
           "confidence", "if wrong");
    for (int seen = 0; seen < 2; seen++)
        for (int mode = 0; mode < 3; mode++) {
            const authors_score *s = &sc[seen][mode];
            printf("  %-8s %-20s %6d %8.1f%% %10.3f %10.3f\n", seen ? "seen" : "unseen",
                   mode_name[mode], s->asked, 100 * authors_accuracy(s), s->conf, s->conf_wrong);
        }
    double before = authors_accuracy(&sc[0][NO_DOC]), after = authors_accuracy(&sc[0][RETRIEVED]);
    printf("unseen titles: %.1f%% right without a document (hallucination), %.1f%% with the "
           "retrieved one (RAG), %.1f%% with the right one;\nretrieval found the right poem "
           "first for %.1f%% of the questions. 联网 (web access) is the same idea with a search "
           "engine as the retriever.\n", 100 * before, 100 * after,
           100 * authors_accuracy(&sc[0][RIGHT_DOC]), 100 * r_main[0]);

    printf("result: table=%s docs=%d embed_dim=%d recall_at1=%.3f recall_at3=%.3f recall_at5=%.3f "
           "recall_at1_bare=%.3f params=%zu steps=%d unseen_acc_before=%.3f unseen_acc_rag=%.3f "
           "unseen_acc_right_doc=%.3f unseen_conf_before=%.3f unseen_conf_rag=%.3f "
           "seen_acc_before=%.3f seen_acc_rag=%.3f\n",
           kb.tang ? "tang300" : "synthetic", kb.n, D, r_main[0], r_main[1], r_main[2], r_bare[0],
           g->model->count, m.run.steps, before, after, authors_accuracy(&sc[0][RIGHT_DOC]),
           sc[0][NO_DOC].conf, sc[0][RETRIEVED].conf, authors_accuracy(&sc[1][NO_DOC]),
           authors_accuracy(&sc[1][RETRIEVED]));
    authors_model_free(&m);
    nn_vector_index_free(ix);
    for (int i = 0; i < kb.n; i++) free(docs[i]);
    free(docs), free(dft.g);
    authors_close(&kb);
    nn_graph_release();
    return failed;
}
