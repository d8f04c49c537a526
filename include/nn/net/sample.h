/* nn/net/sample.h — picking the next token from a model's logits (采样).
 *
 * A language model ends in V logits, one per token of the vocabulary. Generation turns them
 * into one token id, in this order (the order Hugging Face's generate() uses too):
 *   1. temperature T:  p = softmax(logits / T). T < 1 sharpens, T > 1 flattens; T <= 0 means
 *      greedy: always the argmax (the T -> 0 limit), and no random number is drawn.
 *   2. top-k:  keep the k most probable tokens, set the rest to 0, renormalise.
 *   3. top-p (nucleus):  keep the smallest set of most probable tokens whose probabilities
 *      add up to at least p, set the rest to 0, renormalise.
 *   4. draw one token from what is left (inverse CDF with one 53-bit uniform number: two
 *      nn_rng_u32 calls, every time, so the same seed gives the same sequence).
 * "Most probable" ranks by logit, larger first, the lower id first among equal logits: a tie
 * at the edge of the top-k or top-p set is always broken the same way.
 *
 * Logits of -inf are tokens that are not allowed (a mask): they get probability 0 and are never
 * picked. A NaN or +inf logit is misuse (reported with its index), as is a row that is -inf
 * everywhere. Cost: O(V) per call on average (the filters select, they do not sort), so a
 * vocabulary of a million is fine. rng NULL: the global generator (nn_seed).
 *
 *   nn_sampling s = {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f};
 *   int next = nn_sample(nn_rows(logits, T - 1, 1), s, NULL);    // last position's row
 */
#ifndef NN_NET_SAMPLE_H
#define NN_NET_SAMPLE_H

#include "../core/tensor.h"

/* The settings; 0 turns a filter off, so (nn_sampling){0} is greedy and
 * (nn_sampling){.temperature = 1} samples from the plain softmax. */
typedef struct nn_sampling {
    float temperature;   /* > 0: softmax(logits / T);  <= 0: greedy. Finite. */
    int top_k;           /* > 0: keep the k most probable (k >= V keeps all);  0: off */
    float top_p;         /* in (0, 1): the nucleus;  0 or 1: off. Other values are misuse */
} nn_sampling;

/* The next token from a tensor of logits of shape (V), (1, V) or (1, ..., 1, V): the last
 * position's row of a (T, V) output is nn_rows(logits, T - 1, 1). Returns the token id, or -1
 * after reporting misuse. */
int nn_sample(const nn_tensor *logits, nn_sampling s, nn_rng *rng);
/* The same on one row of V floats. */
int nn_sample_row(const float *logits, int V, nn_sampling s, nn_rng *rng);
/* The argmax: the largest logit, the lowest id among equal ones (-1 after misuse). */
int nn_sample_greedy(const float *logits, int V);

/* The distribution step 4 draws from, into probs[V] (yours): filtered, renormalised (sums to
 * 1), 0 outside the candidate set; for greedy a 1 at the argmax. Returns how many tokens have
 * a probability above 0, or -1 after misuse. For printing the candidates and their entropy;
 * nn_sample_from_probs(probs, V, rng) then draws the very token nn_sample_row(logits, V, s,
 * rng) would from the same rng state (for T > 0: greedy draws no number). */
int nn_sampling_probs(const float *logits, int V, nn_sampling s, float *probs);
/* One token drawn with probability probs[i] / sum(probs): weights >= 0 that need not add up
 * to 1 (not all 0; NaN, inf or negative is misuse). A token of weight 0 is never drawn. */
int nn_sample_from_probs(const float *probs, int V, nn_rng *rng);

#endif
