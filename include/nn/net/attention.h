/* nn/net/attention.h — the multi-head attention layer (多头注意力).
 *
 * The tutorial's recipe: each token's vector x (dim C) is multiplied by three trained
 * matrices, q = x Wq, k = x Wk, v = x Wv; the dot products of one token's q with every k
 * say how much it attends to each token; the weighted sum of the v's is its output (A1 for
 * the first token). "Only once is too rigid": H groups ("heads") of q, k, v, each of size
 * d = C / H, look for different things side by side; their outputs are concatenated and mixed
 * by one more matrix Wo.
 *
 * Here the three projections of all heads are ONE matrix, Wqkv (C, 3C): its columns are Wq
 * then Wk then Wv, and within each, head h owns columns h*d .. h*d + d - 1. One matmul makes
 * every head's q, k and v at once; cutting and reshaping hands each head its slice. The same
 * numbers as H separate (C, d) matrices per kind (tests/test_transformer.c checks it).
 *
 *   x (B, T, C) -> qkv = x Wqkv + bqkv (B, T, 3C) -> q, k, v (B, T, C) each
 *   -> (B, T, H, d) -> (B, H, T, d) -> nn_attention -> (B, H, T, d) -> (B, T, H, d)
 *   -> (B, T, C): the heads concatenated -> y = . Wo + bo (B, T, C)
 */
#ifndef NN_NET_ATTENTION_H
#define NN_NET_ATTENTION_H

#include "../core/model.h"
#include "linear.h"

typedef struct nn_attention_layer {
    nn_linear_layer *qkv;   /* "<name>.qkv": (C, 3C) and (3C) */
    nn_linear_layer *out;   /* "<name>.out": Wo (C, C) and (C) */
    int dim, heads, head_dim;
    bool causal;
    /* Set keep_weights to true and each forward stores its attention weights here:
     * (B, H, T, T), a graph tensor (gone at nn_graph_clear). NULL otherwise. */
    bool keep_weights;
    nn_tensor *weights;
    /* Low-rank adapters (nn/net/lora.h), NULL when none: lora_qkv[0], [1], [2] add their
     * s (x A) B to q, k and v (the thirds of x Wqkv), lora_out to the output of Wo. */
    struct nn_lora *lora_qkv[3], *lora_out;
} nn_attention_layer;

/* A KV cache (键值缓存) for one layer, for generation: the keys and values of the tokens
 * already read, so that each new token computes only its own q, k, v and attends to the
 * stored ones, instead of recomputing the whole window. Without it, writing n tokens costs
 * about n times the work of one forward over the window; with it, one token's worth each.
 *   k, v   (B, H, capacity, d), tensors the cache owns; rows 0 .. len-1 are filled */
typedef struct nn_kv_cache {
    nn_tensor *k, *v;
    int len, capacity;
} nn_kv_cache;

/* dim % heads == 0. The weights start normal(0, 0.02) (GPT-2's), the biases at 0. */
nn_attention_layer *nn_attention_layer_new(nn_model *m, const char *name, int dim, int heads,
                                           bool causal);
/* x (B, T, C) -> (B, T, C) */
nn_tensor *nn_attention_layer_forward(nn_attention_layer *layer, nn_tensor *x);

/* Inference with a cache: x (B, T, C) holds the T tokens after the cache->len ones already
 * read (positions len .. len+T-1). Their k and v are appended to the cache; their queries
 * attend to all len + T keys (causal: each to the ones up to its own position). Returns
 * (B, T, C), the same numbers as the uncached forward over the whole sequence gives at those
 * positions. Needs len + T <= capacity and gradients off (nn_set_grad_enabled(false)): the
 * cache holds plain numbers, not the tape's history. The cache's B must match x's. */
nn_tensor *nn_attention_layer_forward_cached(nn_attention_layer *layer, nn_tensor *x,
                                             nn_kv_cache *cache);

#endif
