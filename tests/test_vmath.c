/* tests/test_vmath.c — e^x, tanh and the sigmoid over arrays (src/core/vmath.c) against double
 * precision, on every path this machine runs: within 2 ulp (e^x) and 4 ulp (tanh, sigmoid)
 * over a sweep of a million floats from every binade, exact at the special values, the
 * vector paths bit for bit equal to the plain one, the sums of nn_vexp_sum equal too. */
#include "testing.h"
#include "../src/internal.h"
#include "../src/core/vmath.h"
#include <float.h>

static const nn_vmath_path vector_paths[] = {NN_VMATH_PLAIN, NN_VMATH_AVX2, NN_VMATH_AVX512};

/* |got - want| in units of the last place of a float near want (subnormals: 2^-149). A
 * result past the largest float must be inf. */
static double ulps(float got, double want) {
    if (isnan(want)) return isnan(got) ? 0.0 : INFINITY;
    if (fabs(want) > FLT_MAX) return isinf(got) && (got > 0) == (want > 0) ? 0.0 : INFINITY;
    int e;
    frexp(want, &e);
    double ulp = want == 0.0 || fabs(want) < FLT_MIN ? ldexp(1.0, -149) : ldexp(1.0, e - 24);
    return fabs((double)got - want) / ulp;
}

/* Every 4099th bit pattern (a prime: all binades, both signs, NaNs and infinities among
 * them), about a million floats. */
static size_t sweep(float *x) {
    size_t n = 0;
    for (uint64_t b = 0; b < 0x100000000ull; b += 4099) {
        uint32_t u = (uint32_t)b;
        memcpy(&x[n++], &u, sizeof(float));
    }
    return n;
}
#define SWEEP_MAX (0x100000000ull / 4099 + 1)

static double exp_want(float x) { return exp((double)x); }
static double tanh_want(float x) { return tanh((double)x); }
static double sigmoid_want(float x) { return 1.0 / (1.0 + exp(-(double)x)); }

static void vexp(const float *x, float *y, size_t n) { nn_vexp_sum(x, 0.0f, y, n); }

typedef struct {
    const char *name;
    void (*run)(const float *, float *, size_t);
    double (*want)(float);
    double max_ulps;
} function_case;

static const function_case functions[] = {
    {"exp", vexp, exp_want, 2.0},
    {"tanh", nn_vtanh, tanh_want, 4.0},
    {"sigmoid", nn_vsigmoid, sigmoid_want, 4.0},
};

static bool skip_path(nn_vmath_path p) {
    if (nn_vmath_path_supported(p)) return false;
    printf("  [ skip ] %s: this CPU cannot run it\n", nn_vmath_path_name(p));
    return true;
}

static void test_accuracy_on_every_path(void **state) {
    (void)state;
    float *x = malloc(SWEEP_MAX * sizeof(float)), *y = malloc(SWEEP_MAX * sizeof(float));
    size_t n = sweep(x);
    for (size_t p = 0; p < COUNT(vector_paths); p++) {
        if (skip_path(vector_paths[p])) continue;
        assert_int_equal(nn_vmath_set_path(vector_paths[p]), 0);
        for (size_t f = 0; f < COUNT(functions); f++) {
            functions[f].run(x, y, n);
            double worst = 0.0;
            float at = 0.0f;
            for (size_t i = 0; i < n; i++) {
                double u = ulps(y[i], functions[f].want(x[i]));
                if (u > worst) worst = u, at = x[i];
            }
            printf("  %-7s %-6s worst %.2f ulp (at %.9g)\n", nn_vmath_path_name(vector_paths[p]),
                   functions[f].name, worst, (double)at);
            if (worst > functions[f].max_ulps)
                fail_msg("%s on %s: %.2f ulp at x = %.9g (allowed %.0f)", functions[f].name,
                         nn_vmath_path_name(vector_paths[p]), worst, (double)at,
                         functions[f].max_ulps);
        }
    }
    nn_vmath_set_path(NN_VMATH_AUTO);
    free(x);
    free(y);
}

/* The values where a formula's edge cases hide: the clamps of e^x (under- and overflow, the
 * subnormal results in between), tanh's switch from the series at 0.5, signed zeros. */
static void test_special_values(void **state) {
    (void)state;
    const float x[] = {0.0f, -0.0f, 1.0f, -1.0f, 88.72f, 88.73f, 89.0f, 1000.0f, -87.3f,
                       -87.4f, -100.0f, -103.9f, -104.5f, -1000.0f, 0.5f, -0.5f, 0.49999997f,
                       1e-30f, -1e-30f, FLT_MIN, INFINITY, -INFINITY, NAN};
    enum { N = sizeof x / sizeof x[0] };
    for (size_t p = 0; p < COUNT(vector_paths); p++) {
        if (skip_path(vector_paths[p])) continue;
        nn_vmath_set_path(vector_paths[p]);
        /* each value alone and inside a full vector, so the vector lanes see it too */
        float in[N * 16], out[N * 16];
        for (size_t i = 0; i < N * 16; i++) in[i] = x[i % N];
        for (size_t f = 0; f < COUNT(functions); f++) {
            functions[f].run(in, out, N * 16);
            for (size_t i = 0; i < N * 16; i++) {
                double u = ulps(out[i], functions[f].want(in[i]));
                if (u > functions[f].max_ulps)
                    fail_msg("%s(%.9g) on %s = %.9g, want %.9g", functions[f].name,
                             (double)in[i], nn_vmath_path_name(vector_paths[p]),
                             (double)out[i], functions[f].want(in[i]));
            }
        }
        float e[3], t[3], s[3];
        const float edges[3] = {-INFINITY, INFINITY, NAN};
        vexp(edges, e, 3);
        nn_vtanh(edges, t, 3);
        nn_vsigmoid(edges, s, 3);
        assert_true(e[0] == 0.0f && isinf(e[1]) && e[1] > 0 && isnan(e[2]));
        assert_true(t[0] == -1.0f && t[1] == 1.0f && isnan(t[2]));
        assert_true(s[0] == 0.0f && s[1] == 1.0f && isnan(s[2]));
        /* tanh keeps the sign of zero; e^0 is exactly 1 */
        float z[2] = {-0.0f, 0.0f}, tz[2];
        nn_vtanh(z, tz, 2);
        assert_true(tz[0] == 0.0f && signbit(tz[0]) && !signbit(tz[1]));
        vexp(z, tz, 2);
        assert_true(tz[0] == 1.0f && tz[1] == 1.0f);
    }
    nn_vmath_set_path(NN_VMATH_AUTO);
}

/* The vector paths are the plain one, 8 or 16 at a time: the same bits, and the same sums
 * for every length (full vectors, a tail, shorter than one vector). */
static void test_paths_give_the_same_bits(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    enum { N = 1000 };
    float x[N], plain[N], y[N];
    for (int i = 0; i < N; i++) x[i] = 40.0f * nn_rng_uniform(&rng) - 30.0f;
    const size_t lengths[] = {1, 7, 15, 16, 17, 33, 999, N};
    for (size_t f = 0; f < COUNT(functions); f++) {
        nn_vmath_set_path(NN_VMATH_PLAIN);
        functions[f].run(x, plain, N);
        for (size_t p = 1; p < COUNT(vector_paths); p++) {
            if (skip_path(vector_paths[p])) continue;
            nn_vmath_set_path(vector_paths[p]);
            functions[f].run(x, y, N);
            assert_memory_equal(plain, y, sizeof y);
        }
    }
    for (size_t l = 0; l < COUNT(lengths); l++) {
        nn_vmath_set_path(NN_VMATH_PLAIN);
        float sum_plain = nn_vexp_sum(x, 2.5f, plain, lengths[l]);
        double exact = 0.0;
        for (size_t i = 0; i < lengths[l]; i++) exact += exp((double)x[i] - 2.5);
        assert_true(fabs(sum_plain - exact) <= 1e-5 * exact);
        for (size_t p = 1; p < COUNT(vector_paths); p++) {
            if (skip_path(vector_paths[p])) continue;
            nn_vmath_set_path(vector_paths[p]);
            float sum = nn_vexp_sum(x, 2.5f, y, lengths[l]);
            assert_memory_equal(&sum, &sum_plain, sizeof sum);
            /* the strided sum (softmax along another axis) adds the same parts */
            float strided = nn_vexp_sum_strided(x, 1, 2.5f, lengths[l]);
            assert_memory_equal(&strided, &sum_plain, sizeof sum);
            assert_memory_equal(plain, y, lengths[l] * sizeof(float));
        }
    }
    /* in place, and nn_exp1 is the same algorithm */
    nn_vmath_set_path(NN_VMATH_AUTO);
    memcpy(y, x, sizeof y);
    nn_vexp_sum(y, 0.0f, y, N);
    for (int i = 0; i < N; i++) assert_true(y[i] == nn_exp1(x[i]));
}

/* The libm reference path: the same functions, one libm call each. */
static void test_libm_reference_path(void **state) {
    (void)state;
    const float x[] = {-3.0f, -0.25f, 0.0f, 0.7f, 12.0f, -90.0f};
    float y[6];
    assert_int_equal(nn_vmath_set_path(NN_VMATH_LIBM), 0);
    assert_int_equal(nn_vmath_path_in_use(), NN_VMATH_LIBM);
    float s = nn_vexp_sum(x, 1.0f, y, 6), sum = 0.0f;
    for (int i = 0; i < 6; i++) {
        assert_true(y[i] == expf(x[i] - 1.0f));
        sum += y[i];
    }
    assert_true(s == sum);
    nn_vtanh(x, y, 6);
    for (int i = 0; i < 6; i++) assert_true(y[i] == tanhf(x[i]));
    nn_vsigmoid(x, y, 6);
    for (int i = 0; i < 6; i++) assert_true(ulps(y[i], sigmoid_want(x[i])) <= 4.0);
    nn_vmath_set_path(NN_VMATH_AUTO);
    assert_int_not_equal(nn_vmath_path_in_use(), NN_VMATH_AUTO);
}

static void expect_refused(nn_vmath_path p) {
    EXPECT_NN_ERROR(nn_vmath_set_path(p), "not available here");
}

static void test_choosing_a_path(void **state) {
    (void)state;
    for (int p = NN_VMATH_AUTO; p <= NN_VMATH_AVX512; p++)
        if (!nn_vmath_path_supported((nn_vmath_path)p)) expect_refused((nn_vmath_path)p);
    expect_refused((nn_vmath_path)42);
    assert_string_equal(nn_vmath_path_name(NN_VMATH_AVX2), "avx2");
    assert_string_equal(nn_vmath_path_name((nn_vmath_path)42), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_accuracy_on_every_path),
        NN_TEST(test_special_values),
        NN_TEST(test_paths_give_the_same_bits),
        NN_TEST(test_libm_reference_path),
        NN_TEST(test_choosing_a_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
