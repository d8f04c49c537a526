/* tests/test_optim.c — optimizers and clipping by hand, and a PyTorch twin: a tiny MLP's loss,
 * gradients and three steps of SGD+momentum, Adam and AdamW, against values PyTorch computed
 * (tests/fixtures/make_torch_twin.py wrote them; the test itself needs no torch). */
#include "testing.h"
#include "fixtures/torch_twin.h"

static void test_sgd_step_by_hand(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(1), false);
    w->data[0] = 1;
    w->data[1] = -2;
    b->data[0] = 3;
    nn_optim *opt = nn_sgd_new(m, 0.1f, 0.0f, 0.5f);
    w->grad[0] = 1;
    w->grad[1] = 1;
    b->grad[0] = 1;
    nn_optim_step(opt);
    /* w -= 0.1 * (g + 0.5 w): 1 - 0.1*1.5 = 0.85; -2 - 0.1*(1 - 1) = -2; the bias has no decay */
    assert_floats_near(w->data, (float[]){0.85f, -2.0f}, 2, 1e-6f);
    assert_float_equal(b->data[0], 2.9f, 1e-6);
    nn_optim_free(opt);

    /* momentum: v = 0.9 v + g; two steps with g = 1 move by lr * (1 + 1.9) */
    opt = nn_sgd_new(m, 0.1f, 0.9f, 0.0f);
    float start = b->data[0];
    nn_optim_step(opt);
    nn_optim_step(opt);
    assert_float_equal(b->data[0], start - 0.1f * 2.9f, 1e-6);
    nn_optim_free(opt);
    nn_model_free(m);
}

static void test_adam_first_step_is_lr_sized(void **state) {
    (void)state;
    /* After bias correction, Adam's first step is lr * g / |g| whatever the gradient's scale. */
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(3), true);
    nn_optim *opt = nn_adam_new(m, 0.01f, 0.0f);
    w->grad[0] = 1000;
    w->grad[1] = -0.001f;
    w->grad[2] = 0;
    nn_optim_step(opt);
    assert_floats_near(w->data, (float[]){-0.01f, 0.01f, 0.0f}, 3, 1e-5f);
    nn_optim_free(opt);
    nn_model_free(m);
}

/* A parameter long enough for the threads (300,001 floats): two steps of every optimizer
 * and the gradient norm give the same bits on one thread as on three, and the norm is the
 * square root of the sum of squares (in double here). */
enum { LEN = 300001 };   /* the long parameter's floats */

static void run_long_param(int threads, int kind, float *w_out, float *norm_out) {
    int team = test_set_threads(threads);
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(LEN), true);
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    nn_fill_uniform(w, -1, 1, &rng);
    nn_optim *opt = kind == 0 ? nn_sgd_new(m, 0.1f, 0.9f, 0.01f)
                  : kind == 1 ? nn_adam_new(m, 0.01f, 0.01f) : nn_adamw_new(m, 0.01f, 0.01f);
    for (int step = 0; step < 2; step++) {
        for (size_t i = 0; i < LEN; i++) w->grad[i] = 2.0f * nn_rng_uniform(&rng) - 1.0f;
        *norm_out = nn_model_grad_norm(m);
        nn_optim_step(opt);
    }
    memcpy(w_out, w->data, LEN * sizeof(float));
    double s = 0;
    for (size_t i = 0; i < LEN; i++) s += (double)w->grad[i] * w->grad[i];
    assert_true(fabs(*norm_out - sqrt(s)) <= 1e-5 * sqrt(s));
    nn_optim_free(opt);
    nn_model_free(m);
    test_restore_threads(team);
}

static void test_long_parameter_same_bits_on_any_threads(void **state) {
    (void)state;
    float *one = malloc(LEN * sizeof(float)), *all = malloc(LEN * sizeof(float));
    for (int kind = 0; kind < 3; kind++) {
        float norm1, norm_all;
        run_long_param(1, kind, one, &norm1);
        run_long_param(3, kind, all, &norm_all);
        assert_memory_equal(one, all, LEN * sizeof(float));
        assert_memory_equal(&norm1, &norm_all, sizeof norm1);
    }
    free(one), free(all);
}

static void test_optimizer_needs_the_whole_model(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_model_param(m, "a", NN_SHAPE(2), true);
    nn_optim *opt = nn_adam_new(m, 0.1f, 0.0f);
    nn_model_param(m, "late", NN_SHAPE(2), true);
    EXPECT_NN_ERROR(nn_optim_step(opt), "nn_optim_step", "after the whole model");
    nn_optim_free(opt);
    nn_model_free(m);
}

static void test_clip_grad_norm(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_tensor *a = nn_model_param(m, "a", NN_SHAPE(2), true);
    nn_tensor *b = nn_model_param(m, "b", NN_SHAPE(1), false);
    a->grad[0] = 3;
    a->grad[1] = 0;
    b->grad[0] = 4; /* global norm 5 */
    assert_float_equal(nn_model_grad_norm(m), 5.0f, 1e-6);
    float before = nn_clip_grad_norm(m, 10.0f); /* under the limit: untouched */
    assert_float_equal(before, 5.0f, 1e-6);
    assert_float_equal(b->grad[0], 4.0f, 0);
    before = nn_clip_grad_norm(m, 1.0f);
    assert_float_equal(before, 5.0f, 1e-6);
    assert_float_equal(nn_model_grad_norm(m), 1.0f, 1e-6);
    assert_floats_near(a->grad, (float[]){0.6f, 0.0f}, 2, 1e-6f); /* direction kept */
    assert_float_equal(b->grad[0], 0.8f, 1e-6);
    nn_model_free(m);
}

/* ---- the PyTorch twin ------------------------------------------------------------------- */

typedef struct { nn_model *m; nn_linear_layer *l1, *l2; nn_tensor *x; } twin;

static twin twin_new(void) {
    twin t;
    t.m = nn_model_new();
    t.l1 = nn_linear_layer_new(t.m, "l1", 3, 4, NN_INIT_ZEROS);
    t.l2 = nn_linear_layer_new(t.m, "l2", 4, 2, NN_INIT_ZEROS);
    memcpy(t.l1->W->data, twin_W1, sizeof twin_W1);
    memcpy(t.l1->b->data, twin_b1, sizeof twin_b1);
    memcpy(t.l2->W->data, twin_W2, sizeof twin_W2);
    memcpy(t.l2->b->data, twin_b2, sizeof twin_b2);
    t.x = nn_from_array(twin_x, NN_SHAPE(5, 3));
    return t;
}

static nn_tensor *twin_forward_loss(twin *t) {
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(t->l1, t->x));
    return nn_cross_entropy_loss(nn_linear_layer_forward(t->l2, h), twin_labels);
}

static void twin_free(twin *t) {
    nn_tensor_free(t->x);
    nn_model_free(t->m);
}

static void test_twin_loss_and_gradients(void **state) {
    (void)state;
    twin t = twin_new();
    nn_tensor *loss = twin_forward_loss(&t);
    assert_float_equal(nn_item(loss), twin_loss, 1e-6);
    nn_backward(loss);
    assert_floats_near(t.l1->W->grad, twin_grad_W1, 12, 1e-6f);
    assert_floats_near(t.l1->b->grad, twin_grad_b1, 4, 1e-6f);
    assert_floats_near(t.l2->W->grad, twin_grad_W2, 8, 1e-6f);
    assert_floats_near(t.l2->b->grad, twin_grad_b2, 2, 1e-6f);
    twin_free(&t);
}

static void run_twin(nn_optim *(*make)(nn_model *), const float *W1, const float *b1,
                     const float *W2, const float *b2) {
    twin t = twin_new();
    nn_optim *opt = make(t.m);
    for (int step = 0; step < 3; step++) {
        nn_model_zero_grad(t.m);
        nn_backward(twin_forward_loss(&t));
        nn_optim_step(opt);
        nn_graph_clear();
    }
    assert_floats_near(t.l1->W->data, W1, 12, 2e-6f);
    assert_floats_near(t.l1->b->data, b1, 4, 2e-6f);
    assert_floats_near(t.l2->W->data, W2, 8, 2e-6f);
    assert_floats_near(t.l2->b->data, b2, 2, 2e-6f);
    nn_optim_free(opt);
    twin_free(&t);
}

static nn_optim *make_sgd(nn_model *m) { return nn_sgd_new(m, 0.1f, 0.9f, 0.01f); }
static nn_optim *make_adam(nn_model *m) { return nn_adam_new(m, 0.01f, 0.0f); }
static nn_optim *make_adamw(nn_model *m) { return nn_adamw_new(m, 0.01f, 0.1f); }

static void test_twin_sgd_momentum(void **state) {
    (void)state;
    run_twin(make_sgd, twin_sgd_W1, twin_sgd_b1, twin_sgd_W2, twin_sgd_b2);
}
static void test_twin_adam(void **state) {
    (void)state;
    run_twin(make_adam, twin_adam_W1, twin_adam_b1, twin_adam_W2, twin_adam_b2);
}
static void test_twin_adamw(void **state) {
    (void)state;
    run_twin(make_adamw, twin_adamw_W1, twin_adamw_b1, twin_adamw_W2, twin_adamw_b2);
}

/* ---- a whole training loop learns XOR ----------------------------------------------------- */
static void test_training_learns_xor(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l1 = nn_linear_layer_new(m, "l1", 2, 8, NN_INIT_XAVIER);
    nn_linear_layer *l2 = nn_linear_layer_new(m, "l2", 8, 2, NN_INIT_XAVIER);
    nn_tensor *x = nn_from_array((float[]){0, 0, 0, 1, 1, 0, 1, 1}, NN_SHAPE(4, 2));
    const int y[4] = {0, 1, 1, 0};
    nn_optim *opt = nn_adam_new(m, 0.05f, 0.0f);
    float first = 0, last = 0;
    for (int step = 0; step < 300; step++) {
        nn_tensor *loss = nn_cross_entropy_loss(nn_linear_layer_forward(l2, nn_tanh(nn_linear_layer_forward(l1, x))), y);
        if (step == 0) first = nn_item(loss);
        last = nn_item(loss);
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    assert_true(last < 0.05f * first);
    nn_set_grad_enabled(false);
    int pred[4];
    nn_argmax_rows(nn_linear_layer_forward(l2, nn_tanh(nn_linear_layer_forward(l1, x))), pred);
    nn_set_grad_enabled(true);
    for (int i = 0; i < 4; i++) assert_int_equal(pred[i], y[i]);
    nn_optim_free(opt);
    nn_tensor_free(x);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_sgd_step_by_hand),        NN_TEST(test_adam_first_step_is_lr_sized),
        NN_TEST(test_optimizer_needs_the_whole_model), NN_TEST(test_clip_grad_norm),
        NN_TEST(test_twin_loss_and_gradients), NN_TEST(test_twin_sgd_momentum),
        NN_TEST(test_twin_adam),               NN_TEST(test_twin_adamw),
        NN_TEST(test_training_learns_xor),
        NN_TEST(test_long_parameter_same_bits_on_any_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
