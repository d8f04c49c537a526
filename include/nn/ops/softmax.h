/* nn/ops/softmax.h — softmax, log-softmax and log-sum-exp along an axis.
 *
 * Along an axis of n values x_1..x_n, with m = max_k x_k (subtracted so that e^x never
 * overflows):
 *   logsumexp(x) = m + log sum_k e^(x_k - m)
 *   softmax_j    = e^(x_j - m) / sum_k e^(x_k - m)
 *   log_softmax_j = (x_j - m) - log sum_k e^(x_k - m)
 * log_softmax subtracts in that order: for logits near 1000, m + log(s) would round away the
 * small log(s) before the subtraction. A NaN anywhere along the axis makes that whole slice NaN.
 */
#ifndef NN_OPS_SOFTMAX_H
#define NN_OPS_SOFTMAX_H

#include "../core/tensor.h"

nn_tensor *nn_softmax(nn_tensor *x);                       /* along the last axis */
nn_tensor *nn_softmax_axis(nn_tensor *x, int axis);
nn_tensor *nn_log_softmax(nn_tensor *x);                   /* along the last axis */
nn_tensor *nn_log_softmax_axis(nn_tensor *x, int axis);
/* log sum_k e^(x_k) along `axis`, computed stably; d/dx_j = softmax_j. */
nn_tensor *nn_logsumexp(nn_tensor *x, int axis, bool keepdim);

#endif
