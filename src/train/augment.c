/* src/train/augment.c — data augmentation: noise, jitter, flips, rotations, crops.
 *
 * Every function reads x and writes a fresh graph tensor (no tape node: this is data, not a
 * differentiable op). Images are (C, H, W) or (N, C, H, W); an image is C planes of H x W
 * values, and the random choices are made once per image, in order, so a seed repeats them.
 */
#include "internal.h"
#include "nn/train/augment.h"

/* ---- shared: the image layout of x ------------------------------------------------------ */

typedef struct image_dims {
    int n, c, h, w;  /* images, channels, rows, columns */
} image_dims;

static bool image_layout(const char *op, const nn_tensor *x, image_dims *d) {
    if (!x) {
        nn_fail(op, "an earlier call probably failed and returned NULL", "input 'x' is NULL");
        return false;
    }
    if (!nn_require_live(x, op, "x")) return false;
    if (x->ndim != 3 && x->ndim != 4) {
        nn_fail(op, "images are (C, H, W) or a batch (N, C, H, W); nn_reshape a flat "
                "(N, H*W) batch to (N, 1, H, W) first",
                "input has shape %s", SHAPE(x));
        return false;
    }
    int o = x->ndim - 3;
    d->n = o ? x->shape[0] : 1;
    d->c = x->shape[o];
    d->h = x->shape[o + 1];
    d->w = x->shape[o + 2];
    return true;
}

/* An output like x, but with the last two dims set to (h, w). */
static nn_tensor *image_out(const nn_tensor *x, int h, int w) {
    int shape[NN_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[x->ndim - 2] = h;
    shape[x->ndim - 1] = w;
    return nn_graph_tensor(x->ndim, shape, false);
}

static nn_rng *pick_rng(nn_rng *rng) { return rng ? rng : nn_global_rng(); }

/* ---- noise and jitter (any shape) ---------------------------------------------------------- */

nn_tensor *nn_aug_noise(const nn_tensor *x, float std, nn_rng *rng) {
    NN_REQUIRE(x, "nn_aug_noise");
    if (!(std >= 0.0f)) {
        nn_fail("nn_aug_noise", "std is the noise's standard deviation: 0 or more",
                "std = %g", std);
        return NULL;
    }
    rng = pick_rng(rng);
    nn_tensor *out = nn_graph_tensor(x->ndim, x->shape, false);
    for (size_t i = 0; i < x->size; i++) out->data[i] = x->data[i] + std * nn_rng_normal(rng);
    return out;
}

nn_tensor *nn_aug_jitter(const nn_tensor *x, float std, float clip, nn_rng *rng) {
    NN_REQUIRE(x, "nn_aug_jitter");
    if (!(std >= 0.0f)) {
        nn_fail("nn_aug_jitter", "std is the jitter's standard deviation: 0 or more",
                "std = %g", std);
        return NULL;
    }
    rng = pick_rng(rng);
    nn_tensor *out = nn_graph_tensor(x->ndim, x->shape, false);
    for (size_t i = 0; i < x->size; i++) {
        float e = std * nn_rng_normal(rng);
        if (clip > 0.0f) e = e > clip ? clip : (e < -clip ? -clip : e);
        out->data[i] = x->data[i] + e;
    }
    return out;
}

/* ---- flips: out[i][j] = in[i][W-1-j] (horizontal) or in[H-1-i][j] (vertical) ------------- */

static void flip_plane(const float *in, float *out, int h, int w, bool horizontal) {
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++)
            out[(size_t)i * w + j] = horizontal ? in[(size_t)i * w + (w - 1 - j)]
                                                : in[(size_t)(h - 1 - i) * w + j];
}

static nn_tensor *flip(const char *op, const nn_tensor *x, bool horizontal, float p,
                       nn_rng *rng) {
    image_dims d;
    if (!image_layout(op, x, &d)) return NULL;
    nn_tensor *out = image_out(x, d.h, d.w);
    size_t plane = (size_t)d.h * d.w;
    for (int n = 0; n < d.n; n++) {
        /* p < 0 means "always" (the plain flips); otherwise one coin per image */
        bool flip_it = p < 0.0f || nn_rng_uniform(rng) < p;
        for (int c = 0; c < d.c; c++) {
            size_t off = ((size_t)n * d.c + c) * plane;
            if (flip_it) flip_plane(x->data + off, out->data + off, d.h, d.w, horizontal);
            else memcpy(out->data + off, x->data + off, plane * sizeof(float));
        }
    }
    return out;
}

nn_tensor *nn_aug_flip_h(const nn_tensor *x) { return flip("nn_aug_flip_h", x, true, -1.0f, NULL); }
nn_tensor *nn_aug_flip_v(const nn_tensor *x) { return flip("nn_aug_flip_v", x, false, -1.0f, NULL); }

nn_tensor *nn_aug_random_flip_h(const nn_tensor *x, float p, nn_rng *rng) {
    if (!(p >= 0.0f && p <= 1.0f)) {
        nn_fail("nn_aug_random_flip_h", "p is a probability: 0 <= p <= 1", "p = %g", p);
        return NULL;
    }
    return flip("nn_aug_random_flip_h", x, true, p, pick_rng(rng));
}

/* ---- rot90: a quarter turn counter-clockwise maps (H, W) -> (W, H) ----------------------
 * Looking at the picture, the top-right corner moves to the top-left:
 *   k = 1:  out[i][j] = in[j][W-1-i]        k = 2:  out[i][j] = in[H-1-i][W-1-j]
 *   k = 3:  out[i][j] = in[H-1-j][i]                                                  */

nn_tensor *nn_aug_rot90(const nn_tensor *x, int k) {
    image_dims d;
    if (!image_layout("nn_aug_rot90", x, &d)) return NULL;
    k = ((k % 4) + 4) % 4;
    int oh = k % 2 ? d.w : d.h, ow = k % 2 ? d.h : d.w;
    nn_tensor *out = image_out(x, oh, ow);
    size_t plane = (size_t)d.h * d.w;
    for (size_t p = 0; p < (size_t)d.n * d.c; p++) {
        const float *in = x->data + p * plane;
        float *o = out->data + p * plane;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++) {
                int si, sj; /* source row and column */
                switch (k) {
                case 0: si = i; sj = j; break;
                case 1: si = j; sj = d.w - 1 - i; break;
                case 2: si = d.h - 1 - i; sj = d.w - 1 - j; break;
                default: si = d.h - 1 - j; sj = i; break;
                }
                o[(size_t)i * ow + j] = in[(size_t)si * d.w + sj];
            }
    }
    return out;
}

/* ---- rotation by any angle, bilinear ------------------------------------------------------
 * With u = j - cx to the right and v = cy - i upwards (centre (cy, cx) = ((H-1)/2, (W-1)/2)),
 * an output pixel at (u, v) comes from the source point rotated back by -theta:
 *   us =  u cos(theta) + v sin(theta),   vs = -u sin(theta) + v cos(theta)
 * and its value is the bilinear mix of the four pixels around (cy - vs, cx + us).
 * Neighbours outside the image count as `fill`. */

static float pixel_or(const float *in, int h, int w, int i, int j, float fill) {
    return (i >= 0 && i < h && j >= 0 && j < w) ? in[(size_t)i * w + j] : fill;
}

static void rotate_plane(const float *in, float *out, int h, int w, double theta, float fill) {
    double cs = cos(theta), sn = sin(theta);
    double cy = 0.5 * (h - 1), cx = 0.5 * (w - 1);
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double u = j - cx, v = cy - i;
            double sx = cx + (u * cs + v * sn);   /* source column */
            double sy = cy - (-u * sn + v * cs);  /* source row */
            double fy = floor(sy), fx = floor(sx);
            int i0 = (int)fy, j0 = (int)fx;
            float ty = (float)(sy - fy), tx = (float)(sx - fx);
            if (i0 < -1 || i0 >= h || j0 < -1 || j0 >= w) { /* wholly outside */
                out[(size_t)i * w + j] = fill;
                continue;
            }
            float a = pixel_or(in, h, w, i0, j0, fill), b = pixel_or(in, h, w, i0, j0 + 1, fill);
            float c = pixel_or(in, h, w, i0 + 1, j0, fill);
            float e = pixel_or(in, h, w, i0 + 1, j0 + 1, fill);
            /* tx == 0 and ty == 0 (an exact pixel) must give that pixel exactly: no 0 * fill
             * surprises, so skip the zero-weight terms */
            float top = tx == 0.0f ? a : a + tx * (b - a);
            float bottom = tx == 0.0f ? c : c + tx * (e - c);
            out[(size_t)i * w + j] = ty == 0.0f ? top : top + ty * (bottom - top);
        }
}

static nn_tensor *rotate(const char *op, const nn_tensor *x, float degrees, float max_degrees,
                         float fill, nn_rng *rng) {
    image_dims d;
    if (!image_layout(op, x, &d)) return NULL;
    nn_tensor *out = image_out(x, d.h, d.w);
    size_t plane = (size_t)d.h * d.w;
    for (int n = 0; n < d.n; n++) {
        double deg = rng ? max_degrees * (2.0 * nn_rng_uniform(rng) - 1.0) : degrees;
        double theta = deg * 3.14159265358979323846 / 180.0;
        for (int c = 0; c < d.c; c++) {
            size_t off = ((size_t)n * d.c + c) * plane;
            rotate_plane(x->data + off, out->data + off, d.h, d.w, theta, fill);
        }
    }
    return out;
}

nn_tensor *nn_aug_rotate(const nn_tensor *x, float degrees, float fill) {
    if (!isfinite(degrees)) {
        nn_fail("nn_aug_rotate", "pass an angle in degrees", "degrees = %g", degrees);
        return NULL;
    }
    return rotate("nn_aug_rotate", x, degrees, 0.0f, fill, NULL);
}

nn_tensor *nn_aug_random_rotate(const nn_tensor *x, float max_degrees, float fill,
                                  nn_rng *rng) {
    if (!(max_degrees >= 0.0f && max_degrees <= 360.0f)) {
        nn_fail("nn_aug_random_rotate", "max_degrees bounds |angle|: 0 to 360 (try 10 to 30)",
                "max_degrees = %g", max_degrees);
        return NULL;
    }
    return rotate("nn_aug_random_rotate", x, 0.0f, max_degrees, fill, pick_rng(rng));
}

/* ---- crops ----------------------------------------------------------------------------------
 * Fixed window: out[i][j] = in[top + i][left + j].
 * Random crop with padding: out[i][j] = in[i + dy][j + dx], or 0 where that is outside. */

nn_tensor *nn_aug_crop(const nn_tensor *x, int top, int left, int h, int w) {
    image_dims d;
    if (!image_layout("nn_aug_crop", x, &d)) return NULL;
    if (h < 1 || w < 1 || top < 0 || left < 0 || top + h > d.h || left + w > d.w) {
        nn_fail("nn_aug_crop", "the window must lie inside the image: 0 <= top, top + h <= H "
                "and 0 <= left, left + w <= W",
                "window %dx%d at (%d, %d) does not fit input %s", h, w, top, left, SHAPE(x));
        return NULL;
    }
    nn_tensor *out = image_out(x, h, w);
    for (size_t p = 0; p < (size_t)d.n * d.c; p++) {
        const float *in = x->data + p * d.h * d.w;
        float *o = out->data + p * h * w;
        for (int i = 0; i < h; i++)
            memcpy(o + (size_t)i * w, in + (size_t)(top + i) * d.w + left, (size_t)w * sizeof(float));
    }
    return out;
}

nn_tensor *nn_aug_random_crop(const nn_tensor *x, int pad, nn_rng *rng) {
    image_dims d;
    if (!image_layout("nn_aug_random_crop", x, &d)) return NULL;
    if (pad < 0) {
        nn_fail("nn_aug_random_crop", "pad is the largest shift in pixels: 0 or more",
                "pad = %d", pad);
        return NULL;
    }
    rng = pick_rng(rng);
    nn_tensor *out = image_out(x, d.h, d.w); /* zero-filled: the padding */
    size_t plane = (size_t)d.h * d.w;
    for (int n = 0; n < d.n; n++) {
        int dy = nn_rng_int(rng, 2 * pad + 1) - pad;
        int dx = nn_rng_int(rng, 2 * pad + 1) - pad;
        for (int c = 0; c < d.c; c++) {
            const float *in = x->data + ((size_t)n * d.c + c) * plane;
            float *o = out->data + ((size_t)n * d.c + c) * plane;
            for (int i = 0; i < d.h; i++) {
                int si = i + dy;
                if (si < 0 || si >= d.h) continue;
                for (int j = 0; j < d.w; j++) {
                    int sj = j + dx;
                    if (sj >= 0 && sj < d.w) o[(size_t)i * d.w + j] = in[(size_t)si * d.w + sj];
                }
            }
        }
    }
    return out;
}
