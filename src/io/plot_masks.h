/* Instance masks on plots, as Ultralytics draws them:
 *  - in plot_images' grids (train_batchN.jpg, val_batchN_labels.jpg,
 *    val_batchN_pred.jpg; utils/plotting.py plot_images): each mask is
 *    resized to its grid cell with cv2.resize (INTER_LINEAR) when the sizes
 *    differ, made boolean, and blended into the cell after the cell's boxes
 *    and labels as pixel = uint8(pixel * 0.4 + colour * 0.6) (float64,
 *    truncated), one mask after another in box order, so a later mask lies
 *    over an earlier one and their overlap is blended twice; predictions
 *    only above conf 0.25;
 *  - on predicted images (engine/results.py Results.plot, utils/plotting.py
 *    Annotator.masks, the torch path): before the boxes, every pixel
 *    becomes uint8((p / 255 * prod(1 - alpha) + max(colour / 255 * alpha))
 *    * 255) in float32 over the masks that cover it, so the result does not
 *    depend on the masks' order (the colour term is a per-channel max).
 * Colours are the class palette (io/plot_draw.h cy_plot_color). */
#ifndef CY_IO_PLOT_MASKS_H
#define CY_IO_PLOT_MASKS_H
#include <stdint.h>
#include "core/status.h"
#include "io/image.h"

/* cv2.resize(src, (dw, dh)) of a one-channel uint8 image, INTER_LINEAR:
 * data/polygon_mask.h's cy_mask_resize (io cannot call into data, which
 * sits above it, so the caller hands it in). */
typedef cy_status (*cy_plot_resize_fn)(const uint8_t *src, int sh, int sw, uint8_t *dst, int dh, int dw,
                                       cy_error *err);

/* A batch's instance masks, in the segment loader's layout:
 *  overlap = 1: masks is [n images][mask_h][mask_w]; pixel value k + 1 is
 *               the image's k-th box (the k-th entry with that img, in
 *               array order), 0 background (polygons2masks_overlap);
 *  overlap = 0: masks is [nboxes][mask_h][mask_w], 0/1, row j for box j
 *               (labels with overlap_mask=False, or predictions at the
 *               batch's image size for val_batchN_pred.jpg). */
typedef struct {
    int mask_h, mask_w;
    int overlap;
    const uint8_t *masks;
    cy_plot_resize_fn resize; /* needed when the mask size is not the plotted cell's */
} cy_plot_masks;

/* Annotator.masks on an RGB image, in place: masks [n][im->h][im->w] 0/1,
 * cls[n] their classes (the colours), alpha 0.5 in Ultralytics. n may be 0. */
cy_status cy_plot_overlay_masks(cy_image *im, const uint8_t *masks, int n, const int *cls, float alpha,
                                cy_error *err);

#endif
