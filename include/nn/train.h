/* nn/train.h — helpers for any training loop: early stopping, a progress bar, and health
 * diagnostics (is the start loss right? are units saturated or dead? do gradients vanish?
 * are the updates the right size?).
 *
 *   nn_early_stop *es = nn_early_stop_new(model, 20, 1e-4f);    // patience 20 checks
 *   nn_progress bar;  nn_progress_start(&bar, "train", steps);
 *   for (int step = 0; step < steps; step++) {
 *       ... forward, backward, nn_optim_step, nn_graph_clear ...
 *       nn_progress_update(&bar, step + 1, "loss %.4f", loss);
 *       if (step % 10 == 0 && nn_early_stop_check(es, validation_loss())) break;
 *   }
 *   nn_progress_finish(&bar);
 *   nn_early_stop_restore(es);      // the best weights seen, not the last
 *   nn_early_stop_free(es);
 */
#ifndef NN_TRAIN_H
#define NN_TRAIN_H

#include <stdio.h>
#include "model.h"

/* ---- early stopping (提前终止) ---------------------------------------------------------------
 * "Train until it is good enough": keep the weights of the best validation loss so far, and
 * stop when `patience` checks in a row have not improved on it by more than min_delta.
 * Snapshots are one memcpy of the model's parameter block. */
typedef struct nn_early_stop {
    nn_model *model;
    int patience;      /* checks without improvement before stopping */
    float min_delta;   /* an improvement must beat best - min_delta */
    float best;        /* best validation loss so far (INFINITY before the first check) */
    int best_check;    /* the check (0, 1, 2, ...) that saw it; -1 before any */
    int checks;        /* checks so far */
    int bad_checks;    /* checks in a row without improvement */
    bool stop;         /* patience ran out (stays true) */
    float *best_params; /* copy of model->data at the best check */
    size_t count;      /* floats in that copy */
} nn_early_stop;

nn_early_stop *nn_early_stop_new(nn_model *model, int patience, float min_delta);
/* Report this check's validation loss; snapshots the weights when it is the best so far.
 * Returns true when training should stop (a NaN loss counts as no improvement). */
bool nn_early_stop_check(nn_early_stop *es, float val_loss);
/* Copy the best weights back into the model (no-op before the first check). */
void nn_early_stop_restore(nn_early_stop *es);
void nn_early_stop_free(nn_early_stop *es);

/* ---- progress bar -----------------------------------------------------------------------------
 * On a terminal the bar redraws itself in place ('\r'), at most ~20 times a second:
 *   train [##########..........]  500/1000  1.2s  loss 0.0123
 * When the stream is not a terminal (a log file, a pipe, a test), nothing is drawn while
 * training and nn_progress_finish prints one final line; NN_PROGRESS_OFF prints nothing.
 * The struct lives on your stack: nothing to free. */
typedef enum nn_progress_mode {
    NN_PROGRESS_AUTO,  /* TTY when isatty(fileno(stream)), else PLAIN */
    NN_PROGRESS_TTY,   /* redraw in place */
    NN_PROGRESS_PLAIN, /* one final line */
    NN_PROGRESS_OFF    /* silent */
} nn_progress_mode;

typedef struct nn_progress {
    FILE *stream;
    nn_progress_mode mode;   /* never AUTO after start: the mode actually used */
    char label[32];
    long total, done;
    double start, last_draw; /* nn_seconds() */
    char status[96];         /* the text after the counts, e.g. "loss 0.0123" */
    int drawn;               /* redraws so far (TTY mode) */
} nn_progress;

/* To stderr, mode AUTO. */
void nn_progress_start(nn_progress *p, const char *label, long total);
/* Any stream and mode (tests force a mode and pass a tmpfile). */
void nn_progress_start_on(nn_progress *p, FILE *stream, nn_progress_mode mode,
                          const char *label, long total);
/* `done` of `total` steps finished; fmt (may be NULL) sets the status text. */
void nn_progress_update(nn_progress *p, long done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The final line (TTY: the bar at its last state, then a newline; PLAIN: one summary line). */
void nn_progress_finish(nn_progress *p);

/* ---- training health diagnostics ------------------------------------------------------------ */

/* Snapshot of the whole parameter block (malloc'd copy of m->data; free() it). Take one just
 * before nn_optim_step to measure the step with nn_update_ratio. */
float *nn_params_snapshot(const nn_model *m);
/* Copy a snapshot back into the model. */
void nn_params_restore(nn_model *m, const float *snapshot);

/* ||w_now - w_before|| / ||w_before|| for parameter `param` (its index in m->params), or for
 * the whole block when param < 0. A healthy step is around 1e-3: much smaller and learning
 * crawls (or gradients vanished); much larger and it is unstable. 0 when w_before is 0. */
float nn_update_ratio(const nn_model *m, const float *before, int param);

/* L2 norm of a tensor's gradient (0 without a gradient) and of its values. */
float nn_grad_norm(const nn_tensor *t);
float nn_value_norm(const nn_tensor *t);

/* Which nonlinearity produced an activation tensor, to know what "saturated" means. */
typedef enum nn_act_kind {
    NN_ACT_LINEAR,  /* no nonlinearity: never saturated */
    NN_ACT_RELU,    /* saturated = exactly 0 (no gradient flows) */
    NN_ACT_SIGMOID, /* saturated = below 0.01 or above 0.99 */
    NN_ACT_TANH     /* saturated = |y| above 0.99 */
} nn_act_kind;

typedef struct nn_act_stats {
    float mean, std;   /* over every element */
    float saturated;   /* fraction of elements in the flat part of the activation */
    float dead;        /* fraction of units (last dim) exactly 0 for every sample */
} nn_act_stats;

/* Statistics of one activation tensor, e.g. (N, units) from the last forward pass. */
nn_act_stats nn_activation_stats(const nn_tensor *act, nn_act_kind kind);

/* One activation to inspect: the graph tensor a layer produced in the last forward pass. */
typedef struct nn_probe {
    const char *name;
    const nn_tensor *act;
    nn_act_kind kind;
} nn_probe;

/* ln(C): the loss a classifier should start near when its C outputs start out equal
 * (cross-entropy of a uniform guess). */
float nn_expected_start_loss(int nclasses);
/* Print "start loss 2.31 vs ln(10) = 2.30: ok" (or a warning); returns 0 when the loss is
 * within max(0.3, 20%) of ln(C), else 1. */
int nn_check_start_loss(FILE *f, float loss, int nclasses);

/* Print a health report: for each probe its mean, std, saturated and dead fractions; for
 * each parameter its value norm, grad norm and (when `before` is a snapshot taken before the
 * last step, else NULL) update ratio; then a warning line for each problem found (mostly
 * saturated, dead units, NaN/Inf, update ratio above 1e-2 or below 1e-5).
 * Call it after backward (and after the step, for the update ratio) but before
 * nn_graph_clear. Returns the number of warnings. f may be NULL: count only. */
int nn_diagnose(FILE *f, const nn_model *m, const nn_probe *probes, int nprobes,
                const float *before);

/* ---- where examples write their pictures --------------------------------------------------
 * dir + "/" + file into buf, creating dir and any missing parent folders (like mkdir -p);
 * returns buf, or NULL with nn_last_error() set when a folder cannot be made (e.g. a file is
 * in the way) or the path does not fit. */
char *nn_out_path(char *buf, size_t size, const char *dir, const char *file);

/* Misuse errors name your file:line (see nn/base.h). */
#define nn_early_stop_new(...) NN_AT(nn_early_stop_new(__VA_ARGS__))
#define nn_early_stop_check(...) NN_AT(nn_early_stop_check(__VA_ARGS__))
#define nn_early_stop_restore(...) NN_AT(nn_early_stop_restore(__VA_ARGS__))
#define nn_params_snapshot(...) NN_AT(nn_params_snapshot(__VA_ARGS__))
#define nn_params_restore(...) NN_AT(nn_params_restore(__VA_ARGS__))
#define nn_update_ratio(...) NN_AT(nn_update_ratio(__VA_ARGS__))
#define nn_activation_stats(...) NN_AT(nn_activation_stats(__VA_ARGS__))
#define nn_diagnose(...) NN_AT(nn_diagnose(__VA_ARGS__))
#define nn_out_path(...) NN_AT(nn_out_path(__VA_ARGS__))

/* Call-site macros: an error names the line of your program that made the call. */
#define nn_progress_update(...) NN_AT(nn_progress_update(__VA_ARGS__))
#define nn_grad_norm(...) NN_AT(nn_grad_norm(__VA_ARGS__))
#define nn_value_norm(...) NN_AT(nn_value_norm(__VA_ARGS__))
#define nn_check_start_loss(...) NN_AT(nn_check_start_loss(__VA_ARGS__))

#endif
