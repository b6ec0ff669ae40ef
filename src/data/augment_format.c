/* Format(return_mask=True) for one finished sample (Ultralytics 8.4.190
 * data/augment.py Format._format_segments): the instance masks at
 * (h / mask_ratio) x (w / mask_ratio), and with overlap the order in which
 * the sample's targets are to be written (its sorted_idx). */
#include "data/augment.h"
#include "data/polygon_mask.h"
#include <string.h>

cy_status cy_aug_format_masks(const cy_aug_sample *s, int ratio, int overlap, uint8_t *masks, int *order,
                              cy_error *err) {
    const int h = s->img.h, w = s->img.w;
    if (ratio < 1 || ratio > (h < w ? h : w))
        return cy_fail(err, CY_ERR_ARG,
                       "mask_ratio=%d downsamples imgsz=(%d, %d) masks to zero size; use mask_ratio <= %d", ratio, h,
                       w, h < w ? h : w);
    const size_t m = (size_t)(h / ratio) * (w / ratio);
    if (s->n && s->seg.n != s->n)
        return cy_fail(err, CY_ERR_ARG, "format: %d boxes but %d polygons; segment masks need one polygon per box",
                       s->n, s->seg.n);
    if (overlap && s->n > 255)
        return cy_fail(err, CY_ERR_ARG,
                       "format: %d instances in one image; overlap_mask index masks are uint8 (at most 255), "
                       "use overlap_mask=False",
                       s->n);
    if (!s->n) { /* Format: torch.zeros(1 if overlap else 0, h / r, w / r) */
        if (overlap) memset(masks, 0, m);
        return CY_OK;
    }
    if (overlap) return cy_polygons2masks_overlap(h, w, &s->seg, ratio, masks, order, err);
    for (int i = 0; i < s->n; i++) order[i] = i;
    return cy_polygons2masks(h, w, &s->seg, 1, ratio, masks, err);
}
