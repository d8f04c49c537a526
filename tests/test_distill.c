/* tests/test_distill.c — the distillation loss (nn/net/distill.h): values against a double
 * formula and the special cases (T = 1 and alpha = 1 is the KL divergence, alpha = 0 the
 * cross-entropy, a student equal to its teacher has KL 0), the same value and gradient as
 * the loss built from differentiable ops, finite-difference gradient checks, no gradient into
 * the teacher, large logits, and misuse. */
#include "testing.h"

enum { N = 5, C = 4 };
static const int labels[N] = {0, 3, 1, 1, 2};

static nn_tensor *logits(uint64_t seed, float scale) {
    nn_tensor *t = nn_zeros(NN_SHAPE(N, C));
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_normal(t, 0.0f, scale, &rng);
    return t;
}

/* The loss in double, straight from the formula. */
static double distill_ref(const float *s, const float *t, const int *y, double T, double alpha) {
    double kl = 0.0, ce = 0.0;
    for (int r = 0; r < N; r++) {
        double zs = 0.0, zt = 0.0, z1 = 0.0;
        for (int c = 0; c < C; c++) {
            zs += exp(s[r * C + c] / T);
            zt += exp(t[r * C + c] / T);
            z1 += exp(s[r * C + c]);
        }
        for (int c = 0; c < C; c++) {
            double p = exp(t[r * C + c] / T) / zt, q = exp(s[r * C + c] / T) / zs;
            kl += p * log(p / q);
        }
        if (y) ce -= log(exp(s[r * C + y[r]]) / z1);
    }
    return alpha * T * T * kl / N + (1.0 - alpha) * ce / N;
}

static void test_known_values(void **state) {
    (void)state;
    nn_tensor *s = logits(1, 1.5f), *t = logits(2, 2.0f);
    const float Ts[] = {1.0f, 2.0f, 4.0f, 10.0f}, alphas[] = {0.0f, 0.3f, 0.9f, 1.0f};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float got = nn_item(nn_distill_loss(s, t, labels, Ts[i], alphas[j]));
            double want = distill_ref(s->data, t->data, labels, Ts[i], alphas[j]);
            assert_true(fabs(got - want) <= 1e-5 * fabs(want) + 1e-6);
        }
    /* T = 1, alpha = 1: KL(softmax(t) || softmax(s)), and the labels are not needed */
    double kl = distill_ref(s->data, t->data, NULL, 1.0, 1.0);
    assert_true(kl > 0.1);
    assert_float_equal(nn_item(nn_distill_loss(s, t, NULL, 1.0f, 1.0f)), kl, 1e-6);
    /* alpha = 0: exactly the cross-entropy, whatever the teacher and T */
    float ce = nn_item(nn_cross_entropy_loss(s, labels));
    assert_float_equal(nn_item(nn_distill_loss(s, t, labels, 1.0f, 0.0f)), ce, 1e-6);
    assert_float_equal(nn_item(nn_distill_loss(s, t, labels, 7.0f, 0.0f)), ce, 1e-6);
    /* a student equal to its teacher: KL 0 at every T, so only the hard term is left */
    for (int i = 0; i < 4; i++) {
        assert_float_equal(nn_item(nn_distill_loss(s, s, NULL, Ts[i], 1.0f)), 0.0f, 1e-7);
        assert_float_equal(nn_item(nn_distill_loss(s, s, labels, Ts[i], 0.75f)), 0.25f * ce,
                           1e-6);
    }
    /* by hand: one row, two classes, T = 1, alpha = 1: teacher (0, 0) -> p = (1/2, 1/2),
     * student (ln 3, 0) -> q = (3/4, 1/4): KL = 1/2 ln(2/3) + 1/2 ln 2 = 1/2 ln(4/3) */
    nn_tensor *s2 = nn_from_array((float[]){logf(3.0f), 0.0f}, NN_SHAPE(1, 2));
    nn_tensor *t2 = nn_zeros(NN_SHAPE(1, 2));
    assert_float_equal(nn_item(nn_distill_loss(s2, t2, NULL, 1.0f, 1.0f)), 0.5 * log(4.0 / 3.0),
                       1e-7);
    /* T = 2 on the same row: q = softmax(ln3 / 2, 0) = (sqrt3, 1) / (sqrt3 + 1); times T^2 = 4 */
    double q0 = sqrt(3.0) / (sqrt(3.0) + 1.0);
    double kl2 = 0.5 * log(0.5 / q0) + 0.5 * log(0.5 / (1.0 - q0));
    assert_float_equal(nn_item(nn_distill_loss(s2, t2, NULL, 2.0f, 1.0f)), 4.0 * kl2, 1e-6);
    nn_tensor_free(s2);
    nn_tensor_free(t2);
    nn_tensor_free(s);
    nn_tensor_free(t);
}

/* ---- gradients ------------------------------------------------------------------------- */

typedef struct setting {
    nn_tensor *teacher;
    float T, alpha;
    bool with_labels;
} setting;

/* 2.5 * L: the incoming gradient is not 1, so backward must scale by it. */
static nn_tensor *distill_f(nn_tensor **in, void *user) {
    setting *g = user;
    return nn_mul_scalar(
        nn_distill_loss(in[0], g->teacher, g->with_labels ? labels : NULL, g->T, g->alpha), 2.5f);
}

static void test_gradcheck(void **state) {
    (void)state;
    nn_tensor *s = logits(3, 1.0f), *t = logits(4, 2.0f);
    nn_requires_grad(s);
    const setting settings[] = {
        {t, 1.0f, 0.5f, true}, {t, 4.0f, 0.9f, true}, {t, 2.0f, 1.0f, false},
        {t, 1.0f, 0.0f, true}, {t, 10.0f, 0.7f, true}, {t, 0.5f, 0.5f, true},
    };
    for (size_t k = 0; k < NN_COUNTOF(settings); k++) {
        setting g = settings[k];
        nn_gradcheck_result r = nn_gradcheck(distill_f, &s, 1, &g, 1e-2, 1e-2);
        if (!r.ok)
            fail_msg("T %g alpha %g: element %zu analytic %.6g numeric %.6g rel %.3g", g.T,
                     g.alpha, r.worst_index, r.analytic, r.numeric, r.max_rel_err);
        assert_int_equal(r.checked, N * C);
    }
    nn_tensor_free(s);
    nn_tensor_free(t);
}

/* The same loss built from differentiable ops: log_softmax, mul, sum, cross-entropy. */
static nn_tensor *distill_from_ops(nn_tensor *s, nn_tensor *t, float T, float alpha) {
    nn_tensor *lp = nn_log_softmax(nn_mul_scalar(nn_detach(t), 1.0f / T));
    nn_tensor *lq = nn_log_softmax(nn_mul_scalar(s, 1.0f / T));
    nn_tensor *kl = nn_sum(nn_mul(nn_exp(lp), nn_sub(lp, lq)));   /* sum over rows and classes */
    return nn_add(nn_mul_scalar(kl, alpha * T * T / N),
                  nn_mul_scalar(nn_cross_entropy_loss(s, labels), 1.0f - alpha));
}

static void test_same_as_built_from_ops(void **state) {
    (void)state;
    nn_tensor *s = logits(5, 2.0f), *t = logits(6, 3.0f);
    nn_requires_grad(s);
    float g_fused[N * C];
    for (float T = 1.0f; T <= 8.0f; T *= 2.0f) {
        nn_zero_grad(s);
        nn_tensor *fused = nn_distill_loss(s, t, labels, T, 0.8f);
        nn_backward(fused);
        memcpy(g_fused, s->grad, sizeof g_fused);
        float v_fused = nn_item(fused);
        nn_zero_grad(s);
        nn_tensor *ops = distill_from_ops(s, t, T, 0.8f);
        nn_backward(ops);
        assert_float_equal(v_fused, nn_item(ops), 1e-5);
        assert_floats_near(g_fused, s->grad, N * C, 1e-6f);
        nn_graph_clear();
    }
    /* the soft term's gradient is alpha T (q - p) / N: at T = 4, alpha = 1, by hand */
    nn_zero_grad(s);
    nn_backward(nn_distill_loss(s, t, NULL, 4.0f, 1.0f));
    for (int r = 0; r < N; r++) {
        double zs = 0.0, zt = 0.0;
        for (int c = 0; c < C; c++) {
            zs += exp(s->data[r * C + c] / 4.0);
            zt += exp(t->data[r * C + c] / 4.0);
        }
        for (int c = 0; c < C; c++) {
            double q = exp(s->data[r * C + c] / 4.0) / zs, p = exp(t->data[r * C + c] / 4.0) / zt;
            assert_float_equal(s->grad[r * C + c], 4.0 * (q - p) / N, 1e-6);
        }
    }
    nn_tensor_free(s);
    nn_tensor_free(t);
}

static void test_teacher_gets_no_gradient(void **state) {
    (void)state;
    nn_tensor *s = logits(7, 1.0f), *t = logits(8, 1.0f);
    nn_requires_grad(s);
    nn_requires_grad(t);   /* a teacher whose forward kept its graph */
    nn_backward(nn_distill_loss(s, t, labels, 3.0f, 0.9f));
    for (int i = 0; i < N * C; i++) assert_true(t->grad[i] == 0.0f);
    bool any = false;
    for (int i = 0; i < N * C; i++) any |= s->grad[i] != 0.0f;
    assert_true(any);
    /* a student that needs no gradient: a value, no tape entry */
    nn_tensor *frozen = logits(9, 1.0f);
    assert_false(frozen->requires_grad);
    assert_true(isfinite(nn_item(nn_distill_loss(frozen, t, labels, 3.0f, 0.9f))));
    nn_tensor_free(frozen);
    nn_tensor_free(s);
    nn_tensor_free(t);
}

static void test_large_logits_are_stable(void **state) {
    (void)state;
    /* logits near +-1000: exp would overflow without the max subtracted, and the teacher's
     * probabilities of the far classes underflow to 0 (p log p must count as 0) */
    nn_tensor *s = nn_from_array((float[]){1000, 990, -1000, 0, 5, 6, 7, 8}, NN_SHAPE(2, 4));
    nn_tensor *t = nn_from_array((float[]){-1000, 1000, 0, 0, 8, 7, 6, 5}, NN_SHAPE(2, 4));
    nn_requires_grad(s);
    const int y[2] = {1, 0};
    nn_tensor *l = nn_distill_loss(s, t, y, 1.0f, 0.5f);
    assert_true(isfinite(nn_item(l)));
    /* row 0 at T = 1: p = (0, 1, 0, 0), q_1 = e^-10 / (1 + e^-10): KL = -log q_1 */
    double kl0 = 10.0 + log1p(exp(-10.0)), ce0 = kl0;
    double kl1 = distill_ref((float[]){5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8, 5, 6, 7, 8},
                             (float[]){8, 7, 6, 5, 8, 7, 6, 5, 8, 7, 6, 5, 8, 7, 6, 5, 8, 7, 6, 5},
                             NULL, 1.0, 1.0);   /* the same row five times: its KL */
    double ce1 = log(exp(5.0) + exp(6.0) + exp(7.0) + exp(8.0)) - 5.0;
    assert_float_equal(nn_item(l), 0.5 * (kl0 + kl1) / 2 + 0.5 * (ce0 + ce1) / 2, 1e-4);
    nn_backward(l);
    for (int i = 0; i < 8; i++) assert_true(isfinite(s->grad[i]));
    nn_tensor_free(s);
    nn_tensor_free(t);
}

static void test_distill_errors(void **state) {
    (void)state;
    nn_tensor *s = logits(1, 1.0f), *t = logits(2, 1.0f);
    nn_tensor *wrong = nn_zeros(NN_SHAPE(N, C + 1)), *flat = nn_zeros(NN_SHAPE(C));
    EXPECT_NN_ERROR(nn_distill_loss(NULL, t, labels, 2.0f, 0.5f), "NULL");
    EXPECT_NN_ERROR(nn_distill_loss(s, NULL, labels, 2.0f, 0.5f), "NULL");
    EXPECT_NN_ERROR(nn_distill_loss(s, wrong, labels, 2.0f, 0.5f), "(5, 4)", "(5, 5)");
    EXPECT_NN_ERROR(nn_distill_loss(flat, flat, labels, 2.0f, 0.5f), "(4)");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, labels, 0.0f, 0.5f), "T = 0", "positive");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, labels, -1.0f, 0.5f), "T = -1");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, labels, INFINITY, 0.5f), "T = inf");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, labels, 2.0f, 1.5f), "alpha = 1.5", "[0, 1]");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, labels, 2.0f, NAN), "alpha = nan");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, NULL, 2.0f, 0.9f), "labels is NULL");
    const int bad[N] = {0, 1, 4, 0, 0};
    EXPECT_NN_ERROR(nn_distill_loss(s, t, bad, 2.0f, 0.9f), "labels[2] = 4", "C = 4");
    EXPECT_NN_ERROR(nn_distill_loss(s, t, bad, 2.0f, 0.9f), "test_distill.c:");
    /* labels are not read when alpha = 1 */
    assert_true(isfinite(nn_item(nn_distill_loss(s, t, bad, 2.0f, 1.0f))));
    nn_tensor_free(wrong);
    nn_tensor_free(flat);
    nn_tensor_free(s);
    nn_tensor_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_known_values),
        NN_TEST(test_gradcheck),
        NN_TEST(test_same_as_built_from_ops),
        NN_TEST(test_teacher_gets_no_gradient),
        NN_TEST(test_large_logits_are_stable),
        NN_TEST(test_distill_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
