/* The segment part of `cyolo predict`, as Ultralytics 8.4.190's
 * SegmentationPredictor (retina_masks=False) and Results.save_txt. */
#ifndef CY_ENGINE_PREDICT_RUN_MASKS_H
#define CY_ENGINE_PREDICT_RUN_MASKS_H
#include <stdint.h>
#include <stdio.h>
#include "core/status.h"

/* construct_result: masks = process_mask(proto, coef, boxes, (H, W),
 * upsample=True) [n, H, W] from the rows (6 + nm each, boxes in the
 * letterboxed H x W input); rows whose mask is empty are dropped
 * (masks.amax > 0). On return *n rows of 6 are in det (x1 y1 x2 y2 conf
 * cls) and *masks (malloc'd) holds theirs. */
cy_status cy_pred_masks(const float *proto, int nm, int mh, int mw, const float *rows, int *n, int H, int W,
                        float *det, uint8_t **masks, cy_error *err);

/* The masks [n, H, W] on the original h0 x w0 image (scale_masks of the
 * centred letterbox, > 0.5): out [n, h0, w0]. */
cy_status cy_pred_masks_to_image(const uint8_t *masks, int n, int H, int W, int h0, int w0, uint8_t *out,
                                 cy_error *err);

/* Results.save_txt lines for masks: "cls x1 y1 ... xn yn [conf]", each
 * mask's masks2segments polygon mapped to the original image by
 * scale_coords (normalize=True, in float32 as numpy), "%g"; masks whose
 * outline has fewer than 3 points write no line. */
cy_status cy_pred_write_segments(FILE *f, const float *det, const uint8_t *masks, int n, int H, int W, int h0,
                                 int w0, int save_conf, cy_error *err);

#endif
