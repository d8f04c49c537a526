/* tests/test_activation_ops.c — the two GELUs, clamp and masked_fill: forward values against
 * double-precision formulas and index loops, finite-difference gradient checks, and misuse.
 * masked_fill is tested the way attention uses it: a causal (T, T) mask over (B, H, T, T)
 * scores, then softmax. */
#include "testing.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* sum(y * R) with R uniform in [-1, 1] from a generator of its own: the same R at every
 * evaluation, a different weight for every element. */
static nn_tensor *weighted(nn_tensor *y, uint64_t seed) {
    nn_tensor *r = nn_graph_tensor(y->ndim, y->shape, false);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(r, -1.0f, 1.0f, &rng);
    return nn_sum(nn_mul(y, r));
}

/* The tolerance of tests/test_grad.c: smooth ops, central differences with eps = 1e-2. */
static void expect_grads_ok(nn_loss_fn f, nn_tensor **in, int n, void *user) {
    nn_gradcheck_result r = nn_gradcheck(f, in, n, user, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck failed: input %d element %zu analytic %.6g numeric %.6g rel %.3g",
                 r.worst_input, r.worst_index, r.analytic, r.numeric, r.max_rel_err);
    assert_true(r.checked > 0);
}

/* |got - want| <= rel * |want| + abs for every element. */
static void assert_near_double(const float *got, const double *want, size_t n, double rel,
                               double abs_tol, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= rel * fabs(want[i]) + abs_tol))
            fail_msg("%s[%zu]: got %.9g, want %.9g (error %.3g)", what, i, got[i], want[i],
                     fabs((double)got[i] - want[i]));
}

static const double PI = 3.14159265358979323846;

/* The GELUs and their derivatives in double. */
static double gelu_erf_d(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double gelu_erf_grad_d(double x) {
    return 0.5 * (1 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2 * PI);
}
static double gelu_tanh_u(double x) { return sqrt(2 / PI) * (x + 0.044715 * x * x * x); }
static double gelu_tanh_d(double x) { return 0.5 * x * (1 + tanh(gelu_tanh_u(x))); }
static double gelu_tanh_grad_d(double x) {
    double t = tanh(gelu_tanh_u(x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * sqrt(2 / PI) * (1 + 3 * 0.044715 * x * x);
}

/* ---- GELU ----------------------------------------------------------------------------------- */

enum { NG = 241 };   /* -6 .. 6 in steps of 0.05 */

static nn_tensor *gelu_grid(void) {
    nn_tensor *x = nn_zeros(NN_SHAPE(NG));
    for (int i = 0; i < NG; i++) x->data[i] = -6.0f + 0.05f * (float)i;
    return x;
}

static void test_gelu_values(void **state) {
    (void)state;
    nn_tensor *x = gelu_grid();
    double want[NG];
    /* float32 erf/tanh near -1 carry an ulp of 1 (6e-8) into 1 + erf: at most 6e-8 |x| / 2
     * absolute, below 2e-7 on [-6, 6]; elsewhere a few roundings: 1e-6 relative */
    for (int i = 0; i < NG; i++) want[i] = gelu_erf_d(x->data[i]);
    assert_near_double(nn_gelu_erf(x)->data, want, NG, 1e-6, 2e-7, "gelu_erf");
    for (int i = 0; i < NG; i++) want[i] = gelu_tanh_d(x->data[i]);
    assert_near_double(nn_gelu_tanh(x)->data, want, NG, 1e-6, 2e-7, "gelu_tanh");

    /* PyTorch's F.gelu(x) and F.gelu(x, approximate='tanh') */
    nn_tensor *p = nn_from_array((float[]){2, -0.5f, 0, 10, -10}, NN_SHAPE(5));
    nn_tensor *ge = nn_gelu_erf(p), *gt = nn_gelu_tanh(p);
    assert_float_equal(ge->data[0], 1.9544997f, 1e-6);
    assert_float_equal(ge->data[1], -0.1542688f, 1e-6);
    assert_float_equal(gt->data[0], 1.9545977f, 1e-6);
    assert_float_equal(gt->data[1], -0.1542859f, 1e-6);
    for (int i = 2; i < 5; i++) {   /* 0 at 0, x far right, 0 far left */
        float w = p->data[i] > 0 ? p->data[i] : 0.0f;
        assert_float_equal(ge->data[i], w, 1e-6);
        assert_float_equal(gt->data[i], w, 1e-6);
    }
    nn_tensor_free(x);
    nn_tensor_free(p);
}

static void test_gelu_forms_are_close_but_differ(void **state) {
    (void)state;
    /* on [-3, 3] the tanh form is within 5e-4 of the exact one (the worst, 4.7e-4, is near
     * x = -2.7), yet they are two functions: most points differ by more than rounding */
    enum { N = 601 };
    nn_tensor *x = nn_zeros(NN_SHAPE(N));
    for (int i = 0; i < N; i++) x->data[i] = -3.0f + 0.01f * (float)i;
    nn_tensor *e = nn_gelu_erf(x), *t = nn_gelu_tanh(x);
    float worst = 0;
    int differ = 0;
    for (int i = 0; i < N; i++) {
        float d = fabsf(e->data[i] - t->data[i]);
        worst = d > worst ? d : worst;
        differ += d > 1e-6f;
    }
    assert_true(worst < 1e-3f);
    assert_true(worst > 4e-4f);
    assert_true(differ > N / 2);
    nn_tensor_free(x);
}

static void test_gelu_backward_matches_formula(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(gelu_grid());
    double want[NG];
    nn_backward(nn_sum(nn_gelu_erf(x)));
    for (int i = 0; i < NG; i++) want[i] = gelu_erf_grad_d(x->data[i]);
    assert_near_double(x->grad, want, NG, 1e-6, 3e-7, "gelu_erf'");
    /* tanhf(u) rounds to -1 below x = -5.2 (1 + tanh u < ulp(1)), where the true derivative
     * is still up to 5e-7: float32's limit, hence the looser absolute bound */
    nn_zero_grad(x);
    nn_backward(nn_sum(nn_gelu_tanh(x)));
    for (int i = 0; i < NG; i++) want[i] = gelu_tanh_grad_d(x->data[i]);
    assert_near_double(x->grad, want, NG, 1e-6, 1e-6, "gelu_tanh'");
    nn_tensor_free(x);
}

static nn_tensor *loss_gelu_erf(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_gelu_erf(in[0]), 1);
}
static nn_tensor *loss_gelu_tanh(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_gelu_tanh(in[0]), 2);
}
static void test_grad_gelu(void **state) {
    (void)state;
    nn_tensor *in[1] = {nn_requires_grad(nn_rand_uniform(-3.0f, 3.0f, NN_SHAPE(3, 4, 2)))};
    expect_grads_ok(loss_gelu_erf, in, 1, NULL);
    expect_grads_ok(loss_gelu_tanh, in, 1, NULL);
    nn_tensor_free(in[0]);
}

/* ---- clamp ------------------------------------------------------------------------------- */

static void test_clamp_values_and_gradient(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array(
        (float[]){-3, -1.5f, -1, -0.25f, 0, 0.75f, 1, 2, NAN}, NN_SHAPE(9)));
    nn_tensor *y = nn_clamp(x, -1, 1);
    assert_floats_near(y->data, (float[]){-1, -1, -1, -0.25f, 0, 0.75f, 1, 1}, 8, 0);
    assert_true(isnan(y->data[8]));                         /* NaN stays NaN */
    /* the gradient passes where lo <= x <= hi (the edges included), 0 outside */
    nn_backward(nn_sum(nn_mul_scalar(y, 2.0f)));
    assert_floats_near(x->grad, (float[]){0, 0, 2, 2, 2, 2, 2, 0, 0}, 9, 0);

    /* one side only; both sides open is the identity; lo == hi is a constant */
    nn_tensor *v = nn_from_array((float[]){-2, -0.5f, 0, 0.5f, 3}, NN_SHAPE(5));
    assert_floats_near(nn_clamp(v, 0, INFINITY)->data, nn_relu(v)->data, 5, 0);
    assert_floats_near(nn_clamp(v, -INFINITY, 0.5f)->data, (float[]){-2, -0.5f, 0, 0.5f, 0.5f},
                       5, 0);
    assert_floats_near(nn_clamp(v, -INFINITY, INFINITY)->data, v->data, 5, 0);
    assert_floats_near(nn_clamp(v, 0.25f, 0.25f)->data, (float[]){0.25f, 0.25f, 0.25f, 0.25f,
                                                                  0.25f}, 5, 0);
    nn_tensor_free(x);
    nn_tensor_free(v);
}

static nn_tensor *loss_clamp(nn_tensor **in, void *user) {
    (void)user;
    return weighted(nn_clamp(in[0], -1.0f, 1.0f), 3);
}
static void test_grad_clamp(void **state) {
    (void)state;
    /* inside and outside, every point at least 0.04 from an edge (eps is 0.01) */
    nn_tensor *in[1] = {nn_requires_grad(nn_from_array(
        (float[]){-2.5f, -1.3f, -0.9f, -0.3f, 0.1f, 0.6f, 0.94f, 1.2f, 2.7f, -1.06f, 0, 1.9f},
        NN_SHAPE(3, 4)))};
    expect_grads_ok(loss_clamp, in, 1, NULL);
    nn_tensor_free(in[0]);
}

static void test_clamp_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2));
    EXPECT_NN_ERROR(nn_clamp(x, 2, 1), "nn_clamp", "lo = 2 is not <= hi = 1", "hint:");
    EXPECT_NN_ERROR(nn_clamp(x, NAN, 1), "nn_clamp", "lo = nan");
    EXPECT_NN_ERROR(nn_clamp(x, 0, NAN), "nn_clamp", "hi = nan");
    EXPECT_NN_ERROR(nn_clamp(NULL, 0, 1), "nn_clamp", "is NULL");
    nn_tensor_free(x);
}

/* ---- masked_fill: the causal mask of attention -------------------------------------------- */

enum { B = 2, H = 2, T = 4 };

/* upper[i][j] = 1 where j > i: position i may not look at the later position j. */
static nn_tensor *causal_mask(void) {
    nn_tensor *m = nn_zeros(NN_SHAPE(T, T));
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++) m->data[i * T + j] = j > i;
    return m;
}

static void test_masked_fill_causal(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_uniform(-2.0f, 2.0f, NN_SHAPE(B, H, T, T)), *mask = causal_mask();
    nn_tensor *y = nn_masked_fill(x, mask, 0.5f);
    assert_true(nn_same_shape(y, x));
    for (int bh = 0; bh < B * H; bh++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                size_t at = ((size_t)bh * T + i) * T + j;
                assert_float_equal(y->data[at], j > i ? 0.5f : x->data[at], 0);
            }

    /* -inf above the diagonal, then softmax: exact zeros there, and below it the softmax of
     * the visible prefix j <= i alone */
    nn_tensor *p = nn_softmax(nn_masked_fill(x, mask, -INFINITY));
    for (int bh = 0; bh < B * H; bh++)
        for (int i = 0; i < T; i++) {
            const float *row = p->data + ((size_t)bh * T + i) * T;
            const float *xr = x->data + ((size_t)bh * T + i) * T;
            double m = -INFINITY, s = 0;
            for (int j = 0; j <= i; j++) m = fmax(m, xr[j]);
            for (int j = 0; j <= i; j++) s += exp(xr[j] - m);
            for (int j = 0; j < T; j++) {
                if (j > i) assert_true(row[j] == 0.0f);   /* exactly zero, not tiny */
                else assert_float_equal(row[j], exp(xr[j] - m) / s, 1e-6);
            }
        }
    for (int bh = 0; bh < B * H; bh++) assert_float_equal(p->data[bh * T * T], 1.0f, 0);
    nn_tensor_free(x);
    nn_tensor_free(mask);
}

static void test_masked_fill_broadcasts(void **state) {
    (void)state;
    /* a key-padding mask (B, 1, 1, T): batch 1 has its last key padded, over all heads and
     * queries; any nonzero value masks */
    nn_tensor *x = nn_rand_uniform(-1.0f, 1.0f, NN_SHAPE(B, H, T, T));
    nn_tensor *pad = nn_from_array((float[]){0, 0, 0, 0, 0, 0, 0, 2}, NN_SHAPE(B, 1, 1, T));
    nn_tensor *y = nn_masked_fill(x, pad, -7.0f);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++)
                for (int j = 0; j < T; j++) {
                    size_t at = (((size_t)b * H + h) * T + i) * T + j;
                    bool masked = b == 1 && j == T - 1;
                    assert_float_equal(y->data[at], masked ? -7.0f : x->data[at], 0);
                }
    /* a 1-D mask over the last axis, and a mask of x's own shape */
    nn_tensor *m = nn_from_array((float[]){1, 0, -1}, NN_SHAPE(3));
    nn_tensor *v = nn_from_array((float[]){1, 2, 3, 4, 5, 6}, NN_SHAPE(2, 3));
    assert_floats_near(nn_masked_fill(v, m, 0)->data, (float[]){0, 2, 0, 0, 5, 0}, 6, 0);
    nn_tensor *full = nn_from_array((float[]){0, 1, 0, 1, 0, 0}, NN_SHAPE(2, 3));
    assert_floats_near(nn_masked_fill(v, full, 9)->data, (float[]){1, 9, 3, 9, 5, 6}, 6, 0);
    nn_tensor *all[] = {x, pad, m, v, full};
    for (int i = 0; i < 5; i++) nn_tensor_free(all[i]);
}

static nn_tensor *loss_masked_fill(nn_tensor **in, void *user) {
    return weighted(nn_masked_fill(in[0], user, -2.0f), 4);
}
static nn_tensor *loss_masked_attention(nn_tensor **in, void *user) {
    return weighted(nn_softmax(nn_masked_fill(in[0], user, -INFINITY)), 5);
}
static void test_grad_masked_fill(void **state) {
    (void)state;
    nn_tensor *mask = causal_mask();
    nn_tensor *in[1] = {nn_requires_grad(nn_rand_uniform(-2.0f, 2.0f, NN_SHAPE(B, H, T, T)))};
    expect_grads_ok(loss_masked_fill, in, 1, mask);
    expect_grads_ok(loss_masked_attention, in, 1, mask);
    nn_tensor_free(in[0]);
    nn_tensor_free(mask);
}

static void test_masked_fill_mask_gets_no_gradient(void **state) {
    (void)state;
    /* dx = dy where the mask is 0 and exactly 0 where it masks; the mask, even one that asks
     * for a gradient, gets none */
    nn_tensor *x = nn_requires_grad(nn_rand_uniform(-1.0f, 1.0f, NN_SHAPE(B, H, T, T)));
    nn_tensor *mask = nn_requires_grad(causal_mask());
    nn_tensor *y = nn_masked_fill(x, mask, -INFINITY);
    nn_tensor *r = nn_graph_tensor(y->ndim, y->shape, false);
    for (size_t i = 0; i < r->size; i++) r->data[i] = 1.0f + (float)i;
    nn_backward(nn_sum(nn_mul(nn_masked_fill(y, mask, 0.0f), r)));  /* -inf * r: masked again */
    for (int bh = 0; bh < B * H; bh++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                size_t at = ((size_t)bh * T + i) * T + j;
                assert_float_equal(x->grad[at], j > i ? 0.0f : r->data[at], 0);
            }
    for (int i = 0; i < T * T; i++) assert_float_equal(mask->grad[i], 0.0f, 0);

    /* only the mask wants a gradient: backward runs, and still gives it none */
    nn_tensor *c = nn_ones(NN_SHAPE(T, T));
    nn_backward(nn_sum(nn_masked_fill(c, mask, 3.0f)));
    for (int i = 0; i < T * T; i++) assert_float_equal(mask->grad[i], 0.0f, 0);
    assert_null(c->grad);
    nn_tensor_free(x);
    nn_tensor_free(mask);
    nn_tensor_free(c);
}

static void test_masked_fill_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(T, T)), *big = nn_zeros(NN_SHAPE(2, T, T)),
              *odd = nn_zeros(NN_SHAPE(3, 3)), *col = nn_zeros(NN_SHAPE(T, 1)),
              *cube = nn_zeros(NN_SHAPE(T, T, T));
    EXPECT_NN_ERROR(nn_masked_fill(x, big, 0), "nn_masked_fill", "(2, 4, 4)", "(4, 4)",
                    "larger shape", "may not enlarge");
    EXPECT_NN_ERROR(nn_masked_fill(x, cube, 0), "nn_masked_fill", "(4, 4, 4)", "(4, 4)",
                    "may not enlarge");   /* more dims, though the last two agree */
    EXPECT_NN_ERROR(nn_masked_fill(col, x, 0), "nn_masked_fill", "(4, 4)", "(4, 1)",
                    "may not enlarge");
    EXPECT_NN_ERROR(nn_masked_fill(x, odd, 0), "nn_masked_fill", "do not broadcast", "(3, 3)");
    EXPECT_NN_ERROR(nn_masked_fill(x, NULL, 0), "nn_masked_fill", "'mask' is NULL");
    EXPECT_NN_ERROR(nn_masked_fill(NULL, x, 0), "nn_masked_fill", "'x' is NULL");
    nn_masked_fill(x, col, 1);   /* a (T, 1) mask over (T, T) is fine */
    nn_tensor *all[] = {x, big, odd, col, cube};
    for (int i = 0; i < 5; i++) nn_tensor_free(all[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_gelu_values),
        NN_TEST(test_gelu_forms_are_close_but_differ),
        NN_TEST(test_gelu_backward_matches_formula),
        NN_TEST(test_grad_gelu),
        NN_TEST(test_clamp_values_and_gradient),
        NN_TEST(test_grad_clamp),
        NN_TEST(test_clamp_errors),
        NN_TEST(test_masked_fill_causal),
        NN_TEST(test_masked_fill_broadcasts),
        NN_TEST(test_grad_masked_fill),
        NN_TEST(test_masked_fill_mask_gets_no_gradient),
        NN_TEST(test_masked_fill_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
