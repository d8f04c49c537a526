/* examples/ch02_minibatch/minibatch.c — 计算开销 (compute cost): full-batch vs mini-batch
 * gradient descent on the same budget.
 *
 * Full-batch gradient descent computes the exact gradient over all N samples before every
 * step: one step per pass over the data (an epoch). Mini-batch gradient descent estimates the
 * gradient from B samples and steps right away: N / B steps per epoch for the same work. The
 * estimate is noisy, but many cheap steps in roughly the right direction beat a few exact
 * ones. With the same number of epochs (the same number of sample gradients computed, so
 * about the same time) the mini-batch runs end far lower.
 *
 *   minibatch [--quick] [--seed N] [--epochs N] [--out DIR]     (--help lists them)
 *   --epochs 12 (4 with --quick), --seed 5. Writes DIR/ch02_minibatch.svg (DIR: out by
 *   default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define N_TRAIN 4096
#define N_VAL 1024
#define HIDDEN 64
#define LR 0.02f

typedef struct mlp {
    nn_model *m;
    nn_linear_layer *l1, *l2, *l3;
} mlp;

static nn_tensor *forward(const mlp *n, nn_tensor *x) {
    x = nn_relu(nn_linear_layer_forward(n->l1, x));
    x = nn_relu(nn_linear_layer_forward(n->l2, x));
    return nn_linear_layer_forward(n->l3, x);
}

static float evaluate(const mlp *n, nn_tensor *x, nn_tensor *y) {
    bool g = nn_set_grad_enabled(false);
    float l = nn_item(nn_mse_loss(forward(n, x), y));
    nn_set_grad_enabled(g);
    nn_graph_clear();
    return l;
}

/* y = sin(2 x1) + x2 x3 - 0.5 x4, with x ~ N(0, I), into owned tensors */
static void make_data(int n, nn_tensor **x, nn_tensor **y) {
    *x = nn_rand_normal(0.0f, 1.0f, NN_SHAPE(n, 4));
    *y = nn_zeros(NN_SHAPE(n, 1));
    for (int i = 0; i < n; i++) {
        const float *v = (*x)->data + 4 * i;
        (*y)->data[i] = sinf(2.0f * v[0]) + v[1] * v[2] - 0.5f * v[3];
    }
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 5;
    int epochs = 12;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer epochs"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--epochs", &epochs, 1, 10000, "passes over the data of each run (4 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for ch02_minibatch.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Compute cost: full-batch against mini-batch gradient descent (batches of 512,\n"
                     "64 and 16) on the same budget of epochs, compared by validation loss.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--epochs")) epochs = 4;
    printf("chapter 2: compute cost (计算开销): full-batch vs mini-batch gradient descent\n");
    printf("seed %llu; %d training and %d validation samples, MLP 4 -> %d -> %d -> 1 (ReLU), "
           "SGD lr %g momentum 0.9, %d epochs each\n", (unsigned long long)seed, N_TRAIN, N_VAL,
           HIDDEN, HIDDEN, LR, epochs);

    nn_seed(seed);
    nn_tensor *xt, *yt, *xv, *yv;
    make_data(N_TRAIN, &xt, &yt);
    make_data(N_VAL, &xv, &yv);

    const int batches[] = {N_TRAIN, 512, 64, 16};
    enum { NB = sizeof batches / sizeof batches[0] };
    float train_loss[NB], val_loss[NB], seconds[NB];
    int steps_taken[NB];
    float *curve[NB], *curve_x[NB]; /* validation loss after each epoch */
    int *order = malloc(N_TRAIN * sizeof(int));

    for (int k = 0; k < NB; k++) {
        int B = batches[k];
        nn_seed(seed + 1); /* same initial weights and the same shuffles for every run */
        mlp n = {nn_model_new(), NULL, NULL, NULL};
        n.l1 = nn_linear_layer_new(n.m, "fc1", 4, HIDDEN, NN_INIT_HE);
        n.l2 = nn_linear_layer_new(n.m, "fc2", HIDDEN, HIDDEN, NN_INIT_HE);
        n.l3 = nn_linear_layer_new(n.m, "out", HIDDEN, 1, NN_INIT_HE);
        nn_optim *opt = nn_sgd_new(n.m, LR, 0.9f, 0.0f);
        curve[k] = malloc((epochs + 1) * sizeof(float));
        curve_x[k] = malloc((epochs + 1) * sizeof(float));
        curve[k][0] = evaluate(&n, xv, yv);
        curve_x[k][0] = 0.0f;
        for (int i = 0; i < N_TRAIN; i++) order[i] = i;

        char label[32];
        snprintf(label, sizeof label, B == N_TRAIN ? "full batch" : "batch %d", B);
        nn_progress bar;
        nn_progress_start(&bar, label, epochs);
        double t0 = nn_seconds();
        steps_taken[k] = 0;
        for (int e = 0; e < epochs; e++) {
            nn_rng_shuffle(nn_global_rng(), order, N_TRAIN);
            for (int start = 0; start + B <= N_TRAIN; start += B) {
                nn_tensor *xb = B == N_TRAIN ? xt : nn_take_rows(xt, order + start, B);
                nn_tensor *yb = B == N_TRAIN ? yt : nn_take_rows(yt, order + start, B);
                nn_tensor *loss = nn_mse_loss(forward(&n, xb), yb);
                nn_model_zero_grad(n.m);
                nn_backward(loss);
                nn_optim_step(opt);
                nn_graph_clear();
                steps_taken[k]++;
            }
            curve[k][e + 1] = evaluate(&n, xv, yv);
            curve_x[k][e + 1] = (float)(e + 1);
            nn_progress_update(&bar, e + 1, "val loss %.4f", curve[k][e + 1]);
        }
        seconds[k] = (float)(nn_seconds() - t0);
        nn_progress_finish(&bar);
        train_loss[k] = evaluate(&n, xt, yt);
        val_loss[k] = curve[k][epochs];
        nn_optim_free(opt);
        nn_model_free(n.m);
    }

    printf("\nafter %d epochs (every run computed %d sample gradients):\n", epochs,
           epochs * N_TRAIN);
    printf("  %-11s %7s %10s %10s %10s %12s\n", "batch", "steps", "seconds", "train", "val",
           "ms per step");
    for (int k = 0; k < NB; k++) {
        char label[32];
        snprintf(label, sizeof label, batches[k] == N_TRAIN ? "full (%d)" : "%d", batches[k]);
        printf("  %-11s %7d %10.3f %10.4f %10.4f %12.3f\n", label, steps_taken[k], seconds[k],
               train_loss[k], val_loss[k], 1000.0f * seconds[k] / (float)steps_taken[k]);
    }
    printf("(the variance of y is about 1.5: a loss of 1.5 means nothing was learned)\n");
    printf("(time depends on the machine; the losses do not)\n");

    nn_series s[NB];
    char names[NB][32];
    for (int k = 0; k < NB; k++) {
        snprintf(names[k], sizeof names[k], batches[k] == N_TRAIN ? "full batch" : "batch %d",
                 batches[k]);
        s[k] = (nn_series){names[k], curve_x[k], curve[k], epochs + 1, NN_PLOT_LINE};
    }
    printf("\n");
    int failed = nn_plot_svg_in(out_dir, "ch02_minibatch.svg",
                                "Same work, different batch sizes: validation loss", "epoch",
                                "validation MSE", s, NB) != 0;
    printf("\nvalidation loss per epoch\n");
    nn_plot_ascii(stdout, s, NB, 50, 12);

    printf("result: seed=%llu epochs=%d full_val=%.4f b512_val=%.4f b64_val=%.4f b16_val=%.4f "
           "full_seconds=%.3f b64_seconds=%.3f full_steps=%d b64_steps=%d\n",
           (unsigned long long)seed, epochs, val_loss[0], val_loss[1], val_loss[2], val_loss[3],
           seconds[0], seconds[2], steps_taken[0], steps_taken[2]);

    for (int k = 0; k < NB; k++) {
        free(curve[k]);
        free(curve_x[k]);
    }
    free(order);
    nn_tensor_free(xt);
    nn_tensor_free(yt);
    nn_tensor_free(xv);
    nn_tensor_free(yv);
    nn_graph_release();
    return failed ? 1 : 0;
}
