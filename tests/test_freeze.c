/* tests/test_freeze.c — frozen parameters: nn_model_freeze / unfreeze / trainable_count, and
 * what skips them: backward, every optimizer (weight decay included), clipping, the gradient
 * norm, the L1/L2 penalties and the summary. */
#include "testing.h"

static nn_tensor *pattern(uint64_t seed, float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(t, lo, hi, &rng);
    return t;
}

static void fill_floats(float *v, size_t n, float value) {
    for (size_t i = 0; i < n; i++) v[i] = value;
}

static bool all_zero(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f) return false;
    return true;
}

/* ---- optimizers leave a frozen weight alone, bit for bit ---------------------------------- */

typedef enum { OPT_ADAMW, OPT_SGD_MOMENTUM, OPT_ADAM_L2 } opt_kind;

static nn_optim *make_opt(nn_model *m, opt_kind k) {
    switch (k) {
    case OPT_ADAMW: return nn_adamw_new(m, 0.01f, 0.1f);
    case OPT_SGD_MOMENTUM: return nn_sgd_new(m, 0.1f, 0.9f, 0.1f);
    case OPT_ADAM_L2: return nn_adam_new(m, 0.01f, 0.1f);
    }
    return NULL;
}

enum { FZ_N = 8, FZ_IN = 4, FZ_HID = 6, FZ_OUT = 3 };

/* y = tanh(x W1 + b1) W2 + b2 */
static nn_tensor *mlp(nn_tensor *x, nn_tensor *W1, nn_tensor *b1, nn_tensor *W2, nn_tensor *b2) {
    nn_tensor *h = nn_tanh(nn_add(nn_matmul(x, W1), b1));
    return nn_add(nn_matmul(h, W2), b2);
}

static void check_optimizer_skips_frozen(opt_kind kind) {
    nn_model *m = nn_model_new();
    nn_linear_layer *fc1 = nn_linear_layer_new(m, "fc1", FZ_IN, FZ_HID, NN_INIT_XAVIER);
    nn_linear_layer *fc2 = nn_linear_layer_new(m, "fc2", FZ_HID, FZ_OUT, NN_INIT_XAVIER);
    nn_fill(fc1->b, 0.1f);
    nn_fill(fc2->b, -0.2f);
    nn_tensor *x = pattern(1, -1, 1, NN_SHAPE(FZ_N, FZ_IN));
    nn_tensor *y = pattern(2, -1, 1, NN_SHAPE(FZ_N, FZ_OUT));

    /* The twin: the same network where fc1.W is not a parameter at all but a constant. */
    nn_model *twin = nn_model_new();
    nn_tensor *tb1 = nn_model_param(twin, "b1", NN_SHAPE(FZ_HID), false);
    nn_tensor *tW2 = nn_model_param(twin, "W2", NN_SHAPE(FZ_HID, FZ_OUT), true);
    nn_tensor *tb2 = nn_model_param(twin, "b2", NN_SHAPE(FZ_OUT), false);
    nn_tensor *constW1 = nn_clone(fc1->W);
    nn_copy_into(tb1, fc1->b);
    nn_copy_into(tW2, fc2->W);
    nn_copy_into(tb2, fc2->b);

    assert_int_equal(nn_model_freeze(m, "fc1.W"), 1);
    assert_false(fc1->W->requires_grad);
    assert_true(fc1->b->requires_grad);
    float W1_before[FZ_IN * FZ_HID], b1_before[FZ_HID], W2_before[FZ_HID * FZ_OUT], b2_before[FZ_OUT];
    memcpy(W1_before, fc1->W->data, sizeof W1_before);
    memcpy(b1_before, fc1->b->data, sizeof b1_before);
    memcpy(W2_before, fc2->W->data, sizeof W2_before);
    memcpy(b2_before, fc2->b->data, sizeof b2_before);

    nn_optim *opt = make_opt(m, kind), *topt = make_opt(twin, kind);
    for (int step = 0; step < 10; step++) {
        nn_model_zero_grad(m);
        nn_backward(nn_mse_loss(mlp(x, fc1->W, fc1->b, fc2->W, fc2->b), y));
        assert_true(all_zero(fc1->W->grad, fc1->W->size)); /* backward gave it nothing */
        assert_false(all_zero(fc1->b->grad, fc1->b->size));
        if (step % 2) fill_floats(fc1->W->grad, fc1->W->size, 3.0f); /* a stale gradient must not move it either */
        nn_optim_step(opt);
        nn_graph_clear();

        nn_model_zero_grad(twin);
        nn_backward(nn_mse_loss(mlp(x, constW1, tb1, tW2, tb2), y));
        nn_optim_step(topt);
        nn_graph_clear();
    }
    assert_memory_equal(fc1->W->data, W1_before, sizeof W1_before); /* bit-identical */
    assert_memory_not_equal(fc1->b->data, b1_before, sizeof b1_before);
    assert_memory_not_equal(fc2->W->data, W2_before, sizeof W2_before);
    assert_memory_not_equal(fc2->b->data, b2_before, sizeof b2_before);
    /* the optimizer's state for it never moved either */
    assert_true(all_zero(opt->m, fc1->W->size));
    if (opt->v) assert_true(all_zero(opt->v, fc1->W->size));
    /* and the rest trained exactly as if the frozen weight were a constant */
    assert_memory_equal(fc1->b->data, tb1->data, sizeof b1_before);
    assert_memory_equal(fc2->W->data, tW2->data, sizeof W2_before);
    assert_memory_equal(fc2->b->data, tb2->data, sizeof b2_before);

    /* unfrozen, it trains again */
    assert_int_equal(nn_model_unfreeze(m, "fc1.W"), 1);
    nn_model_zero_grad(m);
    nn_backward(nn_mse_loss(mlp(x, fc1->W, fc1->b, fc2->W, fc2->b), y));
    assert_false(all_zero(fc1->W->grad, fc1->W->size));
    nn_optim_step(opt);
    nn_graph_clear();
    assert_memory_not_equal(fc1->W->data, W1_before, sizeof W1_before);

    nn_optim_free(opt);
    nn_optim_free(topt);
    nn_tensor_free(constW1);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_model_free(twin);
    nn_model_free(m);
}

static void test_adamw_leaves_frozen_weight_bit_identical(void **state) {
    (void)state;
    check_optimizer_skips_frozen(OPT_ADAMW);
}
static void test_sgd_momentum_leaves_frozen_weight_bit_identical(void **state) {
    (void)state;
    check_optimizer_skips_frozen(OPT_SGD_MOMENTUM);
}
static void test_adam_l2_leaves_frozen_weight_bit_identical(void **state) {
    (void)state;
    check_optimizer_skips_frozen(OPT_ADAM_L2);
}

static void test_weight_decay_alone_skips_frozen(void **state) {
    (void)state;
    /* With zero gradients only weight decay would move a weight: a frozen one stays. */
    for (int k = 0; k < 3; k++) {
        nn_model *m = nn_model_new();
        nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(3), true);
        nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(3), true);
        nn_fill(a, 2.0f);
        nn_fill(b, 2.0f);
        nn_model_freeze(m, "b");
        nn_optim *opt = make_opt(m, (opt_kind)k);
        for (int step = 0; step < 10; step++) nn_optim_step(opt);
        for (int i = 0; i < 3; i++) {
            assert_true(a->data[i] < 2.0f); /* decayed */
            assert_float_equal(b->data[i], 2.0f, 0);
        }
        nn_optim_free(opt);
        nn_model_free(m);
    }
}

/* ---- freeze / unfreeze / trainable_count ------------------------------------------------- */

static void test_freeze_by_prefix(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *fc1 = nn_linear_layer_new(m, "fc1", 3, 4, NN_INIT_XAVIER);   /* 12 + 4 */
    nn_linear_layer *fc10 = nn_linear_layer_new(m, "fc10", 4, 4, NN_INIT_XAVIER); /* 16 + 4 */
    nn_linear_layer *fc2 = nn_linear_layer_new(m, "fc2", 4, 2, NN_INIT_XAVIER);   /* 8 + 2 */
    const size_t total = 12 + 4 + 16 + 4 + 8 + 2;
    assert_int_equal(m->count, total);
    assert_int_equal(nn_model_trainable_count(m), total);

    /* "fc1." is fc1.W and fc1.b, not fc10.* */
    assert_int_equal(nn_model_freeze(m, "fc1."), 2);
    assert_false(fc1->W->requires_grad);
    assert_false(fc1->b->requires_grad);
    assert_true(fc10->W->requires_grad);
    assert_true(fc10->b->requires_grad);
    assert_true(fc2->W->requires_grad);
    assert_int_equal(nn_model_trainable_count(m), total - 16);
    assert_int_equal(nn_model_freeze(m, "fc1."), 2); /* again: the same, nothing changes */
    assert_int_equal(nn_model_trainable_count(m), total - 16);
    /* "fc1" without the dot takes fc10 too */
    assert_int_equal(nn_model_freeze(m, "fc1"), 4);
    assert_int_equal(nn_model_trainable_count(m), 10);
    assert_int_equal(nn_model_freeze(m, "fc2.b"), 1);
    assert_int_equal(nn_model_trainable_count(m), 8);
    assert_int_equal(nn_model_freeze(m, "nothing"), 0);
    assert_int_equal(nn_model_freeze(m, "fc1.W.extra"), 0); /* longer than every name */
    assert_int_equal(nn_model_trainable_count(m), 8);

    /* unfreeze by prefix */
    assert_int_equal(nn_model_unfreeze(m, "fc10."), 2);
    assert_int_equal(nn_model_trainable_count(m), 8 + 20);
    assert_false(fc1->W->requires_grad);
    assert_true(fc10->W->requires_grad);

    /* "" and NULL: every parameter */
    assert_int_equal(nn_model_freeze(m, ""), 6);
    assert_int_equal(nn_model_trainable_count(m), 0);
    assert_int_equal(nn_model_unfreeze(m, NULL), 6);
    assert_int_equal(nn_model_trainable_count(m), total);
    assert_int_equal(nn_model_freeze(m, NULL), 6);
    assert_int_equal(nn_model_trainable_count(m), 0);
    assert_int_equal(nn_model_unfreeze(m, ""), 6);
    for (int p = 0; p < m->nparams; p++) assert_true(m->params[p]->requires_grad);

    /* "train the head only" as the header shows it */
    nn_model_freeze(m, "");
    assert_int_equal(nn_model_unfreeze(m, "fc2."), 2);
    assert_int_equal(nn_model_trainable_count(m), 10);

    /* a parameter added later starts trainable */
    nn_model_param(m, "extra", NN_SHAPE(5), true);
    assert_int_equal(nn_model_trainable_count(m), 15);

    /* an empty model */
    nn_model *empty = nn_model_new();
    assert_int_equal(nn_model_freeze(empty, ""), 0);
    assert_int_equal(nn_model_trainable_count(empty), 0);
    nn_model_free(empty);

    EXPECT_NN_ERROR(nn_model_freeze(NULL, "fc1."), "nn_model_freeze", "is NULL");
    EXPECT_NN_ERROR(nn_model_unfreeze(NULL, NULL), "nn_model_unfreeze", "is NULL");
    EXPECT_NN_ERROR(nn_model_trainable_count(NULL), "nn_model_trainable_count", "is NULL");
    nn_model_free(m);
}

/* ---- backward: no gradient for a frozen parameter, but through it ------------------------- */

typedef struct { nn_linear_layer *enc, *head; } enc_head;

static nn_tensor *enc_head_loss(nn_tensor **in, void *user) {
    const enc_head *n = user;
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(n->enc, in[0]));
    return nn_sum(nn_square(nn_linear_layer_forward(n->head, h)));
}

static void test_frozen_gets_no_gradient_but_input_does(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    enc_head net;
    net.enc = nn_linear_layer_new(m, "enc", 3, 2, NN_INIT_XAVIER);
    net.head = nn_linear_layer_new(m, "head", 2, 1, NN_INIT_XAVIER);
    nn_fill(net.enc->b, 0.3f);
    /* garbage from an earlier backward: freezing zeroes it */
    fill_floats(net.enc->W->grad, 6, 7.0f);
    fill_floats(net.enc->b->grad, 2, -7.0f);
    fill_floats(net.head->W->grad, 2, 5.0f);
    assert_int_equal(nn_model_freeze(m, "enc."), 2);
    assert_true(all_zero(net.enc->W->grad, 6));
    assert_true(all_zero(net.enc->b->grad, 2));
    assert_float_equal(net.head->W->grad[0], 5.0f, 0); /* not frozen: left alone */

    /* the simplest case by hand: L = sum(x W + b), dL/dx[n][k] = sum_j W[k][j] */
    nn_tensor *x = nn_requires_grad(pattern(3, -1, 1, NN_SHAPE(4, 3)));
    nn_model_zero_grad(m);
    nn_backward(nn_sum(nn_linear_layer_forward(net.enc, x)));
    assert_true(all_zero(net.enc->W->grad, 6));
    assert_true(all_zero(net.enc->b->grad, 2));
    for (int n = 0; n < 4; n++)
        for (int k = 0; k < 3; k++)
            assert_float_equal(x->grad[n * 3 + k],
                               net.enc->W->data[k * 2] + net.enc->W->data[k * 2 + 1], 1e-6);
    nn_graph_clear();

    /* through the frozen layer into a trained one: the input's gradient against central
     * differences; the frozen layer still gets nothing, the head gets its gradient */
    nn_zero_grad(x);
    nn_model_zero_grad(m);
    nn_gradcheck_result r = nn_gradcheck(enc_head_loss, &x, 1, &net, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("gradcheck: element %zu analytic %.6g numeric %.6g", r.worst_index, r.analytic,
                 r.numeric);
    assert_int_equal(r.checked, 12);
    assert_true(all_zero(net.enc->W->grad, 6));
    assert_true(all_zero(net.enc->b->grad, 2));
    assert_false(all_zero(net.head->W->grad, 2));

    /* everything frozen and an input without grad: nothing is recorded at all */
    nn_model_freeze(m, NULL);
    nn_tensor *c = pattern(4, -1, 1, NN_SHAPE(4, 3));
    nn_tensor *out = nn_linear_layer_forward(net.head, nn_tanh(nn_linear_layer_forward(net.enc, c)));
    assert_false(out->requires_grad);
    assert_int_equal(nn_graph_node_count(), 0);
    EXPECT_NN_ERROR(nn_backward(nn_sum(out)), "nn_backward", "does not depend");

    /* unfrozen again: the gradient is back */
    nn_model_unfreeze(m, "");
    nn_model_zero_grad(m);
    nn_backward(nn_sum(nn_linear_layer_forward(net.enc, c)));
    for (int j = 0; j < 2; j++) assert_float_equal(net.enc->b->grad[j], 4.0f, 0);
    nn_tensor_free(c);
    nn_tensor_free(x);
    nn_model_free(m);
}

static void test_frozen_conv_layer(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_conv2d_layer *conv = nn_conv2d_layer_new(m, "conv", 2, 3, 3, 1, 1, NN_INIT_HE);
    nn_model_freeze(m, "conv.W");
    nn_tensor *x = nn_requires_grad(pattern(5, -1, 1, NN_SHAPE(2, 2, 5, 5)));
    nn_backward(nn_sum(nn_square(nn_conv2d_layer_forward(conv, x))));
    assert_true(all_zero(conv->W->grad, conv->W->size));
    assert_false(all_zero(conv->b->grad, conv->b->size));
    assert_false(all_zero(x->grad, x->size));
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- clipping and the gradient norm leave frozen parameters out --------------------------- */

static void test_clip_and_grad_norm_skip_frozen(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(2), true);
    nn_tensor *f = nn_model_param(m, "frozen", NN_SHAPE(3), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(1), false);
    nn_model_freeze(m, "frozen");
    /* hand-set gradients; the frozen one has a stale, huge one */
    a->grad[0] = 3;
    a->grad[1] = 0;
    b->grad[0] = 4;
    f->grad[0] = 100;
    f->grad[1] = -200;
    f->grad[2] = 300;
    /* sqrt(3^2 + 4^2) = 5, not sqrt(25 + 140000) */
    assert_float_equal(nn_model_grad_norm(m), 5.0f, 1e-6);
    assert_float_equal(nn_clip_grad_norm(m, 10.0f), 5.0f, 1e-6); /* under the limit */
    assert_floats_near(a->grad, (float[]){3, 0}, 2, 0);
    assert_float_equal(nn_clip_grad_norm(m, 1.0f), 5.0f, 1e-6);
    assert_floats_near(a->grad, (float[]){0.6f, 0.0f}, 2, 1e-6f);
    assert_float_equal(b->grad[0], 0.8f, 1e-6);
    assert_floats_near(f->grad, (float[]){100, -200, 300}, 3, 0); /* not scaled */
    assert_float_equal(nn_model_grad_norm(m), 1.0f, 1e-6);

    /* unfrozen it counts again (its gradient was zeroed by... nothing: unfreeze keeps it) */
    nn_model_unfreeze(m, "frozen");
    double want = sqrt(0.36 + 0.64 + 100.0 * 100 + 200.0 * 200 + 300.0 * 300);
    assert_float_equal(nn_model_grad_norm(m), (float)want, 1e-3);

    /* all frozen: norm 0 and nothing to clip */
    nn_model_freeze(m, "");
    assert_float_equal(nn_model_grad_norm(m), 0.0f, 0);
    a->grad[0] = 9;
    assert_float_equal(nn_clip_grad_norm(m, 1.0f), 0.0f, 0);
    assert_float_equal(a->grad[0], 9.0f, 0);
    nn_model_free(m);
}

/* ---- L1 / L2 penalties leave frozen weights out ------------------------------------------- */

static void test_penalties_skip_frozen(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w1 = nn_model_param(m, "w1", NN_SHAPE(2), true);
    nn_tensor *w2 = nn_model_param(m, "w2", NN_SHAPE(3), true);
    nn_tensor *bias = nn_model_param(m, "bias", NN_SHAPE(1), false);
    memcpy(w1->data, (float[]){1, -2}, 2 * sizeof(float));
    memcpy(w2->data, (float[]){3, -4, 0.5f}, 3 * sizeof(float));
    bias->data[0] = 10;

    /* nothing frozen: L1 = 1+2+3+4+0.5, L2 = 1+4+9+16+0.25 (the bias never counts) */
    assert_float_equal(nn_item(nn_l1_penalty(m)), 10.5f, 1e-6);
    assert_float_equal(nn_item(nn_l2_penalty(m)), 30.25f, 1e-6);
    nn_graph_clear();

    nn_model_freeze(m, "w2");
    nn_tensor *l1 = nn_l1_penalty(m), *l2 = nn_l2_penalty(m);
    assert_float_equal(nn_item(l1), 3.0f, 0);
    assert_float_equal(nn_item(l2), 5.0f, 0);
    nn_backward(l2); /* d/dw sum w^2 = 2w */
    assert_floats_near(w1->grad, (float[]){2, -4}, 2, 0);
    assert_true(all_zero(w2->grad, 3));
    assert_float_equal(bias->grad[0], 0.0f, 0);
    nn_model_zero_grad(m);
    nn_backward(nn_mul_scalar(l1, 0.5f)); /* lambda * sign(w) */
    assert_floats_near(w1->grad, (float[]){0.5f, -0.5f}, 2, 0);
    assert_true(all_zero(w2->grad, 3));
    nn_graph_clear();

    /* the penalty added to a data loss: the frozen weight still gets nothing */
    nn_model_zero_grad(m);
    nn_tensor *x = nn_from_array((float[]){1, 1, 1}, NN_SHAPE(3));
    nn_tensor *data_loss = nn_sum(nn_mul(w2, x)); /* frozen w2: a constant */
    nn_tensor *loss = nn_add(nn_add(data_loss, nn_sum(w1)), nn_mul_scalar(nn_l2_penalty(m), 0.1f));
    nn_backward(loss);
    assert_floats_near(w1->grad, (float[]){1 + 0.2f, 1 - 0.4f}, 2, 1e-6f);
    assert_true(all_zero(w2->grad, 3));
    nn_graph_clear();

    /* every weight frozen: the penalty is a constant 0 with no history */
    nn_model_freeze(m, "");
    nn_tensor *none = nn_l2_penalty(m);
    assert_float_equal(nn_item(none), 0.0f, 0);
    assert_false(none->requires_grad);
    assert_int_equal(nn_graph_node_count(), 0);
    assert_float_equal(nn_item(nn_l1_penalty(m)), 0.0f, 0);

    /* unfrozen: all of it again */
    nn_model_unfreeze(m, NULL);
    assert_float_equal(nn_item(nn_l1_penalty(m)), 10.5f, 1e-6);
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- the summary marks frozen parameters ------------------------------------------------- */

/* The line of `text` that starts (after spaces) with `name` and a space; asserts it exists. */
static const char *line_of(const char *text, const char *name, char *buf, size_t size) {
    size_t n = strlen(name);
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *q = p;
        while (*q == ' ') q++;
        if (strncmp(q, name, n) == 0 && q[n] == ' ') {
            snprintf(buf, size, "%.*s", (int)len, p);
            return buf;
        }
        p = end ? end + 1 : p + len;
    }
    fail_msg("no line for \"%s\" in:\n%s", name, text);
    return NULL;
}

static char *summary_text(const nn_model *m) {
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_model_summary(m, f);
    char *text = stream_text(f);
    fclose(f);
    return text;
}

static void test_summary_marks_frozen(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer_new(m, "fc1", 30, 40, NN_INIT_HE);     /* 1200 + 40 */
    nn_linear_layer_new(m, "fc2", 40, 10, NN_INIT_XAVIER); /* 400 + 10 */
    char line[256];

    char *text = summary_text(m);
    assert_null(strstr(text, "frozen"));
    assert_null(strstr(text, "trainable")); /* nothing frozen: no second total */
    assert_non_null(strstr(line_of(text, "total", line, sizeof line), "1650"));
    free(text);

    nn_model_freeze(m, "fc1.");
    text = summary_text(m);
    assert_non_null(strstr(line_of(text, "fc1.W", line, sizeof line), "(frozen)"));
    assert_non_null(strstr(line, "1200"));
    assert_non_null(strstr(line_of(text, "fc1.b", line, sizeof line), "(frozen)"));
    assert_null(strstr(line_of(text, "fc2.W", line, sizeof line), "frozen"));
    assert_null(strstr(line_of(text, "fc2.b", line, sizeof line), "frozen"));
    assert_non_null(strstr(line_of(text, "total", line, sizeof line), "1650"));
    assert_non_null(strstr(line_of(text, "trainable", line, sizeof line), "410"));
    free(text);

    nn_model_freeze(m, "");
    text = summary_text(m);
    assert_non_null(strstr(line_of(text, "fc2.b", line, sizeof line), "(frozen)"));
    int trainable = -1;
    assert_int_equal(sscanf(line_of(text, "trainable", line, sizeof line), " trainable %d",
                            &trainable), 1);
    assert_int_equal(trainable, 0);
    free(text);

    nn_model_unfreeze(m, NULL);
    text = summary_text(m);
    assert_null(strstr(text, "frozen"));
    assert_null(strstr(text, "trainable"));
    free(text);
    nn_model_free(m);
}

/* ---- fine-tune the head only -------------------------------------------------------------- */

static void test_finetune_head_only(void **state) {
    (void)state;
    enum { N = 32 };
    nn_model *m = nn_model_new();
    nn_linear_layer *body = nn_linear_layer_new(m, "body", 2, 16, NN_INIT_XAVIER);
    nn_linear_layer *head = nn_linear_layer_new(m, "head", 16, 1, NN_INIT_XAVIER);
    nn_fill_uniform(body->b, -1, 1, NULL);
    nn_tensor *x = pattern(7, -2, 2, NN_SHAPE(N, 2));
    nn_tensor *y = nn_zeros(NN_SHAPE(N, 1));
    for (int i = 0; i < N; i++) y->data[i] = sinf(x->data[2 * i]) + 0.5f * x->data[2 * i + 1];

    assert_int_equal(nn_model_freeze(m, "body."), 2);
    assert_int_equal(nn_model_trainable_count(m), 17);
    float body_W[2 * 16], body_b[16];
    memcpy(body_W, body->W->data, sizeof body_W);
    memcpy(body_b, body->b->data, sizeof body_b);

    nn_optim *opt = nn_adamw_new(m, 0.05f, 0.01f);
    float first = 0, last = 0;
    for (int step = 0; step < 50; step++) {
        nn_tensor *pred = nn_linear_layer_forward(head, nn_tanh(nn_linear_layer_forward(body, x)));
        nn_tensor *loss = nn_mse_loss(pred, y);
        if (step == 0) first = nn_item(loss);
        last = nn_item(loss);
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_clip_grad_norm(m, 5.0f);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    assert_true(last < 0.5f * first);
    assert_memory_equal(body->W->data, body_W, sizeof body_W);
    assert_memory_equal(body->b->data, body_b, sizeof body_b);
    nn_optim_free(opt);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_model_free(m);
}

/* Adam counts steps per parameter: one unfrozen after 5 steps gets a fresh bias correction,
 * so its first step is lr * g / (|g| + eps) = lr * sign(g) per element, as for a new Adam. */
static void test_adam_unfrozen_late_starts_its_own_step_count(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(3), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(3), true);
    nn_fill(a, 1.0f);
    nn_fill(b, 1.0f);
    nn_optim *adam = nn_adam_new(m, 0.01f, 0.0f);
    nn_model_freeze(m, "b");
    for (int step = 0; step < 6; step++) {
        if (step == 5) nn_model_unfreeze(m, "b");
        float before[3];
        memcpy(before, b->data, sizeof before);
        nn_model_zero_grad(m);
        nn_backward(nn_sum(nn_mul(nn_add(a, b), nn_add(a, b))));   /* d/db = 2 (a + b) > 0 */
        nn_optim_step(adam);
        nn_graph_clear();
        for (int i = 0; i < 3; i++) {
            float moved = before[i] - b->data[i];
            if (step < 5) assert_true(moved == 0.0f);
            else assert_float_equal(moved, 0.01f, 1e-6f);   /* a shared count (6) would give 0.0052 */
        }
    }
    nn_optim_free(adam);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_adamw_leaves_frozen_weight_bit_identical),
        NN_TEST(test_sgd_momentum_leaves_frozen_weight_bit_identical),
        NN_TEST(test_adam_l2_leaves_frozen_weight_bit_identical),
        NN_TEST(test_weight_decay_alone_skips_frozen),
        NN_TEST(test_freeze_by_prefix),
        NN_TEST(test_frozen_gets_no_gradient_but_input_does),
        NN_TEST(test_frozen_conv_layer),
        NN_TEST(test_clip_and_grad_norm_skip_frozen),
        NN_TEST(test_penalties_skip_frozen),
        NN_TEST(test_summary_marks_frozen),
        NN_TEST(test_finetune_head_only),
        NN_TEST(test_adam_unfrozen_late_starts_its_own_step_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
