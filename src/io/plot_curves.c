#include "io/plot_curves.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "io/plot_draw.h"

void cy_smooth(const double *y, int n, double f, double *out) {
    int nf = (int)lround(n * f * 2) / 2 + 1, half = nf / 2;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = i - half; k <= i + half; k++) s += y[k < 0 ? 0 : k >= n ? n - 1 : k];
        out[i] = s / nf;
    }
}

/* matplotlib's tab10 colour cycle, for the per-class lines */
static void tab10(int i, double rgb[3]) {
    static const unsigned c[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                   0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    unsigned v = c[i % 10];
    rgb[0] = (v >> 16 & 255) / 255.0, rgb[1] = (v >> 8 & 255) / 255.0, rgb[2] = (v & 255) / 255.0;
}

static void line(cairo_t *cr, const cy_plot_frame *f, const double *px, const double *py, int n, double lw,
                 const double rgb[3]) {
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, lw);
    for (int i = 0; i < n; i++) {
        double x = cy_plot_px(f, px[i]), y = cy_plot_py(f, fmin(fmax(py[i], -0.01), 1.01));
        if (i) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y);
    }
    cairo_stroke(cr);
}

static void legend_row(cairo_t *cr, double x, double y, double lw, const double rgb[3], const char *text) {
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, lw);
    cairo_move_to(cr, x, y + 20), cairo_line_to(cr, x + 60, y + 20);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    cy_plot_text(cr, x + 75, y, text);
}

/* thin per-class lines, the thick mean line, the legend */
static cy_status draw(const double *px, const double *py, const double *mean, int npx, int ncls,
                      const char *const *names, const double *ap50, const char *mean_label, const char *xlabel,
                      const char *ylabel, const char *title, const char *path, cy_error *err) {
    cairo_t *cr = cy_plot_canvas(CY_PLOT_CURVE_W, CY_PLOT_CURVE_H);
    if (!cr) return cy_fail(err, CY_ERR_MEMORY, "%s: cannot draw", path);
    cy_plot_frame f = {200, 120, 1350, 1200, 0, 1, 0, 1};
    int legend = ncls > 0 && ncls < 21;
    static const double grey[3] = {0.5, 0.5, 0.5}, blue[3] = {0, 0, 1};
    double rgb[3];
    for (int c = 0; c < ncls; c++) {
        if (legend) tab10(c, rgb);
        line(cr, &f, px, py + (size_t)c * npx, npx, 2.5, legend ? rgb : grey);
    }
    line(cr, &f, px, mean, npx, 7.5, blue);
    cy_plot_axes(cr, &f, 36, 1, xlabel, ylabel, title);
    cairo_set_font_size(cr, 30);
    double ly = f.y;
    char text[256];
    for (int c = 0; legend && c < ncls; c++, ly += 45) {
        tab10(c, rgb);
        char id[16];
        snprintf(id, sizeof id, "%d", c);
        const char *nm = names && names[c] ? names[c] : id;
        if (ap50) snprintf(text, sizeof text, "%s %.3f", nm, ap50[c]);
        else snprintf(text, sizeof text, "%s", nm);
        legend_row(cr, f.x + f.w + 60, ly, 2.5, rgb, text);
    }
    legend_row(cr, f.x + f.w + 60, ly, 7.5, blue, mean_label);
    return cy_plot_save(cr, path, err);
}

cy_status cy_plot_pr_curve(const double *px, const double *py, int npx, int ncls, const double *ap50,
                           const char *const *names, const char *path, cy_error *err) {
    double *mean = calloc(npx > 0 ? npx : 1, sizeof *mean), map50 = 0;
    if (!mean) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    for (int c = 0; c < ncls; c++) {
        map50 += ap50[c] / ncls;
        for (int i = 0; i < npx; i++) mean[i] += py[(size_t)c * npx + i] / ncls;
    }
    char label[96];
    snprintf(label, sizeof label, "all classes %.3f mAP@0.5", map50);
    cy_status st = draw(px, py, mean, npx, ncls, names, ap50, label, "Recall", "Precision", "Precision-Recall Curve",
                        path, err);
    free(mean);
    return st;
}

cy_status cy_plot_mc_curve(const double *px, const double *py, int npx, int ncls, const char *const *names,
                           const char *xlabel, const char *ylabel, const char *path, cy_error *err) {
    double *mean = calloc(npx > 0 ? npx : 1, sizeof *mean), *sm = calloc(npx > 0 ? npx : 1, sizeof *sm);
    if (!mean || !sm) {
        free(mean), free(sm);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    for (int c = 0; c < ncls; c++)
        for (int i = 0; i < npx; i++) mean[i] += py[(size_t)c * npx + i] / ncls;
    cy_smooth(mean, npx, 0.1, sm);
    int best = 0;
    for (int i = 1; i < npx; i++) best = sm[i] > sm[best] ? i : best; /* first maximum, as argmax */
    char label[96], title[96];
    snprintf(label, sizeof label, "all classes %.2f at %.3f", npx ? sm[best] : 0.0, npx ? px[best] : 0.0);
    snprintf(title, sizeof title, "%s-Confidence Curve", ylabel);
    cy_status st = draw(px, py, sm, npx, ncls, names, NULL, label, xlabel, ylabel, title, path, err);
    free(mean), free(sm);
    return st;
}
