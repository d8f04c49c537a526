/* tests/test_kernels.c — the fast matrix kernel against the plain reference loops, on shapes
 * that hit every edge: tiny, odd, not multiples of the tile, K longer than one panel; and the
 * streaming helpers (find a non-finite value, copy, zero) on one thread and on three. */
#include "testing.h"
#include "../src/internal.h"

static void fill(float *p, size_t n, nn_rng *rng) {
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * nn_rng_uniform(rng) - 1.0f;
}

/* max |x - y| relative to the largest |y| */
static float rel_diff(const float *x, const float *y, size_t n) {
    float worst = 0, scale = 1e-6f;
    for (size_t i = 0; i < n; i++) {
        worst = fmaxf(worst, fabsf(x[i] - y[i]));
        scale = fmaxf(scale, fabsf(y[i]));
    }
    return worst / scale;
}

static void test_gemm_matches_reference(void **state) {
    (void)state;
    const int shapes[][3] = {{1, 1, 1},   {1, 7, 1},    {5, 3, 17},  {6, 16, 16},
                             {7, 9, 33},  {13, 300, 5}, {64, 784, 10}, {33, 257, 47}};
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
        fill(A, (size_t)M * K, &rng);
        fill(B, (size_t)K * N, &rng);
        fill(C1, (size_t)M * N, &rng); /* both kernels ADD into C */
        memcpy(C2, C1, sizeof(float) * M * N);
        nn_kernel_matmul_nn(A, B, C1, M, K, N);
        nn_kernel_gemm_nn(A, B, C2, M, K, N);
        float d = rel_diff(C2, C1, (size_t)M * N);
        if (d > 1e-5f) fail_msg("%dx%dx%d: relative difference %g", M, K, N, d);
        free(A);
        free(B);
        free(C1);
        free(C2);
    }
}

static void test_transposed_references_agree(void **state) {
    (void)state;
    /* nt and tn (the readable backward kernels) against nn on explicitly transposed copies */
    enum { M = 7, K = 11, N = 5 };
    nn_rng rng;
    nn_rng_seed(&rng, 4);
    float A[M * K], B[K * N], At[K * M], Bt[N * K], C0[M * N] = {0}, C1[M * N] = {0},
                                                      C2[M * N] = {0};
    fill(A, M * K, &rng);
    fill(B, K * N, &rng);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++) At[k * M + i] = A[i * K + k];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) Bt[j * K + k] = B[k * N + j];
    nn_kernel_matmul_nn(A, B, C0, M, K, N);
    nn_kernel_matmul_nt(A, Bt, C1, M, K, N);
    nn_kernel_matmul_tn(At, B, C2, M, K, N);
    assert_floats_near(C1, C0, M * N, 1e-5f);
    assert_floats_near(C2, C0, M * N, 1e-5f);
}

/* nn_find_nonfinite gives the first bad index whichever thread finds which: bad values in
 * every thread's part, the earliest one late in a block; also none, and short arrays that
 * stay on one thread. nn_copy_floats and nn_zero_floats touch exactly [0, n). */
static void test_stream_helpers_on_threads(void **state) {
    (void)state;
    enum { N = 100003 };   /* past PARALLEL_MIN_STREAM, not a multiple of any block */
    float *v = malloc(sizeof(float) * (N + 1)), *w = malloc(sizeof(float) * (N + 1));
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    fill(v, N + 1, &rng);
    for (int threads = 1; threads <= 3; threads += 2) {
        int was = test_set_threads(threads);
        v[N] = NAN;   /* past the end: never looked at */
        assert_int_equal(nn_find_nonfinite(v, N), N);
        v[99999] = INFINITY;
        v[90001] = NAN;
        v[51234] = -INFINITY;
        assert_int_equal(nn_find_nonfinite(v, N), 51234);
        v[1023] = NAN;
        assert_int_equal(nn_find_nonfinite(v, N), 1023);
        assert_int_equal(nn_find_nonfinite(v, 1000), 1000);
        assert_int_equal(nn_find_nonfinite(v + 1020, 7), 3);
        v[1023] = v[51234] = v[90001] = v[99999] = 0.5f;

        w[N] = 7.0f;
        nn_copy_floats(w, v, N);
        assert_memory_equal(w, v, sizeof(float) * N);
        nn_zero_floats(w + 3, N - 3);
        for (size_t i = 3; i < N; i++) assert_true(w[i] == 0.0f);
        assert_true(w[0] == v[0] && w[2] == v[2] && w[N] == 7.0f);
        test_restore_threads(was);
    }
    free(v);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_gemm_matches_reference),
        NN_TEST(test_transposed_references_agree),
        NN_TEST(test_stream_helpers_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
