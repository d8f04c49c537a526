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
} nn_attention_layer;

/* dim % heads == 0. The weights start normal(0, 0.02) (GPT-2's), the biases at 0. */
nn_attention_layer *nn_attention_layer_new(nn_model *m, const char *name, int dim, int heads,
                                           bool causal);
/* x (B, T, C) -> (B, T, C) */
nn_tensor *nn_attention_layer_forward(nn_attention_layer *layer, nn_tensor *x);

#endif
