#include "io/plot_images.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/plot_draw.h"
#include "io/plot_masks_grid.h"

#define MAX_SIZE 1920
#define MAX_SUBPLOTS 16

/* ns cells a side, each cell ch x cw after the optional scale-down */
static void grid(int n, int h, int w, int *ns, int *ch, int *cw, double *scale) {
    int bs = n < MAX_SUBPLOTS ? n : MAX_SUBPLOTS;
    *ns = (int)ceil(sqrt((double)bs));
    if (*ns < 1) *ns = 1;
    *scale = (double)MAX_SIZE / *ns / (h > w ? h : w);
    *ch = h, *cw = w;
    if (*scale < 1) *ch = (int)ceil(*scale * h), *cw = (int)ceil(*scale * w);
}

void cy_plot_images_size(int n, int h, int w, int *out_w, int *out_h) {
    int ns, ch, cw;
    double scale;
    grid(n, h, w, &ns, &ch, &cw, &scale);
    *out_w = ns * cw, *out_h = ns * ch;
}

cy_status cy_plot_images(const float *x, int n, int h, int w, const cy_plot_box *boxes, int nboxes,
                         const char *const *paths, char *const *names, int nc, const char *path, cy_error *err) {
    return cy_plot_images_masks(x, n, h, w, boxes, nboxes, NULL, paths, names, nc, path, err);
}

cy_status cy_plot_images_masks(const float *x, int n, int h, int w, const cy_plot_box *boxes, int nboxes,
                               const cy_plot_masks *masks, const char *const *paths, char *const *names, int nc,
                               const char *path, cy_error *err) {
    if (n < 1 || h < 1 || w < 1) return cy_fail(err, CY_ERR_ARG, "%s: no images to plot", path);
    int ns, ch, cw;
    double scale;
    grid(n, h, w, &ns, &ch, &cw, &scale);
    int bs = n < MAX_SUBPLOTS ? n : MAX_SUBPLOTS;
    cairo_t *cr = cy_plot_canvas(ns * cw, ns * ch);
    cairo_surface_t *cell = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (!cr || cairo_surface_status(cell) != CAIRO_STATUS_SUCCESS) {
        if (cr) cairo_destroy(cr);
        cairo_surface_destroy(cell);
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot draw", path);
    }
    size_t plane = (size_t)h * w;
    for (int i = 0; i < bs; i++) {
        cairo_surface_flush(cell);
        unsigned char *px = cairo_image_surface_get_data(cell);
        int stride = cairo_image_surface_get_stride(cell);
        const float *xi = x + (size_t)i * 3 * plane;
        for (int y = 0; y < h; y++)
            for (int k = 0; k < w; k++) {
                uint32_t v = 0;
                for (int c = 0; c < 3; c++) {
                    float f = xi[c * plane + (size_t)y * w + k] * 255.0f + 0.5f;
                    v = v << 8 | (uint32_t)(f < 0 ? 0 : f > 255 ? 255 : f);
                }
                memcpy(px + (size_t)y * stride + (size_t)k * 4, &v, 4);
            }
        cairo_surface_mark_dirty(cell);
        double ox = (double)cw * (i / ns), oy = (double)ch * (i % ns); /* column by column */
        cairo_save(cr);
        cairo_translate(cr, ox, oy);
        cairo_scale(cr, (double)cw / w, (double)ch / h);
        cairo_set_source_surface(cr, cell, 0, 0);
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
        cairo_paint(cr);
        cairo_restore(cr);
    }
    cairo_surface_destroy(cell);
    int fs = (int)((ch + cw) * ns * 0.01);
    if (fs < 18) fs = 18;
    double lw = round(fs / 10.0);
    if (lw < 1) lw = 1;
    cairo_set_font_size(cr, fs);
    for (int i = 0; i < bs; i++) {
        double ox = (double)cw * (i / ns), oy = (double)ch * (i % ns);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 2);
        cairo_rectangle(cr, ox + 1, oy + 1, cw - 2, ch - 2);
        cairo_stroke(cr);
        if (paths && paths[i]) {
            const char *base = strrchr(paths[i], '/');
            char name[41];
            snprintf(name, sizeof name, "%s", base ? base + 1 : paths[i]);
            cairo_set_source_rgb(cr, 220 / 255.0, 220 / 255.0, 220 / 255.0);
            cy_plot_text(cr, ox + 5, oy + 5, name);
        }
        for (int j = 0; j < nboxes; j++) {
            const cy_plot_box *b = &boxes[j];
            if (b->img != i || (b->conf >= 0 && !(b->conf > 0.25f))) continue;
            double rgb[3];
            cy_plot_color(b->cls, rgb);
            char label[160];
            const char *nm = names && b->cls >= 0 && b->cls < nc ? names[b->cls] : NULL;
            char id[16];
            snprintf(id, sizeof id, "%d", b->cls);
            if (b->conf < 0) snprintf(label, sizeof label, "%s", nm ? nm : id);
            else snprintf(label, sizeof label, "%s %.1f", nm ? nm : id, b->conf);
            double x1 = ox + (b->cx - b->w / 2) * cw, y1 = oy + (b->cy - b->h / 2) * ch;
            double x2 = ox + (b->cx + b->w / 2) * cw, y2 = oy + (b->cy + b->h / 2) * ch;
            cy_plot_box_label(cr, floor(x1), floor(y1), floor(x2), floor(y2), rgb, lw, label);
        }
        /* over the cell's boxes and labels, as plot_images blends them */
        cy_status st = cy_plot_cell_masks(cairo_get_target(cr), (int)ox, (int)oy, ch, cw, i, n, boxes, nboxes, masks,
                                          err);
        if (st != CY_OK) {
            cairo_destroy(cr);
            return st;
        }
    }
    return cy_plot_save(cr, path, err);
}
