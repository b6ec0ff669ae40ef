/* The synthetic shapes' geometry, shared by the generator (data/synth.c)
 * and the outline and mask helpers (data/synth_shapes.c). Internal. */
#ifndef CY_DATA_SYNTH_SHAPES_H
#define CY_DATA_SYNTH_SHAPES_H
#include <cairo.h>
#include "data/synth.h"

/* Sets the shape's path on cr (a new path; the caller fills it). */
void cy_synth_path(cairo_t *cr, const cy_synth_object *o);
/* The shape's unclipped box x1, y1, x2, y2 in pixels (the drawn vertices'
 * extremes; the circle's square). */
void cy_synth_box(const cy_synth_object *o, double box[4]);

#endif
