/* src/train/diagnostics.c — training health: snapshots and update ratios, activation statistics, the report. */
#include "internal.h"
#include "nn/train/diagnostics.h"
#include <stdio.h>

/* ---- snapshots and update ratios ---------------------------------------------------------- */

float *nn_model_snapshot(const nn_model *m) {
    NN_REQUIRE(m, "nn_model_snapshot");
    float *s = nn_xmalloc(m->count * sizeof(float));
    if (m->count) memcpy(s, m->data, m->count * sizeof(float));
    return s;
}

void nn_model_restore(nn_model *m, const float *snapshot) {
    if (!m || !snapshot) {
        nn_fail("nn_model_restore", "pass the model and a snapshot from nn_model_snapshot",
                "model or snapshot is NULL");
        return;
    }
    if (m->count) memcpy(m->data, snapshot, m->count * sizeof(float));
}

float nn_model_update_ratio(const nn_model *m, const float *before, int param) {
    if (!m || !before || param >= m->nparams) {
        nn_fail("nn_model_update_ratio", "pass the model, a snapshot taken before the step and a "
                "parameter index (or -1 for all)",
                "model %p, snapshot %p, param %d", (const void *)m, (const void *)before, param);
        return NAN;
    }
    size_t off = 0, len = m->count;
    if (param >= 0) {
        off = (size_t)(m->params[param]->data - m->data);
        len = m->params[param]->size;
    }
    double dw = 0.0, w = 0.0;
    for (size_t i = off; i < off + len; i++) {
        double d = (double)m->data[i] - before[i];
        dw += d * d;
        w += (double)before[i] * before[i];
    }
    return w > 0.0 ? (float)sqrt(dw / w) : 0.0f;
}

static float norm_of(const float *v, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)v[i] * v[i];
    return (float)sqrt(s);
}

float nn_grad_norm(const nn_tensor *t) {
    return t && t->grad ? norm_of(t->grad, t->size) : 0.0f;
}

float nn_value_norm(const nn_tensor *t) { return t ? norm_of(t->data, t->size) : 0.0f; }

/* ---- activation statistics ----------------------------------------------------------------- */

static bool is_saturated(float y, nn_act_kind kind) {
    switch (kind) {
    case NN_ACT_RELU: return y == 0.0f;                 /* relu'(y) = 0: no gradient */
    case NN_ACT_SIGMOID: return y < 0.01f || y > 0.99f; /* sigmoid' = y(1-y) < 0.0099 */
    case NN_ACT_TANH: return fabsf(y) > 0.99f;          /* tanh' = 1 - y^2 < 0.0199 */
    default: return false;
    }
}

nn_act_stats nn_activation_stats(const nn_tensor *a, nn_act_kind kind) {
    nn_act_stats s = {0};
    if (!a) {
        nn_fail("nn_activation_stats", "an earlier call probably failed and returned NULL",
                "input 'act' is NULL");
        return s;
    }
    if (!nn_require_live(a, "nn_activation_stats", "act")) return s;
    double sum = 0.0, sq = 0.0;
    size_t sat = 0;
    for (size_t i = 0; i < a->size; i++) {
        double y = a->data[i];
        sum += y;
        sq += y * y;
        sat += is_saturated(a->data[i], kind);
    }
    double mean = sum / (double)a->size;
    double var = sq / (double)a->size - mean * mean;
    s.mean = (float)mean;
    s.std = (float)sqrt(var > 0.0 ? var : 0.0);
    s.saturated = (float)sat / (float)a->size;
    /* A unit is a column of the last dim; it is dead when it is 0 for every sample. */
    int units = a->ndim ? a->shape[a->ndim - 1] : 1;
    size_t rows = a->size / (size_t)units;
    int dead = 0;
    for (int u = 0; u < units; u++) {
        size_t r = 0;
        while (r < rows && a->data[r * units + u] == 0.0f) r++;
        dead += r == rows;
    }
    s.dead = (float)dead / (float)units;
    return s;
}

/* ---- the report ---------------------------------------------------------------------------- */

float nn_expected_start_loss(int nclasses) {
    return nclasses > 1 ? logf((float)nclasses) : 0.0f;
}

int nn_check_start_loss(FILE *f, float loss, int nclasses) {
    float want = nn_expected_start_loss(nclasses);
    float tol = fmaxf(0.3f, 0.2f * want);
    bool ok = isfinite(loss) && fabsf(loss - want) <= tol;
    if (f) {
        fprintf(f, "start loss %.4f vs expected ln(%d) = %.4f: %s\n", loss, nclasses, want,
                ok ? "ok"
                   : loss > want ? "too high (the first outputs are confidently wrong: "
                                   "smaller init for the last layer)"
                                 : "too low (is the data leaking into the labels?)");
    }
    return ok ? 0 : 1;
}

static const char *kind_name(nn_act_kind k) {
    switch (k) {
    case NN_ACT_RELU: return "relu";
    case NN_ACT_SIGMOID: return "sigmoid";
    case NN_ACT_TANH: return "tanh";
    default: return "linear";
    }
}

/* Rules of thumb, loose on purpose: they point at a problem, they do not prove one. */
#define SATURATED_WARN 0.5f   /* more than half the units in the flat part */
#define DEAD_WARN 0.25f       /* a quarter of the ReLUs never fire on this batch */
#define RATIO_HIGH 1e-2f      /* a step that moves weights by 1% is large */
#define RATIO_LOW 1e-5f       /* ... and by 0.001% is next to nothing */

int nn_diagnose(FILE *f, const nn_model *m, const nn_probe *probes, int nprobes,
                const float *before) {
    if (!m || (nprobes > 0 && !probes)) {
        nn_fail("nn_diagnose", "pass the model and an array of nprobes probes",
                "model %p, probes %p, nprobes %d", (const void *)m, (const void *)probes, nprobes);
        return -1;
    }
    int warnings = 0;
    char note[160];
    /* Warnings are collected as they are found and printed after the tables. */
    char warn_text[2048] = "";
    size_t wlen = 0;
#define WARN(...)                                                                          \
    do {                                                                                   \
        warnings++;                                                                        \
        snprintf(note, sizeof note, __VA_ARGS__);                                          \
        if (wlen < sizeof warn_text)                                                       \
            wlen += (size_t)snprintf(warn_text + wlen, sizeof warn_text - wlen,            \
                                     "  warning: %s\n", note);                             \
    } while (0)

    if (nprobes > 0 && f)
        fprintf(f, "  %-14s %-8s %9s %9s %10s %7s\n", "activation", "kind", "mean", "std",
                "saturated", "dead");
    for (int k = 0; k < nprobes; k++) {
        const nn_probe *p = &probes[k];
        if (!p->act) continue;
        nn_act_stats s = nn_activation_stats(p->act, p->kind);
        const char *name = p->name ? p->name : "?";
        if (f)
            fprintf(f, "  %-14s %-8s %9.4f %9.4f %9.1f%% %6.1f%%\n", name, kind_name(p->kind),
                    s.mean, s.std, 100.0f * s.saturated, 100.0f * s.dead);
        if (!isfinite(s.mean) || !isfinite(s.std)) WARN("%s: NaN/Inf activations", name);
        else if (p->kind == NN_ACT_RELU && s.dead > DEAD_WARN)
            WARN("%s: %.0f%% dead ReLUs (never positive on this batch): lower the learning "
                 "rate, use He init, or leaky ReLU", name, 100.0f * s.dead);
        else if (p->kind != NN_ACT_RELU && s.saturated > SATURATED_WARN)
            WARN("%s: %.0f%% of units saturated (gradient ~0): smaller init or normalised "
                 "inputs", name, 100.0f * s.saturated);
    }

    if (f)
        fprintf(f, "  %-14s %-8s %9s %9s %10s\n", "parameter", "", "|w|", "|grad|",
                before ? "update/|w|" : "");
    for (int p = 0; p < m->nparams; p++) {
        const nn_tensor *t = m->params[p];
        float wn = nn_value_norm(t), gn = nn_grad_norm(t);
        float ratio = before ? nn_model_update_ratio(m, before, p) : 0.0f;
        if (f) {
            fprintf(f, "  %-14s %-8s %9.4g %9.3g", t->name, "", wn, gn);
            if (before) fprintf(f, " %10.2e", ratio);
            fputc('\n', f);
        }
        if (t->grad_state & NN_GRAD_PILED)
            WARN("%s: gradients pile up across steps (nn_backward ran after nn_optim_step "
                 "without nn_model_zero_grad): call nn_model_zero_grad(model) before each "
                 "backward", t->name);
        if (!isfinite(gn) || !isfinite(wn)) WARN("%s: NaN/Inf in weights or gradients", t->name);
        else if (before && m->decay[p] && ratio > RATIO_HIGH)
            WARN("%s: update/weight %.1e is large (> %.0e): lower the learning rate", t->name,
                 ratio, RATIO_HIGH);
        else if (before && m->decay[p] && ratio < RATIO_LOW)
            WARN("%s: update/weight %.1e is tiny (< %.0e): vanishing gradient or too small a "
                 "learning rate", t->name, ratio, RATIO_LOW);
    }
#undef WARN
    if (f) {
        fputs(warn_text, f);
        if (!warnings) fprintf(f, "  no warnings\n");
    }
    return warnings;
}
