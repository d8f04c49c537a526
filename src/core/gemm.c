/* src/core/gemm.c — the GEMM: C (M,N) += op(A) (M,K) @ op(B) (K,N), in the GotoBLAS/BLIS shape.
 *
 * The plain loops of src/core/kernels.c do 2 M N K flops but move a row of C through memory
 * for every multiply-add, so they run at the speed of the cache, not of the arithmetic. The
 * GEMM reorganises the same sums so that almost every float it loads is used many times
 * while it is close to the core (K. Goto and R. van de Geijn, "Anatomy of high-performance
 * matrix multiplication", 2008; F. Van Zee and R. van de Geijn, BLIS, 2015). Five loops
 * around a micro-kernel, each choosing which block stays in which level of the memory:
 *
 *   for jc in N, step NC:                    a column block of B and C
 *     for pc in K, step KC:                  a rank-KC update: C += A[:, pc] B[pc, jc]
 *       pack B[pc.., jc..] (KC x NC)         -> Bp, in the L3 cache, read by every ic
 *       for ic in M, step MC:
 *         pack A[ic.., pc..] (MC x KC)       -> Ap, in the L2 cache, read by every jr
 *         for jr in NC, step NR:             one KC x NR micro-panel of Bp, kept in L1
 *           for ir in MC, step MR:           one MR x KC micro-panel of Ap, from L2
 *             micro-kernel: C[ir.., jr..] (MR x NR, in registers) += Ap panel @ Bp panel
 *
 *            NC                        NR
 *      +-----------+   KC  +--+--+--+--+     C tile MR x NR lives in registers for the KC
 *   MC |  A block  | x     |B micro-panels|  steps of the micro-kernel; the B micro-panel
 *      |  (L2)     |       +--+--+--+--+     (KC x NR floats) stays in L1 while ir walks
 *      +-----------+          (L3)           down the whole A block (MC / MR tiles).
 *
 * Per micro-kernel call: MR x NR x KC multiply-adds against (MR + NR) x KC floats loaded from
 * L1/L2; per A block: MC x KC floats packed once, used NC / NR times; per B block: KC x NC
 * floats packed once, used M / MC times. The sizes MR, NR (registers) and MC, KC, NC (caches)
 * belong to each instruction set's kernel (src/core/gemm_micro.c). Packing (gemm_pack.c) also
 * absorbs the layouts: op(A) = A or A^T and op(B) = B or B^T become the same panels.
 *
 * Threads each take a strip of C (gemm_packed says why this way). Small products stay on
 * one thread (PARALLEL_MIN_FLOPS); a product of a single row (one sequence, one image) skips
 * the packing (FEW_ROWS), which it could not repay; A is packed only for wide products
 * (PACK_A_MIN_PANELS).
 */
#include "internal.h"
#include "gemm_internal.h"
#include "nn/ops/matmul.h"
#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Threads only for products above this many multiply-adds (kernels.c says why; its plain
 * loops wait for 2^24). The blocked GEMM runs 4 million in about 80 microseconds, tens of
 * times what starting a team costs on an idle machine. A team for the MLP's 64 x 784 x 128
 * products: its epoch on two threads took 0.39-0.40 s with the bar at 2^24, 0.30-0.33 s at
 * 2^21 (four runs each, alternating), 0.32-0.34 s at 2^22 (two runs); a busy machine can
 * still stall a team (see kernels.c). The RNN's per-step 32 x 128 x 384 (1.6 million) stays
 * on one thread. */
#define PARALLEL_MIN_FLOPS (1L << 22)
/* The small-shape path (gemm_few_rows below) for products of at most FEW_ROWS rows or at
 * most TINY_FLOPS multiply-adds. Measured with bench/bench_gemm.c --crossover: one row
 * (1 x 128 @ 128 x 128) takes 3.0 us there against 7.4 us packed, two rows already tie
 * (5.8 us each); 4 x 4 x 4 takes 0.08 us against 0.16, 8 x 8 x 8 is faster packed. */
#define FEW_ROWS 1
#define TINY_FLOPS 64
/* A is packed only when C has more than this many micro-panels of columns: each packed A
 * panel is then read by that many B panels. With fewer, the kernel reads A in place: at
 * 144 x 32 x 196 (the CNN's dw) 83 against 57 GFLOP/s, at 64 x 16 x 784 70 against 40; from
 * about 256 columns on, packing is as fast or faster (2048 x 256 x 64, A^T: 65 against 48,
 * where A's rows in place lie 8 KiB apart and collide in the cache). */
#define PACK_A_MIN_PANELS 8

/* ---- which kernel: asked of the CPU once, then cached --------------------------------------- */

static const char *const path_names[] = {"auto", "ref", "plain", "sse", "avx2", "avx512", "blas"};

/* ---- the system BLAS (make BLAS=openblas): the same C += op(A) op(B), by cblas_sgemm ------- */
#ifdef NN_HAVE_CBLAS
#include <cblas.h>
static void gemm_blas(bool ta, bool tb, const float *A, const float *B, float *C, int M, int N,
                      int K) {
    /* row-major, leading dimensions as stored: op(A) is (M, K), so A is (M, K) or (K, M) */
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 1.0f /* add onto C */, C, N);
}
#endif

const char *nn_gemm_path_name(nn_gemm_path path) {
    return (unsigned)path < COUNT(path_names) ? path_names[path] : "?";
}

static const gemm_kernel *kernel_of(nn_gemm_path path) {
    switch (path) {
    case NN_GEMM_PLAIN: return &nn_gemm_plain;
    case NN_GEMM_SSE: return &nn_gemm_sse;
    case NN_GEMM_AVX2: return &nn_gemm_avx2;
    case NN_GEMM_AVX512: return &nn_gemm_avx512;
    default: return NULL;
    }
}

bool nn_gemm_path_supported(nn_gemm_path path) {
    if (path == NN_GEMM_AUTO || path == NN_GEMM_REFERENCE || path == NN_GEMM_PLAIN) return true;
#ifdef NN_HAVE_CBLAS
    if (path == NN_GEMM_BLAS) return true;
#else
    if (path == NN_GEMM_BLAS) return false;
#endif
    const gemm_kernel *k = kernel_of(path);
    if (!k || !k->micro) return false; /* not compiled into this build */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    switch (path) {
    case NN_GEMM_SSE: return __builtin_cpu_supports("sse2");
    case NN_GEMM_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case NN_GEMM_AVX512: return __builtin_cpu_supports("avx512f");
    default: return false;
    }
#else
    return false;
#endif
}

/* The fastest supported (the system BLAS in a build that has it), or $NN_GEMM when it
 * names one this machine runs. */
static nn_gemm_path resolve_auto(void) {
    const char *env = getenv("NN_GEMM");
    if (env && *env) {
        for (int p = NN_GEMM_REFERENCE; p <= NN_GEMM_BLAS; p++)
            if (strcmp(env, path_names[p]) == 0 && nn_gemm_path_supported((nn_gemm_path)p))
                return (nn_gemm_path)p;
        fprintf(stderr, "libnn: NN_GEMM=%s is not a path this machine runs (ref, plain, sse, "
                "avx2, avx512, blas); using the fastest\n", env);
    }
    if (nn_gemm_path_supported(NN_GEMM_BLAS)) return NN_GEMM_BLAS;
    for (int p = NN_GEMM_AVX512; p > NN_GEMM_PLAIN; p--)
        if (nn_gemm_path_supported((nn_gemm_path)p)) return (nn_gemm_path)p;
    return NN_GEMM_PLAIN;
}

/* NN_GEMM_AUTO until the first product resolves it; atomic because the convolution calls
 * the GEMM from several threads at once. */
static _Atomic int current_path = NN_GEMM_AUTO;

nn_gemm_path nn_gemm_path_in_use(void) {
    int p = atomic_load_explicit(&current_path, memory_order_relaxed);
    if (p == NN_GEMM_AUTO) {
        p = resolve_auto();
        atomic_store_explicit(&current_path, p, memory_order_relaxed);
    }
    return (nn_gemm_path)p;
}

int nn_set_gemm_path(nn_gemm_path path) {
    if ((unsigned)path >= COUNT(path_names) || !nn_gemm_path_supported(path)) {
        nn_fail("nn_set_gemm_path", "nn_gemm_path_supported() says which paths this machine "
                "runs; NN_GEMM_AUTO picks the fastest", "path %d (%s) is not available here",
                (int)path, nn_gemm_path_name(path));
        return -1;
    }
    int p = path == NN_GEMM_AUTO ? (int)resolve_auto() : (int)path;
    atomic_store_explicit(&current_path, p, memory_order_relaxed);
    return 0;
}

bool nn_set_matmul_reference(bool on) {
    bool was = nn_is_matmul_reference();
    nn_set_gemm_path(on ? NN_GEMM_REFERENCE : NN_GEMM_AUTO);
    return was;
}

bool nn_is_matmul_reference(void) { return nn_gemm_path_in_use() == NN_GEMM_REFERENCE; }

/* ---- the blocked algorithm ---------------------------------------------------------------- */

static int min_int(int a, int b) { return a < b ? a : b; }
static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* How C starts: added to (C += A B), or overwritten (C = A B, or C = bias + A B with the
 * row vector bias added to every row). An overwritten C is never read before the GEMM
 * writes it: a fresh output needs no zeroing pass of its own. */
typedef struct {
    bool set;            /* false: C += op(A) op(B) */
    const float *bias;   /* with set: NULL (zeros) or N floats, indexed by C's column */
} gemm_start;

static const gemm_start GEMM_ADD = {false, NULL};


/* The start row of a tile of a C set without a bias: NR zeros (NR is at most 32). */
static const float tile_zeros[32];

/* The five loops of the picture above, on one thread. pack_a false: the micro-kernel reads A
 * in place (only an edge panel of fewer than MR rows is packed, for its zero rows). With
 * start.set, the micro-kernel's first rank-KC update (pc = 0) of each tile writes it instead
 * of adding to it: C is never read before it is written, and never zeroed. */
static void gemm_blocked(const gemm_kernel *kr, gemm_view A, gemm_view B, float *C, size_t ldc,
                         int M, int N, int K, float *Ap, float *Bp, bool pack_a,
                         gemm_start start) {
    const int MR = kr->MR, NR = kr->NR;
    for (int jc = 0; jc < N; jc += kr->NC) {
        int nc = min_int(kr->NC, N - jc), nb = (nc + NR - 1) / NR;
        for (int pc = 0; pc < K; pc += kr->KC) {
            int kc = min_int(kr->KC, K - pc);
            gemm_view Bb = {B.p + (size_t)pc * B.rs + (size_t)jc * B.cs, B.rs, B.cs};
            nn_gemm_pack_b(Bb, kc, nc, NR, Bp);
            for (int ic = 0; ic < M; ic += kr->MC) {
                int mc = min_int(kr->MC, M - ic), mb = (mc + MR - 1) / MR;
                gemm_view Ab = {A.p + (size_t)ic * A.rs + (size_t)pc * A.cs, A.rs, A.cs};
                int full = mc / MR; /* panels of MR whole rows */
                if (pack_a) {
                    nn_gemm_pack_a(Ab, mc, kc, MR, Ap);
                } else if (full < mb) { /* the bottom edge panel, zero-padded, at Ap */
                    gemm_view edge = {Ab.p + (size_t)full * MR * Ab.rs, Ab.rs, Ab.cs};
                    nn_gemm_pack_a(edge, mc - full * MR, kc, MR, Ap);
                }
                for (int jr = 0; jr < nb; jr++) {
                    int nr = min_int(NR, nc - jr * NR);
                    const float *b = Bp + (size_t)jr * NR * kc;
                    float *c = C + (size_t)ic * ldc + jc + (size_t)jr * NR;
                    /* the first update of a set C writes bias + product (or 0 + product) */
                    const float *first = !start.set || pc > 0 ? NULL
                                         : start.bias ? start.bias + jc + jr * NR
                                                      : tile_zeros;
                    for (int ir = 0; ir < mb; ir++) {
                        float *cr = c + (size_t)ir * MR * ldc;
                        int mr = min_int(MR, mc - ir * MR);
                        if (pack_a)
                            kr->micro(kc, Ap + (size_t)ir * MR * kc, b, cr, ldc, mr, nr, first);
                        else if (ir < full)
                            kr->micro_strided(kc, Ab.p + (size_t)ir * MR * Ab.rs, Ab.rs, Ab.cs,
                                              b, cr, ldc, mr, nr, first);
                        else
                            kr->micro(kc, Ap, b, cr, ldc, mr, nr, first);
                    }
                }
            }
        }
    }
}

#ifdef _OPENMP
/* Inside a parallel construct, active or not: omp_in_parallel() is false in a team of one
 * thread, so testing it would send a product inside the GRU's or attention's loop down
 * another path (another order of sums) on one thread than on two. */
static bool inside_parallel(void) { return omp_get_level() > 0; }
#endif

/* How many threads: the caller's choice (threads > 0), else all of them for big products.
 * Never more from inside a parallel region (the convolution runs one GEMM per image on each
 * thread): the cores are busy already. */
static int team_size(int threads, long flops) {
#ifdef _OPENMP
    if (inside_parallel()) return 1;
    if (threads > 0) return threads;
    return flops > PARALLEL_MIN_FLOPS ? omp_get_max_threads() : 1;
#else
    (void)threads;
    (void)flops;
    return 1;
#endif
}

static void gemm_packed(const gemm_kernel *kr, gemm_view A, gemm_view B, float *C, int M,
                        int N, int K, int threads, gemm_start start) {
    /* Threads: cut C along its longer side into one strip per thread (whole tiles: MR rows
     * or NR columns), and run the five loops on each strip independently, each thread with
     * its own packing buffers. A strip needs all of the other operand, which each thread then
     * packs for itself: O(MK) or O(KN) extra copying against the O(MNK) product. In return
     * the threads never wait for each other until the end: no barrier per block, which on a
     * busy machine would stall both threads whenever either one is descheduled. Each
     * element's sum runs in the same order either way, so the result does not depend on the
     * thread count. */
    bool by_rows = M > N;
    int unit = by_rows ? kr->MR : kr->NR, len = by_rows ? M : N;
    int tiles = (len + unit - 1) / unit;
    int parts = min_int(team_size(threads, (long)M * N * K), tiles);
    /* Buffers sized to the problem, not to the full blocks (a 64 x 64 product needs 32 KiB,
     * not the 3 MiB of a full B block); 64-byte aligned: a cache line, and a whole zmm. */
    size_t kc = (size_t)min_int(K, kr->KC);
    size_t na = (size_t)round_up(round_up(min_int(M, kr->MC), kr->MR) * (int)kc, 16);
    size_t nb = (size_t)round_up(min_int(N, kr->NC), kr->NR) * kc;
    size_t per = (na + nb + 15) / 16 * 16; /* floats per thread; Ap, Bp on 64-byte lines */
    float *buf = aligned_alloc(64, (size_t)parts * per * sizeof(float));
    if (!buf) { /* like nn_xmalloc: out of memory is reported, then abort */
        fprintf(stderr, "nn: out of memory allocating %zu bytes\n", (size_t)parts * per * 4);
        abort();
    }
    bool pack_a = !kr->micro_strided || N > PACK_A_MIN_PANELS * kr->NR;
    if (parts == 1) {
        gemm_blocked(kr, A, B, C, (size_t)N, M, N, K, buf, buf + na, pack_a, start);
    } else {
#pragma omp parallel for num_threads(parts) schedule(static)
        for (int t = 0; t < parts; t++) {
            int lo = tiles * t / parts * unit, hi = min_int(len, tiles * (t + 1) / parts * unit);
            float *Ap = buf + (size_t)t * per, *Bp = Ap + na;
            if (by_rows) { /* rows lo .. hi of op(A) and of C */
                gemm_view At = {A.p + (size_t)lo * A.rs, A.rs, A.cs};
                gemm_blocked(kr, At, B, C + (size_t)lo * N, (size_t)N, hi - lo, N, K, Ap, Bp,
                             pack_a, start);
            } else {       /* columns lo .. hi of op(B) and of C */
                gemm_view Bt = {B.p + (size_t)lo * B.cs, B.rs, B.cs};
                gemm_start part = start;   /* the bias of columns lo .. hi */
                if (part.bias) part.bias += lo;
                gemm_blocked(kr, A, Bt, C + lo, (size_t)N, M, hi - lo, K, Ap, Bp, pack_a, part);
            }
        }
    }
    free(buf);
}

/* ---- the reference: the plain loops of kernels.c ------------------------------------------- */

static void gemm_reference(bool ta, bool tb, const float *A, const float *B, float *C, int M,
                           int N, int K) {
    if (!ta && !tb) nn_kernel_matmul_nn(A, B, C, M, K, N);
    else if (!ta) nn_kernel_matmul_nt(A, B, C, M, K, N);
    else if (!tb) nn_kernel_matmul_tn(A, B, C, M, K, N);
    else /* A^T B^T: no product in the library needs it; the sum as written */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float s = 0.0f;
                for (int k = 0; k < K; k++) s += A[(size_t)k * M + i] * B[(size_t)j * K + k];
                C[(size_t)i * N + j] += s;
            }
}

/* C set to the bias rows (or zeros) in one pass: for the paths that can only add. */
static void start_all(float *C, int M, int N, gemm_start start) {
    if (!start.set) return;
    for (int r = 0; r < M; r++) {
        if (start.bias) memcpy(C + (size_t)r * N, start.bias, (size_t)N * sizeof(float));
        else memset(C + (size_t)r * N, 0, (size_t)N * sizeof(float));
    }
}

static void gemm_run(int path, bool ta, bool tb, const float *A, const float *B, float *C, int M,
                     int N, int K, int threads, gemm_start start) {
    const gemm_kernel *kr = kernel_of((nn_gemm_path)path);
    if (path == NN_GEMM_BLAS || !kr || !kr->micro) {
        start_all(C, M, N, start);
#ifdef NN_HAVE_CBLAS
        if (path == NN_GEMM_BLAS) gemm_blas(ta, tb, A, B, C, M, N, K);
        else
#endif
            gemm_reference(ta, tb, A, B, C, M, N, K);
        return;
    }
    /* op(A)(i,k) = A[i*K + k], or A[k*M + i] for A^T; op(B)(k,j) = B[k*N + j], or B[j*K + k] */
    gemm_view a = ta ? (gemm_view){A, 1, (size_t)M} : (gemm_view){A, (size_t)K, 1};
    gemm_view b = tb ? (gemm_view){B, 1, (size_t)K} : (gemm_view){B, (size_t)N, 1};
    gemm_packed(kr, a, b, C, M, N, K, threads, start);
}

/* One product on the given path (an nn_gemm_path), exactly: no small-shape path, and
 * threads > 0 fixes the team size (0: decide by size). tests/test_gemm.c and
 * bench/bench_gemm.c call it directly; the library goes through gemm() below. */
void nn_gemm_run(int path, bool ta, bool tb, const float *A, const float *B, float *C, int M,
                 int N, int K, int threads) {
    if (M <= 0 || N <= 0 || K <= 0) return;
    gemm_run(path, ta, tb, A, B, C, M, N, K, threads, GEMM_ADD);
}

/* ---- the small-shape path ------------------------------------------------------------------ */

/* A product with a few rows of C (sampling one sequence, one image): each element of B is
 * used only M times, so copying B into panels costs more than it saves. Instead, walk B in
 * its own layout, always along a contiguous row:
 *   op(B) = B:    row i of C += op(A)(i,k) * row k of B       (a scaled row added)
 *   op(B) = B^T:  C(i,j) += op(A) row i . row j of B          (a dot product)
 * One thread, no buffers, no setup: the whole cost is the arithmetic. */
static void gemm_few_rows(bool ta, bool tb, const float *A, const float *B, float *C, int M,
                          int N, int K) {
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * N;
        if (!tb) {
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                const float *b = B + (size_t)k * N;
                for (int j = 0; j < N; j++) c[j] += a * b[j];
            }
        } else {
            for (int j = 0; j < N; j++) {
                const float *b = B + (size_t)j * K;
                float s = 0.0f;
                if (ta)
                    for (int k = 0; k < K; k++) s += A[(size_t)k * M + i] * b[k];
                else
                    for (int k = 0; k < K; k++) s += A[(size_t)i * K + k] * b[k];
                c[j] += s;
            }
        }
    }
}

#ifdef NN_GEMM_HAVE_SMALL_K
/* The short-K path (gemm_micro.c) for the convolutions' products: K of at most
 * NN_GEMM_SMALL_K, B not transposed, rows long enough for its 32-column steps, on the AVX2
 * or AVX-512 paths; and one thread's work (inside the convolution's loop over images, or a
 * product too small for threads), since this path does not split C among threads. Measured
 * with bench/bench_conv.c on the chapter 3 CNN's shapes. */
/* A product for one thread: inside the convolution's loop over images, or too small for a
 * team (these paths do not split C among threads). */
static bool one_threads_work(int M, int N, int K) {
#ifdef _OPENMP
    return inside_parallel() || (long)M * N * K <= PARALLEL_MIN_FLOPS;
#else
    (void)M, (void)N, (void)K;
    return true;
#endif
}

static bool use_small_k(nn_gemm_path path, bool tb, int M, int N, int K) {
    if (tb || K > NN_GEMM_SMALL_K || N < 64) return false;
    if (path != NN_GEMM_AVX2 && path != NN_GEMM_AVX512) return false;
    return one_threads_work(M, N, K);
}

/* The dot-product path for C += A B^T with few rows and columns of C and a long K: the
 * convolutions' weight gradients (8 x 9 and 16 x 72 from K = 784 and 196), the RNN's
 * dh = dg Wh^T (32 x 128 from K = 384). The bounds enclose those shapes, not a measured
 * crossover; on them it took the CNN workload from 2.5-2.6 to 1.8-2.2 s for 300 batches and
 * the RNN's dh over 64 steps from 4.3 to 1.8-2.2 ms (one thread, AVX-512). */
#define DOT_MAX_M 64
#define DOT_MAX_N 128
#define DOT_MIN_K 64
static bool use_dot_nt(nn_gemm_path path, bool ta, bool tb, int M, int N, int K) {
    if (ta || !tb || M > DOT_MAX_M || N > DOT_MAX_N || K < DOT_MIN_K) return false;
    if (path != NN_GEMM_AVX2 && path != NN_GEMM_AVX512) return false;
    return one_threads_work(M, N, K);
}
#endif

/* C (M, N) += A^T B, A stored (K, M), with few rows M and many columns N: a weight gradient
 * x^T dY of a layer that widens, like the char model's head (128 x 2502 from K = 2048). The
 * packed GEMM would copy all of B (K x N, 20 MB there) into panels. Its transpose
 * C^T (N, M) = B^T A needs no such copy: op(A) is then B^T, which the strided micro-kernel
 * reads in place (for each k, MR neighbouring floats of one row of B), and only A (K x M) is
 * packed. So compute C^T into a buffer and add it back transposed (M N floats, against the
 * K N it saves). On the head it took 1.3 GFLOP from about 72 to 90 GFLOP/s on one thread,
 * 132 to 155 on two (AVX-512). */
static bool use_transposed_tn(const gemm_kernel *kr, bool ta, bool tb, int M, int N, int K) {
    return kr && kr->micro_strided && ta && !tb && N >= 4 * M &&
           M <= PACK_A_MIN_PANELS * kr->NR && K >= kr->KC;
}

static void gemm_tn_transposed(int path, const float *A, const float *B, float *C, int M,
                               int N, int K, gemm_start start) {
    float *ct = nn_xmalloc((size_t)N * M * sizeof(float));   /* C^T (N, M) */
    gemm_run(path, true, false, B, A, ct, N, M, K, 0, (gemm_start){true, NULL});
    enum { TILE = 32 };   /* the transpose in tiles, so both sides stay in the cache */
#pragma omp parallel for schedule(static) if ((long)M * N > PARALLEL_MIN_ELEMENTS)
    for (int i0 = 0; i0 < M; i0 += TILE)
        for (int j0 = 0; j0 < N; j0 += TILE) {
            int i1 = min_int(M, i0 + TILE), j1 = min_int(N, j0 + TILE);
            for (int i = i0; i < i1; i++) {
                float *c = C + (size_t)i * N;
                for (int j = j0; j < j1; j++) {
                    float v = ct[(size_t)j * M + i];
                    c[j] = start.set ? v + (start.bias ? start.bias[j] : 0.0f) : c[j] + v;
                }
            }
        }
    free(ct);
}

/* The one entry point: every product in the library comes through here. */
static void gemm(bool ta, bool tb, const float *A, const float *B, float *C, int M, int N,
                 int K, gemm_start start) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* C += nothing; C = bias + nothing */
        start_all(C, M, N, start);
        return;
    }
    nn_gemm_path path = nn_gemm_path_in_use();
    bool packed = path != NN_GEMM_REFERENCE && path != NN_GEMM_BLAS &&
                  M > FEW_ROWS && (long)M * N * K > TINY_FLOPS;
#ifdef NN_GEMM_HAVE_SMALL_K
    bool small_k = packed && use_small_k(path, tb, M, N, K);
    bool dot_nt = packed && !small_k && use_dot_nt(path, ta, tb, M, N, K);
#else
    bool small_k = false, dot_nt = false;
#endif
    if (packed && !small_k && !dot_nt) {   /* sets C tile by tile */
        if (use_transposed_tn(kernel_of(path), ta, tb, M, N, K))
            gemm_tn_transposed(path, A, B, C, M, N, K, start);
        else
            gemm_run(path, ta, tb, A, B, C, M, N, K, 0, start);
        return;
    }
    start_all(C, M, N, start);   /* the other paths add onto C */
    if (path == NN_GEMM_REFERENCE || path == NN_GEMM_BLAS)
        gemm_run(path, ta, tb, A, B, C, M, N, K, 0, GEMM_ADD);
#ifdef NN_GEMM_HAVE_SMALL_K
    else if (small_k && path == NN_GEMM_AVX512) nn_gemm_small_k_avx512(ta, A, B, C, M, N, K);
    else if (small_k) nn_gemm_small_k_avx2(ta, A, B, C, M, N, K);
    else if (dot_nt && path == NN_GEMM_AVX512) nn_gemm_dot_nt_avx512(A, B, C, M, N, K);
    else if (dot_nt) nn_gemm_dot_nt_avx2(A, B, C, M, N, K);
#endif
    else gemm_few_rows(ta, tb, A, B, C, M, N, K);
}

void nn_kernel_gemm_nn(const float *A, const float *B, float *C, int M, int K, int N) {
    gemm(false, false, A, B, C, M, N, K, GEMM_ADD);
}
void nn_kernel_gemm_nt(const float *A, const float *B, float *C, int M, int K, int N) {
    gemm(false, true, A, B, C, M, N, K, GEMM_ADD);
}
void nn_kernel_gemm_tn(const float *A, const float *B, float *C, int M, int K, int N) {
    gemm(true, false, A, B, C, M, N, K, GEMM_ADD);
}
void nn_kernel_gemm_set(bool ta, bool tb, const float *A, const float *B, float *C, int M,
                        int N, int K, const float *bias) {
    gemm(ta, tb, A, B, C, M, N, K, (gemm_start){true, bias});
}

void nn_sgemm(bool trans_a, bool trans_b, int M, int N, int K, const float *A, const float *B,
              float *C) {
    if (M < 0 || N < 0 || K < 0) {
        nn_fail("nn_sgemm", "sizes are counts of rows and columns", "M = %d, N = %d, K = %d",
                M, N, K);
        return;
    }
    if (M == 0 || N == 0 || K == 0) return; /* C += nothing */
    if (!A || !B || !C) {
        nn_fail("nn_sgemm", "pass the three arrays (an earlier allocation may have failed)",
                "A = %p, B = %p, C = %p", (const void *)A, (const void *)B, (void *)C);
        return;
    }
    gemm(trans_a, trans_b, A, B, C, M, N, K, GEMM_ADD);
}
