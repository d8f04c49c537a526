/* examples/ch01_classify/moons.c — a small neural network draws a curved border.
 *
 * Two interleaved half-moons of points, class 0 and class 1. No straight line separates
 * them; an MLP (多层感知机) with tanh activations learns a curved decision boundary
 * (决策边界). Cross-entropy loss (交叉熵), Adam, a held-out test set it never trains on.
 *
 *   logits = tanh(tanh(X W1 + b1) W2 + b2) W3 + b3      X: (N, 2) rows (x1, x2)  logits: (N, 2)
 *   p = softmax(logits),  L = -(1/N) sum_n log p[n][label_n]
 *
 *   ./moons [--quick] [--seed N] [--steps N] [--noise X] [--out DIR]     (--help lists them)
 *   --steps 600 (150 with --quick, at least 10), --noise 0.15 (0 .. 1), --seed 42, and
 *   400 training + 200 held-out points (200 + 100 with --quick). Writes DIR/moons.svg
 *   (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979f

/* Point i of the two-moons set: class 0 on the upper arc (cos t, sin t), class 1 on the
 * lower arc (1 - cos t, 0.5 - sin t), t uniform in [0, pi], plus Gaussian noise. */
static void make_moons(float *xy, int *label, int n, float noise, nn_rng *rng) {
    for (int i = 0; i < n; i++) {
        int c = i % 2;
        float t = PI * nn_rng_uniform(rng);
        float px = c == 0 ? cosf(t) : 1.0f - cosf(t);
        float py = c == 0 ? sinf(t) : 0.5f - sinf(t);
        xy[2 * i] = px + noise * nn_rng_normal(rng);
        xy[2 * i + 1] = py + noise * nn_rng_normal(rng);
        label[i] = c;
    }
}

typedef struct mlp {
    nn_linear_layer *fc1, *fc2, *fc3;
} mlp;

/* x: (N, 2) -> (N, 16) -> (N, 16) -> logits (N, 2). With `show`, print each shape. */
static nn_tensor *forward(const mlp *net, nn_tensor *x, bool show) {
    char s[64];
    nn_tensor *h1 = nn_tanh(nn_linear_layer_forward(net->fc1, x));
    nn_tensor *h2 = nn_tanh(nn_linear_layer_forward(net->fc2, h1));
    nn_tensor *logits = nn_linear_layer_forward(net->fc3, h2);
    if (show) {
        printf("    input          %s\n", nn_shape_str(x, s, sizeof s));
        printf("    fc1 + tanh  -> %s\n", nn_shape_str(h1, s, sizeof s));
        printf("    fc2 + tanh  -> %s\n", nn_shape_str(h2, s, sizeof s));
        printf("    fc3         -> %s  (one score per class: the logits)\n",
               nn_shape_str(logits, s, sizeof s));
    }
    return logits;
}

/* Predicted class of every row of X (no tape) into pred[]; returns the accuracy against
 * `label` when it is not NULL. */
static float predict(const mlp *net, nn_tensor *X, int *pred, const int *label) {
    bool was = nn_set_grad_enabled(false);
    nn_argmax_rows(forward(net, X, false), pred);
    nn_graph_clear();
    nn_set_grad_enabled(was);
    if (!label) return 0.0f;
    int right = 0;
    for (int i = 0; i < X->shape[0]; i++) right += pred[i] == label[i];
    return (float)right / (float)X->shape[0];
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    int steps = 600;
    float noise = 0.15f;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): 200 + 100 points"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 10, 1000000, "training steps (150 with --quick)"),
        NN_OPT_FLOAT("--noise", &noise, 0, 1, "std of the Gaussian noise added to the points"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for moons.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Two interleaved half-moons of points, class 0 and class 1: an MLP with tanh\n"
                     "learns the curved border between them (cross-entropy, Adam) and is scored\n"
                     "on held-out points it never trained on.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 150;
    int n_train = quick ? 200 : 400, n_test = quick ? 100 : 200;
    nn_seed(seed);

    printf("ch01 classify: two moons, an MLP with tanh, cross-entropy (交叉熵), Adam\n");
    printf("  logits = tanh(tanh(X W1 + b1) W2 + b2) W3 + b3\n");
    printf("  L = -(1/N) sum_n log softmax(logits_n)[label_n]\n");
    printf("seed %llu, noise %.2f, %d training points, %d held-out points, %d steps%s\n",
           (unsigned long long)seed, noise, n_train, n_test, steps, quick ? " (--quick)" : "");

    /* ---- data: one generator, the test points drawn after the training points ---- */
    float *xy_tr = malloc(2 * (size_t)n_train * sizeof(float));
    float *xy_te = malloc(2 * (size_t)n_test * sizeof(float));
    int *y_tr = malloc(n_train * sizeof(int)), *y_te = malloc(n_test * sizeof(int));
    int *pred_tr = malloc(n_train * sizeof(int)), *pred_te = malloc(n_test * sizeof(int));
    make_moons(xy_tr, y_tr, n_train, noise, nn_global_rng());
    make_moons(xy_te, y_te, n_test, noise, nn_global_rng());
    nn_tensor *Xtr = nn_from_array(xy_tr, NN_SHAPE(n_train, 2));
    nn_tensor *Xte = nn_from_array(xy_te, NN_SHAPE(n_test, 2));

    /* ---- model ---- */
    nn_model *model = nn_model_new();
    mlp net = {
        nn_linear_layer_new(model, "fc1", 2, 16, NN_INIT_XAVIER),
        nn_linear_layer_new(model, "fc2", 16, 16, NN_INIT_XAVIER),
        nn_linear_layer_new(model, "fc3", 16, 2, NN_INIT_XAVIER),
    };
    /* Start unsure: with small last-layer weights both logits start near 0, so the first
     * predictions are p = (1/2, 1/2) and the loss starts at ln 2 (see below). */
    for (size_t i = 0; i < net.fc3->W->size; i++) net.fc3->W->data[i] *= 0.1f;
    printf("layer output shapes:\n");
    forward(&net, Xtr, true);
    nn_graph_clear();
    printf("parameters:\n");
    nn_model_summary(model, stdout);
    nn_optim *opt = nn_adam_new(model, 0.01f, 0.0f);

    /* ---- train (full batch: 400 points are one small matrix) ---- */
    printf("\ntraining:\n");
    double t0 = nn_seconds();
    float loss = 0.0f, start_loss = 0.0f;
    for (int s = 0; s <= steps; s++) {
        nn_tensor *L = nn_cross_entropy_loss(forward(&net, Xtr, false), y_tr);
        loss = nn_item(L);
        if (s == 0) {
            /* Before training the two logits are about equal, so p = 1/2 for each class and
             * L = -log(1/2) = ln 2. */
            start_loss = loss;
            printf("  starting loss %.4f   (expected ln 2 = %.4f for 2 classes guessed evenly)\n",
                   loss, logf(2.0f));
            nn_graph_clear();
            continue;
        }
        nn_model_zero_grad(model);
        nn_backward(L);
        nn_optim_step(opt);
        nn_graph_clear();
        if (s % (steps / 6) == 0 || s == steps) {
            float acc = predict(&net, Xtr, pred_tr, y_tr);
            printf("  step %4d  loss %.4f  train acc %.3f\n", s, loss, acc);
        }
    }
    double secs = nn_seconds() - t0;
    float train_acc = predict(&net, Xtr, pred_tr, y_tr);
    float test_acc = predict(&net, Xte, pred_te, y_te);
    printf("  trained in %.2f s\n", secs);
    printf("accuracy: train %.3f, held-out %.3f (%d of %d held-out points right)\n", train_acc,
           test_acc, (int)lroundf(test_acc * n_test), n_test);

    /* ---- the decision boundary in the terminal: the predicted class of each cell ---- */
    enum { GW = 64, GH = 22 };
    const float x0 = -1.5f, x1 = 2.5f, y0 = -1.0f, y1 = 1.5f;
    float *grid = malloc(2 * GW * GH * sizeof(float));
    int *gpred = malloc(GW * GH * sizeof(int));
    for (int r = 0; r < GH; r++)
        for (int c = 0; c < GW; c++) {
            grid[2 * (r * GW + c)] = x0 + (x1 - x0) * (c + 0.5f) / GW;
            grid[2 * (r * GW + c) + 1] = y1 - (y1 - y0) * (r + 0.5f) / GH; /* row 0 on top */
        }
    nn_tensor *G = nn_from_array(grid, NN_SHAPE(GW * GH, 2));
    predict(&net, G, gpred, NULL);
    char canvas[GH][GW + 1];
    for (int r = 0; r < GH; r++) {
        for (int c = 0; c < GW; c++) canvas[r][c] = gpred[r * GW + c] == 0 ? ' ' : '.';
        canvas[r][GW] = '\0';
    }
    for (int i = 0; i < n_train; i++) { /* overlay the training points */
        int c = (int)((xy_tr[2 * i] - x0) / (x1 - x0) * GW);
        int r = (int)((y1 - xy_tr[2 * i + 1]) / (y1 - y0) * GH);
        if (c < 0 || c >= GW || r < 0 || r >= GH) continue;
        bool wrong = pred_tr[i] != y_tr[i];
        canvas[r][c] = y_tr[i] == 0 ? (wrong ? 'O' : 'o') : (wrong ? 'X' : 'x');
    }
    printf("\ndecision boundary (blank: predicts class 0, '.': class 1; o / x: training points "
           "of class 0 / 1, capitals: misclassified)\n");
    printf("  +");
    for (int c = 0; c < GW; c++) putchar('-');
    printf("+  x2 = %.1f\n", y1);
    for (int r = 0; r < GH; r++) printf("  |%s|\n", canvas[r]);
    printf("  +");
    for (int c = 0; c < GW; c++) putchar('-');
    printf("+  x2 = %.1f\n   x1 = %.1f%*sx1 = %.1f\n", y0, x0, GW - 14, "", x1);

    /* ---- the SVG: the points by class, and the cells where the prediction flips ---- */
    enum { FW = 160, FH = 100 };
    float *fine = malloc(2 * FW * FH * sizeof(float));
    int *fpred = malloc(FW * FH * sizeof(int));
    for (int r = 0; r < FH; r++)
        for (int c = 0; c < FW; c++) {
            fine[2 * (r * FW + c)] = x0 + (x1 - x0) * c / (FW - 1);
            fine[2 * (r * FW + c) + 1] = y0 + (y1 - y0) * r / (FH - 1);
        }
    nn_tensor *F = nn_from_array(fine, NN_SHAPE(FW * FH, 2));
    predict(&net, F, fpred, NULL);
    float *bx = malloc(FW * FH * sizeof(float)), *by = malloc(FW * FH * sizeof(float));
    int nb = 0;
    for (int r = 0; r < FH; r++) /* a boundary cell: its right or upper neighbour differs */
        for (int c = 0; c < FW; c++) {
            int p = fpred[r * FW + c];
            if ((c + 1 < FW && fpred[r * FW + c + 1] != p) ||
                (r + 1 < FH && fpred[(r + 1) * FW + c] != p)) {
                bx[nb] = fine[2 * (r * FW + c)];
                by[nb++] = fine[2 * (r * FW + c) + 1];
            }
        }
    float *cx[2], *cy[2];
    int cn[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        cx[k] = malloc(n_test * sizeof(float));
        cy[k] = malloc(n_test * sizeof(float));
    }
    for (int i = 0; i < n_test; i++) { /* the held-out points, by their true class */
        int k = y_te[i];
        cx[k][cn[k]] = xy_te[2 * i];
        cy[k][cn[k]++] = xy_te[2 * i + 1];
    }
    nn_series series[3] = {
        {"held-out, class 0", cx[0], cy[0], cn[0], NN_PLOT_POINTS},
        {"held-out, class 1", cx[1], cy[1], cn[1], NN_PLOT_POINTS},
        {"decision boundary", bx, by, nb, NN_PLOT_POINTS},
    };
    int failed = nn_plot_svg_in(out_dir, "moons.svg",
                                "Two moons: held-out points and the learned boundary", "x1", "x2",
                                series, 3) != 0;

    printf("result: test_acc=%.3f train_acc=%.3f loss=%.4f start_loss=%.4f ln2=%.4f steps=%d "
           "seconds=%.2f\n",
           test_acc, train_acc, loss, start_loss, logf(2.0f), steps, secs);

    for (int k = 0; k < 2; k++) free(cx[k]), free(cy[k]);
    free(bx), free(by), free(fine), free(fpred), free(grid), free(gpred);
    free(xy_tr), free(xy_te), free(y_tr), free(y_te), free(pred_tr), free(pred_te);
    nn_tensor_free(Xtr);
    nn_tensor_free(Xte);
    nn_tensor_free(G);
    nn_tensor_free(F);
    nn_optim_free(opt);
    nn_model_free(model);
    nn_graph_release();
    return failed ? 1 : 0; /* 1: a picture could not be written (the message is above) */
}
