/* examples/ch03_kernels/kernels.c — classic convolution kernels (卷积核) on a real image.
 *
 * The tutorial: multiply the grey values of a small fixed-size region of the image with the
 * kernel, add the products up, write the sum into the result; slide on and repeat. Each
 * result then depends on a pixel and its neighbours, and different kernel values give
 * different effects: sharpen (锐化), blur (模糊), edges.
 *
 *   out[i, j] = sum_{u, v} k[u, v] * img[i - p + u, j - p + v]      (p = k/2 zero padding)
 *
 * This is nn_conv2d with one input and one output channel: x (C, 1, H, W), w (1, 1, k, k).
 * A colour picture's C = 3 channels go in as a batch of 3 grey pictures, so each channel is
 * filtered on its own. Blur, sharpen and emboss run on every channel; the edge detectors
 * run on the grey picture.
 *
 *   kernels [image.png|.jpg|.bmp] [--grey] [--size N] [--quick] [--seed N] [--out DIR]
 *   (--help lists them)
 *
 * Without an image it draws its own test picture (a house, the sun, a checkerboard, stripes,
 * letters), saves it as DIR/ch03_input.png and loads that file back, so the same path runs
 * as for your photo. Pictures larger than --size (default 384, 160 with --quick; 16 .. 8192)
 * on their long side are shrunk first; --grey uses the grey picture for every kernel.
 * Writes DIR/ch03_kernels_grid.png (all results side by side), DIR/ch03_kernel_<name>.png
 * (each result), DIR/ch03_kernels_weights.png (the kernels themselves, enlarged) and
 * DIR/ch03_pooling.png (max and average pooling of the edges); DIR is out by default.
 * Exit status 1 when the image cannot be read or a picture cannot be written.
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the test picture ----------------------------------------------------------------- */

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Coverage of a pixel by a shape whose signed distance (negative inside) at the pixel centre
 * is d: a one-pixel soft edge, so the shapes are anti-aliased. */
static float cover(float d) { return clampf(0.5f - d, 0.0f, 1.0f); }

static float seg_dist(float px, float py, float ax, float ay, float bx, float by) {
    float dx = bx - ax, dy = by - ay;
    float t = clampf(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0f, 1.0f);
    return hypotf(px - ax - t * dx, py - ay - t * dy);
}

static float box_dist(float px, float py, float x0, float y0, float x1, float y1) {
    return fmaxf(fmaxf(x0 - px, px - x1), fmaxf(y0 - py, py - y1));
}

/* Signed distance to a triangle given counter-clockwise (in image coordinates, y down:
 * clockwise on screen): the largest distance past any of its three edges. */
static float tri_dist(float px, float py, const float t[6]) {
    float d = -INFINITY;
    for (int e = 0; e < 3; e++) {
        float ax = t[2 * e], ay = t[2 * e + 1], bx = t[(2 * e + 2) % 6], by = t[(2 * e + 3) % 6];
        float nx = by - ay, ny = ax - bx, len = hypotf(nx, ny); /* outward normal */
        d = fmaxf(d, ((px - ax) * nx + (py - ay) * ny) / len);
    }
    return d;
}

typedef struct canvas {
    float *rgb; /* (3, H, W) */
    int H, W;
} canvas;

static void paint(canvas *c, int y, int x, const float col[3], float a) {
    size_t plane = (size_t)c->H * c->W, at = (size_t)y * c->W + x;
    for (int k = 0; k < 3; k++) c->rgb[k * plane + at] += a * (col[k] - c->rgb[k * plane + at]);
}

/* A thick line through the points (x0,y0), (x1,y1), ...: stroke half-width r. */
static float poly_dist(float px, float py, const float *pts, int n) {
    float d = INFINITY;
    for (int i = 0; i + 1 < n; i++)
        d = fminf(d, seg_dist(px, py, pts[2 * i], pts[2 * i + 1], pts[2 * i + 2], pts[2 * i + 3]));
    return d;
}

/* Draw the test picture, W = 240, H = 160: sky and grass, sun, house, checkerboard,
 * diagonal stripes and the letters "CNN". Grass has a little seeded noise. */
static nn_tensor *draw_test_picture(nn_rng *rng) {
    enum { H = 160, W = 240 };
    nn_tensor *img = nn_zeros(NN_SHAPE(3, H, W));
    canvas c = {img->data, H, W};
    const float sky_top[3] = {0.40f, 0.62f, 0.95f}, sky_low[3] = {0.85f, 0.92f, 1.0f};
    const float grass[3] = {0.33f, 0.58f, 0.24f}, sun[3] = {1.0f, 0.85f, 0.2f};
    const float wall[3] = {0.78f, 0.32f, 0.22f}, roof[3] = {0.30f, 0.18f, 0.14f};
    const float glass[3] = {0.80f, 0.90f, 1.0f}, dark[3] = {0.12f, 0.08f, 0.06f};
    const float white[3] = {1, 1, 1}, black[3] = {0, 0, 0}, ink[3] = {0.05f, 0.05f, 0.25f};
    float roof_tri[6] = {28, 72, 80, 34, 132, 72};
    /* "CNN": the C as an open arc of short segments, the Ns as three strokes each */
    float letter_c[2 * 13], letter_n1[8] = {160, 104, 160, 74, 182, 104, 182, 74};
    float letter_n2[8] = {194, 104, 194, 74, 216, 104, 216, 74};
    for (int i = 0; i < 13; i++) {
        float a = 0.8f + (6.2832f - 1.6f) * i / 12.0f;
        letter_c[2 * i] = 140 + 15 * cosf(a);
        letter_c[2 * i + 1] = 89 - 15 * sinf(a);
    }
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float px = x + 0.5f, py = y + 0.5f;
            if (y < 112) { /* sky: a vertical gradient */
                float t = py / 112.0f;
                for (int k = 0; k < 3; k++)
                    c.rgb[(size_t)k * H * W + (size_t)y * W + x] =
                        sky_top[k] + t * (sky_low[k] - sky_top[k]);
            } else { /* grass: a little seeded noise */
                float n = 0.06f * (nn_rng_uniform(rng) - 0.5f);
                for (int k = 0; k < 3; k++)
                    c.rgb[(size_t)k * H * W + (size_t)y * W + x] = grass[k] + n;
            }
            paint(&c, y, x, sun, cover(hypotf(px - 212, py - 30) - 17));
            paint(&c, y, x, wall, cover(box_dist(px, py, 38, 72, 122, 140)));
            paint(&c, y, x, roof, cover(tri_dist(px, py, roof_tri)));
            paint(&c, y, x, dark, cover(box_dist(px, py, 70, 104, 90, 140)));        /* door */
            for (int wdw = 0; wdw < 2; wdw++) {                                       /* windows */
                float x0 = wdw ? 98 : 46;
                paint(&c, y, x, glass, cover(box_dist(px, py, x0, 84, x0 + 16, 100)));
                paint(&c, y, x, dark, cover(box_dist(px, py, x0 + 7, 84, x0 + 9, 100)));
                paint(&c, y, x, dark, cover(box_dist(px, py, x0, 91, x0 + 16, 93)));
            }
            if (x >= 8 && x < 56 && y >= 146 && y < 158)                               /* path */
                paint(&c, y, x, (float[]){0.7f, 0.65f, 0.55f}, 1.0f);
            if (x >= 140 && x < 180 && y >= 116 && y < 156)                            /* checkers */
                paint(&c, y, x, ((x - 140) / 8 + (y - 116) / 8) % 2 ? white : black, 1.0f);
            if (x >= 190 && x < 232 && y >= 116 && y < 156)                            /* stripes */
                paint(&c, y, x, ((x + y) / 6) % 2 ? white : ink, 1.0f);
            float d = fminf(poly_dist(px, py, letter_c, 13), poly_dist(px, py, letter_n1, 4));
            d = fminf(d, poly_dist(px, py, letter_n2, 4));
            paint(&c, y, x, ink, cover(d - 2.5f));
        }
    return img;
}

/* ---- kernels -------------------------------------------------------------------------- */

typedef enum show_as {
    SHOW_CLAMP,  /* values clamped to 0..1 (kernels whose weights sum to 1) */
    SHOW_SIGNED, /* 0.5 + v / (2 max|v|): grey is 0, dark negative, bright positive */
    SHOW_ABS     /* |v| / max|v|: black is 0, white the strongest response */
} show_as;

typedef struct kernel {
    const char *name, *zh;
    int k;               /* k x k */
    float w[25];
    bool grey;           /* run on the grey picture (edge detectors) */
    show_as show;
} kernel;

static const kernel kernels[] = {
    {"box_blur", "均值模糊", 3, {1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f, 1 / 9.f,
                                 1 / 9.f, 1 / 9.f, 1 / 9.f}, false, SHOW_CLAMP},
    {"gaussian_blur", "高斯模糊", 5,
     {1 / 256.f, 4 / 256.f, 6 / 256.f, 4 / 256.f, 1 / 256.f,
      4 / 256.f, 16 / 256.f, 24 / 256.f, 16 / 256.f, 4 / 256.f,
      6 / 256.f, 24 / 256.f, 36 / 256.f, 24 / 256.f, 6 / 256.f,
      4 / 256.f, 16 / 256.f, 24 / 256.f, 16 / 256.f, 4 / 256.f,
      1 / 256.f, 4 / 256.f, 6 / 256.f, 4 / 256.f, 1 / 256.f}, false, SHOW_CLAMP},
    {"sharpen", "锐化", 3, {0, -1, 0, -1, 5, -1, 0, -1, 0}, false, SHOW_CLAMP},
    {"emboss", "浮雕", 3, {-2, -1, 0, -1, 1, 1, 0, 1, 2}, false, SHOW_CLAMP},
    {"sobel_x", "Sobel 竖直边缘", 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1}, true, SHOW_SIGNED},
    {"sobel_y", "Sobel 水平边缘", 3, {-1, -2, -1, 0, 0, 0, 1, 2, 1}, true, SHOW_SIGNED},
    {"laplacian", "拉普拉斯/轮廓", 3, {-1, -1, -1, -1, 8, -1, -1, -1, -1}, true, SHOW_ABS},
};
enum { NK = sizeof kernels / sizeof kernels[0] };

static void print_kernel(const kernel *kr) {
    float sum = 0.0f;
    for (int i = 0; i < kr->k * kr->k; i++) sum += kr->w[i];
    bool ninths = kr->k == 3 && fabsf(kr->w[0] - 1 / 9.f) < 1e-7f;
    bool sixteenths = kr->k == 5;
    printf("%s (%s), %dx%d, weights sum to %g%s:\n", kr->name, kr->zh, kr->k, kr->k, sum,
           fabsf(sum - 1) < 1e-5f ? " (brightness kept)" : " (flat areas -> 0)");
    for (int r = 0; r < kr->k; r++) {
        printf("    [");
        for (int c = 0; c < kr->k; c++) {
            float v = kr->w[r * kr->k + c];
            if (ninths) printf(" 1/9");
            else if (sixteenths) printf(" %3.0f/256", v * 256);
            else printf(" %3g", v);
        }
        printf(" ]\n");
    }
}

/* Convolve every image of x (N, 1, H, W) with one kernel, zero padding k/2 (same size out). */
static nn_tensor *apply(nn_tensor *x, const float *w, int k) {
    nn_tensor *wt = nn_from_array(w, NN_SHAPE(1, 1, k, k));
    nn_tensor *y = nn_conv2d(x, wt, NULL, 1, k / 2);
    nn_tensor_free(wt);
    return y;
}

/* An owned (C, H, W) picture made displayable the kernel's way. */
static nn_tensor *for_display(const nn_tensor *y, int C, int H, int W, show_as how) {
    nn_tensor *out = nn_zeros(NN_SHAPE(C, H, W));
    float m = 0.0f;
    for (size_t i = 0; i < y->size; i++) m = fmaxf(m, fabsf(y->data[i]));
    if (m == 0.0f) m = 1.0f;
    for (size_t i = 0; i < out->size; i++) {
        float v = y->data[i];
        out->data[i] = how == SHOW_CLAMP    ? clampf(v, 0, 1)
                       : how == SHOW_SIGNED ? 0.5f + v / (2 * m)
                                            : fabsf(v) / m;
    }
    return out;
}

/* (1, H, W) -> (3, H, W), the grey copied to each channel (for a grid of colour images). */
static nn_tensor *grey_to_rgb(const nn_tensor *g) {
    int H = g->shape[1], W = g->shape[2];
    nn_tensor *out = nn_zeros(NN_SHAPE(3, H, W));
    for (int k = 0; k < 3; k++) memcpy(out->data + (size_t)k * H * W, g->data, (size_t)H * W * sizeof(float));
    return out;
}

/* Save a picture into dir (it prints "wrote ..." or why not) and count it as written or
 * as failed. */
static void save(const char *dir, const char *file, const nn_tensor *img, int *written,
                 int *failed) {
    if (nn_image_save_png_in(dir, file, img) == 0)
        (*written)++;
    else
        (*failed)++;
}

/* Drop alpha: (1|2|3|4, H, W) -> (1|3, H, W), an owned copy. */
static nn_tensor *without_alpha(const nn_tensor *img) {
    int C = img->shape[0], H = img->shape[1], W = img->shape[2], keep = C >= 3 ? 3 : 1;
    nn_tensor *out = nn_zeros(NN_SHAPE(keep, H, W));
    memcpy(out->data, img->data, (size_t)keep * H * W * sizeof(float));
    return out;
}

int main(int argc, char **argv) {
    bool quick = false, grey_only = false;
    uint64_t seed = 42;
    int max_side = 384;
    const char *out_dir = "out", *path = NULL;
    nn_option opts[] = {
        NN_OPT_ARG("image", &path, "your picture (PNG, JPEG, BMP, ...); without one, a test picture"),
        NN_OPT_FLAG("--quick", &quick, "small and fast (for the tests): --size 160"),
        NN_OPT_FLAG("--grey", &grey_only, "use the grey picture for every kernel"),
        NN_OPT_INT("--size", &max_side, 16, 8192,
                   "shrink a picture whose long side is longer (160 with --quick)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the PNG pictures (made if missing)"),
    };
    nn_parse_options(argc, argv,
                     "Classic convolution kernels on an image with nn_conv2d: blur, sharpen, emboss\n"
                     "and edge detectors, one output value worked out step by step, the kernel\n"
                     "flip, and max and average pooling of the edges.",
                     opts, NN_COUNTOF(opts));
    if (quick && !nn_option_given(opts, NN_COUNTOF(opts), "--size")) max_side = 160;
    nn_seed(seed);
    printf("ch03 kernels: classic convolution kernels (卷积核) on an image, with nn_conv2d\n");
    printf("  out[i, j] = sum_{u,v} k[u, v] * img[i - p + u, j - p + v]   (p = k/2, zeros outside)\n");
    printf("seed %llu (only the test picture's grass noise is random)%s\n\n",
           (unsigned long long)seed, quick ? " (--quick)" : "");

    /* ---- the picture: yours, or the test picture saved and loaded back ---- */
    int written = 0, failed = 0; /* pictures written, pictures that could not be */
    char made[1024];
    if (!path) {
        nn_tensor *pic = draw_test_picture(nn_global_rng());
        if (!nn_out_path(made, sizeof made, out_dir, "ch03_input.png") ||
            nn_image_save_png(made, pic) != 0) {
            fprintf(stderr, "cannot write the test picture: %s\n", nn_last_error());
            nn_tensor_free(pic);
            return 1;
        }
        nn_tensor_free(pic);
        printf("no image given: drew a test picture and wrote %s\n", made);
        path = made;
        written++;
    }
    nn_tensor *loaded = nn_image_load(path, 0);
    if (!loaded) {
        fprintf(stderr, "cannot load the image: %s\n", nn_last_error());
        return 1;
    }
    char s1[32], s2[32];
    printf("loaded %s: %s (channels, height, width)%s\n", path,
           nn_shape_str(loaded, s1, sizeof s1),
           loaded->shape[0] == 2 || loaded->shape[0] == 4 ? ", alpha channel dropped" : "");
    nn_tensor *img = without_alpha(loaded);
    nn_tensor_free(loaded);
    int C = img->shape[0], H = img->shape[1], W = img->shape[2];
    if (H > max_side || W > max_side) { /* keep it quick: shrink the long side to max_side */
        int h = H >= W ? max_side : (int)((long)H * max_side / W);
        int w = W >= H ? max_side : (int)((long)W * max_side / H);
        nn_tensor *small = nn_image_resize(img, h > 0 ? h : 1, w > 0 ? w : 1);
        nn_tensor_free(img);
        img = small;
        H = img->shape[1], W = img->shape[2];
        printf("shrunk to %s (--size %d)\n", nn_shape_str(img, s1, sizeof s1), max_side);
    }
    nn_tensor *grey = nn_image_to_grey(img);
    if (grey_only && C > 1) {
        nn_tensor_free(img);
        img = nn_clone(grey);
        C = 1;
        printf("--grey: using the grey picture for everything\n");
    }
    nn_set_grad_enabled(false); /* no training here */
    /* (C, H, W) -> (C, 1, H, W): each channel becomes one grey image of a batch */
    nn_tensor *xc = nn_reshape(img, NN_SHAPE(C, 1, H, W));
    nn_tensor *xg = nn_reshape(grey, NN_SHAPE(1, 1, H, W));
    printf("as conv input: colour %s, grey %s (N, C, H, W)\n\n", nn_shape_str(xc, s1, sizeof s1),
           nn_shape_str(xg, s2, sizeof s2));

    /* ---- each kernel ---- */
    nn_tensor *cells[NK + 2];
    const char *titles[NK + 2];
    int ncell = 0;
    cells[ncell] = C == 3 ? nn_clone(img) : nn_clone(grey);
    titles[ncell++] = "original";
    nn_tensor *gx = NULL, *gy = NULL;
    for (int i = 0; i < NK; i++) {
        const kernel *kr = &kernels[i];
        print_kernel(kr);
        nn_tensor *x = kr->grey ? xg : xc;
        nn_tensor *y = apply(x, kr->w, kr->k);
        float lo = INFINITY, hi = -INFINITY;
        for (size_t j = 0; j < y->size; j++) lo = fminf(lo, y->data[j]), hi = fmaxf(hi, y->data[j]);
        printf("    %s -> %s, values %.3f .. %.3f\n", nn_shape_str(x, s1, sizeof s1),
               nn_shape_str(y, s2, sizeof s2), lo, hi);
        if (!strcmp(kr->name, "sobel_x")) gx = y;
        if (!strcmp(kr->name, "sobel_y")) gy = y;
        nn_tensor *d = for_display(y, kr->grey ? 1 : C, H, W, kr->show);
        char file[96];
        snprintf(file, sizeof file, "ch03_kernel_%s.png", kr->name);
        save(out_dir, file, d, &written, &failed);
        cells[ncell] = (kr->grey && C == 3) ? grey_to_rgb(d) : nn_clone(d);
        titles[ncell++] = kr->name;
        nn_tensor_free(d);
    }
    /* Edge strength (梯度幅值): sqrt(gx^2 + gy^2), from the two Sobel results. */
    nn_tensor *mag = nn_sqrt(nn_add_scalar(nn_add(nn_square(gx), nn_square(gy)), 1e-12f));
    printf("edge_magnitude = sqrt(sobel_x^2 + sobel_y^2): %s\n", nn_shape_str(mag, s1, sizeof s1));
    nn_tensor *md = for_display(mag, 1, H, W, SHOW_ABS);
    save(out_dir, "ch03_kernel_edge_magnitude.png", md, &written, &failed);
    cells[ncell] = C == 3 ? grey_to_rgb(md) : nn_clone(md);
    titles[ncell++] = "edge_magnitude";

    nn_tensor *grid = nn_image_grid((const nn_tensor *const *)cells, ncell, 3, 4);
    save(out_dir, "ch03_kernels_grid.png", grid, &written, &failed);
    printf("grid order (left to right, top to bottom):");
    for (int i = 0; i < ncell; i++) printf(" %s", titles[i]);
    printf("\n");

    /* The kernels themselves as pictures: each one stretched to 0..1 (dark = most negative),
     * 3x3 enlarged 16 times, 5x5 enlarged 10 times (both 50 pixels wide minus 2). */
    nn_tensor *kimg[NK];
    for (int i = 0; i < NK; i++) {
        nn_tensor *k = nn_from_array(kernels[i].w, NN_SHAPE(1, kernels[i].k, kernels[i].k));
        kimg[i] = nn_image_scale_nearest(k, kernels[i].k == 3 ? 16 : 10);
        nn_tensor_free(k);
    }
    nn_tensor *kgrid = nn_image_grid((const nn_tensor *const *)kimg, NK, NK, 4);
    save(out_dir, "ch03_kernels_weights.png", kgrid, &written, &failed);

    /* ---- one output value, step by step: Sobel x at a vertical edge ---- */
    const kernel *sx = &kernels[4];
    /* The first strong vertical edge on the middle row (on the test picture: the house's left
     * wall), or the strongest one there when none is strong. */
    int ci = H / 2, cj = W / 2;
    float best = -1.0f;
    for (int j = 2; j < W - 2; j++) { /* (not the border: zero padding makes an edge there) */
        float v = fabsf(gx->data[(size_t)ci * W + j]);
        if (v > 1.0f) {
            cj = j;
            break;
        }
        if (v > best) best = v, cj = j;
    }
    printf("\none output value, step by step: sobel_x at row %d, column %d of the grey picture\n",
           ci, cj);
    float sum = 0.0f;
    printf("    %-28s %-22s %s\n", "3x3 patch of the picture", "kernel", "products");
    for (int u = 0; u < 3; u++) {
        float pv[3], prod[3];
        for (int v = 0; v < 3; v++) {
            int r = ci - 1 + u, c = cj - 1 + v;
            pv[v] = (r >= 0 && r < H && c >= 0 && c < W) ? grey->data[(size_t)r * W + c] : 0.0f;
            prod[v] = pv[v] * sx->w[u * 3 + v];
            sum += prod[v];
        }
        printf("    [%7.4f %7.4f %7.4f]   [%3g %3g %3g]   [%8.4f %8.4f %8.4f]\n", pv[0], pv[1],
               pv[2], sx->w[u * 3], sx->w[u * 3 + 1], sx->w[u * 3 + 2], prod[0], prod[1],
               prod[2]);
    }
    float lib = gx->data[(size_t)ci * W + cj];
    printf("    sum of the 9 products = %.4f;  nn_conv2d gave %.4f  (difference %.1e)\n", sum, lib,
           fabsf(sum - lib));

    /* ---- the two implementations behind nn_conv2d, and the kernel flip ---- */
    bool was = nn_set_conv2d_reference(true);
    nn_tensor *gx_ref = apply(xg, sx->w, 3);
    nn_set_conv2d_reference(was);
    float ref_diff = 0.0f;
    for (size_t i = 0; i < gx->size; i++) ref_diff = fmaxf(ref_diff, fabsf(gx->data[i] - gx_ref->data[i]));
    printf("reference loops vs im2col fast path (sobel_x on the whole picture): max diff %.1e\n",
           ref_diff);
    float flipped[9];
    for (int i = 0; i < 9; i++) flipped[i] = sx->w[8 - i]; /* rotate 180 degrees */
    nn_tensor *gx_flip = apply(xg, flipped, 3);
    float flip_diff = 0.0f;
    for (size_t i = 0; i < gx->size; i++) flip_diff = fmaxf(flip_diff, fabsf(gx->data[i] + gx_flip->data[i]));
    printf("true convolution flips the kernel first; for sobel_x that gives exactly minus the\n"
           "cross-correlation nn_conv2d computes: max |flipped + unflipped| = %.1e\n", flip_diff);

    /* ---- pooling (池化): fewer numbers, the main features kept ---- */
    printf("\npooling the edge magnitude (池化: 降维, 保留主要特征):\n");
    nn_tensor *mp2 = nn_max_pool2d(mag, 2, 2);
    nn_tensor *mp4 = nn_max_pool2d(mp2, 2, 2);
    nn_tensor *ap4 = nn_avg_pool2d(nn_avg_pool2d(mag, 2, 2), 2, 2);
    float mmax = 0, m4 = 0, a4 = 0;
    for (size_t i = 0; i < mag->size; i++) mmax = fmaxf(mmax, mag->data[i]);
    for (size_t i = 0; i < mp4->size; i++) m4 = fmaxf(m4, mp4->data[i]);
    for (size_t i = 0; i < ap4->size; i++) a4 = fmaxf(a4, ap4->data[i]);
    printf("  edges              %-16s %7zu values, strongest edge %.3f\n",
           nn_shape_str(mag, s1, sizeof s1), mag->size, mmax);
    printf("  max pool 2x2       %-16s %7zu values (1/4)\n", nn_shape_str(mp2, s1, sizeof s1),
           mp2->size);
    printf("  max pool 2x2 twice %-16s %7zu values (1/16), strongest edge %.3f (kept)\n",
           nn_shape_str(mp4, s1, sizeof s1), mp4->size, m4);
    printf("  avg pool 2x2 twice %-16s %7zu values (1/16), strongest edge %.3f (averaged away)\n",
           nn_shape_str(ap4, s1, sizeof s1), ap4->size, a4);
    nn_tensor *p_imgs[4] = {
        nn_clone(md),
        nn_image_scale_nearest(nn_reshape(mp2, NN_SHAPE(1, mp2->shape[2], mp2->shape[3])), 2),
        nn_image_scale_nearest(nn_reshape(mp4, NN_SHAPE(1, mp4->shape[2], mp4->shape[3])), 4),
        nn_image_scale_nearest(nn_reshape(ap4, NN_SHAPE(1, ap4->shape[2], ap4->shape[3])), 4),
    };
    nn_tensor *pgrid = nn_image_grid((const nn_tensor *const *)p_imgs, 4, 4, 4);
    save(out_dir, "ch03_pooling.png", pgrid, &written, &failed);
    printf("  (ch03_pooling.png: edges, max pool 2, max pool 4, avg pool 4; pooled maps enlarged)\n");

    printf("result: kernels=%d height=%d width=%d channels=%d step_sum=%.4f step_conv=%.4f "
           "ref_diff=%.1e flip_diff=%.1e pool_values=%zu strongest_max=%.3f strongest_avg=%.3f "
           "files=%d\n",
           NK + 1, H, W, C, sum, lib, ref_diff, flip_diff, mp4->size, m4, a4, written);

    for (int i = 0; i < ncell; i++) nn_tensor_free(cells[i]);
    for (int i = 0; i < NK; i++) nn_tensor_free(kimg[i]);
    for (int i = 0; i < 4; i++) nn_tensor_free(p_imgs[i]);
    nn_tensor_free(md), nn_tensor_free(grid), nn_tensor_free(kgrid), nn_tensor_free(pgrid);
    nn_tensor_free(img), nn_tensor_free(grey);
    nn_graph_release();
    return failed ? 1 : 0;
}
