/* examples/ch02_overfitting/overfit.c — 过拟合 (overfitting) and its remedies, measured.
 *
 * 24 noisy samples of a smooth curve, y = sin(pi x) + noise, and a network far bigger than
 * the curve needs (1 -> 32 -> 32 -> 1, tanh: 1153 parameters for 24 points), trained long
 * with Adam: it threads through every noisy point (train loss near 0) and wiggles in
 * between (validation loss high). Then each remedy of the tutorial, one at a time, against
 * the same baseline (same data, same initial weights, same number of steps):
 *
 *   smaller        减少模型复杂度   1 -> 8 -> 1 (25 parameters)
 *   augment        数据增强         4 copies of the training set, x jittered afresh each step
 *   early_stop     提前终止         stop when validation stops improving; keep the best
 *   l1 / l2        正则化           loss + 0.001 * sum|w|   or   loss + 0.001 * sum w^2
 *   weight_decay   权重衰减         AdamW: w -= lr * 1.0 * w at every step
 *   dropout        丢弃             drop 20% of the hidden units while training
 *
 * Validation: 200 points of the clean curve (the truth the noisy points hide), so the
 * validation loss says how far the learned curve is from the real one.
 *
 *   overfit [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 3000 (1500 with --quick, at least 20), --seed 7. Writes
 *   DIR/ch02_overfit_curves.svg and DIR/ch02_overfit_fit.svg (DIR: out by default); exit
 *   status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define N_TRAIN 24
#define N_VAL 200
#define NOISE 0.3f      /* std of the noise on the training targets */
#define LR 0.02f        /* Adam's learning rate, the same for every run */
#define EVAL_EVERY 20   /* steps between two validation checks */
#define AUG_COPIES 4    /* augmentation: jittered copies of the training set per step */

typedef struct remedy {
    const char *name;     /* for the table and the result line */
    int width, layers;    /* hidden units per layer, hidden layers */
    float jitter;         /* augmentation: std of the noise added to x (0: off) */
    int patience;         /* early stopping: checks without improvement (0: off) */
    float l1, l2;         /* penalty weights (0: off) */
    float weight_decay;   /* AdamW's decoupled decay (0: plain Adam) */
    float dropout;        /* drop probability after each hidden layer (0: off) */
} remedy;

static const remedy remedies[] = {
    /* name          width layers jitter patience  l1     l2   wd    dropout */
    {"baseline",     32,   2,     0,     0,        0,     0,    0,   0},
    {"smaller",      8,    1,     0,     0,        0,     0,    0,   0},
    {"augment",      32,   2,     0.05f, 0,        0,     0,    0,   0},
    {"early_stop",   32,   2,     0,     25,       0,     0,    0,   0},
    {"l1",           32,   2,     0,     0,        1e-3f, 0,    0,   0},
    {"l2",           32,   2,     0,     0,        0,     1e-3f, 0,  0},
    {"weight_decay", 32,   2,     0,     0,        0,     0,    1.0f, 0},
    {"dropout",      32,   2,     0,     0,        0,     0,    0,   0.2f},
};
enum { N_REMEDIES = sizeof remedies / sizeof remedies[0] };

typedef struct outcome {
    float train, val, wnorm;  /* final MSE on train and validation (eval mode), |w| */
    int steps;                /* steps taken (early stopping may stop sooner) */
    int best_step;            /* early stopping: the step whose weights were kept */
    int npoints;              /* points on the curves below */
    float *curve_step, *curve_train, *curve_val;
    float pred[N_VAL];        /* the final model on the validation inputs */
} outcome;

/* ---- the model: an MLP with tanh, optional dropout after each hidden layer ------------- */

typedef struct mlp {
    nn_model *m;
    nn_linear_layer *layer[3];
    int n;                    /* linear layers */
} mlp;

static mlp mlp_new(int width, int hidden_layers) {
    mlp net = {nn_model_new(), {0}, hidden_layers + 1};
    int in = 1;
    for (int i = 0; i < hidden_layers; i++) {
        net.layer[i] = nn_linear_layer_new(net.m, i == 0 ? "fc1" : "fc2", in, width, NN_INIT_XAVIER);
        in = width;
    }
    net.layer[hidden_layers] = nn_linear_layer_new(net.m, "out", in, 1, NN_INIT_XAVIER);
    return net;
}

static nn_tensor *mlp_forward(const mlp *net, nn_tensor *x, float dropout) {
    for (int i = 0; i < net->n - 1; i++) {
        x = nn_tanh(nn_linear_layer_forward(net->layer[i], x));
        if (dropout > 0.0f) x = nn_dropout(x, dropout); /* identity in eval mode */
    }
    return nn_linear_layer_forward(net->layer[net->n - 1], x);
}

/* MSE on (x, y) in eval mode (no dropout), without a tape; optionally keeps the outputs. */
static float evaluate(const mlp *net, nn_tensor *x, nn_tensor *y, float *pred) {
    bool grad = nn_set_grad_enabled(false), training = nn_set_training(false);
    nn_tensor *out = mlp_forward(net, x, 0.0f);
    float loss = nn_item(nn_mse_loss(out, y));
    if (pred)
        for (size_t i = 0; i < out->size; i++) pred[i] = out->data[i];
    nn_set_grad_enabled(grad);
    nn_set_training(training);
    nn_graph_clear();
    return loss;
}

/* ---- one training run with one remedy ------------------------------------------------------- */

static void train(const remedy *r, nn_tensor *xt, nn_tensor *yt, nn_tensor *xv, nn_tensor *yv,
                  int steps, uint64_t seed, outcome *o) {
    nn_seed(seed); /* every run starts from the same random numbers: same initial weights */
    mlp net = mlp_new(r->width, r->layers);
    nn_optim *opt = r->weight_decay > 0.0f ? nn_adamw_new(net.m, LR, r->weight_decay)
                                           : nn_adam_new(net.m, LR, 0.0f);
    nn_early_stop *es = r->patience > 0 ? nn_early_stop_new(net.m, r->patience, 0.0f) : NULL;

    /* Augmentation: AUG_COPIES copies of the training set; each step jitters their x. */
    nn_tensor *xrep = nn_zeros(NN_SHAPE(AUG_COPIES * N_TRAIN, 1));
    nn_tensor *yrep = nn_zeros(NN_SHAPE(AUG_COPIES * N_TRAIN, 1));
    for (int i = 0; i < AUG_COPIES * N_TRAIN; i++) {
        xrep->data[i] = xt->data[i % N_TRAIN];
        yrep->data[i] = yt->data[i % N_TRAIN];
    }

    int cap = steps / EVAL_EVERY + 1;
    o->npoints = 0;
    o->curve_step = calloc(cap, sizeof(float));
    o->curve_train = calloc(cap, sizeof(float));
    o->curve_val = calloc(cap, sizeof(float));

    nn_progress bar;
    nn_progress_start(&bar, r->name, steps);
    int step = 0;
    while (step < steps) {
        nn_tensor *x = xt, *y = yt;
        if (r->jitter > 0.0f) {
            x = nn_aug_jitter(xrep, r->jitter, 0.0f, NULL);
            y = yrep;
        }
        nn_tensor *loss = nn_mse_loss(mlp_forward(&net, x, r->dropout), y);
        float data_loss = nn_item(loss);
        if (r->l1 > 0.0f) loss = nn_add(loss, nn_mul_scalar(nn_l1_penalty(net.m), r->l1));
        if (r->l2 > 0.0f) loss = nn_add(loss, nn_mul_scalar(nn_l2_penalty(net.m), r->l2));
        nn_model_zero_grad(net.m);
        nn_backward(loss);
        nn_optim_step(opt);
        nn_graph_clear();
        step++;
        nn_progress_update(&bar, step, "loss %.4f", data_loss);

        if (step % EVAL_EVERY == 0) {
            float tl = evaluate(&net, xt, yt, NULL), vl = evaluate(&net, xv, yv, NULL);
            o->curve_step[o->npoints] = (float)step;
            o->curve_train[o->npoints] = tl;
            o->curve_val[o->npoints] = vl;
            o->npoints++;
            if (es && nn_early_stop_check(es, vl)) break; /* patience ran out */
        }
    }
    nn_progress_finish(&bar);
    if (es) {
        nn_early_stop_restore(es); /* the best weights seen, not the last ones */
        o->best_step = (es->best_check + 1) * EVAL_EVERY;
    }
    o->steps = step;
    o->train = evaluate(&net, xt, yt, NULL);
    o->val = evaluate(&net, xv, yv, o->pred);
    o->wnorm = nn_model_weight_norm(net.m);

    nn_tensor_free(xrep);
    nn_tensor_free(yrep);
    nn_early_stop_free(es);
    nn_optim_free(opt);
    nn_model_free(net.m);
}

static float truth(float x) { return sinf(3.14159265f * x); }

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 7;
    int steps = 3000;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer steps"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, EVAL_EVERY, 1000000,
                   "Adam steps of each run (1500 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the two SVG pictures (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Overfitting and its remedies, measured: a network far too big for 24 noisy\n"
                     "points, then each remedy (a smaller model, augmentation, early stopping, L1,\n"
                     "L2, weight decay, dropout) against the same baseline.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 1500;
    printf("chapter 2: overfitting (过拟合) and its remedies\n");
    printf("seed %llu, %d steps of Adam (lr %g), full batch\n", (unsigned long long)seed, steps,
           LR);

    /* ---- data: noisy training points (one per 1/24 of the range), clean validation ---------- */
    nn_seed(seed);
    nn_rng *rng = nn_global_rng();
    float xs[N_TRAIN], ys[N_TRAIN], xvs[N_VAL], yvs[N_VAL];
    for (int i = 0; i < N_TRAIN; i++) {
        xs[i] = -1.0f + 2.0f * ((float)i + nn_rng_uniform(rng)) / N_TRAIN;
        ys[i] = truth(xs[i]) + NOISE * nn_rng_normal(rng);
    }
    for (int i = 0; i < N_VAL; i++) {
        xvs[i] = -1.0f + 2.0f * (float)i / (N_VAL - 1);
        yvs[i] = truth(xvs[i]);
    }
    nn_tensor *xt = nn_from_array(xs, NN_SHAPE(N_TRAIN, 1));
    nn_tensor *yt = nn_from_array(ys, NN_SHAPE(N_TRAIN, 1));
    nn_tensor *xv = nn_from_array(xvs, NN_SHAPE(N_VAL, 1));
    nn_tensor *yv = nn_from_array(yvs, NN_SHAPE(N_VAL, 1));
    printf("data: %d training points y = sin(pi x) + N(0, %.1f^2) on [-1, 1]; %d validation "
           "points of the clean curve\n", N_TRAIN, NOISE, N_VAL);
    printf("      a model that found the true curve: train loss ~%.2f (the noise), val loss 0\n\n",
           NOISE * NOISE);

    static outcome res[N_REMEDIES];
    for (int k = 0; k < N_REMEDIES; k++) train(&remedies[k], xt, yt, xv, yv, steps, seed, &res[k]);

    /* ---- the baseline while it trains: train loss falls, validation loss turns back up ------ */
    outcome *b = &res[0];
    printf("baseline 1 -> 32 -> 32 -> 1 (tanh), loss while training:\n");
    printf("  %6s %10s %10s %10s\n", "step", "train", "val", "gap");
    int every = b->npoints / 10 > 0 ? b->npoints / 10 : 1;
    for (int i = every - 1; i < b->npoints; i += every)
        printf("  %6.0f %10.4f %10.4f %10.4f\n", b->curve_step[i], b->curve_train[i],
               b->curve_val[i], b->curve_val[i] - b->curve_train[i]);
    printf("\n");

    /* ---- the summary table ---------------------------------------------------------------------- */
    printf("summary (MSE; gap = val - train; |w| = norm of the weights)\n");
    printf("  %-13s %6s %9s %9s %9s %8s\n", "remedy", "steps", "train", "val", "gap", "|w|");
    for (int k = 0; k < N_REMEDIES; k++)
        printf("  %-13s %6d %9.4f %9.4f %9.4f %8.2f\n", remedies[k].name, res[k].steps,
               res[k].train, res[k].val, res[k].val - res[k].train, res[k].wnorm);
    printf("early_stop: best validation loss at step %d; %d checks without improvement later "
           "it stopped at step %d and restored the weights of step %d\n\n", res[3].best_step,
           remedies[3].patience, res[3].steps, res[3].best_step);

    /* ---- pictures ------------------------------------------------------------------------------- */
    const outcome *l2 = &res[5], *dropout = &res[7], *early = &res[3];
    nn_series curves[] = {
        {"baseline train", b->curve_step, b->curve_train, b->npoints, NN_PLOT_LINE},
        {"baseline val", b->curve_step, b->curve_val, b->npoints, NN_PLOT_LINE},
        {"L2 val", l2->curve_step, l2->curve_val, l2->npoints, NN_PLOT_LINE},
        {"dropout val", dropout->curve_step, dropout->curve_val, dropout->npoints, NN_PLOT_LINE},
        {"early stop val", early->curve_step, early->curve_val, early->npoints, NN_PLOT_LINE},
    };
    nn_series fit[] = {
        {"training points", xs, ys, N_TRAIN, NN_PLOT_POINTS},
        {"true curve", xvs, yvs, N_VAL, NN_PLOT_LINE},
        {"baseline", xvs, b->pred, N_VAL, NN_PLOT_LINE},
        {"L2", xvs, l2->pred, N_VAL, NN_PLOT_LINE},
    };
    int failed = 0; /* pictures that could not be written (each says why) */
    failed += nn_plot_svg_in(out_dir, "ch02_overfit_curves.svg",
                             "Overfitting: train vs validation loss", "step", "MSE", curves, 5) != 0;
    failed += nn_plot_svg_in(out_dir, "ch02_overfit_fit.svg",
                             "24 noisy points: the big model vs the same model with L2", "x", "y",
                             fit, 4) != 0;
    printf("\nbaseline: train (*) and validation (o) loss per step\n");
    nn_plot_ascii(stdout, curves, 2, 60, 12);

    printf("result: seed=%llu steps=%d", (unsigned long long)seed, steps);
    for (int k = 0; k < N_REMEDIES; k++)
        printf(" %s_train=%.4f %s_val=%.4f %s_gap=%.4f", remedies[k].name, res[k].train,
               remedies[k].name, res[k].val, remedies[k].name, res[k].val - res[k].train);
    printf(" baseline_wnorm=%.3f l2_wnorm=%.3f weight_decay_wnorm=%.3f early_stop_steps=%d\n",
           res[0].wnorm, res[5].wnorm, res[6].wnorm, res[3].steps);

    for (int k = 0; k < N_REMEDIES; k++) {
        free(res[k].curve_step);
        free(res[k].curve_train);
        free(res[k].curve_val);
    }
    nn_tensor_free(xt);
    nn_tensor_free(yt);
    nn_tensor_free(xv);
    nn_tensor_free(yv);
    nn_graph_release();
    return failed ? 1 : 0;
}
