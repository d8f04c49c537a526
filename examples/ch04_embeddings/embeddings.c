/* examples/ch04_embeddings/embeddings.c — one number, one-hot, or an embedding (词嵌入)?
 *
 * The tutorial (从词嵌入到RNN): to judge characters a computer needs them as numbers.
 *   - one number per character (维度过低): the ids 1, 2, 3, ... of a vocabulary. Their order is
 *     arbitrary (here: how often a character occurs), yet |id(a) - id(b)| makes some
 *     characters "close" and others "far" for no reason at all;
 *   - one-hot (维度过高): V numbers, a single 1. Every two different characters are exactly
 *     as far apart as any other two: the cosine of every pair is 0, so nothing is related;
 *   - an embedding (不高不低): E learned numbers per character, compared by the dot product or
 *     the cosine similarity (余弦相似度) of their vectors.
 *
 * The model that learns the embeddings is the smallest one that can: a "neighbour" model.
 * From one character's vector alone it predicts the character after it and the one before it:
 *
 *   e = E[id_t]                               (N) ids -> (N, emb)
 *   p(next | id_t) = softmax(e W_next + b)    (N, V)
 *   p(prev | id_t) = softmax(e W_prev + c)    (N, V)
 *   loss = (CE(next) + CE(prev)) / 2          start near ln(V)
 *
 * Why this one, and not the RNN of char_rnn: here the vector is the ONLY thing the model knows
 * about a character (no hidden state to keep it elsewhere), so whatever helps predict the
 * neighbours has to go into it, and two characters seen in the same company (after 明 and
 * before 光, ...) are pushed to similar vectors. Both sides count, as in word2vec with a
 * window of one; it trains in seconds. Then, for a few chosen characters (月 山 花 风 春 ...,
 * those the corpus has), the nearest characters by cosine (nn_nearest_rows), and a 2-D map
 * of the vectors (PCA, computed below with power iterations) as an SVG with the characters as
 * labels. Only the most frequent characters are compared and drawn: a character seen twice
 * has a vector that barely moved from its random start.
 *
 *   embeddings [--quick | --full] [--titles] [FILE] [--embed N] [--steps N] [--seed N] [--out DIR]
 *     --quick: 100 steps, emb 16 (the tests, ~2 s); default: 1000 steps, emb 32 (~15 s on two
 *     idle cores; 30 s on a busy one); --full: 4000 steps, emb 64 (a few minutes). The table
 *     overfits (train loss far below validation), yet the neighbours keep improving with steps:
 *     the frequent characters, the ones compared, have enough examples.
 *
 * The corpus: FILE (any UTF-8 text), else /usr/share/games/fortunes/tang300 (Debian's
 * fortunes-zh) without titles, else (the file missing) a small synthetic corpus of 5- and
 * 7-character lines from a made-up grammar, which the program says it uses. A FILE you name
 * that is missing or not UTF-8 is an error: exit 1. Writes DIR/ch04_embeddings_pca.svg.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TANG300 /* -DTANG300='"/no/such/file"' tries the synthetic fallback */
#define TANG300 "/usr/share/games/fortunes/tang300"
#endif
#define BATCH 256
#define LR 1e-2f
#define MAX_COMPARED 600   /* the most frequent characters compared and searched */
#define MAX_DRAWN 150      /* ... and drawn on the map */

/* ---- the synthetic corpus (the same grammar as char_rnn.c) ------------------------------ */

static const char *const syn_adj[] = {"明", "青", "白", "寒", "清", "孤", "长", "深", "远", "红", "春", "秋"};
static const char *const syn_noun[] = {"山", "水", "月", "花", "风", "云", "江", "雨", "雪",
                                       "天", "鸟", "柳", "舟", "城", "人", "日", "草", "树"};
static const char *const syn_verb[] = {"照", "落", "飞", "流", "归", "鸣", "入", "生", "满", "开"};
static const char *const syn_place[] = {"前", "上", "中", "外", "里", "边", "头"};
#define PICK(rng, a) (a)[nn_rng_int((rng), (int)(sizeof(a) / sizeof((a)[0])))]

/* Poems of four lines, 5 characters (adjective noun verb noun place: 明月照山前) or 7 (an
 * adjective and a noun in front: 春江明月照山前), "，" and "。" as in tang300. */
static char *synthetic_text(int poems, uint64_t seed, size_t *bytes) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    char *text = malloc((size_t)poems * 4 * 30 + 1);
    size_t len = 0;
    if (!text) return NULL;
    for (int p = 0; p < poems; p++) {
        int seven = nn_rng_int(&rng, 2);
        for (int l = 0; l < 4; l++) {
            if (seven) len += (size_t)sprintf(text + len, "%s%s", PICK(&rng, syn_adj), PICK(&rng, syn_noun));
            len += (size_t)sprintf(text + len, "%s%s%s%s%s", PICK(&rng, syn_adj), PICK(&rng, syn_noun),
                                   PICK(&rng, syn_verb), PICK(&rng, syn_noun), PICK(&rng, syn_place));
            len += (size_t)sprintf(text + len, "%s", l % 2 == 0 ? "，" : "。\n");
        }
        if (p + 1 < poems) text[len++] = '\n';
    }
    text[len] = 0;
    *bytes = len;
    return text;
}

/* ---- small helpers ----------------------------------------------------------------------- */

static void char_of(const nn_vocab *v, int id, char *s, size_t size) {
    nn_vocab_decode(v, &id, 1, s, size);
    if (strcmp(s, "\n") == 0) snprintf(s, size, "\\n");
}

/* Punctuation and line ends: left off the map (they would crowd it and mean little there). */
static bool is_mark(uint32_t cp) {
    return cp < 0x80 || (cp >= 0x3000 && cp <= 0x303f) || (cp >= 0xff00 && cp <= 0xff65) ||
           cp == 0x300a || cp == 0x300b || cp == 0x2014 || cp == 0x2026;
}

/* The loss of both heads on n positions of ids (positions 1 .. n-2, so each has a neighbour on
 * either side), without a tape: for the validation text. */
static double heads_loss(nn_embedding_layer *emb, nn_linear_layer *next, nn_linear_layer *prev,
                         const int *ids, int n) {
    bool was = nn_set_grad_enabled(false);
    int m = n - 2;
    nn_tensor *e = nn_embedding(emb->W, ids + 1, NN_SHAPE(m));
    double l = 0.5 * (nn_item(nn_cross_entropy_loss(nn_linear_layer_forward(next, e), ids + 2)) +
                      nn_item(nn_cross_entropy_loss(nn_linear_layer_forward(prev, e), ids)));
    nn_graph_clear();
    nn_set_grad_enabled(was);
    return l;
}

/* ---- PCA by power iteration --------------------------------------------------------------
 * The principal components of M vectors (rows of X, (M, E), centred: every column's mean
 * subtracted) are the eigenvectors of their covariance C = X^T X / M (E x E), largest
 * eigenvalue first: the directions in which the vectors spread the most. Power iteration
 * finds the top one: start from any vector u and repeat u <- C u / |C u|; each product
 * stretches u most along the top eigenvector, so u turns towards it (at a rate set by the
 * ratio of the two largest eigenvalues; 200 rounds are plenty for E <= 64). Its eigenvalue is
 * u^T C u. For the second, remove the first from C (deflation: C <- C - lambda1 u1 u1^T, which
 * leaves every other eigenvector as it was and sends u1's eigenvalue to 0) and repeat.
 * lambda / trace(C) is the share of the total variance the direction explains. */
static double top_eigen(const double *C, int E, double *u, nn_rng *rng) {
    double *w = malloc(sizeof(double) * E);
    for (int i = 0; i < E; i++) u[i] = nn_rng_uniform(rng) - 0.5;
    for (int it = 0; it < 200; it++) {
        double norm = 0.0;
        for (int i = 0; i < E; i++) {
            w[i] = 0.0;
            for (int j = 0; j < E; j++) w[i] += C[i * E + j] * u[j];
            norm += w[i] * w[i];
        }
        norm = sqrt(norm);
        if (norm == 0.0) break;
        for (int i = 0; i < E; i++) u[i] = w[i] / norm;
    }
    double lambda = 0.0;
    for (int i = 0; i < E; i++)
        for (int j = 0; j < E; j++) lambda += u[i] * C[i * E + j] * u[j];
    free(w);
    return lambda;
}

int main(int argc, char **argv) {
    bool quick = false, full = false, titles = false;
    const char *file = NULL, *out_dir = "out";
    int E = 32, steps = 1000;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_ARG("FILE", &file, "a UTF-8 text file (default: tang300, 唐诗三百首)"),
        NN_OPT_FLAG("--quick", &quick, "100 steps, embedding 16 (for the tests)"),
        NN_OPT_FLAG("--full", &full, "4000 steps, embedding 64"),
        NN_OPT_FLAG("--titles", &titles, "keep tang300's title and author lines"),
        NN_OPT_INT("--embed", &E, 2, 512, "embedding size (--quick 16, --full 64)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "Adam steps (--quick 100, --full 4000)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the SVG map (made if missing)"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "One number, one-hot, or a learned embedding per character: why the first two\n"
                     "relate nothing, then embeddings learned from the Tang poems, the nearest\n"
                     "characters by cosine similarity, and a 2-D map (PCA) of the vectors.",
                     opts, nopt);
    if (full && !quick) {
        if (!nn_option_given(opts, nopt, "--embed")) E = 64;
        if (!nn_option_given(opts, nopt, "--steps")) steps = 4000;
    }
    if (quick) {
        if (!nn_option_given(opts, nopt, "--embed")) E = 16;
        if (!nn_option_given(opts, nopt, "--steps")) steps = 100;
    }
    printf("chapter 4: one number, one-hot, or an embedding (词嵌入) per character\n");
    printf("seed %llu\n", (unsigned long long)seed);
    nn_seed(seed);

    /* ---- the corpus and its vocabulary ----------------------------------------------- */
    nn_corpus *c = NULL;
    char *syn = NULL;
    const char *text, *source;
    size_t bytes;
    if (file) {
        c = nn_text_load(file);
        if (!c) return fprintf(stderr, "cannot use %s: %s\n", file, nn_last_error()), 1;
        source = file;
    } else {
        nn_fortunes_options fo = {.drop_titles = !titles};
        c = nn_fortunes_load(TANG300, &fo);
        source = c ? TANG300 : "a synthetic corpus";
        if (!c) {
            printf("NOTE: %s is missing (%s)\n      (install it: apt-get install fortunes-zh, or "
                   "scripts/deps.sh --data);\n      using a SYNTHETIC corpus instead: 5- and "
                   "7-character lines from a made-up grammar\n", TANG300, nn_last_error());
            syn = synthetic_text(quick ? 150 : 500, seed, &bytes);
            if (!syn) return fprintf(stderr, "out of memory\n"), 1;
        }
    }
    text = c ? c->text : syn;
    bytes = c ? c->bytes : bytes;
    nn_vocab *v = nn_vocab_build(text, bytes, 0);
    int n = nn_vocab_encode(v, text, bytes, NULL, 0), V = v->size;
    if (n < 8) {
        fprintf(stderr, "%s: %d characters are too few to learn from\n", source, n);
        return 1;
    }
    int *ids = malloc(sizeof(int) * (size_t)n);
    nn_vocab_encode(v, text, bytes, ids, (size_t)n);
    nn_token_span tr, va;
    nn_text_split(ids, n, 0.1, &tr, &va);
    printf("corpus: %s, %d characters; vocabulary V = %d ids (<unk> + %d characters)\n\n",
           source, n, V, V - 1);

    /* The characters we look at: those of this list the corpus has. */
    static const char *const wanted[] = {"月", "山", "花", "风", "春", "水", "日", "人", "夜", "云", "江", "雨"};
    int query[12], nq = 0;
    for (int i = 0; i < 12; i++) {
        uint32_t cp;
        nn_utf8_decode(wanted[i], strlen(wanted[i]), &cp);
        int id = nn_vocab_id(v, cp);
        if (id != NN_VOCAB_UNK) query[nq++] = id;
    }
    if (nq < 3) /* a corpus without them (an English file): its most frequent letters */
        for (nq = 0; nq < 6 && nq + 1 < V; nq++) query[nq] = nq + 1;

    /* ---- 1. one number per character --------------------------------------------------- */
    printf("1. one number per character (the vocabulary id; ids follow frequency):\n");
    for (int i = 0; i < nq && i < 6; i++) {
        char a[8], lo[8], hi[8];
        char_of(v, query[i], a, sizeof a);
        char_of(v, query[i] > 1 ? query[i] - 1 : query[i] + 1, lo, sizeof lo);
        char_of(v, query[i] + 1 < V ? query[i] + 1 : query[i] - 1, hi, sizeof hi);
        printf("   %s = %-4d  by number its closest are %s and %s (ids %d, %d): only because they "
               "occur about as often\n", a, query[i], lo, hi, query[i] - 1, query[i] + 1);
    }
    {
        char a[8], b[8], d[8];
        char_of(v, query[0], a, sizeof a), char_of(v, query[1], b, sizeof b);
        char_of(v, query[2], d, sizeof d);
        printf("   |%s - %s| = %d but |%s - %s| = %d: an order that means nothing, read as a "
               "distance\n\n", a, b, abs(query[0] - query[1]), a, d, abs(query[0] - query[2]));
    }

    /* ---- 2. one-hot -------------------------------------------------------------------- */
    int k1 = nq < 6 ? nq : 6;
    nn_tensor *oh = nn_one_hot(query, k1, V); /* (k1, V), a graph tensor */
    printf("2. one-hot: each character a row of V = %d numbers, one of them 1 (%d characters "
           "shown)\n   cosine similarity of every pair:\n      ", V, k1);
    for (int j = 0; j < k1; j++) {
        char s[8];
        char_of(v, query[j], s, sizeof s);
        printf(" %5s ", s);
    }
    printf("\n");
    double max_off = 0.0;
    for (int i = 0; i < k1; i++) {
        char s[8];
        char_of(v, query[i], s, sizeof s);
        nn_tensor *cos = nn_cosine_similarity(nn_rows(oh, i, 1), oh, -1, NN_COSINE_EPS); /* (k1) */
        printf("   %s  ", s);
        for (int j = 0; j < k1; j++) {
            printf(" %5.2f", cos->data[j]);
            if (j != i && fabs(cos->data[j]) > max_off) max_off = fabs(cos->data[j]);
        }
        printf("\n");
    }
    nn_graph_clear();
    printf("   every pair: cosine %.0f, distance sqrt(2): all characters equally unrelated, and V "
           "numbers each\n\n", max_off);

    /* ---- 3. learn embeddings ------------------------------------------------------------- */
    nn_model *m = nn_model_new();
    nn_embedding_layer *emb = nn_embedding_layer_new(m, "emb", V, E, 0.0f);
    nn_linear_layer *next = nn_linear_layer_new(m, "next", E, V, NN_INIT_XAVIER);
    nn_linear_layer *prev = nn_linear_layer_new(m, "prev", E, V, NN_INIT_XAVIER);
    nn_optim *opt = nn_adam_new(m, LR, 0.0f);
    printf("3. the neighbour model: e = E[id] (N, %d); p(next) = softmax(e W_next + b), p(prev) = "
           "softmax(e W_prev + c) (N, %d)\n   loss = (CE(next) + CE(prev)) / 2; %zu parameters "
           "(the table: %d x %d = %d); batches of %d positions, Adam lr %g, %d steps\n",
           E, V, m->count, V, E, V * E, BATCH, LR, steps);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int pos[BATCH], nx[BATCH], pv[BATCH];
    float start_loss = 0.0f, last = 0.0f;
    double t0 = nn_seconds();
    nn_progress bar;
    fflush(stdout);
    nn_progress_start(&bar, "train", steps);
    for (int s = 0; s < steps; s++) {
        for (int b = 0; b < BATCH; b++) { /* random positions with a neighbour on both sides */
            int p = 1 + nn_rng_int(&rng, tr.n - 2);
            pos[b] = tr.ids[p], nx[b] = tr.ids[p + 1], pv[b] = tr.ids[p - 1];
        }
        nn_tensor *e = nn_embedding(emb->W, pos, NN_SHAPE(BATCH));
        nn_tensor *loss = nn_mul_scalar(
            nn_add(nn_cross_entropy_loss(nn_linear_layer_forward(next, e), nx),
                   nn_cross_entropy_loss(nn_linear_layer_forward(prev, e), pv)), 0.5f);
        last = nn_item(loss);
        if (s == 0) start_loss = last;
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
        nn_progress_update(&bar, s + 1, "loss %.3f", last);
    }
    nn_progress_finish(&bar);
    double ms = 1000.0 * (nn_seconds() - t0) / steps;
    double val = heads_loss(emb, next, prev, va.ids, va.n);
    printf("   start loss %.3f vs ln(V) = %.3f; last batch %.3f; validation %.3f; %.2f ms/step\n\n",
           start_loss, log((double)V), last, val, ms);

    /* ---- 4. nearest characters by cosine ------------------------------------------------- */
    /* Ids follow frequency, so rows 1 .. K of the table are the K most frequent characters;
     * a copy of them is the table we search (row r is id r + 1). */
    int K = V - 1 < MAX_COMPARED ? V - 1 : MAX_COMPARED;
    nn_tensor *table = nn_from_array(emb->W->data + E, NN_SHAPE(K, E));
    printf("4. nearest characters by cosine similarity of the learned vectors (among the %d most "
           "frequent):\n", K);
    char first_near[64] = "", first_q[8] = "";
    for (int i = 0; i < nq; i++) {
        if (query[i] > K) continue;
        int near[5];
        float cosv[5];
        int got = nn_nearest_rows(table, table->data + (size_t)(query[i] - 1) * E, 5,
                                  query[i] - 1, near, cosv);
        char q[8];
        char_of(v, query[i], q, sizeof q);
        printf("   %s:", q);
        for (int j = 0; j < got; j++) {
            char s[8];
            char_of(v, near[j] + 1, s, sizeof s);
            printf("  %s %.2f", s, cosv[j]);
            if (!first_q[0] && strlen(first_near) + strlen(s) < sizeof first_near)
                strcat(first_near, s);
        }
        printf("\n");
        if (!first_q[0]) snprintf(first_q, sizeof first_q, "%s", q);
    }

    /* ---- 5. a 2-D map: PCA of the vectors of the most frequent characters ---------------- */
    int M = 0, drawn[MAX_DRAWN];
    for (int id = 1; id < V && M < MAX_DRAWN; id++)
        if (!is_mark(v->chars[id])) drawn[M++] = id;
    double *X = calloc((size_t)M * E, sizeof(double)), *C = calloc((size_t)E * E, sizeof(double));
    double *u1 = malloc(sizeof(double) * E), *u2 = malloc(sizeof(double) * E);
    for (int j = 0; j < E; j++) { /* centre each column */
        double mean = 0.0;
        for (int i = 0; i < M; i++) mean += emb->W->data[(size_t)drawn[i] * E + j];
        mean /= M > 0 ? M : 1;
        for (int i = 0; i < M; i++) X[(size_t)i * E + j] = emb->W->data[(size_t)drawn[i] * E + j] - mean;
    }
    double trace = 0.0;
    for (int a = 0; a < E; a++)
        for (int b = 0; b < E; b++) {
            double s = 0.0;
            for (int i = 0; i < M; i++) s += X[(size_t)i * E + a] * X[(size_t)i * E + b];
            C[a * E + b] = s / (M > 0 ? M : 1);
        }
    for (int a = 0; a < E; a++) trace += C[a * E + a];
    double l1 = top_eigen(C, E, u1, &rng);
    for (int a = 0; a < E; a++) /* deflate: take the first direction out */
        for (int b = 0; b < E; b++) C[a * E + b] -= l1 * u1[a] * u1[b];
    double l2 = top_eigen(C, E, u2, &rng);
    float *px = malloc(sizeof(float) * (M > 0 ? M : 1)), *py = malloc(sizeof(float) * (M > 0 ? M : 1));
    char(*lab)[8] = malloc(sizeof(*lab) * (M > 0 ? M : 1));
    const char **labels = malloc(sizeof(char *) * (M > 0 ? M : 1));
    for (int i = 0; i < M; i++) {
        double a = 0.0, b = 0.0;
        for (int j = 0; j < E; j++) a += X[(size_t)i * E + j] * u1[j], b += X[(size_t)i * E + j] * u2[j];
        px[i] = (float)a, py[i] = (float)b;
        char_of(v, drawn[i], lab[i], sizeof lab[i]);
        labels[i] = lab[i];
    }
    double var1 = trace > 0 ? l1 / trace : 0, var2 = trace > 0 ? l2 / trace : 0;
    printf("\n5. PCA of the %d most frequent characters' vectors (punctuation left out): the two "
           "top directions\n   explain %.1f%% and %.1f%% of the variance (power iteration, 200 "
           "rounds each)\n", M, 100 * var1, 100 * var2);
    char title[160];
    snprintf(title, sizeof title, "Learned character embeddings (E = %d), PCA: %.0f%% + %.0f%% of "
             "the variance", E, 100 * var1, 100 * var2);
    int failed = nn_plot_svg_labels_in(out_dir, "ch04_embeddings_pca.svg", title, px, py, labels, M) != 0;

    printf("result: corpus=%s V=%d embed=%d onehot_max_cos=%.0f start_loss=%.3f lnV=%.3f "
           "train_loss=%.3f val_loss=%.3f ms_per_step=%.2f query=%s nearest=%s pca_var1=%.3f "
           "pca_var2=%.3f\n", c ? (file ? "file" : "tang300") : "synthetic", V, E, max_off,
           start_loss, log((double)V), last, val, ms, first_q[0] ? first_q : "-",
           first_near[0] ? first_near : "-", var1, var2);

    free(px), free(py), free(lab), free(labels), free(X), free(C), free(u1), free(u2);
    nn_tensor_free(table);
    nn_optim_free(opt);
    nn_model_free(m);
    free(ids), free(syn);
    nn_vocab_free(v);
    nn_corpus_free(c);
    nn_graph_release();
    return failed ? 1 : 0;
}
