/* nn/net/transformer.h — the Transformer block (pre-LayerNorm, as in GPT-2).
 *
 *   x = x + Attention(LayerNorm1(x))        tokens look at each other
 *   x = x + FeedForward(LayerNorm2(x))      each token thinks on its own
 *   FeedForward(x) = GELU(x W1 + b1) W2 + b2      (C -> F -> C, F = 4C usually)
 *
 * The "x +" are residual connections (残差连接, the idea of ResNet, He et al. 2015): each block adds a
 * correction to the stream instead of replacing it, so the gradient reaches the first block
 * undiminished through the sums, and a deep stack trains. LayerNorm before each part keeps
 * the numbers it sees at unit scale, whatever the stream has grown to.
 */
#ifndef NN_NET_TRANSFORMER_H
#define NN_NET_TRANSFORMER_H

#include "../core/model.h"
#include "attention.h"
#include "layer_norm.h"
#include "linear.h"

typedef struct nn_transformer_block {
    nn_layer_norm_layer *ln1, *ln2;   /* "<name>.ln1", "<name>.ln2" */
    nn_attention_layer *attn;         /* "<name>.attn" */
    nn_linear_layer *fc, *proj;       /* "<name>.fc" (C, F), "<name>.proj" (F, C) */
    float dropout;                    /* after attention and after the feed-forward; 0 = none */
    /* Fine-tuning additions (nn/net/lora.h), NULL when none: LoRAs on fc and proj, and a
     * bottleneck adapter on the feed-forward's output, before the residual add. */
    struct nn_lora *lora_fc, *lora_proj;
    struct nn_adapter *adapter;
} nn_transformer_block;

/* A block of width dim with `heads` heads and a feed-forward of `ffn` hidden units (0 = 4 dim).
 * Weights start normal(0, 0.02); the two that write into the residual stream (attn.out.W and
 * proj.W) start with std 0.02 / sqrt(2 layers), GPT-2's choice, so that the stream's spread
 * after `layers` blocks stays about what it was: pass the model's block count. */
nn_transformer_block *nn_transformer_block_new(nn_model *m, const char *name, int dim, int heads,
                                               int ffn, bool causal, float dropout, int layers);
/* x (B, T, C) -> (B, T, C) */
nn_tensor *nn_transformer_block_forward(nn_transformer_block *block, nn_tensor *x);
/* The same for inference with a KV cache: x holds the tokens after the cache->len ones
 * already read (nn_attention_layer_forward_cached); gradients off. */
nn_tensor *nn_transformer_block_forward_cached(nn_transformer_block *block, nn_tensor *x,
                                               nn_kv_cache *cache);

#endif
