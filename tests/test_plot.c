/* tests/test_plot.c — SVG and ASCII charts: well-formed output, escaping, NaN handling,
 * failure without a half-written file, and the layout of the terminal chart. */
#include "testing.h"
#include "scratch_dir.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------- */

/* A path under /tmp that no other test run uses at the same time. */
static void temp_path(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "/tmp/nn_test_plot_%ld_%s.svg", (long)getpid(), name);
}

static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The checks every SVG must pass: a header, a closing tag, balanced groups and texts. */
static void assert_svg_shape(const char *svg) {
    assert_true(strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0);
    assert_non_null(strstr(svg, "<svg "));
    assert_true(ends_with(svg, "</svg>\n"));
    assert_int_equal(count_of(svg, "<svg"), 1);
    assert_int_equal(count_of(svg, "<g"), count_of(svg, "</g>"));
    assert_int_equal(count_of(svg, "<text"), count_of(svg, "</text>"));
}

/* Run nn_plot_ascii into memory and return the text (the caller frees it). */
static char *ascii_chart(const nn_series *s, int n, int width, int height) {
    FILE *f = tmpfile();
    assert_non_null(f);
    nn_plot_ascii(f, s, n, width, height);
    char *text = stream_text(f);
    assert_true(strlen(text) > 0);
    fclose(f);
    return text;
}

/* Split text into lines (in place); returns the number of lines. */
static int split_lines(char *text, char **lines, int max) {
    int n = 0;
    char *p = text;
    while (*p && n < max) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    return n;
}

/* ---- SVG -------------------------------------------------------------------------------- */

static void test_svg_well_formed(void **state) {
    (void)state;
    enum { N = 40 };
    float x[N], y1[N], y2[N];
    for (int i = 0; i < N; i++) {
        x[i] = -3.0f + 6.0f * i / (N - 1);
        y1[i] = sinf(x[i]);
        y2[i] = 0.3f * x[i];
    }
    nn_series s[3] = {
        {"train loss", NULL, y1, N, NN_PLOT_LINE},
        {"样本 samples", x, y2, N, NN_PLOT_POINTS},
        {"fit <line>", x, y2, N, NN_PLOT_LINE},
    };
    char path[256];
    temp_path(path, sizeof path, "well_formed");
    assert_int_equal(nn_plot_svg(path, "a & b <c>", "step \"t\"", "损失 loss", s, 3), 0);
    char *svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<polyline"), 2);    /* one per line series */
    assert_true(count_of(svg, "<circle") >= N);         /* one per point (+ legend dot) */
    assert_non_null(strstr(svg, "a &amp; b &lt;c&gt;")); /* the escaped title */
    assert_null(strstr(svg, "a & b <c>"));
    assert_non_null(strstr(svg, "step &quot;t&quot;"));
    assert_non_null(strstr(svg, "损失 loss"));          /* UTF-8 passes through */
    assert_non_null(strstr(svg, "train loss"));          /* legend labels */
    assert_non_null(strstr(svg, "样本 samples"));
    assert_non_null(strstr(svg, "fit &lt;line&gt;"));
    assert_non_null(strstr(svg, "sans-serif"));
    /* Three distinct colours for three series. */
    assert_non_null(strstr(svg, "#1f77b4"));
    assert_non_null(strstr(svg, "#ff7f0e"));
    assert_non_null(strstr(svg, "#2ca02c"));
    free(svg);
    remove(path);
}

static void test_svg_skips_nonfinite(void **state) {
    (void)state;
    float y[8] = {1, 2, NAN, 3, INFINITY, 4, 5, -INFINITY};
    float x[8] = {0, 1, 2, 3, 4, 5, NAN, 7};
    nn_series s[2] = {{"line", NULL, y, 8, NN_PLOT_LINE}, {"dots", x, y, 8, NN_PLOT_POINTS}};
    char path[256];
    temp_path(path, sizeof path, "nan");
    assert_int_equal(nn_plot_svg(path, "gaps", "x", "y", s, 2), 0);
    char *svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    for (char *p = svg; *p; p++) *p = (char)tolower((unsigned char)*p);
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    /* The line breaks at the gaps: {1, 2} and {4, 5} are polylines, {3} alone is a dot. */
    assert_int_equal(count_of(svg, "<polyline"), 2);
    free(svg);
    remove(path);
}

static void test_svg_missing_dir_fails_cleanly(void **state) {
    (void)state;
    float y[3] = {1, 2, 3};
    nn_series s = {"y", NULL, y, 3, NN_PLOT_LINE};
    char path[256];
    snprintf(path, sizeof path, "/tmp/nn_test_plot_%ld_no_such_dir/chart.svg", (long)getpid());
    assert_int_equal(nn_plot_svg(path, "t", "x", "y", &s, 1), -1);
    assert_true(strlen(nn_last_error()) > 0);
    assert_non_null(strstr(nn_last_error(), "nn_plot_svg"));
    assert_non_null(strstr(nn_last_error(), path));
    assert_false(file_exists(path));
    assert_true(no_temp_left(path));
}

static void test_svg_empty_and_degenerate(void **state) {
    (void)state;
    char path[256];
    temp_path(path, sizeof path, "degenerate");

    /* No series at all: still a valid chart (axes, no data, no legend). */
    assert_int_equal(nn_plot_svg(path, NULL, NULL, NULL, NULL, 0), 0);
    char *svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<polyline"), 0);
    assert_true(count_of(svg, "<line") >= 10); /* grid and tick marks */
    free(svg);

    /* One point, and a constant series: the range is padded, so every coordinate is finite. */
    float one = 3.0f, flat[4] = {5, 5, 5, 5};
    nn_series s[2] = {{"one", NULL, &one, 1, NN_PLOT_LINE}, {"flat", NULL, flat, 4, NN_PLOT_LINE}};
    assert_int_equal(nn_plot_svg(path, "degenerate", "x", "y", s, 2), 0);
    svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<polyline"), 1);      /* the flat series */
    assert_non_null(strstr(svg, "<circle"));              /* the single point, as a dot */
    for (char *p = svg; *p; p++) *p = (char)tolower((unsigned char)*p);
    assert_null(strstr(svg, "nan"));
    assert_null(strstr(svg, "inf"));
    free(svg);

    /* An empty series (n = 0) with NULL arrays is fine too. */
    nn_series empty = {"nothing", NULL, NULL, 0, NN_PLOT_POINTS};
    assert_int_equal(nn_plot_svg(path, "empty", NULL, NULL, &empty, 1), 0);
    svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_non_null(strstr(svg, "nothing")); /* still in the legend */
    free(svg);
    remove(path);
}

static void test_svg_deterministic(void **state) {
    (void)state;
    float y[50];
    for (int i = 0; i < 50; i++) y[i] = expf(-i / 10.0f);
    nn_series s = {"loss", NULL, y, 50, NN_PLOT_LINE};
    char a[256], b[256];
    temp_path(a, sizeof a, "det_a");
    temp_path(b, sizeof b, "det_b");
    assert_int_equal(nn_plot_svg(a, "loss", "step", "loss", &s, 1), 0);
    assert_int_equal(nn_plot_svg(b, "loss", "step", "loss", &s, 1), 0);
    char *sa = (char *)slurp(a, NULL), *sb = (char *)slurp(b, NULL);
    assert_string_equal(sa, sb);
    /* Overwriting an existing file works (rename onto it) and leaves no temp file behind. */
    assert_int_equal(nn_plot_svg(a, "loss", "step", "loss", &s, 1), 0);
    assert_true(no_temp_left(a));
    free(sa);
    free(sb);
    remove(a);
    remove(b);
}

static void test_svg_misuse(void **state) {
    (void)state;
    char path[256];
    temp_path(path, sizeof path, "misuse");
    EXPECT_NN_ERROR(nn_plot_svg(path, "t", NULL, NULL, NULL, 2), "nn_plot_svg", "NULL");
    float y[2] = {1, 2};
    nn_series bad = {"bad", NULL, y, -1, NN_PLOT_LINE};
    EXPECT_NN_ERROR(nn_plot_svg(path, "t", NULL, NULL, &bad, 1), "nn_plot_svg", "-1");
    nn_series no_y = {"no y", NULL, NULL, 2, NN_PLOT_LINE};
    EXPECT_NN_ERROR(nn_plot_svg(path, "t", NULL, NULL, &no_y, 1), "nn_plot_svg", "y");
    assert_false(file_exists(path));
}

/* Send fd (1 = stdout, 2 = stderr) into the file `path` until uncapture(fd, <the result>). */
static int capture(int fd, const char *path) {
    fflush(fd == 1 ? stdout : stderr);
    int saved = dup(fd), f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && f >= 0 && dup2(f, fd) == fd);
    close(f);
    return saved;
}

static void uncapture(int fd, int saved) {
    fflush(fd == 1 ? stdout : stderr);
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
}

static void test_svg_in_makes_folders_and_says_where(void **state) {
    (void)state;
    float y[3] = {1, 2, 3};
    nn_series s = {"y", NULL, y, 3, NN_PLOT_LINE};
    char nested[300], chart[320], said[400];
    snprintf(nested, sizeof nested, "%s", in_dir("new/deeper"));
    snprintf(chart, sizeof chart, "%s/chart.svg", nested);
    int saved = capture(1, in_dir("stdout.txt"));
    int rc = nn_plot_svg_in(nested, "chart.svg", "chart title", "x", "y", &s, 1);
    uncapture(1, saved);
    assert_int_equal(rc, 0);
    char *svg = (char *)slurp(chart, NULL);
    assert_svg_shape(svg);
    assert_non_null(strstr(svg, ">chart title<"));
    free(svg);
    snprintf(said, sizeof said, "wrote %s\n", chart);
    char *out = (char *)slurp(in_dir("stdout.txt"), NULL);
    assert_string_equal(out, said); /* one line, the full path */
    free(out);
    assert_int_equal(remove(chart), 0);
    assert_int_equal(rmdir(nested), 0);
    assert_int_equal(rmdir(in_dir("new")), 0);
}

static void test_svg_in_file_in_the_way(void **state) {
    (void)state;
    float y[2] = {1, 2};
    nn_series s = {"y", NULL, y, 2, NN_PLOT_LINE};
    FILE *f = fopen(in_dir("blocker"), "w"); /* a file where a folder should be */
    assert_non_null(f);
    fclose(f);
    char target[300], said[400];
    snprintf(target, sizeof target, "%s", in_dir("blocker/sub"));
    int saved = capture(2, in_dir("stderr.txt"));
    int rc = nn_plot_svg_in(target, "chart.svg", "t", "x", "y", &s, 1);
    uncapture(2, saved);
    assert_int_equal(rc, -1);
    EXPECT_LAST_ERROR("cannot create folder", "blocker");
    snprintf(said, sizeof said, "could not write %s/chart.svg: %s\n", target, nn_last_error());
    char *err = (char *)slurp(in_dir("stderr.txt"), NULL);
    assert_string_equal(err, said);
    free(err);
    struct stat st;
    assert_int_equal(stat(in_dir("blocker"), &st), 0);
    assert_true(S_ISREG(st.st_mode) && st.st_size == 0); /* the file is left as it was */
    EXPECT_NN_ERROR(nn_plot_svg_in(dir, NULL, "t", "x", "y", &s, 1), "nn_plot_svg_in", "NULL");
}

/* ---- labelled scatter plot ------------------------------------------------------------ */

static void test_svg_labels(void **state) {
    (void)state;
    float x[5] = {0.1f, -0.4f, 0.9f, NAN, 0.3f}, y[5] = {1.0f, 0.2f, -0.5f, 0.0f, 0.7f};
    const char *labels[5] = {"月", "a<b & \"c\"", NULL, "skipped", "花"};
    char path[256];
    temp_path(path, sizeof path, "labels");
    assert_int_equal(nn_plot_svg_labels(path, "词嵌入 <2-D>", x, y, labels, 5), 0);
    char *svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<circle"), 4);             /* the NaN point is skipped */
    assert_non_null(strstr(svg, ">月</text>"));                 /* UTF-8 labels pass through */
    assert_non_null(strstr(svg, ">花</text>"));
    assert_non_null(strstr(svg, ">a&lt;b &amp; &quot;c&quot;</text>")); /* escaped */
    assert_null(strstr(svg, "skipped"));
    assert_non_null(strstr(svg, "词嵌入 &lt;2-D&gt;"));
    for (char *p = svg; *p; p++) *p = (char)tolower((unsigned char)*p);
    assert_null(strstr(svg, "nan"));
    free(svg);

    /* No labels at all, and no points at all: still well-formed charts. */
    assert_int_equal(nn_plot_svg_labels(path, NULL, x, y, NULL, 3), 0);
    svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<circle"), 3);
    free(svg);
    assert_int_equal(nn_plot_svg_labels(path, "empty", NULL, NULL, NULL, 0), 0);
    svg = (char *)slurp(path, NULL);
    assert_svg_shape(svg);
    assert_int_equal(count_of(svg, "<circle"), 0);
    free(svg);
    remove(path);
    assert_true(no_temp_left(path));

    EXPECT_NN_ERROR(nn_plot_svg_labels(NULL, "t", x, y, labels, 5), "nn_plot_svg_labels", "NULL");
    EXPECT_NN_ERROR(nn_plot_svg_labels(path, "t", x, NULL, labels, 5), "nn_plot_svg_labels", "y");
    EXPECT_NN_ERROR(nn_plot_svg_labels(path, "t", x, y, labels, -1), "nn_plot_svg_labels", "-1");
    assert_false(file_exists(path));
}

static void test_svg_labels_in(void **state) {
    (void)state;
    float x[2] = {0, 1}, y[2] = {1, 0};
    const char *labels[2] = {"山", "水"};
    char chart[320], said[400];
    snprintf(chart, sizeof chart, "%s/map.svg", in_dir("maps"));
    int saved = capture(1, in_dir("stdout.txt"));
    int rc = nn_plot_svg_labels_in(in_dir("maps"), "map.svg", "map", x, y, labels, 2);
    uncapture(1, saved);
    assert_int_equal(rc, 0);
    snprintf(said, sizeof said, "wrote %s\n", chart);
    char *out = (char *)slurp(in_dir("stdout.txt"), NULL);
    assert_string_equal(out, said);
    free(out);
    char *svg = (char *)slurp(chart, NULL);
    assert_svg_shape(svg);
    assert_non_null(strstr(svg, ">山</text>"));
    free(svg);
    assert_int_equal(remove(chart), 0);
    assert_int_equal(rmdir(in_dir("maps")), 0);
    EXPECT_NN_ERROR(nn_plot_svg_labels_in(in_dir("maps"), NULL, "t", x, y, labels, 2),
                    "nn_plot_svg_labels_in", "NULL");
}

/* ---- ASCII ------------------------------------------------------------------------------ */

static void test_ascii_layout(void **state) {
    (void)state;
    enum { N = 100, W = 60, H = 15 };
    float x[N], y[N], z[N];
    for (int i = 0; i < N; i++) {
        x[i] = -3.14159265f + 6.2831853f * i / (N - 1);
        y[i] = sinf(x[i]);
        z[i] = 0.3f * x[i];
    }
    nn_series s[2] = {{"sin(x)", x, y, N, NN_PLOT_LINE}, {"linear fit", x, z, N, NN_PLOT_LINE}};
    char *text = ascii_chart(s, 2, W, H);
    char *lines[64];
    int n = split_lines(text, lines, 64);
    assert_int_equal(n, H + 3); /* grid rows, the x axis, the x range, the legend */
    for (int r = 0; r < H; r++) assert_non_null(strchr(lines[r], '|'));
    /* The y axis labels: the maximum (about 1) on top, the minimum (about -1) at the bottom. */
    assert_true(atof(lines[0]) > 0.9);
    assert_true(atof(lines[H - 1]) < -0.9);
    /* The x axis: "+" then exactly W dashes, under the "|" column. */
    char *plus = strchr(lines[H], '+');
    assert_non_null(plus);
    assert_int_equal((int)(plus - lines[H]), (int)(strchr(lines[0], '|') - lines[0]));
    assert_int_equal((int)strspn(plus + 1, "-"), W);
    assert_non_null(strstr(lines[H + 1], "-3.142"));
    assert_non_null(strstr(lines[H + 1], "3.142"));
    /* Both marks are drawn, and the legend names them. */
    int stars = 0, rings = 0;
    for (int r = 0; r < H; r++) {
        stars += strchr(lines[r], '*') != NULL;
        rings += strchr(lines[r], 'o') != NULL;
    }
    assert_int_equal(stars, H); /* the sine's line reaches every row */
    assert_true(rings >= H - 2);
    assert_non_null(strstr(lines[H + 2], "* sin(x)"));
    assert_non_null(strstr(lines[H + 2], "o linear fit"));
    free(text);
}

static void test_ascii_line_fills_gaps(void **state) {
    (void)state;
    /* Two points from the bottom-left to the top-right corner: a LINE series must draw every
     * row in between; a POINTS series draws just the two points. */
    float y[2] = {0, 1};
    nn_series line = {"steep", NULL, y, 2, NN_PLOT_LINE};
    char *text = ascii_chart(&line, 1, 20, 10);
    char *lines[32];
    int n = split_lines(text, lines, 32);
    assert_int_equal(n, 13);
    for (int r = 0; r < 10; r++) assert_non_null(strchr(strchr(lines[r], '|'), '*'));
    free(text);

    nn_series pts = {"two", NULL, y, 2, NN_PLOT_POINTS};
    text = ascii_chart(&pts, 1, 20, 10);
    n = split_lines(text, lines, 32);
    assert_int_equal(n, 13);
    int marked = 0;
    for (int r = 0; r < 10; r++) marked += strchr(strchr(lines[r], '|'), '*') != NULL;
    assert_int_equal(marked, 2);
    free(text);
}

static void test_ascii_constant_nan_and_clamp(void **state) {
    (void)state;
    /* A constant series with a NaN in it, on a grid too small to read: clamped to 20 x 5. */
    float flat[6] = {2, 2, NAN, 2, 2, 2};
    nn_series s = {"flat", NULL, flat, 6, NN_PLOT_LINE};
    char *text = ascii_chart(&s, 1, 3, 1);
    assert_null(strstr(text, "nan"));
    char *lines[32];
    int n = split_lines(text, lines, 32);
    assert_int_equal(n, 5 + 3);
    assert_int_equal((int)strspn(strchr(lines[5], '+') + 1, "-"), 20);
    int rows_with_mark = 0;
    for (int r = 0; r < 5; r++) rows_with_mark += strchr(lines[r], '*') != NULL;
    assert_int_equal(rows_with_mark, 1); /* a flat line sits on one row */
    assert_non_null(strstr(lines[7], "* flat"));
    free(text);

    /* No series: just the empty grid and axis, no legend line. */
    text = ascii_chart(NULL, 0, 20, 5);
    n = split_lines(text, lines, 32);
    assert_int_equal(n, 5 + 2);
    free(text);
}

static void test_ascii_marks_per_series(void **state) {
    (void)state;
    float y[4][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}};
    nn_series s[4] = {{"a", NULL, y[0], 3, NN_PLOT_POINTS},
                      {"b", NULL, y[1], 3, NN_PLOT_POINTS},
                      {"c", NULL, y[2], 3, NN_PLOT_POINTS},
                      {NULL, NULL, y[3], 3, NN_PLOT_POINTS}};
    char *text = ascii_chart(s, 4, 30, 12);
    /* the legend line holds the last '*': copy it out before checking */
    char legend[256];
    assert_non_null(strrchr(text, '*'));
    snprintf(legend, sizeof legend, "%s", strrchr(text, '*'));
    assert_non_null(strstr(legend, "* a"));
    assert_non_null(strstr(legend, "o b"));
    assert_non_null(strstr(legend, "+ c"));
    assert_non_null(strstr(legend, "x series 4")); /* an unnamed series gets a name */
    assert_non_null(strchr(text, 'x'));
    free(text);
}

static void test_ascii_misuse(void **state) {
    (void)state;
    EXPECT_NN_ERROR(nn_plot_ascii(stdout, NULL, 1, 40, 10), "nn_plot_ascii", "NULL");
    float y[2] = {1, 2};
    nn_series s = {"y", NULL, y, 2, NN_PLOT_LINE};
    EXPECT_NN_ERROR(nn_plot_ascii(NULL, &s, 1, 40, 10), "nn_plot_ascii");
}

/* ---- heatmaps -------------------------------------------------------------------------- */

static void expect_rgb(const nn_tensor *img, int i, float r, float g, float b) {
    size_t plane = (size_t)img->shape[1] * img->shape[2];
    if (!(fabsf(img->data[i] - r) < 1e-6f && fabsf(img->data[plane + i] - g) < 1e-6f &&
          fabsf(img->data[2 * plane + i] - b) < 1e-6f))
        fail_msg("pixel %d: (%g, %g, %g), want (%g, %g, %g)", i, img->data[i],
                 img->data[plane + i], img->data[2 * plane + i], r, g, b);
}

static void test_heatmap_colours(void **state) {
    (void)state;
    /* diverging: lo blue, 0 white, hi red, clamped beyond; NaN black */
    nn_tensor *m = nn_from_array((float[]){-2, -1, 0, 1, 5, NAN}, NN_SHAPE(2, 3));
    nn_tensor *img = nn_heatmap(m, -1, 1);
    assert_int_equal(img->ndim, 3);
    assert_int_equal(img->shape[0], 3);
    assert_int_equal(img->shape[1], 2);
    assert_int_equal(img->shape[2], 3);
    expect_rgb(img, 0, 0.13f, 0.30f, 0.65f);
    expect_rgb(img, 1, 0.13f, 0.30f, 0.65f);
    expect_rgb(img, 2, 1, 1, 1);
    expect_rgb(img, 3, 0.70f, 0.09f, 0.17f);
    expect_rgb(img, 4, 0.70f, 0.09f, 0.17f);
    expect_rgb(img, 5, 0, 0, 0);
    nn_tensor_free(img);
    /* sequential (lo >= 0): white at lo, dark red at hi, brighter is smaller */
    img = nn_heatmap(m, 0, 1);
    expect_rgb(img, 2, 1, 1, 1);
    expect_rgb(img, 3, 0.45f, 0.05f, 0.05f);
    nn_tensor_free(img);
    EXPECT_NN_ERROR(nn_heatmap(m, 1, 1), "lo < hi");
    nn_tensor *v = nn_zeros(NN_SHAPE(4));
    EXPECT_NN_ERROR(nn_heatmap(v, 0, 1), "matrix (H, W)", "(4)");
    nn_tensor_free(v);
    nn_tensor_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_svg_well_formed),
        NN_TEST(test_svg_skips_nonfinite),
        NN_TEST(test_svg_missing_dir_fails_cleanly),
        NN_TEST(test_svg_empty_and_degenerate),
        NN_TEST(test_svg_deterministic),
        NN_TEST(test_svg_misuse),
        IO_TEST(test_svg_in_makes_folders_and_says_where),
        IO_TEST(test_svg_in_file_in_the_way),
        NN_TEST(test_svg_labels),
        IO_TEST(test_svg_labels_in),
        NN_TEST(test_ascii_layout),
        NN_TEST(test_ascii_line_fills_gaps),
        NN_TEST(test_ascii_constant_nan_and_clamp),
        NN_TEST(test_ascii_marks_per_series),
        NN_TEST(test_ascii_misuse),
        NN_TEST(test_heatmap_colours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
