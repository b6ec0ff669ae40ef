/* multi_scale (Ultralytics 8.4 DetectionTrainer.preprocess_batch): each
 * training batch is resized to a random size before the forward pass.
 * sz = randrange(int(imgsz (1 - ms)), int(imgsz (1 + ms) + stride)) rounded
 * down to the stride; the batch's long side goes to sz and each side to
 * ceil(side * sz / long / stride) * stride, by bilinear interpolation
 * (align_corners=False). Targets are normalised, so they do not change.
 * The draw comes from (seed, iteration), not a global generator, so a run
 * and its resume see the same sizes. */
#ifndef CY_DATA_MULTI_SCALE_H
#define CY_DATA_MULTI_SCALE_H
#include <stddef.h>
#include <stdint.h>
#include "data/loader.h"

/* The size drawn for iteration ni (>= stride). */
int cy_multi_scale_size(int imgsz, double ms, int stride, uint64_t seed, int64_t ni);

/* torch's F.interpolate(mode="bilinear", align_corners=False) of n*c planes
 * h x w into oh x ow. */
void cy_resize_bilinear_planes(const float *x, int planes, int h, int w, float *out, int oh, int ow);

/* Rescales b in place for iteration ni: b->x then points into *buf
 * (grown as needed, owned by the caller), b->h and b->w change. Leaves b
 * as it is when the drawn size matches. */
cy_status cy_multi_scale_batch(cy_batch *b, int imgsz, double ms, int stride, uint64_t seed, int64_t ni,
                               float **buf, size_t *cap, cy_error *err);

#endif
