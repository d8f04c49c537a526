/* tests/test_csv.c — CSV files into data sets: numbers, a header, a label column, separators,
 * quotes, CRLF, blank lines at the end, lines of any length; and every bad file refused with
 * a message that names the line and the column and shows the field escaped; random bytes
 * never crash the parser. */
#include "testing.h"
#include "scratch_dir.h"

#include <locale.h>

/* Write text (a C string) to dir/name and load it with opt; returns the loader's result. */
static int load_text(const char *name, const char *text, const nn_csv_options *opt,
                     nn_dataset *ds) {
    spit(in_dir(name), text, strlen(text));
    return nn_csv_load(in_dir(name), opt, ds);
}

/* The same for n bytes that may hold NULs. */
static int load_bytes(const char *name, const void *bytes, size_t n, const nn_csv_options *opt,
                      nn_dataset *ds) {
    spit(in_dir(name), bytes, n);
    return nn_csv_load(in_dir(name), opt, ds);
}

static void assert_x(const nn_dataset *ds, int n, int f, const float *want) {
    assert_non_null(ds->X);
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->X->ndim, 2);
    assert_int_equal(ds->X->shape[0], n);
    assert_int_equal(ds->X->shape[1], f);
    assert_floats_near(ds->X->data, want, (size_t)n * f, 0.0f);
    for (int i = 0; i < n; i++) assert_int_equal(ds->order[i], i);
    assert_null(ds->Y);
}

/* A failed load leaves the data set empty. */
static void assert_empty(const nn_dataset *ds) {
    assert_null(ds->X);
    assert_null(ds->labels);
    assert_null(ds->order);
    assert_int_equal(ds->n, 0);
}

/* ---- good files ------------------------------------------------------------------------- */

static void test_numbers_only(void **state) {
    (void)state;
    nn_dataset ds;
    /* no options: ',' separator, no header, every column into X */
    assert_int_equal(load_text("a.csv", "1,2,3\n-4.5,5e-1,+6\n0x10,1E2,-0\n", NULL, &ds), 0);
    float want[] = {1, 2, 3, -4.5f, 0.5f, 6, 16, 100, -0.0f};
    assert_x(&ds, 3, 3, want);
    assert_null(ds.labels);
    assert_int_equal(ds.num_classes, 0);
    nn_dataset_free(&ds);

    /* no newline at the end, one column, spaces and tabs around the fields */
    assert_int_equal(load_text("b.csv", " 1.25 \n\t2\t\n3", NULL, &ds), 0);
    float one[] = {1.25f, 2, 3};
    assert_x(&ds, 3, 1, one);
    nn_dataset_free(&ds);

    /* a number that underflows to (almost) zero is a number */
    assert_int_equal(load_text("c.csv", "1e-400,1e-30\n", NULL, &ds), 0);
    assert_true(ds.X->data[0] == 0.0f);
    nn_dataset_free(&ds);
}

static void test_header_labels_crlf(void **state) {
    (void)state;
    nn_dataset ds;
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.header = true;
    opt.label_column = NN_CSV_LAST_COLUMN;
    /* CRLF line ends, a label "2.0" (a whole number), blank lines at the end */
    const char *text = "width,height,class\r\n1.5,2,0\r\n3,4,2.0\r\n5,6,1\r\n\r\n\r\n";
    assert_int_equal(load_text("h.csv", text, &opt, &ds), 0);
    float want[] = {1.5f, 2, 3, 4, 5, 6};
    assert_x(&ds, 3, 2, want);
    assert_non_null(ds.labels);
    assert_int_equal(ds.labels[0], 0);
    assert_int_equal(ds.labels[1], 2);
    assert_int_equal(ds.labels[2], 1);
    assert_int_equal(ds.num_classes, 3);
    nn_dataset_free(&ds);

    /* the label in column 0, a ';' separator, a UTF-8 byte-order mark (Excel writes one) */
    opt.separator = ';';
    opt.label_column = 0;
    assert_int_equal(load_text("s.csv", "\xEF\xBB\xBFy;a;b\n7;0.5;1\n3;-1;2\n", &opt, &ds), 0);
    float ab[] = {0.5f, 1, -1, 2};
    assert_x(&ds, 2, 2, ab);
    assert_int_equal(ds.labels[0], 7);
    assert_int_equal(ds.labels[1], 3);
    assert_int_equal(ds.num_classes, 8);
    nn_dataset_free(&ds);

    /* tabs as separators (then a tab is not white space to trim); a middle label column */
    nn_csv_options tab = {.separator = '\t', .header = false, .label_column = 1};
    assert_int_equal(load_text("t.tsv", "1\t4\t2\n3\t5\t4\n", &tab, &ds), 0);
    float t[] = {1, 2, 3, 4};
    assert_x(&ds, 2, 2, t);
    assert_int_equal(ds.labels[1], 5);
    nn_dataset_free(&ds);
}

static void test_quotes(void **state) {
    (void)state;
    nn_dataset ds;
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.header = true;
    /* quoted names may hold the separator, "" and even a line break; quoted numbers are
     * numbers; spaces around the quotes are fine */
    const char *text = "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n\"1.5\", \"2\" ,3\n";
    assert_int_equal(load_text("q.csv", text, &opt, &ds), 0);
    float want[] = {1.5f, 2, 3};
    assert_x(&ds, 1, 3, want);
    nn_dataset_free(&ds);

    /* the line break inside the header's quotes counts: the data starts on line 3 */
    assert_int_equal(load_text("q2.csv", "\"x\ny\",z\n1,2\n1,oops\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("line 4, column 2: \"oops\" is not a number");
}

static void test_long_lines_and_fields(void **state) {
    (void)state;
    nn_dataset ds;
    /* 100000 columns on one line: lines may be of any length */
    enum { F = 100000 };
    char *text = malloc(2 * (4 * F + 2) + 1);
    size_t k = 0;
    for (int r = 0; r < 2; r++) {
        for (int j = 0; j < F; j++) k += (size_t)sprintf(text + k, j ? ",%d" : "%d", (j + r) % 10);
        text[k++] = '\n';
    }
    text[k] = 0;
    assert_int_equal(load_text("wide.csv", text, NULL, &ds), 0);
    assert_int_equal(ds.X->shape[1], F);
    assert_true(ds.X->data[F - 1] == 9.0f);
    assert_true(ds.X->data[F] == 1.0f);
    nn_dataset_free(&ds);
    free(text);

    /* a 1 MB field: refused, and the message shows its start and its length, not all of it */
    size_t big = 1000000;
    char *huge = malloc(big + 16);
    memcpy(huge, "1,", 2);
    memset(huge + 2, '7', big);
    memcpy(huge + 2 + big, "\n", 2);
    assert_int_equal(load_text("huge.csv", huge, NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 2: \"7777777777", "\"... (1000000 bytes)",
                      "too long to be a number");
    assert_true(strlen(nn_last_error()) < 300);
    assert_empty(&ds);

    /* a 1 MB column name in the header is fine: names are only counted */
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.header = true;
    memcpy(huge, "x,", 2);
    memset(huge + 2, 'n', big);
    memcpy(huge + 2 + big, "\n4,5\n", 6);
    assert_int_equal(load_text("name.csv", huge, &opt, &ds), 0);
    float two[] = {4, 5};
    assert_x(&ds, 1, 2, two);
    nn_dataset_free(&ds);
    free(huge);
}

static void test_locale_does_not_matter(void **state) {
    (void)state;
    /* a program that set a locale with a decimal comma still reads "1.5" (skipped where no
     * such locale is installed) */
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++)
        set = setlocale(LC_NUMERIC, names[i]);
    nn_dataset ds;
    assert_int_equal(load_text("l.csv", "1.5,2.25\n", NULL, &ds), 0);
    float want[] = {1.5f, 2.25f};
    assert_x(&ds, 1, 2, want);
    nn_dataset_free(&ds);
    setlocale(LC_NUMERIC, "C");
}

/* ---- bad files -------------------------------------------------------------------------- */

static void test_ragged_rows(void **state) {
    (void)state;
    nn_dataset ds;
    assert_int_equal(load_text("r.csv", "1,2,3\n4,5,6\n7,8\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("nn_csv_load: '", "r.csv' line 3 has 2 column(s), but the first line "
                      "(line 1) has 3");
    assert_empty(&ds);
    assert_int_equal(load_text("r.csv", "1,2\n3,4,5\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 2 has 3 column(s)", "needs quotes");
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.header = true;
    assert_int_equal(load_text("r.csv", "a,b,c\n1,2\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("line 2 has 2 column(s), but the header (line 1) has 3");
    assert_empty(&ds);
}

static void test_not_numbers(void **state) {
    (void)state;
    nn_dataset ds;
    assert_int_equal(load_text("n.csv", "1,2\n3,abc\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("n.csv' line 2, column 2: \"abc\" is not a number");
    assert_empty(&ds);

    /* control bytes, NULs and non-ASCII are shown escaped (valid UTF-8 text as it is) */
    const unsigned char nul[] = "1,2\n3,4\x00" "5\n";
    assert_int_equal(load_bytes("z.csv", nul, sizeof nul - 1, NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 2, column 2: \"4\\x005\" is not a number");
    assert_int_equal(load_text("e.csv", "\x1b[2J,\xff\xfe\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 1: \"\\x1b[2J\" is not a number");
    assert_null(strchr(nn_last_error(), '\x1b'));
    assert_int_equal(load_text("u.csv", "1,北京\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("\"北京\" is not a number");
    assert_int_equal(load_text("i.csv", "1,\xff\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("\"\\xff\" is not a number");
    assert_int_equal(load_text("cr.csv", "1\r2\n", NULL, &ds), -1); /* a \r alone is a byte */
    EXPECT_LAST_ERROR("\"1\\r2\" is not a number");

    /* a long bad field is cut short in the message */
    char line[200];
    memset(line, 'x', 120);
    memcpy(line + 120, "\n", 2);
    assert_int_equal(load_text("x.csv", line, NULL, &ds), -1);
    EXPECT_LAST_ERROR("\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... (120 bytes) is not a number");

    /* another separator than the one asked for: the message says so */
    assert_int_equal(load_text("semi.csv", "1;2;3\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("\"1;2;3\" is not a number", "is the separator ';'?");

    /* empty fields, text after a closing quote, an open quote */
    assert_int_equal(load_text("m.csv", "1,,3\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 2 is empty (a missing value?)");
    assert_int_equal(load_text("m.csv", "1,\"\"\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 2 is empty");
    assert_int_equal(load_text("m.csv", "1,2,\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 3 is empty");
    assert_int_equal(load_text("q.csv", "1,\"2\"x\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 2: \"2x\" has text after its closing quote");
    assert_int_equal(load_text("q.csv", "1,2\n3,\"4\n5,6\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 2, column 2: the quoted field that starts there is not closed");

    /* only finite numbers that fit a float */
    const char *bad[] = {"nan", "inf", "-Infinity", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "1,%s\n", bad[i]);
        assert_int_equal(load_text("f.csv", text, NULL, &ds), -1);
        EXPECT_LAST_ERROR("line 1, column 2:", "is not a finite number");
    }
    assert_int_equal(load_text("f.csv", "1\n1e39\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 2, column 1: 1e+39 is too large for a float");
    assert_empty(&ds);
}

static void test_bad_labels(void **state) {
    (void)state;
    nn_dataset ds;
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.label_column = NN_CSV_LAST_COLUMN;
    const char *bad[] = {"2.5", "-1", "cat", "1e10", "nan"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "1,2,0\n3,4,%s\n", bad[i]);
        assert_int_equal(load_text("l.csv", text, &opt, &ds), -1);
        char want[64];
        snprintf(want, sizeof want, "line 2, column 3 (the label column): \"%s\" is not a class "
                 "label", bad[i]);
        EXPECT_LAST_ERROR(want, "whole numbers 0, 1, 2");
        assert_empty(&ds);
    }
    /* the first line too (where the last column is only known at its end) */
    assert_int_equal(load_text("l.csv", "1,2,x\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 3 (the label column): \"x\" is not a class label");
    assert_int_equal(load_text("l.csv", "1,2,\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("line 1, column 3 (the label column) is empty");

    /* a label column the file does not have, or no column left for X */
    opt.label_column = 5;
    assert_int_equal(load_text("l.csv", "1,2,3\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("has no label column 5", "line 1 has 3 column(s)", "0 .. 2");
    opt.label_column = NN_CSV_LAST_COLUMN;
    assert_int_equal(load_text("l.csv", "1\n2\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("only the label column", "no values left for X");
    assert_empty(&ds);
}

static void test_empty_and_blank(void **state) {
    (void)state;
    nn_dataset ds;
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.header = true;
    assert_int_equal(load_text("e.csv", "", NULL, &ds), -1);
    EXPECT_LAST_ERROR("e.csv' is empty");
    assert_int_equal(load_text("e.csv", "\xEF\xBB\xBF", NULL, &ds), -1);
    EXPECT_LAST_ERROR("e.csv' is empty");
    assert_int_equal(load_text("b.csv", "\n \n\r\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("b.csv' has only blank lines");
    assert_int_equal(load_text("h.csv", "a,b\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("h.csv' has a header (line 1) but no data lines");
    assert_int_equal(load_text("h.csv", "a,b\n\n\n", &opt, &ds), -1);
    EXPECT_LAST_ERROR("has a header (line 1) but no data lines");
    /* a blank line before more data is refused (a missing value in a one-column file?) */
    assert_int_equal(load_text("m.csv", "1\n\n3\n", NULL, &ds), -1);
    EXPECT_LAST_ERROR("line 2 is blank");
    assert_int_equal(nn_csv_load(in_dir("missing.csv"), NULL, &ds), -1);
    EXPECT_LAST_ERROR("nn_csv_load: cannot open '", "missing.csv'");
    assert_int_equal(nn_csv_load(dir, NULL, &ds), -1);
    EXPECT_LAST_ERROR("cannot be read", "Is a directory");
    assert_empty(&ds);
}

static void test_misuse(void **state) {
    (void)state;
    nn_dataset ds;
    nn_csv_options opt = NN_CSV_DEFAULTS;
    EXPECT_NN_ERROR(nn_csv_load(NULL, NULL, &ds), "nn_csv_load", "path is NULL");
    EXPECT_NN_ERROR(nn_csv_load("x.csv", NULL, NULL), "ds is NULL");
    opt.separator = '.';
    EXPECT_NN_ERROR(nn_csv_load("x.csv", &opt, &ds), "separator '.'");
    opt.separator = '"';
    EXPECT_NN_ERROR(nn_csv_load("x.csv", &opt, &ds), "separator");
    opt.separator = 'e';
    EXPECT_NN_ERROR(nn_csv_load("x.csv", &opt, &ds), "separator 'e'");
    opt.separator = ',';
    opt.label_column = -3;
    EXPECT_NN_ERROR(nn_csv_load("x.csv", &opt, &ds), "label_column = -3");
}

/* Random bytes, biased towards the ones that matter (separators, quotes, line ends, digits,
 * NULs), and a good file with a few bytes changed, inserted or removed: the parser answers
 * 0 (a sound data set) or -1 with a message, and never reads out of bounds (run the
 * sanitizer build to see that). Seeded, so every run tries the same inputs. */
static void test_random_bytes_never_crash(void **state) {
    (void)state;
    static const unsigned char alphabet[] = "0123456789.,;\"\r\n \t-+eE\x00\xff" "abc";
    static const char good[] = "a,b,c\n1,2,0\n3.5,-4,1\n\"5\",6e1,2\r\n7,8,1\n\n";
    nn_rng rng;
    nn_rng_seed(&rng, 99);
    unsigned char buf[600];
    int loaded = 0, refused = 0;
    for (int round = 0; round < 800; round++) {
        size_t n;
        if (round % 2 == 0) { /* random bytes */
            n = nn_rng_u32(&rng) % sizeof buf;
            for (size_t i = 0; i < n; i++) {
                uint32_t r = nn_rng_u32(&rng);
                buf[i] = r % 4 == 0 ? (unsigned char)(r >> 8)
                                    : alphabet[(r >> 8) % (sizeof alphabet - 1)];
            }
        } else { /* the good file, mutated 1 .. 3 times */
            n = sizeof good - 1;
            memcpy(buf, good, n);
            for (uint32_t k = 1 + nn_rng_u32(&rng) % 3; k > 0; k--) {
                size_t at = nn_rng_u32(&rng) % n;
                unsigned char c = alphabet[nn_rng_u32(&rng) % (sizeof alphabet - 1)];
                switch (nn_rng_u32(&rng) % 3) {
                case 0: buf[at] = c; break;
                case 1: memmove(buf + at + 1, buf + at, n - at); buf[at] = c; n++; break;
                default: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;
                }
            }
        }
        nn_csv_options opt = NN_CSV_DEFAULTS;
        opt.header = round % 3 != 1;
        opt.label_column = round % 5 < 3 ? NN_CSV_LAST_COLUMN : NN_CSV_NO_LABELS;
        nn_dataset ds;
        int rc = load_bytes("fuzz.csv", buf, n, &opt, &ds);
        if (rc == 0) {
            loaded++;
            assert_true(ds.n >= 1);
            assert_int_equal(ds.X->shape[0], ds.n);
            for (size_t i = 0; i < ds.X->size; i++) assert_true(isfinite(ds.X->data[i]));
            for (int i = 0; ds.labels && i < ds.n; i++)
                assert_true(ds.labels[i] >= 0 && ds.labels[i] < ds.num_classes);
            nn_dataset_free(&ds);
        } else {
            refused++;
            assert_int_equal(rc, -1);
            assert_true(strncmp(nn_last_error(), "nn_csv_load: ", 13) == 0);
            assert_empty(&ds);
        }
    }
    /* both answers were seen */
    assert_true(loaded > 20);
    assert_true(refused > 20);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        IO_TEST(test_numbers_only),
        IO_TEST(test_header_labels_crlf),
        IO_TEST(test_quotes),
        IO_TEST(test_long_lines_and_fields),
        IO_TEST(test_locale_does_not_matter),
        IO_TEST(test_ragged_rows),
        IO_TEST(test_not_numbers),
        IO_TEST(test_bad_labels),
        IO_TEST(test_empty_and_blank),
        IO_TEST(test_misuse),
        IO_TEST(test_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
