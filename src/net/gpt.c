/* src/net/gpt.c — a small GPT: embeddings, blocks, final LayerNorm, head; and generation.
 * Shapes: B sequences, T tokens, C = dim, V = vocab (the picture is in include/nn/net/gpt.h). */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/ops/embedding.h"
#include "nn/ops/matmul.h"
#include "nn/ops/shape.h"
#include "nn/net/dropout.h"
#include "nn/net/gpt.h"
#include "nn/net/loss.h"

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

/* Count as nn_gpt_new builds them (tests/test_transformer.c checks it against built models):
 *   tokens V*C, positions context*C (learned only), per block 2 LayerNorms 4C, qkv 3C*C + 3C,
 *   out C*C + C, fc C*F + F, proj F*C + C; the final LayerNorm 2C; an untied head C*V; a
 *   head bias V. */
double nn_gpt_config_parameters(const nn_gpt_config *c) {
    if (!c) return 0.0;
    double C = c->dim, V = c->vocab, F = c->ffn ? c->ffn : 4.0 * c->dim;
    double block = 4 * C + (3 * C * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C);
    return V * C + (c->position == NN_POSITION_LEARNED ? (double)c->context * C : 0) +
           c->layers * block + 2 * C + (c->untied ? C * V : 0) + (c->head_bias ? V : 0);
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
    if (ok && c->head_bias)
        g->head_b = nn_model_param(g->model, "head.b", 1, (int[]){c->vocab}, false);
    if (!ok || !g->ln_final || (c->untied && !g->head) || (c->head_bias && !g->head_b)) {
        nn_gpt_free(g);
        return NULL;
    }
    return g;
}

void nn_gpt_free(nn_gpt *gpt) {
    if (!gpt) return;
    nn_model_free(gpt->model);
    free(gpt->adapters);   /* one allocation (src/net/lora.c); its parameters were the model's */
    free(gpt);
}

/* B sequences of T valid ids, at positions start .. start+T-1 inside the context. */
static bool ids_ok(const char *op, const nn_gpt *g, const int *ids, int B, int T, int start) {
    if (!ids || B < 1 || T < 1 || start + T > g->cfg.context) {
        nn_fail(op, "B >= 1 sequences of 1 .. context tokens (crop longer ones "
                "to their last `context` tokens; reset a full cache)", "B = %d, T = %d after "
                "%d cached, context = %d, ids %s", B, T, start, g->cfg.context,
                ids ? "given" : "NULL");
        return false;
    }
    for (size_t i = 0; i < (size_t)B * T; i++)
        if (ids[i] < 0 || ids[i] >= g->cfg.vocab) {
            nn_fail(op, "token ids in 0 .. vocab-1", "ids[%zu] = %d, vocab = %d",
                    i, ids[i], g->cfg.vocab);
            return false;
        }
    return true;
}

/* Token plus position vectors for tokens at positions start .. start+T-1:  (B, T, C) */
static nn_tensor *embed(nn_gpt *gpt, const int *ids, int B, int T, int start) {
    nn_tensor *pos;                                                   /* (T, C) */
    if (gpt->positions) {
        int *pid = nn_arena_alloc(sizeof(int) * (size_t)T);
        nn_position_ids(pid, start, T);
        pos = nn_embedding(gpt->positions->W, pid, NN_SHAPE(T));
    } else {
        pos = nn_sinusoidal_positions(start, T, gpt->cfg.dim);
    }
    nn_tensor *x = nn_add(nn_embedding_layer_forward(gpt->tokens, ids, B, T), pos);
    return gpt->cfg.dropout > 0.0f ? nn_dropout(x, gpt->cfg.dropout) : x;
}

/* The final LayerNorm and the head: (B, T, C) -> logits (B, T, V) = x Wout, or x E^T with
 * the token table E (V, C), plus the bias (V) when there is one */
static nn_tensor *head(nn_gpt *gpt, nn_tensor *x) {
    x = nn_layer_norm_layer_forward(gpt->ln_final, x);
    nn_tensor *logits = nn_matmul(x, gpt->head ? gpt->head : nn_transpose(gpt->tokens->W));
    return gpt->head_b ? nn_add(logits, gpt->head_b) : logits;
}

/* The blocks over the embedded ids: (B, T, C) */
static nn_tensor *trunk(nn_gpt *gpt, const int *ids, int B, int T) {
    nn_tensor *x = embed(gpt, ids, B, T, 0);
    for (int l = 0; l < gpt->cfg.layers; l++) x = nn_transformer_block_forward(gpt->blocks[l], x);
    return x;
}

nn_tensor *nn_gpt_forward(nn_gpt *gpt, const int *ids, int B, int T) {
    NN_REQUIRE(gpt, "nn_gpt_forward");
    if (!ids_ok("nn_gpt_forward", gpt, ids, B, T, 0)) return NULL;
    return head(gpt, trunk(gpt, ids, B, T));                          /* (B, T, V) */
}

nn_tensor *nn_gpt_loss(nn_gpt *gpt, const int *ids, const int *targets, int B, int T) {
    NN_REQUIRE(gpt, "nn_gpt_loss");
    if (!ids_ok("nn_gpt_loss", gpt, ids, B, T, 0)) return NULL;
    nn_tensor *x = nn_layer_norm_layer_forward(gpt->ln_final, trunk(gpt, ids, B, T));
    /* the head x Wout or x E^T, and the loss, chunk by chunk: no (B, T, V) logits */
    return nn_linear_cross_entropy(x, gpt->head ? gpt->head : gpt->tokens->W, !gpt->head,
                                   gpt->head_b, targets);
}

/* ---- the KV cache ------------------------------------------------------------------------ */

nn_gpt_cache *nn_gpt_cache_new(const nn_gpt *gpt, int B) {
    NN_REQUIRE(gpt, "nn_gpt_cache_new");
    if (B < 1) {
        nn_fail("nn_gpt_cache_new", "B >= 1 sequences", "B = %d", B);
        return NULL;
    }
    const nn_gpt_config *c = &gpt->cfg;
    nn_gpt_cache *cache = calloc(1, sizeof *cache);
    if (!cache) return NULL;
    cache->B = B;
    cache->layers = c->layers;
    cache->kv = calloc((size_t)c->layers, sizeof *cache->kv);
    if (!cache->kv) {
        free(cache);
        return NULL;
    }
    for (int l = 0; l < c->layers; l++) {   /* (B, H, context, d) for keys and for values */
        nn_kv_cache *kv = &cache->kv[l];
        kv->capacity = c->context;
        kv->k = nn_zeros(NN_SHAPE(B, c->heads, c->context, c->dim / c->heads));
        kv->v = nn_zeros(NN_SHAPE(B, c->heads, c->context, c->dim / c->heads));
    }
    return cache;
}

void nn_gpt_cache_reset(nn_gpt_cache *cache) {
    if (!cache) return;
    cache->len = 0;
    for (int l = 0; l < cache->layers; l++) cache->kv[l].len = 0;
}

void nn_gpt_cache_free(nn_gpt_cache *cache) {
    if (!cache) return;
    for (int l = 0; l < cache->layers; l++) {
        nn_tensor_free(cache->kv[l].k);
        nn_tensor_free(cache->kv[l].v);
    }
    free(cache->kv);
    free(cache);
}

nn_tensor *nn_gpt_forward_cached(nn_gpt *gpt, nn_gpt_cache *cache, const int *ids, int B, int T) {
    NN_REQUIRE(gpt, "nn_gpt_forward_cached");
    NN_REQUIRE(cache, "nn_gpt_forward_cached");
    if (cache->B != B || cache->layers != gpt->cfg.layers) {
        nn_fail("nn_gpt_forward_cached", "a cache from nn_gpt_cache_new(this model, B)",
                "the cache has B = %d and %d layers; B = %d, the model %d layers", cache->B,
                cache->layers, B, gpt->cfg.layers);
        return NULL;
    }
    if (!ids_ok("nn_gpt_forward_cached", gpt, ids, B, T, cache->len)) return NULL;
    nn_tensor *x = embed(gpt, ids, B, T, cache->len);                 /* (B, T, C) */
    for (int l = 0; l < gpt->cfg.layers; l++)
        x = nn_transformer_block_forward_cached(gpt->blocks[l], x, &cache->kv[l]);
    if (!x) return NULL;
    cache->len += T;
    return head(gpt, x);                                              /* (B, T, V) */
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

/* The logits of the window's last token: a full forward over the window, or with the
 * cache only the tokens it has not read yet (all of them again after the window slid). */
static const float *next_logits(nn_gpt *gpt, nn_gpt_cache *cache, const int *window, int have,
                                bool slid) {
    nn_tensor *logits;
    if (!cache) {
        logits = nn_gpt_forward(gpt, window, 1, have);               /* (1, have, V) */
        return logits ? logits->data + (size_t)(have - 1) * gpt->cfg.vocab : NULL;
    }
    if (slid) nn_gpt_cache_reset(cache);  /* every token moved one position: start again */
    int fresh = have - cache->len;
    logits = nn_gpt_forward_cached(gpt, cache, window + cache->len, 1, fresh);  /* (1, fresh, V) */
    return logits ? logits->data + (size_t)(fresh - 1) * gpt->cfg.vocab : NULL;
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
    nn_gpt_cache *cache = gpt->recompute ? NULL : nn_gpt_cache_new(gpt, 1);
    if (!window || (!gpt->recompute && !cache)) {
        free(window);
        nn_gpt_cache_free(cache);
        return -1;
    }
    int have = n_prompt < C ? n_prompt : C;
    memcpy(window, prompt + n_prompt - have, sizeof(int) * (size_t)have);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false), slid = false;
    nn_graph_mark_t start = nn_graph_mark();
    int made = 0;
    while (made < n_new) {
        const float *row = next_logits(gpt, cache, window, have, slid);
        int next = row ? nn_sample_row(row, V, s, rng) : -1;
        nn_graph_rewind(start);
        if (next < 0) { made = -1; break; }
        out[made++] = next;
        slid = have == C;
        if (slid) memmove(window, window + 1, sizeof(int) * (size_t)(C - 1));
        else have++;
        window[have - 1] = next;
        if (next == stop) break;
    }
    nn_set_training(training);
    nn_set_grad_enabled(grad);
    nn_gpt_cache_free(cache);
    free(window);
    return made;
}
