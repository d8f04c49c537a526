/* examples/ch02_augment/augment.c — 数据增强 (data augmentation) on images.
 *
 * The tutorial: "add noise, rotate, flip, crop" to get more data for free, and a model that
 * is not thrown by a small change of the input. This program shows each transform of the
 * library (nn/train/augment.h) on a small picture, in the terminal, then measures the effect.
 *
 * The task: 16x16 pictures of four shapes (a horizontal bar, a vertical bar, a square, an X)
 * anywhere in the picture. The training set is tiny: 3 pictures per shape, all near the
 * centre. The validation pictures are shifted by up to 4 pixels each way. A small MLP
 * (256 -> 32 -> 4) trained on the 12 pictures as they are learns "these pixels mean a bar";
 * trained on a fresh random shift (random crop with padding), small rotation and noise of
 * them at every step, it learns the shapes wherever they are.
 *
 * Flips are shown but not used for training: flipping does not change these shapes' labels,
 * but for digits or letters (a 'b' flipped is a 'd') it would. Use only the transforms that
 * keep the label.
 *
 *   augment [--quick] [--seed N] [--steps N] [--out DIR]     (--help lists them)
 *   --steps 800 (300 with --quick, at least 20), --seed 2. Writes DIR/ch02_augment.svg
 *   (DIR: out by default); exit status 1 when it cannot.
 */
#include <nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#define S 16          /* picture side */
#define CLASSES 4
#define PER_CLASS 3   /* training pictures per class */
#define N_VAL 400
#define HIDDEN 32

static const char *class_names[CLASSES] = {"bar -", "bar |", "square", "X"};

/* Draw shape c centred at (S/2 + dy, S/2 + dx) into img (S*S floats, zeroed first). */
static void draw(float *img, int c, int dy, int dx) {
    for (int i = 0; i < S * S; i++) img[i] = 0.0f;
    int cy = S / 2 + dy, cx = S / 2 + dx;
    for (int u = -4; u <= 4; u++)
        for (int v = -4; v <= 4; v++) {
            bool on = false;
            switch (c) {
            case 0: on = (u == 0 || u == 1); break;                      /* two rows */
            case 1: on = (v == 0 || v == 1); break;                      /* two columns */
            case 2: on = (abs(u) == 3 || abs(v) == 3) && abs(u) <= 3 && abs(v) <= 3; break;
            case 3: on = (u == v || u == -v) && abs(u) <= 3; break;
            }
            int y = cy + u, x = cx + v;
            if (on && y >= 0 && y < S && x >= 0 && x < S) img[y * S + x] = 1.0f;
        }
}

/* The letter F, 2 pixels thick: unlike the four shapes it looks different after every flip
 * and quarter turn, so it shows what each transform does. */
static void draw_f(float *img) {
    for (int i = 0; i < S * S; i++) img[i] = 0.0f;
    for (int i = 3; i < 13; i++)
        for (int j = 5; j < 7; j++) img[i * S + j] = 1.0f;      /* the stem */
    for (int i = 3; i < 5; i++)
        for (int j = 7; j < 12; j++) img[i * S + j] = 1.0f;     /* the top bar */
    for (int i = 7; i < 9; i++)
        for (int j = 7; j < 10; j++) img[i * S + j] = 1.0f;     /* the middle bar */
}

/* One picture as characters, darkest ' ' to brightest '@'; rows of several side by side. */
static void show(const nn_tensor **imgs, const char **titles, int n) {
    const char *ramp = " .:-=+*#%@";
    for (int k = 0; k < n; k++) printf("%-*s", S + 3, titles[k]);
    printf("\n");
    for (int i = 0; i < S; i++) {
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < S; j++) {
                float v = imgs[k]->data[i * S + j];
                int level = (int)(v * 9.0f + 0.5f);
                putchar(ramp[level < 0 ? 0 : level > 9 ? 9 : level]);
            }
            printf("   ");
        }
        printf("\n");
    }
}

typedef struct mlp {
    nn_model *m;
    nn_linear_layer *l1, *l2;
} mlp;

static nn_tensor *forward(const mlp *n, nn_tensor *images) {
    /* (N, 1, S, S) -> (N, S*S) -> hidden -> 4 class scores */
    nn_tensor *x = nn_reshape(images, NN_SHAPE(images->shape[0], S * S));
    return nn_linear_layer_forward(n->l2, nn_relu(nn_linear_layer_forward(n->l1, x)));
}

static float accuracy(const mlp *n, nn_tensor *images, const int *labels) {
    bool g = nn_set_grad_enabled(false);
    nn_tensor *logits = forward(n, images);
    int pred[N_VAL], correct = 0, rows = logits->shape[0];
    nn_argmax_rows(logits, pred);
    for (int i = 0; i < rows; i++) correct += pred[i] == labels[i];
    nn_set_grad_enabled(g);
    nn_graph_clear();
    return (float)correct / (float)rows;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 2;
    int steps = 800;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): fewer steps"),
        NN_OPT_SEED(&seed),
        NN_OPT_INT("--steps", &steps, 20, 1000000, "training steps of each run (300 with --quick)"),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for ch02_augment.svg (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Data augmentation: each transform of nn/train/augment.h on one picture, then\n"
                     "a small MLP trained on 12 pictures of four shapes as they are and with random\n"
                     "shifts, rotations and noise, scored on shifted validation pictures.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--steps")) steps = 300;
    printf("chapter 2: data augmentation (数据增强) on images\n");
    printf("seed %llu; %dx%d pictures of %d shapes; %d training pictures near the centre, %d "
           "validation pictures shifted up to 4 px\n", (unsigned long long)seed, S, S, CLASSES,
           CLASSES * PER_CLASS, N_VAL);
    nn_seed(seed);
    nn_rng *rng = nn_global_rng();

    /* ---- data ------------------------------------------------------------------------------ */
    int n_train = CLASSES * PER_CLASS;
    nn_tensor *xt = nn_zeros(NN_SHAPE(n_train, 1, S, S));
    nn_tensor *xv = nn_zeros(NN_SHAPE(N_VAL, 1, S, S));
    int yt[CLASSES * PER_CLASS], yv[N_VAL];
    for (int i = 0; i < n_train; i++) {
        yt[i] = i % CLASSES;
        draw(xt->data + i * S * S, yt[i], nn_rng_int(rng, 3) - 1, nn_rng_int(rng, 3) - 1);
    }
    for (int i = 0; i < N_VAL; i++) {
        yv[i] = i % CLASSES;
        draw(xv->data + i * S * S, yv[i], nn_rng_int(rng, 9) - 4, nn_rng_int(rng, 9) - 4);
    }

    /* ---- the transforms, on one picture ---------------------------------------------------------- */
    nn_tensor *pic = nn_zeros(NN_SHAPE(1, S, S));
    draw_f(pic->data);
    const nn_tensor *views[] = {
        pic,
        nn_aug_flip_h(pic),
        nn_aug_flip_v(pic),
        nn_aug_rot90(pic, 1),
        nn_aug_rotate(pic, 20.0f, 0.0f),
        nn_aug_crop(pic, 2, 2, S - 4, S - 4), /* smaller: described, not drawn */
        nn_aug_random_crop(pic, 4, NULL),
        nn_aug_noise(pic, 0.15f, NULL),
    };
    const char *titles[] = {"original", "flip_h", "flip_v", "rot90", "rotate 20",
                            "crop", "random_crop 4", "noise 0.15"};
    printf("\nthe transforms of nn/train/augment.h on one picture (the letter F):\n\n");
    const nn_tensor *row1[] = {views[0], views[1], views[2], views[3]};
    const nn_tensor *row2[] = {views[4], views[6], views[7]};
    show(row1, titles, 4);
    printf("\n");
    const char *titles2[] = {titles[4], titles[6], titles[7]};
    show(row2, titles2, 3);
    printf("(crop(2, 2, 12, 12) gives a %dx%d picture: %s)\n", views[5]->shape[1],
           views[5]->shape[2], "the same F, 2 pixels trimmed on each side");
    nn_graph_clear();

    /* ---- train without and with augmentation --------------------------------------------------- */
    const char *names[2] = {"plain", "augmented"};
    float final_acc[2], train_acc[2];
    int every = steps / 20;
    int npts = steps / every;
    float *curve[2], *curve_x = malloc(npts * sizeof(float));
    for (int k = 0; k < 2; k++) {
        nn_seed(seed + 1); /* the same initial weights */
        mlp n = {nn_model_new(), NULL, NULL};
        n.l1 = nn_linear_layer_new(n.m, "fc1", S * S, HIDDEN, NN_INIT_HE);
        n.l2 = nn_linear_layer_new(n.m, "out", HIDDEN, CLASSES, NN_INIT_XAVIER);
        nn_optim *opt = nn_adam_new(n.m, 3e-3f, 0.0f);
        curve[k] = malloc(npts * sizeof(float));
        nn_progress bar;
        nn_progress_start(&bar, names[k], steps);
        for (int step = 0; step < steps; step++) {
            nn_tensor *x = xt;
            if (k == 1) { /* a fresh variant of every training picture at every step */
                x = nn_aug_random_crop(x, 4, NULL);
                x = nn_aug_random_rotate(x, 10.0f, 0.0f, NULL);
                x = nn_aug_noise(x, 0.1f, NULL);
            }
            nn_tensor *loss = nn_cross_entropy_loss(forward(&n, x), yt);
            nn_model_zero_grad(n.m);
            nn_backward(loss);
            nn_optim_step(opt);
            nn_graph_clear();
            if ((step + 1) % every == 0 && (step + 1) / every <= npts) {
                int p = (step + 1) / every - 1;
                curve[k][p] = accuracy(&n, xv, yv);
                curve_x[p] = (float)(step + 1);
            }
            nn_progress_update(&bar, step + 1, NULL);
        }
        nn_progress_finish(&bar);
        final_acc[k] = accuracy(&n, xv, yv);
        train_acc[k] = accuracy(&n, xt, yt);
        nn_optim_free(opt);
        nn_model_free(n.m);
    }
    printf("\nafter %d steps of Adam (lr 0.003):\n", steps);
    printf("  %-10s %16s %22s\n", "training", "train accuracy", "validation accuracy");
    for (int k = 0; k < 2; k++)
        printf("  %-10s %15.1f%% %21.1f%%\n", names[k], 100.0f * train_acc[k],
               100.0f * final_acc[k]);
    printf("(chance is %.0f%%; classes: %s, %s, %s, %s)\n", 100.0 / CLASSES, class_names[0],
           class_names[1], class_names[2], class_names[3]);

    nn_series s[2] = {{"plain", curve_x, curve[0], npts, NN_PLOT_LINE},
                      {"augmented", curve_x, curve[1], npts, NN_PLOT_LINE}};
    printf("\n");
    int failed = nn_plot_svg_in(out_dir, "ch02_augment.svg",
                                "12 training pictures: validation accuracy", "step",
                                "validation accuracy", s, 2) != 0;
    printf("\nvalidation accuracy per step\n");
    nn_plot_ascii(stdout, s, 2, 50, 10);

    printf("result: seed=%llu steps=%d plain_val_acc=%.4f augmented_val_acc=%.4f "
           "plain_train_acc=%.4f augmented_train_acc=%.4f\n", (unsigned long long)seed, steps,
           final_acc[0], final_acc[1], train_acc[0], train_acc[1]);

    for (int k = 0; k < 2; k++) free(curve[k]);
    free(curve_x);
    nn_tensor_free(pic);
    nn_tensor_free(xt);
    nn_tensor_free(xv);
    nn_graph_release();
    return failed ? 1 : 0;
}
