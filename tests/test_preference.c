/* tests/test_preference.c — the log probability of a sequence and the DPO loss
 * (nn/net/preference.h): values against plain references, gradients against central
 * differences, a toy policy that DPO moves toward the preferred answers, and the errors. */
#include "testing.h"

/* ---- log p of a sequence -------------------------------------------------------------- */

/* log softmax(z)[y] in double. */
static double ref_log_p(const float *z, int V, int y) {
    double m = z[0], s = 0;
    for (int c = 1; c < V; c++) m = fmax(m, z[c]);
    for (int c = 0; c < V; c++) s += exp(z[c] - m);
    return z[y] - m - log(s);
}

static void test_sequence_log_prob_values(void **state) {
    (void)state;
    enum { B = 2, T = 3, V = 5 };
    nn_tensor *z = nn_rand_uniform(-2, 2, NN_SHAPE(B, T, V));
    const int y[B * T] = {0, 4, 2, 1, 1, 3};
    const float w[B * T] = {0, 1, 1, 1, 0.5f, 0};   /* a prompt of one token in the first */
    nn_tensor *lp = nn_sequence_log_prob(z, y, w);
    assert_int_equal(lp->ndim, 1);
    assert_int_equal(lp->shape[0], B);
    for (int b = 0; b < B; b++) {
        double want = 0;
        for (int t = 0; t < T; t++)
            want += w[b * T + t] * ref_log_p(z->data + (b * T + t) * V, V, y[b * T + t]);
        assert_true(fabs(lp->data[b] - want) < 1e-5);
    }
    /* weights NULL counts every position; (T, V) is one sequence */
    nn_tensor *one = nn_reshape(nn_rows(z, 0, 1), 2, (int[]){T, V});
    nn_tensor *all = nn_sequence_log_prob(one, y, NULL);
    double want = 0;
    for (int t = 0; t < T; t++) want += ref_log_p(z->data + t * V, V, y[t]);
    assert_int_equal(all->shape[0], 1);
    assert_true(fabs(all->data[0] - want) < 1e-5);
    /* a target under weight 0 is never read: out of range is fine there */
    const int y_bad[B * T] = {-7, 4, 2, 1, 1, 99};
    nn_tensor *lp2 = nn_sequence_log_prob(z, y_bad, w);
    assert_true(lp2->data[0] == lp->data[0] && lp2->data[1] == lp->data[1]);
    nn_tensor_free(z);
}

/* Large logits must not overflow: a sure token has log p = 0, not nan. */
static void test_sequence_log_prob_stable(void **state) {
    (void)state;
    float big[2 * 3] = {1000, 0, -1000, -1000, 1000, 999};
    nn_tensor *z = nn_from_array(big, NN_SHAPE(2, 3));
    const int y[2] = {0, 2};
    nn_tensor *lp = nn_sequence_log_prob(z, y, NULL);
    /* log p = 0 + (999 - 1000 - log(1 + e^-1)) */
    assert_true(fabs(lp->data[0] - (-1.0 - log1p(exp(-1.0)))) < 1e-4);
    nn_tensor_free(z);
}

static const int gc_targets[2 * 4] = {1, 0, 3, 2, 2, 2, 0, 1};
static const float gc_weights[2 * 4] = {0, 1, 1, 0.5f, 1, 1, 0, 2};

/* L = sum_b c_b * log p_b with c = (0.7, -1.3) (user): both rows and signs checked. */
static nn_tensor *seq_loss(nn_tensor **in, void *user) {
    nn_tensor *lp = nn_sequence_log_prob(in[0], gc_targets, gc_weights);
    return nn_sum(nn_mul(lp, user));
}

static void test_sequence_log_prob_gradcheck(void **state) {
    (void)state;
    nn_tensor *z = nn_requires_grad(nn_rand_uniform(-2, 2, NN_SHAPE(2, 4, 4)));
    nn_tensor *c = nn_from_array((float[]){0.7f, -1.3f}, NN_SHAPE(2));
    nn_gradcheck_result r = nn_gradcheck(seq_loss, &z, 1, c, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck: element %zu analytic %.6g numeric %.6g", r.worst_index, r.analytic,
                 r.numeric);
    assert_true(r.checked == 32);
    nn_tensor_free(z), nn_tensor_free(c);
}

/* ---- DPO -------------------------------------------------------------------------------- */

/* Policy equal to the reference: z = 0, L = ln 2; dL/dpc = -beta / (2N), dL/dpr = +beta / (2N). */
static void test_dpo_at_the_reference(void **state) {
    (void)state;
    float v[3] = {-3.0f, -1.5f, -7.25f}, u[3] = {-2.0f, -4.0f, -0.5f};
    nn_tensor *pc = nn_requires_grad(nn_from_array(v, NN_SHAPE(3)));
    nn_tensor *pr = nn_requires_grad(nn_from_array(u, NN_SHAPE(3)));
    nn_tensor *rc = nn_from_array(v, NN_SHAPE(3)), *rr = nn_from_array(u, NN_SHAPE(3));
    nn_tensor *L = nn_dpo_loss(pc, pr, rc, rr, 0.5f);
    assert_true(fabs(nn_item(L) - log(2.0)) < 1e-6);
    nn_backward(L);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(pc->grad[i] - (-0.5 / 6)) < 1e-7);
        assert_true(fabs(pr->grad[i] - (0.5 / 6)) < 1e-7);
    }
    nn_tensor_free(pc), nn_tensor_free(pr), nn_tensor_free(rc), nn_tensor_free(rr);
}

/* Known value: one pair, margin (pc - rc) - (pr - rr) = 2, beta 0.25: L = softplus(-0.5);
 * and a policy far on the right side has loss near 0, far on the wrong side near -z. */
static void test_dpo_known_values(void **state) {
    (void)state;
    float pc = -1, pr = -4, rc = -2, rr = -3;
    nn_tensor *t[4] = {nn_from_array(&pc, NN_SHAPE(1)), nn_from_array(&pr, NN_SHAPE(1)),
                       nn_from_array(&rc, NN_SHAPE(1)), nn_from_array(&rr, NN_SHAPE(1))};
    assert_true(fabs(nn_item(nn_dpo_loss(t[0], t[1], t[2], t[3], 0.25f)) - log1p(exp(-0.5))) <
                1e-6);
    t[0]->data[0] = 200;   /* z = 0.25 * (202 - (-1)) = 50.75: loss ~ e^-50.75 */
    assert_true(nn_item(nn_dpo_loss(t[0], t[1], t[2], t[3], 0.25f)) < 1e-12);
    t[0]->data[0] = -200;  /* z = 0.25 * (-198 - (-1)) = -49.25: loss ~ 49.25, finite */
    assert_true(fabs(nn_item(nn_dpo_loss(t[0], t[1], t[2], t[3], 0.25f)) - 49.25) < 1e-3);
    for (int k = 0; k < 4; k++) nn_tensor_free(t[k]);
}

static nn_tensor *dpo_of(nn_tensor **in, void *user) {
    (void)user;
    return nn_dpo_loss(in[0], in[1], in[2], in[3], 0.7f);
}

static void test_dpo_gradcheck(void **state) {
    (void)state;
    nn_tensor *in[4];
    for (int k = 0; k < 4; k++) in[k] = nn_requires_grad(nn_rand_uniform(-3, 1, NN_SHAPE(5)));
    nn_gradcheck_result r = nn_gradcheck(dpo_of, in, 4, NULL, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck: input %d element %zu analytic %.6g numeric %.6g", r.worst_input,
                 r.worst_index, r.analytic, r.numeric);
    assert_true(r.checked == 20);
    for (int k = 0; k < 4; k++) nn_tensor_free(in[k]);
}

/* The whole chain: logits -> log p of sequences -> DPO, against central differences. */
static nn_tensor *chain_loss(nn_tensor **in, void *user) {
    (void)user;
    /* in[0]: policy logits (2 pairs x 2 answers, T 4, V 4); the reference is a fixed copy */
    static const int y[4 * 4] = {1, 0, 3, 2, /**/ 2, 2, 0, 1, /**/ 3, 3, 1, 0, /**/ 0, 1, 2, 3};
    static const float w[4 * 4] = {0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1};
    nn_tensor *lp = nn_sequence_log_prob(in[0], y, w);   /* (4): chosen 0, 1; rejected 2, 3 */
    nn_tensor *ref = nn_sequence_log_prob(in[1], y, w);
    return nn_dpo_loss(nn_rows(lp, 0, 2), nn_rows(lp, 2, 2), nn_rows(ref, 0, 2),
                       nn_rows(ref, 2, 2), 0.5f);
}

static void test_dpo_chain_gradcheck(void **state) {
    (void)state;
    nn_tensor *in[2] = {nn_requires_grad(nn_rand_uniform(-2, 2, NN_SHAPE(4, 4, 4))),
                        nn_rand_uniform(-2, 2, NN_SHAPE(4, 4, 4))};
    nn_gradcheck_result r = nn_gradcheck(chain_loss, in, 1, NULL, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck: element %zu analytic %.6g numeric %.6g", r.worst_index, r.analytic,
                 r.numeric);
    assert_true(r.checked == 64);
    nn_tensor_free(in[0]), nn_tensor_free(in[1]);
}

/* A toy policy: one free logit row per position (T 3, V 4) shared by every sequence. The judge
 * prefers answers that end in token 2 over those that end in token 1. DPO steps raise the
 * policy's probability of ending in 2 and lower that of 1, from a start that had them equal. */
static void test_dpo_moves_policy_toward_preferred(void **state) {
    (void)state;
    enum { T = 3, V = 4 };
    nn_tensor *theta = nn_requires_grad(nn_zeros(NN_SHAPE(T, V)));
    nn_tensor *ref_theta = nn_zeros(NN_SHAPE(T, V));
    const int chosen[T] = {0, 3, 2}, rejected[T] = {0, 3, 1};
    const float w[T] = {0, 1, 1};
    float p2_before = 0.25f, p1_before = 0.25f;
    for (int step = 0; step < 50; step++) {
        nn_tensor *pc = nn_sequence_log_prob(theta, chosen, w);
        nn_tensor *pr = nn_sequence_log_prob(theta, rejected, w);
        nn_tensor *rc = nn_sequence_log_prob(ref_theta, chosen, w);
        nn_tensor *rr = nn_sequence_log_prob(ref_theta, rejected, w);
        nn_tensor *L = nn_dpo_loss(pc, pr, rc, rr, 0.5f);
        if (step == 0) assert_true(fabs(nn_item(L) - log(2.0)) < 1e-6);
        nn_zero_grad(theta);
        nn_backward(L);
        for (size_t i = 0; i < theta->size; i++) theta->data[i] -= 1.0f * theta->grad[i];
        nn_graph_clear();
    }
    nn_tensor *p = nn_softmax(nn_rows(theta, T - 1, 1));
    assert_true(p->data[2] > 0.6f && p->data[2] > p2_before);
    assert_true(p->data[1] < 0.1f && p->data[1] < p1_before);
    /* token 3 at position 1 is shared by both answers: DPO leaves it where it was */
    nn_tensor *p_mid = nn_softmax(nn_rows(theta, 1, 1));
    assert_true(fabs(p_mid->data[3] - 0.25f) < 1e-6);
    nn_graph_clear();
    nn_tensor_free(theta), nn_tensor_free(ref_theta);
}

static void test_preference_errors(void **state) {
    (void)state;
    nn_tensor *z = nn_zeros(NN_SHAPE(2, 3, 4)), *flat = nn_zeros(NN_SHAPE(4));
    const int y[6] = {0, 1, 2, 3, 4, 0};
    const float w[6] = {1, 1, 1, 1, 1, NAN};
    EXPECT_NN_ERROR(nn_sequence_log_prob(z, y, NULL), "targets[4] = 4 with V = 4");
    EXPECT_NN_ERROR(nn_sequence_log_prob(z, (int[6]){0}, w), "weights[5] = nan");
    EXPECT_NN_ERROR(nn_sequence_log_prob(flat, y, NULL), "shape (4)");
    EXPECT_NN_ERROR(nn_sequence_log_prob(NULL, y, NULL), "NULL");
    EXPECT_NN_ERROR(nn_sequence_log_prob(z, NULL, NULL), "NULL");
    nn_tensor *a = nn_zeros(NN_SHAPE(3)), *b = nn_zeros(NN_SHAPE(2));
    EXPECT_NN_ERROR(nn_dpo_loss(a, a, a, b, 0.1f), "ref_rejected (2)");
    EXPECT_NN_ERROR(nn_dpo_loss(a, a, a, a, 0.0f), "beta = 0");
    EXPECT_NN_ERROR(nn_dpo_loss(a, a, a, a, NAN), "beta = nan");
    EXPECT_NN_ERROR(nn_dpo_loss(a, NULL, a, a, 0.1f), "NULL");
    EXPECT_NN_ERROR(nn_dpo_loss(a, a, a, b, 0.1f), "test_preference.c:");
    nn_tensor_free(z), nn_tensor_free(flat), nn_tensor_free(a), nn_tensor_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_sequence_log_prob_values),
        NN_TEST(test_sequence_log_prob_stable),
        NN_TEST(test_sequence_log_prob_gradcheck),
        NN_TEST(test_dpo_at_the_reference),
        NN_TEST(test_dpo_known_values),
        NN_TEST(test_dpo_gradcheck),
        NN_TEST(test_dpo_chain_gradcheck),
        NN_TEST(test_dpo_moves_policy_toward_preferred),
        NN_TEST(test_preference_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
