/* examples/ch06_model_size/model_size.c — 模型 (model), 权重 (weights), 大模型 (large model):
 * how many numbers a GPT is, and how much memory they take.
 *
 * The tutorial: 联结主义中的这个函数叫做模型 — the function is the model; 模型里的参数叫做权重 —
 * its parameters are the weights; 如果模型中的参数量特别大,就叫做大模型 — with very many of
 * them it is a large model. Here the same formula counts our tiny GPT of chapter 5 and, from
 * their published configurations, GPT-2 and a 7B model.
 *
 * The count (nn_gpt_config_parameters, include/nn/net/gpt.h; our block is pre-LayerNorm with
 * GELU, as GPT-2's):
 *   token table     V C                        (the head reuses it: weight tying)
 *   position table  T C                        (learned; 0 for sinusoidal / RoPE)
 *   per block       LN 2C + attention (3C^2 + 3C) + (C^2 + C) + LN 2C
 *                   + feed-forward (C F + F) + (F C + C)        F = 4C: 12 C^2 + 13 C
 *   final LN        2C;  an untied head adds C V, a head bias (cfg.head_bias) V
 * checked against models really built with nn_gpt_new (the sum of gpt->model's tensors, part
 * by part, by parameter name).
 *
 * Memory is the count times the bytes per number: float32 4, float16 2, int8 1, int4 1/2
 * (quantized formats also keep a scale per group of weights, a few percent more; left out).
 * Training with Adam in float32 needs 16 bytes per parameter: the weights (4), their
 * gradients (4) and Adam's two moving averages m and v (4 + 4) — mixed precision keeps about
 * the same (2 + 2 + a float32 master copy 4 + 4 + 4) — plus the activations of a batch, which
 * depend on B and T and are left out. Inference needs the weights plus, with a KV cache
 * (chapter 6's inference demo), 2 L T C numbers per sequence at full context.
 *
 * LLaMA-7B is not our block: SwiGLU's feed-forward has three C x F matrices (gate, up, down)
 * where our GELU one has two, it has no biases, RMSNorm keeps a scale but no shift, and RoPE
 * rotates q and k instead of adding a position table. The program prints our formula's count
 * for its configuration, the published 6,738,415,616, and the terms that make up the gap.
 *
 * Prints: the configurations, one table (parameters, the count of the built model, memory in
 * each format, for training, the KV cache), the part-by-part check, the 7B reconciliation,
 * and the checkpoint file of the default model beside its 4 bytes per weight.
 *
 *   model_size [--quick | --full] [--seed N] [--out DIR]
 *   default   counts, builds the three tiny configs, saves the default one's checkpoint
 *             (DIR/ch06_model_size_gpt/) to compare file and weights; milliseconds
 *   --quick   the same (it is all arithmetic)
 *   --full    also builds GPT-2 124M for real (about 1 GB of memory for its weights and
 *             gradients; a few seconds) and checks its count
 */
#include <nn.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* LLaMA-7B's parameter count as published (Hugging Face LlamaForCausalLM, "7B"). */
#define LLAMA7B_PUBLISHED 6738415616.0
#define GPT2_PUBLISHED 124439808.0   /* GPT-2 small, tied head ("124M") */
#define GPT2XL_PUBLISHED 1557611200.0

typedef struct row {
    const char *name, *source;
    nn_gpt_config cfg;
    double published;     /* 0: ours, none published */
    bool build;           /* build it with nn_gpt_new and count */
} row;

/* Bytes as text, binary units: 1.0 MiB, 12.6 GiB. */
static const char *human(double bytes, char *buf, size_t size) {
    static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, u++;
    snprintf(buf, size, u == 0 ? "%.0f %s" : bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s"
             : "%.0f %s", bytes, unit[u]);
    return buf;
}

/* Parameters as text: 262,272 or 124.4M or 6.74B. */
static const char *count_str(double n, char *buf, size_t size) {
    if (n < 1e7) snprintf(buf, size, "%.0f", n);
    else if (n < 1e9) snprintf(buf, size, "%.1fM", n / 1e6);
    else snprintf(buf, size, "%.2fB", n / 1e9);
    return buf;
}

/* The parts of the count, by formula:  [0] token table, [1] positions, [2] blocks (all),
 * [3] final LN, [4] the head's own parameters (an untied matrix, a bias per token). */
static void formula_parts(const nn_gpt_config *c, double part[5]) {
    double C = c->dim, V = c->vocab, F = c->ffn ? c->ffn : 4.0 * c->dim;
    part[0] = V * C;
    part[1] = c->position == NN_POSITION_LEARNED ? (double)c->context * C : 0;
    part[2] = c->layers * (4 * C + (3 * C * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C));
    part[3] = 2 * C;
    part[4] = (c->untied ? C * V : 0) + (c->head_bias ? V : 0);
}

/* The same parts summed over a built model's tensors, by name ("tok.", "pos.", "block",
 * "ln_f.", "head."); -1 in part[5] counts what matched none. */
static void built_parts(const nn_model *m, double part[6]) {
    static const char *prefix[] = {"tok.", "pos.", "block", "ln_f.", "head."};
    for (int k = 0; k < 6; k++) part[k] = 0;
    for (int i = 0; i < m->nparams; i++) {
        const nn_tensor *t = m->params[i];
        int k = 0;
        while (k < 5 && strncmp(t->name, prefix[k], strlen(prefix[k])) != 0) k++;
        part[k] += (double)t->size;
    }
}

/* Size of the file at path in bytes, -1 when it cannot be read. */
static long file_bytes(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int main(int argc, char **argv) {
    bool quick = false, full = false;
    uint64_t seed = 42;
    const char *out_dir = "out";
    nn_option opts[] = {
        NN_OPT_FLAG("--quick", &quick, "the same counts (it is all arithmetic; for the tests)"),
        NN_OPT_FLAG("--full", &full, "also build GPT-2 124M for real (~1 GB, a few seconds)"),
        NN_OPT_SEED(&seed),
        NN_OPT_STR("--out", &out_dir, "DIR", "folder for the default model's checkpoint"),
    };
    nn_parse_options(argc, argv,
                     "模型 / 权重 / 大模型: the parameter count and memory of our tiny GPTs, GPT-2 and a\n"
                     "7B model from one formula, checked against really built models.",
                     opts, NN_COUNTOF(opts));
    printf("chapter 6: model, weights, large model (模型 / 权重 / 大模型)\n");
    printf("seed %llu\n", (unsigned long long)seed);
    nn_seed(seed);
    const int V = 2502;   /* tang300's characters + <unk> (poems_open, titles dropped) */
    row rows[] = {
        {"ours --quick", "ch05 tiny_gpt --quick",
         {.vocab = V, .context = 16, .dim = 16, .heads = 2, .layers = 1}, 0, true},
        {"ours default", "ch05 tiny_gpt",
         {.vocab = V, .context = 32, .dim = 64, .heads = 4, .layers = 2}, 0, true},
        {"ours --full", "ch05 tiny_gpt --full",
         {.vocab = V, .context = 64, .dim = 128, .heads = 4, .layers = 4}, 0, true},
        {"GPT-2 small", "OpenAI 2019, 124M",
         {.vocab = 50257, .context = 1024, .dim = 768, .heads = 12, .layers = 12}, GPT2_PUBLISHED,
         full},
        {"GPT-2 XL", "OpenAI 2019, 1.5B",
         {.vocab = 50257, .context = 1024, .dim = 1600, .heads = 25, .layers = 48},
         GPT2XL_PUBLISHED, false},
        /* LLaMA-7B: F = 11008, its own head, no position table (RoPE): our nearest config */
        {"LLaMA-7B-like", "Meta 2023, 7B",
         {.vocab = 32000, .context = 2048, .dim = 4096, .heads = 32, .layers = 32, .ffn = 11008,
          .position = NN_POSITION_SINUSOIDAL, .untied = true}, LLAMA7B_PUBLISHED, false},
    };
    int nrows = NN_COUNTOF(rows), failed = 0;

    printf("\nthe formula (nn_gpt_config_parameters): V C + T C + L (12 C^2 + 13 C) + 2 C "
           "[+ C V untied]   (F = 4C)\n");
    printf("\n%-14s %6s %5s %5s %3s %3s %6s %-6s %s\n", "model", "V", "T", "C", "H", "L", "F",
           "head", "source");
    for (int i = 0; i < nrows; i++) {
        const nn_gpt_config *c = &rows[i].cfg;
        printf("%-14s %6d %5d %5d %3d %3d %6d %-6s %s\n", rows[i].name, c->vocab, c->context,
               c->dim, c->heads, c->layers, c->ffn ? c->ffn : 4 * c->dim,
               c->untied ? "untied" : "tied", rows[i].source);
    }

    /* ---- the table: counts and memory ------------------------------------------------------- */
    double params[8], built[8], bparts[8][6];   /* built: the model's count and its parts */
    printf("\n%-14s %14s %14s %10s %10s %10s %10s %11s %10s\n", "model", "parameters",
           "check", "fp32", "fp16", "int8", "int4", "train fp32", "KV cache");
    for (int i = 0; i < nrows; i++) {
        const nn_gpt_config *c = &rows[i].cfg;
        params[i] = nn_gpt_config_parameters(c);
        built[i] = -1;
        char check[32] = "-";
        if (rows[i].build) {
            double t0 = nn_seconds();
            nn_gpt *g = nn_gpt_new(c);
            if (!g) {
                fprintf(stderr, "cannot build %s: %s\n", rows[i].name, nn_last_error());
                return 1;
            }
            built[i] = (double)g->model->count;
            built_parts(g->model, bparts[i]);
            if (built[i] != params[i]) failed++;
            if (built[i] == params[i]) snprintf(check, sizeof check, "built: same");
            else snprintf(check, sizeof check, "built: %.0f", built[i]);
            if (built[i] > 1e7)
                printf("  (built %s: %zu floats of weights + as many of gradients in %.1f s)\n",
                       rows[i].name, g->model->count, nn_seconds() - t0);
            nn_gpt_free(g);
        }
        if (rows[i].published > 0 && rows[i].published == params[i] && !rows[i].build)
            snprintf(check, sizeof check, "publ.: same");
        else if (rows[i].published > 0 && rows[i].published != params[i])
            snprintf(check, sizeof check, "publ.: %s", count_str(rows[i].published,
                     (char[24]){0}, 24));
        char b[5][24], n[24];
        double kv = 2.0 * c->layers * c->context * c->dim * 4;   /* keys and values, float32 */
        printf("%-14s %14s %14s %10s %10s %10s %10s %11s %10s\n", rows[i].name,
               params[i] < 1e7 ? count_str(params[i], n, sizeof n)
                               : (snprintf(n, sizeof n, "%.0f", params[i]), n), check,
               human(params[i] * 4, b[0], 24), human(params[i] * 2, b[1], 24),
               human(params[i] * 1, b[2], 24), human(params[i] * 0.5, b[3], 24),
               human(params[i] * 16, b[4], 24), human(kv, (char[24]){0}, 24));
        double pub = rows[i].published;
        if (pub > 0 && pub != params[i])   /* its memory from the real count */
            printf("%-14s %14.0f %14s %10s %10s %10s %10s %11s\n", "  as published", pub, "",
                   human(pub * 4, b[0], 24), human(pub * 2, b[1], 24), human(pub, b[2], 24),
                   human(pub * 0.5, b[3], 24), human(pub * 16, b[4], 24));
    }
    printf("fp32/fp16/int8/int4: the weights at 4/2/1/0.5 bytes each (inference); train fp32: 16 "
           "bytes each\n(weights, gradients, Adam's m and v), activations not counted; KV "
           "cache: 2 L T C floats of float32\nper sequence at full context.\n");

    /* ---- the parts, formula against the built models ---------------------------------------- */
    static const char *part_name[] = {"tokens V C", "positions T C", "blocks", "final LN",
                                      "own head"};
    printf("\nwhere the parameters are (formula; the built model's sum by parameter name "
           "where built):\n");
    printf("%-14s", "model");
    for (int k = 0; k < 5; k++) printf(" %15s", part_name[k]);
    printf("  %s\n", "blocks share");
    for (int i = 0; i < nrows; i++) {
        double f[5], b[6];
        formula_parts(&rows[i].cfg, f);
        printf("%-14s", rows[i].name);
        for (int k = 0; k < 5; k++) printf(" %15.0f", f[k]);
        printf("  %5.1f%%\n", 100 * f[2] / params[i]);
        if (!rows[i].build) continue;
        memcpy(b, bparts[i], sizeof b);
        printf("%-14s", "  built");
        bool same = b[5] == 0;
        for (int k = 0; k < 5; k++) {
            printf(" %15.0f", b[k]);
            same = same && b[k] == f[k];
        }
        printf("  %s\n", same ? "= formula" : "DIFFERS");
        failed += !same;
    }
    printf("In the tiny models the token table is most of the model (V = 2502 characters, C "
           "small); in the\nlarge ones the blocks are (12 C^2 per block grows with C^2, V C only "
           "with C).\n");

    /* ---- the 7B model: our formula against its published count ------------------------------ */
    const row *ll = &rows[nrows - 1];
    const nn_gpt_config *c = &ll->cfg;
    double C = c->dim, F = c->ffn, L = c->layers;
    double ours = params[nrows - 1];
    double gate = L * C * F;                    /* SwiGLU's third matrix, per block C x F */
    double biases = L * (3 * C + C + F + C);    /* ours has: qkv, out, fc, proj biases */
    double shifts = L * 2 * C + C;              /* LayerNorm's beta; RMSNorm has none */
    double rebuilt = ours + gate - biases - shifts;
    nn_gpt_config eq = *c;
    eq.ffn = (int)(1.5 * F);                    /* a GELU FFN with SwiGLU's weight count */
    double eq_count = nn_gpt_config_parameters(&eq);
    printf("\nthe 7B model: our block is not LLaMA's\n");
    printf("  our formula for its configuration       %15.0f  (%.2fB)\n", ours, ours / 1e9);
    printf("  + SwiGLU's third matrix, L C F          %+15.0f\n", gate);
    printf("  - our biases (3C + C + F + C per block) %+15.0f\n", -biases);
    printf("  - LayerNorm's shifts (RMSNorm has none) %+15.0f\n", -shifts);
    printf("  = LLaMA-7B                              %15.0f  published %.0f: %s\n", rebuilt,
           LLAMA7B_PUBLISHED, rebuilt == LLAMA7B_PUBLISHED ? "the same" : "DIFFERENT");
    printf("  our formula is %.1f%% short of it; with F = %d (two matrices holding as many "
           "weights as\n  SwiGLU's three) it gives %.0f (%.3f%% off: only the biases and "
           "shifts differ)\n", 100 * (1 - ours / LLAMA7B_PUBLISHED), eq.ffn, eq_count,
           100 * (eq_count / LLAMA7B_PUBLISHED - 1));
    failed += rebuilt != LLAMA7B_PUBLISHED;
    printf("  GPT-2 small by our formula: %.0f, published %.0f: %s (the same block, tied head, "
           "learned positions)\n", params[3], GPT2_PUBLISHED,
           params[3] == GPT2_PUBLISHED ? "the same" : "DIFFERENT");
    failed += params[3] != GPT2_PUBLISHED || params[4] != GPT2XL_PUBLISHED;

    /* ---- 权重 are the numbers in the file -------------------------------------------------- */
    char dir[4096], path[4096 + 32];
    snprintf(dir, sizeof dir, "%s/ch06_model_size_gpt", out_dir);
    nn_gpt *g = nn_gpt_new(&rows[1].cfg);
    long ck = -1;
    if (!g || nn_gpt_save(g, NULL, dir) != 0) {
        fprintf(stderr, "cannot save the model: %s\n", nn_last_error());
        failed++;
    } else {
        snprintf(path, sizeof path, "%s/gpt.nnck", dir);
        ck = file_bytes(path);
        printf("\nthe weights are the file: %s (the default model, untrained)\n  is %ld "
               "bytes = %zu parameters x 4 bytes (%zu) + %ld bytes of names, shapes and "
               "checksum\n", path, ck, g->model->count, 4 * g->model->count,
               ck - (long)(4 * g->model->count));
        failed += ck < (long)(4 * g->model->count);
    }
    nn_gpt_free(g);

    double ratio = LLAMA7B_PUBLISHED / params[1];
    printf("\nthe 7B model has %.0f times the parameters of our default GPT: %s of float32 "
           "where ours has %s\n", ratio, human(LLAMA7B_PUBLISHED * 4, (char[24]){0}, 24),
           human(params[1] * 4, (char[24]){0}, 24));
    printf("result: quick_params=%.0f default_params=%.0f full_params=%.0f checks_ok=%d "
           "gpt2_params=%.0f gpt2xl_params=%.0f llama7b_formula=%.0f "
           "llama7b_published=%.0f llama7b_rebuilt=%.0f llama7b_fp16_GiB=%.2f "
           "llama7b_int4_GiB=%.2f llama7b_train_GiB=%.1f default_ckpt_bytes=%ld",
           params[0], params[1], params[2], failed == 0, params[3], params[4], ours,
           LLAMA7B_PUBLISHED, rebuilt, LLAMA7B_PUBLISHED * 2 / (1 << 30),
           LLAMA7B_PUBLISHED * 0.5 / (1 << 30), LLAMA7B_PUBLISHED * 16 / (1 << 30), ck);
    if (built[3] >= 0) printf(" gpt2_built=%.0f", built[3]);   /* --full */
    printf("\n");
    nn_graph_release();
    (void)quick;
    return failed ? 1 : 0;
}
