/* Predicted instance masks drawn on an image (what Ultralytics'
 * Annotator.masks shows: each mask's colour blended in at alpha). */
#ifndef CY_IO_PLOT_PRED_MASKS_H
#define CY_IO_PLOT_PRED_MASKS_H
#include <stdint.h>
#include "io/image.h"

/* masks [n][im->h][im->w] (nonzero inside), colors[n] 0xRRGGBB, alpha in
 * [0, 1]: pixel = pixel * (1 - alpha) + colour * alpha per mask, in order,
 * so later masks lie on top. */
cy_status cy_blend_masks(cy_image *im, const uint8_t *masks, int n, const uint32_t *colors, float alpha,
                         cy_error *err);

#endif
