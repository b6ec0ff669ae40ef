/* Instance masks blended into plots, with Ultralytics' arithmetic (see
 * io/plot_masks.h): numpy's float64 for the grids, torch's float32 for
 * predicted images, both truncated to uint8 as their casts do. */
#pragma GCC optimize("fp-contract=off") /* numpy and torch round each product and sum */
#include "io/plot_masks_grid.h"
#include <stdlib.h>
#include <string.h>
#include "io/plot_draw.h"

static int palette_u8(int cls, int k) {
    double rgb[3];
    cy_plot_color(cls, rgb);
    return (int)(rgb[k] * 255 + 0.5); /* the palette's own integers */
}

cy_status cy_plot_cell_masks(cairo_surface_t *s, int ox, int oy, int ch, int cw, int img, int n,
                             const cy_plot_box *boxes, int nboxes, const cy_plot_masks *m, cy_error *err) {
    if (!m || nboxes <= 0) return CY_OK;
    int mh = m->mask_h, mw = m->mask_w, resize = mh != ch || mw != cw;
    if (mh < 1 || mw < 1 || !m->masks || (m->overlap != 0 && m->overlap != 1))
        return cy_fail(err, CY_ERR_ARG, "plot masks: %dx%d masks, overlap %d", mh, mw, m->overlap);
    if (resize && !m->resize)
        return cy_fail(err, CY_ERR_ARG, "plot masks: %dx%d masks for %dx%d cells need a resize function", mh, mw, ch,
                       cw);
    if (m->overlap && img >= n) return CY_OK;
    size_t mp = (size_t)mh * mw;
    uint8_t *src = malloc(mp), *dst = resize ? malloc((size_t)ch * cw) : NULL;
    if (!src || (resize && !dst)) {
        free(src), free(dst);
        return cy_fail(err, CY_ERR_MEMORY, "plot masks: out of memory");
    }
    cairo_surface_flush(s);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    cy_status st = CY_OK;
    int k = 0; /* the box's rank in its image: the overlap mask's value - 1 */
    for (int j = 0; j < nboxes && st == CY_OK; j++) {
        const cy_plot_box *b = &boxes[j];
        if (b->img != img) continue;
        int rank = k++;
        if (b->conf >= 0 && !(b->conf > 0.25f)) continue;
        const uint8_t *mk = m->overlap ? m->masks + (size_t)img * mp : m->masks + (size_t)j * mp;
        if (m->overlap)
            for (size_t q = 0; q < mp; q++) src[q] = mk[q] == rank + 1;
        else
            memcpy(src, mk, mp);
        const uint8_t *use = src;
        if (resize) {
            st = m->resize(src, mh, mw, dst, ch, cw, err);
            use = dst;
        }
        int c[3] = {palette_u8(b->cls, 0), palette_u8(b->cls, 1), palette_u8(b->cls, 2)};
        for (int y = 0; st == CY_OK && y < ch; y++)
            for (int x = 0; x < cw; x++) {
                if (!use[(size_t)y * cw + x]) continue;
                unsigned char *p = px + (size_t)(oy + y) * stride + (size_t)(ox + x) * 4;
                uint32_t v;
                memcpy(&v, p, 4);
                uint32_t out = 0;
                for (int q = 0; q < 3; q++) {
                    int ch8 = (int)(v >> (16 - 8 * q) & 255);
                    double f = ch8 * 0.4 + c[q] * 0.6; /* numpy: uint8 * 0.4 + int * 0.6 */
                    out = out << 8 | (uint32_t)(int)f;
                }
                memcpy(p, &out, 4);
            }
    }
    cairo_surface_mark_dirty(s);
    free(src), free(dst);
    return st;
}

cy_status cy_plot_overlay_masks(cy_image *im, const uint8_t *masks, int n, const int *cls, float alpha,
                                cy_error *err) {
    if (n <= 0) return CY_OK;
    if (!im || !im->data || im->c != 3 || !masks || !cls)
        return cy_fail(err, CY_ERR_ARG, "mask overlay: needs an RGB image, %d masks and their classes", n);
    /* colour / 255 * alpha, as torch's float32 tensors hold it */
    float *col = malloc(sizeof(float) * 3 * (size_t)n);
    if (!col) return cy_fail(err, CY_ERR_MEMORY, "mask overlay: out of memory");
    for (int i = 0; i < n; i++)
        for (int q = 0; q < 3; q++) col[3 * i + q] = (float)palette_u8(cls[i], q) / 255.0f * alpha;
    size_t plane = (size_t)im->h * im->w;
    for (size_t p = 0; p < plane; p++) {
        float inv = 1.0f, mcs[3] = {0, 0, 0};
        int any = 0;
        for (int i = 0; i < n; i++) {
            if (!masks[(size_t)i * plane + p]) continue;
            any = 1;
            inv *= 1.0f - alpha;
            for (int q = 0; q < 3; q++) mcs[q] = col[3 * i + q] > mcs[q] ? col[3 * i + q] : mcs[q];
        }
        if (!any) continue; /* (p / 255 * 1 + 0) * 255 is p again for all 256 values (float32, measured) */
        uint8_t *o = im->data + p * 3;
        for (int q = 0; q < 3; q++) {
            float f = ((float)o[q] / 255.0f * inv + mcs[q]) * 255.0f;
            o[q] = (uint8_t)(f >= 255.f ? 255 : f <= 0.f ? 0 : (int)f);
        }
    }
    free(col);
    return CY_OK;
}
