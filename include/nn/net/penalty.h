/* nn/net/penalty.h — L1 and L2 penalties over a model's weights (regularization, 正则化). */
#ifndef NN_NET_PENALTY_H
#define NN_NET_PENALTY_H

#include "../core/model.h"

/* Penalties over the model's decayed parameters (weights, not biases):
 * L1 = sum |w|,  L2 = sum w^2. Multiply by your lambda and add to the loss. */
nn_tensor *nn_l1_penalty(nn_model *m);
nn_tensor *nn_l2_penalty(nn_model *m);

#endif
