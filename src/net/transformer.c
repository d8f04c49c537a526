/* src/net/transformer.c — the pre-LayerNorm Transformer block (formulas in
 * include/nn/net/transformer.h). x: (B, T, C) throughout; the feed-forward's middle (B, T, F). */
#include "internal.h"
#include "nn/ops/elementwise.h"
#include "nn/net/dropout.h"
#include "nn/net/lora.h"
#include "nn/net/transformer.h"

nn_transformer_block *nn_transformer_block_new(nn_model *m, const char *name, int dim, int heads,
                                               int ffn, bool causal, float dropout, int layers) {
    NN_REQUIRE(m, "nn_transformer_block_new");
    if (ffn < 0 || layers < 1 || !(dropout >= 0.0f && dropout < 1.0f)) {
        nn_fail("nn_transformer_block_new", "ffn >= 0 (0 = 4 dim), layers >= 1, dropout in "
                "[0, 1)", "ffn = %d, layers = %d, dropout = %g", ffn, layers, (double)dropout);
        return NULL;
    }
    if (ffn == 0) ffn = 4 * dim;
    char pname[256];
    const char *base = name ? name : "block";
    nn_transformer_block *b = nn_model_alloc(m, sizeof *b);
    b->dropout = dropout;
    snprintf(pname, sizeof pname, "%s.ln1", base);
    b->ln1 = nn_layer_norm_layer_new(m, pname, dim);
    snprintf(pname, sizeof pname, "%s.attn", base);
    b->attn = nn_attention_layer_new(m, pname, dim, heads, causal);
    snprintf(pname, sizeof pname, "%s.ln2", base);
    b->ln2 = nn_layer_norm_layer_new(m, pname, dim);
    snprintf(pname, sizeof pname, "%s.fc", base);
    b->fc = nn_linear_layer_new(m, pname, dim, ffn, NN_INIT_ZEROS);
    snprintf(pname, sizeof pname, "%s.proj", base);
    b->proj = nn_linear_layer_new(m, pname, ffn, dim, NN_INIT_ZEROS);
    if (!b->ln1 || !b->attn || !b->ln2 || !b->fc || !b->proj) return NULL;
    float residual_std = 0.02f / sqrtf(2.0f * (float)layers);
    nn_fill_normal(b->attn->out->W, 0.0f, residual_std, NULL);
    nn_fill_normal(b->fc->W, 0.0f, 0.02f, NULL);
    nn_fill_normal(b->proj->W, 0.0f, residual_std, NULL);
    return b;
}

/* x + dropout(sublayer output): the residual connection */
static nn_tensor *residual(nn_tensor *x, nn_tensor *update, float p) {
    return nn_add(x, p > 0.0f ? nn_dropout(update, p) : update);
}

/* Both forwards: cache NULL is training's (the tape), otherwise inference with a KV cache. */
static nn_tensor *block_forward(nn_transformer_block *b, nn_tensor *x, nn_kv_cache *cache) {
    /* x = x + Attention(LN1(x))                          (B, T, C) */
    nn_tensor *n1 = nn_layer_norm_layer_forward(b->ln1, x);
    nn_tensor *a = cache ? nn_attention_layer_forward_cached(b->attn, n1, cache)
                         : nn_attention_layer_forward(b->attn, n1);
    x = residual(x, a, b->dropout);
    /* x = x + GELU(LN2(x) W1 + b1) W2 + b2               (B, T, C) -> (B, T, F) -> (B, T, C) */
    nn_tensor *h = nn_gelu_tanh(nn_lora_linear_forward(b->fc, b->lora_fc,
                                                       nn_layer_norm_layer_forward(b->ln2, x)));
    nn_tensor *f = nn_lora_linear_forward(b->proj, b->lora_proj, h);
    if (b->adapter) f = nn_adapter_forward(b->adapter, f);   /* f + a small correction (Houlsby) */
    return residual(x, f, b->dropout);
}

nn_tensor *nn_transformer_block_forward(nn_transformer_block *b, nn_tensor *x) {
    NN_REQUIRE(b, "nn_transformer_block_forward");
    return block_forward(b, x, NULL);
}

nn_tensor *nn_transformer_block_forward_cached(nn_transformer_block *b, nn_tensor *x,
                                               nn_kv_cache *cache) {
    NN_REQUIRE(b, "nn_transformer_block_forward_cached");
    NN_REQUIRE(cache, "nn_transformer_block_forward_cached");
    return block_forward(b, x, cache);
}
