/* examples/common/poems.h — what the chapter 4 and 5 language models share, so that they
 * read the same text, split it the same way and are judged by the same yardsticks:
 *   poems_open       the corpus: a UTF-8 file of yours, else tang300 (唐诗三百首, Debian's
 *                    fortunes-zh) without its title lines, else a synthetic stand-in
 *   poems_encode     its vocabulary, ids, and the split (the last 10% validates)
 *   count_baselines  the unigram and bigram models that only count
 *   rhythm           how many clauses are 5 or 7 characters long
 *   print_text, encode_prompt, poems_prompt
 *   poems_curves_*  loss curves written by one program, drawn by another
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_POEMS_H
#define EXAMPLES_COMMON_POEMS_H

#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TANG300 /* -DTANG300='"/no/such/file"' tries the synthetic fallback */
#define TANG300 "/usr/share/games/fortunes/tang300"
#endif
#define POEMS_VAL_FRACTION 0.1
/* A program may use only some of these: no warning for the rest. */
#define POEMS_FN static __attribute__((unused))

/* ---- the corpus: tang300, a file of your own, or a synthetic stand-in ------------------- */

/* A made-up grammar of 5- and 7-character lines, for machines without fortunes-zh:
 *   5: adjective noun verb noun place          明月照山前
 *   7: adjective noun + the 5-character line   春江明月照山前
 * four lines a poem, "，" and "。" as in tang300, an empty line between poems. */
static const char *const syn_adj[] = {"明", "青", "白", "寒", "清", "孤", "长", "深", "远", "红", "春", "秋"};
static const char *const syn_noun[] = {"山", "水", "月", "花", "风", "云", "江", "雨", "雪",
                                       "天", "鸟", "柳", "舟", "城", "人", "日", "草", "树"};
static const char *const syn_verb[] = {"照", "落", "飞", "流", "归", "鸣", "入", "生", "满", "开"};
static const char *const syn_place[] = {"前", "上", "中", "外", "里", "边", "头"};
#define PICK(rng, a) (a)[nn_rng_int((rng), (int)(sizeof(a) / sizeof((a)[0])))]

POEMS_FN nn_corpus *synthetic_corpus(int count, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    size_t cap = (size_t)count * 4 * 30 + 1, len = 0;
    char *text = malloc(cap);
    if (!text) return NULL;
    for (int p = 0; p < count; p++) {
        int seven = nn_rng_int(&rng, 2);
        for (int l = 0; l < 4; l++) {
            const char *w[7];
            int k = 0;
            if (seven) w[k++] = PICK(&rng, syn_adj), w[k++] = PICK(&rng, syn_noun);
            w[k++] = PICK(&rng, syn_adj), w[k++] = PICK(&rng, syn_noun);
            w[k++] = PICK(&rng, syn_verb), w[k++] = PICK(&rng, syn_noun);
            w[k++] = PICK(&rng, syn_place);
            for (int i = 0; i < k; i++) len += (size_t)sprintf(text + len, "%s", w[i]);
            len += (size_t)sprintf(text + len, "%s", l % 2 == 0 ? "，" : "。\n");
        }
        if (p + 1 < count) text[len++] = '\n';
    }
    text[len] = 0;
    nn_corpus *c = calloc(1, sizeof *c);
    nn_corpus_entry *e = calloc(1, sizeof *e);
    if (!c || !e) {
        free(text), free(c), free(e);
        return NULL;
    }
    e->start = 0, e->bytes = len;
    c->text = text, c->bytes = len, c->n_entries = 1, c->entries = e;
    for (size_t i = 0; i < len; i++) c->chars += ((unsigned char)text[i] & 0xc0) != 0x80;
    return c;
}

typedef struct poems {
    nn_corpus *corpus;
    const char *source;   /* the file, TANG300, or "a synthetic corpus" */
    bool tang;            /* tang300 was read */
    nn_vocab *vocab;
    int *ids, n;          /* the whole text as ids */
    nn_token_span train, val;
} poems;

/* FILE if given (an error when missing or not UTF-8), else tang300 (titles dropped unless
 * `titles`), else `fallback_poems` synthetic poems with a note. 0, or 1 after a message. */
POEMS_FN int poems_open(poems *p, const char *file, bool titles, int fallback_poems, uint64_t seed) {
    memset(p, 0, sizeof *p);
    if (file) {
        p->corpus = nn_text_load(file);
        if (!p->corpus) return fprintf(stderr, "cannot use %s: %s\n", file, nn_last_error()), 1;
        p->source = file;
    } else {
        nn_fortunes_options fo = {.drop_titles = !titles};
        p->corpus = nn_fortunes_load(TANG300, &fo);
        p->tang = p->corpus != NULL;
        p->source = p->tang ? TANG300 : "a synthetic corpus";
        if (!p->corpus) {
            printf("NOTE: %s is missing (%s)\n      (install it: apt-get install fortunes-zh, or "
                   "scripts/deps.sh --data);\n      training on a SYNTHETIC corpus instead: "
                   "5- and 7-character lines from a made-up grammar\n", TANG300, nn_last_error());
            p->corpus = synthetic_corpus(fallback_poems, seed);
            if (!p->corpus) return fprintf(stderr, "out of memory\n"), 1;
        }
    }
    const nn_corpus *c = p->corpus;
    p->vocab = nn_vocab_build(c->text, c->bytes, 0);
    p->n = nn_vocab_encode(p->vocab, c->text, c->bytes, NULL, 0);
    if (p->n < 4) {
        fprintf(stderr, "%s: %d characters are too few to learn from\n", p->source, p->n);
        return 1;
    }
    p->ids = malloc(sizeof(int) * (size_t)p->n);
    nn_vocab_encode(p->vocab, c->text, c->bytes, p->ids, (size_t)p->n);
    nn_text_split(p->ids, p->n, POEMS_VAL_FRACTION, &p->train, &p->val);
    return 0;
}

POEMS_FN void poems_close(poems *p) {
    free(p->ids);
    nn_vocab_free(p->vocab);
    nn_corpus_free(p->corpus);
    memset(p, 0, sizeof *p);
}

/* The corpus, vocabulary and split lines both programs print. */
POEMS_FN void poems_describe(const poems *p, bool titles) {
    const nn_vocab *v = p->vocab;
    printf("corpus: %s%s, %d entries, %zu bytes, %d characters\n", p->source,
           p->tang ? (titles ? " (titles kept)" : " (titles dropped)") : "", p->corpus->n_entries,
           p->corpus->bytes, p->n);
    printf("vocabulary: V = %d ids (<unk> and %d characters; most frequent:", v->size, v->size - 1);
    for (int i = 1; i <= 10 && i < v->size; i++) {
        char s[8];
        nn_vocab_decode(v, &i, 1, s, sizeof s);
        printf(" %s", strcmp(s, "\n") == 0 ? "\\n" : s);
    }
    printf(")\nsplit: %d characters to train on, the last %d (10%%) to validate\n", p->train.n,
           p->val.n);
}

/* ---- counted baselines ---------------------------------------------------------------- */

POEMS_FN int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* How often the pair key occurs in the sorted array keys[0 .. n). */
POEMS_FN long pair_count(const long *keys, int n, long key) {
    int lo = 0, hi = n;
    while (lo < hi) { /* first index with keys[i] >= key */
        int mid = lo + (hi - lo) / 2;
        if (keys[mid] < key) lo = mid + 1; else hi = mid;
    }
    int a = lo;
    hi = n;
    while (lo < hi) { /* first index with keys[i] > key */
        int mid = lo + (hi - lo) / 2;
        if (keys[mid] <= key) lo = mid + 1; else hi = mid;
    }
    return lo - a;
}

typedef struct baselines {
    double unigram, bigram_add1, bigram_interp;
} baselines;

POEMS_FN baselines count_baselines(nn_token_span tr, nn_token_span va, int V) {
    long *uni = calloc((size_t)V, sizeof *uni), *first = calloc((size_t)V, sizeof *first);
    long *pairs = malloc(sizeof(long) * (size_t)(tr.n - 1));
    for (int i = 0; i < tr.n; i++) uni[tr.ids[i]]++;
    for (int i = 0; i + 1 < tr.n; i++) {
        first[tr.ids[i]]++;
        pairs[i] = (long)tr.ids[i] * V + tr.ids[i + 1];
    }
    qsort(pairs, (size_t)(tr.n - 1), sizeof *pairs, cmp_long);
    baselines b = {0, 0, 0};
    /* Every validation target after the first character (the pairs the network predicts). */
    for (int i = 0; i + 1 < va.n; i++) {
        int a = va.ids[i], c = va.ids[i + 1];
        double pu = (uni[c] + 1.0) / (tr.n + (double)V);
        long nab = pair_count(pairs, tr.n - 1, (long)a * V + c);
        double p1 = (nab + 1.0) / (first[a] + (double)V);
        double pi = first[a] > 0 ? 0.5 * nab / first[a] + 0.5 * pu : pu;
        b.unigram -= log(pu), b.bigram_add1 -= log(p1), b.bigram_interp -= log(pi);
    }
    b.unigram /= va.n - 1, b.bigram_add1 /= va.n - 1, b.bigram_interp /= va.n - 1;
    free(uni), free(first), free(pairs);
    return b;
}

/* ---- judging and showing text ---------------------------------------------------------- */

POEMS_FN bool is_break(uint32_t cp) {
    return cp == '\n' || cp == 0xff0c || cp == 0x3002 || cp == 0xff1f || cp == 0xff01 ||
           cp == 0xff1b || cp == 0xff1a || cp == 0x3001 || cp == ',' || cp == '.' ||
           cp == '?' || cp == '!' || cp == ';';
}

/* The rhythm of a text: of its complete clauses (characters between two punctuation marks or
 * line ends, at least one character), the fraction that are 5 or 7 characters long. */
POEMS_FN double rhythm(const nn_vocab *v, const int *ids, int n, int *clauses) {
    int len = -1, good = 0; /* -1: before the first break, the clause may be cut */
    *clauses = 0;
    for (int i = 0; i < n; i++) {
        uint32_t cp = v->chars[ids[i]];
        if (ids[i] != NN_VOCAB_UNK && is_break(cp)) {
            if (len > 0) (*clauses)++, good += len == 5 || len == 7;
            len = 0;
        } else if (len >= 0) {
            len++;
        }
    }
    return *clauses ? (double)good / *clauses : 0.0;
}

POEMS_FN void print_text(const nn_vocab *v, const int *prompt, int np, const int *ids, int n) {
    size_t size = 4 * (size_t)(np + n) + 1;
    char *s = malloc(size), *t = malloc(size);
    nn_vocab_decode(v, prompt, np, s, size);
    nn_vocab_decode(v, ids, n, t, size);
    printf("    %s", s);
    for (char *p = t; *p; p++) {
        putchar(*p);
        if (*p == '\n' && p[1] && p[1] != '\n') printf("    ");
    }
    if (n == 0 || ids[n - 1] != nn_vocab_id(v, '\n')) putchar('\n');
    free(s), free(t);
}

/* Encode a prompt; unknown characters are kept as <unk> (shown as �) with a warning. */
POEMS_FN int *encode_prompt(const nn_vocab *v, const char *prompt, int *np) {
    *np = nn_vocab_encode(v, prompt, strlen(prompt), NULL, 0);
    if (*np < 0) return NULL;
    int *ids = malloc(sizeof(int) * (size_t)(*np > 0 ? *np : 1));
    nn_vocab_encode(v, prompt, strlen(prompt), ids, (size_t)*np);
    int unknown = 0;
    for (int i = 0; i < *np; i++) unknown += ids[i] == NN_VOCAB_UNK;
    if (unknown)
        printf("note: %d character(s) of the prompt are not in the vocabulary: read as <unk>\n",
               unknown);
    return ids;
}

/* The prompt poems start from: the given one; else 床前明月光 on tang300; else the first (up
 * to) 5 characters of a validation line (written to auto_buf, *prompt pointed at it). Returns
 * its ids (free them) and their count in *np, or NULL when the prompt is not UTF-8. */
POEMS_FN int *poems_prompt(const poems *po, const char **prompt, char *auto_buf, size_t size,
                           int *np) {
    const nn_vocab *v = po->vocab;
    nn_token_span va = po->val;
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : -1;
    if (!*prompt && po->tang) *prompt = "床前明月光";
    int *p = NULL;
    *np = 0;
    if (*prompt) {
        p = encode_prompt(v, *prompt, np);
        if (!p) return NULL;
    }
    if (*np == 0) { /* the first (up to) 5 characters of a validation line */
        int s = 0;
        while (s < va.n - 1 && va.ids[s] != nl) s++;
        s = s < va.n - 1 ? s + 1 : 0;
        int k = 0;
        while (k < 5 && s + k < va.n && va.ids[s + k] != nl) k++;
        free(p);
        p = malloc(sizeof(int) * 5);
        memcpy(p, va.ids + s, sizeof(int) * (size_t)k);
        *np = k > 0 ? k : 1;
        if (k == 0) p[0] = va.ids[0];
        nn_vocab_decode(v, p, *np, auto_buf, size);
        *prompt = auto_buf;
    }
    return p;
}

/* ---- loss curves, handed from one program to another ---------------------------------------
 * char_rnn writes the curves of the cells it trained; the chapter 5 GPT draws them beside its
 * own when the corpus and split are the same (CSV: a "# corpus=... V=... train=... val=..."
 * line, a header, then name,params,step,train,val per point). */
#define POEMS_MAX_CURVES 4
#define POEMS_MAX_POINTS 1024

typedef struct poems_curve {
    char name[16];
    size_t params;
    int n;
    float step[POEMS_MAX_POINTS], train[POEMS_MAX_POINTS], val[POEMS_MAX_POINTS];
} poems_curve;

/* What identifies the text and the split, as the first line of the file. */
POEMS_FN void poems_signature(const poems *po, char *buf, size_t size) {
    snprintf(buf, size, "# corpus=%s V=%d train=%d val=%d", po->tang ? "tang300" : po->source,
             po->vocab->size, po->train.n, po->val.n);
}

POEMS_FN int poems_curves_write(const char *dir, const char *file, const poems *po,
                                const poems_curve *c, int n) {
    char path[4096], sig[512];
    if (!nn_out_path(path, sizeof path, dir, file)) return -1;
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    poems_signature(po, sig, sizeof sig);
    fprintf(f, "%s\nname,params,step,train,val\n", sig);
    for (int k = 0; k < n; k++)
        for (int i = 0; i < c[k].n; i++)
            fprintf(f, "%s,%zu,%g,%.6g,%.6g\n", c[k].name, c[k].params, (double)c[k].step[i],
                    (double)c[k].train[i], (double)c[k].val[i]);
    if (fclose(f) != 0) return -1;
    printf("wrote %s\n", path);
    return 0;
}

/* Read the curves of dir/file into c[0 .. max); the number read, 0 when the file is missing,
 * or -1 when it was made from another text or split (*why says so) or is malformed. */
POEMS_FN int poems_curves_read(const char *path, const poems *po, poems_curve *c, int max,
                               const char **why) {
    FILE *f = fopen(path, "r");
    *why = "missing";
    if (!f) return 0;
    char line[512], sig[512];
    poems_signature(po, sig, sizeof sig);
    int n = 0;
    bool ok = fgets(line, sizeof line, f) && strncmp(line, sig, strlen(sig)) == 0 &&
              line[strlen(sig)] == '\n';
    *why = "made from another text or split";
    if (ok && !fgets(line, sizeof line, f)) ok = false;
    while (ok && fgets(line, sizeof line, f)) {
        char name[16];
        size_t params;
        float step, tr, va;
        if (sscanf(line, "%15[^,],%zu,%f,%f,%f", name, &params, &step, &tr, &va) != 5) {
            *why = "malformed";
            ok = false;
            break;
        }
        int k = 0;
        while (k < n && strcmp(c[k].name, name) != 0) k++;
        if (k == n) {
            if (n == max) continue;
            memset(&c[n], 0, sizeof c[n]);
            snprintf(c[n].name, sizeof c[n].name, "%s", name);
            c[n++].params = params;
        }
        if (c[k].n < POEMS_MAX_POINTS)
            c[k].step[c[k].n] = step, c[k].train[c[k].n] = tr, c[k].val[c[k].n++] = va;
    }
    fclose(f);
    return ok ? n : -1;
}

#endif
