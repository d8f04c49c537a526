/* src/data/text_vocab_file.c — save a vocabulary (词表) to an NNVC file and load it back
 * (format in include/nn/data/text.h).
 *
 * A chapter-4 program saves its vocabulary beside its model's checkpoint: the embedding's
 * row 37 is only meaningful together with "id 37 is 月". So the file must come back exactly
 * or not at all. Saving builds the whole file in memory (at most 13 MB: every Unicode
 * character once), and writes it through src/data/safe_file.c (a temporary file, fsync,
 * rename), as checkpoints are written. Loading reads the whole file (refusing one larger than
 * any vocabulary before reading it) and checks all of it, in the order that gives the most
 * useful message: what kind of file, which version, is it all there, did any byte change
 * (CRC-32), and only then whether its entries make sense (characters, none twice, in
 * frequency order).
 */
#include "internal.h"
#include "nn/data/text.h"

#include <errno.h>

#define VOCAB_MAGIC "NNVC"
#define VOCAB_VERSION 1u
#define VOCAB_HEAD 20u       /* magic, version, count, unk count */
#define VOCAB_ENTRY 12u      /* code point, count */
#define VOCAB_MAX_CHARS 1112064u /* every code point that is a character: 0x110000 - 0x800 */

static bool is_char(uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

/* ---- save ------------------------------------------------------------------------------- */

int nn_vocab_save(const nn_vocab *v, const char *path) {
    const char *op = "nn_vocab_save";
    if (!v || !path) {
        nn_fail(op, "pass a vocabulary (nn_vocab_build) and a file name such as \"poems.nnvc\"",
                "%s is NULL", !v ? "the vocabulary" : "path");
        return -1;
    }
    if (v->size < 1 || (uint32_t)v->size - 1 > VOCAB_MAX_CHARS) {
        nn_fail(op, "save a vocabulary made by nn_vocab_build or nn_vocab_load",
                "the vocabulary has size %d", v->size);
        return -1;
    }
    uint32_t count = (uint32_t)v->size - 1;
    size_t len = VOCAB_HEAD + (size_t)VOCAB_ENTRY * count + 4;
    unsigned char *b = nn_xmalloc(len);
    memcpy(b, VOCAB_MAGIC, 4);
    nn_put_le32(b + 4, VOCAB_VERSION);
    nn_put_le32(b + 8, count);
    nn_put_le64(b + 12, v->counts[0]);
    for (uint32_t id = 1; id <= count; id++) {
        unsigned char *e = b + VOCAB_HEAD + (size_t)VOCAB_ENTRY * (id - 1);
        nn_put_le32(e, v->chars[id]);
        nn_put_le64(e + 4, v->counts[id]);
    }
    nn_put_le32(b + len - 4, nn_crc32(b, len - 4)); /* covers all before it */

    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e) {
        free(b);
        return nn_set_last_error("%s: cannot create a temporary file next to '%s': %s", op, path,
                                 strerror(e));
    }
    int err = fwrite(b, 1, len, out.f) == len ? 0 : (errno ? errno : EIO);
    free(b);
    e = nn_safe_commit(&out, path, err, true);
    if (e) return nn_set_last_error("%s: cannot write '%s': %s", op, path, strerror(e));
    return 0;
}

/* ---- load ------------------------------------------------------------------------------- */

static int by_value(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int nn_vocab_check_chars(const char *op, const char *path, const char *label,
                         const char *after_label, const uint32_t *chars, const uint64_t *counts,
                         uint32_t count) {
    for (uint32_t id = 1; id <= count; id++)
        if (!is_char(chars[id]))
            return nn_set_last_error("%s: '%s' is corrupt: %s %u holds U+%04X, which is not a "
                                     "character (a surrogate, or above U+10FFFF)", op, path,
                                     label, id, (unsigned)chars[id]);
    uint32_t *sorted = nn_xmalloc((count ? count : 1) * sizeof *sorted);
    memcpy(sorted, chars + 1, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, by_value);
    uint32_t twice = UINT32_MAX;   /* UINT32_MAX is no character, so it marks "none" */
    for (uint32_t i = 1; i < count && twice == UINT32_MAX; i++)
        if (sorted[i] == sorted[i - 1]) twice = sorted[i];
    free(sorted);
    if (twice != UINT32_MAX)
        return nn_set_last_error("%s: '%s' is corrupt: it holds U+%04X twice", op, path,
                                 (unsigned)twice);
    for (uint32_t id = 2; id <= count; id++)
        if (counts[id - 1] < counts[id] ||
            (counts[id - 1] == counts[id] && chars[id - 1] > chars[id]))
            return nn_set_last_error("%s: '%s' is corrupt: %s %u (U+%04X, count %llu) is out "
                                     "of frequency order after %s %u (U+%04X, count %llu)",
                                     op, path, label, id, (unsigned)chars[id],
                                     (unsigned long long)counts[id], after_label, id - 1,
                                     (unsigned)chars[id - 1], (unsigned long long)counts[id - 1]);
    return 0;
}

/* The header and size of the file in b[0 .. len): 0 (and *count), or -1 with the message. */
static int check_header(const char *path, const unsigned char *b, size_t len, uint32_t *count) {
    const char *op = "nn_vocab_load";
    if (len >= 4 && memcmp(b, VOCAB_MAGIC, 4) != 0) {
        char text[40];
        nn_quote_bytes(text, sizeof text, b, 4, 4);
        return nn_set_last_error("%s: '%s' is not a libnn vocabulary: it starts with bytes %02x "
                                 "%02x %02x %02x (%s), expected \"NNVC\" (4e 4e 56 43)", op,
                                 path, b[0], b[1], b[2], b[3], text);
    }
    if (len < VOCAB_HEAD + 4)
        return nn_set_last_error("%s: '%s' is truncated: %zu bytes, but even a vocabulary of "
                                 "<unk> alone has %u (magic, version, count, unk count, "
                                 "checksum)", op, path, len, VOCAB_HEAD + 4);
    uint32_t version = nn_get_le32(b + 4);
    if (version != VOCAB_VERSION)
        return nn_set_last_error("%s: '%s' is vocabulary format version %u; this library reads "
                                 "version %u", op, path, version, VOCAB_VERSION);
    *count = nn_get_le32(b + 8);
    if (*count > VOCAB_MAX_CHARS)
        return nn_set_last_error("%s: '%s' is corrupt: its header lists %u characters, but "
                                 "Unicode has only %u", op, path, *count, VOCAB_MAX_CHARS);
    size_t want = VOCAB_HEAD + (size_t)VOCAB_ENTRY * *count + 4;
    if (len < want)
        return nn_set_last_error("%s: '%s' is truncated: its header lists %u characters, which "
                                 "take %zu bytes, but the file has %zu", op, path, *count, want,
                                 len);
    if (len > want)
        return nn_set_last_error("%s: '%s' is corrupt: %zu unexpected byte(s) after the checksum "
                                 "of its %u characters (%zu bytes expected)", op, path,
                                 len - want, *count, want);
    uint32_t stored = nn_get_le32(b + len - 4), crc = nn_crc32(b, len - 4);
    if (stored != crc)
        return nn_set_last_error("%s: '%s' is corrupt: checksum mismatch (CRC-32 stored %08x, "
                                 "computed %08x); some bytes changed after it was saved", op,
                                 path, stored, crc);
    return 0;
}

nn_vocab *nn_vocab_load(const char *path) {
    const char *op = "nn_vocab_load";
    if (!path) {
        nn_fail(op, "pass the file nn_vocab_save wrote, such as \"poems.nnvc\"", "path is NULL");
        return NULL;
    }
    char *file;
    size_t len;
    const size_t most = VOCAB_HEAD + (size_t)VOCAB_ENTRY * VOCAB_MAX_CHARS + 4;
    if (nn_read_file(op, path, most, "the size of a vocabulary of every Unicode character", &file, &len) != 0)
        return NULL;
    const unsigned char *b = (const unsigned char *)file;
    uint32_t count = 0;
    if (check_header(path, b, len, &count) != 0) {
        free(file);
        return NULL;
    }
    uint32_t *chars = nn_xcalloc((size_t)count + 1, sizeof *chars);
    uint64_t *counts = nn_xcalloc((size_t)count + 1, sizeof *counts);
    counts[0] = nn_get_le64(b + 12);
    for (uint32_t id = 1; id <= count; id++) {
        const unsigned char *e = b + VOCAB_HEAD + (size_t)VOCAB_ENTRY * (id - 1);
        chars[id] = nn_get_le32(e);
        counts[id] = nn_get_le64(e + 4);
    }
    free(file);
    if (nn_vocab_check_chars("nn_vocab_load", path, "entry", "entry", chars, counts,
                             count) != 0) {
        free(chars);
        free(counts);
        return NULL;
    }
    return nn_vocab_from_arrays((int)count + 1, chars, counts);
}
