/* examples/ch01_loss_functions/loss_functions.c — 损失函数 (loss functions), step by step.
 *
 * How does a machine tell a good fit from a bad one? It adds up the errors. The tutorial
 * builds the loss in three steps:
 *   1. absolute error (绝对误差)   sum |y_hat - y|
 *   2. squared error (平方误差)    sum (y_hat - y)^2     the square removes the |.|
 *   3. mean squared error (均方误差) (1/n) sum (y_hat - y)^2  dividing by n removes the
 *                                                            dependence on the sample count
 * We score a few candidate lines on the same points, by hand and with the library's
 * nn_mae_loss / nn_mse_loss, then duplicate the data to see what dividing by n buys.
 *
 *   ./loss_functions [--quick] [--seed N] [--out DIR]     (--help lists them)
 *   --seed 42; --quick changes nothing (it is tiny). Writes DIR/loss_functions.svg (DIR: out
 *   by default); exit status 1 when it cannot.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct line {
    float w, b;
} line;

typedef struct scores {
    double sae, sse, mae, mse; /* sum |e|, sum e^2, mean |e|, mean e^2 */
} scores;

/* The errors e_i = (w x_i + b) - y_i of a line, summed four ways. */
static scores score(line l, const float *x, const float *y, int n) {
    scores s = {0, 0, 0, 0};
    for (int i = 0; i < n; i++) {
        double e = (double)l.w * x[i] + l.b - y[i];
        s.sae += fabs(e);
        s.sse += e * e;
    }
    s.mae = s.sae / n;
    s.mse = s.sse / n;
    return s;
}

/* The same two means with library ops: prediction = w * x + b, then the loss. */
static void library_losses(line l, nn_tensor *X, nn_tensor *Y, float *mae, float *mse) {
    nn_tensor *pred = nn_add_scalar(nn_mul_scalar(X, l.w), l.b);
    *mae = nn_item(nn_mae_loss(pred, Y));
    *mse = nn_item(nn_mse_loss(pred, Y));
    nn_graph_clear();
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "accepted like everywhere; changes nothing, it is tiny"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for loss_functions.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Loss functions step by step: a few candidate lines scored on the same six\n"
                     "points by absolute, squared and mean squared error, by hand and with\n"
                     "nn_mae_loss / nn_mse_loss; then the data doubled, to see what dividing by n buys.",
                     opts, NN_COUNTOF(opts));
    nn_seed(seed);
    nn_set_grad_enabled(false); /* we only evaluate losses here: no tape needed */

    printf("ch01 loss functions (损失函数): scoring lines y_hat = w*x + b\n");
    printf("seed %llu%s\n", (unsigned long long)seed, quick ? " (--quick: same, it is tiny)" : "");

    /* Six points near y = 2x + 1. */
    enum { N = 6 };
    float x[2 * N], y[2 * N];
    nn_rng *rng = nn_global_rng();
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i + 1);
        y[i] = 2.0f * x[i] + 1.0f + 0.5f * nn_rng_normal(rng);
    }
    printf("data (n = %d):\n", N);
    for (int i = 0; i < N; i++) printf("  x = %.0f  y = %6.3f\n", x[i], y[i]);

    const line cand[] = {{2.0f, 1.0f}, {1.5f, 3.0f}, {2.5f, 0.0f}, {1.0f, 4.0f}};
    const int ncand = (int)(sizeof cand / sizeof cand[0]);

    nn_tensor *X = nn_from_array(x, NN_SHAPE(N));
    nn_tensor *Y = nn_from_array(y, NN_SHAPE(N));
    printf("\n%-18s %12s %12s %12s %12s %12s %12s\n", "candidate line", "sum|e|", "sum e^2",
           "mean|e|", "nn_mae_loss", "mean e^2", "nn_mse_loss");
    double lib_diff = 0.0;
    int best = 0;
    scores s[4];
    for (int k = 0; k < ncand; k++) {
        s[k] = score(cand[k], x, y, N);
        float mae, mse;
        library_losses(cand[k], X, Y, &mae, &mse);
        lib_diff = fmax(lib_diff, fmax(fabs(mae - s[k].mae), fabs(mse - s[k].mse)));
        printf("y = %.1fx + %.1f     %12.4f %12.4f %12.4f %12.4f %12.4f %12.4f\n", cand[k].w,
               cand[k].b, s[k].sae, s[k].sse, s[k].mae, mae, s[k].mse, mse);
        if (s[k].mse < s[best].mse) best = k;
    }
    printf("by hand vs library: max difference %.2g\n", lib_diff);
    printf("lowest loss: y = %.1fx + %.1f (the loss ranks the lines the way our eyes would)\n",
           cand[best].w, cand[best].b);

    /* Why square? |e| has a corner at e = 0: its derivative is sign(e), always +-1, and is
     * undefined at 0. e^2 is smooth, and its derivative 2e shrinks as the fit improves, so
     * gradient descent takes smaller steps near the bottom by itself. */
    printf("\nwhy square: the derivative of each error term\n");
    printf("  %8s %14s %14s\n", "e", "d|e|/de", "d(e^2)/de");
    const float es[] = {2.0f, 0.5f, 0.01f, -0.01f, -0.5f};
    for (int i = 0; i < 5; i++)
        printf("  %8.2f %14.0f %14.2f\n", es[i], es[i] > 0 ? 1.0 : -1.0, 2.0 * es[i]);
    printf("  |e| jumps from +1 to -1 at e = 0 (a corner); e^2 glides to 0 (smooth).\n");

    /* Why divide by n? Duplicate every point: the fit is just as good, but sums double. */
    for (int i = 0; i < N; i++) x[N + i] = x[i], y[N + i] = y[i];
    scores d = score(cand[best], x, y, 2 * N);
    printf("\nwhy divide by n: the same data twice (n = %d), line y = %.1fx + %.1f\n", 2 * N,
           cand[best].w, cand[best].b);
    printf("  sum e^2:  %.4f -> %.4f  (doubled: it grows with the sample count)\n", s[best].sse,
           d.sse);
    printf("  mean e^2: %.4f -> %.4f  (unchanged: it measures the fit, not the data size)\n",
           s[best].mse, d.mse);

    /* A picture: both mean losses as we slide w, with b = 1. MAE is made of straight pieces
     * with corners (one per point); MSE is a smooth parabola with one bottom. */
    enum { K = 81 };
    float ws[K], maes[K], mses[K];
    for (int k = 0; k < K; k++) {
        ws[k] = 1.5f + (float)k / (K - 1); /* w from 1.5 to 2.5 */
        scores sk = score((line){ws[k], 1.0f}, x, y, N);
        maes[k] = (float)sk.mae;
        mses[k] = (float)sk.mse;
    }
    nn_series curves[2] = {{"mean |e| (MAE)", ws, maes, K, NN_PLOT_LINE},
                           {"mean e^2 (MSE)", ws, mses, K, NN_PLOT_LINE}};
    printf("\nthe two losses as functions of w (b = 1):\n");
    nn_plot_ascii(stdout, curves, 2, 60, 14);
    int failed = nn_plot_svg_in(out_dir, "loss_functions.svg", "Loss of y = w x + 1 as w varies",
                                "w", "loss", curves, 2) != 0;

    printf("result: best_w=%.1f best_b=%.1f sae=%.4f sse=%.4f mae=%.4f mse=%.4f sse_dup=%.4f "
           "mse_dup=%.4f lib_diff=%.2g\n",
           cand[best].w, cand[best].b, s[best].sae, s[best].sse, s[best].mae, s[best].mse,
           d.sse, d.mse, lib_diff);

    nn_tensor_free(X);
    nn_tensor_free(Y);
    nn_graph_release();
    return failed ? 1 : 0;
}
