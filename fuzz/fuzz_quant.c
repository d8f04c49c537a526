/* fuzz/fuzz_quant.c — nn_model_load_quantized (src/data/quant_checkpoint.c) on arbitrary
 * bytes, and the int4 / int8 round trips (src/ops/quant.c) on arbitrary floats.
 *
 * The model (fuzz_model.h: a 4-D convolution weight, a 2-D linear weight, two biases) is
 * built once. Each input is loaded twice: as it is, and with its last 4 bytes replaced by the
 * right CRC-32 of the rest, so that mutations get past the checksum and reach the record,
 * scale and value checks. A load must return 0 or -1 (no crash, no misuse report, no leak);
 * a failed load must leave the model's values as they were, and a successful one must leave
 * them all finite.
 * Then the same bytes, read as float32 (non-finite ones replaced by 0; the first two bytes
 * pick the rows and the group), go through nn_q4_roundtrip and nn_q8_roundtrip, and every
 * value must come back within half a step: |w - w'| <= s / 2. */
#include "fuzz_input.h"
#include "fuzz_model.h"

#include <math.h>

static nn_model *model;
static float *before; /* the model's values before a load */

static void load_and_check(const uint8_t *data, size_t size) {
    memcpy(before, model->data, model->count * sizeof(float));
    int rc = nn_model_load_quantized(model, fuzz_input_path(data, size));
    if (rc != 0 && rc != -1) abort();
    if (rc != 0 && memcmp(before, model->data, model->count * sizeof(float)) != 0) {
        fprintf(stderr, "fuzz: a failed nn_model_load_quantized changed the model (%s)\n",
                nn_last_error());
        abort();
    }
    for (size_t i = 0; rc == 0 && i < model->count; i++)
        if (!isfinite(model->data[i])) {
            fprintf(stderr, "fuzz: a loaded value is not finite (index %zu)\n", i);
            abort();
        }
}

/* w (rows, cols) against its round trip w2 with steps of max|w| / qmax over groups of g. */
static void check_bound(const float *w, const float *w2, size_t rows, size_t cols, size_t g,
                        int qmax) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c0 = 0; c0 < cols; c0 += g) {
            size_t c1 = c0 + g < cols ? c0 + g : cols;
            float m = 0;
            for (size_t c = c0; c < c1; c++) m = fmaxf(m, fabsf(w[r * cols + c]));
            float s = m / (float)qmax;
            for (size_t c = c0; c < c1; c++) {
                float err = fabsf(w[r * cols + c] - w2[r * cols + c]);
                if (!(err <= s / 2 * 1.0001f + 1e-37f)) {
                    fprintf(stderr, "fuzz: int%d round trip of %g gave %g: error %g > s/2 = %g\n",
                            qmax == 7 ? 4 : 8, w[r * cols + c], w2[r * cols + c], err, s / 2);
                    abort();
                }
            }
        }
}

static void roundtrips(const uint8_t *data, size_t size) {
    if (size < 6) return;
    size_t n = (size - 2) / 4, rows = 1 + data[0] % 4;
    int group = 1 + data[1] % 70;
    if (n < rows) return;
    size_t cols = n / rows;
    float *w = malloc(rows * cols * sizeof *w), *w2 = malloc(rows * cols * sizeof *w2);
    if (!w || !w2) abort();
    memcpy(w, data + 2, rows * cols * sizeof *w);
    for (size_t i = 0; i < rows * cols; i++)
        if (!isfinite(w[i])) w[i] = 0;
    memcpy(w2, w, rows * cols * sizeof *w);
    if (nn_q4_roundtrip(w2, rows, cols, group) != 0) abort();
    check_bound(w, w2, rows, cols, (size_t)group, 7);
    memcpy(w2, w, rows * cols * sizeof *w);
    if (nn_q8_roundtrip(w2, rows, cols) != 0) abort();
    check_bound(w, w2, rows, cols, cols, 127);
    free(w), free(w2);
}

static void free_model(void) {
    nn_model_free(model);
    free(before);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    model = fuzz_model_new();
    before = malloc(model->count * sizeof(float));
    if (!before) abort();
    atexit(free_model);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_with_fixed_crc(data, size, 16, load_and_check);
    roundtrips(data, size);
    return 0;
}
