/* src/net/gpt_file.c — a saved GPT is a folder of three files:
 *   gpt.cfg   the config, one "key = value" per line (readable; nn_gpt_load parses it back)
 *   gpt.nnvc  the vocabulary (nn_vocab_save), when there is one
 *   gpt.nnck  the weights (nn_model_save), checked against the rebuilt model on load
 * Each file is written under a temporary name and renamed when complete. */
#include "internal.h"
#include <errno.h>
#include <sys/stat.h>
#include "nn/cli/out_path.h"
#include "nn/data/checkpoint.h"
#include "nn/net/gpt.h"

#define GPT_FORMAT 1
#define GPT_CFG_MAX 4096   /* bytes: a config file is a dozen short lines */

/* The config's fields in file order; `value` points into the struct being read or written. */
typedef struct { const char *key; int *value; } int_field;

static int fields_of(nn_gpt_config *c, int *tied, int *position, int *bias, int_field *f) {
    int n = 0;
    f[n++] = (int_field){"vocab", &c->vocab};
    f[n++] = (int_field){"context", &c->context};
    f[n++] = (int_field){"dim", &c->dim};
    f[n++] = (int_field){"heads", &c->heads};
    f[n++] = (int_field){"layers", &c->layers};
    f[n++] = (int_field){"ffn", &c->ffn};
    f[n++] = (int_field){"tied", tied};
    f[n++] = (int_field){"sinusoidal", position};
    f[n++] = (int_field){"head_bias", bias};
    return n;
}

static char *path_in(char *buf, size_t size, const char *dir, const char *file) {
    return nn_out_path(buf, size, dir, file);
}

int nn_gpt_save(const nn_gpt *gpt, const nn_vocab *vocab, const char *dir) {
    const char *op = "nn_gpt_save";
    if (!gpt || !dir) {
        nn_fail(op, "a model from nn_gpt_new and a folder name", "%s is NULL",
                !gpt ? "the model" : "dir");
        return -1;
    }
    if (vocab && vocab->size != gpt->cfg.vocab) {
        nn_fail(op, "the vocabulary the model was built for", "the vocabulary has %d entries, "
                "the model's config says vocab = %d", vocab->size, gpt->cfg.vocab);
        return -1;
    }
    if (gpt->adapters) {   /* nn_gpt_load rebuilds the base only: it could not read them back */
        nn_fail(op, "merge the adapters into the weights (nn_gpt_lora_merge) or take them off "
                "(nn_gpt_lora_remove) first; nn_gpt_lora_save writes the adapters alone",
                "the model has LoRA or adapter layers attached");
        return -1;
    }
    char path[4096];
    nn_gpt_config c = gpt->cfg;
    int tied = !c.untied, position = c.position == NN_POSITION_SINUSOIDAL, bias = c.head_bias;
    int_field f[9];
    int nf = fields_of(&c, &tied, &position, &bias, f);
    if (!path_in(path, sizeof path, dir, "gpt.cfg")) return -1;
    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (e) return nn_set_last_error("%s: cannot create a file next to '%s': %s", op, path,
                                    strerror(e));
    int err = 0;
    if (fprintf(out.f, "# a GPT saved by libnn (nn_gpt_save, nn/net/gpt.h)\nformat = %d\n",
                GPT_FORMAT) < 0) err = errno ? errno : EIO;
    for (int i = 0; i < nf && !err; i++)
        if (fprintf(out.f, "%s = %d\n", f[i].key, *f[i].value) < 0) err = errno ? errno : EIO;
    if (!err && fprintf(out.f, "dropout = %.9g\n", (double)c.dropout) < 0) err = errno ? errno : EIO;
    e = nn_safe_commit(&out, path, err, true);
    if (e) return nn_set_last_error("%s: cannot write '%s': %s", op, path, strerror(e));
    if (vocab && (!path_in(path, sizeof path, dir, "gpt.nnvc") || nn_vocab_save(vocab, path) != 0))
        return -1;
    if (!path_in(path, sizeof path, dir, "gpt.nnck") || nn_model_save(gpt->model, path) != 0)
        return -1;
    return 0;
}

/* ---- load ------------------------------------------------------------------------------ */

/* Parse "key = value" lines into c; every key exactly once, nothing else (comments and blank
 * lines aside). 0, or -1 with the line that is wrong in nn_last_error(). */
static int parse_config(const char *path, char *text, nn_gpt_config *c) {
    int tied = -1, position = -1, bias = -1, format = -1;
    *c = (nn_gpt_config){.vocab = -1, .context = -1, .dim = -1, .heads = -1, .layers = -1,
                         .ffn = -1, .dropout = -1.0f};
    int_field f[10];
    int nf = fields_of(c, &tied, &position, &bias, f);
    f[nf++] = (int_field){"format", &format};
    bool seen[10] = {false}, dropout_seen = false;   /* one per entry of f */
    int line = 0;
    for (char *s = text, *next; s && *s; s = next) {
        line++;
        next = strchr(s, '\n');
        if (next) *next++ = '\0';
        if (*s == '#' || *s == '\0') continue;
        char key[32], rest[64];
        int used = 0;   /* "key = value", nothing after it but blanks */
        if (sscanf(s, " %31[a-z_] = %63s %n", key, rest, &used) != 2 || used == 0 || s[used])
            goto bad;
        char *end;
        if (strcmp(key, "dropout") == 0) {
            c->dropout = strtof(rest, &end);
            if (*end || dropout_seen) goto bad;
            dropout_seen = true;
            continue;
        }
        int i = 0;
        while (i < nf && strcmp(f[i].key, key) != 0) i++;
        long v = strtol(rest, &end, 10);
        if (i == nf || seen[i] || *end || v < 0 || v > 1 << 30) goto bad;
        seen[i] = true;
        *f[i].value = (int)v;
        continue;
    bad:
        return nn_set_last_error("nn_gpt_load: %s line %d: expected one of the keys format, "
                                 "vocab, context, dim, heads, layers, ffn, tied, sinusoidal, "
                                 "head_bias, dropout, each once, as \"key = number\"; found \"%.60s\"",
                                 path, line, s);
    }
    for (int i = 0; i < nf; i++) {
        if (!seen[i] && strcmp(f[i].key, "head_bias") == 0) {
            bias = 0;   /* added after the first files of format 1 were written: absent = none */
            continue;
        }
        if (!seen[i])
            return nn_set_last_error("nn_gpt_load: %s has no line \"%s = ...\"", path, f[i].key);
    }
    if (!dropout_seen)
        return nn_set_last_error("nn_gpt_load: %s has no line \"dropout = ...\"", path);
    if (format != GPT_FORMAT)
        return nn_set_last_error("nn_gpt_load: %s is format %d; this library reads format %d",
                                 path, format, GPT_FORMAT);
    if (tied > 1 || position > 1 || bias > 1)
        return nn_set_last_error("nn_gpt_load: %s: tied, sinusoidal and head_bias are 0 or 1",
                                 path);
    c->untied = !tied;
    c->head_bias = bias;
    c->position = position ? NN_POSITION_SINUSOIDAL : NN_POSITION_LEARNED;
    return 0;
}

nn_gpt *nn_gpt_load(const char *dir, nn_vocab **vocab) {
    if (vocab) *vocab = NULL;
    if (!dir) {
        nn_fail("nn_gpt_load", "the folder nn_gpt_save wrote", "dir is NULL");
        return NULL;
    }
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/gpt.cfg", dir);
    if (nn_read_file("nn_gpt_load", path, GPT_CFG_MAX, "a config", &text, &len) != 0) return NULL;
    nn_gpt_config c;
    int bad = strlen(text) != len ? nn_set_last_error("nn_gpt_load: %s contains a NUL byte",
                                                      path)
                                  : parse_config(path, text, &c);
    free(text);
    if (bad) return NULL;
    char why[256];
    if (nn_gpt_config_check(&c, why, sizeof why) != 0) {
        nn_set_last_error("nn_gpt_load: %s describes no valid model: %s", path, why);
        return NULL;
    }
    /* The weights file must be large enough for the model before the model is built: a
     * damaged config asking for a billion parameters is refused here, not by running out of
     * memory. (nn_model_load then checks every name, shape and byte.) */
    snprintf(path, sizeof path, "%s/gpt.nnck", dir);
    struct stat st;
    if (stat(path, &st) != 0) {
        nn_set_last_error("nn_gpt_load: cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    double floats = nn_gpt_config_parameters(&c);
    if (floats * 4.0 > (double)st.st_size) {
        nn_set_last_error("nn_gpt_load: '%s' has %lld bytes, too few for the %.0f parameters of "
                          "the model its gpt.cfg describes: the files do not belong together",
                          path, (long long)st.st_size, floats);
        return NULL;
    }
    nn_gpt *g = nn_gpt_new(&c);
    if (!g) return NULL;
    if (nn_model_load(g->model, path) != 0) {
        nn_gpt_free(g);
        return NULL;
    }
    if (vocab) {
        snprintf(path, sizeof path, "%s/gpt.nnvc", dir);
        *vocab = nn_vocab_load(path);
        if (!*vocab || (*vocab)->size != c.vocab) {
            if (*vocab)
                nn_set_last_error("nn_gpt_load: %s has %d entries; the model's config says "
                                  "vocab = %d", path, (*vocab)->size, c.vocab);
            nn_vocab_free(*vocab);
            *vocab = NULL;
            nn_gpt_free(g);
            return NULL;
        }
    }
    return g;
}
