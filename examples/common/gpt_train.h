/* examples/common/gpt_train.h — training and scoring a GPT on a text of token ids, shared by
 * chapter 5's tiny_gpt and chapter 6's demos, so that every program trains and measures the
 * same way:
 *   gpt_train       random windows (nn_text_random_batch), AdamW, clipping, a validation
 *                   check every few steps, the best weights kept (early stopping)
 *   gpt_fit         the same loop on a GPT you already have (fine-tuning)
 *   gpt_copy        a second GPT with the same weights (a frozen reference, a base to tune)
 *   gpt_span_loss   mean loss over a span, windows overlapping by half
 *   gpt_write_text  text after a prompt;  gpt_write_poem  one poem of it
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_GPT_TRAIN_H
#define EXAMPLES_COMMON_GPT_TRAIN_H

#include "poems.h"

#define GPT_FN static __attribute__((unused))

#define GPT_LR 1e-3f          /* AdamW, unless gpt_settings.lr says otherwise */
#define GPT_WEIGHT_DECAY 0.1f
#define GPT_CLIP 1.0f

typedef struct gpt_settings {
    nn_gpt_config cfg;
    int B, steps, eval_every, patience;
    float lr;             /* 0: GPT_LR */
    const char *label;    /* for the progress bar; NULL: "gpt" */
    int train_score_max;  /* the final training loss over the first N tokens of the training
                             text; 0: all of it (a large text costs a long pass) */
} gpt_settings;

/* Mean loss over a span, in eval mode without the tape. Windows of T characters overlap by
 * half: a window starting at s scores only its second half (the first window all of it), so
 * every character is predicted once, from at least T/2 characters before it, never from
 * nothing. (Non-overlapping windows would score the first character of each window from no
 * context at all, which no RNN reading the text as a stream suffers from.) */
GPT_FN double gpt_span_loss(nn_gpt *g, nn_token_span span) {
    enum { GROUP = 16 };   /* windows per forward pass: one (GROUP, T) batch instead of GROUP */
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    int T = g->cfg.context, V = g->cfg.vocab, half = T / 2 > 0 ? T / 2 : 1;
    int *batch = malloc(sizeof(int) * (size_t)GROUP * T);
    int starts[GROUP], firsts[GROUP], lens[GROUP], nb = 0;
    double total = 0.0;
    long count = 0;
    for (int s = 0, scored = 0; scored < span.n - 1; s += half) {
        int t = span.n - 1 - s < T ? span.n - 1 - s : T;              /* window [s, s + t) */
        starts[nb] = s, firsts[nb] = scored - s, lens[nb] = t;       /* score t from scored - s */
        memcpy(batch + (size_t)nb * T, span.ids + s, sizeof(int) * (size_t)t);
        nb++;
        scored = s + t;
        /* a batch is full, the next window would be shorter, or this was the last one */
        bool last = scored >= span.n - 1, shorter = span.n - 1 - (s + half) < T;
        if (nb < GROUP && !last && !shorter) continue;
        int bt = lens[0];   /* the windows of one batch have the same length */
        for (int b = 1; b < nb; b++) bt = lens[b] < bt ? lens[b] : bt;
        for (int b = 0; b < nb; b++)
            if (lens[b] != bt) bt = -1;
        int rows = bt > 0 ? nb : 1;                                  /* else one at a time */
        for (int b0 = 0; b0 < nb; b0 += rows) {
            int t0 = bt > 0 ? bt : lens[b0];
            if (bt <= 0) memmove(batch, batch + (size_t)b0 * T, sizeof(int) * (size_t)t0);
            for (int b = 1; bt > 0 && b < rows; b++)   /* pack rows of length t0 back to back */
                memmove(batch + (size_t)b * t0, batch + (size_t)b * T, sizeof(int) * (size_t)t0);
            nn_tensor *lp = nn_log_softmax(nn_gpt_forward(g, batch, rows, t0));  /* (rows, t0, V) */
            for (int b = 0; b < rows; b++) {
                int w = b0 + b;
                for (int i = firsts[w]; i < t0; i++)                 /* the positions not yet scored */
                    total -= lp->data[((size_t)b * t0 + i) * V + span.ids[starts[w] + i + 1]];
                count += t0 - firsts[w];
            }
            nn_graph_clear();
        }
        nb = 0;
    }
    free(batch);
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    return total / (double)count;
}

typedef struct gpt_run {
    nn_gpt *gpt;
    float start_loss;
    double train, val, ms_per_step;
    int steps, best_step;
    poems_curve curve;
} gpt_run;

/* Train `g` (a new model or one trained before: fine-tuning) on tr for st->steps steps of
 * st->B random windows of its context (st->cfg is not read), checking va every
 * st->eval_every steps and keeping the best weights; r->gpt = g. Only the parameters that
 * are not frozen change (nn_model_freeze). 0. */
GPT_FN int gpt_fit(gpt_run *r, nn_gpt *g, const gpt_settings *st, nn_token_span tr,
                   nn_token_span va, uint64_t seed) {
    memset(r, 0, sizeof *r);
    r->gpt = g;
    nn_model *m = r->gpt->model;
    nn_optim *opt = nn_adamw_new(m, st->lr > 0 ? st->lr : GPT_LR, GPT_WEIGHT_DECAY);
    nn_early_stop *es = nn_early_stop_new(m, st->patience, 1e-3f);
    int B = st->B, T = g->cfg.context;
    int *x = malloc(sizeof(int) * (size_t)B * T), *y = malloc(sizeof(int) * (size_t)B * T);
    nn_rng rng;
    nn_rng_seed(&rng, seed + 1);
    double seconds = 0.0, run_sum = 0.0;
    int run_n = 0, step = 0;
    poems_curve *c = &r->curve;
    snprintf(c->name, sizeof c->name, "%.15s", st->label ? st->label : "gpt");
    c->params = m->count;
    nn_progress bar;
    fflush(stdout);
    nn_progress_start(&bar, st->label ? st->label : "gpt", st->steps);
    while (step < st->steps) {
        nn_text_random_batch(tr.ids, tr.n, B, T, &rng, x, y);
        double t0 = nn_seconds();
        nn_tensor *loss = nn_cross_entropy_loss(nn_gpt_forward(r->gpt, x, B, T), y);
        float l = nn_item(loss);
        nn_model_zero_grad(m);
        nn_backward(loss);
        nn_clip_grad_norm(m, GPT_CLIP);
        nn_optim_step(opt);
        nn_graph_clear();
        seconds += nn_seconds() - t0;
        if (step == 0) r->start_loss = l;
        step++;
        run_sum += l, run_n++;
        nn_progress_update(&bar, step, "loss %.3f", l);
        if (step % st->eval_every == 0 || step == st->steps) {
            float v = (float)gpt_span_loss(r->gpt, va);
            if (c->n < POEMS_MAX_POINTS) {
                c->step[c->n] = (float)step;
                c->train[c->n] = (float)(run_sum / run_n);
                c->val[c->n++] = v;
            }
            run_sum = 0.0, run_n = 0;
            if (nn_early_stop_check(es, v)) break;
        }
    }
    nn_progress_finish(&bar);
    nn_early_stop_restore(es);
    r->steps = step;
    r->best_step = es->best_check >= 0 ? (int)c->step[es->best_check] : step;
    r->ms_per_step = 1000.0 * seconds / (step > 0 ? step : 1);
    if (st->train_score_max > 0 && tr.n > st->train_score_max) tr.n = st->train_score_max;
    r->train = gpt_span_loss(r->gpt, tr);
    r->val = gpt_span_loss(r->gpt, va);
    free(x), free(y);
    nn_early_stop_free(es);
    nn_optim_free(opt);
    return 0;
}

/* A new GPT of st->cfg (initialised from `seed`), trained by gpt_fit. 0, or -1 when the
 * configuration is refused (nn_last_error() says why). */
GPT_FN int gpt_train(gpt_run *r, const gpt_settings *st, nn_token_span tr, nn_token_span va,
                     uint64_t seed) {
    memset(r, 0, sizeof *r);
    nn_seed(seed);
    nn_gpt *g = nn_gpt_new(&st->cfg);
    if (!g) return -1;
    return gpt_fit(r, g, st, tr, va, seed);
}

/* A copy of g: the same config and the same weights (the parameters are one block), no
 * adapters. NULL when the config is refused. */
GPT_FN nn_gpt *gpt_copy(const nn_gpt *g) {
    nn_gpt *c = nn_gpt_new(&g->cfg);
    if (c) memcpy(c->model->data, g->model->data, sizeof(float) * g->model->count);
    return c;
}

/* ---- writing text ---------------------------------------------------------------------------- */

/* `len` characters after the prompt, poem after poem. The model reads a newline first (poems
 * start after one), then the prompt. <unk> stays possible but rare. */
GPT_FN int gpt_write_text(nn_gpt *g, const int *prompt, int np, int nl, int len,
                          nn_sampling how, nn_rng *rng, int *out) {
    int *ctx = malloc(sizeof(int) * (size_t)(np + 1)), n = 0;
    if (nl >= 0) ctx[n++] = nl;
    memcpy(ctx + n, prompt, sizeof(int) * (size_t)np);
    n += np;
    int made = nn_gpt_generate(g, ctx, n, len, how, rng, -1, out);
    free(ctx);
    return made;
}

/* One poem: gpt_write_text cut after `lines` line ends or where the poem ends (an empty
 * line: poems are separated by one). */
GPT_FN int gpt_write_poem(nn_gpt *g, const int *prompt, int np, int nl, int len, int lines,
                          nn_sampling how, nn_rng *rng, int *out) {
    int made = gpt_write_text(g, prompt, np, nl, len, how, rng, out), seen = 0;
    for (int i = 0; i < made; i++) {
        if (out[i] != nl) continue;
        if (i > 0 && out[i - 1] == nl) return i;   /* an empty line: the poem is over */
        if (++seen == lines) return i + 1;
    }
    return made;
}

#endif
