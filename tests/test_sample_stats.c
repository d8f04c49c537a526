/* tests/test_sample_stats.c — the statistics of sampled text (nn/net/sample_stats.h): entropy,
 * repetition, repeated n-grams, distinct-n; hand-worked values, brute-force references, how
 * the sampler's settings move them, and the errors. */
#include "testing.h"

/* ---- entropy ---------------------------------------------------------------------------- */

static void test_entropy_known_values(void **state) {
    (void)state;
    float one_hot[4] = {0, 0, 1, 0}, half[2] = {0.5f, 0.5f}, uniform[10];
    for (int i = 0; i < 10; i++) uniform[i] = 0.1f;
    assert_true(nn_entropy(one_hot, 4) == 0.0);   /* exactly 0, not -0 */
    assert_true(fabs(nn_entropy(half, 2) - log(2.0)) < 1e-7);
    assert_true(fabs(nn_entropy(uniform, 10) - log(10.0)) < 1e-6);
    /* (1/2, 1/4, 1/4): 1/2 ln 2 + 2 * 1/4 ln 4 = 1.5 ln 2 */
    float skew[3] = {0.5f, 0.25f, 0.25f};
    assert_true(fabs(nn_entropy(skew, 3) - 1.5 * log(2.0)) < 1e-7);
}

/* What the sampler draws from: entropy grows with the temperature, top-k = 1 and greedy give
 * 0, top-k = k over equal logits gives ln k, and top-p never raises it above the plain one. */
static void test_entropy_follows_the_settings(void **state) {
    (void)state;
    enum { V = 50 };
    float logits[V], probs[V];
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    for (int i = 0; i < V; i++) logits[i] = 4.0f * nn_rng_normal(&rng);
    double prev = -1.0;
    const float T[] = {0.25f, 0.5f, 0.8f, 1.0f, 1.5f, 3.0f};
    for (int k = 0; k < 6; k++) {
        assert_true(nn_sampling_probs(logits, V, (nn_sampling){.temperature = T[k]}, probs) == V);
        double h = nn_entropy(probs, V);
        assert_true(h > prev);
        assert_true(h < log((double)V));
        prev = h;
    }
    nn_sampling_probs(logits, V, (nn_sampling){0}, probs);
    assert_true(nn_entropy(probs, V) == 0.0);
    nn_sampling_probs(logits, V, (nn_sampling){.temperature = 1, .top_k = 1}, probs);
    assert_true(nn_entropy(probs, V) == 0.0);
    float flat[V] = {0};
    nn_sampling_probs(flat, V, (nn_sampling){.temperature = 1, .top_k = 8}, probs);
    assert_true(fabs(nn_entropy(probs, V) - log(8.0)) < 1e-6);
    float plain[V];
    nn_sampling_probs(logits, V, (nn_sampling){.temperature = 1}, plain);
    nn_sampling_probs(logits, V, (nn_sampling){.temperature = 1, .top_p = 0.9f}, probs);
    assert_true(nn_entropy(probs, V) < nn_entropy(plain, V));
}

/* The entropy is the mean surprisal -ln p of what the sampler draws: 40,000 draws estimate it
 * within 6.5 standard errors (the spread of -ln p over the distribution, measured exactly). */
static void test_entropy_is_mean_surprisal_of_draws(void **state) {
    (void)state;
    enum { V = 30, N = 40000 };
    float logits[V], probs[V];
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    for (int i = 0; i < V; i++) logits[i] = 2.0f * nn_rng_normal(&rng);
    nn_sampling s = {.temperature = 0.9f, .top_k = 20};
    nn_sampling_probs(logits, V, s, probs);
    double H = nn_entropy(probs, V), second = 0.0;
    for (int i = 0; i < V; i++)
        if (probs[i] > 0) second += probs[i] * log(probs[i]) * log(probs[i]);
    double sd = sqrt(second - H * H), sum = 0.0;
    for (int n = 0; n < N; n++) {
        int tok = nn_sample_row(logits, V, s, &rng);
        assert_true(probs[tok] > 0);
        sum -= log(probs[tok]);
    }
    assert_true(fabs(sum / N - H) < 6.5 * sd / sqrt((double)N));
}

/* ---- repetition ------------------------------------------------------------------------- */

static void test_repeat_share_by_hand(void **state) {
    (void)state;
    const int stutter[] = {5, 5, 5, 5, 5};
    assert_true(nn_repeat_share(stutter, 5, 1, 4) == 1.0);
    assert_true(nn_repeat_share(stutter, 5, 0, 4) == 4.0 / 5);   /* the first has nothing before */
    const int poem[] = {1, 2, 3, 4, 5, 9, 1, 2, 3, 4, 5, 9};     /* period 6 */
    assert_true(nn_repeat_share(poem, 12, 0, 4) == 0.0);        /* window 4 never sees it */
    assert_true(nn_repeat_share(poem, 12, 0, 6) == 6.0 / 12);   /* window 6 does, from i = 6 */
    /* The prompt is looked back at: written {7} repeats the prompt's 7. */
    const int prompted[] = {7, 8, 7, 1};
    assert_true(nn_repeat_share(prompted, 4, 2, 4) == 0.5);
    assert_true(nn_repeat_share(prompted, 4, 4, 4) == 0.0);     /* nothing written */
    assert_true(nn_repeat_share(NULL, 0, 0, 4) == 0.0);
}

/* Greedy sampling from one fixed row writes the same token every time: share 1; uniform
 * sampling over V = 1000 repeats one of the 4 before with probability about 4/1000. */
static void test_repeat_share_of_greedy_and_uniform(void **state) {
    (void)state;
    enum { V = 1000, N = 4000 };
    float logits[V] = {0};
    logits[17] = 1.0f;
    int seq[N];
    nn_rng rng;
    nn_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) seq[i] = nn_sample_row(logits, V, (nn_sampling){0}, &rng);
    assert_true(nn_repeat_share(seq, N, 1, 4) == 1.0);
    assert_true(nn_distinct_n(seq, 1, N, 0, 1) == 1.0 / N);
    logits[17] = 0.0f;
    for (int i = 0; i < N; i++)
        seq[i] = nn_sample_row(logits, V, (nn_sampling){.temperature = 1}, &rng);
    double p = 1.0 - pow(1.0 - 1.0 / V, 4), share = nn_repeat_share(seq, N, 4, 4);
    assert_true(fabs(share - p) < 6.5 * sqrt(p * (1 - p) / (N - 4)));
}

/* Brute force: an n-gram is repeated when some earlier start j < i holds the same tokens. */
static double ref_repeated(const int *s, int n, int from, int g) {
    long rep = 0, all = 0;
    for (int i = from; i + g <= n; i++, all++)
        for (int j = 0; j < i; j++)
            if (memcmp(s + j, s + i, sizeof(int) * (size_t)g) == 0) {
                rep++;
                break;
            }
    return all ? (double)rep / all : 0.0;
}

static void test_repeated_ngrams(void **state) {
    (void)state;
    const int loop[] = {1, 2, 3, 1, 2, 3, 1, 2, 3};
    /* 3-grams from 0: 123 231 312 123 231 312 123: the last four occurred before. */
    assert_true(nn_repeated_ngram_share(loop, 9, 0, 3) == 4.0 / 7);
    assert_true(nn_repeated_ngram_share(loop, 9, 3, 3) == 1.0);
    assert_true(nn_repeated_ngram_share(loop, 3, 0, 3) == 0.0);
    assert_true(nn_repeated_ngram_share(loop, 2, 0, 3) == 0.0);   /* no 3-gram at all */
    /* Overlapping with itself: 1 1 1 1's 2-grams 11 11 11: the last two repeat. */
    const int ones[] = {1, 1, 1, 1};
    assert_true(nn_repeated_ngram_share(ones, 4, 0, 2) == 2.0 / 3);
    int s[200];
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    for (int i = 0; i < 200; i++) s[i] = (int)(nn_rng_u32(&rng) % 4);
    for (int g = 1; g <= 5; g++)
        for (int from = 0; from <= 200; from += 37)
            assert_true(nn_repeated_ngram_share(s, 200, from, g) == ref_repeated(s, 200, from, g));
}

/* ---- distinct-n ------------------------------------------------------------------------- */

static void test_distinct_by_hand(void **state) {
    (void)state;
    /* Two samples of 5, prompt 1: written 2 3 2 3 and 2 3 4 4. */
    const int seqs[] = {9, 2, 3, 2, 3, /**/ 8, 2, 3, 4, 4};
    assert_true(nn_distinct_n(seqs, 2, 5, 1, 1) == 3.0 / 8);   /* {2, 3, 4} of 8 */
    /* pairs: 23 32 23 | 23 34 44: {23, 32, 34, 44} of 6 (none across the two samples) */
    assert_true(nn_distinct_n(seqs, 2, 5, 1, 2) == 4.0 / 6);
    assert_true(nn_distinct_n(seqs, 2, 5, 1, 4) == 1.0);        /* 2323 and 2344 */
    assert_true(nn_distinct_n(seqs, 2, 5, 1, 5) == 0.0);        /* none fits */
    assert_true(nn_distinct_n(seqs, 0, 5, 1, 2) == 0.0);
    /* Large ids and long n-grams are told apart exactly. */
    const int big[] = {2000000000, 1, 2, 3, 4, 5, 6, 7, /**/ 2000000000, 1, 2, 3, 4, 5, 6, 8};
    assert_true(nn_distinct_n(big, 2, 8, 0, 8) == 1.0);
    assert_true(nn_distinct_n(big, 2, 8, 0, 7) == 3.0 / 4);   /* the first two are one */
}

static void test_distinct_against_brute_force(void **state) {
    (void)state;
    enum { S = 6, LEN = 40 };
    int seqs[S * LEN];
    nn_rng rng;
    nn_rng_seed(&rng, 9);
    for (int i = 0; i < S * LEN; i++) seqs[i] = (int)(nn_rng_u32(&rng) % 3);
    for (int g = 1; g <= 6; g++) {
        int from = 3, all = 0, different = 0;
        for (int s = 0; s < S; s++)
            for (int i = from; i + g <= LEN; i++, all++) {
                const int *a = seqs + s * LEN + i;
                bool seen = false;   /* any earlier n-gram in the pooled order equal to a? */
                for (int t = 0; t <= s && !seen; t++)
                    for (int j = from; j + g <= LEN && !seen; j++) {
                        if (t == s && j >= i) break;
                        seen = memcmp(seqs + t * LEN + j, a, sizeof(int) * (size_t)g) == 0;
                    }
                different += !seen;
            }
        assert_true(nn_distinct_n(seqs, S, LEN, from, g) == (double)different / all);
    }
}

/* A hotter sampler writes more varied text: distinct-2 of 20 samples grows from greedy to
 * T = 1 to T = 2 over a peaked distribution. */
static void test_distinct_grows_with_temperature(void **state) {
    (void)state;
    enum { V = 40, S = 20, LEN = 30 };
    float logits[V];
    nn_rng rng;
    nn_rng_seed(&rng, 13);
    for (int i = 0; i < V; i++) logits[i] = 3.0f * nn_rng_normal(&rng);
    const float T[] = {0.0f, 1.0f, 2.0f};
    double prev = -1.0;
    int seqs[S * LEN];
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < S * LEN; i++)
            seqs[i] = nn_sample_row(logits, V, (nn_sampling){.temperature = T[k]}, &rng);
        double d2 = nn_distinct_n(seqs, S, LEN, 0, 2);
        assert_true(d2 > prev);
        prev = d2;
    }
}

static void test_sample_stats_errors(void **state) {
    (void)state;
    float bad[3] = {0.5f, -0.1f, 0.6f}, nan3[3] = {0.5f, NAN, 0.5f}, inf3[2] = {INFINITY, 0};
    EXPECT_NN_ERROR(nn_entropy(bad, 3), "probs[1] = -0.1");
    EXPECT_NN_ERROR(nn_entropy(nan3, 3), "probs[1] = nan");
    EXPECT_NN_ERROR(nn_entropy(inf3, 2), "probs[0] = inf");
    EXPECT_NN_ERROR(nn_entropy(NULL, 3), "NULL");
    EXPECT_NN_ERROR(nn_entropy(bad, 0), "V = 0");
    const int s[] = {1, 2, 3};
    EXPECT_NN_ERROR(nn_repeat_share(s, 3, 4, 4), "n = 3, from = 4");
    EXPECT_NN_ERROR(nn_repeat_share(s, 3, -1, 4), "from = -1");
    EXPECT_NN_ERROR(nn_repeat_share(s, 3, 0, 0), "window = 0");
    EXPECT_NN_ERROR(nn_repeat_share(NULL, 3, 0, 4), "NULL");
    EXPECT_NN_ERROR(nn_repeated_ngram_share(s, 3, 0, 0), "ngram = 0");
    EXPECT_NN_ERROR(nn_distinct_n(s, 1, 3, 0, 9), "ngram = 9");
    EXPECT_NN_ERROR(nn_distinct_n(s, 1, 3, 4, 1), "from = 4");
    EXPECT_NN_ERROR(nn_distinct_n(NULL, 1, 3, 0, 1), "NULL");
    const int neg[] = {1, -2, 3};
    EXPECT_NN_ERROR(nn_distinct_n(neg, 1, 3, 0, 1), "seqs[1] = -2");
    EXPECT_NN_ERROR(nn_entropy(bad, 3), "test_sample_stats.c:");   /* the caller's line */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_entropy_known_values),
        NN_TEST(test_entropy_follows_the_settings),
        NN_TEST(test_entropy_is_mean_surprisal_of_draws),
        NN_TEST(test_repeat_share_by_hand),
        NN_TEST(test_repeat_share_of_greedy_and_uniform),
        NN_TEST(test_repeated_ngrams),
        NN_TEST(test_distinct_by_hand),
        NN_TEST(test_distinct_against_brute_force),
        NN_TEST(test_distinct_grows_with_temperature),
        NN_TEST(test_sample_stats_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
