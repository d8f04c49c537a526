/* src/data/image.c — images as (C, H, W) tensors in 0..1: load, save as PNG, resize, grey,
 * nearest-neighbour enlarging and a grid of several images (see include/nn/data/image.h).
 *
 * Files are decoded and encoded by stb_image / stb_image_write / stb_image_resize, which
 * Debian builds into libstb.so (we include the headers only, no *_IMPLEMENTATION).
 * stb stores pixels interleaved, row by row: byte[(y * W + x) * C + c]. Our tensors are
 * planar, channel by channel: data[(c * H + y) * W + x]. The loops below convert.
 */
#include "internal.h"
#include "nn/data/image.h"
#include "nn/cli/out_path.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#include <stb/stb_image_write.h>

/* ---- shared ------------------------------------------------------------------------------ */

/* The whole file in memory (the caller frees it), or NULL with nn_last_error() set.
 * Reads in chunks, so it also works on pipes, and it stops at INT_MAX bytes (stb's limit). */
static unsigned char *read_whole_file(const char *op, const char *path, size_t *len_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        nn_set_last_error("%s: cannot open '%s': %s", op, path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            nn_set_last_error("%s: out of memory reading '%s'", op, path);
            return NULL;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
        if (len > (size_t)INT_MAX) {
            free(buf);
            fclose(f);
            nn_set_last_error("%s: '%s' is larger than 2 GiB, too large for an image", op,
                              path);
            return NULL;
        }
        if (len == cap) {
            cap *= 2;
            unsigned char *bigger = realloc(buf, cap);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        nn_set_last_error("%s: cannot read '%s': %s", op, path, strerror(e ? e : EIO));
        return NULL;
    }
    fclose(f);
    *len_out = len;
    return buf;
}

/* Read the (C, H, W) of an image tensor; (H, W) counts as one channel. -1 after nn_fail. */
static int image_dims(const char *op, const nn_tensor *img, int *c, int *h, int *w) {
    if (!img) {
        nn_fail(op, "an earlier call probably failed and returned NULL", "image is NULL");
        return -1;
    }
    if (img->ndim == 2) {
        *c = 1;
        *h = img->shape[0];
        *w = img->shape[1];
    } else if (img->ndim == 3 && img->shape[0] >= 1 && img->shape[0] <= 4) {
        *c = img->shape[0];
        *h = img->shape[1];
        *w = img->shape[2];
    } else {
        nn_fail(op, "an image is (C, H, W) with C = 1 (grey), 3 (RGB) or 2/4 (with alpha), "
                    "or (H, W) for grey; reshape a (1, C, H, W) batch item first",
                "shape %s is not an image", SHAPE(img));
        return -1;
    }
    return 0;
}

/* A new owned image with the same layout as `like` ((H, W) stays (H, W)). */
static nn_tensor *new_image(const nn_tensor *like, int c, int h, int w) {
    if (like && like->ndim == 2) return nn_zeros(NN_SHAPE(h, w));
    return nn_zeros(NN_SHAPE(c, h, w));
}

/* ---- load -------------------------------------------------------------------------------- */

/* The kind of file from its first bytes (its "signature"), for clearer messages. */
static const char *image_kind(const unsigned char *b, size_t len) {
    if (len >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return "PNG";
    if (len >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return "JPEG";
    if (len >= 2 && b[0] == 'B' && b[1] == 'M') return "BMP";
    if (len >= 4 && memcmp(b, "GIF8", 4) == 0) return "GIF";
    return NULL;
}

/* Is the whole file there? Decoders (stb's too) forgive a missing end: a cut-off JPEG gets
 * grey rows, a PNG missing its last bytes loads anyway. So we look for the end marks:
 *   JPEG ends with End Of Image, FF D9, which cannot occur inside the compressed data
 *   (a literal FF there is written FF 00);
 *   PNG ends with the chunk IEND: length 0, "IEND", its CRC AE 42 60 82;
 *   BMP says its file size in bytes 2..5 of the header. */
static bool has_end_mark(const char *kind, const unsigned char *b, size_t len) {
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    if (kind && strcmp(kind, "JPEG") == 0) {
        for (size_t i = len; i >= 2; i--)
            if (b[i - 2] == 0xFF && b[i - 1] == 0xD9) return true;
        return false;
    }
    if (kind && strcmp(kind, "PNG") == 0) {
        for (size_t i = len; i >= 8 + 12; i--)
            if (memcmp(b + i - 12, iend, 12) == 0) return true;
        return false;
    }
    if (kind && strcmp(kind, "BMP") == 0 && len >= 6) { /* BMP: the header has the file size */
        uint32_t size = b[2] | (uint32_t)b[3] << 8 | (uint32_t)b[4] << 16 | (uint32_t)b[5] << 24;
        return size == 0 || len >= size; /* some writers leave it 0 */
    }
    return true; /* other formats: trust the decoder */
}

/* stb_image's reason for a failure, as " (stb_image: ...)", or "" when it gave none. */
static void stb_reason(char *buf, size_t size) {
    const char *r = stbi_failure_reason();
    if (r && *r) snprintf(buf, size, " (stb_image: %s)", r);
    else buf[0] = 0;
}

nn_tensor *nn_image_load(const char *path, int channels) {
    if (!path) {
        nn_fail("nn_image_load", "pass the file name of a PNG, JPEG or BMP", "path is NULL");
        return NULL;
    }
    if (channels < 0 || channels > 4) {
        nn_fail("nn_image_load", "channels: 1 = grey, 3 = RGB, 4 = RGBA, 0 = as stored",
                "channels = %d", channels);
        return NULL;
    }
    size_t len = 0;
    unsigned char *bytes = read_whole_file("nn_image_load", path, &len);
    if (!bytes) return NULL;
    if (len == 0) {
        free(bytes);
        nn_set_last_error("nn_image_load: '%s' is empty (0 bytes); expected a PNG, JPEG or BMP "
                          "image", path);
        return NULL;
    }
    int w, h, stored;
    char why[128];
    const char *kind = image_kind(bytes, len);
    if (!stbi_info_from_memory(bytes, (int)len, &w, &h, &stored)) {
        stb_reason(why, sizeof why);
        if (kind)
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) looks like a %s but is truncated "
                              "or corrupt%s", path, len, kind, why);
        else
            nn_set_last_error("nn_image_load: '%s' (%zu bytes) is not an image this library can "
                              "read%s; expected PNG, JPEG, BMP, GIF, TGA or PNM", path, len, why);
        free(bytes);
        return NULL;
    }
    if (!has_end_mark(kind, bytes, len)) {
        nn_set_last_error("nn_image_load: '%s' is a truncated %s (%zu bytes, its end marker is "
                          "missing); the file was cut short", path, kind, len);
        free(bytes);
        return NULL;
    }
    unsigned char *pix = stbi_load_from_memory(bytes, (int)len, &w, &h, &stored, channels);
    free(bytes);
    if (!pix) {
        stb_reason(why, sizeof why);
        nn_set_last_error("nn_image_load: '%s' is a truncated or corrupt %s%s", path,
                          kind ? kind : "image", why);
        return NULL;
    }
    int c = channels ? channels : stored;
    nn_tensor *img = nn_zeros(NN_SHAPE(c, h, w));
    size_t plane = (size_t)h * w;
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++) img->data[k * plane + p] = pix[p * c + k] / 255.0f;
    stbi_image_free(pix);
    return img;
}

/* ---- save -------------------------------------------------------------------------------- */

/* stb_image_write hands the encoded PNG over in pieces; we pass them on to the file. */
typedef struct png_sink {
    FILE *f;
    int failed;
} png_sink;

static void png_write(void *context, void *data, int size) {
    png_sink *s = context;
    if (size > 0 && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->failed = 1;
}

/* 0..1 float -> 0..255 byte, rounding to the nearest level; NaN and below 0 -> 0. */
static unsigned char to_byte(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (unsigned char)(v * 255.0f + 0.5f);
}

int nn_image_save_png(const char *path, const nn_tensor *img) {
    int c, h, w;
    if (!path) {
        nn_fail("nn_image_save_png", "pass a file name such as \"out.png\"", "path is NULL");
        return -1;
    }
    if (image_dims("nn_image_save_png", img, &c, &h, &w) != 0) return -1;
    if ((size_t)w * c > (size_t)INT_MAX / 4 || h > INT_MAX / 4) {
        nn_fail("nn_image_save_png", "PNG rows are limited; resize first",
                "image %s is too large", SHAPE(img));
        return -1;
    }
    size_t plane = (size_t)h * w;
    unsigned char *pix = malloc(plane * c);
    if (!pix) return nn_set_last_error("nn_image_save_png: out of memory for '%s'", path);
    for (size_t p = 0; p < plane; p++)
        for (int k = 0; k < c; k++) pix[p * c + k] = to_byte(img->data[k * plane + p]);

    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e) {
        free(pix);
        return nn_set_last_error("nn_image_save_png: cannot write '%s': %s", path, strerror(e));
    }
    png_sink sink = {out.f, 0};
    int ok = stbi_write_png_to_func(png_write, &sink, w, h, c, pix, w * c);
    free(pix);
    if (!ok) e = ENOMEM; /* stb could not allocate its buffers */
    else if (sink.failed) e = errno ? errno : EIO;
    e = nn_safe_commit(&out, path, e, false);
    if (e) return nn_set_last_error("nn_image_save_png: cannot write '%s': %s", path, strerror(e));
    return 0;
}

/* nn_image_save_png into dir/file (folders made as needed), saying where it went or why not:
 * the three steps every example did after making a picture. */
int nn_image_save_png_in(const char *dir, const char *file, const nn_tensor *img) {
    if (!file) {
        nn_fail("nn_image_save_png_in", "pass a file name such as \"out.png\"", "file is NULL");
        return -1;
    }
    char path[4096];
    if (nn_out_path(path, sizeof path, dir, file) && nn_image_save_png(path, img) == 0) {
        printf("wrote %s\n", path);
        return 0;
    }
    fprintf(stderr, "could not write %s/%s: %s\n", dir && dir[0] ? dir : ".", file,
            nn_last_error());
    return -1;
}

/* ---- resize, enlarge, grey --------------------------------------------------------------- */

nn_tensor *nn_image_resize(const nn_tensor *img, int h, int w) {
    int c, H, W;
    if (image_dims("nn_image_resize", img, &c, &H, &W) != 0) return NULL;
    if (h < 1 || w < 1 || h > 65535 || w > 65535) {
        nn_fail("nn_image_resize", "the new height and width must be 1 .. 65535",
                "%s -> (%d, %d)", SHAPE(img), h, w);
        return NULL;
    }
    nn_tensor *out = new_image(img, c, h, w);
    /* One channel at a time: our planes are exactly stb's 1-channel images. Each axis gets
     * its own filter: the triangle filter (bilinear interpolation) where it grows or keeps
     * its size, the box filter (an area average) where it shrinks. Both have weights >= 0
     * that sum to 1, so the values stay in the input's range. (stb_image_resize 0.97's
     * triangle filter fails an assert and aborts on about one shrink ratio in five, e.g.
     * 160 -> 106 or 7 -> 5: stb issue #1449. Its box filter has no such problem.) */
    stbir_filter fx = w < W ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
    stbir_filter fy = h < H ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE;
    for (int k = 0; k < c; k++) {
        const float *src = img->data + (size_t)k * H * W;
        float *dst = out->data + (size_t)k * h * w;
        if (!stbir_resize(src, W, H, W * (int)sizeof(float), dst, w, h, w * (int)sizeof(float),
                          STBIR_TYPE_FLOAT, 1, STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP,
                          STBIR_EDGE_CLAMP, fx, fy, STBIR_COLORSPACE_LINEAR, NULL)) {
            nn_tensor_free(out);
            nn_fail("nn_image_resize", NULL, "stb_image_resize failed for %s -> (%d, %d)",
                    SHAPE(img), h, w);
            return NULL;
        }
    }
    return out;
}

nn_tensor *nn_image_scale_nearest(const nn_tensor *img, int factor) {
    int c, H, W;
    if (image_dims("nn_image_scale_nearest", img, &c, &H, &W) != 0) return NULL;
    if (factor < 1 || (long)H * factor > 65535 || (long)W * factor > 65535) {
        nn_fail("nn_image_scale_nearest", "factor >= 1, and the result at most 65535 wide",
                "%s times %d", SHAPE(img), factor);
        return NULL;
    }
    int h = H * factor, w = W * factor;
    nn_tensor *out = new_image(img, c, h, w);
    for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++) {
            const float *src = img->data + ((size_t)k * H + y / factor) * W;
            float *dst = out->data + ((size_t)k * h + y) * w;
            for (int x = 0; x < w; x++) dst[x] = src[x / factor];
        }
    return out;
}

nn_tensor *nn_image_to_grey(const nn_tensor *img) {
    int c, h, w;
    if (image_dims("nn_image_to_grey", img, &c, &h, &w) != 0) return NULL;
    nn_tensor *out = nn_zeros(NN_SHAPE(1, h, w));
    size_t plane = (size_t)h * w;
    if (c < 3) { /* grey (with or without alpha): the grey channel */
        memcpy(out->data, img->data, plane * sizeof(float));
    } else {     /* BT.601 luma: the eye is most sensitive to green, least to blue */
        const float *r = img->data, *g = r + plane, *b = g + plane;
        for (size_t p = 0; p < plane; p++)
            out->data[p] = 0.299f * r[p] + 0.587f * g[p] + 0.114f * b[p];
    }
    return out;
}

/* ---- grid ------------------------------------------------------------------------------- */

nn_tensor *nn_image_grid(const nn_tensor *const *images, int n, int cols, int pad) {
    const char *op = "nn_image_grid";
    if (!images || n < 1 || pad < 0) {
        nn_fail(op, "pass an array of n >= 1 images and a padding >= 0",
                "images %s, n = %d, pad = %d", images ? "given" : "NULL", n, pad);
        return NULL;
    }
    int c0 = 0, cell_h = 0, cell_w = 0;
    for (int i = 0; i < n; i++) {
        int c, h, w;
        if (image_dims(op, images[i], &c, &h, &w) != 0) return NULL;
        if (i == 0) c0 = c;
        if (c != c0) {
            nn_fail(op, "convert them all to grey (nn_image_to_grey) or all to RGB",
                    "image 0 has %d channel(s) but image %d, shape %s, has %d", c0, i,
                    SHAPE(images[i]), c);
            return NULL;
        }
        if (h > cell_h) cell_h = h;
        if (w > cell_w) cell_w = w;
    }
    if (cols <= 0) { /* about square: the smallest cols with cols * cols >= n */
        cols = 1;
        while (cols * cols < n) cols++;
    }
    if (cols > n) cols = n;
    int rows = (n + cols - 1) / cols;
    long H = (long)rows * cell_h + (long)(rows + 1) * pad;
    long W = (long)cols * cell_w + (long)(cols + 1) * pad;
    if (H > 65535 || W > 65535) {
        nn_fail(op, "fewer or smaller images, or less padding",
                "the grid would be %ld x %ld pixels", H, W);
        return NULL;
    }
    nn_tensor *out = nn_full(1.0f, NN_SHAPE(c0, (int)H, (int)W)); /* white background */
    for (int i = 0; i < n; i++) {
        const nn_tensor *img = images[i];
        int c, h, w;
        image_dims(op, img, &c, &h, &w);
        /* Stretch this image to 0..1 by its own finite min and max (all channels together,
         * so colours keep their balance). */
        float lo = INFINITY, hi = -INFINITY;
        for (size_t j = 0; j < img->size; j++) {
            float v = img->data[j];
            if (isfinite(v)) {
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
        }
        float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
        int y0 = pad + (i / cols) * (cell_h + pad), x0 = pad + (i % cols) * (cell_w + pad);
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++) {
                const float *src = img->data + ((size_t)k * h + y) * w;
                float *dst = out->data + ((size_t)k * H + y0 + y) * W + x0;
                for (int x = 0; x < w; x++) {
                    float v = src[x];
                    dst[x] = !isfinite(v) ? 0.0f : hi > lo ? (v - lo) * scale : 0.5f;
                }
            }
    }
    return out;
}
