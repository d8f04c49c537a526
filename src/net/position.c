/* src/net/position.c — the sinusoidal position table and the ids of a learned one. */
#include "internal.h"
#include "nn/net/position.h"

const char *nn_position_kind_name(nn_position_kind kind) {
    switch (kind) {
    case NN_POSITION_LEARNED: return "learned";
    case NN_POSITION_SINUSOIDAL: return "sinusoidal";
    }
    return "?";
}

/* PE[t, 2i] = sin(p / 10000^(2i/dim)),  PE[t, 2i+1] = cos(same),  p = start + t.  (T, dim) */
nn_tensor *nn_sinusoidal_positions(int start, int T, int dim) {
    if (T < 1 || dim < 2 || dim % 2 != 0 || start < 0) {
        nn_fail("nn_sinusoidal_positions", "T >= 1 positions from start >= 0, and an even "
                "dim >= 2 (sin and cos pairs)", "start = %d, T = %d, dim = %d", start, T, dim);
        return NULL;
    }
    nn_tensor *pe = nn_graph_tensor(2, (int[]){T, dim}, false);
    for (int i = 0; i < dim / 2; i++) {
        /* the pair's angular speed, computed in double: 10000^(-2i/dim) */
        double speed = pow(10000.0, -2.0 * i / dim);
        for (int t = 0; t < T; t++) {
            double angle = (double)(start + t) * speed;
            pe->data[(size_t)t * dim + 2 * i] = (float)sin(angle);
            pe->data[(size_t)t * dim + 2 * i + 1] = (float)cos(angle);
        }
    }
    return pe;
}

void nn_position_ids(int *ids, int start, int T) {
    for (int t = 0; t < T; t++) ids[t] = start + t;
}
