/* nn/net/init.h — how a layer's weights start: Xavier (Glorot) and He (Kaiming). */
#ifndef NN_NET_INIT_H
#define NN_NET_INIT_H

#include "../core/tensor.h"

typedef enum nn_init {
    NN_INIT_XAVIER, /* uniform(±sqrt(6 / (in + out))): keeps variance for tanh/sigmoid */
    NN_INIT_HE,     /* normal(0, sqrt(2 / in)): keeps variance for ReLU */
    NN_INIT_ZEROS   /* all zero (only sensible for a single layer) */
} nn_init;

/* Initialisers (rng NULL = the global generator). */
void nn_init_xavier(nn_tensor *w, int fan_in, int fan_out, nn_rng *rng);
void nn_init_he(nn_tensor *w, int fan_in, nn_rng *rng);

#endif
