/* src/net/attention.c — multi-head attention: one fused projection, heads, nn_attention, Wo.
 * Shapes (B batch, T tokens, C = dim, H heads, d = C / H) in the comments. */
#include "internal.h"
#include "nn/ops/attention.h"
#include "nn/ops/shape.h"
#include "nn/net/attention.h"

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

nn_tensor *nn_attention_layer_forward(nn_attention_layer *layer, nn_tensor *x) {
    NN_REQUIRE(layer, "nn_attention_layer_forward");
    NN_REQUIRE(x, "nn_attention_layer_forward");
    layer->weights = NULL;
    if (x->ndim != 3 || x->shape[2] != layer->dim) {
        nn_fail("nn_attention_layer_forward", "x of shape (B, T, dim)", "x %s, dim = %d",
                SHAPE(x), layer->dim);
        return NULL;
    }
    int B = x->shape[0], T = x->shape[1], H = layer->heads, d = layer->head_dim;
    nn_tensor *qkv[3];   /* q, k, v: (B, T, C) each */
    if (nn_chunk(nn_linear_layer_forward(layer->qkv, x), 2, 3, qkv) < 0) return NULL;
    nn_tensor *q = to_heads(qkv[0], B, T, H, d);                       /* (B, H, T, d) */
    nn_tensor *k = to_heads(qkv[1], B, T, H, d);
    nn_tensor *v = to_heads(qkv[2], B, T, H, d);
    nn_tensor *y = nn_attention(q, k, v, layer->causal,
                                layer->keep_weights ? &layer->weights : NULL);  /* (B, H, T, d) */
    y = nn_reshape(nn_permute(y, NN_AXES(0, 2, 1, 3)), NN_SHAPE(B, T, layer->dim));  /* (B, T, C) */
    return nn_linear_layer_forward(layer->out, y);                     /* (B, T, C) */
}
