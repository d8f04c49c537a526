/* tests/test_conv.c — convolution, pooling, flatten and the conv layer:
 * hand-computed examples, PyTorch's numbers (tests/fixtures/conv_fixture.h), finite-difference
 * gradient checks, the fast path (im2col + blocked matmul) against the reference loops on
 * random shapes, and the misuse errors. */
#include "testing.h"
#include "fixtures/conv_fixture.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- helpers ---------------------------------------------------------------------------- */

/* Run body once with the reference path and once with the fast path. */
#define FOR_BOTH_PATHS(body)                                                              \
    do {                                                                                  \
        for (int path_ = 0; path_ < 2; path_++) {                                         \
            bool was_ = nn_set_conv2d_reference(path_ == 0);                              \
            body;                                                                         \
            nn_set_conv2d_reference(was_);                                                \
            nn_graph_clear();                                                             \
        }                                                                                 \
    } while (0)

/* |got - want| <= tol * max(1, |want|) for every element. */
static void assert_close_rel(const float *got, const float *want, size_t n, float tol,
                             const char *what) {
    for (size_t i = 0; i < n; i++) {
        float scale = fabsf(want[i]) > 1.0f ? fabsf(want[i]) : 1.0f;
        if (!(fabsf(got[i] - want[i]) <= tol * scale))
            fail_msg("%s[%zu]: got %.7g, want %.7g (rel tol %g)", what, i, got[i], want[i], tol);
    }
}

static size_t shape_count(const int *shape, int ndim) {
    size_t n = 1;
    for (int d = 0; d < ndim; d++) n *= (size_t)shape[d];
    return n;
}

/* ---- hand-computed examples ------------------------------------------------------------- */

/* x = 1..9 as a 3x3 image, w = [[1, 2], [3, 4]], b = 0.5, stride 1, no padding:
 *   y[0][0] = 1*1 + 2*2 + 3*4 + 4*5 + 0.5 = 37.5, then 47.5, 67.5, 77.5.
 * With loss = sum(y): dw[i][j] = sum of the 4 pixels that w[i][j] touched
 * (1+2+4+5 = 12, 16, 24, 28), db = 4 (outputs), and dx = how much of w lands on each pixel:
 *   1  3  2 / 4 10  6 / 3  7  4. No flip: this is cross-correlation, like PyTorch. */
static void test_conv_hand_example(void **state) {
    (void)state;
    FOR_BOTH_PATHS({
        nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, 2, 3, 4, 5, 6, 7, 8, 9},
                                                      NN_SHAPE(1, 1, 3, 3)));
        nn_tensor *w = nn_requires_grad(nn_from_array((float[]){1, 2, 3, 4},
                                                      NN_SHAPE(1, 1, 2, 2)));
        nn_tensor *b = nn_requires_grad(nn_from_array((float[]){0.5f}, NN_SHAPE(1)));
        nn_tensor *y = nn_conv2d(x, w, b, 1, 0);
        assert_int_equal(y->ndim, 4);
        assert_int_equal(y->shape[2], 2);
        assert_int_equal(y->shape[3], 2);
        assert_floats_near(y->data, (float[]){37.5f, 47.5f, 67.5f, 77.5f}, 4, 1e-5f);
        nn_backward(nn_sum(y));
        assert_floats_near(w->grad, (float[]){12, 16, 24, 28}, 4, 1e-5f);
        assert_floats_near(b->grad, (float[]){4}, 1, 1e-5f);
        assert_floats_near(x->grad, (float[]){1, 3, 2, 4, 10, 6, 3, 7, 4}, 9, 1e-5f);
        nn_tensor_free(x);
        nn_tensor_free(w);
        nn_tensor_free(b);
    });
}

/* The same image and kernel with padding 1 and stride 2: Ho = (3 + 2 - 2) / 2 + 1 = 2.
 *   y[0][0] sees rows -1..0, cols -1..0: only w[1][1] * x[0][0] = 4 * 1 = 4
 *   y[0][1] rows -1..0, cols 1..2: w[1][0] x[0][1] + w[1][1] x[0][2] = 3*2 + 4*3 = 18
 *   y[1][0] rows 1..2, cols -1..0: w[0][1] x[1][0] + w[1][1] x[2][0] = 2*4 + 4*7 = 36
 *   y[1][1] rows 1..2, cols 1..2: 1*5 + 2*6 + 3*8 + 4*9 = 77
 * Backward of sum(y): each pixel gets the w entries that touched it; x[0][0] only w[1][1]. */
static void test_conv_hand_example_padded_strided(void **state) {
    (void)state;
    FOR_BOTH_PATHS({
        nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, 2, 3, 4, 5, 6, 7, 8, 9},
                                                      NN_SHAPE(1, 1, 3, 3)));
        nn_tensor *w = nn_requires_grad(nn_from_array((float[]){1, 2, 3, 4},
                                                      NN_SHAPE(1, 1, 2, 2)));
        nn_tensor *y = nn_conv2d(x, w, NULL, 2, 1);
        assert_int_equal(y->shape[2], 2);
        assert_int_equal(y->shape[3], 2);
        assert_floats_near(y->data, (float[]){4, 18, 36, 77}, 4, 1e-5f);
        nn_backward(nn_sum(y));
        /* dw[i][j] = sum of the pixels w[i][j] met: w[0][0] only x[1][1] = 5; w[0][1]: x[1][0]
         * + x[1][2] = 10; w[1][0]: x[0][1] + x[2][1] = 10; w[1][1]: 1 + 3 + 7 + 9 = 20 */
        assert_floats_near(w->grad, (float[]){5, 10, 10, 20}, 4, 1e-5f);
        assert_floats_near(x->grad, (float[]){4, 3, 4, 2, 1, 2, 4, 3, 4}, 9, 1e-5f);
        nn_tensor_free(x);
        nn_tensor_free(w);
    });
}

/* 2x2 max pool of a 4x4 image: each window's largest value, gradient only to it. */
static void test_pool_hand_example(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array(
        (float[]){1, 5, 2, 0,
                  3, 4, 8, 6,
                  0, 0, 1, 2,
                  9, 7, 3, 4}, NN_SHAPE(1, 1, 4, 4)));
    nn_tensor *m = nn_max_pool2d(x, 2, 2);
    assert_int_equal(m->shape[2], 2);
    assert_floats_near(m->data, (float[]){5, 8, 9, 4}, 4, 0);
    nn_tensor *weights = nn_from_array((float[]){1, 2, 3, 4}, NN_SHAPE(1, 1, 2, 2));
    nn_backward(nn_sum(nn_mul(m, weights)));
    nn_tensor_free(weights);
    assert_floats_near(x->grad, (float[]){0, 1, 0, 0,
                                          0, 0, 2, 0,
                                          0, 0, 0, 0,
                                          3, 0, 0, 4}, 16, 0);
    nn_graph_clear();
    nn_zero_grad(x);
    nn_tensor *a = nn_avg_pool2d(x, 2, 2);
    assert_floats_near(a->data, (float[]){13 / 4.0f, 16 / 4.0f, 16 / 4.0f, 10 / 4.0f}, 4, 1e-6f);
    nn_backward(nn_sum(a));
    for (int i = 0; i < 16; i++) assert_float_equal(x->grad[i], 0.25f, 1e-7f);
    nn_graph_clear();
    /* ties: the first of equal values (in row-major order) takes the gradient */
    nn_tensor *t = nn_requires_grad(nn_from_array((float[]){2, 2, 2, 2}, NN_SHAPE(1, 1, 2, 2)));
    nn_backward(nn_sum(nn_max_pool2d(t, 2, 2)));
    assert_floats_near(t->grad, (float[]){1, 0, 0, 0}, 4, 0);
    nn_graph_clear();
    /* a NaN wins its window (NaNs propagate, as in PyTorch), wherever it sits */
    nn_tensor *q = nn_requires_grad(nn_from_array((float[]){1, 9, NAN, 2,
                                                            NAN, 0, 3, NAN}, NN_SHAPE(1, 2, 2, 2)));
    nn_tensor *qm = nn_max_pool2d(q, 2, 2);
    assert_true(isnan(qm->data[0]) && isnan(qm->data[1]));
    nn_backward(nn_sum(qm));
    assert_floats_near(q->grad, (float[]){0, 0, 1, 0, 1, 0, 0, 0}, 8, 0);
    nn_tensor_free(q);
    nn_tensor_free(t);
    nn_tensor_free(x);
}

/* ---- PyTorch's numbers ------------------------------------------------------------------ */

static nn_tensor *fixture(const float *values, const int *shape, int ndim) {
    return nn_requires_grad(nn_from_array(values, ndim, shape));
}

static void test_conv_matches_pytorch(void **state) {
    (void)state;
    FOR_BOTH_PATHS({
        nn_tensor *x = fixture(fx_conv_x, fx_conv_x_shape, 4);
        nn_tensor *w = fixture(fx_conv_w, fx_conv_w_shape, 4);
        nn_tensor *b = fixture(fx_conv_b, fx_conv_b_shape, 1);
        nn_tensor *g = nn_from_array(fx_conv_g, 4, fx_conv_g_shape);
        nn_tensor *y = nn_conv2d(x, w, b, FX_CONV_STRIDE, FX_CONV_PADDING);
        for (int d = 0; d < 4; d++) assert_int_equal(y->shape[d], fx_conv_y_shape[d]);
        assert_close_rel(y->data, fx_conv_y, shape_count(fx_conv_y_shape, 4), 1e-5f, "y");
        nn_backward(nn_sum(nn_mul(y, g)));
        assert_close_rel(x->grad, fx_conv_dx, shape_count(fx_conv_dx_shape, 4), 1e-5f, "dx");
        assert_close_rel(w->grad, fx_conv_dw, shape_count(fx_conv_dw_shape, 4), 1e-5f, "dw");
        assert_close_rel(b->grad, fx_conv_db, shape_count(fx_conv_db_shape, 1), 1e-5f, "db");
        nn_tensor_free(x);
        nn_tensor_free(w);
        nn_tensor_free(b);
        nn_tensor_free(g);
    });
}

static void test_pool_matches_pytorch(void **state) {
    (void)state;
    nn_tensor *x = fixture(fx_pool_x, fx_pool_x_shape, 4);
    nn_tensor *gm = nn_from_array(fx_maxpool_g, 4, fx_maxpool_g_shape);
    nn_tensor *m = nn_max_pool2d(x, FX_POOL_KERNEL, FX_POOL_STRIDE);
    for (int d = 0; d < 4; d++) assert_int_equal(m->shape[d], fx_maxpool_y_shape[d]);
    assert_floats_near(m->data, fx_maxpool_y, shape_count(fx_maxpool_y_shape, 4), 0);
    nn_backward(nn_sum(nn_mul(m, gm)));
    assert_close_rel(x->grad, fx_maxpool_dx, shape_count(fx_maxpool_dx_shape, 4), 1e-6f, "dx");
    nn_graph_clear();
    nn_zero_grad(x);
    nn_tensor *ga = nn_from_array(fx_avgpool_g, 4, fx_avgpool_g_shape);
    nn_tensor *a = nn_avg_pool2d(x, FX_POOL_KERNEL, FX_POOL_STRIDE);
    for (int d = 0; d < 4; d++) assert_int_equal(a->shape[d], fx_avgpool_y_shape[d]);
    assert_close_rel(a->data, fx_avgpool_y, shape_count(fx_avgpool_y_shape, 4), 1e-5f, "y");
    nn_backward(nn_sum(nn_mul(a, ga)));
    assert_close_rel(x->grad, fx_avgpool_dx, shape_count(fx_avgpool_dx_shape, 4), 1e-5f, "dx");
    nn_tensor_free(x);
    nn_tensor_free(gm);
    nn_tensor_free(ga);
}

/* ---- gradient checks -------------------------------------------------------------------- */

/* loss = sum(op(inputs) * r) with a fixed random r, so every output gets its own weight. */
typedef struct {
    int stride, padding, kernel;
    bool with_bias;
    nn_tensor *r;   /* owned, shaped like the output */
} check_ctx;

static nn_tensor *conv_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    nn_tensor *y = nn_conv2d(in[0], in[1], c->with_bias ? in[2] : NULL, c->stride, c->padding);
    return nn_sum(nn_mul(y, c->r));
}

static void check_conv_grads(bool reference, int stride, int padding, int kh, int kw) {
    bool was = nn_set_conv2d_reference(reference);
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(2, 3, 5, 6)));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(4, 3, kh, kw)));
    nn_tensor *b = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(4)));
    int Ho = (5 + 2 * padding - kh) / stride + 1, Wo = (6 + 2 * padding - kw) / stride + 1;
    check_ctx c = {stride, padding, 0, true, nn_rand_normal(0, 1, NN_SHAPE(2, 4, Ho, Wo))};
    nn_gradcheck_result r = nn_gradcheck(conv_loss, (nn_tensor *[]){x, w, b}, 3, &c, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("conv2d %s stride %d padding %d kernel %dx%d: rel err %g at input %d [%zu] "
                 "(analytic %g, numeric %g)", reference ? "reference" : "fast", stride, padding,
                 kh, kw, r.max_rel_err, r.worst_input, r.worst_index, r.analytic, r.numeric);
    assert_int_equal(r.checked, x->size + w->size + b->size);
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
    nn_tensor_free(c.r);
    nn_set_conv2d_reference(was);
}

static void test_conv_gradcheck(void **state) {
    (void)state;
    const int combos[][4] = {{1, 0, 3, 3}, {1, 1, 3, 3}, {2, 0, 3, 3}, {2, 1, 3, 3},
                             {2, 1, 2, 3}, {3, 2, 3, 2}, {1, 0, 1, 1}, {1, 2, 5, 4}};
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++)
        for (int ref = 0; ref < 2; ref++)
            check_conv_grads(ref, combos[i][0], combos[i][1], combos[i][2], combos[i][3]);
}

static nn_tensor *max_pool_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    return nn_sum(nn_mul(nn_max_pool2d(in[0], c->kernel, c->stride), c->r));
}
static nn_tensor *avg_pool_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    return nn_sum(nn_mul(nn_avg_pool2d(in[0], c->kernel, c->stride), c->r));
}

/* Distinct values 0.1 apart (a shuffled ramp): the finite-difference step 1e-2 can never
 * change which pixel wins a max window. */
static nn_tensor *distinct_input(int n, int c, int h, int w) {
    nn_tensor *x = nn_zeros(NN_SHAPE(n, c, h, w));
    int *perm = malloc(x->size * sizeof(int));
    for (size_t i = 0; i < x->size; i++) perm[i] = (int)i;
    nn_rng_shuffle(nn_global_rng(), perm, (int)x->size);
    for (size_t i = 0; i < x->size; i++) x->data[i] = 0.1f * (float)perm[i] - 3.0f;
    free(perm);
    return nn_requires_grad(x);
}

static void test_pool_gradcheck(void **state) {
    (void)state;
    const int combos[][2] = {{2, 2}, {3, 2}, {2, 1}, {3, 3}, {1, 1}, {4, 3}};
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) {
        int k = combos[i][0], s = combos[i][1];
        nn_tensor *x = distinct_input(2, 3, 7, 8);
        int Ho = (7 - k) / s + 1, Wo = (8 - k) / s + 1;
        check_ctx c = {s, 0, k, false, nn_rand_normal(0, 1, NN_SHAPE(2, 3, Ho, Wo))};
        nn_gradcheck_result r = nn_gradcheck(max_pool_loss, &x, 1, &c, 1e-2, 1e-2);
        if (!r.ok) fail_msg("max pool k %d s %d: rel err %g", k, s, r.max_rel_err);
        r = nn_gradcheck(avg_pool_loss, &x, 1, &c, 1e-2, 1e-2);
        if (!r.ok) fail_msg("avg pool k %d s %d: rel err %g", k, s, r.max_rel_err);
        assert_int_equal(r.checked, x->size);
        nn_tensor_free(x);
        nn_tensor_free(c.r);
    }
}

/* conv -> relu -> max pool -> flatten -> a weighted sum: the chain the CNN example uses. */
static nn_tensor *chain_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    nn_tensor *h = nn_relu(nn_conv2d(in[0], in[1], in[2], 1, 1));
    nn_tensor *f = nn_flatten(nn_max_pool2d(h, 2, 2));
    return nn_sum(nn_mul(f, c->r));
}

static void test_chain_gradcheck(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(2, 2, 6, 6)));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 0.5f, NN_SHAPE(3, 2, 3, 3)));
    nn_tensor *b = nn_requires_grad(nn_rand_normal(0, 0.1f, NN_SHAPE(3)));
    check_ctx c = {1, 1, 2, true, nn_rand_normal(0, 1, NN_SHAPE(2, 27))};
    /* a relu kink or a max tie within eps of a sample point would spoil central differences;
     * with these seeds there is none, and the check is strict everywhere else */
    nn_gradcheck_result r = nn_gradcheck(chain_loss, (nn_tensor *[]){x, w, b}, 3, &c, 1e-3, 2e-2);
    if (!r.ok)
        fail_msg("chain: rel err %g at input %d [%zu] (analytic %g, numeric %g)", r.max_rel_err,
                 r.worst_input, r.worst_index, r.analytic, r.numeric);
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
    nn_tensor_free(c.r);
}

/* ---- fast path vs reference -------------------------------------------------------------- */

typedef struct { int N, C, H, W, K, kh, kw, s, p; bool grad_x, bias; } conv_case;

/* Forward and all three gradients by both paths must agree within 1e-4 (relative). */
static void compare_paths(const conv_case *cc) {
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(cc->N, cc->C, cc->H, cc->W));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(cc->K, cc->C, cc->kh, cc->kw)));
    nn_tensor *b = cc->bias ? nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(cc->K))) : NULL;
    if (cc->grad_x) nn_requires_grad(x);
    int Ho = (cc->H + 2 * cc->p - cc->kh) / cc->s + 1, Wo = (cc->W + 2 * cc->p - cc->kw) / cc->s + 1;
    nn_tensor *r = nn_rand_normal(0, 1, NN_SHAPE(cc->N, cc->K, Ho, Wo));
    nn_tensor *out[2], *dx[2], *dw[2], *db[2];
    for (int path = 0; path < 2; path++) {
        bool was = nn_set_conv2d_reference(path == 0);
        nn_zero_grad(x);
        nn_zero_grad(w);
        if (b) nn_zero_grad(b);
        nn_tensor *y = nn_conv2d(x, w, b, cc->s, cc->p);
        assert_non_null(y);
        assert_int_equal(y->shape[2], Ho);
        assert_int_equal(y->shape[3], Wo);
        out[path] = nn_clone(y);
        nn_backward(nn_sum(nn_mul(y, r)));
        dx[path] = cc->grad_x ? nn_from_array(x->grad, 4, x->shape) : NULL;
        dw[path] = nn_from_array(w->grad, 4, w->shape);
        db[path] = b ? nn_from_array(b->grad, 1, b->shape) : NULL;
        nn_graph_clear();
        nn_set_conv2d_reference(was);
    }
    assert_close_rel(out[1]->data, out[0]->data, out[0]->size, 1e-4f, "y");
    assert_close_rel(dw[1]->data, dw[0]->data, dw[0]->size, 1e-4f, "dw");
    if (b) assert_close_rel(db[1]->data, db[0]->data, db[0]->size, 1e-4f, "db");
    if (cc->grad_x) assert_close_rel(dx[1]->data, dx[0]->data, dx[0]->size, 1e-4f, "dx");
    for (int path = 0; path < 2; path++) {
        nn_tensor_free(out[path]);
        nn_tensor_free(dx[path]);
        nn_tensor_free(dw[path]);
        nn_tensor_free(db[path]);
    }
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
    nn_tensor_free(r);
}

static void test_fast_matches_reference_fixed(void **state) {
    (void)state;
    const conv_case cases[] = {
        {2, 1, 28, 28, 16, 3, 3, 1, 1, false, true},  /* the CNN's first layer (input: data) */
        {2, 16, 14, 14, 32, 3, 3, 1, 1, true, true},  /* its second: R = 144, P = 196 */
        {2, 32, 9, 11, 7, 3, 3, 2, 1, true, true},    /* R = 288 > one panel of K (256) */
        {3, 5, 6, 7, 9, 1, 1, 1, 0, true, true},      /* 1x1: col is the image itself */
        {1, 3, 8, 8, 4, 1, 1, 2, 1, true, false},     /* 1x1 with stride and padding */
        {1, 2, 5, 5, 3, 5, 5, 1, 0, true, true},      /* kernel as big as the image */
        {1, 2, 3, 3, 3, 5, 5, 1, 1, true, true},      /* kernel bigger than the image */
        {2, 3, 10, 4, 13, 2, 4, 3, 2, true, false},   /* stride 3, padding 2, 13 kernels */
        {1, 2, 1, 1, 3, 5, 5, 1, 2, true, true},      /* same width, image narrower than the */
        {1, 2, 2, 2, 3, 5, 5, 1, 2, true, true},      /* kernel's reach: nothing to copy */
        {2, 3, 1, 9, 4, 3, 7, 1, 3, true, true},      /* 3 x 7, rows and columns both shift */
        {1, 2, 6, 5, 3, 5, 3, 1, 1, true, true},      /* 5 x 3 padding 1: Ho < H, Wo = W */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) compare_paths(&cases[i]);
}

static void test_fast_matches_reference_random(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 77);
    for (int t = 0; t < 40; t++) {
        conv_case cc;
        cc.N = 1 + nn_rng_int(&rng, 3);
        cc.C = 1 + nn_rng_int(&rng, 6);
        cc.H = 1 + nn_rng_int(&rng, 12);
        cc.W = 1 + nn_rng_int(&rng, 12);
        cc.K = 1 + nn_rng_int(&rng, 20);
        cc.s = 1 + nn_rng_int(&rng, 3);
        cc.p = nn_rng_int(&rng, 3);
        cc.kh = 1 + nn_rng_int(&rng, 4);
        cc.kw = 1 + nn_rng_int(&rng, 4);
        if (cc.kh > cc.H + 2 * cc.p) cc.kh = cc.H + 2 * cc.p;
        if (cc.kw > cc.W + 2 * cc.p) cc.kw = cc.W + 2 * cc.p;
        cc.grad_x = nn_rng_int(&rng, 4) != 0;
        cc.bias = nn_rng_int(&rng, 4) != 0;
        compare_paths(&cc);
    }
}

/* Stride 1: im2col copies whole runs when the output is as wide as the input (kw = 2 pad + 1)
 * and goes row by row otherwise; both against the reference on rows of one to three vectors
 * and a partial one (W 15, 16, 17, 40), padding 0 to 2, kernels 1 to 4 wide, on each GEMM
 * path this CPU runs. */
static void test_fast_im2col_on_each_gemm_path(void **state) {
    (void)state;
    const nn_gemm_path paths[] = {NN_GEMM_AVX512, NN_GEMM_AVX2, NN_GEMM_PLAIN};
    const int widths[] = {15, 16, 17, 40};
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        if (!nn_gemm_path_supported(paths[p])) {
            print_message("  (the %s GEMM path does not run on this CPU: skipped)\n",
                          nn_gemm_path_name(paths[p]));
            continue;
        }
        nn_set_gemm_path(paths[p]);
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
            for (int pad = 0; pad <= 2; pad++)
                for (int kw = 1; kw <= 4; kw++) {
                    conv_case cc = {2, 2, 3 + pad, widths[wi], 3, 3, kw, 1, pad, true, true};
                    compare_paths(&cc);
                }
    }
    nn_set_gemm_path(NN_GEMM_AUTO);
}

/* ---- nn_conv2d_relu: one op for nn_relu(nn_conv2d(...)) ---------------------------------- */

static nn_tensor *conv_relu_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    nn_tensor *y = nn_conv2d_relu(in[0], in[1], in[2], c->stride, c->padding);
    return nn_sum(nn_mul(y, c->r));
}

static nn_tensor *conv_relu_pool_loss(nn_tensor **in, void *user) {
    check_ctx *c = user;
    nn_tensor *y = nn_conv2d_relu_maxpool2d(in[0], in[1], in[2], c->stride, c->padding, c->kernel,
                                            2);
    return nn_sum(nn_mul(y, c->r));
}

/* The gradient check of a fused op `loss` (c's stride, padding and pool kernel) on the path
 * set now: x (N, C, H, W), K 3x3 kernels from normal(0, w_std), biases from normal(0, b_std),
 * an output of Ho x Wo; `what` names the case in a failure. The ReLU's kink and the pool's
 * ties are not differentiable: the seeds keep them further than eps from every sample. */
static void check_fused_grads(nn_loss_fn loss, check_ctx *c, const int xs[4], int K, float w_std,
                              float b_std, int Ho, int Wo, double eps, const char *what) {
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, 4, xs));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, w_std, NN_SHAPE(K, xs[1], 3, 3)));
    nn_tensor *b = nn_requires_grad(nn_rand_normal(0, b_std, NN_SHAPE(K)));
    c->r = nn_rand_normal(0, 1, NN_SHAPE(xs[0], K, Ho, Wo));
    nn_gradcheck_result r = nn_gradcheck(loss, (nn_tensor *[]){x, w, b}, 3, c, eps, 2e-2);
    if (!r.ok)
        fail_msg("%s %s stride %d padding %d pool %d: rel err %g at input %d [%zu] "
                 "(analytic %g, numeric %g)", what, nn_is_conv2d_reference() ? "reference"
                 : "fast", c->stride, c->padding, c->kernel, r.max_rel_err, r.worst_input,
                 r.worst_index, r.analytic, r.numeric);
    assert_int_equal(r.checked, x->size + w->size + b->size);
    nn_tensor_free(x), nn_tensor_free(w), nn_tensor_free(b), nn_tensor_free(c->r);
}

/* nn_conv2d_relu_maxpool2d's gradients, both paths: 2 x 2 windows, and 3 x 3 every 2; a
 * small step, since at 1e-3 moving one weight changes some window's winner */
static void test_conv_relu_maxpool_gradcheck(void **state) {
    (void)state;
    for (int pk = 2; pk <= 3; pk++)
        for (int ref = 0; ref < 2; ref++) {
            bool was = nn_set_conv2d_reference(ref);
            check_ctx c = {1, 1, pk, true, NULL};   /* padding 1: a 6 x 7 output to pool */
            check_fused_grads(conv_relu_pool_loss, &c, (int[]){2, 2, 6, 7}, 3, 0.5f, 0.3f,
                              (6 - pk) / 2 + 1, (7 - pk) / 2 + 1, 2e-4, "conv2d_relu_maxpool2d");
            nn_set_conv2d_reference(was);
        }
}

static void test_conv_relu_gradcheck(void **state) {
    (void)state;
    const int combos[][2] = {{1, 1}, {2, 0}, {1, 0}};   /* stride, padding; kernel 3x3 */
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++)
        for (int ref = 0; ref < 2; ref++) {
            bool was = nn_set_conv2d_reference(ref);
            int s = combos[i][0], p = combos[i][1];
            check_ctx c = {s, p, 0, true, NULL};
            check_fused_grads(conv_relu_loss, &c, (int[]){2, 3, 5, 6}, 4, 0.5f, 0.5f,
                              (5 + 2 * p - 3) / s + 1, (6 + 2 * p - 3) / s + 1, 1e-3,
                              "conv2d_relu");
            nn_set_conv2d_reference(was);
        }
}

/* y, dx, dw, db of one op, copied out of the graph */
typedef struct { nn_tensor *y, *dx, *dw, *db; } conv_run;

/* pool_k 0: relu(conv) as the pair or fused; else max_pool(relu(conv)), as the chain of ops
 * or as nn_conv2d_relu_maxpool2d */
static conv_run run_conv(bool fused, nn_tensor *x, nn_tensor *w, nn_tensor *b, int s, int p,
                         int pool_k, int pool_s, nn_tensor *r) {
    nn_zero_grad(x);
    nn_zero_grad(w);
    nn_zero_grad(b);
    nn_tensor *y = fused ? nn_conv2d_relu(x, w, b, s, p) : nn_relu(nn_conv2d(x, w, b, s, p));
    if (pool_k)
        y = fused ? nn_conv2d_relu_maxpool2d(x, w, b, s, p, pool_k, pool_s)
                  : nn_max_pool2d(y, pool_k, pool_s);
    assert_non_null(y);
    conv_run out = {nn_clone(y), NULL, NULL, NULL};
    nn_backward(nn_sum(nn_mul(y, r)));
    out.dx = nn_from_array(x->grad, 4, x->shape);
    out.dw = nn_from_array(w->grad, 4, w->shape);
    out.db = nn_from_array(b->grad, 1, b->shape);
    nn_graph_clear();
    return out;
}

static void assert_same_bits(const nn_tensor *got, const nn_tensor *want, const char *what,
                             bool pooled) {
    assert_int_equal(got->size, want->size);
    if (memcmp(got->data, want->data, got->size * sizeof(float)) != 0)
        fail_msg("%s's %s differs from the chain of ops", pooled ? "nn_conv2d_relu_maxpool2d"
                 : "nn_conv2d_relu", what);
}

/* The fused ops make the same numbers as the chains of ops, bit for bit, on both paths: the
 * same max(0, .) of the same sums, dy masked exactly as relu's backward does, and pooled the
 * same way (2 x 2 windows; 3 x 3 every 2, which overlap; odd sizes whose last row and column
 * no window covers). */
static void test_conv_relu_matches_the_pair(void **state) {
    (void)state;
    const conv_case cases[] = {
        {3, 1, 28, 28, 8, 3, 3, 1, 1, true, true},   /* the bench's first layer */
        {2, 8, 14, 14, 16, 3, 3, 1, 1, true, true},  /* and its second */
        {2, 3, 7, 5, 5, 2, 3, 2, 1, true, true},     /* odd sizes, stride 2 */
        {1, 4, 6, 6, 3, 1, 1, 1, 0, true, true},     /* 1x1: no columns */
        {2, 2, 9, 11, 4, 3, 3, 1, 0, true, true},    /* a 7 x 9 output */
    };
    const int pools[][2] = {{0, 0}, {2, 2}, {3, 2}};   /* none; kernel, stride */
    enum { NPOOLS = sizeof pools / sizeof pools[0] };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int run = 0; run < 2 * NPOOLS; run++) {   /* both paths, each pooling */
            int ref = run / NPOOLS, pk = pools[run % NPOOLS][0], ps = pools[run % NPOOLS][1];
            const conv_case *cc = &cases[i];
            bool was = nn_set_conv2d_reference(ref);
            nn_tensor *x =
                nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(cc->N, cc->C, cc->H, cc->W)));
            nn_tensor *w =
                nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(cc->K, cc->C, cc->kh, cc->kw)));
            nn_tensor *b = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(cc->K)));
            int Ho = (cc->H + 2 * cc->p - cc->kh) / cc->s + 1;
            int Wo = (cc->W + 2 * cc->p - cc->kw) / cc->s + 1;
            if (pk && (pk > Ho || pk > Wo)) {
                nn_set_conv2d_reference(was);
                nn_tensor_free(x), nn_tensor_free(w), nn_tensor_free(b);
                continue;   /* no window fits */
            }
            if (pk) Ho = (Ho - pk) / ps + 1, Wo = (Wo - pk) / ps + 1;
            nn_tensor *r = nn_rand_normal(0, 1, NN_SHAPE(cc->N, cc->K, Ho, Wo));
            conv_run pair = run_conv(false, x, w, b, cc->s, cc->p, pk, ps, r);
            conv_run fused = run_conv(true, x, w, b, cc->s, cc->p, pk, ps, r);
            size_t zeros = 0;   /* the case must exercise the mask: some outputs cut to 0 */
            for (size_t k = 0; k < pair.y->size; k++) zeros += pair.y->data[k] == 0.0f;
            assert_true(zeros < pair.y->size);
            if (!pk) assert_true(zeros > 0);
            assert_same_bits(fused.y, pair.y, "y", pk);
            assert_same_bits(fused.dx, pair.dx, "dx", pk);
            assert_same_bits(fused.dw, pair.dw, "dw", pk);
            assert_same_bits(fused.db, pair.db, "db", pk);
            conv_run *runs[] = {&pair, &fused};
            for (int k = 0; k < 2; k++) {
                nn_tensor_free(runs[k]->y);
                nn_tensor_free(runs[k]->dx);
                nn_tensor_free(runs[k]->dw);
                nn_tensor_free(runs[k]->db);
            }
            nn_tensor_free(x);
            nn_tensor_free(w);
            nn_tensor_free(b);
            nn_tensor_free(r);
            nn_set_conv2d_reference(was);
        }
}

/* The fast path hands images to threads in any order but sums their gradients in image
 * order: runs give the same bits, with 2 threads or 1 (when OpenMP is on). */
/* Max pooling 2x2 / stride 2 has an unrolled fast path: it must give the general loop's
 * outputs and gradients bit for bit, on odd sizes (the last row and column dropped), ties
 * (values on a coarse grid, so windows often hold equals) and NaNs (the row falls back). */
static void test_pool_fast_matches_reference(void **state) {
    (void)state;
    const int shapes[][4] = {{1, 1, 2, 2}, {2, 3, 7, 9}, {3, 2, 28, 28}, {1, 4, 5, 3}};
    nn_rng rng;
    nn_rng_seed(&rng, 17);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int *sh = shapes[si];
        int n = sh[0] * sh[1] * sh[2] * sh[3];
        float *v = malloc(sizeof(float) * n);
        for (int i = 0; i < n; i++) v[i] = (float)nn_rng_int(&rng, 5) - 2.0f; /* ties */
        if (n > 20) v[n / 3] = NAN, v[n / 2 + 1] = NAN;
        float *got[2][2];
        for (int ref = 0; ref < 2; ref++) {
            bool was = nn_set_conv2d_reference(ref);
            nn_tensor *x = nn_requires_grad(nn_from_array(v, 4, sh));
            nn_tensor *y = nn_max_pool2d(x, 2, 2);
            nn_seed(3); /* the same weights r for both paths */
            nn_tensor *r = nn_rand_uniform(0.5f, 1.5f, y->ndim, y->shape);
            nn_backward(nn_sum(nn_mul(y, r)));
            got[ref][0] = malloc(sizeof(float) * y->size);
            memcpy(got[ref][0], y->data, sizeof(float) * y->size);
            got[ref][1] = malloc(sizeof(float) * n);
            memcpy(got[ref][1], x->grad, sizeof(float) * n);
            size_t ny = y->size;
            nn_graph_clear();
            nn_tensor_free(r), nn_tensor_free(x);
            nn_set_conv2d_reference(was);
            if (ref == 1) {
                assert_memory_equal(got[0][0], got[1][0], sizeof(float) * ny);
                assert_memory_equal(got[0][1], got[1][1], sizeof(float) * n);
            }
        }
        for (int k = 0; k < 2; k++) free(got[0][k]), free(got[1][k]);
        free(v);
    }
}

static void test_fast_is_deterministic(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(8, 4, 9, 9)));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(6, 4, 3, 3)));
    nn_tensor *b = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(6)));
    float first_w[6 * 4 * 9], first_b[6], first_x[8 * 4 * 9 * 9], first_y[8 * 6 * 9 * 9];
    for (int run = 0; run < 3; run++) {
#ifdef _OPENMP
        int threads = omp_get_max_threads();
        omp_set_num_threads(run == 1 ? 1 : 2);
#endif
        nn_zero_grad(x);
        nn_zero_grad(w);
        nn_zero_grad(b);
        nn_tensor *y = nn_conv2d(x, w, b, 1, 1);
        nn_backward(nn_sum(nn_square(y)));
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        if (run == 0) {
            memcpy(first_w, w->grad, sizeof first_w);
            memcpy(first_b, b->grad, sizeof first_b);
            memcpy(first_x, x->grad, sizeof first_x);
            memcpy(first_y, y->data, sizeof first_y);
        } else {
            assert_memory_equal(first_w, w->grad, sizeof first_w);
            assert_memory_equal(first_b, b->grad, sizeof first_b);
            assert_memory_equal(first_x, x->grad, sizeof first_x);
            assert_memory_equal(first_y, y->data, sizeof first_y);
        }
        nn_graph_clear();
    }
    nn_tensor_free(x);
    nn_tensor_free(w);
    nn_tensor_free(b);
}

/* ---- grad mode, flatten, the layer --------------------------------------------------------- */

static void test_no_grad_records_nothing(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(2, 3, 6, 6)));
    nn_tensor *w = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(4, 3, 3, 3)));
    nn_tensor *y1 = nn_clone(nn_conv2d(x, w, NULL, 1, 1));
    nn_graph_clear();
    bool was = nn_set_grad_enabled(false);
    nn_tensor *y2 = nn_max_pool2d(nn_conv2d(x, w, NULL, 1, 1), 2, 2);
    assert_false(y2->requires_grad);
    assert_int_equal(nn_graph_node_count(), 0);
    nn_graph_clear();
    y2 = nn_conv2d(x, w, NULL, 1, 1);
    assert_memory_equal(y1->data, y2->data, y1->size * sizeof(float));
    nn_set_grad_enabled(was);
    nn_tensor_free(y1);
    nn_tensor_free(x);
    nn_tensor_free(w);
}

static void test_flatten(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0, 1, NN_SHAPE(3, 2, 4, 5)));
    nn_tensor *f = nn_flatten(x);
    assert_int_equal(f->ndim, 2);
    assert_int_equal(f->shape[0], 3);
    assert_int_equal(f->shape[1], 40);
    assert_memory_equal(f->data, x->data, x->size * sizeof(float));
    nn_backward(nn_sum(nn_mul_scalar(f, 2.0f)));
    for (size_t i = 0; i < x->size; i++) assert_float_equal(x->grad[i], 2.0f, 0);
    nn_tensor_free(x);
}

static void test_conv_layer(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_conv2d_layer *c1 = nn_conv2d_layer_new(m, "conv1", 1, 16, 3, 1, 1, NN_INIT_HE);
    nn_conv2d_layer *c2 = nn_conv2d_layer_new(m, "conv2", 16, 32, 3, 1, 1, NN_INIT_HE);
    nn_conv2d_layer *c3 = nn_conv2d_layer_new(m, "conv3", 32, 8, 3, 2, 0, NN_INIT_XAVIER);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_non_null(c3);
    assert_ptr_equal(nn_model_find(m, "conv2.W"), c2->W);
    assert_ptr_equal(nn_model_find(m, "conv2.b"), c2->b);
    assert_int_equal(c2->W->shape[0], 32);
    assert_int_equal(c2->W->shape[1], 16);
    assert_int_equal(c2->W->shape[2], 3);
    assert_int_equal(c2->W->shape[3], 3);
    assert_int_equal(m->count, (16 * 9 + 16) + (32 * 16 * 9 + 32) + (8 * 32 * 9 + 8));
    /* He: std = sqrt(2 / fan_in), fan_in = 16 * 3 * 3 = 144; the bias starts at zero */
    double ss = 0;
    for (size_t i = 0; i < c2->W->size; i++) ss += (double)c2->W->data[i] * c2->W->data[i];
    double std = sqrt(ss / (double)c2->W->size), want = sqrt(2.0 / 144.0);
    assert_true(fabs(std - want) < 0.1 * want);
    /* Xavier: uniform(+-a), a = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (288 + 72)) */
    float a = sqrtf(6.0f / (288.0f + 72.0f)), biggest = 0;
    for (size_t i = 0; i < c3->W->size; i++)
        biggest = fabsf(c3->W->data[i]) > biggest ? fabsf(c3->W->data[i]) : biggest;
    assert_true(biggest <= a && biggest > 0.9f * a);
    for (int k = 0; k < 32; k++) assert_float_equal(c2->b->data[k], 0.0f, 0);

    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(2, 1, 28, 28));
    nn_tensor *h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(c1, x)), 2, 2);
    h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(c2, h)), 2, 2);
    nn_tensor *y = nn_conv2d_layer_forward(c3, h);           /* 7x7 -> (7 - 3) / 2 + 1 = 3 */
    assert_int_equal(y->shape[0], 2);
    assert_int_equal(y->shape[1], 8);
    assert_int_equal(y->shape[2], 3);
    assert_int_equal(y->shape[3], 3);
    nn_model_zero_grad(m);
    nn_backward(nn_mean(nn_square(y)));
    assert_true(nn_model_grad_norm(m) > 0.0f);
    nn_graph_clear();
    EXPECT_NN_ERROR(nn_conv2d_layer_forward(c2, x), "nn_conv2d_layer_forward", "(2, 1, 28, 28)",
                    "(32, 16, 3, 3)", "in_ch = 16");
    EXPECT_NN_ERROR(nn_conv2d_layer_new(m, "bad", 0, 4, 3, 1, 0, NN_INIT_HE),
                    "nn_conv2d_layer_new", "in_ch = 0");
    EXPECT_NN_ERROR(nn_conv2d_layer_new(m, "bad", 1, 4, 3, 0, 0, NN_INIT_HE), "stride = 0");
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static void test_conv_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 3, 8, 8));
    nn_tensor *x3 = nn_zeros(NN_SHAPE(3, 8, 8));
    nn_tensor *w = nn_zeros(NN_SHAPE(4, 3, 3, 3));
    nn_tensor *w_ch = nn_zeros(NN_SHAPE(4, 1, 3, 3));
    nn_tensor *w3 = nn_zeros(NN_SHAPE(4, 3, 3));
    nn_tensor *w_big = nn_zeros(NN_SHAPE(4, 3, 11, 3));
    nn_tensor *b_bad = nn_zeros(NN_SHAPE(5));
    EXPECT_NN_ERROR(nn_conv2d(x3, w, NULL, 1, 0), "nn_conv2d", "(3, 8, 8)", "(N, C, H, W)",
                    "nn_reshape");
    EXPECT_NN_ERROR(nn_conv2d(x, w3, NULL, 1, 0), "nn_conv2d", "(4, 3, 3)", "(K, C, kh, kw)");
    EXPECT_NN_ERROR(nn_conv2d(x, w_ch, NULL, 1, 0), "nn_conv2d", "(2, 3, 8, 8)", "3 channels",
                    "(4, 1, 3, 3)", "expects 1", "NCHW");
    EXPECT_NN_ERROR(nn_conv2d(x, w, b_bad, 1, 0), "nn_conv2d", "b has shape (5)", "(4, 3, 3, 3)",
                    "want b (4)");
    EXPECT_NN_ERROR(nn_conv2d(x, w, NULL, 0, 0), "nn_conv2d", "stride = 0", "(2, 3, 8, 8)",
                    "1 or more");
    EXPECT_NN_ERROR(nn_conv2d(x, w, NULL, -2, 0), "stride = -2");
    EXPECT_NN_ERROR(nn_conv2d(x, w, NULL, 1, -1), "nn_conv2d", "padding = -1");
    /* the fused ops check the same, under their own names, and the pooling window */
    EXPECT_NN_ERROR(nn_conv2d_relu(x, w_ch, NULL, 1, 0), "nn_conv2d_relu", "3 channels");
    EXPECT_NN_ERROR(nn_conv2d_relu_maxpool2d(x, w, NULL, 0, 0, 2, 2),
                    "nn_conv2d_relu_maxpool2d", "stride = 0");
    EXPECT_NN_ERROR(nn_conv2d_relu_maxpool2d(x, w, NULL, 1, 0, 0, 2), "pool kernel 0",
                    "6x6 output");   /* 8 - 3 + 1 = 6 */
    EXPECT_NN_ERROR(nn_conv2d_relu_maxpool2d(x, w, NULL, 1, 0, 7, 7), "pool kernel 7");
    EXPECT_NN_ERROR(nn_conv2d_relu_maxpool2d(x, w, NULL, 1, 0, 2, 0), "stride 0");
    EXPECT_NN_ERROR(nn_conv2d(x, w_big, NULL, 1, 1), "nn_conv2d", "kernel 11x3",
                    "padded input 10x10", "(2, 3, 8, 8)", "(4, 3, 11, 3)", "more padding");
    EXPECT_NN_ERROR(nn_conv2d(NULL, w, NULL, 1, 0), "nn_conv2d", "is NULL");
    /* the error names the caller's line (the header's macro records it) */
    EXPECT_NN_ERROR(nn_conv2d(x, w, NULL, 0, 0), "test_conv.c");
    nn_tensor_free(x);
    nn_tensor_free(x3);
    nn_tensor_free(w);
    nn_tensor_free(w_ch);
    nn_tensor_free(w3);
    nn_tensor_free(w_big);
    nn_tensor_free(b_bad);
}

static void test_pool_errors(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(1, 2, 5, 3));
    nn_tensor *x2 = nn_zeros(NN_SHAPE(5, 3));
    EXPECT_NN_ERROR(nn_max_pool2d(x2, 2, 2), "nn_max_pool2d", "(5, 3)", "(N, C, H, W)");
    EXPECT_NN_ERROR(nn_avg_pool2d(x2, 2, 2), "nn_avg_pool2d", "(5, 3)");
    EXPECT_NN_ERROR(nn_max_pool2d(x, 4, 1), "nn_max_pool2d", "kernel 4x4", "input 5x3",
                    "(1, 2, 5, 3)", "smaller kernel");
    EXPECT_NN_ERROR(nn_avg_pool2d(x, 2, 0), "nn_avg_pool2d", "stride = 0");
    EXPECT_NN_ERROR(nn_max_pool2d(x, 0, 1), "nn_max_pool2d", "kernel = 0");
    nn_tensor *v = nn_zeros(NN_SHAPE(7));
    EXPECT_NN_ERROR(nn_flatten(v), "nn_flatten", "(7)", "at least 2 dims");
    nn_tensor_free(v);
    nn_tensor_free(x);
    nn_tensor_free(x2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_conv_hand_example),
        NN_TEST(test_conv_hand_example_padded_strided),
        NN_TEST(test_pool_hand_example),
        NN_TEST(test_conv_matches_pytorch),
        NN_TEST(test_pool_matches_pytorch),
        NN_TEST(test_conv_gradcheck),
        NN_TEST(test_pool_gradcheck),
        NN_TEST(test_chain_gradcheck),
        NN_TEST(test_fast_matches_reference_fixed),
        NN_TEST(test_fast_matches_reference_random),
        NN_TEST(test_fast_im2col_on_each_gemm_path),
        NN_TEST(test_conv_relu_gradcheck),
        NN_TEST(test_conv_relu_maxpool_gradcheck),
        NN_TEST(test_conv_relu_matches_the_pair),
        NN_TEST(test_pool_fast_matches_reference),
        NN_TEST(test_fast_is_deterministic),
        NN_TEST(test_no_grad_records_nothing),
        NN_TEST(test_flatten),
        NN_TEST(test_conv_layer),
        NN_TEST(test_conv_errors),
        NN_TEST(test_pool_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
