/* examples/ch02_vanishing/vanishing.c — 梯度消失 (vanishing gradients), measured layer by layer.
 *
 * Backpropagation multiplies one factor per layer on the way back (the chain rule). For a
 * sigmoid layer the factor holds sigmoid'(z) = s (1 - s) <= 0.25, so after ten layers the
 * gradient reaching the first layer is a tiny fraction of the one at the last: the early
 * layers barely learn. The same deep network with ReLU (derivative 1 where active) and He
 * initialisation (weights scaled so each layer keeps the signal's size) passes gradients back
 * at the same order of magnitude through every layer.
 *
 * Three versions of one network, 2 -> 10 hidden layers of 32 -> 1, on one task (is a point
 * inside the circle of radius 1.18? about half the points are):
 *   sigmoid + Xavier       a good init, but sigmoid' <= 0.25 shrinks the gradient every layer
 *   tanh + Xavier          tanh' <= 1 (and = 1 at 0): much better
 *   relu + He              the usual fix: relu' = 1 where active, He keeps the signal's size
 * For each: the gradient norm |dL/dW| of every layer at the start, then the loss after
 * training each the same way (SGD with momentum).
 *
 *   vanishing [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 400 (100 with --quick), --seed 1. Writes DIR/ch02_vanishing_grads.svg and
 *   DIR/ch02_vanishing_loss.svg (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define DEPTH 10   /* hidden layers */
#define WIDTH 32
#define N_POINTS 256

typedef enum { ACT_SIGMOID, ACT_TANH, ACT_RELU } act;

typedef struct setup {
    const char *name;
    act activation;
    nn_init init;
} setup;

static const setup setups[] = {
    {"sigmoid+Xavier", ACT_SIGMOID, NN_INIT_XAVIER},
    {"tanh+Xavier", ACT_TANH, NN_INIT_XAVIER},
    {"relu+He", ACT_RELU, NN_INIT_HE},
};
enum { N_SETUPS = sizeof setups / sizeof setups[0] };

typedef struct net {
    nn_model *m;
    nn_linear_layer *layer[DEPTH + 1];
    act activation;
} net;

static net net_new(const setup *s) {
    net n = {nn_model_new(), {0}, s->activation};
    int in = 2;
    for (int i = 0; i <= DEPTH; i++) {
        char name[16];
        snprintf(name, sizeof name, i < DEPTH ? "h%d" : "out", i + 1);
        int out = i < DEPTH ? WIDTH : 1;
        n.layer[i] = nn_linear_layer_new(n.m, name, in, out, s->init);
        in = out;
    }
    return n;
}

static nn_tensor *net_forward(const net *n, nn_tensor *x) {
    for (int i = 0; i < DEPTH; i++) {
        x = nn_linear_layer_forward(n->layer[i], x);
        x = n->activation == ACT_SIGMOID ? nn_sigmoid(x)
          : n->activation == ACT_TANH    ? nn_tanh(x)
                                         : nn_relu(x);
    }
    return nn_linear_layer_forward(n->layer[DEPTH], x); /* a logit */
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 1;
    int steps = 400;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer steps"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 1, 1000000, "training steps of each network (100 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the two SVG pictures (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Vanishing gradients, measured layer by layer: one deep network with sigmoid +\n"
                     "Xavier, tanh + Xavier and ReLU + He; the gradient norm of every layer at the\n"
                     "start, then the loss after the same training.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 100;
    printf("chapter 2: vanishing gradients (梯度消失)\n");
    printf("seed %llu; network 2 -> %d x %d -> 1, binary cross-entropy, %d points\n",
           (unsigned long long)seed, DEPTH, WIDTH, N_POINTS);

    /* data: x ~ N(0, I) in 2-D; label 1 inside the circle of radius 1.18 (median radius) */
    nn_seed(seed);
    nn_tensor *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(N_POINTS, 2));
    nn_tensor *y = nn_zeros(NN_SHAPE(N_POINTS, 1));
    for (int i = 0; i < N_POINTS; i++) {
        float a = x->data[2 * i], b = x->data[2 * i + 1];
        y->data[i] = a * a + b * b < 1.18f * 1.18f ? 1.0f : 0.0f;
    }

    float grads[N_SETUPS][DEPTH + 1];
    float *losses[N_SETUPS];
    float start_loss[N_SETUPS], end_loss[N_SETUPS];
    for (int k = 0; k < N_SETUPS; k++) {
        nn_seed(seed + 1);
        net n = net_new(&setups[k]);
        nn_optim *opt = nn_sgd_new(n.m, 0.05f, 0.9f, 0.0f);
        losses[k] = calloc(steps, sizeof(float));
        nn_progress bar;
        nn_progress_start(&bar, setups[k].name, steps);
        for (int step = 0; step < steps; step++) {
            nn_tensor *loss = nn_bce_with_logits_loss(net_forward(&n, x), y);
            nn_model_zero_grad(n.m);
            nn_backward(loss);
            losses[k][step] = nn_item(loss);
            if (step == 0) /* the gradient each layer's weights get at the start */
                for (int i = 0; i <= DEPTH; i++) grads[k][i] = nn_grad_norm(n.layer[i]->W);
            nn_optim_step(opt);
            nn_graph_clear();
            nn_progress_update(&bar, step + 1, "loss %.4f", losses[k][step]);
        }
        nn_progress_finish(&bar);
        start_loss[k] = losses[k][0];
        end_loss[k] = losses[k][steps - 1];
        nn_optim_free(opt);
        nn_model_free(n.m);
    }

    /* ---- gradient norm per layer, at the start ----------------------------------------------- */
    printf("\n|dL/dW| per layer at the start (layer 1 is next to the input):\n");
    printf("  %-6s", "layer");
    for (int k = 0; k < N_SETUPS; k++) printf(" %15s", setups[k].name);
    printf("\n");
    for (int i = 0; i <= DEPTH; i++) {
        char name[16];
        snprintf(name, sizeof name, i < DEPTH ? "%d" : "out", i + 1);
        printf("  %-6s", name);
        for (int k = 0; k < N_SETUPS; k++) printf(" %15.3e", grads[k][i]);
        printf("\n");
    }
    printf("  %-6s", "1/out");
    for (int k = 0; k < N_SETUPS; k++) printf(" %15.3e", grads[k][0] / grads[k][DEPTH]);
    printf("   (first layer's gradient relative to the last's)\n");

    printf("\nloss (binary cross-entropy; ln 2 = 0.693 is a coin toss) after SGD+momentum:\n");
    printf("  %-16s %10s %10s\n", "network", "step 1", "last step");
    for (int k = 0; k < N_SETUPS; k++)
        printf("  %-16s %10.4f %10.4f\n", setups[k].name, start_loss[k], end_loss[k]);

    /* ---- pictures ----------------------------------------------------------------------------- */
    float layer_no[DEPTH + 1], log_grads[N_SETUPS][DEPTH + 1];
    nn_series gs[N_SETUPS], ls[N_SETUPS];
    for (int i = 0; i <= DEPTH; i++) layer_no[i] = (float)(i + 1);
    for (int k = 0; k < N_SETUPS; k++) {
        for (int i = 0; i <= DEPTH; i++) log_grads[k][i] = log10f(grads[k][i]);
        gs[k] = (nn_series){setups[k].name, layer_no, log_grads[k], DEPTH + 1, NN_PLOT_LINE};
        ls[k] = (nn_series){setups[k].name, NULL, losses[k], steps, NN_PLOT_LINE};
    }
    printf("\n");
    int failed = 0; /* pictures that could not be written (each says why) */
    failed += nn_plot_svg_in(out_dir, "ch02_vanishing_grads.svg",
                             "Gradient norm per layer at the start",
                             "layer (1 = next to the input, 11 = output)", "log10 |dL/dW|", gs,
                             N_SETUPS) != 0;
    failed += nn_plot_svg_in(out_dir, "ch02_vanishing_loss.svg",
                             "Training loss of the same deep network", "step",
                             "binary cross-entropy", ls, N_SETUPS) != 0;
    printf("\nlog10 |dL/dW| per layer (x: layer 1 .. 11)\n");
    nn_plot_ascii(stdout, gs, N_SETUPS, 44, 12);

    printf("result: seed=%llu steps=%d", (unsigned long long)seed, steps);
    const char *keys[N_SETUPS] = {"sigmoid_xavier", "tanh_xavier", "relu_he"};
    for (int k = 0; k < N_SETUPS; k++)
        printf(" %s_grad1=%.3e %s_gradout=%.3e %s_loss=%.4f", keys[k], grads[k][0], keys[k],
               grads[k][DEPTH], keys[k], end_loss[k]);
    printf("\n");

    for (int k = 0; k < N_SETUPS; k++) free(losses[k]);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_graph_release();
    return failed ? 1 : 0;
}
