/* nn/ops/elementwise.h — ops that work element by element: arithmetic with broadcasting,
 * functions of one input, and the activations.
 *
 * Each op returns a new graph tensor (freed by nn_graph_clear) and, when grad mode is on and
 * an input requires grad, records itself on the tape.
 *
 * Broadcasting (add, sub, mul, div) follows NumPy: shapes are aligned at the LAST dimension;
 * two sizes match when equal or when one of them is 1 (or the dimension is missing).
 * (4, 3) + (3) -> (4, 3);  (4, 1) * (1, 5) -> (4, 5);  (2, 3) + (4) -> error.
 */
#ifndef NN_OPS_ELEMENTWISE_H
#define NN_OPS_ELEMENTWISE_H

#include "../core/tensor.h"

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
/* GELU, two forms. Exact: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)) (PyTorch's default).
 * tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's). */
nn_tensor *nn_gelu_erf(nn_tensor *x);
nn_tensor *nn_gelu_tanh(nn_tensor *x);

/* ---- limits and masks ------------------------------------------------------------------ */
/* min(max(x, lo), hi); the gradient passes where lo <= x <= hi and is 0 outside. */
nn_tensor *nn_clamp(nn_tensor *x, float lo, float hi);
/* y = value where mask != 0, else x. mask is a tensor of 0s and 1s that broadcasts to x's
 * shape (NumPy rules, as for nn_add); it gets no gradient. The causal mask of attention:
 * nn_masked_fill(scores (B, H, T, T), upper (T, T), -INFINITY). dx = dy where mask is 0. */
nn_tensor *nn_masked_fill(nn_tensor *x, const nn_tensor *mask, float value);

#endif
