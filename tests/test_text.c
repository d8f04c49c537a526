/* tests/test_text.c — text for chapter 4: UTF-8 characters (every code point, every bad form),
 * the character vocabulary (词表: frequency order, ties, <unk>, max size, encode/decode, its
 * file and every damaged file refused), corpora (text files, fortunes files with colour codes
 * and titles; small fixtures written here, never the installed files), the split by position,
 * random windows and sequential chunks for truncated BPTT. */
#include "testing.h"
#include "scratch_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char poem[] = "床前明月光，疑是地上霜。Hello, world!";

/* ---- UTF-8 ---------------------------------------------------------------------------------- */

static void test_utf8_every_code_point(void **state) {
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF + 16; cp++) {
        char b[4];
        int k = nn_utf8_encode(cp, b);
        bool is_char = cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        if (!is_char) {
            if (k != 0) fail_msg("U+%04X is not a character but encodes to %d bytes", cp, k);
            continue;
        }
        int want = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (k != want) fail_msg("U+%04X: %d bytes, want %d", cp, k, want);
        uint32_t back = 0xFFFFFFFF;
        if (nn_utf8_decode(b, (size_t)k, &back) != k || back != cp)
            fail_msg("U+%04X does not decode back (got U+%04X)", cp, back);
        if (k > 1 && nn_utf8_decode(b, (size_t)k - 1, &back) != 0) /* cut short */
            fail_msg("U+%04X cut to %d bytes was accepted", cp, k - 1);
    }
}

/* Every sequence of each length: the ones accepted are exactly the shortest encodings of the
 * characters of that length (accepted => re-encodes to the same bytes, and the counts agree),
 * so no overlong form, surrogate or value above U+10FFFF gets through. */
static void test_utf8_every_sequence(void **state) {
    (void)state;
    unsigned char b[4];
    uint32_t cp;
    int valid = 0;
    for (int c = 0; c < 256; c++) {
        b[0] = (unsigned char)c;
        valid += nn_utf8_decode((char *)b, 1, &cp) == 1;
    }
    assert_int_equal(valid, 128);
    long counts[5] = {0};
    for (unsigned lead = 0xC0; lead <= 0xFF; lead++) {
        int len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        /* all second and third bytes; for 4-byte leads, continuation bytes only after that */
        unsigned span3 = len >= 3 ? 256 : 1, span4 = len == 4 ? 64 : 1;
        for (unsigned x = 0; x < 256; x++)
            for (unsigned y = 0; y < span3; y++)
                for (unsigned z = 0; z < span4; z++) {
                    b[0] = (unsigned char)lead;
                    b[1] = (unsigned char)x;
                    b[2] = (unsigned char)y;
                    b[3] = (unsigned char)(0x80 | z);
                    int k = nn_utf8_decode((char *)b, (size_t)len, &cp);
                    if (k == 0) continue;
                    char again[4];
                    if (k != len || nn_utf8_encode(cp, again) != len || memcmp(again, b, len))
                        fail_msg("%02x %02x %02x %02x accepted as U+%04X, not its shortest "
                                 "form", b[0], b[1], b[2], b[3], cp);
                    counts[len]++;
                }
    }
    assert_int_equal(counts[2], 0x800 - 0x80);
    assert_int_equal(counts[3], 0x10000 - 0x800 - 0x800); /* minus the surrogates */
    assert_int_equal(counts[4], 0x110000 - 0x10000);
}

/* One bad sequence after "ab" (so at byte 2), and what the message must say about it. */
typedef struct {
    const char *bytes;
    const char *why;
} bad_case;

static const bad_case bad_cases[] = {
    {"\x80", "continuation byte"},           {"\xbf", "no lead byte"},
    {"\xff", "never used"},                  {"\xfe", "never used"},
    {"\xf8\x88\x80\x80\x80", "never used"},  {"\xf5\x80\x80\x80", "above U+10FFFF"},
    {"\xe5", "ends after 1 byte"},           {"\xe5\xba", "ends after 2 bytes"},
    {"\xf0\x9f\x98", "ends after 3 bytes"},  {"\xe5\x41\x42", "0x41 is not a continuation"},
    {"\xc3(", "not a continuation"},         {"\xf0\x9f\x41\x80", "4-byte character"},
    {"\xc0\xaf", "overlong form of U+002F"}, {"\xc1\xbf", "overlong"},
    {"\xc0\x80", "overlong form of U+0000"}, {"\xe0\x80\xaf", "overlong form of U+002F"},
    {"\xe0\x9f\xbf", "U+07FF (3 bytes"},     {"\xf0\x80\x80\xaf", "overlong"},
    {"\xf0\x8f\xbf\xbf", "U+FFFF (4 bytes"}, {"\xed\xa0\x80", "U+D800 is a UTF-16 surrogate"},
    {"\xed\xbf\xbf", "U+DFFF"},              {"\xf4\x90\x80\x80", "U+110000 is above"},
};

static void test_utf8_invalid_cases(void **state) {
    (void)state;
    nn_vocab *v = nn_vocab_build("ab", 2, 0);
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        size_t n = strlen(c->bytes), len = 2 + n + 1;
        char *text = malloc(len); /* exactly the bytes: ASan sees any read past them */
        memcpy(text, "ab", 2);
        memcpy(text + 2, c->bytes, n);
        text[len - 1] = 'z';
        for (size_t cut = 0; cut < 2; cut++) { /* with 'z' after it, and at the very end */
            size_t tl = len - cut, off = 99;
            /* followed by 'z', a truncated sequence reads as "not a continuation byte" */
            const char *why = cut || !strstr(c->why, "ends after") ? c->why : "0x7a is not";
            assert_int_equal(nn_utf8_decode(text + 2, tl - 2, NULL), 0);
            assert_int_equal(nn_utf8_check(text, tl, &off), -1);
            assert_int_equal(off, 2);
            EXPECT_LAST_ERROR("nn_utf8_check", "byte 2 (line 1)", why);
            assert_null(nn_vocab_build(text, tl, 0));
            EXPECT_LAST_ERROR("nn_vocab_build", "not valid UTF-8", "byte 2", why);
            int ids[8];
            assert_int_equal(nn_vocab_encode(v, text, tl, ids, 8), -1);
            EXPECT_LAST_ERROR("nn_vocab_encode", "byte 2", why);
            assert_int_equal(nn_vocab_encode(v, text, tl, NULL, 0), -1);
        }
        free(text);
    }
    /* the line number counts the newlines before the bad byte */
    const char lines[] = "床\nab\n\xff";
    assert_int_equal(nn_utf8_check(lines, sizeof lines - 1, NULL), -1);
    EXPECT_LAST_ERROR("byte 7 (line 3)", "0xff");
    /* NUL and U+10FFFF are characters */
    assert_int_equal(nn_utf8_check("a\0b\xf4\x8f\xbf\xbf", 7, NULL), 0);
    assert_int_equal(nn_utf8_check(NULL, 0, NULL), 0);
    nn_vocab_free(v);
}

/* Random bytes, biased towards the ones that start and continue sequences: every function
 * agrees on where the text stops being UTF-8, and nothing reads past the buffer. */
static void test_utf8_random_bytes(void **state) {
    (void)state;
    nn_rng rng;
    nn_rng_seed(&rng, 7);
    nn_vocab *v = nn_vocab_build(poem, strlen(poem), 0);
    static const unsigned char pool[] = {0x00, 0x41, 0x0a, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2,
                                         0xdf, 0xe0, 0xe5, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff};
    for (int trial = 0; trial < 3000; trial++) {
        size_t len = (size_t)nn_rng_int(&rng, 24);
        unsigned char *b = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            b[i] = nn_rng_int(&rng, 3) ? pool[nn_rng_int(&rng, sizeof pool)]
                                       : (unsigned char)nn_rng_u32(&rng);
        /* walk it by hand with nn_utf8_decode */
        size_t i = 0;
        int chars = 0;
        uint32_t cp;
        int k;
        while (i < len && (k = nn_utf8_decode((char *)b + i, len - i, &cp)) > 0) {
            i += (size_t)k;
            chars++;
        }
        size_t off = 12345;
        int ok = nn_utf8_check((char *)b, len, &off);
        int *ids = malloc((len ? len : 1) * sizeof *ids);
        int n = nn_vocab_encode(v, (char *)b, len, ids, len);
        nn_vocab *w = nn_vocab_build((char *)b, len, 0);
        if (i == len) {
            assert_int_equal(ok, 0);
            assert_int_equal(n, chars);
            assert_non_null(w);
        } else {
            assert_int_equal(ok, -1);
            assert_int_equal(off, i);
            assert_int_equal(n, -1);
            assert_null(w);
        }
        nn_vocab_free(w);
        free(ids);
        free(b);
    }
    nn_vocab_free(v);
}

/* ---- the vocabulary ----------------------------------------------------------------------- */

static void test_round_trip_mixed(void **state) {
    (void)state;
    size_t len = strlen(poem);
    nn_vocab *v = nn_vocab_build(poem, len, 0);
    assert_non_null(v);
    int n = nn_vocab_encode(v, poem, len, NULL, 0);
    assert_int_equal(n, 12 + 13); /* 12 Chinese characters and punctuation, 13 ASCII */
    int ids[32];
    assert_int_equal(nn_vocab_encode(v, poem, len, ids, 32), n);
    for (int i = 0; i < n; i++) assert_true(ids[i] > 0 && ids[i] < v->size);
    char out[128];
    assert_int_equal(nn_vocab_decode(v, ids, n, out, sizeof out), (int)len);
    assert_string_equal(out, poem);
    /* 'l' is the most frequent (3), then 'o' (2); everything else once */
    assert_int_equal(v->chars[1], 'l');
    assert_int_equal(v->counts[1], 3);
    assert_int_equal(v->chars[2], 'o');
    assert_int_equal(v->size, 1 + 12 + 10); /* H e l o , space w r d ! */
    assert_int_equal(nn_vocab_id(v, 0x5E8A), ids[0]); /* 床 */
    assert_int_equal(v->chars[ids[0]], 0x5E8A);

    /* a small buffer gets whole characters only, and the length of the whole text */
    char small[5];
    assert_int_equal(nn_vocab_decode(v, ids, n, small, sizeof small), (int)len);
    assert_string_equal(small, "床"); /* 3 bytes; 前 would need 3 more */
    assert_int_equal(nn_vocab_decode(v, ids, n, small, 1), (int)len);
    assert_string_equal(small, "");
    assert_int_equal(nn_vocab_decode(v, ids, n, NULL, 0), (int)len);
    assert_int_equal(nn_vocab_encode(v, poem, len, ids, 3), n); /* cap: only 3 written */
    nn_vocab_free(v);
}

static void test_frequency_order_and_ties(void **state) {
    (void)state;
    const char *text = "明月光，明月";
    nn_vocab *v = nn_vocab_build(text, strlen(text), 0);
    /* counts 明 2, 月 2, 光 1, ， 1: ties by code point (明 U+660E < 月 U+6708, 光 U+5149 <
     * ， U+FF0C) */
    uint32_t want[] = {0, 0x660E, 0x6708, 0x5149, 0xFF0C};
    uint64_t counts[] = {0, 2, 2, 1, 1};
    assert_int_equal(v->size, 5);
    assert_memory_equal(v->chars, want, sizeof want);
    assert_memory_equal(v->counts, counts, sizeof counts);
    nn_vocab_free(v);

    /* ASCII, 2-, 3- and 4-byte characters in one text; the order is fixed by the counts */
    const char *mix = "c\xf0\x9f\x98\x80" "bb\xc3\xa9\xc3\xa9\xc3\xa9" "a\xf0\x9f\x98\x80" "a";
    v = nn_vocab_build(mix, strlen(mix), 0);
    uint32_t want2[] = {0, 0xE9, 'a', 'b', 0x1F600, 'c'};
    assert_int_equal(v->size, 6);
    assert_memory_equal(v->chars, want2, sizeof want2);
    nn_vocab_free(v);

    /* the empty text: <unk> alone */
    v = nn_vocab_build("", 0, 0);
    assert_int_equal(v->size, 1);
    assert_int_equal(v->counts[0], 0);
    nn_vocab_free(v);
}

static void test_unknown_characters(void **state) {
    (void)state;
    nn_vocab *v = nn_vocab_build("abc", 3, 0);
    int ids[8];
    const char *text = "abxc好";
    assert_int_equal(nn_vocab_encode(v, text, strlen(text), ids, 8), 5);
    int want[] = {1, 2, NN_VOCAB_UNK, 3, NN_VOCAB_UNK};
    assert_memory_equal(ids, want, sizeof want);
    assert_int_equal(nn_vocab_id(v, 'x'), NN_VOCAB_UNK);
    char out[32];
    nn_vocab_decode(v, ids, 5, out, sizeof out);
    assert_string_equal(out, "ab\xef\xbf\xbd" "c\xef\xbf\xbd"); /* U+FFFD for <unk> */
    nn_vocab_free(v);
}

static void test_max_size(void **state) {
    (void)state;
    const char *text = "aaabbc好";
    nn_vocab *v = nn_vocab_build(text, strlen(text), 3); /* <unk>, a, b */
    assert_int_equal(v->size, 3);
    assert_int_equal(v->chars[1], 'a');
    assert_int_equal(v->chars[2], 'b');
    assert_int_equal(v->counts[0], 2); /* c and 好 became <unk> */
    int ids[8];
    assert_int_equal(nn_vocab_encode(v, text, strlen(text), ids, 8), 7);
    int want[] = {1, 1, 1, 2, 2, 0, 0};
    assert_memory_equal(ids, want, sizeof want);
    nn_vocab_free(v);

    v = nn_vocab_build(text, strlen(text), 2);
    assert_int_equal(v->size, 2);
    assert_int_equal(v->counts[0], 4);
    nn_vocab_free(v);
    v = nn_vocab_build(text, strlen(text), 1000); /* more room than characters */
    assert_int_equal(v->size, 5);
    assert_int_equal(v->counts[0], 0);
    nn_vocab_free(v);

    EXPECT_NN_ERROR(nn_vocab_build(text, 3, 1), "nn_vocab_build", "max_size = 1", "test_text.c");
    EXPECT_NN_ERROR(nn_vocab_build(text, 3, -5), "max_size = -5");
}

static void test_vocab_misuse(void **state) {
    (void)state;
    nn_vocab *v = nn_vocab_build("ab", 2, 0);
    int ids[] = {1, 99};
    char out[8];
    EXPECT_NN_ERROR(nn_vocab_decode(v, ids, 2, out, sizeof out), "nn_vocab_decode",
                    "ids[1] = 99", "ids 0 .. 2", "called at", "test_text.c");
    int neg = -1;
    EXPECT_NN_ERROR(nn_vocab_decode(v, &neg, 1, out, sizeof out), "ids[0] = -1");
    EXPECT_NN_ERROR(nn_vocab_decode(v, ids, -1, out, sizeof out), "n = -1");
    EXPECT_NN_ERROR(nn_vocab_decode(v, ids, 1, NULL, 8), "out NULL");
    EXPECT_NN_ERROR(nn_vocab_encode(NULL, "a", 1, NULL, 0), "nn_vocab_encode", "NULL");
    EXPECT_NN_ERROR(nn_vocab_encode(v, "a", 1, NULL, 4), "ids is NULL");
    EXPECT_NN_ERROR(nn_vocab_encode(v, NULL, 3, NULL, 0), "text is NULL");
    EXPECT_NN_ERROR(nn_vocab_build(NULL, 3, 0), "text is NULL");
    EXPECT_NN_ERROR(nn_vocab_id(NULL, 'a'), "nn_vocab_id");
    EXPECT_NN_ERROR(nn_vocab_save(NULL, "x.nnvc"), "nn_vocab_save", "vocabulary is NULL");
    EXPECT_NN_ERROR(nn_vocab_load(NULL), "nn_vocab_load", "path is NULL");
    EXPECT_NN_ERROR(nn_utf8_check(NULL, 2, NULL), "nn_utf8_check");
    nn_vocab_free(v);
    nn_vocab_free(NULL);
}

/* ---- vocabulary files ------------------------------------------------------------------- */

static void assert_same_vocab(const nn_vocab *a, const nn_vocab *b) {
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->chars, b->chars, (size_t)a->size * sizeof *a->chars);
    assert_memory_equal(a->counts, b->counts, (size_t)a->size * sizeof *a->counts);
}

static void test_vocab_file_round_trip(void **state) {
    (void)state;
    const char *text = "床前明月光，疑是地上霜。举头望明月，低头思故乡。Hello 😀 é";
    nn_vocab *v = nn_vocab_build(text, strlen(text), 20);
    assert_true(v->counts[0] > 0);
    const char *path = in_dir("poems.nnvc");
    assert_int_equal(nn_vocab_save(v, path), 0);
    assert_true(no_temp_left(path));
    size_t len;
    unsigned char *b = slurp(path, &len);
    assert_int_equal(len, 24 + 12 * 19);
    assert_memory_equal(b, "NNVC\x01\x00\x00\x00\x13\x00\x00\x00", 12);
    free(b);

    nn_vocab *w = nn_vocab_load(path);
    assert_non_null(w);
    assert_same_vocab(v, w);
    int a[64], c[64];
    int n = nn_vocab_encode(v, text, strlen(text), a, 64);
    assert_int_equal(nn_vocab_encode(w, text, strlen(text), c, 64), n);
    assert_memory_equal(a, c, (size_t)n * sizeof *a); /* the same ids: a checkpoint fits */
    nn_vocab_free(w);

    /* saving again replaces the file; <unk> alone round-trips too */
    nn_vocab *empty = nn_vocab_build("", 0, 0);
    assert_int_equal(nn_vocab_save(empty, path), 0);
    w = nn_vocab_load(path);
    assert_same_vocab(empty, w);
    nn_vocab_free(w);
    nn_vocab_free(empty);

    /* a folder that does not exist: an error, no file */
    assert_int_equal(nn_vocab_save(v, in_dir("no/such/dir/v.nnvc")), -1);
    EXPECT_LAST_ERROR("nn_vocab_save", "no/such/dir");
    nn_vocab_free(v);
}

/* The saved bytes of a small vocabulary ("aab" + "好": a 2, b 1, 好 1). */
static unsigned char *saved_vocab(size_t *len) {
    nn_vocab *v = nn_vocab_build("aab好", 6, 0);
    assert_int_equal(nn_vocab_save(v, in_dir("v.nnvc")), 0);
    nn_vocab_free(v);
    return slurp(in_dir("v.nnvc"), len);
}

/* Write b with its checksum recomputed, so that only the change itself is wrong. */
static void spit_with_crc(const char *path, unsigned char *b, size_t len) {
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int k = 0; k < 4; k++) b[len - 4 + k] = (unsigned char)(crc >> 8 * k);
    spit(path, b, len);
}

static void expect_refused(const char *path) {
    nn_vocab *v = nn_vocab_load(path);
    if (v) {
        nn_vocab_free(v);
        fail_msg("a damaged vocabulary file was accepted");
    }
    EXPECT_LAST_ERROR("nn_vocab_load", path);
}

static void test_vocab_file_damaged(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = saved_vocab(&len);
    assert_int_equal(len, 24 + 12 * 3);
    const char *bad = in_dir("bad.nnvc");

    /* every single flipped bit is refused, wherever it is */
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (unsigned char)(1 << bit);
            spit(bad, b, len);
            b[i] ^= (unsigned char)(1 << bit);
            expect_refused(bad);
        }
    b[30] ^= 0x40; /* a count: only the checksum can tell */
    spit(bad, b, len);
    b[30] ^= 0x40;
    expect_refused(bad);
    EXPECT_LAST_ERROR("checksum mismatch");
    b[len - 1] ^= 0x01; /* the checksum itself */
    spit(bad, b, len);
    b[len - 1] ^= 0x01;
    expect_refused(bad);
    EXPECT_LAST_ERROR("checksum");

    /* cut anywhere, or grown */
    for (size_t cut = 0; cut < len; cut++) {
        spit(bad, b, cut);
        expect_refused(bad);
        EXPECT_LAST_ERROR("truncated");
    }
    unsigned char *longer = malloc(len + 2);
    memcpy(longer, b, len);
    memcpy(longer + len, "xy", 2);
    spit(bad, longer, len + 2);
    expect_refused(bad);
    EXPECT_LAST_ERROR("2 unexpected byte(s)");
    free(longer);

    /* the header */
    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    memcpy(c, "NNCK", 4);
    spit(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("not a libnn vocabulary", "4e 4e 43 4b", "\"NNCK\"");
    memcpy(c, b, len);
    c[4] = 2;
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("version 2", "reads version 1");
    memcpy(c, b, len);
    c[8] = 0xff, c[9] = 0xff, c[10] = 0xff;
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("16777215 characters", "Unicode has only");
    memcpy(c, b, len);
    c[8] = 4;
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("truncated", "4 characters");

    /* the entries: offsets 20 (a), 32 (b), 44 (好); code points first, counts after */
    memcpy(c, b, len);
    c[34] = 0x11; /* b -> U+110062 */
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("entry 2", "U+110062", "not a character");
    memcpy(c, b, len);
    c[32] = 0x00, c[33] = 0xD8; /* b -> U+D800 */
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("U+D800", "not a character");
    memcpy(c, b, len);
    memcpy(c + 44, c + 20, 4); /* 好 -> a, a second time */
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("U+0061 twice");
    memcpy(c, b, len);
    c[24] = 1; /* a's count 2 -> 1: a (U+0061) now ties with b but is still first: fine */
    spit_with_crc(bad, c, len);
    nn_vocab *ok = nn_vocab_load(bad);
    assert_non_null(ok);
    nn_vocab_free(ok);
    memcpy(c, b, len);
    c[36] = 9; /* b's count 1 -> 9: more than a's */
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("entry 2", "out of frequency order");
    memcpy(c, b, len);
    memcpy(c + 32, c + 44, 4); /* b -> 好, and 好 -> b: a tie out of code point order */
    c[44] = 'b', c[45] = 0, c[46] = 0;
    spit_with_crc(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("entry 3", "U+0062", "out of frequency order");
    free(c);
    free(b);

    /* not a file at all */
    assert_null(nn_vocab_load(in_dir("missing.nnvc")));
    EXPECT_LAST_ERROR("cannot open", "missing.nnvc");
    assert_null(nn_vocab_load(dir));
    EXPECT_LAST_ERROR("Is a directory");
    /* larger than any vocabulary: refused from its size, unread (a sparse file) */
    int fd = open(in_dir("huge.nnvc"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 30), 0);
    close(fd);
    assert_null(nn_vocab_load(in_dir("huge.nnvc")));
    EXPECT_LAST_ERROR("too large", "1073741824 bytes");
}

/* ---- corpora ----------------------------------------------------------------------------- */

static void test_text_file(void **state) {
    (void)state;
    const char body[] = "\xEF\xBB\xBF" "床前明月光，\r\n疑是地上霜。\r\nend\r";
    spit(in_dir("poem.txt"), body, sizeof body - 1);
    nn_corpus *c = nn_text_load(in_dir("poem.txt"));
    assert_non_null(c);
    assert_string_equal(c->text, "床前明月光，\n疑是地上霜。\nend\r"); /* a lone \r stays */
    assert_int_equal(c->bytes, strlen(c->text));
    assert_int_equal(c->chars, 6 + 1 + 6 + 1 + 4);
    assert_int_equal(c->n_entries, 1);
    assert_int_equal(c->entries[0].start, 0);
    assert_int_equal(c->entries[0].bytes, c->bytes);
    nn_corpus_free(c);
    nn_corpus_free(NULL);

    spit(in_dir("empty.txt"), "", 0);
    assert_null(nn_text_load(in_dir("empty.txt")));
    EXPECT_LAST_ERROR("nn_text_load", "empty.txt", "is empty");
    spit(in_dir("bom.txt"), "\xEF\xBB\xBF", 3);
    assert_null(nn_text_load(in_dir("bom.txt")));
    EXPECT_LAST_ERROR("no text", "byte order mark");
    const char latin1[] = "caf\xe9 au lait\nna\xefve"; /* Latin-1, not UTF-8 */
    spit(in_dir("latin1.txt"), latin1, sizeof latin1 - 1);
    assert_null(nn_text_load(in_dir("latin1.txt")));
    EXPECT_LAST_ERROR("latin1.txt", "not valid UTF-8", "byte 3 (line 1)", "0xe9");
    const char utf16[] = "\xff\xfe" "a\0b\0"; /* what Windows Notepad calls "Unicode" */
    spit(in_dir("utf16.txt"), utf16, sizeof utf16 - 1);
    assert_null(nn_text_load(in_dir("utf16.txt")));
    EXPECT_LAST_ERROR("is UTF-16", "ff fe", "save it as UTF-8");
    const char nul[] = "ab\ncd\0ef"; /* valid UTF-8, but not text */
    spit(in_dir("nul.txt"), nul, sizeof nul - 1);
    assert_null(nn_text_load(in_dir("nul.txt")));
    EXPECT_LAST_ERROR("not text", "byte 5 (line 2) is NUL");
    assert_null(nn_text_load(in_dir("missing.txt")));
    EXPECT_LAST_ERROR("cannot open", "missing.txt");
    assert_null(nn_text_load(dir));
    EXPECT_LAST_ERROR("Is a directory");

    /* one byte over the limit: refused from its size, without being read */
    int fd = open(in_dir("huge.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)NN_TEXT_MAX_BYTES + 1), 0);
    close(fd);
    double t0 = nn_seconds();
    assert_null(nn_text_load(in_dir("huge.txt")));
    EXPECT_LAST_ERROR("too large", "268435457 bytes", "NN_TEXT_MAX_BYTES");
    assert_true(nn_seconds() - t0 < 1.0);
    EXPECT_NN_ERROR(nn_text_load(NULL), "nn_text_load", "path is NULL");
}

/* A fake fortunes file in the format of Debian's tang300 and song100: coloured title and
 * author lines, "%" lines between entries (one with trailing spaces, one with \r\n), an empty
 * entry, blank lines, a line that starts with "%" but is text, colour codes inside a line, a
 * broken escape, and a last entry with no "%" or newline after it. */
static const char fortunes[] =
    "\x1b[32m《静夜思》\x1b[m\n"
    "\x1b[33m作者：李白\x1b[m\n"
    "床前明月光，疑是地上霜。\n"
    "举头望明月，低头思故乡。\n"
    "%\n"
    "\x1b[32m题目:《塞上》\x1b[m\n"
    "\x1b[33m作者:柳开（９４６－９９９）\x1b[m\n"
    "\n"
    "    其一\n"
    "鸣骹直上一千尺，\x1b[1;31m天静\x1b[m无风声更干。\n"
    "\n"
    "%    \n"
    "%\n"
    "\n"
    "A day for firm decisions!!!!!  Or is it?\n"
    "%not a separator\n"
    "\n"
    "\n"
    "%\r\n"
    "broken \x1b[;\x1b[34;1mmescape\x1b and lone\n"
    "%\n"
    "last line";

static const char *const entries_kept[] = {
    "《静夜思》\n作者：李白\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n",
    "题目:《塞上》\n作者:柳开（９４６－９９９）\n\n    其一\n鸣骹直上一千尺，天静无风声更干。\n",
    "A day for firm decisions!!!!!  Or is it?\n%not a separator\n",
    "broken mescape and lone\n",
    "last line\n",
};

/* The corpus holds exactly these entries, joined by sep. */
static void assert_entries(const nn_corpus *c, const char *const *want, int n, const char *sep) {
    assert_int_equal(c->n_entries, n);
    char joined[2048] = "";
    for (int i = 0; i < n; i++) {
        if (i) strcat(joined, sep);
        const nn_corpus_entry *e = &c->entries[i];
        if (e->bytes != strlen(want[i]) || memcmp(c->text + e->start, want[i], e->bytes))
            fail_msg("entry %d is \"%.*s\", want \"%s\"", i, (int)e->bytes,
                     c->text + e->start, want[i]);
        strcat(joined, want[i]);
    }
    assert_string_equal(c->text, joined);
    assert_int_equal(c->bytes, strlen(joined));
    int chars = 0;
    for (size_t i = 0; i < c->bytes; chars++) {
        int k = nn_utf8_decode(joined + i, strlen(joined) - i, NULL);
        assert_true(k > 0);
        i += (size_t)k;
    }
    assert_int_equal(c->chars, chars);
    assert_int_equal(nn_utf8_check(c->text, c->bytes, NULL), 0);
    assert_null(memchr(c->text, 0x1b, c->bytes)); /* no escape byte left */
}

static void test_fortunes(void **state) {
    (void)state;
    const char *path = in_dir("tang");
    spit(path, fortunes, sizeof fortunes - 1);

    nn_corpus *c = nn_fortunes_load(path, NULL); /* titles kept, "\n" between entries */
    assert_non_null(c);
    assert_entries(c, entries_kept, 5, "\n");
    nn_corpus_free(c);

    nn_fortunes_options drop = {.drop_titles = true};
    c = nn_fortunes_load(path, &drop);
    const char *const dropped[] = {
        "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n",
        "    其一\n鸣骹直上一千尺，天静无风声更干。\n",
        entries_kept[2], entries_kept[3], entries_kept[4],
    };
    assert_entries(c, dropped, 5, "\n");
    nn_corpus_free(c);

    nn_fortunes_options two = {.drop_titles = true, .max_entries = 2, .separator = "%\n"};
    c = nn_fortunes_load(path, &two);
    assert_entries(c, dropped, 2, "%\n");
    nn_corpus_free(c);

    /* the whole chain: corpus -> vocabulary -> ids -> text again */
    c = nn_fortunes_load(path, &drop);
    nn_vocab *v = nn_vocab_build(c->text, c->bytes, 0);
    int *ids = malloc((size_t)c->chars * sizeof *ids);
    assert_int_equal(nn_vocab_encode(v, c->text, c->bytes, ids, (size_t)c->chars), c->chars);
    char *back = malloc(c->bytes + 1);
    assert_int_equal(nn_vocab_decode(v, ids, c->chars, back, c->bytes + 1), (int)c->bytes);
    assert_string_equal(back, c->text);
    free(back);
    free(ids);
    nn_vocab_free(v);
    nn_corpus_free(c);
}

static void test_fortunes_refused(void **state) {
    (void)state;
    const char only[] = "%\n\n%\n   \n%";
    spit(in_dir("only"), only, sizeof only - 1);
    assert_null(nn_fortunes_load(in_dir("only"), NULL));
    EXPECT_LAST_ERROR("nn_fortunes_load", "no entries");
    const char titles[] = "\x1b[32m《题》\x1b[m\n\x1b[33m作者：某\x1b[m\n%\n";
    spit(in_dir("titles"), titles, sizeof titles - 1);
    nn_fortunes_options drop = {.drop_titles = true};
    assert_null(nn_fortunes_load(in_dir("titles"), &drop));
    EXPECT_LAST_ERROR("no entries", "drop_titles");
    nn_corpus *c = nn_fortunes_load(in_dir("titles"), NULL); /* kept, they are text */
    assert_string_equal(c->text, "《题》\n作者：某\n");
    nn_corpus_free(c);
    const char bad[] = "好\n%\n\xe5\xba\n";
    spit(in_dir("bad"), bad, sizeof bad - 1);
    assert_null(nn_fortunes_load(in_dir("bad"), NULL));
    EXPECT_LAST_ERROR("not valid UTF-8", "byte 6 (line 3)", "0xe5 0xba");
    spit(in_dir("empty"), "", 0);
    assert_null(nn_fortunes_load(in_dir("empty"), NULL));
    EXPECT_LAST_ERROR("is empty");
    nn_fortunes_options sep = {.separator = "\xe5\n"};
    EXPECT_NN_ERROR(nn_fortunes_load(in_dir("bad"), &sep), "separator is not valid UTF-8",
                    "byte 0");
    nn_fortunes_options neg = {.max_entries = -1};
    EXPECT_NN_ERROR(nn_fortunes_load(in_dir("bad"), &neg), "nn_fortunes_load", "max_entries");
}

/* ---- splits and batches ----------------------------------------------------------------- */

static void test_split(void **state) {
    (void)state;
    int ids[10];
    for (int i = 0; i < 10; i++) ids[i] = i;
    nn_token_span train, val;
    assert_int_equal(nn_text_split(ids, 10, 0.2, &train, &val), 0);
    assert_ptr_equal(train.ids, ids);
    assert_int_equal(train.n, 8);
    assert_ptr_equal(val.ids, ids + 8); /* the last part, by position */
    assert_int_equal(val.n, 2);
    nn_text_split(ids, 10, 0.25, &train, &val); /* 2.5 rounds up */
    assert_int_equal(val.n, 3);
    nn_text_split(ids, 10, 0.01, &train, &val); /* at least one pair each side */
    assert_int_equal(val.n, 2);
    nn_text_split(ids, 10, 0.99, &train, &val);
    assert_int_equal(train.n, 2);
    assert_int_equal(val.n, 8);
    EXPECT_NN_ERROR(nn_text_split(ids, 10, 0.0, &train, &val), "nn_text_split",
                    "val_fraction = 0");
    EXPECT_NN_ERROR(nn_text_split(ids, 10, 1.0, &train, &val), "val_fraction = 1");
    EXPECT_NN_ERROR(nn_text_split(ids, 10, NAN, &train, &val), "val_fraction");
    EXPECT_NN_ERROR(nn_text_split(ids, 3, 0.5, &train, &val), "n = 3");
    EXPECT_NN_ERROR(nn_text_split(NULL, 10, 0.5, &train, &val), "ids is NULL");
}

static void test_random_batch(void **state) {
    (void)state;
    enum { N = 50, B = 6, T = 7 };
    int ids[N];
    for (int i = 0; i < N; i++) ids[i] = 1000 + i; /* an id tells its position */
    int x[B * T], y[B * T], x2[B * T], y2[B * T];
    nn_rng a, b;
    nn_rng_seed(&a, 99);
    nn_rng_seed(&b, 99);
    for (int round = 0; round < 20; round++) {
        assert_int_equal(nn_text_random_batch(ids, N, B, T, &a, x, y), 0);
        assert_int_equal(nn_text_random_batch(ids, N, B, T, &b, x2, y2), 0);
        assert_memory_equal(x, x2, sizeof x); /* same seed, same batch */
        assert_memory_equal(y, y2, sizeof y);
        for (int r = 0; r < B; r++) {
            int s = x[r * T] - 1000;
            assert_true(s >= 0 && s + T < N); /* the target of the last input is inside */
            for (int t = 0; t < T; t++) {
                assert_int_equal(x[r * T + t], ids[s + t]); /* a window */
                assert_int_equal(y[r * T + t], ids[s + t + 1]); /* shifted by one */
            }
        }
    }
    nn_rng_seed(&b, 100);
    nn_text_random_batch(ids, N, B, T, &b, x2, y2);
    assert_memory_not_equal(x, x2, sizeof x);

    /* NULL: the global generator, seeded by nn_seed */
    nn_seed(5);
    nn_text_random_batch(ids, N, B, T, NULL, x, y);
    nn_seed(5);
    nn_text_random_batch(ids, N, B, T, NULL, x2, y2);
    assert_memory_equal(x, x2, sizeof x);

    /* n = T + 3: every start 0 .. 2 is drawn, no other */
    int seen[3] = {0};
    for (int k = 0; k < 200; k++) {
        nn_text_random_batch(ids, T + 3, 1, T, &a, x, y);
        int s = x[0] - 1000;
        assert_true(s >= 0 && s <= 2);
        seen[s]++;
    }
    assert_true(seen[0] && seen[1] && seen[2]);
    assert_int_equal(nn_text_random_batch(ids, T + 1, B, T, &a, x, y), 0); /* just enough */

    EXPECT_NN_ERROR(nn_text_random_batch(ids, T, B, T, &a, x, y), "nn_text_random_batch",
                    "n = 7 ids, T = 7");
    EXPECT_NN_ERROR(nn_text_random_batch(ids, N, 1, INT32_MAX, &a, x, y), "T = 2147483647");
    EXPECT_NN_ERROR(nn_text_random_batch(ids, N, 2, INT32_MAX, &a, x, y), "B = 2");
    EXPECT_NN_ERROR(nn_text_random_batch(ids, N, 0, T, &a, x, y), "B = 0");
    EXPECT_NN_ERROR(nn_text_random_batch(ids, N, B, 0, &a, x, y), "T = 0");
    EXPECT_NN_ERROR(nn_text_random_batch(ids, N, B, T, &a, NULL, y), "inputs is NULL");
}

static void test_stream_picture(void **state) {
    (void)state;
    /* the picture in text_batch.h: n = 17, B = 4, T = 2 */
    int ids[17];
    for (int i = 0; i < 17; i++) ids[i] = 'a' + i;
    nn_text_stream s;
    assert_int_equal(nn_text_stream_init(&s, ids, 17, 4, 2), 0);
    assert_int_equal(s.len, 4);
    assert_int_equal(s.chunks, 2);
    int x[8], y[8];
    assert_int_equal(nn_text_stream_next(&s, x, y), 2);
    int x0[] = {'a', 'b', 'e', 'f', 'i', 'j', 'm', 'n'};
    int y0[] = {'b', 'c', 'f', 'g', 'j', 'k', 'n', 'o'};
    assert_memory_equal(x, x0, sizeof x0);
    assert_memory_equal(y, y0, sizeof y0);
    assert_int_equal(nn_text_stream_next(&s, x, y), 2);
    int x1[] = {'c', 'd', 'g', 'h', 'k', 'l', 'o', 'p'};
    int y1[] = {'d', 'e', 'h', 'i', 'l', 'm', 'p', 'q'};
    assert_memory_equal(x, x1, sizeof x1);
    assert_memory_equal(y, y1, sizeof y1);
    assert_int_equal(nn_text_stream_next(&s, x, y), 0); /* the epoch is over */
    assert_int_equal(nn_text_stream_reset(&s), 0);
    assert_int_equal(nn_text_stream_next(&s, x, y), 2);
    assert_memory_equal(x, x0, sizeof x0);
}

/* Chunks continue each other exactly: row b, read chunk after chunk, is stream b, and every
 * chunk starts with the target of the chunk before's last input. The last chunk is short. */
static void test_stream_chunks_continue(void **state) {
    (void)state;
    enum { N = 1000, B = 7, T = 10 };
    int *ids = malloc(N * sizeof *ids);
    for (int i = 0; i < N; i++) ids[i] = i;
    nn_text_stream s;
    assert_int_equal(nn_text_stream_init(&s, ids, N, B, T), 0);
    const int L = (N - 1) / B; /* 142: 14 chunks of 10, then one of 2 */
    assert_int_equal(s.len, L);
    assert_int_equal(s.chunks, 15);
    int x[B * T], y[B * T], last_target[B], t, chunk = 0, pos = 0;
    while ((t = nn_text_stream_next(&s, x, y)) > 0) {
        assert_int_equal(t, chunk < 14 ? T : 2);
        for (int b = 0; b < B; b++) {
            if (chunk > 0) assert_int_equal(x[b * t], last_target[b]); /* carries on */
            for (int j = 0; j < t; j++) {
                assert_int_equal(x[b * t + j], ids[b * L + pos + j]);
                assert_int_equal(y[b * t + j], x[b * t + j] + 1);
            }
            last_target[b] = y[b * t + t - 1];
        }
        pos += t;
        chunk++;
    }
    assert_int_equal(chunk, 15);
    assert_int_equal(pos, L);
    assert_int_equal(last_target[B - 1], B * L); /* the last id used */

    /* a sum carried across chunks, as a hidden state would be, equals the sum over streams */
    nn_text_stream_reset(&s);
    long carried[B] = {0};
    while ((t = nn_text_stream_next(&s, x, y)) > 0)
        for (int b = 0; b < B; b++)
            for (int j = 0; j < t; j++) carried[b] += x[b * t + j];
    for (int b = 0; b < B; b++) {
        long want = 0;
        for (int j = 0; j < L; j++) want += ids[b * L + j];
        assert_int_equal(carried[b], want);
    }

    /* a stream per id: B = n - 1, each row one input */
    assert_int_equal(nn_text_stream_init(&s, ids, 5, 4, 3), 0);
    assert_int_equal(nn_text_stream_next(&s, x, y), 1);
    int one_x[] = {0, 1, 2, 3}, one_y[] = {1, 2, 3, 4};
    assert_memory_equal(x, one_x, sizeof one_x);
    assert_memory_equal(y, one_y, sizeof one_y);
    assert_int_equal(nn_text_stream_next(&s, x, y), 0);

    EXPECT_NN_ERROR(nn_text_stream_init(&s, ids, 4, 4, 3), "nn_text_stream_init",
                    "n = 4 ids for B = 4 rows");
    EXPECT_NN_ERROR(nn_text_stream_init(&s, ids, N, B, 0), "T = 0");
    EXPECT_NN_ERROR(nn_text_stream_init(&s, ids, INT32_MIN, B, T), "n = -2147483648");
    EXPECT_NN_ERROR(nn_text_stream_init(NULL, ids, N, B, T), "s is NULL");
    nn_text_stream blank = {0};
    EXPECT_NN_ERROR(nn_text_stream_next(&blank, x, y), "nn_text_stream_next", "not set up");
    EXPECT_NN_ERROR(nn_text_stream_next(&s, NULL, y), "inputs is NULL");
    EXPECT_NN_ERROR(nn_text_stream_reset(&blank), "nn_text_stream_reset");
    free(ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_utf8_every_code_point),
        NN_TEST(test_utf8_every_sequence),
        NN_TEST(test_utf8_invalid_cases),
        NN_TEST(test_utf8_random_bytes),
        NN_TEST(test_round_trip_mixed),
        NN_TEST(test_frequency_order_and_ties),
        NN_TEST(test_unknown_characters),
        NN_TEST(test_max_size),
        NN_TEST(test_vocab_misuse),
        IO_TEST(test_vocab_file_round_trip),
        IO_TEST(test_vocab_file_damaged),
        IO_TEST(test_text_file),
        IO_TEST(test_fortunes),
        IO_TEST(test_fortunes_refused),
        NN_TEST(test_split),
        NN_TEST(test_random_batch),
        NN_TEST(test_stream_picture),
        NN_TEST(test_stream_chunks_continue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
