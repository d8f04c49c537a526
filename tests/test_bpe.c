/* tests/test_bpe.c — the byte-pair-encoding tokenizer (nn/data/bpe.h): the textbook example
 * merge by merge, training against a slow reference written from the definition (the same
 * merges, the same final tokens), encoding = what training produced, round trips on Chinese
 * and English with line breaks, <unk>, invalid UTF-8, misuse, and the NNBP file (round trip,
 * every damaged file refused). Small inline texts only. */
#include "testing.h"
#include "scratch_dir.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

static const char poems[] =
    "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"
    "春眠不觉晓，处处闻啼鸟。\n夜来风雨声，花落知多少。\n"
    "The moon is bright. The moon is high.\nThe night is long, the night is still.\n"
    "明月几时有？把酒问青天。\n明月松间照，清泉石上流。\n";

/* ---- a reference from the definition ------------------------------------------------------- */

/* The textbook loop, slowly: count every pair of neighbours (overlapping, never with "\n"),
 * take the most frequent (ties: the smallest left id, then right id), replace it left to
 * right; repeat while a pair occurs twice and there is room. tok[0 .. *n) holds the base ids
 * and ends holding the final tokens. Returns the number of merges written to out[]. */
static int reference_train(int *tok, int *n, int base, int newline, int vocab_size,
                           nn_bpe_merge *out) {
    int size = base, k = 0;
    long *count = calloc((size_t)vocab_size * (size_t)vocab_size, sizeof *count);
    assert_non_null(count);
    while (size < vocab_size) {
        memset(count, 0, (size_t)size * (size_t)size * sizeof *count);
        for (int i = 0; i + 1 < *n; i++)
            if (tok[i] != newline && tok[i + 1] != newline) count[tok[i] * size + tok[i + 1]]++;
        long best = 1;
        int a = -1, b = -1;
        for (int l = 1; l < size; l++)       /* in (left, right) order, so ties go to the */
            for (int r = 1; r < size; r++)   /* first one met */
                if (count[l * size + r] > best) best = count[l * size + r], a = l, b = r;
        if (a < 0) break;
        out[k++] = (nn_bpe_merge){a, b, (uint64_t)best};
        int w = 0;
        for (int i = 0; i < *n; i++) {
            if (i + 1 < *n && tok[i] == a && tok[i + 1] == b) tok[w++] = size, i++;
            else tok[w++] = tok[i];
        }
        *n = w;
        size++;
    }
    free(count);
    return k;
}

/* Replay bpe's merges on tok[0 .. *n) in rank order, each everywhere, left to right. */
static void reference_encode(const nn_bpe *bpe, int *tok, int *n) {
    for (int k = 0; k < bpe->n_merges; k++) {
        int a = bpe->merges[k].left, b = bpe->merges[k].right, w = 0;
        for (int i = 0; i < *n; i++) {
            if (i + 1 < *n && tok[i] == a && tok[i + 1] == b) tok[w++] = bpe->chars->size + k, i++;
            else tok[w++] = tok[i];
        }
        *n = w;
    }
}

/* text as base ids (the characters, by bpe's alphabet); the caller frees. */
static int *base_ids(const nn_bpe *bpe, const char *text, int *n) {
    size_t len = strlen(text);
    *n = nn_vocab_encode(bpe->chars, text, len, NULL, 0);
    int *ids = malloc(((size_t)*n + 1) * sizeof *ids);
    assert_non_null(ids);
    assert_int_equal(nn_vocab_encode(bpe->chars, text, len, ids, (size_t)*n), *n);
    return ids;
}

/* text encoded, into a new array; the caller frees. */
static int *encode(const nn_bpe *bpe, const char *text, int *n) {
    size_t len = strlen(text);
    *n = nn_bpe_encode(bpe, text, len, NULL, 0);
    assert_true(*n >= 0);
    int *ids = malloc(((size_t)*n + 1) * sizeof *ids);
    assert_non_null(ids);
    assert_int_equal(nn_bpe_encode(bpe, text, len, ids, (size_t)*n), *n);
    return ids;
}

/* The size of text's alphabet, <unk> included: the smallest vocab_size it trains to. */
static int alphabet(const char *text) {
    nn_vocab *v = nn_vocab_build(text, strlen(text), 0);
    int size = v->size;
    nn_vocab_free(v);
    return size;
}

/* Training on text to `extra` ids more than its alphabet gives the reference's merges, and
 * encoding text gives the reference's final tokens. */
static void check_against_reference(const char *text, int extra) {
    int vocab_size = alphabet(text) + extra;
    nn_bpe *bpe = nn_bpe_train(text, strlen(text), vocab_size);
    assert_non_null(bpe);
    nn_vocab *v = nn_vocab_build(text, strlen(text), 0); /* the alphabet is nn_vocab's */
    assert_int_equal(bpe->chars->size, v->size);
    assert_memory_equal(bpe->chars->chars, v->chars, (size_t)v->size * sizeof *v->chars);
    nn_vocab_free(v);

    int n, m;
    int *tok = base_ids(bpe, text, &n);
    nn_bpe_merge *want = calloc((size_t)vocab_size + 1, sizeof *want);
    int k = reference_train(tok, &n, bpe->chars->size, nn_vocab_id(bpe->chars, '\n'), vocab_size,
                            want);
    assert_int_equal(bpe->n_merges, k);
    assert_int_equal(bpe->size, bpe->chars->size + k);
    for (int i = 0; i < k; i++)
        if (bpe->merges[i].left != want[i].left || bpe->merges[i].right != want[i].right ||
            bpe->merges[i].count != want[i].count)
            fail_msg("merge %d: (%d, %d) x%llu, the reference (%d, %d) x%llu", i,
                     bpe->merges[i].left, bpe->merges[i].right,
                     (unsigned long long)bpe->merges[i].count, want[i].left, want[i].right,
                     (unsigned long long)want[i].count);
    int *got = encode(bpe, text, &m);
    assert_int_equal(m, n);
    assert_memory_equal(got, tok, (size_t)n * sizeof *tok);
    free(got);
    free(want);
    free(tok);
    nn_bpe_free(bpe);
}

/* ---- training ---------------------------------------------------------------------------- */

/* The example of the header comment, merge by merge. */
static void test_textbook_example(void **state) {
    (void)state;
    const char *text = "aaabdaaabac";
    nn_bpe *bpe = nn_bpe_train(text, strlen(text), 100);
    assert_non_null(bpe);
    assert_int_equal(nn_bpe_size(bpe), 8); /* <unk> a b c d, aa ab aaab: then no pair twice */
    assert_int_equal(bpe->chars->size, 5);
    uint32_t chars[] = {0, 'a', 'b', 'c', 'd'}; /* a 7, b 2, then c and d once each */
    assert_memory_equal(bpe->chars->chars, chars, sizeof chars);
    assert_int_equal(bpe->n_merges, 3);
    nn_bpe_merge want[] = {{1, 1, 4}, {1, 2, 2}, {5, 6, 2}}; /* aa (4: runs overlap), ab, aaab */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(bpe->merges[k].left, want[k].left);
        assert_int_equal(bpe->merges[k].right, want[k].right);
        assert_int_equal(bpe->merges[k].count, want[k].count);
    }
    const char *strings[] = {"\xef\xbf\xbd", "a", "b", "c", "d", "aa", "ab", "aaab"};
    for (int id = 0; id < 8; id++) {
        size_t len = 99;
        assert_string_equal(nn_bpe_token(bpe, id, &len), strings[id]);
        assert_int_equal(len, strlen(strings[id]));
    }
    int ids[16];
    assert_int_equal(nn_bpe_encode(bpe, text, strlen(text), ids, 16), 5);
    int tokens[] = {7, 4, 7, 1, 3}; /* aaab d aaab a c */
    assert_memory_equal(ids, tokens, sizeof tokens);
    char out[32];
    assert_int_equal(nn_bpe_decode(bpe, ids, 5, out, sizeof out), (int)strlen(text));
    assert_string_equal(out, text);
    /* a run: "aaa" -> aa a, left to right, as training replaced it */
    assert_int_equal(nn_bpe_encode(bpe, "aaaaa", 5, ids, 16), 3);
    int run[] = {5, 5, 1};
    assert_memory_equal(ids, run, sizeof run);
    nn_bpe_free(bpe);

    /* the vocabulary size stops it earlier: exactly the first merges */
    for (int size = 5; size <= 8; size++) {
        bpe = nn_bpe_train(text, strlen(text), size);
        assert_int_equal(bpe->size, size);
        assert_int_equal(bpe->n_merges, size - 5);
        if (size == 6) assert_string_equal(nn_bpe_token(bpe, 5, NULL), "aa");
        nn_bpe_free(bpe);
    }
}

static void test_matches_reference(void **state) {
    (void)state;
    check_against_reference("aaabdaaabac", 100);
    check_against_reference(poems, 20);
    check_against_reference(poems, 400); /* until no pair occurs twice */
    check_against_reference("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab\naaaaaaa\nabababababa", 30);
    check_against_reference("abab\nabab\n\n\nab\nba", 30);
    /* random lines over a small alphabet: many ties to break */
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    static const char *pieces[] = {"a", "b", "c", "明", "月", " ", "\n", "ab"};
    char text[1200];
    for (int trial = 0; trial < 6; trial++) {
        size_t len = 0;
        while (len < sizeof text - 8) {
            const char *p = pieces[nn_rng_int(&rng, 8)];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        text[len] = 0;
        check_against_reference(text, 30 + 20 * trial);
    }
}

/* Lines of random syllables (seeded): many pairs tie, and many merges get learned. */
static char *syllables(int lines) {
    static const char *pieces[] = {"ma", "na", "ka", "明", "月", "光", "ng", " "};
    nn_rng rng;
    nn_rng_seed(&rng, 5);
    char *text = malloc((size_t)lines * 64 + 1);
    size_t len = 0;
    for (int l = 0; l < lines; l++) {
        for (int w = nn_rng_int(&rng, 12) + 3; w > 0; w--) {
            const char *p = pieces[nn_rng_int(&rng, 8)];
            memcpy(text + len, p, strlen(p));
            len += strlen(p);
        }
        text[len++] = '\n';
    }
    text[len] = 0;
    return text;
}

static void test_deterministic(void **state) {
    (void)state;
    char *text = syllables(300);
    int base = alphabet(text);
    nn_bpe *a = nn_bpe_train(text, strlen(text), base + 400);
    nn_bpe *b = nn_bpe_train(text, strlen(text), base + 400);
    assert_int_equal(a->size, b->size);
    assert_true(a->n_merges > 150 && a->size < base + 400); /* until no pair occurs twice */
    assert_memory_equal(a->merges, b->merges, (size_t)a->n_merges * sizeof *a->merges);
    nn_bpe *c = nn_bpe_train(text, strlen(text), base + 50); /* smaller: the same first ones */
    assert_int_equal(c->n_merges, 50);
    assert_memory_equal(a->merges, c->merges, (size_t)c->n_merges * sizeof *c->merges);
    for (int k = 1; k < a->n_merges; k++) /* counts never grow */
        assert_true(a->merges[k].count <= a->merges[k - 1].count);
    nn_bpe_free(a);
    nn_bpe_free(b);
    nn_bpe_free(c);
    check_against_reference(text, 150); /* and they are the textbook's merges */
    free(text);
}

/* ---- encoding and decoding ------------------------------------------------------------------ */

static void test_round_trip_mixed(void **state) {
    (void)state;
    nn_bpe *bpe = nn_bpe_train(poems, strlen(poems), alphabet(poems) + 200);
    int chars = nn_vocab_encode(bpe->chars, poems, strlen(poems), NULL, 0), n;
    int *ids = encode(bpe, poems, &n);
    assert_true(n < chars * 3 / 4); /* fewer tokens than characters */
    char *out = malloc(sizeof poems);
    assert_int_equal(nn_bpe_decode(bpe, ids, n, out, sizeof poems), (int)strlen(poems));
    assert_string_equal(out, poems);
    /* tokens lie within lines: "\n" is a token of its own, no other token holds one */
    int newline = nn_vocab_id(bpe->chars, '\n'), lines = 0;
    assert_true(newline > 0);
    assert_string_equal(nn_bpe_token(bpe, newline, NULL), "\n");
    for (int id = 0; id < bpe->size; id++)
        if (id != newline && strchr(nn_bpe_token(bpe, id, NULL), '\n'))
            fail_msg("token %d \"%s\" spans a line break", id, nn_bpe_token(bpe, id, NULL));
    for (int i = 0; i < n; i++) lines += ids[i] == newline;
    assert_int_equal(lines, 8);
    /* 明月 occurs 4 times: it has become one token */
    int k;
    int *moon = encode(bpe, "明月", &k);
    assert_int_equal(k, 1);
    assert_string_equal(nn_bpe_token(bpe, moon[0], NULL), "明月");
    free(moon);

    /* another text, with line breaks in new places, round-trips too */
    const char other[] = "明月光\n\nThe moon，the night。\n疑是";
    int *o = encode(bpe, other, &k);
    assert_int_equal(nn_bpe_decode(bpe, o, k, out, sizeof poems), (int)strlen(other));
    assert_string_equal(out, other);
    free(o);
    free(out);
    free(ids);
    nn_bpe_free(bpe);
}

/* Encoding any text = replaying the merges by rank (what training does to its text). */
static void test_encode_replays_merges(void **state) {
    (void)state;
    nn_bpe *bpe = nn_bpe_train(poems, strlen(poems), alphabet(poems) + 150);
    const char *texts[] = {poems, "明月明月明月，The moon\nis", "床床床前前前", "", "a",
                           "思故乡。\n举头望明月，低头思故乡。春眠"};
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        int n, m;
        int *want = base_ids(bpe, texts[t], &n);
        reference_encode(bpe, want, &n);
        int *got = encode(bpe, texts[t], &m);
        assert_int_equal(m, n);
        if (n) assert_memory_equal(got, want, (size_t)n * sizeof *got);
        free(got);
        free(want);
    }
    nn_bpe_free(bpe);
}

static void test_unknown_characters(void **state) {
    (void)state;
    nn_bpe *bpe = nn_bpe_train("abab abab", 9, 100);
    const char *text = "ab好abxab"; /* 好 and x: not in the alphabet */
    int ids[16];
    int n = nn_bpe_encode(bpe, text, strlen(text), ids, 16);
    assert_int_equal(n, 5);
    int ab = ids[0];
    assert_string_equal(nn_bpe_token(bpe, ab, NULL), "ab");
    int want[] = {ab, NN_VOCAB_UNK, ab, NN_VOCAB_UNK, ab};
    assert_memory_equal(ids, want, sizeof want);
    char out[32];
    assert_int_equal(nn_bpe_decode(bpe, ids, n, out, sizeof out), 2 + 3 + 2 + 3 + 2);
    assert_string_equal(out, "ab\xef\xbf\xbd" "ab\xef\xbf\xbd" "ab"); /* U+FFFD for <unk> */
    nn_bpe_free(bpe);
}

static void test_decode_buffers(void **state) {
    (void)state;
    const char *text = "明月光明月光";
    nn_bpe *bpe = nn_bpe_train(text, strlen(text), 10);
    int ids[8];
    int n = nn_bpe_encode(bpe, text, strlen(text), ids, 8);
    assert_int_equal(n, 2); /* 明月光 twice */
    char out[32];
    size_t len = strlen(text);
    /* whole characters only, and always the length of the whole text */
    for (size_t size = 0; size <= len + 1; size++) {
        memset(out, 'x', sizeof out);
        assert_int_equal(nn_bpe_decode(bpe, ids, n, size ? out : NULL, size), (int)len);
        if (size == 0) continue;
        size_t whole = (size - 1) / 3 * 3; /* every character here takes 3 bytes */
        assert_int_equal(strlen(out), whole);
        assert_memory_equal(out, text, whole);
    }
    assert_int_equal(nn_bpe_decode(bpe, ids, 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(nn_bpe_encode(bpe, text, strlen(text), ids, 1), 2); /* cap: 1 written */
    nn_bpe_free(bpe);

    /* a NUL is a character like any other: the length tells where a token ends */
    const char nul[] = "a\0b a\0b";
    bpe = nn_bpe_train(nul, sizeof nul - 1, 20);
    n = nn_bpe_encode(bpe, nul, sizeof nul - 1, ids, 8);
    assert_int_equal(n, 3);
    size_t k;
    assert_memory_equal(nn_bpe_token(bpe, ids[0], &k), "a\0b", 4);
    assert_int_equal(k, 3);
    assert_int_equal(nn_bpe_decode(bpe, ids, n, out, sizeof out), 7);
    assert_memory_equal(out, nul, sizeof nul);
    nn_bpe_free(bpe);
}

static void test_small_texts(void **state) {
    (void)state;
    nn_bpe *bpe = nn_bpe_train("", 0, 1); /* <unk> alone */
    assert_int_equal(bpe->size, 1);
    int ids[4];
    assert_int_equal(nn_bpe_encode(bpe, "", 0, ids, 4), 0);
    assert_int_equal(nn_bpe_encode(bpe, "xy", 2, ids, 4), 2);
    assert_int_equal(ids[0], NN_VOCAB_UNK);
    assert_int_equal(ids[1], NN_VOCAB_UNK);
    nn_bpe_free(bpe);
    bpe = nn_bpe_train(NULL, 0, 50);
    assert_int_equal(bpe->size, 1);
    nn_bpe_free(bpe);
    bpe = nn_bpe_train("abc\nabc", 7, 50); /* each pair twice: ab, then abc */
    assert_int_equal(bpe->n_merges, 2);
    assert_string_equal(nn_bpe_token(bpe, bpe->size - 1, NULL), "abc");
    nn_bpe_free(bpe);
    bpe = nn_bpe_train("a\na\na\na", 7, 50); /* "\n" pairs with nothing */
    assert_int_equal(bpe->n_merges, 0);
    nn_bpe_free(bpe);
    nn_bpe_free(NULL);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    static const struct { const char *bytes; const char *why; } bad[] = {
        {"ab\xe5\x41z", "0x41 is not a continuation"},
        {"ab\xc0\xafz", "overlong"},
        {"ab\xed\xa0\x80z", "surrogate"},
        {"ab\xffz", "never used"},
        {"ab\xe5\xba", "ends after 2 bytes"},
    };
    nn_bpe *bpe = nn_bpe_train(poems, strlen(poems), alphabet(poems) + 20);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].bytes);
        char *text = malloc(len); /* exactly the bytes: ASan sees any read past them */
        memcpy(text, bad[i].bytes, len);
        assert_null(nn_bpe_train(text, len, 100));
        EXPECT_LAST_ERROR("nn_bpe_train", "not valid UTF-8", "byte 2 (line 1)", bad[i].why);
        int ids[8];
        assert_int_equal(nn_bpe_encode(bpe, text, len, ids, 8), -1);
        EXPECT_LAST_ERROR("nn_bpe_encode", "not valid UTF-8", "byte 2", bad[i].why);
        assert_int_equal(nn_bpe_encode(bpe, text, len, NULL, 0), -1);
        free(text);
    }
    const char lines[] = "明月\n光\n\x80";
    assert_null(nn_bpe_train(lines, sizeof lines - 1, 100));
    EXPECT_LAST_ERROR("byte 11 (line 3)", "continuation byte");
    nn_bpe_free(bpe);
}

static void test_misuse(void **state) {
    (void)state;
    const char *text = "abcd abcd";  /* <unk>, a, b, c, d, space: 6 ids */
    EXPECT_NN_ERROR(nn_bpe_train(text, strlen(text), 5), "nn_bpe_train", "vocab_size = 5",
                    "alphabet alone has 6 ids", "nn_vocab_build(text, len, 0)->size",
                    "test_bpe.c");
    EXPECT_NN_ERROR(nn_bpe_train(text, strlen(text), 0), "vocab_size = 0");
    EXPECT_NN_ERROR(nn_bpe_train(text, strlen(text), -3), "vocab_size = -3");
    EXPECT_NN_ERROR(nn_bpe_train(text, strlen(text), NN_BPE_MAX_SIZE + 1), "vocab_size");
    EXPECT_NN_ERROR(nn_bpe_train(NULL, 4, 10), "text is NULL");
    nn_bpe *bpe = nn_bpe_train(text, strlen(text), 6); /* exactly the alphabet: no merges */
    assert_non_null(bpe);
    assert_int_equal(bpe->n_merges, 0);
    int ids[] = {1, 6};
    char out[8];
    EXPECT_NN_ERROR(nn_bpe_decode(bpe, ids, 2, out, sizeof out), "nn_bpe_decode", "ids[1] = 6",
                    "ids 0 .. 5", "called at", "test_bpe.c");
    EXPECT_NN_ERROR(nn_bpe_decode(bpe, ids, -1, out, sizeof out), "n = -1");
    EXPECT_NN_ERROR(nn_bpe_decode(bpe, NULL, 1, out, sizeof out), "ids NULL");
    EXPECT_NN_ERROR(nn_bpe_decode(bpe, ids, 1, NULL, 8), "out NULL");
    EXPECT_NN_ERROR(nn_bpe_decode(NULL, ids, 1, out, 8), "nn_bpe_decode", "NULL");
    EXPECT_NN_ERROR(nn_bpe_encode(NULL, "a", 1, NULL, 0), "nn_bpe_encode", "NULL");
    EXPECT_NN_ERROR(nn_bpe_encode(bpe, "a", 1, NULL, 4), "ids is NULL");
    EXPECT_NN_ERROR(nn_bpe_encode(bpe, NULL, 3, NULL, 0), "text is NULL");
    EXPECT_NN_ERROR(nn_bpe_token(bpe, 6, NULL), "nn_bpe_token", "id = 6");
    EXPECT_NN_ERROR(nn_bpe_token(bpe, -1, NULL), "id = -1");
    EXPECT_NN_ERROR(nn_bpe_token(NULL, 0, NULL), "nn_bpe_token");
    EXPECT_NN_ERROR(nn_bpe_size(NULL), "nn_bpe_size");
    EXPECT_NN_ERROR(nn_bpe_save(NULL, "x.nnbp"), "nn_bpe_save", "tokenizer is NULL");
    EXPECT_NN_ERROR(nn_bpe_save(bpe, NULL), "path is NULL");
    EXPECT_NN_ERROR(nn_bpe_load(NULL), "nn_bpe_load", "path is NULL");
    nn_bpe_free(bpe);
}

/* ---- tokenizer files ------------------------------------------------------------------------ */

static void assert_same_bpe(const nn_bpe *a, const nn_bpe *b) {
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->chars->size, b->chars->size);
    assert_memory_equal(a->chars->chars, b->chars->chars, (size_t)a->chars->size * 4);
    assert_memory_equal(a->chars->counts, b->chars->counts, (size_t)a->chars->size * 8);
    assert_int_equal(a->n_merges, b->n_merges);
    if (a->n_merges)
        assert_memory_equal(a->merges, b->merges, (size_t)a->n_merges * sizeof *a->merges);
}

static void test_file_round_trip(void **state) {
    (void)state;
    nn_bpe *bpe = nn_bpe_train(poems, strlen(poems), alphabet(poems) + 100);
    const char *path = in_dir("poems.nnbp");
    assert_int_equal(nn_bpe_save(bpe, path), 0);
    assert_true(no_temp_left(path));
    size_t len;
    unsigned char *b = slurp(path, &len);
    uint32_t C = (uint32_t)bpe->chars->size - 1, M = (uint32_t)bpe->n_merges;
    assert_int_equal(len, 20 + 12 * C + 16 * M);
    assert_memory_equal(b, "NNBP\x01\x00\x00\x00", 8);
    assert_int_equal(b[8] | b[9] << 8, C);
    assert_int_equal(b[12] | b[13] << 8, M);
    free(b);

    nn_bpe *again = nn_bpe_load(path);
    assert_non_null(again);
    assert_same_bpe(bpe, again);
    const char *texts[] = {poems, "明月光，The moon 好\n"};
    for (int t = 0; t < 2; t++) { /* the same ids: a model's embedding rows still fit */
        int n, m;
        int *x = encode(bpe, texts[t], &n), *y = encode(again, texts[t], &m);
        assert_int_equal(m, n);
        assert_memory_equal(x, y, (size_t)n * sizeof *x);
        free(x);
        free(y);
    }
    for (int id = 0; id < bpe->size; id++)
        assert_string_equal(nn_bpe_token(bpe, id, NULL), nn_bpe_token(again, id, NULL));
    nn_bpe_free(again);

    /* saving again replaces the file; <unk> alone round-trips too */
    nn_bpe *empty = nn_bpe_train("", 0, 1);
    assert_int_equal(nn_bpe_save(empty, path), 0);
    again = nn_bpe_load(path);
    assert_non_null(again);
    assert_same_bpe(empty, again);
    nn_bpe_free(again);
    nn_bpe_free(empty);

    assert_int_equal(nn_bpe_save(bpe, in_dir("no/such/dir/p.nnbp")), -1);
    EXPECT_LAST_ERROR("nn_bpe_save", "no/such/dir");
    nn_bpe_free(bpe);
}

/* The saved bytes of the tokenizer of "aaabdaaabac\n": ids 1 a, 2 b, 3 "\n", 4 c, 5 d (c, d
 * and "\n" once each: by code point), merges 6 = (1, 1) x4, 7 = (1, 2) x2, 8 = (6, 7) x2. */
enum { CHAR0 = 16, MERGE0 = 16 + 5 * 12, SAVED_LEN = 16 + 5 * 12 + 3 * 16 + 4 };

static unsigned char *saved_bpe(void) {
    nn_bpe *bpe = nn_bpe_train("aaabdaaabac\n", 12, 100);
    assert_int_equal(bpe->size, 9);
    assert_int_equal(nn_vocab_id(bpe->chars, '\n'), 3);
    assert_int_equal(nn_bpe_save(bpe, in_dir("small.nnbp")), 0);
    nn_bpe_free(bpe);
    size_t len;
    unsigned char *b = slurp(in_dir("small.nnbp"), &len);
    assert_int_equal(len, SAVED_LEN);
    return b;
}

static void put32(unsigned char *b, uint32_t v) {
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> 8 * k);
}

/* Write b with its checksum recomputed, so that only the change itself is wrong. */
static void spit_with_crc(const char *path, unsigned char *b, size_t len) {
    put32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
    spit(path, b, len);
}

static void expect_refused(const char *path) {
    nn_bpe *bpe = nn_bpe_load(path);
    if (bpe) {
        nn_bpe_free(bpe);
        fail_msg("a damaged tokenizer file was accepted");
    }
    EXPECT_LAST_ERROR("nn_bpe_load", path);
}

/* A copy of the saved file with one 32-bit field at `at` set to v (checksum recomputed):
 * refused, with a message that holds `why`. */
static void expect_field_refused(const unsigned char *saved, size_t at, uint32_t v,
                                 const char *why) {
    unsigned char c[SAVED_LEN];
    memcpy(c, saved, SAVED_LEN);
    put32(c + at, v);
    spit_with_crc(in_dir("bad.nnbp"), c, SAVED_LEN);
    expect_refused(in_dir("bad.nnbp"));
    EXPECT_LAST_ERROR(why);
}

static void test_file_damaged(void **state) {
    (void)state;
    unsigned char *b = saved_bpe();
    size_t len = SAVED_LEN;
    const char *bad = in_dir("bad.nnbp");

    /* every flipped bit is refused, wherever it is; a count only the checksum can tell */
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit += 3) {
            b[i] ^= (unsigned char)(1 << bit);
            spit(bad, b, len);
            b[i] ^= (unsigned char)(1 << bit);
            expect_refused(bad);
        }
    b[MERGE0 + 8] ^= 0x01; /* merge 6's count 4 -> 5 */
    spit(bad, b, len);
    b[MERGE0 + 8] ^= 0x01;
    expect_refused(bad);
    EXPECT_LAST_ERROR("checksum mismatch");

    /* cut anywhere, or grown */
    for (size_t cut = 0; cut < len; cut++) {
        spit(bad, b, cut);
        expect_refused(bad);
        EXPECT_LAST_ERROR("truncated");
    }
    unsigned char longer[SAVED_LEN + 2];
    memcpy(longer, b, len);
    memcpy(longer + len, "xy", 2);
    spit(bad, longer, len + 2);
    expect_refused(bad);
    EXPECT_LAST_ERROR("2 unexpected byte(s)");

    /* the header */
    unsigned char c[SAVED_LEN];
    memcpy(c, b, len);
    memcpy(c, "NNVC", 4);
    spit(bad, c, len);
    expect_refused(bad);
    EXPECT_LAST_ERROR("not a libnn tokenizer", "4e 4e 56 43", "\"NNVC\"", "\"NNBP\"");
    expect_field_refused(b, 4, 2, "version 2");
    expect_field_refused(b, 8, 0xFFFFFF, "16777215 characters");
    expect_field_refused(b, 12, NN_BPE_MAX_SIZE, "more than the 2097152 ids");
    expect_field_refused(b, 12, 4, "truncated");

    /* the characters: code point at CHAR0 + 12 (id - 1), count 8 bytes after it */
    expect_field_refused(b, CHAR0 + 12, 0xD800, "U+D800, which is not a character");
    expect_field_refused(b, CHAR0 + 12, 0x110000, "not a character");
    expect_field_refused(b, CHAR0 + 12, 'a', "U+0061 twice");
    expect_field_refused(b, CHAR0 + 12 + 4, 9, "character id 2 (U+0062, count 9) is out of "
                         "frequency order after id 1");
    expect_field_refused(b, CHAR0 + 36, 'e', "character id 5 (U+0064, count 1) is out of "
                         "frequency order");

    /* the merges: left at MERGE0 + 16 k, right 4 bytes after it, count 8 after it */
    expect_field_refused(b, MERGE0 + 4, 6, "id 6 merges 1 and 6, but 6 is not made before it");
    expect_field_refused(b, MERGE0 + 32, 9, "id 8 merges 9 and 7");
    expect_field_refused(b, MERGE0 + 32, 0x80000000u, "is not made before it");
    expect_field_refused(b, MERGE0, 0, "<unk>, which never merges");
    expect_field_refused(b, MERGE0 + 4, 3, "3 is \"\\n\": tokens never span lines");
    expect_field_refused(b, MERGE0 + 8, 1, "id 6 has count 1");
    expect_field_refused(b, MERGE0 + 24, 5, "id 7 has count 5, more than the 4 of the merge "
                         "before it; counts never grow");
    expect_field_refused(b, MERGE0 + 20, 1, "id 7 merges 1 and 1 again, as id 6 did");
    free(b);

    /* not a file at all */
    assert_null(nn_bpe_load(in_dir("missing.nnbp")));
    EXPECT_LAST_ERROR("cannot open", "missing.nnbp");
    assert_null(nn_bpe_load(dir));
    EXPECT_LAST_ERROR("Is a directory");
    /* larger than any tokenizer: refused from its size, unread (a sparse file) */
    int fd = open(in_dir("huge.nnbp"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 30), 0);
    close(fd);
    assert_null(nn_bpe_load(in_dir("huge.nnbp")));
    EXPECT_LAST_ERROR("too large", "1073741824 bytes");
}

/* A file of one character and `doublings` merges, each of the last token with itself: token
 * k is 2^k bytes long, so a small file can describe enormous strings. */
static void write_doublings(const char *path, int doublings) {
    size_t len = 16 + 12 + 16 * (size_t)doublings + 4;
    unsigned char *b = calloc(1, len);
    memcpy(b, "NNBP", 4);
    put32(b + 4, 1);
    put32(b + 8, 1);
    put32(b + 12, (uint32_t)doublings);
    put32(b + 16, 'a');
    put32(b + 20, 1u << 30);
    for (int k = 0; k < doublings; k++) {
        unsigned char *m = b + 28 + 16 * k;
        put32(m, (uint32_t)(1 + k));
        put32(m + 4, (uint32_t)(1 + k));
        put32(m + 8, (uint32_t)(1000 - k));
    }
    spit_with_crc(path, b, len);
    free(b);
}

static void test_file_huge_strings(void **state) {
    (void)state;
    const char *path = in_dir("doubling.nnbp");
    write_doublings(path, 16); /* tokens up to 64 KiB: fine */
    nn_bpe *bpe = nn_bpe_load(path);
    assert_non_null(bpe);
    size_t k;
    nn_bpe_token(bpe, bpe->size - 1, &k);
    assert_int_equal(k, 1 << 16);
    int ids[4];
    assert_int_equal(nn_bpe_encode(bpe, "aaaaaaa", 7, ids, 4), 3); /* aaaa aa a */
    assert_int_equal(ids[0], 3);
    nn_bpe_free(bpe);
    write_doublings(path, 30); /* 2 GiB in its last token alone: refused before it is built */
    expect_refused(path);
    EXPECT_LAST_ERROR("strings would take more than 64.0 MiB", "NN_BPE_MAX_BYTES");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_textbook_example),
        NN_TEST(test_matches_reference),
        NN_TEST(test_deterministic),
        NN_TEST(test_round_trip_mixed),
        NN_TEST(test_encode_replays_merges),
        NN_TEST(test_unknown_characters),
        NN_TEST(test_decode_buffers),
        NN_TEST(test_small_texts),
        NN_TEST(test_invalid_utf8),
        NN_TEST(test_misuse),
        IO_TEST(test_file_round_trip),
        IO_TEST(test_file_damaged),
        IO_TEST(test_file_huge_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
