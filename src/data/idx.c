/* src/data/idx.c — the IDX files of MNIST and Fashion-MNIST, plain or gzip'd
 * (see include/nn/data/idx.h).
 *
 * An IDX file is a tiny header and then raw bytes:
 *
 *   00 00 08 03  | N (uint32, big-endian) | rows | cols | N*rows*cols pixel bytes   images
 *   00 00 08 01  | N                                    | N label bytes             labels
 *
 * The third byte is the element type (08 = unsigned byte), the fourth the number of
 * dimensions. zlib's gzread reads a gzip'd file and a plain one alike, so one reader covers
 * both. Everything in the header comes from outside and is checked before it is trusted:
 * the data is read in chunks, so a header that claims a billion images in a 100-byte file
 * fails with "truncated" instead of allocating gigabytes first.
 */
#include "internal.h"
#include "nn/data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_MAX_SIDE 65535   /* rows, cols: anything larger is a corrupt header */
#define IDX_CHUNK (1u << 22) /* bytes per gzread */

static const char *type_name(int code) {
    switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "not an IDX type";
    }
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* zlib's own words for the last error on gz ("unexpected end of file", "incorrect data
 * check", ...), or "" when there was none. (gzerror puts "<path>: " in front; we drop it,
 * our messages name the file already.) */
static const char *zlib_says(gzFile gz, const char *path) {
    int code = Z_OK;
    const char *msg = gzerror(gz, &code);
    if (code == Z_OK || !msg) return "";
    if (code == Z_ERRNO) return strerror(errno);
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    return msg;
}

/* The message for a failed gzread: an operating-system error ("Is a directory") or zlib
 * finding the compressed data damaged ("invalid stored block lengths"). Returns -1. */
static int read_failed(gzFile gz, const char *op, const char *path, const char *where) {
    int code = Z_OK;
    gzerror(gz, &code);
    if (code == Z_ERRNO)
        return nn_set_last_error("%s: cannot read '%s': %s", op, path, strerror(errno));
    return nn_set_last_error("%s: '%s' is corrupt %s (zlib: %s)", op, path, where,
                             zlib_says(gz, path));
}

/* Read up to n bytes; returns how many arrived (less at the end of the data), or -1 on a
 * read or decompression error. */
static long long read_some(gzFile gz, unsigned char *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < IDX_CHUNK ? n - done : IDX_CHUNK;
        int got = gzread(gz, buf + done, (unsigned)want);
        if (got < 0) return -1;
        if (got == 0) break;
        done += (size_t)got;
    }
    return (long long)done;
}

/* An open IDX file whose header has been read and checked. */
typedef struct idx_file {
    gzFile gz;
    int ndim;
    uint32_t dims[3];
    size_t item_bytes;   /* bytes per item: rows * cols for images, 1 for labels */
} idx_file;

/* Open path and check its header for `want_ndim` dims of unsigned bytes. 0, or -1 with
 * nn_last_error() set (and nothing left open). */
static int idx_open(const char *op, const char *path, int want_ndim, idx_file *f) {
    const char *what = want_ndim == 3 ? "images (magic 00 00 08 03)" : "labels (magic 00 00 08 01)";
    memset(f, 0, sizeof *f);
    if (!path) {
        nn_fail(op, "pass the path of an IDX file (plain or .gz)", "path is NULL");
        return -1;
    }
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return nn_set_last_error("%s: cannot open '%s': %s", op, path,
                                 errno ? strerror(errno) : "out of memory");
    gzbuffer(f->gz, 1u << 17);

    unsigned char head[16];
    long long got = read_some(f->gz, head, 4);
    if (got < 0) {
        read_failed(f->gz, op, path, "in its header");
        goto fail;
    }
    if (got < 4) {
        nn_set_last_error("%s: '%s' is truncated: %lld byte(s), but an IDX file starts with 4 "
                          "magic bytes; expected %s", op, path, got, what);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        nn_set_last_error("%s: '%s' is not an IDX file: it starts with %02x %02x %02x %02x, "
                          "expected %s", op, path, head[0], head[1], head[2], head[3], what);
        goto fail;
    }
    if (head[2] != 0x08) {
        nn_set_last_error("%s: '%s' has IDX type code 0x%02x (%s); only 0x08 (unsigned byte) "
                          "is supported, as in MNIST and Fashion-MNIST",
                          op, path, head[2], type_name(head[2]));
        goto fail;
    }
    f->ndim = head[3];
    if (f->ndim != want_ndim) {
        nn_set_last_error("%s: '%s' has %d dimension(s), expected %d: %s%s", op, path, f->ndim,
                          want_ndim, what,
                          f->ndim == 1 ? " (this looks like a label file)"
                          : f->ndim == 3 ? " (this looks like an image file)" : "");
        goto fail;
    }
    got = read_some(f->gz, head + 4, 4 * (size_t)f->ndim);
    if (got < 0) {
        read_failed(f->gz, op, path, "in its header");
        goto fail;
    }
    if (got < 4 * f->ndim) {
        nn_set_last_error("%s: '%s' is truncated in its header: %lld of the %d bytes of "
                          "dimension sizes", op, path, got, 4 * f->ndim);
        goto fail;
    }
    static const char *const dim_names[3] = {"count N", "rows", "cols"};
    f->item_bytes = 1;
    for (int d = 0; d < f->ndim; d++) {
        f->dims[d] = be32(head + 4 + 4 * d);
        uint32_t max = d == 0 ? (uint32_t)INT32_MAX : IDX_MAX_SIDE;
        if (f->dims[d] == 0 || f->dims[d] > max) {
            nn_set_last_error("%s: '%s' has an implausible %s of %u in its header (expected 1 .. "
                              "%u); the header is corrupt", op, path, dim_names[d], f->dims[d], max);
            goto fail;
        }
        if (d > 0) f->item_bytes *= f->dims[d];
    }

    /* A plain (not gzip'd) file's size is known now: check it before reading anything. */
    struct stat st;
    if (gzdirect(f->gz) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        unsigned long long need = 4ull + 4ull * f->ndim + (unsigned long long)f->dims[0] * f->item_bytes;
        unsigned long long have = (unsigned long long)st.st_size;
        if (have < need) {
            nn_set_last_error("%s: '%s' is truncated: its header promises %u item(s) of %zu "
                              "byte(s), %llu bytes in all, but the file has %llu",
                              op, path, f->dims[0], f->item_bytes, need, have);
            goto fail;
        }
        if (have > need) {
            nn_set_last_error("%s: '%s' has %llu unexpected byte(s) after the data (header: %u "
                              "item(s) of %zu byte(s), %llu bytes in all)",
                              op, path, have - need, f->dims[0], f->item_bytes, need);
            goto fail;
        }
    }
    return 0;
fail:
    gzclose(f->gz);
    f->gz = NULL;
    return -1;
}

/* Read the first n items' bytes (n <= N). With `to_end` (all N items), also make sure the
 * file ends right after them (and that gzip's checksum agrees). Returns a malloc'd buffer,
 * or NULL with nn_last_error() set. Closes nothing. */
static unsigned char *idx_read_items(const char *op, const char *path, idx_file *f, size_t n,
                                     bool to_end) {
    size_t want = n * f->item_bytes;
    /* Grow the buffer as data arrives, so a lying header cannot make us allocate more than
     * twice what the file really holds. */
    size_t cap = want < IDX_CHUNK ? want : IDX_CHUNK;
    unsigned char *buf = malloc(cap);
    size_t have = 0;
    while (buf && have < want) {
        if (have == cap) {
            size_t bigger = cap * 2 < want ? cap * 2 : want;
            unsigned char *p = realloc(buf, bigger);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap = bigger;
        }
        size_t ask = cap - have;
        long long got = read_some(f->gz, buf + have, ask);
        if (got < 0) {
            char where[64];
            snprintf(where, sizeof where, "after %zu bytes of data", have);
            read_failed(f->gz, op, path, where);
            free(buf);
            return NULL;
        }
        have += (size_t)got;
        if ((size_t)got < ask) { /* the data ended early */
            const char *z = zlib_says(f->gz, path);
            nn_set_last_error("%s: '%s' is truncated: the header promises %u item(s) of %zu "
                              "byte(s) (%zu bytes of data), but only %zu arrived%s%s%s",
                              op, path, f->dims[0], f->item_bytes, f->dims[0] * f->item_bytes,
                              have, *z ? " (zlib: " : "", z, *z ? ")" : "");
            free(buf);
            return NULL;
        }
    }
    if (!buf) {
        nn_set_last_error("%s: out of memory reading %zu bytes from '%s'", op, want, path);
        return NULL;
    }
    if (to_end) {
        unsigned char extra[4096];
        long long more = read_some(f->gz, extra, sizeof extra);
        unsigned long long total = more > 0 ? (unsigned long long)more : 0;
        while (more == (long long)sizeof extra) { /* count them all, for the message */
            more = read_some(f->gz, extra, sizeof extra);
            if (more > 0) total += (unsigned long long)more;
        }
        const char *z = zlib_says(f->gz, path);
        if (total > 0) {
            nn_set_last_error("%s: '%s' has %llu unexpected byte(s) after the data (header: %u "
                              "item(s) of %zu byte(s))", op, path, total, f->dims[0], f->item_bytes);
            free(buf);
            return NULL;
        }
        if (more < 0 || *z) {
            read_failed(f->gz, op, path, "at the end of its gzip stream");
            free(buf);
            return NULL;
        }
    }
    return buf;
}

/* How many items to read: all N, or the first `limit` when 0 < limit < N. */
static size_t items_to_read(const idx_file *f, int limit) {
    return limit > 0 && (uint32_t)limit < f->dims[0] ? (size_t)limit : f->dims[0];
}

nn_tensor *nn_idx_load_images(const char *path, int limit) {
    const char *op = "nn_idx_load_images";
    idx_file f;
    if (idx_open(op, path, 3, &f) != 0) return NULL;
    size_t n = items_to_read(&f, limit);
    unsigned char *bytes = idx_read_items(op, path, &f, n, n == f.dims[0]);
    gzclose(f.gz);
    if (!bytes) return NULL;
    /* (N, 1, rows, cols): one grey channel, the layout a conv layer expects. */
    nn_tensor *x = nn_zeros(NN_SHAPE((int)n, 1, (int)f.dims[1], (int)f.dims[2]));
    for (size_t i = 0; i < x->size; i++) x->data[i] = bytes[i] / 255.0f;
    free(bytes);
    return x;
}

int *nn_idx_load_labels(const char *path, int limit, int *count) {
    const char *op = "nn_idx_load_labels";
    if (count) *count = 0;
    idx_file f;
    if (idx_open(op, path, 1, &f) != 0) return NULL;
    size_t n = items_to_read(&f, limit);
    unsigned char *bytes = idx_read_items(op, path, &f, n, n == f.dims[0]);
    gzclose(f.gz);
    if (!bytes) return NULL;
    int *labels = malloc(n * sizeof(int));
    if (!labels) {
        free(bytes);
        nn_set_last_error("%s: out of memory for %zu labels from '%s'", op, n, path);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) labels[i] = bytes[i];
    free(bytes);
    if (count) *count = (int)n;
    return labels;
}
