/* fuzz/fuzz_csv.c — nn_csv_load (src/data/csv.c) on arbitrary bytes.
 *
 * The first byte of an input picks the options, the rest is the file:
 *   bits 0-1  separator: ',' ';' '\t' ' '
 *   bit  2    header line
 *   bits 3-4  label column: none, the last one, column 0, column 1
 * (make_seeds writes its CSV seeds with such a byte in front.) A load must return 0 with a
 * consistent data set (X of N rows, labels in 0 .. num_classes-1), or -1 with *ds all zeros:
 * no crash, no misuse report, no leak, no out-of-bounds access. */
#include "fuzz_input.h"

#include <nn/data/csv.h>

#include <math.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char separators[4] = {',', ';', '\t', ' '};
    static const int label_columns[4] = {NN_CSV_NO_LABELS, NN_CSV_LAST_COLUMN, 0, 1};
    nn_csv_options opt = NN_CSV_DEFAULTS;
    opt.separator = separators[data[0] & 3];
    opt.header = data[0] >> 2 & 1;
    opt.label_column = label_columns[data[0] >> 3 & 3];

    nn_dataset ds;
    memset(&ds, 0xA5, sizeof ds); /* garbage in: the loader must set every field */
    int rc = nn_csv_load(fuzz_input_path(data + 1, size - 1), &opt, &ds);
    if (rc == 0) {
        if (!ds.X || ds.X->ndim != 2 || ds.X->shape[0] != ds.n) abort();
        if ((opt.label_column == NN_CSV_NO_LABELS) != (ds.labels == NULL)) abort();
        for (int i = 0; ds.labels && i < ds.n; i++)
            if (ds.labels[i] < 0 || ds.labels[i] >= ds.num_classes) abort();
        for (size_t i = 0; i < ds.X->size; i++)
            if (!isfinite(ds.X->data[i])) abort();
        nn_dataset_free(&ds);
    } else if (rc != -1 || ds.X || ds.labels || ds.Y || ds.order || ds.n || ds.num_classes) {
        abort();
    }
    return 0;
}
