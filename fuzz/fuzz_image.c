/* fuzz/fuzz_image.c — nn_image_load (src/data/image.c and the stb_image decoders behind
 * it: PNG, JPEG, BMP, GIF, TGA, PNM, PSD, HDR, PIC) on arbitrary bytes.
 *
 * The pixel limit is on, at 1024 x 1024: a header that claims more is refused before
 * anything large is allocated. (It is lower than the default so that every input stays fast
 * under the sanitizers: a picture near 4096 x 4096 takes ~7 s to decode there and would trip
 * -timeout; truncated files that used to decode to such sizes are now refused up front.) Each input is loaded with its own
 * channel count; when that works it is loaded again as grey and as RGBA (the conversion
 * paths). A load must give a (C, H, W) tensor with values in 0..1, or NULL: no crash, no
 * misuse report, no leak, no out-of-bounds access. */
#include "fuzz_input.h"

#define MAX_PIXELS ((size_t)1024 * 1024)

static void check_image(const nn_tensor *img, int channels) {
    if (img->ndim != 3 || (channels && img->shape[0] != channels) || img->shape[0] < 1 ||
        img->shape[0] > 4 || (size_t)img->shape[1] * img->shape[2] > MAX_PIXELS)
        abort();
    for (size_t i = 0; i < img->size; i++)
        if (!(img->data[i] >= 0.0f && img->data[i] <= 1.0f)) abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    nn_image_set_max_pixels(MAX_PIXELS);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_input_path(data, size);
    nn_tensor *img = nn_image_load(path, 0);
    if (!img) return 0;
    check_image(img, 0);
    nn_tensor_free(img);

    static const int convert_to[] = {1, 4};
    for (int k = 0; k < 2; k++) {
        img = nn_image_load(path, convert_to[k]);
        if (img) check_image(img, convert_to[k]);
        nn_tensor_free(img);
    }
    return 0;
}
