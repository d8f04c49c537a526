/* examples/ch06_pretrain/pretrain.c — 预训练 (pretraining) and 微调 (fine-tuning): learn the
 * language first from a large general text, then the task from a small special one.
 *
 * The tutorial: 预训练 — train on a huge amount of general data first, so the model learns
 * the language itself; 微调 — then train it a little more on the data of one task. Here the
 * general text is the 5,263 sayings of fortunes-zh's `chinese` (about 970,000 characters of
 * modern Chinese prose) and the task is the Tang poems (tang300, about 25,000 characters).
 * One vocabulary covers both texts (the characters of either: a pretrained model keeps its
 * vocabulary, so it has to have the poems' characters from the start). Three models of the
 * same size, measured on the same poem validation split:
 *   pretrained   P steps on the general text only: what it knows of poems without seeing one
 *   fine-tuned   the pretrained model, then F steps on the poems
 *   scratch      F steps on the poems from a random start: the same fine-tuning budget
 * Loss is cross-entropy in nats per character (gpt_span_loss); the unigram and bigram
 * counts of the poems' training text are printed beside as yardsticks. Each run keeps the
 * weights of its best validation check (early stopping on its own validation text).
 *
 *   pretrain [--quick | --full] [--pretrain-steps P] [--finetune-steps F] [--seed N] [--out DIR]
 *   default  the chapter 6 GPT (C 64, 2 blocks, T 32), P 250, F 100 (about a minute)
 *   --quick  a tiny GPT, P 30, F 20, on the first 4,000 characters of each text
 *   --full   T 64, P 3000, F 600 (several minutes)
 * Without fortunes-zh both texts are synthetic (a note says so). Writes DIR/ch06_pretrain.svg:
 * the poem validation loss of fine-tuning and of scratch against the fine-tuning step.
 */
#include "../common/ch06_quick_gpt.h"

#define GENERAL "/usr/share/games/fortunes/chinese"
#define GENERAL_VAL 10000     /* characters of its validation text scored (--full: 4x) */

/* The general text: fortunes-zh's `chinese`, or synthetic poems of another seed. */
static nn_corpus *general_corpus(uint64_t seed, bool *real) {
    nn_corpus *c = nn_fortunes_load(GENERAL, NULL);
    *real = c != NULL;
    if (c) return c;
    printf("NOTE: %s is missing (%s): pretraining on a SYNTHETIC text instead\n", GENERAL,
           nn_last_error());
    return synthetic_corpus(2000, seed + 7);
}

/* One vocabulary over both texts; both encoded with it and split 90/10. */
static int shared_vocab(poems *po, const nn_corpus *gen, int **gen_ids, int *gen_n,
                        nn_token_span *gen_tr, nn_token_span *gen_va) {
    size_t bytes = gen->bytes + po->corpus->bytes;
    char *both = malloc(bytes + 1);
    memcpy(both, gen->text, gen->bytes);
    memcpy(both + gen->bytes, po->corpus->text, po->corpus->bytes + 1);
    nn_vocab *v = nn_vocab_build(both, bytes, 0);
    free(both);
    if (!v) return fprintf(stderr, "pretrain: %s\n", nn_last_error()), 1;
    nn_vocab_free(po->vocab);
    free(po->ids);
    po->vocab = v;
    po->n = nn_vocab_encode(v, po->corpus->text, po->corpus->bytes, NULL, 0);
    po->ids = malloc(sizeof(int) * (size_t)po->n);
    nn_vocab_encode(v, po->corpus->text, po->corpus->bytes, po->ids, (size_t)po->n);
    nn_text_split(po->ids, po->n, POEMS_VAL_FRACTION, &po->train, &po->val);
    *gen_n = nn_vocab_encode(v, gen->text, gen->bytes, NULL, 0);
    *gen_ids = malloc(sizeof(int) * (size_t)*gen_n);
    nn_vocab_encode(v, gen->text, gen->bytes, *gen_ids, (size_t)*gen_n);
    nn_text_split(*gen_ids, *gen_n, POEMS_VAL_FRACTION, gen_tr, gen_va);
    return 0;
}

/* A poem's first line from `prompt`, greedy, printed after a label. */
static void show_poem(const char *label, nn_gpt *g, const poems *po, const char *prompt) {
    int np, nl = nn_vocab_id(po->vocab, '\n'), out[64];
    int *p = encode_prompt(po->vocab, prompt, &np);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    int made = gpt_write_poem(g, p, np, nl > 0 ? nl : -1, 40, 2, (nn_sampling){0}, NULL, out);
    nn_set_grad_enabled(grad), nn_set_training(training);
    printf("  %-11s", label);
    print_text(po->vocab, p, np, out, made);
    free(p);
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    int P = 400, F = 150;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT, 30 + 20 steps (for the tests)"),
        NN_OPT_FLAG("--full", &full, "T 64, 3000 pretraining + 600 fine-tuning steps (minutes)"),
        NN_OPT_INT("--pretrain-steps", &P, 1, 100000, "P: steps on the general text"),
        NN_OPT_INT("--finetune-steps", &F, 1, 100000, "F: steps on the poems, for fine-tuning "
                   "and for scratch"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "预训练 / 微调: a GPT pretrained on general Chinese text (fortunes-zh chinese),\n"
                     "then fine-tuned on the Tang poems, against one trained on the poems from\n"
                     "scratch with the same fine-tuning budget: validation loss on the poems.",
                     opts, nopt);
    ch06_level level = ch06_level_of(quick, full);
    if (!nn_option_given(opts, nopt, "--pretrain-steps"))
        P = level == CH06_QUICK ? 30 : level == CH06_FULL ? 3000 : 250;
    if (!nn_option_given(opts, nopt, "--finetune-steps"))
        F = level == CH06_QUICK ? 20 : level == CH06_FULL ? 600 : 100;
    printf("chapter 6: pretraining and fine-tuning (预训练 / 微调)\n");
    printf("seed %llu\n", (unsigned long long)seed);

    poems po;
    if (poems_open(&po, NULL, false, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    bool real;
    nn_corpus *gen = general_corpus(seed, &real);
    int *gen_ids = NULL, gen_n = 0;
    nn_token_span gen_tr, gen_va;
    if (!gen || shared_vocab(&po, gen, &gen_ids, &gen_n, &gen_tr, &gen_va) != 0) {
        if (!gen) fprintf(stderr, "pretrain: out of memory\n");
        nn_corpus_free(gen), poems_close(&po);
        return 1;
    }
    /* the general validation text is large: its first GENERAL_VAL characters are enough */
    int gen_val_cap = level == CH06_QUICK ? 2000 : level == CH06_FULL ? 4 * GENERAL_VAL : GENERAL_VAL;
    if (level == CH06_QUICK && gen_tr.n > CH06_QUICK_TEXT) gen_tr.n = CH06_QUICK_TEXT;
    if (level == CH06_QUICK && po.train.n > CH06_QUICK_TEXT) po.train.n = CH06_QUICK_TEXT;
    if (gen_va.n > gen_val_cap) gen_va.n = gen_val_cap;
    printf("general text: %s, %d entries, %d characters (%d to train on, %d to validate)\n",
           real ? GENERAL : "synthetic", gen->n_entries, gen_n, gen_tr.n, gen_va.n);
    printf("poems: %s, %d characters (%d to train on, %d to validate)\n", po.source, po.n,
           po.train.n, po.val.n);
    printf("one vocabulary for both: V = %d ids\n", po.vocab->size);
    baselines bl = count_baselines(po.train, po.val, po.vocab->size);
    printf("yardsticks on the poems' validation text: unigram %.3f, bigram %.3f nats/char\n",
           bl.unigram, bl.bigram_interp);

    gpt_settings st = ch06_settings(level, po.vocab->size);
    st.train_score_max = GENERAL_VAL;
    st.steps = P, st.eval_every = level == CH06_QUICK ? P : (P + 3) / 4, st.label = "pretrain";
    printf("\nmodel: C %d, %d heads, %d blocks, T %d, batch %d; AdamW lr %g\n", st.cfg.dim,
           st.cfg.heads, st.cfg.layers, st.cfg.context, st.B, st.lr);

    /* ---- pretraining on the general text ---- */
    printf("\n== pretraining: %d steps on the general text ==\n", P);
    static gpt_run pre, fine, scratch;   /* static: the curves are large for the stack */
    if (gpt_train(&pre, &st, gen_tr, gen_va, seed) != 0) {
        fprintf(stderr, "pretrain: %s\n", nn_last_error());
        return 1;
    }
    double pre_gen = pre.val, pre_poems = gpt_span_loss(pre.gpt, po.val);
    printf("pretrained: general validation %.3f, poems validation %.3f nats/char (%.0f ms/step)\n",
           pre_gen, pre_poems, pre.ms_per_step);
    show_poem("pretrained", pre.gpt, &po, "床前");

    /* ---- fine-tuning on the poems, and the same budget from scratch ---- */
    gpt_settings ft = st;
    ft.steps = F, ft.eval_every = level == CH06_QUICK ? F : (F + 5) / 6, ft.label = "fine-tune";
    printf("\n== fine-tuning the pretrained model: %d steps on the poems ==\n", F);
    gpt_fit(&fine, pre.gpt, &ft, po.train, po.val, seed + 2);
    double fine_gen = gpt_span_loss(fine.gpt, gen_va);
    printf("fine-tuned: poems validation %.3f, general validation %.3f nats/char\n", fine.val,
           fine_gen);
    show_poem("fine-tuned", fine.gpt, &po, "床前");
    ft.label = "scratch";
    printf("\n== from scratch: %d steps on the poems ==\n", F);
    gpt_train(&scratch, &ft, po.train, po.val, seed + 3);
    double scratch_gen = gpt_span_loss(scratch.gpt, gen_va);
    printf("scratch: poems validation %.3f, general validation %.3f nats/char\n", scratch.val,
           scratch_gen);
    show_poem("scratch", scratch.gpt, &po, "床前");

    printf("\n%-26s %14s %12s %14s %16s\n", "model", "general steps", "poem steps",
           "poems val", "general val");
    printf("%-26s %14d %12d %14.3f %16.3f\n", "pretrained only", pre.steps, 0, pre_poems,
           pre_gen);
    printf("%-26s %14d %12d %14.3f %16.3f\n", "pretrained + fine-tuned", pre.steps, fine.steps,
           fine.val, fine_gen);
    printf("%-26s %14d %12d %14.3f %16.3f\n", "scratch (same poem steps)", 0, scratch.steps,
           scratch.val, scratch_gen);
    printf("(%zu parameters each; nats per character; unigram %.3f, bigram %.3f on the poems)\n",
           pre.gpt->model->count, bl.unigram, bl.bigram_interp);
    printf("\nat the same %d steps on the poems, the fine-tuned model ends %.3f nats/char %s "
           "the one\nfrom scratch%s;\non the general text its loss goes %.3f -> %.3f with "
           "fine-tuning.\n", F, fabs(scratch.val - fine.val),
           fine.val < scratch.val ? "below" : "above",
           fine.val < scratch.val ? ": what it learned of the language carried over" : "",
           pre_gen, fine_gen);

    nn_series ser[] = {
        {"fine-tuned (pretrained first)", fine.curve.step, fine.curve.val, fine.curve.n,
         NN_PLOT_LINE},
        {"from scratch", scratch.curve.step, scratch.curve.val, scratch.curve.n, NN_PLOT_LINE}};
    int failed = nn_plot_svg_in(out_dir, "ch06_pretrain.svg",
                                "Tang poems: validation loss while training on them",
                                "steps on the poems", "nats per character", ser, 2) != 0;

    printf("result: general=%s V=%d params=%zu pretrain_steps=%d finetune_steps=%d "
           "pretrained_poems_val=%.3f finetuned_poems_val=%.3f scratch_poems_val=%.3f "
           "pretrained_general_val=%.3f finetuned_general_val=%.3f scratch_general_val=%.3f "
           "unigram=%.3f bigram=%.3f ms_per_step=%.0f\n",
           real ? "chinese" : "synthetic", po.vocab->size, pre.gpt->model->count, pre.steps,
           fine.steps, pre_poems, fine.val, scratch.val, pre_gen, fine_gen, scratch_gen,
           bl.unigram, bl.bigram_interp, pre.ms_per_step);
    nn_gpt_free(pre.gpt);   /* fine.gpt is the same model */
    nn_gpt_free(scratch.gpt);
    free(gen_ids);
    nn_corpus_free(gen);
    poems_close(&po);
    nn_graph_release();
    return failed;
}
