/* tests/test_image.c — image load/save round trips, refusing bad files with a message,
 * resize, grey, nearest enlarging and the grid of images. Fixtures are written into a fresh
 * mkdtemp folder and removed afterwards. */
#include "testing.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image_write.h>

static int count_files(void) {
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* The call returned NULL/-1 and nn_last_error() holds every given string. */

/* ---- load / save ------------------------------------------------------------------------ */

static void test_png_round_trip_rgb(void **state) {
    (void)state;
    nn_tensor *img = nn_zeros(NN_SHAPE(3, 5, 7));
    for (size_t i = 0; i < img->size; i++) img->data[i] = (float)((i * 37) % 101) / 100.0f;
    const char *path = in_dir("rgb.png");
    assert_int_equal(nn_image_save_png(path, img), 0);
    assert_true(file_exists(path));
    assert_true(no_temp_left(path));
    assert_int_equal(count_files(), 1);

    nn_tensor *back = nn_image_load(path, 0); /* as stored: 3 channels */
    assert_non_null(back);
    assert_int_equal(back->ndim, 3);
    assert_int_equal(back->shape[0], 3);
    assert_int_equal(back->shape[1], 5);
    assert_int_equal(back->shape[2], 7);
    assert_floats_near(back->data, img->data, img->size, 0.5f / 255.0f + 1e-6f);

    nn_tensor *rgb = nn_image_load(path, 3);
    assert_non_null(rgb);
    assert_floats_near(rgb->data, back->data, back->size, 0.0f);

    /* channels = 1: stb's grey conversion, close to our BT.601 luma of the saved bytes */
    nn_tensor *grey = nn_image_load(path, 1);
    nn_tensor *luma = nn_image_to_grey(back);
    assert_non_null(grey);
    assert_int_equal(grey->shape[0], 1);
    assert_floats_near(grey->data, luma->data, luma->size, 2.0f / 255.0f);

    nn_tensor *rgba = nn_image_load(path, 4);
    assert_int_equal(rgba->shape[0], 4);
    for (int p = 0; p < 35; p++) assert_true(rgba->data[3 * 35 + p] == 1.0f); /* opaque */

    nn_tensor_free(img);
    nn_tensor_free(back);
    nn_tensor_free(rgb);
    nn_tensor_free(grey);
    nn_tensor_free(luma);
    nn_tensor_free(rgba);
}

static void test_png_grey_2d_and_clamping(void **state) {
    (void)state;
    float v[6] = {-1.0f, 0.0f, 0.25f, 0.5f, 2.0f, NAN};
    nn_tensor *img = nn_from_array(v, NN_SHAPE(2, 3)); /* (H, W) = one grey channel */
    const char *path = in_dir("grey.png");
    assert_int_equal(nn_image_save_png(path, img), 0);
    nn_tensor *back = nn_image_load(path, 0);
    assert_non_null(back);
    assert_int_equal(back->ndim, 3);
    assert_int_equal(back->shape[0], 1);
    assert_int_equal(back->shape[1], 2);
    assert_int_equal(back->shape[2], 3);
    float want[6] = {0.0f, 0.0f, 64.0f / 255.0f, 128.0f / 255.0f, 1.0f, 0.0f};
    assert_floats_near(back->data, want, 6, 1e-6f);
    nn_tensor_free(img);
    nn_tensor_free(back);
}

static void test_save_into_missing_folder_fails_cleanly(void **state) {
    (void)state;
    nn_tensor *img = nn_ones(NN_SHAPE(1, 2, 2));
    const char *path = in_dir("no/such/folder/x.png");
    assert_int_equal(nn_image_save_png(path, img), -1);
    EXPECT_LAST_ERROR("nn_image_save_png", "x.png", "No such file");
    assert_int_equal(count_files(), 0);
    nn_tensor_free(img);
}

static void test_save_png_in_makes_folders(void **state) {
    (void)state;
    nn_tensor *img = nn_ones(NN_SHAPE(1, 2, 3));
    img->data[1] = 0.0f;
    char nested[300];
    snprintf(nested, sizeof nested, "%s", in_dir("new/deeper"));
    assert_int_equal(nn_image_save_png_in(nested, "x.png", img), 0);
    const char *path = in_dir("new/deeper/x.png");
    nn_tensor *back = nn_image_load(path, 0);
    assert_non_null(back);
    assert_int_equal(back->shape[0], 1);
    assert_int_equal(back->shape[1], 2);
    assert_int_equal(back->shape[2], 3);
    assert_floats_near(back->data, img->data, 6, 1e-6f);
    assert_true(no_temp_left(in_dir("new/deeper/x.png")));
    assert_int_equal(remove(path), 0);
    assert_int_equal(rmdir(nested), 0);
    assert_int_equal(rmdir(in_dir("new")), 0);
    nn_tensor_free(back);
    nn_tensor_free(img);
}

static void test_save_png_in_file_in_the_way(void **state) {
    (void)state;
    nn_tensor *img = nn_ones(NN_SHAPE(1, 2, 2));
    spit(in_dir("blocker"), "", 0); /* a file where a folder should be */
    assert_int_equal(nn_image_save_png_in(in_dir("blocker/sub"), "x.png", img), -1);
    EXPECT_LAST_ERROR("cannot create folder", "blocker");
    struct stat st;
    assert_int_equal(stat(in_dir("blocker"), &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_size == 0); /* the file is left as it was */
    assert_int_equal(count_files(), 1);
    EXPECT_NN_ERROR(nn_image_save_png_in(dir, NULL, img), "nn_image_save_png_in", "NULL");
    nn_tensor_free(img);
}

static void test_load_missing_file(void **state) {
    (void)state;
    const char *path = in_dir("missing.png");
    assert_null(nn_image_load(path, 0));
    EXPECT_LAST_ERROR("nn_image_load", "missing.png", "cannot open", "No such file");
}

static void test_load_text_and_empty_files(void **state) {
    (void)state;
    const char *path = in_dir("notes.txt");
    const char *text = "this is not a picture, just some words\n";
    spit(path, text, strlen(text));
    assert_null(nn_image_load(path, 0));
    EXPECT_LAST_ERROR("notes.txt", "not an image", "PNG");

    path = in_dir("empty.png");
    spit(path, "", 0);
    assert_null(nn_image_load(path, 3));
    EXPECT_LAST_ERROR("empty.png", "empty");
}

static void test_load_truncated_png(void **state) {
    (void)state;
    nn_tensor *img = nn_rand_uniform(0.0f, 1.0f, NN_SHAPE(3, 12, 16));
    const char *full = in_dir("full.png");
    assert_int_equal(nn_image_save_png(full, img), 0);
    size_t len;
    unsigned char *bytes = slurp(full, &len);
    assert_true(len > 100);
    /* cut inside the signature, the header chunk, the pixel data, and the final IEND chunk */
    size_t cuts[] = {4, 8, 20, 40, len / 2, len - 13, len - 4, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        const char *path = in_dir("cut.png");
        spit(path, bytes, cuts[i]);
        nn_tensor *t = nn_image_load(path, 0);
        if (t) fail_msg("a PNG cut to %zu of %zu bytes was accepted", cuts[i], len);
        EXPECT_LAST_ERROR("nn_image_load", "cut.png");
        if (cuts[i] >= 8) EXPECT_LAST_ERROR("PNG");
    }
    spit(in_dir("cut.png"), bytes, len); /* all of it loads again */
    nn_tensor *t = nn_image_load(in_dir("cut.png"), 0);
    assert_non_null(t);
    nn_tensor_free(t);
    free(bytes);
    nn_tensor_free(img);
}

static void test_load_jpeg_and_truncated_jpeg(void **state) {
    (void)state;
    enum { W = 16, H = 8 };
    unsigned char px[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) px[i] = (unsigned char)(i % 3 == 0 ? 200 : 40);
    const char *path = in_dir("a.jpg");
    assert_true(stbi_write_jpg(path, W, H, 3, px, 95) != 0);
    nn_tensor *t = nn_image_load(path, 0);
    assert_non_null(t);
    assert_int_equal(t->shape[0], 3);
    assert_int_equal(t->shape[1], H);
    assert_int_equal(t->shape[2], W);
    assert_true(fabsf(t->data[0] - 200.0f / 255.0f) < 0.05f); /* red channel, lossy */
    nn_tensor_free(t);

    size_t len;
    unsigned char *bytes = slurp(path, &len);
    size_t cuts[] = {3, 50, len / 2, len - 2, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(in_dir("cut.jpg"), bytes, cuts[i]);
        t = nn_image_load(in_dir("cut.jpg"), 0);
        if (t) fail_msg("a JPEG cut to %zu of %zu bytes was accepted", cuts[i], len);
        EXPECT_LAST_ERROR("cut.jpg", "JPEG");
    }
    free(bytes);
}

static void test_load_bmp_and_truncated_bmp(void **state) {
    (void)state;
    unsigned char px[4 * 4] = {0, 50, 100, 150, 200, 250, 0, 50, 100, 150, 200, 250, 0, 50, 100, 150};
    const char *path = in_dir("a.bmp");
    assert_true(stbi_write_bmp(path, 4, 4, 1, px) != 0);
    nn_tensor *t = nn_image_load(path, 1);
    assert_non_null(t);
    for (int i = 0; i < 16; i++) assert_true(fabsf(t->data[i] - px[i] / 255.0f) < 1e-6f);
    nn_tensor_free(t);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    spit(in_dir("cut.bmp"), bytes, len - 5);
    assert_null(nn_image_load(in_dir("cut.bmp"), 1));
    EXPECT_LAST_ERROR("cut.bmp", "truncated");
    free(bytes);
}

static void test_image_misuse(void **state) {
    (void)state;
    nn_tensor *bad = nn_zeros(NN_SHAPE(1, 1, 2, 2));
    nn_tensor *five = nn_zeros(NN_SHAPE(5, 2, 2));
    EXPECT_NN_ERROR(nn_image_save_png(in_dir("x.png"), bad), "nn_image_save_png", "(1, 1, 2, 2)",
                    "not an image");
    EXPECT_NN_ERROR(nn_image_resize(five, 4, 4), "nn_image_resize", "(5, 2, 2)");
    EXPECT_NN_ERROR(nn_image_load(in_dir("x.png"), 7), "nn_image_load", "channels = 7");
    assert_int_equal(count_files(), 0);
    nn_tensor_free(bad);
    nn_tensor_free(five);
}

/* ---- resize, enlarge, grey, grid ---------------------------------------------------------- */

static void test_resize_bilinear(void **state) {
    (void)state;
    /* one row [0, 1] enlarged to 4 columns: pixel centres at 0.25 and 0.75 of the source
     * pixels give 0, 0.25, 0.75, 1 (the ends clamp to the edge pixels) */
    float v[2] = {0.0f, 1.0f};
    nn_tensor *row = nn_from_array(v, NN_SHAPE(1, 2));
    nn_tensor *big = nn_image_resize(row, 1, 4);
    assert_int_equal(big->ndim, 2);
    assert_int_equal(big->shape[1], 4);
    float want[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    assert_floats_near(big->data, want, 4, 1e-5f);

    /* the same size is the identity */
    nn_tensor *img = nn_rand_uniform(0.0f, 1.0f, NN_SHAPE(3, 6, 5));
    nn_tensor *same = nn_image_resize(img, 6, 5);
    assert_floats_near(same->data, img->data, img->size, 1e-5f);

    /* a checkerboard, shrunk and enlarged: values stay in 0..1, a constant stays constant */
    nn_tensor *check = nn_zeros(NN_SHAPE(1, 8, 8));
    for (int i = 0; i < 64; i++) check->data[i] = (float)((i / 8 + i % 8) % 2);
    nn_tensor *small = nn_image_resize(check, 3, 5);
    nn_tensor *large = nn_image_resize(check, 13, 11);
    assert_int_equal(small->shape[0], 1);
    assert_int_equal(small->shape[1], 3);
    assert_int_equal(small->shape[2], 5);
    for (size_t i = 0; i < small->size; i++)
        assert_true(small->data[i] >= -1e-6f && small->data[i] <= 1.0f + 1e-6f);
    for (size_t i = 0; i < large->size; i++)
        assert_true(large->data[i] >= -1e-6f && large->data[i] <= 1.0f + 1e-6f);
    nn_tensor *flat = nn_full(0.3f, NN_SHAPE(2, 4, 4));
    nn_tensor *flat2 = nn_image_resize(flat, 7, 2);
    for (size_t i = 0; i < flat2->size; i++) assert_true(fabsf(flat2->data[i] - 0.3f) < 1e-5f);

    /* halving a left-dark / right-bright image keeps the sides apart */
    nn_tensor *halves = nn_zeros(NN_SHAPE(1, 4, 4));
    for (int y = 0; y < 4; y++)
        for (int x = 2; x < 4; x++) halves->data[y * 4 + x] = 1.0f;
    nn_tensor *h2 = nn_image_resize(halves, 2, 2);
    assert_true(h2->data[0] < 0.5f && h2->data[2] < 0.5f);
    assert_true(h2->data[1] > 0.5f && h2->data[3] > 0.5f);

    /* shrink ratios where stb's triangle filter used to abort (160 -> 106, 7 -> 5), and one
     * axis growing while the other shrinks: a constant stays constant */
    nn_tensor *odd = nn_full(0.6f, NN_SHAPE(1, 160, 7));
    nn_tensor *odd2 = nn_image_resize(odd, 106, 5);
    nn_tensor *odd3 = nn_image_resize(odd, 200, 5);
    for (size_t i = 0; i < odd2->size; i++) assert_true(fabsf(odd2->data[i] - 0.6f) < 1e-5f);
    for (size_t i = 0; i < odd3->size; i++) assert_true(fabsf(odd3->data[i] - 0.6f) < 1e-5f);

    nn_tensor *all[] = {row, big, img, same, check, small, large, flat, flat2, halves, h2,
                        odd, odd2, odd3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nn_tensor_free(all[i]);
}

static void test_scale_nearest(void **state) {
    (void)state;
    float v[4] = {1, 2, 3, 4};
    nn_tensor *img = nn_from_array(v, NN_SHAPE(1, 2, 2));
    nn_tensor *big = nn_image_scale_nearest(img, 3);
    assert_int_equal(big->shape[1], 6);
    assert_int_equal(big->shape[2], 6);
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 6; x++) assert_true(big->data[y * 6 + x] == v[(y / 3) * 2 + x / 3]);
    EXPECT_NN_ERROR(nn_image_scale_nearest(img, 0), "nn_image_scale_nearest");
    nn_tensor_free(img);
    nn_tensor_free(big);
}

static void test_to_grey(void **state) {
    (void)state;
    /* three pixels: pure red, pure green, pure blue */
    float v[9] = {1, 0, 0, /* R */ 0, 1, 0, /* G */ 0, 0, 1 /* B */};
    nn_tensor *rgb = nn_from_array(v, NN_SHAPE(3, 1, 3));
    nn_tensor *g = nn_image_to_grey(rgb);
    assert_int_equal(g->shape[0], 1);
    float want[3] = {0.299f, 0.587f, 0.114f};
    assert_floats_near(g->data, want, 3, 1e-6f);
    nn_tensor *again = nn_image_to_grey(g); /* grey stays grey */
    assert_floats_near(again->data, g->data, 3, 0.0f);
    nn_tensor_free(rgb);
    nn_tensor_free(g);
    nn_tensor_free(again);
}

static void test_grid(void **state) {
    (void)state;
    float a[4] = {-1, 0, 1, 3};      /* stretched to 0, .25, .5, 1 */
    float b[4] = {7, 7, 7, 7};       /* constant: 0.5 */
    float c[4] = {0, 10, 20, 10};    /* 0, .5, 1, .5 */
    nn_tensor *ta = nn_from_array(a, NN_SHAPE(2, 2));
    nn_tensor *tb = nn_from_array(b, NN_SHAPE(1, 2, 2));
    nn_tensor *tc = nn_from_array(c, NN_SHAPE(2, 2));
    const nn_tensor *imgs[3] = {ta, tb, tc};
    nn_tensor *g = nn_image_grid(imgs, 3, 2, 1);
    /* 2 columns, 2 rows of 2x2 cells with 1 pixel around and between: 7 x 7 */
    assert_int_equal(g->ndim, 3);
    assert_int_equal(g->shape[0], 1);
    assert_int_equal(g->shape[1], 7);
    assert_int_equal(g->shape[2], 7);
    float want[49] = {
        1, 1,    1,   1, 1,   1,   1,
        1, 0,    .25f, 1, .5f, .5f, 1,
        1, .5f,  1,   1, .5f, .5f, 1,
        1, 1,    1,   1, 1,   1,   1,
        1, 0,    .5f, 1, 1,   1,   1,
        1, 1,    .5f, 1, 1,   1,   1,
        1, 1,    1,   1, 1,   1,   1,
    };
    assert_floats_near(g->data, want, 49, 1e-6f);

    nn_tensor *auto_cols = nn_image_grid(imgs, 3, 0, 0); /* about square: 2 x 2 cells */
    assert_int_equal(auto_cols->shape[1], 4);
    assert_int_equal(auto_cols->shape[2], 4);

    nn_tensor *rgb = nn_zeros(NN_SHAPE(3, 2, 2));
    const nn_tensor *mixed[2] = {ta, rgb};
    EXPECT_NN_ERROR(nn_image_grid(mixed, 2, 2, 1), "nn_image_grid", "channel");

    /* a grid is a picture: it saves */
    assert_int_equal(nn_image_save_png(in_dir("grid.png"), g), 0);
    nn_tensor *all[] = {ta, tb, tc, g, auto_cols, rgb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nn_tensor_free(all[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IO_TEST(test_png_round_trip_rgb),
        IO_TEST(test_png_grey_2d_and_clamping),
        IO_TEST(test_save_into_missing_folder_fails_cleanly),
        IO_TEST(test_save_png_in_makes_folders),
        IO_TEST(test_save_png_in_file_in_the_way),
        IO_TEST(test_load_missing_file),
        IO_TEST(test_load_text_and_empty_files),
        IO_TEST(test_load_truncated_png),
        IO_TEST(test_load_jpeg_and_truncated_jpeg),
        IO_TEST(test_load_bmp_and_truncated_bmp),
        IO_TEST(test_image_misuse),
        IO_TEST(test_resize_bilinear),
        IO_TEST(test_scale_nearest),
        IO_TEST(test_to_grey),
        IO_TEST(test_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
