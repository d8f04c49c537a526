/* bench/bench_gemm.c — sgemm GFLOP/s: the GEMM's micro-kernels, the reference loop, the
 * machine's peak, and (when it can be loaded) OpenBLAS, all measured in this one run.
 *
 * For square C (n,n) += A (n,n) B (n,n), n = 64 ... 1024, prints GFLOP/s (2 n^3 flops per
 * call; best call of those that fit in the time budget, since the machine may be shared):
 *   peak      an FMA loop with 12 (AVX2) or 28 (AVX-512) independent accumulators: what one
 *             core can do when nothing waits for memory
 *   ref       the plain i-k-j loop of src/core/kernels.c (one thread)
 *   plain, sse, avx2, avx512   the blocked GEMM with that micro-kernel (one thread)
 *   2 thr     the fastest micro-kernel with two threads
 *   openblas  cblas_sgemm from libopenblas.so.0 loaded at run time (--blas PATH: another
 *             library with cblas_sgemm), 1 and 2 threads; omitted when none loads
 * and the per-cent of peak. --crossover instead times small shapes on the reference loop, on
 * the blocked GEMM and through nn_sgemm (which takes the small-shape path for at most
 * FEW_ROWS rows, src/core/gemm.c): where the columns cross is where FEW_ROWS belongs.
 * Ratios within one run are what to read: on a shared machine the absolute numbers move.
 * Usage: bench_gemm [--quick] [--crossover] [--blas PATH]                                */
#include <nn.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Library-internal (src/internal.h), declared here only to time them. */
void nn_gemm_run(int path, bool trans_a, bool trans_b, const float *A, const float *B, float *C,
                 int M, int N, int K, int threads);

/* ---- the peak: an FMA loop that never waits for memory ------------------------------------ */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
/* 12 independent chains of 8-float FMAs: enough to cover the FMA latency (4-5 cycles) at two
 * FMAs per cycle. Returns the flops done (2 per lane per FMA). */
__attribute__((target("avx2,fma"), noinline)) static double fma_loop_avx2(long iters, float *sink) {
    /* Different starting values: identical chains would be merged into one by the compiler. */
    __m256 x = _mm256_set1_ps(0.999f), y = _mm256_set1_ps(1e-3f);
#define START(i) _mm256_set1_ps(1.0f + (i) * 0.01f)
    __m256 a0 = START(0), a1 = START(1), a2 = START(2), a3 = START(3), a4 = START(4),
           a5 = START(5), a6 = START(6), a7 = START(7), a8 = START(8), a9 = START(9),
           a10 = START(10), a11 = START(11);
#undef START
    for (long i = 0; i < iters; i++) {
        a0 = _mm256_fmadd_ps(a0, x, y); a1 = _mm256_fmadd_ps(a1, x, y);
        a2 = _mm256_fmadd_ps(a2, x, y); a3 = _mm256_fmadd_ps(a3, x, y);
        a4 = _mm256_fmadd_ps(a4, x, y); a5 = _mm256_fmadd_ps(a5, x, y);
        a6 = _mm256_fmadd_ps(a6, x, y); a7 = _mm256_fmadd_ps(a7, x, y);
        a8 = _mm256_fmadd_ps(a8, x, y); a9 = _mm256_fmadd_ps(a9, x, y);
        a10 = _mm256_fmadd_ps(a10, x, y); a11 = _mm256_fmadd_ps(a11, x, y);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, s);
    *sink += out[0]; /* keep the result alive */
    return (double)iters * 12 * 8 * 2;
}

/* 24 chains of 16-float FMAs for AVX-512 (two FMA units on most Xeons). */
__attribute__((target("avx512f"), noinline)) static double fma_loop_avx512(long iters,
                                                                         float *sink) {
    __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
    __m512 a[24];
    for (int j = 0; j < 24; j++) a[j] = _mm512_set1_ps(1.0f + j * 0.01f); /* all different */
    for (long i = 0; i < iters; i++) {
#pragma GCC unroll 24
        for (int j = 0; j < 24; j++) a[j] = _mm512_fmadd_ps(a[j], x, y);
    }
    __m512 s = a[0];
    for (int j = 1; j < 24; j++) s = _mm512_add_ps(s, a[j]);
    *sink += _mm512_reduce_add_ps(s);
    return (double)iters * 24 * 16 * 2;
}
#endif

/* GFLOP/s of `threads` cores: each thread times many short runs (about 0.05 ms each) of the
 * FMA loop and keeps its best, and the bests are added up. Short, so that on a busy machine
 * some runs go through without the scheduler taking the core away; timed per thread, with
 * no barrier between runs, since the cores do not share FMA units (no SMT here: lscpu). */
static double measure_peak(int threads, const char **isa) {
    *isa = "none";
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    bool wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    *isa = wide ? "avx512" : "avx2";
    double total = 0;
    float sink = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total, sink)
    {
        double best = 0, start = nn_seconds();
        for (int rep = 0; rep < 20 || (rep < 20000 && nn_seconds() - start < 0.3); rep++) {
            double t0 = nn_seconds();
            double flops = wide ? fma_loop_avx512(1000, &sink) : fma_loop_avx2(2000, &sink);
            double g = flops / (nn_seconds() - t0) * 1e-9;
            if (g > best) best = g;
        }
        total += best;
    }
    if (sink == 12345.0f) printf(" "); /* never: only to use sink */
    return total;
#else
    (void)threads;
    return 0;
#endif
}

/* ---- OpenBLAS (or another CBLAS), loaded at run time so the build never needs it ---------- */
typedef void (*cblas_sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta,
                               float *c, int ldc);
typedef void (*set_threads_fn)(int);
static cblas_sgemm_fn blas_sgemm;
static set_threads_fn blas_set_threads;

static bool load_blas(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) return false;
    /* POSIX: the object pointer from dlsym converts to a function pointer */
    *(void **)&blas_sgemm = dlsym(h, "cblas_sgemm");
    *(void **)&blas_set_threads = dlsym(h, "openblas_set_num_threads");
    return blas_sgemm != NULL;
}

/* ---- timing ------------------------------------------------------------------------------- */

enum { PATH_BLAS = 100, PATH_SGEMM }; /* OpenBLAS; nn_sgemm with its own choices */

/* One call of C += A B on `path` (an nn_gemm_path, or PATH_BLAS) with `threads` threads. */
static void one_call(int path, int threads, const float *A, const float *B, float *C, int M,
                     int N, int K) {
    if (path == PATH_SGEMM) {
        nn_sgemm(false, false, M, N, K, A, B, C);
    } else if (path == PATH_BLAS) {
        if (blas_set_threads) blas_set_threads(threads);
        blas_sgemm(101 /* row major */, 111, 111, M, N, K, 1.0f, A, K, B, N, 1.0f, C, N);
    } else if (path == NN_GEMM_REFERENCE) {
#ifdef _OPENMP
        omp_set_num_threads(threads); /* the reference loop splits rows when big */
#endif
        nn_gemm_run(path, false, false, A, B, C, M, N, K, threads);
#ifdef _OPENMP
        omp_set_num_threads(omp_get_num_procs());
#endif
    } else {
        nn_gemm_run(path, false, false, A, B, C, M, N, K, threads);
    }
}

/* Seconds of the fastest call among those that fit in `budget` seconds (at least 5 calls).
 * Two calls first warm up and are not counted: the caches, the packing buffers' pages and,
 * the first time threads are asked for, the creation of the thread team (milliseconds). */
static double best_call(int path, int threads, const float *A, const float *B, float *C, int M,
                        int N, int K, double budget) {
    one_call(path, threads, A, B, C, M, N, K);
    one_call(path, threads, A, B, C, M, N, K);
    double best = 1e30, start = nn_seconds();
    for (int r = 0; r < 5 || nn_seconds() - start < budget; r++) {
        double t0 = nn_seconds();
        one_call(path, threads, A, B, C, M, N, K);
        double t = nn_seconds() - t0;
        if (t < best) best = t;
        if (r > 100000) break;
    }
    return best;
}

static float *random_floats(size_t n) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
    return p;
}

/* Tiny shapes: where does the blocked GEMM start to beat the plain loop? */
static int crossover(double budget) {
    nn_gemm_path best = nn_gemm_path_in_use();
    const int shapes[][3] = {{1, 1, 1},     {4, 4, 4},     {8, 8, 8},     {16, 16, 16},
                             {32, 32, 32},  {1, 128, 128}, {2, 128, 128}, {3, 128, 128},
                             {4, 128, 128}, {6, 128, 128}, {8, 128, 128}, {32, 128, 128},
                             {1, 10, 256},  {2, 10, 256},  {4, 10, 256},  {64, 10, 256},
                             {1, 512, 64},  {2, 512, 64},  {4, 512, 64},  {64, 128, 784}};
    printf("C (M,N) += A (M,K) B (K,N), one thread: microseconds per call, best of many\n");
    printf("%-14s %10s %10s %10s %10s %8s\n", "M x N x K", "M*N*K", "ref", nn_gemm_path_name(best),
           "nn_sgemm", "ratio");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *A = random_floats((size_t)M * K), *B = random_floats((size_t)K * N),
              *C = random_floats((size_t)M * N);
        double tr = best_call(NN_GEMM_REFERENCE, 1, A, B, C, M, N, K, budget);
        double tg = best_call(best, 1, A, B, C, M, N, K, budget);
        double ts = best_call(PATH_SGEMM, 1, A, B, C, M, N, K, budget);
        char label[32];
        snprintf(label, sizeof label, "%dx%dx%d", M, N, K);
        printf("%-14s %10ld %10.3f %10.3f %10.3f %7.2fx\n", label, (long)M * N * K, tr * 1e6,
               tg * 1e6, ts * 1e6, tr / ts);
        free(A);
        free(B);
        free(C);
    }
    return 0;
}

int main(int argc, char **argv) {
    bool quick = false, cross = false;
    const char *blas_path = "libopenblas.so.0";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "n = 64 .. 256 only, short timings"),
        NN_OPT_FLAG("--crossover", &cross, "time tiny shapes: reference loop against the GEMM"),
        NN_OPT_STR("--blas", &blas_path, "PATH", "a library with cblas_sgemm to compare with"),
    };
    nn_parse_options(argc, argv, "sgemm GFLOP/s: our GEMM, the reference loop, the peak.",
                     opts, NN_COUNTOF(opts));
    srand(1);
    double budget = quick ? 0.05 : 0.3;
    if (cross) return crossover(budget);

    bool have_blas = load_blas(blas_path);
    const char *isa;
    double peak1 = measure_peak(1, &isa), peak2 = measure_peak(2, &isa);
    nn_gemm_path best = nn_gemm_path_in_use();
    printf("sgemm C (n,n) += A B, float32, GFLOP/s = 2 n^3 / seconds (best call in the run)\n");
    printf("peak (FMA loop, %s): %.1f GFLOP/s on 1 thread, %.1f on 2; fastest kernel here: %s\n",
           isa, peak1, peak2, nn_gemm_path_name(best));
    if (!have_blas) printf("(no OpenBLAS: %s did not load; --blas PATH to name one)\n", blas_path);

    const int paths[] = {NN_GEMM_REFERENCE, NN_GEMM_PLAIN, NN_GEMM_SSE, NN_GEMM_AVX2,
                         NN_GEMM_AVX512};
    printf("%6s", "n");
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++)
        if (nn_gemm_path_supported(paths[p])) printf(" %8s", nn_gemm_path_name(paths[p]));
    printf(" %8s %7s", "2 thr", "%peak");
    if (have_blas) printf(" %8s %8s", "blas", "blas 2t");
    printf("\n");

    const int sizes[] = {64, 128, 256, 512, 1024};
    int nsizes = quick ? 3 : 5;
    double g_best[5] = {0}, g_two[5] = {0}, g_blas[5] = {0};
    for (int s = 0; s < nsizes; s++) {
        int n = sizes[s];
        float *A = random_floats((size_t)n * n), *B = random_floats((size_t)n * n),
              *C = random_floats((size_t)n * n);
        double flops = 2.0 * n * n * n;
        printf("%6d", n);
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            if (!nn_gemm_path_supported(paths[p])) continue;
            double g = flops / best_call(paths[p], 1, A, B, C, n, n, n, budget) * 1e-9;
            if (paths[p] == (int)best) g_best[s] = g;
            printf(" %8.1f", g);
            fflush(stdout);
        }
        g_two[s] = flops / best_call(best, 2, A, B, C, n, n, n, budget) * 1e-9;
        printf(" %8.1f %6.0f%%", g_two[s], peak1 > 0 ? 100 * g_best[s] / peak1 : 0);
        if (have_blas) {
            g_blas[s] = flops / best_call(PATH_BLAS, 1, A, B, C, n, n, n, budget) * 1e-9;
            printf(" %8.1f %8.1f", g_blas[s],
                   flops / best_call(PATH_BLAS, 2, A, B, C, n, n, n, budget) * 1e-9);
        }
        printf("\n");
        free(A);
        free(B);
        free(C);
    }
    /* The figures of issue 13's targets: n = 256 .. 1024 on one thread against the peak, the
     * two-thread speed-up at the largest n measured, OpenBLAS at 512. */
    double worst = 1e9;
    for (int s = 2; s < nsizes; s++)
        if (g_best[s] / peak1 < worst) worst = g_best[s] / peak1;
    int last = nsizes - 1;
    printf("result: kernel=%s peak_gflops=%.1f gflops_n%d=%.1f min_pct_peak_n256_up=%.0f "
           "speedup_2t_n%d=%.2f", nn_gemm_path_name(best), peak1, sizes[last], g_best[last],
           peak1 > 0 ? 100 * worst : 0, sizes[last], g_two[last] / g_best[last]);
    if (have_blas && nsizes > 3) printf(" vs_blas_n512=%.2f", g_best[3] / g_blas[3]);
    printf("\n");
    return 0;
}
