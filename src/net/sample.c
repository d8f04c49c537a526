/* src/net/sample.c — the next token from one row of V logits: greedy, temperature, top-k,
 * top-p (nucleus), and drawing from a distribution.
 *
 * With m = the largest logit and T > 0, token i gets the weight w_i = e^((x_i - m) / T): the
 * largest weight is e^0 = 1, so nothing overflows, and -inf logits get weight 0. The filters
 * pick a set S of candidates, and p_i = w_i / sum_{j in S} w_j for i in S, 0 elsewhere.
 *
 * The filters rank tokens by logit (larger first, the lower id first among equal logits: a
 * strict order, so every tie is broken the same way) and select rather than sort:
 *   top-k   quickselect moves the k best ids to the front of an index array: O(V) on average;
 *   top-p   the same partitioning, steered by probability mass: after each partition step the
 *           mass of the better part says on which side the nucleus ends. O(V) on average.
 * The pivots come from a small generator of this file's own, so the caller's rng only ever
 * serves the final draw.
 */
#include "internal.h"
#include "nn/net/sample.h"

/* ---- checks ---------------------------------------------------------------------------- */

static bool check_settings(const char *op, nn_sampling s) {
    if (!isfinite(s.temperature)) {
        nn_fail(op, "temperature > 0 scales the logits, <= 0 means greedy",
                "temperature = %g is not a finite number", s.temperature);
        return false;
    }
    if (s.top_k < 0) {
        nn_fail(op, "top_k = 0 turns top-k off; k > 0 keeps the k most probable tokens",
                "top_k = %d is negative", s.top_k);
        return false;
    }
    if (!(s.top_p >= 0.0f && s.top_p <= 1.0f)) {
        nn_fail(op, "top_p in (0, 1) keeps the nucleus; 0 or 1 turns it off",
                "top_p = %g is outside [0, 1]", s.top_p);
        return false;
    }
    return true;
}

/* Logits of one row: no NaN, no +inf, at least one finite value. Sets *best to the argmax
 * (lowest id on ties) and *n_finite to the number of finite logits. */
static bool check_logits(const char *op, const float *x, int V, int *best, int *n_finite) {
    NN_REQUIRE_OR(x, op, false);
    if (V < 1) {
        nn_fail(op, "pass the number of logits in the row, the vocabulary size V >= 1",
                "V = %d", V);
        return false;
    }
    int b = -1, n = 0;
    for (int i = 0; i < V; i++) {
        if (isnan(x[i]) || x[i] == INFINITY) {
            nn_fail(op, "a NaN or +inf logit usually means the model diverged (check the loss); "
                    "use -inf to rule a token out",
                    "logits[%d] = %g (of V = %d)", i, x[i], V);
            return false;
        }
        if (x[i] == -INFINITY) continue;
        n++;
        if (b < 0 || x[i] > x[b]) b = i;
    }
    if (b < 0) {
        nn_fail(op, "-inf rules a token out; at least one token must stay possible",
                "all %d logits are -inf", V);
        return false;
    }
    *best = b;
    *n_finite = n;
    return true;
}

/* ---- ranking and selection --------------------------------------------------------------- */

/* Token i ranks before token j: a larger logit, or the same logit and a lower id. */
static inline bool ranks_before(const float *x, int i, int j) {
    return x[i] > x[j] || (x[i] == x[j] && i < j);
}

/* xorshift32 for the pivots: deterministic, and independent of the caller's rng. */
static inline uint32_t pivot_next(uint32_t *state) {
    uint32_t v = *state;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    return *state = v;
}

static inline void swap_ids(int *a, int *b) {
    int t = *a;
    *a = *b;
    *b = t;
}

/* Partition idx[lo, hi) (hi - lo >= 2) around a random pivot: afterwards the ids that rank
 * before the pivot sit in [lo, p), the pivot at p, the rest in (p, hi). Returns p. */
static size_t partition(const float *x, int *idx, size_t lo, size_t hi, uint32_t *state) {
    size_t r = lo + pivot_next(state) % (hi - lo);
    swap_ids(&idx[r], &idx[hi - 1]);
    int pivot = idx[hi - 1];
    size_t store = lo;
    for (size_t j = lo; j + 1 < hi; j++)
        if (ranks_before(x, idx[j], pivot)) swap_ids(&idx[store++], &idx[j]);
    swap_ids(&idx[store], &idx[hi - 1]);
    return store;
}

/* Move the k best of idx[0, n) to idx[0, k) (in no particular order); 0 < k < n. */
static void select_top_k(const float *x, int *idx, size_t n, size_t k, uint32_t *state) {
    size_t lo = 0, hi = n;   /* invariant: [0, lo) ranks before [lo, n), [hi, n) after [0, hi) */
    while (lo + 1 < hi) {
        size_t p = partition(x, idx, lo, hi, state);
        if (p == k || p + 1 == k) return;
        if (p < k) lo = p + 1;
        else hi = p;
    }
}

/* The nucleus of idx[0, n) with weights w: moves it to idx[0, r) and returns r, the size of
 * the smallest set of best-ranked ids whose weights add up to at least need (> 0). */
static size_t select_nucleus(const float *x, const float *w, int *idx, size_t n, double need,
                             uint32_t *state) {
    size_t lo = 0, hi = n;   /* the nucleus ends in (lo, hi]; need is what [lo, ...) must add */
    for (;;) {
        if (hi <= lo + 1) return hi;   /* one id left (or none, after rounding): take it */
        size_t p = partition(x, idx, lo, hi, state);
        double better = 0.0;
        for (size_t j = lo; j < p; j++) better += w[idx[j]];
        if (better >= need) {          /* the nucleus ends before the pivot (p > lo: need > 0) */
            hi = p;
        } else if (better + w[idx[p]] >= need) {
            return p + 1;              /* ... exactly at the pivot */
        } else {                       /* ... after it: take [lo, p] and look further */
            need -= better + w[idx[p]];
            lo = p + 1;
        }
    }
}

/* ---- the filtered distribution ----------------------------------------------------------- */

/* probs[V] for valid logits and settings (checked by the caller); returns the support size. */
static int filtered_probs(const float *x, int V, nn_sampling s, int best, int n_finite,
                          float *probs) {
    if (s.temperature <= 0.0f) {   /* greedy */
        memset(probs, 0, (size_t)V * sizeof(float));
        probs[best] = 1.0f;
        return 1;
    }
    /* Weights w_i = e^((x_i - m) / T) in probs itself; x_i - m <= 0, so w_i is in [0, 1]. */
    float m = x[best];
    for (int i = 0; i < V; i++)
        probs[i] = x[i] == -INFINITY ? 0.0f : expf((x[i] - m) / s.temperature);

    bool top_k = s.top_k > 0 && s.top_k < n_finite;
    bool top_p = s.top_p > 0.0f && s.top_p < 1.0f;
    if (top_k || top_p) {
        /* The candidates' ids; the filters shrink the set to its first n entries. */
        int *idx = nn_xmalloc((size_t)n_finite * sizeof(int));
        size_t n = 0;
        for (int i = 0; i < V; i++)
            if (x[i] != -INFINITY) idx[n++] = i;
        uint32_t state = 0x9e3779b9u;
        if (top_k) {
            select_top_k(x, idx, n, (size_t)s.top_k, &state);
            n = (size_t)s.top_k;
        }
        if (top_p) {
            double total = 0.0;
            for (size_t j = 0; j < n; j++) total += probs[idx[j]];
            n = select_nucleus(x, probs, idx, n, (double)s.top_p * total, &state);
        }
        /* Keep the weights of idx[0, n), zero the rest. Every weight is >= +0, so flipping
         * the sign marks the kept ones (a weight of 0 too: -0.0f has its sign bit set). */
        for (size_t j = 0; j < n; j++) probs[idx[j]] = -probs[idx[j]];
        for (int i = 0; i < V; i++) probs[i] = signbit(probs[i]) ? -probs[i] : 0.0f;
        free(idx);
    }
    double sum = 0.0;   /* >= 1: the argmax has weight 1 and survives every filter */
    for (int i = 0; i < V; i++) sum += probs[i];
    int support = 0;
    for (int i = 0; i < V; i++) {
        probs[i] = (float)(probs[i] / sum);
        support += probs[i] > 0.0f;
    }
    return support;
}

int nn_sampling_probs(const float *logits, int V, nn_sampling s, float *probs) {
    int best, n_finite;
    if (!check_settings("nn_sampling_probs", s)) return -1;
    if (!check_logits("nn_sampling_probs", logits, V, &best, &n_finite)) return -1;
    NN_REQUIRE_OR(probs, "nn_sampling_probs", -1);
    return filtered_probs(logits, V, s, best, n_finite, probs);
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* A uniform number in [0, 1) with 53 random bits (a float's 24 would leave the tail of a
 * million-token vocabulary coarse). */
static double uniform53(nn_rng *rng) {
    uint32_t hi = nn_rng_u32(rng) >> 5, lo = nn_rng_u32(rng) >> 6;   /* 27 + 26 bits */
    return ((double)hi * 67108864.0 + (double)lo) * (1.0 / 9007199254740992.0);
}

/* Inverse CDF: the first i whose cumulative weight exceeds u * total (weights checked). */
static int draw(const float *w, int V, double total, nn_rng *rng) {
    double target = uniform53(rng ? rng : nn_global_rng()) * total, cum = 0.0;
    int last = 0;
    for (int i = 0; i < V; i++) {
        if (w[i] <= 0.0f) continue;
        cum += w[i];
        last = i;
        if (target < cum) return i;
    }
    return last;   /* u * total rounded up to total: the last token of weight > 0 */
}

int nn_sample_from_probs(const float *probs, int V, nn_rng *rng) {
    NN_REQUIRE_OR(probs, "nn_sample_from_probs", -1);
    if (V < 1) {
        nn_fail("nn_sample_from_probs", "pass the number of probabilities, V >= 1", "V = %d", V);
        return -1;
    }
    double total = 0.0;
    for (int i = 0; i < V; i++) {
        if (!(probs[i] >= 0.0f) || isinf(probs[i])) {
            nn_fail("nn_sample_from_probs", "probabilities (or weights) are finite and >= 0",
                    "probs[%d] = %g (of V = %d)", i, probs[i], V);
            return -1;
        }
        total += probs[i];
    }
    if (!(total > 0.0)) {
        nn_fail("nn_sample_from_probs", "at least one token needs a weight above 0",
                "all %d probabilities are 0", V);
        return -1;
    }
    return draw(probs, V, total, rng);
}

int nn_sample_greedy(const float *logits, int V) {
    int best, n_finite;
    if (!check_logits("nn_sample_greedy", logits, V, &best, &n_finite)) return -1;
    return best;
}

static int sample_row(const char *op, const float *logits, int V, nn_sampling s, nn_rng *rng) {
    int best, n_finite;
    if (!check_settings(op, s)) return -1;
    if (!check_logits(op, logits, V, &best, &n_finite)) return -1;
    if (s.temperature <= 0.0f) return best;   /* greedy: no random number drawn */
    float *probs = nn_xmalloc((size_t)V * sizeof(float));
    filtered_probs(logits, V, s, best, n_finite, probs);
    double total = 0.0;   /* the same sum nn_sample_from_probs takes: the same token */
    for (int i = 0; i < V; i++) total += probs[i];
    int id = draw(probs, V, total, rng);
    free(probs);
    return id;
}

int nn_sample_row(const float *logits, int V, nn_sampling s, nn_rng *rng) {
    return sample_row("nn_sample_row", logits, V, s, rng);
}

int nn_sample(const nn_tensor *logits, nn_sampling s, nn_rng *rng) {
    NN_REQUIRE_OR(logits, "nn_sample", -1);
    bool one_row = logits->ndim >= 1;
    for (int d = 0; d + 1 < logits->ndim; d++) one_row = one_row && logits->shape[d] == 1;
    if (!one_row) {
        nn_fail("nn_sample", "pass one row of logits, (V) or (1, V): for the last position of "
                "(T, V) logits, nn_rows(logits, T - 1, 1)",
                "logits have shape %s", SHAPE(logits));
        return -1;
    }
    return sample_row("nn_sample", logits->data, logits->shape[logits->ndim - 1], s, rng);
}
