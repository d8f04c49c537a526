/* nn/ops.h — differentiable ops. Each returns a new graph tensor (freed by nn_graph_clear)
 * and, when grad mode is on and an input requires grad, records itself on the tape.
 *
 * Broadcasting (add, sub, mul, div) follows NumPy: shapes are aligned at the LAST dimension;
 * two sizes match when equal or when one of them is 1 (or the dimension is missing).
 * (4, 3) + (3) -> (4, 3);  (4, 1) * (1, 5) -> (4, 5);  (2, 3) + (4) -> error.
 *
 * Every op is also a macro that records your file:line, so an error message points at the
 * line of your program that made the bad call. (nn_add)(a, b) calls the plain function.
 * An axis may be negative: -1 is the last dimension.
 */
#ifndef NN_OPS_H
#define NN_OPS_H

#include "tensor.h"

/* ---- elementwise, two inputs (broadcasting) ------------------------------------------ */
nn_tensor *nn_add(nn_tensor *a, nn_tensor *b);        /* a + b */
nn_tensor *nn_sub(nn_tensor *a, nn_tensor *b);        /* a - b */
nn_tensor *nn_mul(nn_tensor *a, nn_tensor *b);        /* a * b (elementwise) */
nn_tensor *nn_div(nn_tensor *a, nn_tensor *b);        /* a / b */

/* ---- elementwise with a constant, and one input ---------------------------------------- */
nn_tensor *nn_add_scalar(nn_tensor *x, float s);      /* x + s */
nn_tensor *nn_mul_scalar(nn_tensor *x, float s);      /* x * s */
nn_tensor *nn_neg(nn_tensor *x);                      /* -x */
nn_tensor *nn_pow(nn_tensor *x, float p);             /* x^p (x > 0 unless p is an integer) */
nn_tensor *nn_square(nn_tensor *x);                   /* x^2 */
nn_tensor *nn_sqrt(nn_tensor *x);                     /* sqrt(x), x > 0 */
nn_tensor *nn_exp(nn_tensor *x);
nn_tensor *nn_log(nn_tensor *x);                      /* natural log, x > 0 */
nn_tensor *nn_abs(nn_tensor *x);                      /* d|x|/dx = sign(x), 0 at 0 */
nn_tensor *nn_sin(nn_tensor *x);
nn_tensor *nn_cos(nn_tensor *x);

/* ---- activations ---------------------------------------------------------------------- */
nn_tensor *nn_sigmoid(nn_tensor *x);                  /* 1 / (1 + e^-x) */
nn_tensor *nn_tanh(nn_tensor *x);
nn_tensor *nn_relu(nn_tensor *x);                     /* max(0, x) */
nn_tensor *nn_leaky_relu(nn_tensor *x, float slope);  /* x > 0 ? x : slope * x */
nn_tensor *nn_gelu(nn_tensor *x);                     /* tanh approximation (GPT-2's) */
nn_tensor *nn_softmax(nn_tensor *x);                  /* along the last axis */
nn_tensor *nn_log_softmax(nn_tensor *x);              /* along the last axis, stable */

/* ---- matrices and shapes --------------------------------------------------------------- */
/* (M, K) @ (K, N) -> (M, N);  (B, M, K) @ (B, K, N) -> (B, M, N);
 * (B, M, K) @ (K, N) -> (B, M, N)  (the same matrix for every batch item). */
nn_tensor *nn_matmul(nn_tensor *a, nn_tensor *b);
nn_tensor *nn_transpose(nn_tensor *x);                /* swaps the last two dims (ndim >= 2) */
/* Same data, new shape with the same number of elements; one entry may be -1 (inferred). */
nn_tensor *nn_reshape(nn_tensor *x, int ndim, const int *shape);
nn_tensor *nn_rows(nn_tensor *x, int start, int count);             /* x[start:start+count] */
nn_tensor *nn_take_rows(nn_tensor *x, const int *index, int n);     /* x[index[0..n)] */
nn_tensor *nn_copy(nn_tensor *x);                                   /* identity, new tensor */

/* ---- reductions ------------------------------------------------------------------------ */
nn_tensor *nn_sum(nn_tensor *x);                      /* all elements -> scalar */
nn_tensor *nn_mean(nn_tensor *x);                     /* all elements -> scalar */
nn_tensor *nn_sum_axis(nn_tensor *x, int axis, bool keepdim);
nn_tensor *nn_mean_axis(nn_tensor *x, int axis, bool keepdim);
nn_tensor *nn_max_axis(nn_tensor *x, int axis, bool keepdim);  /* grad flows to the argmax */

/* Index of the largest value in each row of a (N, C) tensor, into out[N]. Not differentiable. */
void nn_argmax_rows(const nn_tensor *x, int *out);

#define nn_add(...) NN_AT(nn_add(__VA_ARGS__))
#define nn_sub(...) NN_AT(nn_sub(__VA_ARGS__))
#define nn_mul(...) NN_AT(nn_mul(__VA_ARGS__))
#define nn_div(...) NN_AT(nn_div(__VA_ARGS__))
#define nn_add_scalar(...) NN_AT(nn_add_scalar(__VA_ARGS__))
#define nn_mul_scalar(...) NN_AT(nn_mul_scalar(__VA_ARGS__))
#define nn_neg(...) NN_AT(nn_neg(__VA_ARGS__))
#define nn_pow(...) NN_AT(nn_pow(__VA_ARGS__))
#define nn_square(...) NN_AT(nn_square(__VA_ARGS__))
#define nn_sqrt(...) NN_AT(nn_sqrt(__VA_ARGS__))
#define nn_exp(...) NN_AT(nn_exp(__VA_ARGS__))
#define nn_log(...) NN_AT(nn_log(__VA_ARGS__))
#define nn_abs(...) NN_AT(nn_abs(__VA_ARGS__))
#define nn_sin(...) NN_AT(nn_sin(__VA_ARGS__))
#define nn_cos(...) NN_AT(nn_cos(__VA_ARGS__))
#define nn_sigmoid(...) NN_AT(nn_sigmoid(__VA_ARGS__))
#define nn_tanh(...) NN_AT(nn_tanh(__VA_ARGS__))
#define nn_relu(...) NN_AT(nn_relu(__VA_ARGS__))
#define nn_leaky_relu(...) NN_AT(nn_leaky_relu(__VA_ARGS__))
#define nn_gelu(...) NN_AT(nn_gelu(__VA_ARGS__))
#define nn_softmax(...) NN_AT(nn_softmax(__VA_ARGS__))
#define nn_log_softmax(...) NN_AT(nn_log_softmax(__VA_ARGS__))
#define nn_matmul(...) NN_AT(nn_matmul(__VA_ARGS__))
#define nn_transpose(...) NN_AT(nn_transpose(__VA_ARGS__))
#define nn_reshape(...) NN_AT(nn_reshape(__VA_ARGS__))
#define nn_rows(...) NN_AT(nn_rows(__VA_ARGS__))
#define nn_take_rows(...) NN_AT(nn_take_rows(__VA_ARGS__))
#define nn_copy(...) NN_AT(nn_copy(__VA_ARGS__))
#define nn_sum(...) NN_AT(nn_sum(__VA_ARGS__))
#define nn_mean(...) NN_AT(nn_mean(__VA_ARGS__))
#define nn_sum_axis(...) NN_AT(nn_sum_axis(__VA_ARGS__))
#define nn_mean_axis(...) NN_AT(nn_mean_axis(__VA_ARGS__))
#define nn_max_axis(...) NN_AT(nn_max_axis(__VA_ARGS__))

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_argmax_rows(...) NN_AT(nn_argmax_rows(__VA_ARGS__))

#endif
