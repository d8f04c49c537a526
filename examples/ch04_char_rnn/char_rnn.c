/* examples/ch04_char_rnn/char_rnn.c — a character-level language model (字符级语言模型) on the
 * Tang poems: "what is the next character?" (判断后续的字是什么).
 *
 * The tutorial's chapter 4 (从词嵌入到RNN) in one program. Each character becomes an id
 * (a vocabulary of V ids), each id a learned vector (词嵌入, the embedding), and a recurrent
 * cell reads the poem one character at a time, carrying a hidden state h from each step into
 * the next (上一个词语产生的结果不急着输出,而是作为一个隐藏层加入到下一层的计算中):
 *
 *   x_t = E[id_t]                      (B, T) ids -> (B, T, emb)     the embedding table E (V, emb)
 *   h_t = cell(x_t, h_{t-1})           (B, T, hidden)                RNN, GRU or LSTM (nn/net/rnn.h)
 *   logits_t = h_t W + b               (B, T, V)
 *   loss = -(1/BT) sum_t log softmax(logits_t)[id_{t+1}]             (in nats per character)
 *
 * A model that knows nothing gives every character probability 1/V: its loss is ln(V), the
 * start loss to expect. Two counted baselines on the same split say what "good" means:
 *   unigram  p(c) = (n(c) + 1) / (N + V)                     add-one (Laplace) smoothing
 *   bigram   p(b | a) = (n(a b) + 1) / (n(a) + V)            add-one, and
 *            p(b | a) = 0.5 n(a b) / n(a) + 0.5 p_unigram(b)  interpolated (Jelinek-Mercer,
 *            lambda = 0.5 fixed beforehand, not tuned on the validation text)
 * (With 2,000+ characters and 20,000 training pairs, add-one gives unseen pairs so much of the
 * probability that the add-one bigram is worse than the unigram: honest, and instructive.)
 *
 * Training: truncated backpropagation through time (截断的BPTT). The training text is cut into
 * B streams read side by side (nn_text_stream_*); each step takes the next T characters of
 * every stream, and the hidden state at the end of one chunk starts the next
 * (nn_rnn_state_keep), so the model sees context longer than T while the gradient goes back
 * only T steps. (Random windows would start every window from h = 0, which is not how the
 * model is used when it writes a poem; the carried state is the tutorial's picture.)
 * Adam (lr 2e-3; --lr sets it), gradient clipping at norm 1.0, the validation loss every few
 * steps; the weights of the best validation loss are kept (early stopping,
 * nn/train/early_stop.h):
 * the corpus is tiny, and a network of a million weights learns the training poems by heart.
 * Validation is the last 10% of the text (split by position, never shuffled).
 *
 * Default cell: the GRU. Its gates let the state keep what it holds for many steps (what the
 * plain RNN cannot: chapter 4's long-range example), with 3/4 of the LSTM's recurrent weights.
 * On this corpus, though, memory is not what limits: with --full --compare (the three cells
 * at the same number of parameters: H 256, 215, 202) the validation losses end within 0.03
 * nats of each other, the plain RNN a little ahead (seed 42: rnn 5.673, gru 5.678, lstm
 * 5.698; seed 7: 5.677, 5.686, 5.698), all below the bigram's 5.835, because 22,000
 * characters of training text are learned by heart within a few dozen epochs.
 * --compare measures it on your machine and text (--same-hidden: the same H for all three).
 *
 *   char_rnn [--quick | --full] [--cell rnn|gru|lstm] [--compare] [--titles] [FILE]
 *            [--prompt TEXT] [--steps N] [--embed N] [--hidden N] [--seq T] [--batch B]
 *            [--seed N] [--out DIR]
 *   char_rnn --generate [--out DIR] [--prompt TEXT] [--temperature X] [--top-k K] [--len N]
 *
 *   --quick  a tiny model, a few dozen steps (the smoke tests; a few seconds)
 *   default  emb 32, hidden 128, T 32, batch 32, 250 steps (about 30 s on 2 cores)
 *   --full   emb 64, hidden 256, T 64, batch 32, dropout 0.5, Adam lr 1e-3, up to 3000 steps
 *            with early stopping (about 4 minutes; --full --compare about three times that)
 *
 * The corpus: FILE (any UTF-8 text) when given, else /usr/share/games/fortunes/tang300 (唐诗三百首,
 * Debian's fortunes-zh) with the title and author lines dropped (--titles keeps them). When
 * that file is missing the program says so and trains on a small synthetic corpus of 5- and
 * 7-character lines from a made-up grammar; a FILE you name that is missing or not UTF-8 is
 * an error (exit 1).
 *
 * Writes to --out DIR (default out): char_rnn.nnck (the model, nn_model_save), char_rnn.nnvc
 * (the vocabulary, nn_vocab_save), char_rnn.cfg (one line: which network to rebuild), and
 * ch04_char_rnn_loss.svg, and ch04_char_rnn_curves.csv (the loss curves, which chapter 5's
 * tiny_gpt draws beside its own). --generate reads the first three back and writes text from a prompt,
 * offline. Exit status 1 when a file cannot be read or written.
 */
#include "../common/poems.h"   /* corpus, split, baselines, rhythm: shared with chapter 5 */

#define LR 2e-3f   /* Adam, unless --lr says otherwise */
#define CLIP 1.0f
#define MAX_CURVE POEMS_MAX_POINTS

/* ---- the network --------------------------------------------------------------------- */

typedef struct charnet {
    nn_model *m;
    nn_cell_kind kind;
    int V, E, H;
    float dropout;             /* on the embeddings and on h, while training (0: off) */
    nn_embedding_layer *emb;
    nn_rnn_layer *rnn;
    nn_linear_layer *out;
} charnet;

static charnet charnet_new(nn_cell_kind kind, int V, int E, int H) {
    charnet n = {.m = nn_model_new(), .kind = kind, .V = V, .E = E, .H = H};
    n.emb = nn_embedding_layer_new(n.m, "emb", V, E, 0.0f);
    n.rnn = nn_rnn_layer_new(n.m, NULL, kind, E, H);
    n.out = nn_linear_layer_new(n.m, "out", H, V, NN_INIT_XAVIER);
    return n;
}

/* ids (B, T) -> logits (B, T, V), starting from *start, the final state into *end. */
static nn_tensor *charnet_forward(const charnet *n, const int *ids, int B, int T,
                                  const nn_rnn_state *start, nn_rnn_state *end) {
    nn_tensor *x = nn_embedding_layer_forward(n->emb, ids, B, T);   /* (B, T, E) */
    if (n->dropout > 0.0f) x = nn_dropout(x, n->dropout);          /* identity in eval mode */
    nn_tensor *h = nn_rnn_layer_forward(n->rnn, x, start, end);     /* (B, T, H) */
    if (n->dropout > 0.0f) h = nn_dropout(h, n->dropout);
    return nn_linear_layer_forward(n->out, h);                      /* (B, T, V) */
}

/* Mean loss over a whole span, read as B streams with the state carried (no tape). */
static double span_loss(const charnet *n, nn_token_span span, int B, int T) {
    int Bv = (span.n - 1) / T < B ? (span.n - 1) / T : B;
    if (Bv < 1) Bv = 1;
    bool was = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_text_stream s;
    nn_text_stream_init(&s, span.ids, span.n, Bv, T);
    int *x = malloc(sizeof(int) * Bv * T), *y = malloc(sizeof(int) * Bv * T), t;
    nn_rnn_state carry = {0}, last;
    double total = 0.0;
    long count = 0;
    while ((t = nn_text_stream_next(&s, x, y)) > 0) {
        nn_tensor *logits = charnet_forward(n, x, Bv, t, &carry, &last);
        total += (double)nn_item(nn_cross_entropy_loss(logits, y)) * Bv * t;
        count += (long)Bv * t;
        nn_rnn_state_keep(&carry, &last);
        nn_graph_clear();
    }
    nn_rnn_state_free(&carry);
    free(x), free(y);
    nn_set_grad_enabled(was);
    nn_set_training(training);
    return total / (double)count;
}

/* The largest hidden size H <= h_max at which a `kind` network has at most `budget`
 * parameters: --compare gives the gated cells (3 and 4 weight blocks to the RNN's 1) a smaller
 * state, so that all three spend the same number of weights. */
static int hidden_for_budget(nn_cell_kind kind, int V, int E, int h_max, size_t budget) {
    int lo = 2, hi = h_max;
    while (lo < hi) { /* the count grows with H: bisect */
        int mid = (lo + hi + 1) / 2;
        charnet n = charnet_new(kind, V, E, mid);
        size_t count = n.m->count;
        nn_model_free(n.m);
        if (count <= budget) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* ---- training ------------------------------------------------------------------------ */

typedef struct settings {
    int E, H, T, B, steps, eval_every, patience;
    int hidden[3];             /* H of each cell: st.H, or (--compare) the same budget as the RNN */
    float dropout, lr;
} settings;

typedef struct run {
    charnet net;
    float start_loss;          /* the loss of the first batch, before any update */
    double train, val;         /* final (best-validation) weights, whole spans, eval mode */
    int steps, best_step;
    double ms_per_step;
    int npoints;
    float curve_step[MAX_CURVE], curve_train[MAX_CURVE], curve_val[MAX_CURVE];
} run;

static void train(run *r, nn_cell_kind kind, int V, const settings *st, nn_token_span tr,
                  nn_token_span va, uint64_t seed) {
    nn_seed(seed); /* every cell starts from the same random numbers */
    r->net = charnet_new(kind, V, st->E, st->hidden[kind]);
    r->net.dropout = st->dropout;
    nn_optim *opt = nn_adam_new(r->net.m, st->lr, 0.0f);
    nn_early_stop *es = nn_early_stop_new(r->net.m, st->patience, 1e-3f);
    nn_text_stream s;
    nn_text_stream_init(&s, tr.ids, tr.n, st->B, st->T);
    int *x = malloc(sizeof(int) * st->B * st->T), *y = malloc(sizeof(int) * st->B * st->T);
    nn_rnn_state carry = {0}, last;
    double seconds = 0.0, run_sum = 0.0;
    int run_n = 0, step = 0;
    r->npoints = 0;
    nn_progress bar;
    fflush(stdout); /* our lines before the bar's (it writes to stderr) */
    nn_progress_start(&bar, nn_cell_kind_name(kind), st->steps);
    while (step < st->steps) {
        int t = nn_text_stream_next(&s, x, y);
        if (t == 0) { /* an epoch is over: back to the start, the state from zero */
            nn_text_stream_reset(&s);
            nn_rnn_state_free(&carry);
            continue;
        }
        double t0 = nn_seconds();
        nn_tensor *loss = nn_cross_entropy_loss(charnet_forward(&r->net, x, st->B, t, &carry, &last), y);
        float l = nn_item(loss);
        nn_model_zero_grad(r->net.m);
        nn_backward(loss);
        nn_clip_grad_norm(r->net.m, CLIP);
        nn_optim_step(opt);
        nn_rnn_state_keep(&carry, &last); /* h (and c) go on into the next chunk, history cut */
        nn_graph_clear();
        seconds += nn_seconds() - t0;
        if (step == 0) r->start_loss = l;
        step++;
        run_sum += l, run_n++;
        nn_progress_update(&bar, step, "loss %.3f", l);
        if (step % st->eval_every == 0 || step == st->steps) {
            float v = (float)span_loss(&r->net, va, st->B, st->T);
            if (r->npoints < MAX_CURVE) {
                r->curve_step[r->npoints] = (float)step;
                r->curve_train[r->npoints] = (float)(run_sum / run_n);
                r->curve_val[r->npoints] = v;
                r->npoints++;
            }
            run_sum = 0.0, run_n = 0;
            if (nn_early_stop_check(es, v)) break;
        }
    }
    nn_progress_finish(&bar);
    nn_early_stop_restore(es); /* the weights of the best validation loss */
    r->steps = step;
    r->best_step = es->best_check >= 0 ? (int)r->curve_step[es->best_check] : step;
    r->ms_per_step = 1000.0 * seconds / (step > 0 ? step : 1);
    r->train = span_loss(&r->net, tr, st->B, st->T);
    r->val = span_loss(&r->net, va, st->B, st->T);
    nn_rnn_state_free(&carry);
    free(x), free(y);
    nn_early_stop_free(es);
    nn_optim_free(opt);
}

/* ---- writing text ---------------------------------------------------------------------- */

/* Feed the prompt (after a newline: a poem starts after an empty line), then draw up to `len`
 * characters, one step at a time, stopping after `lines` line ends. <unk> is never drawn.
 * Writes the ids drawn to out[] and returns how many. */
static int generate(const charnet *n, const int *prompt, int np, int len, int lines,
                    nn_sampling how, nn_rng *rng, int newline_id, int *out) {
    bool was = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_rnn_state kept = {0}, next;
    float *row = malloc(sizeof(float) * n->V);
    int id = newline_id >= 0 ? newline_id : prompt[0], made = 0, seen = 0, i = newline_id >= 0 ? -1 : 0;
    for (;;) {
        nn_tensor *x = nn_embedding(n->emb->W, &id, NN_SHAPE(1));           /* (1, E) */
        nn_tensor *h = nn_rnn_layer_step(n->rnn, x, &kept, &next);          /* (1, H) */
        nn_tensor *logits = nn_linear_layer_forward(n->out, h);              /* (1, V) */
        memcpy(row, logits->data, sizeof(float) * n->V);
        nn_rnn_state_keep(&kept, &next);
        nn_graph_clear();
        if (++i < np) { /* still reading the prompt */
            id = prompt[i];
            continue;
        }
        if (made == len || seen == lines) break;
        row[NN_VOCAB_UNK] = -INFINITY;
        id = nn_sample_row(row, n->V, how, rng);
        out[made++] = id;
        if (id == newline_id) seen++;
    }
    nn_rnn_state_free(&kept);
    free(row);
    nn_set_grad_enabled(was);
    nn_set_training(training);
    return made;
}

/* ---- the checkpoint: model, vocabulary, and which network to rebuild ----------------- */

static int save_all(const charnet *n, const nn_vocab *v, const char *dir) {
    char path[4096];
    if (!nn_out_path(path, sizeof path, dir, "char_rnn.nnck") || nn_model_save(n->m, path) != 0)
        return fprintf(stderr, "cannot save the model: %s\n", nn_last_error()), -1;
    printf("wrote %s\n", path);
    nn_out_path(path, sizeof path, dir, "char_rnn.nnvc");
    if (nn_vocab_save(v, path) != 0)
        return fprintf(stderr, "cannot save the vocabulary: %s\n", nn_last_error()), -1;
    printf("wrote %s\n", path);
    nn_out_path(path, sizeof path, dir, "char_rnn.cfg");
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "cell=%s embed=%d hidden=%d vocab=%d\n", nn_cell_kind_name(n->kind),
                      n->E, n->H, n->V) < 0 || fclose(f) != 0)
        return fprintf(stderr, "cannot write %s\n", path), -1;
    printf("wrote %s\n", path);
    return 0;
}

static bool cell_from_name(const char *s, nn_cell_kind *k) {
    for (int i = NN_CELL_RNN; i <= NN_CELL_LSTM; i++)
        if (strcmp(s, nn_cell_kind_name((nn_cell_kind)i)) == 0) return *k = (nn_cell_kind)i, true;
    return false;
}

/* Rebuild the network described by dir/char_rnn.cfg and load dir/char_rnn.nnck into it. */
static int load_all(const char *dir, charnet *n, nn_vocab **v) {
    char path[4096], cell[16];
    int E, H, V;
    snprintf(path, sizeof path, "%s/char_rnn.cfg", dir);
    FILE *f = fopen(path, "r");
    nn_cell_kind kind;
    int ok = f && fscanf(f, "cell=%15s embed=%d hidden=%d vocab=%d", cell, &E, &H, &V) == 4 &&
             cell_from_name(cell, &kind) && E > 0 && H > 0 && V > 1 && E <= 4096 && H <= 4096;
    if (f) fclose(f);
    if (!ok) {
        fprintf(stderr, "cannot read %s (%s): train a model first with char_rnn --out %s\n", path,
                f ? "not a char_rnn settings line" : "no such file", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/char_rnn.nnvc", dir);
    *v = nn_vocab_load(path);
    if (!*v) return fprintf(stderr, "cannot load the vocabulary: %s\n", nn_last_error()), -1;
    if ((*v)->size != V) {
        fprintf(stderr, "%s has %d ids but the model was trained with %d\n", path, (*v)->size, V);
        nn_vocab_free(*v);
        return -1;
    }
    *n = charnet_new(kind, V, E, H);
    snprintf(path, sizeof path, "%s/char_rnn.nnck", dir);
    if (nn_model_load(n->m, path) != 0) {
        fprintf(stderr, "cannot load the model: %s\n", nn_last_error());
        nn_model_free(n->m);
        nn_vocab_free(*v);
        return -1;
    }
    printf("loaded %s: %s, embedding %d, hidden %d, V = %d, %zu parameters\n", path, cell, E, H,
           V, n->m->count);
    return 0;
}

static int generate_mode(const char *dir, const char *prompt, float temperature, int top_k,
                         int len, uint64_t seed) {
    charnet n;
    nn_vocab *v;
    if (load_all(dir, &n, &v) != 0) return 1;
    int np;
    int *p = encode_prompt(v, prompt ? prompt : "床前明月光", &np);
    if (!p) {
        fprintf(stderr, "the prompt is not valid UTF-8: %s\n", nn_last_error());
        nn_model_free(n.m), nn_vocab_free(v);
        return 2;
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int *out = malloc(sizeof(int) * (size_t)len), nl = nn_vocab_id(v, '\n');
    int made = generate(&n, p, np, len, 1000000, (nn_sampling){.temperature = temperature,
                                                               .top_k = top_k}, &rng,
                        nl > 0 ? nl : -1, out);
    printf("temperature %g, top-k %d, seed %llu:\n", temperature, top_k, (unsigned long long)seed);
    print_text(v, p, np, out, made);
    int clauses;
    double r = rhythm(v, out, made, &clauses);
    printf("result: mode=generate chars=%d temperature=%g top_k=%d rhythm5or7=%.3f clauses=%d\n",
           made, temperature, top_k, r, clauses);
    free(out), free(p);
    nn_model_free(n.m), nn_vocab_free(v);
    nn_graph_release();
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    bool quick = false, full = false, compare = false, gen = false, titles = false,
         same_hidden = false;
    const char *cell = "gru", *out_dir = "out", *file = NULL, *prompt = NULL;
    int steps = 250, E = 32, H = 128, T = 32, B = 32, top_k = 0, len = 120;
    float temperature = 0.8f, dropout = 0.0f, lr = LR;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_ARG("FILE", &file, "a UTF-8 text file to learn (default: tang300, 唐诗三百首)"),
        NN_OPT_FLAG("--quick", &quick, "a tiny model and a few dozen steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "emb 64, hidden 256, T 64, up to 3000 steps (minutes)"),
        NN_OPT_CHOICE("--cell", &cell, "rnn|gru|lstm", "the recurrent cell"),
        NN_OPT_FLAG("--compare", &compare, "train rnn, gru and lstm alike and print a table"),
        NN_OPT_FLAG("--same-hidden", &same_hidden, "--compare at the same H (the gated cells get "
                    "more weights) instead of the same parameter count"),
        NN_OPT_FLAG("--titles", &titles, "keep tang300's title and author lines"),
        NN_OPT_STR("--prompt", &prompt, "TEXT", "the start of the poems (default 床前明月光, or "
                   "the first characters of a validation line)"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps (--quick 40, --full 3000)"),
        NN_OPT_INT("--embed", &E, 2, 1024, "embedding size (--quick 16, --full 64)"),
        NN_OPT_INT("--hidden", &H, 2, 2048, "hidden state size (--quick 32, --full 256)"),
        NN_OPT_INT("--seq", &T, 2, 512, "T: steps of backpropagation through time (--quick 16, --full 64)"),
        NN_OPT_INT("--batch", &B, 1, 1024, "B: streams read side by side (--quick 8)"),
        NN_OPT_FLOAT("--dropout", &dropout, 0, 0.9, "dropout on embeddings and h while training (--full 0.5)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's learning rate (2e-3; --full 1e-3)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the checkpoint and the chart"),
        NN_OPT_FLAG("--generate", &gen, "no training: load DIR/char_rnn.* and write text"),
        NN_OPT_FLOAT("--temperature", &temperature, 0, 10, "--generate: temperature (0: greedy)"),
        NN_OPT_INT("--top-k", &top_k, 0, 1000000, "--generate: keep the k most likely (0: all)"),
        NN_OPT_INT("--len", &len, 1, 100000, "--generate: characters to write"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "A character-level language model (RNN, GRU or LSTM) on the Tang poems or on a\n"
                     "text file: vocabulary, ln(V), unigram and bigram baselines, training and\n"
                     "validation loss, and poems written at several temperatures.",
                     opts, nopt);
    printf("chapter 4: a character-level language model (判断后续的字是什么)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    if (gen) return generate_mode(out_dir, prompt, temperature, top_k, len, seed);

    settings st = {.E = E, .H = H, .T = T, .B = B, .steps = steps, .eval_every = 25, .patience = 8,
                   .dropout = dropout, .lr = lr};
    if (full && !quick) {
        if (!nn_option_given(opts, nopt, "--embed")) st.E = 64;
        if (!nn_option_given(opts, nopt, "--hidden")) st.H = 256;
        if (!nn_option_given(opts, nopt, "--seq")) st.T = 64;
        if (!nn_option_given(opts, nopt, "--steps")) st.steps = 3000;
        if (!nn_option_given(opts, nopt, "--dropout")) st.dropout = 0.5f;
        if (!nn_option_given(opts, nopt, "--lr")) st.lr = 1e-3f;
    }
    if (quick) {
        if (!nn_option_given(opts, nopt, "--embed")) st.E = 16;
        if (!nn_option_given(opts, nopt, "--hidden")) st.H = 32;
        if (!nn_option_given(opts, nopt, "--seq")) st.T = 16;
        if (!nn_option_given(opts, nopt, "--batch")) st.B = 8;
        if (!nn_option_given(opts, nopt, "--steps")) st.steps = 40;
        st.eval_every = 10;
    }
    nn_cell_kind kind = NN_CELL_GRU;
    cell_from_name(cell, &kind);

    /* ---- the corpus ---------------------------------------------------------------- */
    poems po;
    if (poems_open(&po, file, titles, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    const nn_vocab *v = po.vocab;
    nn_token_span tr = po.train, va = po.val;
    bool tang = po.tang;
    int V = v->size;
    poems_describe(&po, titles);
    if (st.B > (tr.n - 1) / st.T) st.B = (tr.n - 1) / st.T > 0 ? (tr.n - 1) / st.T : 1;

    /* The same parameter budget for the three cells: the RNN's at H; the gated cells get the
     * largest H that fits in it (--same-hidden: H for all, and more weights for the gated). */
    size_t budget = 0;
    for (int k = NN_CELL_RNN; k <= NN_CELL_LSTM; k++) st.hidden[k] = st.H;
    if (compare && !same_hidden) {
        charnet probe = charnet_new(NN_CELL_RNN, V, st.E, st.H);
        budget = probe.m->count;
        nn_model_free(probe.m);
        for (int k = NN_CELL_GRU; k <= NN_CELL_LSTM; k++)
            st.hidden[k] = hidden_for_budget((nn_cell_kind)k, V, st.E, st.H, budget);
    }

    /* ---- baselines ------------------------------------------------------------------ */
    baselines base = count_baselines(tr, va, V);
    printf("\nvalidation loss (nats per character) of models that only count:\n");
    printf("  uniform            ln(V) = ln(%d) = %.3f\n", V, log((double)V));
    printf("  unigram (add-one)  %.3f\n", base.unigram);
    printf("  bigram  (add-one)  %.3f\n", base.bigram_add1);
    printf("  bigram  (0.5 bigram + 0.5 unigram, interpolated)  %.3f\n", base.bigram_interp);

    /* ---- the network(s) -------------------------------------------------------------- */
    printf("\nnetwork: ids (B, T) -> embedding (B, T, %d) -> %s (B, T, H) -> linear (B, T, %d)\n",
           st.E, compare ? "rnn|gru|lstm" : nn_cell_kind_name(kind), V);
    if (budget)
        printf("  the same budget of %zu parameters: H = %d (rnn), %d (gru), %d (lstm)\n", budget,
               st.hidden[NN_CELL_RNN], st.hidden[NN_CELL_GRU], st.hidden[NN_CELL_LSTM]);
    else
        printf("  H = %d%s\n", st.H, compare ? " for all three (--same-hidden)" : "");
    printf("  h_t = cell(E[id_t], h_{t-1}),  p(next | so far) = softmax(h_t W + b)\n");
    printf("training: B = %d streams, T = %d (truncated BPTT, state carried), Adam lr %g, "
           "clip %.1f, up to %d steps,\n  validation every %d steps, best weights kept "
           "(patience %d checks), dropout %.2f\n", st.B, st.T, st.lr, CLIP, st.steps, st.eval_every,
           st.patience, st.dropout);

    static run runs[3];
    int first = compare ? NN_CELL_RNN : (int)kind, last_k = compare ? NN_CELL_LSTM : (int)kind;
    run *mine = NULL;
    for (int k = first; k <= last_k; k++) {
        run *r = &runs[k];
        train(r, (nn_cell_kind)k, V, &st, tr, va, seed);
        printf("  %s: %zu parameters; start loss %.3f vs ln(V) = %.3f; best validation at step "
               "%d of %d\n", nn_cell_kind_name((nn_cell_kind)k), r->net.m->count, r->start_loss,
               log((double)V), r->best_step, r->steps);
        if (k == (int)kind) mine = r;
    }
    if (compare) {
        printf("\ncomparison (same split, same steps budget, same seed; loss of the kept weights):\n");
        printf("  %-5s %5s %10s %8s %8s %10s %9s\n", "cell", "H", "params", "train", "val",
               "best step", "ms/step");
        for (int k = NN_CELL_RNN; k <= NN_CELL_LSTM; k++)
            printf("  %-5s %5d %10zu %8.3f %8.3f %10d %9.1f\n", nn_cell_kind_name((nn_cell_kind)k),
                   st.hidden[k], runs[k].net.m->count, runs[k].train, runs[k].val, runs[k].best_step,
                   runs[k].ms_per_step);
        printf("  %-5s %5s %10s %8s %8.3f   (unigram %.3f, bigram add-one %.3f)\n", "bigram", "-", "-", "-",
               base.bigram_interp, base.unigram, base.bigram_add1);
    }

    /* ---- curves ------------------------------------------------------------------------ */
    printf("\n%s: train (*) and validation (o) loss per step\n", nn_cell_kind_name(kind));
    nn_series curves[] = {
        {"train (mean since last check)", mine->curve_step, mine->curve_train, mine->npoints, NN_PLOT_LINE},
        {"validation", mine->curve_step, mine->curve_val, mine->npoints, NN_PLOT_LINE},
    };
    nn_plot_ascii(stdout, curves, 2, 60, 12);
    float bx[2] = {0, (float)mine->steps}, bu[2] = {(float)base.unigram, (float)base.unigram},
          bb[2] = {(float)base.bigram_interp, (float)base.bigram_interp};
    nn_series svg[8];
    int ns = 0;
    char names[3][48];
    if (compare) {
        for (int k = NN_CELL_RNN; k <= NN_CELL_LSTM; k++) {
            snprintf(names[k], sizeof names[k], "%s validation", nn_cell_kind_name((nn_cell_kind)k));
            svg[ns++] = (nn_series){names[k], runs[k].curve_step, runs[k].curve_val,
                                    runs[k].npoints, NN_PLOT_LINE};
        }
        svg[ns++] = (nn_series){"gru train", runs[1].curve_step, runs[1].curve_train,
                                runs[1].npoints, NN_PLOT_LINE};
    } else {
        svg[ns++] = curves[0];
        svg[ns++] = curves[1];
    }
    svg[ns++] = (nn_series){"unigram (add-one)", bx, bu, 2, NN_PLOT_LINE};
    svg[ns++] = (nn_series){"bigram (interpolated)", bx, bb, 2, NN_PLOT_LINE};
    int failed = nn_plot_svg_in(out_dir, "ch04_char_rnn_loss.svg",
                                "Character model: loss per character (nats)", "step",
                                "cross-entropy", svg, ns) != 0;
    /* the curves, for chapter 5's GPT to draw beside its own */
    static poems_curve handed[3];
    int nh = 0;
    for (int k = first; k <= last_k; k++, nh++) {
        poems_curve *h = &handed[nh];
        snprintf(h->name, sizeof h->name, "%s", nn_cell_kind_name((nn_cell_kind)k));
        h->params = runs[k].net.m->count;
        h->n = runs[k].npoints;
        memcpy(h->step, runs[k].curve_step, sizeof(float) * (size_t)h->n);
        memcpy(h->train, runs[k].curve_train, sizeof(float) * (size_t)h->n);
        memcpy(h->val, runs[k].curve_val, sizeof(float) * (size_t)h->n);
    }
    failed += poems_curves_write(out_dir, "ch04_char_rnn_curves.csv", &po, handed, nh) != 0;

    /* ---- poems ---------------------------------------------------------------------------- */
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : -1;
    char auto_prompt[64];
    int np, *p = poems_prompt(&po, &prompt, auto_prompt, sizeof auto_prompt, &np);
    if (!p) {
        fprintf(stderr, "the prompt is not valid UTF-8: %s\n", nn_last_error());
        return 2;
    }
    printf("\npoems from the prompt \"%s\" (%s, up to 4 lines):\n", prompt, nn_cell_kind_name(kind));
    static const nn_sampling kinds[] = {{0.5f, 0, 0}, {0.8f, 0, 0}, {1.0f, 0, 0}, {1.0f, 10, 0}};
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int buf[400];
    for (int i = 0; i < 4; i++) {
        int made = generate(&mine->net, p, np, 120, 4, kinds[i], &rng, nl, buf);
        printf("  temperature %.1f%s:\n", kinds[i].temperature, kinds[i].top_k ? ", top-k 10" : "");
        print_text(v, p, np, buf, made);
    }
    /* Rhythm: 400 characters at temperature 0.8 against the validation text's own. */
    int made = generate(&mine->net, p, np, 400, 1000000, kinds[1], &rng, nl, buf), cl_gen, cl_val;
    double rh_gen = rhythm(v, buf, made, &cl_gen), rh_val = rhythm(v, va.ids, va.n, &cl_val);
    printf("rhythm: %.0f%% of %d generated clauses (T 0.8) are 5 or 7 characters long; "
           "the validation text: %.0f%% of %d\n\n", 100 * rh_gen, cl_gen, 100 * rh_val, cl_val);

    /* ---- checkpoint, and a check that it reads back --------------------------------------- */
    double reload_val = NAN;
    if (save_all(&mine->net, v, out_dir) != 0) {
        failed++;
    } else {
        charnet back;
        nn_vocab *v2;
        if (load_all(out_dir, &back, &v2) != 0) {
            failed++;
        } else {
            reload_val = span_loss(&back, va, st.B, st.T);
            printf("reloaded: validation loss %.4f (trained model %.4f); try:\n  char_rnn "
                   "--generate --out %s --prompt %s\n", reload_val, mine->val, out_dir, prompt);
            nn_model_free(back.m), nn_vocab_free(v2);
        }
    }

    printf("result: corpus=%s V=%d lnV=%.3f start_loss=%.3f unigram_val=%.3f bigram_add1_val=%.3f "
           "bigram_interp_val=%.3f cell=%s params=%zu steps=%d best_step=%d train_loss=%.3f "
           "val_loss=%.3f ms_per_step=%.1f rhythm5or7=%.3f",
           tang ? "tang300" : file ? "file" : "synthetic", V, log((double)V), mine->start_loss,
           base.unigram, base.bigram_add1, base.bigram_interp, nn_cell_kind_name(kind),
           mine->net.m->count, mine->steps, mine->best_step, mine->train, mine->val,
           mine->ms_per_step, rh_gen);
    if (compare)
        for (int k = NN_CELL_RNN; k <= NN_CELL_LSTM; k++)
            printf(" %s_train=%.3f %s_val=%.3f %s_ms=%.1f", nn_cell_kind_name((nn_cell_kind)k),
                   runs[k].train, nn_cell_kind_name((nn_cell_kind)k), runs[k].val,
                   nn_cell_kind_name((nn_cell_kind)k), runs[k].ms_per_step);
    printf("\n");

    for (int k = first; k <= last_k; k++) nn_model_free(runs[k].net.m);
    free(p);
    poems_close(&po);
    nn_graph_release();
    return failed ? 1 : 0;
}
