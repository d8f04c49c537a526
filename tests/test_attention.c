/* tests/test_attention.c — the ops under the Transformer: LayerNorm (nn/ops/layer_norm.h),
 * scaled dot-product attention (nn/ops/attention.h) and the sinusoidal position table
 * (nn/net/position.h).
 *
 * Forward against the formulas written out here as plain loops in double precision; the
 * op's two implementations (reference and fast) against each other; backward by central
 * differences (nn_gradcheck) on L = sum(y * R) with a fixed random R, with and without the
 * causal mask, for square and for "fewer queries than keys" shapes; what the weights look
 * like (rows sum to 1, masked entries 0); and misuse. */
#include "testing.h"

static nn_tensor *owned(uint64_t seed, float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(t, lo, hi, &rng);
    return t;
}

static void expect_near_double(const float *got, const double *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            fail_msg("element %zu: got %.8g, want %.8g (tol %g)", i, got[i], want[i], tol);
}

/* ---- LayerNorm ------------------------------------------------------------------------------ */

static void test_layer_norm_forward_matches_formula(void **state) {
    (void)state;
    enum { R = 3, C = 5 };
    nn_tensor *x = owned(1, -3, 3, NN_SHAPE(R, C));
    x->data[2] += 1000.0f;   /* a large offset in row 0: the two-pass variance keeps its digits */
    nn_tensor *g = owned(2, 0.5f, 1.5f, NN_SHAPE(C)), *b = owned(3, -1, 1, NN_SHAPE(C));
    nn_tensor *y = nn_layer_norm(x, g, b, 1e-5f);
    double want[R * C];
    for (int r = 0; r < R; r++) {
        double mean = 0, var = 0;
        for (int j = 0; j < C; j++) mean += x->data[r * C + j];
        mean /= C;
        for (int j = 0; j < C; j++) var += pow(x->data[r * C + j] - mean, 2);
        var /= C;
        for (int j = 0; j < C; j++)
            want[r * C + j] = (x->data[r * C + j] - mean) / sqrt(var + 1e-5) * g->data[j] +
                              b->data[j];
    }
    expect_near_double(y->data, want, R * C, 2e-4);
    /* without gamma and beta: every row has mean 0 and variance 1 */
    nn_tensor *z = nn_layer_norm(x, NULL, NULL, 1e-5f);
    for (int r = 0; r < R; r++) {
        double mean = 0, var = 0;
        for (int j = 0; j < C; j++) mean += z->data[r * C + j];
        for (int j = 0; j < C; j++) var += pow(z->data[r * C + j] - mean / C, 2);
        assert_true(fabs(mean / C) < 1e-5);
        assert_true(fabs(var / C - 1.0) < 1e-3);
    }
    nn_tensor_free(x), nn_tensor_free(g), nn_tensor_free(b);
}

static nn_tensor *layer_norm_loss(nn_tensor **in, void *user) {
    nn_tensor *R = user;
    return nn_sum(nn_mul(nn_layer_norm(in[0], in[1], in[2], 1e-5f), R));
}

static void test_layer_norm_gradcheck(void **state) {
    (void)state;
    nn_tensor *in[3] = {nn_requires_grad(owned(4, -2, 2, NN_SHAPE(2, 3, 6))),
                        nn_requires_grad(owned(5, 0.5f, 1.5f, NN_SHAPE(6))),
                        nn_requires_grad(owned(6, -1, 1, NN_SHAPE(6)))};
    nn_tensor *R = owned(7, -1, 1, NN_SHAPE(2, 3, 6));
    nn_gradcheck_result r = nn_gradcheck(layer_norm_loss, in, 3, R, 1e-2, 1e-2);
    printf("  gradcheck layer_norm: %zu elements, max rel err %.2e\n", r.checked, r.max_rel_err);
    assert_true(r.ok);
    assert_int_equal(r.checked, 36 + 6 + 6);
    for (int i = 0; i < 3; i++) nn_tensor_free(in[i]);
    nn_tensor_free(R);
}

/* y, dx, dgamma, dbeta of sum(layer_norm(x) * R) on a given number of threads (0: OpenMP's
 * default), copied out */
static void layer_norm_run(nn_tensor *in[3], nn_tensor *R, int threads, float *out[4]) {
    int was = test_set_threads(threads);
    for (int i = 0; i < 3; i++) nn_zero_grad(in[i]);
    nn_tensor *y = nn_layer_norm(in[0], in[1], in[2], 1e-5f);
    nn_backward(nn_sum(nn_mul(y, R)));
    test_restore_threads(was);
    const nn_tensor *src[4] = {y, in[0], in[1], in[2]};
    for (int i = 0; i < 4; i++) {
        out[i] = malloc(sizeof(float) * src[i]->size);
        memcpy(out[i], i == 0 ? y->data : src[i]->grad, sizeof(float) * src[i]->size);
    }
    nn_graph_clear();
}

/* Big enough for the threads (rows shared out; gamma's and beta's columns in blocks of 16,
 * C = 70 leaves a short last block): the same bits on one thread as on three, and dgamma,
 * dbeta the column sums they are. */
static void test_layer_norm_threads(void **state) {
    (void)state;
    enum { R = 1100, C = 70 };
    nn_tensor *in[3] = {nn_requires_grad(owned(8, -2, 2, NN_SHAPE(R, C))),
                        nn_requires_grad(owned(9, 0.5f, 1.5f, NN_SHAPE(C))),
                        nn_requires_grad(owned(10, -1, 1, NN_SHAPE(C)))};
    nn_tensor *dy = owned(11, -1, 1, NN_SHAPE(R, C));
    float *one[4], *all[4];
    layer_norm_run(in, dy, 1, one);
    layer_norm_run(in, dy, 3, all);
    size_t n[4] = {R * C, R * C, C, C};
    for (int i = 0; i < 4; i++) assert_memory_equal(one[i], all[i], n[i] * sizeof(float));
    for (int j = 0; j < C; j++) {
        double dgamma = 0, dbeta = 0;
        for (int r = 0; r < R; r++) {   /* xhat = (y - beta) / gamma */
            double xhat = (one[0][r * C + j] - in[2]->data[j]) / in[1]->data[j];
            dgamma += dy->data[r * C + j] * xhat;
            dbeta += dy->data[r * C + j];
        }
        assert_true(fabs(one[2][j] - dgamma) < 1e-3 * (1 + fabs(dgamma)));
        assert_true(fabs(one[3][j] - dbeta) < 1e-3 * (1 + fabs(dbeta)));
    }
    for (int i = 0; i < 4; i++) free(one[i]), free(all[i]);
    for (int i = 0; i < 3; i++) nn_tensor_free(in[i]);
    nn_tensor_free(dy);
}

static void test_layer_norm_misuse(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 4)), *g = nn_zeros(NN_SHAPE(3));
    EXPECT_NN_ERROR(nn_layer_norm(x, g, NULL, 1e-5f), "gamma and beta of shape (C)", "4");
    EXPECT_NN_ERROR(nn_layer_norm(x, NULL, NULL, 0.0f), "eps > 0");
    EXPECT_NN_ERROR(nn_layer_norm(NULL, NULL, NULL, 1e-5f), "NULL");
    nn_tensor_free(x), nn_tensor_free(g);
}

/* ---- attention: the formulas in double precision ------------------------------------------ */

/* One (batch, head) group: q (Tq, d), k (Tk, d), v (Tk, dv) -> y (Tq, dv), w (Tq, Tk). */
static void ref_attention(const float *q, const float *k, const float *v, int Tq, int Tk, int d,
                          int dv, bool causal, double *y, double *w) {
    for (int i = 0; i < Tq; i++) {
        double s[64], m = -INFINITY, sum = 0;
        int seen = causal ? i + Tk - Tq + 1 : Tk;
        for (int j = 0; j < Tk; j++) {
            s[j] = 0;
            for (int c = 0; c < d; c++) s[j] += (double)q[i * d + c] * k[j * d + c];
            s[j] = j < seen ? s[j] / sqrt((double)d) : -INFINITY;
            if (s[j] > m) m = s[j];
        }
        for (int j = 0; j < Tk; j++) sum += s[j] = exp(s[j] - m);
        for (int j = 0; j < Tk; j++) w[i * Tk + j] = s[j] / sum;
        for (int c = 0; c < dv; c++) {
            y[i * dv + c] = 0;
            for (int j = 0; j < Tk; j++) y[i * dv + c] += w[i * Tk + j] * v[j * dv + c];
        }
    }
}

typedef struct { int G, Tq, Tk, d, dv; bool causal; } attn_case;

static const attn_case cases[] = {
    {1, 4, 4, 3, 3, false}, {6, 5, 5, 4, 2, true}, {2, 2, 5, 3, 4, true}, {3, 1, 6, 8, 8, true},
    {2, 3, 7, 5, 3, false},
};

static void test_attention_matches_formula_both_paths(void **state) {
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        attn_case a = cases[c];
        /* (G, T, d) as (2, G/2, T, d) when G is even: leading axes of any shape */
        nn_tensor *q = owned(10 + c, -2, 2, NN_SHAPE(a.G, a.Tq, a.d));
        nn_tensor *k = owned(20 + c, -2, 2, NN_SHAPE(a.G, a.Tk, a.d));
        nn_tensor *v = owned(30 + c, -2, 2, NN_SHAPE(a.G, a.Tk, a.dv));
        double *y = malloc(sizeof(double) * a.G * a.Tq * a.dv);
        double *w = malloc(sizeof(double) * a.G * a.Tq * a.Tk);
        for (int g = 0; g < a.G; g++)
            ref_attention(q->data + g * a.Tq * a.d, k->data + g * a.Tk * a.d,
                          v->data + g * a.Tk * a.dv, a.Tq, a.Tk, a.d, a.dv, a.causal,
                          y + g * a.Tq * a.dv, w + g * a.Tq * a.Tk);
        for (int ref = 0; ref < 2; ref++) {
            bool old = nn_set_attention_reference(ref);
            nn_tensor *wt;
            nn_tensor *out = nn_attention(q, k, v, a.causal, &wt);
            nn_set_attention_reference(old);
            assert_int_equal(out->ndim, 3);
            assert_int_equal(out->shape[1], a.Tq);
            assert_int_equal(out->shape[2], a.dv);
            assert_int_equal(wt->shape[2], a.Tk);
            assert_false(wt->requires_grad);
            expect_near_double(out->data, y, (size_t)a.G * a.Tq * a.dv, 1e-5);
            expect_near_double(wt->data, w, (size_t)a.G * a.Tq * a.Tk, 1e-6);
            /* rows sum to 1; the causal mask leaves exact zeros */
            for (int r = 0; r < a.G * a.Tq; r++) {
                double sum = 0;
                for (int j = 0; j < a.Tk; j++) sum += wt->data[r * a.Tk + j];
                assert_true(fabs(sum - 1) < 1e-5);
                int i = r % a.Tq;
                if (a.causal)
                    for (int j = i + a.Tk - a.Tq + 1; j < a.Tk; j++)
                        assert_true(wt->data[r * a.Tk + j] == 0.0f);
            }
        }
        nn_graph_clear();
        free(y), free(w);
        nn_tensor_free(q), nn_tensor_free(k), nn_tensor_free(v);
    }
}

/* 4-D inputs (B, H, T, d) are the same numbers as (B*H, T, d). */
static void test_attention_leading_axes(void **state) {
    (void)state;
    nn_tensor *q = owned(41, -1, 1, NN_SHAPE(2, 3, 4, 5)), *k = owned(42, -1, 1, NN_SHAPE(2, 3, 4, 5));
    nn_tensor *v = owned(43, -1, 1, NN_SHAPE(2, 3, 4, 5));
    nn_tensor *y4 = nn_attention(q, k, v, true, NULL);
    nn_tensor *y3 = nn_attention(nn_reshape(q, NN_SHAPE(6, 4, 5)), nn_reshape(k, NN_SHAPE(6, 4, 5)),
                                 nn_reshape(v, NN_SHAPE(6, 4, 5)), true, NULL);
    assert_int_equal(y4->ndim, 4);
    assert_floats_near(y4->data, y3->data, y4->size, 0.0f);
    nn_tensor_free(q), nn_tensor_free(k), nn_tensor_free(v);
}

typedef struct { bool causal; nn_tensor *R; } attn_grad_ctx;

static nn_tensor *attention_loss(nn_tensor **in, void *user) {
    attn_grad_ctx *g = user;
    return nn_sum(nn_mul(nn_attention(in[0], in[1], in[2], g->causal, NULL), g->R));
}

static void test_attention_gradcheck(void **state) {
    (void)state;
    for (int ref = 0; ref < 2; ref++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            attn_case a = cases[c];
            bool old = nn_set_attention_reference(ref);
            nn_tensor *in[3] = {nn_requires_grad(owned(50 + c, -1.5f, 1.5f, NN_SHAPE(a.G, a.Tq, a.d))),
                                nn_requires_grad(owned(60 + c, -1.5f, 1.5f, NN_SHAPE(a.G, a.Tk, a.d))),
                                nn_requires_grad(owned(70 + c, -1.5f, 1.5f, NN_SHAPE(a.G, a.Tk, a.dv)))};
            attn_grad_ctx g = {a.causal, owned(80 + c, -1, 1, NN_SHAPE(a.G, a.Tq, a.dv))};
            nn_gradcheck_result r = nn_gradcheck(attention_loss, in, 3, &g, 1e-2, 1e-2);
            nn_set_attention_reference(old);
            printf("  gradcheck attention %s %s G=%d Tq=%d Tk=%d d=%d dv=%d: %zu elements, max "
                   "rel err %.2e\n", ref ? "reference" : "fast     ", a.causal ? "causal" : "full  ",
                   a.G, a.Tq, a.Tk, a.d, a.dv, r.checked, r.max_rel_err);
            if (!r.ok)
                fail_msg("input %d element %zu analytic %.6g numeric %.6g", r.worst_input,
                         r.worst_index, r.analytic, r.numeric);
            assert_int_equal(r.checked, (size_t)a.G * (a.Tq * a.d + a.Tk * a.d + a.Tk * a.dv));
            for (int i = 0; i < 3; i++) nn_tensor_free(in[i]);
            nn_tensor_free(g.R);
        }
}

/* y and the three gradients of sum(attention(q, k, v) * R), copied out, on one path with a
 * given number of threads (0: OpenMP's default). */
static float *attention_run(attn_case a, bool ref, int threads, float *out[4]) {
    nn_tensor *R = owned(91, -1, 1, NN_SHAPE(a.G, a.Tq, a.dv));
    nn_tensor *in[3] = {nn_requires_grad(owned(92, -1, 1, NN_SHAPE(a.G, a.Tq, a.d))),
                        nn_requires_grad(owned(93, -1, 1, NN_SHAPE(a.G, a.Tk, a.d))),
                        nn_requires_grad(owned(94, -1, 1, NN_SHAPE(a.G, a.Tk, a.dv)))};
    bool old = nn_set_attention_reference(ref);
    int was = test_set_threads(threads);
    nn_tensor *y = nn_attention(in[0], in[1], in[2], a.causal, NULL);
    out[3] = malloc(sizeof(float) * y->size);
    memcpy(out[3], y->data, sizeof(float) * y->size);
    nn_backward(nn_sum(nn_mul(y, R)));
    test_restore_threads(was);
    nn_set_attention_reference(old);
    for (int i = 0; i < 3; i++) {
        out[i] = malloc(sizeof(float) * in[i]->size);
        memcpy(out[i], in[i]->grad, sizeof(float) * in[i]->size);
    }
    nn_graph_clear();
    for (int i = 0; i < 3; i++) nn_tensor_free(in[i]);
    nn_tensor_free(R);
    return out[0];
}

/* Both paths give the same outputs and gradients (not only gradients close to the numeric
 * ones), on a small case and on one with enough groups for the fast path's threads; and the
 * fast path gives the same bits on one thread as on three. */
static void test_attention_paths_same_gradients(void **state) {
    (void)state;
    const attn_case both[] = {{4, 6, 6, 8, 8, true}, {96, 32, 32, 16, 16, true}};
    for (int c = 0; c < 2; c++) {
        attn_case a = both[c];
        float *got[3][4];
        attention_run(a, true, 0, got[0]);
        attention_run(a, false, 3, got[1]);
        attention_run(a, false, 1, got[2]);
        size_t n[4] = {(size_t)a.G * a.Tq * a.d, (size_t)a.G * a.Tk * a.d,
                       (size_t)a.G * a.Tk * a.dv, (size_t)a.G * a.Tq * a.dv};
        for (int i = 0; i < 4; i++) {
            assert_floats_near(got[0][i], got[1][i], n[i], 1e-5f);
            assert_memory_equal(got[1][i], got[2][i], n[i] * sizeof(float));
            for (int r = 0; r < 3; r++) free(got[r][i]);
        }
    }
}

/* Causal: the output at position t does not move when the inputs after t change. */
static void test_attention_causal_ignores_the_future(void **state) {
    (void)state;
    nn_tensor *q = owned(101, -1, 1, NN_SHAPE(2, 6, 4)), *k = owned(102, -1, 1, NN_SHAPE(2, 6, 4));
    nn_tensor *v = owned(103, -1, 1, NN_SHAPE(2, 6, 4));
    nn_tensor *before = nn_keep(NULL, nn_attention(q, k, v, true, NULL));
    for (int g = 0; g < 2; g++)
        for (int c = 0; c < 4; c++) {   /* change position 4 and 5 of q, k, v */
            for (int t = 4; t < 6; t++) {
                q->data[(g * 6 + t) * 4 + c] += 3.0f;
                k->data[(g * 6 + t) * 4 + c] -= 2.0f;
                v->data[(g * 6 + t) * 4 + c] *= -5.0f;
            }
        }
    nn_tensor *after = nn_attention(q, k, v, true, NULL);
    for (int g = 0; g < 2; g++) {
        assert_floats_near(after->data + g * 24, before->data + g * 24, 16, 0.0f);   /* t < 4 */
        bool moved = false;
        for (int i = 16; i < 24; i++) moved |= after->data[g * 24 + i] != before->data[g * 24 + i];
        assert_true(moved);
    }
    nn_tensor_free(before);
    nn_tensor_free(q), nn_tensor_free(k), nn_tensor_free(v);
}

static void test_attention_weights_without_mask_permute_with_keys(void **state) {
    (void)state;
    /* permuting the keys and values together permutes the weights' columns and leaves the
     * output unchanged: attention by itself has no notion of order */
    enum { T = 5, D = 4 };
    nn_tensor *q = owned(111, -1, 1, NN_SHAPE(1, T, D)), *k = owned(112, -1, 1, NN_SHAPE(1, T, D));
    nn_tensor *v = owned(113, -1, 1, NN_SHAPE(1, T, D));
    int perm[T] = {3, 0, 4, 1, 2};
    nn_tensor *kp = nn_zeros(NN_SHAPE(1, T, D)), *vp = nn_zeros(NN_SHAPE(1, T, D));
    for (int j = 0; j < T; j++)
        for (int c = 0; c < D; c++) {
            kp->data[j * D + c] = k->data[perm[j] * D + c];
            vp->data[j * D + c] = v->data[perm[j] * D + c];
        }
    nn_tensor *w1, *w2;
    nn_tensor *y1 = nn_attention(q, k, v, false, &w1), *y2 = nn_attention(q, kp, vp, false, &w2);
    assert_floats_near(y1->data, y2->data, T * D, 1e-6f);
    for (int i = 0; i < T; i++)
        for (int j = 0; j < T; j++)
            assert_true(fabsf(w2->data[i * T + j] - w1->data[i * T + perm[j]]) < 1e-6f);
    nn_tensor_free(q), nn_tensor_free(k), nn_tensor_free(v), nn_tensor_free(kp), nn_tensor_free(vp);
}

static void test_attention_misuse(void **state) {
    (void)state;
    nn_tensor *q = nn_zeros(NN_SHAPE(2, 4, 3)), *k = nn_zeros(NN_SHAPE(2, 3, 3));
    nn_tensor *v = nn_zeros(NN_SHAPE(2, 3, 5)), *bad = nn_zeros(NN_SHAPE(2, 4, 2));
    EXPECT_NN_ERROR(nn_attention(q, bad, bad, false, NULL), "same leading axes", "(2, 4, 2)");
    EXPECT_NN_ERROR(nn_attention(q, k, v, true, NULL), "no more queries than keys", "Tq = 4");
    EXPECT_NN_ERROR(nn_attention(q, NULL, v, false, NULL), "NULL");
    nn_tensor *y = nn_attention(q, k, v, false, NULL);   /* Tq > Tk is fine without the mask */
    assert_int_equal(y->shape[2], 5);
    nn_tensor_free(q), nn_tensor_free(k), nn_tensor_free(v), nn_tensor_free(bad);
}

/* ---- position encodings --------------------------------------------------------------------- */

static void test_sinusoidal_positions(void **state) {
    (void)state;
    enum { T = 7, D = 6 };
    nn_tensor *pe = nn_sinusoidal_positions(0, T, D);
    assert_int_equal(pe->shape[0], T);
    assert_int_equal(pe->shape[1], D);
    for (int t = 0; t < T; t++)
        for (int i = 0; i < D / 2; i++) {
            double a = t / pow(10000.0, 2.0 * i / D);
            assert_true(fabs(pe->data[t * D + 2 * i] - sin(a)) < 1e-6);
            assert_true(fabs(pe->data[t * D + 2 * i + 1] - cos(a)) < 1e-6);
        }
    /* an offset table continues the full one: rows 3.. of (0, 7) are rows of (3, 4) */
    nn_tensor *tail = nn_sinusoidal_positions(3, 4, D);
    assert_floats_near(tail->data, pe->data + 3 * D, 4 * D, 1e-6f);
    /* PE[t + k] is PE[t] turned by an angle that depends on k only: for each pair the dot
     * product <PE[t], PE[t+k]> restricted to it is cos(k * speed), whatever t */
    for (int t = 0; t + 2 < T; t++)
        for (int i = 0; i < D / 2; i++) {
            double dot = pe->data[t * D + 2 * i] * pe->data[(t + 2) * D + 2 * i] +
                         pe->data[t * D + 2 * i + 1] * pe->data[(t + 2) * D + 2 * i + 1];
            assert_true(fabs(dot - cos(2.0 / pow(10000.0, 2.0 * i / D))) < 1e-5);
        }
    EXPECT_NN_ERROR(nn_sinusoidal_positions(0, 4, 5), "even dim");
    EXPECT_NN_ERROR(nn_sinusoidal_positions(-1, 4, 4), "start >= 0");
    int ids[4];
    nn_position_ids(ids, 2, 4);
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[3], 5);
    assert_string_equal(nn_position_kind_name(NN_POSITION_SINUSOIDAL), "sinusoidal");
}

/* The gradient flows through x + PE into x (the table itself is a constant). */
static nn_tensor *pos_loss(nn_tensor **in, void *user) {
    nn_tensor *R = user;
    nn_tensor *x = nn_add(in[0], nn_sinusoidal_positions(0, 4, 6));
    return nn_sum(nn_mul(nn_attention(x, x, x, true, NULL), R));
}

static void test_sinusoidal_positions_gradcheck(void **state) {
    (void)state;
    nn_tensor *in[1] = {nn_requires_grad(owned(121, -1, 1, NN_SHAPE(2, 4, 6)))};
    nn_tensor *R = owned(122, -1, 1, NN_SHAPE(2, 4, 6));
    nn_gradcheck_result r = nn_gradcheck(pos_loss, in, 1, R, 1e-2, 1e-2);
    printf("  gradcheck x + sinusoidal -> self-attention: max rel err %.2e\n", r.max_rel_err);
    assert_true(r.ok);
    assert_int_equal(r.checked, 48);
    nn_tensor_free(in[0]), nn_tensor_free(R);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_layer_norm_forward_matches_formula),
        NN_TEST(test_layer_norm_gradcheck),
        NN_TEST(test_layer_norm_threads),
        NN_TEST(test_layer_norm_misuse),
        NN_TEST(test_attention_matches_formula_both_paths),
        NN_TEST(test_attention_leading_axes),
        NN_TEST(test_attention_gradcheck),
        NN_TEST(test_attention_paths_same_gradients),
        NN_TEST(test_attention_causal_ignores_the_future),
        NN_TEST(test_attention_weights_without_mask_permute_with_keys),
        NN_TEST(test_attention_misuse),
        NN_TEST(test_sinusoidal_positions),
        NN_TEST(test_sinusoidal_positions_gradcheck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
