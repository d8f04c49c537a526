/* nn/viz/plot.h — pictures a learner would rather look at than read: line charts and scatter
 * plots as SVG files, and small ASCII charts in the terminal. */
#ifndef NN_VIZ_PLOT_H
#define NN_VIZ_PLOT_H

#include <stdio.h>
#include "../core/errors.h"

typedef enum nn_plot_style { NN_PLOT_LINE, NN_PLOT_POINTS } nn_plot_style;

/* One series: n points (x[i], y[i]). x may be NULL, meaning 0, 1, 2, ... (e.g. steps). */
typedef struct nn_series {
    const char *label;    /* shown in the legend */
    const float *x;
    const float *y;
    int n;
    nn_plot_style style;
} nn_series;

/* Write an SVG chart with axes, ticks, labels, a title and a legend. Non-finite points are
 * skipped. Written to a temporary file and renamed, so a failure never leaves half a file.
 * Returns 0, or -1 with nn_last_error() set (e.g. the folder does not exist). */
int nn_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const nn_series *series, int nseries);

/* For example programs and quick scripts: nn_plot_svg into dir/file (missing folders are made,
 * see nn_out_path), then print "wrote <path>" to stdout, or "could not write <dir>/<file>:
 * <nn_last_error()>" to stderr. Returns 0 or -1. */
int nn_plot_svg_in(const char *dir, const char *file, const char *title, const char *xlabel,
                   const char *ylabel, const nn_series *series, int nseries);

/* A labelled scatter plot: point i at (x[i], y[i]) drawn as a small dot with its label
 * (UTF-8: a Chinese character, a word) written just above it, on the same axes and ticks as
 * nn_plot_svg, without a legend. For a 2-D map of learned embeddings (词嵌入), one character
 * per point. labels may be NULL (dots only), and so may a single labels[i]; labels are
 * XML-escaped. Points with a non-finite coordinate are skipped. n >= 0; x and y hold n
 * floats (may be NULL when n is 0). Written to a temporary file and renamed, like
 * nn_plot_svg. Returns 0, or -1 with nn_last_error() set. */
int nn_plot_svg_labels(const char *path, const char *title, const float *x, const float *y,
                       const char *const *labels, int n);

/* nn_plot_svg_labels into dir/file (missing folders are made), then "wrote <path>" on stdout
 * or "could not write <dir>/<file>: <why>" on stderr, as nn_plot_svg_in does. 0 or -1. */
int nn_plot_svg_labels_in(const char *dir, const char *file, const char *title, const float *x,
                          const float *y, const char *const *labels, int n);

/* Draw the series on a width x height character grid (the plot area only, clamped to
 * 20x5 .. 400x200), each series with its own mark ('*', 'o', '+', 'x', '#', '@', then
 * again), with the y range on the left, the x range below and a legend line (none when
 * nseries is 0; a NULL label shows as "series N"). Line series are joined cell by cell. */
void nn_plot_ascii(FILE *f, const nn_series *series, int nseries, int width, int height);

#endif
