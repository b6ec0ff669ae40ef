#include "io/plot_pred_masks.h"

cy_status cy_blend_masks(cy_image *im, const uint8_t *masks, int n, const uint32_t *colors, float alpha,
                         cy_error *err) {
    if (n < 0 || im->c != 3 || !(alpha >= 0 && alpha <= 1))
        return cy_fail(err, CY_ERR_ARG, "blend_masks: %d masks on a %d-channel image, alpha %g", n, im->c, alpha);
    size_t hw = (size_t)im->h * im->w;
    for (int i = 0; i < n; i++) {
        const uint8_t *m = masks + (size_t)i * hw;
        float rgb[3] = {(float)(colors[i] >> 16 & 255), (float)(colors[i] >> 8 & 255), (float)(colors[i] & 255)};
        for (size_t p = 0; p < hw; p++) {
            if (!m[p]) continue;
            uint8_t *px = im->data + 3 * p;
            for (int k = 0; k < 3; k++) px[k] = (uint8_t)(px[k] * (1 - alpha) + rgb[k] * alpha + 0.5f);
        }
    }
    return CY_OK;
}
