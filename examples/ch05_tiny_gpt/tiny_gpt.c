/* examples/ch05_tiny_gpt/tiny_gpt.c — a tiny GPT on the Tang poems: chapter 4's question
 * "what is the next character?" (判断后续的字是什么) answered with attention instead of a
 * hidden state.
 *
 * The same corpus, vocabulary and split as chapter 4's char_rnn (examples/common/poems.h), so
 * the numbers compare. The network (nn/net/gpt.h):
 *
 *   ids (B, T) -> E[id] + P[t]                (B, T, C)   token and position vectors (位置编码)
 *   -> N blocks:  x = x + Attention(LN(x))     each character looks back at the ones before it
 *                 x = x + FFN(LN(x))           (causal: never at the ones after)
 *   -> LN -> logits = x E^T                    (B, T, V)   the head reuses the token table E
 *   loss = cross-entropy of logits[t] against id[t+1], averaged over all B*T positions
 *
 * Unlike the RNN, nothing is carried from one window to the next: each window of T characters
 * is read in one go, every position attending to all earlier ones directly, so the path from a
 * character to one 30 positions back is one step long, not 30 (chapter 4's long-range problem).
 * Training: random windows from the training text (nn_text_random_batch), AdamW (lr 1e-3,
 * weight decay 0.1 on the matrices), gradient clipping at 1.0, the validation loss every few
 * steps (windows overlapping by half, so that every character is predicted from at least T/2
 * before it), best weights kept (early stopping).
 *
 * If chapter 4's char_rnn ran before with the same --out folder (any run writes its curves;
 * char_rnn --compare all three cells'), its curves (DIR/ch04_char_rnn_curves.csv) are drawn
 * beside the GPT's and its best validation losses printed in one table, provided the text
 * and split are the same. (The RNN reads the validation text as one stream, its state carried
 * from the start; the GPT sees at most T characters back.)
 *
 *   tiny_gpt [--quick | --full] [FILE] [--titles] [--steps N] [--dim C] [--heads H]
 *            [--layers N] [--context T] [--batch B] [--dropout P] [--position KIND]
 *            [--untied] [--head-bias] [--lr X] [--prompt TEXT] [--seed N] [--out DIR]
 *   tiny_gpt --generate [--out DIR] [--prompt TEXT] [--temperature X] [--top-k K] [--len N]
 *
 *   --quick  C 16, 1 block, T 16, batch 8, 30 steps (the smoke tests; a second or two)
 *   default  C 64, 4 heads, 2 blocks, T 32, batch 32, 250 steps (about half a minute)
 *   --full   C 128, 4 heads, 4 blocks, T 64, batch 16, dropout 0.3, lr 3e-4, a bias on the
 *            logits, up to 3000 steps with early stopping: about a million parameters, like
 *            char_rnn --full's cells. On 22,500 characters of training text the model learns
 *            the poems by heart within a few hundred steps; what kept its validation loss
 *            lowest, tried with seed 42: lr 1e-3 -> 5.75 (dropout 0.2, 0.35: 5.75, 5.80; a
 *            bias on the logits: 5.76; C 96 x 6 blocks: 5.75), lr 5e-4 -> 5.69, lr 3e-4 with
 *            the bias -> 5.66
 *
 * Writes to --out DIR (default out): DIR/gpt/ (nn_gpt_save: gpt.cfg, gpt.nnvc, gpt.nnck),
 * ch05_tiny_gpt_loss.svg and ch05_attention.png (who looks at whom in a generated line, one
 * square per head). --generate reads DIR/gpt back and writes text, offline.
 */
#include "../common/gpt_train.h"   /* training, scoring and writing, as in chapter 6; */
                                    /* corpus, split, baselines: as in chapter 4 */

/* ---- writing text ---------------------------------------------------------------------------- */

/* The attention of every head of block `layer` over ids[0 .. n), side by side as one picture
 * (cell px pixels per weight, a white gap between heads): row i, column j is how much
 * character i looks at character j (the upper triangle is empty: the causal mask). */
static int attention_picture(nn_gpt *g, const int *ids, int n, int layer, const char *dir) {
    nn_gpt_keep_attention(g, true);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_gpt_forward(g, ids, 1, n);
    nn_tensor *w = nn_gpt_attention_weights(g, layer);                  /* (1, H, n, n) */
    int H = g->cfg.heads, px = 12, gap = 6, W = H * n * px + (H - 1) * gap;
    nn_tensor *img = nn_zeros(NN_SHAPE(3, n * px, W));
    nn_fill(img, 1.0f);
    for (int h = 0; h < H; h++) {
        nn_tensor *m = nn_from_array(w->data + (size_t)h * n * n, NN_SHAPE(n, n));
        nn_tensor *heat = nn_heatmap(m, 0.0f, 1.0f), *big = nn_image_scale_nearest(heat, px);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n * px; i++)
                memcpy(img->data + ((size_t)c * n * px + i) * W + h * (n * px + gap),
                       big->data + ((size_t)c * n * px + i) * n * px, sizeof(float) * n * px);
        nn_tensor_free(m), nn_tensor_free(heat), nn_tensor_free(big);
    }
    int rc = nn_image_save_png_in(dir, "ch05_attention.png", img);
    nn_tensor_free(img);
    nn_graph_clear();
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    nn_gpt_keep_attention(g, false);
    return rc;
}

static int generate_mode(const char *dir, const char *prompt, float temperature, int top_k,
                         int len, uint64_t seed) {
    char path[4096];
    snprintf(path, sizeof path, "%s/gpt", dir);
    nn_vocab *v;
    nn_gpt *g = nn_gpt_load(path, &v);
    if (!g) {
        fprintf(stderr, "cannot load the model: %s\n(train one first: tiny_gpt --out %s)\n",
                nn_last_error(), dir);
        return 1;
    }
    printf("loaded %s: C %d, %d heads, %d blocks, context %d, V = %d, %zu parameters\n", path,
           g->cfg.dim, g->cfg.heads, g->cfg.layers, g->cfg.context, g->cfg.vocab, g->model->count);
    int np;
    int *p = encode_prompt(v, prompt ? prompt : "床前明月光", &np);
    if (!p || np == 0) {
        fprintf(stderr, "the prompt is empty or not valid UTF-8\n");
        free(p), nn_gpt_free(g), nn_vocab_free(v);
        return 2;
    }
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int *out = malloc(sizeof(int) * (size_t)len), nl = nn_vocab_id(v, '\n');
    int made = gpt_write_text(g, p, np, nl > 0 ? nl : -1, len,
                              (nn_sampling){.temperature = temperature, .top_k = top_k}, &rng, out);
    printf("temperature %g, top-k %d, seed %llu:\n", temperature, top_k, (unsigned long long)seed);
    print_text(v, p, np, out, made);
    int clauses;
    double r = rhythm(v, out, made, &clauses);
    printf("result: mode=generate chars=%d temperature=%g top_k=%d rhythm5or7=%.3f clauses=%d\n",
           made, temperature, top_k, r, clauses);
    free(out), free(p);
    nn_gpt_free(g), nn_vocab_free(v);
    nn_graph_release();
    return 0;
}

/* The lowest validation loss along a curve (what early stopping keeps). */
static float best_val(const poems_curve *c) {
    float b = INFINITY;
    for (int i = 0; i < c->n; i++) if (c->val[i] < b) b = c->val[i];
    return b;
}

int main(int argc, char **argv) {
    bool quick = false, full = false, gen = false, titles = false, untied = false,
         head_bias = false;
    const char *out_dir = "out", *file = NULL, *prompt = NULL, *position = "learned";
    int steps = 250, C = 64, H = 4, L = 2, T = 32, B = 32, top_k = 0, len = 120;
    float temperature = 0.8f, dropout = 0.0f, lr = GPT_LR;
    uint64_t seed = 42;
    nn_option opts[] = {
        NN_OPT_ARG("FILE", &file, "a UTF-8 text file to learn (default: tang300, 唐诗三百首)"),
        NN_OPT_FLAG("--quick", &quick, "a tiny model and a few dozen steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "C 128, 4 blocks, T 64, lr 3e-4, up to 3000 steps (minutes)"),
        NN_OPT_FLAG("--titles", &titles, "keep tang300's title and author lines"),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps (--quick 30, --full 3000)"),
        NN_OPT_INT("--dim", &C, 2, 2048, "C: the width of every token vector (--full 128)"),
        NN_OPT_INT("--heads", &H, 1, 64, "attention heads, dividing C (--quick 2)"),
        NN_OPT_INT("--layers", &L, 1, 64, "Transformer blocks (--quick 1, --full 4)"),
        NN_OPT_INT("--context", &T, 2, 1024, "T: characters per window (--quick 16, --full 64)"),
        NN_OPT_INT("--batch", &B, 1, 1024, "B: windows per step (--quick 8, --full 16)"),
        NN_OPT_FLOAT("--dropout", &dropout, 0, 0.9, "dropout while training (--full 0.3)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "AdamW's learning rate (--full 3e-4)"),
        NN_OPT_CHOICE("--position", &position, "learned|sinusoidal", "the position encoding"),
        NN_OPT_FLAG("--untied", &untied, "a head of its own instead of the token table"),
        NN_OPT_FLAG("--head-bias", &head_bias, "a bias per character on the logits (on with --full)"),
        NN_OPT_STR("--prompt", &prompt, "TEXT", "the start of the poems (default 床前明月光)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the model, the chart and the picture"),
        NN_OPT_FLAG("--generate", &gen, "no training: load DIR/gpt and write text"),
        NN_OPT_FLOAT("--temperature", &temperature, 0, 10, "--generate: temperature (0: greedy)"),
        NN_OPT_INT("--top-k", &top_k, 0, 1000000, "--generate: keep the k most likely (0: all)"),
        NN_OPT_INT("--len", &len, 1, 100000, "--generate: characters to write"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "A tiny GPT (token + position embeddings, causal self-attention blocks) on the\n"
                     "Tang poems or a text file, beside chapter 4's RNN, GRU and LSTM: losses,\n"
                     "baselines, poems and a picture of the attention.",
                     opts, nopt);
    printf("chapter 5: a tiny GPT (简单而强大的Transformer)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    if (gen) return generate_mode(out_dir, prompt, temperature, top_k, len, seed);

    gpt_settings st = {.cfg = {.dim = C, .heads = H, .layers = L, .context = T, .dropout = dropout,
                           .untied = untied, .head_bias = head_bias},
                   .B = B, .steps = steps, .eval_every = 25, .patience = 8, .lr = lr};
    st.cfg.position = strcmp(position, "sinusoidal") == 0 ? NN_POSITION_SINUSOIDAL
                                                          : NN_POSITION_LEARNED;
#define DEFAULT(flag, field, value) \
    if (!nn_option_given(opts, nopt, flag)) field = value
    if (full && !quick) {
        DEFAULT("--dim", st.cfg.dim, 128);
        DEFAULT("--layers", st.cfg.layers, 4);
        DEFAULT("--context", st.cfg.context, 64);
        DEFAULT("--batch", st.B, 16);
        DEFAULT("--steps", st.steps, 3000);
        DEFAULT("--dropout", st.cfg.dropout, 0.3f);
        DEFAULT("--lr", st.lr, 3e-4f);
        if (!nn_option_given(opts, nopt, "--head-bias")) st.cfg.head_bias = true;
    }
    if (quick) {
        DEFAULT("--dim", st.cfg.dim, 16);
        DEFAULT("--heads", st.cfg.heads, 2);
        DEFAULT("--layers", st.cfg.layers, 1);
        DEFAULT("--context", st.cfg.context, 16);
        DEFAULT("--batch", st.B, 8);
        DEFAULT("--steps", st.steps, 30);
        st.eval_every = 10;
    }
#undef DEFAULT

    /* ---- the corpus: the same as chapter 4 ------------------------------------------------ */
    poems po;
    if (poems_open(&po, file, titles, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    poems_describe(&po, titles);
    const nn_vocab *v = po.vocab;
    int V = v->size;
    st.cfg.vocab = V;
    if (st.cfg.context > po.val.n - 1) st.cfg.context = po.val.n - 1;
    char why[256];
    if (nn_gpt_config_check(&st.cfg, why, sizeof why) != 0) {
        fprintf(stderr, "tiny_gpt: %s\n", why);
        poems_close(&po);
        return 2;
    }
    baselines base = count_baselines(po.train, po.val, V);
    printf("\nvalidation loss (nats per character) of models that only count:\n");
    printf("  uniform ln(V) = %.3f, unigram %.3f, bigram add-one %.3f, bigram interpolated %.3f\n",
           log((double)V), base.unigram, base.bigram_add1, base.bigram_interp);

    /* ---- the network and training ---------------------------------------------------------- */
    const nn_gpt_config *cf = &st.cfg;
    printf("\nnetwork: ids (B, T) -> token + %s position vectors (B, T, %d) -> %d block%s of "
           "%d-head causal attention\n  and feed-forward (%d -> %d -> %d) -> LayerNorm -> "
           "logits (B, T, %d)%s\n", nn_position_kind_name(cf->position), cf->dim, cf->layers,
           cf->layers > 1 ? "s" : "", cf->heads, cf->dim, cf->ffn ? cf->ffn : 4 * cf->dim, cf->dim, V,
           cf->untied ? "" : " (head tied to the token table)");
    printf("training: B = %d random windows of T = %d, AdamW lr %g (weight decay %g), clip "
           "%.1f, up to %d steps,\n  validation every %d steps, best weights kept (patience %d "
           "checks), dropout %.2f\n", st.B, cf->context, st.lr, GPT_WEIGHT_DECAY, GPT_CLIP, st.steps,
           st.eval_every, st.patience, cf->dropout);
    static gpt_run r;
    if (gpt_train(&r, &st, po.train, po.val, seed) != 0) {
        fprintf(stderr, "tiny_gpt: %s\n", nn_last_error());
        poems_close(&po);
        return 1;
    }
    printf("  gpt: %zu parameters; start loss %.3f vs ln(V) = %.3f; best validation at step %d "
           "of %d; %.1f ms per step\n", r.gpt->model->count, r.start_loss, log((double)V),
           r.best_step, r.steps, r.ms_per_step);

    /* ---- beside chapter 4 ------------------------------------------------------------------- */
    static poems_curve rnn[POEMS_MAX_CURVES];
    char csv[4096];
    snprintf(csv, sizeof csv, "%s/ch04_char_rnn_curves.csv", out_dir);
    const char *why_not;
    int nr = poems_curves_read(csv, &po, rnn, POEMS_MAX_CURVES, &why_not);
    printf("\nvalidation loss of the kept weights (same text, same split):\n");
    printf("  %-6s %10s %8s\n", "model", "params", "val");
    for (int k = 0; k < nr; k++)
        printf("  %-6s %10zu %8.3f   (chapter 4, %s)\n", rnn[k].name, rnn[k].params,
               best_val(&rnn[k]), csv);
    printf("  %-6s %10zu %8.3f   (train %.3f)\n", "gpt", r.gpt->model->count, r.val, r.train);
    printf("  %-6s %10s %8.3f\n", "bigram", "-", base.bigram_interp);
    if (nr <= 0)
        printf("  (no chapter 4 curves: %s is %s; run char_rnn [--compare] --out %s\n"
               "   first, with the same FILE and --full setting, to see them here)\n", csv,
               why_not, out_dir);

    nn_series svg[POEMS_MAX_CURVES + 4];
    int ns = 0;
    char names[POEMS_MAX_CURVES][40];
    for (int k = 0; k < nr; k++) {
        snprintf(names[k], sizeof names[k], "%.15s validation (ch. 4)", rnn[k].name);
        svg[ns++] = (nn_series){names[k], rnn[k].step, rnn[k].val, rnn[k].n, NN_PLOT_LINE};
    }
    svg[ns++] = (nn_series){"gpt train", r.curve.step, r.curve.train, r.curve.n, NN_PLOT_LINE};
    svg[ns++] = (nn_series){"gpt validation", r.curve.step, r.curve.val, r.curve.n, NN_PLOT_LINE};
    float bx[2] = {0, (float)r.steps}, bb[2] = {(float)base.bigram_interp, (float)base.bigram_interp};
    svg[ns++] = (nn_series){"bigram (interpolated)", bx, bb, 2, NN_PLOT_LINE};
    int failed = nn_plot_svg_in(out_dir, "ch05_tiny_gpt_loss.svg",
                                "Tiny GPT beside chapter 4: loss per character (nats)", "step",
                                "cross-entropy", svg, ns) != 0;
    printf("\ngpt: train (*) and validation (o) loss per step\n");
    nn_plot_ascii(stdout, svg + nr, 2, 60, 12);

    /* ---- poems ------------------------------------------------------------------------------- */
    char auto_prompt[64];
    int np, *p = poems_prompt(&po, &prompt, auto_prompt, sizeof auto_prompt, &np);
    if (!p) {
        fprintf(stderr, "the prompt is not valid UTF-8: %s\n", nn_last_error());
        nn_gpt_free(r.gpt), poems_close(&po);
        return 2;
    }
    int nl = nn_vocab_id(v, '\n');
    nl = nl > 0 ? nl : -1;
    printf("\npoems from the prompt \"%s\" (up to 4 lines):\n", prompt);
    static const nn_sampling kinds[] = {{0.5f, 0, 0}, {0.8f, 0, 0}, {1.0f, 0, 0}, {1.0f, 10, 0}};
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    int buf[400];
    for (int i = 0; i < 4; i++) {
        int made = gpt_write_poem(r.gpt, p, np, nl, 120, 4, kinds[i], &rng, buf);
        printf("  temperature %.1f%s:\n", kinds[i].temperature, kinds[i].top_k ? ", top-k 10" : "");
        print_text(v, p, np, buf, made);
    }
    int made = gpt_write_text(r.gpt, p, np, nl, 400, kinds[1], &rng, buf), cl_gen, cl_val;
    double rh_gen = rhythm(v, buf, made, &cl_gen), rh_val = rhythm(v, po.val.ids, po.val.n, &cl_val);
    printf("rhythm: %.0f%% of %d generated clauses (T 0.8) are 5 or 7 characters long; the "
           "validation text: %.0f%% of %d\n", 100 * rh_gen, cl_gen, 100 * rh_val, cl_val);

    /* the attention over the prompt and the first generated line, last block */
    int line[64], n_line = 0;
    for (int i = 0; i < np && n_line < 32; i++) line[n_line++] = p[i];
    for (int i = 0; i < made && n_line < 32 && n_line < cf->context && buf[i] != nl; i++)
        line[n_line++] = buf[i];
    char shown[4 * 64 + 1];
    nn_vocab_decode(v, line, n_line, shown, sizeof shown);
    printf("attention of block %d over \"%s\" (%d heads; row = the character looking, column = "
           "the one looked at):\n", cf->layers - 1, shown, cf->heads);
    failed += attention_picture(r.gpt, line, n_line, cf->layers - 1, out_dir) != 0;

    /* ---- save, and check that it reads back ------------------------------------------------------ */
    char gdir[4096];
    snprintf(gdir, sizeof gdir, "%s/gpt", out_dir);
    double reload_val = NAN;
    if (nn_gpt_save(r.gpt, v, gdir) != 0) {
        fprintf(stderr, "cannot save the model: %s\n", nn_last_error());
        failed++;
    } else {
        printf("wrote %s/gpt.cfg, gpt.nnvc, gpt.nnck\n", gdir);
        nn_gpt *back = nn_gpt_load(gdir, NULL);
        if (!back) {
            fprintf(stderr, "cannot load the model back: %s\n", nn_last_error());
            failed++;
        } else {
            reload_val = gpt_span_loss(back, po.val);
            printf("reloaded: validation loss %.4f (trained model %.4f); try:\n  tiny_gpt "
                   "--generate --out %s --prompt %s\n", reload_val, r.val, out_dir, prompt);
            nn_gpt_free(back);
        }
    }

    printf("result: corpus=%s V=%d lnV=%.3f start_loss=%.3f bigram_interp_val=%.3f params=%zu "
           "dim=%d heads=%d layers=%d context=%d steps=%d best_step=%d train_loss=%.3f "
           "val_loss=%.3f ms_per_step=%.1f rhythm5or7=%.3f",
           po.tang ? "tang300" : file ? "file" : "synthetic", V, log((double)V), r.start_loss,
           base.bigram_interp, r.gpt->model->count, cf->dim, cf->heads, cf->layers, cf->context,
           r.steps, r.best_step, r.train, r.val, r.ms_per_step, rh_gen);
    for (int k = 0; k < nr; k++) printf(" %s_val=%.3f", rnn[k].name, best_val(&rnn[k]));
    printf("\n");
    free(p);
    nn_gpt_free(r.gpt);
    poems_close(&po);
    nn_graph_release();
    return failed ? 1 : 0;
}
