/* examples/ch06_prune/prune.c — 剪枝 (pruning): remove most of a trained network's weights,
 * retrain the rest, and see how little accuracy it costs.
 *
 * The tutorial: 剪枝就是把模型中不重要的参数去掉 — pruning takes the unimportant parameters
 * out of a model, so it is smaller and faster with almost the same answers. "Unimportant" here
 * is the simplest measure, the size of the weight (magnitude pruning, Han et al. 2015):
 *   mask = 0 for the fraction s (the sparsity) of weights with the smallest |w|, 1 elsewhere
 *   w <- w * mask                           (nn_prune_magnitude, nn/net/prune.h)
 * then a few epochs of retraining with the mask held (nn_prune_apply after every step), so the
 * weights that are left take over the work of the ones that are gone.
 *
 * Chapter 3's two Fashion-MNIST networks (examples/common/fashion_nets.h) are trained, then
 * pruned step by step to 50%, 75%, 90% and 95% sparsity, retrained after each step (Han et al.'s
 * iterative schedule: each step starts from the last one's retrained weights and keeps its
 * zeros; --oneshot starts every level from the trained weights instead, which loses more at
 * high sparsity). Printed per level: test accuracy right after pruning and after retraining,
 * the parameters kept (biases included: they are never pruned), and the share each weight
 * tensor kept.
 *   MLP: flatten -> fc 256 + relu -> fc 128 + relu -> fc 10              235,146 parameters
 *   CNN: conv 16@3x3 -> pool -> conv 32@3x3 -> pool -> fc 128 -> fc 10   206,922 parameters
 * --scope layer (the default) takes the same fraction from every weight tensor. --scope global
 * uses one |w| threshold over all of them, so each layer keeps what it needs: in the CNN the
 * 144 conv1 weights, which every later layer depends on, keep most of theirs and the 200,704
 * fc1 weights lose nearly all; at 90-95% that retrains to a better accuracy. But a layer whose
 * weights are small as a whole goes almost entirely: the last layer starts 10x smaller
 * (fashion_shrink_last), and after the short --quick training a global 90% leaves it 1 weight
 * of 1,280 and the MLP at chance. (Han et al. set one threshold per layer, a multiple of that
 * layer's spread of weights.)
 * The yardstick: Han et al. 2015 pruned LeNet-300-100 on MNIST to 8% of its weights (12x
 * fewer) with no loss of accuracy after retraining (1.64% -> 1.59% error).
 *
 *   prune [--quick | --full] [--model mlp|cnn|both] [--scope layer|global] [--oneshot]
 *         [--seed N] [--data DIR] [--out DIR] [--train N] [--epochs N] [--retrain N]
 *         [--lr X] [--retrain-lr X]
 *   default  4,000 training pictures, MLP 6 / CNN 3 epochs, 2 epochs of retraining per level
 *            (Adam from lr 0.003 again: a heavily pruned net has much to relearn), tested on
 *            2,000 test pictures: about 30 s of one core
 *   --full   55,000 training pictures, MLP 20 / CNN 10 epochs, 2 epochs of retraining, lr
 *            0.001 for both, the 10,000 test pictures (about 11 minutes of one core): after
 *            retraining, MLP 0.901 -> 0.899 / 0.891 / 0.876 / 0.849 at 50 / 75 / 90 / 95%, CNN
 *            0.918 -> 0.916 / 0.902 / 0.854 / 0.830 (--scope global, MLP: 0.900 / 0.896 /
 *            0.882 / 0.868); two epochs per step are far less retraining than Han et al. did
 *   --quick  1,000 pictures, MLP 2 / CNN 1 epochs, 1 of retraining, 500 test pictures (the
 *            smoke tests: a few seconds)
 * Without Debian's dataset-fashion-mnist it runs on a synthetic stand-in (and says so).
 * Writes DIR/ch06_prune.svg: test accuracy against sparsity, after pruning and after
 * retraining, both networks. Exit status 1 when a pruned weight is not 0 after retraining or
 * the picture cannot be written.
 */
#include "../common/fashion_nets.h"

enum { LEVELS = 4 };
static const float SPARSITY[LEVELS] = {0.50f, 0.75f, 0.90f, 0.95f};

typedef struct outcome {
    const char *name, *key;                  /* "MLP", "mlp" */
    float dense;                             /* test accuracy of the trained network */
    float pruned[LEVELS], retrained[LEVELS]; /* right after pruning, after retraining */
    size_t kept[LEVELS];                     /* the model's floats left (biases included) */
    size_t params;                           /* all of them */
    size_t leaks;                            /* pruned weights not 0 after retraining (0) */
} outcome;

/* The retraining hook: fashion_train calls it after every optimizer step. */
static void put_mask_back(void *mask) { nn_prune_apply(mask); }

/* Pruned weights that are not exactly 0. */
static size_t leaks(const nn_prune_mask *mask) {
    size_t bad = 0;
    for (size_t i = 0; i < mask->count; i++) bad += !mask->keep[i] && mask->model->data[i] != 0.0f;
    return bad;
}

/* "fc1.W 10%  fc2.W 10% ...": the share each weight tensor kept. */
static void print_kept_per_tensor(const nn_model *m, const nn_prune_mask *mask) {
    printf("        kept per tensor:");
    for (int p = 0; p < m->nparams; p++)
        if (mask->chosen[p])
            printf("  %s %.1f%%", m->params[p]->name,
                   100.0 * (double)nn_prune_kept(mask, m->params[p]) / (double)m->params[p]->size);
    printf("\n");
}

static outcome prune_and_retrain(fashion_net *n, nn_dataset *tr, const nn_dataset *test,
                                 int epochs, int retrain, float lr, float retrain_lr,
                                 nn_prune_scope scope, bool oneshot) {
    outcome o = {.name = n->name, .key = n->kind == FASHION_MLP ? "mlp" : "cnn",
                 .params = n->model->count};
    printf("\n== %s: %zu parameters, %d epochs of %d pictures, Adam lr %g -> 0 ==\n", n->name,
           o.params, epochs, tr->n, lr);
    double t0 = nn_seconds();
    fashion_train(n, tr, epochs, lr, NULL, NULL, false);
    o.dense = fashion_evaluate(n, test, NULL, NULL);
    printf("  trained: test accuracy %.4f (%d errors of %d), %.1f s\n", o.dense,
           (int)lroundf((1.0f - o.dense) * test->n), test->n, nn_seconds() - t0);

    /* The first level (every level with --oneshot) starts from these trained weights; the
     * others from the last level's retrained ones, whose zeros rank first and stay zeros. */
    float *trained = malloc(o.params * sizeof(float));
    memcpy(trained, n->model->data, o.params * sizeof(float));
    printf("  sparsity   params kept    ratio   right after pruning   after %d epoch%s of "
           "retraining (lr %g)\n", retrain, retrain == 1 ? "" : "s", retrain_lr);
    for (int k = 0; k < LEVELS; k++) {
        if (oneshot || k == 0) memcpy(n->model->data, trained, o.params * sizeof(float));
        nn_prune_mask *mask = nn_prune_magnitude(n->model, NULL, SPARSITY[k], scope);
        o.kept[k] = o.params - (mask->total - mask->kept);
        o.pruned[k] = fashion_evaluate(n, test, NULL, NULL);
        fashion_train(n, tr, retrain, retrain_lr, put_mask_back, mask, true);
        o.leaks += leaks(mask);
        o.retrained[k] = fashion_evaluate(n, test, NULL, NULL);
        printf("  %6.0f%%   %8zu / %zu  %5.1fx   %.4f (%+.4f)       %.4f (%+.4f)\n",
               100.0f * SPARSITY[k], o.kept[k], o.params, (double)o.params / (double)o.kept[k],
               o.pruned[k], o.pruned[k] - o.dense, o.retrained[k], o.retrained[k] - o.dense);
        print_kept_per_tensor(n->model, mask);
        fflush(stdout);
        nn_prune_free(mask);
    }
    free(trained);
    printf("  %s: %.1f s in all\n", n->name, nn_seconds() - t0);
    return o;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    uint64_t seed = 42;
    const char *which = "both", *scope_name = "layer", *data_dir = NULL, *out_dir = "out";
    int n_train = 4000, epochs = 0 /* not set */, retrain = 2;
    float lr = 3e-3f, retrain_lr = 0 /* not set: lr */;
    bool oneshot = false;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests (a few seconds)"),
        NN_OPT_FLAG("--full", &full, "55,000 training pictures, more epochs (minutes)"),
        NN_OPT_CHOICE("--model", &which, "mlp|cnn|both", "which network(s) to prune"),
        NN_OPT_CHOICE("--scope", &scope_name, "layer|global",
                      "the same fraction of each weight tensor, or one |w| threshold over all"),
        NN_OPT_FLAG("--oneshot", &oneshot,
                    "prune every level from the trained weights (default: step by step)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--data", &data_dir, "DIR", "the folder with the four Fashion-MNIST files "
                                               "(none: $NN_FASHION_MNIST_DIR, else "
                                               NN_FASHION_MNIST_DIR ")"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the picture"),
        NN_OPT_INT("--train", &n_train, 100, 59000,
                   "training pictures (1000 with --quick, 55000 with --full)"),
        NN_OPT_INT("--epochs", &epochs, 1, 100,
                   "training epochs of both networks (MLP 6 / CNN 3; --quick 2 / 1; "
                   "--full 20 / 10)"),
        NN_OPT_INT("--retrain", &retrain, 1, 100,
                   "retraining epochs per sparsity level (1 with --quick)"),
        NN_OPT_FLOAT("--retrain-lr", &retrain_lr, 1e-6, 1,
                     "retraining's starting learning rate (default: --lr)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's starting learning rate (0.001 with --full)"),
    };
    const int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "Magnitude pruning (剪枝) of chapter 3's Fashion-MNIST MLP and CNN: train,\n"
                     "set the 50/75/90/95% smallest weights to 0, test, retrain with the zeros\n"
                     "held, test again. Without the data set it runs on a synthetic stand-in.",
                     opts, nopts);
    if (quick) full = false;   /* --quick wins */
    if (!nn_option_given(opts, nopts, "--train")) n_train = quick ? 1000 : full ? 55000 : n_train;
    bool ep = nn_option_given(opts, nopts, "--epochs");
    int mlp_epochs = ep ? epochs : quick ? 2 : full ? 20 : 6;
    int cnn_epochs = ep ? epochs : quick ? 1 : full ? 10 : 3;
    if (quick && !nn_option_given(opts, nopts, "--retrain")) retrain = 1;
    if (full && !nn_option_given(opts, nopts, "--lr")) lr = 1e-3f;   /* as chapter 3's --full */
    if (!nn_option_given(opts, nopts, "--retrain-lr")) retrain_lr = lr;
    int n_val = quick ? 200 : full ? 5000 : 1000;
    int n_test = quick ? 500 : full ? 10000 : 2000;
    nn_prune_scope scope = strcmp(scope_name, "global") == 0 ? NN_PRUNE_GLOBAL : NN_PRUNE_LAYER;
    bool run_mlp = strcmp(which, "cnn") != 0, run_cnn = strcmp(which, "mlp") != 0;
    nn_seed(seed);

    printf("ch06 pruning (剪枝): magnitude pruning of chapter 3's Fashion-MNIST networks\n");
    printf("  mask = 0 for the fraction s of weights with the smallest |w|; w <- w * mask after "
           "every step of retraining\n");
    printf("  scope: %s; %s\n",
           scope == NN_PRUNE_LAYER ? "per layer (each weight tensor loses the fraction s)"
                                   : "global (one |w| threshold over all weight tensors)",
           oneshot ? "every level pruned from the trained weights (one-shot)"
                   : "step by step, each level from the last one's retrained weights");
    printf("seed %llu, mode %s\n", (unsigned long long)seed,
           quick ? "--quick" : full ? "--full" : "default (--full for the whole data set)");

    nn_dataset tr, val, test;
    const char *data_name;
    if (fashion_open("prune", data_dir, n_train, n_val, n_test, quick ? 600 : 3000,
                     quick ? 300 : 1000, &tr, &val, &test, &data_name) != 0)
        return 1;
    printf("data (%s): %d training, %d test pictures\n", data_name, tr.n, test.n);

    outcome res[2];
    int nres = 0;
    if (run_mlp) {
        fashion_net n = fashion_mlp_new("MLP", 256, 128);
        res[nres++] = prune_and_retrain(&n, &tr, &test, mlp_epochs, retrain, lr, retrain_lr,
                                        scope, oneshot);
        nn_model_free(n.model);
    }
    if (run_cnn) {
        fashion_net n = fashion_cnn_new("CNN", 0.25f);
        res[nres++] = prune_and_retrain(&n, &tr, &test, cnn_epochs, retrain, lr, retrain_lr,
                                        scope, oneshot);
        nn_model_free(n.model);
    }

    /* ---- summary, picture, result line ---- */
    printf("\n== test accuracy by sparsity (0%% = the trained network) ==\n  %-6s", "model");
    printf("  %14s", "0%");
    for (int k = 0; k < LEVELS; k++) printf("  %6.0f%% pruned/retrained", 100.0f * SPARSITY[k]);
    printf("\n");
    for (int i = 0; i < nres; i++) {
        printf("  %-6s  %14.4f", res[i].key, res[i].dense);
        for (int k = 0; k < LEVELS; k++)
            printf("  %10.4f / %.4f    ", res[i].pruned[k], res[i].retrained[k]);
        printf("\n");
    }
    printf("  yardstick (Han et al. 2015, LeNet-300-100 on MNIST): 92%% pruned (8%% kept, 12x), "
           "no accuracy lost after retraining\n");

    float xs[LEVELS + 1] = {0};
    float ys[4][LEVELS + 1];
    char names[4][48];
    nn_series series[4];
    for (int i = 0; i < nres; i++) {
        for (int k = 0; k <= LEVELS; k++) {
            if (k) xs[k] = 100.0f * SPARSITY[k - 1];
            ys[2 * i][k] = k ? res[i].pruned[k - 1] : res[i].dense;
            ys[2 * i + 1][k] = k ? res[i].retrained[k - 1] : res[i].dense;
        }
        snprintf(names[2 * i], sizeof names[0], "%s right after pruning", res[i].name);
        snprintf(names[2 * i + 1], sizeof names[0], "%s after retraining", res[i].name);
        series[2 * i] = (nn_series){names[2 * i], xs, ys[2 * i], LEVELS + 1, NN_PLOT_LINE};
        series[2 * i + 1] = (nn_series){names[2 * i + 1], xs, ys[2 * i + 1], LEVELS + 1,
                                        NN_PLOT_LINE};
    }
    int failed = nn_plot_svg_in(out_dir, "ch06_prune.svg",
                                "Magnitude pruning on Fashion-MNIST: test accuracy",
                                "sparsity (% of weights set to 0)", "test accuracy", series,
                                2 * nres) != 0;
    for (int i = 0; i < nres; i++)
        if (res[i].leaks) {
            fprintf(stderr, "prune: %zu pruned %s weights were not 0 after retraining\n",
                    res[i].leaks, res[i].key);
            failed = 1;
        }

    printf("result: data=%s train=%d test=%d scope=%s schedule=%s", data_name, tr.n, test.n,
           scope_name, oneshot ? "oneshot" : "iterative");
    for (int i = 0; i < nres; i++) {
        printf(" %s_dense=%.4f", res[i].key, res[i].dense);
        for (int k = 0; k < LEVELS; k++) {
            int pct = (int)lroundf(100.0f * SPARSITY[k]);
            printf(" %s_s%d_pruned=%.4f %s_s%d_retrained=%.4f", res[i].key, pct, res[i].pruned[k],
                   res[i].key, pct, res[i].retrained[k]);
        }
        printf(" %s_kept95=%zu %s_params=%zu", res[i].key, res[i].kept[LEVELS - 1], res[i].key,
               res[i].params);
    }
    printf("\n");

    nn_dataset_free(&tr), nn_dataset_free(&val), nn_dataset_free(&test);
    nn_graph_release();
    return failed ? 1 : 0;
}
