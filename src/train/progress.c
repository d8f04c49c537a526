/* src/train/progress.c — a progress bar that redraws in place on a terminal and prints one line elsewhere. */
#include "internal.h"
#include "nn/train/progress.h"
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <unistd.h>

enum { BAR_WIDTH = 20 };
#define REDRAW_SECONDS 0.05

void nn_progress_start_on(nn_progress *p, FILE *stream, nn_progress_mode mode,
                          const char *label, long total) {
    memset(p, 0, sizeof *p);
    p->stream = stream ? stream : stderr;
    if (mode == NN_PROGRESS_AUTO) mode = isatty(fileno(p->stream)) ? NN_PROGRESS_TTY
                                                                   : NN_PROGRESS_PLAIN;
    p->mode = mode;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "progress");
    p->total = total > 0 ? total : 1;
    p->start = nn_seconds();
    p->last_draw = -1.0;
    p->nonfinite_at = -1;
}

void nn_progress_start(nn_progress *p, const char *label, long total) {
    nn_progress_start_on(p, stderr, NN_PROGRESS_AUTO, label, total);
}

/* Does the text show a number that is not finite: "nan", "-nan", "inf", "-inf" (as printf
 * writes them, in either case), standing alone rather than inside a word such as "info"? */
static bool shows_nonfinite(const char *s) {
    for (const char *c = s; *c; c++) {
        if (c > s && isalnum((unsigned char)c[-1])) continue;
        size_t n = strncasecmp(c, "nan", 3) == 0 || strncasecmp(c, "inf", 3) == 0 ? 3 : 0;
        if (n && strncasecmp(c, "infinity", 8) == 0) n = 8;
        if (n && !isalnum((unsigned char)c[n])) return true;
    }
    return false;
}

/* "  [nan/inf since 118: training diverged]", or "" */
static const char *diverged_note(const nn_progress *p, char *buf, size_t size) {
    buf[0] = 0;
    if (p->nonfinite_at >= 0)
        snprintf(buf, size, "  [nan/inf since %ld: training diverged]", p->nonfinite_at);
    return buf;
}

static void progress_draw(nn_progress *p) {
    long done = p->done < 0 ? 0 : (p->done > p->total ? p->total : p->done);
    int filled = (int)((double)done / (double)p->total * BAR_WIDTH);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = 0;
    /* '\r' returns to the start of the line; "\033[K" erases what a longer line left. */
    char note[64];
    fprintf(p->stream, "\r%s [%s] %*ld/%ld  %.1fs  %s%s\033[K", p->label, bar,
            (int)snprintf(NULL, 0, "%ld", p->total), done, p->total, nn_seconds() - p->start,
            p->status, diverged_note(p, note, sizeof note));
    fflush(p->stream);
    p->drawn++;
}

void nn_progress_update(nn_progress *p, long done, const char *fmt, ...) {
    p->done = done;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->status, sizeof p->status, fmt, ap);
        va_end(ap);
        if (p->nonfinite_at < 0 && shows_nonfinite(p->status)) p->nonfinite_at = done;
    }
    if (p->mode != NN_PROGRESS_TTY) return;
    double now = nn_seconds();
    /* Redrawing costs a write; a few per second are enough for the eye. */
    if (p->last_draw < 0.0 || now - p->last_draw >= REDRAW_SECONDS || done >= p->total) {
        progress_draw(p);
        p->last_draw = now;
    }
}

void nn_progress_finish(nn_progress *p) {
    switch (p->mode) {
    case NN_PROGRESS_TTY:
        progress_draw(p);
        fputc('\n', p->stream);
        break;
    case NN_PROGRESS_PLAIN: {
        char note[64];
        fprintf(p->stream, "%s: %ld/%ld in %.1fs%s%s%s\n", p->label, p->done, p->total,
                nn_seconds() - p->start, p->status[0] ? "  " : "", p->status,
                diverged_note(p, note, sizeof note));
        break;
    }
    default: break;
    }
    fflush(p->stream);
}
