/* examples/ch03_fashion/mlp_vs_cnn.c — an MLP and a CNN on Fashion-MNIST, side by side.
 *
 * The tutorial: replace a fully connected layer (全连接层) by a convolution layer (卷积层),
 * follow it with pooling (池化) to shrink the feature maps, and let training find the kernel
 * values (深度学习中卷积核的值是训练出来的). Here both networks classify 28x28 grey pictures of
 * clothes into 10 classes; each is trained with Adam on the same data, picked by the same
 * validation split, and tested once on the official 10,000 test pictures it never saw.
 *
 *   MLP:  x (N,1,28,28) -> flatten (N,784) -> fc 256 + relu -> fc 128 + relu -> fc 10
 *   CNN:  x (N,1,28,28) -> conv 16@3x3 pad 1 + relu -> maxpool 2 -> (N,16,14,14)
 *                       -> conv 32@3x3 pad 1 + relu -> maxpool 2 -> (N,32,7,7)
 *                       -> flatten (N,1568) -> fc 128 + relu + dropout 0.25 -> fc 10
 *   loss: cross-entropy of softmax(logits), L = -(1/N) sum log p[label]
 *
 *   mlp_vs_cnn [--quick | --full] [--model mlp|cnn|both] [--seed N] [--data DIR] [--out DIR]
 *              [--epochs N | --mlp-epochs N --cnn-epochs N] [--train N] [--lr X]
 *              [--dropout X] [--shift N] [--flip 0|1]          (--help lists them all)
 *
 *   default  12,000 training pictures (+2,000 validation), 8 + 5 epochs, lr 0.003: ~20 s
 *   --full   55,000 training + 5,000 validation, 20 + 20 epochs, lr 0.001, the CNN's training
 *            pictures moved by up to 1 pixel: ~89% (MLP) / ~92.5% (CNN), 5-10 minutes
 *   --quick  a tiny run for the tests (about a second)
 * --quick wins over --full. --shift N moves each training picture of the CNN by up to N
 * pixels (random crop with padding; 0 by default, 1 with --full), --flip 1 mirrors half of
 * them left-right, --dropout sets the CNN's dropout (0.25); --epochs N sets both epoch
 * counts, --mlp-epochs / --cnn-epochs one each (1 .. 100); --train N (at least 100) the
 * number of training pictures.
 * Every default was picked by validation accuracy, never by the test set. On a busy machine
 * OMP_NUM_THREADS=1 can be much faster than two threads fighting for one free core.
 * The data comes from --data DIR, else $NN_FASHION_MNIST_DIR, else /usr/share/datasets/
 * fashion-mnist (Debian's dataset-fashion-mnist). When that default folder is missing the
 * program says so and trains on a small synthetic stand-in (simple shapes), so the code
 * still runs end to end; a folder you name (--data or NN_FASHION_MNIST_DIR) that lacks the
 * files or holds broken ones is an error instead: it says what is wrong and exits with 1.
 *
 * Writes to --out DIR (default: out): cnn.nnck (the trained CNN, for
 * classify), ch03_cnn_conv1_kernels.png (the 16 learned first-layer kernels),
 * ch03_cnn_feature_maps.png (what they make of one test picture), ch03_fashion_accuracy.svg
 * and ch03_fashion_loss.svg (the training curves). Exit status 1 when one of them cannot be
 * written.
 */
#include "../common/fashion_nets.h"

#define CLASSES FASHION_CLASSES /* 10 */
#define SIDE FASHION_SIDE       /* 28: pictures are 28 x 28 */
#define MAX_EPOCHS 100

/* ---- training -------------------------------------------------------------------------- */

typedef struct history {
    int epochs;
    float train_loss[MAX_EPOCHS], val_loss[MAX_EPOCHS], val_acc[MAX_EPOCHS];
    float start_loss;
    double train_seconds;   /* training steps only, all epochs */
    int best_epoch;         /* 1-based: the epoch whose weights were kept */
} history;

/* Adam with a cosine learning-rate schedule (lr goes smoothly from lr0 to 0 over the run),
 * mini-batches of 64 in a new random order each epoch. After every epoch the validation
 * loss and accuracy are measured; at the end the weights of the epoch with the best
 * validation accuracy are put back (nn_early_stop, fed the error rate 1 - accuracy, is used
 * here only for its snapshot of the best weights: its patience never runs out). */
static history train(fashion_net *n, nn_dataset *tr, const nn_dataset *val, int epochs, float lr0,
                     int shift, bool flip) {
    history h = {.epochs = epochs};
    const int B = 64;
    long steps_per_epoch = (tr->n + B - 1) / B, total = steps_per_epoch * epochs, step = 0;
    nn_optim *opt = nn_adam_new(n->model, lr0, 0.0f);
    nn_early_stop *keep = nn_early_stop_new(n->model, epochs + 1, 0.0f);
    float val_loss;
    fashion_evaluate(n, val, &val_loss, NULL);
    h.start_loss = val_loss;
    printf("  before training: validation loss %.4f, expected ln(10) = %.4f for an even guess\n  ",
           val_loss, logf(CLASSES));
    nn_check_start_loss(stdout, val_loss, CLASSES);
    for (int e = 0; e < epochs; e++) {
        nn_dataset_shuffle(tr, NULL);
        double t0 = nn_seconds(), loss_sum = 0.0;
        int labels[64];
        nn_progress bar;
        char label[32];
        snprintf(label, sizeof label, "%s epoch %d", n->name, e + 1);
        nn_progress_start(&bar, label, steps_per_epoch);
        for (int s = 0, k = 0; s < tr->n; s += B, k++, step++) {
            opt->lr = 0.5f * lr0 * (1.0f + cosf(3.14159265f * (float)step / (float)total));
            nn_tensor *x = nn_dataset_batch(tr, s, B, labels);
            if (shift > 0) x = nn_aug_random_crop(x, shift, NULL); /* move by up to `shift` px */
            if (flip) x = nn_aug_random_flip_h(x, 0.5f, NULL);     /* mirror half of them */
            nn_tensor *loss = nn_cross_entropy_loss(fashion_forward(n, x, false, NULL), labels);
            float lv = nn_item(loss);
            loss_sum += (double)lv * x->shape[0];
            nn_model_zero_grad(n->model);
            nn_backward(loss);
            nn_optim_step(opt);
            nn_graph_clear();
            nn_progress_update(&bar, k + 1, "loss %.4f", lv);
        }
        nn_progress_finish(&bar);
        double secs = nn_seconds() - t0;
        h.train_seconds += secs;
        h.train_loss[e] = (float)(loss_sum / tr->n);
        h.val_acc[e] = fashion_evaluate(n, val, &h.val_loss[e], NULL);
        nn_early_stop_check(keep, 1.0f - h.val_acc[e]); /* the validation error rate */
        printf("  epoch %2d/%d  train loss %.4f  val loss %.4f  val acc %.4f  lr %.5f  %.1f s\n",
               e + 1, epochs, h.train_loss[e], h.val_loss[e], h.val_acc[e], opt->lr, secs);
        fflush(stdout);
    }
    h.best_epoch = keep->best_check + 1;
    nn_early_stop_restore(keep);
    printf("  kept the weights of epoch %d (best validation accuracy %.4f)\n", h.best_epoch,
           1.0f - keep->best);
    nn_early_stop_free(keep);
    nn_optim_free(opt);
    return h;
}

/* ---- pictures and printing ------------------------------------------------------------- */

static const char *ramp = " .:-=+*#%@";

/* Up to `count` 28x28 pictures side by side in the terminal, each 28 characters wide and
 * 14 rows high (two pixel rows per character row keep the shape), under two title lines. */
static void ascii_row(const float *const *imgs, char (*titles)[2][40], int count) {
    for (int line = 0; line < 2; line++) {
        for (int k = 0; k < count; k++) printf("  %-30s", titles[k][line]);
        printf("\n");
    }
    for (int r = 0; r < SIDE; r += 2) {
        for (int k = 0; k < count; k++) {
            printf("  |");
            for (int c = 0; c < SIDE; c++) {
                float v = 0.5f * (imgs[k][r * SIDE + c] + imgs[k][(r + 1) * SIDE + c]);
                int i = (int)(v * 9.99f);
                putchar(ramp[i < 0 ? 0 : i > 9 ? 9 : i]);
            }
            printf("|");
        }
        printf("\n");
    }
}

/* The 16 learned 3x3 kernels of conv1, each enlarged 16 times, in a 8 x 2 grid; and the 16
 * feature maps conv1 + relu makes of one test picture (the picture first), enlarged 3x.
 * Returns how many of the two pictures could not be written. */
static int save_cnn_pictures(const fashion_net *cnn, const nn_dataset *test, const char *dir) {
    nn_tensor *cells[17];
    for (int k = 0; k < 16; k++) {
        nn_tensor *w = nn_from_array(cnn->conv1->W->data + k * 9, NN_SHAPE(1, 3, 3));
        cells[k] = nn_image_scale_nearest(w, 16);
        nn_tensor_free(w);
    }
    nn_tensor *grid = nn_image_grid((const nn_tensor *const *)cells, 16, 8, 4);
    int failed = nn_image_save_png_in(dir, "ch03_cnn_conv1_kernels.png", grid) != 0;
    nn_tensor_free(grid);
    for (int k = 0; k < 16; k++) nn_tensor_free(cells[k]);

    bool was_grad = nn_set_grad_enabled(false), was_train = nn_set_training(false);
    nn_tensor *x = nn_dataset_batch(test, 0, 1, NULL), *maps = NULL;
    fashion_forward(cnn, x, false, &maps);                         /* maps: (1, 16, 28, 28) */
    nn_tensor *pic = nn_from_array(x->data, NN_SHAPE(1, SIDE, SIDE));
    cells[0] = nn_image_scale_nearest(pic, 3);
    nn_tensor_free(pic);
    for (int k = 0; k < 16; k++) {
        nn_tensor *m = nn_from_array(maps->data + (size_t)k * SIDE * SIDE, NN_SHAPE(1, SIDE, SIDE));
        cells[k + 1] = nn_image_scale_nearest(m, 3);
        nn_tensor_free(m);
    }
    nn_graph_clear();
    nn_set_grad_enabled(was_grad);
    nn_set_training(was_train);
    grid = nn_image_grid((const nn_tensor *const *)cells, 17, 9, 4);
    failed += nn_image_save_png_in(dir, "ch03_cnn_feature_maps.png", grid) != 0;
    nn_tensor_free(grid);
    for (int k = 0; k < 17; k++) nn_tensor_free(cells[k]);
    return failed;
}

static void print_confusion(const int *pred, const nn_dataset *test) {
    int cm[CLASSES][CLASSES] = {{0}};
    for (int i = 0; i < test->n; i++) cm[test->labels[test->order[i]]][pred[i]]++;
    printf("confusion matrix of the CNN on the test set (混淆矩阵; rows: true class, columns: "
           "predicted)\n%16s", "");
    for (int c = 0; c < CLASSES; c++) printf(" %5d", c);
    printf("   right\n");
    for (int t = 0; t < CLASSES; t++) {
        int row = 0;
        for (int c = 0; c < CLASSES; c++) row += cm[t][c];
        printf("  %d %-12s ", t, nn_fashion_mnist_classes[t]);
        for (int c = 0; c < CLASSES; c++) printf(" %5d", cm[t][c]);
        printf("  %5.1f%%  %s\n", row ? 100.0 * cm[t][t] / row : 0.0, nn_fashion_mnist_classes_zh[t]);
    }
}

int main(int argc, char **argv) {
    /* The defaults of the default run; --quick and --full change those not given (below). */
    bool quick = false, full = false;
    uint64_t seed = 42;
    const char *which = "both", *data_dir = NULL, *out_dir = "out";
    int n_train = 12000, epochs = 0 /* not set */, mlp_epochs = 8, cnn_epochs = 5;
    int shift = 0, flip = 0;
    float dropout = 0.25f, lr = 3e-3f;
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "a tiny run for the tests (about a second)"),
        NN_OPT_FLAG("--full", &full, "all 55,000 + 5,000 training pictures, 20 + 20 epochs"),
        NN_OPT_CHOICE("--model", &which, "mlp|cnn|both", "which network(s) to train"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--data", &data_dir, "DIR", "the folder with the four Fashion-MNIST files "
                                               "(none: $NN_FASHION_MNIST_DIR, else "
                                               NN_FASHION_MNIST_DIR ")"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for cnn.nnck and the pictures"),
        NN_OPT_INT("--train", &n_train, 100, 60000,
                   "training pictures (1000 with --quick, 55000 with --full)"),
        NN_OPT_INT("--epochs", &epochs, 1, MAX_EPOCHS, "sets both --mlp-epochs and --cnn-epochs"),
        NN_OPT_INT("--mlp-epochs", &mlp_epochs, 1, MAX_EPOCHS,
                   "epochs of the MLP (2 with --quick, 20 with --full)"),
        NN_OPT_INT("--cnn-epochs", &cnn_epochs, 1, MAX_EPOCHS,
                   "epochs of the CNN (1 with --quick, 20 with --full)"),
        NN_OPT_FLOAT("--lr", &lr, 1e-6, 1, "Adam's starting learning rate (0.001 with --full)"),
        NN_OPT_FLOAT("--dropout", &dropout, 0, 0.9, "the CNN's dropout"),
        NN_OPT_INT("--shift", &shift, 0, 8,
                   "move the CNN's training pictures by up to N pixels (1 with --full)"),
        NN_OPT_INT("--flip", &flip, 0, 1, "1: mirror half of the CNN's training pictures"),
    };
    const int nopts = NN_COUNTOF(opts);
    nn_parse_options(argc, argv,
                     "An MLP and a CNN on Fashion-MNIST, side by side: both trained with Adam on the\n"
                     "same pictures, the epoch picked on a validation split, then tested once on\n"
                     "the 10,000 test pictures. Saves the CNN for classify. Without the data set it\n"
                     "trains on a synthetic stand-in.",
                     opts, nopts);
    if (quick) full = false; /* --quick wins */
    if (!nn_option_given(opts, nopts, "--train")) n_train = quick ? 1000 : full ? 55000 : n_train;
    bool ep = nn_option_given(opts, nopts, "--epochs");
    if (!nn_option_given(opts, nopts, "--mlp-epochs"))
        mlp_epochs = ep ? epochs : quick ? 2 : full ? 20 : mlp_epochs;
    if (!nn_option_given(opts, nopts, "--cnn-epochs"))
        cnn_epochs = ep ? epochs : quick ? 1 : full ? 20 : cnn_epochs;
    /* Augmentation (chosen on the validation set): moving the training pictures by up to one
     * pixel helps in the long --full run; in a run of a few epochs it only slows learning. */
    if (full && !nn_option_given(opts, nopts, "--shift")) shift = 1;
    /* The starting learning rate (chosen on the validation set): a short run needs bigger
     * steps; over the 20 epochs of --full, 0.001 does better. */
    if (full && !nn_option_given(opts, nopts, "--lr")) lr = 1e-3f;
    int n_val = quick ? 200 : full ? 5000 : 2000;
    int n_test = quick ? 1000 : 10000;
    bool run_mlp = strcmp(which, "cnn") != 0, run_cnn = strcmp(which, "mlp") != 0;
    nn_seed(seed);

    printf("ch03 MLP vs CNN on Fashion-MNIST (10 classes of clothes, 28x28 grey)\n");
    printf("  MLP: flatten -> fc 256 + relu -> fc 128 + relu -> fc 10\n");
    printf("  CNN: conv 16@3x3 + relu + maxpool 2 -> conv 32@3x3 + relu + maxpool 2 -> fc 128 + "
           "relu + dropout -> fc 10\n");
    printf("  L = -(1/N) sum_n log softmax(logits_n)[label_n]   (cross-entropy 交叉熵), Adam, "
           "cosine learning rate\n");
    printf("seed %llu, mode %s\n", (unsigned long long)seed,
           quick ? "--quick" : full ? "--full" : "default (--full for the whole data set)");

    /* ---- data: train + validation from the training file, test from the test file ---- */
    nn_dataset test, tr, val;
    const char *data_name;
    double t_load = nn_seconds();
    /* A folder the user named must work; only the default one may be missing (then a small
     * synthetic stand-in). */
    if (fashion_open_sized("mlp_vs_cnn", data_dir, n_train, n_val, n_test, quick ? 600 : 3000,
                           quick ? 200 : 500, quick ? 300 : 1000, &tr, &val, &test,
                           &data_name) != 0)
        return 1;
    printf("data (%s): %d training, %d validation (for picking the epoch), %d test pictures "
           "(never trained on); loaded in %.2f s\n",
           data_name, tr.n, val.n, test.n, nn_seconds() - t_load);
    printf("CNN: dropout %.2f; augmentation: random shift by up to %d pixel(s)%s\n", dropout,
           shift, flip ? ", random left-right mirror" : "");

    /* ---- the networks ---- */
    fashion_net nets[2];
    int nnets = 0;
    if (run_mlp) nets[nnets++] = fashion_mlp_new("MLP", 256, 128);
    if (run_cnn) nets[nnets++] = fashion_cnn_new("CNN", dropout);
    for (int i = 0; i < nnets; i++) {
        printf("\n== %s: layer output shapes for a batch of 64 ==\n", nets[i].name);
        int lab[64];
        nn_tensor *x = nn_dataset_batch(&tr, 0, 64, lab);
        fashion_forward(&nets[i], x, true, NULL);
        nn_graph_clear();
        printf("%s parameters:\n", nets[i].name);
        nn_model_summary(nets[i].model, stdout);
    }

    /* ---- train and test each ---- */
    history hist[2];
    float test_acc[2], test_loss[2];
    int *pred[2];
    for (int i = 0; i < nnets; i++) {
        fashion_net *n = &nets[i];
        int epochs = n->kind == FASHION_MLP ? mlp_epochs : cnn_epochs;
        printf("\n== training the %s: %d epochs of %d pictures, batch 64, Adam lr %g -> 0 ==\n",
               n->name, epochs, tr.n, lr);
        hist[i] = train(n, &tr, &val, epochs, lr, n->kind == FASHION_CNN ? shift : 0,
                        n->kind == FASHION_CNN && flip);
        pred[i] = malloc((size_t)test.n * sizeof(int));
        test_acc[i] = fashion_evaluate(n, &test, &test_loss[i], pred[i]);
        printf("  %s test accuracy %.4f (loss %.4f) on %d pictures never trained on; "
               "%.1f s per epoch\n",
               n->name, test_acc[i], test_loss[i], test.n, hist[i].train_seconds / epochs);
    }

    /* ---- compare ---- */
    printf("\n== MLP vs CNN ==\n");
    printf("  %-5s %10s %8s %12s %10s %10s\n", "model", "params", "epochs", "s / epoch",
           "val acc", "test acc");
    for (int i = 0; i < nnets; i++)
        printf("  %-5s %10zu %8d %12.1f %10.4f %10.4f\n", nets[i].name, nets[i].model->count,
               hist[i].epochs, hist[i].train_seconds / hist[i].epochs,
               hist[i].val_acc[hist[i].best_epoch - 1], test_acc[i]);
    if (nnets == 2) {
        printf("  per class (test accuracy):\n");
        int right[2][CLASSES] = {{0}}, count[CLASSES] = {0};
        for (int s = 0; s < test.n; s++) {
            int y = test.labels[test.order[s]];
            count[y]++;
            for (int i = 0; i < 2; i++) right[i][y] += pred[i][s] == y;
        }
        for (int c = 0; c < CLASSES; c++)
            printf("    %d %-12s MLP %5.1f%%  CNN %5.1f%%   %s\n", c, nn_fashion_mnist_classes[c],
                   100.0 * right[0][c] / (count[c] ? count[c] : 1),
                   100.0 * right[1][c] / (count[c] ? count[c] : 1), nn_fashion_mnist_classes_zh[c]);
    }

    /* ---- the CNN: confusion matrix, some test pictures, learned kernels, checkpoint ---- */
    int failed = 0; /* files that could not be written (each says why) */
    int ci = run_cnn ? nnets - 1 : -1;
    if (ci >= 0) {
        printf("\n");
        print_confusion(pred[ci], &test);
        /* three test pictures it gets right and three it gets wrong */
        static float pixels[6][SIDE * SIDE];   /* the pictures may be kept as bytes */
        const float *imgs[6];
        char titles[6][2][40];
        int nr = 0, nw = 0;
        for (int s = 0; s < test.n && (nr < 3 || nw < 3); s++) {
            int y = test.labels[test.order[s]], p = pred[ci][s];
            bool ok = p == y;
            if ((ok && nr >= 3) || (!ok && nw >= 3)) continue;
            int slot = ok ? nr++ : 3 + nw++;
            nn_dataset_sample(&test, test.order[s], pixels[slot]);
            imgs[slot] = pixels[slot];
            snprintf(titles[slot][0], 40, "#%d predicted %s", test.order[s],
                     nn_fashion_mnist_classes[p]);
            snprintf(titles[slot][1], 40, "truth %s%s", nn_fashion_mnist_classes[y],
                     ok ? "" : "  (WRONG)");
        }
        printf("\nsome test pictures with the CNN's prediction:\n");
        if (nr) ascii_row(imgs, titles, nr);
        if (nw) ascii_row(imgs + 3, titles + 3, nw);
        printf("\n");
        failed += save_cnn_pictures(&nets[ci], &test, out_dir);
        char path[1024];
        if (nn_out_path(path, sizeof path, out_dir, "cnn.nnck") &&
            nn_model_save(nets[ci].model, path) == 0) {
            printf("wrote %s (the trained CNN; try: classify your.png --model %s)\n", path, path);
        } else {
            fprintf(stderr, "could not save the CNN: %s\n", nn_last_error());
            failed++;
        }
    }

    /* ---- training curves ---- */
    float xs[MAX_EPOCHS];
    for (int e = 0; e < MAX_EPOCHS; e++) xs[e] = (float)(e + 1);
    nn_series acc_s[2], loss_s[4];
    char names[6][48];
    for (int i = 0; i < nnets; i++) {
        snprintf(names[i], sizeof names[i], "%s validation accuracy", nets[i].name);
        acc_s[i] = (nn_series){names[i], xs, hist[i].val_acc, hist[i].epochs, NN_PLOT_LINE};
        snprintf(names[2 + 2 * i], sizeof names[0], "%s training loss", nets[i].name);
        snprintf(names[3 + 2 * i], sizeof names[0], "%s validation loss", nets[i].name);
        loss_s[2 * i] = (nn_series){names[2 + 2 * i], xs, hist[i].train_loss, hist[i].epochs, NN_PLOT_LINE};
        loss_s[2 * i + 1] = (nn_series){names[3 + 2 * i], xs, hist[i].val_loss, hist[i].epochs, NN_PLOT_LINE};
    }
    failed += nn_plot_svg_in(out_dir, "ch03_fashion_accuracy.svg",
                             "Fashion-MNIST: validation accuracy per epoch", "epoch", "accuracy",
                             acc_s, nnets) != 0;
    failed += nn_plot_svg_in(out_dir, "ch03_fashion_loss.svg", "Fashion-MNIST: loss per epoch",
                             "epoch", "cross-entropy", loss_s, 2 * nnets) != 0;

    /* ---- one line for tests and graders ---- */
    printf("result: data=%s train=%d test=%d", data_name, tr.n, test.n);
    for (int i = 0; i < nnets; i++) {
        const char *k = nets[i].kind == FASHION_MLP ? "mlp" : "cnn";
        printf(" %s_test_acc=%.4f %s_params=%zu %s_epochs=%d %s_s_per_epoch=%.1f %s_start_loss=%.4f", k,
               test_acc[i], k, nets[i].model->count, k, hist[i].epochs, k,
               hist[i].train_seconds / hist[i].epochs, k, hist[i].start_loss);
    }
    printf(" ln10=%.4f\n", logf(CLASSES));

    for (int i = 0; i < nnets; i++) {
        free(pred[i]);
        nn_model_free(nets[i].model);
    }
    nn_dataset_free(&tr), nn_dataset_free(&val), nn_dataset_free(&test);
    nn_graph_release();
    return failed ? 1 : 0;
}
