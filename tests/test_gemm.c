/* tests/test_gemm.c — the blocked GEMM (src/core/gemm.c) against the plain sums, on every
 * micro-kernel this machine can run, every layout, and shapes that hit every edge: sizes of
 * 1, not multiples of the register tile (MR, NR) or of the cache blocks (MC, KC, NC), C
 * accumulating onto what it holds; with one thread and with a team. */
#include "testing.h"
#include "../src/internal.h"
#include <float.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const nn_gemm_path vector_paths[] = {NN_GEMM_PLAIN, NN_GEMM_SSE, NN_GEMM_AVX2,
                                            NN_GEMM_AVX512};

static void fill(float *p, size_t n, nn_rng *rng) {
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * nn_rng_uniform(rng) - 1.0f;
}

/* op(A)(i,k) and op(B)(k,j) for the layouts of nn_sgemm */
static float a_at(const float *A, bool ta, int M, int K, int i, int k) {
    return ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
}
static float b_at(const float *B, bool tb, int K, int N, int k, int j) {
    return tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
}

/* got == C0 + op(A) op(B) within float rounding. The sum of K products rounded one at a time,
 * in any order, is off by at most about K * eps/2 * (sum of |terms|) (Higham, "Accuracy and
 * Stability of Numerical Algorithms", 3.1); we allow 2 K eps of it, per element, against an
 * exact (double) sum. A wrong index or a lost edge is off by a whole term or more. */
static void check_product(const float *got, const float *C0, const float *A, const float *B,
                          bool ta, bool tb, int M, int N, int K, const char *what) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = C0[(size_t)i * N + j], mag = fabs(s);
            for (int k = 0; k < K; k++) {
                double t = (double)a_at(A, ta, M, K, i, k) * b_at(B, tb, K, N, k, j);
                s += t;
                mag += fabs(t);
            }
            double err = fabs(got[(size_t)i * N + j] - s), tol = 2.0 * (K + 1) * FLT_EPSILON * mag;
            if (!(err <= tol))
                fail_msg("%s %c%c M=%d N=%d K=%d: C[%d,%d] = %.8g, want %.8g (err %.3g > %.3g)",
                         what, ta ? 't' : 'n', tb ? 't' : 'n', M, N, K, i, j,
                         got[(size_t)i * N + j], s, err, tol);
        }
}

/* M, N, K: 1s, odd sizes, and sizes just past every kernel's MR (4, 6, 14), NR (8, 16, 32),
 * KC (192, 256), MC (128, 140, 144) and NC (2048, 3072); N up to 256 has A read in place,
 * wider products pack it (PACK_A_MIN_PANELS in src/core/gemm.c): both with edges. */
static const int shapes[][3] = {
    {1, 1, 1},    {1, 7, 1},     {7, 1, 7},     {7, 7, 7},    {1, 33, 65},  {33, 1, 65},
    {33, 65, 1},  {65, 33, 127}, {127, 65, 33}, {6, 16, 256}, {7, 17, 257}, {15, 33, 193},
    {14, 32, 192}, {5, 9, 513},  {145, 20, 40}, {141, 41, 9}, {257, 7, 33}, {3, 3073, 5},
    {2, 2049, 3},  {145, 300, 40}, {7, 129, 257}, {141, 260, 9}, {150, 257, 200},
};

/* Each (M, N, K) of sizes in all four layouts, C accumulating onto non-zero content, against
 * the plain sums: on `path` with `threads` (nn_gemm_run), or through the library's entry point
 * nn_sgemm when path is NN_GEMM_AUTO (which then takes whatever path is set). */
static void check_sizes(const int (*sizes)[3], size_t n, nn_rng *rng, nn_gemm_path path,
                        int threads, const char *what) {
    for (size_t s = 0; s < n; s++) {
        int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C0 = malloc(sizeof(float) * M * N), *C = malloc(sizeof(float) * M * N);
        fill(A, (size_t)M * K, rng);
        fill(B, (size_t)K * N, rng);
        fill(C0, (size_t)M * N, rng);
        for (int layout = 0; layout < 4; layout++) {
            bool ta = layout & 1, tb = layout & 2;
            memcpy(C, C0, sizeof(float) * M * N);
            if (path == NN_GEMM_AUTO) nn_sgemm(ta, tb, M, N, K, A, B, C);
            else nn_gemm_run(path, ta, tb, A, B, C, M, N, K, threads);
            check_product(C, C0, A, B, ta, tb, M, N, K, what);
        }
        free(A), free(B), free(C0), free(C);
    }
}

static void run_shapes(nn_gemm_path path, int threads) {
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    check_sizes(shapes, sizeof shapes / sizeof shapes[0], &rng, path, threads,
                nn_gemm_path_name(path));
}

/* Every micro-kernel this CPU runs, one thread. The ones it cannot run are skipped (and
 * said so): on an AVX2 machine that is AVX-512. */
static void test_every_path_matches_the_sums(void **state) {
    (void)state;
    run_shapes(NN_GEMM_REFERENCE, 1);
    for (size_t p = 0; p < sizeof vector_paths / sizeof vector_paths[0]; p++) {
        if (!nn_gemm_path_supported(vector_paths[p])) {
            printf("  [ skip ] %s: this CPU cannot run it\n", nn_gemm_path_name(vector_paths[p]));
            continue;
        }
        run_shapes(vector_paths[p], 1);
    }
}

/* The same with a team of 3 threads (more than blocks in some shapes, on purpose): each
 * C element is summed by one thread in the same order, so the bits match one thread's. */
static void test_threads_give_the_same_bits(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    const int sizes[][3] = {{33, 65, 127}, {150, 300, 70}, {257, 129, 300}};
    for (size_t p = 0; p < sizeof vector_paths / sizeof vector_paths[0]; p++) {
        nn_gemm_path path = vector_paths[p];
        if (!nn_gemm_path_supported(path)) continue;
        run_shapes(path, 3);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
            float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
            fill(A, (size_t)M * K, &rng);
            fill(B, (size_t)K * N, &rng);
            fill(C1, (size_t)M * N, &rng);
            memcpy(C2, C1, sizeof(float) * M * N);
            nn_gemm_run(path, false, true, A, B, C1, M, N, K, 1);
            nn_gemm_run(path, false, true, A, B, C2, M, N, K, 2);
            assert_memory_equal(C1, C2, sizeof(float) * M * N);
            free(A);
            free(B);
            free(C1);
            free(C2);
        }
    }
}

/* C = bias + op(A) op(B) (nn_kernel_gemm_set, for fresh outputs): C's old contents (NaN
 * here) never read, on every path the library can take (the reference, the few-rows and
 * short-K paths, the packed kernels, with threads for the product above 2^24), each tile
 * starting from the bias or from zero. */
static void test_set_ignores_old_c(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    const int sizes[][3] = {{1, 7, 5},    {7, 33, 9},    {33, 65, 127}, {15, 300, 16},
                            {145, 41, 200}, {257, 7, 33}, {300, 300, 200}, {20, 300, 260}};
    const nn_gemm_path paths[] = {NN_GEMM_REFERENCE, NN_GEMM_PLAIN, NN_GEMM_SSE, NN_GEMM_AVX2,
                                  NN_GEMM_AVX512, NN_GEMM_BLAS};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        if (!nn_gemm_path_supported(paths[p])) continue;
        nn_set_gemm_path(paths[p]);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
            float *C0 = malloc(sizeof(float) * M * N), *C = malloc(sizeof(float) * M * N);
            float *bias = malloc(sizeof(float) * N);
            fill(A, (size_t)M * K, &rng);
            fill(B, (size_t)K * N, &rng);
            fill(bias, (size_t)N, &rng);
            for (int layout = 0; layout < 8; layout++) {
                bool ta = layout & 1, tb = layout & 2, with_bias = layout & 4;
                for (int i = 0; i < M; i++)
                    for (int j = 0; j < N; j++) C0[(size_t)i * N + j] = with_bias ? bias[j] : 0.0f;
                for (size_t i = 0; i < (size_t)M * N; i++) C[i] = NAN;
                nn_kernel_gemm_set(ta, tb, A, B, C, M, N, K, with_bias ? bias : NULL);
                check_product(C, C0, A, B, ta, tb, M, N, K, nn_gemm_path_name(paths[p]));
            }
            free(A), free(B), free(C0), free(C), free(bias);
        }
    }
    nn_set_gemm_path(NN_GEMM_AUTO);
}

/* nn_linear(x, W, b) against nn_add(nn_matmul(x, W), b): values and all three gradients,
 * K past the cache block (the bias then joins the sum at another point: float rounding
 * apart), (B, T, K) inputs; and its refusals. */
static void test_linear_op_matches_matmul_add(void **state) {
    (void)state;
    /* the last: enough for the bias sums to run on the threads, in blocks of 256 columns */
    const int cases[][4] = {{1, 37, 300, 45}, {3, 9, 20, 17}, {1, 2048, 64, 70},
                            {1, 1100, 8, 600}};   /* B M K N */
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int *d = cases[c];
        float *got[2][4];
        size_t sizes[4];
        for (int fused = 0; fused < 2; fused++) {
            nn_seed(9);
            nn_tensor *x = d[0] == 1 ? nn_rand_uniform(-1, 1, NN_SHAPE(d[1], d[2]))
                                     : nn_rand_uniform(-1, 1, NN_SHAPE(d[0], d[1], d[2]));
            nn_tensor *w = nn_rand_uniform(-1, 1, NN_SHAPE(d[2], d[3]));
            nn_tensor *b = nn_rand_uniform(-1, 1, NN_SHAPE(d[3]));
            nn_tensor *t[3] = {nn_requires_grad(x), nn_requires_grad(w), nn_requires_grad(b)};
            nn_tensor *y = fused ? nn_linear(x, w, b) : nn_add(nn_matmul(x, w), b);
            nn_tensor *weights = nn_rand_uniform(-1, 1, y->ndim, y->shape);
            nn_backward(nn_sum(nn_mul(y, weights)));
            const float *src[4] = {y->data, x->grad, w->grad, b->grad};
            size_t n[4] = {y->size, x->size, w->size, b->size};
            for (int k = 0; k < 4; k++) {
                sizes[k] = n[k];
                got[fused][k] = malloc(sizeof(float) * n[k]);
                memcpy(got[fused][k], src[k], sizeof(float) * n[k]);
            }
            for (int k = 0; k < 3; k++) nn_tensor_free(t[k]);
            nn_tensor_free(weights);
            nn_graph_clear();
        }
        for (int k = 0; k < 4; k++) {
            assert_floats_near(got[0][k], got[1][k], sizes[k], 1e-4f * (k == 0 ? 1 : 20));
            free(got[0][k]);
            free(got[1][k]);
        }
    }
    nn_tensor *x = nn_zeros(NN_SHAPE(4, 3)), *w = nn_zeros(NN_SHAPE(3, 2));
    nn_tensor *bad_w = nn_zeros(NN_SHAPE(4, 2)), *bad_b = nn_zeros(NN_SHAPE(3));
    EXPECT_NN_ERROR(nn_linear(x, bad_w, NULL), "do not fit", "(4, 3)", "(4, 2)");
    EXPECT_NN_ERROR(nn_linear(x, w, bad_b), "one number per output", "(3)");
    EXPECT_NN_ERROR(nn_linear(NULL, w, NULL), "NULL");
    nn_tensor *y = nn_linear(x, w, NULL);   /* no bias: x W */
    assert_int_equal(y->shape[0], 4);
    assert_int_equal(y->shape[1], 2);
    nn_graph_clear();
    nn_tensor_free(x), nn_tensor_free(w), nn_tensor_free(bad_w), nn_tensor_free(bad_b);
}

/* The public entry point on the chosen path, the small-shape path and automatic threads
 * included: a product above the thread threshold (2^24 multiply-adds) and small ones. */
static void test_sgemm_public(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    const int sizes[][3] = {{3, 4, 5}, {1, 33, 65}, {1, 128, 7}, {2, 9, 40}, {32, 128, 128},
                            {260, 257, 258}};
    check_sizes(sizes, sizeof sizes / sizeof sizes[0], &rng, NN_GEMM_AUTO, 0, "nn_sgemm");
    float one = 1.0f;
    nn_sgemm(false, false, 0, 5, 5, NULL, NULL, NULL); /* nothing to do: fine */
    nn_sgemm(false, false, 1, 1, 1, &one, &one, &one);
    assert_float_equal(one, 2.0f, 0.0f);
    EXPECT_NN_ERROR(nn_sgemm(false, false, -1, 2, 2, &one, &one, &one), "nn_sgemm", "M = -1");
    EXPECT_NN_ERROR(nn_sgemm(false, false, 1, 1, 1, NULL, &one, &one), "nn_sgemm", "arrays");
}

/* check_sizes through the library's entry point (which then picks its small-shape paths)
 * with each vector path this CPU runs set in turn. */
static void on_every_vector_path(const int (*sizes)[3], size_t n, nn_rng *rng) {
    nn_gemm_path was = nn_gemm_path_in_use();
    for (size_t p = 0; p < sizeof vector_paths / sizeof vector_paths[0]; p++) {
        if (!nn_gemm_path_supported(vector_paths[p])) continue;
        nn_set_gemm_path(vector_paths[p]);
        check_sizes(sizes, n, rng, NN_GEMM_AUTO, 0, nn_gemm_path_name(vector_paths[p]));
    }
    nn_set_gemm_path(was);
}

/* The short-K path (the convolutions' products: K <= 16, N >= 64), through nn_sgemm on every
 * path this CPU runs (AVX2 and AVX-512 take it, the others the packed GEMM), on K = 1 and
 * K just below and at the limit, N not a multiple of 32 or 8, A plain and transposed, C
 * accumulating; and K = 17, B transposed, which must not take it but still be right. */
static void test_short_k_products(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 19);
    const int sizes[][3] = {{1, 64, 1}, {8, 784, 9}, {9, 784, 8}, {16, 196, 16}, {5, 95, 3},
                            {3, 100, 15}, {72, 196, 16}, {4, 71, 17}, {2, 64, 2}};
    on_every_vector_path(sizes, sizeof sizes / sizeof sizes[0], &rng);
}

/* The dot-product path (C += A B^T with few rows and columns and a long K: the convolutions'
 * weight gradients, the RNN's dh) on each vector path, through the library's entry point:
 * sizes not multiples of its 4 x 4 block, K not a multiple of 8 or 16; the other layouts of
 * the same shapes take the packed kernels. */
static void test_dot_product_path(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 29);
    const int sizes[][3] = {{8, 9, 784}, {16, 72, 196}, {32, 128, 384}, {2, 1, 200},
                            {3, 5, 64},  {5, 7, 65},    {63, 127, 100}, {4, 4, 79},
                            {64, 128, 71}, {17, 3, 1000}};
    on_every_vector_path(sizes, sizeof sizes / sizeof sizes[0], &rng);
}

/* C += A^T B with few rows and many columns (a widening layer's weight gradient) is computed
 * as its transpose and added back (use_transposed_tn in src/core/gemm.c), on the kernels that
 * read A in place: M up to 256, N >= 4 M, K past a cache block; edges of MR, NR and KC. The
 * other three layouts of the same shapes take the usual paths. With nn_kernel_gemm_set (and a
 * bias) it is covered in test_set_ignores_old_c. */
static void test_transposed_weight_gradient(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 31);
    const int sizes[][3] = {{2, 9, 300},   {7, 33, 257},  {14, 129, 200}, {15, 61, 193},
                            {33, 300, 700}, {65, 260, 385}, {128, 600, 256}};
    on_every_vector_path(sizes, sizeof sizes / sizeof sizes[0], &rng);
}

/* The system BLAS (a `make BLAS=openblas` build) on the same shapes and layouts, C
 * accumulating: the library hands it the same C += op(A) op(B). Skipped in other builds. */
static void test_system_blas_matches_the_sums(void **state) {
    (void)state;
    if (!nn_gemm_path_supported(NN_GEMM_BLAS)) {
        printf("  [ skip ] blas: not built in (make BLAS=openblas)\n");
        return;
    }
    run_shapes(NN_GEMM_BLAS, 1);
    nn_gemm_path was = nn_gemm_path_in_use();
    nn_set_gemm_path(NN_GEMM_BLAS);   /* and through the library's entry point */
    nn_rng rng;
    nn_rng_seed(&rng, 23);
    const int sizes[][3] = {{1, 33, 65}, {8, 784, 9}, {65, 33, 127}};
    check_sizes(sizes, sizeof sizes / sizeof sizes[0], &rng, NN_GEMM_AUTO, 0, "blas");
    nn_set_gemm_path(was);
}

/* Choosing the path: the switch, the reference shorthand, $NN_GEMM, refusals. */
static void test_choosing_the_path(void **state) {
    (void)state;
    unsetenv("NN_GEMM"); /* whatever the environment asked for: from the CPU's best */
    assert_int_equal(nn_set_gemm_path(NN_GEMM_AUTO), 0);
    nn_gemm_path best = nn_gemm_path_in_use();
    assert_true(best != NN_GEMM_AUTO && best != NN_GEMM_REFERENCE);
    assert_false(nn_set_matmul_reference(true));
    assert_true(nn_is_matmul_reference());
    assert_int_equal(nn_gemm_path_in_use(), NN_GEMM_REFERENCE);
    assert_true(nn_set_matmul_reference(false));
    assert_int_equal(nn_gemm_path_in_use(), best);
    assert_int_equal(nn_set_gemm_path(NN_GEMM_PLAIN), 0);
    assert_string_equal(nn_gemm_path_name(nn_gemm_path_in_use()), "plain");
    setenv("NN_GEMM", "sse", 1);
    assert_int_equal(nn_set_gemm_path(NN_GEMM_AUTO), 0); /* AUTO reads $NN_GEMM again */
    assert_int_equal(nn_gemm_path_in_use(),
                     nn_gemm_path_supported(NN_GEMM_SSE) ? NN_GEMM_SSE : best);
    unsetenv("NN_GEMM");
    assert_int_equal(nn_set_gemm_path(NN_GEMM_AUTO), 0);
    assert_int_equal(nn_gemm_path_in_use(), best);
    EXPECT_NN_ERROR(nn_set_gemm_path((nn_gemm_path)42), "nn_set_gemm_path", "not available");
    if (!nn_gemm_path_supported(NN_GEMM_AVX512))
        EXPECT_NN_ERROR(nn_set_gemm_path(NN_GEMM_AVX512), "nn_set_gemm_path", "avx512");
    assert_int_equal(nn_gemm_path_in_use(), best); /* a refusal changes nothing */
}

/* nn_matmul forward and backward (whose products are the _nt and _tn layouts) give the same
 * numbers on the reference loops and on the GEMM, batched and shared-B shapes included. */
static void test_matmul_op_on_both_paths(void **state) {
    (void)state;
    const int cases[][6] = {/* ndim a, ndim b, B, M, K, N */
                            {2, 2, 1, 37, 70, 45},
                            {3, 3, 3, 9, 20, 17},
                            {3, 2, 4, 13, 33, 19}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int *d = cases[c];
        float *out[2], *ga[2], *gb[2];
        size_t no = 0, na = 0, nb = 0;
        for (int ref = 0; ref < 2; ref++) {
            nn_set_matmul_reference(ref);
            nn_seed(5);
            nn_tensor *a = d[0] == 2 ? nn_rand_uniform(-1, 1, NN_SHAPE(d[3], d[4]))
                                     : nn_rand_uniform(-1, 1, NN_SHAPE(d[2], d[3], d[4]));
            nn_tensor *b = d[1] == 2 ? nn_rand_uniform(-1, 1, NN_SHAPE(d[4], d[5]))
                                     : nn_rand_uniform(-1, 1, NN_SHAPE(d[2], d[4], d[5]));
            nn_requires_grad(a);
            nn_requires_grad(b);
            nn_tensor *y = nn_matmul(a, b);
            nn_tensor *w = nn_rand_uniform(-1, 1, y->ndim, y->shape); /* a weighted sum */
            nn_backward(nn_sum(nn_mul(y, w)));
            no = y->size, na = a->size, nb = b->size;
            out[ref] = malloc(sizeof(float) * no);
            ga[ref] = malloc(sizeof(float) * na);
            gb[ref] = malloc(sizeof(float) * nb);
            memcpy(out[ref], y->data, sizeof(float) * no);
            memcpy(ga[ref], a->grad, sizeof(float) * na);
            memcpy(gb[ref], b->grad, sizeof(float) * nb);
            nn_tensor_free(a);
            nn_tensor_free(b);
            nn_tensor_free(w);
            nn_graph_clear();
        }
        nn_set_matmul_reference(false);
        assert_floats_near(out[0], out[1], no, 1e-4f);
        assert_floats_near(ga[0], ga[1], na, 1e-4f);
        assert_floats_near(gb[0], gb[1], nb, 1e-4f);
        for (int r = 0; r < 2; r++) {
            free(out[r]);
            free(ga[r]);
            free(gb[r]);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_every_path_matches_the_sums),
        NN_TEST(test_system_blas_matches_the_sums),
        NN_TEST(test_threads_give_the_same_bits),
        NN_TEST(test_sgemm_public),
        NN_TEST(test_short_k_products),
        NN_TEST(test_dot_product_path),
        NN_TEST(test_transposed_weight_gradient),
        NN_TEST(test_set_ignores_old_c),
        NN_TEST(test_linear_op_matches_matmul_add),
        NN_TEST(test_choosing_the_path),
        NN_TEST(test_matmul_op_on_both_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
