/* examples/ch06_lora/lora.c — LoRA (低秩适配), adapters (适配器) and QLoRA: fine-tune a GPT by
 * training a few new numbers beside its frozen weights, against fine-tuning all of them.
 *
 * The tutorial (常见的大模型词): 微调 changes a pretrained model a little for one task; doing it
 * on every weight of a big model is costly, so LoRA freezes the model and learns a small
 * low-rank change beside chosen weights, an adapter inserts small new layers, and QLoRA does
 * LoRA over a model stored in 4 bits.
 *
 *   LoRA       W x -> W x + (alpha / r) (x A) B,  A (in, r) random, B (r, out) zero: the
 *              adapted model starts as the base; A and B train, W stays (nn/net/lora.h)
 *   adapter    after each block's feed-forward: h -> h + GELU(h Wdown) Wup, Wup zero at first
 *   QLoRA      LoRA over the base's weight matrices rounded to int4 (groups of G weights, one
 *              float scale each): a "fake quant" base holding exactly the numbers a 4-bit base
 *              computes with; its bytes are counted at 4 bits
 *
 * The task is a change of FORM. The Tang poems (tang300) are split by their lines: the base
 * GPT is trained on every poem that is not 七言 (five-character 五言 and mixed 杂言), the task
 * is 七言 (seven-character lines), which the base has hardly seen. Each method fine-tunes a
 * copy of the base for the same number of steps (AdamW, the loop of gpt_fit in
 * examples/common/gpt_train.h, which trains what is not frozen) and is measured by:
 *   params    trainable numbers, and their share of the model's
 *   7-val     loss on held-out 七言 poems (nats per character): the task
 *   old-val   loss on held-out poems of the base's own kind: what fine-tuning forgot
 *   7-share   the share of 7-character clauses in text it writes (S samples at temperature
 *             0.8, every complete clause between two punctuation marks): the form it learned
 *   ms/step   training time per step (the base's backward skips the frozen weight gradients)
 * Then the LoRA of rank 4 is saved alone (a small file), merged into its weights (W += s A B)
 * and checked: the same logits (max abs difference) and the same text from the same random
 * numbers as unmerged.
 * The yardstick: Hu et al. 2021 (LoRA) find ranks 1 .. 8 on Wq and Wv of GPT-3 close to full
 * fine-tuning (and r = 1 already good); Dettmers et al. 2023 (QLoRA) find a 4-bit base loses
 * nothing measurable.
 * What it measured (seed 42; 7-val in nats per character, lower is better):
 *   --full (T 64; the base stopped early at 640 steps; 300 steps each; ~6 min of CPU):
 *     base 6.365, full fine-tuning 5.878 (264,320 trained); LoRA on q, v r=1 6.032 (512),
 *     r=2 6.008, r=4 6.011 (2,048: 0.8%, 73% of full fine-tuning's gain), r=8 6.010; r=4 on
 *     all six projections 5.997; adapter (m 8) 5.997; QLoRA r=4 5.992 (base 151 KiB at 4
 *     bits instead of 1,032 KiB). The rank hardly matters and the 4-bit base costs nothing,
 *     as in the papers; full fine-tuning stays ahead in a model this small (the characters'
 *     frequencies live in the frozen embedding table). Merged r=4: max logit difference
 *     2.9e-06, the same text; the adapter file is 8,482 bytes.
 *   default (40 steps each, ~46 s of CPU): base 6.207, full 5.985, LoRA r=4 6.155.
 * The written text barely takes the 七言 form at this scale (7-share under 11%; real 七言
 * 100%): the losses are the figures to read.
 *
 *   lora [--quick | --full] [--base-steps P] [--steps F] [--lr-full X] [--lr X] [--alpha A]
 *        [--bottleneck M] [--group G] [--samples S] [--seed N] [--out DIR]
 *   default  the chapter 6 GPT (C 64, 4 heads, 2 blocks, T 32), base P 120, F 40 per method
 *   --quick  a tiny GPT (C 16, 1 block, T 16), P 30, F 10 (the smoke tests)
 *   --full   T 64, P 800 (early stopping), F 300
 * Writes DIR/ch06_lora.svg (the 七言 validation loss of each method while it trains) and
 * DIR/ch06_lora_r4.nnck (the rank 4 adapter alone).
 */
#include "../common/ch06_quick_gpt.h"
#include <sys/stat.h>

/* ---- the two texts: 七言 and the rest ------------------------------------------------------ */

/* Complete clauses (characters between two punctuation marks or line ends) of ids[0 .. n):
 * how many, and how many have 5 and 7 characters. Text before the first break may be cut,
 * so it is not counted (rhythm() in poems.h counts the same way). */
static int clauses_of(const nn_vocab *v, const int *ids, int n, int *five, int *seven) {
    int len = -1, count = 0;
    *five = *seven = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] != NN_VOCAB_UNK && is_break(v->chars[ids[i]])) {
            if (len > 0) count++, *five += len == 5, *seven += len == 7;
            len = 0;
        } else if (len >= 0) {
            len++;
        }
    }
    return count;
}

typedef struct texts {
    int *task, n_task;       /* 七言 poems, as ids */
    int *rest, n_rest;       /* every other poem */
    int poems_task, poems_rest;
    nn_token_span task_tr, task_va, rest_tr, rest_va;
} texts;

/* Poem ids[1 .. n] (ids[0] is the line end before it, where its first clause starts) goes
 * to t->task when at least 80% of its clauses have 7 characters, else to t->rest. */
static void add_poem(texts *t, const nn_vocab *v, const int *ids, int n) {
    int five, seven, all = clauses_of(v, ids, n + 1, &five, &seven);
    bool is_task = all > 0 && seven >= 0.8 * all;
    int *dst = is_task ? t->task : t->rest, *len = is_task ? &t->n_task : &t->n_rest;
    memcpy(dst + *len, ids + 1, sizeof(int) * (size_t)n);
    *len += n;
    if (is_task) t->poems_task++;
    else t->poems_rest++;
}

/* The poems are the corpus's entries (tang300), each with the empty line after it; a text of
 * one entry (the synthetic stand-in) is cut after each empty line instead. Both kinds are
 * split 90/10. */
static void split_by_form(const poems *po, texts *t) {
    const nn_corpus *c = po->corpus;
    memset(t, 0, sizeof *t);
    t->task = malloc(sizeof(int) * (size_t)po->n);
    t->rest = malloc(sizeof(int) * (size_t)po->n);
    int nl = nn_vocab_id(po->vocab, '\n');
    int *buf = malloc(sizeof(int) * (size_t)(po->n + 1));
    buf[0] = nl;
    if (c->n_entries > 1) {
        for (int e = 0; e < c->n_entries; e++) {
            size_t start = c->entries[e].start;
            size_t end = e + 1 < c->n_entries ? c->entries[e + 1].start : c->bytes;
            add_poem(t, po->vocab, buf, nn_vocab_encode(po->vocab, c->text + start,
                                                        end - start, buf + 1, (size_t)po->n));
        }
    } else {
        for (int start = 0, end; start < po->n; start = end) {
            end = start + 1;   /* one past the poem's empty line, or the end of the text */
            while (end < po->n && !(end >= 2 && po->ids[end - 1] == nl && po->ids[end - 2] == nl))
                end++;
            memcpy(buf + 1, po->ids + start, sizeof(int) * (size_t)(end - start));
            add_poem(t, po->vocab, buf, end - start);
        }
    }
    free(buf);
    nn_text_split(t->task, t->n_task, POEMS_VAL_FRACTION, &t->task_tr, &t->task_va);
    nn_text_split(t->rest, t->n_rest, POEMS_VAL_FRACTION, &t->rest_tr, &t->rest_va);
}

/* ---- the methods ------------------------------------------------------------------------ */

typedef enum { FULL, LORA, ADAPTER, QLORA } kind;

typedef struct method {
    const char *name, *key;
    kind how;
    int rank;
    float lr;
} method;

typedef struct outcome {
    size_t trainable;
    double task_val, rest_val, share7, share5, ms_per_step, base_bytes, q_task_val;
    int clauses, steps;
    poems_curve curve;
} outcome;

/* S samples of n characters at temperature 0.8, each after a line end and the first
 * character of a validation line of the task (the same prompts and random numbers for every
 * method): the shares of 5- and 7-character clauses among all complete ones. */
static void form_of_writing(nn_gpt *g, const nn_vocab *v, nn_token_span va, int S, int n,
                            uint64_t seed, outcome *o) {
    int nl = nn_vocab_id(v, '\n'), *seq = malloc(sizeof(int) * (size_t)(n + 2));
    int clauses = 0, five = 0, seven = 0, found = 0;
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    for (int i = 1; i < va.n && found < S; i++) {
        if (va.ids[i - 1] != nl || va.ids[i] == nl) continue;
        seq[0] = nl, seq[1] = va.ids[i];
        int made = nn_gpt_generate(g, seq, 2, n, (nn_sampling){.temperature = 0.8f}, &rng, -1,
                                   seq + 2);
        int f, s, c = clauses_of(v, seq, 2 + (made > 0 ? made : 0), &f, &s);
        clauses += c, five += f, seven += s, found++;
    }
    free(seq);
    o->clauses = clauses;
    o->share5 = clauses ? (double)five / clauses : 0.0;
    o->share7 = clauses ? (double)seven / clauses : 0.0;
}

/* Two lines of a poem from `first`, at temperature 0.8 with the random numbers of `seed`
 * (the same for every model), printed after a label. */
static void show_poem(const char *label, nn_gpt *g, const nn_vocab *v, int first, int len,
                      uint64_t seed, int *out, int *made) {
    int nl = nn_vocab_id(v, '\n');
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    *made = gpt_write_poem(g, &first, 1, nl > 0 ? nl : -1, len, 2,
                           (nn_sampling){.temperature = 0.8f}, &rng, out);
    nn_set_grad_enabled(grad), nn_set_training(training);
    printf("  %-12s", label);
    print_text(v, &first, 1, out, *made);
}

static long file_bytes(const char *path) {
    struct stat s;
    return stat(path, &s) == 0 ? (long)s.st_size : -1;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    int P = 120, F = 40, M = 8, G = 64, S = 12;
    float alpha = 8.0f, lr_full = 2e-3f, lr_small = 2e-2f;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny GPT, 30 + 10 steps per method (for the tests)"),
        NN_OPT_FLAG("--full", &full, "T 64, base up to 800 steps, 300 per method (minutes)"),
        NN_OPT_INT("--base-steps", &P, 1, 100000, "P: steps training the base (not 七言)"),
        NN_OPT_INT("--steps", &F, 1, 100000, "F: fine-tuning steps on 七言, every method"),
        NN_OPT_FLOAT("--alpha", &alpha, 0.01, 1000, "LoRA's alpha: scale = alpha / r, the "
                     "same alpha for every r (Hu et al.)"),
        NN_OPT_FLOAT("--lr-full", &lr_full, 1e-6, 1, "AdamW's learning rate for full "
                     "fine-tuning"),
        NN_OPT_FLOAT("--lr", &lr_small, 1e-6, 1, "AdamW's learning rate for LoRA, the adapter "
                     "and QLoRA (a few new numbers take larger steps)"),
        NN_OPT_INT("--bottleneck", &M, 1, 4096, "the adapter's width m (--quick 4)"),
        NN_OPT_INT("--group", &G, 1, 4096, "QLoRA: weights per 4-bit scale"),
        NN_OPT_INT("--samples", &S, 1, 1000, "samples written per method for 7-share "
                   "(--quick 2)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the chart and the adapter file"),
    };
    int nopt = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "LoRA / adapter / QLoRA: a GPT trained on the Tang poems that are not 七言 is\n"
                     "fine-tuned on 七言 by full fine-tuning, LoRA of rank 1, 2, 4, 8 on Wq and Wv,\n"
                     "a bottleneck adapter and QLoRA (LoRA over a 4-bit base); trainable\n"
                     "parameters, validation losses, the form of what each writes, ms per step;\n"
                     "then the rank 4 LoRA is merged and checked against the unmerged model.",
                     opts, nopt);
    ch06_level level = ch06_level_of(quick, full);
    if (!nn_option_given(opts, nopt, "--base-steps"))
        P = level == CH06_QUICK ? 30 : level == CH06_FULL ? 800 : 120;
    if (!nn_option_given(opts, nopt, "--steps"))
        F = level == CH06_QUICK ? 10 : level == CH06_FULL ? 300 : 40;
    if (!nn_option_given(opts, nopt, "--bottleneck") && level == CH06_QUICK) M = 4;
    if (!nn_option_given(opts, nopt, "--samples") && level == CH06_QUICK) S = 2;
    printf("chapter 6: LoRA, adapters, QLoRA (低秩适配 / 适配器)\n");
    printf("seed %llu\n", (unsigned long long)seed);

    poems po;
    if (poems_open(&po, NULL, false, quick ? 150 : 500, seed) != 0) {
        poems_close(&po);
        return 1;
    }
    texts tx;
    split_by_form(&po, &tx);
    const nn_vocab *v = po.vocab;
    printf("corpus: %s, %d poems, V = %d ids\n", po.source, tx.poems_task + tx.poems_rest,
           v->size);
    printf("base text: %d poems that are not 七言 (%d characters; the last 10%% validate)\n",
           tx.poems_rest, tx.n_rest);
    printf("task text: %d 七言 poems (%d characters; the last 10%% validate)\n", tx.poems_task,
           tx.n_task);
    if (tx.task_va.n < 40 || tx.rest_va.n < 40) {
        fprintf(stderr, "lora: too little text of one kind to learn from (a synthetic corpus?)\n");
        free(tx.task), free(tx.rest), poems_close(&po);
        return 1;
    }

    /* ---- the base ---- */
    gpt_settings st = ch06_settings(level, v->size);
    if (M > st.cfg.dim) {
        fprintf(stderr, "lora: --bottleneck %d is wider than the model (C = %d): an adapter's "
                "bottleneck is narrower than what it adapts\n", M, st.cfg.dim);
        free(tx.task), free(tx.rest), poems_close(&po);
        return 2;
    }
    st.steps = P, st.eval_every = level == CH06_QUICK ? P : P / 5 > 0 ? P / 5 : 1;
    st.label = "base";
    nn_token_span base_tr = tx.rest_tr;
    if (level == CH06_QUICK) {   /* the smoke tests: a few thousand characters are enough */
        if (base_tr.n > CH06_QUICK_TEXT) base_tr.n = CH06_QUICK_TEXT;
        if (tx.task_tr.n > CH06_QUICK_TEXT / 2) tx.task_tr.n = CH06_QUICK_TEXT / 2;
        if (tx.rest_va.n > CH06_QUICK_TEXT / 8) tx.rest_va.n = CH06_QUICK_TEXT / 8;
        if (tx.task_va.n > CH06_QUICK_TEXT / 8) tx.task_va.n = CH06_QUICK_TEXT / 8;
        printf("(--quick: training on the first %d and %d characters of the texts, validating "
               "on %d)\n", base_tr.n, tx.task_tr.n, CH06_QUICK_TEXT / 8);
    }
    printf("\nmodel: C %d, %d heads, %d block%s, T %d, batch %d\n", st.cfg.dim, st.cfg.heads,
           st.cfg.layers, st.cfg.layers > 1 ? "s" : "", st.cfg.context, st.B);
    printf("\n== the base: %d steps on the poems that are not 七言 ==\n", P);
    static gpt_run base_run, run;   /* static: their curves are large for the stack */
    if (gpt_train(&base_run, &st, base_tr, tx.rest_va, seed) != 0) {
        fprintf(stderr, "lora: %s\n", nn_last_error());
        return 1;
    }
    nn_gpt *base = base_run.gpt;
    const int L = base->cfg.layers;
    size_t params = base->model->count;
    outcome base_o = {.trainable = 0, .task_val = gpt_span_loss(base, tx.task_va),
                      .rest_val = base_run.val};
    int T = base->cfg.context, n_write = 2 * T;
    form_of_writing(base, v, tx.task_va, S, n_write, seed + 5, &base_o);
    int five, seven, real_clauses = clauses_of(v, tx.task_va.ids, tx.task_va.n, &five, &seven);
    double real_share7 = real_clauses ? (double)seven / real_clauses : 0.0;
    printf("base: %zu parameters, loss on its own kind %.3f, on 七言 %.3f nats/char; "
           "7-character clauses %.0f%% of what it writes (real 七言: %.0f%%)\n", params,
           base_o.rest_val, base_o.task_val, 100 * base_o.share7, 100 * real_share7);
    int first = tx.task_va.ids[0] != nn_vocab_id(v, '\n') ? tx.task_va.ids[0] : tx.task_va.ids[1];
    int text_a[128], text_b[128], na, nb;
    show_poem("base", base, v, first, 40, seed + 6, text_a, &na);

    /* ---- fine-tuning, every method the same budget ---- */
    const method ms[] = {
        {"full fine-tuning", "full", FULL, 0, lr_full},
        {"LoRA r=1 (q,v)", "lora1", LORA, 1, lr_small},
        {"LoRA r=2 (q,v)", "lora2", LORA, 2, lr_small},
        {"LoRA r=4 (q,v)", "lora4", LORA, 4, lr_small},
        {"LoRA r=8 (q,v)", "lora8", LORA, 8, lr_small},
        {"LoRA r=4 (all 6)", "lora4all", LORA, 4, lr_small},
        {"adapter", "adapter", ADAPTER, 0, lr_small},
        {"QLoRA r=4 (q,v)", "qlora4", QLORA, 4, lr_small},
    };
    enum { NM = sizeof ms / sizeof ms[0], R4 = 3, ALL6 = 5, Q4 = 7 };
    static outcome out[NM];
    gpt_settings ft = st;
    ft.steps = F, ft.eval_every = level == CH06_FULL ? F / 6 : level == CH06_QUICK ? F : F / 2;
    ft.patience = 1000000;   /* a fixed budget: every method runs all F steps */
    char adapter_path[4096] = "";
    double merge_diff = -1.0;
    bool merge_same_text = false;
    long adapter_file = -1;
    printf("\n== fine-tuning on 七言: %d steps each, AdamW (lr per method below) ==\n", F);
    for (int k = 0; k < NM; k++) {
        const method *me = &ms[k];
        outcome *o = &out[k];
        nn_gpt *g = gpt_copy(base);
        if (!g) return fprintf(stderr, "lora: %s\n", nn_last_error()), 1;
        if (me->how == QLORA) {
            o->base_bytes = nn_gpt_quantize_base(g, G);
            o->q_task_val = gpt_span_loss(g, tx.task_va);
        }
        nn_gpt_lora_config cfg = {.targets = k == ALL6 ? NN_LORA_ALL : NN_LORA_QV,
                                  .rank = me->rank, .alpha = alpha};
        if (me->how == ADAPTER) cfg = (nn_gpt_lora_config){.bottleneck = M};
        if (me->how != FULL && nn_gpt_lora_attach(g, &cfg) != 0)
            return fprintf(stderr, "lora: %s\n", nn_last_error()), 1;
        o->trainable = nn_model_trainable_count(g->model);
        ft.lr = me->lr, ft.label = me->key;
        gpt_fit(&run, g, &ft, tx.task_tr, tx.task_va, seed + 10 + (uint64_t)k);
        o->task_val = run.val, o->ms_per_step = run.ms_per_step, o->steps = run.steps;
        o->curve = run.curve;
        snprintf(o->curve.name, sizeof o->curve.name, "%.15s", me->key);
        o->rest_val = gpt_span_loss(g, tx.rest_va);
        form_of_writing(g, v, tx.task_va, S, n_write, seed + 5, o);
        show_poem(me->key, g, v, first, 40, seed + 6, text_a, &na);
        if (me->how == QLORA)
            printf("  4-bit base: %.0f KiB instead of %.0f KiB; its 七言 loss before fine-tuning "
                   "%.3f (float base %.3f)\n", o->base_bytes / 1024, 4.0 * params / 1024,
                   o->q_task_val, base_o.task_val);
        if (k == R4) {
            /* the adapter alone, then merged: the same numbers from W alone */
            if (nn_out_path(adapter_path, sizeof adapter_path, out_dir, "ch06_lora_r4.nnck") &&
                nn_gpt_lora_save(g, adapter_path) == 0)
                adapter_file = file_bytes(adapter_path);
            else
                fprintf(stderr, "lora: could not save the adapter: %s\n", nn_last_error());
            int window = tx.task_va.n - 1 < T ? tx.task_va.n - 1 : T;
            bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
            nn_tensor *y = nn_gpt_forward(g, tx.task_va.ids, 1, window);   /* (1, T, V) */
            float *before = malloc(sizeof(float) * y->size);
            size_t n = y->size;
            memcpy(before, y->data, sizeof(float) * n);
            nn_graph_clear();
            printf("\n  rank 4 before and after merging (W += s A B), the same random numbers:\n");
            show_poem("unmerged", g, v, first, 40, seed + 6, text_a, &na);
            if (nn_gpt_lora_merge(g) != 0) return fprintf(stderr, "lora: %s\n", nn_last_error()), 1;
            y = nn_gpt_forward(g, tx.task_va.ids, 1, window);
            merge_diff = 0.0;
            for (size_t i = 0; i < n; i++)
                merge_diff = fmax(merge_diff, fabs(y->data[i] - before[i]));
            nn_graph_clear();
            nn_set_grad_enabled(grad), nn_set_training(training);
            show_poem("merged", g, v, first, 40, seed + 6, text_b, &nb);
            merge_same_text = na == nb && memcmp(text_a, text_b, sizeof(int) * (size_t)na) == 0;
            printf("  logits over a window of %d: max |unmerged - merged| = %.2g; text %s; the "
                   "merged model has %zu parameters again (the base's)\n\n", window, merge_diff,
                   merge_same_text ? "identical" : "DIFFERENT", g->model->count);
            free(before);
        }
        nn_gpt_free(g);
    }

    /* ---- the table ---- */
    printf("\n%-18s %9s %7s %8s %8s %8s %8s %8s\n", "method", "params", "share", "7-val",
           "old-val", "7-share", "ms/step", "lr");
    printf("%-18s %9s %7s %8.3f %8.3f %7.0f%% %8s %8s\n", "base (no tuning)", "0", "0",
           base_o.task_val, base_o.rest_val, 100 * base_o.share7, "-", "-");
    for (int k = 0; k < NM; k++)
        printf("%-18s %9zu %6.2f%% %8.3f %8.3f %7.0f%% %8.1f %8.0e\n", ms[k].name,
               out[k].trainable, 100.0 * out[k].trainable / params, out[k].task_val,
               out[k].rest_val, 100 * out[k].share7, out[k].ms_per_step, (double)ms[k].lr);
    printf("%-18s %9s %7s %8s %8s %7.0f%% %8s %8s\n", "real 七言 text", "", "", "", "",
           100 * real_share7, "", "");
    printf("(7-val: loss on held-out 七言, the task; old-val: on held-out poems of the base's "
           "kind; nats/char.\n 7-share: 7-character clauses among the complete clauses of %d "
           "samples of %d characters (T 0.8).\n LoRA: r (in + out) numbers per adapted matrix, q and v "
           "(or all six) in each of %d blocks, alpha %g;\n adapter: m = %d, 2 C m + m + C per "
           "block; QLoRA: int4 groups of %d)\n", S, n_write, L, (double)alpha, M, G);
    const outcome *f = &out[0], *r4 = &out[R4], *q4 = &out[Q4];
    printf("\nLoRA r=4 trains %.1f%% of the numbers and closes %.0f%% of the gap from the base "
           "to full fine-tuning\non 七言 (%.3f -> %.3f, full %.3f); on the base's own kind of poems "
           "(lower: less forgotten)\nit has %.3f, full fine-tuning %.3f, the base %.3f.\n"
           "On all six projections r=4 (%.1f%%): %.3f. QLoRA "
           "r=4 over the 4-bit base (%.0f KiB instead of %.0f): %.3f.\nThe adapter file is %ld "
           "bytes, the base's weights %zu bytes.\n", 100.0 * r4->trainable / params,
           100.0 * (base_o.task_val - r4->task_val) / (base_o.task_val - f->task_val),
           base_o.task_val, r4->task_val, f->task_val, r4->rest_val, f->rest_val,
           base_o.rest_val, 100.0 * out[ALL6].trainable / params, out[ALL6].task_val,
           q4->base_bytes / 1024, 4.0 * params / 1024, q4->task_val, adapter_file, 4 * params);

    nn_series ser[NM];
    for (int k = 0; k < NM; k++)
        ser[k] = (nn_series){ms[k].name, out[k].curve.step, out[k].curve.val, out[k].curve.n,
                             NN_PLOT_LINE};
    int failed = nn_plot_svg_in(out_dir, "ch06_lora.svg",
                                "Fine-tuning on 七言: validation loss", "fine-tuning step",
                                "nats per character", ser, NM) != 0;
    failed |= !(merge_diff >= 0 && merge_diff < 1e-3) || !merge_same_text;

    printf("result: V=%d params=%zu base_steps=%d steps=%d base_task_val=%.3f base_rest_val=%.3f "
           "base_share7=%.3f", v->size, params, base_run.steps, F, base_o.task_val,
           base_o.rest_val, base_o.share7);
    for (int k = 0; k < NM; k++)
        printf(" %s_params=%zu %s_task_val=%.3f %s_rest_val=%.3f %s_share7=%.3f %s_ms=%.1f",
               ms[k].key, out[k].trainable, ms[k].key, out[k].task_val, ms[k].key,
               out[k].rest_val, ms[k].key, out[k].share7, ms[k].key, out[k].ms_per_step);
    printf(" real_share7=%.3f qlora_base_bytes=%.0f adapter_file=%ld merge_max_diff=%.3g "
           "merge_same_text=%d\n",
           real_share7, q4->base_bytes, adapter_file, merge_diff, merge_same_text);
    nn_gpt_free(base);
    free(tx.task), free(tx.rest);
    poems_close(&po);
    nn_graph_release();
    return failed;
}
