/* tests/test_augment.c — data augmentation: exact identities (flip twice, rotate by 0, four
 * quarter turns), known small cases, shapes, determinism under a seed, ownership (graph
 * tensors, nothing on the tape, input untouched) and misuse errors. */
#include "testing.h"

/* An owned (N, C, H, W) tensor filled with 0, 1, 2, ... (every value distinct). */
static nn_tensor *counting(int n, int c, int h, int w) {
    nn_tensor *t = nn_zeros(NN_SHAPE(n, c, h, w));
    for (size_t i = 0; i < t->size; i++) t->data[i] = (float)i;
    return t;
}

static void assert_same_tensor(const nn_tensor *a, const nn_tensor *b, float tol) {
    assert_int_equal(a->ndim, b->ndim);
    for (int d = 0; d < a->ndim; d++) assert_int_equal(a->shape[d], b->shape[d]);
    assert_floats_near(a->data, b->data, a->size, tol);
}

/* ---- flips ------------------------------------------------------------------------------ */

static void test_flip_known_values(void **state) {
    (void)state;
    /* one 2x3 plane:  0 1 2      flip_h: 2 1 0      flip_v: 3 4 5
     *                 3 4 5              5 4 3              0 1 2 */
    nn_tensor *x = counting(1, 1, 2, 3);
    nn_tensor *h = nn_aug_flip_h(x), *v = nn_aug_flip_v(x);
    assert_floats_near(h->data, (const float[]){2, 1, 0, 5, 4, 3}, 6, 0.0f);
    assert_floats_near(v->data, (const float[]){3, 4, 5, 0, 1, 2}, 6, 0.0f);
    nn_tensor_free(x);
}

static void test_flip_twice_is_identity(void **state) {
    (void)state;
    nn_tensor *batch = counting(3, 2, 5, 7);          /* (N, C, H, W), not square */
    nn_tensor *single = nn_rand_normal(0, 1, NN_SHAPE(3, 4, 6)); /* (C, H, W) */
    nn_tensor *xs[2] = {batch, single};
    for (int k = 0; k < 2; k++) {
        assert_same_tensor(nn_aug_flip_h(nn_aug_flip_h(xs[k])), xs[k], 0.0f);
        assert_same_tensor(nn_aug_flip_v(nn_aug_flip_v(xs[k])), xs[k], 0.0f);
        /* a flip changes something (the data is not symmetric) */
        nn_tensor *h = nn_aug_flip_h(xs[k]);
        size_t diff = 0;
        for (size_t i = 0; i < h->size; i++) diff += h->data[i] != xs[k]->data[i];
        assert_true(diff > 0);
    }
    nn_tensor_free(batch);
    nn_tensor_free(single);
}

static void test_random_flip_extremes_and_mix(void **state) {
    (void)state;
    nn_tensor *x = counting(40, 1, 2, 3);
    assert_same_tensor(nn_aug_random_flip_h(x, 0.0f, NULL), x, 0.0f);
    assert_same_tensor(nn_aug_random_flip_h(x, 1.0f, NULL), nn_aug_flip_h(x), 0.0f);
    /* p = 0.5: each image is either itself or its mirror, and both happen among 40 */
    nn_tensor *r = nn_aug_random_flip_h(x, 0.5f, NULL), *f = nn_aug_flip_h(x);
    int flipped = 0, kept = 0;
    for (int n = 0; n < 40; n++) {
        const float *ri = r->data + n * 6;
        if (memcmp(ri, f->data + n * 6, 6 * sizeof(float)) == 0) flipped++;
        else if (memcmp(ri, x->data + n * 6, 6 * sizeof(float)) == 0) kept++;
    }
    assert_int_equal(flipped + kept, 40);
    assert_true(flipped > 5 && kept > 5);
    nn_tensor_free(x);
}

/* ---- rotations ---------------------------------------------------------------------------- */

static void test_rot90_known_values_and_shape(void **state) {
    (void)state;
    /* 0 1 2    a quarter turn counter-clockwise:  2 5
     * 3 4 5                                        1 4
     *                                              0 3   */
    nn_tensor *x = counting(1, 1, 2, 3);
    nn_tensor *r = nn_aug_rot90(x, 1);
    assert_int_equal(r->ndim, 4);
    assert_int_equal(r->shape[2], 3);
    assert_int_equal(r->shape[3], 2);
    assert_floats_near(r->data, (const float[]){2, 5, 1, 4, 0, 3}, 6, 0.0f);
    /* k = 2 is upside down; k = -1 equals k = 3 (clockwise) */
    assert_floats_near(nn_aug_rot90(x, 2)->data, (const float[]){5, 4, 3, 2, 1, 0}, 6, 0.0f);
    assert_same_tensor(nn_aug_rot90(x, -1), nn_aug_rot90(x, 3), 0.0f);
    assert_floats_near(nn_aug_rot90(x, 3)->data, (const float[]){3, 0, 4, 1, 5, 2}, 6, 0.0f);
    nn_tensor_free(x);
}

static void test_rot90_four_times_and_inverse(void **state) {
    (void)state;
    nn_tensor *x = counting(2, 3, 4, 5);
    nn_tensor *r = x;
    for (int i = 0; i < 4; i++) r = nn_aug_rot90(r, 1);
    assert_same_tensor(r, x, 0.0f);
    assert_same_tensor(nn_aug_rot90(nn_aug_rot90(x, 1), -1), x, 0.0f);
    assert_same_tensor(nn_aug_rot90(x, 0), x, 0.0f);
    assert_same_tensor(nn_aug_rot90(x, 4), x, 0.0f);
    nn_tensor_free(x);
}

static void test_rotate_zero_is_identity(void **state) {
    (void)state;
    nn_tensor *x = nn_rand_normal(0, 1, NN_SHAPE(2, 3, 7, 6));
    assert_same_tensor(nn_aug_rotate(x, 0.0f, -5.0f), x, 0.0f); /* exact, fill unused */
    assert_same_tensor(nn_aug_random_rotate(x, 0.0f, 0.0f, NULL), x, 0.0f);
    nn_tensor_free(x);
}

static void test_rotate_quarter_turns_match_rot90(void **state) {
    (void)state;
    /* square pictures: the pixel grid maps onto itself, so bilinear sampling is exact up to
     * rounding (odd and even sizes: the centre on a pixel or between four) */
    int sizes[2] = {5, 6};
    for (int k = 0; k < 2; k++) {
        int s = sizes[k];
        nn_tensor *x = nn_rand_uniform(0, 1, NN_SHAPE(2, 1, s, s));
        assert_same_tensor(nn_aug_rotate(x, 90.0f, 0.0f), nn_aug_rot90(x, 1), 1e-4f);
        assert_same_tensor(nn_aug_rotate(x, 180.0f, 0.0f), nn_aug_rot90(x, 2), 1e-4f);
        assert_same_tensor(nn_aug_rotate(x, -90.0f, 0.0f), nn_aug_rot90(x, 3), 1e-4f);
        assert_same_tensor(nn_aug_rotate(x, 360.0f, 0.0f), x, 1e-4f);
        nn_tensor_free(x);
    }
}

static void test_rotate_fills_the_corners(void **state) {
    (void)state;
    /* a constant picture turned by 45 degrees: the centre keeps its value, the corners come
     * from outside and get the fill, and every value is a mix of the two */
    nn_tensor *x = nn_full(1.0f, NN_SHAPE(1, 9, 9));
    nn_tensor *r = nn_aug_rotate(x, 45.0f, -1.0f);
    assert_float_equal(r->data[4 * 9 + 4], 1.0f, 1e-6f);
    assert_float_equal(r->data[0], -1.0f, 1e-6f);
    assert_float_equal(r->data[8 * 9 + 8], -1.0f, 1e-6f);
    for (size_t i = 0; i < r->size; i++) assert_true(r->data[i] >= -1.0f && r->data[i] <= 1.0f);
    nn_tensor_free(x);
}

static void test_random_rotate_is_seeded_and_per_image(void **state) {
    (void)state;
    nn_tensor *one = nn_rand_uniform(0, 1, NN_SHAPE(1, 8, 8));
    nn_tensor *x = nn_zeros(NN_SHAPE(2, 1, 8, 8)); /* the same picture twice */
    memcpy(x->data, one->data, 64 * sizeof(float));
    memcpy(x->data + 64, one->data, 64 * sizeof(float));
    nn_rng a, b;
    nn_rng_seed(&a, 99);
    nn_rng_seed(&b, 99);
    nn_tensor *ra = nn_aug_random_rotate(x, 30.0f, 0.0f, &a);
    nn_tensor *rb = nn_aug_random_rotate(x, 30.0f, 0.0f, &b);
    assert_same_tensor(ra, rb, 0.0f);                       /* same seed, same result */
    assert_true(memcmp(ra->data, ra->data + 64, 64 * sizeof(float)) != 0); /* own angles */
    nn_tensor_free(one);
    nn_tensor_free(x);
}

/* ---- crops ------------------------------------------------------------------------------------ */

static void test_crop_values_and_shape(void **state) {
    (void)state;
    nn_tensor *x = counting(1, 2, 4, 5); /* channel 0: 0..19, channel 1: 20..39 */
    nn_tensor *c = nn_aug_crop(x, 1, 2, 2, 3);
    assert_int_equal(c->shape[0], 1);
    assert_int_equal(c->shape[1], 2);
    assert_int_equal(c->shape[2], 2);
    assert_int_equal(c->shape[3], 3);
    assert_floats_near(c->data, (const float[]){7, 8, 9, 12, 13, 14, 27, 28, 29, 32, 33, 34}, 12,
                       0.0f);
    assert_same_tensor(nn_aug_crop(x, 0, 0, 4, 5), x, 0.0f); /* the whole picture */
    EXPECT_NN_ERROR(nn_aug_crop(x, 3, 0, 2, 5), "nn_aug_crop", "(1, 2, 4, 5)", "inside");
    EXPECT_NN_ERROR(nn_aug_crop(x, 0, -1, 2, 2), "nn_aug_crop", "window");
    nn_tensor_free(x);
}

/* Is picture `got` (h x w) the picture `src` shifted by some (dy, dx) in [-pad, pad], zeros
 * where the shift brought in pixels from outside? */
static bool is_shift_of(const float *got, const float *src, int h, int w, int pad) {
    for (int dy = -pad; dy <= pad; dy++)
        for (int dx = -pad; dx <= pad; dx++) {
            bool same = true;
            for (int i = 0; i < h && same; i++)
                for (int j = 0; j < w && same; j++) {
                    int si = i + dy, sj = j + dx;
                    float want = si >= 0 && si < h && sj >= 0 && sj < w ? src[si * w + sj] : 0.0f;
                    same = got[i * w + j] == want;
                }
            if (same) return true;
        }
    return false;
}

static void test_random_crop_is_a_shift(void **state) {
    (void)state;
    nn_tensor *x = nn_zeros(NN_SHAPE(20, 2, 6, 6));
    for (size_t i = 0; i < x->size; i++) x->data[i] = 1.0f + (float)(i % 37); /* no zeros */
    assert_same_tensor(nn_aug_random_crop(x, 0, NULL), x, 0.0f);
    nn_tensor *c = nn_aug_random_crop(x, 2, NULL);
    assert_int_equal(c->shape[2], 6);
    assert_int_equal(c->shape[3], 6);
    int moved = 0;
    for (int n = 0; n < 20; n++) {
        const float *src0 = x->data + (n * 2) * 36, *src1 = src0 + 36;
        const float *got0 = c->data + (n * 2) * 36, *got1 = got0 + 36;
        assert_true(is_shift_of(got0, src0, 6, 6, 2));
        assert_true(is_shift_of(got1, src1, 6, 6, 2));
        /* both channels moved together: zeros in the same places */
        for (int i = 0; i < 36; i++) assert_true((got0[i] == 0.0f) == (got1[i] == 0.0f));
        moved += memcmp(got0, src0, 36 * sizeof(float)) != 0;
    }
    assert_true(moved >= 10); /* 24 of the 25 shifts move the picture */
    nn_tensor_free(x);
}

/* ---- noise and jitter ------------------------------------------------------------------------- */

static void test_noise_statistics_and_seed(void **state) {
    (void)state;
    nn_tensor *x = nn_full(2.0f, NN_SHAPE(100, 100));
    assert_same_tensor(nn_aug_noise(x, 0.0f, NULL), x, 0.0f);
    nn_seed(5);
    nn_tensor *a = nn_aug_noise(x, 0.5f, NULL);
    nn_seed(5);
    nn_tensor *b = nn_aug_noise(x, 0.5f, NULL);
    assert_same_tensor(a, b, 0.0f); /* the global generator, reseeded: the same noise */
    double s = 0, sq = 0;
    for (size_t i = 0; i < a->size; i++) {
        double d = a->data[i] - 2.0;
        s += d;
        sq += d * d;
    }
    double mean = s / a->size, sd = sqrt(sq / a->size - mean * mean);
    assert_true(fabs(mean) < 0.02);       /* 10000 samples: the mean's std is 0.005 */
    assert_true(fabs(sd - 0.5) < 0.02);
    nn_tensor_free(x);
}

static void test_jitter_is_clipped(void **state) {
    (void)state;
    nn_tensor *pts = nn_rand_uniform(-1, 1, NN_SHAPE(500, 2)); /* points (N, D) */
    nn_rng r;
    nn_rng_seed(&r, 3);
    nn_tensor *j = nn_aug_jitter(pts, 0.1f, 0.15f, &r);
    assert_int_equal(j->ndim, 2);
    assert_int_equal(j->shape[0], 500);
    int clipped = 0, moved = 0;
    for (size_t i = 0; i < pts->size; i++) {
        float d = fabsf(j->data[i] - pts->data[i]);
        assert_true(d <= 0.15f + 1e-6f);
        clipped += d > 0.15f - 1e-6f;
        moved += d > 0.0f;
    }
    assert_true(clipped > 0);      /* 1.5 std: about 13% of the offsets hit the clip */
    assert_true(moved > 900);
    /* clip <= 0: plain Gaussian jitter, some offsets beyond 2 std */
    nn_tensor *free_j = nn_aug_jitter(pts, 0.1f, 0.0f, &r);
    int far = 0;
    for (size_t i = 0; i < pts->size; i++) far += fabsf(free_j->data[i] - pts->data[i]) > 0.2f;
    assert_true(far > 0);
    nn_tensor_free(pts);
}

/* ---- ownership and errors --------------------------------------------------------------------- */

static void test_results_are_graph_data(void **state) {
    (void)state;
    nn_tensor *x = nn_requires_grad(counting(1, 1, 3, 3));
    nn_tensor *copy = nn_clone(x);
    nn_tensor *outs[] = {nn_aug_flip_h(x), nn_aug_rot90(x, 1), nn_aug_rotate(x, 10, 0),
                         nn_aug_random_crop(x, 1, NULL), nn_aug_noise(x, 0.1f, NULL),
                         nn_aug_jitter(x, 0.1f, 0.0f, NULL), nn_aug_crop(x, 0, 0, 2, 2)};
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
        assert_false(outs[k]->requires_grad); /* data, not a differentiable op */
        assert_null(outs[k]->node);
        assert_null(outs[k]->grad);
    }
    assert_int_equal(nn_graph_node_count(), 0);          /* nothing on the tape */
    assert_same_tensor(x, copy, 0.0f);                   /* the input is untouched */
    EXPECT_NN_ERROR(nn_tensor_free(outs[0]), "nn_tensor_free", "nn_graph_clear");
    nn_tensor_free(x);
    nn_tensor_free(copy);
}

static void test_misuse_errors(void **state) {
    (void)state;
    nn_tensor *flat = nn_zeros(NN_SHAPE(4, 16));
    nn_tensor *img = nn_zeros(NN_SHAPE(1, 4, 4));
    EXPECT_NN_ERROR(nn_aug_flip_h(flat), "nn_aug_flip_h", "(4, 16)", "(C, H, W)", "hint:");
    EXPECT_NN_ERROR(nn_aug_rot90(flat, 1), "nn_aug_rot90", "(N, C, H, W)");
    EXPECT_NN_ERROR(nn_aug_random_crop(img, -1, NULL), "nn_aug_random_crop", "pad = -1");
    EXPECT_NN_ERROR(nn_aug_noise(img, -0.5f, NULL), "nn_aug_noise", "std = -0.5");
    EXPECT_NN_ERROR(nn_aug_random_flip_h(img, 1.5f, NULL), "nn_aug_random_flip_h", "p = 1.5");
    EXPECT_NN_ERROR(nn_aug_rotate(img, NAN, 0.0f), "nn_aug_rotate", "degrees");
    EXPECT_NN_ERROR(nn_aug_flip_v(NULL), "nn_aug_flip_v", "NULL");
    nn_tensor_free(flat);
    nn_tensor_free(img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_flip_known_values),
        NN_TEST(test_flip_twice_is_identity),
        NN_TEST(test_random_flip_extremes_and_mix),
        NN_TEST(test_rot90_known_values_and_shape),
        NN_TEST(test_rot90_four_times_and_inverse),
        NN_TEST(test_rotate_zero_is_identity),
        NN_TEST(test_rotate_quarter_turns_match_rot90),
        NN_TEST(test_rotate_fills_the_corners),
        NN_TEST(test_random_rotate_is_seeded_and_per_image),
        NN_TEST(test_crop_values_and_shape),
        NN_TEST(test_random_crop_is_a_shift),
        NN_TEST(test_noise_statistics_and_seed),
        NN_TEST(test_jitter_is_clipped),
        NN_TEST(test_results_are_graph_data),
        NN_TEST(test_misuse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
