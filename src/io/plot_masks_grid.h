/* The grid's mask pass, between io/plot_images.c and io/plot_masks.c. Internal. */
#ifndef CY_IO_PLOT_MASKS_GRID_H
#define CY_IO_PLOT_MASKS_GRID_H
#include <cairo.h>
#include "io/plot_images.h"

/* Blends image img's masks into its cell at (ox, oy), ch x cw pixels, of
 * the surface s (plot_images' rules in io/plot_masks.h). n: the batch's
 * image count (overlap masks hold one per image). */
cy_status cy_plot_cell_masks(cairo_surface_t *s, int ox, int oy, int ch, int cw, int img, int n,
                             const cy_plot_box *boxes, int nboxes, const cy_plot_masks *m, cy_error *err);

#endif
