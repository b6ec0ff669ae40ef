/* Mask outlines as Ultralytics 8.4.190 takes them (utils/ops.py
 * masks2segments, strategy "all"): OpenCV's findContours with RETR_EXTERNAL
 * and CHAIN_APPROX_SIMPLE (Suzuki-Abe border following, as OpenCV's
 * contours.cpp does it: outer borders of components not inside another
 * component's hole, each started at its first pixel in raster order,
 * traced with the background on the left, only the points where the chain
 * direction changes kept; contours listed last found first), then
 * merge_multi_segment (data/converter.py) when a mask has several. */
#ifndef CY_MODEL_MASK_CONTOUR_H
#define CY_MODEL_MASK_CONTOUR_H
#include <stdint.h>
#include "core/status.h"

/* n contours; contour i is the points xy[start[i] .. start[i+1]) as
 * (x, y) pixel pairs. One allocation (start owns xy). */
typedef struct {
    int n;
    int *start; /* [n + 1] */
    int *xy;    /* [start[n]][2] */
} cy_contours;

/* cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0] of
 * an h x w mask (nonzero is foreground). Free with cy_contours_free. */
cy_status cy_find_contours(const uint8_t *mask, int h, int w, cy_contours *out, cy_error *err);
void cy_contours_free(cy_contours *c);

/* masks2segments(mask[None], "all")[0]: the single contour, or all of them
 * joined by merge_multi_segment; *npts = 0 (and *xy NULL) without any.
 * *xy is [npts][2], malloc'd. */
cy_status cy_mask_to_segment(const uint8_t *mask, int h, int w, int **xy, int *npts, cy_error *err);

#endif
