/* fuzz/fuzz_idx.c — the IDX loaders (src/data/idx.c) on arbitrary bytes.
 *
 * Each input is read as an image file and as a label file, whole and with a limit of one
 * item, first as it is (a plain file) and then gzip'd in memory (so the gzip path sees
 * every kind of content, not only the rare mutations that keep a .gz valid). Any result is
 * fine as long as it is a tensor / label array or NULL: no crash, no misuse report, no
 * leak, no out-of-bounds access. */
#include "fuzz_input.h"

#include <zlib.h>

/* The input as a gzip stream (malloc'd, *out_size bytes), or NULL if zlib fails. */
static uint8_t *gzip_bytes(const uint8_t *data, size_t size, size_t *out_size) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16 /* gzip header */, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    size_t cap = deflateBound(&zs, (uLong)size);
    uint8_t *out = malloc(cap);
    if (out) {
        zs.next_in = (Bytef *)data;
        zs.avail_in = (uInt)size;
        zs.next_out = out;
        zs.avail_out = (uInt)cap;
        if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
            free(out);
            out = NULL;
        }
    }
    *out_size = zs.total_out;
    deflateEnd(&zs);
    return out;
}

/* Both loaders on the file at path, reading everything and then only the first item. */
static void load_both(const char *path) {
    for (int limit = 0; limit <= 1; limit++) {
        nn_tensor *images = nn_idx_load_images(path, limit);
        if (images && (images->ndim != 4 || images->shape[1] != 1)) abort();
        nn_tensor_free(images);

        int count = -1;
        int *labels = nn_idx_load_labels(path, limit, &count);
        if (labels ? count < 1 : count != 0) abort();
        free(labels);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_both(fuzz_input_path(data, size));

    size_t gz_size = 0;
    uint8_t *gz = gzip_bytes(data, size, &gz_size);
    if (gz) {
        load_both(fuzz_input_path(gz, gz_size));
        free(gz);
    }
    return 0;
}
