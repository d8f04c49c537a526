/* fuzz/make_seeds.c — write the seed corpus for the fuzz targets: small valid files and
 * near-valid ones (one byte short, one byte too many, a wrong field), one folder per target.
 *
 *   build/fuzz/make_seeds build/fuzz/seeds      (scripts/fuzz.sh runs it)
 *     idx/         tiny IDX image and label files, plain and gzip'd, and damaged copies
 *     checkpoint/  checkpoints of the fuzz model (fuzz_model.h), of another model, damaged
 *     image/       PNG, BMP, TGA, JPEG, HDR (the library and stb_image_write), PGM, PPM, GIF
 *     csv/         small CSV files, each after the option byte fuzz_csv.c reads first
 *     text/        text, fortunes and vocabulary files, after the selector byte of fuzz_text.c
 *     gpt/         gpt.cfg files: the one fuzz_gpt.c's tiny model was saved with, and variants
 *     bpe/         tokenizer files (NNBP) trained on fuzz_bpe.c's text, and damaged copies
 *     vector_index/ vector index files (NNVX): a few poems, an empty index, 1-D, damaged
 *     quant/       quantized checkpoints (NNQ1) of the fuzz model: int8, int4 in groups of 1, 4,
 *                  32, another shape, damaged
 *
 * Every file is rewritten on each run, so the seeds always follow the current formats. */
#include "fuzz_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include <stb/stb_image_write.h>

static const char *root;

static void die(const char *what, const char *path) {
    fprintf(stderr, "make_seeds: %s '%s': %s\n", what, path, errno ? strerror(errno) : nn_last_error());
    exit(1);
}

/* root/sub/name, in a static buffer. */
static const char *seed_path(const char *sub, const char *name) {
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) die("cannot make folder", path);
    snprintf(path, sizeof path, "%s/%s/%s", root, sub, name);
    errno = 0;
    return path;
}

static void spit(const char *sub, const char *name, const void *bytes, size_t len) {
    const char *path = seed_path(sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) die("cannot write", path);
}

static void spit_gz(const char *sub, const char *name, const void *bytes, size_t len) {
    const char *path = seed_path(sub, name);
    gzFile f = gzopen(path, "wb");
    if (!f || gzwrite(f, bytes, (unsigned)len) != (int)len || gzclose(f) != Z_OK)
        die("cannot write", path);
}

/* The whole file (malloc'd), for making damaged copies of what the library wrote. */
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot read", path);
    unsigned char *buf = malloc(1 << 20);
    if (!buf) die("out of memory for", path);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* ---- idx ---------------------------------------------------------------------------------- */

/* 00 00 08 ndim, the dims big-endian, then ndata bytes i * 37 + 11. Returns the length. */
static size_t idx_bytes(unsigned char *buf, int type, int ndim, const uint32_t *dims, size_t ndata) {
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = (unsigned char)type;
    buf[n++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++)
        for (int s = 24; s >= 0; s -= 8) buf[n++] = (unsigned char)(dims[d] >> s);
    for (size_t i = 0; i < ndata; i++) buf[n++] = (unsigned char)(i * 37 + 11);
    return n;
}

static void idx_seeds(void) {
    unsigned char buf[256];
    const uint32_t images[3] = {2, 3, 4}, labels[1] = {5}, huge[3] = {1000000, 28, 28};

    size_t n = idx_bytes(buf, 0x08, 3, images, 2 * 3 * 4);
    spit("idx", "images.idx", buf, n);
    spit_gz("idx", "images.idx.gz", buf, n);
    spit("idx", "images-short.idx", buf, n - 1);
    buf[n] = 0xAB;
    spit("idx", "images-extra.idx", buf, n + 1);
    spit_gz("idx", "images-extra.idx.gz", buf, n + 1);

    n = idx_bytes(buf, 0x08, 1, labels, 5);
    for (int i = 0; i < 5; i++) buf[8 + i] = (unsigned char)(i * 2);
    spit("idx", "labels.idx", buf, n);
    spit_gz("idx", "labels.idx.gz", buf, n);
    spit("idx", "labels-short.idx", buf, n - 1);

    n = idx_bytes(buf, 0x0D, 1, labels, 5); /* float32: a type the loaders refuse */
    spit("idx", "labels-float.idx", buf, n);
    n = idx_bytes(buf, 0x08, 3, huge, 16); /* a header that promises far more than is there */
    spit("idx", "images-huge-header.idx", buf, n);

    /* A gzip stream cut off before its end (its checksum and length). */
    size_t len = 0;
    unsigned char *gz = slurp(seed_path("idx", "images.idx.gz"), &len);
    spit("idx", "images-cut.idx.gz", gz, len - 6);
    free(gz);
}

/* ---- checkpoint --------------------------------------------------------------------------- */

static void save_model(nn_model *m, const char *name) {
    for (size_t i = 0; i < m->count; i++) m->data[i] = 0.25f * (float)i - 1.0f;
    const char *path = seed_path("checkpoint", name);
    if (nn_model_save(m, path) != 0) die("cannot save", path);
}

static void checkpoint_seeds(void) {
    nn_model *m = fuzz_model_new();
    save_model(m, "model.nnck");
    nn_model_free(m);

    m = nn_model_new(); /* the same names, another shape */
    nn_conv2d_layer_new(m, "conv", 1, 2, 3, 1, 0, NN_INIT_HE);
    nn_linear_layer_new(m, "fc", 8, 4, NN_INIT_XAVIER);
    save_model(m, "other-shape.nnck");
    nn_model_free(m);

    m = nn_model_new(); /* no parameters at all: 16 bytes */
    save_model(m, "empty.nnck");
    nn_model_free(m);

    size_t len = 0;
    unsigned char *b = slurp(seed_path("checkpoint", "model.nnck"), &len);
    spit("checkpoint", "model-short.nnck", b, len - 5);
    b[len - 1] ^= 0x40; /* the checksum no longer agrees */
    spit("checkpoint", "model-bad-crc.nnck", b, len);
    free(b);
}

/* ---- image -------------------------------------------------------------------------------- */

static void image_seeds(void) {
    enum { C = 3, H = 5, W = 7 };
    nn_tensor *img = nn_zeros(NN_SHAPE(C, H, W));
    unsigned char pix[H * W * 4];
    float hdr[H * W * C];
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float v = (float)((x * 3 + y * 5 + c * 7) % 11) / 10.0f;
                img->data[(c * H + y) * W + x] = v;
                pix[(y * W + x) * C + c] = (unsigned char)(v * 255.0f + 0.5f);
                hdr[(y * W + x) * C + c] = v * 4.0f;
            }
    const char *path = seed_path("image", "rgb.png");
    if (nn_image_save_png(path, img) != 0) die("cannot write", path);
    nn_tensor *grey = nn_image_to_grey(img);
    path = seed_path("image", "grey.png");
    if (nn_image_save_png(path, grey) != 0) die("cannot write", path);
    nn_tensor_free(grey);
    nn_tensor_free(img);

    if (!stbi_write_bmp(seed_path("image", "rgb.bmp"), W, H, C, pix) ||
        !stbi_write_tga(seed_path("image", "rgb.tga"), W, H, C, pix) ||
        !stbi_write_jpg(seed_path("image", "rgb.jpg"), W, H, C, pix, 90) ||
        !stbi_write_png(seed_path("image", "rgba.png"), W - 3, H, 4, pix, (W - 3) * 4) ||
        !stbi_write_hdr(seed_path("image", "rgb.hdr"), W, H, C, hdr))
        die("stb_image_write failed on", "image/");
    stbi_write_tga_with_rle = 0;
    if (!stbi_write_tga(seed_path("image", "rgb-raw.tga"), W, H, C, pix))
        die("stb_image_write failed on", "image/rgb-raw.tga");

    /* PNM by hand: a 3x2 grey PGM and a 2x2 colour PPM. */
    static const unsigned char pgm[] = "P5\n3 2\n255\n\x00\x40\x80\xc0\xff\x10";
    spit("image", "grey.pgm", pgm, sizeof pgm - 1);
    static const unsigned char ppm[] = "P6\n# a comment\n2 2\n255\n"
                                       "\xff\x00\x00\x00\xff\x00\x00\x00\xff\x80\x80\x80";
    spit("image", "rgb.ppm", ppm, sizeof ppm - 1);
    /* The classic 1x1 GIF. */
    static const unsigned char gif[] = {
        'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0,
        0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b};
    spit("image", "pixel.gif", gif, sizeof gif);

    /* Damaged: a PNG without its end (IEND) and a JPEG cut in half. */
    size_t len = 0;
    unsigned char *b = slurp(seed_path("image", "rgb.png"), &len);
    spit("image", "rgb-cut.png", b, len - 12);
    free(b);
    b = slurp(seed_path("image", "rgb.jpg"), &len);
    spit("image", "rgb-cut.jpg", b, len / 2);
    free(b);
}

/* ---- csv ---------------------------------------------------------------------------------- */

/* The option byte of fuzz_csv.c: separator index (0 ',' 1 ';' 2 tab 3 space), header,
 * label column index (0 none, 1 last, 2 column 0, 3 column 1). */
static void csv_seed(const char *name, int sep, int header, int labels, const char *text) {
    unsigned char buf[512];
    size_t len = strlen(text);
    buf[0] = (unsigned char)(sep | header << 2 | labels << 3);
    memcpy(buf + 1, text, len);
    spit("csv", name, buf, len + 1);
}

static void csv_seeds(void) {
    csv_seed("plain.csv", 0, 0, 0, "1,2,3\n4,5,6\n");
    csv_seed("header-last-label.csv", 0, 1, 1, "x,y,label\n0.5,1e-3,0\n-2,3.25,1\n7,8,2\n");
    csv_seed("semicolon-first-label.csv", 1, 0, 2, "2;1.5;-1\n0;2;3\n");
    csv_seed("tab-crlf.csv", 2, 0, 0, "1\t2\r\n3\t4\r\n");
    csv_seed("space.csv", 3, 0, 3, " 1  2 \n3 4\n");
    csv_seed("quoted.csv", 0, 1, 1, "\"a,b\",\"c\"\"d\"\n\"1.5\",\"2\"\n\"-3\",0\n");
    csv_seed("quoted-newline.csv", 0, 1, 0, "\"a\nb\",c\n1,2\n");
    csv_seed("bom-blank-end.csv", 0, 0, 0, "\xEF\xBB\xBF" "1,2\n3,4\n\n\n");
    /* near-valid: each one wrong in one place */
    csv_seed("ragged.csv", 0, 0, 0, "1,2\n3\n");
    csv_seed("nan.csv", 0, 0, 0, "1,nan\n2,3\n");
    csv_seed("blank-inside.csv", 0, 0, 0, "1\n\n2\n");
    csv_seed("negative-label.csv", 0, 0, 1, "1,-1\n2,0\n");
    csv_seed("unclosed-quote.csv", 0, 0, 0, "\"1,2\n3,4\n");
    csv_seed("too-large.csv", 0, 0, 0, "1e39,2\n");
}

/* ---- text ---------------------------------------------------------------------------------- */

/* The selector byte of fuzz_text.c (0 text, 1 fortunes, 2 fortunes without titles, 3 vocab)
 * in front of the file's bytes. */
static void text_seed(const char *name, int selector, const void *bytes, size_t len) {
    unsigned char *buf = malloc(len + 1);
    if (!buf) die("out of memory for", name);
    buf[0] = (unsigned char)selector;
    memcpy(buf + 1, bytes, len);
    spit("text", name, buf, len + 1);
    free(buf);
}

static void text_seeds(void) {
    static const char plain[] = "床前明月光，疑是地上霜。\nHello, world!\r\n";
    static const char fortunes[] =
        "\x1b[32m《静夜思》\x1b[m\n\x1b[33m作者：李白\x1b[m\n床前明月光，\n疑是地上霜。\n%\n"
        "\x1b[32m《春晓》\x1b[m\n\x1b[33m作者：孟浩然\x1b[m\n春眠不觉晓，\n处处闻啼鸟。\n%    \n"
        "An English saying.\n%\n";
    static const char bad_utf8[] = "ok \xe5\x41 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80";
    text_seed("plain.txt", 0, plain, sizeof plain - 1);
    text_seed("bom.txt", 0, "\xef\xbb\xbf" "abc\n", 7);
    text_seed("bad-utf8.txt", 0, bad_utf8, sizeof bad_utf8 - 1);
    text_seed("fortunes-titles.txt", 1, fortunes, sizeof fortunes - 1);
    text_seed("fortunes-no-titles.txt", 2, fortunes, sizeof fortunes - 1);
    /* A vocabulary file written by the library, and a copy cut short. */
    nn_vocab *v = nn_vocab_build(plain, sizeof plain - 1, 0);
    const char *tmp = seed_path("text", "vocab.tmp");
    char path[4096];
    snprintf(path, sizeof path, "%s", tmp);
    if (!v || nn_vocab_save(v, path) != 0) die("cannot write", path);
    nn_vocab_free(v);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    remove(path);
    text_seed("vocab.nnvc", 3, bytes, len);
    text_seed("vocab-short.nnvc", 3, bytes, len - 5);
    free(bytes);
}

/* ---- gpt ------------------------------------------------------------------------------------ */

/* The config of fuzz_gpt.c's tiny model (vocab 12: <unk> and the 11 characters of its text),
 * and near misses: a line gone, a line twice, another format, a bigger model, junk values. */
static void gpt_seeds(void) {
    static const char good[] = "# a GPT saved by libnn\nformat = 1\nvocab = 12\ncontext = 8\n"
                               "dim = 8\nheads = 2\nlayers = 1\nffn = 32\ntied = 1\n"
                               "sinusoidal = 0\nhead_bias = 0\ndropout = 0\n";
    spit("gpt", "good.cfg", good, sizeof good - 1);
    static const char *const variants[][2] = {
        {"no-dropout.cfg", "format = 1\nvocab = 12\ncontext = 8\ndim = 8\nheads = 2\n"
                           "layers = 1\nffn = 32\ntied = 1\nsinusoidal = 0\n"},
        {"twice.cfg", "format = 1\nvocab = 12\nvocab = 12\ncontext = 8\ndim = 8\nheads = 2\n"
                      "layers = 1\nffn = 32\ntied = 1\nsinusoidal = 0\nhead_bias = 0\n"
                      "dropout = 0\n"},
        {"format2.cfg", "format = 2\nvocab = 12\ncontext = 8\ndim = 8\nheads = 2\n"
                        "layers = 1\nffn = 32\ntied = 1\nsinusoidal = 0\nhead_bias = 0\n"
                      "dropout = 0\n"},
        {"huge.cfg", "format = 1\nvocab = 1073741824\ncontext = 1073741824\ndim = 65536\n"
                     "heads = 1\nlayers = 1073741824\nffn = 0\ntied = 0\nsinusoidal = 1\n"
                     "head_bias = 1\ndropout = 0.5\n"},
        {"junk.cfg", "format = 1\nvocab = -3\ncontext = 8x\ndim = \nheads = 2\n"
                     "dropout = nan\n"},
    };
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        spit("gpt", variants[i][0], variants[i][1], strlen(variants[i][1]));
}

/* ---- vector_index ----------------------------------------------------------------------- */

static void save_index(nn_vector_index *ix, const char *name) {
    const char *path = seed_path("vector_index", name);
    if (nn_vector_index_save(ix, path) != 0) die("cannot save", path);
    nn_vector_index_free(ix);
}

static void vector_index_seeds(void) {
    static const char *const docs[] = {"《静夜思》李白\n床前明月光，疑是地上霜。",
                                       "An English line.", ""};
    static const float vecs[3][4] = {{1, 2, 3, 4}, {-1, 0.5f, 0, 2}, {0, 0, 1e-3f, 0}};
    nn_vector_index *ix = nn_vector_index_new(4);
    for (int i = 0; i < 3; i++)
        if (nn_vector_index_add(ix, vecs[i], docs[i], strlen(docs[i]), 5 - 7 * i) != i)
            die("cannot add to", "vector_index/poems.nnvx");
    save_index(ix, "poems.nnvx");
    save_index(nn_vector_index_new(2), "empty.nnvx");
    ix = nn_vector_index_new(1);
    nn_vector_index_add(ix, (const float[]){2}, "+", 1, 1);
    nn_vector_index_add(ix, (const float[]){-3}, "-", 1, -1);
    save_index(ix, "one-dim.nnvx");

    size_t len = 0;
    unsigned char *b = slurp(seed_path("vector_index", "poems.nnvx"), &len);
    spit("vector_index", "poems-short.nnvx", b, len - 5);
    b[len / 2] ^= 0x20; /* the checksum no longer agrees */
    spit("vector_index", "poems-bad-crc.nnvx", b, len);
    free(b);
    /* a header that lists two billion entries of 65536 dimensions, in 20 bytes */
    static const unsigned char huge[20] = {'N', 'N', 'V', 'X', 1, 0, 0, 0, 0, 0, 1, 0,
                                           0xff, 0xff, 0xff, 0x7f};
    spit("vector_index", "huge-count.nnvx", huge, sizeof huge);
}

/* ---- bpe ------------------------------------------------------------------------------------ */

/* Tokenizers of fuzz_bpe.c's own text (so that what loads meets every character it encodes):
 * characters only, a few merges, every merge; one of "aaabdaaabac"; cut and changed copies. */
static void bpe_seeds(void) {
    static const char text[] = "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"
                               "The moon, the moon is bright.\n明月 moon 😀\n";
    nn_vocab *v = nn_vocab_build(text, sizeof text - 1, 0);
    const int sizes[] = {v->size, v->size + 3, NN_BPE_MAX_SIZE};
    const char *names[] = {"chars.nnbp", "few.nnbp", "all.nnbp"};
    nn_vocab_free(v);
    for (int i = 0; i < 3; i++) {
        nn_bpe *bpe = nn_bpe_train(text, sizeof text - 1, sizes[i]);
        const char *path = seed_path("bpe", names[i]);
        if (!bpe || nn_bpe_save(bpe, path) != 0) die("cannot write", path);
        nn_bpe_free(bpe);
    }
    nn_bpe *bpe = nn_bpe_train("aaabdaaabac", 11, 100);
    const char *path = seed_path("bpe", "textbook.nnbp");
    if (!bpe || nn_bpe_save(bpe, path) != 0) die("cannot write", path);
    nn_bpe_free(bpe);

    size_t len = 0;
    unsigned char *b = slurp(seed_path("bpe", "all.nnbp"), &len);
    spit("bpe", "all-short.nnbp", b, len - 5);
    b[len - 8] ^= 0x01; /* the last merge's count: only the checksum can tell */
    spit("bpe", "all-bad-crc.nnbp", b, len);
    free(b);
}

/* ---- quant (NNQ1) ------------------------------------------------------------------------ */

static void save_quantized(nn_model *m, const char *name, int bits, int group) {
    for (size_t i = 0; i < m->count; i++) m->data[i] = 0.25f * (float)i - 1.0f;
    const char *path = seed_path("quant", name);
    if (nn_model_save_quantized(m, path, bits, group) != 0) die("cannot save", path);
}

static void quant_seeds(void) {
    nn_model *m = fuzz_model_new();
    save_quantized(m, "model-int8.nnq", 8, 0);
    save_quantized(m, "model-int4g1.nnq", 4, 1);
    save_quantized(m, "model-int4g4.nnq", 4, 4);
    save_quantized(m, "model-int4g32.nnq", 4, 32);
    nn_model_free(m);
    m = nn_model_new(); /* the same names, another shape */
    nn_conv2d_layer_new(m, "conv", 1, 2, 3, 1, 0, NN_INIT_HE);
    nn_linear_layer_new(m, "fc", 8, 4, NN_INIT_XAVIER);
    save_quantized(m, "other-shape-int4.nnq", 4, 3);
    nn_model_free(m);
    size_t len = 0;
    unsigned char *b = slurp(seed_path("quant", "model-int4g4.nnq"), &len);
    spit("quant", "model-short.nnq", b, len - 5);
    b[len - 1] ^= 0x40; /* the checksum no longer agrees */
    spit("quant", "model-bad-crc.nnq", b, len);
    free(b);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SEED-FOLDER\n", argv[0]);
        return 2;
    }
    root = argv[1];
    if (mkdir(root, 0777) != 0 && errno != EEXIST) die("cannot make folder", root);
    idx_seeds();
    checkpoint_seeds();
    quant_seeds();
    image_seeds();
    csv_seeds();
    text_seeds();
    gpt_seeds();
    bpe_seeds();
    vector_index_seeds();
    nn_graph_release();
    printf("make_seeds: seeds written under %s/\n", root);
    return 0;
}
