/* Masks from prototypes: logits, torch's bilinear resize, crop, and the
 * process_mask / process_mask_native / scale_masks pipelines of
 * Ultralytics 8.4.190 (see mask_ops.h for the arithmetic contract). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/mask_ops.h"

cy_status cy_mask_logits(const float *coef, int n, const float *proto, int nm, int mh, int mw,
                         float *out, cy_error *err) {
    if (n < 0 || nm < 1 || mh < 1 || mw < 1)
        return cy_fail(err, CY_ERR_ARG, "mask_logits: bad sizes n %d nm %d %dx%d", n, nm, mh, mw);
    size_t hw = (size_t)mh * mw;
    for (int i = 0; i < n; i++) {
        float *o = out + (size_t)i * hw;
        memset(o, 0, hw * sizeof *o);
        for (int k = 0; k < nm; k++) {
            float a = coef[(size_t)i * nm + k];
            const float *p = proto + (size_t)k * hw;
            for (size_t j = 0; j < hw; j++) o[j] = fmaf(a, p[j], o[j]);
        }
    }
    return CY_OK;
}

/* One axis of torch's linear interpolation: taps and weights per output. */
typedef struct {
    int i0, i1;
    float l0, l1;
} tap;

static void axis_taps(tap *t, int in, int out, float scale) {
    for (int d = 0; d < out; d++) {
        if (in == out) {
            t[d] = (tap){d, d, 1.0f, 0.0f};
            continue;
        }
        float src = fmaf(scale, (float)d + 0.5f, -0.5f);
        if (src < 0) src = 0;
        int i0 = (int)floorf(src);
        if (i0 > in - 1) i0 = in - 1;
        float l1 = src - (float)i0;
        l1 = l1 < 0 ? 0 : l1 > 1 ? 1 : l1;
        t[d] = (tap){i0, i0 + (i0 < in - 1), 1.0f - l1, l1};
    }
}

cy_status cy_resize_bilinear(const float *in, int n, int ih, int iw, float *out, int oh, int ow,
                             double scale_factor, cy_error *err) {
    if (n < 0 || ih < 1 || iw < 1 || oh < 1 || ow < 1)
        return cy_fail(err, CY_ERR_ARG, "resize_bilinear: bad sizes %dx%d -> %dx%d", ih, iw, oh, ow);
    float sh, sw;
    if (scale_factor > 0) {
        if (oh != (int)floor(ih * scale_factor) || ow != (int)floor(iw * scale_factor))
            return cy_fail(err, CY_ERR_ARG, "resize_bilinear: %dx%d is not %dx%d times %g", oh, ow, ih, iw,
                           scale_factor);
        sh = sw = (float)(1.0 / scale_factor);
    } else {
        sh = (float)ih / (float)oh, sw = (float)iw / (float)ow;
    }
    tap *th = malloc((size_t)oh * sizeof *th), *tw = malloc((size_t)ow * sizeof *tw);
    if (!th || !tw) {
        free(th), free(tw);
        return cy_fail(err, CY_ERR_MEMORY, "resize_bilinear: out of memory");
    }
    axis_taps(th, ih, oh, sh);
    axis_taps(tw, iw, ow, sw);
    for (int c = 0; c < n; c++) {
        const float *x = in + (size_t)c * ih * iw;
        float *y = out + (size_t)c * oh * ow;
        for (int i = 0; i < oh; i++) {
            const float *r0 = x + (size_t)th[i].i0 * iw, *r1 = x + (size_t)th[i].i1 * iw;
            float a = th[i].l0, b = th[i].l1;
            for (int j = 0; j < ow; j++) {
                const tap q = tw[j];
                float acc = r0[q.i1] * (a * q.l1);
                acc = fmaf(r0[q.i0], a * q.l0, acc);
                acc = fmaf(r1[q.i0], b * q.l0, acc);
                y[(size_t)i * ow + j] = fmaf(r1[q.i1], b * q.l1, acc);
            }
        }
    }
    free(th), free(tw);
    return CY_OK;
}

cy_status cy_crop_mask(uint8_t *masks, int n, int h, int w, const float *boxes, cy_error *err) {
    if (n < 0 || h < 0 || w < 0) return cy_fail(err, CY_ERR_ARG, "crop_mask: negative size");
    for (int i = 0; i < n; i++) {
        const float *b = boxes + 4 * (size_t)i;
        uint8_t *m = masks + (size_t)i * h * w;
        for (int r = 0; r < h; r++) {
            int row_in = (float)r >= b[1] && (float)r < b[3];
            for (int c = 0; c < w; c++)
                if (!row_in || !((float)c >= b[0] && (float)c < b[2])) m[(size_t)r * w + c] = 0;
        }
    }
    return CY_OK;
}

static void threshold0(const float *x, size_t n, uint8_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = x[i] > 0.0f;
}

cy_status cy_process_mask(const float *proto, int nm, int mh, int mw, const float *coef,
                          const float *boxes, int n, int h, int w, int upsample, uint8_t *out,
                          cy_error *err) {
    if (h < 1 || w < 1) return cy_fail(err, CY_ERR_ARG, "process_mask: bad shape %dx%d", h, w);
    if (n == 0) return CY_OK;
    size_t phw = (size_t)mh * mw, ohw = upsample ? (size_t)h * w : phw;
    float *logits = malloc((size_t)n * phw * sizeof *logits);
    float *up = upsample ? malloc((size_t)n * ohw * sizeof *up) : NULL;
    float *sb = upsample ? NULL : malloc((size_t)n * 4 * sizeof *sb);
    cy_status st = CY_OK;
    if (!logits || (upsample && !up) || (!upsample && !sb)) {
        st = cy_fail(err, CY_ERR_MEMORY, "process_mask: out of memory");
        goto done;
    }
    if ((st = cy_mask_logits(coef, n, proto, nm, mh, mw, logits, err))) goto done;
    if (upsample) {
        /* upsample first, crop at image resolution (Ultralytics #24272) */
        if ((st = cy_resize_bilinear(logits, n, mh, mw, up, h, w, 0, err))) goto done;
        threshold0(up, (size_t)n * ohw, out);
        st = cy_crop_mask(out, n, h, w, boxes, err);
    } else {
        /* torch.tensor of Python floats: the ratios are float32 */
        float rw = (float)((double)mw / w), rh = (float)((double)mh / h);
        for (int i = 0; i < n; i++) {
            sb[4 * i + 0] = boxes[4 * i + 0] * rw, sb[4 * i + 1] = boxes[4 * i + 1] * rh;
            sb[4 * i + 2] = boxes[4 * i + 2] * rw, sb[4 * i + 3] = boxes[4 * i + 3] * rh;
        }
        threshold0(logits, (size_t)n * phw, out);
        st = cy_crop_mask(out, n, mh, mw, sb, err);
    }
done:
    free(logits), free(up), free(sb);
    return st;
}

static int gcd(int a, int b) {
    while (b) {
        int t = a % b;
        a = b, b = t;
    }
    return a < 0 ? -a : a;
}

static int py_round(double x) { return (int)nearbyint(x); } /* half to even, as Python's round */

static int max1(int v) { return v > 1 ? v : 1; }

cy_status cy_process_mask_native(const float *proto, int nm, int mh, int mw, const float *coef,
                                 const float *boxes, int n, int h, int w, uint8_t *out, cy_error *err) {
    if (h < 1 || w < 1) return cy_fail(err, CY_ERR_ARG, "process_mask_native: bad shape %dx%d", h, w);
    if (n == 0) return CY_OK;
    double gain = fmin(4.0 * mh / h, 4.0 * mw / w);
    int pad = (4 * mh - max1(py_round(h * gain))) | (4 * mw - max1(py_round(w * gain)));
    /* Python's floor division for pad // 2 */
    int half = pad >= 0 ? pad / 2 : -((-pad + 1) / 2);
    int f = 4 / gcd(4, pad | half);
    size_t phw = (size_t)mh * mw, fhw = (size_t)mh * f * mw * f, ohw = (size_t)h * w;
    float *logits = malloc((size_t)n * phw * sizeof *logits);
    float *upf = f > 1 ? malloc((size_t)n * fhw * sizeof *upf) : NULL;
    float *res = malloc((size_t)n * ohw * sizeof *res);
    cy_status st = CY_OK;
    if (!logits || (f > 1 && !upf) || !res) {
        st = cy_fail(err, CY_ERR_MEMORY, "process_mask_native: out of memory");
        goto done;
    }
    if ((st = cy_mask_logits(coef, n, proto, nm, mh, mw, logits, err))) goto done;
    const float *src = logits;
    if (f > 1) {
        if ((st = cy_resize_bilinear(logits, n, mh, mw, upf, mh * f, mw * f, (double)f, err))) goto done;
        src = upf;
    }
    if ((st = cy_scale_masks(src, n, mh * f, mw * f, res, h, w, NULL, 1, err))) goto done;
    threshold0(res, (size_t)n * ohw, out);
    st = cy_crop_mask(out, n, h, w, boxes, err);
done:
    free(logits), free(upf), free(res);
    return st;
}

cy_status cy_scale_masks(const float *in, int n, int ih, int iw, float *out, int oh, int ow,
                         const cy_ratio_pad *rp, int padding, cy_error *err) {
    if (n < 0 || ih < 1 || iw < 1 || oh < 1 || ow < 1)
        return cy_fail(err, CY_ERR_ARG, "scale_masks: bad sizes %dx%d -> %dx%d", ih, iw, oh, ow);
    if (ih == oh && iw == ow) {
        memcpy(out, in, (size_t)n * ih * iw * sizeof *out);
        return CY_OK;
    }
    if (n == 0) return CY_OK;
    double gh, gw, pw, ph;
    if (rp) {
        gh = rp->gain_h, gw = rp->gain_w, pw = rp->pad_w, ph = rp->pad_h;
    } else {
        gh = gw = fmin((double)ih / oh, (double)iw / ow);
        pw = (iw - max1(py_round(ow * gw))) / 2.0;
        ph = (ih - max1(py_round(oh * gh))) / 2.0;
    }
    int top = padding ? py_round(ph - 0.1) : 0, left = padding ? py_round(pw - 0.1) : 0;
    int bottom = top + max1(py_round(oh * gh)), right = left + max1(py_round(ow * gw));
    if (rp && !padding && fabs(oh * gh - bottom) + fabs(ow * gw - right) > 1e-3)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "scale_masks: content ends mid-pixel (grid_sample path)");
    if (top < 0 || left < 0)
        return cy_fail(err, CY_ERR_ARG, "scale_masks: negative padding (top %d, left %d)", top, left);
    /* Python slicing clamps the end */
    if (bottom > ih) bottom = ih;
    if (right > iw) right = iw;
    int ch = bottom - top, cw = right - left;
    if (ch < 1 || cw < 1) return cy_fail(err, CY_ERR_ARG, "scale_masks: empty content %dx%d", ch, cw);
    float *crop = malloc((size_t)n * ch * cw * sizeof *crop);
    if (!crop) return cy_fail(err, CY_ERR_MEMORY, "scale_masks: out of memory");
    for (int c = 0; c < n; c++)
        for (int r = 0; r < ch; r++)
            memcpy(crop + ((size_t)c * ch + r) * cw, in + ((size_t)c * ih + top + r) * iw + left,
                   (size_t)cw * sizeof *crop);
    cy_status st = cy_resize_bilinear(crop, n, ch, cw, out, oh, ow, 0, err);
    free(crop);
    return st;
}
