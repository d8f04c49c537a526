/* examples/ch06_sampling/sampling.c — 温度 (temperature), top k and top-p: how the next
 * character is picked, and what that does to the text.
 *
 * The tutorial: 函数是死的,所以根据前面的词输出的下一个词是固定的 — the function is fixed, the
 * same words before give the same next-word probabilities; 控制输出的随机性的参数叫做温度 —
 * the setting that controls the randomness is the temperature; 从概率最高的k个词中选择叫做
 * top k; 随机性太高,模型容易胡说八道,太低又会过于保守 — too random and it talks nonsense, too
 * little and it is too conservative.
 *
 * For logits z (V of them) the distribution sampled from (nn_sampling_probs, nn/net/sample.h):
 *   temperature T   p_i = exp(z_i / T) / sum_j exp(z_j / T)   T -> 0: greedy (the argmax)
 *   top-k           keep the k largest p_i, renormalise
 *   top-p           keep the fewest largest p_i whose sum reaches p (the nucleus), renormalise
 * A GPT is trained here on tang300 (examples/common/ch06_quick_gpt.h; --model DIR reads a
 * saved one instead), and for each setting it writes S samples from the same S prompts (a line
 * end and the first character of S validation lines; each sample fills one window, written
 * with the KV cache). Measured on what it wrote, every token counted (characters,
 * punctuation, line ends):
 *   H          mean entropy -sum p ln p (nats) of the distribution each character was drawn
 *              from; e^H "the number of equally likely choices" (greedy: 0 and 1)
 *   cands      mean number of characters with p > 0 (V unless top-k / top-p cut it)
 *   rep4       the share of written tokens equal to one of the 4 tokens before it: the
 *              stutter of "山山山" or "，，，" (real poems: 5 or 7 characters between two marks)
 *   rep3       the share of written 3-grams that already occurred earlier in the same
 *              sample: loops
 *   dist-1/2   distinct-n: different tokens (token pairs) / all of them, over all S
 *              samples of the setting: how varied the text is (the S prompts differ, so greedy
 *              text varies too)
 *   5/7        the share of complete clauses (between punctuation marks) of 5 or 7 characters
 *              (rhythm() in examples/common/poems.h): how poem-like the form is
 * The last row measures the real continuations of the same validation lines the same way
 * (and, as H, the model's entropy while reading them): what a perfect sampler would give.
 *
 *   sampling [--quick | --full] [--model DIR] [--samples S] [--seed N] [--out DIR]
 *   default  the chapter 6 default GPT (C 64, 2 blocks, T 32; ~15 s to train), 32 samples
 *            of 31 characters per setting
 *   --quick  a tiny GPT (T 16), 4 samples (the smoke tests; a few seconds)
 *   --full   the --full GPT (T 64, minutes to train), 32 samples of 63 characters
 * Writes DIR/ch06_sampling.svg: rep4, distinct-2 and the 5/7 share per setting.
 */
#include "../common/ch06_quick_gpt.h"

typedef struct setting {
    const char *name, *key;   /* for the table and the result line */
    nn_sampling how;
} setting;

typedef struct stats {
    double H, cands;           /* sums over the steps */
    long steps;
    double rep4, rep3;         /* sums over the samples (all of one length: the mean is the
                                  pooled share) */
    int samples;
    long clauses, good;        /* clauses, those of 5 or 7 characters */
} stats;

/* rep4, rep3 and rhythm of one sample seq[0 .. n), whose first `from` tokens are the prompt
 * (counted only as what comes before; nn/net/sample_stats.h). Punctuation counts like any
 * character: "，，，，" is as much a stutter as "山山山山" (real poems put 5 or 7 characters
 * between two marks). */
static void text_stats(const nn_vocab *v, const int *seq, int n, int from, stats *st) {
    st->rep4 += nn_repeat_share(seq, n, from, 4);
    st->rep3 += nn_repeated_ngram_share(seq, n, from, 3);
    st->samples++;
    int clauses;
    double r = rhythm(v, seq, n, &clauses);   /* the prompt's line end starts the first clause */
    st->clauses += clauses;
    st->good += lround(r * clauses);
}

/* One sample: the prompt p[0 .. np), then n_new tokens drawn with `how` into seq[np ..), the
 * KV cache holding what was read (np + n_new - 1 <= context). The entropy and the number of
 * candidates of each step's distribution are added to st. Gradients off, eval mode. */
static void write_sample(nn_gpt *g, nn_gpt_cache *cache, const int *p, int np, int n_new,
                         nn_sampling how, nn_rng *rng, float *probs, int *seq, stats *st) {
    int V = g->cfg.vocab;
    memcpy(seq, p, sizeof(int) * (size_t)np);
    nn_gpt_cache_reset(cache);
    nn_graph_mark_t mark = nn_graph_mark();
    nn_tensor *logits = nn_gpt_forward_cached(g, cache, p, 1, np);   /* (1, np, V) */
    const float *row = logits->data + (size_t)(np - 1) * V;
    for (int t = 0; t < n_new; t++) {
        int k = nn_sampling_probs(row, V, how, probs);   /* what the token is drawn from */
        st->H += nn_entropy(probs, V), st->cands += k, st->steps++;
        int tok = nn_sample_from_probs(probs, V, rng);
        seq[np + t] = tok;
        nn_graph_rewind(mark);
        if (t + 1 < n_new) {
            logits = nn_gpt_forward_cached(g, cache, &tok, 1, 1);   /* (1, 1, V) */
            row = logits->data;
        }
    }
    nn_graph_rewind(mark);
}

/* The model's entropy while reading seq[0 .. n) (n <= context): the mean over positions
 * from-1 .. n-2 of the plain softmax's entropy (the distribution of each next real char). */
static void reading_entropy(nn_gpt *g, const int *seq, int n, int from, float *probs, stats *st) {
    int V = g->cfg.vocab;
    nn_graph_mark_t mark = nn_graph_mark();
    nn_tensor *logits = nn_gpt_forward(g, seq, 1, n);               /* (1, n, V) */
    for (int t = from - 1; t < n - 1; t++) {
        int k = nn_sampling_probs(logits->data + (size_t)t * V, V, (nn_sampling){.temperature = 1},
                                  probs);
        st->H += nn_entropy(probs, V), st->cands += k, st->steps++;
    }
    nn_graph_rewind(mark);
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *model_dir = NULL;
    int S = 32;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT and 4 samples per setting (for the tests)"),
        NN_OPT_FLAG("--full", &full, "the --full GPT (T 64; minutes), 63 characters a sample"),
        NN_OPT_STR("--model", &model_dir, "DIR", "a saved GPT (tiny_gpt's out/gpt) instead of "
                   "training one"),
        NN_OPT_INT("--samples", &S, 1, 4096, "samples per setting (--quick 4)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "温度 / top k / top-p: a GPT trained on the Tang poems writes with greedy decoding,\n"
                     "several temperatures, top-k and top-p; entropy, repetition, distinct-n and\n"
                     "the 5/7-character rhythm of what it wrote, in one table.",
                     opts, nopt);
    printf("chapter 6: temperature, top-k, top-p (温度 / top k)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    ch06_level level = ch06_level_of(quick, full);
    if (!nn_option_given(opts, nopt, "--samples")) S = quick ? 4 : 32;

    poems po;
    ch06_gpt m;
    if (ch06_open(&po, &m, false, level, model_dir, seed) != 0) return 1;
    nn_gpt *g = m.gpt;
    const nn_vocab *v = po.vocab;
    int V = v->size, T = g->cfg.context;
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : 0;

    /* S prompts: a line end and the first character of S validation lines (wrapping round
     * when there are fewer); each sample fills the window: 2 + (T - 1) tokens read. */
    const int np = 2, n_new = T - 1, len = np + n_new;
    /* lines at least one sample apart, so that the real continuations do not overlap */
    int *starts = malloc(sizeof(int) * (size_t)S), found = 0;
    for (int i = 1; i + n_new < po.val.n && found < S; i++)
        if (po.val.ids[i - 1] == nl && po.val.ids[i] != nl &&
            (found == 0 || i >= starts[found - 1] + len))
            starts[found++] = i;
    if (found == 0) {
        fprintf(stderr, "sampling: no line of %d characters in the validation text\n", n_new);
        free(starts), nn_gpt_free(g), poems_close(&po);
        return 1;
    }
    for (int i = found; i < S; i++) starts[i] = starts[i % found];
    printf("samples: %d per setting, each a line end + the first character of a validation "
           "line, then %d characters\n", S, n_new);
    if (found < S)
        printf("note: the validation text has room for %d such lines only: the prompts repeat "
               "(and so does the\n      greedy text, which lowers distinct-n)\n", found);

    static const setting set[] = {
        {"greedy", "greedy", {.temperature = 0}},
        {"T 0.5", "t05", {.temperature = 0.5f}},
        {"T 0.8", "t08", {.temperature = 0.8f}},
        {"T 1.0", "t10", {.temperature = 1.0f}},
        {"T 1.5", "t15", {.temperature = 1.5f}},
        {"top-k 5", "k5", {.temperature = 1.0f, .top_k = 5}},
        {"top-k 50", "k50", {.temperature = 1.0f, .top_k = 50}},
        {"top-p 0.9", "p09", {.temperature = 1.0f, .top_p = 0.9f}},
    };
    enum { NSET = sizeof set / sizeof set[0] };
    stats st[NSET + 1];
    double d1[NSET + 1], d2[NSET + 1];
    memset(st, 0, sizeof st);
    float *probs = malloc(sizeof(float) * (size_t)V);
    int *seqs = malloc(sizeof(int) * (size_t)S * len);
    nn_gpt_cache *cache = nn_gpt_cache_new(g, 1);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    double t0 = nn_seconds();
    printf("\nthe first sample of each setting (prompt shown first):\n");
    for (int k = 0; k < NSET; k++) {
        nn_rng rng;
        nn_rng_seed(&rng, seed);   /* the same random numbers for every setting */
        for (int s = 0; s < S; s++) {
            int p[2] = {nl, po.val.ids[starts[s]]}, *seq = seqs + (size_t)s * len;
            write_sample(g, cache, p, np, n_new, set[k].how, &rng, probs, seq, &st[k]);
            text_stats(v, seq, len, np, &st[k]);
        }
        d1[k] = nn_distinct_n(seqs, S, len, np, 1), d2[k] = nn_distinct_n(seqs, S, len, np, 2);
        printf("  %-9s", set[k].name);
        print_text(v, seqs + 1, 1, seqs + np, n_new);
    }
    /* the real continuations, and the model reading them */
    for (int s = 0; s < S; s++) {
        int *seq = seqs + (size_t)s * len;
        seq[0] = nl;
        memcpy(seq + 1, po.val.ids + starts[s], sizeof(int) * (size_t)(len - 1));
        reading_entropy(g, seq, len < T ? len : T, np, probs, &st[NSET]);
        text_stats(v, seq, len, np, &st[NSET]);
    }
    d1[NSET] = nn_distinct_n(seqs, S, len, np, 1), d2[NSET] = nn_distinct_n(seqs, S, len, np, 2);
    printf("  %-9s", "real");
    print_text(v, seqs + 1, 1, seqs + np, n_new);
    double gen_s = nn_seconds() - t0;
    nn_set_grad_enabled(grad), nn_set_training(training);

    /* ---- the table ----------------------------------------------------------------------- */
    printf("\n%-10s %7s %7s %7s %7s %7s %7s %7s %7s %8s\n", "setting", "H nats", "e^H", "cands",
           "rep4", "rep3", "dist-1", "dist-2", "5/7", "clauses");
    double rep4[NSET + 1], rep3[NSET + 1], r57[NSET + 1], H[NSET + 1];
    float xs[NSET + 1], y_rep[NSET + 1], y_d2[NSET + 1], y_r[NSET + 1];
    for (int k = 0; k <= NSET; k++) {
        const stats *a = &st[k];
        H[k] = a->steps ? a->H / a->steps : 0;
        rep4[k] = a->samples ? a->rep4 / a->samples : 0;
        rep3[k] = a->samples ? a->rep3 / a->samples : 0;
        r57[k] = a->clauses ? (double)a->good / a->clauses : 0;
        printf("%-10s %7.3f %7.1f %7.0f %6.1f%% %6.1f%% %7.3f %7.3f %6.1f%% %8ld\n",
               k < NSET ? set[k].name : "real text", H[k], exp(H[k]),
               a->steps ? a->cands / a->steps : 0, 100 * rep4[k], 100 * rep3[k], d1[k], d2[k],
               100 * r57[k], a->clauses);
        xs[k] = (float)k, y_rep[k] = (float)rep4[k], y_d2[k] = (float)d2[k], y_r[k] = (float)r57[k];
    }
    printf("(%d samples x %d characters per setting, %.1f s; real text: the validation lines "
           "the prompts came from,\nH = the model's entropy reading them)\n", S, n_new, gen_s);
    printf("\ngreedy decoding repeats itself: %.0f%% of its tokens repeat one of the 4 "
           "before (T 1.0: %.0f%%,\nreal poems: %.0f%%), %.0f%% of its 3-grams are repeats "
           "(T 1.0: %.0f%%, real: %.0f%%). A higher temperature\nbuys variety (distinct-2 %.2f "
           "at T 1.5, %.2f at T 1.0, %.2f greedy) at the price of form\n(5/7 clauses %.0f%% at "
           "T 1.5, %.0f%% at T 1.0); top-k and top-p cut the unlikely tail (cands)\nthat T 1.0 "
           "still draws from.\n", 100 * rep4[0], 100 * rep4[3], 100 * rep4[NSET], 100 * rep3[0],
           100 * rep3[3], 100 * rep3[NSET], d2[4], d2[3], d2[0], 100 * r57[4], 100 * r57[3]);

    nn_series ser[] = {{"rep4 (repeats one of the 4 before)", xs, y_rep, NSET + 1, NN_PLOT_LINE},
                       {"distinct-2", xs, y_d2, NSET + 1, NN_PLOT_LINE},
                       {"5/7-character clauses", xs, y_r, NSET + 1, NN_PLOT_LINE}};
    int failed = nn_plot_svg_in(out_dir, "ch06_sampling.svg",
                                "Sampling settings: 0 greedy, 1-4 T 0.5/0.8/1.0/1.5, 5-6 top-k "
                                "5/50, 7 top-p 0.9, 8 real text", "setting", "share", ser,
                                3) != 0;

    printf("result: model=%s params=%zu context=%d val_loss=%.3f samples=%d", m.loaded ?
           "loaded" : "trained", g->model->count, T, m.val, S);
    for (int k = 0; k <= NSET; k++) {
        const char *key = k < NSET ? set[k].key : "real";
        printf(" %s_H=%.3f %s_rep4=%.3f %s_rep3=%.3f %s_d1=%.3f %s_d2=%.3f %s_rhythm=%.3f", key,
               H[k], key, rep4[k], key, rep3[k], key, d1[k], key, d2[k], key, r57[k]);
    }
    printf("\n");
    free(probs), free(seqs), free(starts);
    nn_gpt_cache_free(cache);
    nn_gpt_free(g);
    poems_close(&po);
    nn_graph_release();
    return failed;
}
