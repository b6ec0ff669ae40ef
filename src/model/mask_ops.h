/* Instance masks from prototypes, as Ultralytics 8.4.190 builds them
 * (ultralytics/utils/ops.py: crop_mask, process_mask, process_mask_native,
 * scale_masks, masks2segments) for the segment validator and predictor.
 *
 * Layouts: proto [nm, mh, mw] (one image), coef [n, nm], boxes [n, 4] xyxy
 * float32, masks [n, h, w] row-major; binary masks are uint8 0/1.
 *
 * Arithmetic is torch's float32 on CPU where a threshold reads it:
 *  - the logits are coef . proto summed over nm in order with one fused
 *    multiply-add per term (what an FMA GEMM kernel does); a BLAS may order
 *    the sum otherwise, which moves a logit by an ulp and can flip a mask
 *    pixel only where the logit is within an ulp of 0;
 *  - bilinear resizing (F.interpolate, align_corners=False) reproduces
 *    torch 2.15's CPU kernel bit for bit: the source index is
 *    fma(scale, d + 0.5, -0.5), the four tap weights are the float products
 *    wh * ww, and the taps are summed as fma chains in the order
 *    (h0, w1), (h0, w0), (h1, w0), (h1, w1). Measured on random inputs, not
 *    read from torch's source. */
#ifndef CY_MODEL_MASK_OPS_H
#define CY_MODEL_MASK_OPS_H
#include <stdint.h>
#include "core/status.h"

/* out [n, mh*mw] = coef [n, nm] x proto [nm, mh*mw]. */
cy_status cy_mask_logits(const float *coef, int n, const float *proto, int nm, int mh, int mw,
                         float *out, cy_error *err);

/* F.interpolate(x[None], ..., mode="bilinear", align_corners=False)[0] of n
 * planes [n, ih, iw] -> [n, oh, ow]. scale_factor <= 0: the size form (scale
 * = ih / oh in float32); > 0: the scale_factor form (scale = 1 / factor,
 * oh and ow must be floor(ih * factor) and floor(iw * factor)). */
cy_status cy_resize_bilinear(const float *in, int n, int ih, int iw, float *out, int oh, int ow,
                             double scale_factor, cy_error *err);

/* crop_mask in place: pixel (r, c) of mask i survives when
 * c >= x1 && c < x2 && r >= y1 && r < y2, compared in float32 at the
 * resolution of the masks (so a box edge at 10.5 keeps column 10). */
cy_status cy_crop_mask(uint8_t *masks, int n, int h, int w, const float *boxes, cy_error *err);

/* process_mask(proto, coef, boxes, shape=(h, w), upsample). upsample = 0:
 * out is [n, mh, mw], logits > 0, cropped by the boxes times float32(mw / w),
 * float32(mh / h). upsample = 1: out is [n, h, w], logits resized to (h, w)
 * then > 0, cropped by the boxes as given. */
cy_status cy_process_mask(const float *proto, int nm, int mh, int mw, const float *coef,
                          const float *boxes, int n, int h, int w, int upsample, uint8_t *out,
                          cy_error *err);

/* process_mask_native(proto, coef, boxes, shape=(h, w)): out [n, h, w]. The
 * logits are upsampled by f in {1, 2, 4} (the smallest that puts the
 * letterbox padding of a (4 mh, 4 mw) input on whole pixels), un-letterboxed
 * to (h, w) by cy_scale_masks, > 0, cropped by boxes (in (h, w) pixels). */
cy_status cy_process_mask_native(const float *proto, int nm, int mh, int mw, const float *coef,
                                 const float *boxes, int n, int h, int w, uint8_t *out, cy_error *err);

/* scale_masks' ratio_pad: ((gain_h, gain_w), (pad_w, pad_h)). */
typedef struct {
    double gain_h, gain_w, pad_w, pad_h;
} cy_ratio_pad;

/* scale_masks(masks[None], (oh, ow), ratio_pad, padding)[0], bilinear: cut
 * the letterbox content out of [n, ih, iw] (top/left round(pad - 0.1),
 * size max(round(o * gain), 1), Python's round-half-even) and resize it to
 * [n, oh, ow]. rp NULL: the gain and padding of a centred letterbox. Equal
 * sizes copy. The grid_sample branch (rp given, padding 0, and a content
 * end off the pixel grid) is CY_ERR_UNSUPPORTED. */
cy_status cy_scale_masks(const float *in, int n, int ih, int iw, float *out, int oh, int ow,
                         const cy_ratio_pad *rp, int padding, cy_error *err);

#endif
