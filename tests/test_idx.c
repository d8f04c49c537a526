/* tests/test_idx.c — the IDX reader (MNIST / Fashion-MNIST format), plain and gzip'd: small
 * files written here, read back, and every kind of damage refused with a message; and the
 * Fashion-MNIST loader on a fake data folder (the real data set is never needed). */
#include "testing.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- writing IDX fixtures ------------------------------------------------------------------ */

/* Bytes of an IDX file: the magic 00 00 <type> <ndim>, the dims (big-endian), `ndata` data
 * bytes (i * 7 + 3 mod 256, or `data` when given). Returns the length; buf must be large. */
static size_t idx_bytes(unsigned char *buf, int type, int ndim, const uint32_t *dims,
                        const unsigned char *data, size_t ndata) {
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = (unsigned char)type;
    buf[n++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++) {
        buf[n++] = (unsigned char)(dims[d] >> 24);
        buf[n++] = (unsigned char)(dims[d] >> 16);
        buf[n++] = (unsigned char)(dims[d] >> 8);
        buf[n++] = (unsigned char)dims[d];
    }
    for (size_t i = 0; i < ndata; i++) buf[n++] = data ? data[i] : (unsigned char)(i * 7 + 3);
    return n;
}

/* Write bytes to path, gzip'd (zlib's gzopen "wb") or plain. */
static void write_file(const char *path, const unsigned char *bytes, size_t len, bool gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(gzwrite(f, bytes, (unsigned)len), (int)len);
        assert_int_equal(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        if (len) assert_int_equal(fwrite(bytes, 1, len, f), len);
        fclose(f);
    }
}

/* An image file of n images rows x cols; returns its path. */
static const char *images_file(const char *name, uint32_t n, uint32_t rows, uint32_t cols, bool gz) {
    static unsigned char buf[1 << 16];
    uint32_t dims[3] = {n, rows, cols};
    size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, (size_t)n * rows * cols);
    const char *path = in_dir(name);
    write_file(path, buf, len, gz);
    return path;
}

static const char *labels_file(const char *name, uint32_t n, const unsigned char *labels, bool gz) {
    static unsigned char buf[1 << 16];
    uint32_t dims[1] = {n};
    size_t len = idx_bytes(buf, 0x08, 1, dims, labels, n);
    const char *path = in_dir(name);
    write_file(path, buf, len, gz);
    return path;
}

/* ---- reading good files --------------------------------------------------------------------- */

static void check_images(const char *path) {
    nn_tensor *x = nn_idx_load_images(path, 0);
    if (!x) fail_msg("%s", nn_last_error());
    assert_int_equal(x->ndim, 4);
    assert_int_equal(x->shape[0], 3);
    assert_int_equal(x->shape[1], 1);
    assert_int_equal(x->shape[2], 4);
    assert_int_equal(x->shape[3], 5);
    for (size_t i = 0; i < x->size; i++)
        assert_true(x->data[i] == (float)(unsigned char)(i * 7 + 3) / 255.0f);
    nn_tensor_free(x);

    nn_tensor *two = nn_idx_load_images(path, 2); /* only the first two */
    assert_non_null(two);
    assert_int_equal(two->shape[0], 2);
    for (size_t i = 0; i < two->size; i++)
        assert_true(two->data[i] == (float)(unsigned char)(i * 7 + 3) / 255.0f);
    nn_tensor_free(two);

    nn_tensor *all = nn_idx_load_images(path, 99); /* a limit above N reads all */
    assert_int_equal(all->shape[0], 3);
    nn_tensor_free(all);
}

static void test_images_plain_and_gzip(void **state) {
    (void)state;
    check_images(images_file("plain-idx3-ubyte", 3, 4, 5, false));
    check_images(images_file("zipped-idx3-ubyte.gz", 3, 4, 5, true));
}

static void test_labels_plain_and_gzip(void **state) {
    (void)state;
    unsigned char lab[6] = {9, 0, 3, 3, 255, 1};
    for (int gz = 0; gz < 2; gz++) {
        const char *path = labels_file(gz ? "l.gz" : "l", 6, lab, gz);
        int n = -1;
        int *y = nn_idx_load_labels(path, 0, &n);
        if (!y) fail_msg("%s", nn_last_error());
        assert_int_equal(n, 6);
        for (int i = 0; i < 6; i++) assert_int_equal(y[i], lab[i]);
        free(y);
        y = nn_idx_load_labels(path, 4, &n);
        assert_non_null(y);
        assert_int_equal(n, 4);
        assert_int_equal(y[3], 3);
        free(y);
    }
}

/* ---- refusing bad files ------------------------------------------------------------------ */

static void test_missing_file(void **state) {
    (void)state;
    int n = 7;
    assert_null(nn_idx_load_images(in_dir("nope-idx3-ubyte"), 0));
    EXPECT_LAST_ERROR("nn_idx_load_images", "nope-idx3-ubyte", "cannot open");
    assert_null(nn_idx_load_labels(in_dir("nope.gz"), 0, &n));
    EXPECT_LAST_ERROR("nn_idx_load_labels", "nope.gz", "cannot open");
    assert_int_equal(n, 0);
}

static void test_bad_magic(void **state) {
    (void)state;
    for (int gz = 0; gz < 2; gz++) {
        unsigned char buf[64];
        uint32_t dims[3] = {1, 2, 2};
        size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 4);
        buf[0] = 0x12;
        buf[1] = 0x34;
        write_file(in_dir("bad"), buf, len, gz);
        assert_null(nn_idx_load_images(in_dir("bad"), 0));
        EXPECT_LAST_ERROR("bad", "not an IDX file", "12 34 08 03", "00 00 08 03");
    }
    /* a PNG (or any other file) is not an IDX file either */
    const char *png = "\x89PNG\r\n\x1a\n and more";
    write_file(in_dir("pic"), (const unsigned char *)png, strlen(png), false);
    assert_null(nn_idx_load_images(in_dir("pic"), 0));
    EXPECT_LAST_ERROR("not an IDX file");
}

static void test_wrong_type_code_and_dims(void **state) {
    (void)state;
    unsigned char buf[256];
    uint32_t dims[3] = {2, 2, 2};
    size_t len = idx_bytes(buf, 0x0D, 3, dims, NULL, 32); /* float32 data */
    write_file(in_dir("floats"), buf, len, true);
    assert_null(nn_idx_load_images(in_dir("floats"), 0));
    EXPECT_LAST_ERROR("type code 0x0d", "float32", "0x08");

    /* a label file given to the image loader and the other way round */
    unsigned char lab[3] = {1, 2, 3};
    const char *lpath = labels_file("labels", 3, lab, false);
    const char *ipath = images_file("images", 1, 2, 2, false);
    assert_null(nn_idx_load_images(lpath, 0));
    EXPECT_LAST_ERROR("1 dimension(s), expected 3", "label file");
    int n;
    assert_null(nn_idx_load_labels(ipath, 0, &n));
    EXPECT_LAST_ERROR("3 dimension(s), expected 1", "image file");
}

static void test_zero_and_huge_dims(void **state) {
    (void)state;
    struct { uint32_t dims[3]; const char *words; } cases[] = {
        {{0, 28, 28}, "count N of 0"},
        {{5, 0, 28}, "rows of 0"},
        {{5, 28, 0}, "cols of 0"},
        {{5, 100000, 28}, "rows of 100000"},
        {{5, 28, 0xFFFFFFFFu}, "cols of 4294967295"},
        {{0x80000000u, 28, 28}, "count N of 2147483648"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int gz = 0; gz < 2; gz++) {
            unsigned char buf[64];
            size_t len = idx_bytes(buf, 0x08, 3, cases[i].dims, NULL, 8);
            write_file(in_dir("dims"), buf, len, gz);
            assert_null(nn_idx_load_images(in_dir("dims"), 0));
            EXPECT_LAST_ERROR("implausible", cases[i].words);
        }
    }
    /* a header claiming a billion images in a tiny file: refused as truncated (the reader
     * grows its buffer as data arrives, so this allocates nothing large) */
    for (int gz = 0; gz < 2; gz++) {
        unsigned char buf[64];
        uint32_t dims[3] = {1000000000u, 28, 28};
        size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 20);
        write_file(in_dir("liar"), buf, len, gz);
        assert_null(nn_idx_load_images(in_dir("liar"), 0));
        EXPECT_LAST_ERROR("liar", "truncated", "1000000000");
    }
}

static void test_truncated_header(void **state) {
    (void)state;
    unsigned char buf[64];
    uint32_t dims[3] = {2, 3, 3};
    size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 18);
    size_t cuts[] = {0, 2, 3, 5, 11, 15};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        for (int gz = 0; gz < 2; gz++) {
            write_file(in_dir("short"), buf, cuts[i], gz);
            assert_null(nn_idx_load_images(in_dir("short"), 0));
            EXPECT_LAST_ERROR("short", "truncated");
        }
    assert_true(len == 16 + 18);
}

static void test_truncated_data(void **state) {
    (void)state;
    unsigned char buf[256];
    uint32_t dims[3] = {4, 5, 5};
    size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 100);
    for (int gz = 0; gz < 2; gz++) {
        write_file(in_dir("cut"), buf, len - 1, gz);   /* one pixel short */
        assert_null(nn_idx_load_images(in_dir("cut"), 0));
        EXPECT_LAST_ERROR("cut", "truncated", "4 item(s) of 25 byte(s)");
        write_file(in_dir("cut"), buf, 16 + 30, gz);   /* most of the data missing */
        assert_null(nn_idx_load_images(in_dir("cut"), 0));
        EXPECT_LAST_ERROR("cut", "truncated");
    }
    /* labels too */
    unsigned char lab[10] = {0};
    uint32_t ldims[1] = {10};
    len = idx_bytes(buf, 0x08, 1, ldims, lab, 10);
    write_file(in_dir("lcut"), buf, len - 3, true);
    int n;
    assert_null(nn_idx_load_labels(in_dir("lcut"), 0, &n));
    EXPECT_LAST_ERROR("lcut", "truncated", "only 7 arrived");
}

static void test_truncated_gzip_stream(void **state) {
    (void)state;
    /* a whole gzip file, then its compressed bytes cut short or damaged */
    const char *path = images_file("z.gz", 20, 10, 10, true);
    size_t len;
    unsigned char *raw = slurp(path, &len);
    write_file(in_dir("zcut.gz"), raw, len / 2, false);
    assert_null(nn_idx_load_images(in_dir("zcut.gz"), 0));
    EXPECT_LAST_ERROR("zcut.gz", "truncated");

    write_file(in_dir("zcut.gz"), raw, len - 3, false); /* only the gzip trailer is cut */
    assert_null(nn_idx_load_images(in_dir("zcut.gz"), 0));
    EXPECT_LAST_ERROR("zcut.gz");

    raw[len - 6] ^= 0xFF; /* the CRC in the gzip trailer no longer matches */
    write_file(in_dir("zcrc.gz"), raw, len, false);
    assert_null(nn_idx_load_images(in_dir("zcrc.gz"), 0));
    EXPECT_LAST_ERROR("zcrc.gz", "corrupt");
    free(raw);
}

static void test_trailing_garbage(void **state) {
    (void)state;
    unsigned char buf[128];
    uint32_t dims[3] = {2, 3, 3};
    size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 18);
    memcpy(buf + len, "JUNK!", 5);
    for (int gz = 0; gz < 2; gz++) {
        write_file(in_dir("junk"), buf, len + 5, gz);
        assert_null(nn_idx_load_images(in_dir("junk"), 0));
        EXPECT_LAST_ERROR("junk", "5 unexpected byte(s)");
    }
}

/* ---- Fashion-MNIST on a fake folder ------------------------------------------------------- */

static void write_fake_split(const char *prefix, uint32_t n_img, uint32_t n_lab, bool gz,
                             unsigned char bad_label) {
    char name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    images_file(name, n_img, 28, 28, gz);
    unsigned char lab[16];
    for (uint32_t i = 0; i < 16; i++) lab[i] = (unsigned char)(i % 10);
    if (bad_label) lab[1] = bad_label;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    labels_file(name, n_lab, lab, gz);
}

static void test_fashion_mnist_fake_folder(void **state) {
    (void)state;
    write_fake_split("train", 6, 6, true, 0);   /* gzip'd, as Debian installs them */
    write_fake_split("t10k", 4, 4, false, 0);   /* plain files are found too */
    nn_dataset train, test;
    if (nn_fashion_mnist_load(dir, &train, &test, 0, 0) != 0) fail_msg("%s", nn_last_error());
    assert_int_equal(train.n, 6);
    assert_int_equal(test.n, 4);
    assert_int_equal(train.X->ndim, 4);
    assert_int_equal(train.X->shape[1], 1);
    assert_int_equal(train.X->shape[2], 28);
    assert_int_equal(train.X->shape[3], 28);
    assert_int_equal(train.num_classes, 10);
    for (int i = 0; i < 6; i++) assert_int_equal(train.labels[i], i % 10);
    for (int i = 0; i < 4; i++) assert_int_equal(test.order[i], i);
    nn_dataset_free(&train);
    nn_dataset_free(&test);
    assert_null(train.X);

    /* limits, and skipping a split */
    assert_int_equal(nn_fashion_mnist_load(dir, &train, NULL, 5, 0), 0);
    assert_int_equal(train.n, 5);
    nn_dataset_free(&train);

    /* the class names */
    assert_string_equal(nn_fashion_mnist_classes[0], "T-shirt/top");
    assert_string_equal(nn_fashion_mnist_classes[9], "Ankle boot");
    assert_string_equal(nn_fashion_mnist_classes_zh[1], "裤子");
}

/* The byte loaders: the same pictures as the float ones, a quarter of the memory, and the
 * same batches (in any order, after a split too). */
static void test_fashion_mnist_as_bytes(void **state) {
    (void)state;
    const char *path = images_file("bytes-idx3-ubyte", 3, 4, 5, false);
    int n, rows, cols;
    unsigned char *b = nn_idx_load_image_bytes(path, 2, &n, &rows, &cols);
    assert_non_null(b);
    assert_true(n == 2 && rows == 4 && cols == 5);
    for (int i = 0; i < 2 * 4 * 5; i++) assert_int_equal(b[i], (unsigned char)(i * 7 + 3));
    free(b);
    assert_null(nn_idx_load_image_bytes(in_dir("nope-idx3-ubyte"), 0, &n, NULL, NULL));
    assert_int_equal(n, 0);
    EXPECT_LAST_ERROR("nn_idx_load_image_bytes", "cannot open");

    write_fake_split("train", 6, 6, true, 0);
    write_fake_split("t10k", 4, 4, false, 0);
    nn_dataset f, by, test;
    if (nn_fashion_mnist_load(dir, &f, NULL, 0, 0) != 0) fail_msg("%s", nn_last_error());
    if (nn_fashion_mnist_load_bytes(dir, &by, &test, 0, 0) != 0) fail_msg("%s", nn_last_error());
    assert_null(by.X);
    assert_non_null(by.bytes);
    assert_true(by.n == 6 && test.n == 4 && by.num_classes == 10);
    assert_true(by.x_ndim == 4 && by.x_shape[0] == 6 && by.x_shape[2] == 28);
    nn_rng r1, r2;
    nn_rng_seed(&r1, 9), nn_rng_seed(&r2, 9);
    nn_dataset_shuffle(&f, &r1), nn_dataset_shuffle(&by, &r2);
    int yf[4], yb[4];
    nn_tensor *xf = nn_dataset_batch(&f, 1, 4, yf), *xb = nn_dataset_batch(&by, 1, 4, yb);
    assert_int_equal(xb->ndim, 4);
    assert_int_equal(xb->shape[0], 4);
    assert_memory_equal(xf->data, xb->data, sizeof(float) * xf->size);
    assert_memory_equal(yf, yb, sizeof yf);
    float one[28 * 28];
    assert_int_equal(nn_dataset_sample(&by, 5, one), 0);
    assert_memory_equal(one, f.X->data + 5 * 28 * 28, sizeof one);
    nn_graph_clear();
    /* a split keeps bytes as bytes */
    nn_dataset tr, va;
    assert_int_equal(nn_dataset_split(&by, 2, &tr, &va), 0);
    assert_true(tr.bytes && !tr.X && tr.n == 4 && va.n == 2 && va.x_shape[0] == 2);
    nn_tensor *xv = nn_dataset_batch(&va, 0, 2, NULL);
    assert_int_equal(nn_dataset_sample(&by, by.order[4], one), 0);
    assert_memory_equal(xv->data, one, sizeof one);
    nn_graph_clear();
    EXPECT_NN_ERROR(nn_dataset_sample(&by, 6, one), "nn_dataset_sample", "i = 6");
    nn_dataset_free(&tr), nn_dataset_free(&va);
    nn_dataset_free(&f), nn_dataset_free(&by), nn_dataset_free(&test);
    assert_null(by.bytes);
}

static void test_fashion_mnist_bad_folders(void **state) {
    (void)state;
    nn_dataset train, test;
    assert_int_equal(nn_fashion_mnist_load(dir, &train, &test, 0, 0), -1);
    EXPECT_LAST_ERROR("train-images-idx3-ubyte.gz", "dataset-fashion-mnist");
    assert_null(train.X);
    assert_null(test.X);

    /* 6 images but only 5 labels */
    write_fake_split("train", 6, 5, true, 0);
    write_fake_split("t10k", 4, 4, true, 0);
    assert_int_equal(nn_fashion_mnist_load(dir, &train, &test, 0, 0), -1);
    EXPECT_LAST_ERROR("6 images", "5 labels");
    assert_null(train.X);
    assert_null(test.X);

    /* a label outside 0..9; the train split loaded fine and must be given back */
    write_fake_split("train", 6, 6, true, 0);
    write_fake_split("t10k", 4, 4, true, 12);
    assert_int_equal(nn_fashion_mnist_load(dir, &train, &test, 0, 0), -1);
    EXPECT_LAST_ERROR("label 12", "0 .. 9");
    assert_null(train.X);
    assert_null(test.X);
}


/* ---- naming the real problem --------------------------------------------------------------- */

/* A gzip'd image file of pseudo-random pixels (which compress poorly, so a damaged byte
 * lands in the middle of real compressed data); returns its bytes (free them). */
static unsigned char *random_gz(const char *name, size_t *len) {
    static unsigned char buf[16 + 20 * 100];
    uint32_t dims[3] = {20, 10, 10};
    unsigned char data[2000];
    uint32_t s = 1;
    for (size_t i = 0; i < sizeof data; i++) {
        s = s * 1103515245u + 12345u;
        data[i] = (unsigned char)(s >> 16);
    }
    size_t n = idx_bytes(buf, 0x08, 3, dims, data, sizeof data);
    write_file(in_dir(name), buf, n, true);
    return slurp(in_dir(name), len);
}

static void test_gzip_damage_is_named(void **state) {
    (void)state;
    size_t len;
    unsigned char *raw = random_gz("z.gz", &len);
    nn_tensor *good = nn_idx_load_images(in_dir("z.gz"), 0);
    assert_non_null(good);
    nn_tensor_free(good);
    /* damaged bytes at several places inside the compressed data: always called corrupt
     * compressed data with zlib's words, never blamed on the IDX header */
    size_t at[] = {12, len / 4, len / 2, len - 20};
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        raw[at[k]] ^= 0x55;
        raw[at[k] + 1] ^= 0xFF;
        write_file(in_dir("bad.gz"), raw, len, false);
        raw[at[k]] ^= 0x55;
        raw[at[k] + 1] ^= 0xFF;
        nn_tensor *x = nn_idx_load_images(in_dir("bad.gz"), 0);
        if (x) fail_msg("damage at byte %zu of %zu was not noticed", at[k], len);
        EXPECT_LAST_ERROR("bad.gz", "is corrupt: its gzip-compressed data is damaged (zlib: ");
        if (strstr(nn_last_error(), "header"))
            fail_msg("damage at byte %zu blamed on the header:\n%s", at[k], nn_last_error());
    }
    free(raw);
}

static void test_file_bytes_are_escaped(void **state) {
    (void)state;
    /* a file of terminal escapes: the message shows them as \xNN, never raw */
    const char *esc = "\x1b[2J\x1b[31mgotcha";
    write_file(in_dir("esc"), (const unsigned char *)esc, strlen(esc), false);
    assert_null(nn_idx_load_images(in_dir("esc"), 0));
    EXPECT_LAST_ERROR("not an IDX file", "1b 5b 32 4a", "(\"\\x1b[2J\")");
    assert_null(strchr(nn_last_error(), '\x1b'));
    /* a web page saved in place of the data (a failed download) */
    const char *html = "<!DOCTYPE html>";
    write_file(in_dir("page.gz"), (const unsigned char *)html, strlen(html), false);
    int n;
    assert_null(nn_idx_load_labels(in_dir("page.gz"), 0, &n));
    EXPECT_LAST_ERROR("not an IDX file", "(\"<!DO\")");
}

static void test_junk_after_gzip_stream(void **state) {
    (void)state;
    unsigned char buf[128];
    uint32_t dims[3] = {2, 3, 3};
    size_t len = idx_bytes(buf, 0x08, 3, dims, NULL, 18);
    /* plain: data then junk */
    memcpy(buf + len, "JUNK!", 5);
    write_file(in_dir("junk"), buf, len + 5, false);
    assert_null(nn_idx_load_images(in_dir("junk"), 0));
    EXPECT_LAST_ERROR("'", "junk' has 5 unexpected byte(s) after the data (header: 2 item(s) of "
                      "9 byte(s), 34 bytes in all)");
    /* gzip'd: a whole gzip stream, then the same junk (which gzread would ignore) */
    write_file(in_dir("junk.gz"), buf, len, true);
    size_t zlen;
    unsigned char *z = slurp(in_dir("junk.gz"), &zlen);
    unsigned char *zj = malloc(zlen + 5);
    memcpy(zj, z, zlen);
    memcpy(zj + zlen, "JUNK!", 5);
    write_file(in_dir("junk.gz"), zj, zlen + 5, false);
    assert_null(nn_idx_load_images(in_dir("junk.gz"), 0));
    EXPECT_LAST_ERROR("junk.gz' has 5 unexpected byte(s) after the end of its gzip stream "
                      "(header: 2 item(s) of 9 byte(s), 34 bytes in all)");
    /* one stray byte too */
    write_file(in_dir("junk.gz"), zj, zlen + 1, false);
    assert_null(nn_idx_load_images(in_dir("junk.gz"), 0));
    EXPECT_LAST_ERROR("1 unexpected byte(s) after the end of its gzip stream");
    /* with a limit, only what is read is checked (as for a plain file) */
    nn_tensor *one = nn_idx_load_images(in_dir("junk.gz"), 1);
    assert_non_null(one);
    nn_tensor_free(one);

    /* two gzip members one after the other are one stream (gzip allows it): this loads */
    unsigned char *two = malloc(2 * zlen + 64);
    write_file(in_dir("a.gz"), buf, 20, true);
    write_file(in_dir("b.gz"), buf + 20, len - 20, true);
    size_t alen, blen;
    unsigned char *a = slurp(in_dir("a.gz"), &alen), *b = slurp(in_dir("b.gz"), &blen);
    memcpy(two, a, alen);
    memcpy(two + alen, b, blen);
    write_file(in_dir("two.gz"), two, alen + blen, false);
    nn_tensor *x = nn_idx_load_images(in_dir("two.gz"), 0);
    if (!x) fail_msg("%s", nn_last_error());
    assert_int_equal(x->shape[0], 2);
    assert_true(x->data[17] == (float)(unsigned char)(17 * 7 + 3) / 255.0f);
    nn_tensor_free(x);
    free(a);
    free(b);
    free(two);
    free(z);
    free(zj);
}

static void test_not_a_file(void **state) {
    (void)state;
    assert_null(nn_idx_load_images(dir, 0));
    EXPECT_LAST_ERROR("cannot read", "Is a directory");
}

static void test_fashion_mnist_messages(void **state) {
    (void)state;
    nn_dataset train;
    /* a damaged file: the IDX reader's reason, said by the function that was called */
    write_fake_split("train", 6, 6, true, 0);
    write_file(in_dir("train-labels-idx1-ubyte.gz"), (const unsigned char *)"\x1f\x8b junk", 7,
               false);
    assert_int_equal(nn_fashion_mnist_load(dir, &train, NULL, 0, 0), -1);
    EXPECT_LAST_ERROR("nn_fashion_mnist_load: nn_idx_load_labels: '", "train-labels-idx1-ubyte.gz'",
                      "corrupt");
    assert_null(train.X);

    /* images of another size: another data set */
    images_file("train-images-idx3-ubyte.gz", 6, 32, 32, true);
    write_fake_split("t10k", 4, 4, true, 0);
    unsigned char lab[6] = {0, 1, 2, 3, 4, 5};
    labels_file("train-labels-idx1-ubyte.gz", 6, lab, true);
    assert_int_equal(nn_fashion_mnist_load(dir, &train, NULL, 0, 0), -1);
    EXPECT_LAST_ERROR("32 x 32", "28 x 28");
    assert_null(train.X);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IO_TEST(test_images_plain_and_gzip),
        IO_TEST(test_labels_plain_and_gzip),
        IO_TEST(test_missing_file),
        IO_TEST(test_bad_magic),
        IO_TEST(test_wrong_type_code_and_dims),
        IO_TEST(test_zero_and_huge_dims),
        IO_TEST(test_truncated_header),
        IO_TEST(test_truncated_data),
        IO_TEST(test_truncated_gzip_stream),
        IO_TEST(test_trailing_garbage),
        IO_TEST(test_fashion_mnist_fake_folder),
        IO_TEST(test_fashion_mnist_as_bytes),
        IO_TEST(test_fashion_mnist_bad_folders),
        IO_TEST(test_gzip_damage_is_named),
        IO_TEST(test_file_bytes_are_escaped),
        IO_TEST(test_junk_after_gzip_stream),
        IO_TEST(test_not_a_file),
        IO_TEST(test_fashion_mnist_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
