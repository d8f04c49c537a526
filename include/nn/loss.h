/* nn/loss.h — losses (each returns a scalar graph tensor) and regularization penalties. */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include "model.h"

/* Mean absolute error: mean(|pred - target|), the tutorial's first loss. Same shapes. */
nn_tensor *nn_mae_loss(nn_tensor *pred, nn_tensor *target);
/* Mean squared error: mean((pred - target)^2). Same shapes. */
nn_tensor *nn_mse_loss(nn_tensor *pred, nn_tensor *target);
/* Cross-entropy from logits (N, C) and integer labels[N] in 0..C-1, averaged over N.
 * Fused with log-softmax (stable): grad = (softmax - onehot) / N. */
nn_tensor *nn_cross_entropy(nn_tensor *logits, const int *labels);
/* Binary cross-entropy from logits and targets in [0, 1] (same shapes), averaged.
 * Stable form: max(z, 0) - z*t + log(1 + e^-|z|). */
nn_tensor *nn_bce_with_logits(nn_tensor *logits, nn_tensor *target);

/* Penalties over the model's decayed parameters (weights, not biases):
 * L1 = sum |w|,  L2 = sum w^2. Multiply by your lambda and add to the loss. */
nn_tensor *nn_l1_penalty(nn_model *m);
nn_tensor *nn_l2_penalty(nn_model *m);

#define nn_mae_loss(...) NN_AT(nn_mae_loss(__VA_ARGS__))
#define nn_mse_loss(...) NN_AT(nn_mse_loss(__VA_ARGS__))
#define nn_cross_entropy(...) NN_AT(nn_cross_entropy(__VA_ARGS__))
#define nn_bce_with_logits(...) NN_AT(nn_bce_with_logits(__VA_ARGS__))

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_l1_penalty(...) NN_AT(nn_l1_penalty(__VA_ARGS__))
#define nn_l2_penalty(...) NN_AT(nn_l2_penalty(__VA_ARGS__))

#endif
