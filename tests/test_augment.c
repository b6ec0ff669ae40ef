/* Training augmentations (src/data/augment*): letterbox geometry and
 * padding, resize, flips, HSV, perspective (identity, translation, 90°
 * rotation), box_candidates, mosaic layout, MixUp/CutMix consistency,
 * determinism of the whole v8 pipeline, and random-parameter robustness.
 * Prints ms per image for mosaic + perspective + HSV + flip at 320 and 640. */
#include "data/augment.h"
#include "io/npy.h"
#include "test_util.h"
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint8_t *px(cy_image *im, int x, int y) { return im->data + ((size_t)y * im->w + x) * im->c; }

/* A deterministic image: a smooth pattern plus a hash, so shifts are visible. */
static void fill_pattern(cy_image *im, uint32_t seed) {
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            for (int k = 0; k < im->c; k++) {
                uint32_t v = (uint32_t)(x * 7 + y * 13 + k * 50) ^ (seed * 2654435761u);
                v ^= (uint32_t)((x * 31 + y * 17) * (k + 1)) >> 3;
                px(im, x, y)[k] = (uint8_t)(v & 0xff);
            }
}

static void make_sample(cy_aug_sample *s, int h, int w, uint32_t seed) {
    memset(s, 0, sizeof *s);
    cy_error err = {0};
    CHECK(cy_image_alloc(&s->img, h, w, 3, &err) == CY_OK, "%s", err.msg);
    fill_pattern(&s->img, seed);
}

static void push(cy_aug_sample *s, int cls, float x1, float y1, float x2, float y2) {
    cy_aug_box b = {cls, x1, y1, x2, y2};
    CHECK(cy_aug_sample_push(s, b, NULL) == CY_OK, "push");
}

static int near(float a, float b, float tol) { return fabsf(a - b) <= tol; }

/* ---- letterbox ---- */

static void test_letterbox(void) {
    cy_error err = {0};
    cy_aug_letterbox_params p = cy_aug_letterbox_default();
    cy_aug_letterbox_info info;

    /* 480x640 (h x w) -> 640: no resize, 80 rows of 114 above and below */
    cy_aug_sample s;
    make_sample(&s, 480, 640, 1);
    push(&s, 3, 10, 20, 110, 220);
    cy_image orig = {0};
    cy_image_alloc(&orig, 480, 640, 3, NULL);
    memcpy(orig.data, s.img.data, 480 * 640 * 3);
    CHECK(cy_aug_letterbox(&s, 640, 640, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(s.img.h == 640 && s.img.w == 640, "letterbox size %dx%d", s.img.h, s.img.w);
    CHECK(info.top == 80 && info.left == 0 && info.ratio_w == 1.0, "top %d left %d", info.top, info.left);
    CHECK(px(&s.img, 0, 0)[0] == 114 && px(&s.img, 639, 79)[2] == 114 && px(&s.img, 5, 560)[1] == 114 &&
              px(&s.img, 639, 639)[0] == 114, "padding is 114");
    CHECK(memcmp(px(&s.img, 0, 80), orig.data, 480 * 640 * 3) == 0, "image copied under the padding");
    CHECK(s.n == 1 && s.boxes[0].cls == 3 && s.boxes[0].x1 == 10 && s.boxes[0].y1 == 100 &&
              s.boxes[0].x2 == 110 && s.boxes[0].y2 == 300,
          "box (%g %g %g %g)", s.boxes[0].x1, s.boxes[0].y1, s.boxes[0].x2, s.boxes[0].y2);
    cy_aug_sample_free(&s);
    cy_image_free(&orig);

    /* odd padding: 481 rows -> 159 to share: top round(79.5-0.1)=79, bottom round(79.5+0.1)=80 */
    make_sample(&s, 481, 640, 2);
    CHECK(cy_aug_letterbox(&s, 640, 640, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(info.top == 79 && s.img.h == 640, "odd pad top %d h %d", info.top, s.img.h);
    CHECK(px(&s.img, 3, 78)[0] == 114 && px(&s.img, 3, 560)[0] == 114, "odd pad values");
    cy_aug_sample_free(&s);

    /* 300x400 -> 640 scales up by 1.6: 480x640, 80 rows each side, boxes scaled */
    make_sample(&s, 300, 400, 3);
    push(&s, 0, 10, 20, 110, 220);
    CHECK(cy_aug_letterbox(&s, 640, 640, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(info.unpad_w == 640 && info.unpad_h == 480 && info.top == 80 && info.left == 0,
          "scaleup geometry %d %d %d", info.unpad_w, info.unpad_h, info.top);
    CHECK(near(s.boxes[0].x1, 16, 1e-4f) && near(s.boxes[0].y1, 112, 1e-4f) &&
              near(s.boxes[0].x2, 176, 1e-4f) && near(s.boxes[0].y2, 432, 1e-4f),
          "scaled box (%g %g %g %g)", s.boxes[0].x1, s.boxes[0].y1, s.boxes[0].x2, s.boxes[0].y2);
    cy_aug_sample_free(&s);

    /* scaleup=False (validation): 300x400 stays, padded 170 top/bottom, 120 left/right */
    p.scaleup = 0;
    make_sample(&s, 300, 400, 4);
    CHECK(cy_aug_letterbox(&s, 640, 640, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(info.top == 170 && info.left == 120 && s.img.w == 640 && s.img.h == 640,
          "no scaleup top %d left %d", info.top, info.left);
    CHECK(px(&s.img, 119, 300)[0] == 114 && px(&s.img, 520, 300)[0] == 114, "side padding");
    cy_aug_sample_free(&s);

    /* auto (minimum rectangle): 480x640 -> 640 pads 160 % 32 = 0 */
    p = cy_aug_letterbox_default();
    p.auto_pad = 1;
    make_sample(&s, 480, 640, 5);
    CHECK(cy_aug_letterbox(&s, 640, 640, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(s.img.h == 480 && s.img.w == 640, "auto letterbox %dx%d", s.img.h, s.img.w);
    cy_aug_sample_free(&s);

    /* 333x500 -> 320: r = 0.64, unpad (320, round(213.12)=213), pad 107 -> 53 top, 54 bottom */
    p = cy_aug_letterbox_default();
    make_sample(&s, 333, 500, 6);
    CHECK(cy_aug_letterbox(&s, 320, 320, &p, &info, &err) == CY_OK, "%s", err.msg);
    CHECK(info.unpad_h == 213 && info.top == 53 && s.img.h == 320 && s.img.w == 320,
          "downscale letterbox unpad_h %d top %d", info.unpad_h, info.top);
    cy_aug_sample_free(&s);
}

/* ---- resize (cv2 INTER_LINEAR) ---- */

static void test_resize(void) {
    cy_error err = {0};
    cy_image a = {0}, b = {0};
    cy_image_alloc(&a, 1, 2, 1, NULL);
    a.data[0] = 0, a.data[1] = 100;
    CHECK(cy_aug_resize(&a, 1, 4, &b, &err) == CY_OK, "%s", err.msg);
    CHECK(b.data[0] == 0 && b.data[1] == 25 && b.data[2] == 75 && b.data[3] == 100,
          "1x2 -> 1x4: %d %d %d %d (cv2: 0 25 75 100)", b.data[0], b.data[1], b.data[2], b.data[3]);
    cy_image_free(&a);
    cy_image_free(&b);

    /* exact 2x downscale = 2x2 average, rounded half up */
    cy_image_alloc(&a, 8, 10, 3, NULL);
    fill_pattern(&a, 9);
    CHECK(cy_aug_resize(&a, 4, 5, &b, &err) == CY_OK, "%s", err.msg);
    int bad = 0;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++)
            for (int k = 0; k < 3; k++) {
                int s = px(&a, 2 * x, 2 * y)[k] + px(&a, 2 * x + 1, 2 * y)[k] + px(&a, 2 * x, 2 * y + 1)[k] +
                        px(&a, 2 * x + 1, 2 * y + 1)[k];
                bad += abs(px(&b, x, y)[k] - (s + 2) / 4) > 1;
            }
    CHECK(bad == 0, "2x downscale off the 2x2 mean at %d values", bad);
    cy_image_free(&b);

    /* a constant image stays constant at any size */
    memset(a.data, 77, 8 * 10 * 3);
    CHECK(cy_aug_resize(&a, 13, 7, &b, &err) == CY_OK, "%s", err.msg);
    int nconst = 0;
    for (int i = 0; i < 13 * 7 * 3; i++) nconst += b.data[i] == 77;
    CHECK(nconst == 13 * 7 * 3, "constant image after resize");
    cy_image_free(&b);
    cy_image_free(&a);

    /* load_image shape: 480x640 at 320 -> 240x320; 333x500 at 640 -> ceil -> 427x640 */
    int h, w;
    cy_aug_load_shape(480, 640, 320, &h, &w);
    CHECK(h == 240 && w == 320, "load shape %dx%d", h, w);
    cy_aug_load_shape(333, 500, 640, &h, &w);
    CHECK(h == 427 && w == 640, "load shape %dx%d", h, w);
}

/* ---- flips ---- */

static void test_flips(void) {
    cy_aug_sample s;
    make_sample(&s, 80, 100, 7);
    push(&s, 1, 10, 5, 30, 25);
    uint8_t before[3], after[3];
    memcpy(before, px(&s.img, 10, 20), 3);
    cy_aug_fliplr(&s);
    memcpy(after, px(&s.img, 89, 20), 3);
    CHECK(memcmp(before, after, 3) == 0, "fliplr moves pixel (10,20) to (89,20)");
    CHECK(s.boxes[0].x1 == 70 && s.boxes[0].x2 == 90 && s.boxes[0].y1 == 5 && s.boxes[0].y2 == 25,
          "fliplr box (%g %g %g %g)", s.boxes[0].x1, s.boxes[0].y1, s.boxes[0].x2, s.boxes[0].y2);
    memcpy(before, px(&s.img, 40, 10), 3);
    cy_aug_flipud(&s);
    memcpy(after, px(&s.img, 40, 69), 3);
    CHECK(memcmp(before, after, 3) == 0, "flipud moves pixel (40,10) to (40,69)");
    CHECK(s.boxes[0].x1 == 70 && s.boxes[0].x2 == 90 && s.boxes[0].y1 == 55 && s.boxes[0].y2 == 75,
          "flipud box (%g %g %g %g)", s.boxes[0].x1, s.boxes[0].y1, s.boxes[0].x2, s.boxes[0].y2);
    /* p = 0 never flips, p = 1 always does */
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 1, 1);
    cy_aug_sample c;
    cy_aug_sample_copy(&c, &s, NULL);
    cy_aug_random_flip(&s, 0, 0.0f, &rng);
    CHECK(memcmp(c.img.data, s.img.data, 80 * 100 * 3) == 0, "p=0 flip is the identity");
    cy_aug_random_flip(&s, 0, 1.0f, &rng);
    cy_aug_random_flip(&s, 0, 1.0f, &rng);
    CHECK(memcmp(c.img.data, s.img.data, 80 * 100 * 3) == 0 && s.boxes[0].x1 == c.boxes[0].x1,
          "two flips are the identity");
    cy_aug_sample_free(&c);
    cy_aug_sample_free(&s);
}

/* ---- HSV ---- */

static void test_hsv(void) {
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 5, 0);
    cy_image a = {0}, b = {0};
    cy_image_alloc(&a, 32, 48, 3, NULL);
    fill_pattern(&a, 11);
    cy_image_alloc(&b, 32, 48, 3, NULL);
    memcpy(b.data, a.data, 32 * 48 * 3);
    cy_aug_random_hsv(&b, 0, 0, 0, &rng);
    CHECK(memcmp(a.data, b.data, 32 * 48 * 3) == 0, "zero gains are the identity");
    /* a round trip with zero shifts is close to the identity (uint8 HSV is lossy) */
    cy_aug_hsv_apply(&b, 0, 0, 0);
    int maxd = 0;
    for (int i = 0; i < 32 * 48 * 3; i++) maxd = abs(a.data[i] - b.data[i]) > maxd ? abs(a.data[i] - b.data[i]) : maxd;
    CHECK(maxd <= 4, "HSV round trip differs by %d", maxd);
    /* a full-turn hue shift (+180) is the same as none */
    cy_image c = {0};
    cy_image_alloc(&c, 32, 48, 3, NULL);
    memcpy(c.data, a.data, 32 * 48 * 3);
    memcpy(b.data, a.data, 32 * 48 * 3);
    cy_aug_hsv_apply(&b, 0, 0, 0);
    cy_aug_hsv_apply(&c, 1.0, 0, 0);
    CHECK(memcmp(b.data, c.data, 32 * 48 * 3) == 0, "hue +180 wraps to the same image");
    cy_image_free(&c);
    cy_image_free(&a);
    cy_image_free(&b);

    /* pure red (H=0): -9.5 wraps to 170.5 -> H=170 -> (255, 0, 85); +10.5 -> H=10 -> (255, 85, 0) */
    cy_image r = {0};
    cy_image_alloc(&r, 1, 2, 3, NULL);
    uint8_t red[6] = {255, 0, 0, 255, 0, 0};
    memcpy(r.data, red, 6);
    cy_aug_hsv_apply(&r, -9.5 / 180, 0, 0);
    CHECK(r.data[0] == 255 && r.data[1] == 0 && r.data[2] == 85, "red - 10: %d %d %d", r.data[0], r.data[1], r.data[2]);
    memcpy(r.data, red, 6);
    cy_aug_hsv_apply(&r, 10.5 / 180, 0, 0);
    CHECK(r.data[0] == 255 && r.data[1] == 85 && r.data[2] == 0, "red + 10: %d %d %d", r.data[0], r.data[1], r.data[2]);
    /* value gain halves brightness; white keeps zero saturation under a saturation gain */
    uint8_t wg[6] = {255, 255, 255, 200, 100, 50};
    memcpy(r.data, wg, 6);
    cy_aug_hsv_apply(&r, 0, 0.9, -0.5);
    CHECK(r.data[0] == 127 && r.data[1] == 127 && r.data[2] == 127, "white: %d %d %d", r.data[0], r.data[1], r.data[2]);
    CHECK(r.data[3] == 100 && r.data[5] <= 2, "orange with v/2, s*1.9: %d %d %d", r.data[3], r.data[4], r.data[5]);
    cy_image_free(&r);
}

/* Ultralytics' RandomHSV on OpenCV (tools/refgen/make_hsv_fixture.py): the same bytes,
 * truncated in the 64 columns of OpenCV's vector loop and rounded in the last 6 */
static void test_hsv_opencv(void) {
    static const double gains[3][3] = {{0.01, 0.5, -0.3}, {-0.012, -0.6, 0.35}, {0, 0, 0}};
    cy_npy f = {0};
    cy_error err = {0};
    CHECK(cy_npy_read("tests/fixtures/aug/hsv_cv2.npy", &f, &err) == CY_OK, "hsv fixture: %s", err.msg);
    if (!f.data) return;
    CHECK(f.ndim == 4 && f.shape[0] == 4 && f.shape[1] == 40 && f.shape[2] == 70 && f.shape[3] == 3, "fixture shape");
    const size_t n = 40 * 70 * 3;
    for (int k = 0; k < 3; k++) {
        cy_image im = {0};
        cy_image_alloc(&im, 40, 70, 3, NULL);
        for (size_t i = 0; i < n; i++) im.data[i] = (uint8_t)f.data[i];
        /* the fixture's np.random.uniform returned gain / hgain, which RandomHSV
         * multiplied back: the same doubles here */
        double r[3], hyp[3] = {0.015, 0.7, 0.4};
        for (int j = 0; j < 3; j++) r[j] = gains[k][j] / hyp[j] * hyp[j];
        cy_aug_hsv_apply(&im, r[0], r[1], r[2]);
        int bad = 0, first = -1;
        for (size_t i = 0; i < n; i++)
            if (im.data[i] != (uint8_t)f.data[(k + 1) * n + i]) bad++, first = first < 0 ? (int)i : first;
        CHECK(bad == 0, "gains %d: %d of %zu bytes differ from OpenCV (first at pixel %d, column %d)", k, bad, n,
              first / 3, first / 3 % 70);
        cy_image_free(&im);
    }
    cy_npy_free(&f);
}

/* Ultralytics' Mosaic + RandomPerspective + RandomFlip on OpenCV with fixed
 * draws (tools/refgen/make_mosaic_fixture.py, imgsz 64, four tiles of
 * different shapes): the same image (warpAffine's fixed-point rounding may
 * put a rare pixel one off) and the same boxes. */
static void test_mosaic_opencv(void) {
    const char *names[5] = {"tiles", "labels", "cases", "out", "boxes"};
    cy_npy f[5] = {{0}};
    cy_error err = {0};
    int ok = 1;
    for (int k = 0; k < 5; k++) {
        char path[128];
        snprintf(path, sizeof path, "tests/fixtures/aug/mosaic_%s.npy", names[k]);
        CHECK(cy_npy_read(path, &f[k], &err) == CY_OK, "mosaic fixture: %s", err.msg);
        ok &= f[k].data != NULL;
    }
    static const int tile_hw[4][2] = {{48, 64}, {64, 40}, {64, 64}, {56, 64}};
    const int S = 64, ncase = ok ? (int)f[2].shape[0] : 0;
    CHECK(!ok || (f[0].shape[0] == 4 && f[1].shape[1] == 3 && f[2].shape[1] == 11 && f[3].shape[1] == S &&
                  f[4].shape[1] == 12 && f[3].shape[0] == ncase && f[4].shape[0] == ncase),
          "mosaic fixture shapes");
    cy_aug_sample tiles[4];
    memset(tiles, 0, sizeof tiles);
    for (int t = 0; ok && t < 4; t++) {
        const int h = tile_hw[t][0], w = tile_hw[t][1];
        cy_image_alloc(&tiles[t].img, h, w, 3, NULL);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w * 3; x++) tiles[t].img.data[(size_t)y * w * 3 + x] = (uint8_t)f[0].data[((size_t)t * S + y) * S * 3 + x];
        for (int k = 0; k < 3; k++) { /* as the loader turns a label row into pixels */
            const float *q = f[1].data + (t * 3 + k) * 5;
            cy_aug_box b = {(int)q[0], (q[1] - q[3] / 2) * w, (q[2] - q[4] / 2) * h, (q[1] + q[3] / 2) * w,
                            (q[2] + q[4] / 2) * h};
            cy_aug_sample_push(&tiles[t], b, NULL);
        }
    }
    const cy_aug_sample *tp[4] = {&tiles[0], &tiles[1], &tiles[2], &tiles[3]};
    for (int c = 0; c < ncase; c++) {
        const float *d = f[2].data + c * 11;
        cy_aug_sample m = {0};
        CHECK(cy_aug_mosaic4_at(tp, S, (int)d[1], (int)d[0], &m, &err) == CY_OK, "case %d: %s", c, err.msg);
        cy_aug_affine_draw draw = {d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9]};
        CHECK(cy_aug_perspective_apply(&m, &draw, 0, cy_aug_mosaic_border(S), &err) == CY_OK, "case %d: %s", c, err.msg);
        if (d[10] != 0) cy_aug_fliplr(&m);
        CHECK(m.img.h == S && m.img.w == S, "case %d: %dx%d", c, m.img.h, m.img.w);
        if (m.img.h != S || m.img.w != S) {
            cy_aug_sample_free(&m);
            continue;
        }
        const size_t n = (size_t)S * S * 3;
        int off1 = 0, worse = 0;
        for (size_t i = 0; i < n; i++) {
            int diff = abs((int)m.img.data[i] - (int)f[3].data[c * n + i]);
            off1 += diff == 1, worse += diff > 1;
        }
        CHECK(worse == 0 && off1 <= 8, "case %d: %d bytes one off, %d further off of %zu", c, off1, worse, n);
        int nref = 0;
        while (nref < 12 && f[4].data[(c * 12 + nref) * 6] != 0) nref++;
        CHECK(m.n == nref, "case %d: %d boxes, Ultralytics %d", c, m.n, nref);
        double dmax = 0;
        int cls_ok = 1;
        for (int k = 0; k < m.n && k < nref; k++) {
            const float *r = f[4].data + (c * 12 + k) * 6;
            const cy_aug_box *b = &m.boxes[k];
            cls_ok &= b->cls == (int)r[1];
            const double e[4] = {b->x1 - r[2], b->y1 - r[3], b->x2 - r[4], b->y2 - r[5]};
            for (int j = 0; j < 4; j++) dmax = fabs(e[j]) > dmax ? fabs(e[j]) : dmax;
        }
        CHECK(cls_ok && dmax < 1e-3, "case %d: boxes differ by %g px (classes %s)", c, dmax, cls_ok ? "equal" : "differ");
        cy_aug_sample_free(&m);
    }
    for (int t = 0; t < 4; t++) cy_aug_sample_free(&tiles[t]);
    for (int k = 0; k < 5; k++) cy_npy_free(&f[k]);
}

/* ---- perspective ---- */

static void test_perspective(void) {
    cy_error err = {0};
    cy_aug_hyp hyp = cy_aug_default_hyp();
    hyp.translate = 0, hyp.scale = 0, hyp.degrees = 0, hyp.shear = 0;
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 3, 0);
    cy_aug_sample s, c;
    make_sample(&s, 64, 96, 13);
    push(&s, 2, 5.5f, 6.25f, 40, 50);
    cy_aug_sample_copy(&c, &s, NULL);
    CHECK(cy_aug_random_perspective(&s, &hyp, 0, &rng, &err) == CY_OK, "%s", err.msg);
    CHECK(s.img.h == 64 && s.img.w == 96 && memcmp(s.img.data, c.img.data, 64 * 96 * 3) == 0,
          "identity parameters keep the image");
    CHECK(s.n == 1 && s.boxes[0].x1 == 5.5f && s.boxes[0].y1 == 6.25f && s.boxes[0].x2 == 40 &&
              s.boxes[0].y2 == 50,
          "identity parameters keep the box");
    /* the warp itself with an identity matrix copies exactly */
    cy_image w = {0};
    cy_image_alloc(&w, 64, 96, 3, NULL);
    double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    cy_aug_warp_affine(&c.img, &w, I, 114);
    CHECK(memcmp(w.data, c.img.data, 64 * 96 * 3) == 0, "identity warpAffine copies");
    cy_aug_warp_perspective(&c.img, &w, I, 114);
    CHECK(memcmp(w.data, c.img.data, 64 * 96 * 3) == 0, "identity warpPerspective copies");
    cy_image_free(&w);
    cy_aug_sample_free(&s);

    /* pure translation by (+10, -6): trans fractions chosen to give it */
    cy_aug_affine_draw d = {0, 0, 0, 1, 0, 0, 0.5 + 10.0 / 96, 0.5 - 6.0 / 64};
    double M[9];
    cy_aug_affine_matrix(&d, 96, 64, 96, 64, M);
    CHECK(M[0] == 1 && M[1] == 0 && M[2] == 10 && M[3] == 0 && M[4] == 1 && M[5] == -6,
          "translation matrix %g %g %g / %g %g %g", M[0], M[1], M[2], M[3], M[4], M[5]);
    cy_aug_sample_copy(&s, &c, NULL);
    CHECK(cy_aug_perspective_apply(&s, &d, 0, 0, &err) == CY_OK, "%s", err.msg);
    int bad = 0;
    for (int y = 0; y < 64; y++)
        for (int x = 0; x < 96; x++) {
            int sx = x - 10, sy = y + 6;
            for (int k = 0; k < 3; k++) {
                int want = (sx >= 0 && sx < 96 && sy >= 0 && sy < 64) ? px(&c.img, sx, sy)[k] : 114;
                bad += px(&s.img, x, y)[k] != want;
            }
        }
    CHECK(bad == 0, "translation moves pixels exactly (%d wrong)", bad);
    CHECK(s.n == 1 && near(s.boxes[0].x1, 15.5f, 1e-5f) && near(s.boxes[0].y1, 0.25f, 1e-5f) &&
              near(s.boxes[0].x2, 50, 1e-5f) && near(s.boxes[0].y2, 44, 1e-5f),
          "translated box (%g %g %g %g)", s.boxes[0].x1, s.boxes[0].y1, s.boxes[0].x2, s.boxes[0].y2);
    cy_aug_sample_free(&s);
    cy_aug_sample_free(&c);

    /* 90 degrees counter-clockwise (getRotationMatrix2D) about the centre of a
     * 100x100 image: (x, y) -> (y, 100 - x) */
    make_sample(&s, 100, 100, 17);
    push(&s, 4, 10, 20, 30, 60);
    cy_aug_sample_copy(&c, &s, NULL);
    cy_aug_affine_draw r = {0, 0, 90, 1, 0, 0, 0.5, 0.5};
    CHECK(cy_aug_perspective_apply(&s, &r, 0, 0, &err) == CY_OK, "%s", err.msg);
    CHECK(s.n == 1 && near(s.boxes[0].x1, 20, 1e-3f) && near(s.boxes[0].y1, 70, 1e-3f) &&
              near(s.boxes[0].x2, 60, 1e-3f) && near(s.boxes[0].y2, 90, 1e-3f),
          "rotated box (%g %g %g %g), want (20 70 60 90)", s.boxes[0].x1, s.boxes[0].y1,
          s.boxes[0].x2, s.boxes[0].y2);
    bad = 0;
    for (int y = 1; y < 100; y++)
        for (int x = 0; x < 100; x++)
            for (int k = 0; k < 3; k++) bad += abs(px(&s.img, x, y)[k] - px(&c.img, 100 - y, x)[k]) > 0;
    CHECK(bad == 0, "rotated pixels: %d differ from src(100 - y, x)", bad);
    cy_aug_sample_free(&s);
    cy_aug_sample_free(&c);

    /* the same rotation through warpPerspective (perspective flag, P = 0) */
    make_sample(&s, 100, 100, 17);
    cy_aug_sample_copy(&c, &s, NULL);
    CHECK(cy_aug_perspective_apply(&s, &r, 1, 0, &err) == CY_OK, "%s", err.msg);
    bad = 0;
    for (int y = 1; y < 100; y++)
        for (int x = 0; x < 100; x++)
            for (int k = 0; k < 3; k++) bad += abs(px(&s.img, x, y)[k] - px(&c.img, 100 - y, x)[k]) > 1;
    CHECK(bad == 0, "warpPerspective rotation: %d differ", bad);
    cy_aug_sample_free(&s);
    cy_aug_sample_free(&c);

    /* half-pixel translation blends neighbours: (a + b + 1) / 2 style rounding */
    make_sample(&s, 8, 8, 19);
    cy_aug_sample_copy(&c, &s, NULL);
    cy_aug_affine_draw h = {0, 0, 0, 1, 0, 0, 0.5 + 0.5 / 8, 0.5};
    CHECK(cy_aug_perspective_apply(&s, &h, 0, 0, &err) == CY_OK, "%s", err.msg);
    bad = 0;
    for (int y = 0; y < 8; y++)
        for (int x = 1; x < 8; x++)
            for (int k = 0; k < 3; k++) {
                int want = (px(&c.img, x - 1, y)[k] * 512 + px(&c.img, x, y)[k] * 512 + 512) >> 10;
                bad += px(&s.img, x, y)[k] != want;
            }
    CHECK(bad == 0 && px(&s.img, 0, 3)[0] == ((114 * 512 + px(&c.img, 0, 3)[0] * 512 + 512) >> 10),
          "half-pixel shift blends (%d wrong), border blends with 114", bad);
    cy_aug_sample_free(&s);
    cy_aug_sample_free(&c);
}

/* ---- box_candidates ---- */

static void test_box_candidates(void) {
    cy_aug_box b1 = {0, 0, 0, 100, 100};
    cy_aug_box keep = {0, 0, 0, 40, 40}, small = {0, 0, 0, 30, 30};
    cy_aug_box thin = {0, 0, 0, 200, 1.9f}, flat = {0, 0, 0, 300, 2.5f};
    CHECK(cy_aug_box_candidate(&b1, &keep, 2, 100, 0.1f), "16%% of the area stays");
    CHECK(!cy_aug_box_candidate(&b1, &small, 2, 100, 0.1f), "9%% of the area goes");
    CHECK(!cy_aug_box_candidate(&b1, &thin, 2, 100, 0.1f), "height <= 2 goes");
    cy_aug_box big = {0, 0, 0, 300, 30};
    CHECK(!cy_aug_box_candidate(&big, &flat, 2, 100, 0.0f), "aspect 120 goes");

    /* through the transform: scale 0.25 turns an 8x8 box into 2x2 (dropped), a
     * 40x40 box into 10x10 (kept) */
    cy_error err = {0};
    cy_aug_sample s;
    make_sample(&s, 64, 64, 23);
    push(&s, 0, 4, 4, 12, 12);
    push(&s, 1, 20, 20, 60, 60);
    cy_aug_affine_draw d = {0, 0, 0, 0.25, 0, 0, 0.5, 0.5};
    CHECK(cy_aug_perspective_apply(&s, &d, 0, 0, &err) == CY_OK, "%s", err.msg);
    CHECK(s.n == 1 && s.boxes[0].cls == 1 && near(s.boxes[0].x1, 29, 1e-4f) && near(s.boxes[0].x2, 39, 1e-4f),
          "box filter after scale: n=%d", s.n);
    /* a box pushed mostly out of the image is clipped, then dropped by area */
    cy_aug_sample_free(&s);
    make_sample(&s, 64, 64, 23);
    push(&s, 0, 10, 10, 50, 50);
    cy_aug_affine_draw t = {0, 0, 0, 1, 0, 0, 0.5 - 47.0 / 64, 0.5};
    CHECK(cy_aug_perspective_apply(&s, &t, 0, 0, &err) == CY_OK, "%s", err.msg);
    CHECK(s.n == 0, "box clipped to 3x40 of 40x40 (7.5%%) is dropped (n=%d)", s.n);
    cy_aug_sample_free(&s);
}

/* ---- mosaic ---- */

static void test_mosaic(void) {
    cy_error err = {0};
    const int imgsz = 64;
    cy_aug_sample t[4];
    int hw[4][2] = {{48, 64}, {64, 48}, {64, 64}, {30, 40}};
    for (int i = 0; i < 4; i++) {
        make_sample(&t[i], hw[i][0], hw[i][1], 100 + i);
        push(&t[i], i, 2, 3, (float)hw[i][1] - 2, (float)hw[i][0] - 3); /* almost the whole tile */
        push(&t[i], 10 + i, 0, 0, 5, 5);                                  /* top-left corner */
    }
    const cy_aug_sample *tp[4] = {&t[0], &t[1], &t[2], &t[3]};
    cy_aug_sample m;
    int xc = 70, yc = 50;
    CHECK(cy_aug_mosaic4_at(tp, imgsz, xc, yc, &m, &err) == CY_OK, "%s", err.msg);
    CHECK(m.img.h == 2 * imgsz && m.img.w == 2 * imgsz, "mosaic is 2*imgsz: %dx%d", m.img.h, m.img.w);
    /* tile 0's bottom-right pixel lands just above-left of the centre */
    CHECK(memcmp(px(&m.img, xc - 1, yc - 1), px(&t[0].img, 63, 47), 3) == 0, "tile 0 placement");
    CHECK(memcmp(px(&m.img, xc, yc - 1), px(&t[1].img, 0, 63), 3) == 0, "tile 1 placement");
    CHECK(memcmp(px(&m.img, xc - 1, yc), px(&t[2].img, 63, 0), 3) == 0, "tile 2 placement");
    CHECK(memcmp(px(&m.img, xc, yc), px(&t[3].img, 0, 0), 3) == 0, "tile 3 placement");
    CHECK(px(&m.img, 0, 0)[0] == 114 && px(&m.img, 127, 127)[1] == 114, "uncovered canvas is 114");
    int inside = 1;
    for (int i = 0; i < m.n; i++) {
        cy_aug_box *b = &m.boxes[i];
        inside &= b->x1 >= 0 && b->y1 >= 0 && b->x2 <= 128 && b->y2 <= 128 && b->x2 > b->x1 && b->y2 > b->y1;
    }
    CHECK(inside, "mosaic boxes inside the canvas with positive area");
    /* tile 0 sits at (6, 2)..(70, 50): its full box becomes (8, 5, 68, 47) */
    int found = 0;
    for (int i = 0; i < m.n; i++)
        if (m.boxes[i].cls == 0)
            found = near(m.boxes[i].x1, 8, 0) && near(m.boxes[i].y1, 5, 0) && near(m.boxes[i].x2, 68, 0) &&
                    near(m.boxes[i].y2, 47, 0);
    CHECK(found, "tile 0 box shifted by the tile offset");
    /* tile 1 (64x48) at x 70..118, y 0..50 (cut: its top 14 rows fall off):
     * the corner box (0,0,5,5) becomes (70,-14,75,-9) -> clipped to zero area, dropped */
    int corner1 = 0;
    for (int i = 0; i < m.n; i++) corner1 |= m.boxes[i].cls == 11;
    CHECK(!corner1, "a box cut off by the canvas edge is dropped");
    /* then the perspective crop back to imgsz */
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 9, 0);
    cy_aug_hyp hyp = cy_aug_default_hyp();
    CHECK(cy_aug_random_perspective(&m, &hyp, cy_aug_mosaic_border(imgsz), &rng, &err) == CY_OK, "%s", err.msg);
    CHECK(m.img.h == imgsz && m.img.w == imgsz, "after the border crop: %dx%d", m.img.h, m.img.w);
    for (int i = 0; i < m.n; i++) {
        cy_aug_box *b = &m.boxes[i];
        inside &= b->x1 >= 0 && b->y1 >= 0 && b->x2 <= imgsz && b->y2 <= imgsz && b->x2 > b->x1;
    }
    CHECK(inside, "boxes inside after the crop");
    cy_aug_sample_free(&m);
    /* random centres stay in [imgsz/2, 1.5 imgsz) */
    for (int k = 0; k < 20; k++) {
        CHECK(cy_aug_mosaic4(tp, imgsz, &rng, &m, &err) == CY_OK, "%s", err.msg);
        for (int i = 0; i < m.n; i++) {
            cy_aug_box *b = &m.boxes[i];
            inside &= b->x1 >= 0 && b->y1 >= 0 && b->x2 <= 128 && b->y2 <= 128 && b->x2 > b->x1 && b->y2 > b->y1;
        }
        cy_aug_sample_free(&m);
    }
    CHECK(inside, "random mosaics keep boxes inside");
    CHECK(cy_aug_mosaic_border(640) == -320 && cy_aug_mosaic_border(321) == -161, "border floors");
    for (int i = 0; i < 4; i++) cy_aug_sample_free(&t[i]);
}

/* ---- mixup / cutmix ---- */

static void test_mix(void) {
    cy_error err = {0};
    cy_aug_sample a, b;
    make_sample(&a, 32, 32, 31);
    make_sample(&b, 32, 32, 37);
    push(&a, 0, 1, 1, 10, 10);
    push(&b, 1, 20, 20, 30, 30);
    uint8_t a0 = a.img.data[100], b0 = b.img.data[100];
    CHECK(cy_aug_mixup_apply(&a, &b, 0.5, &err) == CY_OK, "%s", err.msg);
    CHECK(a.img.data[100] == (uint8_t)(int)(a0 * 0.5 + b0 * 0.5) && a.n == 2 && a.boxes[1].cls == 1,
          "mixup blends and concatenates");
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 77, 0);
    double mean = 0;
    for (int i = 0; i < 2000; i++) mean += cy_aug_rng_beta(&rng, 32, 32);
    mean /= 2000;
    CHECK(fabs(mean - 0.5) < 0.01, "Beta(32,32) mean %g", mean);
    cy_aug_sample_free(&a);
    cy_aug_sample_free(&b);

    /* cutmix: pasted boxes lie in the pasted area, which held no box of a */
    int pasted_ok = 1, any = 0;
    for (int trial = 0; trial < 50; trial++) {
        make_sample(&a, 64, 64, 41);
        make_sample(&b, 64, 64, 43);
        push(&a, 0, 0, 0, 12, 12);
        for (int k = 0; k < 6; k++) push(&b, 5, 8.0f * k, 8.0f * k, 8.0f * k + 12, 8.0f * k + 12);
        cy_aug_sample a_orig;
        cy_aug_sample_copy(&a_orig, &a, NULL);
        CHECK(cy_aug_cutmix(&a, &b, &rng, &err) == CY_OK, "%s", err.msg);
        if (a.n > 1) {
            any = 1;
            /* the pasted region equals b there, and each pasted box is clipped into it */
            for (int i = 1; i < a.n; i++) {
                cy_aug_box *q = &a.boxes[i];
                pasted_ok &= q->cls == 5 && q->x2 > q->x1 && q->y2 > q->y1;
                int cx = (int)((q->x1 + q->x2) / 2), cyy = (int)((q->y1 + q->y2) / 2);
                pasted_ok &= memcmp(px(&a.img, cx, cyy), px(&b.img, cx, cyy), 3) == 0;
            }
            pasted_ok &= memcmp(px(&a.img, 5, 5), px(&a_orig.img, 5, 5), 3) == 0;
        } else {
            pasted_ok &= memcmp(a.img.data, a_orig.img.data, 64 * 64 * 3) == 0;
        }
        cy_aug_sample_free(&a_orig);
        cy_aug_sample_free(&a);
        cy_aug_sample_free(&b);
    }
    CHECK(any && pasted_ok, "cutmix pastes image and boxes together (any=%d)", any);
}

/* ---- the pipeline ---- */

typedef struct {
    cy_aug_sample *src;
    int n, imgsz;
} fake_ds;

static cy_status fake_load(void *ctx, int index, cy_aug_sample *out, cy_error *err) {
    fake_ds *ds = ctx;
    CY_TRY(cy_aug_sample_copy(out, &ds->src[index], err));
    return cy_aug_load_resize(out, ds->imgsz, err);
}

static void fake_make(fake_ds *ds, int n, int imgsz, int h, int w) {
    ds->n = n, ds->imgsz = imgsz;
    ds->src = calloc((size_t)n, sizeof *ds->src);
    for (int i = 0; i < n; i++) {
        int hh = h + (i % 3) * 16, ww = w - (i % 2) * 32;
        make_sample(&ds->src[i], hh, ww, 1000 + i);
        for (int k = 0; k < 3 + i % 4; k++) {
            float x1 = (float)((k * 37 + i * 11) % (ww / 2)), y1 = (float)((k * 53 + i * 7) % (hh / 2));
            push(&ds->src[i], k % 5, x1, y1, x1 + ww / 4.0f + k, y1 + hh / 5.0f + k);
        }
    }
}

static void fake_free(fake_ds *ds) {
    for (int i = 0; i < ds->n; i++) cy_aug_sample_free(&ds->src[i]);
    free(ds->src);
}

static int boxes_valid(const cy_aug_sample *s, int imgsz) {
    for (int i = 0; i < s->n; i++) {
        const cy_aug_box *b = &s->boxes[i];
        if (!(isfinite(b->x1) && isfinite(b->y1) && isfinite(b->x2) && isfinite(b->y2))) return 0;
        if (!(b->x1 >= 0 && b->y1 >= 0 && b->x2 <= imgsz && b->y2 <= imgsz)) return 0;
        if (!(b->x2 >= b->x1 && b->y2 >= b->y1)) return 0;
    }
    return 1;
}

static void test_pipeline(void) {
    cy_error err = {0};
    fake_ds ds;
    const int imgsz = 96;
    fake_make(&ds, 6, imgsz, 120, 160);
    cy_aug_pipeline p = {.imgsz = imgsz, .hyp = cy_aug_default_hyp(), .n_images = ds.n,
                         .load = fake_load, .ctx = &ds};
    p.hyp.mixup = 0.5f, p.hyp.cutmix = 0.5f, p.hyp.degrees = 10, p.hyp.shear = 5;
    cy_aug_rng r1, r2, r3;
    cy_aug_rng_seed(&r1, 42, 7);
    cy_aug_rng_seed(&r2, 42, 7);
    cy_aug_rng_seed(&r3, 43, 7);
    int same = 1, differ = 0;
    for (int k = 0; k < 5; k++) {
        cy_aug_sample a = {0}, b = {0}, c = {0};
        CHECK(cy_aug_train_sample(&p, k, &r1, &a, &err) == CY_OK, "%s", err.msg);
        CHECK(cy_aug_train_sample(&p, k, &r2, &b, &err) == CY_OK, "%s", err.msg);
        CHECK(cy_aug_train_sample(&p, k, &r3, &c, &err) == CY_OK, "%s", err.msg);
        same &= a.img.h == imgsz && a.img.w == imgsz && b.img.h == imgsz && a.n == b.n &&
                memcmp(a.img.data, b.img.data, (size_t)imgsz * imgsz * 3) == 0 &&
                (a.n == 0 || memcmp(a.boxes, b.boxes, sizeof *a.boxes * a.n) == 0);
        differ |= memcmp(a.img.data, c.img.data, (size_t)imgsz * imgsz * 3) != 0;
        cy_aug_sample_free(&a);
        cy_aug_sample_free(&b);
        cy_aug_sample_free(&c);
    }
    CHECK(same, "same seed gives identical bytes and boxes");
    CHECK(differ, "a different seed gives a different image");

    /* close_mosaic: letterbox + perspective without border, still imgsz square */
    cy_aug_close_mosaic(&p.hyp);
    cy_aug_sample a = {0};
    CHECK(cy_aug_train_sample(&p, 2, &r1, &a, &err) == CY_OK, "%s", err.msg);
    CHECK(a.img.h == imgsz && a.img.w == imgsz && boxes_valid(&a, imgsz), "close_mosaic sample");
    cy_aug_sample_free(&a);

    /* wild parameters over many trials: never NaN, never outside */
    p.hyp = cy_aug_default_hyp();
    p.hyp.degrees = 45, p.hyp.shear = 20, p.hyp.perspective = 0.001f, p.hyp.translate = 0.4f;
    p.hyp.scale = 0.9f, p.hyp.mixup = 0.3f, p.hyp.cutmix = 0.3f, p.hyp.flipud = 0.5f;
    p.hyp.mosaic = 0.7f;
    int ok = 1, total_boxes = 0;
    for (int k = 0; k < 150; k++) {
        cy_aug_sample s = {0};
        if (cy_aug_train_sample(&p, k % ds.n, &r3, &s, &err) != CY_OK) {
            ok = 0;
            break;
        }
        ok &= s.img.h == imgsz && s.img.w == imgsz && boxes_valid(&s, imgsz);
        total_boxes += s.n;
        cy_aug_sample_free(&s);
    }
    CHECK(ok && total_boxes > 0, "random trials: boxes valid (%d boxes seen) %s", total_boxes, err.msg);
    /* a bad index is an error, not a crash */
    CHECK(cy_aug_train_sample(&p, ds.n, &r3, &a, &err) == CY_ERR_ARG, "bad index refused");
    fake_free(&ds);
}

/* ---- speed: mosaic + perspective + hsv + flip, default hyp ---- */

static void bench(int imgsz, int iters) {
    cy_error err = {0};
    fake_ds ds;
    /* COCO-like 480x640 originals, load-resized inside the loader as upstream */
    fake_make(&ds, 8, imgsz, 480 * imgsz / 640, imgsz);
    cy_aug_pipeline p = {.imgsz = imgsz, .hyp = cy_aug_default_hyp(), .n_images = ds.n,
                         .load = fake_load, .ctx = &ds};
    cy_aug_rng rng;
    cy_aug_rng_seed(&rng, 1, 2);
    cy_aug_sample s = {0};
    cy_aug_train_sample(&p, 0, &rng, &s, &err); /* warm up */
    cy_aug_sample_free(&s);
    double t0 = now_s();
    for (int k = 0; k < iters; k++) {
        CHECK(cy_aug_train_sample(&p, k % ds.n, &rng, &s, &err) == CY_OK, "%s", err.msg);
        cy_aug_sample_free(&s);
    }
    double ms = (now_s() - t0) * 1e3 / iters;
    printf("augment: mosaic+perspective+hsv+flip at %d: %.2f ms/image\n", imgsz, ms);
    fake_free(&ds);
}

int main(int argc, char **argv) {
    test_letterbox();
    test_resize();
    test_flips();
    test_hsv();
    test_hsv_opencv();
    test_perspective();
    test_box_candidates();
    test_mosaic();
    test_mosaic_opencv();
    test_mix();
    test_pipeline();
    int big = argc > 1 && !strcmp(argv[1], "--bench");
    bench(320, big ? 200 : 20);
    bench(640, big ? 100 : 10);
    return test_summary();
}
