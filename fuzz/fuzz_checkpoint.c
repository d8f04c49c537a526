/* fuzz/fuzz_checkpoint.c — nn_model_load (src/data/checkpoint.c) on arbitrary bytes.
 *
 * The model (fuzz_model.h) is built once. Each input is loaded twice: as it is, and with
 * its last 4 bytes replaced by the right CRC-32 of the rest, so that mutations get past the
 * checksum and reach the structure and model-matching checks. A load must return 0 or -1
 * (no crash, no misuse report, no leak), and a failed load must leave the model's values
 * exactly as they were. */
#include "fuzz_input.h"
#include "fuzz_model.h"


static nn_model *model;
static float *before; /* the model's values before a load */

static void load_and_check(const uint8_t *data, size_t size) {
    memcpy(before, model->data, model->count * sizeof(float));
    int rc = nn_model_load(model, fuzz_input_path(data, size));
    if (rc != 0 && rc != -1) abort();
    if (rc != 0 && memcmp(before, model->data, model->count * sizeof(float)) != 0) {
        fprintf(stderr, "fuzz: a failed nn_model_load changed the model (%s)\n", nn_last_error());
        abort();
    }
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
    return 0;
}
