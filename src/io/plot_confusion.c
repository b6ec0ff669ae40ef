#include "io/plot_confusion.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "io/plot_draw.h"

/* matplotlib's "Blues" from its light end (0) to its dark end (1), linear
 * between five of its anchor colours */
static void blues(double t, double rgb[3]) {
    static const double a[5][3] = {{0.969, 0.984, 1.000}, {0.776, 0.859, 0.937}, {0.420, 0.682, 0.839},
                                   {0.129, 0.443, 0.710}, {0.031, 0.188, 0.420}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    int k = t >= 1 ? 3 : (int)(t * 4);
    double u = t * 4 - k;
    for (int c = 0; c < 3; c++) rgb[c] = a[k][c] + (a[k + 1][c] - a[k][c]) * u;
}

cy_status cy_plot_confusion(const int64_t *matrix, int nc, char *const *names, int normalize, const char *path,
                            cy_error *err) {
    int n = nc + 1;
    double *v = malloc((size_t)n * n * sizeof *v), top = 0;
    cairo_t *cr = v ? cy_plot_canvas(CY_PLOT_CONFUSION_W, CY_PLOT_CONFUSION_H) : NULL;
    if (!cr) {
        free(v);
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot draw", path);
    }
    for (int j = 0; j < n; j++) {
        double col = 0;
        for (int i = 0; i < n; i++) col += (double)matrix[i * n + j];
        for (int i = 0; i < n; i++) {
            double x = (double)matrix[i * n + j] / (normalize ? col + 1e-9 : 1);
            v[i * n + j] = x < 0.005 ? NAN : x;
            if (x >= 0.005 && x > top) top = x;
        }
    }
    double vmax = top > 0 ? top : 1; /* imshow's colour range: 0 to the largest value */
    double side = 1650.0 / n, x0 = 450, y0 = 150; /* room below for the rotated names */
    char text[64];
    double font = fmax(6, 12 - 0.1 * n) * 250 / 72, tick = fmax(6, 15 - 0.1 * n) * 250 / 72;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double x = v[i * n + j], rgb[3];
            if (isnan(x)) continue;
            blues(x / vmax, rgb);
            cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
            cairo_rectangle(cr, x0 + j * side, y0 + i * side, side + 0.5, side + 0.5);
            cairo_fill(cr);
            if (n < 30) {
                double thr = 0.45 * (normalize ? 1 : vmax);
                if (x > thr) cairo_set_source_rgb(cr, 1, 1, 1);
                else cairo_set_source_rgb(cr, 0, 0, 0);
                cairo_set_font_size(cr, fmin(10 * 250 / 72.0, side / 3));
                if (normalize) snprintf(text, sizeof text, "%.2f", x);
                else snprintf(text, sizeof text, "%lld", (long long)x);
                cy_plot_text_centered(cr, x0 + (j + 0.5) * side, y0 + (i + 0.5) * side - side / 6, text, 0);
            }
        }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, fmin(tick, side * 0.8));
    for (int k = 0; k < n && n < 99; k++) {
        char id[16];
        snprintf(id, sizeof id, "%d", k);
        const char *lab = k == nc ? "background" : names && names[k] ? names[k] : id;
        cairo_text_extents_t te;
        cairo_text_extents(cr, lab, &te);
        cy_plot_text(cr, x0 - 20 - te.x_advance, y0 + (k + 0.5) * side - tick / 2, lab);
        cairo_save(cr);
        cairo_translate(cr, x0 + (k + 0.5) * side + tick / 3, y0 + n * side + 20 + te.x_advance);
        cairo_rotate(cr, -M_PI / 2);
        cairo_move_to(cr, 0, 0);
        cairo_show_text(cr, lab);
        cairo_restore(cr);
    }
    cairo_set_font_size(cr, font);
    cy_plot_text_centered(cr, x0 + n * side / 2, CY_PLOT_CONFUSION_H - 1.5 * font, "True", 0);
    cy_plot_text_centered(cr, 60, y0 + n * side / 2, "Predicted", 1);
    cy_plot_text_centered(cr, x0 + n * side / 2, 40, normalize ? "Confusion Matrix Normalized" : "Confusion Matrix", 0);
    /* colour bar */
    double bx = x0 + n * side + 120, bh = n * side;
    for (int k = 0; k < 256; k++) {
        double rgb[3];
        blues(k / 255.0, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_rectangle(cr, bx, y0 + bh - (k + 1) * bh / 256, 80, bh / 256 + 0.5);
        cairo_fill(cr);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_font_size(cr, tick * 0.8);
    for (int k = 0; k <= 4; k++) {
        snprintf(text, sizeof text, normalize ? "%.2f" : "%.0f", vmax * k / 4);
        cy_plot_text(cr, bx + 100, y0 + bh - bh * k / 4 - tick * 0.4, text);
    }
    free(v);
    return cy_plot_save(cr, path, err);
}
