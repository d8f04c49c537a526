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
/* A linear head and its cross-entropy in one op: the loss of
 *   nn_cross_entropy_loss(nn_linear(x, w, b), labels)
 * (or of x w^T + b with transpose_w, w then (N, K): one row per class, a tied token table),
 * without ever holding all the logits. x (..., K) has one row per position, labels one class
 * per row, b (N) or NULL. The rows go through in chunks; each chunk's logits give its loss
 * and, at once, its share of the gradients of x, w and b, so forward does the work of
 * backward too (and backward only scales it); with grad mode off it only computes the loss.
 * Loss and gradients equal the unfused ones up to rounding; for a vocabulary of thousands it
 * saves the three passes over B*T*N floats and their memory (src/net/head_loss.c). */
nn_tensor *nn_linear_cross_entropy(nn_tensor *x, nn_tensor *w, bool transpose_w, nn_tensor *b,
                                   const int *labels);
/* Binary cross-entropy from logits and targets in [0, 1] (same shapes), averaged.
 * Stable form: max(z, 0) - z*t + log(1 + e^-|z|). */
nn_tensor *nn_bce_with_logits_loss(nn_tensor *logits, nn_tensor *target);

#endif
