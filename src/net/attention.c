/* src/net/attention.c — multi-head attention: one fused projection, heads, nn_attention, Wo.
 * Shapes (B batch, T tokens, C = dim, H heads, d = C / H) in the comments. */
#include "internal.h"
#include "nn/ops/attention.h"
#include "nn/ops/shape.h"
#include "nn/net/attention.h"
#include "nn/net/lora.h"

nn_attention_layer *nn_attention_layer_new(nn_model *m, const char *name, int dim, int heads,
                                           bool causal) {
    NN_REQUIRE(m, "nn_attention_layer_new");
    if (dim < 1 || heads < 1 || dim % heads != 0) {
        nn_fail("nn_attention_layer_new", "heads >= 1 dividing dim (each head gets dim / heads "
                "numbers)", "dim = %d, heads = %d", dim, heads);
        return NULL;
    }
    char pname[256];
    const char *base = name ? name : "attn";
    nn_attention_layer *l = nn_model_alloc(m, sizeof *l);
    l->dim = dim;
    l->heads = heads;
    l->head_dim = dim / heads;
    l->causal = causal;
    snprintf(pname, sizeof pname, "%s.qkv", base);
    l->qkv = nn_linear_layer_new(m, pname, dim, 3 * dim, NN_INIT_ZEROS);
    snprintf(pname, sizeof pname, "%s.out", base);
    l->out = nn_linear_layer_new(m, pname, dim, dim, NN_INIT_ZEROS);
    if (!l->qkv || !l->out) return NULL;
    nn_fill_normal(l->qkv->W, 0.0f, 0.02f, NULL);
    nn_fill_normal(l->out->W, 0.0f, 0.02f, NULL);
    return l;
}

/* (B, T, C) -> (B, H, T, d): split the columns into heads, heads in front of the tokens */
static nn_tensor *to_heads(nn_tensor *x, int B, int T, int H, int d) {
    return nn_permute(nn_reshape(x, NN_SHAPE(B, T, H, d)), NN_AXES(0, 2, 1, 3));
}

static bool x_fits(const nn_attention_layer *layer, const nn_tensor *x, const char *op) {
    if (x->ndim == 3 && x->shape[2] == layer->dim) return true;
    nn_fail(op, "x of shape (B, T, dim)", "x %s, dim = %d", SHAPE(x), layer->dim);
    return false;
}

/* The shared ends of both forwards: x -> q, k, v (B, H, T, d) each, and the heads' outputs
 * y (B, H, T, d) -> concatenated (B, T, C) -> Wo. */
static int project_qkv(const nn_attention_layer *l, nn_tensor *x, nn_tensor **q, nn_tensor **k,
                       nn_tensor **v) {
    int B = x->shape[0], T = x->shape[1], H = l->heads, d = l->head_dim;
    nn_tensor *qkv[3];   /* q, k, v: (B, T, C) each */
    if (nn_chunk(nn_linear_layer_forward(l->qkv, x), 2, 3, qkv) < 0) return -1;
    for (int i = 0; i < 3; i++) qkv[i] = nn_lora_forward(l->lora_qkv[i], x, qkv[i]);  /* LoRA */
    *q = to_heads(qkv[0], B, T, H, d);
    *k = to_heads(qkv[1], B, T, H, d);
    *v = to_heads(qkv[2], B, T, H, d);
    return 0;
}

static nn_tensor *merge_heads(const nn_attention_layer *l, nn_tensor *y, int B, int T) {
    y = nn_reshape(nn_permute(y, NN_AXES(0, 2, 1, 3)), NN_SHAPE(B, T, l->dim));  /* (B, T, C) */
    return nn_lora_linear_forward(l->out, l->lora_out, y);                       /* (B, T, C) */
}

nn_tensor *nn_attention_layer_forward(nn_attention_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_attention_layer_forward");
    NN_REQUIRE(x, "nn_attention_layer_forward");
    layer->weights = NULL;
    if (!x_fits(layer, x, "nn_attention_layer_forward")) return NULL;
    nn_tensor *q, *k, *v;                                              /* (B, H, T, d) */
    if (project_qkv(layer, x, &q, &k, &v) < 0) return NULL;
    nn_tensor *y = nn_attention(q, k, v, layer->causal,
                                layer->keep_weights ? &layer->weights : NULL);  /* (B, H, T, d) */
    return merge_heads(layer, y, x->shape[0], x->shape[1]);
}

/* ---- with a KV cache ------------------------------------------------------------------------ */

/* Copy new (B, H, T, d) into rows at .. at+T-1 of the cache tensor c (B, H, cap, d). */
static void append_rows(nn_tensor *c, const nn_tensor *new_rows, int at) {
    int G = c->shape[0] * c->shape[1], cap = c->shape[2], T = new_rows->shape[2],
        d = c->shape[3];
    for (int g = 0; g < G; g++)
        memcpy(c->data + ((size_t)g * cap + at) * d, new_rows->data + (size_t)g * T * d,
               sizeof(float) * (size_t)T * d);
}

/* The first n rows of every (batch, head) of c (B, H, cap, d), as a graph tensor (B, H, n, d). */
static nn_tensor *first_rows(const nn_tensor *c, int n) {
    int B = c->shape[0], H = c->shape[1], cap = c->shape[2], d = c->shape[3];
    nn_tensor *t = nn_graph_tensor(4, (int[]){B, H, n, d}, false);
    for (int g = 0; g < B * H; g++)
        memcpy(t->data + (size_t)g * n * d, c->data + (size_t)g * cap * d,
               sizeof(float) * (size_t)n * d);
    return t;
}

nn_tensor *nn_attention_layer_forward_cached(nn_attention_layer *layer, nn_tensor *x,
                                             nn_kv_cache *cache) {
    const char *op = "nn_attention_layer_forward_cached";
    NN_REQUIRE(layer, op);
    NN_REQUIRE(x, op);
    NN_REQUIRE(cache, op);
    layer->weights = NULL;
    if (!x_fits(layer, x, op)) return NULL;
    int B = x->shape[0], T = x->shape[1];
    if (nn_is_grad_enabled()) {
        nn_fail(op, "call it with gradients off (nn_set_grad_enabled(false)): the cache is for "
                "inference, training uses nn_attention_layer_forward", "gradients are on");
        return NULL;
    }
    if (!cache->k || !cache->v || cache->k->shape[0] != B || cache->k->shape[1] != layer->heads ||
        cache->k->shape[3] != layer->head_dim || cache->v->size != cache->k->size ||
        cache->len + T > cache->capacity) {
        nn_fail(op, "a cache made for this layer and batch size, with room for the new tokens "
                "(nn_gpt_cache_reset when full)", "B = %d, T = %d, cache len %d of capacity %d",
                B, T, cache->len, cache->capacity);
        return NULL;
    }
    nn_tensor *q, *k, *v;                                              /* (B, H, T, d) */
    if (project_qkv(layer, x, &q, &k, &v) < 0) return NULL;
    append_rows(cache->k, k, cache->len);
    append_rows(cache->v, v, cache->len);
    int seen = cache->len + T;
    cache->len = seen;
    nn_tensor *ks = first_rows(cache->k, seen), *vs = first_rows(cache->v, seen);  /* (B, H, len+T, d) */
    /* T queries against len + T keys: with the causal mask, query i sits at position len + i */
    nn_tensor *y = nn_attention(q, ks, vs, layer->causal,
                                layer->keep_weights ? &layer->weights : NULL);  /* (B, H, T, d) */
    return merge_heads(layer, y, B, T);
}
