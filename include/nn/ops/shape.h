/* nn/ops/shape.h — ops that move values around without changing them: transpose, reshape,
 * slices, concatenation, stacking, splitting, permuting axes. They copy (no views), so every
 * tensor stays contiguous and every kernel stays simple. Backward moves each gradient back to
 * where its value came from (and adds, where one value was used twice).
 * An axis may be negative: -1 is the last one.
 */
#ifndef NN_OPS_SHAPE_H
#define NN_OPS_SHAPE_H

#include "../core/tensor.h"

/* Swap the last two dims (ndim >= 2): y[..., j, i] = x[..., i, j]. */
nn_tensor *nn_transpose(nn_tensor *x);
/* Same data, new shape with the same number of elements; one entry may be -1 (inferred). */
nn_tensor *nn_reshape(nn_tensor *x, int ndim, const int *shape);
/* x[start : start + count] along dim 0 (the simple case of nn_slice). */
nn_tensor *nn_rows(nn_tensor *x, int start, int count);
/* x[index[0]], ..., x[index[n-1]] along dim 0 (a gather); rows picked twice get both grads. */
nn_tensor *nn_take_rows(nn_tensor *x, const int *index, int n);
/* The same values in a new tensor (identity). */
nn_tensor *nn_copy(nn_tensor *x);

/* ---- along any axis ------------------------------------------------------------------- */
/* x[..., start : start + len, ...] along `axis`: x[:, t, :] of (B, T, C) is
 * nn_slice(x, 1, t, 1), shape (B, 1, C). */
nn_tensor *nn_slice(nn_tensor *x, int axis, int start, int len);
/* Join n tensors along `axis`; all other dims must agree. (B, 3) and (B, 5) -> (B, 8). */
nn_tensor *nn_concat(int axis, int n, nn_tensor *const *xs);
/* Stack n tensors of the same shape along a NEW axis: n of (B, C) -> (B, n, C) with axis 1
 * (axis may be 0 .. ndim, or negative counting from the end of the result). */
nn_tensor *nn_stack(int axis, int n, nn_tensor *const *xs);
/* Cut x along `axis` into n parts of sizes[0], ..., sizes[n-1] (they must add up to
 * x's size there), written to parts[0..n). Returns 0, or -1 after reporting misuse. */
int nn_split(nn_tensor *x, int axis, int n, const int *sizes, nn_tensor **parts);
/* Cut x along `axis` into n equal parts (the size there must divide by n): the LSTM's four
 * gates from one (B, 4H) product, or Q, K, V from one (B, T, 3C) projection. */
int nn_chunk(nn_tensor *x, int axis, int n, nn_tensor **parts);
/* Reorder the axes: output axis i is input axis perm[i], for ndim = x->ndim axes.
 * (B, T, H, d) -> (B, H, T, d):  nn_permute(x, NN_AXES(0, 2, 1, 3)). */
nn_tensor *nn_permute(nn_tensor *x, int ndim, const int *perm);

#endif
