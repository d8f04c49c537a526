/* fuzz/fuzz_bpe.c — the tokenizer loader (nn_bpe_load, src/data/bpe_file.c) on arbitrary
 * bytes.
 *
 * Bad bytes must give NULL with a message: no crash, no misuse report, no leak. Whatever
 * loads must be consistent: every merge's string is its two parts' strings joined, and a
 * small fixed text of Chinese, English and line breaks encodes to no more tokens than it has
 * characters, none of them spanning a line, and decodes to the text itself with the
 * characters the alphabet lacks as U+FFFD (what the base vocabulary alone gives). make_seeds
 * writes tokenizers trained on that text, so the fuzzer starts from files that load. */
#include "fuzz_input.h"

#include <nn/data/bpe.h>

static const char text[] = "床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n"
                           "The moon, the moon is bright.\n明月 moon 😀\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* Token id = its merge's left token followed by its right token. */
static void check_strings(const nn_bpe *bpe) {
    for (int k = 0; k < bpe->n_merges; k++) {
        size_t n, nl, nr;
        const char *s = nn_bpe_token(bpe, bpe->chars->size + k, &n);
        const char *l = nn_bpe_token(bpe, bpe->merges[k].left, &nl);
        const char *r = nn_bpe_token(bpe, bpe->merges[k].right, &nr);
        if (!s || !l || !r || n != nl + nr || memcmp(s, l, nl) || memcmp(s + nl, r, nr) ||
            s[n] != 0)
            abort();
    }
}

/* The fixed text through the tokenizer, against its base vocabulary alone. */
static void check_round_trip(const nn_bpe *bpe) {
    enum { MAX = sizeof text };
    int chars[MAX], ids[MAX];
    char want[4 * MAX], got[4 * MAX];
    int n = nn_vocab_encode(bpe->chars, text, sizeof text - 1, chars, MAX);
    int k = nn_bpe_encode(bpe, text, sizeof text - 1, ids, MAX);
    if (n <= 0 || k <= 0 || k > n) abort();
    int newline = nn_vocab_id(bpe->chars, '\n');
    for (int i = 0; i < k; i++) {
        const char *s = nn_bpe_token(bpe, ids[i], NULL);
        if (!s || (ids[i] != newline && strchr(s, '\n'))) abort();
    }
    int a = nn_vocab_decode(bpe->chars, chars, n, want, sizeof want);
    int b = nn_bpe_decode(bpe, ids, k, got, sizeof got);
    if (a < 0 || a != b || (size_t)a >= sizeof got || memcmp(want, got, (size_t)a) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_set_last_error("%s", ""); /* so that a refusal must say something of its own */
    nn_bpe *bpe = nn_bpe_load(fuzz_input_path(data, size));
    if (bpe) {
        if (bpe->size != bpe->chars->size + bpe->n_merges) abort();
        check_strings(bpe);
        check_round_trip(bpe);
    } else if (strncmp(nn_last_error(), "nn_bpe_load: ", 13) != 0) {
        abort(); /* refused without saying why */
    }
    nn_bpe_free(bpe);
    return 0;
}
