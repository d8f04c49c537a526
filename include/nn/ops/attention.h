/* nn/ops/attention.h — scaled dot-product attention (缩放点积注意力), one fused op.
 *
 * For every query row i (one token asking), every key row j (one token offering):
 *   s_ij = q_i · k_j / sqrt(d)                 similarity, the tutorial's 点积 (d = q's size)
 *   s_ij = -inf where j is masked out          causal: a token must not see the ones after it
 *   a_ij = softmax_j(s_ij)                     weights; each row sums to 1
 *   y_i  = sum_j a_ij v_j                      the tutorial's A1: the v's weighted and summed
 * In matrices, per (batch, head):  Y = softmax(Q K^T / sqrt(d) + mask) V.
 *
 * Why sqrt(d): with q and k of d numbers of unit size, q · k has a spread of sqrt(d); for
 * d = 64 the softmax sees gaps of 8 and more and puts most of the weight on one token, and
 * the gradient through it shrinks (a fully saturated row passes back none: measured in
 * examples/ch05_attention, about half at d = 64). Dividing brings the spread back to 1.
 *
 * Shapes: q (..., Tq, d), k (..., Tk, d), v (..., Tk, dv), with the same leading axes (for
 * a Transformer (B, H): batch and head) -> y (..., Tq, dv).  With `causal`, query i sits at
 * position i + Tk - Tq of the keys' sequence and sees keys 0 .. i + Tk - Tq (so Tq <= Tk;
 * Tq = Tk is the usual square mask; Tq = 1 is one new token against a cache of keys).
 *
 * Backward (saved: the weights a):  with g = dy,
 *   dv_j += sum_i a_ij g_i                 dA_ij = g_i · v_j
 *   dS_ij = a_ij (dA_ij - sum_l a_il dA_il) / sqrt(d)    (softmax's backward, then the scale)
 *   dq_i += sum_j dS_ij k_j                dk_j += sum_i dS_ij q_i
 *
 * If `weights` is not NULL, *weights receives the attention weights a (..., Tq, Tk) as a
 * graph tensor without gradient (it lives until nn_graph_clear), for pictures of who looks
 * at whom.
 */
#ifndef NN_OPS_ATTENTION_H
#define NN_OPS_ATTENTION_H

#include "../core/tensor.h"

nn_tensor *nn_attention(nn_tensor *q, nn_tensor *k, nn_tensor *v, bool causal,
                        nn_tensor **weights);

/* Two implementations of the same formulas: the reference (the sums above as plain loops,
 * one number at a time; read it first) and the fast path (per batch-and-head, the products
 * Q K^T, A V and the four of backward on the GEMM of src/core/gemm.c).
 * They agree up to float rounding (tests/test_attention.c). true selects the reference for
 * later calls (backward follows its forward); returns the previous setting. Default: fast. */
bool nn_set_attention_reference(bool on);
bool nn_is_attention_reference(void);

#endif
