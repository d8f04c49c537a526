/* src/viz/plot.c — SVG line/scatter charts and small ASCII charts (see include/nn/viz/plot.h).
 *
 * Nothing here is clever; it is the arithmetic of putting numbers on a page:
 *
 *   1. find the data range of every finite point (pad it when all values are equal),
 *   2. pick "nice" ticks: a step of 1, 2 or 5 times a power of ten giving 5-8 ticks, and
 *      widen the axis to the outermost ticks so both ends carry a label,
 *   3. map data to pixels (or character cells):  px = left + (x - xlo) / (xhi - xlo) * width
 *      (y grows downwards on screens, so py = top + (yhi - y) / (yhi - ylo) * height).
 *
 * The SVG is written to a temporary file and renamed onto <path> (src/data/safe_file.c), so a reader never sees half a
 * chart. Every number is printed with a fixed number of decimals, so the same data always
 * gives the same file (handy for tests and diffs).
 */
#include "internal.h" /* the core, nn_safe_file */
#include "nn/viz/plot.h"
#include "nn/cli/out_path.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared: data ranges and nice ticks ----------------------------------------------- */

typedef struct range {
    double lo, hi;
    int any; /* 0 until the first finite value */
} range;

static void range_add(range *r, double v) {
    if (!r->any) {
        r->lo = r->hi = v;
        r->any = 1;
    } else {
        if (v < r->lo) r->lo = v;
        if (v > r->hi) r->hi = v;
    }
}

/* x of point i of a series: x[i], or i when x is NULL (steps, epochs). */
static double series_x(const nn_series *s, int i) {
    return s->x ? (double)s->x[i] : (double)i;
}

static int point_ok(const nn_series *s, int i) {
    return isfinite(series_x(s, i)) && isfinite((double)s->y[i]);
}

/* The x and y ranges of every finite point of every series. */
static void data_ranges(const nn_series *series, int nseries, range *xr, range *yr) {
    memset(xr, 0, sizeof *xr);
    memset(yr, 0, sizeof *yr);
    for (int k = 0; k < nseries; k++) {
        const nn_series *s = &series[k];
        for (int i = 0; i < s->n; i++) {
            if (!point_ok(s, i)) continue;
            range_add(xr, series_x(s, i));
            range_add(yr, (double)s->y[i]);
        }
    }
}

/* No points: show 0..1. All values (nearly) equal: pad around the value so there is
 * something to divide into ticks (a constant 5 shows as 4.5 .. 5.5; a constant 0 as -1 .. 1). */
static void range_fix(range *r) {
    if (!r->any) {
        r->lo = 0.0;
        r->hi = 1.0;
        r->any = 1;
        return;
    }
    double mid = 0.5 * (r->lo + r->hi);
    if (r->hi - r->lo <= 1e-6 * fabs(mid) || r->hi - r->lo < 1e-30) {
        double pad = mid != 0.0 ? 0.1 * fabs(mid) : 1.0;
        r->lo = mid - pad;
        r->hi = mid + pad;
    }
}

typedef struct ticks {
    double lo, hi;  /* the axis range: the first and last tick */
    double step;    /* 1, 2 or 5 times 10^e10 */
    int e10;        /* the exponent of step */
    int count;      /* ticks from lo to hi inclusive */
} ticks;

/* Choose a step m * 10^e (m in {1, 2, 5}) so that the range widened to whole steps has 5 to
 * 8 ticks; among those, the one that wastes the least room. If none fits, the count nearest 6. */
static ticks nice_ticks(double lo, double hi) {
    static const int mult[3] = {1, 2, 5};
    ticks best = {lo, hi, hi - lo, 0, 2};
    double best_score = INFINITY;
    int e0 = (int)floor(log10(hi - lo));
    for (int e = e0 - 2; e <= e0 + 1; e++) {
        for (int m = 0; m < 3; m++) {
            double step = mult[m] * pow(10.0, e);
            double a = floor(lo / step + 1e-9) * step;
            double b = ceil(hi / step - 1e-9) * step;
            int count = (int)floor((b - a) / step + 0.5) + 1;
            double score = (count >= 5 && count <= 8)
                               ? (b - a) / (hi - lo)                 /* 1 = no waste */
                               : 1000.0 + fabs(count - 6.0);         /* out of band */
            if (score < best_score - 1e-12) {
                best_score = score;
                best = (ticks){a, b, step, e, count};
            }
        }
    }
    return best;
}

/* "%g" output made shorter: "2e+07" -> "2e7", "-2.5e-05" -> "-2.5e-5". */
static void short_exponent(char *buf) {
    char *e = strchr(buf, 'e');
    if (!e) return;
    char *src = e + 1, *dst = e + 1;
    if (*src == '+') src++;
    else if (*src == '-') *dst++ = *src++;
    while (*src == '0' && src[1]) src++;
    memmove(dst, src, strlen(src) + 1);
}

/* A tick label: just enough decimals for the step (0.2 gets 1 decimal, 0.05 gets 2), "%g"
 * for very large or very small numbers. Never prints "-0". */
static void tick_label(char *buf, size_t size, double v, const ticks *t) {
    if (fabs(v) < 1e-9 * t->step) v = 0.0;
    double big = fabs(t->lo) > fabs(t->hi) ? fabs(t->lo) : fabs(t->hi);
    if (big >= 1e6 || t->e10 < -5) {
        snprintf(buf, size, "%.4g", v);
        short_exponent(buf);
    } else {
        int dec = t->e10 < 0 ? -t->e10 : 0;
        snprintf(buf, size, "%.*f", dec, v);
    }
}

/* ---- argument checks (misuse) ----------------------------------------------------------- */

/* Returns 0 when the series array is usable, -1 after reporting misuse through nn_fail. */
static int check_series(const char *op, const nn_series *series, int nseries) {
    if (nseries < 0) {
        nn_fail(op, "pass the number of series (0 or more)", "nseries = %d", nseries);
        return -1;
    }
    if (nseries > 0 && !series) {
        nn_fail(op, "pass an array of nseries nn_series, or nseries = 0",
                "series is NULL but nseries = %d", nseries);
        return -1;
    }
    for (int k = 0; k < nseries; k++) {
        if (series[k].n < 0) {
            nn_fail(op, "n is the number of points (0 or more)", "series[%d].n = %d", k,
                    series[k].n);
            return -1;
        }
        if (series[k].n > 0 && !series[k].y) {
            nn_fail(op, "every series needs y values (x may be NULL)",
                    "series[%d].y is NULL but n = %d", k, series[k].n);
            return -1;
        }
    }
    return 0;
}

/* ---- SVG ------------------------------------------------------------------------------- */

/* Eight colours that stay apart on white (the "tab10" palette, minus grey and olive). */
static const char *const palette[8] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                       "#9467bd", "#8c564b", "#e377c2", "#17becf"};

/* Latin first, then fonts with Chinese glyphs, then whatever sans-serif the viewer has. */
#define FONT_FAMILY                                                                       \
    "DejaVu Sans, Helvetica, Arial, 'Noto Sans CJK SC', 'Source Han Sans SC', "           \
    "'Microsoft YaHei', 'PingFang SC', 'WenQuanYi Micro Hei', sans-serif"

/* Length of the UTF-8 sequence starting at s (1-4), or 0 when it is not valid UTF-8. */
static int utf8_len(const unsigned char *s, unsigned *cp) {
    unsigned c = s[0];
    int n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        *cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        *cp = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && *cp < 0x800) || (n == 4 && (*cp < 0x10000 || *cp > 0x10ffff)) ||
        (*cp >= 0xd800 && *cp <= 0xdfff))
        return 0;
    return n;
}

/* Write text as XML character data: & < > " escaped, UTF-8 (e.g. Chinese) passed through,
 * control characters dropped and invalid bytes replaced by U+FFFD, so the file stays
 * well-formed whatever the caller passes. */
static void xml_text(FILE *f, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n = utf8_len(p, &cp);
        if (n == 0) {
            fputs("\xef\xbf\xbd", f);
            p++;
            continue;
        }
        if (n == 1) {
            switch (*p) {
            case '&': fputs("&amp;", f); break;
            case '<': fputs("&lt;", f); break;
            case '>': fputs("&gt;", f); break;
            case '"': fputs("&quot;", f); break;
            case '\t': case '\n': case '\r': fputc(' ', f); break;
            default:
                if (*p >= 0x20 && *p != 0x7f) fputc(*p, f);
            }
        } else {
            fwrite(p, 1, (size_t)n, f);
        }
        p += n;
    }
}

/* Advance widths of printable ASCII (' ' to '~') in 1/100 em, from DejaVu Sans, the first
 * font asked for and a wide one: Helvetica and Arial are narrower, so labels measured with
 * it fit in those too. (A flat 0.6 em undercounts: "SGD+momentum" is 8.8 em, not 7.2.) */
static const unsigned char ascii_width[95] = {
    32, 40, 46, 84, 64, 95, 78, 27, 39, 39, 50, 84, 32, 36, 32, 34, /*  !"#$%&'()*+,-./ */
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 34, 34, 84, 84, 84, 53, /* 0-9 :;<=>?       */
    100, 68, 69, 70, 77, 63, 58, 77, 75, 29, 29, 66, 56, 86, 75, 79, /* @A-O            */
    60, 79, 69, 63, 61, 73, 68, 99, 69, 61, 69, 39, 34, 39, 84, 50, /* P-Z [\]^_        */
    50, 61, 63, 55, 63, 62, 35, 63, 63, 28, 28, 58, 28, 97, 63, 61, /* `a-o             */
    63, 63, 41, 52, 39, 63, 59, 82, 59, 59, 52, 64, 34, 64, 84,     /* p-z {|}~         */
};

/* Text width in pixels: ASCII from the table above, CJK and other wide glyphs 1 em, other
 * letters (Greek, accented Latin) 0.7 em. Used to leave room for labels. */
static double text_width(const char *s, double font_size) {
    double w = 0.0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n = utf8_len(p, &cp);
        if (n == 0) n = 1, cp = 0xfffd;
        double em = cp >= 0x20 && cp < 0x7f ? ascii_width[cp - 0x20] / 100.0
                    : cp >= 0x1100          ? 1.0
                                            : 0.7;
        w += em * font_size;
        p += n;
    }
    return w;
}

typedef struct frame {
    double left, top, width, height; /* the plot area in pixels */
    ticks tx, ty;
} frame;

static double px_x(const frame *fr, double x) {
    return fr->left + (x - fr->tx.lo) / (fr->tx.hi - fr->tx.lo) * fr->width;
}
static double px_y(const frame *fr, double y) {
    return fr->top + (fr->ty.hi - y) / (fr->ty.hi - fr->ty.lo) * fr->height;
}

static const char *series_label(const nn_series *s, int k, char *buf, size_t size) {
    if (s->label) return s->label;
    snprintf(buf, size, "series %d", k + 1);
    return buf;
}

/* Series past the eighth reuse the colours with a dashed line. */
static void series_stroke(FILE *f, int k) {
    fprintf(f, "stroke=\"%s\"", palette[k % 8]);
    if ((k / 8) % 2 == 1) fputs(" stroke-dasharray=\"6 3\"", f);
}

static void svg_series(FILE *f, const frame *fr, const nn_series *s, int k) {
    const char *color = palette[k % 8];
    if (s->style == NN_PLOT_POINTS) {
        fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.85\" stroke=\"white\" stroke-width=\"0.5\">\n",
                color);
        for (int i = 0; i < s->n; i++) {
            if (!point_ok(s, i)) continue;
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\"/>\n", px_x(fr, series_x(s, i)),
                    px_y(fr, s->y[i]));
        }
        fputs("</g>\n", f);
        return;
    }
    /* NN_PLOT_LINE: one polyline per run of finite points; a run of one point is a dot. */
    fputs("<g fill=\"none\" ", f);
    series_stroke(f, k);
    fputs(" stroke-width=\"2\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n", f);
    int i = 0;
    while (i < s->n) {
        while (i < s->n && !point_ok(s, i)) i++;
        int start = i;
        while (i < s->n && point_ok(s, i)) i++;
        int len = i - start;
        if (len == 1) {
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\" stroke=\"none\"/>\n",
                    px_x(fr, series_x(s, start)), px_y(fr, s->y[start]), color);
        } else if (len > 1) {
            fputs("<polyline points=\"", f);
            for (int j = start; j < i; j++) {
                fprintf(f, "%s%.2f,%.2f", j > start ? " " : "", px_x(fr, series_x(s, j)),
                        px_y(fr, s->y[j]));
                if ((j - start) % 8 == 7 && j + 1 < i) fputc('\n', f); /* keep lines short */
            }
            fputs("\"/>\n", f);
        }
    }
    fputs("</g>\n", f);
}

/* Grid lines at every tick (light), tick marks and their labels, then the frame. */
/* The width of the widest y tick label: the room the left margin needs. */
static double ytick_width(const ticks *t, double font) {
    char buf[64];
    double widest = 0.0;
    for (int i = 0; i < t->count; i++) {
        tick_label(buf, sizeof buf, t->lo + i * t->step, t);
        double w = text_width(buf, font);
        if (w > widest) widest = w;
    }
    return widest;
}

/* The SVG header: the canvas (W x H, white), the default font, and the title (if any) centred
 * over the plot area. */
static void svg_begin(FILE *f, double W, double H, double font, const char *title,
                      double title_font, const frame *fr) {
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"" FONT_FAMILY "\" font-size=\"%.0f\">\n",
            W, H, W, H, font);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"white\"/>\n", W, H);
    if (title && *title) {
        fprintf(f,
                "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"%.0f\" "
                "font-weight=\"bold\" fill=\"#222\">",
                fr->left + fr->width / 2, 28.0, title_font);
        xml_text(f, title);
        fputs("</text>\n", f);
    }
}

static void svg_axes(FILE *f, const frame *fr) {
    char buf[64];
    fputs("<g stroke=\"#e6e6e6\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < fr->tx.count; i++) {
        double x = px_x(fr, fr->tx.lo + i * fr->tx.step);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, fr->top, x,
                fr->top + fr->height);
    }
    for (int i = 0; i < fr->ty.count; i++) {
        double y = px_y(fr, fr->ty.lo + i * fr->ty.step);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->left, y,
                fr->left + fr->width, y);
    }
    fputs("</g>\n", f);

    /* Tick marks and their labels. */
    fputs("<g stroke=\"#333\" stroke-width=\"1\">\n", f);
    for (int i = 0; i < fr->tx.count; i++) {
        double x = px_x(fr, fr->tx.lo + i * fr->tx.step);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x,
                fr->top + fr->height, x, fr->top + fr->height + 5);
    }
    for (int i = 0; i < fr->ty.count; i++) {
        double y = px_y(fr, fr->ty.lo + i * fr->ty.step);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fr->left - 5, y,
                fr->left, y);
    }
    fputs("</g>\n", f);
    fputs("<g fill=\"#333\">\n", f);
    for (int i = 0; i < fr->tx.count; i++) {
        double v = fr->tx.lo + i * fr->tx.step;
        tick_label(buf, sizeof buf, v, &fr->tx);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                px_x(fr, v), fr->top + fr->height + 19, buf);
    }
    for (int i = 0; i < fr->ty.count; i++) {
        double v = fr->ty.lo + i * fr->ty.step;
        tick_label(buf, sizeof buf, v, &fr->ty);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", fr->left - 8,
                px_y(fr, v) + 4, buf);
    }
    fputs("</g>\n", f);
    fprintf(f,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
            "stroke=\"#333\" stroke-width=\"1\"/>\n",
            fr->left, fr->top, fr->width, fr->height);
}

static void svg_write(FILE *f, const char *title, const char *xlabel, const char *ylabel,
                      const nn_series *series, int nseries) {
    const double font = 12.0, title_font = 16.0, legend_row = 20.0;
    range xr, yr;
    data_ranges(series, nseries, &xr, &yr);
    range_fix(&xr);
    range_fix(&yr);
    frame fr;
    fr.tx = nice_ticks(xr.lo, xr.hi);
    fr.ty = nice_ticks(yr.lo, yr.hi);

    /* Room for the y tick labels decides the left margin; the legend, the right one. */
    char buf[64];
    double ylab_w = ytick_width(&fr.ty, font);
    double legend_w = 0.0;
    for (int k = 0; k < nseries; k++) {
        double w = text_width(series_label(&series[k], k, buf, sizeof buf), font);
        if (w > legend_w) legend_w = w;
    }
    if (nseries > 0) legend_w += 50.0; /* 38 before the text (swatch, gaps), 12 after it */

    int has_title = title && *title, has_xl = xlabel && *xlabel, has_yl = ylabel && *ylabel;
    double left = 14.0 + (has_yl ? 22.0 : 0.0) + ylab_w + 10.0;
    double right = 20.0 + (nseries > 0 ? legend_w + 16.0 : 0.0);
    double top = has_title ? 44.0 : 20.0;
    double bottom = 34.0 + (has_xl ? 22.0 : 0.0);
    double W = 800.0, H = 500.0;
    if (W < left + 480.0 + right) W = left + 480.0 + right;  /* long legend labels */
    double legend_h = nseries * legend_row + 12.0;
    if (H < top + legend_h + bottom) H = top + legend_h + bottom; /* many series */
    fr.left = left;
    fr.top = top;
    fr.width = W - left - right;
    fr.height = H - top - bottom;

    svg_begin(f, W, H, font, title, title_font, &fr);

    svg_axes(f, &fr);

    /* Axis labels. */
    if (has_xl) {
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#222\">",
                fr.left + fr.width / 2, fr.top + fr.height + 44);
        xml_text(f, xlabel);
        fputs("</text>\n", f);
    }
    if (has_yl) {
        double x = 22.0, y = fr.top + fr.height / 2;
        fprintf(f,
                "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#222\" "
                "transform=\"rotate(-90 %.2f %.2f)\">",
                x, y, x, y);
        xml_text(f, ylabel);
        fputs("</text>\n", f);
    }

    /* The data. */
    for (int k = 0; k < nseries; k++) svg_series(f, &fr, &series[k], k);

    /* The legend, right of the plot area: a swatch (a line or a dot) and the label. */
    if (nseries > 0) {
        double lx = fr.left + fr.width + 16.0, ly = fr.top;
        fputs("<g>\n", f);
        fprintf(f,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"white\" "
                "stroke=\"#bbb\" rx=\"3\"/>\n",
                lx, ly, legend_w, legend_h);
        for (int k = 0; k < nseries; k++) {
            double cy = ly + 6.0 + legend_row * (k + 0.5);
            if (series[k].style == NN_PLOT_POINTS) {
                fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3.5\" fill=\"%s\"/>\n",
                        lx + 20.0, cy, palette[k % 8]);
            } else {
                fprintf(f,
                        "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke-width=\"2\" ",
                        lx + 8.0, cy, lx + 32.0, cy);
                series_stroke(f, k);
                fputs("/>\n", f);
            }
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" fill=\"#222\">", lx + 38.0, cy + 4.0);
            xml_text(f, series_label(&series[k], k, buf, sizeof buf));
            fputs("</text>\n", f);
        }
        fputs("</g>\n", f);
    }
    fputs("</svg>\n", f);
}

int nn_plot_svg(const char *path, const char *title, const char *xlabel, const char *ylabel,
                const nn_series *series, int nseries) {
    if (!path) {
        nn_fail("nn_plot_svg", "pass a file name such as \"loss.svg\"", "path is NULL");
        return -1;
    }
    if (check_series("nn_plot_svg", series, nseries) != 0) return -1;

    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (!e) {
        svg_write(out.f, title, xlabel, ylabel, series, nseries);
        e = nn_safe_commit(&out, path, 0, false);
    }
    if (e) return nn_set_last_error("nn_plot_svg: cannot write %s: %s", path, strerror(e));
    return 0;
}

/* The three steps every example did after drawing a chart: join the path (making folders),
 * write, and tell the user where it went or why it did not. */
int nn_plot_svg_in(const char *dir, const char *file, const char *title, const char *xlabel,
                     const char *ylabel, const nn_series *series, int nseries) {
    if (!file) {
        nn_fail("nn_plot_svg_in", "pass a file name such as \"loss.svg\"", "file is NULL");
        return -1;
    }
    char path[4096];
    if (nn_out_path(path, sizeof path, dir, file) &&
        nn_plot_svg(path, title, xlabel, ylabel, series, nseries) == 0) {
        printf("wrote %s\n", path);
        return 0;
    }
    fprintf(stderr, "could not write %s/%s: %s\n", dir && dir[0] ? dir : ".", file,
            nn_last_error());
    return -1;
}

/* ---- a labelled scatter plot (e.g. a 2-D map of embeddings) ---------------------------- */

static int label_point_ok(const float *x, const float *y, int i) {
    return isfinite((double)x[i]) && isfinite((double)y[i]);
}

static void svg_labels_write(FILE *f, const char *title, const float *x, const float *y,
                             const char *const *labels, int n) {
    const double font = 12.0, title_font = 16.0, label_font = 13.0;
    range xr = {0, 0, 0}, yr = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        if (!label_point_ok(x, y, i)) continue;
        range_add(&xr, (double)x[i]);
        range_add(&yr, (double)y[i]);
    }
    range_fix(&xr);
    range_fix(&yr);
    frame fr;
    fr.tx = nice_ticks(xr.lo, xr.hi);
    fr.ty = nice_ticks(yr.lo, yr.hi);

    double ylab_w = ytick_width(&fr.ty, font);
    int has_title = title && *title;
    double W = 800.0, H = 700.0; /* a map: taller than a loss chart */
    fr.left = 14.0 + ylab_w + 10.0;
    fr.top = has_title ? 44.0 : 20.0;
    fr.width = W - fr.left - 24.0;
    fr.height = H - fr.top - 34.0;

    svg_begin(f, W, H, font, title, title_font, &fr);
    svg_axes(f, &fr);

    /* The dots first, then every label on top of them, centred 5 px above its dot. */
    fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.8\">\n", palette[0]);
    for (int i = 0; i < n; i++)
        if (label_point_ok(x, y, i))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"2.5\"/>\n", px_x(&fr, x[i]),
                    px_y(&fr, y[i]));
    fputs("</g>\n", f);
    fprintf(f, "<g fill=\"#222\" font-size=\"%.0f\" text-anchor=\"middle\">\n", label_font);
    for (int i = 0; i < n; i++) {
        if (!labels || !labels[i] || !label_point_ok(x, y, i)) continue;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\">", px_x(&fr, x[i]), px_y(&fr, y[i]) - 5.0);
        xml_text(f, labels[i]);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
    fputs("</svg>\n", f);
}

int nn_plot_svg_labels(const char *path, const char *title, const float *x, const float *y,
                       const char *const *labels, int n) {
    const char *op = "nn_plot_svg_labels";
    if (!path) {
        nn_fail(op, "pass a file name such as \"map.svg\"", "path is NULL");
        return -1;
    }
    if (n < 0) {
        nn_fail(op, "n is the number of points (0 or more)", "n = %d", n);
        return -1;
    }
    if (n > 0 && (!x || !y)) {
        nn_fail(op, "pass n x values and n y values (labels may be NULL)",
                "%s is NULL but n = %d", !x ? "x" : "y", n);
        return -1;
    }
    nn_safe_file out;
    int e = nn_safe_open(&out, path);
    if (!e) {
        svg_labels_write(out.f, title, x, y, labels, n);
        e = nn_safe_commit(&out, path, 0, false);
    }
    if (e) return nn_set_last_error("%s: cannot write %s: %s", op, path, strerror(e));
    return 0;
}

int nn_plot_svg_labels_in(const char *dir, const char *file, const char *title, const float *x,
                          const float *y, const char *const *labels, int n) {
    if (!file) {
        nn_fail("nn_plot_svg_labels_in", "pass a file name such as \"map.svg\"", "file is NULL");
        return -1;
    }
    char path[4096];
    if (nn_out_path(path, sizeof path, dir, file) &&
        nn_plot_svg_labels(path, title, x, y, labels, n) == 0) {
        printf("wrote %s\n", path);
        return 0;
    }
    fprintf(stderr, "could not write %s/%s: %s\n", dir && dir[0] ? dir : ".", file,
            nn_last_error());
    return -1;
}

/* ---- ASCII ------------------------------------------------------------------------------ */

static const char ascii_marks[6] = {'*', 'o', '+', 'x', '#', '@'};

/* Map a value to a cell 0 .. cells-1; `flip` for rows, where the maximum is row 0. */
static int to_cell(double v, double lo, double hi, int cells, int flip) {
    double t = (v - lo) / (hi - lo);
    int c = (int)floor(t * (cells - 1) + 0.5);
    if (c < 0) c = 0;
    if (c > cells - 1) c = cells - 1;
    return flip ? cells - 1 - c : c;
}

static void ascii_label(char *buf, size_t size, double v, double span) {
    if (fabs(v) < 1e-9 * span) v = 0.0; /* no "-0" */
    snprintf(buf, size, "%.4g", v);
    short_exponent(buf);
}

void nn_plot_ascii(FILE *f, const nn_series *series, int nseries, int width, int height) {
    if (!f) {
        nn_fail("nn_plot_ascii", "pass stdout or an open FILE *", "f is NULL");
        return;
    }
    if (check_series("nn_plot_ascii", series, nseries) != 0) return;
    /* Too small to read below 20 x 5; too big to be a terminal chart above 400 x 200. */
    if (width < 20) width = 20;
    if (height < 5) height = 5;
    if (width > 400) width = 400;
    if (height > 200) height = 200;

    char *grid = malloc((size_t)width * (size_t)height);
    if (!grid) {
        fputs("(nn_plot_ascii: out of memory)\n", f);
        return;
    }
    memset(grid, ' ', (size_t)width * (size_t)height);

    range xr, yr;
    data_ranges(series, nseries, &xr, &yr);
    range_fix(&xr);
    range_fix(&yr);

    for (int k = 0; k < nseries; k++) {
        const nn_series *s = &series[k];
        char mark = ascii_marks[k % 6];
        int have_prev = 0, pc = 0, pr = 0;
        for (int i = 0; i < s->n; i++) {
            if (!point_ok(s, i)) {
                have_prev = 0; /* a line breaks at a missing point */
                continue;
            }
            int c = to_cell(series_x(s, i), xr.lo, xr.hi, width, 0);
            int r = to_cell(s->y[i], yr.lo, yr.hi, height, 1);
            if (s->style == NN_PLOT_LINE && have_prev) {
                /* Join to the previous point: walk the longer of the two distances one cell at
                 * a time, so steep parts fill their vertical gap and the curve reads as one. */
                int dc = c - pc, dr = r - pr;
                int steps = abs(dc) > abs(dr) ? abs(dc) : abs(dr);
                for (int t = 1; t < steps; t++) {
                    int cc = pc + (int)floor((double)dc * t / steps + 0.5);
                    int rr = pr + (int)floor((double)dr * t / steps + 0.5);
                    grid[(size_t)rr * width + cc] = mark;
                }
            }
            grid[(size_t)r * width + c] = mark;
            have_prev = 1;
            pc = c;
            pr = r;
        }
    }

    /* y labels: the maximum on the top row, the minimum on the bottom row, and the middle
     * value on the middle row when there is room. */
    char top[32], mid[32], bot[32];
    double yspan = yr.hi - yr.lo;
    int mid_row = (height - 1) / 2;
    ascii_label(top, sizeof top, yr.hi, yspan);
    ascii_label(bot, sizeof bot, yr.lo, yspan);
    ascii_label(mid, sizeof mid, yr.hi - yspan * mid_row / (height - 1), yspan);
    int lw = (int)strlen(top);
    if ((int)strlen(bot) > lw) lw = (int)strlen(bot);
    if (height >= 7 && (int)strlen(mid) > lw) lw = (int)strlen(mid);

    for (int r = 0; r < height; r++) {
        const char *lab = r == 0 ? top : r == height - 1 ? bot
                                   : (height >= 7 && r == mid_row) ? mid : "";
        fprintf(f, "%*s |", lw, lab);
        /* Trailing spaces are trimmed so the chart pastes cleanly. */
        int end = width;
        while (end > 0 && grid[(size_t)r * width + end - 1] == ' ') end--;
        fwrite(grid + (size_t)r * width, 1, (size_t)end, f);
        fputc('\n', f);
    }
    free(grid);

    fprintf(f, "%*s +", lw, "");
    for (int c = 0; c < width; c++) fputc('-', f);
    fputc('\n', f);

    char xlo[32], xhi[32];
    ascii_label(xlo, sizeof xlo, xr.lo, xr.hi - xr.lo);
    ascii_label(xhi, sizeof xhi, xr.hi, xr.hi - xr.lo);
    int gap = width - (int)strlen(xlo) - (int)strlen(xhi);
    if (gap < 1) gap = 1;
    fprintf(f, "%*s  %s%*s%s\n", lw, "", xlo, gap, "", xhi);

    if (nseries > 0) {
        fprintf(f, "%*s  ", lw, "");
        for (int k = 0; k < nseries; k++) {
            char buf[32];
            fprintf(f, "%s%c %s", k ? "  " : "", ascii_marks[k % 6],
                    series_label(&series[k], k, buf, sizeof buf));
        }
        fputc('\n', f);
    }
}
