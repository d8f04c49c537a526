/* src/net/head_loss.c — a linear head and its cross-entropy as one op, chunk by chunk.
 *
 * A language model's last step turns every position's vector x (K floats) into one score per
 * word of the vocabulary (N of them) and scores them against the next word:
 *   L = nn_cross_entropy_loss(nn_linear(x, W, b), labels)
 * For the benchmark GPT (bench/) that is 2048 rows of 2502 logits: 20 MB written by the
 * product, read by the loss, which writes 20 MB of saved exponentials; backward reads those
 * and writes 20 MB of logit gradients, which two more products and the bias sum read again. Each pass is
 * cheap arithmetic on memory far bigger than the caches, so the memory is what it costs.
 *
 * Here the rows go through in chunks of CHUNK_ROWS. For each chunk: its logits (512 x 2502
 * floats, 5 MB, inside a last-level cache) in one scratch buffer, the loss of each row, then
 * at once that chunk's share of every gradient, while its logits are still in the cache:
 *   z   = x_c W + b                      (rows, N)     the chunk's logits
 *   L  += sum_r log s_r - (z_r[y_r] - m_r)             as in nn_cross_entropy_loss
 *   dz  = (softmax(z) - onehot(y)) / M   (rows, N)     in place of z
 *   dx_c = dz W^T;  dW += x_c^T dz;  db += sum_r dz_r
 * The gradients are thus made in the forward pass, for an upstream gradient of 1; backward
 * only scales them by the loss's real upstream gradient (1 when it is the loss). Forward
 * keeps dx (M, K), dW and db: about a megabyte for the GPT, against the 60 MB above. The work
 * is the same products as the unfused ops. The logits are usually the same numbers (each
 * element's sum runs in the same order, unless a chunk's smaller product takes another of the
 * GEMM's paths), and so the loss; the gradients agree up to rounding (dW's rows are added in
 * chunks). With the tied head of a GPT, W is the token table E (N, K) and the
 * products read it transposed, with no copy.
 *
 * What it buys (bench/bench_head_loss.c, 2048 rows, V = 2502, AVX-512, two threads): the
 * memory of head and loss 60 -> 6 MiB; the GPT's tied head (K = 64) as fast or a little
 * faster, the char model's (K = 128) 10-16% slower. Each chunk's products pack W afresh
 * (the unfused ones pack it once), which costs about what the saved passes over memory gain,
 * the more so the wider K; chunks of 256 lost more to packing, larger ones keep more memory.
 * The GPT's benchmark step uses it (nn_gpt_loss): its peak memory 138 -> 87 MB. */
#include "internal.h"
#include "core/vmath.h"
#include "nn/net/loss.h"

enum { CHUNK_ROWS = 512 };

/* What forward keeps for backward: the gradients for an upstream gradient of 1 (NULL where
 * that input wants none). dw is always (N, K), one row per class: dz^T x_c, a product with
 * many rows that the GEMM runs well chunk after chunk, where dW (K, N) += x_c^T dz, with K
 * rows only, made the char model's head 40% slower in chunks of 256. backward turns it
 * round for a w (K, N). */
typedef struct {
    float *dx, *dw, *db;
    int K, N;
    bool w_is_nk;   /* w itself is (N, K) (transpose_w): dw adds in as it is */
} head_grads;

/* t's gradient = (or +=) g * d */
static void add_scaled(nn_tensor *t, const float *d, float g) {
    bool set = nn_grad_take_unset(t);
    float *restrict out = t->grad;
#pragma omp parallel for simd schedule(static) if ((long)t->size > PARALLEL_MIN_STREAM)
    for (size_t i = 0; i < t->size; i++) out[i] = set ? g * d[i] : out[i] + g * d[i];
}

/* w's gradient (K, N) = (or +=) g * d^T, d (N, K); in tiles, so both sides stay in the cache */
static void add_scaled_transposed(nn_tensor *w, const float *d, float g, int K, int N) {
    bool set = nn_grad_take_unset(w);
    enum { TILE = 32 };
#pragma omp parallel for schedule(static) if ((long)K * N > PARALLEL_MIN_STREAM)
    for (int k0 = 0; k0 < K; k0 += TILE)
        for (int j0 = 0; j0 < N; j0 += TILE)
            for (int k = k0; k < K && k < k0 + TILE; k++) {
                float *out = w->grad + (size_t)k * N;
                for (int j = j0; j < N && j < j0 + TILE; j++) {
                    float v = g * d[(size_t)j * K + k];
                    out[j] = set ? v : out[j] + v;
                }
            }
}

static void head_loss_backward(nn_node *n) {
    const head_grads *s = n->extra;
    float g = n->out->grad[0];
    nn_tensor *w = n->in[1];
    if (s->dx && WANTS_GRAD(n->in[0])) add_scaled(n->in[0], s->dx, g);
    if (s->dw && WANTS_GRAD(w) && s->w_is_nk) add_scaled(w, s->dw, g);
    else if (s->dw && WANTS_GRAD(w)) add_scaled_transposed(w, s->dw, g, s->K, s->N);
    if (s->db && WANTS_GRAD(n->in[2])) add_scaled(n->in[2], s->db, g);
}

/* One chunk's rows of z (rows, N) become their loss (into row_loss) and, with dz, their
 * gradient (softmax - onehot) * inv_m, in place. */
static void chunk_loss(float *z, const int *labels, int rows, int N, float inv_m, bool dz,
                       float *row_loss) {
#pragma omp parallel for schedule(static) if ((long)rows * N > PARALLEL_MIN_ELEMENTS)
    for (int r = 0; r < rows; r++) {
        float *zr = z + (size_t)r * N;
        int y = labels[r];
        float m = nn_max_floats(zr, (size_t)N), zy = zr[y];
        float s = nn_vexp_sum(zr, m, zr, (size_t)N);   /* e = e^(z - m) in place, its sum */
        row_loss[r] = logf(s) - (zy - m);
        if (!dz) continue;
        float scale = inv_m / s;
        for (int c = 0; c < N; c++) zr[c] *= scale;
        zr[y] -= inv_m;
    }
}

nn_tensor *nn_linear_cross_entropy(nn_tensor *x, nn_tensor *w, bool transpose_w, nn_tensor *b,
                                   const int *labels) {
    const char *op = "nn_linear_cross_entropy";
    NN_REQUIRE(x, op);
    NN_REQUIRE(w, op);
    NN_REQUIRE(labels, op);
    if (!nn_require_live(b, op, "b")) return NULL;
    int K = x->ndim >= 1 ? x->shape[x->ndim - 1] : 0;
    int wk = w->ndim == 2 ? w->shape[transpose_w ? 1 : 0] : -1;
    if (x->ndim < 2 || wk != K) {
        nn_fail(op, transpose_w ? "x is (..., K) with one row per position, w is (N, K): one "
                                  "row per class (a tied token table)"
                                : "x is (..., K) with one row per position, w is (K, N)",
                "x %s and w %s do not fit", SHAPE(x), SHAPE(w));
        return NULL;
    }
    int N = w->shape[transpose_w ? 0 : 1];
    if (b && (b->ndim != 1 || b->shape[0] != N)) {
        nn_fail(op, "the bias b has one number per class: shape (N), or NULL",
                "b %s for w %s (N = %d)", SHAPE(b), SHAPE(w), N);
        return NULL;
    }
    if (x->size / (size_t)K > INT32_MAX) {
        nn_fail(op, "at most 2^31 - 1 rows", "x %s has too many rows", SHAPE(x));
        return NULL;
    }
    int M = (int)(x->size / (size_t)K);
    if (!nn_labels_in_range(op, labels, M, N, "w", w)) return NULL;

    nn_node *node;
    nn_tensor *out = nn_record_filled(op, head_loss_backward, 0, NULL, x, w, b, &node);
    head_grads *g = NULL;
    if (node) {
        node->sets_grads = true;   /* backward writes or adds each gradient itself */
        g = nn_arena_alloc(sizeof *g);
        *g = (head_grads){.K = K, .N = N, .w_is_nk = transpose_w};
        if (WANTS_GRAD(x)) g->dx = nn_arena_alloc_unzeroed(x->size * sizeof(float));
        if (WANTS_GRAD(w)) g->dw = nn_arena_alloc(w->size * sizeof(float));   /* added to */
        if (WANTS_GRAD(b)) g->db = nn_arena_alloc((size_t)N * sizeof(float));
        node->extra = g;
    }
    bool grads = g && (g->dx || g->dw || g->db);
    int chunk = M < CHUNK_ROWS ? M : CHUNK_ROWS;
    float *z = nn_arena_alloc_unzeroed((size_t)chunk * N * sizeof(float));
    float *row_loss = nn_arena_alloc_unzeroed((size_t)M * sizeof(float));
    float inv_m = 1.0f / (float)M;
    for (int r0 = 0; r0 < M; r0 += chunk) {
        int rows = M - r0 < chunk ? M - r0 : chunk;
        const float *xc = x->data + (size_t)r0 * K;
        /* z (rows, N) = x_c W + b, or x_c W^T + b with W (N, K) */
        nn_kernel_gemm_set(false, transpose_w, xc, w->data, z, rows, N, K, b ? b->data : NULL);
        chunk_loss(z, labels + r0, rows, N, inv_m, grads, row_loss + r0);
        if (!grads) continue;
        if (g->dx)   /* dx_c (rows, K) = dz (rows, N) W^T, or dz W with W (N, K) */
            nn_kernel_gemm_set(false, !transpose_w, z, w->data, g->dx + (size_t)r0 * K, rows, K,
                               N, NULL);
        if (g->dw)   /* dW^T (N, K) += dz^T x_c */
            nn_kernel_gemm_tn(z, xc, g->dw, N, rows, K);
        if (g->db) nn_add_column_sums(g->db, z, rows, N);
    }
    double total = 0.0;   /* in row order: the same sum on any number of threads */
    for (int r = 0; r < M; r++) total += (double)row_loss[r];
    out->data[0] = (float)(total / M);
    return out;
}
