/* Drawing pieces shared by the plots (cairo): Ultralytics' class palette,
 * a labelled box, text, and writing a surface as JPEG or PNG atomically. */
#ifndef CY_IO_PLOT_DRAW_H
#define CY_IO_PLOT_DRAW_H
#include <cairo.h>
#include "core/status.h"
#include "io/image.h"

/* Ultralytics' Colors()(i): 20 colours cycled by class id, as RGB 0..1. */
void cy_plot_color(int i, double rgb[3]);

/* A new white RGB24 surface and its context; NULL when cairo fails. */
cairo_t *cy_plot_canvas(int w, int h);

/* Outline of (x1, y1)-(x2, y2) in rgb, line width lw, with `label` (may be
 * NULL) on a filled tag above the box (inside when it does not fit), as
 * Annotator.box_label draws it; text is dark on the palette's light colours. */
void cy_plot_box_label(cairo_t *cr, double x1, double y1, double x2, double y2, const double rgb[3], double lw,
                       const char *label);

/* Text with its top-left corner at (x, y). */
void cy_plot_text(cairo_t *cr, double x, double y, const char *text);
/* Text centred on x, top at y; rotated 90 degrees counter-clockwise when vertical. */
void cy_plot_text_centered(cairo_t *cr, double x, double y, const char *text, int vertical);

/* A plot frame: the box (x, y, w, h) in pixels with 6 ticks per axis over
 * [x0, x1] and [y0, y1] (y up), their values (x values only when
 * x_values), the axis labels and a title (any may be NULL). Leaves the font
 * size at `font`. */
typedef struct {
    double x, y, w, h;         /* pixels */
    double x0, x1, y0, y1;     /* data range */
} cy_plot_frame;
void cy_plot_axes(cairo_t *cr, const cy_plot_frame *f, double font, int x_values, const char *xlabel,
                  const char *ylabel, const char *title);
/* Data -> pixel coordinates of a frame. */
double cy_plot_px(const cy_plot_frame *f, double x);
double cy_plot_py(const cy_plot_frame *f, double y);

/* Copies an RGB image into the surface at (x, y) (no scaling). */
void cy_plot_put_image(cairo_surface_t *s, const cy_image *im, int x, int y);

/* Writes the context's surface (then destroys the context and surface):
 * JPEG (through io/image.h) when the path ends in .jpg, else PNG; a
 * temporary file renamed into place, so a reader never sees half a plot. */
cy_status cy_plot_save(cairo_t *cr, const char *path, cy_error *err);

#endif
