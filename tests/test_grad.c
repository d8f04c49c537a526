/* tests/test_grad.c — every differentiable op against central differences (nn_gradcheck).
 *
 * Each case builds a scalar loss L = sum(op(inputs) * R) with a fixed random R, so every
 * output element gets a different weight and a wrong index in backward cannot hide. */
#include "testing.h"

typedef nn_tensor *(*op_fn)(nn_tensor **in);

typedef struct {
    op_fn op;
    nn_tensor *weights; /* R, made on first use with the output's shape */
} check_ctx;

static nn_tensor *weighted_sum(nn_tensor **in, void *user) {
    check_ctx *ctx = user;
    nn_tensor *y = ctx->op(in);
    if (!ctx->weights) {
        nn_rng rng;
        nn_rng_seed(&rng, 99);
        ctx->weights = nn_zeros(y->ndim, y->shape);
        nn_fill_uniform(ctx->weights, -1.0f, 1.0f, &rng);
    }
    return nn_sum(nn_mul(y, ctx->weights));
}

/* Inputs: uniform in [lo, hi], requires_grad. */
static nn_tensor *input(float lo, float hi, int ndim, const int *shape) {
    return nn_requires_grad(nn_rand_uniform(lo, hi, ndim, shape));
}

/* Check op on the inputs; frees them. */
static void check(op_fn op, nn_tensor **in, int n) {
    check_ctx ctx = {op, NULL};
    nn_gradcheck_result r = nn_gradcheck(weighted_sum, in, n, &ctx, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck failed: input %d element %zu analytic %.6g numeric %.6g rel %.3g",
                 r.worst_input, r.worst_index, r.analytic, r.numeric, r.max_rel_err);
    assert_true(r.checked > 0);
    for (int i = 0; i < n; i++) nn_tensor_free(in[i]);
    nn_tensor_free(ctx.weights);
}

#define CHECK1(name, expr, lo, hi, ...)                                        \
    static nn_tensor *op_##name(nn_tensor **in) { return expr; }               \
    static void test_grad_##name(void **state) {                               \
        (void)state;                                                           \
        nn_tensor *in[1] = {input(lo, hi, NN_SHAPE(__VA_ARGS__))};             \
        check(op_##name, in, 1);                                               \
    }

/* ---- one input ---------------------------------------------------------------------- */
CHECK1(add_scalar, nn_add_scalar(in[0], 2.5f), -2, 2, 3, 4)
CHECK1(mul_scalar, nn_mul_scalar(in[0], -1.5f), -2, 2, 3, 4)
CHECK1(neg, nn_neg(in[0]), -2, 2, 5)
CHECK1(pow, nn_pow(in[0], 2.5f), 0.5, 2, 3, 4)
CHECK1(square, nn_square(in[0]), -2, 2, 3, 4)
CHECK1(sqrt, nn_sqrt(in[0]), 0.5, 3, 3, 4)
CHECK1(exp, nn_exp(in[0]), -2, 2, 2, 3, 2)
CHECK1(log, nn_log(in[0]), 0.5, 3, 3, 4)
CHECK1(abs, nn_abs(in[0]), 0.2, 2, 3, 4)          /* away from the kink at 0 */
CHECK1(abs_neg, nn_abs(in[0]), -2, -0.2, 3, 4)
CHECK1(sin, nn_sin(in[0]), -3, 3, 3, 4)
CHECK1(cos, nn_cos(in[0]), -3, 3, 3, 4)
CHECK1(sigmoid, nn_sigmoid(in[0]), -4, 4, 3, 4)
CHECK1(tanh, nn_tanh(in[0]), -2, 2, 3, 4)
CHECK1(relu_pos, nn_relu(in[0]), 0.1, 2, 3, 4)
CHECK1(relu_neg, nn_relu(in[0]), -2, -0.1, 3, 4)
CHECK1(leaky_relu_pos, nn_leaky_relu(in[0], 0.1f), 0.1, 2, 3, 4)
CHECK1(leaky_relu_neg, nn_leaky_relu(in[0], 0.1f), -2, -0.1, 3, 4)
CHECK1(gelu, nn_gelu_tanh(in[0]), -3, 3, 3, 4)
CHECK1(softmax, nn_softmax(in[0]), -2, 2, 3, 5)
CHECK1(softmax_3d, nn_softmax(in[0]), -2, 2, 2, 2, 4)
CHECK1(log_softmax, nn_log_softmax(in[0]), -2, 2, 3, 5)
CHECK1(transpose, nn_transpose(in[0]), -1, 1, 3, 4)
CHECK1(transpose_3d, nn_transpose(in[0]), -1, 1, 2, 3, 4)
CHECK1(reshape, nn_reshape(in[0], NN_SHAPE(4, -1)), -1, 1, 2, 3, 2)
CHECK1(rows, nn_rows(in[0], 1, 2), -1, 1, 4, 3)
CHECK1(take_rows, nn_take_rows(in[0], (const int[]){2, 0, 2, 3}, 4), -1, 1, 4, 3)
CHECK1(copy, nn_copy(in[0]), -1, 1, 2, 3)
CHECK1(sum, nn_sum(in[0]), -1, 1, 2, 3)
CHECK1(mean, nn_mean(in[0]), -1, 1, 2, 3)
CHECK1(sum_axis0, nn_sum_axis(in[0], 0, false), -1, 1, 3, 4)
CHECK1(sum_axis1_keep, nn_sum_axis(in[0], 1, true), -1, 1, 2, 3, 4)
CHECK1(mean_axis_last, nn_mean_axis(in[0], -1, false), -1, 1, 2, 3, 4)
CHECK1(max_axis, nn_max_axis(in[0], 1, false), -1, 1, 3, 5) /* random values: no ties */
CHECK1(max_axis0_keep, nn_max_axis(in[0], 0, true), -1, 1, 4, 2, 3)

/* ---- two inputs, broadcasting --------------------------------------------------------- */
#define CHECK2(name, expr, lo, hi, A, B)                                       \
    static nn_tensor *op_##name(nn_tensor **in) { return expr; }               \
    static void test_grad_##name(void **state) {                               \
        (void)state;                                                           \
        nn_tensor *in[2] = {input(lo, hi, NN_SHAPE A), input(lo, hi, NN_SHAPE B)}; \
        check(op_##name, in, 2);                                               \
    }
#define S(...) (__VA_ARGS__)

CHECK2(add, nn_add(in[0], in[1]), -1, 1, S(3, 4), S(3, 4))
CHECK2(add_bias, nn_add(in[0], in[1]), -1, 1, S(3, 4), S(4))
CHECK2(add_outer, nn_add(in[0], in[1]), -1, 1, S(3, 1), S(1, 4))
CHECK2(sub_scalar_tensor, nn_sub(in[0], in[1]), -1, 1, S(2, 3, 4), S(1))
CHECK2(sub, nn_sub(in[0], in[1]), -1, 1, S(2, 3, 4), S(3, 1))
CHECK2(mul, nn_mul(in[0], in[1]), -1, 1, S(3, 4), S(3, 4))
CHECK2(mul_bcast, nn_mul(in[0], in[1]), -1, 1, S(2, 1, 4), S(3, 1))
CHECK2(div, nn_div(in[0], in[1]), 0.5, 2, S(3, 4), S(3, 4))
CHECK2(div_bcast, nn_div(in[0], in[1]), 0.5, 2, S(3, 4), S(4))
CHECK2(matmul, nn_matmul(in[0], in[1]), -1, 1, S(3, 4), S(4, 5))
CHECK2(matmul_batched, nn_matmul(in[0], in[1]), -1, 1, S(2, 3, 4), S(2, 4, 2))
CHECK2(matmul_shared, nn_matmul(in[0], in[1]), -1, 1, S(2, 3, 4), S(4, 2))
/* linear: x W + b in one op; 2-D and (B, T, K) inputs, with and without the bias */
static nn_tensor *op_linear3(nn_tensor **in) { return nn_linear(in[0], in[1], in[2]); }
static void check_linear(int ndim, const int *xshape, int K, int N, bool bias) {
    nn_tensor *in[3] = {input(-1, 1, ndim, xshape), input(-1, 1, NN_SHAPE(K, N)),
                        bias ? input(-1, 1, NN_SHAPE(N)) : NULL};
    check(op_linear3, in, bias ? 3 : 2);
}
static void test_grad_linear_op(void **state) {
    (void)state;
    check_linear(NN_SHAPE(3, 4), 4, 5, true);
    check_linear(NN_SHAPE(2, 3, 4), 4, 2, true);
    check_linear(NN_SHAPE(5, 3), 3, 7, false);
}
/* Backwards that write an intermediate gradient instead of adding to zeros (sets_grads:
 * matmul, linear, cross-entropy): a chain of them, and one tensor used twice in a product
 * (the first product sets its gradient, the second must add). */
static const int chain_labels[4] = {2, 0, 1, 2};
static nn_tensor *op_product_chain(nn_tensor **in) {
    /* the bias an intermediate too: linear adds into its gradient, which must start at 0 */
    nn_tensor *h = nn_linear(nn_matmul(in[0], in[1]), in[2], nn_tanh(in[4]));   /* (4, 3) */
    return nn_cross_entropy_loss(nn_matmul(h, nn_tanh(in[3])), chain_labels);
}
static void test_grad_product_chain(void **state) {
    (void)state;
    nn_tensor *in[5] = {input(-1, 1, NN_SHAPE(4, 5)), input(-1, 1, NN_SHAPE(5, 6)),
                        input(-1, 1, NN_SHAPE(6, 3)), input(-1, 1, NN_SHAPE(3, 3)),
                        input(-1, 1, NN_SHAPE(3))};
    check(op_product_chain, in, 5);
}
/* The activations write an intermediate's gradient too: t feeds four of them (the first
 * backward to run sets t's gradient, the other three add), each a single consumer of its
 * own intermediate below. Inputs away from ReLU's kink. */
static nn_tensor *op_activations_of_intermediates(nn_tensor **in) {
    nn_tensor *t = nn_mul_scalar(in[0], 1.5f);
    nn_tensor *all = nn_add(nn_add(nn_relu(t), nn_tanh(t)), nn_add(nn_sigmoid(t), nn_gelu_tanh(t)));
    nn_tensor *alone = nn_add(nn_relu(nn_add_scalar(in[0], 0.5f)), nn_tanh(nn_neg(in[0])));
    return nn_add(all, nn_add(alone, nn_sigmoid(nn_gelu_tanh(nn_mul_scalar(in[0], -1.0f)))));
}
static void test_grad_activations_of_intermediates(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(0.1f, 2, NN_SHAPE(3, 5))};
    check(op_activations_of_intermediates, in, 1);
}
/* add, sub and mul write a whole-shape intermediate's gradient, and add into a broadcast
 * one (zeroed first); t * t, t + t, t - u with u broadcast, all on intermediates. */
static nn_tensor *op_binary_of_intermediates(nn_tensor **in) {
    nn_tensor *t = nn_tanh(in[0]), *u = nn_sigmoid(in[1]);          /* (3, 4), (1, 4) */
    nn_tensor *p = nn_mul(t, t), *q = nn_add(t, t), *r = nn_sub(nn_tanh(in[0]), u);
    nn_tensor *s = nn_mul(nn_sigmoid(in[0]), nn_tanh(in[1]));      /* (3, 4) * (1, 4) */
    return nn_add(nn_add(p, q), nn_sub(r, s));
}
static void test_grad_binary_of_intermediates(void **state) {
    (void)state;
    nn_tensor *in[2] = {input(-1, 1, NN_SHAPE(3, 4)), input(-1, 1, NN_SHAPE(1, 4))};
    check(op_binary_of_intermediates, in, 2);
}
static nn_tensor *op_square_of_intermediate(nn_tensor **in) {
    nn_tensor *t = nn_tanh(in[0]);
    return nn_matmul(t, t);   /* (3, 3) @ (3, 3) */
}
static void test_grad_square_of_intermediate(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(-1, 1, NN_SHAPE(3, 3))};
    check(op_square_of_intermediate, in, 1);
}
CHECK2(mse, nn_mse_loss(in[0], in[1]), -1, 1, S(4, 3), S(4, 3))
CHECK2(mae, nn_mae_loss(in[0], in[1]), -1, 1, S(4, 3), S(4, 3))
CHECK2(bce_with_logits, nn_bce_with_logits_loss(in[0], in[1]), -1, 1, S(4, 3), S(4, 3))

/* mae is not smooth where pred == target: random inputs in [-1, 1] keep them apart by more
 * than eps with this seed, and the check above would catch it if not. */

/* ---- cross-entropy: labels are data, only the logits get a gradient ---------------------- */
static const int ce_labels[5] = {0, 3, 1, 3, 2};
static nn_tensor *op_cross_entropy(nn_tensor **in) { return nn_cross_entropy_loss(in[0], ce_labels); }
static void test_grad_cross_entropy(void **state) {
    (void)state;
    nn_tensor *in[1] = {input(-2, 2, NN_SHAPE(5, 4))};
    check(op_cross_entropy, in, 1);
}

/* ---- a composite: a linear layer's input gradient, through the real layer ------------------ */
static nn_linear_layer *grad_layer;
static nn_tensor *op_linear(nn_tensor **in) { return nn_tanh(nn_linear_layer_forward(grad_layer, in[0])); }
static void test_grad_linear_input(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    grad_layer = nn_linear_layer_new(m, "fc", 4, 3, NN_INIT_XAVIER);
    nn_tensor *in[1] = {input(-1, 1, NN_SHAPE(5, 4))};
    check(op_linear, in, 1);
    nn_model_free(m);
}

/* ---- penalties and parameters: gradcheck through the model's own tensors ----------------- */
typedef struct { nn_model *m; nn_linear_layer *l; int which; } penalty_ctx;
static nn_tensor *penalty_loss(nn_tensor **in, void *user) {
    (void)in;
    penalty_ctx *c = user;
    return c->which == 1 ? nn_l1_penalty(c->m) : nn_l2_penalty(c->m);
}
static void test_grad_penalties(void **state) {
    (void)state;
    for (int which = 1; which <= 2; which++) {
        nn_model *m = nn_model_new();
        nn_linear_layer *l = nn_linear_layer_new(m, "fc", 3, 4, NN_INIT_XAVIER);
        for (size_t i = 0; i < l->W->size; i++) /* keep |w| >= 0.1 away from the L1 kink */
            if (fabsf(l->W->data[i]) < 0.1f) l->W->data[i] = l->W->data[i] < 0 ? -0.1f : 0.1f;
        nn_fill(l->b, 0.7f);
        penalty_ctx c = {m, l, which};
        nn_tensor *params[2] = {l->W, l->b};
        nn_gradcheck_result r = nn_gradcheck(penalty_loss, params, 2, &c, 1e-2, 1e-2);
        assert_true(r.ok);
        assert_int_equal(r.checked, 16);
        assert_float_equal(l->b->grad[0], 0.0f, 0.0f); /* biases are not penalised */
        nn_model_free(m);
    }
}

/* ---- the checker itself must catch a wrong backward -------------------------------------- */
static void wrong_backward(nn_node *n) { /* claims d(x^2)/dx = x instead of 2x */
    for (size_t i = 0; i < n->out->size; i++) n->in[0]->grad[i] += n->out->grad[i] * n->in[0]->data[i];
}
static nn_tensor *broken_square(nn_tensor **in, void *user) {
    (void)user;
    nn_tensor *x = in[0];
    nn_tensor *y = nn_record("broken_square", wrong_backward, x->ndim, x->shape, x, NULL, NULL, NULL);
    for (size_t i = 0; i < x->size; i++) y->data[i] = x->data[i] * x->data[i];
    return nn_sum(y);
}
static void test_gradcheck_catches_wrong_backward(void **state) {
    (void)state;
    nn_tensor *x = input(1, 2, NN_SHAPE(3));
    nn_gradcheck_result r = nn_gradcheck(broken_square, &x, 1, NULL, 0, 0);
    assert_false(r.ok);
    assert_true(r.max_rel_err > 0.3);
    nn_tensor_free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_grad_add_scalar), NN_TEST(test_grad_mul_scalar), NN_TEST(test_grad_neg),
        NN_TEST(test_grad_pow), NN_TEST(test_grad_square), NN_TEST(test_grad_sqrt),
        NN_TEST(test_grad_exp), NN_TEST(test_grad_log), NN_TEST(test_grad_abs),
        NN_TEST(test_grad_abs_neg), NN_TEST(test_grad_sin), NN_TEST(test_grad_cos),
        NN_TEST(test_grad_sigmoid), NN_TEST(test_grad_tanh), NN_TEST(test_grad_relu_pos),
        NN_TEST(test_grad_relu_neg), NN_TEST(test_grad_leaky_relu_pos),
        NN_TEST(test_grad_leaky_relu_neg), NN_TEST(test_grad_gelu), NN_TEST(test_grad_softmax),
        NN_TEST(test_grad_softmax_3d), NN_TEST(test_grad_log_softmax),
        NN_TEST(test_grad_transpose), NN_TEST(test_grad_transpose_3d), NN_TEST(test_grad_reshape),
        NN_TEST(test_grad_rows), NN_TEST(test_grad_take_rows), NN_TEST(test_grad_copy),
        NN_TEST(test_grad_sum), NN_TEST(test_grad_mean), NN_TEST(test_grad_sum_axis0),
        NN_TEST(test_grad_sum_axis1_keep), NN_TEST(test_grad_mean_axis_last),
        NN_TEST(test_grad_max_axis), NN_TEST(test_grad_max_axis0_keep),
        NN_TEST(test_grad_add), NN_TEST(test_grad_add_bias), NN_TEST(test_grad_add_outer),
        NN_TEST(test_grad_sub_scalar_tensor), NN_TEST(test_grad_sub), NN_TEST(test_grad_mul),
        NN_TEST(test_grad_mul_bcast), NN_TEST(test_grad_div), NN_TEST(test_grad_div_bcast),
        NN_TEST(test_grad_matmul), NN_TEST(test_grad_matmul_batched),
        NN_TEST(test_grad_matmul_shared), NN_TEST(test_grad_linear_op),
        NN_TEST(test_grad_product_chain), NN_TEST(test_grad_square_of_intermediate),
        NN_TEST(test_grad_activations_of_intermediates), NN_TEST(test_grad_binary_of_intermediates),
        NN_TEST(test_grad_mse), NN_TEST(test_grad_mae),
        NN_TEST(test_grad_bce_with_logits), NN_TEST(test_grad_cross_entropy),
        NN_TEST(test_grad_linear_input), NN_TEST(test_grad_penalties),
        NN_TEST(test_gradcheck_catches_wrong_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
