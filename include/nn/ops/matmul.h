/* nn/ops/matmul.h — matrix multiply, 2-D and batched, and the GEMM under every product. */
#ifndef NN_OPS_MATMUL_H
#define NN_OPS_MATMUL_H

#include "../core/tensor.h"

/* (M, K) @ (K, N) -> (M, N);  (B, M, K) @ (B, K, N) -> (B, M, N);
 * (B, M, K) @ (K, N) -> (B, M, N)  (the same matrix for every batch item).
 * Backward: dA += dC @ B^T,  dB += A^T @ dC. */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b);

/* A linear layer's y = x W + b in one op: x (..., K), W (K, N), b (N) or NULL -> (..., N).
 * The same as nn_add(nn_matmul(x, W), b) up to float rounding, without the intermediate
 * x W (forward) and its gradient (backward). Backward: dx += dy W^T, dW += x^T dy,
 * db += the sum of dy over all rows. */
nn_tensor *nn_linear(nn_tensor *x, nn_tensor *w, nn_tensor *b);

/* C (M,N) += op(A) @ op(B) on row-major float arrays, the GEMM that nn_matmul, linear layers,
 * convolution, attention and the RNNs all run on (src/core/gemm.c explains how it works).
 * op(A) is A stored (M,K), or with trans_a A^T of an A stored (K,M); op(B) is B stored (K,N),
 * or with trans_b B^T of a B stored (N,K). Transposes are read in place, never copied. C is
 * added to, not overwritten: zero it first for C = op(A) op(B). Sizes of 0 do nothing. */
void nn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, const float *B,
              float *C);

/* Which implementation runs the products. The reference is the plain loops of
 * src/core/kernels.c (read them first); the others are the blocked GEMM with a micro-kernel
 * for one instruction set. NN_GEMM_AUTO is the fastest this CPU has, or the one named by the
 * environment variable NN_GEMM (ref, plain, sse, avx2, avx512), read at the first product. */
typedef enum {
    NN_GEMM_AUTO,
    NN_GEMM_REFERENCE,
    NN_GEMM_PLAIN,   /* portable C micro-kernel */
    NN_GEMM_SSE,
    NN_GEMM_AVX2,    /* AVX2 + FMA */
    NN_GEMM_AVX512,
    NN_GEMM_BLAS,    /* the system BLAS's cblas_sgemm: only in a `make BLAS=openblas` build */
} nn_gemm_path;

/* Choose the path for later products; -1 (and an error) when this CPU or build cannot run
 * it, 0 otherwise. */
int nn_set_gemm_path(nn_gemm_path path);
/* The path products take now (never NN_GEMM_AUTO), and whether this machine can run one. */
nn_gemm_path nn_gemm_path_in_use(void);
bool nn_gemm_path_supported(nn_gemm_path path);
/* "ref", "plain", "sse", "avx2", "avx512", "blas" */
const char *nn_gemm_path_name(nn_gemm_path path);

/* Shorthand like nn_set_attention_reference: true selects the reference loops, false the
 * fastest path; returns whether the reference was selected before. */
bool nn_set_matmul_reference(bool on);
bool nn_is_matmul_reference(void);

#endif
