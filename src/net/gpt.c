/* src/net/gpt.c — a small GPT: embeddings, blocks, final LayerNorm, head; and generation.
 * Shapes: B sequences, T tokens, C = dim, V = vocab (the picture is in include/nn/net/gpt.h). */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/embedding.h"
#include "nn/ops/matmul.h"
#include "nn/ops/shape.h"
#include "nn/net/dropout.h"
#include "nn/net/gpt.h"

int nn_gpt_config_check(const nn_gpt_config *c, char *why, size_t size) {
    const char *problem = NULL;
    if (!c) problem = "the config is NULL";
    else if (c->vocab < 1 || c->context < 1 || c->dim < 1 || c->heads < 1 || c->layers < 1)
        problem = "vocab, context, dim, heads and layers must all be >= 1";
    else if (c->dim % c->heads != 0) problem = "heads must divide dim";
    else if (c->ffn < 0) problem = "ffn must be >= 0 (0 = 4 dim)";
    else if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) problem = "dropout must be in [0, 1)";
    else if (c->position != NN_POSITION_LEARNED && c->position != NN_POSITION_SINUSOIDAL)
        problem = "position must be NN_POSITION_LEARNED or NN_POSITION_SINUSOIDAL";
    else if (c->position == NN_POSITION_SINUSOIDAL && c->dim % 2 != 0)
        problem = "sinusoidal positions need an even dim (sin and cos pairs)";
    if (!problem) return 0;
    if (why && size) {
        if (c)
            snprintf(why, size, "%s (vocab %d, context %d, dim %d, heads %d, layers %d, ffn %d, "
                     "dropout %g)", problem, c->vocab, c->context, c->dim, c->heads, c->layers,
                     c->ffn, (double)c->dropout);
        else snprintf(why, size, "%s", problem);
    }
    return -1;
}

nn_gpt *nn_gpt_new(const nn_gpt_config *cfg) {
    char why[256];
    if (nn_gpt_config_check(cfg, why, sizeof why) != 0) {
        nn_fail("nn_gpt_new", "a config as in nn/net/gpt.h", "%s", why);
        return NULL;
    }
    nn_gpt *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cfg = *cfg;
    if (g->cfg.ffn == 0) g->cfg.ffn = 4 * cfg->dim;
    const nn_gpt_config *c = &g->cfg;
    g->model = nn_model_new();
    g->tokens = nn_embedding_layer_new(g->model, "tok", c->vocab, c->dim, 0.02f);
    if (c->position == NN_POSITION_LEARNED)
        g->positions = nn_embedding_layer_new(g->model, "pos", c->context, c->dim, 0.01f);
    g->blocks = nn_model_alloc(g->model, sizeof(nn_transformer_block *) * (size_t)c->layers);
    bool ok = g->tokens && (g->positions || c->position != NN_POSITION_LEARNED);
    for (int l = 0; ok && l < c->layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "block%d", l);
        g->blocks[l] = nn_transformer_block_new(g->model, name, c->dim, c->heads, c->ffn, true,
                                                c->dropout, c->layers);
        ok = g->blocks[l] != NULL;
    }
    if (ok) g->ln_final = nn_layer_norm_layer_new(g->model, "ln_f", c->dim);
    if (ok && c->untied) {
        g->head = nn_model_param(g->model, "head.W", 2, (int[]){c->dim, c->vocab}, true);
        if (g->head) nn_fill_normal(g->head, 0.0f, 0.02f, NULL);
    }
    if (!ok || !g->ln_final || (c->untied && !g->head)) {
        nn_gpt_free(g);
        return NULL;
    }
    return g;
}

void nn_gpt_free(nn_gpt *gpt) {
    if (!gpt) return;
    nn_model_free(gpt->model);
    free(gpt);
}

static bool ids_ok(const nn_gpt *g, const int *ids, int B, int T) {
    if (!ids || B < 1 || T < 1 || T > g->cfg.context) {
        nn_fail("nn_gpt_forward", "B >= 1 sequences of 1 .. context tokens (crop longer ones "
                "to their last `context` tokens)", "B = %d, T = %d, context = %d, ids %s", B,
                T, g->cfg.context, ids ? "given" : "NULL");
        return false;
    }
    for (size_t i = 0; i < (size_t)B * T; i++)
        if (ids[i] < 0 || ids[i] >= g->cfg.vocab) {
            nn_fail("nn_gpt_forward", "token ids in 0 .. vocab-1", "ids[%zu] = %d, vocab = %d",
                    i, ids[i], g->cfg.vocab);
            return false;
        }
    return true;
}

nn_tensor *nn_gpt_forward(nn_gpt *gpt, const int *ids, int B, int T) {
    NN_REQUIRE(gpt, "nn_gpt_forward");
    if (!ids_ok(gpt, ids, B, T)) return NULL;
    const nn_gpt_config *c = &gpt->cfg;
    nn_tensor *pos;                                                   /* (T, C) */
    if (gpt->positions) {
        int *pid = nn_arena_alloc(sizeof(int) * (size_t)T);
        nn_position_ids(pid, 0, T);
        pos = nn_embedding(gpt->positions->W, pid, NN_SHAPE(T));
    } else {
        pos = nn_sinusoidal_positions(0, T, c->dim);
    }
    nn_tensor *x = nn_add(nn_embedding_layer_forward(gpt->tokens, ids, B, T), pos);  /* (B, T, C) */
    if (c->dropout > 0.0f) x = nn_dropout(x, c->dropout);
    for (int l = 0; l < c->layers; l++) x = nn_transformer_block_forward(gpt->blocks[l], x);
    x = nn_layer_norm_layer_forward(gpt->ln_final, x);                /* (B, T, C) */
    /* logits (B, T, V) = x Wout, or x E^T with the token table E (V, C) */
    return nn_matmul(x, gpt->head ? gpt->head : nn_transpose(gpt->tokens->W));
}

void nn_gpt_keep_attention(nn_gpt *gpt, bool keep) {
    if (!gpt) return;
    for (int l = 0; l < gpt->cfg.layers; l++) {
        gpt->blocks[l]->attn->keep_weights = keep;
        gpt->blocks[l]->attn->weights = NULL;
    }
}

nn_tensor *nn_gpt_attention_weights(const nn_gpt *gpt, int layer) {
    if (!gpt || layer < 0 || layer >= gpt->cfg.layers) return NULL;
    return gpt->blocks[layer]->attn->weights;
}

int nn_gpt_generate(nn_gpt *gpt, const int *prompt, int n_prompt, int n_new, nn_sampling s,
                    nn_rng *rng, int stop, int *out) {
    NN_REQUIRE_OR(gpt, "nn_gpt_generate", -1);
    if (!prompt || n_prompt < 1 || n_new < 0 || (n_new > 0 && !out)) {
        nn_fail("nn_gpt_generate", "a prompt of at least one token and room for n_new >= 0",
                "n_prompt = %d, n_new = %d", n_prompt, n_new);
        return -1;
    }
    int C = gpt->cfg.context, V = gpt->cfg.vocab;
    int *window = malloc(sizeof(int) * (size_t)C);   /* the last C tokens seen */
    if (!window) return -1;
    int have = n_prompt < C ? n_prompt : C;
    memcpy(window, prompt + n_prompt - have, sizeof(int) * (size_t)have);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_graph_mark_t start = nn_graph_mark();
    int made = 0;
    while (made < n_new) {
        nn_tensor *logits = nn_gpt_forward(gpt, window, 1, have);    /* (1, have, V) */
        if (!logits) { made = -1; break; }
        int next = nn_sample_row(logits->data + (size_t)(have - 1) * V, V, s, rng);
        nn_graph_rewind(start);
        if (next < 0) { made = -1; break; }
        out[made++] = next;
        if (have == C) memmove(window, window + 1, sizeof(int) * (size_t)(C - 1));
        else have++;
        window[have - 1] = next;
        if (next == stop) break;
    }
    nn_set_training(training);
    nn_set_grad_enabled(grad);
    free(window);
    return made;
}
