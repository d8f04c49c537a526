/* nn/net/dropout.h — dropout (随机失活). */
#ifndef NN_NET_DROPOUT_H
#define NN_NET_DROPOUT_H

#include "../core/tensor.h"

/* Inverted dropout: in training mode each element is zeroed with probability p and the
 * survivors are scaled by 1 / (1 - p), so eval mode (identity) needs no rescaling. */
nn_tensor *nn_dropout(nn_tensor *x, float p);

#endif
