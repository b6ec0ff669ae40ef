#include "io/plot_labels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "io/plot_draw.h"

#define BINS 50
#define PANEL (CY_PLOT_LABELS_SIZE / 2)

static void class_histogram(cairo_t *cr, const int *cls, int64_t n, char *const *names, int nnames,
                            cy_plot_frame f, int64_t *count, int nc) {
    int64_t top = 1;
    for (int c = 0; c < nc; c++) top = count[c] > top ? count[c] : top;
    f.x0 = -0.5, f.x1 = nc - 0.5, f.y0 = 0, f.y1 = top * 1.05;
    for (int c = 0; c < nc; c++) {
        double rgb[3];
        cy_plot_color(c, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double x1 = cy_plot_px(&f, c - 0.4), x2 = cy_plot_px(&f, c + 0.4), y = cy_plot_py(&f, (double)count[c]);
        cairo_rectangle(cr, x1, y, x2 - x1, f.y + f.h - y);
        cairo_fill(cr);
        if (nnames > 0 && nnames < 30) {
            char lab[32];
            snprintf(lab, sizeof lab, "%lld", (long long)count[c]);
            cairo_set_source_rgb(cr, 0, 0, 0);
            cairo_set_font_size(cr, 16);
            cy_plot_text_centered(cr, (x1 + x2) / 2, y - 20, lab, 0);
            if (names && c < nnames) {
                cairo_text_extents_t te;
                cairo_text_extents(cr, names[c], &te);
                cairo_save(cr);
                cairo_translate(cr, (x1 + x2) / 2 + 6, f.y + f.h + 8 + te.x_advance);
                cairo_rotate(cr, -M_PI / 2);
                cairo_move_to(cr, 0, 0);
                cairo_show_text(cr, names[c]);
                cairo_restore(cr);
            }
        }
    }
    (void)cls, (void)n;
    int named = nnames > 0 && nnames < 30;
    cy_plot_axes(cr, &f, 20, !named, named ? NULL : "classes", "instances", NULL);
}

static void box_sizes(cairo_t *cr, const int *cls, const float *xywh, int64_t n, double x, double y, double side) {
    cairo_save(cr);
    cairo_rectangle(cr, x, y, side, side);
    cairo_clip(cr);
    cairo_set_line_width(cr, side / 1000);
    for (int64_t i = 0; i < n && i < 500; i++) {
        double rgb[3], bw = xywh[4 * i + 2] * side, bh = xywh[4 * i + 3] * side;
        cy_plot_color(cls[i], rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, x + side / 2 - bw / 2, y + side / 2 - bh / 2, bw, bh);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
}

/* numpy histogram2d over the data's own range, as matplotlib's hist2d */
static void hist2d(cairo_t *cr, const float *xywh, int64_t n, int col, cy_plot_frame f, const char *xl,
                   const char *yl) {
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < 2; a++) {
            double v = xywh[4 * i + col + a];
            lo[a] = v < lo[a] ? v : lo[a], hi[a] = v > hi[a] ? v : hi[a];
        }
    for (int a = 0; a < 2; a++) {
        if (!(hi[a] > lo[a])) lo[a] = n ? lo[a] - 0.5 : 0, hi[a] = n ? lo[a] + 1 : 1;
    }
    int64_t h[BINS][BINS];
    int64_t top = 0;
    for (int i = 0; i < BINS; i++)
        for (int j = 0; j < BINS; j++) h[i][j] = 0;
    for (int64_t i = 0; i < n; i++) {
        int b[2];
        for (int a = 0; a < 2; a++) {
            b[a] = (int)((xywh[4 * i + col + a] - lo[a]) / (hi[a] - lo[a]) * BINS);
            b[a] = b[a] < 0 ? 0 : b[a] >= BINS ? BINS - 1 : b[a];
        }
        int64_t v = ++h[b[0]][b[1]];
        top = v > top ? v : top;
    }
    f.x0 = lo[0], f.x1 = hi[0], f.y0 = lo[1], f.y1 = hi[1];
    for (int i = 0; i < BINS; i++)
        for (int j = 0; j < BINS; j++) {
            double t = top ? (double)h[i][j] / top : 0;
            cairo_set_source_rgb(cr, 1 - t, 1 - t, 1); /* white -> blue */
            double x1 = f.x + f.w * i / BINS, y1 = f.y + f.h - f.h * (j + 1) / BINS;
            cairo_rectangle(cr, x1, y1, f.w / BINS + 0.5, f.h / BINS + 0.5);
            cairo_fill(cr);
        }
    cy_plot_axes(cr, &f, 20, 1, xl, yl, NULL);
}

cy_status cy_plot_labels(const int *cls, const float *xywh, int64_t n, char *const *names, int nnames,
                         const char *path, cy_error *err) {
    int nc = 0;
    for (int64_t i = 0; i < n; i++) nc = cls[i] + 1 > nc ? cls[i] + 1 : nc; /* int(cls.max() + 1) */
    if (nc < 1) nc = 1;
    int64_t *count = calloc(nc, sizeof *count);
    cairo_t *cr = count ? cy_plot_canvas(CY_PLOT_LABELS_SIZE, CY_PLOT_LABELS_SIZE) : NULL;
    if (!cr) {
        free(count);
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot draw", path);
    }
    for (int64_t i = 0; i < n; i++)
        if (cls[i] >= 0) count[cls[i]]++;
    double m = 110, side = PANEL - 1.6 * m;
    int long_names = nnames > 0 && nnames < 30;
    cy_plot_frame f = {m, m / 2, side, side - (long_names ? 80 : 0), 0, 1, 0, 1};
    class_histogram(cr, cls, n, names, nnames, f, count, nc);
    box_sizes(cr, cls, xywh, n, PANEL + m / 2, m / 2, side + m / 2);
    cy_plot_frame g = {m, PANEL + m / 2, side, side, 0, 1, 0, 1};
    hist2d(cr, xywh, n, 0, g, "x", "y");
    g.x = PANEL + m;
    hist2d(cr, xywh, n, 2, g, "width", "height");
    free(count);
    return cy_plot_save(cr, path, err);
}
