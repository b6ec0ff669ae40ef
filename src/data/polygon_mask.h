/* Instance masks from polygons, byte for byte what Ultralytics makes
 * (data/utils.py polygon2mask, polygons2masks, polygons2masks_overlap):
 * points truncated to int32 as np.asarray(..., np.int32) does, filled as
 * cv2.fillPoly does (8-connected outline plus OpenCV's edge-table scan
 * conversion, no shift), then shrunk by downsample_ratio (mask_ratio) with
 * cv2.resize's INTER_LINEAR on uint8 (OpenCV's fixed-point arithmetic,
 * and its INTER_AREA path for an exact 2x shrink). Also resample_segments
 * (utils/ops.py), which the augmentations need.
 *
 * Coordinates here are pixels (the label's normalised points times the
 * image size, after augmentation), in cy_polygons' layout.
 *
 * One difference: polygons2masks_overlap sorts instances by area with
 * np.argsort, whose order for equal areas is numpy's (unstable, SIMD);
 * cyolo keeps equal areas in input order. Zero areas sort first, as
 * np.argsort(-areas) on uint64 sums puts them. */
#ifndef CY_DATA_POLYGON_MASK_H
#define CY_DATA_POLYGON_MASK_H
#include <stdint.h>
#include "data/dataset.h"

/* cv2.fillPoly(mask, [xy.astype(np.int32)], color) on an h x w mask,
 * which keeps its other pixels. npts >= 1. */
cy_status cy_fill_poly(uint8_t *mask, int h, int w, const float *xy, int npts, uint8_t color,
                       cy_error *err);

/* cv2.resize(src, (dw, dh)) of a one-channel uint8 image (INTER_LINEAR). */
cy_status cy_mask_resize(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                         cy_error *err);

/* polygon2mask(imgsz=(h, w), [polygon], color, ratio): out is
 * [h / ratio][w / ratio] (floor). */
cy_status cy_polygon2mask(int h, int w, const float *xy, int npts, uint8_t color, int ratio,
                          uint8_t *out, cy_error *err);

/* polygons2masks: out is [p->n][h / ratio][w / ratio], one per polygon. */
cy_status cy_polygons2masks(int h, int w, const cy_polygons *p, uint8_t color, int ratio,
                            uint8_t *out, cy_error *err);

/* polygons2masks_overlap: mask [h / ratio][w / ratio] is 0 for background
 * and k + 1 where the k-th polygon in area order (largest first; index[k]
 * is its position in p) covers the pixel, the highest k winning, so small
 * instances lie over large ones. At most 255 polygons (a uint8 mask;
 * Ultralytics switches to int32 beyond). */
cy_status cy_polygons2masks_overlap(int h, int w, const cy_polygons *p, int ratio, uint8_t *mask,
                                    int *index, cy_error *err);

/* resample_segments for one polygon: closed (its first point appended),
 * out gets n points by np.interp at np.linspace positions, the original
 * vertices kept when it had fewer than n; a polygon of exactly n points
 * is copied. out is [n][2]. */
cy_status cy_resample_segment(const float *xy, int npts, int n, float *out, cy_error *err);

#endif
