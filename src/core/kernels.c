/* src/core/kernels.c — the reference matrix-multiply kernels: the readable version.
 *
 * Plain C in the loop order that reads memory in a straight line: the innermost loop always
 * walks a contiguous row, so the compiler can vectorise it and the cache stays warm. Rows of
 * the output are independent, so OpenMP splits them across cores when the product is big
 * enough to be worth the threads (without OpenMP the pragmas are ignored).
 *
 * The library's products run on the blocked GEMM of src/core/gemm.c, which computes the same
 * sums several times faster; these loops are what it is tested against (tests/test_gemm.c),
 * what nn_set_matmul_reference(true) selects, and what it uses for the tiniest products.
 */
#include "internal.h"

/* Below this many multiply-adds (about 0.2 ms of work on one core), threads cost more than
 * they save: starting a team takes microseconds on an idle machine, but on a busy one each
 * parallel region can wait a whole scheduler slice (milliseconds) for a descheduled thread.
 * So small models (chapters 1 and 2, an MLP layer on a batch of 64) stay on one thread, and
 * only big products use every core. On a shared machine, OMP_WAIT_POLICY=passive or
 * OMP_NUM_THREADS=1 avoids the stalls entirely (see README). */
#define PARALLEL_MIN_FLOPS (1L << 24)

/* C (M,N) += A (M,K) @ B (K,N)
 * i-k-j order: for each row i of C, add A[i,k] times row k of B. */
void nn_kernel_matmul_nn(const float *A, const float *B, float *C, int M, int K, int N) {
#pragma omp parallel for schedule(static) if ((long)M * K * N > PARALLEL_MIN_FLOPS)
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * N;
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)i * K + k];
            const float *b = B + (size_t)k * N;
            for (int j = 0; j < N; j++) c[j] += a * b[j];
        }
    }
}

/* C (M,N) += A (M,K) @ B^T, with B stored as (N,K)
 * Each C[i,j] is the dot product of row i of A and row j of B: both contiguous. */
void nn_kernel_matmul_nt(const float *A, const float *B, float *C, int M, int K, int N) {
#pragma omp parallel for schedule(static) if ((long)M * K * N > PARALLEL_MIN_FLOPS)
    for (int i = 0; i < M; i++) {
        const float *a = A + (size_t)i * K;
        for (int j = 0; j < N; j++) {
            const float *b = B + (size_t)j * K;
            float s = 0.0f;
            for (int k = 0; k < K; k++) s += a[k] * b[k];
            C[(size_t)i * N + j] += s;
        }
    }
}

/* C (M,N) += A^T @ B, with A stored as (K,M) and B as (K,N)
 * Row i of C gets A[k,i] times row k of B, summed over k. */
void nn_kernel_matmul_tn(const float *A, const float *B, float *C, int M, int K, int N) {
#pragma omp parallel for schedule(static) if ((long)M * K * N > PARALLEL_MIN_FLOPS)
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * N;
        for (int k = 0; k < K; k++) {
            float a = A[(size_t)k * M + i];
            const float *b = B + (size_t)k * N;
            for (int j = 0; j < N; j++) c[j] += a * b[j];
        }
    }
}
