/* tests/test_prune.c — magnitude pruning (nn/net/prune.h): the masks prune exactly round(s * n)
 * of the smallest |w| (per layer or globally, ties by place), biases and other prefixes stay,
 * pruned weights stay exactly 0 through SGD, momentum, Adam and AdamW steps when the mask is
 * put back after each step (and do not with the two shortcuts), and misuse is reported. */
#include "testing.h"

/* A small model: fc1 (4 -> 6) and fc2 (6 -> 3), weights in [-1, 1], biases 0.5. */
typedef struct small_net {
    nn_model *m;
    nn_linear_layer *fc1, *fc2;
} small_net;

static small_net small_net_new(void) {
    small_net n = {.m = nn_model_new()};
    n.fc1 = nn_linear_layer_new(n.m, "fc1", 4, 6, NN_INIT_XAVIER);
    n.fc2 = nn_linear_layer_new(n.m, "fc2", 6, 3, NN_INIT_XAVIER);
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    nn_fill_uniform(n.fc1->W, -1.0f, 1.0f, &rng);
    nn_fill_uniform(n.fc2->W, -1.0f, 1.0f, &rng);
    nn_fill(n.fc1->b, 0.5f);
    nn_fill(n.fc2->b, 0.5f);
    return n;
}

static size_t zeros_in(const nn_tensor *t) {
    size_t z = 0;
    for (size_t i = 0; i < t->size; i++) z += t->data[i] == 0.0f;
    return z;
}

/* Every pruned |w| (mask 0) is <= every kept |w| of the same tensor (per layer). The values
 * before pruning are in `before`. */
static void assert_smallest_pruned(const nn_prune_mask *mask, const nn_tensor *t,
                                   const float *before) {
    const unsigned char *keep = mask->keep + (t->data - mask->model->data);
    float max_pruned = 0.0f, min_kept = INFINITY;
    for (size_t i = 0; i < t->size; i++) {
        float a = fabsf(before[i]);
        if (keep[i]) {
            min_kept = fminf(min_kept, a);
            assert_true(t->data[i] == before[i]);   /* kept weights untouched */
        } else {
            max_pruned = fmaxf(max_pruned, a);
            assert_true(t->data[i] == 0.0f);
        }
    }
    assert_true(max_pruned <= min_kept);
}

static void test_per_layer_counts_and_order(void **state) {
    (void)state;
    const float sparsities[] = {0.0f, 0.25f, 0.5f, 0.75f, 0.9f, 1.0f};
    for (size_t k = 0; k < NN_COUNTOF(sparsities); k++) {
        float s = sparsities[k];
        small_net n = small_net_new();
        float w1[24], w2[18], b1[6];
        memcpy(w1, n.fc1->W->data, sizeof w1);
        memcpy(w2, n.fc2->W->data, sizeof w2);
        memcpy(b1, n.fc1->b->data, sizeof b1);
        nn_prune_mask *mask = nn_prune_magnitude(n.m, NULL, s, NN_PRUNE_LAYER);
        assert_non_null(mask);
        size_t cut1 = (size_t)llround(s * 24.0), cut2 = (size_t)llround(s * 18.0);
        assert_int_equal(mask->total, 24 + 18);
        assert_int_equal(mask->kept, (24 - cut1) + (18 - cut2));
        assert_int_equal(nn_prune_kept(mask, NULL), mask->kept);
        assert_int_equal(nn_prune_kept(mask, n.fc1->W), 24 - cut1);
        assert_int_equal(nn_prune_kept(mask, n.fc2->W), 18 - cut2);
        assert_int_equal(nn_prune_kept(mask, n.fc1->b), 6);   /* not chosen: all kept */
        assert_int_equal(zeros_in(n.fc1->W), cut1);
        assert_int_equal(zeros_in(n.fc2->W), cut2);
        assert_smallest_pruned(mask, n.fc1->W, w1);
        assert_smallest_pruned(mask, n.fc2->W, w2);
        assert_memory_equal(n.fc1->b->data, b1, sizeof b1);  /* biases are never pruned */
        assert_int_equal(zeros_in(n.fc2->b), 0);
        nn_prune_free(mask);
        nn_model_free(n.m);
    }
}

static void test_ties_are_broken_by_place(void **state) {
    (void)state;
    /* 10 weights of equal |w| (signs alternate): the lowest places go first. s = 0.25 cuts
     * round(2.5) = 3 (halves round away from zero). */
    nn_model *m = nn_model_new();
    nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(10), true);
    for (int i = 0; i < 10; i++) w->data[i] = i % 2 ? -0.5f : 0.5f;
    w->data[7] = 0.1f;   /* the one small weight goes first, then places 0, 1 */
    nn_prune_mask *mask = nn_prune_magnitude(m, "w", 0.25f, NN_PRUNE_LAYER);
    assert_int_equal(mask->kept, 7);
    const float want[10] = {0, 0, 0.5f, -0.5f, 0.5f, -0.5f, 0.5f, 0, 0.5f, -0.5f};
    assert_memory_equal(w->data, want, sizeof want);
    nn_prune_free(mask);

    /* Pruning again at a higher sparsity keeps the old zeros (they rank first). */
    mask = nn_prune_magnitude(m, NULL, 0.5f, NN_PRUNE_LAYER);
    assert_int_equal(mask->kept, 5);
    const float want2[10] = {0, 0, 0, 0, 0.5f, -0.5f, 0.5f, 0, 0.5f, -0.5f};
    assert_memory_equal(w->data, want2, sizeof want2);
    nn_prune_free(mask);

    /* All equal, and the same call twice on copies: the same mask. */
    nn_model *a = nn_model_new(), *b = nn_model_new();
    nn_tensor *wa = nn_model_param(a, "w", NN_SHAPE(4, 5), true);
    nn_tensor *wb = nn_model_param(b, "w", NN_SHAPE(4, 5), true);
    nn_fill(wa, 1.0f);
    nn_fill(wb, 1.0f);
    nn_prune_mask *ma = nn_prune_magnitude(a, NULL, 0.6f, NN_PRUNE_GLOBAL);
    nn_prune_mask *mb = nn_prune_magnitude(b, NULL, 0.6f, NN_PRUNE_GLOBAL);
    assert_memory_equal(ma->keep, mb->keep, 20);
    for (int i = 0; i < 20; i++) assert_int_equal(ma->keep[i], i >= 12);
    nn_prune_free(ma);
    nn_prune_free(mb);
    nn_model_free(a);
    nn_model_free(b);
    nn_model_free(m);
}

static void test_global_uses_one_threshold(void **state) {
    (void)state;
    /* "small" holds 8 weights of |w| <= 0.08, "big" 12 of |w| >= 1: at 40% globally (8 of 20)
     * all of small goes and none of big; per layer each loses 40%. */
    nn_model *m = nn_model_new();
    nn_tensor *small = nn_model_param(m, "small", NN_SHAPE(2, 4), true);
    nn_tensor *bias = nn_model_param(m, "bias", NN_SHAPE(3), false);
    nn_tensor *big = nn_model_param(m, "big", NN_SHAPE(3, 4), true);
    for (int i = 0; i < 8; i++) small->data[i] = 0.01f * (i + 1) * (i % 2 ? -1 : 1);
    for (int i = 0; i < 12; i++) big->data[i] = (1.0f + 0.1f * i) * (i % 3 ? 1 : -1);
    nn_fill(bias, 0.001f);   /* smaller than any weight, but biases are not candidates */
    float saved[23];
    memcpy(saved, m->data, sizeof saved);

    nn_prune_mask *mask = nn_prune_magnitude(m, NULL, 0.4f, NN_PRUNE_GLOBAL);
    assert_int_equal(mask->total, 20);
    assert_int_equal(mask->kept, 12);
    assert_int_equal(zeros_in(small), 8);
    assert_int_equal(zeros_in(big), 0);
    assert_int_equal(zeros_in(bias), 0);
    nn_prune_free(mask);

    memcpy(m->data, saved, sizeof saved);
    mask = nn_prune_magnitude(m, NULL, 0.4f, NN_PRUNE_LAYER);
    assert_int_equal(mask->kept, (8 - 3) + (12 - 5));   /* round(3.2) = 3, round(4.8) = 5 */
    assert_int_equal(zeros_in(small), 3);
    assert_int_equal(zeros_in(big), 5);
    assert_smallest_pruned(mask, small, saved);
    assert_smallest_pruned(mask, big, saved + 11);
    nn_prune_free(mask);
    nn_model_free(m);
}

static void test_prefix_picks_the_tensors(void **state) {
    (void)state;
    small_net n = small_net_new();
    float w2[18];
    memcpy(w2, n.fc2->W->data, sizeof w2);
    nn_prune_mask *mask = nn_prune_magnitude(n.m, "fc1", 0.5f, NN_PRUNE_GLOBAL);
    assert_int_equal(mask->total, 24);
    assert_int_equal(mask->kept, 12);
    assert_int_equal(zeros_in(n.fc1->W), 12);
    assert_memory_equal(n.fc2->W->data, w2, sizeof w2);
    assert_false(mask->chosen[1]);   /* fc1.b */
    assert_true(mask->chosen[0]);    /* fc1.W */
    /* nn_prune_apply touches only the chosen tensor */
    nn_fill(n.fc2->W, 3.0f);
    nn_fill(n.fc1->W, 2.0f);
    nn_prune_apply(mask);
    assert_int_equal(zeros_in(n.fc1->W), 12);
    assert_int_equal(zeros_in(n.fc2->W), 0);
    nn_prune_free(mask);
    nn_model_free(n.m);
}

/* ---- pruned weights stay exactly 0 while training ----------------------------------------- */

typedef enum { OPT_SGD, OPT_SGD_MOMENTUM, OPT_ADAM, OPT_ADAMW } opt_kind;

static nn_optim *make_opt(nn_model *m, opt_kind k) {
    switch (k) {
    case OPT_SGD: return nn_sgd_new(m, 0.05f, 0.0f, 0.0f);
    case OPT_SGD_MOMENTUM: return nn_sgd_new(m, 0.05f, 0.9f, 1e-3f);
    case OPT_ADAM: return nn_adam_new(m, 0.01f, 0.0f);
    case OPT_ADAMW: return nn_adamw_new(m, 0.01f, 0.05f);
    }
    return NULL;
}

typedef struct task {
    nn_tensor *x, *y;   /* 16 samples: 4 inputs -> 3 targets */
} task;

static task task_new(void) {
    task t = {nn_zeros(NN_SHAPE(16, 4)), nn_zeros(NN_SHAPE(16, 3))};
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    nn_fill_uniform(t.x, -1.0f, 1.0f, &rng);
    nn_fill_uniform(t.y, -1.0f, 1.0f, &rng);
    return t;
}

static float train_step(small_net *n, const task *t, nn_optim *opt) {
    nn_tensor *h = nn_tanh(nn_linear_layer_forward(n->fc1, t->x));
    nn_tensor *loss = nn_mse_loss(nn_linear_layer_forward(n->fc2, h), t->y);
    float v = nn_item(loss);
    nn_model_zero_grad(n->m);
    nn_backward(loss);
    nn_optim_step(opt);
    nn_graph_clear();
    return v;
}

/* Pruned weights (mask 0) of the chosen tensors that are not exactly 0. */
static size_t pruned_nonzero(const nn_prune_mask *mask) {
    size_t bad = 0;
    for (size_t i = 0; i < mask->count; i++) bad += !mask->keep[i] && mask->model->data[i] != 0.0f;
    return bad;
}

static void check_mask_holds(opt_kind kind) {
    small_net n = small_net_new();
    task t = task_new();
    nn_optim *opt = make_opt(n.m, kind);
    for (int s = 0; s < 20; s++) train_step(&n, &t, opt);   /* a trained net: warm moments */
    nn_prune_mask *mask = nn_prune_magnitude(n.m, NULL, 0.75f, NN_PRUNE_LAYER);
    float kept_before[24];
    memcpy(kept_before, n.fc1->W->data, sizeof kept_before);
    float first = 0.0f, last = 0.0f;
    for (int s = 0; s < 50; s++) {
        last = train_step(&n, &t, opt);
        if (s == 0) first = last;
        nn_prune_apply(mask);
        assert_int_equal(pruned_nonzero(mask), 0);   /* exactly 0 after every step */
        /* the pruned gradients were not zero: the loss does depend on those weights */
        if (s == 0) {
            bool any = false;
            for (size_t i = 0; i < mask->count; i++) any |= !mask->keep[i] && n.m->grad[i] != 0.0f;
            assert_true(any);
        }
    }
    assert_true(last < first);                        /* it trained */
    assert_memory_not_equal(n.fc1->W->data, kept_before, sizeof kept_before);
    assert_int_equal(zeros_in(n.fc1->W), 18);
    assert_int_equal(zeros_in(n.fc2->W), llround(0.75 * 18));
    nn_prune_free(mask);
    nn_optim_free(opt);
    nn_tensor_free(t.x);
    nn_tensor_free(t.y);
    nn_model_free(n.m);
}

static void test_mask_holds_through_sgd(void **state) {
    (void)state;
    check_mask_holds(OPT_SGD);
}
static void test_mask_holds_through_sgd_momentum(void **state) {
    (void)state;
    check_mask_holds(OPT_SGD_MOMENTUM);
}
static void test_mask_holds_through_adam(void **state) {
    (void)state;
    check_mask_holds(OPT_ADAM);
}
static void test_mask_holds_through_adamw(void **state) {
    (void)state;
    check_mask_holds(OPT_ADAMW);
}

/* The two shortcuts the header warns about, shown failing. */
static void test_shortcuts_let_pruned_weights_move(void **state) {
    (void)state;
    /* 1. Pruned once, never put back: the next step moves them. */
    small_net n = small_net_new();
    task t = task_new();
    nn_optim *opt = make_opt(n.m, OPT_SGD);
    nn_prune_mask *mask = nn_prune_magnitude(n.m, NULL, 0.5f, NN_PRUNE_LAYER);
    train_step(&n, &t, opt);
    assert_true(pruned_nonzero(mask) > 0);
    nn_prune_free(mask);
    nn_optim_free(opt);
    nn_model_free(n.m);

    /* 2. Adam that trained before pruning, with the pruned GRADIENTS zeroed before each step
     * (no weights put back): the moments m, v still hold the old gradients and move them. */
    n = small_net_new();
    opt = make_opt(n.m, OPT_ADAM);
    for (int s = 0; s < 20; s++) train_step(&n, &t, opt);
    mask = nn_prune_magnitude(n.m, NULL, 0.5f, NN_PRUNE_LAYER);
    for (int s = 0; s < 3; s++) {
        nn_tensor *h = nn_tanh(nn_linear_layer_forward(n.fc1, t.x));
        nn_tensor *loss = nn_mse_loss(nn_linear_layer_forward(n.fc2, h), t.y);
        nn_model_zero_grad(n.m);
        nn_backward(loss);
        for (size_t i = 0; i < mask->count; i++)
            if (!mask->keep[i]) n.m->grad[i] = 0.0f;   /* the gradient masked, not the weight */
        nn_optim_step(opt);
        nn_graph_clear();
    }
    assert_true(pruned_nonzero(mask) > 0);
    nn_prune_apply(mask);                            /* the fix: put the zeros back */
    assert_int_equal(pruned_nonzero(mask), 0);
    nn_prune_free(mask);
    nn_optim_free(opt);
    nn_tensor_free(t.x);
    nn_tensor_free(t.y);
    nn_model_free(n.m);
}

static void test_apply_writes_exact_zeros(void **state) {
    (void)state;
    small_net n = small_net_new();
    nn_prune_mask *mask = nn_prune_magnitude(n.m, "fc2", 0.5f, NN_PRUNE_LAYER);
    nn_fill(n.fc2->W, INFINITY);   /* w * 0 would be NaN here; a select gives 0 */
    nn_prune_apply(mask);
    assert_int_equal(zeros_in(n.fc2->W), 9);
    for (size_t i = 0; i < n.fc2->W->size; i++)
        if (n.fc2->W->data[i] == 0.0f) assert_false(signbit(n.fc2->W->data[i]));
    nn_prune_free(mask);
    nn_prune_free(NULL);   /* fine */
    nn_model_free(n.m);
}

static void test_prune_errors(void **state) {
    (void)state;
    small_net n = small_net_new();
    EXPECT_NN_ERROR(nn_prune_magnitude(NULL, NULL, 0.5f, NN_PRUNE_LAYER), "NULL");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, NULL, -0.1f, NN_PRUNE_LAYER), "sparsity -0.1",
                    "[0, 1]");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, NULL, 1.5f, NN_PRUNE_LAYER), "sparsity 1.5");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, NULL, NAN, NN_PRUNE_GLOBAL), "sparsity nan");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, NULL, 0.5f, (nn_prune_scope)7), "scope 7");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, "conv", 0.5f, NN_PRUNE_LAYER), "'conv'",
                    "biases are not");
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, "fc1.b", 0.5f, NN_PRUNE_LAYER), "'fc1.b'");
    n.fc2->W->data[4] = NAN;
    EXPECT_NN_ERROR(nn_prune_magnitude(n.m, NULL, 0.5f, NN_PRUNE_LAYER), "'fc2.W'", "nan",
                    "[1, 1]");
    assert_int_equal(zeros_in(n.fc1->W), 0);   /* nothing was pruned */
    n.fc2->W->data[4] = 0.25f;

    nn_prune_mask *mask = nn_prune_magnitude(n.m, NULL, 0.5f, NN_PRUNE_LAYER);
    EXPECT_NN_ERROR(nn_prune_apply(NULL), "NULL");
    EXPECT_NN_ERROR(nn_prune_kept(NULL, NULL), "NULL");
    nn_tensor *stranger = nn_zeros(NN_SHAPE(3));
    stranger->name = "stranger";
    EXPECT_NN_ERROR(nn_prune_kept(mask, stranger), "'stranger'", "not a parameter");
    nn_tensor_free(stranger);
    nn_linear_layer_new(n.m, "fc3", 3, 2, NN_INIT_XAVIER);   /* the model grows */
    EXPECT_NN_ERROR(nn_prune_apply(mask), "now but had", "after the whole model");
    EXPECT_NN_ERROR(nn_prune_apply(mask), "test_prune.c:");   /* the caller's line */
    nn_prune_free(mask);
    nn_model_free(n.m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_per_layer_counts_and_order),
        NN_TEST(test_ties_are_broken_by_place),
        NN_TEST(test_global_uses_one_threshold),
        NN_TEST(test_prefix_picks_the_tensors),
        NN_TEST(test_mask_holds_through_sgd),
        NN_TEST(test_mask_holds_through_sgd_momentum),
        NN_TEST(test_mask_holds_through_adam),
        NN_TEST(test_mask_holds_through_adamw),
        NN_TEST(test_shortcuts_let_pruned_weights_move),
        NN_TEST(test_apply_writes_exact_zeros),
        NN_TEST(test_prune_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
