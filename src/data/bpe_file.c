/* src/data/bpe_file.c — save a tokenizer to an NNBP file and load it back (format in
 * include/nn/data/bpe.h).
 *
 * A chapter-6 model trained on tokens is only meaningful with its tokenizer: embedding row
 * 2890 means "明月" only while id 2890 is the merge of 明 and 月. So, as with vocabularies
 * (text_vocab_file.c), the file comes back exactly or not at all. Saving builds the file in
 * memory and writes it through src/data/safe_file.c (a temporary file, fsync, rename).
 * Loading refuses a file larger than any tokenizer before reading it, then checks the rest in
 * the order that gives the most useful message: what kind of file, which version, is it all
 * there, did any byte change (CRC-32), then whether the characters and merges make sense.
 * Only a checked tokenizer is built: every merge refers to ids made before it, so building
 * its strings cannot read out of bounds, and their total size is known before they are made.
 */
#include "internal.h"
#include "bpe_internal.h"

#include <errno.h>

#define BPE_MAGIC "NNBP"
#define BPE_VERSION 1u
#define BPE_HEAD 16u          /* magic, version, characters, merges */
#define BPE_CHAR 12u          /* code point, count */
#define BPE_MERGE 16u         /* left, right, count */
#define BPE_MAX_CHARS 1112064u /* every code point that is a character: 0x110000 - 0x800 */


static size_t file_bytes(uint32_t chars, uint32_t merges) {
    return BPE_HEAD + (size_t)BPE_CHAR * chars + (size_t)BPE_MERGE * merges + 4;
}

/* ---- save ------------------------------------------------------------------------------- */

int nn_bpe_save(const nn_bpe *bpe, const char *path) {
    const char *op = "nn_bpe_save";
    if (!bpe || !path) {
        nn_fail(op, "pass a tokenizer (nn_bpe_train) and a file name such as \"poems.nnbp\"",
                "%s is NULL", !bpe ? "the tokenizer" : "path");
        return -1;
    }
    uint32_t chars = (uint32_t)bpe->chars->size - 1, merges = (uint32_t)bpe->n_merges;
    size_t len = file_bytes(chars, merges);
    unsigned char *b = nn_xmalloc(len), *e = b + BPE_HEAD;
    memcpy(b, BPE_MAGIC, 4);
    nn_put_le32(b + 4, BPE_VERSION);
    nn_put_le32(b + 8, chars);
    nn_put_le32(b + 12, merges);
    for (uint32_t id = 1; id <= chars; id++, e += BPE_CHAR) {
        nn_put_le32(e, bpe->chars->chars[id]);
        nn_put_le64(e + 4, bpe->chars->counts[id]);
    }
    for (uint32_t k = 0; k < merges; k++, e += BPE_MERGE) {
        nn_put_le32(e, (uint32_t)bpe->merges[k].left);
        nn_put_le32(e + 4, (uint32_t)bpe->merges[k].right);
        nn_put_le64(e + 8, bpe->merges[k].count);
    }
    nn_put_le32(e, nn_crc32(b, len - 4)); /* covers all before it */

    nn_safe_file out;
    int err = nn_safe_open(&out, path);
    if (err) {
        free(b);
        return nn_set_last_error("%s: cannot create a temporary file next to '%s': %s", op, path,
                                 strerror(err));
    }
    err = fwrite(b, 1, len, out.f) == len ? 0 : (errno ? errno : EIO);
    free(b);
    err = nn_safe_commit(&out, path, err, true);
    if (err) return nn_set_last_error("%s: cannot write '%s': %s", op, path, strerror(err));
    return 0;
}

/* ---- load: the header ------------------------------------------------------------------- */

/* The header, size and checksum of the file in b[0 .. len): 0 (and the counts), or -1 with
 * the message. */
static int check_header(const char *path, const unsigned char *b, size_t len, uint32_t *chars,
                        uint32_t *merges) {
    const char *op = "nn_bpe_load";
    if (len >= 4 && memcmp(b, BPE_MAGIC, 4) != 0) {
        char text[40];
        nn_quote_bytes(text, sizeof text, b, 4, 4);
        return nn_set_last_error("%s: '%s' is not a libnn tokenizer: it starts with bytes %02x "
                                 "%02x %02x %02x (%s), expected \"NNBP\" (4e 4e 42 50)", op,
                                 path, b[0], b[1], b[2], b[3], text);
    }
    if (len < BPE_HEAD + 4)
        return nn_set_last_error("%s: '%s' is truncated: %zu bytes, but even a tokenizer of "
                                 "<unk> alone has %u (magic, version, counts, checksum)", op,
                                 path, len, BPE_HEAD + 4);
    uint32_t version = nn_get_le32(b + 4);
    if (version != BPE_VERSION)
        return nn_set_last_error("%s: '%s' is tokenizer format version %u; this library reads "
                                 "version %u", op, path, version, BPE_VERSION);
    *chars = nn_get_le32(b + 8);
    *merges = nn_get_le32(b + 12);
    if (*chars > BPE_MAX_CHARS)
        return nn_set_last_error("%s: '%s' is corrupt: its header lists %u characters, but "
                                 "Unicode has only %u", op, path, *chars, BPE_MAX_CHARS);
    if (1 + (uint64_t)*chars + *merges > (uint64_t)NN_BPE_MAX_SIZE)
        return nn_set_last_error("%s: '%s' is corrupt: its header lists %u characters and %u "
                                 "merges, more than the %d ids a tokenizer may have", op, path,
                                 *chars, *merges, NN_BPE_MAX_SIZE);
    size_t want = file_bytes(*chars, *merges);
    if (len < want)
        return nn_set_last_error("%s: '%s' is truncated: its header lists %u characters and %u "
                                 "merges, which take %zu bytes, but the file has %zu", op, path,
                                 *chars, *merges, want, len);
    if (len > want)
        return nn_set_last_error("%s: '%s' is corrupt: %zu unexpected byte(s) after the checksum "
                                 "(%zu bytes expected)", op, path, len - want, want);
    uint32_t stored = nn_get_le32(b + len - 4), crc = nn_crc32(b, len - 4);
    if (stored != crc)
        return nn_set_last_error("%s: '%s' is corrupt: checksum mismatch (CRC-32 stored %08x, "
                                 "computed %08x); some bytes changed after it was saved", op,
                                 path, stored, crc);
    return 0;
}

/* ---- load: the entries ------------------------------------------------------------------ */

/* One merge, id = its own id (its parts are ids made before it: read_merges saw to that):
 * neither part <unk> nor "\n", a count of at least 2 that is no more than the one before.
 * 0, or -1 with the message. */
static int check_merge(const char *path, const nn_bpe_merge *m, int id, int newline,
                       const nn_bpe_merge *before) {
    const char *op = "nn_bpe_load";
    if (m->left == 0 || m->right == 0)
        return nn_set_last_error("%s: '%s' is corrupt: id %d merges %d and %d, but id 0 is "
                                 "<unk>, which never merges", op, path, id, m->left, m->right);
    if (newline > 0 && (m->left == newline || m->right == newline))
        return nn_set_last_error("%s: '%s' is corrupt: id %d merges %d and %d, but %d is "
                                 "\"\\n\": tokens never span lines", op, path, id, m->left,
                                 m->right, newline);
    if (m->count < 2)
        return nn_set_last_error("%s: '%s' is corrupt: id %d has count %llu; training merges a "
                                 "pair only when it occurs at least twice", op, path, id,
                                 (unsigned long long)m->count);
    if (before && m->count > before->count)
        return nn_set_last_error("%s: '%s' is corrupt: id %d has count %llu, more than the %llu "
                                 "of the merge before it; counts never grow", op, path, id,
                                 (unsigned long long)m->count,
                                 (unsigned long long)before->count);
    return 0;
}

/* Every merge, then no pair twice, then the size of the tokens' strings. */
static int check_merges(const char *path, const nn_vocab *chars, const nn_bpe_merge *merges,
                        int n_merges) {
    const char *op = "nn_bpe_load";
    int newline = nn_vocab_id(chars, '\n');
    for (int k = 0; k < n_merges; k++)
        if (check_merge(path, &merges[k], chars->size + k, newline, k ? &merges[k - 1] : NULL))
            return -1;
    int earlier, repeat = nn_bpe_first_repeat(merges, n_merges, &earlier);
    if (repeat >= 0)
        return nn_set_last_error("%s: '%s' is corrupt: id %d merges %d and %d again, as id %d "
                                 "did", op, path, chars->size + repeat, merges[repeat].left,
                                 merges[repeat].right, chars->size + earlier);
    size_t *bytes = nn_xmalloc(((size_t)chars->size + (size_t)n_merges) * sizeof *bytes);
    size_t total = nn_bpe_string_bytes(chars, merges, n_merges, bytes);
    free(bytes);
    if (total == SIZE_MAX)
        return nn_set_last_error("%s: '%s' is corrupt: its tokens' strings would take more than "
                                 "%s in all (NN_BPE_MAX_BYTES)", op, path,
                                 BYTES(NN_BPE_MAX_BYTES));
    return 0;
}

/* The base alphabet from the file's character entries (checked), or NULL with the message. */
static nn_vocab *read_chars(const char *path, const unsigned char *e, uint32_t count) {
    uint32_t *chars = nn_xcalloc((size_t)count + 1, sizeof *chars);
    uint64_t *counts = nn_xcalloc((size_t)count + 1, sizeof *counts);
    for (uint32_t id = 1; id <= count; id++, e += BPE_CHAR) {
        chars[id] = nn_get_le32(e);
        counts[id] = nn_get_le64(e + 4);
    }
    if (nn_vocab_check_chars("nn_bpe_load", path, "character id", "id", chars, counts,
                             count) != 0) {
        free(chars);
        free(counts);
        return NULL;
    }
    return nn_vocab_from_arrays((int)count + 1, chars, counts);
}

/* The merges from the file's entries into *out (NULL when there are none). Each must refer to
 * ids made before it, checked here while they are still the file's uint32s: then building
 * the tokens' strings only reads what is already built. 0, or -1 with the message. */
static int read_merges(const char *path, const unsigned char *e, uint32_t count, uint32_t base,
                       nn_bpe_merge **out) {
    nn_bpe_merge *merges = count ? nn_xmalloc(count * sizeof *merges) : NULL;
    for (uint32_t k = 0; k < count; k++, e += BPE_MERGE) {
        uint32_t left = nn_get_le32(e), right = nn_get_le32(e + 4), id = base + k;
        if (left >= id || right >= id) {
            free(merges);
            return nn_set_last_error("nn_bpe_load: '%s' is corrupt: id %u merges %u and %u, but "
                                     "%u is not made before it", path, id, left, right,
                                     left >= id ? left : right);
        }
        merges[k] = (nn_bpe_merge){(int)left, (int)right, nn_get_le64(e + 8)};
    }
    *out = merges;
    return 0;
}

nn_bpe *nn_bpe_load(const char *path) {
    const char *op = "nn_bpe_load";
    if (!path) {
        nn_fail(op, "pass the file nn_bpe_save wrote, such as \"poems.nnbp\"", "path is NULL");
        return NULL;
    }
    char *file;
    size_t len;
    const size_t most = file_bytes(0, NN_BPE_MAX_SIZE - 1); /* merges take the most room */
    if (nn_read_file(op, path, most, "the size of a tokenizer of NN_BPE_MAX_SIZE ids", &file,
                     &len) != 0)
        return NULL;
    const unsigned char *b = (const unsigned char *)file;
    uint32_t n_chars = 0, n_merges = 0;
    if (check_header(path, b, len, &n_chars, &n_merges) != 0) {
        free(file);
        return NULL;
    }
    nn_vocab *chars = read_chars(path, b + BPE_HEAD, n_chars);
    nn_bpe_merge *merges = NULL;
    const unsigned char *e = b + BPE_HEAD + (size_t)BPE_CHAR * n_chars;
    int bad = !chars || read_merges(path, e, n_merges, n_chars + 1, &merges) != 0;
    free(file);
    if (bad || check_merges(path, chars, merges, (int)n_merges) != 0) {
        nn_vocab_free(chars);
        free(merges);
        return NULL;
    }
    return nn_bpe_from_parts(chars, merges, (int)n_merges);
}
