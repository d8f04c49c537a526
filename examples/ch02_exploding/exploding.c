/* examples/ch02_exploding/exploding.c — 梯度爆炸 (exploding gradients) and gradient clipping.
 *
 * The chain rule multiplies one factor per layer. If every layer's weights are a bit too
 * large, each factor is above 1 and the product grows like (factor)^depth: the gradient is
 * huge, one SGD step throws the weights far away, the next gradient is larger still, and
 * within a few steps the loss is inf or NaN ("the adjustment of the parameters is out of
 * control").
 *
 * One network, 4 -> 8 hidden ReLU layers of 32 -> 1, initialised with weights --scale (1.4)
 * times larger than He's (so each layer multiplies the signal by about that much), trained
 * three ways with plain SGD at the same learning rate:
 *   no clipping          the gradient norm per step, until it blows up
 *   clip to norm 1       nn_clip_grad_norm(model, 1): same direction, length at most 1
 *   He init              the root cause fixed instead: weights of the right size
 *
 *   exploding [--quick] [--seed N] [--steps N] [--scale X] [--out DIR]     (--help lists them)
 *   --steps 400 (100 with --quick, at least 2), --scale 1.4, --seed 3. Writes
 *   DIR/ch02_exploding.svg (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define DEPTH 8
#define WIDTH 32
#define N_POINTS 256
#define LR 0.01f
#define MAX_NORM 1.0f

typedef struct run {
    const char *name;
    float init_scale;  /* times He's standard deviation */
    float clip;        /* max gradient norm (0: no clipping) */
    float *norm;       /* gradient norm per step (before clipping) */
    float *applied;    /* ... and after clipping: what the step used */
    float *loss;
    int diverged_at;   /* first step with a non-finite loss (-1: never) */
} run;

static nn_tensor *forward(nn_linear_layer **layers, nn_tensor *x) {
    for (int i = 0; i < DEPTH; i++) x = nn_relu(nn_linear_layer_forward(layers[i], x));
    return nn_linear_layer_forward(layers[DEPTH], x);
}

static void train(run *r, nn_tensor *x, nn_tensor *y, int steps, uint64_t seed) {
    nn_seed(seed);
    nn_model *m = nn_model_new();
    nn_linear_layer *layers[DEPTH + 1];
    int in = 4;
    for (int i = 0; i <= DEPTH; i++) {
        char name[16];
        snprintf(name, sizeof name, "fc%d", i + 1);
        int out = i < DEPTH ? WIDTH : 1;
        layers[i] = nn_linear_layer_new(m, name, in, out, NN_INIT_ZEROS);
        nn_fill_normal(layers[i]->W, 0.0f, r->init_scale * sqrtf(2.0f / (float)in), NULL);
        in = out;
    }
    nn_optim *opt = nn_sgd_new(m, LR, 0.0f, 0.0f);
    r->norm = calloc(steps, sizeof(float));
    r->applied = calloc(steps, sizeof(float));
    r->loss = calloc(steps, sizeof(float));
    r->diverged_at = -1;
    nn_progress bar;
    nn_progress_start(&bar, r->name, steps);
    for (int step = 0; step < steps; step++) {
        nn_tensor *loss = nn_mse_loss(forward(layers, x), y);
        r->loss[step] = nn_item(loss);
        if (!isfinite(r->loss[step])) {
            /* once the loss is inf/NaN nothing can be learned: mark the rest and stop */
            r->diverged_at = step;
            for (int s = step; s < steps; s++) r->loss[s] = r->norm[s] = r->applied[s] = NAN;
            nn_graph_clear();
            break;
        }
        nn_model_zero_grad(m);
        nn_backward(loss);
        /* nn_clip_grad_norm returns the norm BEFORE clipping and rescales the gradients */
        r->norm[step] = r->clip > 0.0f ? nn_clip_grad_norm(m, r->clip) : nn_model_grad_norm(m);
        r->applied[step] = nn_model_grad_norm(m);
        nn_optim_step(opt);
        nn_graph_clear();
        nn_progress_update(&bar, step + 1, "loss %.4g  |g| %.3g", r->loss[step], r->norm[step]);
    }
    nn_progress_finish(&bar);
    nn_optim_free(opt);
    nn_model_free(m);
}

/* The last finite value of a series, or NAN. */
static float last_finite(const float *v, int n) {
    for (int i = n - 1; i >= 0; i--)
        if (isfinite(v[i])) return v[i];
    return NAN;
}

static float max_finite(const float *v, int n) {
    float best = 0.0f;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] > best) best = v[i];
    return best;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 3;
    int steps = 400;
    float init_scale = 1.4f; /* the first two runs' weights, in units of He's std */
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer steps"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 2, 1000000, "SGD steps of each run (100 with --quick)"),
        NN_OPT_FLOAT("--scale", &init_scale, 0.1, 10, "initial weights of the first two runs, "
                                                      "times He's std"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for ch02_exploding.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Exploding gradients and gradient clipping: a deep ReLU network whose weights\n"
                     "are a bit too large, trained with plain SGD without clipping (it blows up),\n"
                     "with nn_clip_grad_norm to norm 1, and with He init instead.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 100;
    printf("chapter 2: exploding gradients (梯度爆炸) and gradient clipping\n");
    printf("seed %llu; network 4 -> %d x %d -> 1 (ReLU), MSE, plain SGD lr %g, %d steps\n",
           (unsigned long long)seed, DEPTH, WIDTH, LR, steps);

    /* data: y = sin(x1) + x2 * x3 - 0.5 x4, x ~ N(0, I) */
    nn_seed(seed);
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(N_POINTS, 4));
    nn_tensor *y = nn_zeros(NN_SHAPE(N_POINTS, 1));
    for (int i = 0; i < N_POINTS; i++) {
        const float *v = x->data + 4 * i;
        y->data[i] = sinf(v[0]) + v[1] * v[2] - 0.5f * v[3];
    }

    run runs[] = {
        {"no clipping", init_scale, 0.0f, NULL, NULL, NULL, -1},
        {"clip to 1", init_scale, MAX_NORM, NULL, NULL, NULL, -1},
        {"He init", 1.0f, 0.0f, NULL, NULL, NULL, -1},
    };
    enum { NR = sizeof runs / sizeof runs[0] };
    printf("weights of the first two runs: %.1f x He's std, so each layer multiplies the signal "
           "by ~%.1f (%.1f^%d = %.0f over the network)\n\n", init_scale, init_scale, init_scale,
           DEPTH + 1, powf(init_scale, DEPTH + 1));
    for (int k = 0; k < NR; k++) train(&runs[k], x, y, steps, seed + 1);

    printf("per step: gradient norm |g| (before clipping) and loss\n");
    printf("  %5s", "step");
    for (int k = 0; k < NR; k++) printf(" %12s %-11s", runs[k].name, "|g|  loss");
    printf("\n");
    int show[] = {0, 1, 2, 3, 4, 5, 10, 20, 50, 100, 200, 400};
    for (size_t j = 0; j < sizeof show / sizeof show[0]; j++) {
        int s = show[j] < steps ? show[j] : steps - 1;
        if (j > 0 && s <= show[j - 1]) break;
        printf("  %5d", s + 1);
        for (int k = 0; k < NR; k++) printf(" %12.3g %-11.4g", runs[k].norm[s], runs[k].loss[s]);
        printf("\n");
    }
    printf("\n");
    for (int k = 0; k < NR; k++) {
        printf("  %-12s largest |g| %10.3g, largest step |g| used %8.3g, ", runs[k].name,
               max_finite(runs[k].norm, steps), max_finite(runs[k].applied, steps));
        if (runs[k].diverged_at >= 0)
            printf("loss became inf/NaN at step %d\n", runs[k].diverged_at + 1);
        else
            printf("final loss %.4g\n", runs[k].loss[steps - 1]);
    }

    /* ---- pictures: log10 of the gradient norm per step ----------------------------------------- */
    float *lg[NR];
    nn_series s[NR];
    for (int k = 0; k < NR; k++) {
        lg[k] = malloc(steps * sizeof(float));
        for (int i = 0; i < steps; i++) lg[k][i] = log10f(runs[k].norm[i]); /* NaN is skipped */
        s[k] = (nn_series){runs[k].name, NULL, lg[k], steps, NN_PLOT_LINE};
    }
    printf("\n");
    int failed = nn_plot_svg_in(out_dir, "ch02_exploding.svg",
                                "Gradient norm per step (before clipping)", "step", "log10 |g|",
                                s, NR) != 0;
    printf("\nlog10 |g| per step\n");
    nn_plot_ascii(stdout, s, NR, 60, 12);

    printf("result: seed=%llu steps=%d noclip_max_norm=%.4g noclip_diverged_at=%d "
           "noclip_loss=%.4g clip_max_norm=%.4g clip_max_applied=%.4g clip_loss=%.4g "
           "he_max_norm=%.4g he_loss=%.4g\n",
           (unsigned long long)seed, steps, max_finite(runs[0].norm, steps),
           runs[0].diverged_at >= 0 ? runs[0].diverged_at + 1 : -1,
           last_finite(runs[0].loss, steps), max_finite(runs[1].norm, steps),
           max_finite(runs[1].applied, steps), runs[1].loss[steps - 1],
           max_finite(runs[2].norm, steps), runs[2].loss[steps - 1]);

    for (int k = 0; k < NR; k++) {
        free(lg[k]);
        free(runs[k].norm);
        free(runs[k].applied);
        free(runs[k].loss);
    }
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_graph_release();
    return failed ? 1 : 0;
}
