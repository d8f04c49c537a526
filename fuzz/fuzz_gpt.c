/* fuzz/fuzz_gpt.c — the GPT folder loader (nn_gpt_load, src/net/gpt_file.c) on arbitrary
 * config files.
 *
 * Once: a tiny GPT is saved into a temporary folder (gpt.cfg, gpt.nnvc, gpt.nnck). Then each
 * input replaces gpt.cfg, and the folder is loaded. A config must either load a model that
 * matches the saved weights (and then runs a forward pass to finite logits), or give NULL
 * with a message: no crash, no misuse report, no huge allocation (a config describing a
 * larger model than the weights file can hold is refused from the file's size), no leak. */
#include "fuzz_input.h"

#include <math.h>
#include <sys/stat.h>

static char folder[256], cfg_path[300];

static void remove_folder(void) {
    static const char *const files[] = {"gpt.cfg", "gpt.nnvc", "gpt.nnck"};
    char p[300];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", folder, files[i]);
        unlink(p);
    }
    rmdir(folder);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    const char *tmp = getenv("TMPDIR");
    snprintf(folder, sizeof folder, "%s/nn-fuzz-gpt.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(folder)) {
        perror("fuzz: cannot make a temporary folder");
        abort();
    }
    atexit(remove_folder);
    snprintf(cfg_path, sizeof cfg_path, "%s/gpt.cfg", folder);
    const char *text = "床前明月光，疑是地上霜。";
    nn_vocab *v = nn_vocab_build(text, strlen(text), 0);
    nn_gpt_config cfg = {.vocab = v->size, .context = 8, .dim = 8, .heads = 2, .layers = 1};
    nn_gpt *g = nn_gpt_new(&cfg);
    if (!g || nn_gpt_save(g, v, folder) != 0) {
        fprintf(stderr, "fuzz: cannot save the tiny GPT: %s\n", nn_last_error());
        abort();
    }
    nn_gpt_free(g);
    nn_vocab_free(v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(cfg_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror("fuzz: writing gpt.cfg");
        abort();
    }
    nn_vocab *v;
    nn_gpt *g = nn_gpt_load(folder, &v);
    if (g) {
        if (!v || v->size != g->cfg.vocab) abort();
        int ids[2] = {1, 2};
        nn_tensor *logits = nn_gpt_forward(g, ids, 1, 2);
        for (size_t i = 0; i < logits->size; i++)
            if (!isfinite(logits->data[i])) abort();
        nn_gpt_free(g);
        nn_vocab_free(v);
    } else if (v) {
        abort();   /* a failed load leaves nothing allocated */
    }
    nn_graph_clear();
    return 0;
}
