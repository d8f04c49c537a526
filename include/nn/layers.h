/* nn/layers.h — layers built from ops: the linear (fully connected) layer and dropout. */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include "model.h"

typedef enum nn_init {
    NN_INIT_XAVIER, /* uniform(±sqrt(6 / (in + out))): keeps variance for tanh/sigmoid */
    NN_INIT_HE,     /* normal(0, sqrt(2 / in)): keeps variance for ReLU */
    NN_INIT_ZEROS   /* all zero (only sensible for a single layer) */
} nn_init;

/* Y = X W + b: one row of X per sample (the tutorial's Y = g(WX + b) with samples as rows).
 *   X: (N, in) or (B, T, in)   W: (in, out)   b: (out)   Y: (N, out) or (B, T, out) */
typedef struct nn_linear {
    nn_tensor *W;
    nn_tensor *b;
    int in, out;
} nn_linear;

/* Parameters are named "<name>.W" and "<name>.b"; the bias starts at zero. */
nn_linear *nn_linear_new(nn_model *m, const char *name, int in, int out, nn_init init);
nn_tensor *nn_linear_forward(const nn_linear *layer, nn_tensor *x);

/* Initialisers (rng NULL = the global generator). */
void nn_init_xavier(nn_tensor *w, int fan_in, int fan_out, nn_rng *rng);
void nn_init_he(nn_tensor *w, int fan_in, nn_rng *rng);

/* Inverted dropout: in training mode each element is zeroed with probability p and the
 * survivors are scaled by 1 / (1 - p), so eval mode (identity) needs no rescaling. */
nn_tensor *nn_dropout(nn_tensor *x, float p);

#define nn_linear_forward(...) NN_AT(nn_linear_forward(__VA_ARGS__))
#define nn_dropout(...) NN_AT(nn_dropout(__VA_ARGS__))

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_linear_new(...) NN_AT(nn_linear_new(__VA_ARGS__))
#define nn_init_xavier(...) NN_AT(nn_init_xavier(__VA_ARGS__))
#define nn_init_he(...) NN_AT(nn_init_he(__VA_ARGS__))

#endif
