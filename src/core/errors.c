/* src/core/errors.c — errors with the caller's file:line: misuse (kind 1) and bad input (kind 2). */
#include "internal.h"
#include <stdarg.h>
#include <stdio.h>

/* ---- errors ------------------------------------------------------------------------- */

static _Thread_local const char *site_file;
static _Thread_local int site_line;
static _Thread_local char last_error[2048];

static nn_error_handler error_handler;   /* NULL means the default: print and abort */
static void *error_user;

void nn_set_site(const char *file, int line) {
    site_file = file;
    site_line = line;
}

nn_error_handler nn_set_error_handler(nn_error_handler handler, void *user) {
    nn_error_handler old = error_handler;
    error_handler = handler;
    error_user = user;
    return old;
}

const char *nn_last_error(void) { return last_error; }

int nn_set_last_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

void nn_fail(const char *op, const char *hint, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    int n = snprintf(last_error, sizeof last_error, "nn error in %s: %s", op, what);
    if (site_file && n > 0 && (size_t)n < sizeof last_error)
        n += snprintf(last_error + n, sizeof last_error - n, "\n  called at %s:%d", site_file,
                      site_line);
    if (hint && n > 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - n, "\n  hint: %s", hint);

    nn_error err = {op, last_error, site_file, site_line};
    if (error_handler) {
        error_handler(&err, error_user);
        return; /* the handler returned: the op will return NULL */
    }
    fflush(stdout); /* keep what the program printed before the error */
    fprintf(stderr, "%s\n", last_error);
    fflush(stderr);
    abort();
}

/* ---- warnings ------------------------------------------------------------------------ */

static bool warnings_on = true;
static _Thread_local char last_warning[2048];

bool nn_set_warnings(bool on) {
    bool old = warnings_on;
    warnings_on = on;
    return old;
}

const char *nn_last_warning(void) { return last_warning; }

void nn_warn(const char *hint, const char *fmt, ...) {
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int n = snprintf(last_warning, sizeof last_warning, "nn warning: %s", what);
    if (site_file && n > 0 && (size_t)n < sizeof last_warning)
        n += snprintf(last_warning + n, sizeof last_warning - n, "\n  called at %s:%d",
                      site_file, site_line);
    if (hint && n > 0 && (size_t)n < sizeof last_warning)
        snprintf(last_warning + n, sizeof last_warning - n, "\n  hint: %s", hint);
    if (!warnings_on) return;
    fflush(stdout); /* keep the order of what the program printed */
    fprintf(stderr, "%s\n", last_warning);
    fflush(stderr);
}
