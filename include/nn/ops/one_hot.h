/* nn/ops/one_hot.h — token ids as one-hot rows (独热编码). */
#ifndef NN_OPS_ONE_HOT_H
#define NN_OPS_ONE_HOT_H

#include "../core/tensor.h"

/* ids[n] in 0..depth-1 -> a (n, depth) graph tensor, row r all 0 but a 1 at column ids[r].
 * A constant (no gradient): nn_matmul(one_hot, W) picks rows of W (V, E), the same as
 * nn_embedding(W, ids, NN_SHAPE(n)) at a fraction of the cost. An id out of range is misuse. */
nn_tensor *nn_one_hot(const int *ids, int n, int depth);

#endif
