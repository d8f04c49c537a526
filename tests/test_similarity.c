/* tests/test_similarity.c — one-hot rows, cosine similarity (values against double-precision
 * loops, gradients against central differences, the eps clamp on zero vectors) and the k
 * nearest rows of a table (against brute force, with exclusion and ties). */
#include "testing.h"

/* ---- one-hot ------------------------------------------------------------------------------ */

static void test_one_hot_values(void **state) {
    (void)state;
    const int ids[4] = {2, 0, 3, 2};
    nn_tensor *y = nn_one_hot(ids, 4, 5);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->shape[0], 4);
    assert_int_equal(y->shape[1], 5);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 5; c++) assert_true(nn_at(y, r, c) == (c == ids[r] ? 1.0f : 0.0f));
    assert_false(y->requires_grad);   /* a constant */
    assert_null(y->grad);
    assert_null(y->node);
    /* one_hot(ids) @ W picks the rows of W. */
    nn_tensor *W = nn_rand_uniform(-1, 1, NN_SHAPE(5, 3));
    nn_tensor *picked = nn_matmul(y, W);
    for (int r = 0; r < 4; r++)
        for (int e = 0; e < 3; e++) assert_true(nn_at(picked, r, e) == nn_at(W, ids[r], e));
    nn_tensor_free(W);
    nn_tensor *single = nn_one_hot((const int[]){0}, 1, 1);
    assert_true(single->data[0] == 1.0f);
}

static void test_one_hot_errors(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_one_hot((const int[]){1, 5, 0}, 3, 5), "nn_one_hot", "ids[1] = 5",
                    "depth = 5");
    EXPECT_NN_ERROR(nn_one_hot((const int[]){-1}, 1, 5), "nn_one_hot", "ids[0] = -1");
    EXPECT_NN_ERROR(nn_one_hot((const int[]){0}, 0, 5), "nn_one_hot", "n = 0");
    EXPECT_NN_ERROR(nn_one_hot((const int[]){0}, 1, 0), "nn_one_hot", "depth = 0");
    EXPECT_NN_ERROR(nn_one_hot(NULL, 1, 3), "nn_one_hot", "NULL");
    EXPECT_NN_ERROR(nn_one_hot((const int[]){0, 7}, 2, 3), "test_similarity.c:");
}

/* ---- cosine similarity: values ------------------------------------------------------------ */

/* The reference, in double, with loops over 4-D indices: a and b broadcast to the common
 * shape dims (4-D, padded at the front), the similarity along `axis` (4-D index). */
typedef struct { int ndim; int shape[4]; } shp;
static size_t offset_of(const nn_tensor *t, const int *idx4) {
    size_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        int i = idx4[4 - t->ndim + d];
        off = off * (size_t)t->shape[d] + (size_t)(t->shape[d] == 1 ? 0 : i);
    }
    return off;
}
static void ref_cosine(const nn_tensor *a, const nn_tensor *b, int axis, double eps,
                       const int *dims4, double *out) {
    int ax4 = axis + 4 - (a->ndim > b->ndim ? a->ndim : b->ndim);
    size_t r = 0;
    int idx[4];
    for (idx[0] = 0; idx[0] < (ax4 == 0 ? 1 : dims4[0]); idx[0]++)
        for (idx[1] = 0; idx[1] < (ax4 == 1 ? 1 : dims4[1]); idx[1]++)
            for (idx[2] = 0; idx[2] < (ax4 == 2 ? 1 : dims4[2]); idx[2]++)
                for (idx[3] = 0; idx[3] < (ax4 == 3 ? 1 : dims4[3]); idx[3]++) {
                    double dot = 0, aa = 0, bb = 0;
                    int k4[4] = {idx[0], idx[1], idx[2], idx[3]};
                    for (int k = 0; k < dims4[ax4]; k++) {
                        k4[ax4] = k;
                        double x = a->data[offset_of(a, k4)], z = b->data[offset_of(b, k4)];
                        dot += x * z;
                        aa += x * x;
                        bb += z * z;
                    }
                    out[r++] = dot / (fmax(sqrt(aa), eps) * fmax(sqrt(bb), eps));
                }
}

typedef struct {
    shp a, b;
    int axis;          /* as passed (may be negative) */
    shp out;
} cos_case;

static const cos_case cases[] = {
    {{2, {5, 7}}, {2, {5, 7}}, 1, {1, {5}}},
    {{2, {5, 7}}, {2, {5, 7}}, 0, {1, {7}}},
    {{3, {2, 3, 4}}, {3, {2, 3, 4}}, 1, {2, {2, 4}}},
    {{3, {2, 3, 4}}, {3, {2, 3, 4}}, -1, {2, {2, 3}}},
    {{2, {1, 6}}, {2, {9, 6}}, -1, {1, {9}}},           /* one query against every row */
    {{1, {6}}, {2, {9, 6}}, 1, {1, {9}}},               /* the same, query of fewer dims */
    {{3, {2, 1, 5}}, {2, {3, 5}}, 2, {2, {2, 3}}},      /* both broadcast */
    {{1, {8}}, {1, {8}}, 0, {0, {0}}},                  /* two vectors: a scalar */
    {{4, {2, 2, 3, 2}}, {4, {2, 2, 3, 2}}, 2, {3, {2, 2, 2}}},
};

static void common_dims(const nn_tensor *a, const nn_tensor *b, int *dims4) {
    for (int d = 0; d < 4; d++) {
        int ia = d - (4 - a->ndim), ib = d - (4 - b->ndim);
        int na = ia >= 0 ? a->shape[ia] : 1, nb = ib >= 0 ? b->shape[ib] : 1;
        dims4[d] = na > nb ? na : nb;
    }
}

static void test_cosine_values(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const cos_case *k = &cases[c];
        nn_tensor *a = nn_rand_uniform(-1, 1, k->a.ndim, k->a.shape);
        nn_tensor *b = nn_rand_uniform(-1, 1, k->b.ndim, k->b.shape);
        nn_tensor *y = nn_cosine_similarity(a, b, k->axis, NN_COSINE_EPS);
        assert_int_equal(y->ndim, k->out.ndim);
        for (int d = 0; d < k->out.ndim; d++) assert_int_equal(y->shape[d], k->out.shape[d]);
        int dims4[4], nd = a->ndim > b->ndim ? a->ndim : b->ndim;
        common_dims(a, b, dims4);
        double want[64];
        ref_cosine(a, b, k->axis < 0 ? k->axis + nd : k->axis, NN_COSINE_EPS, dims4, want);
        for (size_t r = 0; r < y->size; r++) {
            if (!(fabs(y->data[r] - want[r]) <= 2e-7 + 1e-6 * fabs(want[r])))
                fail_msg("case %zu element %zu: got %.9g, want %.9g", c, r, y->data[r], want[r]);
            assert_true(y->data[r] >= -1.0f - 1e-6f && y->data[r] <= 1.0f + 1e-6f);
        }
        nn_tensor_free(a);
        nn_tensor_free(b);
        nn_graph_clear();
    }
    /* Known angles: the same direction 1, opposite -1, orthogonal 0, 60 degrees 1/2. */
    nn_tensor *u = nn_from_array((const float[]){1, 0, 3, 0, -2, 0, 1, 1}, NN_SHAPE(4, 2));
    nn_tensor *v = nn_from_array((const float[]){2, 0, 1, 0, 0, 5, 1, 0}, NN_SHAPE(4, 2));
    nn_tensor *y = nn_cosine_similarity(u, v, 1, NN_COSINE_EPS);
    assert_floats_near(y->data, (const float[]){1, 1, 0, (float)(1 / sqrt(2))}, 4, 1e-7f);
    nn_tensor *w = nn_from_array((const float[]){1, 0, -1, 0, 0, 1, 0.5f, 0.8660254f}, NN_SHAPE(4, 2));
    y = nn_cosine_similarity(u, w, -1, NN_COSINE_EPS);
    assert_floats_near(y->data, (const float[]){1, -1, 0, 0.9659258f}, 4, 1e-6f);
    nn_tensor_free(u);
    nn_tensor_free(v);
    nn_tensor_free(w);
}

/* ---- cosine similarity: gradients ----------------------------------------------------------- */

/* L = sum(cos(a, b) * R), R fixed: every output gets its own weight. */
typedef struct { int axis; float eps; nn_tensor *weights; } cos_ctx;
static nn_tensor *cos_loss(nn_tensor **in, void *user) {
    cos_ctx *c = user;
    nn_tensor *y = nn_cosine_similarity(in[0], in[1], c->axis, c->eps);
    if (!c->weights) {
        nn_rng rng;
        nn_rng_seed(&rng, 99);
        c->weights = nn_zeros(y->ndim, y->shape);
        nn_fill_uniform(c->weights, -1, 1, &rng);
    }
    nn_tensor *loss = nn_sum(nn_mul(y, c->weights));
    /* a also reaches the loss directly: backward must add, not overwrite. */
    return nn_add(loss, nn_mul_scalar(nn_sum(nn_square(in[0])), 0.1f));
}

static void check_cos_grad(const shp *sa, const shp *sb, int axis, float eps, float lo, float hi) {
    nn_tensor *in[2] = {nn_requires_grad(nn_rand_uniform(lo, hi, sa->ndim, sa->shape)),
                        nn_requires_grad(nn_rand_uniform(lo, hi, sb->ndim, sb->shape))};
    cos_ctx ctx = {axis, eps, NULL};
    nn_gradcheck_result r = nn_gradcheck(cos_loss, in, 2, &ctx, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck failed (axis %d, eps %g): input %d element %zu analytic %.6g numeric "
                 "%.6g rel %.3g", axis, eps, r.worst_input, r.worst_index, r.analytic, r.numeric,
                 r.max_rel_err);
    assert_int_equal(r.checked, in[0]->size + in[1]->size);
    nn_tensor_free(in[0]);
    nn_tensor_free(in[1]);
    nn_tensor_free(ctx.weights);
}

static void test_cosine_gradcheck(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        check_cos_grad(&cases[c].a, &cases[c].b, cases[c].axis, NN_COSINE_EPS, -1, 1);
    /* Inside the clamp (both norms below eps = 5): y = a.b / 25, a smooth function again. */
    const shp s = {2, {3, 4}};
    check_cos_grad(&s, &s, 1, 5.0f, -1, 1);
}

/* Only one input needs a gradient: the other is a constant. */
static void test_cosine_grad_one_side(void **state) {
    (void)state;
    nn_tensor *a = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(3, 4)));
    nn_tensor *b = nn_rand_uniform(-1, 1, NN_SHAPE(3, 4));
    nn_backward(nn_sum(nn_cosine_similarity(a, b, 1, NN_COSINE_EPS)));
    /* d cos / d a = b / (|a| |b|) - cos a / |a|^2, row by row, in double. */
    for (int r = 0; r < 3; r++) {
        double dot = 0, aa = 0, bb = 0;
        for (int k = 0; k < 4; k++) {
            double x = nn_at(a, r, k), z = nn_at(b, r, k);
            dot += x * z, aa += x * x, bb += z * z;
        }
        double y = dot / sqrt(aa * bb);
        for (int k = 0; k < 4; k++) {
            double want = nn_at(b, r, k) / sqrt(aa * bb) - y * nn_at(a, r, k) / aa;
            assert_true(fabs(a->grad[r * 4 + k] - want) < 1e-5);
        }
    }
    /* With grad off nothing is recorded. */
    nn_graph_clear();
    bool was = nn_set_grad_enabled(false);
    nn_tensor *y = nn_cosine_similarity(a, b, 1, NN_COSINE_EPS);
    assert_null(y->node);
    assert_false(y->requires_grad);
    nn_set_grad_enabled(was);
    nn_tensor_free(a);
    nn_tensor_free(b);
}

/* A zero vector: similarity 0, finite gradients (never NaN), the eps branch of the formula. */
static void test_cosine_zero_vector(void **state) {
    (void)state;
    nn_tensor *a = nn_requires_grad(nn_from_array((const float[]){0, 0, 0, 0, 0, 0}, NN_SHAPE(2, 3)));
    nn_tensor *b = nn_requires_grad(nn_from_array((const float[]){1, 2, 2, 0, 0, 0}, NN_SHAPE(2, 3)));
    const float eps = 1e-3f;
    nn_tensor *y = nn_cosine_similarity(a, b, 1, eps);
    assert_true(y->data[0] == 0.0f && y->data[1] == 0.0f);   /* zero with (1,2,2); zero with zero */
    nn_backward(nn_sum(y));
    for (int i = 0; i < 6; i++) {
        assert_true(isfinite(a->grad[i]) && isfinite(b->grad[i]));
    }
    /* Row 0: dy/da = b / (eps |b|) = (1, 2, 2) / (3 eps), and dy/db = a / (eps |b|) = 0. */
    const float want_a[6] = {1 / (3 * eps), 2 / (3 * eps), 2 / (3 * eps), 0, 0, 0};
    for (int i = 0; i < 6; i++) assert_true(fabsf(a->grad[i] - want_a[i]) <= 1e-6f * fabsf(want_a[i]) + 1e-6f);
    for (int i = 0; i < 6; i++) assert_true(b->grad[i] == 0.0f);
    /* A tiny vector (norm below eps) is not stretched to length 1: its cosine shrinks. */
    nn_graph_clear();
    nn_tensor *tiny = nn_from_array((const float[]){1e-5f, 0, 0}, NN_SHAPE(3));
    nn_tensor *e0 = nn_from_array((const float[]){1, 0, 0}, NN_SHAPE(3));
    nn_tensor *c = nn_cosine_similarity(tiny, e0, 0, 1e-4f);
    assert_true(fabsf(nn_item(c) - 0.1f) < 1e-6f);           /* 1e-5 / (1e-4 * 1) */
    assert_true(fabsf(nn_item(nn_cosine_similarity(tiny, e0, 0, NN_COSINE_EPS)) - 1.0f) < 1e-6f);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(tiny);
    nn_tensor_free(e0);
}

static void test_cosine_errors(void **state) {
    (void)state;
    nn_tensor *a = nn_zeros(NN_SHAPE(3, 4)), *b = nn_zeros(NN_SHAPE(2, 4)), *s = nn_scalar(1);
    EXPECT_NN_ERROR(nn_cosine_similarity(a, b, 1, NN_COSINE_EPS), "nn_cosine_similarity",
                    "(3, 4) and (2, 4) do not broadcast");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, 2, NN_COSINE_EPS), "nn_cosine_similarity",
                    "axis 2 is out of range", "(3, 4)");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, -3, NN_COSINE_EPS), "axis -3");
    EXPECT_NN_ERROR(nn_cosine_similarity(s, s, 0, NN_COSINE_EPS), "axis 0 is out of range");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, 1, 0.0f), "nn_cosine_similarity", "eps = 0");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, 1, -1e-8f), "eps = -1e-08");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, 1, NAN), "eps = nan");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, a, 1, INFINITY), "eps = inf");
    EXPECT_NN_ERROR(nn_cosine_similarity(NULL, a, 1, NN_COSINE_EPS), "NULL");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, NULL, 1, NN_COSINE_EPS), "NULL");
    EXPECT_NN_ERROR(nn_cosine_similarity(a, b, 1, NN_COSINE_EPS), "test_similarity.c:");
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(s);
}

/* ---- the k nearest rows --------------------------------------------------------------------- */

typedef struct { float score; int id; } ranked;
static int ranked_cmp(const void *pa, const void *pb) {
    const ranked *x = pa, *y = pb;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Brute force: every row's cosine in double (rounded to float, as reported), sorted. */
static int brute_nearest(const nn_tensor *t, const float *q, int exclude, ranked *out) {
    int V = t->shape[0], E = t->shape[1], n = 0;
    double qq = 0;
    for (int e = 0; e < E; e++) qq += (double)q[e] * q[e];
    for (int v = 0; v < V; v++) {
        if (v == exclude) continue;
        double dot = 0, rr = 0;
        for (int e = 0; e < E; e++) {
            dot += (double)t->data[v * E + e] * q[e];
            rr += (double)t->data[v * E + e] * t->data[v * E + e];
        }
        out[n].score = (float)(dot / (fmax(sqrt(rr), 1e-8) * fmax(sqrt(qq), 1e-8)));
        out[n++].id = v;
    }
    qsort(out, (size_t)n, sizeof *out, ranked_cmp);
    return n;
}

static void expect_nearest(const nn_tensor *t, const float *q, int k, int exclude) {
    int ids[100];
    float scores[100];
    ranked want[100];
    int n = nn_nearest_rows(t, q, k, exclude, ids, scores);
    int all = brute_nearest(t, q, exclude, want);
    assert_int_equal(n, k < all ? k : all);
    for (int j = 0; j < n; j++) {
        if (ids[j] != want[j].id || fabsf(scores[j] - want[j].score) > 1e-7f)
            fail_msg("k = %d, exclude %d, rank %d: got id %d (%.9g), want id %d (%.9g)", k,
                     exclude, j, ids[j], scores[j], want[j].id, want[j].score);
        if (j) assert_true(scores[j] <= scores[j - 1]);
        assert_true(ids[j] != exclude);
    }
}

static void test_nearest_rows_brute_force(void **state) {
    (void)state;
    enum { V = 60, E = 8 };
    nn_tensor *t = nn_rand_normal(0, 1, NN_SHAPE(V, E));
    float q[E];
    for (int e = 0; e < E; e++) q[e] = nn_rng_normal(nn_global_rng());
    const int ks[] = {1, 5, 10, 59, 60, 100};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        expect_nearest(t, q, ks[i], -1);
        expect_nearest(t, q, ks[i], 17);
    }
    /* A row's own vector: itself first (cosine 1) unless excluded. */
    int ids[5];
    float scores[5];
    assert_int_equal(nn_nearest_rows(t, t->data + 7 * E, 5, -1, ids, scores), 5);
    assert_int_equal(ids[0], 7);
    assert_true(fabsf(scores[0] - 1.0f) < 1e-6f);
    assert_int_equal(nn_nearest_rows(t, t->data + 7 * E, 5, 7, ids, NULL), 5);   /* no scores */
    for (int j = 0; j < 5; j++) assert_true(ids[j] != 7);
    expect_nearest(t, t->data + 7 * E, 5, 7);
    nn_tensor_free(t);
}

static void test_nearest_rows_ties_zero_nan(void **state) {
    (void)state;
    enum { V = 8, E = 3 };
    /* Rows 1, 4, 6 are the same vector; row 2 a longer copy (the same cosine); row 5 zero;
     * row 7 holds a NaN. */
    const float data[V * E] = {
        0, 1, 0,   1, 1, 0,   2, 2, 0,   -1, 0, 0,
        1, 1, 0,   0, 0, 0,   1, 1, 0,   NAN, 1, 0};
    nn_tensor *t = nn_from_array(data, NN_SHAPE(V, E));
    const float q[E] = {3, 3, 0};
    int ids[V];
    float scores[V];
    assert_int_equal(nn_nearest_rows(t, q, V, -1, ids, scores), V);
    const int want[V] = {1, 2, 4, 6, 0, 5, 3, 7};   /* equal scores: lower id first; NaN last */
    for (int j = 0; j < V; j++) assert_int_equal(ids[j], want[j]);
    assert_true(fabsf(scores[0] - 1.0f) < 1e-6f && scores[0] == scores[1] && scores[1] == scores[3]);
    assert_true(scores[5] == 0.0f);   /* the zero row: 0, not NaN */
    assert_true(isnan(scores[7]));
    /* Excluding one of the tied rows keeps the others in order. */
    assert_int_equal(nn_nearest_rows(t, q, 3, 4, ids, scores), 3);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 6);
    /* A zero query: every score is 0, so the order is by id. */
    const float zero[E] = {0, 0, 0};
    assert_int_equal(nn_nearest_rows(t, zero, 3, 0, ids, scores), 3);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    /* One row, excluded: nothing left. */
    nn_tensor *one = nn_from_array((const float[]){1, 2}, NN_SHAPE(1, 2));
    assert_int_equal(nn_nearest_rows(one, (const float[]){1, 2}, 3, 0, ids, scores), 0);
    assert_int_equal(nn_nearest_rows(one, (const float[]){1, 2}, 3, -1, ids, scores), 1);
    nn_tensor_free(t);
    nn_tensor_free(one);
}

static void test_nearest_rows_errors(void **state) {
    (void)state;
    nn_tensor *t = nn_zeros(NN_SHAPE(4, 3)), *flat = nn_zeros(NN_SHAPE(12));
    const float q[3] = {1, 0, 0};
    int ids[4];
    EXPECT_NN_ERROR(nn_nearest_rows(flat, q, 2, -1, ids, NULL), "nn_nearest_rows", "(12)");
    EXPECT_NN_ERROR(nn_nearest_rows(t, q, 0, -1, ids, NULL), "nn_nearest_rows", "k = 0");
    EXPECT_NN_ERROR(nn_nearest_rows(t, q, 2, 4, ids, NULL), "nn_nearest_rows", "exclude = 4");
    EXPECT_NN_ERROR(nn_nearest_rows(NULL, q, 2, -1, ids, NULL), "NULL");
    EXPECT_NN_ERROR(nn_nearest_rows(t, NULL, 2, -1, ids, NULL), "NULL");
    EXPECT_NN_ERROR(nn_nearest_rows(t, q, 2, -1, NULL, NULL), "NULL");
    EXPECT_NN_ERROR(nn_nearest_rows(t, q, 0, -1, ids, NULL), "test_similarity.c:");
    nn_tensor_free(t);
    nn_tensor_free(flat);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_one_hot_values),
        NN_TEST(test_one_hot_errors),
        NN_TEST(test_cosine_values),
        NN_TEST(test_cosine_gradcheck),
        NN_TEST(test_cosine_grad_one_side),
        NN_TEST(test_cosine_zero_vector),
        NN_TEST(test_cosine_errors),
        NN_TEST(test_nearest_rows_brute_force),
        NN_TEST(test_nearest_rows_ties_zero_nan),
        NN_TEST(test_nearest_rows_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
