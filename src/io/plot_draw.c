#include "io/plot_draw.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static const unsigned PALETTE[20] = {0x042AFF, 0x0BDBEB, 0xF3F3F3, 0x00DFB7, 0x111F68, 0xFF6FDD, 0xFF444F,
                                     0xCCED00, 0x00F344, 0xBD00FF, 0x00B4FF, 0xDD00BA, 0x00FFFF, 0x26C000,
                                     0x01FFB3, 0x7D24FF, 0x7B0068, 0xFF1B6C, 0xFC6D2F, 0xA2FF0B};

void cy_plot_color(int i, double rgb[3]) {
    unsigned c = PALETTE[(i % 20 + 20) % 20];
    rgb[0] = (c >> 16 & 255) / 255.0, rgb[1] = (c >> 8 & 255) / 255.0, rgb[2] = (c & 255) / 255.0;
}

cairo_t *cy_plot_canvas(int w, int h) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return NULL;
    }
    cairo_t *cr = cairo_create(s);
    cairo_surface_destroy(s); /* the context keeps a reference */
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        return NULL;
    }
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return cr;
}

void cy_plot_box_label(cairo_t *cr, double x1, double y1, double x2, double y2, const double rgb[3], double lw,
                       const char *label) {
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, lw);
    cairo_rectangle(cr, x1 + lw / 2, y1 + lw / 2, fmax(x2 - x1 - lw, 0), fmax(y2 - y1 - lw, 0));
    cairo_stroke(cr);
    if (!label || !*label) return;
    cairo_font_extents_t fe;
    cairo_text_extents_t te;
    cairo_font_extents(cr, &fe);
    cairo_text_extents(cr, label, &te);
    double h = fe.ascent + fe.descent, w = te.x_advance + 2;
    int outside = y1 >= h;
    double ty = outside ? y1 - h : y1;
    cairo_rectangle(cr, x1, ty, w, h + 1);
    cairo_fill(cr);
    /* Annotator.get_txt_color: dark text on its dark_colors set (the light
     * palette entries, listed there in BGR; here as RGB) */
    static const unsigned dark[9] = {0x0BDBEB, 0xF3F3F3, 0x00DFB7, 0xFF6FDD, 0xCCED00,
                                     0x00F344, 0x00FFFF, 0x01FFB3, 0xA2FF0B};
    unsigned hex = (unsigned)lround(rgb[0] * 255) << 16 | (unsigned)lround(rgb[1] * 255) << 8 |
                   (unsigned)lround(rgb[2] * 255);
    int on_light = 0;
    for (int i = 0; i < 9; i++) on_light |= hex == dark[i];
    if (on_light) cairo_set_source_rgb(cr, 104 / 255.0, 31 / 255.0, 17 / 255.0);
    else cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_move_to(cr, x1 + 1, ty + fe.ascent);
    cairo_show_text(cr, label);
}

void cy_plot_text(cairo_t *cr, double x, double y, const char *text) {
    cairo_font_extents_t fe;
    cairo_font_extents(cr, &fe);
    cairo_move_to(cr, x, y + fe.ascent);
    cairo_show_text(cr, text);
}

void cy_plot_text_centered(cairo_t *cr, double x, double y, const char *text, int vertical) {
    cairo_text_extents_t te;
    cairo_font_extents_t fe;
    cairo_text_extents(cr, text, &te);
    cairo_font_extents(cr, &fe);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (vertical) cairo_rotate(cr, -M_PI / 2);
    cairo_move_to(cr, -te.x_advance / 2, vertical ? fe.ascent / 2 : fe.ascent);
    cairo_show_text(cr, text);
    cairo_restore(cr);
}

double cy_plot_px(const cy_plot_frame *f, double x) { return f->x + f->w * (x - f->x0) / (f->x1 - f->x0); }
double cy_plot_py(const cy_plot_frame *f, double y) { return f->y + f->h - f->h * (y - f->y0) / (f->y1 - f->y0); }

void cy_plot_axes(cairo_t *cr, const cy_plot_frame *f, double font, int x_values, const char *xlabel,
                  const char *ylabel, const char *title) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, font / 12);
    cairo_rectangle(cr, f->x, f->y, f->w, f->h);
    cairo_stroke(cr);
    cairo_set_font_size(cr, font * 0.8);
    char lab[32];
    for (int k = 0; k <= 5; k++) {
        double vx = f->x0 + (f->x1 - f->x0) * k / 5, vy = f->y0 + (f->y1 - f->y0) * k / 5;
        double px = cy_plot_px(f, vx), py = cy_plot_py(f, vy), t = font / 3;
        if (x_values) cairo_move_to(cr, px, f->y + f->h), cairo_line_to(cr, px, f->y + f->h + t);
        cairo_move_to(cr, f->x, py), cairo_line_to(cr, f->x - t, py);
        cairo_stroke(cr);
        snprintf(lab, sizeof lab, "%.3g", vx);
        if (x_values) cy_plot_text_centered(cr, px, f->y + f->h + t * 1.5, lab, 0);
        snprintf(lab, sizeof lab, "%.3g", vy);
        cairo_text_extents_t te;
        cairo_text_extents(cr, lab, &te);
        cy_plot_text(cr, f->x - t * 1.5 - te.x_advance, py - font * 0.45, lab);
    }
    cairo_set_font_size(cr, font);
    if (xlabel) cy_plot_text_centered(cr, f->x + f->w / 2, f->y + f->h + font * 1.6, xlabel, 0);
    if (ylabel) cy_plot_text_centered(cr, f->x - font * 3.2, f->y + f->h / 2, ylabel, 1);
    if (title) cy_plot_text_centered(cr, f->x + f->w / 2, f->y - font * 1.6, title, 0);
}

void cy_plot_put_image(cairo_surface_t *s, const cy_image *im, int x0, int y0) {
    cairo_surface_flush(s);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s), W = cairo_image_surface_get_width(s);
    int H = cairo_image_surface_get_height(s);
    for (int y = 0; y < im->h; y++) {
        if (y0 + y < 0 || y0 + y >= H) continue;
        for (int x = 0; x < im->w; x++) {
            if (x0 + x < 0 || x0 + x >= W) continue;
            const uint8_t *p = im->data + ((size_t)y * im->w + x) * im->c;
            uint32_t v = im->c >= 3 ? (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]
                                    : (uint32_t)p[0] << 16 | (uint32_t)p[0] << 8 | p[0];
            memcpy(px + (size_t)(y0 + y) * stride + (size_t)(x0 + x) * 4, &v, 4);
        }
    }
    cairo_surface_mark_dirty(s);
}

cy_status cy_plot_save(cairo_t *cr, const char *path, cy_error *err) {
    cairo_surface_t *s = cairo_surface_reference(cairo_get_target(cr));
    cairo_destroy(cr);
    cairo_surface_flush(s);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    size_t n = strlen(path);
    cy_status st = CY_OK;
    if (n > 4 && !strcmp(path + n - 4, ".jpg")) {
        int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
        int stride = cairo_image_surface_get_stride(s);
        const unsigned char *px = cairo_image_surface_get_data(s);
        cy_image im;
        st = cy_image_alloc(&im, h, w, 3, err);
        for (int y = 0; st == CY_OK && y < h; y++)
            for (int x = 0; x < w; x++) {
                uint32_t v;
                memcpy(&v, px + (size_t)y * stride + (size_t)x * 4, 4);
                uint8_t *o = im.data + ((size_t)y * w + x) * 3;
                o[0] = (uint8_t)(v >> 16), o[1] = (uint8_t)(v >> 8), o[2] = (uint8_t)v;
            }
        if (st == CY_OK) {
            st = cy_image_write_jpeg(tmp, &im, 90, err);
            cy_image_free(&im);
        }
    } else if (cairo_surface_write_to_png(s, tmp) != CAIRO_STATUS_SUCCESS) {
        st = cy_fail(err, CY_ERR_IO, "%s: cannot write", path);
    }
    cairo_surface_destroy(s);
    if (st == CY_OK && rename(tmp, path) != 0) st = cy_fail(err, CY_ERR_IO, "%s: cannot write", path);
    if (st != CY_OK) remove(tmp);
    return st;
}
