/* examples/ch01_line_fit/line_fit.c — 从函数到神经网络 (functions -> neural networks), part 1.
 *
 * Fit a line  y = w*x + b  to noisy points by gradient descent (梯度下降):
 *   1. by hand: the loss and its partial derivatives (偏导数) are derived on paper and coded
 *      as two sums;
 *   2. the learning rate (学习率) decides how fast, or whether, it converges;
 *   3. by autograd: the same loss built from library ops, nn_backward() finds the same
 *      derivatives by the chain rule (链式法则), walking the tape in reverse (反向传播).
 *
 *   ./line_fit [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 100 (30 with --quick, at least 2), --seed 42, 200 points (40 with --quick).
 *   Writes DIR/line_fit.svg and DIR/line_fit_lr.svg (DIR: out by default); exit status 1
 *   when it cannot.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define TRUE_W 2.0f
#define TRUE_B 0.5f
#define NOISE 0.1f

/* L = (1/n) sum (w x_i + b - y_i)^2, and its two partial derivatives, by hand:
 *   dL/dw = (2/n) sum (w x_i + b - y_i) * x_i
 *   dL/db = (2/n) sum (w x_i + b - y_i)                                                 */
static float loss_and_grad(const float *x, const float *y, int n, float w, float b,
                           float *dw, float *db) {
    double loss = 0.0, gw = 0.0, gb = 0.0;
    for (int i = 0; i < n; i++) {
        double r = (double)w * x[i] + b - y[i]; /* residual (残差): prediction - truth */
        loss += r * r;
        gw += 2.0 * r * x[i];
        gb += 2.0 * r;
    }
    if (dw) *dw = (float)(gw / n);
    if (db) *db = (float)(gb / n);
    return (float)(loss / n);
}

/* Gradient descent by hand from (w, b) = (0, 0); fills curve[0..steps] with the loss. */
static void descend_by_hand(const float *x, const float *y, int n, float lr, int steps,
                            float *w_out, float *b_out, float *curve) {
    float w = 0.0f, b = 0.0f, dw, db;
    for (int s = 0; s < steps; s++) {
        curve[s] = loss_and_grad(x, y, n, w, b, &dw, &db);
        w -= lr * dw; /* w <- w - eta * dL/dw */
        b -= lr * db; /* b <- b - eta * dL/db */
    }
    curve[steps] = loss_and_grad(x, y, n, w, b, NULL, NULL);
    *w_out = w;
    *b_out = b;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    int steps = 100;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): 40 points"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 2, 1000000, "gradient descent steps (30 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the two SVG pictures (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Fit a line y = w*x + b to noisy points by gradient descent: with the\n"
                     "derivatives worked out by hand, with four learning rates, and with autograd\n"
                     "(nn_backward), which finds the same derivatives by the chain rule.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 30;
    int n = quick ? 40 : 200;
    nn_seed(seed);

    printf("ch01 line fit: y = w*x + b by gradient descent (梯度下降)\n");
    printf("seed %llu, %d points, %d steps%s\n", (unsigned long long)seed, n, steps,
           quick ? " (--quick)" : "");

    /* ---- data: y = 2x + 0.5 + noise, x uniform in [-1, 1] ---- */
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    nn_rng *rng = nn_global_rng();
    for (int i = 0; i < n; i++) {
        x[i] = 2.0f * nn_rng_uniform(rng) - 1.0f;
        y[i] = TRUE_W * x[i] + TRUE_B + NOISE * nn_rng_normal(rng);
    }
    printf("data: y_i = %g*x_i + %g + noise (std %g), x_i uniform in [-1, 1]\n\n", TRUE_W,
           TRUE_B, NOISE);

    /* ---- 1. the loss and its derivatives, by hand ---- */
    printf("loss (损失函数):  L(w, b) = (1/n) sum_i (w*x_i + b - y_i)^2\n");
    printf("partial derivatives (偏导数), by the chain rule on each square:\n");
    printf("  dL/dw = (2/n) sum_i (w*x_i + b - y_i) * x_i\n");
    printf("  dL/db = (2/n) sum_i (w*x_i + b - y_i)\n");
    printf("update rule: w <- w - eta * dL/dw,   b <- b - eta * dL/db   (eta = learning rate)\n");
    printf("parameters: 2 (w and b)\n\n");

    /* ---- 2. the learning rate's effect: same start, same number of steps ---- */
    /* For this data the loss is a bowl whose steepest curvature is about 2 (d2L/db2 = 2), so
     * gradient descent is stable only for eta < 2 / 2 = 1. */
    const float lrs[] = {0.01f, 0.1f, 0.5f, 1.05f};
    const char *verdicts[] = {"too small: still far from the bottom", "fine: converging",
                              "good: reached the bottom", "too large: diverges (发散)"};
    const int nlr = (int)(sizeof lrs / sizeof lrs[0]);
    float *curves = malloc((size_t)nlr * (steps + 1) * sizeof *curves);
    float *log_curves = malloc((size_t)nlr * (steps + 1) * sizeof *log_curves);
    float w_hand = 0.0f, b_hand = 0.0f;
    printf("learning rate (学习率) eta, loss after 0 / %d / %d steps, from w = b = 0:\n",
           steps / 2, steps);
    for (int k = 0; k < nlr; k++) {
        float w, b, *c = curves + (size_t)k * (steps + 1);
        descend_by_hand(x, y, n, lrs[k], steps, &w, &b, c);
        printf("  eta = %-5g  L = %8.4f -> %10.4g -> %10.4g   w = %9.4g  b = %9.4g   %s\n",
               lrs[k], c[0], c[steps / 2], c[steps], w, b, verdicts[k]);
        for (int s = 0; s <= steps; s++) log_curves[(size_t)k * (steps + 1) + s] = log10f(c[s]);
        if (k == 2) {
            w_hand = w;
            b_hand = b;
        }
    }
    /* The answer gradient descent is heading for: setting both derivatives to 0 gives the
     * least-squares solution w = cov(x, y) / var(x), b = mean(y) - w * mean(x). */
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    float w_best = (float)(sxy / sxx), b_best = (float)(my - sxy / sxx * mx);
    printf("least squares (dL/dw = dL/db = 0 solved exactly): w = %.4f  b = %.4f\n\n", w_best,
           b_best);

    char labels[4][32];
    nn_series lr_series[4];
    for (int k = 0; k < nlr; k++) {
        snprintf(labels[k], sizeof labels[k], "eta = %g", lrs[k]);
        lr_series[k] = (nn_series){labels[k], NULL, log_curves + (size_t)k * (steps + 1),
                                   steps + 1, NN_PLOT_LINE};
    }

    /* ---- 3. the same derivatives by autograd ---- */
    /* The model: a (1, 1) weight and a (1) bias, so prediction = X w + b for X of shape (n, 1). */
    nn_model *model = nn_model_new();
    nn_tensor *w = nn_model_param(model, "w", NN_SHAPE(1, 1), true);
    nn_tensor *b = nn_model_param(model, "b", NN_SHAPE(1), false);
    nn_tensor *X = nn_from_array(x, NN_SHAPE(n, 1));
    nn_tensor *Y = nn_from_array(y, NN_SHAPE(n, 1));
    printf("autograd (自动求导): pred = X w + b,  X %s  w (1, 1)  b (1)  pred (%d, 1)\n",
           "(n, 1)", n);
    printf("  L = nn_mse_loss(pred, Y);  nn_backward(L) walks the tape in reverse:\n");
    printf("  mse -> square -> sub -> add (bias) -> matmul, multiplying local derivatives\n");

    /* Compare at a few points (w, b): hand formula vs tape. */
    const float probe[3][2] = {{0.0f, 0.0f}, {-1.0f, 3.0f}, {1.7f, 0.2f}};
    double grad_diff = 0.0;
    printf("  %-14s %12s %12s %12s %12s\n", "(w, b)", "dL/dw hand", "dL/dw tape", "dL/db hand",
           "dL/db tape");
    for (int p = 0; p < 3; p++) {
        w->data[0] = probe[p][0];
        b->data[0] = probe[p][1];
        float dw, db;
        loss_and_grad(x, y, n, w->data[0], b->data[0], &dw, &db);
        nn_model_zero_grad(model);
        nn_tensor *pred = nn_add(nn_matmul(X, w), b);
        nn_backward(nn_mse_loss(pred, Y));
        nn_graph_clear();
        printf("  (%5.2f, %5.2f) %12.6f %12.6f %12.6f %12.6f\n", probe[p][0], probe[p][1], dw,
               w->grad[0], db, b->grad[0]);
        grad_diff = fmax(grad_diff, fmax(fabs(dw - w->grad[0]), fabs(db - b->grad[0])));
    }
    printf("  max |hand - tape| = %.3g  (float32 rounding only)\n\n", grad_diff);

    /* Train with the library's SGD: the same update rule, now w and b in a model. */
    float lr = 0.5f;
    w->data[0] = 0.0f;
    b->data[0] = 0.0f;
    nn_optim *opt = nn_sgd_new(model, lr, 0.0f, 0.0f);
    printf("training with autograd + nn_sgd_new (eta = %g):\n", lr);
    float loss = 0.0f;
    double t0 = nn_seconds();
    for (int s = 1; s <= steps; s++) {
        nn_tensor *L = nn_mse_loss(nn_add(nn_matmul(X, w), b), Y);
        nn_model_zero_grad(model);
        nn_backward(L);
        nn_optim_step(opt);
        loss = nn_item(L);
        nn_graph_clear();
        if (s == 1 || s % (steps > 5 ? steps / 5 : 1) == 0)
            printf("  step %4d  loss %.5f  w %.4f  b %.4f\n", s, loss, w->data[0], b->data[0]);
    }
    printf("  %.1f ms; gradient descent by hand (eta = 0.5) ended at w %.4f b %.4f\n\n",
           1e3 * (nn_seconds() - t0), w_hand, b_hand);

    /* ---- pictures ---- */
    float line_x[2] = {-1.0f, 1.0f};
    float line_y[2] = {w->data[0] * -1.0f + b->data[0], w->data[0] + b->data[0]};
    float true_y[2] = {-TRUE_W + TRUE_B, TRUE_W + TRUE_B};
    nn_series fit[3] = {
        {"data", x, y, n, NN_PLOT_POINTS},
        {"fitted line", line_x, line_y, 2, NN_PLOT_LINE},
        {"true line y = 2x + 0.5", line_x, true_y, 2, NN_PLOT_LINE},
    };
    nn_plot_ascii(stdout, fit, 2, 60, 14);
    int failed = 0; /* pictures that could not be written (each says why) */
    failed += nn_plot_svg_in(out_dir, "line_fit.svg", "Fitting y = w x + b by gradient descent",
                             "x", "y", fit, 3) != 0;
    failed += nn_plot_svg_in(out_dir, "line_fit_lr.svg", "Learning rate: log10(loss) per step",
                             "step", "log10 loss", lr_series, nlr) != 0;

    printf("result: w=%.4f b=%.4f true_w=%g true_b=%g lsq_w=%.4f lsq_b=%.4f loss=%.5f "
           "grad_diff=%.2g\n",
           w->data[0], b->data[0], TRUE_W, TRUE_B, w_best, b_best, loss, grad_diff);

    nn_optim_free(opt);
    nn_model_free(model);
    nn_tensor_free(X);
    nn_tensor_free(Y);
    free(x);
    free(y);
    free(curves);
    free(log_curves);
    nn_graph_release();
    return failed ? 1 : 0;
}
