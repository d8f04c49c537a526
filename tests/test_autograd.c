/* tests/test_autograd.c — forward values, the tape's rules, grad mode, the arena, errors. */
#include "testing.h"

/* ---- forward values worked out by hand ------------------------------------------------ */

static void test_forward_values(void **state) {
    (void)state;
    nn_tensor *a = nn_from_array((float[]){1, 2, 3, 4, 5, 6}, NN_SHAPE(2, 3));
    nn_tensor *b = nn_from_array((float[]){1, 0, 0, 1, 1, 1}, NN_SHAPE(3, 2));
    nn_tensor *row = nn_from_array((float[]){10, 20, 30}, NN_SHAPE(3));
    nn_tensor *col = nn_from_array((float[]){1, 2}, NN_SHAPE(2, 1));

    nn_tensor *c = nn_matmul(a, b); /* [[1+3, 2+3], [4+6, 5+6]] */
    assert_floats_near(c->data, (float[]){4, 5, 10, 11}, 4, 0);
    nn_tensor *d = nn_add(a, row); /* the row is added to each row */
    assert_floats_near(d->data, (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
    nn_tensor *e = nn_mul(a, col); /* each row times its column entry */
    assert_floats_near(e->data, (float[]){1, 2, 3, 8, 10, 12}, 6, 0);
    nn_tensor *t = nn_transpose(a);
    assert_int_equal(t->shape[0], 3);
    assert_floats_near(t->data, (float[]){1, 4, 2, 5, 3, 6}, 6, 0);
    nn_tensor *s0 = nn_sum_axis(a, 0, false), *s1 = nn_mean_axis(a, 1, true);
    assert_int_equal(s0->ndim, 1);
    assert_floats_near(s0->data, (float[]){5, 7, 9}, 3, 0);
    assert_int_equal(s1->ndim, 2);
    assert_int_equal(s1->shape[1], 1);
    assert_floats_near(s1->data, (float[]){2, 5}, 2, 1e-6f);
    nn_tensor *mx = nn_max_axis(a, -1, false);
    assert_floats_near(mx->data, (float[]){3, 6}, 2, 0);
    assert_float_equal(nn_item(nn_sum(a)), 21, 0);
    assert_float_equal(nn_item(nn_mean(a)), 3.5, 1e-6);
    nn_tensor *r = nn_rows(a, 1, 1);
    assert_floats_near(r->data, (float[]){4, 5, 6}, 3, 0);
    nn_tensor *g = nn_take_rows(a, (const int[]){1, 1, 0}, 3);
    assert_floats_near(g->data, (float[]){4, 5, 6, 4, 5, 6, 1, 2, 3}, 9, 0);

    nn_tensor *all[] = {a, b, row, col};
    for (int i = 0; i < 4; i++) nn_tensor_free(all[i]);
}

static void test_activations_values(void **state) {
    (void)state;
    nn_tensor *x = nn_from_array((float[]){-2, -0.5f, 0, 0.5f, 2}, NN_SHAPE(5));
    assert_floats_near(nn_relu(x)->data, (float[]){0, 0, 0, 0.5f, 2}, 5, 0);
    assert_floats_near(nn_leaky_relu(x, 0.1f)->data, (float[]){-0.2f, -0.05f, 0, 0.5f, 2}, 5, 1e-7f);
    assert_float_equal(nn_sigmoid(x)->data[2], 0.5f, 1e-7);
    assert_float_equal(nn_tanh(x)->data[4], tanhf(2), 1e-7);
    assert_float_equal(nn_gelu_tanh(x)->data[4], 1.9545977f, 1e-5); /* PyTorch gelu(2, 'tanh') */
    assert_float_equal(nn_gelu_tanh(x)->data[1], -0.1542859f, 1e-5);

    /* sigmoid stays finite at extremes */
    nn_tensor *big = nn_from_array((float[]){-1000, 1000}, NN_SHAPE(2));
    nn_tensor *sb = nn_sigmoid(big);
    assert_float_equal(sb->data[0], 0.0f, 0);
    assert_float_equal(sb->data[1], 1.0f, 0);

    /* softmax rows sum to 1 and survive huge logits; log_softmax matches log(softmax) */
    nn_tensor *z = nn_from_array((float[]){1000, 1001, 1002, -5, 0, 5}, NN_SHAPE(2, 3));
    nn_tensor *p = nn_softmax(z), *lp = nn_log_softmax(z);
    for (int r = 0; r < 2; r++) {
        float s = 0;
        for (int c = 0; c < 3; c++) {
            float v = p->data[r * 3 + c];
            assert_true(isfinite(v));
            s += v;
            assert_float_equal(lp->data[r * 3 + c], logf(v), 1e-4);
        }
        assert_float_equal(s, 1.0f, 1e-6);
    }
    assert_float_equal(p->data[2], 0.66524096f, 1e-6);
    nn_tensor_free(x);
    nn_tensor_free(big);
    nn_tensor_free(z);
}

static void test_losses_values(void **state) {
    (void)state;
    nn_tensor *p = nn_from_array((float[]){1, 2, 3, 4}, NN_SHAPE(4));
    nn_tensor *t = nn_from_array((float[]){2, 2, 1, 4}, NN_SHAPE(4));
    assert_float_equal(nn_item(nn_mae_loss(p, t)), 0.75f, 1e-7); /* (1+0+2+0)/4 */
    assert_float_equal(nn_item(nn_mse_loss(p, t)), 1.25f, 1e-7); /* (1+0+4+0)/4 */

    /* zero logits: every class has probability 1/C, the loss is ln C */
    nn_tensor *z = nn_zeros(NN_SHAPE(3, 10));
    int labels[3] = {0, 5, 9};
    assert_float_equal(nn_item(nn_cross_entropy_loss(z, labels)), logf(10), 1e-6);
    /* a confident right answer costs almost nothing; huge logits stay finite */
    nn_tensor *zc = nn_from_array((float[]){100, 0, 0, 0, -100, 0}, NN_SHAPE(2, 3));
    float ce = nn_item(nn_cross_entropy_loss(zc, (const int[]){0, 2}));
    assert_true(isfinite(ce));
    assert_float_equal(ce, 0.5f * logf(2), 1e-6); /* row 0 costs ~0, row 1 ties two classes */

    /* BCE: z = 0 gives ln 2 whatever the target; large |z| stays finite */
    nn_tensor *bz = nn_from_array((float[]){0, 0, 80, -80}, NN_SHAPE(4));
    nn_tensor *bt = nn_from_array((float[]){1, 0, 1, 1}, NN_SHAPE(4));
    float bce = nn_item(nn_bce_with_logits_loss(bz, bt));
    assert_float_equal(bce, (2 * logf(2) + 0 + 80) / 4, 1e-4);
    nn_tensor *all[] = {p, t, z, zc, bz, bt};
    for (int i = 0; i < 6; i++) nn_tensor_free(all[i]);
}

/* ---- the tape's rules -------------------------------------------------------------------- */

static void test_backward_accumulates(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){1, 2, 3}, NN_SHAPE(3)));
    nn_tensor *loss = nn_sum(nn_square(x)); /* dL/dx = 2x */
    nn_backward(loss);
    assert_floats_near(x->grad, (float[]){2, 4, 6}, 3, 0);
    nn_backward(loss); /* a second backward adds the same again */
    assert_floats_near(x->grad, (float[]){4, 8, 12}, 3, 0);
    nn_zero_grad(x);
    assert_floats_near(x->grad, (float[]){0, 0, 0}, 3, 0);
    nn_tensor_free(x);
}

static void test_shared_input_gets_both_paths(void **state) {
    (void)state;
    /* y = x * x + x uses x three times: dy/dx = 2x + 1 */
    nn_tensor *x = nn_requires_grad(nn_from_array((float[]){3}, NN_SHAPE(1)));
    nn_backward(nn_sum(nn_add(nn_mul(x, x), x)));
    assert_float_equal(x->grad[0], 7.0f, 0);
    nn_tensor_free(x);
}

static void test_no_grad_and_requires_grad(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_ones(NN_SHAPE(2, 2)));
    nn_tensor *c = nn_ones(NN_SHAPE(2, 2)); /* data: no grad wanted */
    nn_tensor *y = nn_mul(c, c);
    assert_false(y->requires_grad);
    assert_null(y->grad);
    assert_int_equal(nn_graph_node_count(), 0); /* nothing recorded for constants */
    nn_tensor *z = nn_mul(x, c);
    assert_true(z->requires_grad);
    assert_int_equal(nn_graph_node_count(), 1);

    bool was = nn_set_grad_enabled(false);
    assert_true(was);
    nn_tensor *w = nn_mul(x, x);
    assert_false(w->requires_grad);
    assert_int_equal(nn_graph_node_count(), 1);
    EXPECT_NN_ERROR(nn_backward(nn_sum(w)), "nn_backward", "does not depend");
    nn_set_grad_enabled(true);
    nn_tensor_free(x);
    nn_tensor_free(c);
}

static void test_graph_clear_and_growth(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_rand_uniform(-1, 1, NN_SHAPE(64, 64)));
    for (int step = 0; step < 3; step++) {
        nn_tensor *h = x;
        for (int i = 0; i < 200; i++) h = nn_tanh(h); /* 200 * 32 KiB: several chunks */
        nn_backward(nn_sum(h));
        assert_int_equal(nn_graph_node_count(), 201);
        assert_true(nn_graph_bytes_used() > 200u * 64 * 64 * 4 * 2);
        nn_graph_clear();
        assert_int_equal(nn_graph_node_count(), 0);
        assert_int_equal(nn_graph_bytes_used(), 0);
    }
    /* a tensor larger than a chunk gets a chunk of its own */
    nn_tensor *big = nn_rand_uniform(0, 1, NN_SHAPE(1024, 1024)); /* 4 MiB */
    nn_tensor *copied = nn_copy(big);
    assert_float_equal(copied->data[1024 * 1024 - 1], big->data[1024 * 1024 - 1], 0);
    assert_true(nn_graph_bytes_used() >= 4u << 20);
    nn_tensor_free(big);
    nn_tensor_free(x);
}

static void test_dropout_modes(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(nn_ones(NN_SHAPE(100, 100)));
    nn_tensor *y = nn_dropout(x, 0.3f);
    int zeros = 0;
    for (size_t i = 0; i < y->size; i++) {
        if (y->data[i] == 0.0f) zeros++;
        else assert_float_equal(y->data[i], 1.0f / 0.7f, 1e-6);
    }
    assert_true(zeros > 2700 && zeros < 3300);
    nn_backward(nn_sum(y)); /* the gradient is the mask itself */
    for (size_t i = 0; i < y->size; i++) assert_float_equal(x->grad[i], y->data[i], 0);

    nn_set_training(false);
    assert_ptr_equal(nn_dropout(x, 0.3f), x); /* eval mode: identity */
    nn_set_training(true);
    EXPECT_NN_ERROR(nn_dropout(x, 1.0f), "nn_dropout", "out of range");
    nn_tensor_free(x);
}

/* ---- the model's parameter block ------------------------------------------------------------ */

static void test_model_block(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *l1 = nn_linear_layer_new(m, "fc1", 30, 40, NN_INIT_HE);
    float first = l1->W->data[5];
    nn_linear_layer *l2 = nn_linear_layer_new(m, "fc2", 40, 10, NN_INIT_XAVIER); /* the block may move */
    assert_float_equal(l1->W->data[5], first, 0);
    assert_int_equal(m->count, 30 * 40 + 40 + 40 * 10 + 10);
    assert_ptr_equal(l1->W->data, m->data); /* parameters lie back to back */
    assert_ptr_equal(l1->b->data, m->data + 1200);
    assert_ptr_equal(l2->W->grad, m->grad + 1240);
    assert_ptr_equal(nn_model_find(m, "fc2.b"), l2->b);
    assert_null(nn_model_find(m, "fc3.W"));
    assert_float_equal(l1->b->data[0], 0.0f, 0);

    /* He init: std sqrt(2/30) within a few percent over 1200 samples */
    double s2 = 0;
    for (size_t i = 0; i < l1->W->size; i++) s2 += l1->W->data[i] * l1->W->data[i];
    assert_true(fabs(sqrt(s2 / 1200) - sqrt(2.0 / 30)) < 0.03);
    /* Xavier: uniform within +-sqrt(6/50) */
    float a = sqrtf(6.0f / 50);
    for (size_t i = 0; i < l2->W->size; i++) assert_true(fabsf(l2->W->data[i]) <= a);

    EXPECT_NN_ERROR(nn_linear_layer_new(m, "fc1", 2, 2, NN_INIT_HE), "already exists");
    FILE *f = tmpfile();
    nn_model_summary(m, f);
    char *text = stream_text(f);
    fclose(f);
    assert_true(strlen(text) > 0);
    assert_non_null(strstr(text, "fc1.W"));
    assert_non_null(strstr(text, "1650"));
    free(text);
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_forward_values),        NN_TEST(test_activations_values),
        NN_TEST(test_losses_values),         NN_TEST(test_backward_accumulates),
        NN_TEST(test_shared_input_gets_both_paths), NN_TEST(test_no_grad_and_requires_grad),
        NN_TEST(test_graph_clear_and_growth), NN_TEST(test_dropout_modes),
        NN_TEST(test_model_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
