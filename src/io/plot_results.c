#include "io/plot_results.h"
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_ROWS 100000

/* the panels in Ultralytics' order */
static const char *PANELS[10] = {"train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/precision(B)",
                                 "metrics/recall(B)", "val/box_loss", "val/cls_loss", "val/dfl_loss",
                                 "metrics/mAP50(B)", "metrics/mAP50-95(B)"};

cy_status cy_plot_results(const char *csv_path, const char *png_path, cy_error *err) {
    FILE *f = fopen(csv_path, "r");
    if (!f) return cy_fail(err, CY_ERR_IO, "%s: cannot read", csv_path);
    char line[8192], *names[MAX_COLS];
    int ncol = 0, nrow = 0;
    double *v = NULL;
    cy_status st = CY_OK;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return cy_fail(err, CY_ERR_FORMAT, "%s: empty", csv_path);
    }
    line[strcspn(line, "\r\n")] = 0;
    for (char *save = NULL, *t = strtok_r(line, ",", &save); t && ncol < MAX_COLS; t = strtok_r(NULL, ",", &save))
        names[ncol++] = strdup(t);
    size_t cap = 0;
    while (fgets(line, sizeof line, f) && nrow < MAX_ROWS) {
        if ((size_t)(nrow + 1) * ncol > cap) {
            cap = cap ? 2 * cap : (size_t)64 * ncol;
            double *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
                break;
            }
            v = nv;
        }
        char *p = line;
        for (int c = 0; c < ncol; c++) {
            v[(size_t)nrow * ncol + c] = strtod(p, &p);
            if (*p == ',') p++;
        }
        nrow++;
    }
    fclose(f);
    const int W = 1500, H = 600, cols = 5;
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    for (int k = 0; st == CY_OK && k < 10; k++) {
        int c = -1;
        for (int j = 0; j < ncol; j++)
            if (!strcmp(names[j], PANELS[k])) c = j;
        double x0 = (k % cols) * (W / (double)cols) + 40, y0 = (k / cols) * (H / 2.0) + 30;
        double pw = W / (double)cols - 60, ph = H / 2.0 - 70;
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 13);
        cairo_move_to(cr, x0, y0 - 10);
        cairo_show_text(cr, PANELS[k]);
        cairo_set_line_width(cr, 1);
        cairo_rectangle(cr, x0, y0, pw, ph);
        cairo_stroke(cr);
        if (c < 0 || nrow == 0) continue;
        double lo = INFINITY, hi = -INFINITY;
        for (int r = 0; r < nrow; r++) lo = fmin(lo, v[(size_t)r * ncol + c]), hi = fmax(hi, v[(size_t)r * ncol + c]);
        if (hi - lo < 1e-12) hi = lo + 1;
        char lab[64];
        cairo_set_font_size(cr, 10);
        snprintf(lab, sizeof lab, "%.3g", hi);
        cairo_move_to(cr, x0 + 2, y0 + 11);
        cairo_show_text(cr, lab);
        snprintf(lab, sizeof lab, "%.3g", lo);
        cairo_move_to(cr, x0 + 2, y0 + ph - 3);
        cairo_show_text(cr, lab);
        cairo_set_source_rgb(cr, 0.12, 0.47, 0.71); /* matplotlib's first colour */
        cairo_set_line_width(cr, 2);
        for (int r = 0; r < nrow; r++) {
            double x = x0 + (nrow > 1 ? pw * r / (nrow - 1) : pw / 2);
            double y = y0 + ph - ph * (v[(size_t)r * ncol + c] - lo) / (hi - lo);
            if (r) cairo_line_to(cr, x, y);
            else cairo_move_to(cr, x, y);
        }
        cairo_stroke(cr);
        for (int r = 0; r < nrow; r++) { /* markers */
            double x = x0 + (nrow > 1 ? pw * r / (nrow - 1) : pw / 2);
            double y = y0 + ph - ph * (v[(size_t)r * ncol + c] - lo) / (hi - lo);
            cairo_arc(cr, x, y, 2.5, 0, 2 * M_PI);
            cairo_fill(cr);
        }
    }
    cairo_surface_flush(s);
    if (st == CY_OK) {
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", png_path);
        if (cairo_surface_write_to_png(s, tmp) != CAIRO_STATUS_SUCCESS || rename(tmp, png_path) != 0) {
            remove(tmp);
            st = cy_fail(err, CY_ERR_IO, "%s: cannot write", png_path);
        }
    }
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    for (int j = 0; j < ncol; j++) free(names[j]);
    free(v);
    return st;
}
