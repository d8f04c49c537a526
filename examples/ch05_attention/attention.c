/* examples/ch05_attention/attention.c — attention by hand (注意力), then why 1/sqrt(d), then
 * two heads (多头注意力) and the causal mask.
 *
 * The tutorial (简单而强大的Transformer): add a 位置编码 (position encoding) to each word vector;
 * multiply by three trained matrices to get q, k, v; the 点积 (dot product) of the first word's
 * q with every k is how similar (相似度) the words are; weight the v's by it and add them up:
 * A1, "第一个词视角下" — the whole sentence seen from the first word. In formulas, for T words
 * of d numbers each (one word per row):
 *
 *   x_j = e_j + PE[j]                          (T, d)  word vector + position encoding
 *   q_j = x_j Wq,  k_j = x_j Wk,  v_j = x_j Wv  (T, d)  Wq, Wk, Wv: (d, d)
 *   s_1j = q_1 · k_j / sqrt(d)                 (T)     similarity of word 1 with word j
 *   a_1j = e^(s_1j) / sum_l e^(s_1l)           (T)     softmax: weights >= 0 that sum to 1
 *   A1   = sum_j a_1j v_j                      (d)     the first row of softmax(Q K^T/sqrt(d)) V
 *
 * "这里省略了归一化操作": the tutorial skips the normalisation. There are two: the softmax makes
 * the weights positive and sum to 1 (so A1 is an average of the v's, not a sum that grows with
 * the sentence), and the division by sqrt(d) keeps the scores from growing with d. Why the
 * second: q · k is a sum of d products; with entries of unit size each product has variance 1,
 * so the sum has variance d and spread (std) sqrt(d). For d = 64 the scores differ by 8 and
 * more, the softmax puts most of the weight on one word (it saturates), and its gradient
 *   d a_j / d s_l = a_j (δ_jl - a_l)           (zero when a is one-hot)
 * shrinks: the words that lost get almost no learning signal, and the winner's is small too.
 * Dividing by sqrt(d) gives the scores a spread of 1 whatever d is.
 * Section 2 measures it: for d = 4, 16, 64, 256, random q and 16 random keys per row, the
 * std of q · k, the largest weight per row (1/16 = even, 1 = saturated), the entropy
 * -sum a ln a (ln 16 = 2.77 even, 0 saturated) and the norm of the gradient that passes back
 * through the softmax, |dL/dz| for its input z (z = s, or s / sqrt(d)) and L = sum_j g_j a_j
 * with a random g (through nn_backward), without and with the 1/sqrt(d).
 *
 * "只计算一次灵活性太低": several groups (heads) of q, k, v, each of d/H numbers, attend
 * separately and their outputs are concatenated: 多头注意力 (multi-head attention). Here
 * H = 2 heads of 2 numbers: the same Wq, Wk, Wv cut into column halves. The by-hand result is
 * checked against nn_attention on (H, T, d/H) tensors and against nn_attention_layer (one
 * fused Wqkv, then Wo, here set to the identity). Last, causal=true (a word may only look
 * at itself and the words before it, as in a GPT): the first word only sees itself, A1 = v_1.
 *
 *   attention [--quick | --full] [--rows N] [--seed N] [--out DIR]        (--help lists them)
 *   --quick  200 rows per d for the statistics (the tests; well under a second)
 *   default  2000 rows per d (a fraction of a second)
 *   --full   20000 rows per d (a few seconds)
 * Writes DIR/ch05_attention_weights.png (the 4 x 4 weights, full | causal) and
 * DIR/ch05_attention_saturation.png (12 rows of 16 weights at d = 64, unscaled | scaled).
 * Exits 1 if a by-hand result and the library's disagree.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T 4         /* words in the sentence */
#define C 4         /* numbers per word (the model dim) */
#define H 2         /* heads in section 3 */
#define KEYS 16     /* keys per row in section 2 */
#define PIC_ROWS 12 /* rows drawn in the saturation picture */
#define TOL 1e-5

static const char *const words[T] = {"猫", "坐", "在", "垫子上"};
/* Hand-set word vectors e (T, C): any numbers of unit size do; these are made up. */
static const float embed[T][C] = {
    {1.0f, 0.2f, -0.5f, 0.3f}, {-0.3f, 0.9f, 0.4f, -0.2f},
    {0.1f, -0.4f, 0.8f, 0.5f}, {0.7f, 0.1f, -0.2f, 0.9f},
};

/* Print a word padded to `cols` columns (a CJK character is 3 bytes wide in UTF-8, 2 on screen). */
static void print_word(const char *w, int cols) {
    int width = 0;
    for (const unsigned char *p = (const unsigned char *)w; *p; p++)
        if ((*p & 0xc0) != 0x80) width += *p >= 0xe0 ? 2 : 1;
    printf("%s%*s", w, cols > width ? cols - width : 0, "");
}

static void print_vec(const float *v, int n) {
    printf("[");
    for (int i = 0; i < n; i++) printf("%6.2f", v[i]);
    printf(" ]");
}

static double max_diff(const float *a, const float *b, int n) {
    double m = 0.0;
    for (int i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* One query against `seen` keys, by hand. q: d numbers; key j at K + j*stride (d numbers),
 * value j at V + j*stride (dv numbers); the stride lets a head read its columns of a (T, C)
 * matrix. Writes the raw dot products dot[j], the weights a[j] and out (dv). */
static void attend_row(const float *q, const float *K, const float *V, int seen, int d, int dv,
                       int stride, float *dot, float *a, float *out) {
    float scale = 1.0f / sqrtf((float)d), top = -INFINITY, sum = 0.0f;
    for (int j = 0; j < seen; j++) {                   /* 点积 q · k_j */
        dot[j] = 0.0f;
        for (int i = 0; i < d; i++) dot[j] += q[i] * K[j * stride + i];
        top = fmaxf(top, dot[j] * scale);
    }
    for (int j = 0; j < seen; j++) sum += a[j] = expf(dot[j] * scale - top); /* softmax */
    for (int j = 0; j < seen; j++) a[j] /= sum;
    for (int i = 0; i < dv; i++) out[i] = 0.0f;        /* A = sum_j a_j v_j */
    for (int j = 0; j < seen; j++)
        for (int i = 0; i < dv; i++) out[i] += a[j] * V[j * stride + i];
}

/* Two (rows, cols) matrices of weights side by side with a white column between, as a PNG. */
static int save_pair(const char *dir, const char *file, const float *left, const float *right,
                     int rows, int cols, int zoom) {
    int w = 2 * cols + 1;
    nn_tensor *m = nn_zeros(NN_SHAPE(rows, w));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            m->data[r * w + c] = left[r * cols + c];
            m->data[r * w + cols + 1 + c] = right[r * cols + c];
        }
    nn_tensor *img = nn_heatmap(m, 0.0f, 1.0f);   /* white 0 .. dark red 1 */
    nn_tensor *big = img ? nn_image_scale_nearest(img, zoom) : NULL;
    int rc = big ? nn_image_save_png_in(dir, file, big) : -1;
    nn_tensor_free(big), nn_tensor_free(img), nn_tensor_free(m);
    return rc;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    int rows = 2000;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "200 rows per d for the statistics (for the tests)"),
        NN_OPT_FLAG("--full", &full, "20000 rows per d"),
        NN_OPT_INT("--rows", &rows, 10, 1000000, "random query rows per d in section 2"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the PNG pictures (made if missing)"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Attention by hand on a four-word sentence (q, k, v, dot products, softmax,\n"
                     "A1), checked against nn_attention; why scores are divided by sqrt(d); two\n"
                     "heads concatenated; the causal mask.", opts, nopt);
    if (!nn_option_given(opts, nopt, "--rows")) rows = quick ? 200 : full ? 20000 : rows;
    printf("chapter 5: attention by hand (注意力), scaling, heads (多头注意力), the causal mask\n");
    printf("seed %llu\n\n", (unsigned long long)seed);
    nn_seed(seed);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    bool ok = true;

    /* ---- 1. one word's view of the sentence: A1 ------------------------------------------ */
    nn_tensor *pe = nn_sinusoidal_positions(0, T, C);            /* (T, C) graph tensor */
    float x[T][C];
    printf("1. 注意力 by hand: the sentence 猫 坐 在 垫子上, T = %d words, d = %d numbers each\n"
           "   x = e + PE: 词向量 (word vector, hand-set) + 位置编码 (position encoding,\n"
           "   sinusoidal: PE[t] = [sin t, cos t, sin(t/100), cos(t/100)])\n", T, C);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < C; i++) x[t][i] = embed[t][i] + pe->data[t * C + i];
        printf("   "), print_word(words[t], 8), printf("e "), print_vec(embed[t], C);
        printf("  PE "), print_vec(pe->data + t * C, C), printf("  x "), print_vec(x[t], C);
        printf("\n");
    }
    nn_graph_clear();
    nn_tensor *Wq = nn_zeros(NN_SHAPE(C, C)), *Wk = nn_zeros(NN_SHAPE(C, C)),
              *Wv = nn_zeros(NN_SHAPE(C, C));                    /* (C, C) each, owned */
    nn_tensor *W3[3] = {Wq, Wk, Wv};
    const char *wname[3] = {"Wq", "Wk", "Wv"};
    printf("   Wq, Wk, Wv (%d x %d), \"trained\" matrices; here random, normal(0, 0.6), seeded:\n", C, C);
    for (int w = 0; w < 3; w++) nn_fill_normal(W3[w], 0.0f, 0.6f, &rng);
    for (int r = 0; r < C; r++) {
        for (int w = 0; w < 3; w++)
            printf("   %s ", r == 0 ? wname[w] : "  "), print_vec(W3[w]->data + r * C, C);
        printf("\n");
    }
    float q[T][C], k[T][C], v[T][C];                             /* (T, C) each */
    for (int t = 0; t < T; t++)
        for (int j = 0; j < C; j++) {
            q[t][j] = k[t][j] = v[t][j] = 0.0f;
            for (int i = 0; i < C; i++) {
                q[t][j] += x[t][i] * Wq->data[i * C + j];
                k[t][j] += x[t][i] * Wk->data[i * C + j];
                v[t][j] += x[t][i] * Wv->data[i * C + j];
            }
        }
    printf("   q = x Wq, k = x Wk, v = x Wv (one row per word):\n");
    for (int t = 0; t < T; t++) {
        printf("   "), print_word(words[t], 8);
        printf("q "), print_vec(q[t], C), printf("  k "), print_vec(k[t], C);
        printf("  v "), print_vec(v[t], C), printf("\n");
    }
    float dot[T], a1[T], A1[C];
    attend_row(q[0], &k[0][0], &v[0][0], T, C, C, C, dot, a1, A1);
    printf("   第一个词 %s 的视角 (from the first word): 点积 q1·kj = 相似度 (similarity), "
           "scaled by 1/sqrt(%d), softmax -> a1j\n", words[0], C);
    for (int j = 0; j < T; j++) {
        printf("     j = %d ", j + 1), print_word(words[j], 8);
        printf("q1·k%d = %6.3f   / sqrt(d) = %6.3f   a1%d = %.3f\n", j + 1, dot[j],
               dot[j] / sqrtf((float)C), j + 1, a1[j]);
    }
    printf("   A1 = sum_j a1j v_j = "), print_vec(A1, C);
    printf("   (weights sum to 1: an average of the v's)\n");

    /* The library: the same products with nn_matmul, the same attention with nn_attention. */
    nn_tensor *X = nn_from_array(&x[0][0], NN_SHAPE(T, C));      /* (T, C), owned */
    nn_tensor *Q = nn_matmul(X, Wq), *K = nn_matmul(X, Wk), *V = nn_matmul(X, Wv);
    nn_tensor *weights;
    nn_tensor *Y = nn_attention(Q, K, V, false, &weights);       /* (T, C); weights (T, T) */
    double d_qkv = fmax(max_diff(Q->data, &q[0][0], T * C),
                        fmax(max_diff(K->data, &k[0][0], T * C), max_diff(V->data, &v[0][0], T * C)));
    double d_a1 = fmax(max_diff(Y->data, A1, C), max_diff(weights->data, a1, T));
    bool a1_ok = d_a1 < TOL && d_qkv < TOL;
    ok = ok && a1_ok;
    printf("   nn_attention(q, k, v) row 1 = "), print_vec(Y->data, C);
    printf("   max |by hand - library| = %.1e (q, k, v: %.1e)  %s\n", d_a1, d_qkv,
           a1_ok ? "same" : "DIFFERENT");
    printf("   every word's view (the weights a_ij from nn_attention, row i = word i looking):\n");
    float w_full[T * T];
    memcpy(w_full, weights->data, sizeof w_full);
    for (int i = 0; i < T; i++) {
        printf("     "), print_word(words[i], 8);
        for (int j = 0; j < T; j++) printf(" %.3f", w_full[i * T + j]);
        printf("\n");
    }
    nn_graph_clear();

    /* ---- 2. why divide by sqrt(d) ------------------------------------------------------- */
    static const int dims[] = {4, 16, 64, 256};
    enum { ND = sizeof dims / sizeof dims[0] };
    printf("\n2. 归一化 (normalisation): why q·k is divided by sqrt(d). %d rows per d, each a random q\n"
           "   against %d random keys, entries normal(0, 1). Even weights: max a = 1/%d = %.3f, "
           "entropy ln %d = %.2f\n", rows, KEYS, KEYS, 1.0 / KEYS, KEYS, log((double)KEYS));
    printf("      d  std(q·k) sqrt(d) |  unscaled: max a  entropy  |dL/dz| |  /sqrt(d): max a  entropy  |dL/dz|\n");
    float *s = malloc(sizeof(float) * (size_t)rows * KEYS), *qv = malloc(sizeof(float) * 256),
          *kv = malloc(sizeof(float) * 256);
    float pic[2][PIC_ROWS * KEYS];
    nn_tensor *G = nn_zeros(NN_SHAPE(rows, KEYS));               /* upstream gradient g, owned */
    nn_fill_normal(G, 0.0f, 1.0f, &rng);
    double sat[ND][2], grad[ND][2], stdv[ND];
    for (int di = 0; di < ND; di++) {
        int d = dims[di];
        double sum = 0.0, sum2 = 0.0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < d; i++) qv[i] = nn_rng_normal(&rng);
            for (int j = 0; j < KEYS; j++) {
                float acc = 0.0f;
                for (int i = 0; i < d; i++) kv[i] = nn_rng_normal(&rng), acc += qv[i] * kv[i];
                s[r * KEYS + j] = acc, sum += acc, sum2 += (double)acc * acc;
            }
        }
        double n = (double)rows * KEYS, mean = sum / n;
        stdv[di] = sqrt(sum2 / n - mean * mean);
        double ent[2];
        for (int scaled = 0; scaled < 2; scaled++) {
            /* z = the softmax's input: s, or s / sqrt(d). L = sum g * softmax(z); nn_backward
             * gives dL/dz_l = sum_j g_j a_j (δ_jl - a_l): what passes back through the softmax
             * (before the 1/sqrt(d), which q and k's own size sqrt(d) makes up for). */
            float scale = scaled ? 1.0f / sqrtf((float)d) : 1.0f;
            nn_tensor *Z = nn_zeros(NN_SHAPE(rows, KEYS));                     /* owned */
            for (size_t i = 0; i < Z->size; i++) Z->data[i] = s[i] * scale;
            nn_requires_grad(Z);
            nn_tensor *Aw = nn_softmax(Z);                                     /* (rows, KEYS) */
            nn_backward(nn_sum(nn_mul(Aw, G)));
            double top = 0.0, e = 0.0, g = 0.0;
            for (int r = 0; r < rows; r++) {
                float best = 0.0f, g2 = 0.0f;
                for (int j = 0; j < KEYS; j++) {
                    float aj = Aw->data[r * KEYS + j], gj = Z->grad[r * KEYS + j];
                    best = fmaxf(best, aj), g2 += gj * gj;
                    if (aj > 0.0f) e -= aj * log(aj);
                }
                top += best, g += sqrt(g2);
            }
            sat[di][scaled] = top / rows, ent[scaled] = e / rows, grad[di][scaled] = g / rows;
            if (d == 64) memcpy(pic[scaled], Aw->data, sizeof pic[scaled]);
            nn_graph_clear();
            nn_tensor_free(Z);
        }
        printf("   %4d  %7.2f  %6.2f  |        %6.3f   %6.3f   %6.4f |         %6.3f   %6.3f   %6.4f\n",
               d, stdv[di], sqrt((double)d), sat[di][0], ent[0], grad[di][0], sat[di][1], ent[1], grad[di][1]);
    }
    printf("   unscaled, the spread grows as sqrt(d): the softmax saturates (max a -> 1, entropy -> 0)\n"
           "   and lets less and less gradient through (|dL/dz| at d = 256: %.1fx smaller than scaled);\n"
           "   divided by sqrt(d), the spread is 1 and the rows look alike for every d\n",
           grad[ND - 1][1] / grad[ND - 1][0]);
    free(s), free(qv), free(kv);
    nn_tensor_free(G);

    /* ---- 3. two heads: 多头注意力 ---------------------------------------------------------- */
    int dh = C / H;
    float A1_heads[C], ah[H][T];
    printf("\n3. 多头注意力 (multi-head attention): H = %d heads of d/H = %d numbers; head h uses\n"
           "   columns %d h .. %d h + %d of Wq, Wk, Wv (so of q, k, v) and divides by sqrt(%d)\n",
           H, dh, dh, dh, dh - 1, dh);
    for (int h = 0; h < H; h++) {
        attend_row(&q[0][h * dh], &k[0][h * dh], &v[0][h * dh], T, dh, dh, C, dot, ah[h],
                   A1_heads + h * dh);
        printf("   head %d: a1j =", h + 1);
        for (int j = 0; j < T; j++) printf(" %.3f", ah[h][j]);
        printf("   A1 part "), print_vec(A1_heads + h * dh, dh), printf("\n");
    }
    printf("   A1 = [head 1 | head 2] = "), print_vec(A1_heads, C);
    printf("   (one head of %d gave ", C), print_vec(A1, C), printf(")\n");
    /* the library, twice: (T, C) -> (T, H, dh) -> (H, T, dh) -> nn_attention -> back to (T, C) */
    nn_tensor *qh = nn_permute(nn_reshape(nn_matmul(X, Wq), NN_SHAPE(T, H, dh)), NN_AXES(1, 0, 2));
    nn_tensor *kh = nn_permute(nn_reshape(nn_matmul(X, Wk), NN_SHAPE(T, H, dh)), NN_AXES(1, 0, 2));
    nn_tensor *vh = nn_permute(nn_reshape(nn_matmul(X, Wv), NN_SHAPE(T, H, dh)), NN_AXES(1, 0, 2));
    nn_tensor *yh = nn_reshape(nn_permute(nn_attention(qh, kh, vh, false, NULL), NN_AXES(1, 0, 2)),
                               NN_SHAPE(T, C));                  /* (T, C): heads concatenated */
    double d_heads = max_diff(yh->data, A1_heads, C);
    /* nn_attention_layer: Wqkv = [Wq | Wk | Wv] (C, 3C), biases 0, Wo = identity. */
    nn_model *m = nn_model_new();
    nn_attention_layer *layer = nn_attention_layer_new(m, "attn", C, H, false);
    for (int i = 0; i < C; i++)
        for (int j = 0; j < C; j++) {
            for (int w = 0; w < 3; w++)      /* columns: Wq, then Wk, then Wv */
                layer->qkv->W->data[i * 3 * C + w * C + j] = W3[w]->data[i * C + j];
            layer->out->W->data[i * C + j] = i == j ? 1.0f : 0.0f;
        }
    nn_tensor *x1 = nn_reshape(X, NN_SHAPE(1, T, C));                /* a batch of one */
    nn_tensor *yl = nn_attention_layer_forward(layer, x1);           /* (1, T, C) */
    double d_layer = fmax(max_diff(yl->data, A1_heads, C), max_diff(yl->data, yh->data, T * C));
    bool heads_ok = d_heads < TOL && d_layer < TOL;
    ok = ok && heads_ok;
    printf("   nn_attention on (H, T, d/H), concatenated: row 1 "), print_vec(yh->data, C);
    printf("  max diff %.1e\n", d_heads);
    printf("   nn_attention_layer (fused Wqkv %d x %d, Wo = I):   row 1 ", C, 3 * C);
    print_vec(yl->data, C);
    printf("  max diff %.1e  %s\n", d_layer, heads_ok ? "same" : "DIFFERENT");
    nn_graph_clear();
    nn_model_free(m);

    /* ---- 4. the causal mask -------------------------------------------------------------- */
    Q = nn_matmul(X, Wq), K = nn_matmul(X, Wk), V = nn_matmul(X, Wv);
    Y = nn_attention(Q, K, V, true, &weights);                   /* (T, C); weights (T, T) */
    printf("\n4. causal = true (a GPT's mask): word i sees words 1 .. i only (s_ij = -inf for j > i)\n");
    float w_causal[T * T];
    memcpy(w_causal, weights->data, sizeof w_causal);
    for (int i = 0; i < T; i++) {
        printf("     "), print_word(words[i], 8);
        for (int j = 0; j < T; j++) printf(" %.3f", w_causal[i * T + j]);
        printf("\n");
    }
    double d_causal = max_diff(Y->data, &v[0][0], C);
    for (int j = 1; j < T; j++) d_causal = fmax(d_causal, fabs(w_causal[j]));
    bool causal_ok = d_causal < TOL && fabs(w_causal[0] - 1.0f) < TOL;
    ok = ok && causal_ok;
    printf("   the first word only sees itself: a11 = %.3f, A1 = v1 (max diff %.1e)  %s\n",
           w_causal[0], d_causal, causal_ok ? "yes" : "NO");
    nn_graph_clear();

    int pics = save_pair(out_dir, "ch05_attention_weights.png", w_full, w_causal, T, T, 40);
    pics |= save_pair(out_dir, "ch05_attention_saturation.png", pic[0], pic[1], PIC_ROWS, KEYS, 16);
    printf("   (pictures: weights full | causal; 12 rows at d = 64, unscaled | scaled)\n");

    printf("result: a1_matches=%d max_diff=%.1e std_d64=%.2f saturation_d64_unscaled=%.3f "
           "saturation_d64_scaled=%.3f grad_d64_unscaled=%.4f grad_d64_scaled=%.4f heads=%d "
           "heads_match=%d causal_first_self=%d\n", a1_ok, d_a1, stdv[2], sat[2][0], sat[2][1],
           grad[2][0], grad[2][1], H, heads_ok, causal_ok);
    nn_tensor_free(X), nn_tensor_free(Wq), nn_tensor_free(Wk), nn_tensor_free(Wv);
    nn_graph_release();
    return ok && pics == 0 ? 0 : 1;
}
