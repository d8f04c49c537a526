/* nn/net/preference.h — learning from preferences (RLHF, 基于人类反馈的强化学习): the log
 * probability a language model gives a whole sequence, and the DPO loss that moves a policy
 * toward the answers a judge preferred.
 *
 * RLHF's classic recipe (InstructGPT, Ouyang et al. 2022) trains a reward model on pairs a
 * human ranked, then the policy with reinforcement learning (PPO) against it, held near a
 * reference model by a KL penalty. DPO (Rafailov et al. 2023, "Direct Preference
 * Optimization") shows that the same objective has a closed-form optimum, so the policy can be
 * trained on the ranked pairs directly, with no reward model and no sampling inside the loop:
 *   z = beta * [ (log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l)) ]
 *   L = mean over pairs of -log sigmoid(z) = mean softplus(-z)
 * y_w is the preferred (chosen) answer of a pair, y_l the other (rejected) one; pi is the
 * policy being trained, ref the frozen model it started from; beta (e.g. 0.1 .. 0.5) sets how
 * far it may move: beta * (log pi - log ref) is the "implicit reward" of an answer.
 *   dL/d log pi(y_w) = -beta * sigmoid(-z) / N,   dL/d log pi(y_l) = +beta * sigmoid(-z) / N
 *
 *   nn_tensor *lp = nn_sequence_log_prob(nn_gpt_forward(g, ids, B, T), targets, weights);
 *   nn_tensor *loss = nn_dpo_loss(lp_chosen, lp_rejected, ref_chosen, ref_rejected, 0.1f);
 */
#ifndef NN_NET_PREFERENCE_H
#define NN_NET_PREFERENCE_H

#include "../core/tensor.h"

/* logits (B, T, V) (or (T, V) for B = 1), targets[B * T] ids in 0 .. V-1, weights[B * T]
 * (NULL: all 1) -> (B): sum over t of weights[b, t] * log softmax(logits[b, t])[targets[b, t]].
 * With weights 1 on the answer's tokens and 0 on the prompt's, it is log p(answer | prompt).
 * A weight of 0 leaves that position's target unread (any value is fine there).
 *   backward: d/dlogits[b, t, :] = g[b] * weights[b, t] * (onehot(target) - softmax) */
nn_tensor *nn_sequence_log_prob(nn_tensor *logits, const int *targets, const float *weights);

/* The DPO loss (above) of N pairs: each argument a tensor of shape (N) (the four may come
 * from nn_sequence_log_prob; ref_* usually computed with gradients off). beta > 0. Returns a
 * scalar; gradients flow to every input that requires them. */
nn_tensor *nn_dpo_loss(nn_tensor *policy_chosen, nn_tensor *policy_rejected,
                       nn_tensor *ref_chosen, nn_tensor *ref_rejected, float beta);

#endif
