/* nn/train/progress.h — a progress bar for training loops. */
#ifndef NN_TRAIN_PROGRESS_H
#define NN_TRAIN_PROGRESS_H

#include <stdio.h>

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
    long nonfinite_at;       /* the first `done` whose status showed nan or inf (-1: none) */
} nn_progress;

/* To stderr, mode AUTO. */
void nn_progress_start(nn_progress *p, const char *label, long total);
/* Any stream and mode (tests force a mode and pass a tmpfile). */
void nn_progress_start_on(nn_progress *p, FILE *stream, nn_progress_mode mode,
                          const char *label, long total);
/* `done` of `total` steps finished; fmt (may be NULL) sets the status text. A status that
 * shows a number as nan or inf (the loss diverged) is remembered: the bar then says, e.g.,
 * "[nan/inf since 118: training diverged]" after the status. */
void nn_progress_update(nn_progress *p, long done, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The final line (TTY: the bar at its last state, then a newline; PLAIN: one summary line). */
void nn_progress_finish(nn_progress *p);

#endif
