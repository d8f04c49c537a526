/* examples/ch06_context/context.c — 上下文 (context) and 提示词 (prompt): a language model
 * sees only the tokens in its window, and a prompt is nothing but the first of them.
 *
 * The tutorial: 对话时所有给到大模型的信息叫做上下文,不同的模型有不同的上下文,长度限制越大,就越能
 * 记住前面的信息 — everything given to the model is its context; the longer the limit, the
 * more it remembers; 上下文从另一个角度理解,也可以叫提示词 ... 其实就是个上下文而已 — seen from
 * the other side the context is the prompt, and that is all a prompt is.
 *
 * (a) What the model cannot see. A GPT of context T (examples/common/ch06_quick_gpt.h, on
 *     tang300 with its title and author lines kept) reads windows of the validation text;
 *     position t of a window predicts character t + 1 from the t + 1 characters 0 .. t:
 *       loss(t) = mean over windows of -ln p(x[t+1] | x[0 .. t])
 *     Position 0 has one character to go on (about what a bigram count knows); later
 *     positions have more, and the curve shows how much of the gain comes early.
 * (b) Information further back than the window. A task of ids (as chapter 4's long_range):
 *       s d1 d2 ... dD ?      -> s        s: one of K = 8 symbols, d: 8 distractors, ?: query
 *     A GPT that reads at most T tokens is given the last T of the sequence, as in generation.
 *     When D + 2 <= T the symbol is in view and it answers; when D + 2 > T the symbol has
 *     left the window and no model can do better than chance 1/K. Two GPTs, context T and
 *     2T, trained on distances the window holds, are tested at distances in view of both,
 *     of the longer one only, and of neither; then the same far sequences with the symbol
 *     said again just before the query (s d1 ... dD s ?): the prompt put it back in view.
 * (c) Prompts. The model of (a) continues different prompts: nothing (a line end), a poem's
 *     first line, a title and author line such as "《夜思》\n作者：李白\n" (tang300's 静夜思),
 *     the start of an author's name. For each: the 5 most likely next characters and the
 *     entropy of the next-character distribution, and its total-variation distance from the
 *     distribution after nothing, 1/2 sum |p - q|. Then, over every poem of the validation
 *     text, the loss of its first clause read after its own title and author, after another
 *     poem's, and after a bare line end.
 *
 *   context [--quick | --full] [--model DIR] [--seed N] [--out DIR]
 *   default  the chapter 6 default GPT (T 32, ~15 s) and two task GPTs (T 16 and 32, seconds)
 *   --quick  tiny models (the smoke tests; a few seconds)
 *   --full   the --full GPT (T 64; minutes) and task GPTs of T 32 and 64
 *   --model  a saved poem GPT instead of training (its vocabulary must be this corpus's, so
 *            one trained with titles: tiny_gpt --titles)
 * Writes DIR/ch06_context_loss_by_position.svg.
 */
#include "../common/ch06_quick_gpt.h"

/* ---- (b) the task -------------------------------------------------------------------------- */
#define K_SYM 8
#define N_DIS 8
#define QUERY (K_SYM + N_DIS)
#define TASK_V (QUERY + 1)
#define TASK_TEST 256

/* The sequence s d1 .. dD [s] ? into seq (D + 2 or D + 3 tokens); the answer s returned. */
static int task_sequence(nn_rng *rng, int D, bool restate, int *seq, int *n) {
    int s = nn_rng_int(rng, K_SYM), k = 0;
    seq[k++] = s;
    for (int i = 0; i < D; i++) seq[k++] = K_SYM + nn_rng_int(rng, N_DIS);
    if (restate) seq[k++] = s;
    seq[k++] = QUERY;
    *n = k;
    return s;
}

/* A window of exactly T tokens ending in the query, with s at distance D (D + 2 <= T), the
 * positions before s filled with distractors: the rows the task GPT trains on (s anywhere in
 * the window, so that it must find s by what it is, not where). */
static int task_row(nn_rng *rng, int T, int D, int *row) {
    int seq[1024], n;   /* T <= 1000 */
    int s = task_sequence(rng, D, false, seq, &n);
    for (int i = 0; i < T - n; i++) row[i] = K_SYM + nn_rng_int(rng, N_DIS);
    memcpy(row + (T - n), seq, sizeof(int) * (size_t)n);
    return s;
}

/* Train a task GPT of context T: B rows a step, D uniform in 0 .. T - 2, the loss of the last
 * position only (the answer after the query). */
static nn_gpt *task_train(int T, int steps, uint64_t seed, double *last_loss) {
    nn_seed(seed);
    nn_gpt_config cfg = {.vocab = TASK_V, .context = T, .dim = 32, .heads = 2, .layers = 1};
    nn_gpt *g = nn_gpt_new(&cfg);
    if (!g) return NULL;
    nn_optim *opt = nn_adamw_new(g->model, 3e-3f, 0.0f);
    enum { B = 32 };
    int *x = malloc(sizeof(int) * B * (size_t)T), y[B];
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1);
    double run = 0;
    for (int step = 0; step < steps; step++) {
        for (int b = 0; b < B; b++) y[b] = task_row(&rng, T, nn_rng_int(&rng, T - 1), x + b * T);
        nn_tensor *logits = nn_gpt_forward(g, x, B, T);                    /* (B, T, V) */
        nn_tensor *last = nn_slice(logits, 1, T - 1, 1);                   /* (B, 1, V) */
        nn_tensor *loss = nn_cross_entropy_loss(last, y);
        float l = nn_item(loss);
        nn_model_zero_grad(g->model);
        nn_backward(loss);
        nn_clip_grad_norm(g->model, 1.0f);
        nn_optim_step(opt);
        nn_graph_clear();
        run = step == 0 ? l : 0.95 * run + 0.05 * l;
    }
    *last_loss = run;
    free(x);
    nn_optim_free(opt);
    return g;
}

/* Accuracy and mean p(answer) of g on TASK_TEST sequences at distance D, each at the end
 * of a longer stream (`lead` distractors first, as in a long text), of which the model reads
 * only the last `context` tokens, as in generation. The same streams for every model. */
static void task_test(nn_gpt *g, int D, bool restate, int lead, uint64_t seed, double *acc,
                      double *p) {
    int T = g->cfg.context, n, right = 0;
    int *seq = malloc(sizeof(int) * (size_t)(lead + D + 3));
    double psum = 0;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    for (int i = 0; i < TASK_TEST; i++) {
        for (int j = 0; j < lead; j++) seq[j] = K_SYM + nn_rng_int(&rng, N_DIS);
        int s = task_sequence(&rng, D, restate, seq + lead, &n);
        n += lead;
        int view = n < T ? n : T;                                          /* the window */
        nn_tensor *logits = nn_gpt_forward(g, seq + (n - view), 1, view);  /* (1, view, V) */
        const float *row = logits->data + (size_t)(view - 1) * TASK_V;
        float probs[TASK_V];
        nn_sampling_probs(row, TASK_V, (nn_sampling){.temperature = 1}, probs);
        right += nn_sample_greedy(row, TASK_V) == s;
        psum += probs[s];
        nn_graph_clear();
    }
    nn_set_grad_enabled(grad), nn_set_training(training);
    free(seq);
    *acc = (double)right / TASK_TEST;
    *p = psum / TASK_TEST;
}

/* ---- (a) loss by position ------------------------------------------------------------------ */

/* loss[t] for t in 0 .. T-1 over windows of span starting every `stride` characters, B
 * windows (at most 32) a forward. */
static int loss_by_position(nn_gpt *g, nn_token_span span, int stride, int B, double *loss) {
    int T = g->cfg.context, V = g->cfg.vocab, nwin = 0, starts[32];
    int *x = malloc(sizeof(int) * (size_t)B * T);
    for (int t = 0; t < T; t++) loss[t] = 0;
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    for (int s0 = 0; s0 + T < span.n;) {
        int b = 0;
        for (; b < B && s0 + T < span.n; b++, s0 += stride) {
            starts[b] = s0;
            memcpy(x + b * T, span.ids + s0, sizeof(int) * (size_t)T);
        }
        nn_tensor *lp = nn_log_softmax(nn_gpt_forward(g, x, b, T));    /* (b, T, V) */
        for (int i = 0; i < b; i++)
            for (int t = 0; t < T; t++)
                loss[t] -= lp->data[((size_t)i * T + t) * V + span.ids[starts[i] + t + 1]];
        nwin += b;
        nn_graph_clear();
    }
    nn_set_grad_enabled(grad), nn_set_training(training);
    for (int t = 0; t < T; t++) loss[t] /= nwin > 0 ? nwin : 1;
    free(x);
    return nwin;
}

/* ---- (c) prompts ---------------------------------------------------------------------------- */

/* The next-character distribution after ids[0 .. n) (the last `context` of them) into p[V]. */
static void next_probs(nn_gpt *g, const int *ids, int n, float *p) {
    int T = g->cfg.context, V = g->cfg.vocab, view = n < T ? n : T;
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_tensor *logits = nn_gpt_forward(g, ids + (n - view), 1, view);     /* (1, view, V) */
    nn_sampling_probs(logits->data + (size_t)(view - 1) * V, V, (nn_sampling){.temperature = 1}, p);
    nn_graph_clear();
    nn_set_grad_enabled(grad), nn_set_training(training);
}

static double entropy(const float *p, int V) {
    double h = 0;
    for (int i = 0; i < V; i++)
        if (p[i] > 0) h -= p[i] * log(p[i]);
    return h;
}

/* Print s (UTF-8) padded to `width` columns: a CJK character takes two. */
static void print_padded(const char *s, int width) {
    int w = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if ((*c & 0xc0) != 0x80) w += *c < 0x80 ? 1 : 2;
    printf("%s%*s", s, width > w ? width - w : 0, "");
}

/* A character as text, "\n" shown as ⏎. */
static const char *show(const nn_vocab *v, int id, char buf[8]) {
    if (v->chars[id] == '\n') return "⏎";
    nn_vocab_decode(v, &id, 1, buf, 8);
    return buf;
}

/* Print the prompt's 5 most likely next characters; returns the entropy. */
static double show_top(const nn_vocab *v, const float *p) {
    int V = v->size, top[5] = {-1, -1, -1, -1, -1};
    for (int i = 0; i < V; i++)
        for (int k = 0; k < 5; k++)
            if (top[k] < 0 || p[i] > p[top[k]]) {
                memmove(top + k + 1, top + k, sizeof(int) * (size_t)(4 - k));
                top[k] = i;
                break;
            }
    for (int k = 0; k < 5; k++) {
        char b[8];
        printf(" %s %4.1f%%", show(v, top[k], b), 100 * p[top[k]]);
    }
    return entropy(p, V);
}

/* The poems of span: for each, where its title line starts and where its body starts
 * (tang300 with titles: "\n《title》\n作者：name\n" then the lines). Returns the count. */
static int find_poems(const nn_vocab *v, nn_token_span span, int *title, int *body, int max) {
    int nl = nn_vocab_id(v, '\n'), open = nn_vocab_id(v, 0x300a);   /* 《 */
    int n = 0;
    if (nl <= 0 || open <= 0) return 0;
    for (int i = 1; i < span.n && n < max; i++) {
        if (span.ids[i] != open || span.ids[i - 1] != nl) continue;
        int j = i, lines = 0;
        while (j < span.n && lines < 2) lines += span.ids[j++] == nl;   /* title, author */
        if (lines < 2 || j + 8 >= span.n) break;
        title[n] = i, body[n++] = j;
    }
    return n;
}

/* The loss of the first clause of the body at b (up to and with its first punctuation mark,
 * at most 8 characters) read after ctx[0 .. nc), left-cropped to the window. Returns the
 * sum over its characters, their number in *count. */
static double clause_loss(nn_gpt *g, const nn_vocab *v, const int *ctx, int nc, const int *b,
                          int *count) {
    int T = g->cfg.context, V = g->cfg.vocab, seq[256], n = 0, m = 0;
    while (m < 8 && !is_break(v->chars[b[m]])) m++;
    m++;                                                   /* with the mark */
    for (int i = 0; i < nc && i < 200; i++) seq[n++] = ctx[i];
    for (int i = 0; i < m; i++) seq[n++] = b[i];
    int from = n - T > 0 ? n - T : 0, view = n - from;     /* the last T tokens */
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_tensor *lp = nn_log_softmax(nn_gpt_forward(g, seq + from, 1, view));   /* (1, view, V) */
    double sum = 0;
    for (int j = n - m; j < n; j++)                        /* seq[j] predicted at j - 1 */
        sum -= lp->data[(size_t)(j - 1 - from) * V + seq[j]];
    nn_graph_clear();
    nn_set_grad_enabled(grad), nn_set_training(training);
    *count = m;
    return sum;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    const char *out_dir = "out", *model_dir = NULL;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "tiny models (for the tests)"),
        NN_OPT_FLAG("--full", &full, "the --full GPT (T 64; minutes) and task GPTs of T 32, 64"),
        NN_OPT_STR("--model", &model_dir, "DIR", "a saved poem GPT trained with titles "
                   "(tiny_gpt --titles) instead of training one"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart"),
    };
    nn_parse_options(argc, argv,
                     "上下文 / 提示词: what a GPT cannot see (loss by position in its window; an answer\n"
                     "further back than the window), and prompts as nothing but context (the\n"
                     "next-character distribution after different prompts).",
                     opts, NN_COUNTOF(opts));
    printf("chapter 6: context and prompts (上下文 / 提示词)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    ch06_level level = ch06_level_of(quick, full);

    poems po;
    ch06_gpt m;
    if (ch06_open(&po, &m, true, level, model_dir, seed) != 0) return 1;
    nn_gpt *g = m.gpt;
    const nn_vocab *v = po.vocab;
    int T = g->cfg.context, V = v->size, failed = 0;

    /* ---- (a) ----------------------------------------------------------------------------- */
    double *loss = malloc(sizeof(double) * (size_t)T);
    int stride = quick ? 7 : 3;   /* coprime to the line lengths (6, 8): every alignment */
    /* --quick: 8 windows a forward keep the matrix products below the size where the
     * kernels start OpenMP threads (a thread pool alive at exit is "possibly lost" memory
     * to valgrind, which the smoke tests run); otherwise 32 */
    int nwin = loss_by_position(g, po.val, stride, quick ? 8 : 32, loss);
    baselines base = count_baselines(po.train, po.val, V);
    printf("\n(a) validation loss by position in the window (%d windows of %d, one every %d "
           "characters):\n", nwin, T, stride);
    printf("  %-22s", "characters in view");
    for (int t = 0; t < T; t++)
        if (t < 4 || t == 5 || t == 7 || t == 11 || t == 15 || t == 23 || t == 31 || t == 47 ||
            t == T - 1)
            printf(" %6d", t + 1);
    printf("\n  %-22s", "loss (nats)");
    for (int t = 0; t < T; t++)
        if (t < 4 || t == 5 || t == 7 || t == 11 || t == 15 || t == 23 || t == 31 || t == 47 ||
            t == T - 1)
            printf(" %6.3f", loss[t]);
    double late = 0;
    for (int t = T / 2; t < T; t++) late += loss[t];
    late /= T - T / 2;
    printf("\n  position 1 (one character in view): %.3f; the second half of the window: %.3f "
           "(%.3f less);\n  counting models: unigram %.3f, bigram %.3f (one character of "
           "context, like position 1)\n", loss[0], late, loss[0] - late, base.unigram,
           base.bigram_interp);
    float *px = malloc(sizeof(float) * (size_t)T), *py = malloc(sizeof(float) * (size_t)T);
    float bx[2] = {1, (float)T}, bb[2] = {(float)base.bigram_interp, (float)base.bigram_interp};
    for (int t = 0; t < T; t++) px[t] = (float)(t + 1), py[t] = (float)loss[t];
    nn_series ser[] = {{"GPT, validation", px, py, T, NN_PLOT_LINE},
                       {"bigram count", bx, bb, 2, NN_PLOT_LINE}};
    nn_plot_ascii(stdout, ser, 2, 60, 10);
    failed += nn_plot_svg_in(out_dir, "ch06_context_loss_by_position.svg",
                             "Loss by position in the window: what the model cannot see",
                             "characters in view", "cross-entropy (nats)", ser, 2) != 0;

    /* ---- (b) ----------------------------------------------------------------------------- */
    int Ta = quick ? 8 : full ? 32 : 16, Tb = 2 * Ta, steps = quick ? 40 : full ? 300 : 200;
    double la, lb;
    double t0 = nn_seconds();
    nn_gpt *ga = task_train(Ta, steps, seed, &la), *gb = task_train(Tb, steps, seed, &lb);
    if (!ga || !gb) {
        fprintf(stderr, "cannot build the task GPTs: %s\n", nn_last_error());
        nn_gpt_free(ga), nn_gpt_free(gb), nn_gpt_free(g);
        free(loss), free(px), free(py);
        poems_close(&po);
        return 1;
    }
    printf("\n(b) an answer further back than the window: s d1 .. dD ? -> s (K = %d symbols, "
           "chance %.3f)\n  two GPTs (C 32, 1 block), context %d and %d, %d steps each, trained "
           "on distances they can see\n  (final loss %.3f and %.3f; %.1f s); each reads the last "
           "`context` tokens of a long stream\n  of distractors that ends in s d1 .. dD ?\n", K_SYM, 1.0 / K_SYM, Ta, Tb, steps, la,
           lb, nn_seconds() - t0);
    int Ds[] = {Ta / 4, Ta - 2, Ta + 4, Tb - 2, Tb + 8, 3 * Tb};
    enum { ND = sizeof Ds / sizeof Ds[0] };
    double acc[2][ND], pc[2][ND], racc, rp;
    printf("  %-10s %-26s %-26s\n", "distance", "context T (acc, p(s))", "context 2T (acc, p(s))");
    for (int d = 0; d < ND; d++) {
        task_test(ga, Ds[d], false, Tb, seed + 100 + (uint64_t)d, &acc[0][d], &pc[0][d]);
        task_test(gb, Ds[d], false, Tb, seed + 100 + (uint64_t)d, &acc[1][d], &pc[1][d]);
        char a[40], b[40];
        snprintf(a, sizeof a, "%5.3f %5.3f %s", acc[0][d], pc[0][d], Ds[d] + 2 <= Ta ? "in view"
                                                                                    : "out");
        snprintf(b, sizeof b, "%5.3f %5.3f %s", acc[1][d], pc[1][d], Ds[d] + 2 <= Tb ? "in view"
                                                                                    : "out");
        printf("  D = %-6d %-26s %-26s\n", Ds[d], a, b);
    }
    int far = ND - 1;
    task_test(ga, Ds[far], true, Tb, seed + 200, &racc, &rp);
    printf("  D = %d again, the symbol said once more just before the query (s d1 .. dD s ?):\n"
           "    context T: accuracy %.3f, p(s) %.3f: the prompt put it back in view\n", Ds[far],
           racc, rp);

    /* ---- (c) ----------------------------------------------------------------------------- */
    printf("\n(c) prompts: the same weights, different context; the 5 most likely next "
           "characters\n");
    static const char *prompts[] = {"", "床前明月光，", "《夜思》\n作者：李白\n",
                                    "《春望》\n作者：杜甫\n", "作者：李", "国破山河在，"};
    enum { NP = sizeof prompts / sizeof prompts[0] };
    float *p0 = malloc(sizeof(float) * (size_t)V), *p = malloc(sizeof(float) * (size_t)V);
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : 0;
    double tv[NP], hp[NP];
    for (int k = 0; k < NP; k++) {
        int np = 0, *ids = encode_prompt(v, prompts[k], &np);
        int *seq = malloc(sizeof(int) * (size_t)(np + 2));
        seq[0] = nl, seq[1] = nl;                 /* a poem starts after an empty line */
        memcpy(seq + 2, ids ? ids : seq, sizeof(int) * (size_t)np);
        next_probs(g, seq, np + 2, k == 0 ? p0 : p);
        char shown[128];
        snprintf(shown, sizeof shown, "%s", prompts[k]);
        for (char *c = shown; *c; c++)
            if (*c == '\n') *c = '/';
        printf("  ");
        print_padded(k == 0 ? "(nothing)" : shown, 24);
        printf("->");
        hp[k] = show_top(v, k == 0 ? p0 : p);
        tv[k] = 0;
        for (int i = 0; k > 0 && i < V; i++) tv[k] += 0.5 * fabs(p[i] - p0[i]);
        printf("   H %.2f, TV %.2f\n", hp[k], tv[k]);
        free(ids), free(seq);
    }
    printf("  (/ is a line end, ⏎ a predicted one; H: entropy in nats; TV: total-variation "
           "distance from the\n  distribution after nothing: 0 the same, 1 nothing in common)\n");

    /* the first clause of each validation poem after its own title and author, another
     * poem's, and nothing */
    enum { MAXP = 256 };
    int title[MAXP], body[MAXP], npoems = find_poems(v, po.val, title, body, MAXP);
    double own = 0, other = 0, none = 0;
    int chars = 0;
    for (int k = 0; k < npoems; k++) {
        int j = (k + 1) % npoems, c1, c2, c3;
        const int *ids = po.val.ids;
        own += clause_loss(g, v, ids + title[k] - 1, body[k] - title[k] + 1, ids + body[k], &c1);
        other += clause_loss(g, v, ids + title[j] - 1, body[j] - title[j] + 1, ids + body[k], &c2);
        int blank[2] = {nl, nl};
        none += clause_loss(g, v, blank, 2, ids + body[k], &c3);
        chars += c1;
    }
    if (npoems > 1) {
        own /= chars, other /= chars, none /= chars;
        printf("  the first clause of the %d validation poems (%d characters), loss per "
               "character after\n    its own title and author %.4f, another poem's %.4f, "
               "no title %.4f\n", npoems, chars, own, other, none);
    } else {
        printf("  (no titled poems in the validation text: the clause losses are skipped)\n");
        own = other = none = NAN;
    }

    printf("result: model=%s params=%zu context=%d val_loss=%.3f pos1_loss=%.3f "
           "pos_last_loss=%.3f second_half_loss=%.3f bigram=%.3f task_context=%d "
           "in_view_acc=%.3f out_of_view_acc=%.3f longer_context_acc=%.3f far_acc_T=%.3f "
           "far_acc_2T=%.3f restated_acc=%.3f chance=%.3f prompt_tv_title=%.3f "
           "clause_own_title=%.3f clause_other_title=%.3f clause_no_title=%.3f\n",
           m.loaded ? "loaded" : "trained", g->model->count, T, m.val, loss[0], loss[T - 1], late,
           base.bigram_interp, Ta, acc[0][1], acc[0][2], acc[1][2], acc[0][far], acc[1][far], racc,
           1.0 / K_SYM, tv[2], own, other, none);
    free(loss), free(px), free(py), free(p0), free(p);
    nn_gpt_free(ga), nn_gpt_free(gb), nn_gpt_free(g);
    poems_close(&po);
    nn_graph_release();
    return failed ? 1 : 0;
}
