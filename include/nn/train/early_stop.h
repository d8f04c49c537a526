/* nn/train/early_stop.h — early stopping (提前终止), shown here with the progress bar.
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
#ifndef NN_TRAIN_EARLY_STOP_H
#define NN_TRAIN_EARLY_STOP_H

#include "../core/model.h"

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
    bool stop;         /* patience ran out, or the loss was not finite (stays true) */
    float *best_params; /* copy of model->data at the best check */
    size_t count;      /* floats in that copy */
    char reason[192];  /* why it stopped ("" until then), e.g. "validation loss is nan ..." */
} nn_early_stop;

nn_early_stop *nn_early_stop_new(nn_model *model, int patience, float min_delta);
/* Report this check's validation loss; snapshots the weights when it is the best so far.
 * Returns true when training should stop. A NaN or infinite loss stops at once: training
 * has diverged and more patience cannot help. Then es->reason (also in nn_last_error()) says
 * so, and a warning is printed once; nn_early_stop_restore still gives the best weights. */
bool nn_early_stop_check(nn_early_stop *es, float val_loss);
/* Copy the best weights back into the model (no-op before the first check). */
void nn_early_stop_restore(nn_early_stop *es);
void nn_early_stop_free(nn_early_stop *es);

#endif
