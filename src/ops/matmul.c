/* src/ops/matmul.c — matrix multiply, 2-D and batched.
 *
 *   (M, K) @ (K, N)       -> (M, N)
 *   (B, M, K) @ (B, K, N) -> (B, M, N)    one product per batch item
 *   (B, M, K) @ (K, N)    -> (B, M, N)    the same B: rows of all items are one (B*M, K) matrix
 *
 * Forward  C = A B.   Backward  dA += dC B^T,   dB += A^T dC.
 *
 * nn_linear(x, W, b) = x W + b in one op: the GEMM starts each tile of the output from the
 * bias (nn_kernel_gemm_set), so the product's output is written once, where x W then + b
 * would write it, read it and write a second tensor of the same size (for a char model's
 * head, 2048 x 2502 floats each way, forward and backward).
 *
 * All three products run on the blocked GEMM (src/core/gemm.c): forward on nn_kernel_gemm_nn,
 * backward's dC B^T on _nt and A^T dC on _tn, which read the transposed operand in place (the
 * GEMM's packing absorbs the layout, so nothing is copied). The plain loops
 * nn_kernel_matmul_nn/_nt/_tn of src/core/kernels.c are the readable reference;
 * nn_set_matmul_reference(true) selects them and tests/test_gemm.c checks that both agree.
 */
#include "internal.h"
#include "nn/ops/matmul.h"

typedef struct { int batch, M, K, N; bool shared_b; } matmul_dims;

static void matmul_backward(nn_node *n) {
    const matmul_dims *d = n->extra;
    nn_tensor *a = n->in[0], *b = n->in[1];
    const float *g = n->out->grad;
    size_t sa = (size_t)d->M * d->K, sb = d->shared_b ? 0 : (size_t)d->K * d->N,
           sc = (size_t)d->M * d->N;
    /* A gradient not yet written (nn_grad_take_unset) is set by the products, not added to;
     * for x @ x the second product then adds */
    bool set_a = WANTS_GRAD(a) && nn_grad_take_unset(a);
    for (int t = 0; t < d->batch; t++) /* dA (M,K) += dC (M,N) @ B^T, B stored (K,N) */
        if (WANTS_GRAD(a))
            nn_kernel_gemm_any(set_a, false, true, g + t * sc, b->data + t * sb,
                               a->grad + t * sa, d->M, d->K, d->N);
    /* with a shared B, every item adds into the one dB: only the first may set */
    bool set_b = WANTS_GRAD(b) && nn_grad_take_unset(b);
    for (int t = 0; t < d->batch; t++) /* dB (K,N) += A^T @ dC (M,N), A stored (M,K) */
        if (WANTS_GRAD(b))
            nn_kernel_gemm_any(set_b && (t == 0 || !d->shared_b), true, false, a->data + t * sa,
                               g + t * sc, b->grad + t * sb, d->K, d->N, d->M);
}

nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b) {
    NN_REQUIRE(a, "nn_matmul");
    NN_REQUIRE(b, "nn_matmul");
    matmul_dims d = {1, 0, 0, 0, false};
    bool ok = false;
    if (a->ndim == 2 && b->ndim == 2) {
        d = (matmul_dims){1, a->shape[0], a->shape[1], b->shape[1], false};
        ok = a->shape[1] == b->shape[0];
    } else if (a->ndim == 3 && b->ndim == 3) {
        d = (matmul_dims){a->shape[0], a->shape[1], a->shape[2], b->shape[2], false};
        ok = a->shape[2] == b->shape[1] && a->shape[0] == b->shape[0];
    } else if (a->ndim == 3 && b->ndim == 2) {
        /* every item shares B: treat the items' rows as one tall matrix */
        d = (matmul_dims){1, a->shape[0] * a->shape[1], a->shape[2], b->shape[1], true};
        ok = a->shape[2] == b->shape[0];
    } else {
        nn_fail("nn_matmul", "use 2-D (M,K)@(K,N), or 3-D (B,M,K)@(B,K,N) or (B,M,K)@(K,N); "
                "nn_reshape a vector to (1,K) or (K,1)",
                "unsupported dims: %s @ %s", SHAPE(a), SHAPE(b));
        return NULL;
    }
    if (!ok) {
        nn_fail("nn_matmul", "A @ B needs A's last dim == B's first matrix dim (and equal batch "
                "sizes); maybe one side needs nn_transpose",
                "shapes %s and %s do not match", SHAPE(a), SHAPE(b));
        return NULL;
    }
    int shape[3];
    int nd = a->ndim;
    if (nd == 2) { shape[0] = d.M; shape[1] = d.N; }
    else { shape[0] = a->shape[0]; shape[1] = a->shape[1]; shape[2] = d.N; }
    nn_node *node;   /* the GEMM sets every element (C = A B): no zeroing first */
    nn_tensor *out = nn_record_filled("nn_matmul", matmul_backward, nd, shape, a, b, NULL, &node);
    if (node) {
        node->sets_grads = true;
        matmul_dims *saved = nn_arena_alloc(sizeof *saved);
        *saved = d;
        node->extra = saved;
    }
    size_t sa = (size_t)d.M * d.K, sb = (size_t)d.K * d.N, sc = (size_t)d.M * d.N;
    for (int t = 0; t < d.batch; t++)
        nn_kernel_gemm_set(false, false, a->data + t * sa, b->data + t * sb, out->data + t * sc,
                           d.M, d.N, d.K, NULL);
    return out;
}

/* ---- linear: y = x W + b -------------------------------------------------------------------
 *   x (..., K) seen as (M, K), W (K, N), b (N) -> y (..., N)
 *   dx += dy W^T,   dW += x^T dy,   db += the column sums of dy (one per output) */
static void linear_backward(nn_node *n) {
    nn_tensor *x = n->in[0], *w = n->in[1], *b = n->in[2];
    int N = w->shape[1], K = w->shape[0], M = (int)(x->size / (size_t)K);
    const float *g = n->out->grad;
    if (WANTS_GRAD(x)) /* (M,N) @ (N,K); set if x's gradient is not yet written */
        nn_kernel_gemm_any(nn_grad_take_unset(x), false, true, g, w->data, x->grad, M, K, N);
    if (WANTS_GRAD(w)) /* (K,M) @ (M,N) */
        nn_kernel_gemm_any(nn_grad_take_unset(w), true, false, x->data, g, w->grad, K, N, M);
    if (WANTS_GRAD(b)) {   /* a sum over rows, added: zeroed first if b is an unset intermediate */
        nn_grad_zero_if_unset(b);
        nn_add_column_sums(b->grad, g, M, N);
    }
}

void nn_add_column_sums(float *sums, const float *g, int M, int N) {
    /* row by row, so that each row's sums vectorise; the threads take blocks of columns,
     * each summed over the rows in order, so the bits do not depend on their number. One
     * block per thread (whole cache lines): each thread streams through g once, where
     * blocks of 256 columns made ten strided passes over the char model's 2048 x 2502 logit
     * gradient (4 ms of an 84 ms step on one thread). */
    bool team = (long)M * N > PARALLEL_MIN_ELEMENTS && N > 64;
    int cols = team ? (N + nn_max_threads() - 1) / nn_max_threads() : N;
    cols = (cols + 15) / 16 * 16;
#pragma omp parallel for schedule(static) if (team)
    for (int j0 = 0; j0 < N; j0 += cols) {
        int j1 = j0 + cols < N ? j0 + cols : N;
        for (int r = 0; r < M; r++) {
            const float *restrict gr = g + (size_t)r * N;
            float *restrict s = sums;
            for (int j = j0; j < j1; j++) s[j] += gr[j];
        }
    }
}

nn_tensor *nn_linear(nn_tensor *x, nn_tensor *w, nn_tensor *b) {
    NN_REQUIRE(x, "nn_linear");
    NN_REQUIRE(w, "nn_linear");
    if (!nn_require_live(b, "nn_linear", "b")) return NULL;
    if (w->ndim != 2 || x->ndim < 1 || x->shape[x->ndim - 1] != w->shape[0]) {
        nn_fail("nn_linear", "x is (..., K) with one sample per row, W is (K, N)",
                "x %s and W %s do not fit", SHAPE(x), SHAPE(w));
        return NULL;
    }
    int K = w->shape[0], N = w->shape[1];
    if (b && (b->ndim != 1 || b->shape[0] != N)) {
        nn_fail("nn_linear", "the bias b has one number per output: shape (N), or NULL",
                "b %s for W %s (N = %d)", SHAPE(b), SHAPE(w), N);
        return NULL;
    }
    if (x->size / (size_t)K > INT32_MAX) {
        nn_fail("nn_linear", "at most 2^31 - 1 rows", "x %s has too many rows", SHAPE(x));
        return NULL;
    }
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof(int) * (size_t)x->ndim);
    shape[x->ndim - 1] = N;
    /* the GEMM sets every element, from the bias: no zeroing first */
    nn_node *node;
    nn_tensor *y = nn_record_filled("nn_linear", linear_backward, x->ndim, shape, x, w, b, &node);
    if (node) node->sets_grads = true;   /* x's and W's gradients set; b's added to */
    nn_kernel_gemm_set(false, false, x->data, w->data, y->data, (int)(x->size / (size_t)K), N,
                       K, b ? b->data : NULL);
    return y;
}
