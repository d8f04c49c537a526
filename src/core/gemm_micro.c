/* src/core/gemm_micro.c — the micro-kernels: where the multiply-adds happen.
 *
 * Every kernel computes one tile C (MR, NR) += a (MR x kc) @ b (kc x NR) from packed panels
 * (src/core/gemm_pack.c). The tile's MR x NR sums stay in vector registers for all kc steps;
 * each step loads NR floats of b (NR / W vectors of W lanes), broadcasts each of the MR floats
 * of a to a full vector, and does MR x NR / W vector multiply-adds:
 *
 *                 b[k][0 .. NR)                       (NR / W vector loads)
 *               +-----------------+
 *     a[k][0] x | acc 0,0 acc 0,1 |                   (one broadcast per row,
 *     a[k][1] x | acc 1,0 acc 1,1 |                    MR x NR / W fused multiply-adds)
 *        ...    |       ...       |
 *               +-----------------+
 *
 * The register budget sets the tile. With R vector registers we need MR x NR/W accumulators,
 * NR/W for b and one for the broadcast: MR x NR/W + NR/W + 1 <= R. The tile should also be as
 * "square" as that allows, since the work per step is MR x NR/W multiply-adds against
 * MR + NR/W loads: more multiply-adds per load keeps the FMA units, not the loads, the limit.
 *   AVX2 + FMA  16 ymm of 8 floats:   6 x 16 -> 12 accumulators + 2 + 1 = 15 registers
 *   AVX-512     32 zmm of 16 floats: 14 x 32 -> 28 accumulators + 2 + 1 = 31 registers
 *   SSE         16 xmm of 4 floats:   6 x 8  -> 12 accumulators + 2 + 1, plus one for the
 *               product (SSE has no fused multiply-add: a multiply, then an add)
 * A modern core retires two vector FMAs per cycle, each with a latency of 4-5 cycles, so it
 * needs 8-10 independent accumulators in flight to stay busy: 12 (AVX2) and 28 (AVX-512) are
 * enough; a tile of 4 accumulators could reach only half the peak however fast the memory.
 *
 * The vector kernels are compiled with __attribute__((target(...))) so the library builds
 * with no -march flag; gemm.c calls one only after asking the CPU (__builtin_cpu_supports)
 * whether it has those instructions. tests/test_gemm.c checks each kernel wherever the CPU
 * runs it and skips it elsewhere (the AVX-512 ones on an AVX2-only CPU).
 *
 * Edges: the packed panels are zero-padded, so a kernel always computes the whole tile; a
 * tile that overhangs the bottom or right edge of C is stored through a small buffer, and
 * only its mr x nr valid part is added to C.
 *
 * Each vector kernel comes twice from one body: reading a packed A panel (a[k*MR + r],
 * strides known at compile time) and reading A in place through its strides
 * (a[r*rsa + k*csa]), for the products where packing A would not pay (few columns of C: see
 * gemm.c).
 */
#include "gemm_internal.h"
#include <math.h>
#include <stdint.h>

/* C (mr, nr) += t (MR, NR), or with a start row C = t + start (each row of C set to its row
 * of the tile plus start[j]: a bias, or zeros): the overhanging edge tile, through a buffer. */
static void add_edge(const float *t, int NR, float *c, size_t ldc, int mr, int nr,
                     const float *start) {
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            c[(size_t)r * ldc + j] = t[r * NR + j] + (start ? start[j] : c[(size_t)r * ldc + j]);
}

/* The two entry points of a kernel from its body NAME##_body(kc, a, rsa, csa, b, c, ldc, mr,
 * nr, start): packed A (rsa = 1, csa = MR: the compiler specialises the body for these constants)
 * and A read in place. */
#define KERNEL_PAIR(NAME, TARGET, MR)                                                     \
    TARGET static void NAME(int kc, const float *a, const float *b, float *c, size_t ldc,  \
                            int mr, int nr, const float *start) {                         \
        NAME##_body(kc, a, 1, (MR), b, c, ldc, mr, nr, start);                            \
    }                                                                                     \
    TARGET static void NAME##_strided(int kc, const float *a, size_t rsa, size_t csa,     \
                                      const float *b, float *c, size_t ldc, int mr,       \
                                      int nr, const float *start) {                       \
        NAME##_body(kc, a, rsa, csa, b, c, ldc, mr, nr, start);                           \
    }

/* ---- plain C: 4 x 8, for any CPU (the compiler may still vectorise it) ----------------- */
enum { PLAIN_MR = 4, PLAIN_NR = 8 };

static void micro_plain(int kc, const float *a, const float *b, float *c, size_t ldc, int mr,
                        int nr, const float *start) {
    float acc[PLAIN_MR][PLAIN_NR] = {{0}};
    for (int k = 0; k < kc; k++, a += PLAIN_MR, b += PLAIN_NR)
        for (int r = 0; r < PLAIN_MR; r++)
            for (int j = 0; j < PLAIN_NR; j++) acc[r][j] += a[r] * b[j];
    add_edge(&acc[0][0], PLAIN_NR, c, ldc, mr, nr, start);
}
/* No in-place variant: with A's stride unknown at compile time the compiler no longer
 * vectorises this loop (6 GFLOP/s instead of 22 at n = 64), so plain C always packs A. */

/* KC = 256: a 256 x 8 panel of b is 8 KiB, well inside a 32 KiB L1 data cache. */
const gemm_kernel nn_gemm_plain = {"plain", micro_plain, NULL, PLAIN_MR, PLAIN_NR, 128, 256,
                                   2048};

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>

/* The kernels name each accumulator (c0a, c0b, c1a, ...) instead of using an array: a
 * compiler keeps named vector variables in registers, while an array of vectors indexed in
 * a loop it may leave in memory, storing it on every step. The X-macros below write out the
 * rows: ROWS6(STEP) is STEP(0) STEP(1) ... STEP(5). */
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
/* Ask for the C tile's cache lines before the k loop: they are needed only after it, and a
 * tile of C read from L3 or memory (C bigger than L2, K short) would otherwise stall the end
 * of every call. A prefetch never faults, so edge tiles need no care. */
#define PREFETCH_C(r) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);                \
                      _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
#define ROWS14(X) ROWS6(X) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
/* the third cache line of a 32-float row (AVX-512's tile) */
#define PREFETCH_C_HIGH(r) _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);

/* The computed tile t (MR, NR) goes to C: added, or with a start row written as t + start
 * (C is then not read: a fresh output needs no zeroing pass); whole when it fits, else its
 * valid part. */
#define ADD_TILE(MR, NR)                                                                  \
    do {                                                                                  \
        if (mr == (MR) && nr == (NR) && !start) {                                         \
            for (int r = 0; r < (MR); r++)                                                \
                for (int j = 0; j < (NR); j++) c[(size_t)r * ldc + j] += t[r * (NR) + j]; \
        } else if (mr == (MR) && nr == (NR)) {                                            \
            for (int r = 0; r < (MR); r++)                                                \
                for (int j = 0; j < (NR); j++)                                            \
                    c[(size_t)r * ldc + j] = t[r * (NR) + j] + start[j];                  \
        } else {                                                                          \
            add_edge(t, (NR), c, ldc, mr, nr, start);                                     \
        }                                                                                 \
    } while (0)

/* ---- SSE: 6 x 8, twelve 4-float accumulators (every x86-64 CPU has SSE2) --------------- */
#define SSE_ZERO(r) __m128 c##r##a = _mm_setzero_ps(), c##r##b = _mm_setzero_ps();
#define SSE_STEP(r)                                                                       \
    {                                                                                     \
        __m128 ar = _mm_set1_ps(a[r * rsa]);                                                    \
        c##r##a = _mm_add_ps(c##r##a, _mm_mul_ps(ar, b0));                                \
        c##r##b = _mm_add_ps(c##r##b, _mm_mul_ps(ar, b1));                                \
    }
#define SSE_SAVE(r) _mm_storeu_ps(t + r * 8, c##r##a); _mm_storeu_ps(t + r * 8 + 4, c##r##b);

__attribute__((target("sse2"), always_inline)) static inline void micro_sse_body(
    int kc, const float *a, size_t rsa, size_t csa, const float *b, float *c, size_t ldc, int mr,
    int nr, const float *start) {
    ROWS6(PREFETCH_C)
    ROWS6(SSE_ZERO)
    for (int k = 0; k < kc; k++, a += csa, b += 8) {
        __m128 b0 = _mm_loadu_ps(b), b1 = _mm_loadu_ps(b + 4);
        ROWS6(SSE_STEP)
    }
    float t[6 * 8];
    ROWS6(SSE_SAVE)
    ADD_TILE(6, 8);
}
KERNEL_PAIR(micro_sse, __attribute__((target("sse2"))), 6)
/* KC = 256: b's panel 8 KiB (L1); MC = 144: a's block 144 x 256 x 4 B = 144 KiB (L2). */
const gemm_kernel nn_gemm_sse = {"sse", micro_sse, micro_sse_strided, 6, 8, 144, 256, 2048};

/* ---- AVX2 + FMA: 6 x 16, twelve 8-float accumulators ----------------------------------- */
#define AVX2_ZERO(r) __m256 c##r##a = _mm256_setzero_ps(), c##r##b = _mm256_setzero_ps();
#define AVX2_STEP(r)                                                                      \
    {                                                                                     \
        __m256 ar = _mm256_broadcast_ss(a + r * rsa);                                           \
        c##r##a = _mm256_fmadd_ps(ar, b0, c##r##a);                                       \
        c##r##b = _mm256_fmadd_ps(ar, b1, c##r##b);                                       \
    }
#define AVX2_SAVE(r)                                                                      \
    _mm256_storeu_ps(t + r * 16, c##r##a); _mm256_storeu_ps(t + r * 16 + 8, c##r##b);

__attribute__((target("avx2,fma"), always_inline)) static inline void micro_avx2_body(
    int kc, const float *a, size_t rsa, size_t csa, const float *b, float *c, size_t ldc, int mr,
    int nr, const float *start) {
    ROWS6(PREFETCH_C)
    ROWS6(AVX2_ZERO)
    for (int k = 0; k < kc; k++, a += csa, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        ROWS6(AVX2_STEP)
    }
    float t[6 * 16];
    ROWS6(AVX2_SAVE)
    ADD_TILE(6, 16);
}
KERNEL_PAIR(micro_avx2, __attribute__((target("avx2,fma"))), 6)
/* KC = 256: b's panel 256 x 16 x 4 B = 16 KiB, half of the 32 KiB L1, the other half for
 * a's 6 KiB micro-panel streaming past; MC = 144: a's block 144 KiB, in the 512 KiB L2;
 * NC = 3072: b's block 3 MiB, in the L3. */
const gemm_kernel nn_gemm_avx2 = {"avx2", micro_avx2, micro_avx2_strided, 6, 16, 144, 256,
                                  3072};

/* ---- AVX-512: 14 x 32, twenty-eight 16-float accumulators ------------------------------- */
#define AVX512_ZERO(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
#define AVX512_STEP(r)                                                                    \
    {                                                                                     \
        __m512 ar = _mm512_set1_ps(a[r * rsa]);                                                 \
        c##r##a = _mm512_fmadd_ps(ar, b0, c##r##a);                                       \
        c##r##b = _mm512_fmadd_ps(ar, b1, c##r##b);                                       \
    }
#define AVX512_SAVE(r)                                                                    \
    _mm512_storeu_ps(t + r * 32, c##r##a); _mm512_storeu_ps(t + r * 32 + 16, c##r##b);

__attribute__((target("avx512f"), always_inline)) static inline void micro_avx512_body(
    int kc, const float *a, size_t rsa, size_t csa, const float *b, float *c, size_t ldc, int mr,
    int nr, const float *start) {
    ROWS14(PREFETCH_C)
    ROWS14(PREFETCH_C_HIGH)
    ROWS14(AVX512_ZERO)
    for (int k = 0; k < kc; k++, a += csa, b += 32) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        ROWS14(AVX512_STEP)
    }
    float t[14 * 32];
    ROWS14(AVX512_SAVE)
    ADD_TILE(14, 32);
}
KERNEL_PAIR(micro_avx512, __attribute__((target("avx512f"))), 14)
/* KC = 192: b's panel 192 x 32 x 4 B = 24 KiB of a 32-48 KiB L1; MC = 140: a's block 105 KiB
 * (L2 is 1-2 MiB on these CPUs); NC = 3072: b's block 2.25 MiB. */
const gemm_kernel nn_gemm_avx512 = {"avx512", micro_avx512, micro_avx512_strided, 14, 32, 140,
                                    192, 3072};

/* ---- a short K: C (M, N) += op(A) (M, K) @ B (K, N) with K <= NN_GEMM_SMALL_K -----------
 * The convolutions' products have a tiny K (the 9 or 72 entries of a 3x3 patch forward, the
 * 8 or 16 output channels in backward) and a long N (the 784 or 196 pixels). Packed, each
 * micro-kernel call would run only K steps and then read and write its whole C tile, and
 * packing B would cost as much as the product. Here each row of C is taken 32 columns at a
 * time in four registers, all K steps added in, and written once; B is read in place (K rows
 * of N, in L1 or L2 for these sizes), and row i of op(A) is copied into a small array. The
 * sums start from zero and are added to C at the end, with fused multiply-adds in k order:
 * exactly the roundings of the packed micro-kernels, so a product gives the same bits on
 * either path. */
/* One row of C at a time: op(A)'s row i copied into a[] (K floats), then C's row in steps of
 * 4 vectors (32 or 64 columns), each step adding all K rows of B into 4 accumulators. V, P
 * and W: the vector type, the intrinsics' prefix, the floats per vector. */
#define SMALL_K_BODY(V, P, W)                                                                \
    float a[NN_GEMM_SMALL_K];                                                                \
    for (int i = 0; i < M; i++) {                                                           \
        for (int k = 0; k < K; k++) a[k] = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];  \
        float *c = C + (size_t)i * N;                                                       \
        int j = 0;                                                                          \
        for (; j + 4 * W <= N; j += 4 * W) {                                                \
            V c0 = P##_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;                             \
            for (int k = 0; k < K; k++) {                                                   \
                const float *b = B + (size_t)k * N + j;                                     \
                V ak = P##_set1_ps(a[k]);                                                   \
                c0 = P##_fmadd_ps(ak, P##_loadu_ps(b), c0);                                 \
                c1 = P##_fmadd_ps(ak, P##_loadu_ps(b + W), c1);                             \
                c2 = P##_fmadd_ps(ak, P##_loadu_ps(b + 2 * W), c2);                         \
                c3 = P##_fmadd_ps(ak, P##_loadu_ps(b + 3 * W), c3);                         \
            }                                                                               \
            P##_storeu_ps(c + j, P##_add_ps(P##_loadu_ps(c + j), c0));                      \
            P##_storeu_ps(c + j + W, P##_add_ps(P##_loadu_ps(c + j + W), c1));              \
            P##_storeu_ps(c + j + 2 * W, P##_add_ps(P##_loadu_ps(c + j + 2 * W), c2));      \
            P##_storeu_ps(c + j + 3 * W, P##_add_ps(P##_loadu_ps(c + j + 3 * W), c3));      \
        }                                                                                   \
        for (; j + W <= N; j += W) {                                                        \
            V c0 = P##_setzero_ps();                                                        \
            for (int k = 0; k < K; k++)                                                     \
                c0 = P##_fmadd_ps(P##_set1_ps(a[k]), P##_loadu_ps(B + (size_t)k * N + j), c0); \
            P##_storeu_ps(c + j, P##_add_ps(P##_loadu_ps(c + j), c0));                      \
        }                                                                                   \
        for (; j < N; j++) { /* the last columns, with the same roundings (fmaf) */         \
            float s = 0.0f;                                                                 \
            for (int k = 0; k < K; k++) s = fmaf(a[k], B[(size_t)k * N + j], s);           \
            c[j] += s;                                                                      \
        }                                                                                   \
    }

__attribute__((target("avx2,fma"))) void nn_gemm_small_k_avx2(bool ta, const float *A,
                                                              const float *B, float *C, int M,
                                                              int N, int K) {
    SMALL_K_BODY(__m256, _mm256, 8)
}
__attribute__((target("avx512f"))) void nn_gemm_small_k_avx512(bool ta, const float *A,
                                                                const float *B, float *C,
                                                                int M, int N, int K) {
    SMALL_K_BODY(__m512, _mm512, 16)
}

/* ---- C += A B^T with both read along K: dot products -----------------------------------
 * A (M, K) and B (N, K), both row-major, so each C(i, j) is the dot product of two
 * contiguous rows. The convolutions' weight gradients are this shape: dw (K, R) += dy (K, P)
 * @ col^T with P = 784 or 196 pixels and only 8-16 rows and 9-72 columns, where packing B^T
 * (reading col across its rows) cost more than the product and the 14 x 32 tile mostly
 * computed padding. Here a 4 x 4 block of C is 16 vector sums along K, each finished by
 * adding its lanes; an edge block repeats the last row or column and stores only the valid
 * part. The sums are in another order than the packed kernels' (lanes, then across). */
#define DOT_BLOCK 4
#define DOT_BODY(V, P, W, MASKED_LOAD, HSUM)                                                  \
    for (int i0 = 0; i0 < M; i0 += DOT_BLOCK)                                                 \
        for (int j0 = 0; j0 < N; j0 += DOT_BLOCK) {                                           \
            const float *a[DOT_BLOCK], *b[DOT_BLOCK];                                         \
            for (int r = 0; r < DOT_BLOCK; r++) {                                             \
                a[r] = A + (size_t)(i0 + r < M ? i0 + r : M - 1) * K;                         \
                b[r] = B + (size_t)(j0 + r < N ? j0 + r : N - 1) * K;                         \
            }                                                                                 \
            V acc[DOT_BLOCK][DOT_BLOCK];                                                      \
            for (int r = 0; r < DOT_BLOCK; r++)                                               \
                for (int s = 0; s < DOT_BLOCK; s++) acc[r][s] = P##_setzero_ps();            \
            int k = 0;                                                                        \
            for (; k + W <= K; k += W) {                                                      \
                V av[DOT_BLOCK], bv[DOT_BLOCK];                                               \
                for (int r = 0; r < DOT_BLOCK; r++) {                                         \
                    av[r] = P##_loadu_ps(a[r] + k);                                           \
                    bv[r] = P##_loadu_ps(b[r] + k);                                           \
                }                                                                             \
                for (int r = 0; r < DOT_BLOCK; r++)                                           \
                    for (int s = 0; s < DOT_BLOCK; s++)                                       \
                        acc[r][s] = P##_fmadd_ps(av[r], bv[s], acc[r][s]);                    \
            }                                                                                 \
            if (k < K) { /* the last K % W: the lanes past K read as zero */                  \
                V av[DOT_BLOCK], bv[DOT_BLOCK];                                               \
                for (int r = 0; r < DOT_BLOCK; r++) {                                         \
                    av[r] = MASKED_LOAD(a[r] + k, K - k);                                     \
                    bv[r] = MASKED_LOAD(b[r] + k, K - k);                                     \
                }                                                                             \
                for (int r = 0; r < DOT_BLOCK; r++)                                           \
                    for (int s = 0; s < DOT_BLOCK; s++)                                       \
                        acc[r][s] = P##_fmadd_ps(av[r], bv[s], acc[r][s]);                    \
            }                                                                                 \
            for (int r = 0; r < DOT_BLOCK && i0 + r < M; r++)                                 \
                for (int s = 0; s < DOT_BLOCK && j0 + s < N; s++)                             \
                    C[(size_t)(i0 + r) * N + j0 + s] += HSUM(acc[r][s]);                      \
        }

__attribute__((target("avx2,fma"), always_inline)) static inline __m256 load8_first(
    const float *p, int n) {
    static const int32_t ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
                                      _mm256_loadu_si256((const __m256i *)ramp));
    return _mm256_maskload_ps(p, mask);   /* lanes >= n: 0, and not read */
}
__attribute__((target("avx2,fma"), always_inline)) static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
__attribute__((target("avx512f"), always_inline)) static inline __m512 load16_first(
    const float *p, int n) {
    return _mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1u), p);
}
__attribute__((target("avx512f"), always_inline)) static inline float hsum16(__m512 v) {
    return _mm512_reduce_add_ps(v);
}

__attribute__((target("avx2,fma"))) void nn_gemm_dot_nt_avx2(const float *A, const float *B,
                                                             float *C, int M, int N, int K) {
    DOT_BODY(__m256, _mm256, 8, load8_first, hsum8)
}
__attribute__((target("avx512f"))) void nn_gemm_dot_nt_avx512(const float *A, const float *B,
                                                               float *C, int M, int N, int K) {
    DOT_BODY(__m512, _mm512, 16, load16_first, hsum16)
}

#else /* no x86 vector kernels in this build: gemm.c sees NULL and never picks them */
const gemm_kernel nn_gemm_sse = {"sse", 0, 0, 6, 8, 144, 256, 2048};
const gemm_kernel nn_gemm_avx2 = {"avx2", 0, 0, 6, 16, 144, 256, 3072};
const gemm_kernel nn_gemm_avx512 = {"avx512", 0, 0, 14, 32, 140, 192, 3072};
#endif
