/* fuzz/fuzz_vector_index.c — nn_vector_index_load (src/data/vector_index_file.c) on
 * arbitrary bytes.
 *
 * Each input is loaded twice: as it is, and with its last 4 bytes replaced by the right
 * CRC-32 of the rest, so that mutations get past the checksum and reach the checks of the
 * entries (UTF-8 texts, finite values, unit vectors). A load must give an index or NULL with
 * a message: no crash, no misuse report (fuzz_input.h makes one a crash), no leak. An index
 * that loads must be consistent: valid UTF-8 texts with a NUL after them, unit vectors, and a
 * search (with a stored vector, and with a fixed query) that returns every entry exactly
 * once, best first, each score in -1 .. 1 and equal scores in the order of their ids. */
#include "fuzz_input.h"

#include <math.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

static void check_entries(const nn_vector_index *ix, int n, int dim) {
    for (int i = 0; i < n; i++) {
        size_t len;
        const char *text = nn_vector_index_text(ix, i, &len);
        if (!text || text[len] != 0 || nn_utf8_check(text, len, NULL) != 0) abort();
        const float *v = nn_vector_index_vector(ix, i);
        double n2 = 0;
        for (int d = 0; d < dim; d++) n2 += (double)v[d] * v[d];
        if (!(fabs(n2 - 1.0) <= 1e-4)) abort();
        (void)nn_vector_index_tag(ix, i);
    }
}

/* Search for query with k = n + 1: all n entries, once each, sorted. */
static void check_search(const nn_vector_index *ix, int n, const float *query) {
    int *ids = malloc(((size_t)n + 1) * sizeof *ids);
    float *scores = malloc(((size_t)n + 1) * sizeof *scores);
    unsigned char *seen = calloc((size_t)n + 1, 1);
    if (!ids || !scores || !seen) abort();
    if (nn_vector_index_search(ix, query, n + 1, ids, scores) != n) abort();
    for (int j = 0; j < n; j++) {
        if (ids[j] < 0 || ids[j] >= n || seen[ids[j]]++) abort();
        if (!(scores[j] >= -1.0f && scores[j] <= 1.0f)) abort();
        if (j > 0 && (scores[j - 1] < scores[j] ||
                      (scores[j - 1] == scores[j] && ids[j - 1] > ids[j])))
            abort();
    }
    free(seen);
    free(scores);
    free(ids);
}

static void load_and_check(const uint8_t *data, size_t size) {
    nn_set_last_error("%s", ""); /* so a NULL must come with its own reason */
    nn_vector_index *ix = nn_vector_index_load(fuzz_input_path(data, size));
    if (!ix) {
        if (!strstr(nn_last_error(), "nn_vector_index_load: ")) abort();
        return;
    }
    int n = nn_vector_index_count(ix), dim = nn_vector_index_dim(ix);
    if (n < 0 || dim < 1 || dim > NN_VECTOR_INDEX_MAX_DIM) abort();
    check_entries(ix, n, dim);
    float *query = malloc((size_t)dim * sizeof *query);
    if (!query) abort();
    for (int d = 0; d < dim; d++) query[d] = (float)(d % 3) - 0.5f; /* never zero */
    check_search(ix, n, query);
    if (n > 0) check_search(ix, n, nn_vector_index_vector(ix, n - 1));
    free(query);
    nn_vector_index_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_with_fixed_crc(data, size, 20, load_and_check);
    return 0;
}
