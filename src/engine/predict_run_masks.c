#include "engine/predict_run_masks.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/mask_contour.h"
#include "model/mask_ops.h"

cy_status cy_pred_masks(const float *proto, int nm, int mh, int mw, const float *rows, int *n, int H, int W,
                        float *det, uint8_t **masks, cy_error *err) {
    *masks = NULL;
    int k = *n, row = 6 + nm;
    size_t hw = (size_t)H * W;
    float *coef = malloc(((size_t)k * nm + 1) * sizeof *coef), *boxes = malloc(((size_t)k * 4 + 1) * sizeof *boxes);
    uint8_t *m = malloc((size_t)k * hw + 1);
    cy_status st = !coef || !boxes || !m ? cy_fail(err, CY_ERR_MEMORY, "predict: out of memory for masks") : CY_OK;
    for (int i = 0; st == CY_OK && i < k; i++) {
        memcpy(boxes + 4 * i, rows + (size_t)i * row, 4 * sizeof *boxes);
        memcpy(coef + (size_t)i * nm, rows + (size_t)i * row + 6, (size_t)nm * sizeof *coef);
    }
    if (st == CY_OK && k) st = cy_process_mask(proto, nm, mh, mw, coef, boxes, k, H, W, 1, m, err);
    int kept = 0;
    for (int i = 0; st == CY_OK && i < k; i++) {
        const uint8_t *mi = m + (size_t)i * hw;
        size_t p = 0;
        while (p < hw && !mi[p]) p++;
        if (p == hw) continue; /* only keep predictions with masks */
        memmove(m + (size_t)kept * hw, mi, hw);
        memcpy(det + 6 * kept, rows + (size_t)i * row, 6 * sizeof *det);
        kept++;
    }
    free(coef), free(boxes);
    if (st != CY_OK) {
        free(m);
        return st;
    }
    *n = kept, *masks = m;
    return CY_OK;
}

cy_status cy_pred_masks_to_image(const uint8_t *masks, int n, int H, int W, int h0, int w0, uint8_t *out,
                                 cy_error *err) {
    size_t in = (size_t)H * W, o = (size_t)h0 * w0;
    float *f = malloc(((size_t)n * in + 1) * sizeof *f), *g = malloc(((size_t)n * o + 1) * sizeof *g);
    cy_status st = !f || !g ? cy_fail(err, CY_ERR_MEMORY, "predict: out of memory for masks") : CY_OK;
    for (size_t i = 0; st == CY_OK && i < (size_t)n * in; i++) f[i] = masks[i];
    if (st == CY_OK && n) st = cy_scale_masks(f, n, H, W, g, h0, w0, NULL, 1, err);
    for (size_t i = 0; st == CY_OK && i < (size_t)n * o; i++) out[i] = g[i] > 0.5f;
    free(f), free(g);
    return st;
}

cy_status cy_pred_write_segments(FILE *f, const float *det, const uint8_t *masks, int n, int H, int W, int h0,
                                 int w0, int save_conf, cy_error *err) {
    /* scale_coords without ratio_pad: the centred letterbox of (h0, w0) in
     * (H, W), each side rounded as LetterBox does */
    double gain = fmin((double)H / h0, (double)W / w0);
    double nh = fmax(nearbyint(h0 * gain), 1), nw = fmax(nearbyint(w0 * gain), 1);
    float gy = (float)(nh / h0), gx = (float)(nw / w0);
    float px = (float)nearbyint((W - nw) / 2 - 0.1), py = (float)nearbyint((H - nh) / 2 - 0.1);
    for (int j = 0; j < n; j++) {
        int *xy, np_;
        CY_TRY(cy_mask_to_segment(masks + (size_t)j * H * W, H, W, &xy, &np_, err));
        if (np_ >= 3) {
            fprintf(f, "%d", (int)det[6 * j + 5]);
            for (int k = 0; k < np_; k++) {
                float x = ((float)xy[2 * k] - px) / gx, y = ((float)xy[2 * k + 1] - py) / gy;
                x = x < 0 ? 0 : x > (float)w0 ? (float)w0 : x;
                y = y < 0 ? 0 : y > (float)h0 ? (float)h0 : y;
                fprintf(f, " %g %g", (double)(x / (float)w0), (double)(y / (float)h0));
            }
            if (save_conf) fprintf(f, " %g", (double)det[6 * j + 4]);
            fputc('\n', f);
        }
        free(xy);
    }
    return CY_OK;
}
