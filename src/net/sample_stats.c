/* src/net/sample_stats.c — entropy of a distribution, repetition and distinct-n of sampled
 * token ids (nn/net/sample_stats.h). */
#include "internal.h"
#include "nn/net/sample_stats.h"

#define NGRAM_MAX 8

double nn_entropy(const float *probs, int V) {
    static const char op[] = "nn_entropy";
    NN_REQUIRE_OR(probs, op, -1.0);
    if (V < 1) {
        nn_fail(op, "pass the number of probabilities, V >= 1", "V = %d", V);
        return -1.0;
    }
    double h = 0.0;
    for (int i = 0; i < V; i++) {
        if (!(probs[i] >= 0.0f) || isinf(probs[i])) {
            nn_fail(op, "pass a distribution: weights >= 0 that add up to 1 (nn_sampling_probs)",
                    "probs[%d] = %g", i, probs[i]);
            return -1.0;
        }
        if (probs[i] > 0.0f) h -= probs[i] * log(probs[i]);
    }
    return h > 0.0 ? h : 0.0;   /* a one-hot's -1 ln 1 is -0 */
}

/* seq non-NULL unless empty, 0 <= from <= n, k >= 1 (the window or the n-gram length). */
static bool check_sample(const char *op, const int *seq, int n, int from, int k,
                         const char *k_name) {
    if (n < 0 || from < 0 || from > n) {
        nn_fail(op, "a sample is seq[0 .. n) whose first `from` tokens are the prompt: "
                "0 <= from <= n", "n = %d, from = %d", n, from);
        return false;
    }
    if (n > 0) NN_REQUIRE_OR(seq, op, false);
    if (k < 1) {
        nn_fail(op, "it counts over at least one token", "%s = %d", k_name, k);
        return false;
    }
    return true;
}

double nn_repeat_share(const int *seq, int n, int from, int window) {
    if (!check_sample("nn_repeat_share", seq, n, from, window, "window")) return -1.0;
    long repeats = 0;
    for (int i = from; i < n; i++)
        for (int j = i - 1; j >= 0 && j >= i - window; j--)
            if (seq[j] == seq[i]) {
                repeats++;
                break;
            }
    return n > from ? (double)repeats / (n - from) : 0.0;
}

static bool same_ngram(const int *a, const int *b, int ngram) {
    for (int k = 0; k < ngram; k++)
        if (a[k] != b[k]) return false;
    return true;
}

double nn_repeated_ngram_share(const int *seq, int n, int from, int ngram) {
    if (!check_sample("nn_repeated_ngram_share", seq, n, from, ngram, "ngram")) return -1.0;
    long repeated = 0, grams = 0;
    for (int i = from; i + ngram <= n; i++) {
        grams++;
        for (int j = 0; j < i; j++)
            if (same_ngram(seq + j, seq + i, ngram)) {
                repeated++;
                break;
            }
    }
    return grams ? (double)repeated / grams : 0.0;
}

/* One n-gram padded to NGRAM_MAX with -1 (ids are >= 0), compared like a word. */
typedef struct { int t[NGRAM_MAX]; } padded_ngram;

static int cmp_ngram(const void *pa, const void *pb) {
    const int *a = ((const padded_ngram *)pa)->t, *b = ((const padded_ngram *)pb)->t;
    for (int k = 0; k < NGRAM_MAX; k++)
        if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    return 0;
}

double nn_distinct_n(const int *seqs, int S, int len, int from, int ngram) {
    static const char op[] = "nn_distinct_n";
    if (S < 0 || len < 0 || from < 0 || from > len) {
        nn_fail(op, "pass S samples of len tokens each, the first `from` of each the prompt: "
                "S >= 0, 0 <= from <= len", "S = %d, len = %d, from = %d", S, len, from);
        return -1.0;
    }
    if (ngram < 1 || ngram > NGRAM_MAX) {
        nn_fail(op, "distinct-n counts n-grams of 1 to 8 tokens", "ngram = %d", ngram);
        return -1.0;
    }
    if ((size_t)S * (size_t)len > 0) NN_REQUIRE_OR(seqs, op, -1.0);
    size_t per = len - from >= ngram ? (size_t)(len - from - ngram + 1) : 0, N = (size_t)S * per;
    if (N == 0) return 0.0;
    for (size_t i = 0; i < (size_t)S * (size_t)len; i++)
        if (seqs[i] < 0) {
            nn_fail(op, "token ids are >= 0", "seqs[%zu] = %d", i, seqs[i]);
            return -1.0;
        }
    padded_ngram *g = nn_xmalloc(sizeof *g * N);
    size_t m = 0;
    for (int s = 0; s < S; s++) {
        const int *q = seqs + (size_t)s * (size_t)len;
        for (int i = from; i + ngram <= len; i++, m++) {
            for (int k = 0; k < NGRAM_MAX; k++) g[m].t[k] = k < ngram ? q[i + k] : -1;
        }
    }
    qsort(g, N, sizeof *g, cmp_ngram);
    size_t different = 1;
    for (size_t i = 1; i < N; i++) different += cmp_ngram(&g[i], &g[i - 1]) != 0;
    free(g);
    return (double)different / (double)N;
}
