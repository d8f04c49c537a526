/* nn/net/distill.h — knowledge distillation (知识蒸馏): a small student learns from a big
 * teacher's soft answers as well as from the labels (Hinton, Vinyals, Dean 2015, "Distilling
 * the Knowledge in a Neural Network").
 *
 * The teacher's softmax says more than its top class: a shirt that is "70% shirt, 25% T-shirt,
 * 5% pullover" tells the student which classes look alike. A temperature T > 1 softens both
 * distributions so those small probabilities count:
 *   p = softmax(t / T)   the teacher's soft targets      (t: teacher logits, one row)
 *   q = softmax(s / T)   the student's soft predictions  (s: student logits)
 *   L = alpha * T^2 * KL(p || q)  +  (1 - alpha) * CE(softmax(s), label)      (mean over rows)
 *   KL(p || q) = sum_c p_c (log p_c - log q_c)
 * dL/ds = alpha * T * (q - p) / N  +  (1 - alpha) * (softmax(s) - onehot(label)) / N
 * The factor T^2 keeps the soft term's gradient about as large at any T (it shrinks like
 * 1/T^2 otherwise: the 1/T of the chain rule times q - p ~ 1/T for large T), so alpha means
 * the same at T = 2 and T = 20.
 *
 * The teacher is a constant here: no gradient flows into its logits (as if they were passed
 * through nn_detach), so a teacher whose forward ran with gradients on is left alone. One fused
 * op (like nn_cross_entropy_loss): the log-softmaxes are computed stably, p log p is 0 where p
 * underflows to 0, and the backward is the one line above.
 */
#ifndef NN_NET_DISTILL_H
#define NN_NET_DISTILL_H

#include "../core/tensor.h"

/* student, teacher: logits of the same shape (N, C), or (..., C) with N = size / C rows;
 * labels[N] in 0 .. C-1 (may be NULL when alpha = 1: the soft term alone); T > 0 finite;
 * alpha in [0, 1]. A scalar graph tensor; gradient to the student only. */
nn_tensor *nn_distill_loss(nn_tensor *student, nn_tensor *teacher, const int *labels,
                           float T, float alpha);

#endif
