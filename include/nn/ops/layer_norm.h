/* nn/ops/layer_norm.h — layer normalisation (层归一化) over the last axis.
 *
 * For each row x (the last axis, C numbers: one token's vector in a Transformer):
 *   mean = (1/C) sum_j x_j          var = (1/C) sum_j (x_j - mean)^2      (biased, as PyTorch)
 *   xhat_j = (x_j - mean) / sqrt(var + eps)
 *   y_j = gamma_j xhat_j + beta_j
 * Every row comes out with mean beta and spread gamma whatever scale it came in with, so a
 * deep stack of blocks keeps its activations in range (chapter 2's vanishing and exploding
 * signals, now per token instead of per batch as in batch normalisation).
 *
 * One fused op with its own backward (not ten small ones): with g = dy * gamma,
 *   dx_j = rstd (g_j - mean(g) - xhat_j mean(g * xhat))       rstd = 1 / sqrt(var + eps)
 *   dgamma_j += sum over rows of dy_j xhat_j,   dbeta_j += sum over rows of dy_j
 */
#ifndef NN_OPS_LAYER_NORM_H
#define NN_OPS_LAYER_NORM_H

#include "../core/tensor.h"

/* x (..., C); gamma and beta (C), either may be NULL (then 1 and 0). eps > 0 (1e-5 is
 * PyTorch's default). Returns (..., C). */
nn_tensor *nn_layer_norm(nn_tensor *x, nn_tensor *gamma, nn_tensor *beta, float eps);

#endif
