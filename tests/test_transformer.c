/* tests/test_transformer.c — the layers built on attention: multi-head attention
 * (nn/net/attention.h), the Transformer block (nn/net/transformer.h) and the small GPT
 * (nn/net/gpt.h).
 *
 * The fused-projection layer against the tutorial's per-head recipe written out in double
 * precision; gradient checks (central differences) of the block and of whole GPTs (learned
 * and sinusoidal positions, tied and untied heads) in every parameter; causality (logits at
 * t do not move when later tokens change); the kept attention weights; generation (same
 * seed same tokens, temperature 0 = the argmax of a forward, the stop token, prompts longer
 * than the context); save and load (same logits, the vocabulary, broken folders); misuse. */
#include "scratch_dir.h"

static void randomise(nn_model *m, uint64_t seed, float scale) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int p = 0; p < m->nparams; p++) nn_fill_uniform(m->params[p], -scale, scale, &rng);
}

static nn_tensor *owned(uint64_t seed, float lo, float hi, int ndim, const int *shape) {
    nn_tensor *t = nn_zeros(ndim, shape);
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    nn_fill_uniform(t, lo, hi, &rng);
    return t;
}

/* ---- multi-head attention: fused Wqkv = per-head Wq, Wk, Wv --------------------------------- */

static void test_attention_layer_equals_per_head_recipe(void **state) {
    (void)state;
    enum { B = 2, T = 4, C = 6, H = 2, D = C / H };
    nn_model *m = nn_model_new();
    nn_attention_layer *l = nn_attention_layer_new(m, "att", C, H, true);
    assert_non_null(l);
    assert_int_equal(l->head_dim, D);
    randomise(m, 3, 0.7f);
    nn_tensor *x = owned(4, -1, 1, NN_SHAPE(B, T, C));
    l->keep_weights = true;
    nn_tensor *y = nn_attention_layer_forward(l, x);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->shape[2], C);
    assert_non_null(l->weights);
    assert_int_equal(l->weights->shape[1], H);
    const float *W = l->qkv->W->data, *bW = l->qkv->b->data;   /* (C, 3C): q | k | v */
    const float *Wo = l->out->W->data, *bo = l->out->b->data;
    for (int b = 0; b < B; b++) {
        double cat[T][C];   /* the heads' outputs side by side */
        for (int h = 0; h < H; h++) {
            double q[T][D], k[T][D], v[T][D];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < D; j++) {   /* head h's columns of Wq, Wk, Wv */
                    int col = h * D + j;
                    q[t][j] = bW[col], k[t][j] = bW[C + col], v[t][j] = bW[2 * C + col];
                    for (int c = 0; c < C; c++) {
                        double xv = x->data[(b * T + t) * C + c];
                        q[t][j] += xv * W[c * 3 * C + col];
                        k[t][j] += xv * W[c * 3 * C + C + col];
                        v[t][j] += xv * W[c * 3 * C + 2 * C + col];
                    }
                }
            for (int i = 0; i < T; i++) {
                double s[T], mx = -INFINITY, sum = 0;
                for (int j = 0; j <= i; j++) {   /* causal: keys 0 .. i */
                    s[j] = 0;
                    for (int c = 0; c < D; c++) s[j] += q[i][c] * k[j][c];
                    s[j] /= sqrt((double)D);
                    if (s[j] > mx) mx = s[j];
                }
                for (int j = 0; j <= i; j++) sum += s[j] = exp(s[j] - mx);
                for (int c = 0; c < D; c++) {
                    cat[i][h * D + c] = 0;
                    for (int j = 0; j <= i; j++) cat[i][h * D + c] += s[j] / sum * v[j][c];
                }
                for (int j = 0; j < T; j++) {
                    float w = l->weights->data[((b * H + h) * T + i) * T + j];
                    assert_true(fabs(w - (j <= i ? s[j] / sum : 0.0)) < 1e-5);
                }
            }
        }
        for (int t = 0; t < T; t++)
            for (int o = 0; o < C; o++) {
                double want = bo[o];
                for (int c = 0; c < C; c++) want += cat[t][c] * Wo[c * C + o];
                float got = y->data[(b * T + t) * C + o];
                if (!(fabs(got - want) < 1e-5))
                    fail_msg("b %d t %d o %d: got %.7g want %.7g", b, t, o, got, want);
            }
    }
    nn_tensor_free(x);
    nn_model_free(m);
}

/* ---- gradient checks ------------------------------------------------------------------------ */

typedef struct { nn_transformer_block *block; nn_tensor *R; } block_ctx;

static nn_tensor *block_loss(nn_tensor **in, void *user) {
    block_ctx *c = user;
    return nn_sum(nn_mul(nn_transformer_block_forward(c->block, in[0]), c->R));
}

static void test_block_gradcheck(void **state) {
    (void)state;
    nn_model *m = nn_model_new();
    block_ctx c = {nn_transformer_block_new(m, "blk", 8, 2, 12, true, 0.0f, 1), NULL};
    assert_non_null(c.block);
    randomise(m, 5, 0.5f);
    for (int p = 0; p < m->nparams; p++)   /* LayerNorm scales near 1, not near 0 */
        if (strstr(m->params[p]->name, "gamma")) nn_fill_uniform(m->params[p], 0.7f, 1.3f, NULL);
    c.R = owned(6, -1, 1, NN_SHAPE(2, 3, 8));
    nn_tensor *in[32];
    int n = 0;
    in[n++] = nn_requires_grad(owned(7, -1, 1, NN_SHAPE(2, 3, 8)));
    for (int p = 0; p < m->nparams; p++) in[n++] = m->params[p];
    nn_gradcheck_result r = nn_gradcheck(block_loss, in, n, &c, 1e-2, 1e-2);
    printf("  gradcheck block (x and %d parameters): %zu elements, max rel err %.2e\n",
           m->nparams, r.checked, r.max_rel_err);
    if (!r.ok)
        fail_msg("input %d (%s) element %zu analytic %.6g numeric %.6g", r.worst_input,
                 in[r.worst_input]->name ? in[r.worst_input]->name : "x", r.worst_index,
                 r.analytic, r.numeric);
    assert_int_equal(r.checked, 48 + m->count);
    assert_int_equal(m->nparams, 12);   /* 2 LayerNorms x 2, qkv, out, fc, proj x (W, b) */
    nn_tensor_free(in[0]), nn_tensor_free(c.R);
    nn_model_free(m);
}

typedef struct { nn_gpt *gpt; const int *ids, *targets; int B, T; bool fused; } gpt_ctx;

/* The next-token loss, from the logits or with the head fused into the loss (nn_gpt_loss) */
static nn_tensor *gpt_loss(nn_tensor **in, void *user) {
    (void)in;   /* the inputs are the model's own parameters */
    gpt_ctx *c = user;
    if (c->fused) return nn_gpt_loss(c->gpt, c->ids, c->targets, c->B, c->T);
    return nn_cross_entropy_loss(nn_gpt_forward(c->gpt, c->ids, c->B, c->T), c->targets);
}

/* nn_gpt_loss against the loss of nn_gpt_forward's logits: the same number, and every
 * parameter's gradient equal up to rounding */
static void check_fused_loss(gpt_ctx c) {
    nn_model *m = c.gpt->model;
    float loss[2], *grads[2];
    for (int fused = 0; fused < 2; fused++) {
        c.fused = fused;
        nn_model_zero_grad(m);
        nn_tensor *l = gpt_loss(NULL, &c);
        loss[fused] = nn_item(l);
        nn_backward(l);
        grads[fused] = malloc(sizeof(float) * m->count);
        memcpy(grads[fused], m->grad, sizeof(float) * m->count);
        nn_graph_clear();
    }
    assert_float_equal(loss[1], loss[0], 1e-6 * loss[0]);
    assert_floats_near(grads[1], grads[0], m->count, 1e-5f);
    free(grads[0]);
    free(grads[1]);
}

static void check_gpt_grad(nn_position_kind pos, bool untied, bool bias) {
    nn_gpt_config cfg = {.vocab = 7, .context = 5, .dim = 8, .heads = 2, .layers = 2, .ffn = 10,
                         .position = pos, .untied = untied, .head_bias = bias};
    nn_gpt *g = nn_gpt_new(&cfg);
    assert_non_null(g);
    randomise(g->model, 8, 0.5f);
    nn_model *m = g->model;
    for (int p = 0; p < m->nparams; p++)
        if (strstr(m->params[p]->name, "gamma")) nn_fill_uniform(m->params[p], 0.7f, 1.3f, NULL);
    int ids[2 * 4] = {1, 3, 3, 6, 0, 2, 5, 1}, targets[2 * 4] = {3, 3, 6, 2, 2, 5, 1, 4};
    for (int fused = 0; fused < 2; fused++) {
        gpt_ctx c = {g, ids, targets, 2, 4, fused};
        nn_gradcheck_result r = nn_gradcheck(gpt_loss, m->params, m->nparams, &c, 1e-2, 1e-2);
        printf("  gradcheck gpt %-10s %s%s%s: %d parameters, %zu elements, max rel err %.2e\n",
               nn_position_kind_name(pos), untied ? "untied" : "tied  ", bias ? " bias" : "     ",
               fused ? " nn_gpt_loss" : "", m->nparams, r.checked, r.max_rel_err);
        if (!r.ok)
            fail_msg("%s element %zu analytic %.6g numeric %.6g", m->params[r.worst_input]->name,
                     r.worst_index, r.analytic, r.numeric);
        assert_int_equal(r.checked, m->count);
    }
    check_fused_loss((gpt_ctx){g, ids, targets, 2, 4, false});
    /* the parameter count: tok V*C (+ pos ctx*C) + per block (2 LN 4C, qkv 3C*C+3C, out
     * C*C+C, fc C*F+F, proj F*C+C) + ln_f 2C (+ head C*V) */
    size_t C = 8, F = 10, V = 7;
    size_t per_block = 4 * C + 3 * C * C + 3 * C + C * C + C + C * F + F + F * C + C;
    size_t want = V * C + (pos == NN_POSITION_LEARNED ? 5 * C : 0) + 2 * per_block + 2 * C +
                  (untied ? C * V : 0) + (bias ? V : 0);
    assert_int_equal(m->count, want);
    assert_true(nn_gpt_config_parameters(&g->cfg) == (double)m->count);
    nn_gpt_free(g);
}

static void test_gpt_gradcheck(void **state) {
    (void)state;
    check_gpt_grad(NN_POSITION_LEARNED, false, false);
    check_gpt_grad(NN_POSITION_LEARNED, true, false);
    check_gpt_grad(NN_POSITION_SINUSOIDAL, false, true);
}

/* ---- causality and the weights -------------------------------------------------------------- */

static void test_gpt_is_causal(void **state) {
    (void)state;
    nn_gpt_config cfg = {.vocab = 11, .context = 8, .dim = 16, .heads = 4, .layers = 2};
    nn_gpt *g = nn_gpt_new(&cfg);
    randomise(g->model, 9, 0.4f);
    int a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {1, 2, 3, 4, 10, 0, 9, 9};
    nn_tensor *la = nn_gpt_forward(g, a, 1, 8), *lb = nn_gpt_forward(g, b, 1, 8);
    assert_int_equal(la->shape[2], 11);
    /* positions 0..3 saw the same tokens: the same logits, bit for bit */
    assert_floats_near(lb->data, la->data, 4 * 11, 0.0f);
    bool moved = false;
    for (int i = 4 * 11; i < 8 * 11; i++) moved |= la->data[i] != lb->data[i];
    assert_true(moved);
    /* a shorter sequence is a prefix: the same logits as the first T positions */
    nn_tensor *ls = nn_gpt_forward(g, a, 1, 3);
    assert_floats_near(ls->data, la->data, 3 * 11, 1e-5f);
    nn_gpt_free(g);
}

static void test_gpt_keeps_attention_weights(void **state) {
    (void)state;
    nn_gpt_config cfg = {.vocab = 5, .context = 6, .dim = 8, .heads = 2, .layers = 3};
    nn_gpt *g = nn_gpt_new(&cfg);
    int ids[2 * 6] = {0, 1, 2, 3, 4, 0, 4, 3, 2, 1, 0, 4};
    nn_gpt_forward(g, ids, 2, 6);
    assert_null(nn_gpt_attention_weights(g, 0));   /* not kept unless asked */
    nn_gpt_keep_attention(g, true);
    nn_gpt_forward(g, ids, 2, 6);
    for (int l = 0; l < 3; l++) {
        nn_tensor *w = nn_gpt_attention_weights(g, l);
        assert_non_null(w);
        assert_int_equal(w->ndim, 4);
        assert_int_equal(w->shape[0], 2);
        assert_int_equal(w->shape[1], 2);
        assert_int_equal(w->shape[2], 6);
        for (int r = 0; r < 2 * 2 * 6; r++) {
            double sum = 0;
            for (int j = 0; j < 6; j++) sum += w->data[r * 6 + j];
            assert_true(fabs(sum - 1) < 1e-5);
            for (int j = r % 6 + 1; j < 6; j++) assert_true(w->data[r * 6 + j] == 0.0f);
        }
    }
    assert_null(nn_gpt_attention_weights(g, 3));
    assert_null(nn_gpt_attention_weights(g, -1));
    nn_gpt_keep_attention(g, false);
    nn_gpt_forward(g, ids, 2, 6);
    assert_null(nn_gpt_attention_weights(g, 0));
    nn_gpt_free(g);
}

/* ---- generation ----------------------------------------------------------------------------- */

static void test_gpt_generate(void **state) {
    (void)state;
    nn_gpt_config cfg = {.vocab = 9, .context = 4, .dim = 8, .heads = 2, .layers = 1};
    nn_gpt *g = nn_gpt_new(&cfg);
    randomise(g->model, 10, 0.8f);
    int prompt[6] = {1, 2, 3, 4, 5, 6}, out1[12], out2[12], out3[12];
    nn_rng r1, r2;
    nn_rng_seed(&r1, 77);
    nn_rng_seed(&r2, 77);
    nn_sampling s = {.temperature = 1.0f};
    assert_int_equal(nn_gpt_generate(g, prompt, 6, 12, s, &r1, -1, out1), 12);   /* 6 > context */
    assert_int_equal(nn_gpt_generate(g, prompt, 6, 12, s, &r2, -1, out2), 12);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(out1[i], out2[i]);
        assert_true(out1[i] >= 0 && out1[i] < 9);
    }
    /* temperature 0: each token is the argmax of a forward over the last 4 tokens */
    nn_sampling greedy = {.temperature = 0.0f};
    assert_int_equal(nn_gpt_generate(g, prompt, 6, 5, greedy, NULL, -1, out3), 5);
    int window[4] = {3, 4, 5, 6};
    for (int i = 0; i < 5; i++) {
        nn_tensor *logits = nn_gpt_forward(g, window, 1, 4);
        assert_int_equal(out3[i], nn_sample_greedy(logits->data + 3 * 9, 9));
        memmove(window, window + 1, 3 * sizeof(int));
        window[3] = out3[i];
        nn_graph_clear();
    }
    /* stop token: generation ends right after writing it */
    int stop = out3[1];
    int n = nn_gpt_generate(g, prompt, 6, 5, greedy, NULL, stop, out1);
    assert_true(n >= 1 && n <= 2);
    assert_int_equal(out1[n - 1], stop);
    /* modes are restored */
    assert_true(nn_is_grad_enabled());
    assert_true(nn_is_training());
    EXPECT_NN_ERROR(nn_gpt_generate(g, prompt, 0, 5, greedy, NULL, -1, out1), "prompt");
    nn_gpt_free(g);
}

/* ---- save and load -------------------------------------------------------------------------- */

static void write_text(const char *path, const char *text) { spit(path, text, strlen(text)); }

static void test_gpt_save_load(void **state) {
    (void)state;
    const char *text = "床前明月光,疑是地上霜。moon";
    nn_vocab *v = nn_vocab_build(text, strlen(text), 0);
    nn_gpt_config cfg = {.vocab = v->size, .context = 6, .dim = 8, .heads = 2, .layers = 2,
                         .dropout = 0.25f, .position = NN_POSITION_SINUSOIDAL, .untied = true,
                         .head_bias = true};
    nn_gpt *g = nn_gpt_new(&cfg);
    randomise(g->model, 11, 0.5f);
    assert_int_equal(nn_gpt_save(g, v, dir), 0);
    nn_vocab *v2;
    nn_gpt *back = nn_gpt_load(dir, &v2);
    if (!back) fail_msg("%s", nn_last_error());
    assert_int_equal(back->cfg.vocab, cfg.vocab);
    assert_int_equal(back->cfg.ffn, 32);
    assert_true(back->cfg.untied);
    assert_true(back->cfg.head_bias);
    assert_int_equal(back->cfg.position, NN_POSITION_SINUSOIDAL);
    assert_true(back->cfg.dropout == 0.25f);
    assert_int_equal(v2->size, v->size);
    int ids[6];
    assert_int_equal(nn_vocab_encode(v, "明月光moo", strlen("明月光moo"), ids, 6), 6);
    nn_set_training(false);
    nn_tensor *a = nn_gpt_forward(g, ids, 1, 6), *b = nn_gpt_forward(back, ids, 1, 6);
    assert_floats_near(b->data, a->data, a->size, 0.0f);
    nn_gpt_free(back);
    nn_vocab_free(v2);
    /* without asking for the vocabulary */
    back = nn_gpt_load(dir, NULL);
    assert_non_null(back);
    nn_gpt_free(back);

    /* broken folders: a message, no model, nothing allocated */
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 5\n");
    assert_null(nn_gpt_load(dir, &v2));
    assert_null(v2);
    EXPECT_LAST_ERROR("gpt.cfg", "no line \"context = ...\"");
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 5 6\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("line 2", "vocab = 5 6");
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 5\nvocab = 6\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("line 3", "vocab = 6");
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 20\ncontext = 6\ndim = 8\nheads = 3\n"
                                  "layers = 2\nffn = 0\ntied = 1\nsinusoidal = 0\nhead_bias = 0\n"
                                  "dropout = 0\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("describes no valid model", "heads must divide dim");
    write_text(in_dir("gpt.cfg"), "format = 2\nvocab = 20\ncontext = 6\ndim = 8\nheads = 2\n"
                                  "layers = 2\nffn = 0\ntied = 1\nsinusoidal = 0\nhead_bias = 0\n"
                                  "dropout = 0\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("format 2");
    /* a config without the head_bias line (written before it existed) means no bias: here a
     * model of the wrong shape, so the checkpoint is what refuses it */
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 20\ncontext = 6\ndim = 8\nheads = 2\n"
                                  "layers = 2\nffn = 0\ntied = 1\nsinusoidal = 0\ndropout = 0\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("gpt.nnck");
    /* a valid config of another shape than the weights: the checkpoint is refused */
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 20\ncontext = 6\ndim = 8\nheads = 2\n"
                                  "layers = 2\nffn = 0\ntied = 1\nsinusoidal = 0\nhead_bias = 0\n"
                                  "dropout = 0\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("gpt.nnck");
    /* a config of a huge model beside small weights: refused before anything is allocated */
    write_text(in_dir("gpt.cfg"), "format = 1\nvocab = 1000000\ncontext = 100000\n"
                                  "dim = 100000\nheads = 1\nlayers = 1000\nffn = 0\ntied = 0\n"
                                  "sinusoidal = 0\nhead_bias = 0\ndropout = 0\n");
    assert_null(nn_gpt_load(dir, NULL));
    EXPECT_LAST_ERROR("gpt.nnck", "too few for the", "do not belong together");
    assert_null(nn_gpt_load(in_dir("missing"), NULL));
    EXPECT_LAST_ERROR("missing/gpt.cfg");

    /* the vocabulary must fit the model */
    nn_vocab *small = nn_vocab_build("ab", 2, 0);
    EXPECT_NN_ERROR(nn_gpt_save(g, small, dir), "vocabulary", "vocab = ");
    nn_vocab_free(small);
    nn_gpt_free(g);
    nn_vocab_free(v);
}

/* ---- misuse --------------------------------------------------------------------------------- */

static void test_gpt_misuse(void **state) {
    (void)state;
    char why[256];
    nn_gpt_config bad = {.vocab = 5, .context = 4, .dim = 6, .heads = 4, .layers = 1};
    assert_int_equal(nn_gpt_config_check(&bad, why, sizeof why), -1);
    assert_non_null(strstr(why, "heads must divide dim"));
    EXPECT_NN_ERROR(nn_gpt_new(&bad), "heads must divide dim");
    bad = (nn_gpt_config){.vocab = 5, .context = 4, .dim = 6, .heads = 2, .layers = 1,
                          .dropout = 1.0f};
    EXPECT_NN_ERROR(nn_gpt_new(&bad), "dropout");
    bad = (nn_gpt_config){.vocab = 5, .context = 4, .dim = 5, .heads = 1, .layers = 1,
                          .position = NN_POSITION_SINUSOIDAL};
    EXPECT_NN_ERROR(nn_gpt_new(&bad), "even dim");
    nn_gpt_config ok = {.vocab = 5, .context = 4, .dim = 6, .heads = 2, .layers = 1};
    assert_int_equal(nn_gpt_config_check(&ok, NULL, 0), 0);
    nn_gpt *g = nn_gpt_new(&ok);
    int ids[5] = {0, 1, 2, 3, 4}, badids[2] = {1, 5};
    EXPECT_NN_ERROR(nn_gpt_forward(g, ids, 1, 5), "context", "T = 5");
    EXPECT_NN_ERROR(nn_gpt_forward(g, badids, 1, 2), "ids[1] = 5");
    EXPECT_NN_ERROR(nn_gpt_loss(g, badids, ids, 1, 2), "nn_gpt_loss", "ids[1] = 5");
    EXPECT_NN_ERROR(nn_gpt_loss(g, ids, badids, 1, 2), "nn_linear_cross_entropy", "labels[1] = 5");
    EXPECT_NN_ERROR(nn_attention_layer_new(g->model, "x", 6, 4, true), "dividing dim");
    nn_gpt_free(g);
}

/* ---- the KV cache --------------------------------------------------------------------------- */

static void check_cache_matches(nn_position_kind pos) {
    nn_gpt_config cfg = {.vocab = 13, .context = 8, .dim = 8, .heads = 2, .layers = 2,
                         .position = pos};
    nn_gpt *g = nn_gpt_new(&cfg);
    randomise(g->model, 12, 0.5f);
    int ids[2 * 7] = {1, 5, 7, 2, 12, 0, 3, 4, 4, 9, 8, 1, 6, 11};
    nn_tensor *full = nn_keep(NULL, nn_gpt_forward(g, ids, 1, 7));   /* (1, 7, V) uncached */
    nn_set_grad_enabled(false);
    nn_gpt_cache *c = nn_gpt_cache_new(g, 1);
    /* read the same 7 tokens in pieces of 3, 1 and 3: the logits of every piece are the
     * uncached ones at those positions */
    int pieces[3][2] = {{0, 3}, {3, 1}, {4, 3}};
    for (int p = 0; p < 3; p++) {
        nn_tensor *l = nn_gpt_forward_cached(g, c, ids + pieces[p][0], 1, pieces[p][1]);
        assert_int_equal(l->shape[1], pieces[p][1]);
        assert_floats_near(l->data, full->data + pieces[p][0] * 13, (size_t)pieces[p][1] * 13,
                           1e-5f);
        nn_graph_clear();
    }
    assert_int_equal(c->len, 7);
    /* one more fits (context 8), then the cache is full */
    assert_non_null(nn_gpt_forward_cached(g, c, ids, 1, 1));
    EXPECT_NN_ERROR(nn_gpt_forward_cached(g, c, ids, 1, 1), "context", "8 cached");
    nn_gpt_cache_reset(c);
    assert_int_equal(c->len, 0);
    /* two sequences at once */
    nn_gpt_cache *c2 = nn_gpt_cache_new(g, 2);
    nn_tensor *l2 = nn_gpt_forward_cached(g, c2, ids, 2, 7);
    nn_set_grad_enabled(true);
    nn_tensor *ref2 = nn_gpt_forward(g, ids, 2, 7);
    assert_floats_near(l2->data, ref2->data, ref2->size, 1e-5f);
    /* training uses the tape, not the cache */
    EXPECT_NN_ERROR(nn_gpt_forward_cached(g, c, ids, 1, 1), "gradients off");
    nn_set_grad_enabled(false);
    EXPECT_NN_ERROR(nn_gpt_forward_cached(g, c2, ids, 1, 1), "nn_gpt_cache_new", "B = 2");
    nn_set_grad_enabled(true);
    nn_gpt_cache_free(c), nn_gpt_cache_free(c2);
    nn_tensor_free(full);
    nn_gpt_free(g);
}

static void test_gpt_kv_cache_same_logits(void **state) {
    (void)state;
    check_cache_matches(NN_POSITION_LEARNED);
    check_cache_matches(NN_POSITION_SINUSOIDAL);
}

/* Generation with and without the cache writes the same tokens, also after the window (6)
 * starts to slide. */
static void test_gpt_generate_cache_same_tokens(void **state) {
    (void)state;
    nn_gpt_config cfg = {.vocab = 10, .context = 6, .dim = 8, .heads = 2, .layers = 2};
    nn_gpt *g = nn_gpt_new(&cfg);
    randomise(g->model, 13, 0.8f);
    int prompt[3] = {4, 1, 7}, cached[20], plain[20];
    nn_sampling s = {.temperature = 1.0f, .top_k = 5};
    for (int round = 0; round < 2; round++) {
        nn_rng r1, r2;
        nn_rng_seed(&r1, 5 + (uint64_t)round);
        nn_rng_seed(&r2, 5 + (uint64_t)round);
        g->recompute = false;
        assert_int_equal(nn_gpt_generate(g, prompt, 3, 20, s, &r1, -1, cached), 20);
        g->recompute = true;
        assert_int_equal(nn_gpt_generate(g, prompt, 3, 20, s, &r2, -1, plain), 20);
        for (int i = 0; i < 20; i++) assert_int_equal(cached[i], plain[i]);
        s.temperature = 0.0f;   /* and greedy */
    }
    nn_gpt_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_attention_layer_equals_per_head_recipe),
        NN_TEST(test_block_gradcheck),
        NN_TEST(test_gpt_gradcheck),
        NN_TEST(test_gpt_is_causal),
        NN_TEST(test_gpt_keeps_attention_weights),
        NN_TEST(test_gpt_generate),
        NN_TEST(test_gpt_kv_cache_same_logits),
        NN_TEST(test_gpt_generate_cache_same_tokens),
        IO_TEST(test_gpt_save_load),
        NN_TEST(test_gpt_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
