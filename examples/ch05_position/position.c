/* examples/ch05_position/position.c — why attention needs a 位置编码 (position encoding).
 *
 * The tutorial (简单而强大的Transformer) starts with "给每一个词添加一个位置编码,并将位置编码
 * 添加到词向量里": add a position vector to each word vector. Why: self-attention compares every
 * word with every other and takes weighted sums,
 *   y_i = sum_j softmax_j(q_i · k_j / sqrt(d)) v_j,    q_i = x_i Wq, k_j = x_j Wk, v_j = x_j Wv
 * and nothing in it depends on where word j sits: the sum over j does not care about order.
 * Shuffle the words and the outputs are the same rows, shuffled the same way. So 狗咬人 (the
 * dog bites the man) and 人咬狗 (the man bites the dog) give 狗 the very same output vector.
 *
 *   (a) without positions: the output for each word is identical in both sentences (up to
 *       float rounding), and so is any summary of the sentence such as the mean of the rows;
 *   (b) with x_t = e_t + PE[t] (the sinusoidal encoding, Vaswani et al. 2017)
 *         PE[t, 2i] = sin(t ω_i),  PE[t, 2i+1] = cos(t ω_i),  ω_i = 10000^(-2i/dim)
 *       the outputs differ: the model can now tell who bites whom;
 *   (c) a picture of PE (positions down, dimensions across; blue -1, white 0, red +1): the
 *       first pairs turn fast (every ~6 positions), the last ones barely move, like the
 *       hands of a clock that together name every position;
 *   (d) PE[t] · PE[t+k] = sum_i (sin tω sin (t+k)ω + cos tω cos (t+k)ω) = sum_i cos(k ω_i):
 *       it depends only on the offset k, not on t (relative position). Even more: each pair
 *       at t+k is the pair at t turned by the angle k ω_i, PE[t+k] = R_k PE[t] with one
 *       matrix R_k for every t, which linear maps such as Wq and Wk can use;
 *   (e) learned positions (GPT-2): a second embedding table, row t for position t, looked up
 *       with ids 0 .. T-1 (nn_embedding_layer + nn_position_ids) and trained with the rest.
 *       Even random rows break the symmetry; what they mean comes from training, and there
 *       are only as many rows as the context is long.
 *
 *   position [--quick | --full] [--positions N] [--dims N] [--seed N] [--out DIR]
 *   --quick: a 32 x 32 picture (the tests); default 64 positions x 64 dims; --full 128 x 128.
 *   Everything takes milliseconds. Writes DIR/ch05_position_encoding.png (PE) and
 *   DIR/ch05_position_similarity.png (cos(PE[t], PE[s]) for all t, s: a band along the
 *   diagonal, the same along every diagonal). Exits 1 if a check fails.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D 8        /* numbers per word in (a), (b), (e) */
#define T 3        /* words per sentence */
#define CONTEXT 16 /* rows of the learned position table */
#define TOL 1e-5
#define PI 3.14159265358979

enum { NO_POSITIONS, SINUSOIDAL, LEARNED };
static const char *const words[T] = {"狗", "咬", "人"};

typedef struct net {
    nn_tensor *E;           /* (3, D) word vectors, owned */
    nn_tensor *W[3];        /* Wq, Wk, Wv (D, D), owned */
    nn_embedding_layer *pos;/* the learned table (CONTEXT, D) */
} net;

/* Self-attention over the words ids[0 .. T): x = e (+ a position vector), y = attention(x Wq,
 * x Wk, x Wv), copied into out (T, D). */
static void self_attend(const net *n, const int *ids, int mode, float *out) {
    nn_tensor *x = nn_take_rows(n->E, ids, T);                      /* (T, D) */
    if (mode == SINUSOIDAL) x = nn_add(x, nn_sinusoidal_positions(0, T, D));
    if (mode == LEARNED) {
        int pid[T];
        nn_position_ids(pid, 0, T);                                 /* 0, 1, 2 */
        x = nn_add(x, nn_reshape(nn_embedding_layer_forward(n->pos, pid, 1, T), NN_SHAPE(T, D)));
    }
    nn_tensor *y = nn_attention(nn_matmul(x, n->W[0]), nn_matmul(x, n->W[1]),
                                nn_matmul(x, n->W[2]), false, NULL); /* (T, D) */
    memcpy(out, y->data, sizeof(float) * T * D);
    nn_graph_clear();
}

static void print_vec(const float *v, int n) {
    printf("[");
    for (int i = 0; i < n; i++) printf("%6.2f", v[i]);
    printf(" ]");
}

/* Sentence A = 狗 咬 人, B = 人 咬 狗 (B reverses A): the largest |yA - yB| for the same word
 * (word w sits at position w in A and T-1-w in B), and for the mean of the rows. */
static double compare(const net *n, int mode, double *mean_diff, bool show) {
    static const int a[T] = {0, 1, 2}, b[T] = {2, 1, 0};
    float ya[T * D], yb[T * D];
    self_attend(n, a, mode, ya);
    self_attend(n, b, mode, yb);
    double worst = 0.0, md = 0.0;
    for (int w = 0; w < T; w++) {
        const float *ra = ya + w * D, *rb = yb + (T - 1 - w) * D;
        double dw = 0.0;
        for (int i = 0; i < D; i++) dw = fmax(dw, fabs((double)ra[i] - rb[i]));
        worst = fmax(worst, dw);
        if (show) {
            printf("     %s  in 狗咬人 (position %d) ", words[w], w), print_vec(ra, D), printf("\n");
            printf("         in 人咬狗 (position %d) ", T - 1 - w), print_vec(rb, D);
            printf("   max diff %.1e\n", dw);
        }
    }
    for (int i = 0; i < D; i++) {
        double sa = 0.0, sb = 0.0;
        for (int t = 0; t < T; t++) sa += ya[t * D + i], sb += yb[t * D + i];
        md = fmax(md, fabs(sa - sb) / T);
    }
    *mean_diff = md;
    return worst;
}

static int save_map(const char *dir, const char *file, const nn_tensor *m, int zoom) {
    nn_tensor *img = nn_heatmap(m, -1.0f, 1.0f);                    /* (3, H, W): blue-white-red */
    nn_tensor *big = img ? nn_image_scale_nearest(img, zoom) : NULL;
    int rc = big ? nn_image_save_png_in(dir, file, big) : -1;
    nn_tensor_free(big), nn_tensor_free(img);
    return rc;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    int P = 64, Dm = 64;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a 32 x 32 picture (for the tests)"),
        NN_OPT_FLAG("--full", &full, "a 128 x 128 picture"),
        NN_OPT_INT("--positions", &P, 8, 4096, "positions in the picture (rows)"),
        NN_OPT_INT("--dims", &Dm, 8, 4096, "dimensions of the encoding (even; columns)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the PNG pictures (made if missing)"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Why self-attention needs positions: 狗咬人 and 人咬狗 look alike without them;\n"
                     "the sinusoidal encoding as a picture; its dot products depend only on the\n"
                     "offset (relative position); learned position tables.", opts, nopt);
    if (Dm % 2 != 0) { /* a usage error like those of nn_parse_options: exit 2 */
        const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        fprintf(stderr, "%s: --dims: %d is odd; the encoding needs sin and cos pairs\n"
                "usage: %s [options]\n'%s --help' lists the options with their meaning, range "
                "and default.\n", prog, Dm, prog, prog);
        return 2;
    }
    int size = quick ? 32 : full ? 128 : 64;
    if (!nn_option_given(opts, nopt, "--positions")) P = size;
    if (!nn_option_given(opts, nopt, "--dims")) Dm = size;
    printf("chapter 5: 位置编码 (position encoding) — who bites whom?\n");
    printf("seed %llu\n\n", (unsigned long long)seed);
    nn_seed(seed);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    bool ok = true;

    /* Three words with random vectors e (D numbers, normal(0, 1)) and random Wq, Wk, Wv
     * (normal(0, 1/sqrt(D))): an untrained layer is enough, the symmetry is in the formula. */
    net n;
    n.E = nn_zeros(NN_SHAPE(T, D));
    nn_fill_normal(n.E, 0.0f, 1.0f, &rng);
    for (int w = 0; w < 3; w++) {
        n.W[w] = nn_zeros(NN_SHAPE(D, D));
        nn_fill_normal(n.W[w], 0.0f, 1.0f / sqrtf((float)D), &rng);
    }
    nn_model *m = nn_model_new();
    n.pos = nn_embedding_layer_new(m, "pos", CONTEXT, D, 1.0f);    /* rows normal(0, 1) */
    printf("word vectors (词向量, d = %d, random) and one self-attention layer (random Wq, Wk, Wv):\n", D);
    for (int w = 0; w < T; w++)
        printf("   %s e = ", words[w]), print_vec(n.E->data + w * D, D), printf("\n");

    /* ---- (a) no positions: the same rows, permuted ------------------------------------- */
    double mean0, mean1, mean2;
    printf("\n(a) 没有位置编码 (no position encoding): 狗咬人 vs 人咬狗, y = attention(x Wq, x Wk, x Wv)\n");
    double d0 = compare(&n, NO_POSITIONS, &mean0, true);
    bool same = d0 < TOL && mean0 < TOL;
    ok = ok && same;
    printf("   every word gets the same output in both sentences (max diff %.1e), and the mean of\n"
           "   the rows, a summary of the sentence, is the same too (max diff %.1e): %s\n",
           d0, mean0, same ? "the two sentences look alike" : "UNEXPECTED");

    /* ---- (b) with the sinusoidal encoding ---------------------------------------------- */
    printf("\n(b) x_t = e_t + PE[t] (sinusoidal 位置编码): the same two sentences\n");
    double d1 = compare(&n, SINUSOIDAL, &mean1, true);
    ok = ok && d1 > 1e-3;
    printf("   now the outputs differ (max diff %.3f; mean of the rows %.3f): word order is visible\n", d1, mean1);

    /* ---- (c) the encoding as a picture ------------------------------------------------- */
    nn_tensor *pe = nn_sinusoidal_positions(0, P, Dm);              /* (P, Dm) graph tensor */
    int zoom = 512 / (P > Dm ? P : Dm);
    zoom = zoom < 1 ? 1 : zoom;
    printf("\n(c) PE for %d positions x %d dims: PE[t, 2i] = sin(t w_i), PE[t, 2i+1] = cos(t w_i), "
           "w_i = 10000^(-2i/%d)\n   pair 0 turns once every %.1f positions, the last pair once every "
           "%.0f\n", P, Dm, Dm, 2 * PI, 2 * PI / pow(10000.0, -(double)(Dm - 2) / Dm));
    int pics = save_map(out_dir, "ch05_position_encoding.png", pe, zoom);
    nn_tensor *sim = nn_zeros(NN_SHAPE(P, P));                      /* cos(PE[t], PE[s]), owned */
    for (int t = 0; t < P; t++)
        for (int s = 0; s < P; s++) {
            double dot = 0.0;
            for (int i = 0; i < Dm; i++) dot += pe->data[t * Dm + i] * pe->data[s * Dm + i];
            sim->data[t * P + s] = (float)(dot / (Dm / 2));          /* |PE[t]|^2 = Dm / 2 */
        }
    pics |= save_map(out_dir, "ch05_position_similarity.png", sim, zoom);
    nn_tensor_free(sim);
    nn_graph_clear();

    /* ---- (d) relative position: PE[t] . PE[t+k] depends on k only ----------------------- */
    static const int ts[] = {0, 7, 20, 50}, ks[] = {0, 1, 2, 4, 8, 16, 32};
    enum { NT = sizeof ts / sizeof ts[0], NK = sizeof ks / sizeof ks[0] };
    pe = nn_sinusoidal_positions(0, 50 + 32 + 1, Dm);
    printf("\n(d) 点积 (dot product) PE[t] · PE[t+k], %d dims: one column per offset k\n%14s", Dm, "");
    for (int j = 0; j < NK; j++) printf("   k = %2d", ks[j]);
    printf("\n");
    double spread = 0.0, rot = 0.0, formula[NK];
    for (int j = 0; j < NK; j++) {
        formula[j] = 0.0;
        for (int i = 0; i < Dm / 2; i++) formula[j] += cos(ks[j] * pow(10000.0, -2.0 * i / Dm));
    }
    for (int r = 0; r < NT; r++) {
        printf("   t = %-7d", ts[r]);
        for (int j = 0; j < NK; j++) {
            const float *a = pe->data + ts[r] * Dm, *b = pe->data + (ts[r] + ks[j]) * Dm;
            double dot = 0.0;
            for (int i = 0; i < Dm; i++) dot += a[i] * b[i];
            spread = fmax(spread, fabs(dot - formula[j]));
            printf(" %8.3f", dot);
            for (int i = 0; i < Dm / 2; i++) {    /* the pair at t, turned by k w_i, is the pair at t+k */
                double w = ks[j] * pow(10000.0, -2.0 * i / Dm), s = a[2 * i], c = a[2 * i + 1];
                rot = fmax(rot, fmax(fabs(s * cos(w) + c * sin(w) - b[2 * i]),
                                     fabs(c * cos(w) - s * sin(w) - b[2 * i + 1])));
            }
        }
        printf("\n");
    }
    printf("   sum cos(kw)");
    for (int j = 0; j < NK; j++) printf(" %8.3f", formula[j]);
    bool relative = spread < 1e-3 && rot < 1e-4;
    ok = ok && relative;
    printf("\n   the same down every column (max |dot - sum_i cos(k w_i)| = %.1e): it depends on the offset\n"
           "   k only; it falls from k = 0 (near positions look alike), then levels off.\n"
           "   PE[t+k] = R_k PE[t], each pair turned by the angle k w_i, for every t (max error %.1e):\n"
           "   a relative position is one fixed linear map, which Wq and Wk can learn to use\n",
           spread, rot);
    nn_graph_clear();

    /* ---- (e) learned positions ---------------------------------------------------------- */
    printf("\n(e) 可学习的位置编码 (learned positions, as in GPT-2): a table of %d rows x %d (one row per\n"
           "   position, nn_embedding_layer), looked up with ids 0, 1, 2 (nn_position_ids) and added\n"
           "   like PE. Its rows start random (here normal(0, 1)) and get their meaning from training;\n"
           "   a position past row %d has no vector. Even random rows break the symmetry:\n",
           CONTEXT, D, CONTEXT - 1);
    double d2 = compare(&n, LEARNED, &mean2, false);
    ok = ok && d2 > 1e-3;
    printf("   狗咬人 vs 人咬狗 with the (untrained) learned table: max diff %.3f, mean of the rows "
           "%.3f\n", d2, mean2);

    printf("result: same_without_pe=%d diff_without_pe=%.1e diff_with_pe=%.3f diff_learned=%.3f "
           "dot_depends_on_k_only=%d dot_spread=%.1e png=ch05_position_encoding.png\n",
           same, d0, d1, d2, relative, spread);
    nn_tensor_free(n.E);
    for (int w = 0; w < 3; w++) nn_tensor_free(n.W[w]);
    nn_model_free(m);
    nn_graph_release();
    return ok && pics == 0 ? 0 : 1;
}
