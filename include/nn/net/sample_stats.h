/* nn/net/sample_stats.h — measuring what a sampler wrote (采样的统计): how uncertain each
 * draw was, how much the text repeats itself, how varied it is.
 *
 * Used by examples/ch06_sampling to compare temperatures, top-k and top-p; every count is over
 * token ids, so it works for characters, BPE tokens or words alike. A sample is an int array
 * seq[0 .. n) whose first `from` tokens are the prompt: they are looked back at, never counted.
 *
 *   entropy      H = -sum_i p_i ln p_i (nats) of one distribution; e^H is "the number of
 *                equally likely choices" (a one-hot: 0 and 1; uniform over V: ln V and V)
 *   repeats      the share of written tokens equal to one of the `window` tokens before them:
 *                the stutter of "山山山" (window 4 in the chapter's tables)
 *   repeated     the share of written n-grams that already occurred earlier in the sample:
 *   n-grams      loops (n = 3 in the chapter's tables)
 *   distinct-n   different n-grams / all n-grams of the written tokens, over S samples pooled
 *                (Li et al. 2016, "A Diversity-Promoting Objective..."): 1 = nothing twice
 *
 *   double h = nn_entropy(probs, V);
 *   double rep4 = nn_repeat_share(seq, n, from, 4);
 *   double d2 = nn_distinct_n(seqs, S, len, from, 2);
 */
#ifndef NN_NET_SAMPLE_STATS_H
#define NN_NET_SAMPLE_STATS_H

/* H = -sum p_i ln p_i in nats over probs[0 .. V) (terms with p_i = 0 add 0). The weights
 * should add up to 1 (nn_sampling_probs' output does); negative, NaN or inf is misuse.
 * Returns H >= 0, or -1 after reporting misuse. */
double nn_entropy(const float *probs, int V);

/* The share of seq[from .. n) equal to one of the `window` tokens before it (the prompt's
 * tokens count as "before"). 0 <= from <= n, window >= 1; no written token: 0. Returns the
 * share in [0, 1], or -1 after reporting misuse. */
double nn_repeat_share(const int *seq, int n, int from, int window);

/* The share of the n-grams that start in seq[from .. n - ngram] and occurred (in full)
 * earlier in seq, prompt included. ngram >= 1; none start there: 0. O(n^2 ngram), for
 * samples of a few hundred tokens. Returns the share in [0, 1], or -1 after misuse. */
double nn_repeated_ngram_share(const int *seq, int n, int from, int ngram);

/* distinct-n over S samples of `len` tokens each, stored one after another in seqs[S * len]:
 * the n-grams lying wholly in the written part seq[from .. len) of each sample, pooled, and
 * the share of them that are different. Ids must be >= 0. 1 <= ngram <= 8; no n-gram: 0.
 * Sorts a copy: O(N log N) for N n-grams. Returns the share in (0, 1], 0, or -1 after misuse. */
double nn_distinct_n(const int *seqs, int S, int len, int from, int ngram);

#endif
