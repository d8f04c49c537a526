/* nn/net/loss.h — loss functions; each returns a scalar graph tensor. */
#ifndef NN_NET_LOSS_H
#define NN_NET_LOSS_H

#include "../core/tensor.h"

/* Mean absolute error: mean(|pred - target|), the tutorial's first loss. Same shapes. */
nn_tensor *nn_mae_loss(nn_tensor *pred, nn_tensor *target);
/* Mean squared error: mean((pred - target)^2). Same shapes. */
nn_tensor *nn_mse_loss(nn_tensor *pred, nn_tensor *target);
/* Cross-entropy from logits (N, C) and integer labels[N] in 0..C-1, averaged over N.
 * Logits (B, T, C) take labels[B * T] (the next-token loss of a sequence model): any rank,
 * the last axis is the classes. Fused with log-softmax (stable): grad = (softmax - onehot) / N. */
nn_tensor *nn_cross_entropy_loss(nn_tensor *logits, const int *labels);
/* Binary cross-entropy from logits and targets in [0, 1] (same shapes), averaged.
 * Stable form: max(z, 0) - z*t + log(1 + e^-|z|). */
nn_tensor *nn_bce_with_logits_loss(nn_tensor *logits, nn_tensor *target);

#endif
