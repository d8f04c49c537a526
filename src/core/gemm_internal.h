/* src/core/gemm_internal.h — the parts of the GEMM that its three files share.
 *
 *   gemm.c         the driver: cache blocks, threads, which micro-kernel, the small-shape path
 *   gemm_pack.c    copies blocks of A and B, in any layout, into the packed micro-panels
 *   gemm_micro.c   the micro-kernels: one MR x NR tile of C kept in registers over kc steps
 *
 * How the pieces fit (a picture is in gemm.c). A matrix is read through two strides:
 * element (i, k) of op(A) is A[i * rs + k * cs], so A (M,K) row-major has rs = K, cs = 1 and
 * A^T of an A stored (K,M) has rs = 1, cs = M. Nothing is ever transposed in memory; the
 * packing routines read either layout and write the same packed panels.
 */
#ifndef NN_GEMM_INTERNAL_H
#define NN_GEMM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* A matrix seen through strides: element (r, c) is p[r * rs + c * cs]. */
typedef struct {
    const float *p;
    size_t rs, cs;
} gemm_view;

/* The micro-kernel: C (mr, nr) += a (MR x kc micro-panel) @ b (kc x NR micro-panel).
 * a holds MR floats per k (a[k*MR + r]), b NR floats per k (b[k*NR + j]), both zero-padded,
 * so the kernel always computes the full MR x NR tile; it stores only the top-left
 * mr x nr of it (the rest is padding past the edge of C). c is row-major with stride ldc.
 * start NULL: add to C. Otherwise C is set, not read: row r of C = row r of the product +
 * start[0 .. nr) (a bias, or zeros), for the first rank-KC update of a fresh output. */
typedef void (*gemm_micro_fn)(int kc, const float *a, const float *b, float *c, size_t ldc,
                              int mr, int nr, const float *start);
/* The same kernel reading A in place, unpacked: a[r*rsa + k*csa] for r < MR (all MR rows
 * must exist: the caller packs an edge panel instead). b is packed as above. */
typedef void (*gemm_strided_fn)(int kc, const float *a, size_t rsa, size_t csa, const float *b,
                                float *c, size_t ldc, int mr, int nr, const float *start);

/* One instruction set's kernel and the block sizes that suit it. */
typedef struct {
    const char *name;   /* "plain", "sse", "avx2", "avx512" */
    gemm_micro_fn micro;
    gemm_strided_fn micro_strided; /* NULL: this kernel always packs A */
    int MR, NR;         /* register tile */
    int MC, KC, NC;     /* cache blocks: MC a multiple of MR, NC of NR */
} gemm_kernel;

/* gemm_micro.c: the kernels compiled into this build (NULL micro where the compiler cannot
 * build one, e.g. AVX-512 on ARM). Whether the CPU can run one is gemm.c's question. */
extern const gemm_kernel nn_gemm_plain, nn_gemm_sse, nn_gemm_avx2, nn_gemm_avx512;

/* gemm_pack.c. Pack rows [0, mc) x columns [0, kc) of op(A) (a view already offset to the
 * block's corner) into ceil(mc / MR) micro-panels of MR x kc, k-major, zero rows past mc.
 * Pack rows [0, kc) x columns [0, nc) of op(B) into ceil(nc / NR) micro-panels of kc x NR,
 * zero columns past nc. */
void nn_gemm_pack_a(gemm_view A, int mc, int kc, int MR, float *dst);
void nn_gemm_pack_b(gemm_view B, int kc, int nc, int NR, float *dst);

/* gemm_micro.c, x86 builds, for shapes the packed kernels serve badly (gemm.c says when);
 * each with AVX2 + FMA or AVX-512 (call one only when the CPU has it):
 *   small_k  C (M, N) += op(A) (M, K) @ B (K, N) for K <= NN_GEMM_SMALL_K, op(A) = A^T when
 *            ta; the same roundings as the packed kernels
 *   dot_nt   C (M, N) += A (M, K) @ B^T, B stored (N, K): dot products along K */
#define NN_GEMM_SMALL_K 16
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_GEMM_HAVE_SMALL_K 1
void nn_gemm_small_k_avx2(bool ta, const float *A, const float *B, float *C, int M, int N,
                          int K);
void nn_gemm_small_k_avx512(bool ta, const float *A, const float *B, float *C, int M, int N,
                            int K);
void nn_gemm_dot_nt_avx2(const float *A, const float *B, float *C, int M, int N, int K);
void nn_gemm_dot_nt_avx512(const float *A, const float *B, float *C, int M, int N, int K);
#endif

#endif
