/* examples/ch03_fashion/classify.c — classify your own picture with the trained CNN.
 *
 *   classify my.png [--model PATH]     (PNG, JPEG, BMP, ...; --model out/cnn.nnck by default)
 *   classify [--quick] [--seed N]      (no picture: a self-test, see below; --seed 42)
 *   classify --help                    (every option, its meaning and default)
 *
 * The CNN is the one mlp_vs_cnn trains and saves (cnn.nnck): this program rebuilds the same
 * architecture, with the same parameter names, and loads the checkpoint into it. Then it
 * makes your picture look like a Fashion-MNIST one:
 *   1. grey (0.299 R + 0.587 G + 0.114 B);
 *   2. Fashion-MNIST shows light clothes on a black background: if the picture's border is
 *      bright (a photo of clothes on a light background) it is inverted, v -> 1 - v;
 *   3. padded to a square with the background, so the clothes keep their shape;
 *   4. resized to 28x28, and stretched so the background is 0 and the brightest pixel 1.
 * (Steps 3 and 4 are done as shrink, pad, shrink, so a long thin picture never becomes a
 * huge square; a picture more than 50 times as long as it is wide is refused.)
 * It prints the 28x28 picture it feeds the network and the three most likely classes.
 * For the best result, crop the photo close around one piece of clothing.
 *
 * Without a picture it tests itself: it draws a dark T-shirt on a white background and saves
 * it as a PNG; it builds a CNN (the trained cnn.nnck when there is one and --quick is not
 * given, else an untrained one, saved to a checkpoint first); then it classifies the PNG
 * through the same path as your picture, checks that the checkpoint reloads exactly, and
 * that a missing picture and a corrupt checkpoint give a clear error, not a crash.
 * Exit status: 0, or 1 when the picture or the checkpoint cannot be read, or the picture is
 * more than 50 times as long as it is wide.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CLASSES 10
#define SIDE 28

/* ---- the CNN of mlp_vs_cnn.c: same layers, same parameter names ---------------------------- */

typedef struct cnn {
    nn_model *model;
    nn_conv2d_layer *conv1, *conv2;
    nn_linear_layer *fc1, *fc2;
} cnn;

static cnn cnn_new(void) {
    cnn n = {.model = nn_model_new()};
    n.conv1 = nn_conv2d_layer_new(n.model, "conv1", 1, 16, 3, 1, 1, NN_INIT_HE);
    n.conv2 = nn_conv2d_layer_new(n.model, "conv2", 16, 32, 3, 1, 1, NN_INIT_HE);
    n.fc1 = nn_linear_layer_new(n.model, "fc1", 32 * 7 * 7, 128, NN_INIT_HE);
    n.fc2 = nn_linear_layer_new(n.model, "fc2", 128, CLASSES, NN_INIT_XAVIER);
    return n;
}

/* x: (N, 1, 28, 28) -> logits (N, 10). (Dropout is only active in training, so it is left
 * out here: inference does not need it.) */
static nn_tensor *cnn_forward(const cnn *n, nn_tensor *x) {
    nn_tensor *h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(n->conv1, x)), 2, 2);
    h = nn_max_pool2d(nn_relu(nn_conv2d_layer_forward(n->conv2, h)), 2, 2);
    h = nn_relu(nn_linear_layer_forward(n->fc1, nn_flatten(h)));
    return nn_linear_layer_forward(n->fc2, h);
}

/* ---- the picture -------------------------------------------------------------------------- */

/* Mean of the outermost ring of pixels of a (1, H, W) picture: the background's brightness
 * when the clothes sit in the middle. */
static float border_mean(const nn_tensor *g) {
    int H = g->shape[1], W = g->shape[2];
    double s = 0.0;
    long n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            if (y == 0 || x == 0 || y == H - 1 || x == W - 1) s += g->data[(size_t)y * W + x], n++;
    return (float)(s / n);
}

/* The most a picture's long side may be times its short side. Clothes are never 50 times
 * as wide as tall; a 1 x 20000 strip is a mistake (or a trick), not a photo to classify. */
#define MAX_ASPECT 50

/* Load `path` and turn it into a Fashion-MNIST-like (1, 1, 28, 28) tensor (owned), or NULL
 * with nn_last_error() set; *unusable says the file was read but the picture refused.
 * *inverted says whether step 2 inverted it. */
static nn_tensor *prepare(const char *path, bool *inverted, bool *unusable) {
    *unusable = false;
    nn_tensor *img = nn_image_load(path, 0);
    if (!img) return NULL;
    char s[32];
    printf("picture %s: %s (channels, height, width)\n", path, nn_shape_str(img, s, sizeof s));
    int H = img->shape[1], W = img->shape[2];
    int side = H > W ? H : W, short_side = H > W ? W : H;
    if ((long)side > (long)MAX_ASPECT * short_side) {
        nn_set_last_error("the picture is %d x %d pixels (width x height), more than %d times as "
                          "%s as it is %s; crop it around one piece of clothing", W, H,
                          MAX_ASPECT, W > H ? "wide" : "tall", W > H ? "tall" : "wide");
        nn_tensor_free(img);
        *unusable = true;
        return NULL;
    }
    nn_tensor *g = nn_image_to_grey(img);
    nn_tensor_free(img);
    float bg = border_mean(g);
    *inverted = bg > 0.5f;
    if (*inverted) {
        for (size_t i = 0; i < g->size; i++) g->data[i] = 1.0f - g->data[i];
        printf("  its border is bright (mean %.2f): inverted, because Fashion-MNIST has light "
               "clothes on black\n", bg);
        bg = 1.0f - bg;
    } else {
        printf("  its border is dark (mean %.2f): kept as it is\n", bg);
    }
    /* Pad to a side x side square with the background, then resize to 28x28: done in that
     * order, a 1000 x 50000 picture would need a 50000 x 50000 square (10 GB). The resize
     * works on one axis after the other, so we shrink first and pad the small result:
     *   a. the long side to 28, the short side as it is: (1, 28, W) or (1, H, 28);
     *   b. the short side padded to `side` with the background, centred;
     *   c. the padded side to 28.
     * That is the same 28x28 as padding first (the padding only ever touches the short
     * side), but the largest picture on the way is 28 x side instead of side x side. */
    bool tall = H >= W;
    nn_tensor *a = nn_image_resize(g, tall ? SIDE : H, tall ? W : SIDE);
    nn_tensor_free(g);
    nn_tensor *b = nn_full(bg, NN_SHAPE(1, tall ? SIDE : side, tall ? side : SIDE));
    int off = (side - short_side) / 2;
    if (tall) /* rows of W pixels, each placed at column off of a row of `side` */
        for (int y = 0; y < SIDE; y++)
            memcpy(b->data + (size_t)y * side + off, a->data + (size_t)y * W,
                   (size_t)W * sizeof(float));
    else      /* H rows of 28 pixels, placed from row off on */
        memcpy(b->data + (size_t)off * SIDE, a->data, (size_t)H * SIDE * sizeof(float));
    nn_tensor_free(a);
    nn_tensor *small = nn_image_resize(b, SIDE, SIDE);
    nn_tensor_free(b);
    float hi = 0.0f; /* stretch: background -> 0, brightest -> 1 */
    for (size_t i = 0; i < small->size; i++) hi = fmaxf(hi, small->data[i]);
    float scale = hi > bg ? 1.0f / (hi - bg) : 1.0f;
    nn_tensor *x = nn_zeros(NN_SHAPE(1, 1, SIDE, SIDE));
    for (size_t i = 0; i < x->size; i++) {
        float v = (small->data[i] - bg) * scale;
        x->data[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
    nn_tensor_free(small);
    printf("  padded to %dx%d, resized to 28x28, background %.2f -> 0, brightest %.2f -> 1\n",
           side, side, bg, hi);
    return x;
}

/* 28 rows of 56 characters (each pixel twice, so it keeps its shape). */
static void show(const nn_tensor *x) {
    const char *ramp = " .:-=+*#%@";
    for (int y = 0; y < SIDE; y++) {
        printf("    |");
        for (int c = 0; c < SIDE; c++) {
            int i = (int)(x->data[y * SIDE + c] * 9.99f);
            char ch = ramp[i < 0 ? 0 : i > 9 ? 9 : i];
            putchar(ch), putchar(ch);
        }
        printf("|\n");
    }
}

typedef struct verdict {
    int top[3];
    float p[3];
    bool inverted;
} verdict;

/* The whole path for one picture: rebuild the CNN, load the checkpoint, prepare the
 * picture, run the network, print the top 3. Returns 0, or 1 with a message on stderr. */
static int classify_file(const char *image, const char *checkpoint, verdict *v) {
    cnn net = cnn_new();
    fflush(stdout); /* keep our lines and any error message in order */
    if (nn_model_load(net.model, checkpoint) != 0) {
        fprintf(stderr, "cannot load the model: %s\n", nn_last_error());
        if (access(checkpoint, F_OK) != 0)
            fprintf(stderr, "(train it first: mlp_vs_cnn saves out/cnn.nnck; or pass --model PATH)\n");
        nn_model_free(net.model);
        return 1;
    }
    printf("loaded the CNN from %s (%zu parameters)\n", checkpoint, net.model->count);
    bool unusable;
    nn_tensor *x = prepare(image, &v->inverted, &unusable);
    if (!x) {
        fflush(stdout);
        fprintf(stderr, "cannot %s the picture: %s\n", unusable ? "use" : "read",
                nn_last_error());
        nn_model_free(net.model);
        return 1;
    }
    printf("what the network sees (28x28):\n");
    show(x);
    bool was = nn_set_grad_enabled(false);
    nn_tensor *p = nn_softmax(cnn_forward(&net, x)); /* (1, 10) probabilities */
    nn_set_grad_enabled(was);
    bool used[CLASSES] = {false};
    printf("top 3:\n");
    for (int k = 0; k < 3; k++) {
        int best = -1;
        for (int c = 0; c < CLASSES; c++)
            if (!used[c] && (best < 0 || p->data[c] > p->data[best])) best = c;
        used[best] = true;
        v->top[k] = best, v->p[k] = p->data[best];
        printf("  %d. %-12s %-8s %6.2f%%\n", k + 1, nn_fashion_mnist_classes[best],
               nn_fashion_mnist_classes_zh[best], 100.0f * p->data[best]);
    }
    nn_graph_clear();
    nn_tensor_free(x);
    nn_model_free(net.model);
    return 0;
}

/* ---- the self-test -------------------------------------------------------------------- */

/* Is (x, y) inside the polygon of n points? (even-odd rule: count edge crossings of a ray) */
static bool inside(const float *pts, int n, float x, float y) {
    bool in = false;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        float xi = pts[2 * i], yi = pts[2 * i + 1], xj = pts[2 * j], yj = pts[2 * j + 1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

/* A dark grey T-shirt on a white background, 150 x 160 pixels, like a phone photo of one
 * lying on a table (so classify has to invert it and pad it square). RGB. */
static nn_tensor *draw_tshirt(void) {
    enum { H = 150, W = 160 };
    static const float shirt[] = {/* in a 100 x 100 box, counter-clockwise from the neck */
                                  38, 6, 20, 10, 2, 28, 12, 38, 22, 30, 22, 96, 78, 96, 78, 30,
                                  88, 38, 98, 28, 80, 10, 62, 6, 50, 14};
    nn_tensor *img = nn_zeros(NN_SHAPE(3, H, W));
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float u = (x - 25) * 100.0f / 110.0f, v = (y - 10) * 100.0f / 130.0f;
            bool on = inside(shirt, 13, u, v);
            float paper = 0.93f - 0.04f * y / H;                  /* a little uneven light */
            float cloth = 0.20f + 0.03f * sinf(0.3f * x + 0.2f * y); /* some texture */
            float rgb[3] = {on ? cloth : paper, on ? cloth + 0.02f : paper,
                            on ? cloth + 0.08f : paper - 0.02f};  /* navy shirt, white paper */
            for (int k = 0; k < 3; k++) img->data[((size_t)k * H + y) * W + x] = rgb[k];
        }
    return img;
}

static float max_param_diff(const nn_model *a, const nn_model *b) {
    float d = 0.0f;
    for (size_t i = 0; i < a->count; i++) d = fmaxf(d, fabsf(a->data[i] - b->data[i]));
    return d;
}

static int self_test(bool quick, uint64_t seed, const char *model_path) {
    const char *tmp_root = getenv("TMPDIR");
    char dir[512], png[600], ckpt[600], bad[600], missing[600];
    snprintf(dir, sizeof dir, "%s/nn-classify-XXXXXX", tmp_root && *tmp_root ? tmp_root : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(png, sizeof png, "%s/tshirt.png", dir);
    snprintf(ckpt, sizeof ckpt, "%s/cnn.nnck", dir);
    snprintf(bad, sizeof bad, "%s/corrupt.nnck", dir);
    snprintf(missing, sizeof missing, "%s/no-such-picture.png", dir);
    printf("no picture given: a self-test in %s\n\n", dir);

    /* 1. the picture: a PNG file, as a user would give */
    nn_tensor *shirt = draw_tshirt();
    int rc = nn_image_save_png(png, shirt);
    nn_tensor_free(shirt);
    if (rc != 0) {
        fprintf(stderr, "cannot write %s: %s\n", png, nn_last_error());
        rmdir(dir);
        return 1;
    }
    printf("1. drew a navy T-shirt on white paper: %s\n", png);

    /* 2. the model: the trained one if there is one, else a fresh one saved to a checkpoint */
    bool trained = !quick && access(model_path, R_OK) == 0;
    cnn net = cnn_new();
    if (trained) {
        if (nn_model_load(net.model, model_path) != 0) {
            fprintf(stderr, "cannot load the model: %s\n", nn_last_error());
            trained = false;
        }
    }
    if (!trained)
        printf("2. no trained model used (%s): an UNTRAINED CNN with seed %llu, so its guesses "
               "mean nothing;\n   run mlp_vs_cnn first to get out/cnn.nnck\n",
               quick ? "--quick" : "no out/cnn.nnck", (unsigned long long)seed);
    else
        printf("2. the trained CNN from %s\n", model_path);
    if (nn_model_save(net.model, ckpt) != 0) {
        fprintf(stderr, "cannot save %s: %s\n", ckpt, nn_last_error());
        nn_model_free(net.model);
        remove(png), rmdir(dir);
        return 1;
    }
    cnn back = cnn_new(); /* a second CNN with other random weights, then the checkpoint */
    float before = max_param_diff(net.model, back.model);
    int load_rc = nn_model_load(back.model, ckpt);
    float reload_diff = load_rc == 0 ? max_param_diff(net.model, back.model) : INFINITY;
    printf("   saved it to %s and loaded it into a fresh CNN: max difference of the %zu "
           "parameters %g (before loading: %.3f)\n",
           ckpt, net.model->count, reload_diff, before);
    nn_model_free(back.model);

    /* 3. classify the PNG through the same path as a user's picture */
    printf("\n3. classify %s --model %s\n", png, ckpt);
    verdict v = {{0}, {0}, false};
    int ok_rc = classify_file(png, ckpt, &v);

    /* 4. the two errors a user meets most: a wrong path, a broken checkpoint */
    printf("\n4. errors must be messages, not crashes:\n");
    printf("   a picture that is not there:\n");
    fflush(stdout);
    verdict dummy;
    int missing_rc = classify_file(missing, ckpt, &dummy);
    printf("   -> refused with: %s\n", nn_last_error());
    FILE *f = fopen(ckpt, "rb"), *g = fopen(bad, "wb");
    if (f && g) { /* the checkpoint with one byte in the middle changed: the CRC catches it */
        long n = 0;
        int ch;
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        rewind(f);
        while ((ch = fgetc(f)) != EOF) fputc(n++ == len / 2 ? ch ^ 0x40 : ch, g);
    }
    if (f) fclose(f);
    if (g) fclose(g);
    printf("   a checkpoint with one byte changed:\n");
    fflush(stdout);
    int corrupt_rc = classify_file(png, bad, &dummy);
    printf("   -> refused with: %s\n", nn_last_error());
    printf("   exit codes: missing picture %d, corrupt checkpoint %d (1 = refused cleanly)\n",
           missing_rc, corrupt_rc);

    remove(png), remove(ckpt), remove(bad), rmdir(dir);
    nn_model_free(net.model);
    bool pass = ok_rc == 0 && load_rc == 0 && reload_diff == 0.0f && missing_rc == 1 &&
                corrupt_rc == 1 && v.inverted;
    printf("result: selftest=%s trained=%d top1=%s p1=%.4f inverted=%d reload_diff=%g "
           "missing_image_rc=%d corrupt_checkpoint_rc=%d\n",
           pass ? "ok" : "FAILED", trained, ok_rc == 0 ? nn_fashion_mnist_classes[v.top[0]] : "none",
           ok_rc == 0 ? v.p[0] : 0.0f, v.inverted, reload_diff, missing_rc, corrupt_rc);
    return pass ? 0 : 1;
}

int main(int argc, char **argv) {
    bool quick = false;
    uint64_t seed = 42;
    const char *model_path = "out/cnn.nnck", *image = NULL;
    nn_option opts[] = {
        NN_OPT_ARG("picture", &image, "the picture to classify (PNG, JPEG, BMP, ...); "
                                      "without one, a self-test"),
        NN_OPT_STR("--model", &model_path, "PATH", "the CNN checkpoint that mlp_vs_cnn saved"),
        NN_OPT_FLAG("--quick", &quick, "self-test with an untrained CNN, even if --model exists"),
        NN_OPT_SEED(&seed),
    };
    nn_parse_options(argc, argv,
                     "Classify your own picture with the CNN that mlp_vs_cnn trained: it is made\n"
                     "grey, inverted when its background is light, padded square and resized to\n"
                     "28x28, then the network gives its three most likely classes.",
                     opts, NN_COUNTOF(opts));
    nn_seed(seed);
    printf("ch03 classify: your picture -> 28x28 grey -> the CNN -> softmax -> top 3\n");
    printf("  p = softmax(CNN(x)),  x: (1, 1, 28, 28)\n");
    printf("seed %llu (used only for an untrained model)\n", (unsigned long long)seed);
    int rc;
    if (!image) {
        rc = self_test(quick, seed, model_path);
    } else {
        verdict v;
        rc = classify_file(image, model_path, &v);
        if (rc == 0)
            printf("result: image=%s top1=%s p1=%.4f top2=%s p2=%.4f top3=%s p3=%.4f inverted=%d\n",
                   image, nn_fashion_mnist_classes[v.top[0]], v.p[0],
                   nn_fashion_mnist_classes[v.top[1]], v.p[1], nn_fashion_mnist_classes[v.top[2]],
                   v.p[2], v.inverted);
    }
    nn_graph_release();
    return rc;
}
