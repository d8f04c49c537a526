/* tests/test_sample.c — picking the next token: greedy, temperature, top-k, top-p, drawing
 * from a distribution, and the errors.
 *
 * Every test is seeded, so every count below is deterministic; the bounds on empirical
 * frequencies are still the honest ones (6.5 standard deviations per token: a fresh seed would
 * fail one of them with probability below 1e-9), so they stay meaningful if a seed changes. */
#include "testing.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static const nn_sampling plain = {.temperature = 1.0f};

/* logits[i] = log(p[i]): softmax gives back p. */
static void logits_of(const double *p, int V, float *logits) {
    for (int i = 0; i < V; i++) logits[i] = p[i] > 0 ? (float)log(p[i]) : -INFINITY;
}

/* Uniform random logits in [lo, hi) from a generator of the test's own. */
static void random_logits(float *x, int V, float lo, float hi, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int i = 0; i < V; i++) x[i] = lo + (hi - lo) * nn_rng_uniform(&rng);
}

/* softmax(x / T) in double, the reference the library's float result is compared with. */
static void ref_softmax(const float *x, int V, double T, double *p) {
    double m = -INFINITY, s = 0;
    for (int i = 0; i < V; i++) m = fmax(m, x[i]);
    for (int i = 0; i < V; i++) s += p[i] = x[i] == -INFINITY ? 0.0 : exp((x[i] - m) / T);
    for (int i = 0; i < V; i++) p[i] /= s;
}

/* The library's ranking, for brute-force references: larger logit first, then lower id. */
static const float *rank_logits;
static int rank_cmp(const void *pa, const void *pb) {
    int i = *(const int *)pa, j = *(const int *)pb;
    if (rank_logits[i] != rank_logits[j]) return rank_logits[i] > rank_logits[j] ? -1 : 1;
    return (i > j) - (i < j);
}
/* order[0..V) = the ids best first. */
static void rank_ids(const float *x, int V, int *order) {
    for (int i = 0; i < V; i++) order[i] = i;
    rank_logits = x;
    qsort(order, (size_t)V, sizeof *order, rank_cmp);
}

/* Draw n tokens, count them in counts[V] (zeroed here), and check every one is in `allowed`
 * (NULL: any id in 0..V-1). */
static void draw_counts(const float *x, int V, nn_sampling s, nn_rng *rng, int n,
                        const bool *allowed, long *counts) {
    memset(counts, 0, (size_t)V * sizeof *counts);
    for (int t = 0; t < n; t++) {
        int id = nn_sample_row(x, V, s, rng);
        if (id < 0 || id >= V) fail_msg("draw %d: id %d is outside 0..%d", t, id, V - 1);
        if (allowed && !allowed[id]) fail_msg("draw %d picked %d, outside the candidate set", t, id);
        counts[id]++;
    }
}

/* Each count within 6.5 standard deviations of n p (binomial), and 0 where p = 0. */
static void expect_frequencies(const long *counts, const double *p, int V, int n) {
    for (int i = 0; i < V; i++) {
        double mean = n * p[i], sd = sqrt(n * p[i] * (1 - p[i]));
        if (p[i] == 0 && counts[i] != 0) fail_msg("token %d has p = 0 but was drawn %ld times", i, counts[i]);
        if (fabs(counts[i] - mean) > 6.5 * sd + 1e-9)
            fail_msg("token %d: %ld draws of %d, expected %.1f +- %.1f (6.5 sd)", i, counts[i], n,
                     mean, 6.5 * sd);
    }
}

static double sum_of(const float *p, int V) {
    double s = 0;
    for (int i = 0; i < V; i++) s += p[i];
    return s;
}

/* ---- greedy and temperature --------------------------------------------------------------- */

static void test_greedy_argmax_lowest_id_on_ties(void **state) {
    (void)state;
    const float x[6] = {1.0f, 3.0f, -INFINITY, 3.0f, 2.0f, 3.0f};
    assert_int_equal(nn_sample_greedy(x, 6), 1);
    nn_rng rng, before;
    nn_rng_seed(&rng, 5);
    before = rng;
    for (float T = 0.0f; T >= -2.0f; T -= 1.0f)   /* T <= 0 is greedy and draws nothing */
        assert_int_equal(nn_sample_row(x, 6, (nn_sampling){.temperature = T, .top_k = 3}, &rng), 1);
    assert_memory_equal(&rng, &before, sizeof rng);
    float p[6];
    assert_int_equal(nn_sampling_probs(x, 6, (nn_sampling){0}, p), 1);
    assert_floats_near(p, (const float[]){0, 1, 0, 0, 0, 0}, 6, 0.0f);
    const float one[1] = {-7.0f};
    assert_int_equal(nn_sample_greedy(one, 1), 0);
}

static void test_temperature_to_zero_is_greedy(void **state) {
    (void)state;
    enum { V = 40 };
    float x[V];
    random_logits(x, V, -3, 3, 11);   /* distinct values: one argmax */
    int best = nn_sample_greedy(x, V);
    nn_rng rng;
    nn_rng_seed(&rng, 12);
    const float temps[] = {1e-3f, 1e-6f, 1e-20f, 1e-38f};
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        nn_sampling s = {.temperature = temps[t]};
        for (int k = 0; k < 500; k++) assert_int_equal(nn_sample_row(x, V, s, &rng), best);
        float p[V];
        nn_sampling_probs(x, V, s, p);
        if (!(p[best] > 1.0f - 1e-6f)) fail_msg("T = %g: p[argmax] = %.9g", temps[t], p[best]);
    }
    /* Shrinking T moves mass to the argmax, smoothly. */
    float prev = 0.0f;
    for (float T = 4.0f; T > 0.01f; T /= 2) {
        float p[V];
        nn_sampling_probs(x, V, (nn_sampling){.temperature = T}, p);
        assert_true(p[best] >= prev);
        prev = p[best];
    }
}

static void test_temperature_probs_match_softmax(void **state) {
    (void)state;
    enum { V = 300 };
    float x[V], p[V];
    double want[V];
    random_logits(x, V, -8, 8, 21);
    x[17] = -INFINITY;
    const float temps[] = {0.25f, 0.7f, 1.0f, 2.5f};
    for (size_t t = 0; t < sizeof temps / sizeof temps[0]; t++) {
        assert_int_equal(nn_sampling_probs(x, V, (nn_sampling){.temperature = temps[t]}, p), V - 1);
        ref_softmax(x, V, temps[t], want);
        for (int i = 0; i < V; i++)
            if (!(fabs(p[i] - want[i]) <= 1e-5 * want[i] + 1e-9))
                fail_msg("T = %g, p[%d] = %.9g, want %.9g", temps[t], i, p[i], want[i]);
        assert_true(p[17] == 0.0f);
    }
    /* Huge logits: the max is subtracted first, so nothing overflows. */
    const float big[3] = {1e30f, 1e30f - 1e24f, -1e30f};
    assert_int_equal(nn_sampling_probs(big, 3, plain, p), 1);   /* e^-1e24 underflows to 0 */
    assert_floats_near(p, (const float[]){1, 0, 0}, 3, 0.0f);
    const float near[3] = {1000.0f, 999.0f, 998.0f};
    nn_sampling_probs(near, 3, plain, p);
    ref_softmax(near, 3, 1.0, want);
    for (int i = 0; i < 3; i++) assert_true(fabs(p[i] - want[i]) < 1e-6);
}

/* ---- top-k -------------------------------------------------------------------------------- */

static void test_top_k_stays_in_set(void **state) {
    (void)state;
    enum { V = 64, K = 5, N = 20000 };
    float x[V], p[V];
    random_logits(x, V, -2, 2, 31);
    int order[V];
    rank_ids(x, V, order);
    bool in_set[V] = {0};
    for (int j = 0; j < K; j++) in_set[order[j]] = true;
    nn_sampling s = {.temperature = 0.8f, .top_k = K};
    assert_int_equal(nn_sampling_probs(x, V, s, p), K);
    /* Renormalised softmax over the set, in double. */
    double want[V], mass = 0;
    ref_softmax(x, V, 0.8, want);
    for (int i = 0; i < V; i++) mass += in_set[i] ? want[i] : 0;
    for (int i = 0; i < V; i++) {
        want[i] = in_set[i] ? want[i] / mass : 0;
        if (!(fabs(p[i] - want[i]) <= 1e-6)) fail_msg("p[%d] = %.9g, want %.9g", i, p[i], want[i]);
    }
    nn_rng rng;
    nn_rng_seed(&rng, 32);
    long counts[V];
    draw_counts(x, V, s, &rng, N, in_set, counts);
    expect_frequencies(counts, want, V, N);
}

static void test_top_k_ties_and_edges(void **state) {
    (void)state;
    /* Ties at the edge: the lower ids win. */
    const float x[8] = {0, 2, 1, 2, 2, 1, 2, -INFINITY};
    float p[8];
    assert_int_equal(nn_sampling_probs(x, 8, (nn_sampling){.temperature = 1, .top_k = 3}, p), 3);
    assert_floats_near(p, (const float[]){0, 1.0f / 3, 0, 1.0f / 3, 1.0f / 3, 0, 0, 0}, 8, 1e-7f);
    /* k = 1 is greedy, for any temperature; k >= V (or >= the finite ones) keeps all. */
    nn_rng rng;
    nn_rng_seed(&rng, 33);
    for (int t = 0; t < 300; t++)
        assert_int_equal(nn_sample_row(x, 8, (nn_sampling){.temperature = 5, .top_k = 1}, &rng), 1);
    float all[8], off[8];
    nn_sampling_probs(x, 8, plain, off);
    for (int k = 7; k <= 100; k += 93) {
        assert_int_equal(nn_sampling_probs(x, 8, (nn_sampling){.temperature = 1, .top_k = k}, all), 7);
        assert_memory_equal(all, off, sizeof all);
    }
}

static void test_top_k_one_is_greedy(void **state) {
    (void)state;
    enum { V = 500 };
    float x[V];
    nn_rng rng;
    nn_rng_seed(&rng, 34);
    for (int trial = 0; trial < 50; trial++) {
        random_logits(x, V, -1, 1, 100 + (uint64_t)trial);
        for (int i = 0; i < V; i += 7) x[i] = roundf(x[i] * 2) / 2;   /* plenty of ties */
        int best = nn_sample_greedy(x, V);
        nn_sampling s = {.temperature = 1.3f, .top_k = 1, .top_p = 0.5f};
        assert_int_equal(nn_sample_row(x, V, s, &rng), best);
        float p[V];
        assert_int_equal(nn_sampling_probs(x, V, s, p), 1);
        assert_true(p[best] == 1.0f);
    }
}

/* ---- top-p -------------------------------------------------------------------------------- */

static void test_top_p_nucleus_known(void **state) {
    (void)state;
    /* p = 0.5, 0.2, 0.15, 0.1, 0.05, placed out of order. */
    const double probs[5] = {0.1, 0.5, 0.05, 0.2, 0.15};
    float x[5], p[5];
    logits_of(probs, 5, x);
    /* 0.5 < 0.75 <= 0.5 + 0.2 + 0.15: the nucleus is ids 1, 3, 4. */
    nn_sampling s = {.temperature = 1, .top_p = 0.75f};
    assert_int_equal(nn_sampling_probs(x, 5, s, p), 3);
    const double want[5] = {0, 0.5 / 0.85, 0, 0.2 / 0.85, 0.15 / 0.85};
    for (int i = 0; i < 5; i++) assert_true(fabs(p[i] - want[i]) < 1e-6);
    enum { N = 30000 };
    long counts[5];
    nn_rng rng;
    nn_rng_seed(&rng, 41);
    draw_counts(x, 5, s, &rng, N, (const bool[]){0, 1, 0, 1, 1}, counts);
    expect_frequencies(counts, want, 5, N);
    /* A small p keeps only the most probable token; p just above a partial sum takes one more. */
    assert_int_equal(nn_sampling_probs(x, 5, (nn_sampling){.temperature = 1, .top_p = 0.01f}, p), 1);
    assert_true(p[1] == 1.0f);
    assert_int_equal(nn_sampling_probs(x, 5, (nn_sampling){.temperature = 1, .top_p = 0.72f}, p), 3);
    assert_int_equal(nn_sampling_probs(x, 5, (nn_sampling){.temperature = 1, .top_p = 0.9f}, p), 4);
    assert_int_equal(nn_sampling_probs(x, 5, (nn_sampling){.temperature = 1, .top_p = 0.99f}, p), 5);
}

static void test_top_p_ties_lower_ids(void **state) {
    (void)state;
    enum { V = 10 };
    float x[V], p[V];
    for (int i = 0; i < V; i++) x[i] = 0.5f;
    /* Ten equal tokens, p = 0.35: 4 of them (3 reach only 0.3), the four lowest ids. */
    assert_int_equal(nn_sampling_probs(x, V, (nn_sampling){.temperature = 1, .top_p = 0.35f}, p), 4);
    for (int i = 0; i < V; i++) assert_true(p[i] == (i < 4 ? 0.25f : 0.0f));
    /* p exactly a partial sum ("reaches" includes equality): 8 equal tokens, p = j / 8 keeps
     * exactly j of them (the sums are exact in binary). */
    for (int j = 1; j < 8; j++) {
        float top_p = (float)j / 8;
        assert_int_equal(nn_sampling_probs(x, 8, (nn_sampling){.temperature = 1, .top_p = top_p}, p), j);
        for (int i = 0; i < 8; i++) assert_true(p[i] == (i < j ? 1.0f / (float)j : 0.0f));
    }
}

/* Against a brute-force nucleus (sort, then add up in double), on random logits. */
static void test_top_p_against_brute_force(void **state) {
    (void)state;
    enum { V = 400 };
    float x[V], p[V];
    double ref[V];
    int order[V];
    for (int trial = 0; trial < 40; trial++) {
        random_logits(x, V, -4, 4, 200 + (uint64_t)trial);
        float T = 0.5f + 0.05f * trial, top_p = 0.05f + 0.0235f * trial;
        int top_k = trial % 3 == 0 ? 0 : 30 + trial * 5;   /* sometimes top-k first */
        nn_sampling s = {.temperature = T, .top_k = top_k, .top_p = top_p};
        int got = nn_sampling_probs(x, V, s, p);
        ref_softmax(x, V, T, ref);
        rank_ids(x, V, order);
        int n = top_k > 0 && top_k < V ? top_k : V;
        double mass = 0, cum = 0;
        for (int j = 0; j < n; j++) mass += ref[order[j]];
        int keep = 0;
        while (keep < n && cum < top_p * mass) cum += ref[order[keep++]];
        assert_int_equal(got, keep);
        for (int j = 0; j < V; j++) {
            double want = j < keep ? ref[order[j]] / cum : 0;
            if (!(fabs(p[order[j]] - want) <= 1e-5 * want + 1e-9))
                fail_msg("trial %d rank %d (id %d): p = %.9g, want %.9g", trial, j, order[j],
                         p[order[j]], want);
        }
        assert_true(fabs(sum_of(p, V) - 1) < 1e-5);
    }
}

static void test_top_p_stays_in_nucleus(void **state) {
    (void)state;
    enum { V = 200, N = 20000 };
    float x[V], p[V];
    random_logits(x, V, -3, 3, 51);
    nn_sampling s = {.temperature = 0.9f, .top_p = 0.6f};
    int n = nn_sampling_probs(x, V, s, p);
    assert_true(n > 1 && n < V);
    bool in_set[V];
    double want[V];
    for (int i = 0; i < V; i++) {
        in_set[i] = p[i] > 0;
        want[i] = p[i];
    }
    nn_rng rng;
    nn_rng_seed(&rng, 52);
    long counts[V];
    draw_counts(x, V, s, &rng, N, in_set, counts);
    expect_frequencies(counts, want, V, N);
}

static void test_top_p_one_is_plain(void **state) {
    (void)state;
    enum { V = 100 };
    float x[V];
    random_logits(x, V, -2, 2, 61);
    nn_rng a, b;
    nn_rng_seed(&a, 62);
    nn_rng_seed(&b, 62);
    nn_sampling full = {.temperature = 1, .top_p = 1.0f}, k_all = {.temperature = 1, .top_k = V};
    for (int t = 0; t < 2000; t++) {
        int want = nn_sample_row(x, V, plain, &a);
        assert_int_equal(nn_sample_row(x, V, t % 2 ? full : k_all, &b), want);
    }
    float p[V], q[V];
    nn_sampling_probs(x, V, plain, p);
    nn_sampling_probs(x, V, full, q);
    assert_memory_equal(p, q, sizeof p);
}

/* ---- drawing ------------------------------------------------------------------------------ */

static void test_frequencies_match_probabilities(void **state) {
    (void)state;
    enum { V = 6, N = 200000 };
    const double probs[V] = {0.4, 0.25, 0.15, 0.1, 0.07, 0.03};
    float x[V];
    logits_of(probs, V, x);
    nn_rng rng;
    nn_rng_seed(&rng, 71);
    long counts[V];
    draw_counts(x, V, plain, &rng, N, NULL, counts);
    expect_frequencies(counts, probs, V, N);
    /* The whole table too: chi-square with 5 degrees of freedom exceeds 60 with probability
     * about 1e-11. */
    double chi2 = 0;
    for (int i = 0; i < V; i++) chi2 += pow(counts[i] - N * probs[i], 2) / (N * probs[i]);
    if (!(chi2 < 60)) fail_msg("chi-square %.2f with 5 degrees of freedom", chi2);
    /* Drawing from weights directly (they need not add up to 1). */
    const float w[4] = {2, 0, 6, 2};
    long c[4] = {0};
    for (int t = 0; t < N; t++) c[nn_sample_from_probs(w, 4, &rng)]++;
    expect_frequencies(c, (const double[]){0.2, 0, 0.6, 0.2}, 4, N);
}

static void test_same_seed_same_sequence(void **state) {
    (void)state;
    enum { V = 1000, N = 500 };
    float *x = malloc(V * sizeof *x);
    random_logits(x, V, -3, 3, 81);
    nn_sampling s = {.temperature = 0.9f, .top_k = 100, .top_p = 0.9f};
    int seq[N];
    nn_rng a, b, c;
    nn_rng_seed(&a, 82);
    nn_rng_seed(&b, 82);
    nn_rng_seed(&c, 83);
    int differ = 0;
    for (int t = 0; t < N; t++) {
        seq[t] = nn_sample_row(x, V, s, &a);
        assert_int_equal(nn_sample_row(x, V, s, &b), seq[t]);
        differ += nn_sample_row(x, V, s, &c) != seq[t];
    }
    assert_true(differ > N / 2);   /* another seed, another sequence */
    /* NULL is the global generator. */
    nn_seed(82);
    for (int t = 0; t < N; t++) assert_int_equal(nn_sample_row(x, V, s, NULL), seq[t]);
    /* Every non-greedy call draws the same amount: two u32 per token. */
    nn_rng_seed(&a, 84);
    nn_rng_seed(&b, 84);
    nn_sample_row(x, V, (nn_sampling){.temperature = 1, .top_k = 1}, &a);
    nn_rng_u32(&b);
    nn_rng_u32(&b);
    assert_memory_equal(&a, &b, sizeof a);
    free(x);
}

/* nn_sampling_probs + nn_sample_from_probs draws the very token nn_sample_row draws. */
static void test_probs_then_draw_is_sample_row(void **state) {
    (void)state;
    enum { V = 300 };
    float x[V], p[V];
    random_logits(x, V, -2, 2, 91);
    const nn_sampling settings[] = {
        {.temperature = 1}, {.temperature = 0.5f, .top_k = 20},
        {.temperature = 1.5f, .top_p = 0.8f}, {.temperature = 0.7f, .top_k = 50, .top_p = 0.5f}};
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        nn_rng a, b;
        nn_rng_seed(&a, 92);
        nn_rng_seed(&b, 92);
        nn_sampling_probs(x, V, settings[k], p);
        for (int t = 0; t < 1000; t++)
            assert_int_equal(nn_sample_from_probs(p, V, &b), nn_sample_row(x, V, settings[k], &a));
    }
}

static void test_probs_sum_to_one(void **state) {
    (void)state;
    enum { V = 2000 };
    float *x = malloc(V * sizeof *x), *p = malloc(V * sizeof *p);
    random_logits(x, V, -20, 20, 101);
    for (int i = 0; i < V; i += 13) x[i] = -INFINITY;
    const nn_sampling settings[] = {
        {0}, {.temperature = 1}, {.temperature = 0.1f}, {.temperature = 10},
        {.temperature = 1, .top_k = 1}, {.temperature = 1, .top_k = 77},
        {.temperature = 1, .top_p = 0.3f}, {.temperature = 3, .top_k = 500, .top_p = 0.97f}};
    for (size_t k = 0; k < sizeof settings / sizeof settings[0]; k++) {
        int n = nn_sampling_probs(x, V, settings[k], p);
        int positive = 0;
        for (int i = 0; i < V; i++) {
            assert_true(p[i] >= 0.0f && p[i] <= 1.0f);
            positive += p[i] > 0;
            if (i % 13 == 0) assert_true(p[i] == 0.0f);
        }
        assert_int_equal(n, positive);
        if (!(fabs(sum_of(p, V) - 1) < 1e-5)) fail_msg("settings %zu: sum %.9g", k, sum_of(p, V));
        if (settings[k].top_k > 0) assert_true(n <= settings[k].top_k);
    }
    free(x);
    free(p);
}

/* ---- edge cases --------------------------------------------------------------------------- */

static void test_edge_cases(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 111);
    float p[8];
    /* V = 1: always token 0, whatever the settings. */
    const float one[1] = {3.0f};
    const nn_sampling any[] = {{0}, {.temperature = 1}, {.temperature = 2, .top_k = 5, .top_p = 0.1f}};
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(nn_sample_row(one, 1, any[k], &rng), 0);
        assert_int_equal(nn_sampling_probs(one, 1, any[k], p), 1);
        assert_true(p[0] == 1.0f);
    }
    /* All equal: uniform, and every token comes up. */
    const float eq[8] = {2, 2, 2, 2, 2, 2, 2, 2};
    assert_int_equal(nn_sampling_probs(eq, 8, plain, p), 8);
    for (int i = 0; i < 8; i++) assert_true(p[i] == 0.125f);
    long counts[8];
    draw_counts(eq, 8, plain, &rng, 16000, NULL, counts);
    double uniform[8] = {0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125};
    expect_frequencies(counts, uniform, 8, 16000);
    /* -inf: never picked, probability 0, even when it would make the top-k or top-p cut. */
    const float masked[5] = {-INFINITY, 0.0f, -INFINITY, 0.0f, -INFINITY};
    const bool allowed[5] = {0, 1, 0, 1, 0};
    draw_counts(masked, 5, plain, &rng, 2000, allowed, counts);
    draw_counts(masked, 5, (nn_sampling){.temperature = 1, .top_k = 4}, &rng, 2000, allowed, counts);
    draw_counts(masked, 5, (nn_sampling){.temperature = 1, .top_p = 0.99f}, &rng, 2000, allowed, counts);
    assert_int_equal(nn_sampling_probs(masked, 5, (nn_sampling){.temperature = 9, .top_k = 5}, p), 2);
    assert_floats_near(p, (const float[]){0, 0.5f, 0, 0.5f, 0}, 5, 0.0f);
    assert_int_equal(nn_sample_greedy(masked, 5), 1);
    /* Weights of 0 are never drawn, not even at the ends. */
    const float w[5] = {0, 1, 0, 0, 0};
    for (int t = 0; t < 500; t++) assert_int_equal(nn_sample_from_probs(w, 5, &rng), 1);
}

/* The tensor form: (V), (1, V), (1, 1, V). */
static void test_sample_tensor(void **state) {
    (void)state;
    const float v[4] = {0.1f, 0.9f, 0.3f, 0.2f};
    nn_tensor *a = nn_from_array(v, NN_SHAPE(4)), *b = nn_from_array(v, NN_SHAPE(1, 4)),
              *c = nn_from_array(v, NN_SHAPE(1, 1, 4)), *two = nn_zeros(NN_SHAPE(2, 4));
    nn_sampling greedy = {0};
    assert_int_equal(nn_sample(a, greedy, NULL), 1);
    assert_int_equal(nn_sample(b, greedy, NULL), 1);
    assert_int_equal(nn_sample(c, greedy, NULL), 1);
    nn_rng r1, r2;
    nn_rng_seed(&r1, 5);
    nn_rng_seed(&r2, 5);
    for (int t = 0; t < 200; t++) assert_int_equal(nn_sample(b, plain, &r1), nn_sample_row(v, 4, plain, &r2));
    /* The last row of (T, V) logits, as a generation loop takes it. */
    nn_tensor *seq = nn_from_array((const float[]){5, 0, 0, 0, 0, 0, 7, 0}, NN_SHAPE(2, 4));
    assert_int_equal(nn_sample(nn_rows(seq, 1, 1), greedy, NULL), 2);
    EXPECT_NN_ERROR(nn_sample(two, plain, NULL), "nn_sample", "(2, 4)", "nn_rows");
    nn_tensor *s = nn_scalar(1.0f);
    EXPECT_NN_ERROR(nn_sample(s, plain, NULL), "nn_sample", "shape ()");
    EXPECT_NN_ERROR(nn_sample(NULL, plain, NULL), "nn_sample", "NULL");
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(c);
    nn_tensor_free(two);
    nn_tensor_free(seq);
    nn_tensor_free(s);
}

/* A vocabulary of a million: linear time, and the filters are still exact. */
static void test_million_tokens(void **state) {
    (void)state;
    enum { V = 1000000 };
    float *x = malloc(V * sizeof *x), *p = malloc(V * sizeof *p), *q = malloc(V * sizeof *q);
    random_logits(x, V, -5, 5, 121);
    nn_rng rng;
    nn_rng_seed(&rng, 122);
    double t0 = nn_seconds();
    const nn_sampling settings[] = {
        {.temperature = 1}, {.temperature = 0.8f, .top_k = 50},
        {.temperature = 1, .top_p = 0.9f}, {.temperature = 1.2f, .top_k = 5000, .top_p = 0.5f}};
    for (size_t k = 0; k < 4; k++) {
        int n = nn_sampling_probs(x, V, settings[k], p);
        assert_true(n >= 1);
        assert_true(fabs(sum_of(p, V) - 1) < 1e-4);
        /* Every kept token ranks before every dropped one. */
        float min_kept = INFINITY, max_dropped = -INFINITY;
        for (int i = 0; i < V; i++) {
            if (p[i] > 0) min_kept = fminf(min_kept, x[i]);
            else max_dropped = fmaxf(max_dropped, x[i]);
        }
        if (n < V) assert_true(min_kept >= max_dropped);
        if (settings[k].top_k) assert_true(n <= settings[k].top_k);
        if (settings[k].top_k && settings[k].top_p == 0) assert_int_equal(n, settings[k].top_k);
        if (settings[k].top_p > 0 && !settings[k].top_k) {
            /* The smallest set that reaches p, in the unfiltered distribution q: its mass is
             * >= p, and without its least probable token it would be < p. */
            nn_sampling_probs(x, V, (nn_sampling){.temperature = settings[k].temperature}, q);
            double mass = 0, q_min = 1;
            for (int i = 0; i < V; i++)
                if (p[i] > 0) { mass += q[i]; q_min = fmin(q_min, q[i]); }
            assert_true(mass >= settings[k].top_p - 1e-5);
            assert_true(mass - q_min < settings[k].top_p + 1e-5);
        }
        int id = nn_sample_row(x, V, settings[k], &rng);
        assert_true(id >= 0 && id < V && p[id] > 0);
    }
    double elapsed = nn_seconds() - t0;
    /* A dozen passes over a million logits; sorting-free, so well under a few seconds even under
     * the sanitizers (an O(V^2) step would take hours). */
    if (elapsed > 30) fail_msg("a million tokens took %.1f s", elapsed);
    free(x);
    free(p);
    free(q);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void test_sampling_errors(void **state) {
    (void)state;
    const float x[4] = {0, 1, 2, 3};
    float p[4];
    float bad[4] = {0, NAN, 2, 3};
    EXPECT_NN_ERROR(nn_sample_row(bad, 4, plain, NULL), "nn_sample_row", "logits[1] = nan", "V = 4");
    bad[1] = INFINITY;
    EXPECT_NN_ERROR(nn_sampling_probs(bad, 4, plain, p), "nn_sampling_probs", "logits[1] = inf");
    EXPECT_NN_ERROR(nn_sample_greedy(bad, 4), "nn_sample_greedy", "logits[1] = inf");
    const float none[3] = {-INFINITY, -INFINITY, -INFINITY};
    EXPECT_NN_ERROR(nn_sample_row(none, 3, plain, NULL), "nn_sample_row", "all 3 logits are -inf");
    EXPECT_NN_ERROR(nn_sample_row(x, 0, plain, NULL), "nn_sample_row", "V = 0");
    EXPECT_NN_ERROR(nn_sample_row(NULL, 4, plain, NULL), "nn_sample_row", "NULL");
    EXPECT_NN_ERROR(nn_sampling_probs(x, 4, plain, NULL), "nn_sampling_probs", "NULL");
    EXPECT_NN_ERROR(nn_sample_row(x, 4, (nn_sampling){.temperature = NAN}, NULL), "temperature = nan");
    EXPECT_NN_ERROR(nn_sample_row(x, 4, (nn_sampling){.temperature = INFINITY}, NULL), "temperature = inf");
    EXPECT_NN_ERROR(nn_sample_row(x, 4, (nn_sampling){.temperature = 1, .top_k = -1}, NULL), "top_k = -1");
    EXPECT_NN_ERROR(nn_sampling_probs(x, 4, (nn_sampling){.temperature = 1, .top_p = 1.5f}, p), "top_p = 1.5");
    EXPECT_NN_ERROR(nn_sampling_probs(x, 4, (nn_sampling){.temperature = 1, .top_p = -0.1f}, p), "top_p = -0.1");
    EXPECT_NN_ERROR(nn_sample_row(x, 4, (nn_sampling){.top_p = NAN}, NULL), "top_p = nan");
    /* The settings are checked for greedy too: a typo does not hide behind T = 0. */
    EXPECT_NN_ERROR(nn_sample_row(x, 4, (nn_sampling){.top_k = -3}, NULL), "top_k = -3");
    const float w_neg[3] = {1, -0.5f, 1}, w_nan[2] = {NAN, 1}, w_zero[3] = {0, 0, 0};
    EXPECT_NN_ERROR(nn_sample_from_probs(w_neg, 3, NULL), "nn_sample_from_probs", "probs[1] = -0.5");
    EXPECT_NN_ERROR(nn_sample_from_probs(w_nan, 2, NULL), "probs[0] = nan");
    EXPECT_NN_ERROR(nn_sample_from_probs(w_zero, 3, NULL), "all 3 probabilities are 0");
    EXPECT_NN_ERROR(nn_sample_from_probs(NULL, 3, NULL), "NULL");
    EXPECT_NN_ERROR(nn_sample_from_probs(w_zero, 0, NULL), "V = 0");
    /* The message names the caller's line. */
    EXPECT_NN_ERROR(nn_sample_greedy(none, 3), "test_sample.c:");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_greedy_argmax_lowest_id_on_ties),
        NN_TEST(test_temperature_to_zero_is_greedy),
        NN_TEST(test_temperature_probs_match_softmax),
        NN_TEST(test_top_k_stays_in_set),
        NN_TEST(test_top_k_ties_and_edges),
        NN_TEST(test_top_k_one_is_greedy),
        NN_TEST(test_top_p_nucleus_known),
        NN_TEST(test_top_p_ties_lower_ids),
        NN_TEST(test_top_p_against_brute_force),
        NN_TEST(test_top_p_stays_in_nucleus),
        NN_TEST(test_top_p_one_is_plain),
        NN_TEST(test_frequencies_match_probabilities),
        NN_TEST(test_same_seed_same_sequence),
        NN_TEST(test_probs_then_draw_is_sample_row),
        NN_TEST(test_probs_sum_to_one),
        NN_TEST(test_edge_cases),
        NN_TEST(test_sample_tensor),
        NN_TEST(test_million_tokens),
        NN_TEST(test_sampling_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
