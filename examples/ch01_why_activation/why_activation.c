/* examples/ch01_why_activation/why_activation.c — 激活函数 (activation functions): why?
 *
 * Fit y = sin(x) on [-pi, pi] with two networks of the same shape, 1 -> 32 -> 32 -> 1:
 *   (a) linear layers stacked with NO activation:  y = ((x W1 + b1) W2 + b2) W3 + b3
 *       Multiply it out and it is ONE linear function, y = x (W1 W2 W3) + (b1 W2 W3 + b2 W3
 *       + b3): however many layers, it can only draw a straight line. We print that W and b.
 *   (b) the same stack with tanh after each hidden layer (套一层非线性运算): now it bends.
 * Both are scored on held-out points (a grid the training never saw).
 *
 *   ./why_activation [--quick] [--seed N] [--steps N] [--target sin|x2] [--out DIR]
 *   (--help lists them) --steps 2000 (300 with --quick, at least 10), --target sin,
 *   --seed 42; 128 training points (64 with --quick). Writes DIR/why_activation.svg (DIR: out
 *   by default); exit status 1 when it cannot.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979f
#define HIDDEN 32

typedef struct target {
    const char *name, *formula;
    float lo, hi;
} target;

static float target_f(const target *t, float x) {
    return strcmp(t->name, "x2") == 0 ? x * x : sinf(x);
}

/* Three linear layers; `act` says whether tanh goes between them. */
typedef struct mlp {
    nn_linear_layer *fc1, *fc2, *fc3;
    bool act;
} mlp;

static mlp mlp_new(nn_model *m, bool act) {
    mlp net = {.act = act};
    net.fc1 = nn_linear_layer_new(m, "fc1", 1, HIDDEN, NN_INIT_XAVIER);
    net.fc2 = nn_linear_layer_new(m, "fc2", HIDDEN, HIDDEN, NN_INIT_XAVIER);
    net.fc3 = nn_linear_layer_new(m, "fc3", HIDDEN, 1, NN_INIT_XAVIER);
    return net;
}

/* x: (N, 1) -> h1: (N, 32) -> h2: (N, 32) -> y: (N, 1). With `show`, print each shape. */
static nn_tensor *mlp_forward(const mlp *net, nn_tensor *x, bool show) {
    char s[64];
    const char *act = net->act ? " + tanh" : "       ";
    nn_tensor *h = nn_linear_layer_forward(net->fc1, x);
    if (net->act) h = nn_tanh(h);
    if (show) printf("    fc1%s  -> %s\n", act, nn_shape_str(h, s, sizeof s));
    h = nn_linear_layer_forward(net->fc2, h);
    if (net->act) h = nn_tanh(h);
    if (show) printf("    fc2%s  -> %s\n", act, nn_shape_str(h, s, sizeof s));
    nn_tensor *y = nn_linear_layer_forward(net->fc3, h);
    if (show) printf("    fc3         -> %s\n", nn_shape_str(y, s, sizeof s));
    return y;
}

/* Mean squared error of the network on (X, Y), without recording a tape. */
static float eval_mse(const mlp *net, nn_tensor *X, nn_tensor *Y, float *pred_out) {
    bool was = nn_set_grad_enabled(false);
    nn_tensor *pred = mlp_forward(net, X, false);
    float mse = nn_item(nn_mse_loss(pred, Y));
    if (pred_out) memcpy(pred_out, pred->data, pred->size * sizeof(float));
    nn_graph_clear();
    nn_set_grad_enabled(was);
    return mse;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    int steps = 2000;
    const char *which = "sin", *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): 64 training points"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 10, 1000000, "training steps (300 with --quick)"),
        NN_OPT_CHOICE("--target", &which, "sin|x2", "the curve to fit: sin(x) or x^2"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for why_activation.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Why activation functions: fit y = sin(x) with two networks of the same\n"
                     "shape, one of linear layers only (which multiply out to one straight line)\n"
                     "and one with tanh between them; both scored on held-out points.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 300;
    target tgt = strcmp(which, "x2") == 0 ? (target){"x2", "x^2", -2.0f, 2.0f}
                                          : (target){"sin", "sin(x)", -PI, PI};
    nn_seed(seed);
    int n_train = quick ? 64 : 128, n_test = 201;

    printf("ch01 why activation (激活函数): fit y = %s on [%.3g, %.3g]\n", tgt.formula, tgt.lo,
           tgt.hi);
    printf("seed %llu, %d training points (random), %d held-out points (a grid), %d steps%s\n",
           (unsigned long long)seed, n_train, n_test, steps, quick ? " (--quick)" : "");

    /* ---- data: training x at random, held-out x on an even grid (different points) ---- */
    float *xtr = malloc(n_train * sizeof *xtr), *ytr = malloc(n_train * sizeof *ytr);
    float *xte = malloc(n_test * sizeof *xte), *yte = malloc(n_test * sizeof *yte);
    for (int i = 0; i < n_train; i++) {
        xtr[i] = tgt.lo + (tgt.hi - tgt.lo) * nn_rng_uniform(nn_global_rng());
        ytr[i] = target_f(&tgt, xtr[i]);
    }
    for (int i = 0; i < n_test; i++) {
        xte[i] = tgt.lo + (tgt.hi - tgt.lo) * (float)i / (n_test - 1);
        yte[i] = target_f(&tgt, xte[i]);
    }
    nn_tensor *Xtr = nn_from_array(xtr, NN_SHAPE(n_train, 1));
    nn_tensor *Ytr = nn_from_array(ytr, NN_SHAPE(n_train, 1));
    nn_tensor *Xte = nn_from_array(xte, NN_SHAPE(n_test, 1));
    nn_tensor *Yte = nn_from_array(yte, NN_SHAPE(n_test, 1));

    /* ---- two models of the same shape ---- */
    nn_model *m_lin = nn_model_new(), *m_act = nn_model_new();
    mlp lin = mlp_new(m_lin, false);
    mlp act = mlp_new(m_act, true);
    printf("\n(a) no activation:  y = ((x W1 + b1) W2 + b2) W3 + b3\n");
    printf("(b) with tanh:      y = tanh(tanh(x W1 + b1) W2 + b2) W3 + b3\n");
    printf("layer output shapes for the training batch, input (%d, 1):\n", n_train);
    mlp_forward(&act, Xtr, true);
    nn_graph_clear();
    printf("parameters (the same for both):\n");
    nn_model_summary(m_act, stdout);

    nn_optim *o_lin = nn_adam_new(m_lin, 0.01f, 0.0f), *o_act = nn_adam_new(m_act, 0.01f, 0.0f);
    printf("\ntraining both with Adam (lr 0.01, then 0.002 for the last third; full batch, "
           "MSE loss):\n");
    printf("  %6s %14s %14s\n", "step", "loss (a) lin", "loss (b) tanh");
    double t0 = nn_seconds();
    float loss_lin = 0.0f, loss_act = 0.0f;
    mlp *nets[2] = {&lin, &act};
    nn_model *models[2] = {m_lin, m_act};
    nn_optim *optims[2] = {o_lin, o_act};
    float *losses[2] = {&loss_lin, &loss_act};
    for (int s = 1; s <= steps; s++) {
        if (s == steps * 2 / 3) o_lin->lr = o_act->lr = 0.002f; /* smaller steps to finish */
        for (int k = 0; k < 2; k++) {
            nn_tensor *loss = nn_mse_loss(mlp_forward(nets[k], Xtr, false), Ytr);
            nn_model_zero_grad(models[k]);
            nn_backward(loss);
            nn_optim_step(optims[k]);
            *losses[k] = nn_item(loss);
            nn_graph_clear();
        }
        if (s == 1 || s % (steps / 10) == 0)
            printf("  %6d %14.6f %14.6f\n", s, loss_lin, loss_act);
    }
    double secs = nn_seconds() - t0;
    printf("  trained in %.2f s\n", secs);

    float *p_lin = malloc(n_test * sizeof *p_lin), *p_act = malloc(n_test * sizeof *p_act);
    float mse_lin = eval_mse(&lin, Xte, Yte, p_lin);
    float mse_act = eval_mse(&act, Xte, Yte, p_act);

    /* ---- proof that (a) is one line: multiply the layers out ---- */
    bool was = nn_set_grad_enabled(false);
    nn_tensor *W = nn_matmul(nn_matmul(lin.fc1->W, lin.fc2->W), lin.fc3->W); /* (1, 1) */
    nn_tensor *b1 = nn_reshape(lin.fc1->b, NN_SHAPE(1, HIDDEN));
    nn_tensor *B = nn_add(nn_matmul(nn_add(nn_matmul(b1, lin.fc2->W), lin.fc2->b), lin.fc3->W),
                          lin.fc3->b); /* (1, 1) */
    float Wc = W->data[0], Bc = B->data[0];
    nn_graph_clear();
    nn_set_grad_enabled(was);
    double line_diff = 0.0;
    for (int i = 0; i < n_test; i++) line_diff = fmax(line_diff, fabs(Wc * xte[i] + Bc - p_lin[i]));
    /* The best any line can do: least squares on the training points. */
    double mx = 0, my = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n_train; i++) mx += xtr[i], my += ytr[i];
    mx /= n_train, my /= n_train;
    for (int i = 0; i < n_train; i++)
        sxx += (xtr[i] - mx) * (xtr[i] - mx), sxy += (xtr[i] - mx) * (ytr[i] - my);
    double lsq_w = sxy / sxx, lsq_b = my - lsq_w * mx, mse_lsq = 0.0;
    for (int i = 0; i < n_test; i++) {
        double e = lsq_w * xte[i] + lsq_b - yte[i];
        mse_lsq += e * e / n_test;
    }

    printf("\n(a) multiplied out: W = W1 W2 W3 = (1x32)(32x32)(32x1), b = b1 W2 W3 + b2 W3 + b3\n");
    printf("    the whole 3-layer network is  y = %.4f x %c %.4f\n", Wc, Bc < 0 ? '-' : '+',
           fabsf(Bc));
    printf("    (largest gap between this line and the network on the grid: %.2g)\n", line_diff);
    printf("    best possible line (least squares): y = %.4f x %c %.4f, held-out MSE %.4f\n",
           lsq_w, lsq_b < 0 ? '-' : '+', fabs(lsq_b), mse_lsq);
    printf("\nheld-out MSE (on the %d grid points):\n", n_test);
    printf("  (a) no activation: %.6f   <- a line cannot follow the curve\n", mse_lin);
    printf("  (b) tanh:          %.6f   %s\n", mse_act,
           mse_act <= 1e-3f ? "<- target <= 1e-3 reached" : "<- not yet below 1e-3 (more steps?)");

    /* ---- pictures ---- */
    nn_series s[4] = {
        {"truth", xte, yte, n_test, NN_PLOT_LINE},
        {"(a) linear layers only", xte, p_lin, n_test, NN_PLOT_LINE},
        {"(b) with tanh", xte, p_act, n_test, NN_PLOT_LINE},
        {"training points", xtr, ytr, n_train, NN_PLOT_POINTS},
    };
    printf("\n");
    nn_plot_ascii(stdout, s, 3, 64, 18); /* (b) is drawn last and hides the truth it fits */
    char title[128];
    snprintf(title, sizeof title, "Fitting y = %s: without and with an activation", tgt.formula);
    int failed = nn_plot_svg_in(out_dir, "why_activation.svg", title, "x", "y", s, 4) != 0;

    printf("result: target=%s mse_linear=%.4f mse_tanh=%.2e mse_best_line=%.4f composed_w=%.4f "
           "composed_b=%.4f steps=%d seconds=%.2f\n",
           tgt.name, mse_lin, mse_act, mse_lsq, Wc, Bc, steps, secs);

    nn_optim_free(o_lin);
    nn_optim_free(o_act);
    nn_model_free(m_lin);
    nn_model_free(m_act);
    nn_tensor_free(Xtr);
    nn_tensor_free(Ytr);
    nn_tensor_free(Xte);
    nn_tensor_free(Yte);
    free(xtr), free(ytr), free(xte), free(yte), free(p_lin), free(p_act);
    nn_graph_release();
    return failed ? 1 : 0;
}
