/* tests/test_checkpoint.c — save a model, load it back, and refuse every damaged or
 * mismatched file with a message while leaving the model untouched; a file of the wrong
 * size (a 3 GiB sparse one too) is refused from its header and size without being read. */
#include "testing.h"
#include "scratch_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

/* The names in the folder, sorted, joined by spaces (e.g. "model.nnck"). */
static const char *listing(void) {
    static char out[1024];
    char names[16][128];
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 16)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], sizeof names[0], "%.100s", e->d_name);
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[128];
            memcpy(t, names[j], sizeof t);
            memcpy(names[j], names[j - 1], sizeof t);
            memcpy(names[j - 1], t, sizeof t);
        }
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(out, " ");
        strcat(out, names[i]);
    }
    return out;
}

/* ---- models ----------------------------------------------------------------------------- */

/* 3 -> 4 -> out: fc1.W (3, 4), fc1.b (4), fc2.W (4, out), fc2.b (out). */
static nn_model *two_layers(int out) {
    nn_model *m = nn_model_new();
    nn_linear_layer_new(m, "fc1", 3, 4, NN_INIT_XAVIER);
    nn_linear_layer_new(m, "fc2", 4, out, NN_INIT_XAVIER);
    for (size_t i = 0; i < m->count; i++) m->data[i] += 0.01f * (float)i; /* biases too */
    return m;
}

/* A copy of all the model's values, to compare against after a load. */
static float *snapshot(const nn_model *m) {
    float *s = malloc(m->count * sizeof(float));
    memcpy(s, m->data, m->count * sizeof(float));
    return s;
}

static void assert_model_is(const nn_model *m, const float *values) {
    assert_memory_equal(m->data, values, m->count * sizeof(float));
}

/* Save a fresh two-layer model to dir/model.nnck; *bytes_out gets the file, *saved the values. */
static nn_model *saved_model(unsigned char **bytes_out, size_t *len, float **saved) {
    nn_model *m = two_layers(2);
    assert_int_equal(nn_model_save(m, in_dir("model.nnck")), 0);
    *bytes_out = slurp(in_dir("model.nnck"), len);
    *saved = snapshot(m);
    return m;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_round_trip(void **state) {
    (void)state;
    nn_model *m = two_layers(2);
    nn_tensor *extra = nn_model_param(m, "emb", NN_SHAPE(2, 3, 2), false); /* a 3-D one */
    for (size_t i = 0; i < extra->size; i++) extra->data[i] = -1.5f * (float)i;
    extra->data[0] = -0.0f;
    extra->data[1] = 1e-40f; /* subnormal: kept bit for bit */
    float *saved = snapshot(m);
    const char *path = in_dir("model.nnck");
    assert_int_equal(nn_model_save(m, path), 0);
    assert_string_equal(listing(), "model.nnck"); /* no temporary file left behind */

    /* the layout described in the header: 16 bytes + per parameter
     * 4 + name + 4 + 4 * ndim + 4 * size */
    size_t len;
    unsigned char *b = slurp(path, &len);
    size_t want = 16;
    for (int p = 0; p < m->nparams; p++)
        want += 8 + strlen(m->params[p]->name) + 4 * (size_t)m->params[p]->ndim +
                4 * m->params[p]->size;
    assert_int_equal(len, want);
    assert_memory_equal(b, "NNCK\x01\x00\x00\x00\x05\x00\x00\x00", 12);
    assert_memory_equal(b + 12, "\x05\x00\x00\x00" "fc1.W" "\x02\x00\x00\x00" "\x03\x00\x00\x00"
                        "\x04\x00\x00\x00", 21);
    free(b);

    /* scramble, then load back: every value as saved, gradients untouched */
    nn_fill(m->params[0], 0.0f);
    nn_fill(extra, 9.0f);
    m->grad[0] = 42.0f;
    assert_int_equal(nn_model_load(m, path), 0);
    assert_model_is(m, saved);
    assert_true(m->grad[0] == 42.0f);
    assert_true(signbit(extra->data[0]));

    /* a second, freshly built model of the same architecture loads it too */
    nn_model *m2 = two_layers(2);
    nn_model_param(m2, "emb", NN_SHAPE(2, 3, 2), false);
    assert_int_equal(nn_model_load(m2, path), 0);
    assert_memory_equal(m2->data, saved, m->count * sizeof(float));

    /* saving over an existing checkpoint replaces it, still without leftovers */
    nn_fill(m->params[1], 0.5f);
    assert_int_equal(nn_model_save(m, path), 0);
    assert_string_equal(listing(), "model.nnck");
    assert_int_equal(nn_model_load(m2, path), 0);
    assert_true(m2->params[1]->data[0] == 0.5f);

    free(saved);
    nn_model_free(m);
    nn_model_free(m2);
}

static void test_flipped_byte_is_a_checksum_error(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    nn_tensor *w = m->params[2];
    nn_fill(w, 3.0f); /* the model now differs from the file; a failed load keeps this */
    float *before = snapshot(m);

    /* flip one bit of a value in the middle of the file (inside fc1.W's data) */
    size_t offsets[] = {len / 2, 12 + 4 + 5 + 4 + 8 + 3, len - 5};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        b[offsets[i]] ^= 0x10;
        spit(in_dir("flipped.nnck"), b, len);
        b[offsets[i]] ^= 0x10;
        assert_int_equal(nn_model_load(m, in_dir("flipped.nnck")), -1);
        EXPECT_LAST_ERROR("flipped.nnck", "checksum");
        assert_model_is(m, before);
    }
    /* a changed checksum itself */
    b[len - 1] ^= 0x01;
    spit(in_dir("flipped.nnck"), b, len);
    assert_int_equal(nn_model_load(m, in_dir("flipped.nnck")), -1);
    EXPECT_LAST_ERROR("checksum");
    assert_model_is(m, before);

    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

static void test_truncated_anywhere(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    nn_fill(m->params[0], -7.0f);
    float *before = snapshot(m);
    size_t cuts[] = {0, 1, 3, 4, 8, 12, 15, 16, 17, 20, 30, len / 2, len - 8, len - 5, len - 4,
                     len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(in_dir("cut.nnck"), b, cuts[i]);
        if (nn_model_load(m, in_dir("cut.nnck")) != -1)
            fail_msg("a checkpoint cut to %zu of %zu bytes was accepted", cuts[i], len);
        EXPECT_LAST_ERROR("nn_model_load", "cut.nnck", "truncated");
        assert_model_is(m, before);
    }
    /* extra bytes at the end are refused too */
    unsigned char *longer = malloc(len + 3);
    memcpy(longer, b, len);
    memcpy(longer + len, "xyz", 3);
    spit(in_dir("long.nnck"), longer, len + 3);
    assert_int_equal(nn_model_load(m, in_dir("long.nnck")), -1);
    EXPECT_LAST_ERROR("long.nnck");
    assert_model_is(m, before);

    free(longer);
    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

static void test_wrong_magic_and_version(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    nn_fill(m->params[3], 1.0f);
    float *before = snapshot(m);

    b[0] = 'P';
    spit(in_dir("magic.nnck"), b, len);
    assert_int_equal(nn_model_load(m, in_dir("magic.nnck")), -1);
    EXPECT_LAST_ERROR("magic.nnck", "not a libnn checkpoint", "NNCK");
    b[0] = 'N';

    b[4] = 2;
    spit(in_dir("v2.nnck"), b, len);
    assert_int_equal(nn_model_load(m, in_dir("v2.nnck")), -1);
    EXPECT_LAST_ERROR("v2.nnck", "version 2", "version 1");
    b[4] = 1;

    const char *text = "hello, this is a text file and not a checkpoint\n";
    spit(in_dir("text.nnck"), text, strlen(text));
    assert_int_equal(nn_model_load(m, in_dir("text.nnck")), -1);
    EXPECT_LAST_ERROR("not a libnn checkpoint");

    assert_int_equal(nn_model_load(m, in_dir("missing.nnck")), -1);
    EXPECT_LAST_ERROR("missing.nnck", "cannot open");

    /* a corrupt header count that would need more bytes than the file has */
    b[8] = 0xFF;
    b[9] = 0xFF;
    spit(in_dir("count.nnck"), b, len);
    assert_int_equal(nn_model_load(m, in_dir("count.nnck")), -1);
    EXPECT_LAST_ERROR("count.nnck", "65535 parameters");

    assert_model_is(m, before);
    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

static void test_architecture_mismatch(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    const char *path = in_dir("model.nnck");

    /* fc2 with 3 outputs instead of 2 */
    nn_model *wider = two_layers(3);
    float *before = snapshot(wider);
    assert_int_equal(nn_model_load(wider, path), -1);
    EXPECT_LAST_ERROR("model.nnck", "fc2.W", "(4, 2)", "(4, 3)");
    assert_model_is(wider, before);
    free(before);

    /* one layer more: the model's fc3.W is not in the file */
    nn_model *deeper = two_layers(2);
    nn_linear_layer_new(deeper, "fc3", 2, 2, NN_INIT_XAVIER);
    before = snapshot(deeper);
    assert_int_equal(nn_model_load(deeper, path), -1);
    EXPECT_LAST_ERROR("fc3.W", "not in the checkpoint");
    assert_model_is(deeper, before);
    free(before);

    /* one layer less: the file's fc2.W is not in the model */
    nn_model *shallow = nn_model_new();
    nn_linear_layer_new(shallow, "fc1", 3, 4, NN_INIT_XAVIER);
    before = snapshot(shallow);
    assert_int_equal(nn_model_load(shallow, path), -1);
    EXPECT_LAST_ERROR("fc2.W", "not in the model");
    assert_model_is(shallow, before);
    free(before);

    /* other names, same shapes */
    nn_model *renamed = nn_model_new();
    nn_linear_layer_new(renamed, "hidden", 3, 4, NN_INIT_XAVIER);
    nn_linear_layer_new(renamed, "fc2", 4, 2, NN_INIT_XAVIER);
    assert_int_equal(nn_model_load(renamed, path), -1);
    EXPECT_LAST_ERROR("hidden.W");

    /* the same parameters created in another order still load (matched by name) */
    nn_model *swapped = nn_model_new();
    nn_linear_layer_new(swapped, "fc2", 4, 2, NN_INIT_XAVIER);
    nn_linear_layer_new(swapped, "fc1", 3, 4, NN_INIT_XAVIER);
    assert_int_equal(nn_model_load(swapped, path), 0);
    assert_memory_equal(nn_model_find(swapped, "fc1.W")->data, m->params[0]->data,
                        12 * sizeof(float));
    assert_memory_equal(nn_model_find(swapped, "fc2.b")->data, m->params[3]->data,
                        2 * sizeof(float));

    nn_model_free(wider);
    nn_model_free(deeper);
    nn_model_free(shallow);
    nn_model_free(renamed);
    nn_model_free(swapped);
    free(b);
    free(saved);
    nn_model_free(m);
}

static void test_save_failures_leave_nothing(void **state) {
    (void)state;
    nn_model *m = two_layers(2);
    assert_int_equal(nn_model_save(m, in_dir("no/such/folder/model.nnck")), -1);
    EXPECT_LAST_ERROR("nn_model_save", "model.nnck", "No such file");
    assert_string_equal(listing(), "");

    /* the target is a folder: rename fails, the temporary file is removed */
    assert_int_equal(mkdir(in_dir("taken"), 0755), 0);
    assert_int_equal(nn_model_save(m, in_dir("taken")), -1);
    EXPECT_LAST_ERROR("nn_model_save", "taken");
    assert_string_equal(listing(), "taken");
    rmdir(in_dir("taken"));

    /* an empty model saves and loads */
    nn_model *empty = nn_model_new();
    assert_int_equal(nn_model_save(empty, in_dir("empty.nnck")), 0);
    assert_int_equal(nn_model_load(empty, in_dir("empty.nnck")), 0);
    assert_int_equal(nn_model_load(m, in_dir("empty.nnck")), -1);
    EXPECT_LAST_ERROR("fc1.W", "not in the checkpoint");
    nn_model_free(empty);
    nn_model_free(m);
}


/* ---- refused from the header and the size, before the body is read --------------------- */

/* The most memory this process has held so far, in KiB. */
static long peak_kib(void) {
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* path becomes a sparse file of `size` bytes whose first n bytes are `head` (the rest reads
 * as zeros and takes no disk space). */
static void sparse_file(const char *path, const void *head, size_t n, off_t size) {
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(fd >= 0);
    if (n) assert_int_equal(write(fd, head, n), (ssize_t)n);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

static void test_huge_file_refused_unread(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved); /* 196 bytes */
    nn_fill(m->params[0], 5.0f);
    float *before = snapshot(m);
    const off_t huge = (off_t)3 << 30; /* 3 GiB */
    long peak = peak_kib();

    /* zeros: the magic is wrong (the old loader read all 3 GiB first to say so) */
    sparse_file(in_dir("zeros.nnck"), NULL, 0, huge);
    assert_int_equal(nn_model_load(m, in_dir("zeros.nnck")), -1);
    EXPECT_LAST_ERROR("zeros.nnck", "not a libnn checkpoint", "00 00 00 00", "\"\\x00\\x00\\x00\\x00\"");

    /* a good header, then zeros: refused for its size, with both sizes */
    sparse_file(in_dir("header.nnck"), b, 12, huge);
    assert_int_equal(nn_model_load(m, in_dir("header.nnck")), -1);
    EXPECT_LAST_ERROR("header.nnck", "3221225472 bytes", "a checkpoint of this model 196",
                      "parameter 1 of 4", "name length 0");

    /* the whole checkpoint, then 3 GiB of zeros: every record fits the model, so the bytes
     * after the checksum are the problem (the walk skipped every value, reading none) */
    sparse_file(in_dir("tail.nnck"), b, len, huge);
    assert_int_equal(nn_model_load(m, in_dir("tail.nnck")), -1);
    EXPECT_LAST_ERROR("tail.nnck", "3221225276 unexpected byte(s) after its checksum",
                      "3221225472 bytes", "196");

    /* none of this allocated anything like the file: 3 GiB read would show here */
    assert_true(peak_kib() - peak < 64 * 1024);
    assert_model_is(m, before);
    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

static void test_size_messages(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    float *before = snapshot(m);
    assert_int_equal(len, 196);

    /* a checkpoint with bytes after it */
    unsigned char *longer = malloc(len + 3);
    memcpy(longer, b, len);
    memcpy(longer + len, "xyz", 3);
    spit(in_dir("long.nnck"), longer, len + 3);
    assert_int_equal(nn_model_load(m, in_dir("long.nnck")), -1);
    EXPECT_LAST_ERROR("long.nnck", "3 unexpected byte(s) after its checksum", "199 bytes",
                      "a checkpoint of this model 196");

    /* cut inside a record's values, and inside the checksum */
    spit(in_dir("cut.nnck"), b, len / 2);
    assert_int_equal(nn_model_load(m, in_dir("cut.nnck")), -1);
    EXPECT_LAST_ERROR("truncated", "98 bytes", "196", "parameter 2 of 4 \"fc1.b\"",
                      "run past the end of the file");
    spit(in_dir("cut.nnck"), b, len - 2);
    assert_int_equal(nn_model_load(m, in_dir("cut.nnck")), -1);
    EXPECT_LAST_ERROR("truncated", "194 bytes", "inside the 4-byte checksum");

    /* another architecture of another size: the message names the misfit and both sizes */
    nn_model *wider = two_layers(3);
    assert_int_equal(nn_model_load(wider, in_dir("model.nnck")), -1);
    EXPECT_LAST_ERROR("does not fit this model", "\"fc2.W\" has shape (4, 2) in the checkpoint "
                      "but (4, 3) in the model", "the file has 196 bytes", "this model 216");
    nn_model_free(wider);

    /* a directory, and a device that never ends: refused after at most 197 bytes */
    assert_int_equal(nn_model_load(m, dir), -1);
    EXPECT_LAST_ERROR("cannot read", "Is a directory");
    assert_int_equal(nn_model_load(m, "/dev/zero"), -1);
    EXPECT_LAST_ERROR("/dev/zero", "not a libnn checkpoint");

    assert_model_is(m, before);
    free(longer);
    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

/* Load from a pipe (which has no size) fed by a child process with `n` bytes of `bytes`. */
static int load_through_pipe(nn_model *m, const unsigned char *bytes, size_t n) {
    const char *fifo = in_dir("pipe");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int fd = open(fifo, O_WRONLY);
        size_t done = 0;
        while (fd >= 0 && done < n) {
            ssize_t w = write(fd, bytes + done, n - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        _exit(0);
    }
    int rc = nn_model_load(m, fifo);
    int status;
    waitpid(child, &status, 0);
    return rc;
}

static void test_pipe(void **state) {
    (void)state;
    unsigned char *b;
    size_t len;
    float *saved;
    nn_model *m = saved_model(&b, &len, &saved);
    nn_fill(m->params[0], 0.0f);
    assert_int_equal(load_through_pipe(m, b, len), 0);
    assert_model_is(m, saved);

    nn_fill(m->params[0], 0.0f);
    float *before = snapshot(m);
    unsigned char *longer = calloc(len + 1000, 1);
    memcpy(longer, b, len);
    assert_int_equal(load_through_pipe(m, longer, len + 1000), -1);
    EXPECT_LAST_ERROR("1 or more unexpected byte(s) after its checksum", "197 bytes or more");
    assert_int_equal(load_through_pipe(m, b, len - 1), -1);
    EXPECT_LAST_ERROR("truncated", "195 bytes");
    assert_model_is(m, before);
    free(longer);
    free(b);
    free(saved);
    free(before);
    nn_model_free(m);
}

/* ---- hand-made files --------------------------------------------------------------------- */

/* A checkpoint of the given records (name, one dimension of `size`, values 0), with a
 * correct checksum, into buf (2048 bytes); returns its length. */
static size_t hand_made(unsigned char *buf, int n, const char *const *names, const int *sizes) {
    size_t k = 0;
#define PUT32(v) (buf[k] = (unsigned char)(v), buf[k + 1] = (unsigned char)((v) >> 8), \
                  buf[k + 2] = (unsigned char)((v) >> 16), buf[k + 3] = (unsigned char)((v) >> 24), k += 4)
    memcpy(buf, "NNCK", 4);
    k = 4;
    PUT32(1u);
    PUT32((unsigned)n);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        assert_true(k + 16 + l + 4 * (size_t)sizes[i] <= 2048);
        PUT32((unsigned)l);
        memcpy(buf + k, names[i], l);
        k += l;
        PUT32(1u);
        PUT32((unsigned)sizes[i]);
        memset(buf + k, 0, 4 * (size_t)sizes[i]);
        k += 4 * (size_t)sizes[i];
    }
    uLong crc = crc32(crc32(0L, Z_NULL, 0), buf, (uInt)k);
    PUT32((unsigned)crc);
#undef PUT32
    return k;
}

static void test_names_escaped_and_duplicates(void **state) {
    (void)state;
    unsigned char buf[2048];
    nn_model *one = nn_model_new();
    nn_model_param(one, "w", NN_SHAPE(2), true);

    /* a name with a terminal escape and a line break in it: shown escaped, never raw */
    const char *evil[] = {"w", "\x1b[2J\n"};
    int two[] = {2, 2};
    spit(in_dir("evil.nnck"), buf, hand_made(buf, 2, evil, two));
    assert_int_equal(nn_model_load(one, in_dir("evil.nnck")), -1);
    EXPECT_LAST_ERROR("\"\\x1b[2J\\n\"", "not in the model");
    assert_null(strchr(nn_last_error(), '\x1b'));
    assert_null(strchr(nn_last_error(), '\n'));
    nn_model_free(one);

    nn_model *m = nn_model_new();
    nn_model_param(m, "w", NN_SHAPE(2), true);
    nn_model_param(m, "v", NN_SHAPE(2), true);

    /* the same name twice (the file's size is right, so it is read and checked in full) */
    const char *twice[] = {"w", "w"};
    spit(in_dir("twice.nnck"), buf, hand_made(buf, 2, twice, two));
    assert_int_equal(nn_model_load(m, in_dir("twice.nnck")), -1);
    EXPECT_LAST_ERROR("twice.nnck", "holds parameter \"w\" twice");

    /* far more records than the model has: at most nparams + 1 of them are looked at */
    const char *many[40];
    int ones[40];
    char names[40][8];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "p%d", i);
        many[i] = names[i];
        ones[i] = 1;
    }
    spit(in_dir("many.nnck"), buf, hand_made(buf, 40, many, ones));
    assert_int_equal(nn_model_load(m, in_dir("many.nnck")), -1);
    EXPECT_LAST_ERROR("\"p0\" (1) is not in the model", "checkpoint has 40 parameters",
                      "model has 2");
    nn_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IO_TEST(test_round_trip),
        IO_TEST(test_flipped_byte_is_a_checksum_error),
        IO_TEST(test_truncated_anywhere),
        IO_TEST(test_wrong_magic_and_version),
        IO_TEST(test_architecture_mismatch),
        IO_TEST(test_save_failures_leave_nothing),
        IO_TEST(test_huge_file_refused_unread),
        IO_TEST(test_size_messages),
        IO_TEST(test_pipe),
        IO_TEST(test_names_escaped_and_duplicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
