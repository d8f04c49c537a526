/* tests/test_vector_index.c — the vector index (nn/data/vector_index.h): search against a
 * brute-force cosine in double, ties broken by the lower id, k past the count, a stored
 * vector finding itself; a save/load round trip that searches identically; damaged files
 * refused with a message (any flipped bit, any cut, wrong magic or version, a huge count in a
 * tiny file, a huge file, bad content behind a good checksum); misuse; vectors and texts that
 * cannot be stored. */
#include "testing.h"
#include "scratch_dir.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

enum { DIM = 12, N = 150 };

/* n vectors of dim normal values (every direction equally likely), a few values exactly 0. */
static void random_vectors(float *v, int n, int dim) {
    nn_rng r;
    nn_rng_seed(&r, 7);
    for (int i = 0; i < n * dim; i++) v[i] = nn_rng_int(&r, 10) == 0 ? 0.0f : nn_rng_normal(&r);
}

/* An index of v[n][dim]: entry i has the text "doc i" and the tag 1000 - 7 i. */
static nn_vector_index *index_of(const float *v, int n, int dim) {
    nn_vector_index *ix = nn_vector_index_new(dim);
    for (int i = 0; i < n; i++) {
        char text[32];
        int len = snprintf(text, sizeof text, "doc %d", i);
        assert_int_equal(nn_vector_index_add(ix, v + (size_t)i * dim, text, (size_t)len,
                                             1000 - 7 * i), i);
    }
    assert_int_equal(nn_vector_index_count(ix), n);
    return ix;
}

/* ---- the reference: the cosine of the raw vectors in double, every entry ranked --------- */

typedef struct { double score; int id; } ref_hit;

static int ref_order(const void *pa, const void *pb) {
    const ref_hit *x = pa, *y = pb;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->id - y->id;
}

static void brute_force(const float *v, int n, int dim, const float *q, ref_hit *out) {
    double qq = 0;
    for (int d = 0; d < dim; d++) qq += (double)q[d] * q[d];
    for (int i = 0; i < n; i++) {
        double dot = 0, vv = 0;
        for (int d = 0; d < dim; d++) {
            dot += (double)v[i * dim + d] * q[d];
            vv += (double)v[i * dim + d] * v[i * dim + d];
        }
        out[i].score = dot / (sqrt(vv) * sqrt(qq));
        out[i].id = i;
    }
    qsort(out, (size_t)n, sizeof *out, ref_order);
}

/* ids/scores[0 .. n) against the reference's first n: every score within 1e-6 of it, every
 * id the same unless the reference's neighbour is within 1e-6 (a near tie that float
 * storage may break either way). And best first, the lower id first among equal scores. */
static void assert_matches(const int *ids, const float *scores, int n, const ref_hit *ref,
                           int count) {
    for (int j = 0; j < n; j++) {
        if (!(fabs(scores[j] - ref[j].score) <= 1e-6))
            fail_msg("rank %d: score %.9g, the reference %.9g", j, scores[j], ref[j].score);
        bool near_tie = (j > 0 && ref[j - 1].score - ref[j].score < 1e-6) ||
                        (j + 1 < count && ref[j].score - ref[j + 1].score < 1e-6);
        if (!near_tie && ids[j] != ref[j].id)
            fail_msg("rank %d: id %d, the reference %d", j, ids[j], ref[j].id);
        if (j > 0) {
            assert_true(scores[j - 1] >= scores[j]);
            if (scores[j - 1] == scores[j]) assert_true(ids[j - 1] < ids[j]);
        }
    }
}

/* ---- search ----------------------------------------------------------------------------- */

static void test_search_matches_brute_force(void **state) {
    (void)state;
    float *v = malloc(sizeof(float) * N * DIM), q[DIM];
    random_vectors(v, N, DIM);
    nn_vector_index *ix = index_of(v, N, DIM);
    assert_int_equal(nn_vector_index_dim(ix), DIM);
    nn_rng r;
    nn_rng_seed(&r, 99);
    ref_hit ref[N];
    int ids[N];
    float scores[N];
    const int ks[] = {1, 5, 37, N};
    for (int t = 0; t < 20; t++) {
        for (int d = 0; d < DIM; d++) q[d] = nn_rng_normal(&r);
        brute_force(v, N, DIM, q, ref);
        for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
            assert_int_equal(nn_vector_index_search(ix, q, ks[c], ids, scores), ks[c]);
            assert_matches(ids, scores, ks[c], ref, N);
        }
    }
    /* scores may be left out; the ids are the same */
    int again[5];
    nn_vector_index_search(ix, q, 5, ids, scores);
    assert_int_equal(nn_vector_index_search(ix, q, 5, again, NULL), 5);
    assert_memory_equal(again, ids, sizeof again);
    nn_vector_index_free(ix);
    free(v);
}

static void test_stored_vector_finds_itself(void **state) {
    (void)state;
    float *v = malloc(sizeof(float) * N * DIM), q[DIM];
    random_vectors(v, N, DIM);
    nn_vector_index *ix = index_of(v, N, DIM);
    for (int i = 0; i < N; i++) {
        int id;
        float score;
        /* the stored unit vector, the raw vector and the raw vector scaled: all itself */
        const float *unit = nn_vector_index_vector(ix, i);
        double len = 0;
        for (int d = 0; d < DIM; d++) len += (double)unit[d] * unit[d];
        assert_true(fabs(len - 1.0) < 1e-6);
        for (int d = 0; d < DIM; d++) q[d] = 3.5f * v[i * DIM + d];
        const float *queries[3] = {unit, v + i * DIM, q};
        for (int k = 0; k < 3; k++) {
            assert_int_equal(nn_vector_index_search(ix, queries[k], 1, &id, &score), 1);
            assert_int_equal(id, i);
            if (!(fabsf(score - 1.0f) <= 1e-6f)) fail_msg("entry %d: score %.9g", i, score);
            assert_true(score <= 1.0f);
        }
        size_t tlen;
        char want[32];
        snprintf(want, sizeof want, "doc %d", i);
        assert_string_equal(nn_vector_index_text(ix, i, &tlen), want);
        assert_int_equal(tlen, strlen(want));
        assert_int_equal(nn_vector_index_tag(ix, i), 1000 - 7 * i);
    }
    nn_vector_index_free(ix);
    free(v);
}

static void test_k_past_the_count(void **state) {
    (void)state;
    float v[5 * 3];
    random_vectors(v, 5, 3);
    nn_vector_index *ix = index_of(v, 5, 3);
    int ids[10] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
    float scores[10];
    ref_hit ref[5];
    brute_force(v, 5, 3, v + 6, ref);
    assert_int_equal(nn_vector_index_search(ix, v + 6, 10, ids, scores), 5);
    assert_matches(ids, scores, 5, ref, 5);
    int seen = 0;
    for (int j = 0; j < 5; j++) seen |= 1 << ids[j];
    assert_int_equal(seen, 31);   /* each entry once */
    assert_int_equal(ids[5], -1); /* nothing written past the count */
    assert_int_equal(ids[0], 2);
    nn_vector_index_free(ix);

    nn_vector_index *empty = nn_vector_index_new(3);
    assert_int_equal(nn_vector_index_count(empty), 0);
    assert_int_equal(nn_vector_index_search(empty, v, 4, ids, scores), 0);
    nn_vector_index_free(empty);
}

static void test_ties_go_to_the_lower_id(void **state) {
    (void)state;
    /* v, 2v, -v, v/2, a vector orthogonal to v, v again: v, 2v, v/2 and v share one unit
     * vector bit for bit (scaling by a power of two is exact), so their scores are equal */
    const float v[6][3] = {{1, 2, 3}, {2, 4, 6}, {-1, -2, -3}, {0.5f, 1, 1.5f}, {3, 0, -1},
                           {1, 2, 3}};
    nn_vector_index *ix = nn_vector_index_new(3);
    for (int i = 0; i < 6; i++) assert_int_equal(nn_vector_index_add(ix, v[i], "", 0, i), i);
    int ids[6];
    float s[6];
    assert_int_equal(nn_vector_index_search(ix, v[1], 6, ids, s), 6);
    const int want[6] = {0, 1, 3, 5, 4, 2};
    assert_memory_equal(ids, want, sizeof want);
    assert_true(s[0] == s[1] && s[1] == s[2] && s[2] == s[3]);
    assert_true(fabsf(s[0] - 1.0f) <= 1e-6f);
    assert_true(fabsf(s[4]) <= 1e-6f);
    assert_true(fabsf(s[5] + 1.0f) <= 1e-6f && s[5] >= -1.0f);
    /* the opposite query reverses the order, ties still by id */
    assert_int_equal(nn_vector_index_search(ix, v[2], 6, ids, s), 6);
    const int opposite[6] = {2, 4, 0, 1, 3, 5};
    assert_memory_equal(ids, opposite, sizeof opposite);
    nn_vector_index_free(ix);
}

/* ---- vectors and texts that cannot be stored, and misuse -------------------------------- */

static void test_bad_vectors_and_texts_refused(void **state) {
    (void)state;
    nn_vector_index *ix = nn_vector_index_new(3);
    const float zero[3] = {0, 0, 0}, nan3[3] = {1, 2, NAN}, inf3[3] = {INFINITY, 0, 1},
                good[3] = {1, 0, 0}, tiny[3] = {0, 1e-45f, 0};
    assert_int_equal(nn_vector_index_add(ix, zero, "a", 1, 0), -1);
    EXPECT_LAST_ERROR("nn_vector_index_add", "the vector is zero", "no direction");
    assert_int_equal(nn_vector_index_add(ix, nan3, "a", 1, 0), -1);
    EXPECT_LAST_ERROR("nn_vector_index_add", "not finite", "value 2 of 3", "nan");
    assert_int_equal(nn_vector_index_add(ix, inf3, "a", 1, 0), -1);
    EXPECT_LAST_ERROR("not finite", "value 0 of 3", "inf");
    assert_int_equal(nn_vector_index_add(ix, good, "ok \xe5\x41", 5, 0), -1);
    EXPECT_LAST_ERROR("nn_vector_index_add", "not valid UTF-8", "byte 3");
    size_t big = NN_VECTOR_INDEX_MAX_TEXT + 1;
    char *long_text = malloc(big);
    memset(long_text, 'a', big);
    assert_int_equal(nn_vector_index_add(ix, good, long_text, big, 0), -1);
    EXPECT_LAST_ERROR("1048577 bytes", "split");
    assert_int_equal(nn_vector_index_add(ix, good, long_text, big - 1, 0), 0); /* the most */
    free(long_text);
    assert_int_equal(nn_vector_index_count(ix), 1); /* the refused ones left no trace */

    /* no text at all is an empty one; a subnormal vector still has a direction */
    size_t len = 99;
    assert_int_equal(nn_vector_index_add(ix, tiny, NULL, 0, INT_MIN), 1);
    assert_string_equal(nn_vector_index_text(ix, 1, &len), "");
    assert_int_equal(len, 0);
    assert_int_equal(nn_vector_index_tag(ix, 1), INT_MIN);
    assert_true(nn_vector_index_vector(ix, 1)[1] == 1.0f);

    /* a query that cannot be compared is refused the same way */
    int id;
    assert_int_equal(nn_vector_index_search(ix, zero, 1, &id, NULL), -1);
    EXPECT_LAST_ERROR("nn_vector_index_search", "the query is zero");
    assert_int_equal(nn_vector_index_search(ix, nan3, 1, &id, NULL), -1);
    EXPECT_LAST_ERROR("nn_vector_index_search", "the query is not finite");
    nn_vector_index_free(ix);
}

static void test_misuse(void **state) {
    (void)state;
    const float v[2] = {1, 2};
    int id;
    EXPECT_NN_ERROR(nn_vector_index_new(0), "nn_vector_index_new", "dim = 0", "1 .. 65536");
    EXPECT_NN_ERROR(nn_vector_index_new(-3), "dim = -3");
    EXPECT_NN_ERROR(nn_vector_index_new(NN_VECTOR_INDEX_MAX_DIM + 1), "dim = 65537",
                    "test_vector_index.c:");
    nn_vector_index *ix = nn_vector_index_new(2);
    assert_int_equal(nn_vector_index_add(ix, v, "x", 1, 5), 0);
    EXPECT_NN_ERROR(nn_vector_index_add(NULL, v, "x", 1, 0), "nn_vector_index_add", "'ix' is NULL");
    EXPECT_NN_ERROR(nn_vector_index_add(ix, NULL, "x", 1, 0), "'vec' is NULL");
    EXPECT_NN_ERROR(nn_vector_index_add(ix, v, NULL, 3, 0), "text is NULL but len = 3");
    EXPECT_NN_ERROR(nn_vector_index_search(ix, v, 0, &id, NULL), "nn_vector_index_search",
                    "k = 0");
    EXPECT_NN_ERROR(nn_vector_index_search(ix, v, -1, &id, NULL), "k = -1");
    EXPECT_NN_ERROR(nn_vector_index_search(ix, NULL, 1, &id, NULL), "'query' is NULL");
    EXPECT_NN_ERROR(nn_vector_index_search(ix, v, 1, NULL, NULL), "'ids' is NULL");
    EXPECT_NN_ERROR(nn_vector_index_search(NULL, v, 1, &id, NULL), "'ix' is NULL");
    EXPECT_NN_ERROR(nn_vector_index_text(ix, 1, NULL), "nn_vector_index_text", "id = 1",
                    "1 entries");
    EXPECT_NN_ERROR(nn_vector_index_tag(ix, -1), "nn_vector_index_tag", "id = -1");
    EXPECT_NN_ERROR(nn_vector_index_vector(ix, 7), "nn_vector_index_vector", "id = 7");
    EXPECT_NN_ERROR(nn_vector_index_count(NULL), "nn_vector_index_count");
    EXPECT_NN_ERROR(nn_vector_index_dim(NULL), "nn_vector_index_dim");
    EXPECT_NN_ERROR(nn_vector_index_save(NULL, "x.nnvx"), "nn_vector_index_save",
                    "the index is NULL");
    EXPECT_NN_ERROR(nn_vector_index_save(ix, NULL), "path is NULL");
    EXPECT_NN_ERROR(nn_vector_index_load(NULL), "nn_vector_index_load", "path is NULL");
    assert_int_equal(nn_vector_index_count(ix), 1);
    nn_vector_index_free(ix);
    nn_vector_index_free(NULL);
}

/* ---- files ------------------------------------------------------------------------------ */

/* Texts with their lengths (one holds a NUL of its own), and tags at the ends of int. */
#define TEXT(s) {s, sizeof s - 1}
static const struct { const char *text; size_t len; } poems[] = {
    TEXT("《静夜思》李白\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。"),
    TEXT("《春晓》孟浩然\n春眠不觉晓，处处闻啼鸟。"),
    TEXT(""),
    TEXT("A line of English, and a NUL \0 inside."),
    TEXT("《登鹳雀楼》王之涣\n白日依山尽，黄河入海流。"),
};
static const int poem_tag[] = {0, -1, INT_MAX, INT_MIN, 42};
enum { NPOEMS = 5, PDIM = 4 };

static nn_vector_index *poem_index(void) {
    float v[NPOEMS * PDIM];
    random_vectors(v, NPOEMS, PDIM);
    nn_vector_index *ix = nn_vector_index_new(PDIM);
    for (int i = 0; i < NPOEMS; i++)
        assert_int_equal(nn_vector_index_add(ix, v + i * PDIM, poems[i].text, poems[i].len,
                                             poem_tag[i]), i);
    return ix;
}

/* The poem index saved to dir/poems.nnvx, and its bytes. */
static unsigned char *saved_bytes(size_t *len) {
    nn_vector_index *ix = poem_index();
    assert_int_equal(nn_vector_index_save(ix, in_dir("poems.nnvx")), 0);
    nn_vector_index_free(ix);
    return slurp(in_dir("poems.nnvx"), len);
}

static void assert_same_index(const nn_vector_index *a, const nn_vector_index *b) {
    int n = nn_vector_index_count(a), dim = nn_vector_index_dim(a);
    assert_int_equal(nn_vector_index_count(b), n);
    assert_int_equal(nn_vector_index_dim(b), dim);
    for (int i = 0; i < n; i++) {
        size_t la, lb;
        const char *ta = nn_vector_index_text(a, i, &la), *tb = nn_vector_index_text(b, i, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la + 1); /* the NUL after it too */
        assert_int_equal(nn_vector_index_tag(a, i), nn_vector_index_tag(b, i));
        assert_memory_equal(nn_vector_index_vector(a, i), nn_vector_index_vector(b, i),
                            (size_t)dim * sizeof(float));
    }
}

static void test_round_trip(void **state) {
    (void)state;
    nn_vector_index *ix = poem_index();
    const char *path = in_dir("poems.nnvx");
    assert_int_equal(nn_vector_index_save(ix, path), 0);
    assert_true(no_temp_left(path));

    /* the layout of the header comment: 20 bytes + per entry 8 + L + 4 dim */
    size_t len;
    unsigned char *b = slurp(path, &len);
    size_t want = 20;
    for (int i = 0; i < NPOEMS; i++) want += 8 + poems[i].len + 4 * PDIM;
    assert_int_equal(len, want);
    assert_memory_equal(b, "NNVX\x01\x00\x00\x00\x04\x00\x00\x00\x05\x00\x00\x00", 16);
    assert_memory_equal(b + 16, "\x00\x00\x00\x00", 4);            /* tag 0 */
    assert_int_equal(b[20] | b[21] << 8, poems[0].len);             /* its text length */
    assert_memory_equal(b + 24, poems[0].text, poems[0].len);
    assert_int_equal(crc32(0L, b, (uInt)(len - 4)),
                     b[len - 4] | b[len - 3] << 8 | b[len - 2] << 16 | (uLong)b[len - 1] << 24);

    nn_vector_index *back = nn_vector_index_load(path);
    assert_non_null(back);
    assert_same_index(ix, back);
    /* the same searches, bit for bit */
    float q[PDIM];
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (int t = 0; t < 10; t++) {
        int ia[NPOEMS], ib[NPOEMS];
        float sa[NPOEMS], sb[NPOEMS];
        for (int d = 0; d < PDIM; d++) q[d] = nn_rng_normal(&r);
        assert_int_equal(nn_vector_index_search(ix, q, 3, ia, sa), 3);
        assert_int_equal(nn_vector_index_search(back, q, 3, ib, sb), 3);
        assert_memory_equal(ia, ib, sizeof(int) * 3);
        assert_memory_equal(sa, sb, sizeof(float) * 3);
    }
    /* through a pipe, which has no size: read, then checked the same way */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], b, len), (ssize_t)len); /* fits in the pipe's buffer */
    close(fds[1]);
    char pipe_path[64];
    snprintf(pipe_path, sizeof pipe_path, "/dev/fd/%d", fds[0]);
    nn_vector_index *piped = nn_vector_index_load(pipe_path);
    close(fds[0]);
    assert_non_null(piped);
    assert_same_index(ix, piped);
    nn_vector_index_free(piped);

    /* saving the loaded index writes the same bytes; an index can grow after a load */
    assert_int_equal(nn_vector_index_save(back, in_dir("again.nnvx")), 0);
    size_t len2;
    unsigned char *b2 = slurp(in_dir("again.nnvx"), &len2);
    assert_int_equal(len2, len);
    assert_memory_equal(b2, b, len);
    assert_int_equal(nn_vector_index_add(back, q, "new", 3, 7), NPOEMS);

    /* an empty index is 20 bytes and loads */
    nn_vector_index *empty = nn_vector_index_new(9);
    assert_int_equal(nn_vector_index_save(empty, in_dir("empty.nnvx")), 0);
    nn_vector_index *e2 = nn_vector_index_load(in_dir("empty.nnvx"));
    assert_non_null(e2);
    assert_int_equal(nn_vector_index_dim(e2), 9);
    assert_int_equal(nn_vector_index_count(e2), 0);

    free(b);
    free(b2);
    nn_vector_index_free(ix);
    nn_vector_index_free(back);
    nn_vector_index_free(empty);
    nn_vector_index_free(e2);
}

static void test_every_flipped_bit_refused(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = saved_bytes(&len);
    int checksum = 0;
    for (size_t off = 0; off < len; off++) {
        b[off] ^= 0x08;
        spit(in_dir("flipped.nnvx"), b, len);
        b[off] ^= 0x08;
        nn_vector_index *ix = nn_vector_index_load(in_dir("flipped.nnvx"));
        if (ix) fail_msg("a file with a bit flipped at byte %zu of %zu was accepted", off, len);
        EXPECT_LAST_ERROR("nn_vector_index_load: '", "flipped.nnvx'");
        checksum += strstr(nn_last_error(), "checksum mismatch") != NULL;
    }
    /* a flip in a tag, a text or a value leaves every length intact: the CRC catches it */
    assert_true(checksum > (int)len / 2);
    free(b);
}

static void test_truncated_anywhere(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = saved_bytes(&len);
    for (size_t cut = 0; cut < len; cut++) {
        spit(in_dir("cut.nnvx"), b, cut);
        if (nn_vector_index_load(in_dir("cut.nnvx")))
            fail_msg("a file cut to %zu of %zu bytes was accepted", cut, len);
        EXPECT_LAST_ERROR("nn_vector_index_load", "cut.nnvx", "truncated");
    }
    spit(in_dir("cut.nnvx"), b, len - 10);
    assert_null(nn_vector_index_load(in_dir("cut.nnvx")));
    EXPECT_LAST_ERROR("entry 5 of 5", "the file ends inside its vector");

    unsigned char *longer = malloc(len + 3);
    memcpy(longer, b, len);
    memcpy(longer + len, "xyz", 3);
    spit(in_dir("long.nnvx"), longer, len + 3);
    assert_null(nn_vector_index_load(in_dir("long.nnvx")));
    EXPECT_LAST_ERROR("long.nnvx", "3 unexpected byte(s) after its 5 entries");
    free(longer);
    free(b);
}

/* Put the right CRC-32 at the end of b[0 .. len), so a damaged field gets past it. */
static void fix_crc(unsigned char *b, size_t len) {
    uLong crc = crc32(0L, b, (uInt)(len - 4));
    for (int k = 0; k < 4; k++) b[len - 4 + k] = (unsigned char)(crc >> 8 * k);
}

static void put32(unsigned char *b, uint32_t v) {
    for (int k = 0; k < 4; k++) b[k] = (unsigned char)(v >> 8 * k);
}

static void test_wrong_header_refused(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = saved_bytes(&len);
    b[3] = 'K';
    spit(in_dir("magic.nnvx"), b, len);
    assert_null(nn_vector_index_load(in_dir("magic.nnvx")));
    EXPECT_LAST_ERROR("magic.nnvx", "not a libnn vector index", "4e 4e 56 4b", "\"NNVX\"");
    b[3] = 'X';

    b[4] = 2;
    fix_crc(b, len);
    spit(in_dir("v2.nnvx"), b, len);
    assert_null(nn_vector_index_load(in_dir("v2.nnvx")));
    EXPECT_LAST_ERROR("v2.nnvx", "version 2", "reads version 1");
    b[4] = 1;

    const unsigned char dims[][4] = {{0, 0, 0, 0}, {0x71, 0x11, 1, 0}};
    for (int k = 0; k < 2; k++) {
        unsigned char keep[4];
        memcpy(keep, b + 8, 4);
        memcpy(b + 8, dims[k], 4);
        fix_crc(b, len);
        spit(in_dir("dim.nnvx"), b, len);
        assert_null(nn_vector_index_load(in_dir("dim.nnvx")));
        EXPECT_LAST_ERROR("dim.nnvx", "corrupt", k ? "70001 dimensions" : "0 dimensions");
        memcpy(b + 8, keep, 4);
    }

    const char *text = "poem one\npoem two\n";
    spit(in_dir("text.nnvx"), text, strlen(text));
    assert_null(nn_vector_index_load(in_dir("text.nnvx")));
    EXPECT_LAST_ERROR("not a libnn vector index", "\"poem\"");
    assert_null(nn_vector_index_load(in_dir("missing.nnvx")));
    EXPECT_LAST_ERROR("missing.nnvx", "cannot open");
    assert_null(nn_vector_index_load(dir));
    EXPECT_LAST_ERROR("nn_vector_index_load");
    free(b);
}

/* The most memory this process has held so far, in KiB. */
static long peak_kib(void) {
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* path: `size` bytes, the first n of them `head`, the rest a hole that reads as zeros. */
static void sparse_file(const char *path, const void *head, size_t n, off_t size) {
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(fd >= 0);
    if (n) assert_int_equal(write(fd, head, n), (ssize_t)n);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

static void test_huge_counts_and_files_refused_unread(void **state) {
    (void)state;
    long peak = peak_kib();
    /* a tiny file whose header lists two billion entries of 65536 dimensions */
    unsigned char head[20] = "NNVX";
    put32(head + 4, 1);
    put32(head + 8, 65536);
    put32(head + 12, 0x7FFFFFFF);
    fix_crc(head, sizeof head);
    spit(in_dir("count.nnvx"), head, sizeof head);
    assert_null(nn_vector_index_load(in_dir("count.nnvx")));
    EXPECT_LAST_ERROR("count.nnvx", "truncated or corrupt", "2147483647 entries of 65536 "
                      "dimensions", "but the file has 20");
    put32(head + 12, 0xFFFFFFFF);
    spit(in_dir("count.nnvx"), head, sizeof head);
    assert_null(nn_vector_index_load(in_dir("count.nnvx")));
    EXPECT_LAST_ERROR("4294967295 entries, more than int ids can number");

    /* 3 GiB of zeros: the magic is wrong, read from 16 bytes */
    const off_t huge = (off_t)3 << 30;
    sparse_file(in_dir("zeros.nnvx"), NULL, 0, huge);
    assert_null(nn_vector_index_load(in_dir("zeros.nnvx")));
    EXPECT_LAST_ERROR("zeros.nnvx", "not a libnn vector index", "00 00 00 00");
    /* a good header for one entry, then 3 GiB: more than one entry can take */
    put32(head + 8, 4);
    put32(head + 12, 1);
    sparse_file(in_dir("big.nnvx"), head, 16, huge);
    assert_null(nn_vector_index_load(in_dir("big.nnvx")));
    EXPECT_LAST_ERROR("big.nnvx", "3221225472 bytes", "1 entries of 4 dimensions take at most "
                      "1048620");
    assert_true(peak_kib() - peak < 64 * 1024); /* nothing like the file was allocated */
}

static void test_bad_content_behind_a_good_checksum(void **state) {
    (void)state;
    size_t len;
    unsigned char *b = saved_bytes(&len);
    unsigned char *copy = malloc(len);
    const size_t e0 = 16, text0 = e0 + 8, vec0 = text0 + poems[0].len;
    struct { const char *name; size_t off; uint32_t value; const char *says; } cases[] = {
        {"utf8.nnvx", text0, 0x41414180u, "text of entry 1 is not valid UTF-8"},
        {"nan.nnvx", vec0 + 4, 0x7FC00000u, "value 1 of entry 1's vector is nan"},
        {"inf.nnvx", vec0 + 8, 0xFF800000u, "value 2 of entry 1's vector is -inf"},
        {"long.nnvx", vec0, 0x40400000u, "entry 1's vector has length"},   /* x = 3 */
        {"zero.nnvx", vec0, 0, "entry 1's vector has length"},
        {"textlen.nnvx", e0 + 4, 0x00100001u, "a text length of 1048577 bytes"},
        {"fewer.nnvx", 12, 4, "unexpected byte(s) after its 4 entries"},
        {"more.nnvx", 12, 6, "entry 6 of 6, at byte"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(copy, b, len);
        if (strcmp(cases[c].name, "zero.nnvx") == 0) memset(copy + vec0, 0, 4 * PDIM);
        else put32(copy + cases[c].off, cases[c].value);
        fix_crc(copy, len);
        spit(in_dir(cases[c].name), copy, len);
        assert_null(nn_vector_index_load(in_dir(cases[c].name)));
        EXPECT_LAST_ERROR(cases[c].name, "corrupt", cases[c].says);
    }
    free(copy);
    free(b);
}

static void test_save_failure_leaves_nothing(void **state) {
    (void)state;
    nn_vector_index *ix = poem_index();
    assert_int_equal(nn_vector_index_save(ix, in_dir("no/such/folder/x.nnvx")), -1);
    EXPECT_LAST_ERROR("nn_vector_index_save", "x.nnvx", "No such file");
    assert_int_equal(mkdir(in_dir("taken"), 0755), 0);
    assert_int_equal(nn_vector_index_save(ix, in_dir("taken")), -1);
    EXPECT_LAST_ERROR("nn_vector_index_save", "taken");
    assert_true(no_temp_left(in_dir("taken")));
    rmdir(in_dir("taken"));
    nn_vector_index_free(ix);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        NN_TEST(test_search_matches_brute_force),
        NN_TEST(test_stored_vector_finds_itself),
        NN_TEST(test_k_past_the_count),
        NN_TEST(test_ties_go_to_the_lower_id),
        NN_TEST(test_bad_vectors_and_texts_refused),
        NN_TEST(test_misuse),
        IO_TEST(test_round_trip),
        IO_TEST(test_every_flipped_bit_refused),
        IO_TEST(test_truncated_anywhere),
        IO_TEST(test_wrong_header_refused),
        IO_TEST(test_huge_counts_and_files_refused_unread),
        IO_TEST(test_bad_content_behind_a_good_checksum),
        IO_TEST(test_save_failure_leaves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
