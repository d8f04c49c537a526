/* nn/core/errors.h — errors, and the call site that names your file:line.
 *
 * Two kinds of errors (docs/en/api.md explains both):
 *   1. Misuse (shape mismatch, bad axis, label out of range): nn_fail() builds a message that
 *      names the op, the shapes, the caller's file:line and a hint, then calls the error
 *      handler. The default handler prints the message and aborts. Tests install their own
 *      handler (which may longjmp out); if a handler returns, the op returns NULL.
 *   2. Bad input from outside (missing file, corrupt data): functions return NULL or a
 *      negative code and leave a readable message in nn_last_error().
 */
#ifndef NN_CORE_ERRORS_H
#define NN_CORE_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ------------------------------------------------------------------------- */

typedef struct nn_error {
    const char *op;      /* the function that failed, e.g. "nn_matmul" */
    const char *message; /* the whole formatted message, shapes and hint included */
    const char *file;    /* the caller's file, or NULL when it is not known */
    int line;
} nn_error;

/* Called on misuse. The default prints err->message to stderr and aborts. */
typedef void (*nn_error_handler)(const nn_error *err, void *user);

/* Install a handler (NULL restores the default); returns the previous one. */
nn_error_handler nn_set_error_handler(nn_error_handler handler, void *user);

/* The message of the last error of either kind on this thread ("" when none). */
const char *nn_last_error(void);

/* Record a bad-input error (kind 2) without calling the handler; returns -1 for convenience. */
int nn_set_last_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Warnings: a likely mistake that is not an error, so the program goes on. Each is printed
 * once to stderr as "nn warning: ...", with your file:line and a hint: the graph growing
 * across nn_backward calls without nn_graph_clear() (once per thread, until
 * nn_graph_release), gradients piling up because nn_model_zero_grad was not called after
 * nn_optim_step (once per model), a NaN validation loss in nn_early_stop_check.
 * nn_set_warnings(false) stops the printing (for a program that does this on purpose);
 * it returns the previous setting. nn_last_warning() is the last one issued on this thread,
 * printed or not ("" when none). */
bool nn_set_warnings(bool on);
const char *nn_last_warning(void);

/* Report misuse (kind 1). Library code calls it; `hint` may be NULL. */
void nn_fail(const char *op, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The caller's file:line. nn/call_sites.h wraps every public function that can fail in
 * NN_AT, which records __FILE__ and __LINE__ before the call, so an error can say where in
 * *your* program the bad call was. The library's own sources never see those wrappers, so
 * a call made inside the library keeps the user's site. */
void nn_set_site(const char *file, int line);
#define NN_AT(call) (nn_set_site(__FILE__, __LINE__), call)

#endif
