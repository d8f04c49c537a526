/* src/train/early_stop.c — early stopping (提前终止): keep the best weights, stop when patience runs out. */
#include "internal.h"
#include "nn/train/early_stop.h"

nn_early_stop *nn_early_stop_new(nn_model *model, int patience, float min_delta) {
    NN_REQUIRE(model, "nn_early_stop_new");
    if (patience < 1 || !(min_delta >= 0.0f)) {
        nn_fail("nn_early_stop_new", "patience counts checks (1 or more); min_delta >= 0",
                "patience = %d, min_delta = %g", patience, min_delta);
        return NULL;
    }
    nn_early_stop *es = nn_xcalloc(1, sizeof *es);
    es->model = model;
    es->patience = patience;
    es->min_delta = min_delta;
    es->best = INFINITY;
    es->best_check = -1;
    es->count = model->count;
    es->best_params = nn_xmalloc(model->count * sizeof(float));
    return es;
}

bool nn_early_stop_check(nn_early_stop *es, float val_loss) {
    if (!es) return false;
    if (es->model->count != es->count) {
        nn_fail("nn_early_stop_check", "create the early stopper after the whole model is built",
                "the model has %zu parameters now but had %zu", es->model->count, es->count);
        return false;
    }
    /* A NaN or infinite loss: the weights have blown up, and waiting cannot bring them back.
     * Stop now, and say why (the best weights so far are still there to restore). */
    if (!isfinite(val_loss)) {
        es->bad_checks++;
        if (!es->stop) {
            es->stop = true;
            if (es->best_check >= 0)
                snprintf(es->reason, sizeof es->reason, "validation loss is %g at check %d: "
                         "training diverged; the best was %g at check %d",
                         (double)val_loss, es->checks, (double)es->best, es->best_check);
            else
                snprintf(es->reason, sizeof es->reason, "validation loss is %g at check %d: "
                         "training diverged before any finite loss", (double)val_loss,
                         es->checks);
            nn_set_last_error("nn_early_stop_check: %s", es->reason);
            nn_warn("lower the learning rate, clip the gradients (nn_clip_grad_norm), or look "
                    "for NaN/Inf in the data (nn_check_finite); nn_early_stop_restore(es) brings "
                    "back the best weights",
                    "nn_early_stop_check stops training: %s", es->reason);
        }
        es->checks++;
        return true;
    }
    /* The first finite loss always counts as the best so far. */
    if (val_loss < es->best - es->min_delta || es->best_check < 0) {
        es->best = val_loss;
        es->best_check = es->checks;
        es->bad_checks = 0;
        memcpy(es->best_params, es->model->data, es->count * sizeof(float));
    } else {
        es->bad_checks++;
        if (es->bad_checks >= es->patience && !es->stop) {
            es->stop = true;
            snprintf(es->reason, sizeof es->reason, "no improvement by more than %g in %d "
                     "checks; the best was %g at check %d", (double)es->min_delta,
                     es->patience, (double)es->best, es->best_check);
        }
    }
    es->checks++;
    return es->stop;
}

void nn_early_stop_restore(nn_early_stop *es) {
    if (!es || es->best_check < 0) return;
    if (es->model->count != es->count) {
        nn_fail("nn_early_stop_restore", "the model changed size since the snapshot",
                "the model has %zu parameters now but had %zu", es->model->count, es->count);
        return;
    }
    memcpy(es->model->data, es->best_params, es->count * sizeof(float));
}

void nn_early_stop_free(nn_early_stop *es) {
    if (!es) return;
    free(es->best_params);
    free(es);
}
