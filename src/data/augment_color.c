/* RandomHSV: Ultralytics >= 8.3.79 (additive hue, sat/val multiplicative,
 * lut_sat[0] = 0) done the way cv2 does it for uint8:
 *   cvtColor BGR2HSV (integer, 12-bit division tables, H in 0..179),
 *   LUT per channel, cvtColor HSV2BGR (float; OpenCV's vector loop, 32
 *   pixels at a time with AVX2, truncates to uint8 and only the rest of
 *   each row, width % 32 pixels, is rounded to nearest: measured the same
 *   in OpenCV 4.6 and 5.0, and the vector loop is all of a row whose width
 *   is a multiple of 32, as every training image is). Its 1 - s*h terms
 *   are fused multiply-adds (GCC contracts OpenCV's v_mul + v_sub).
 * Our pixels are RGB; reading them as (r, g, b) gives the same hue that
 * upstream gets from its BGR buffer. */
/* integer pixel loops: let GCC vectorise with runtime checks (O2 uses the
 * "very cheap" model, which skips them) */
#pragma GCC optimize("vect-cost-model=dynamic", "fp-contract=off")
#include "data/augment.h"
#include <math.h>

typedef struct {
    int sdiv[256], hdiv[256];
    uint8_t lut_h[256], lut_s[256], lut_v[256];
    /* HSV2RGB: every output channel is v * (1 - s * c) with c in
     * {0, 1, hf, 1 - hf} chosen by hue sector (tab[0..3] in OpenCV); the
     * products are the same floats OpenCV computes */
    float cr[256], cg[256], cb[256];
} hsv_tabs;

static void tabs_init(hsv_tabs *t, double rh, double rs, double rv) {
    t->sdiv[0] = t->hdiv[0] = 0;
    for (int i = 1; i < 256; i++) {
        t->sdiv[i] = (int)lrint((255 << 12) / (1. * i));
        t->hdiv[i] = (int)lrint((180 << 12) / (6. * i));
    }
    for (int i = 0; i < 256; i++) {
        double x = i;
        /* numpy: (x + r*180) % 180 (result takes the divisor's sign), astype truncates */
        double h = fmod(x + rh * 180, 180.0);
        if (h < 0) h += 180.0;
        t->lut_h[i] = (uint8_t)(int)h;
        double s = x * (rs + 1), v = x * (rv + 1);
        t->lut_s[i] = (uint8_t)(int)(s < 0 ? 0 : s > 255 ? 255 : s);
        t->lut_v[i] = (uint8_t)(int)(v < 0 ? 0 : v > 255 ? 255 : v);
        float hh = (float)i * (6.0f / 180.0f);
        hh = fmodf(hh, 6.f);
        int sec = (int)floorf(hh);
        hh -= (float)sec;
        if ((unsigned)sec >= 6u) sec = 0, hh = 0.f;
        static const int sector_data[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1},
                                              {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
        const float c[4] = {0.f, 1.f, hh, 1.f - hh};
        t->cb[i] = c[sector_data[sec][0]];
        t->cg[i] = c[sector_data[sec][1]];
        t->cr[i] = c[sector_data[sec][2]];
    }
    t->lut_s[0] = 0;
}

/* saturate_cast<uchar>(float): round to nearest even, clamp */
static inline uint8_t sat_u8(float v) {
    v = __builtin_rintf(v);
    v = v < 0.f ? 0.f : v;
    v = v > 255.f ? 255.f : v;
    return (uint8_t)(int)v;
}

/* v_trunc then the saturating packs: toward zero, clamp */
static inline uint8_t trunc_u8(float v) {
    v = __builtin_truncf(v);
    v = v < 0.f ? 0.f : v;
    v = v > 255.f ? 255.f : v;
    return (uint8_t)(int)v;
}

/* OpenCV's HSV2BGR_b vector loop covers this many pixels per row (AVX2:
 * 4 registers of 8 floats); the row's remaining pixels take its scalar loop. */
enum { HSV2RGB_VECTOR_PIXELS = 32 };

/* The FMA clone inlines fmaf as one instruction; the default one calls libm's
 * (the same result, slower). */
__attribute__((target_clones("fma", "default")))
void cy_aug_hsv_apply(cy_image *img, double rh, double rs, double rv) {
    if (img->c != 3) return; /* upstream: only 3-channel images */
    hsv_tabs t;
    tabs_init(&t, rh, rs, rv);
    uint8_t *restrict p = img->data;
    const int w = img->w, vec_end = w / HSV2RGB_VECTOR_PIXELS * HSV2RGB_VECTOR_PIXELS;
    for (int y = 0; y < img->h; y++) {
        /* runs of one colour (the 114 border of a mosaic, flat regions)
         * reuse the previous result within one rounding zone */
        int lr = -1, lg = -1, lb = -1;
        uint8_t o0 = 0, o1 = 0, o2 = 0;
        for (int x = 0; x < w; x++) {
            uint8_t *q = p + 3 * ((size_t)y * w + x);
            if (x == vec_end) lr = -1; /* the scalar tail rounds */
            int r = q[0], g = q[1], b = q[2];
            if (r == lr && g == lg && b == lb) {
                q[0] = o0, q[1] = o1, q[2] = o2;
                continue;
            }
            lr = r, lg = g, lb = b;
            /* RGB2HSV_b */
            int v = b > g ? b : g;
            v = v > r ? v : r;
            int vmin = b < g ? b : g;
            vmin = vmin < r ? vmin : r;
            int diff = v - vmin;
            int vr = v == r ? -1 : 0, vg = v == g ? -1 : 0;
            int s = (diff * t.sdiv[v] + (1 << 11)) >> 12;
            int h = (vr & (g - b)) + (~vr & ((vg & (b - r + 2 * diff)) + ((~vg) & (r - g + 4 * diff))));
            h = (h * t.hdiv[diff] + (1 << 11)) >> 12;
            h += h < 0 ? 180 : 0;
            /* LUTs */
            int h2 = t.lut_h[h], s2 = t.lut_s[s], v2 = t.lut_v[v];
            /* HSV2RGB_b: s, v to [0, 1]; with s == 0 every tab entry is v, as
             * OpenCV's s == 0 branch gives */
            float fv = (float)v2 * (1.0f / 255.0f), fs = (float)s2 * (1.0f / 255.0f);
            /* 1 - s*c in one rounding: OpenCV's build contracts it to an FMA */
            float orr = fv * fmaf(-fs, t.cr[h2], 1.f) * 255.f;
            float og = fv * fmaf(-fs, t.cg[h2], 1.f) * 255.f;
            float ob = fv * fmaf(-fs, t.cb[h2], 1.f) * 255.f;
            if (x < vec_end) o0 = trunc_u8(orr), o1 = trunc_u8(og), o2 = trunc_u8(ob);
            else o0 = sat_u8(orr), o1 = sat_u8(og), o2 = sat_u8(ob);
            q[0] = o0, q[1] = o1, q[2] = o2;
        }
    }
}

void cy_aug_random_hsv(cy_image *img, float hgain, float sgain, float vgain, cy_aug_rng *rng) {
    if (img->c != 3 || !(hgain || sgain || vgain)) return;
    double rh = cy_aug_rng_uniform(rng, -1, 1) * hgain;
    double rs = cy_aug_rng_uniform(rng, -1, 1) * sgain;
    double rv = cy_aug_rng_uniform(rng, -1, 1) * vgain;
    cy_aug_hsv_apply(img, rh, rs, rv);
}
