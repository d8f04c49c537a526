/* src/viz/heatmap.c — values to colours: a diverging blue-white-red map around 0, or a
 * sequential white-orange-dark red one, each linear between a few fixed colours. */
#include "internal.h"
#include "nn/viz/heatmap.h"

typedef struct { float r, g, b; } rgb;

/* The colour at t in [0, 1] along n stops, linearly between neighbours. */
static rgb along(const rgb *stops, int n, float t) {
    float pos = t * (float)(n - 1);
    int i = (int)pos;
    if (i >= n - 1) return stops[n - 1];
    float f = pos - (float)i;
    return (rgb){stops[i].r + f * (stops[i + 1].r - stops[i].r),
                 stops[i].g + f * (stops[i + 1].g - stops[i].g),
                 stops[i].b + f * (stops[i + 1].b - stops[i].b)};
}

static const rgb diverging[] = {{0.13f, 0.30f, 0.65f}, {1, 1, 1}, {0.70f, 0.09f, 0.17f}};
static const rgb sequential[] = {{1, 1, 1}, {0.99f, 0.75f, 0.45f}, {0.89f, 0.29f, 0.13f},
                                 {0.45f, 0.05f, 0.05f}};

nn_tensor *nn_heatmap(const nn_tensor *m, float lo, float hi) {
    NN_REQUIRE(m, "nn_heatmap");
    if (m->ndim != 2 || !(lo < hi) || !isfinite(lo) || !isfinite(hi)) {
        nn_fail("nn_heatmap", "a matrix (H, W) and a range lo < hi, both finite",
                "shape %s, lo = %g, hi = %g", SHAPE(m), (double)lo, (double)hi);
        return NULL;
    }
    int H = m->shape[0], W = m->shape[1];
    nn_tensor *img = nn_zeros(NN_SHAPE(3, H, W));
    size_t plane = (size_t)H * W;
    bool diverge = lo < 0.0f && hi > 0.0f;
    for (size_t i = 0; i < plane; i++) {
        float v = m->data[i];
        rgb c = {0, 0, 0};
        if (v == v) {
            v = v < lo ? lo : v > hi ? hi : v;
            if (diverge) /* 0 sits in the middle whatever lo and hi are */
                c = along(diverging, 3, v < 0 ? 0.5f * (1.0f - v / lo) : 0.5f + 0.5f * v / hi);
            else
                c = along(sequential, 4, (v - lo) / (hi - lo));
        }
        img->data[i] = c.r;
        img->data[plane + i] = c.g;
        img->data[2 * plane + i] = c.b;
    }
    return img;
}
