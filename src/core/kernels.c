/* src/core/kernels.c — the matrix-multiply kernels every layer spends its time in.
 *
 * Plain C in the loop order that reads memory in a straight line: the innermost loop always
 * walks a contiguous row, so the compiler can vectorise it and the cache stays warm. Rows of
 * the output are independent, so OpenMP splits them across cores when the product is big
 * enough to be worth the threads (without OpenMP the pragmas are ignored).
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

/* ---- a register-blocked multiply, for the convolution's fast path ----------------------
 *
 * C (M,N) += A (M,K) @ B (K,N), the same contract as nn_kernel_matmul_nn above, which stays
 * the plain readable version. That one streams a whole row of C through memory for every k:
 * two loads and a store per multiply-add. This one keeps a small MR x NR tile of C in
 * registers while k runs: each step loads NR floats of B and MR floats of A and does MR*NR
 * multiply-adds with them. Before that, B's NR columns are copied ("packed") into a
 * contiguous KC x NR panel, zero-padded at the right edge, so the tile reads memory in a
 * straight line and every tile has the same shape (edge tiles store only their valid part;
 * missing rows of A read a row of zeros).
 *
 * The tile uses GCC/Clang vector types: 4 floats (SSE2 on every x86-64, NEON on ARM), or 8
 * floats (AVX2) when the CPU has it, picked at run time so the library needs no -march
 * flag. Other compilers fall back to the plain kernel. tests/test_conv.c checks the fast
 * convolution (which runs on this kernel, edge tiles and K > KC included) against direct
 * loops; bench/bench_conv.c measures it.
 */
#define GEMM_NR 16     /* columns of a tile (and of a packed panel of B) */
#define GEMM_KC 256    /* rows of B per panel: 256 x 16 floats = 16 KiB, stays in L1 */
#define GEMM_MR_MAX 6  /* rows of a tile, the largest of the variants below */

typedef void (*gemm_tile_fn)(const float *const *a, const float *panel, int kc, float *C,
                             int ldc, int mr, int nr);

#if defined(__GNUC__)
/* One tile: C[0..mr, 0..nr) += A_rows[0..MR)[0..kc) @ panel (kc, GEMM_NR).
 * acc[r][v] holds columns v*VW .. v*VW+VW-1 of row r; `a[r][k] * b[v]` multiplies a vector
 * by one float (broadcast). Defined by a macro only to get the two vector widths. */
#define DEFINE_GEMM_TILE(NAME, ATTR, VEC, VW, MR)                                          \
    ATTR static void NAME(const float *const *a, const float *panel, int kc, float *C,     \
                          int ldc, int mr, int nr) {                                      \
        enum { NV = GEMM_NR / (VW) };                                                     \
        VEC acc[MR][NV];                                                                  \
        memset(acc, 0, sizeof acc);                                                       \
        for (int k = 0; k < kc; k++) {                                                    \
            VEC b[NV];                 /* one vector load each (memcpy: no aliasing) */   \
            for (int v = 0; v < NV; v++)                                                  \
                memcpy(&b[v], panel + (size_t)k * GEMM_NR + v * (VW), sizeof b[v]);       \
            for (int r = 0; r < (MR); r++)                                                \
                for (int v = 0; v < NV; v++) acc[r][v] += a[r][k] * b[v];                 \
        }                                                                                 \
        float out[MR][GEMM_NR];                                                           \
        memcpy(out, acc, sizeof out);                                                     \
        for (int r = 0; r < mr; r++)                                                      \
            for (int j = 0; j < nr; j++) C[(size_t)r * ldc + j] += out[r][j];             \
    }

typedef float gemm_v4 __attribute__((vector_size(16)));
DEFINE_GEMM_TILE(gemm_tile_v4, , gemm_v4, 4, 4)        /* 4 x 16: 16 accumulators of 4 */

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_HAVE_AVX2 1
typedef float gemm_v8 __attribute__((vector_size(32)));
DEFINE_GEMM_TILE(gemm_tile_v8, __attribute__((target("avx2"))), gemm_v8, 8, 6) /* 6 x 16 */
#endif
#endif /* __GNUC__ */

void nn_kernel_gemm_nn(const float *A, const float *B, float *C, int M, int K, int N) {
#if !defined(__GNUC__)
    nn_kernel_matmul_nn(A, B, C, M, K, N);
#else
    gemm_tile_fn tile = gemm_tile_v4;
    int MR = 4;
#ifdef GEMM_HAVE_AVX2
    if (__builtin_cpu_supports("avx2")) {
        tile = gemm_tile_v8;
        MR = 6;
    }
#endif
    static const float zeros[GEMM_KC]; /* the "row" a missing row of A reads */
    int panels = (N + GEMM_NR - 1) / GEMM_NR;
    /* Panels of columns are independent: threads split them (each packs its own). */
#pragma omp parallel for schedule(static) if ((long)M * K * N > PARALLEL_MIN_FLOPS)
    for (int p = 0; p < panels; p++) {
        _Alignas(64) float panel[GEMM_KC * GEMM_NR];
        int j0 = p * GEMM_NR, nr = N - j0 < GEMM_NR ? N - j0 : GEMM_NR;
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            for (int k = 0; k < kc; k++) {            /* pack B[k0.., j0..] into the panel */
                const float *b = B + (size_t)(k0 + k) * N + j0;
                float *dst = panel + (size_t)k * GEMM_NR;
                int j = 0;
                for (; j < nr; j++) dst[j] = b[j];
                for (; j < GEMM_NR; j++) dst[j] = 0.0f;
            }
            for (int i0 = 0; i0 < M; i0 += MR) {
                int mr = M - i0 < MR ? M - i0 : MR;
                const float *rows[GEMM_MR_MAX];
                for (int r = 0; r < MR; r++)
                    rows[r] = r < mr ? A + (size_t)(i0 + r) * K + k0 : zeros;
                tile(rows, panel, kc, C + (size_t)i0 * N + j0, N, mr, nr);
            }
        }
    }
#endif
}
