/* examples/common/fashion_nets.h — chapter 3's Fashion-MNIST networks for the programs that
 * reuse them (chapter 3's MLP vs CNN; chapter 6's quantization, pruning and distillation):
 *   fashion_mlp_new   x (N,1,28,28) -> flatten -> fc h1 + relu [-> fc h2 + relu] -> fc 10
 *   fashion_cnn_new   conv 16@3x3 pad 1 + relu -> maxpool 2 -> conv 32@3x3 pad 1 + relu
 *                     -> maxpool 2 -> flatten (N,1568) -> fc 128 + relu + dropout -> fc 10
 *   fashion_forward   logits (N, 10)
 *   fashion_evaluate  mean loss and accuracy on a data set, no tape, dropout off
 *   fashion_train     Adam with a cosine learning rate, batches of 64, an optional hook after
 *                     every step (pruning puts its masks back there); fashion_train_with
 *                     takes the batch loss as a function too (distillation's loss)
 *   fashion_open      train / validation / test sets, or a synthetic stand-in (ten noisy
 *                     shapes) when Debian's dataset-fashion-mnist is not installed;
 *                     fashion_open_sized also sets the stand-in's validation size
 * A header of static functions (each example is one program, built from one .c file). */
#ifndef EXAMPLES_COMMON_FASHION_NETS_H
#define EXAMPLES_COMMON_FASHION_NETS_H

#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FASHION_FN static __attribute__((unused))
#define FASHION_CLASSES 10
#define FASHION_SIDE 28

typedef enum { FASHION_MLP, FASHION_CNN } fashion_kind;

typedef struct fashion_net {
    fashion_kind kind;
    const char *name;
    nn_model *model;
    nn_linear_layer *fc1, *fc2, *fc3;   /* MLP: 784 -> h1 [-> h2] -> 10 (fc3 NULL with one
                                           hidden layer); CNN: fc1 1568 -> 128, fc2 128 -> 10 */
    nn_conv2d_layer *conv1, *conv2;     /* CNN only */
    float dropout;                      /* CNN only */
} fashion_net;

/* Start unsure: small last-layer weights make all 10 logits about equal, so every class
 * starts at p = 1/10 and the loss at ln 10. */
FASHION_FN void fashion_shrink_last(nn_linear_layer *last) {
    for (size_t i = 0; i < last->W->size; i++) last->W->data[i] *= 0.1f;
}

/* h2 = 0: a single hidden layer of h1 (a small student); chapter 3's MLP is (256, 128). */
FASHION_FN fashion_net fashion_mlp_new(const char *name, int h1, int h2) {
    fashion_net n = {.kind = FASHION_MLP, .name = name, .model = nn_model_new()};
    int side2 = FASHION_SIDE * FASHION_SIDE;
    n.fc1 = nn_linear_layer_new(n.model, "fc1", side2, h1, NN_INIT_HE);
    if (h2 > 0) {
        n.fc2 = nn_linear_layer_new(n.model, "fc2", h1, h2, NN_INIT_HE);
        n.fc3 = nn_linear_layer_new(n.model, "fc3", h2, FASHION_CLASSES, NN_INIT_XAVIER);
        fashion_shrink_last(n.fc3);
    } else {
        n.fc2 = nn_linear_layer_new(n.model, "fc2", h1, FASHION_CLASSES, NN_INIT_XAVIER);
        fashion_shrink_last(n.fc2);
    }
    return n;
}

/* The architecture and parameter names chapter 3's classify rebuilds from cnn.nnck. */
FASHION_FN fashion_net fashion_cnn_new(const char *name, float dropout) {
    fashion_net n = {.kind = FASHION_CNN, .name = name, .model = nn_model_new(),
                     .dropout = dropout};
    n.conv1 = nn_conv2d_layer_new(n.model, "conv1", 1, 16, 3, 1, 1, NN_INIT_HE);
    n.conv2 = nn_conv2d_layer_new(n.model, "conv2", 16, 32, 3, 1, 1, NN_INIT_HE);
    n.fc1 = nn_linear_layer_new(n.model, "fc1", 32 * 7 * 7, 128, NN_INIT_HE);
    n.fc2 = nn_linear_layer_new(n.model, "fc2", 128, FASHION_CLASSES, NN_INIT_XAVIER);
    fashion_shrink_last(n.fc2);
    return n;
}

FASHION_FN void fashion_show_shape(bool show, const char *what, const nn_tensor *t) {
    char s[48];
    if (show) printf("    %-30s -> %s\n", what, nn_shape_str(t, s, sizeof s));
}

/* x: (N, 1, 28, 28) -> logits (N, 10). With `show`, print each layer's output shape.
 * `conv1_out` (may be NULL) receives the first conv layer's activations (for pictures). */
FASHION_FN nn_tensor *fashion_forward(const fashion_net *n, nn_tensor *x, bool show,
                                      nn_tensor **conv1_out) {
    fashion_show_shape(show, "input", x);
    if (n->kind == FASHION_MLP) {
        nn_tensor *h = nn_flatten(x);                                       /* (N, 784) */
        fashion_show_shape(show, "flatten", h);
        h = nn_relu(nn_linear_layer_forward(n->fc1, h));                    /* (N, h1) */
        fashion_show_shape(show, "fc1 + relu", h);
        if (!n->fc3) {
            h = nn_linear_layer_forward(n->fc2, h);                         /* (N, 10) */
            fashion_show_shape(show, "fc2 (logits)", h);
            return h;
        }
        h = nn_relu(nn_linear_layer_forward(n->fc2, h));                    /* (N, h2) */
        fashion_show_shape(show, "fc2 + relu", h);
        h = nn_linear_layer_forward(n->fc3, h);                             /* (N, 10) */
        fashion_show_shape(show, "fc3 (logits)", h);
        return h;
    }
    nn_tensor *h = nn_relu(nn_conv2d_layer_forward(n->conv1, x));           /* (N, 16, 28, 28) */
    if (conv1_out) *conv1_out = h;
    fashion_show_shape(show, "conv1 3x3 + relu", h);
    h = nn_max_pool2d(h, 2, 2);                                             /* (N, 16, 14, 14) */
    fashion_show_shape(show, "maxpool 2x2", h);
    h = nn_relu(nn_conv2d_layer_forward(n->conv2, h));                      /* (N, 32, 14, 14) */
    fashion_show_shape(show, "conv2 3x3 + relu", h);
    h = nn_max_pool2d(h, 2, 2);                                             /* (N, 32, 7, 7) */
    fashion_show_shape(show, "maxpool 2x2", h);
    h = nn_flatten(h);                                                      /* (N, 1568) */
    fashion_show_shape(show, "flatten", h);
    h = nn_dropout(nn_relu(nn_linear_layer_forward(n->fc1, h)), n->dropout); /* (N, 128) */
    fashion_show_shape(show, "fc1 + relu + dropout", h);
    h = nn_linear_layer_forward(n->fc2, h);                                 /* (N, 10) */
    fashion_show_shape(show, "fc2 (logits)", h);
    return h;
}

/* Mean loss and accuracy on a whole data set (in its current order), no tape, dropout off.
 * pred (may be NULL) receives the predicted class of sample order[i] at index i. */
FASHION_FN float fashion_evaluate(const fashion_net *n, const nn_dataset *ds, float *loss_out,
                                  int *pred) {
    bool was_grad = nn_set_grad_enabled(false), was_train = nn_set_training(false);
    int right = 0, labels[500], p[500];
    double loss = 0.0;
    for (int s = 0; s < ds->n; s += 500) {
        nn_tensor *x = nn_dataset_batch(ds, s, 500, labels);
        int b = x->shape[0];
        nn_tensor *logits = fashion_forward(n, x, false, NULL);
        loss += (double)nn_item(nn_cross_entropy_loss(logits, labels)) * b;
        nn_argmax_rows(logits, p);
        for (int i = 0; i < b; i++) {
            right += p[i] == labels[i];
            if (pred) pred[s + i] = p[i];
        }
        nn_graph_clear();
    }
    nn_set_grad_enabled(was_grad);
    nn_set_training(was_train);
    if (loss_out) *loss_out = (float)(loss / ds->n);
    return (float)right / (float)ds->n;
}

/* Called after every optimizer step (e.g. to put pruning masks back); NULL: none. */
typedef void (*fashion_step_hook)(void *ctx);

/* The loss of one batch: logits (B, 10), labels[B], and samples[B], the indices in the data
 * set of the batch's pictures (for per-picture targets, such as a teacher's logits). */
typedef nn_tensor *(*fashion_loss_fn)(nn_tensor *logits, const int *labels, const int *samples,
                                      int B, void *ctx);

/* `epochs` passes over tr in a new random order each, batches of 64, Adam (no weight decay)
 * with lr going from lr0 to 0 along a cosine; one line per epoch unless quiet. loss_fn NULL:
 * cross-entropy. Returns the mean training loss of the last epoch. */
FASHION_FN float fashion_train_with(fashion_net *n, nn_dataset *tr, int epochs, float lr0,
                                    fashion_loss_fn loss_fn, void *loss_ctx,
                                    fashion_step_hook hook, void *ctx, bool quiet) {
    const int B = 64;
    long total = (long)((tr->n + B - 1) / B) * epochs, step = 0;
    nn_optim *opt = nn_adam_new(n->model, lr0, 0.0f);
    double last = 0.0;
    for (int e = 0; e < epochs; e++) {
        nn_dataset_shuffle(tr, NULL);
        double t0 = nn_seconds(), loss_sum = 0.0;
        int labels[64];
        for (int s = 0; s < tr->n; s += B, step++) {
            opt->lr = 0.5f * lr0 * (1.0f + cosf(3.14159265f * (float)step / (float)total));
            nn_tensor *x = nn_dataset_batch(tr, s, B, labels);
            nn_tensor *logits = fashion_forward(n, x, false, NULL);
            int b = x->shape[0];
            nn_tensor *loss = loss_fn ? loss_fn(logits, labels, tr->order + s, b, loss_ctx)
                                      : nn_cross_entropy_loss(logits, labels);
            loss_sum += (double)nn_item(loss) * b;
            nn_model_zero_grad(n->model);
            nn_backward(loss);
            nn_optim_step(opt);
            if (hook) hook(ctx);
            nn_graph_clear();
        }
        last = loss_sum / tr->n;
        if (!quiet)
            printf("  %s epoch %d/%d  train loss %.4f  %.1f s\n", n->name, e + 1, epochs, last,
                   nn_seconds() - t0);
    }
    nn_optim_free(opt);
    return (float)last;
}

/* fashion_train_with on the cross-entropy. */
FASHION_FN float fashion_train(fashion_net *n, nn_dataset *tr, int epochs, float lr0,
                               fashion_step_hook hook, void *ctx, bool quiet) {
    return fashion_train_with(n, tr, epochs, lr0, NULL, NULL, hook, ctx, quiet);
}

/* Class c as a simple white shape on black, shifted by (dy, dx), brightness `a`. Not
 * clothes: just ten shapes that need looking at to tell apart. */
FASHION_FN void fashion_draw_shape(float *img, int c, int dy, int dx, float a) {
    for (int y = 0; y < FASHION_SIDE; y++)
        for (int x = 0; x < FASHION_SIDE; x++) {
            int u = y - 14 - dy, v = x - 14 - dx; /* centred coordinates */
            bool on = false;
            switch (c) {
            case 0: on = abs(u) <= 3 && abs(v) <= 9; break;                          /* bar */
            case 1: on = abs(u) <= 9 && (abs(v + 4) <= 2 || abs(v - 4) <= 2); break; /* legs */
            case 2: on = abs(u) <= 8 && abs(v) <= 8; break;                          /* block */
            case 3: on = u >= -8 && u <= 8 && abs(v) <= (u + 10) / 2; break;         /* dress */
            case 4: on = u * u + v * v <= 81 && u * u + v * v >= 36; break;          /* ring */
            case 5: on = abs(u) <= 8 && (abs(u - v) <= 1 || abs(u + v) <= 1); break; /* X */
            case 6: on = (abs(u) <= 1 && abs(v) <= 8) || (abs(v) <= 1 && abs(u) <= 8); break;
            case 7: on = u >= 2 && u <= 7 && abs(v) <= 10; break;                     /* shoe */
            case 8: on = (u >= -2 && u <= 8 && abs(v) <= 8) ||
                         (u >= -7 && u < -2 && abs(v) >= 3 && abs(v) <= 5); break;    /* bag */
            case 9: on = (abs(v + 4) <= 3 && u >= -9 && u <= 8) || (u >= 3 && u <= 8 && abs(v) <= 8); break;
            }
            img[y * FASHION_SIDE + x] = on ? a : 0.0f;
        }
}

/* n noisy shapes, labels 0..9 in turn. */
FASHION_FN void fashion_synthetic(nn_dataset *ds, int n, nn_rng *rng) {
    const int side2 = FASHION_SIDE * FASHION_SIDE;
    nn_tensor *X = nn_zeros(NN_SHAPE(n, 1, FASHION_SIDE, FASHION_SIDE));
    int *labels = malloc((size_t)n * sizeof(int));
    for (int i = 0; i < n; i++) {
        labels[i] = i % FASHION_CLASSES;
        float *img = X->data + (size_t)i * side2;
        fashion_draw_shape(img, labels[i], nn_rng_int(rng, 5) - 2, nn_rng_int(rng, 5) - 2,
                           0.6f + 0.4f * nn_rng_uniform(rng));
        for (int p = 0; p < side2; p++)
            img[p] = fminf(1.0f, fmaxf(0.0f, img[p] + 0.15f * nn_rng_normal(rng)));
    }
    nn_dataset_init(ds, X, labels, NULL);
    nn_tensor_free(X);
    free(labels);
}

/* The three sets: n_train + n_val pictures of the training file, shuffled (with the global
 * generator: seed it first) and split, and n_test of the test file, the pictures kept as
 * bytes (nn_fashion_mnist_load_bytes). data_dir NULL: as nn_fashion_mnist_load. When the DEFAULT folder is missing, says so and makes a synthetic
 * stand-in (synth_train + synth_val, synth_test pictures) and *name = "synthetic"; a folder
 * the user named that does not work is an error. 0, or 1 after a message on stderr. */
FASHION_FN int fashion_open_sized(const char *prog, const char *data_dir, int n_train,
                                  int n_val, int n_test, int synth_train, int synth_val,
                                  int synth_test, nn_dataset *tr, nn_dataset *val,
                                  nn_dataset *test, const char **name) {
    nn_dataset all;
    *name = "fashion-mnist";
    /* the pictures stay bytes (a quarter of the memory); batches come out as floats */
    if (nn_fashion_mnist_load_bytes(data_dir, &all, test, n_train + n_val, n_test) != 0) {
        const char *named = data_dir ? data_dir : getenv("NN_FASHION_MNIST_DIR");
        if (named && named[0]) {
            fflush(stdout);
            fprintf(stderr, "%s: cannot use the Fashion-MNIST folder %s (%s): %s\n", prog, named,
                    data_dir ? "--data" : "NN_FASHION_MNIST_DIR", nn_last_error());
            return 1;
        }
        printf("\nFashion-MNIST not found (%s).\n"
               "Install Debian's dataset-fashion-mnist or point --data / NN_FASHION_MNIST_DIR at "
               "the four .gz files.\nUsing a SYNTHETIC stand-in (ten simple shapes with noise) so "
               "the code still runs: its numbers say nothing about Fashion-MNIST.\n\n",
               nn_last_error());
        *name = "synthetic";
        n_train = synth_train, n_val = synth_val;
        fashion_synthetic(&all, n_train + n_val, nn_global_rng());
        fashion_synthetic(test, synth_test, nn_global_rng());
    }
    if (all.n < n_train + n_val) {   /* fewer pictures in the file than asked for */
        n_val = all.n / 10 > 0 ? all.n / 10 : 1;
        n_train = all.n - n_val;
    }
    nn_dataset_shuffle(&all, NULL);   /* a random validation split, the same for a given seed */
    nn_dataset_split(&all, n_val, tr, val);
    nn_dataset_free(&all);
    return 0;
}

/* The same with a synthetic validation set as big as the real one (n_val). */
FASHION_FN int fashion_open(const char *prog, const char *data_dir, int n_train, int n_val,
                            int n_test, int synth_train, int synth_test, nn_dataset *tr,
                            nn_dataset *val, nn_dataset *test, const char **name) {
    return fashion_open_sized(prog, data_dir, n_train, n_val, n_test, synth_train, n_val,
                              synth_test, tr, val, test, name);
}

#endif
