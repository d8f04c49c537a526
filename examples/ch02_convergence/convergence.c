/* examples/ch02_convergence/convergence.c — 收敛速度 (convergence speed): SGD, momentum, Adam,
 * and a learning rate that is too large.
 *
 * An ill-conditioned problem: linear regression y = w1 x1 + w2 x2 where x1 varies 10 times
 * more than x2. The loss is a long narrow valley: steep across w1, nearly flat along w2
 * (curvatures 2 and 0.02, a condition number of 100). Plain gradient descent must keep its
 * step small enough for the steep direction (lr < 2 / 2 = 1), and then crawls along the flat
 * one. Momentum keeps a running velocity, so the small consistent pull along w2 adds up;
 * Adam divides each coordinate's step by the size of its recent gradients, so both
 * directions move at a similar pace. A learning rate above the limit makes w1 overshoot
 * further at every step: the loss oscillates and grows (diverges).
 *
 *   convergence [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 200 (at least 2), --seed 1; --quick changes nothing (200 steps take
 *   milliseconds). Writes DIR/ch02_convergence_loss.svg and DIR/ch02_convergence_path.svg
 *   (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define N_POINTS 256

typedef struct method {
    const char *name, *key;
    int adam;         /* 0: SGD, 1: Adam */
    float lr;         /* SGD: in units of 1 / (the steepest curvature); Adam: as is */
    float momentum;
} method;

/* Gradient descent on a quadratic with curvature c multiplies the distance to the minimum
 * along that direction by (1 - lr c) per step: it shrinks when 0 < lr c < 2, flips sign
 * (oscillates) when lr c > 1, and grows (diverges) when lr c > 2. */
static const method methods[] = {
    {"SGD", "sgd", 0, 1.0f, 0.0f},               /* the largest step without overshooting */
    {"SGD+momentum", "momentum", 0, 1.0f, 0.9f},
    {"Adam", "adam", 1, 0.1f, 0.0f},
    {"SGD lr x1.9", "sgd_osc", 0, 1.9f, 0.0f},   /* overshoots: oscillates, still converges */
    {"SGD lr x2.1", "sgd_big", 0, 2.1f, 0.0f},   /* overshoots more each step: diverges */
};
enum { NM = sizeof methods / sizeof methods[0] };

int main(int argc, char **argv) {
    bool quick = false; /* 200 steps take milliseconds, so --quick changes nothing */
    uint64_t seed = 1;
    int steps = 200;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "accepted like everywhere; changes nothing, it is quick"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 2, 1000000, "steps of each method"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the two SVG pictures (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Convergence speed on a long narrow valley (linear regression with one input\n"
                     "10 times wider than the other): plain gradient descent, momentum and Adam,\n"
                     "and a learning rate above the limit, which diverges.",
                     opts, NN_COUNTOF(opts));
    printf("chapter 2: convergence speed (收敛速度)\n");
    printf("seed %llu; y = 2 x1 + 3 x2, x1 ~ N(0, 1), x2 ~ N(0, 0.1^2), %d points, MSE, "
           "start at w = (-2, -2), %d steps\n", (unsigned long long)seed, N_POINTS, steps);

    nn_seed(seed);
    nn_tensor *x = nn_zeros(NN_SHAPE(N_POINTS, 2));
    nn_tensor *y = nn_zeros(NN_SHAPE(N_POINTS, 1));
    for (int i = 0; i < N_POINTS; i++) {
        float a = nn_rng_normal(nn_global_rng()), b = 0.1f * nn_rng_normal(nn_global_rng());
        x->data[2 * i] = a;
        x->data[2 * i + 1] = b;
        y->data[i] = 2.0f * a + 3.0f * b;
    }

    /* The curvatures: eigenvalues of the Hessian H = (2 / N) X^T X of the MSE. */
    double a = 0, b = 0, c = 0;
    for (int i = 0; i < N_POINTS; i++) {
        double u = x->data[2 * i], v = x->data[2 * i + 1];
        a += 2 * u * u / N_POINTS;
        b += 2 * u * v / N_POINTS;
        c += 2 * v * v / N_POINTS;
    }
    double mid = 0.5 * (a + c), rad = sqrt(0.25 * (a - c) * (a - c) + b * b);
    double steep = mid + rad, flat = mid - rad;
    printf("curvatures (Hessian eigenvalues): steep %.4f, flat %.4f, condition number %.0f\n",
           steep, flat, steep / flat);
    printf("SGD learning rates below are multiples of 1 / %.4f = %.4f; SGD diverges above "
           "2 / %.4f = %.4f\n", steep, 1.0 / steep, steep, 2.0 / steep);

    float *loss[NM], *w1[NM], *w2[NM];
    float lrs[NM];
    for (int k = 0; k < NM; k++) {
        nn_model *m = nn_model_new();
        nn_tensor *w = nn_model_param(m, "w", NN_SHAPE(2, 1), false);
        w->data[0] = -2.0f;
        w->data[1] = -2.0f;
        lrs[k] = methods[k].adam ? methods[k].lr : (float)(methods[k].lr / steep);
        nn_optim *opt = methods[k].adam ? nn_adam_new(m, lrs[k], 0.0f)
                                        : nn_sgd_new(m, lrs[k], methods[k].momentum, 0.0f);
        loss[k] = calloc(steps + 1, sizeof(float));
        w1[k] = calloc(steps + 1, sizeof(float));
        w2[k] = calloc(steps + 1, sizeof(float));
        for (int s = 0; s <= steps; s++) {
            nn_tensor *l = nn_mse_loss(nn_matmul(x, w), y);
            loss[k][s] = nn_item(l);
            w1[k][s] = w->data[0];
            w2[k][s] = w->data[1];
            if (s < steps) {
                nn_model_zero_grad(m);
                nn_backward(l);
                nn_optim_step(opt);
            }
            nn_graph_clear();
        }
        nn_optim_free(opt);
        nn_model_free(m);
    }

    printf("\nloss per step (the minimum is 0 at w = (2, 3)):\n  %5s", "step");
    for (int k = 0; k < NM; k++) printf(" %14s", methods[k].name);
    printf("\n");
    int show[] = {0, 1, 2, 3, 5, 10, 20, 50, 100, 150, 200, 500, 1000};
    for (size_t j = 0; j < sizeof show / sizeof show[0] && show[j] <= steps; j++) {
        printf("  %5d", show[j]);
        for (int k = 0; k < NM; k++) printf(" %14.4g", loss[k][show[j]]);
        printf("\n");
    }
    printf("\nwhere each one ended:\n");
    for (int k = 0; k < NM; k++)
        printf("  %-14s lr %-7.4g w = (%10.4g, %10.4g)  loss %.4g\n", methods[k].name, lrs[k],
               w1[k][steps], w2[k][steps], loss[k][steps]);
    /* The first steps of the two large learning rates: w1 jumps across the valley. */
    for (int k = 3; k < NM; k++) {
        printf("%s, w1 over the first steps: ", methods[k].name);
        for (int s = 0; s <= 6; s++) printf("%.3f ", w1[k][s]);
        printf("...\n");
    }

    /* Steps until the loss is below 1e-3 (-1: never). */
    int reach[NM];
    for (int k = 0; k < NM; k++) {
        reach[k] = -1;
        for (int s = 0; s <= steps; s++)
            if (loss[k][s] < 1e-3f) {
                reach[k] = s;
                break;
            }
        printf("  %-14s loss < 1e-3 after %s%d steps\n", methods[k].name,
               reach[k] < 0 ? "more than " : "", reach[k] < 0 ? steps : reach[k]);
    }

    /* ---- pictures ---------------------------------------------------------------------------- */
    float *lg[NM];
    nn_series ls[NM], path_s[NM];
    for (int k = 0; k < NM; k++) {
        lg[k] = malloc((steps + 1) * sizeof(float));
        for (int s = 0; s <= steps; s++) lg[k][s] = log10f(loss[k][s]);
        ls[k] = (nn_series){methods[k].name, NULL, lg[k], steps + 1, NN_PLOT_LINE};
        /* the path in the (w1, w2) plane; the diverging one is cut after a few steps */
        path_s[k] = (nn_series){methods[k].name, w1[k], w2[k], k == NM - 1 ? 8 : steps + 1,
                                NN_PLOT_LINE};
    }
    printf("\n");
    int failed = 0; /* pictures that could not be written (each says why) */
    failed += nn_plot_svg_in(out_dir, "ch02_convergence_loss.svg",
                             "Ill-conditioned regression: loss per step", "step", "log10 loss",
                             ls, NM) != 0;
    failed += nn_plot_svg_in(out_dir, "ch02_convergence_path.svg",
                             "The path of (w1, w2) from (-2, -2) to the minimum (2, 3)", "w1", "w2",
                             path_s, NM - 1) != 0; /* the diverging one would stretch the axes */
    printf("\nlog10 loss per step (without the diverging run, which would squash the rest)\n");
    nn_plot_ascii(stdout, ls, NM - 1, 60, 14);

    printf("result: seed=%llu steps=%d", (unsigned long long)seed, steps);
    for (int k = 0; k < NM; k++)
        printf(" %s_loss=%.4g %s_steps_to_1e-3=%d", methods[k].key, loss[k][steps], methods[k].key,
               reach[k]);
    printf(" start_loss=%.4g\n", loss[0][0]);

    for (int k = 0; k < NM; k++) {
        free(lg[k]);
        free(loss[k]);
        free(w1[k]);
        free(w2[k]);
    }
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_graph_release();
    return failed ? 1 : 0;
}
