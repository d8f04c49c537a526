/* src/ops/matmul.c — matrix multiply, 2-D and batched.
 *
 *   (M, K) @ (K, N)       -> (M, N)
 *   (B, M, K) @ (B, K, N) -> (B, M, N)    one product per batch item
 *   (B, M, K) @ (K, N)    -> (B, M, N)    the same B: rows of all items are one (B*M, K) matrix
 *
 * Forward  C = A B.   Backward  dA += dC B^T,   dB += A^T dC.
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
    for (int t = 0; t < d->batch; t++) {
        if (WANTS_GRAD(a)) /* dA (M,K) += dC (M,N) @ B^T, B stored (K,N) */
            nn_kernel_gemm_nt(g + t * sc, b->data + t * sb, a->grad + t * sa, d->M, d->N, d->K);
        if (WANTS_GRAD(b)) /* dB (K,N) += A^T @ dC (M,N), A stored (M,K) */
            nn_kernel_gemm_tn(a->data + t * sa, g + t * sc, b->grad + t * sb, d->K, d->M, d->N);
    }
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
    nn_node *node;
    nn_tensor *out = nn_record("nn_matmul", matmul_backward, nd, shape, a, b, NULL, &node);
    if (node) {
        matmul_dims *saved = nn_arena_alloc(sizeof *saved);
        *saved = d;
        node->extra = saved;
    }
    size_t sa = (size_t)d.M * d.K, sb = (size_t)d.K * d.N, sc = (size_t)d.M * d.N;
    for (int t = 0; t < d.batch; t++)
        nn_kernel_gemm_nn(a->data + t * sa, b->data + t * sb, out->data + t * sc, d.M, d.K, d.N);
    return out;
}
