/* src/data/vector_index_file.c — save a vector index to an NNVX file and load it back
 * (format in include/nn/data/vector_index.h and docs/en/checkpoint-format.md).
 *
 * Saving builds the whole file in memory (as large as the index) and writes it through
 * src/data/safe_file.c: a temporary file, fsync, rename, as checkpoints are written.
 *
 * Loading reads nothing it does not need to. The first 16 bytes say what the file is and how
 * many entries of how many dimensions it holds; each entry then takes at least 8 + 4 dim
 * bytes (an empty text) and at most 1 MiB more. So before a regular file's body is read, its
 * size must lie between those bounds: a header that lists four billion entries in a file of
 * 40 bytes is refused from 40 bytes, without allocating for four billion, and so is a 3 GB
 * file whose header lists one entry. A file that passes is read whole and checked in the
 * order that gives the most useful message: does every length fit the bytes really there
 * (truncated?), did any byte change (CRC-32), and only then does each entry make sense
 * (UTF-8 text, finite values, a vector of length 1). Nothing is kept from a file that fails.
 */
#include "data/vector_index_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define VX_MAGIC "NNVX"
#define VX_VERSION 1u
#define VX_HEAD 16u                         /* magic, version, dim, count */
#define VX_EMPTY (VX_HEAD + 4u)             /* ... and the checksum: an empty index */
#define VX_STREAM_MAX ((size_t)1 << 32)     /* the most read from a pipe, which has no size */
#define VX_UNIT_TOL 1e-5                    /* | |v|^2 - 1 | allowed: float rounding is ~1e-7 */

static const char *const load_op = "nn_vector_index_load";


/* The int32 whose two's complement bits are u (the tag). */
static int int_of(uint32_t u) {
    return u < 0x80000000u ? (int)u : (int)(u - 0x80000000u) - INT_MAX - 1;
}

/* The least and the most bytes a file of `count` entries of `dim` values can have. */
static unsigned long long least_size(uint32_t dim, uint32_t count) {
    return VX_EMPTY + (unsigned long long)count * (8ull + 4ull * dim);
}
static unsigned long long most_size(uint32_t dim, uint32_t count) {
    return least_size(dim, count) + (unsigned long long)count * NN_VECTOR_INDEX_MAX_TEXT;
}

/* ---- save ------------------------------------------------------------------------------- */

/* The file's bytes, without the checksum, into b (file_size(ix) - 4 bytes). */
static void encode(const nn_vector_index *ix, unsigned char *b) {
    memcpy(b, VX_MAGIC, 4);
    nn_put_le32(b + 4, VX_VERSION);
    nn_put_le32(b + 8, (uint32_t)ix->dim);
    nn_put_le32(b + 12, (uint32_t)ix->count);
    b += VX_HEAD;
    for (int i = 0; i < ix->count; i++) {
        const vx_doc *d = &ix->docs[i];
        nn_put_le32(b, (uint32_t)d->tag);   /* two's complement, as int32 */
        nn_put_le32(b + 4, (uint32_t)d->len);
        memcpy(b + 8, d->text, d->len);
        b += 8 + d->len;
        const float *v = ix->unit + (size_t)i * (size_t)ix->dim;
        for (int k = 0; k < ix->dim; k++, b += 4) nn_put_le32(b, nn_float_bits(v[k]));
    }
}

int nn_vector_index_save(const nn_vector_index *ix, const char *path) {
    const char *op = "nn_vector_index_save";
    if (!ix || !path) {
        nn_fail(op, "pass an index (nn_vector_index_new) and a file name such as "
                "\"poems.nnvx\"", "%s is NULL", !ix ? "the index" : "path");
        return -1;
    }
    size_t len = (size_t)least_size((uint32_t)ix->dim, (uint32_t)ix->count);
    for (int i = 0; i < ix->count; i++) len += ix->docs[i].len;
    unsigned char *b = nn_xmalloc(len);
    encode(ix, b);
    nn_put_le32(b + len - 4, nn_crc32(b, len - 4)); /* covers everything before it */

    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e) {
        free(b);
        return nn_set_last_error("%s: cannot create a temporary file next to '%s': %s", op,
                                 path, strerror(e));
    }
    int err = fwrite(b, 1, len, out.f) == len ? 0 : (errno ? errno : EIO);
    free(b);
    e = nn_safe_commit(&out, path, err, true);
    if (e) return nn_set_last_error("%s: cannot write '%s': %s", op, path, strerror(e));
    return 0;
}

/* ---- load: the header and the size ------------------------------------------------------ */

typedef struct { uint32_t dim, count; } vx_header;

/* The first min(size, 16) bytes of a file of `size` bytes: what kind of file, which version,
 * and can its size hold its count of entries? 0 (and *h), or -1 with the message. */
static int check_header(const char *path, const unsigned char *head, unsigned long long size,
                        vx_header *h) {
    if (size >= 4 && memcmp(head, VX_MAGIC, 4) != 0) {
        char text[40];
        nn_quote_bytes(text, sizeof text, head, 4, 4);
        return nn_set_last_error("%s: '%s' is not a libnn vector index: it starts with bytes "
                                 "%02x %02x %02x %02x (%s), expected \"NNVX\" (4e 4e 56 58)",
                                 load_op, path, head[0], head[1], head[2], head[3], text);
    }
    if (size < VX_EMPTY)
        return nn_set_last_error("%s: '%s' is truncated: %llu bytes, but even an empty vector "
                                 "index has %u (magic, version, dim, count, checksum)", load_op,
                                 path, size, VX_EMPTY);
    uint32_t version = nn_get_le32(head + 4);
    h->dim = nn_get_le32(head + 8);
    h->count = nn_get_le32(head + 12);
    if (version != VX_VERSION)
        return nn_set_last_error("%s: '%s' is vector index format version %u; this library "
                                 "reads version %u", load_op, path, version, VX_VERSION);
    if (h->dim < 1 || h->dim > NN_VECTOR_INDEX_MAX_DIM)
        return nn_set_last_error("%s: '%s' is corrupt: its header says the vectors have %u "
                                 "dimensions (1 .. %d)", load_op, path, h->dim,
                                 NN_VECTOR_INDEX_MAX_DIM);
    if (h->count > INT_MAX)
        return nn_set_last_error("%s: '%s' is corrupt: its header lists %u entries, more than "
                                 "int ids can number", load_op, path, h->count);
    unsigned long long least = least_size(h->dim, h->count), most = most_size(h->dim, h->count);
    if (size < least)
        return nn_set_last_error("%s: '%s' is truncated or corrupt: its header lists %u entries "
                                 "of %u dimensions, which take at least %llu bytes, but the "
                                 "file has %llu", load_op, path, h->count, h->dim, least, size);
    if (size > most)
        return nn_set_last_error("%s: '%s' is corrupt: %llu bytes, but %u entries of %u "
                                 "dimensions take at most %llu (texts of up to %u bytes)",
                                 load_op, path, size, h->count, h->dim, most,
                                 NN_VECTOR_INDEX_MAX_TEXT);
    return 0;
}

/* Before reading a regular file: its header and size. 0 with the most bytes worth reading in
 * *most (its size; VX_STREAM_MAX for a pipe or device, checked once read), or -1 with the
 * message. Only a regular file is opened here: opening and closing a named pipe would cost
 * its writer the reader it is waiting for. Whatever else goes wrong, nn_read_file reports. */
static int check_before_reading(const char *path, size_t *most, bool *regular) {
    *most = VX_STREAM_MAX;
    *regular = false;
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return nn_set_last_error("%s: cannot open '%s': %s", load_op, path, strerror(errno));
    unsigned long long size = (unsigned long long)st.st_size;
    size_t want = size < VX_HEAD ? (size_t)size : VX_HEAD;
    unsigned char head[VX_HEAD];
    vx_header h;
    int rc = 0;
    errno = 0;
    if (pread(fd, head, want, 0) != (ssize_t)want)
        rc = nn_set_last_error("%s: cannot read '%s': %s", load_op, path,
                               errno ? strerror(errno) : "it is shorter than its size");
    else if ((rc = check_header(path, head, size, &h)) == 0)
        *most = (size_t)size, *regular = true;
    close(fd);
    return rc;
}

/* ---- load: the entries ------------------------------------------------------------------ */

/* Where each entry starts, from walking the lengths in b[16 .. end): every text length at
 * most 1 MiB and every text and vector inside the file, the last one ending at `end`.
 * 0, or -1 with the message. */
static int walk(const char *path, const unsigned char *b, size_t end, size_t len,
                const vx_header *h, size_t *at) {
    size_t pos = VX_HEAD, values = 4 * (size_t)h->dim;
    for (uint32_t i = 0; i < h->count; i++) {
        at[i] = pos;
        const char *what = NULL;
        uint32_t tlen = 0;
        if (end - pos < 8) {
            what = "the file ends before its tag and text length";
        } else if ((tlen = nn_get_le32(b + pos + 4)) > NN_VECTOR_INDEX_MAX_TEXT) {
            return nn_set_last_error("%s: '%s' is corrupt: entry %u of %u: a text length of %u "
                                     "bytes at byte %zu (at most %u)", load_op, path, i + 1,
                                     h->count, tlen, pos + 4, NN_VECTOR_INDEX_MAX_TEXT);
        } else if (end - pos - 8 < tlen) {
            what = "the file ends inside its text";
        } else if (end - pos - 8 - tlen < values) {
            what = "the file ends inside its vector";
        }
        if (what)
            return nn_set_last_error("%s: '%s' is truncated or corrupt (%zu bytes): entry %u of "
                                     "%u, at byte %zu: %s", load_op, path, len, i + 1, h->count,
                                     pos, what);
        pos += 8 + tlen + values;
    }
    if (pos != end)
        return nn_set_last_error("%s: '%s' is corrupt: %zu unexpected byte(s) after its %u "
                                 "entries (%zu bytes expected, the file has %zu)", load_op, path,
                                 end - pos, h->count, pos + 4, len);
    return 0;
}

/* Entry i (1-based in messages) at b + at: valid UTF-8, finite values, length 1; then it
 * joins ix (row: dim floats of scratch). 0, or -1 with the message. */
static int add_entry(nn_vector_index *ix, const char *path, const unsigned char *b, uint32_t i,
                     float *row) {
    uint32_t tlen = nn_get_le32(b + 4);
    const char *text = (const char *)b + 8;
    char where[300];
    if (nn_utf8_find_bad(text, tlen, where, sizeof where) < tlen)
        return nn_set_last_error("%s: '%s' is corrupt: the text of entry %u is not valid "
                                 "UTF-8: %s", load_op, path, i + 1, where);
    const unsigned char *v = b + 8 + tlen;
    for (int k = 0; k < ix->dim; k++) row[k] = nn_bits_float(nn_get_le32(v + 4 * k));
    size_t bad = nn_find_nonfinite(row, (size_t)ix->dim);
    if (bad < (size_t)ix->dim)
        return nn_set_last_error("%s: '%s' is corrupt: value %zu of entry %u's vector is %g",
                                 load_op, path, bad, i + 1, row[bad]);
    double n2 = nn_vx_norm2(row, (size_t)ix->dim);
    if (fabs(n2 - 1.0) > VX_UNIT_TOL)
        return nn_set_last_error("%s: '%s' is corrupt: entry %u's vector has length %.7g, but "
                                 "an index stores unit vectors (length 1)", load_op, path, i + 1,
                                 sqrt(n2));
    nn_vx_append(ix, row, text, tlen, int_of(nn_get_le32(b)));
    return 0;
}

/* The index in b[0 .. len) (the whole file), every byte checked; NULL with the message. */
static nn_vector_index *parse(const char *path, const unsigned char *b, size_t len) {
    vx_header h;
    if (check_header(path, b, len, &h) != 0) return NULL; /* again: a pipe, or a changed file */
    size_t *at = nn_xmalloc((h.count ? h.count : 1) * sizeof *at);
    nn_vector_index *ix = NULL;
    if (walk(path, b, len - 4, len, &h, at) != 0) goto done;
    uint32_t stored = nn_get_le32(b + len - 4), crc = nn_crc32(b, len - 4);
    if (stored != crc) {
        nn_set_last_error("%s: '%s' is corrupt: checksum mismatch (CRC-32 stored %08x, computed "
                          "%08x); some bytes changed after it was saved", load_op, path, stored,
                          crc);
        goto done;
    }
    ix = nn_vector_index_new((int)h.dim);
    float *row = nn_xmalloc(h.dim * sizeof *row);
    for (uint32_t i = 0; i < h.count && ix; i++)
        if (add_entry(ix, path, b + at[i], i, row) != 0) {
            nn_vector_index_free(ix);
            ix = NULL;
        }
    free(row);
done:
    free(at);
    return ix;
}

nn_vector_index *nn_vector_index_load(const char *path) {
    if (!path) {
        nn_fail(load_op, "pass the file nn_vector_index_save wrote, such as \"poems.nnvx\"",
                "path is NULL");
        return NULL;
    }
    size_t most, len;
    bool regular;
    if (check_before_reading(path, &most, &regular) != 0) return NULL;
    char *file;
    const char *note = regular ? "its size when the load began: it grew meanwhile"
                               : "the most read from a pipe or device";
    if (nn_read_file(load_op, path, most, note, &file, &len) != 0) return NULL;
    nn_vector_index *ix = parse(path, (const unsigned char *)file, len);
    free(file);
    return ix;
}
