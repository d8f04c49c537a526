/* tests/test_lora.c — LoRA, bottleneck adapters and QLoRA's 4-bit base (nn/net/lora.h): the
 * adapted model starts as the base, a LoRA equals its merged weight, the frozen base stays
 * bit-identical while the adapters train, gradient checks, the adapters' own checkpoint,
 * the parameter counts and the misuse errors. */
#include "scratch_dir.h"

enum { V = 11, CTX = 8, DIM = 8, HEADS = 2, LAYERS = 2, FFN = 32, B = 2, T = 6 };

static nn_gpt *small_gpt(void) {
    nn_seed(7);
    nn_gpt_config cfg = {.vocab = V, .context = CTX, .dim = DIM, .heads = HEADS,
                         .layers = LAYERS, .ffn = FFN};
    nn_gpt *g = nn_gpt_new(&cfg);
    assert_non_null(g);
    return g;
}

static const int ids[B * T] = {1, 4, 2, 9, 3, 3, 0, 10, 5, 7, 6, 8};

/* The logits (B, T, V) of ids, without gradients, copied out (the caller frees them). */
static float *logits_of(nn_gpt *g) {
    bool grad = nn_set_grad_enabled(false);
    nn_tensor *y = nn_gpt_forward(g, ids, B, T);
    float *out = malloc(sizeof(float) * y->size);
    memcpy(out, y->data, sizeof(float) * y->size);
    nn_graph_clear();
    nn_set_grad_enabled(grad);
    return out;
}

static float max_abs_diff(const float *a, const float *b, size_t n) {
    float d = 0.0f;
    for (size_t i = 0; i < n; i++) d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

/* Give every LoRA's B and every adapter's up-projection nonzero values (as after training). */
static void perturb_adapters(nn_gpt *g, float std) {
    nn_gpt_adapters *a = g->adapters;
    for (int i = 0; i < a->n_lora; i++) nn_fill_normal(a->lora[i].B, 0.0f, std, NULL);
    for (int l = 0; a->adapter && l < LAYERS; l++) {
        nn_fill_normal(a->adapter[l].up.W, 0.0f, std, NULL);
        nn_fill_normal(a->adapter[l].up.b, 0.0f, std, NULL);
    }
}

/* ---- the adapted model starts as the base ---------------------------------------------- */

static void test_lora_starts_as_the_base(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *lin = nn_linear_layer_new(m, "fc", 5, 4, NN_INIT_XAVIER);
    nn_fill_normal(lin->b, 0.0f, 0.5f, NULL);
    nn_lora *l = nn_lora_new(m, "fc.lora", lin, 0, 4, 2, 0.0f);
    assert_non_null(l);
    assert_float_equal(l->scale, 1.0f, 0.0f);   /* alpha 0 = r */
    for (size_t i = 0; i < l->B->size; i++) assert_true(l->B->data[i] == 0.0f);
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(3, 5));
    nn_tensor *plain = nn_linear_layer_forward(lin, x);
    nn_tensor *adapted = nn_lora_linear_forward(lin, l, x);
    for (size_t i = 0; i < plain->size; i++) assert_true(plain->data[i] == adapted->data[i]);
    /* no LoRA: the plain layer */
    nn_tensor *none = nn_lora_linear_forward(lin, NULL, x);
    for (size_t i = 0; i < plain->size; i++) assert_true(plain->data[i] == none->data[i]);
    nn_tensor_free(x);
    nn_model_free(m);
}

static void test_gpt_with_adapters_starts_as_the_base(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    float *base = logits_of(g);
    nn_gpt_lora_config cfg = {.targets = NN_LORA_ALL, .rank = 2, .alpha = 4, .bottleneck = 4};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    float *adapted = logits_of(g);
    for (size_t i = 0; i < (size_t)B * T * V; i++) assert_true(base[i] == adapted[i]);
    /* every base parameter frozen, every adapter one trainable */
    for (int p = 0; p < g->model->nparams; p++)
        assert_int_equal(g->model->params[p]->requires_grad, p >= g->adapters->first_param);
    free(base), free(adapted);
    nn_gpt_free(g);
}

/* ---- a LoRA equals its merged weight ---------------------------------------------------- */

static void test_lora_forward_equals_merged_weight(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *lin = nn_linear_layer_new(m, "fc", 6, 9, NN_INIT_XAVIER);
    nn_lora *all = nn_lora_new(m, "all", lin, 0, 9, 3, 6.0f);   /* scale 2 */
    nn_lora *mid = nn_lora_new(m, "mid", lin, 3, 3, 2, 0.0f);   /* columns 3 .. 5 only */
    nn_fill_normal(all->B, 0.0f, 0.5f, NULL);
    nn_fill_normal(mid->B, 0.0f, 0.5f, NULL);
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(2, 4, 6));   /* (B, T, in) rows too */
    /* unmerged: x W + b + 2 (x A) B on all columns, + (x A') B' on columns 3 .. 5 */
    nn_tensor *y = nn_lora_linear_forward(lin, all, x);              /* (2, 4, 9) */
    nn_tensor *parts[3];
    nn_split(y, 2, 3, (int[]){3, 3, 3}, parts);
    parts[1] = nn_lora_forward(mid, x, parts[1]);
    nn_tensor *unmerged = nn_concat(2, 3, parts);
    assert_int_equal(nn_lora_merge(all), 0);
    assert_int_equal(nn_lora_merge(mid), 0);
    for (size_t i = 0; i < all->B->size; i++) assert_true(all->B->data[i] == 0.0f);
    nn_tensor *merged = nn_linear_layer_forward(lin, x);
    assert_true(max_abs_diff(unmerged->data, merged->data, merged->size) < 1e-5f);
    /* the merged LoRA adds nothing more */
    nn_tensor *again = nn_lora_linear_forward(lin, all, x);
    for (size_t i = 0; i < merged->size; i++) assert_true(again->data[i] == merged->data[i]);
    nn_tensor_free(x);
    nn_model_free(m);
}

static void test_gpt_merge_gives_the_same_logits(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    size_t base_count = g->model->count;
    int base_params = g->model->nparams;
    nn_gpt_lora_config cfg = {.targets = NN_LORA_ALL, .rank = 3, .alpha = 6};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    perturb_adapters(g, 0.3f);
    float *adapted = logits_of(g);
    assert_int_equal(nn_gpt_lora_merge(g), 0);
    assert_null(g->adapters);
    assert_int_equal(g->model->count, base_count);
    assert_int_equal(g->model->nparams, base_params);
    assert_int_equal(nn_model_trainable_count(g->model), base_count);   /* unfrozen again */
    float *merged = logits_of(g);
    float d = max_abs_diff(adapted, merged, (size_t)B * T * V);
    assert_true(d < 1e-5f);
    free(adapted), free(merged);
    nn_gpt_free(g);
}

/* The cached forward and generation go through the same adapted projections. */
static void test_cached_forward_and_generate_use_the_adapters(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    float *base = logits_of(g);
    nn_gpt_lora_config cfg = {.targets = NN_LORA_QV | NN_LORA_PROJ, .rank = 2, .bottleneck = 3};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    perturb_adapters(g, 0.5f);
    float *adapted = logits_of(g);
    assert_true(max_abs_diff(base, adapted, (size_t)B * T * V) > 1e-3f);   /* they do act */
    nn_set_grad_enabled(false);
    nn_gpt_cache *c = nn_gpt_cache_new(g, B);
    int first[B * 2], rest[B * (T - 2)];
    for (int b = 0; b < B; b++) {
        memcpy(first + b * 2, ids + b * T, sizeof(int) * 2);
        memcpy(rest + b * (T - 2), ids + b * T + 2, sizeof(int) * (T - 2));
    }
    nn_tensor *y1 = nn_gpt_forward_cached(g, c, first, B, 2);       /* (B, 2, V) */
    nn_tensor *y2 = nn_gpt_forward_cached(g, c, rest, B, T - 2);    /* (B, T-2, V) */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *got = t < 2 ? y1->data + ((size_t)b * 2 + t) * V
                                     : y2->data + ((size_t)b * (T - 2) + t - 2) * V;
            assert_floats_near(got, adapted + ((size_t)b * T + t) * V, V, 1e-5f);
        }
    nn_graph_clear();
    nn_gpt_cache_free(c);
    /* greedy text: the same with the cache and without it */
    int cached[6], plain[6];
    assert_int_equal(nn_gpt_generate(g, ids, 3, 6, (nn_sampling){0}, NULL, -1, cached), 6);
    g->recompute = true;
    assert_int_equal(nn_gpt_generate(g, ids, 3, 6, (nn_sampling){0}, NULL, -1, plain), 6);
    assert_memory_equal(cached, plain, sizeof cached);
    free(base), free(adapted);
    nn_gpt_free(g);
}

/* ---- the frozen base stays bit-identical ------------------------------------------------ */

static void test_base_bit_identical_while_adapters_train(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    nn_gpt_lora_config cfg = {.targets = NN_LORA_QV, .rank = 2, .alpha = 4, .bottleneck = 4};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    nn_model *m = g->model;
    size_t base = g->adapters->base_count;
    float *before = malloc(sizeof(float) * base);
    memcpy(before, m->data, sizeof(float) * base);
    nn_optim *opt = nn_adamw_new(m, 0.01f, 0.1f);   /* weight decay would move any weight */
    int targets[B * T];
    for (int i = 0; i < B * T; i++) targets[i] = (ids[i] + 3) % V;
    float first = 0, last = 0;
    for (int step = 0; step < 8; step++) {
        nn_tensor *loss = nn_cross_entropy_loss(nn_gpt_forward(g, ids, B, T), targets);
        last = nn_item(loss);
        if (step == 0) first = last;
        nn_model_zero_grad(m);
        nn_backward(loss);
        for (size_t i = 0; i < base; i++) assert_true(m->grad[i] == 0.0f);   /* no gradient */
        nn_clip_grad_norm(m, 1.0f);
        nn_optim_step(opt);
        nn_graph_clear();
    }
    assert_memory_equal(before, m->data, sizeof(float) * base);
    assert_true(last < first);   /* the adapters did learn */
    bool moved = false;
    for (size_t i = 0; i < g->adapters->lora[0].B->size; i++)
        moved |= g->adapters->lora[0].B->data[i] != 0.0f;
    assert_true(moved);
    nn_optim_free(opt);
    free(before);
    nn_gpt_free(g);
}

/* ---- parameter counts ------------------------------------------------------------------- */

static void test_trainable_counts(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    size_t base = g->model->count;
    const int C = DIM, F = FFN, r = 2, mb = 4;
    nn_gpt_lora_config qv = {.targets = NN_LORA_QV, .rank = r};
    assert_int_equal(nn_gpt_lora_attach(g, &qv), 0);
    size_t want = (size_t)LAYERS * 2 * r * (C + C);          /* A (C, r) and B (r, C), twice */
    assert_int_equal(nn_gpt_lora_count(g), want);
    assert_int_equal(nn_model_trainable_count(g->model), want);
    assert_int_equal(g->adapters->base_count, base);
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    assert_int_equal(g->model->count, base);
    assert_int_equal(nn_gpt_lora_count(g), 0);
    nn_gpt_lora_config all = {.targets = NN_LORA_ALL, .rank = r, .bottleneck = mb};
    assert_int_equal(nn_gpt_lora_attach(g, &all), 0);
    want = (size_t)LAYERS * (4 * r * (C + C) + r * (C + F) + r * (F + C) +   /* the LoRAs */
                             C * mb + mb + mb * C + C);                      /* the adapter */
    assert_int_equal(nn_gpt_lora_count(g), want);
    assert_int_equal(nn_model_trainable_count(g->model), want);
    assert_non_null(nn_model_find(g->model, "lora.block1.proj.B"));
    assert_non_null(nn_model_find(g->model, "adapter.block0.up.W"));
    nn_gpt_free(g);   /* with adapters attached: no leak (the sanitizer build checks) */
}

/* ---- gradient checks -------------------------------------------------------------------- */

typedef struct lora_case {
    nn_linear_layer *lin;
    nn_lora *lora;
    nn_tensor *w;      /* weights of the loss: sum(w * y) + 0.5 sum(y^2) */
    bool range;        /* adapt columns 2 .. 4 only, through nn_lora_forward */
} lora_case;

static nn_tensor *lora_loss(nn_tensor **in, void *user) {
    lora_case *c = user;
    nn_tensor *x = in[2], *y;
    if (c->range) {
        nn_tensor *parts[3];
        nn_split(nn_linear_layer_forward(c->lin, x), 1, 3, (int[]){2, 3, 2}, parts);
        parts[1] = nn_lora_forward(c->lora, x, parts[1]);
        y = nn_concat(1, 3, parts);
    } else {
        y = nn_lora_linear_forward(c->lin, c->lora, x);
    }
    return nn_add(nn_sum(nn_mul(y, c->w)), nn_mul_scalar(nn_sum(nn_square(y)), 0.5f));
}

static void check_lora_gradients(bool range) {
    nn_model *m = nn_model_new();
    nn_linear_layer *lin = nn_linear_layer_new(m, "fc", 4, 7, NN_INIT_XAVIER);
    nn_lora *l = range ? nn_lora_new(m, "r", lin, 2, 3, 2, 3.0f)     /* columns 2 .. 4 */
                       : nn_lora_new(m, "a", lin, 0, 7, 2, 3.0f);
    nn_fill_normal(l->B, 0.0f, 0.5f, NULL);   /* B = 0 would leave A's gradient zero */
    nn_tensor *x = nn_requires_grad(nn_rand_normal(0.0f, 1.0f, NN_SHAPE(3, 4)));
    lora_case c = {lin, l, nn_rand_normal(0.0f, 1.0f, NN_SHAPE(3, 7)), range};
    nn_tensor *in[3] = {l->A, l->B, x};
    nn_gradcheck_result r = nn_gradcheck(lora_loss, in, 3, &c, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("input %d element %zu: analytic %g, numeric %g", r.worst_input, r.worst_index,
                 r.analytic, r.numeric);
    assert_true(r.checked == l->A->size + l->B->size + x->size);
    nn_tensor_free(x);
    nn_tensor_free(c.w);
    nn_model_free(m);
}

static void test_lora_gradcheck(void **state) {
    (void)state;
    check_lora_gradients(false);
}

static void test_lora_on_a_column_range_gradcheck(void **state) {
    (void)state;
    check_lora_gradients(true);
}

typedef struct adapter_case {
    nn_adapter *a;
    nn_tensor *w;
} adapter_case;

static nn_tensor *adapter_loss(nn_tensor **in, void *user) {
    adapter_case *c = user;
    nn_tensor *y = nn_adapter_forward(c->a, in[4]);
    return nn_add(nn_sum(nn_mul(y, c->w)), nn_mul_scalar(nn_sum(nn_square(y)), 0.5f));
}

static void test_adapter_starts_as_identity_and_gradcheck(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_adapter *a = nn_adapter_new(m, "ad", 6, 3);
    assert_non_null(a);
    nn_tensor *h = nn_requires_grad(nn_rand_normal(0.0f, 1.0f, NN_SHAPE(2, 3, 6)));
    nn_tensor *y = nn_adapter_forward(a, h);
    for (size_t i = 0; i < h->size; i++) assert_true(y->data[i] == h->data[i]);
    nn_graph_clear();
    nn_fill_normal(a->up.W, 0.0f, 0.5f, NULL);   /* as after training, so every path counts */
    nn_fill_normal(a->up.b, 0.0f, 0.5f, NULL);
    nn_fill_normal(a->down.b, 0.0f, 0.5f, NULL);
    adapter_case c = {a, nn_rand_normal(0.0f, 1.0f, NN_SHAPE(2, 3, 6))};
    nn_tensor *in[5] = {a->down.W, a->down.b, a->up.W, a->up.b, h};
    nn_gradcheck_result r = nn_gradcheck(adapter_loss, in, 5, &c, 1e-2, 1e-2);
    if (!r.ok)
        fail_msg("input %d element %zu: analytic %g, numeric %g", r.worst_input, r.worst_index,
                 r.analytic, r.numeric);
    nn_tensor_free(h);
    nn_tensor_free(c.w);
    nn_model_free(m);
}

/* ---- the adapters' checkpoint ------------------------------------------------------------ */

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static void test_adapter_checkpoint_round_trip(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    nn_gpt_lora_config cfg = {.targets = NN_LORA_QV, .rank = 2, .alpha = 4, .bottleneck = 3};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    perturb_adapters(g, 0.3f);
    float *trained = logits_of(g);
    const char *path = in_dir("poems.lora");
    assert_int_equal(nn_gpt_lora_save(g, path), 0);
    /* small: the adapters' numbers (and alpha), not the base's */
    long bytes = file_size(path);
    assert_true(bytes < (long)(4 * nn_gpt_lora_count(g) + 600));
    assert_true(bytes < (long)(4 * g->adapters->base_count) / 4);

    /* fresh adapters (B = 0), then the file: the trained logits exactly */
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    assert_int_equal(nn_gpt_lora_load(g, path), 0);
    float *loaded = logits_of(g);
    assert_memory_equal(trained, loaded, sizeof(float) * B * T * V);

    /* a corrupt file is refused and changes nothing */
    FILE *f = fopen(path, "r+b");
    fseek(f, 40, SEEK_SET);
    int c0 = fgetc(f);
    fseek(f, 40, SEEK_SET);
    fputc(c0 ^ 0xff, f);
    fclose(f);
    assert_int_equal(nn_gpt_lora_load(g, path), -1);
    EXPECT_LAST_ERROR("poems.lora");
    float *after = logits_of(g);
    assert_memory_equal(trained, after, sizeof(float) * B * T * V);
    free(loaded), free(after);

    /* adapters of another config do not fit a (good) file */
    assert_int_equal(nn_gpt_lora_save(g, path), 0);
    nn_gpt_lora_config other = cfg;
    other.rank = 3;
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    assert_int_equal(nn_gpt_lora_attach(g, &other), 0);
    assert_int_equal(nn_gpt_lora_load(g, path), -1);
    EXPECT_LAST_ERROR("does not fit", "lora.block0.q.A");
    other = cfg, other.targets = NN_LORA_Q;
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    assert_int_equal(nn_gpt_lora_attach(g, &other), 0);
    assert_int_equal(nn_gpt_lora_load(g, path), -1);
    EXPECT_LAST_ERROR("does not fit");
    other = cfg, other.alpha = 8;
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    assert_int_equal(nn_gpt_lora_attach(g, &other), 0);
    assert_int_equal(nn_gpt_lora_load(g, path), -1);
    EXPECT_LAST_ERROR("alpha 4", "alpha 8");
    for (size_t i = 0; i < g->adapters->lora[0].B->size; i++)   /* untouched: still zero */
        assert_true(g->adapters->lora[0].B->data[i] == 0.0f);
    free(trained);
    nn_gpt_free(g);
}

/* ---- QLoRA's 4-bit base ----------------------------------------------------------------- */

static void test_quantized_base(void **state) {
    (void)state;
    nn_gpt *g = small_gpt();
    size_t count = g->model->count;
    float *orig = malloc(sizeof(float) * count);
    memcpy(orig, g->model->data, sizeof(float) * count);
    double bytes = nn_gpt_quantize_base(g, 4);
    assert_true(bytes > 0 && bytes < 0.5 * 4.0 * (double)count);   /* well under float32 */
    bool changed = false;
    for (size_t i = 0; i < count; i++) changed |= orig[i] != g->model->data[i];
    assert_true(changed);
    /* LayerNorms stay float32 */
    nn_tensor *gamma = nn_model_find(g->model, "ln_f.gamma");
    for (size_t i = 0; i < gamma->size; i++) assert_true(gamma->data[i] == 1.0f);
    /* the round trip of the round trip is the same numbers (the same max, so the same scale,
     * up to the rounding of max / 7 * 7) */
    float *once = malloc(sizeof(float) * count);
    memcpy(once, g->model->data, sizeof(float) * count);
    assert_true(nn_gpt_quantize_base(g, 4) == bytes);
    assert_floats_near(g->model->data, once, count, 1e-6f);
    /* QLoRA: LoRA over it starts as the quantized base, and quantizing again leaves the
     * adapters alone */
    float *q = logits_of(g);
    nn_gpt_lora_config cfg = {.targets = NN_LORA_QV, .rank = 2};
    assert_int_equal(nn_gpt_lora_attach(g, &cfg), 0);
    perturb_adapters(g, 0.3f);
    float *b0 = malloc(sizeof(float) * g->adapters->lora[0].B->size);
    memcpy(b0, g->adapters->lora[0].B->data, sizeof(float) * g->adapters->lora[0].B->size);
    assert_true(nn_gpt_quantize_base(g, 4) == bytes);
    assert_memory_equal(b0, g->adapters->lora[0].B->data,
                        sizeof(float) * g->adapters->lora[0].B->size);
    assert_int_equal(nn_gpt_lora_remove(g), 0);
    float *q2 = logits_of(g);
    assert_floats_near(q2, q, (size_t)B * T * V, 1e-5f);
    EXPECT_NN_ERROR(nn_gpt_quantize_base(g, 0), "nn_gpt_quantize_base", "group = 0");
    free(orig), free(once), free(q), free(q2), free(b0);
    nn_gpt_free(g);
}

/* ---- misuse ------------------------------------------------------------------------------ */

static void test_misuse(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    nn_linear_layer *lin = nn_linear_layer_new(m, "fc", 4, 6, NN_INIT_XAVIER);
    EXPECT_NN_ERROR(nn_lora_new(m, "a", lin, 0, 6, 0, 1.0f), "nn_lora_new", "rank 0");
    EXPECT_NN_ERROR(nn_lora_new(m, "a", lin, 0, 6, 5, 1.0f), "rank 5", "(4, 6)", "min(in, out)");
    EXPECT_NN_ERROR(nn_lora_new(m, "a", lin, 4, 3, 1, 1.0f), "col = 4, cols = 3", "6 outputs");
    EXPECT_NN_ERROR(nn_lora_new(m, "a", lin, 0, 6, 2, -1.0f), "alpha = -1");
    EXPECT_NN_ERROR(nn_lora_new(m, "a", lin, 0, 6, 2, NAN), "alpha = nan");
    EXPECT_NN_ERROR(nn_adapter_new(m, "ad", 4, 5), "nn_adapter_new", "bottleneck = 5");
    nn_lora *part = nn_lora_new(m, "part", lin, 2, 3, 1, 1.0f);
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 4)), *wrong = nn_zeros(NN_SHAPE(2, 5));
    EXPECT_NN_ERROR(nn_lora_linear_forward(lin, part, x), "nn_lora_linear_forward",
                    "columns 2 .. 4");
    EXPECT_NN_ERROR(nn_lora_forward(part, wrong, nn_linear_layer_forward(lin, x)),
                    "nn_lora_forward", "x (2, 5)", "in = 4, out = 3");
    nn_tensor_free(x), nn_tensor_free(wrong);
    nn_model_free(m);

    nn_gpt *g = small_gpt();
    nn_gpt_lora_config none = {0}, bad_bits = {.targets = 64, .rank = 1},
                       too_big = {.targets = NN_LORA_QV, .rank = DIM + 1},
                       wide = {.bottleneck = DIM + 1}, ok = {.targets = NN_LORA_V, .rank = 1},
                       adapter = {.bottleneck = 2};
    EXPECT_NN_ERROR(nn_gpt_lora_attach(g, &none), "nn_gpt_lora_attach", "targets = 0x0");
    EXPECT_NN_ERROR(nn_gpt_lora_attach(g, &bad_bits), "targets = 0x40");
    EXPECT_NN_ERROR(nn_gpt_lora_attach(g, &too_big), "rank 9");
    EXPECT_NN_ERROR(nn_gpt_lora_attach(g, &wide), "bottleneck = 9");
    assert_null(g->adapters);   /* refused configs add nothing */
    assert_int_equal(nn_model_trainable_count(g->model), g->model->count);
    EXPECT_NN_ERROR(nn_gpt_lora_merge(g), "nn_gpt_lora_merge", "nothing is attached");
    EXPECT_NN_ERROR(nn_gpt_lora_save(g, "/tmp/never.lora"), "nn_gpt_lora_save", "has none");
    EXPECT_NN_ERROR(nn_gpt_lora_load(g, "/tmp/never.lora"), "nn_gpt_lora_load", "has none");
    assert_int_equal(nn_gpt_lora_remove(g), 0);   /* nothing to remove: fine */
    assert_int_equal(nn_gpt_lora_attach(g, &ok), 0);
    EXPECT_NN_ERROR(nn_gpt_lora_attach(g, &ok), "attached already");
    /* the base's folder format has no place for adapters: saving one is refused */
    EXPECT_NN_ERROR(nn_gpt_save(g, NULL, "/tmp/never_gpt"), "nn_gpt_save", "attached",
                    "nn_gpt_lora_merge");
    /* a parameter added after the attach: the adapters are no longer the last ones */
    nn_tensor *extra = nn_model_param(g->model, "extra", 1, (int[]){2}, false);
    assert_non_null(extra);
    EXPECT_NN_ERROR(nn_gpt_lora_remove(g), "nn_gpt_lora_remove", "after nn_gpt_lora_attach");
    nn_gpt_free(g);

    g = small_gpt();
    assert_int_equal(nn_gpt_lora_attach(g, &adapter), 0);
    EXPECT_NN_ERROR(nn_gpt_lora_merge(g), "not linear", "only adapters are attached");
    nn_gpt_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_lora_starts_as_the_base),
        NN_TEST(test_gpt_with_adapters_starts_as_the_base),
        NN_TEST(test_lora_forward_equals_merged_weight),
        NN_TEST(test_gpt_merge_gives_the_same_logits),
        NN_TEST(test_cached_forward_and_generate_use_the_adapters),
        NN_TEST(test_base_bit_identical_while_adapters_train),
        NN_TEST(test_trainable_counts),
        NN_TEST(test_lora_gradcheck),
        NN_TEST(test_lora_on_a_column_range_gradcheck),
        NN_TEST(test_adapter_starts_as_identity_and_gradcheck),
        IO_TEST(test_adapter_checkpoint_round_trip),
        NN_TEST(test_quantized_base),
        NN_TEST(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
