/* examples/ch02_diagnostics/diagnostics.c — is my training healthy? Five numbers to check.
 *
 * The same classifier (20 inputs -> 64 -> 64 -> 10 classes) set up three ways, each checked
 * with the library's diagnostics (nn/train/diagnostics.h) after its first step:
 *
 *   healthy     tanh, Xavier init, Adam lr 1e-3
 *   saturated   tanh, weights N(0, 1): the pre-activations are large, most tanh units sit at
 *               +-1 where the slope is ~0, and the first guesses are confidently wrong
 *   dead ReLU   ReLU, He init, but SGD with lr 5: the first steps throw many units into
 *               the negative region, where they output 0 for every sample and get no
 *               gradient ever again
 *
 * What is checked, and what healthy looks like:
 *   1. start loss vs ln(C): with C classes and no knowledge, cross-entropy starts near ln C
 *   2. activations: mean and std per layer; saturated fraction (|tanh| > 0.99); dead ReLUs
 *      (units that are 0 for the whole batch)
 *   3. gradient norm per parameter: neither ~0 nor huge
 *   4. update-to-weight ratio |w_after - w_before| / |w_before|: around 1e-3
 *
 *   diagnostics [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 150 (60 with --quick, at least 2), --seed 11. Writes DIR/ch02_diagnostics.svg
 *   (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define N_IN 20
#define HIDDEN 64
#define CLASSES 10
#define N_POINTS 500

typedef struct config {
    const char *name;
    bool relu;          /* else tanh */
    float init_std;     /* > 0: weights N(0, init_std); 0: Xavier (tanh) / He (relu) */
    bool adam;
    float lr;
} config;

static const config configs[] = {
    {"healthy", false, 0.0f, true, 1e-3f},
    {"saturated", false, 1.0f, true, 1e-3f},
    {"dead ReLU", true, 0.0f, false, 5.0f},
};
enum { NC = sizeof configs / sizeof configs[0] };

typedef struct net {
    nn_model *m;
    nn_linear_layer *l1, *l2, *l3;
    bool relu;
    nn_tensor *h1, *h2;  /* the last forward's activations, for the diagnostics */
} net;

static nn_tensor *forward(net *n, nn_tensor *x) {
    n->h1 = nn_linear_layer_forward(n->l1, x);
    n->h1 = n->relu ? nn_relu(n->h1) : nn_tanh(n->h1);
    n->h2 = nn_linear_layer_forward(n->l2, n->h1);
    n->h2 = n->relu ? nn_relu(n->h2) : nn_tanh(n->h2);
    return nn_linear_layer_forward(n->l3, n->h2);
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 11;
    int steps = 150;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer steps"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 2, 1000000, "full-batch steps of each setup (60 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for ch02_diagnostics.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Is my training healthy? One classifier set up three ways (healthy, saturated\n"
                     "tanh, dead ReLU), each checked with the library's diagnostics: start loss\n"
                     "against ln C, activations, gradient norms and update-to-weight ratios.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 60;
    printf("chapter 2: training health diagnostics\n");
    printf("seed %llu; %d points of %d Gaussian clusters in %d-D; MLP %d -> %d -> %d -> %d; "
           "%d full-batch steps\n", (unsigned long long)seed, N_POINTS, CLASSES, N_IN, N_IN,
           HIDDEN, HIDDEN, CLASSES, steps);

    /* data: class c has centre mu_c ~ N(0, 0.5^2 I); a sample is mu_c + N(0, I) */
    nn_seed(seed);
    nn_tensor *centres = nn_rand_normal(0.0f, 0.5f, NN_SHAPE(CLASSES, N_IN));
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(N_POINTS, N_IN));
    int labels[N_POINTS];
    for (int i = 0; i < N_POINTS; i++) {
        labels[i] = i % CLASSES;
        for (int j = 0; j < N_IN; j++) x->data[i * N_IN + j] += centres->data[labels[i] * N_IN + j];
    }

    float start_loss[NC], end_loss[NC], sat1[NC], dead1[NC], ratio[NC];
    int warnings[NC];
    float *curves[NC];
    for (int k = 0; k < NC; k++) {
        const config *c = &configs[k];
        nn_seed(seed + 1);
        net n = {nn_model_new(), NULL, NULL, NULL, c->relu, NULL, NULL};
        nn_init init = c->relu ? NN_INIT_HE : NN_INIT_XAVIER;
        n.l1 = nn_linear_layer_new(n.m, "fc1", N_IN, HIDDEN, init);
        n.l2 = nn_linear_layer_new(n.m, "fc2", HIDDEN, HIDDEN, init);
        n.l3 = nn_linear_layer_new(n.m, "out", HIDDEN, CLASSES, init);
        if (c->init_std > 0.0f)
            for (int p = 0; p < n.m->nparams; p++)
                if (n.m->decay[p]) nn_fill_normal(n.m->params[p], 0.0f, c->init_std, NULL);
        nn_optim *opt = c->adam ? nn_adam_new(n.m, c->lr, 0.0f) : nn_sgd_new(n.m, c->lr, 0.0f, 0.0f);
        curves[k] = calloc(steps, sizeof(float));

        printf("\n== %s: %s, %s, %s lr %g ==\n", c->name, c->relu ? "ReLU" : "tanh",
               c->init_std > 0.0f ? "weights N(0, 1)" : (c->relu ? "He init" : "Xavier init"),
               c->adam ? "Adam" : "SGD", c->lr);
        for (int step = 0; step < steps; step++) {
            nn_tensor *loss = nn_cross_entropy_loss(forward(&n, x), labels);
            curves[k][step] = nn_item(loss);
            nn_model_zero_grad(n.m);
            nn_backward(loss);
            float *before = nn_model_snapshot(n.m); /* to measure this step's size */
            nn_optim_step(opt);
            if (step == 0) {
                nn_check_start_loss(stdout, curves[k][0], CLASSES);
                start_loss[k] = curves[k][0];
            }
            /* the report after the first step and after the last (by then a dead ReLU
             * network has had time to die) */
            if (step == 0 || step == steps - 1) {
                printf("-- after step %d (loss %.4f)\n", step + 1, curves[k][step]);
                nn_probe probes[] = {{"h1", n.h1, c->relu ? NN_ACT_RELU : NN_ACT_TANH},
                                     {"h2", n.h2, c->relu ? NN_ACT_RELU : NN_ACT_TANH}};
                int w = nn_diagnose(stdout, n.m, probes, 2, before);
                if (step == 0) {
                    nn_act_stats s1 = nn_activation_stats(n.h1, probes[0].kind);
                    sat1[k] = s1.saturated;
                    ratio[k] = nn_model_update_ratio(n.m, before, -1);
                } else {
                    nn_act_stats s1 = nn_activation_stats(n.h1, probes[0].kind);
                    nn_act_stats s2 = nn_activation_stats(n.h2, probes[1].kind);
                    dead1[k] = s1.dead > s2.dead ? s1.dead : s2.dead;
                    warnings[k] = w;
                }
            }
            free(before);
            nn_graph_clear();
        }
        end_loss[k] = curves[k][steps - 1];
        nn_optim_free(opt);
        nn_model_free(n.m);
    }

    printf("\nsummary (expected start loss ln(%d) = %.4f)\n", CLASSES,
           nn_expected_start_loss(CLASSES));
    printf("  %-10s %10s %10s %12s %12s %10s %9s\n", "setup", "start", "final", "saturated@1",
           "update@1", "dead@end", "warnings");
    for (int k = 0; k < NC; k++)
        printf("  %-10s %10.4f %10.4f %11.1f%% %12.2e %9.1f%% %9d\n", configs[k].name,
               start_loss[k], end_loss[k], 100.0f * sat1[k], ratio[k], 100.0f * dead1[k],
               warnings[k]);

    nn_series s[NC];
    for (int k = 0; k < NC; k++)
        s[k] = (nn_series){configs[k].name, NULL, curves[k], steps, NN_PLOT_LINE};
    printf("\n");
    int failed = nn_plot_svg_in(out_dir, "ch02_diagnostics.svg",
                                "Training loss: healthy vs saturated vs dead ReLU", "step",
                                "cross-entropy", s, NC) != 0;
    printf("\ncross-entropy per step\n");
    nn_plot_ascii(stdout, s, NC, 60, 12);

    printf("result: seed=%llu steps=%d expected_start=%.4f healthy_start=%.4f healthy_loss=%.4f "
           "healthy_saturated=%.3f healthy_update=%.2e saturated_start=%.4f saturated_loss=%.4f "
           "saturated_saturated=%.3f dead_relu_dead=%.3f dead_relu_loss=%.4f healthy_dead=%.3f\n",
           (unsigned long long)seed, steps, nn_expected_start_loss(CLASSES), start_loss[0],
           end_loss[0], sat1[0], ratio[0], start_loss[1], end_loss[1], sat1[1], dead1[2],
           end_loss[2], dead1[0]);

    for (int k = 0; k < NC; k++) free(curves[k]);
    nn_tensor_free(centres);
    nn_tensor_free(x);
    nn_graph_release();
    return failed ? 1 : 0;
}
