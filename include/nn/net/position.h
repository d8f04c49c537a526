/* nn/net/position.h — position encodings (位置编码): telling attention where each token is.
 *
 * Attention by itself compares every token with every other and sums: shuffle the input
 * tokens and the outputs are shuffled the same way, nothing else changes, so "狗咬人" and
 * "人咬狗" would look alike. The tutorial's fix: add a vector that depends on the position
 * to each token's vector ("给每一个词添加一个位置编码").
 *
 * Sinusoidal (Vaswani et al. 2017), fixed, no parameters: for position t and pair i,
 *   PE[t, 2i]   = sin(t / 10000^(2i / dim))
 *   PE[t, 2i+1] = cos(t / 10000^(2i / dim))
 * Each pair of columns turns at its own speed, from one turn every 2π positions (i = 0) to
 * one every 2π·10000^((dim-2)/dim) (the last pair; 47,117 positions for dim 64): like the
 * hands of a clock, together they tell every
 * position apart, and PE[t + k] is a rotation of PE[t], the same for every t.
 *
 * Learned (GPT-2): a second embedding table (context, dim) whose row t is position t's
 * vector, trained like the token table: nn_embedding_layer (nn/net/embedding.h) with ids
 * 0 .. T-1; nn_position_ids gives those ids.
 */
#ifndef NN_NET_POSITION_H
#define NN_NET_POSITION_H

#include "../core/tensor.h"

typedef enum nn_position_kind { NN_POSITION_LEARNED, NN_POSITION_SINUSOIDAL } nn_position_kind;

/* The sinusoidal table for positions start .. start+T-1: a constant graph tensor (T, dim)
 * (no gradient; it lives until nn_graph_clear). dim even, T >= 1, start >= 0. Add it to
 * token vectors (B, T, dim) with nn_add (it broadcasts over B). */
nn_tensor *nn_sinusoidal_positions(int start, int T, int dim);

/* ids[t] = start + t for t < T: the rows of a learned position table. */
void nn_position_ids(int *ids, int start, int T);

/* "learned", "sinusoidal" (for printing and command-line flags); "?" for anything else. */
const char *nn_position_kind_name(nn_position_kind kind);

#endif
