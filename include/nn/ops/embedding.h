/* nn/ops/embedding.h — the embedding lookup (词嵌入): token ids -> rows of a table.
 *
 * A vocabulary of V tokens, each given E learned numbers: the table W (V, E), whose row v is
 * token v's vector. Looking up a batch of ids is picking rows:
 *   y[p, :] = W[ids[p], :]                 for every position p of ids
 * which is what one_hot(ids) @ W computes, without building the (N, V) matrix of 0s and 1s.
 * Backward sends each position's gradient back to the row it came from:
 *   dW[ids[p], :] += dy[p, :]              (a token at several positions gets all of them)
 * The ids are data, not tensors: they get no gradient.
 */
#ifndef NN_OPS_EMBEDDING_H
#define NN_OPS_EMBEDDING_H

#include "../core/tensor.h"

/* W: (V, E).  ids: ndim (1 to 3) dims of `shape`, row-major, each id in 0 .. V-1.
 *   (N) ids -> (N, E);  (B, T) ids -> (B, T, E):  nn_embedding(W, ids, NN_SHAPE(B, T)).
 * An id out of range is misuse; the message names its position. The ids are copied: the
 * array may change before backward runs. Differentiable in W. */
nn_tensor *nn_embedding(nn_tensor *W, const int *ids, int ndim, const int *shape);

#endif
