/* nn/ops/reduce.h — sums, means and maxima, over everything or along an axis.
 * An axis may be negative: -1 is the last one. */
#ifndef NN_OPS_REDUCE_H
#define NN_OPS_REDUCE_H

#include "../core/tensor.h"

/* ---- reductions ------------------------------------------------------------------------ */
nn_tensor *nn_sum(nn_tensor *x);                      /* all elements -> scalar */
nn_tensor *nn_mean(nn_tensor *x);                     /* all elements -> scalar */
nn_tensor *nn_sum_axis(nn_tensor *x, int axis, bool keepdim);
nn_tensor *nn_mean_axis(nn_tensor *x, int axis, bool keepdim);
nn_tensor *nn_max_axis(nn_tensor *x, int axis, bool keepdim);  /* grad flows to the argmax */

/* Index of the largest value in each row of a (N, C) tensor, into out[N]. Not differentiable. */
void nn_argmax_rows(const nn_tensor *x, int *out);

#endif
