/* tests/test_softmax_ops.c — softmax, log-softmax and log-sum-exp along any axis, the
 * cross-entropy loss, and NaN propagation through max, argmax, max pooling and softmax.
 *
 * References are computed here in double precision with plain loops. For large logits (1000,
 * 1e4) the bounds are tight enough that the naive float formula m + log(s) - z fails them:
 * the test checks that too, on its own arithmetic, so the bounds cannot quietly go slack. */
#include "testing.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* x seen along axis a as (outer, n, inner), as the library does (src/internal.h). */
typedef struct { size_t outer, n, inner; } view;
static view view_of(const nn_tensor *x, int a) {
    view v = {1, (size_t)x->shape[a], 1};
    for (int d = 0; d < a; d++) v.outer *= (size_t)x->shape[d];
    for (int d = a + 1; d < x->ndim; d++) v.inner *= (size_t)x->shape[d];
    return v;
}

/* softmax / log-softmax of x along axis a, in double. */
static void ref_softmax(const nn_tensor *x, int a, bool log_form, double *out) {
    view v = view_of(x, a);
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            size_t base = o * v.n * v.inner + i;
            double m = -INFINITY, s = 0;
            for (size_t k = 0; k < v.n; k++) m = fmax(m, x->data[base + k * v.inner]);
            for (size_t k = 0; k < v.n; k++) s += exp(x->data[base + k * v.inner] - m);
            for (size_t k = 0; k < v.n; k++) {
                double z = x->data[base + k * v.inner] - m;
                out[base + k * v.inner] = log_form ? z - log(s) : exp(z) / s;
            }
        }
}

/* log sum exp of x along axis a, in double: out[o * inner + i]. */
static void ref_logsumexp(const nn_tensor *x, int a, double *out) {
    view v = view_of(x, a);
    for (size_t o = 0; o < v.outer; o++)
        for (size_t i = 0; i < v.inner; i++) {
            size_t base = o * v.n * v.inner + i;
            double m = -INFINITY, s = 0;
            for (size_t k = 0; k < v.n; k++) m = fmax(m, x->data[base + k * v.inner]);
            for (size_t k = 0; k < v.n; k++) s += exp(x->data[base + k * v.inner] - m);
            out[o * v.inner + i] = m + log(s);
        }
}

/* Cross-entropy of one row of C logits with label y, in double. */
static double ref_ce_row(const float *z, int C, int y) {
    double m = -INFINITY, s = 0;
    for (int c = 0; c < C; c++) m = fmax(m, z[c]);
    for (int c = 0; c < C; c++) s += exp(z[c] - m);
    return log(s) - (z[y] - m);
}

/* |got - want| <= rel * |want| + abs for every element. */
static void assert_near_double(const float *got, const double *want, size_t n, double rel,
                               double abs_tol, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= rel * fabs(want[i]) + abs_tol))
            fail_msg("%s[%zu]: got %.9g, want %.9g (error %.3g, bound %.3g)", what, i, got[i],
                     want[i], fabs((double)got[i] - want[i]), rel * fabs(want[i]) + abs_tol);
}

/* sum(y * R) with R uniform in [-1, 1] from a generator of its own: the same R at every
 * evaluation, a different weight for every element. */
static nn_tensor *weighted(nn_tensor *y, uint64_t seed) {
    nn_tensor *r = nn_graph_tensor(y->ndim, y->shape, false);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(r, -1.0f, 1.0f, &rng);
    return nn_sum(nn_mul(y, r));
}

/* The tolerance of tests/test_grad.c: these ops are smooth, and central differences with
 * eps = 1e-2 in float32 carry errors of order eps^2 |f'''| + 1e-6 / eps. */
static void expect_grads_ok(nn_loss_fn f, nn_tensor **in, int n, void *user) {
    nn_gradcheck_result r = nn_gradcheck(f, in, n, user, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck failed: input %d element %zu analytic %.6g numeric %.6g rel %.3g",
                 r.worst_input, r.worst_index, r.analytic, r.numeric, r.max_rel_err);
    assert_true(r.checked > 0);
}

/* ---- softmax and log-softmax along any axis --------------------------------------------- */

static void test_softmax_axis_values(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_uniform(-4.0f, 4.0f, NN_SHAPE(3, 4, 5));
    double want[60];
    const int axes[4] = {0, 1, 2, -1}, norm[4] = {0, 1, 2, 2};
    for (int t = 0; t < 4; t++) {
        /* softmax values lie in (0, 1]: a few float32 roundings of exp and the division */
        nn_tensor *p = nn_softmax_axis(x, axes[t]);
        assert_true(nn_same_shape(p, x));
        ref_softmax(x, norm[t], false, want);
        assert_near_double(p->data, want, 60, 1e-6, 1e-7, "softmax");
        /* each slice along the axis sums to 1 */
        view v = view_of(x, norm[t]);
        for (size_t o = 0; o < v.outer; o++)
            for (size_t i = 0; i < v.inner; i++) {
                double s = 0;
                for (size_t k = 0; k < v.n; k++) s += p->data[(o * v.n + k) * v.inner + i];
                assert_float_equal(s, 1.0, 1e-6);
            }
        /* log-softmax: (x - m) - log s, relative error of a few roundings */
        nn_tensor *lp = nn_log_softmax_axis(x, axes[t]);
        ref_softmax(x, norm[t], true, want);
        assert_near_double(lp->data, want, 60, 1e-6, 2e-7, "log_softmax");
    }
    /* the last-axis forms are the same computation */
    assert_floats_near(nn_softmax(x)->data, nn_softmax_axis(x, -1)->data, 60, 0);
    assert_floats_near(nn_softmax(x)->data, nn_softmax_axis(x, 2)->data, 60, 0);
    assert_floats_near(nn_log_softmax(x)->data, nn_log_softmax_axis(x, -1)->data, 60, 0);
    /* along axis 0 of (3, 4, 5) is along the last axis of its (4, 5, 3) permutation */
    nn_tensor *moved = nn_permute(nn_softmax_axis(nn_permute(x, NN_AXES(1, 2, 0)), -1),
                                  NN_AXES(2, 0, 1));
    assert_floats_near(moved->data, nn_softmax_axis(x, 0)->data, 60, 0);
    nn_tensor_free(x);
}

static nn_tensor *loss_softmax_axis(nn_tensor **in, void *user) {
    int axis = *(const int *)user;
    return weighted(nn_softmax_axis(in[0], axis), 1);
}
static nn_tensor *loss_log_softmax_axis(nn_tensor **in, void *user) {
    int axis = *(const int *)user;
    return weighted(nn_log_softmax_axis(in[0], axis), 2);
}
static void test_grad_softmax_axes(void **state) {
    (void)state;
    nn_tensor *in[1] = {nn_requires_grad(nn_rand_uniform(-2.0f, 2.0f, NN_SHAPE(2, 3, 4)))};
    const int axes[3] = {0, 1, -1};
    for (int t = 0; t < 3; t++) {
        expect_grads_ok(loss_softmax_axis, in, 1, (void *)&axes[t]);
        expect_grads_ok(loss_log_softmax_axis, in, 1, (void *)&axes[t]);
    }
    nn_tensor_free(in[0]);
}

/* ---- logsumexp ---------------------------------------------------------------------------- */

static void test_logsumexp_values(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_uniform(-5.0f, 5.0f, NN_SHAPE(3, 4, 5));
    double want[20];
    nn_tensor *y = nn_logsumexp(x, 1, false);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[0], 3);
    assert_int_equal(y->shape[1], 5);
    ref_logsumexp(x, 1, want);
    assert_near_double(y->data, want, 15, 1e-6, 2e-7, "logsumexp axis 1");
    nn_tensor *yk = nn_logsumexp(x, 1, true);
    assert_int_equal(yk->ndim, 3);
    assert_int_equal(yk->shape[1], 1);
    assert_floats_near(yk->data, y->data, 15, 0);
    y = nn_logsumexp(x, 0, true);
    assert_int_equal(y->shape[0], 1);
    ref_logsumexp(x, 0, want);
    assert_near_double(y->data, want, 20, 1e-6, 2e-7, "logsumexp axis 0");
    y = nn_logsumexp(x, -1, false);
    ref_logsumexp(x, 2, want);
    assert_near_double(y->data, want, 12, 1e-6, 2e-7, "logsumexp axis -1");
    /* large values: m + log s, with no overflow */
    nn_tensor *big = nn_from_array((float[]){1000, 999.5f, 990, -1e4f, -1e4f, -1e4f}, NN_SHAPE(2, 3));
    y = nn_logsumexp(big, -1, false);
    ref_logsumexp(big, 1, want);
    assert_near_double(y->data, want, 2, 1e-6, 0, "logsumexp of large values");
    /* a 1-D input reduces to a scalar */
    nn_tensor *v = nn_from_array((float[]){0, 0, 0, 0}, NN_SHAPE(4));
    y = nn_logsumexp(v, 0, false);
    assert_int_equal(y->ndim, 0);
    assert_float_equal(nn_item(y), logf(4), 1e-6);
    nn_tensor_free(x);
    nn_tensor_free(big);
    nn_tensor_free(v);
}

static nn_tensor *loss_logsumexp(nn_tensor **in, void *user) {
    const int *args = user;   /* axis, keepdim */
    return weighted(nn_logsumexp(in[0], args[0], args[1]), 3);
}
static void test_grad_logsumexp(void **state) {
    (void)state;
    nn_tensor *in[1] = {nn_requires_grad(nn_rand_uniform(-2.0f, 2.0f, NN_SHAPE(2, 3, 4)))};
    const int cases[4][2] = {{0, 0}, {1, 1}, {-1, 0}, {-1, 1}};
    for (int t = 0; t < 4; t++) expect_grads_ok(loss_logsumexp, in, 1, (void *)cases[t]);
    /* and exactly: d logsumexp / dx = softmax */
    nn_zero_grad(in[0]);
    nn_backward(nn_sum(nn_logsumexp(in[0], -1, false)));
    assert_floats_near(in[0]->grad, nn_softmax(in[0])->data, 24, 1e-6f);
    nn_tensor_free(in[0]);
}

static void test_logsumexp_infinities(void **state) {
    (void)state;
    /* a fully masked slice (all -inf) gives -inf and a zero, not NaN, gradient; a slice with
     * some -inf is finite and gives them zero gradient */
    nn_tensor *x = nn_requires_grad(nn_from_array(
        (float[]){-INFINITY, -INFINITY, -INFINITY, 1, -INFINITY, 2}, NN_SHAPE(2, 3)));
    nn_tensor *y = nn_logsumexp(x, -1, true);
    assert_true(isinf(y->data[0]) && y->data[0] < 0);
    assert_float_equal(y->data[1], (float)log(exp(1.0) + exp(2.0)), 1e-6);
    nn_backward(nn_sum(y));
    for (int i = 0; i < 6; i++) assert_false(isnan(x->grad[i]));
    assert_floats_near(x->grad, (float[]){0, 0, 0, 1 / (1 + expf(1)), 0, 1 / (1 + expf(-1))},
                       6, 1e-6f);
    /* +inf: the log of a sum with an infinite term is +inf (as in PyTorch), not NaN */
    nn_tensor *p = nn_from_array((float[]){1, INFINITY, 3}, NN_SHAPE(3));
    y = nn_logsumexp(p, 0, false);
    assert_true(isinf(nn_item(y)) && nn_item(y) > 0);
    nn_tensor_free(x);
    nn_tensor_free(p);
}

/* ---- large logits: log-softmax and cross-entropy in double ---------------------------------
 * Rows of three logits around 1000 and 1e4 (and -1e4), some confident: there the loss is
 * log(1 + e^-5 + ...) ~ 0.0067, and m + log(s) rounds to a multiple of ulp(m) (6e-5 at 1000,
 * 1e-3 at 1e4) before z is subtracted: 2% off at 1e4. Computed as log s - (z - m), every step
 * is exact or a few float32 roundings of numbers of size |loss|: the bound below is
 * 1e-6 relative (16 ulps) plus 5e-7 absolute (log of a sum near 1 carries a few ulps of 1). */

enum { LROWS = 7, LC = 3 };
static const float large[LROWS][LC] = {
    {1000, 999.5f, 990},
    {1000, 995, 980},
    {1000, 980, 975},            /* very confident: the loss of label 0 is 2e-9 */
    {10000, 9999.5f, 9990},
    {10000, 9995, 9980},
    {-10000, -10000.5f, -10010},
    {1e4f, 1e4f - 3, 1e4f - 1},
};
#define LREL 1e-6
#define LABS 5e-7

static void test_large_logits_log_softmax(void **state) {
    (void)state;
    nn_tensor *z = nn_from_array(&large[0][0], NN_SHAPE(LROWS, LC));
    double want[LROWS * LC];
    ref_softmax(z, 1, true, want);
    nn_tensor *lp = nn_log_softmax(z);
    assert_near_double(lp->data, want, LROWS * LC, LREL, LABS, "log_softmax of large logits");
    assert_near_double(nn_log_softmax_axis(z, 1)->data, want, LROWS * LC, LREL, LABS,
                       "log_softmax_axis");
    ref_softmax(z, 1, false, want);
    assert_near_double(nn_softmax(z)->data, want, LROWS * LC, 1e-6, 1e-7, "softmax");
    /* the naive order, x - (m + log s), in float: it misses the same bound by far */
    double worst = 0;
    ref_softmax(z, 1, true, want);
    for (int r = 0; r < LROWS; r++) {
        float m = large[r][0], s = 0;
        for (int c = 1; c < LC; c++) m = large[r][c] > m ? large[r][c] : m;
        for (int c = 0; c < LC; c++) s += expf(large[r][c] - m);
        volatile float lse = m + logf(s);   /* volatile: round to float here, as old code did */
        for (int c = 0; c < LC; c++) {
            double err = fabs((double)(large[r][c] - lse) - want[r * LC + c]);
            double bound = LREL * fabs(want[r * LC + c]) + LABS;
            if (err / bound > worst) worst = err / bound;
        }
    }
    assert_true(worst > 10);
    nn_tensor_free(z);
}

static void test_large_logits_cross_entropy(void **state) {
    (void)state;
    double worst_naive = 0;
    for (int r = 0; r < LROWS; r++)
        for (int y = 0; y < LC; y++) {
            /* one row at a time, so each loss is checked on its own */
            nn_tensor *z = nn_from_array(large[r], NN_SHAPE(1, LC));
            double want = ref_ce_row(large[r], LC, y);
            float got = nn_item(nn_cross_entropy_loss(z, &y));
            if (!(fabs(got - want) <= LREL * fabs(want) + LABS))
                fail_msg("row %d label %d: got %.9g, want %.9g", r, y, got, want);
            /* equals -log_softmax at the label */
            assert_float_equal(got, -nn_log_softmax(z)->data[y], LREL * fabs(want) + LABS);
            /* the old formula m + log(s) - z, in float */
            float m = large[r][0], s = 0;
            for (int c = 1; c < LC; c++) m = large[r][c] > m ? large[r][c] : m;
            for (int c = 0; c < LC; c++) s += expf(large[r][c] - m);
            volatile float lse = m + logf(s);
            double naive = (double)(lse - large[r][y]);
            double ratio = fabs(naive - want) / (LREL * fabs(want) + LABS);
            if (ratio > worst_naive) worst_naive = ratio;
            nn_tensor_free(z);
            nn_graph_clear();
        }
    assert_true(worst_naive > 10);
    /* row 4, label 0, at 1e4: the old formula was 2% off; check it to a part in 1e6 */
    nn_tensor *z = nn_from_array(large[4], NN_SHAPE(1, LC));
    double want = log(1 + exp(-5.0) + exp(-20.0));
    assert_float_equal(nn_item(nn_cross_entropy_loss(z, (const int[]){0})), want, 1e-6 * want);
    /* all rows at once: the mean */
    nn_tensor *all = nn_from_array(&large[0][0], NN_SHAPE(LROWS, LC));
    int labels[LROWS] = {0, 1, 2, 0, 1, 2, 0};
    double mean = 0;
    for (int r = 0; r < LROWS; r++) mean += ref_ce_row(large[r], LC, labels[r]) / LROWS;
    assert_float_equal(nn_item(nn_cross_entropy_loss(all, labels)), mean, 1e-6 * mean);
    nn_tensor_free(z);
    nn_tensor_free(all);
}

/* ---- cross-entropy over (B, T, C) --------------------------------------------------------- */

enum { B = 2, T = 3, C = 5 };
static const int seq_labels[B * T] = {4, 0, 2, 2, 1, 3};

static nn_tensor *loss_ce_seq(nn_tensor **in, void *user) {
    (void)user;
    return nn_cross_entropy_loss(in[0], seq_labels);
}

static void test_cross_entropy_sequence(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_uniform(-3.0f, 3.0f, NN_SHAPE(B, T, C)));
    nn_tensor *flat = nn_requires_grad(nn_clone(x));   /* the same values, its own grad */
    nn_tensor *l3 = nn_cross_entropy_loss(x, seq_labels);
    nn_tensor *l2 = nn_cross_entropy_loss(nn_reshape(flat, NN_SHAPE(B * T, C)), seq_labels);
    assert_int_equal(l3->ndim, 0);
    assert_float_equal(nn_item(l3), nn_item(l2), 0);   /* the same rows, the same sums */
    double mean = 0;
    for (int r = 0; r < B * T; r++) mean += ref_ce_row(x->data + r * C, C, seq_labels[r]);
    mean /= B * T;
    assert_float_equal(nn_item(l3), mean, 1e-6 * mean);
    /* gradients: the same through both shapes, and (softmax - onehot) / (B T) */
    nn_backward(l3);
    nn_backward(l2);
    assert_floats_near(x->grad, flat->grad, x->size, 0);
    nn_tensor *p = nn_softmax(x);
    for (int r = 0; r < B * T; r++)
        for (int c = 0; c < C; c++) {
            float want = (p->data[r * C + c] - (c == seq_labels[r])) / (B * T);
            assert_float_equal(x->grad[r * C + c], want, 1e-7);
        }
    nn_graph_clear();
    nn_tensor *in[1] = {x};
    expect_grads_ok(loss_ce_seq, in, 1, NULL);
    nn_tensor_free(x);
    nn_tensor_free(flat);
}

/* ---- NaN propagation ---------------------------------------------------------------------
 * A NaN wins max and argmax wherever it sits (the first NaN, when there are several), as in
 * PyTorch and as nn_max_pool2d already does; softmax makes only the NaN's own slice NaN. */

static void test_max_axis_nan(void **state) {
    (void)state;
    const float nan = NAN;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){
        nan, 1, 2, 3,      /* first */
        1, 5, nan, 2,      /* middle */
        1, 2, 3, nan,      /* last */
        4, 9, 0, -1,       /* none */
    }, NN_SHAPE(4, 4)));
    nn_tensor *m = nn_max_axis(x, 1, false);
    for (int r = 0; r < 3; r++) assert_true(isnan(m->data[r]));
    assert_float_equal(m->data[3], 9, 0);
    /* the gradient goes to the NaN */
    nn_backward(nn_sum(m));
    int at[4] = {0, 6, 11, 13};
    for (int i = 0; i < 16; i++)
        assert_float_equal(x->grad[i], (i == at[0] || i == at[1] || i == at[2] || i == at[3]), 0);
    /* down the columns (axis 0), with inner > 1: NaN first, middle, last, none */
    nn_tensor *xc = nn_from_array((float[]){
        nan, 1, 2, 0,
        1, nan, 3, 7,
        2, 1, nan, 8,
        3, 1, 2, 6,
    }, NN_SHAPE(4, 4));
    nn_tensor *mc = nn_max_axis(xc, 0, true);
    for (int c = 0; c < 3; c++) assert_true(isnan(mc->data[c]));
    assert_float_equal(mc->data[3], 8, 0);
    /* a column whose NaN is in the last row */
    nn_tensor *xl = nn_from_array((float[]){5, 1, 2, nan}, NN_SHAPE(4, 1));
    assert_true(isnan(nn_item(nn_max_axis(xl, 0, false))));
    nn_tensor_free(x);
    nn_tensor_free(xc);
    nn_tensor_free(xl);
}

static void test_argmax_rows_nan_and_ties(void **state) {
    (void)state;
    const float nan = NAN;
    nn_tensor *x = nn_from_array((float[]){
        nan, 1, 2, 3,
        1, 5, nan, 2,
        1, 2, 3, nan,
        1, nan, 3, nan,          /* two NaNs: the first */
        1, 3, 3, 0,              /* a tie: the first */
        -INFINITY, -INFINITY, -INFINITY, -INFINITY,
        0, -1, -2, 9,
    }, NN_SHAPE(7, 4));
    int idx[7];
    nn_argmax_rows(x, idx);
    const int want[7] = {0, 2, 3, 1, 1, 0, 3};
    for (int r = 0; r < 7; r++) assert_int_equal(idx[r], want[r]);
    nn_tensor *cube = nn_zeros(NN_SHAPE(2, 2, 2));
    EXPECT_NN_ERROR(nn_argmax_rows(cube, idx), "nn_argmax_rows", "2-D", "(2, 2, 2)");
    nn_tensor_free(cube);
    EXPECT_NN_ERROR(nn_argmax_rows(NULL, idx), "nn_argmax_rows", "(NULL)");
    EXPECT_NN_ERROR(nn_argmax_rows(x, NULL), "nn_argmax_rows", "is NULL");
    nn_tensor_free(x);
}

static void test_nan_max_pool_max_axis_argmax_agree(void **state) {
    (void)state;
    /* five 2x2 images, one window each: NaN first, middle, last, two NaNs, none */
    const float nan = NAN;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){
        nan, 1, 2, 3,
        1, nan, 0, 2,
        1, 2, 3, nan,
        4, nan, 1, nan,
        4, 9, 0, -1,
    }, NN_SHAPE(1, 5, 2, 2)));
    nn_tensor *pool = nn_max_pool2d(x, 2, 2);
    nn_tensor *rows = nn_reshape(x, NN_SHAPE(5, 4));
    nn_tensor *mx = nn_max_axis(rows, -1, false);
    int idx[5];
    nn_argmax_rows(rows, idx);
    const int want[5] = {0, 1, 3, 1, 1};
    for (int r = 0; r < 5; r++) {
        assert_int_equal(idx[r], want[r]);
        bool pool_nan = isnan(pool->data[r]), max_nan = isnan(mx->data[r]);
        assert_true(pool_nan == (r < 4));
        assert_true(max_nan == pool_nan);
        if (!pool_nan) assert_float_equal(pool->data[r], mx->data[r], 0);
    }
    /* all three pick the same element: the gradients land on the same pixels */
    nn_backward(nn_sum(pool));
    float pool_grad[20];
    memcpy(pool_grad, x->grad, sizeof pool_grad);
    nn_zero_grad(x);
    nn_backward(nn_sum(mx));
    assert_floats_near(x->grad, pool_grad, 20, 0);
    for (int r = 0; r < 5; r++) assert_float_equal(x->grad[r * 4 + want[r]], 1, 0);
    nn_tensor_free(x);
}

static void test_softmax_nan_stays_in_its_slice(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_uniform(-2.0f, 2.0f, NN_SHAPE(3, 4));
    nn_tensor *clean = nn_clone(x);
    x->data[1 * 4 + 2] = NAN;                          /* row 1, column 2 */
    double want[12];
    ref_softmax(clean, 1, false, want);
    nn_tensor *p = nn_softmax(x), *lp = nn_log_softmax(x), *lse = nn_logsumexp(x, -1, false);
    for (int r = 0; r < 3; r++) {
        assert_true(isnan(lse->data[r]) == (r == 1));
        for (int c = 0; c < 4; c++) {
            int i = r * 4 + c;
            assert_true(isnan(p->data[i]) == (r == 1));
            assert_true(isnan(lp->data[i]) == (r == 1));
            if (r != 1) assert_float_equal(p->data[i], want[i], 1e-6);
        }
    }
    /* along axis 0 the NaN's slice is column 2 */
    ref_softmax(clean, 0, false, want);
    p = nn_softmax_axis(x, 0);
    for (int i = 0; i < 12; i++) {
        assert_true(isnan(p->data[i]) == (i % 4 == 2));
        if (i % 4 != 2) assert_float_equal(p->data[i], want[i], 1e-6);
    }
    /* the NaN wins over infinities too: a masked (-inf) or +inf slice with a NaN is NaN */
    nn_tensor *inf = nn_from_array((float[]){-INFINITY, NAN, -INFINITY, INFINITY, NAN, 0,
                                             NAN, INFINITY, -INFINITY}, NN_SHAPE(3, 3));
    lse = nn_logsumexp(inf, 1, false);
    p = nn_softmax(inf);
    for (int r = 0; r < 3; r++) assert_true(isnan(lse->data[r]));
    for (int i = 0; i < 9; i++) assert_true(isnan(p->data[i]));
    nn_tensor_free(inf);
    /* the NaN's row makes the mean cross-entropy NaN too */
    assert_true(isnan(nn_item(nn_cross_entropy_loss(x, (const int[]){0, 0, 0}))));
    assert_false(isnan(nn_item(nn_cross_entropy_loss(clean, (const int[]){0, 0, 0}))));
    nn_tensor_free(x);
    nn_tensor_free(clean);
}

/* ---- misuse ------------------------------------------------------------------------------- */

static void test_softmax_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 3)), *seq = nn_zeros(NN_SHAPE(2, 3, 4));
    EXPECT_NN_ERROR(nn_softmax_axis(x, 2), "nn_softmax_axis", "axis 2 is out of range", "(2, 3)");
    EXPECT_NN_ERROR(nn_log_softmax_axis(x, -3), "nn_log_softmax_axis", "axis -3");
    EXPECT_NN_ERROR(nn_logsumexp(x, 5, true), "nn_logsumexp", "axis 5");
    EXPECT_NN_ERROR(nn_logsumexp(NULL, 0, true), "nn_logsumexp", "is NULL");
    EXPECT_NN_ERROR(nn_softmax_axis(NULL, 0), "nn_softmax_axis", "is NULL");
    EXPECT_NN_ERROR(nn_cross_entropy_loss(seq, (const int[]){0, 1, 2, 3, 4, 0}),
                    "nn_cross_entropy_loss", "labels[4] = 4", "(2, 3, 4)", "C = 4");
    nn_tensor_free(x);
    nn_tensor_free(seq);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_softmax_axis_values),
        NN_TEST(test_grad_softmax_axes),
        NN_TEST(test_logsumexp_values),
        NN_TEST(test_grad_logsumexp),
        NN_TEST(test_logsumexp_infinities),
        NN_TEST(test_large_logits_log_softmax),
        NN_TEST(test_large_logits_cross_entropy),
        NN_TEST(test_cross_entropy_sequence),
        NN_TEST(test_max_axis_nan),
        NN_TEST(test_argmax_rows_nan_and_ties),
        NN_TEST(test_nan_max_pool_max_axis_argmax_agree),
        NN_TEST(test_softmax_nan_stays_in_its_slice),
        NN_TEST(test_softmax_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
