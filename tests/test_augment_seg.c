/* Segment augmentations against Ultralytics 8.4.190 with fixed draws
 * (tools/refgen/make_aug_seg_fixture.py, imgsz 64): Mosaic of four tiles
 * (one without labels, one with a tiny polygon that box_candidates drops),
 * CopyPaste in flip mode on two cases, RandomPerspective with rotation,
 * shear, scale and translation, RandomFlip, then Format's masks
 * (mask_ratio 4, overlap and per instance); and LetterBox(scaleup=False)
 * as validation runs it, on a tile with polygons and on one without.
 * Masks must be byte-exact, polygon points and boxes within 1e-3 px, in
 * Format's sorted order; images byte-exact where no warp runs (the
 * reference's OpenCV 5.1 warps with float weights, cyolo as OpenCV 4). Plus polygon unit checks: segment2box
 * on a polygon crossing the border, concatenation of different counts,
 * detection samples untouched. */
#include "data/augment.h"
#include "data/augment_seg.h"
#include "io/npy.h"
#include "test_util.h"

#define S 64
#define MAXB 12
#define DIR "tests/fixtures/seg_aug/"

static const int tile_hw[4][2] = {{48, 64}, {64, 40}, {64, 64}, {56, 64}};

static int load_npy(const char *name, cy_npy *f) {
    cy_error err = {0};
    char path[128];
    snprintf(path, sizeof path, DIR "%s", name);
    CHECK(cy_npy_read(path, f, &err) == CY_OK, "%s: %s", path, err.msg);
    return f->data != NULL;
}

/* tile t as the loader makes it: boxes from the label rows, polygons resampled and denormalised */
static void make_tile(cy_aug_sample *s, const cy_image *slabs, const cy_npy *polys, int t) {
    const int h = tile_hw[t][0], w = tile_hw[t][1];
    cy_error err = {0};
    memset(s, 0, sizeof *s);
    cy_image_alloc(&s->img, h, w, 3, NULL);
    for (int y = 0; y < h; y++)
        memcpy(s->img.data + (size_t)y * w * 3, slabs->data + ((size_t)(t * S + y) * S) * 3, (size_t)w * 3);
    const int P = (int)polys->shape[0], C = (int)polys->shape[1];
    int n = 0, npts = 0;
    for (int i = 0; i < P; i++)
        if ((int)polys->data[i * C] == t) n++, npts += (int)polys->data[i * C + 6];
    cy_polygons norm = {0};
    CHECK(cy_polygons_alloc(&norm, n, npts, &err) == CY_OK, "%s", err.msg);
    int k = 0, o = 0;
    for (int i = 0; i < P; i++) {
        const float *q = polys->data + i * C;
        if ((int)q[0] != t) continue;
        cy_aug_box b = {(int)q[1], (q[2] - q[4] / 2) * w, (q[3] - q[5] / 2) * h, (q[2] + q[4] / 2) * w,
                        (q[3] + q[5] / 2) * h};
        cy_aug_sample_push(s, b, NULL);
        norm.start[k++] = o;
        memcpy(norm.xy + 2 * o, q + 7, sizeof(float) * 2 * (size_t)q[6]);
        o += (int)q[6];
    }
    CHECK(cy_aug_sample_set_polygons(s, &norm, &err) == CY_OK, "set_polygons: %s", err.msg);
    CHECK(s->seg.n == n && (n == 0 || cy_aug_seg_len(&s->seg, 0) == 1000), "tile %d: %d polygons of 1000 points", t,
          s->seg.n);
    cy_polygons_free(&norm);
}

/* the sample against one reference: image, overlap mask, boxes and points in Format's order */
static void compare(const char *what, int c, int warped, const cy_aug_sample *m, const uint8_t *ref_img, const cy_npy *boxes,
                    const cy_npy *points, const cy_npy *mask, const cy_npy *masks1) {
    cy_error err = {0};
    const int h = m->img.h, w = m->img.w, mh = h / 4, mw = w / 4;
    int bad = 0;
    int dmax = 0;
    for (size_t i = 0; i < (size_t)h * w * 3; i++) {
        int df = abs((int)m->img.data[i] - (int)ref_img[i]);
        bad += df != 0, dmax = df > dmax ? df : dmax;
    }
    /* OpenCV 5.1 (the reference venv) warps with float weights, cyolo as OpenCV 4 (1/32 px):
     * exact without a warp (letterbox, integer shifts), a few levels after one */
    CHECK(warped ? dmax <= 8 && bad < h * w * 3 * 3 / 4 : bad == 0,
          "%s %d: %d image bytes differ from Ultralytics (by up to %d)", what, c, bad, dmax);
    int nref = 0;
    while (nref < MAXB && boxes->data[(c * MAXB + nref) * 6] != 0) nref++;
    CHECK(m->n == nref && m->seg.n == m->n, "%s %d: %d instances (%d polygons), Ultralytics %d", what, c, m->n,
          m->seg.n, nref);
    uint8_t *mk = calloc((size_t)mh * mw * (m->n + 1), 1);
    int order[MAXB + 8];
    CHECK(cy_aug_format_masks(m, 4, 1, mk, order, &err) == CY_OK, "%s %d: %s", what, c, err.msg);
    bad = 0;
    for (int i = 0; i < mh * mw; i++) bad += mk[i] != (uint8_t)mask->data[(size_t)c * mh * mw + i];
    CHECK(bad == 0, "%s %d: %d overlap mask pixels differ", what, c, bad);
    double dbox = 0, dpt = 0;
    int cls_ok = 1;
    for (int k = 0; k < m->n && k < nref; k++) {
        const float *r = boxes->data + (c * MAXB + k) * 6;
        const cy_aug_box *b = &m->boxes[order[k]];
        cls_ok &= b->cls == (int)r[1];
        const double e[4] = {b->x1 - r[2], b->y1 - r[3], b->x2 - r[4], b->y2 - r[5]};
        for (int j = 0; j < 4; j++) dbox = fmax(dbox, fabs(e[j]));
        const float *q = cy_aug_seg_pts(&m->seg, order[k]), *rp = points->data + ((size_t)c * MAXB + k) * 200;
        for (int j = 0; j < 100; j++)
            dpt = fmax(dpt, fmax(fabs(q[20 * j] - rp[2 * j]), fabs(q[20 * j + 1] - rp[2 * j + 1])));
    }
    CHECK(cls_ok && dbox < 1e-3 && dpt < 1e-3, "%s %d: boxes off by %g px, points by %g px, classes %s", what, c,
          dbox, dpt, cls_ok ? "equal" : "differ");
    if (masks1 && m->n) { /* overlap_mask=False: one 0/1 mask per row, pipeline order */
        CHECK(cy_aug_format_masks(m, 4, 0, mk, order, &err) == CY_OK, "%s %d: %s", what, c, err.msg);
        bad = 0;
        for (int k = 0; k < m->n; k++)
            for (int i = 0; i < mh * mw; i++)
                bad += mk[(size_t)k * mh * mw + i] != (uint8_t)masks1->data[((size_t)c * MAXB + k) * mh * mw + i];
        CHECK(bad == 0 && order[m->n - 1] == m->n - 1, "%s %d: %d per-instance mask pixels differ", what, c, bad);
    }
    free(mk);
}

static void test_ultralytics(void) {
    cy_npy polys = {0}, cases = {0}, boxes = {0}, points = {0}, mask = {0}, masks1 = {0};
    cy_npy lboxes = {0}, lpoints = {0}, lmask = {0};
    cy_image slabs = {0}, outs = {0}, louts = {0};
    cy_error err = {0};
    int ok = load_npy("seg_polys.npy", &polys) & load_npy("seg_cases.npy", &cases) &
             load_npy("seg_boxes.npy", &boxes) & load_npy("seg_points.npy", &points) &
             load_npy("seg_mask.npy", &mask) & load_npy("seg_masks1.npy", &masks1) &
             load_npy("lb_boxes.npy", &lboxes) & load_npy("lb_points.npy", &lpoints) & load_npy("lb_mask.npy", &lmask);
    ok &= cy_image_read(DIR "seg_tiles.png", &slabs, &err) == CY_OK;
    ok &= cy_image_read(DIR "seg_out.png", &outs, &err) == CY_OK;
    ok &= cy_image_read(DIR "lb_out.png", &louts, &err) == CY_OK;
    CHECK(ok, "fixtures: %s", err.msg);
    if (!ok) return;
    const int K = (int)cases.shape[0];
    CHECK(slabs.h == 4 * S && outs.h == K * S && boxes.shape[1] == MAXB && cases.shape[1] == 12, "fixture shapes");
    cy_aug_sample tiles[4];
    for (int t = 0; t < 4; t++) make_tile(&tiles[t], &slabs, &polys, t);
    CHECK(tiles[2].n == 0 && tiles[0].n == 4, "tile 2 has no labels, tile 0 four");
    const cy_aug_sample *tp[4] = {&tiles[0], &tiles[1], &tiles[2], &tiles[3]};
    int tiny_dropped = 0;
    for (int c = 0; c < K; c++) {
        const float *d = cases.data + c * 12;
        cy_aug_sample m = {0};
        CHECK(cy_aug_mosaic4_at(tp, S, (int)d[1], (int)d[0], &m, &err) == CY_OK, "case %d: %s", c, err.msg);
        int before = m.n;
        if (d[11] != 0) CHECK(cy_aug_copy_paste(&m, NULL, d[11], &err) == CY_OK, "case %d: %s", c, err.msg);
        CHECK(d[11] == 0 || m.n > before, "case %d: copy_paste %g pasted %d objects", c, d[11], m.n - before);
        cy_aug_affine_draw draw = {d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9]};
        CHECK(cy_aug_perspective_apply(&m, &draw, 0, cy_aug_mosaic_border(S), &err) == CY_OK, "case %d: %s", c,
              err.msg);
        if (d[10] != 0) cy_aug_fliplr(&m);
        for (int i = 0; i < m.n; i++)
            if (m.boxes[i].cls == tiles[0].boxes[3].cls && m.boxes[i].x2 - m.boxes[i].x1 < 2.2f) tiny_dropped = -99;
        if (d[5] < 0.7f) tiny_dropped++;
        compare("case", c, c != 0, &m, outs.data + (size_t)c * S * S * 3, &boxes, &points, &mask, &masks1);
        cy_aug_sample_free(&m);
    }
    CHECK(tiny_dropped > 0, "the tiny polygon is gone once the scale shrinks it below 2 px");
    /* validation: LetterBox to 48x48 without enlarging, tile 1 (polygons) and tile 2 (none) */
    for (int c = 0; c < 2; c++) {
        cy_aug_sample s;
        cy_aug_sample_copy(&s, &tiles[c + 1], NULL);
        cy_aug_letterbox_params lp = cy_aug_letterbox_default();
        lp.scaleup = 0;
        CHECK(cy_aug_letterbox(&s, 48, 48, &lp, NULL, &err) == CY_OK, "letterbox %d: %s", c, err.msg);
        CHECK(s.img.h == 48 && s.img.w == 48, "letterbox %d: %dx%d", c, s.img.h, s.img.w);
        if (s.img.h == 48 && s.img.w == 48)
            compare("letterbox", c, 0, &s, louts.data + (size_t)c * 48 * 48 * 3, &lboxes, &lpoints, &lmask, NULL);
        cy_aug_sample_free(&s);
    }
    for (int t = 0; t < 4; t++) cy_aug_sample_free(&tiles[t]);
    cy_npy *all[] = {&polys, &cases, &boxes, &points, &mask, &masks1, &lboxes, &lpoints, &lmask};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) cy_npy_free(all[i]);
    cy_image_free(&slabs), cy_image_free(&outs), cy_image_free(&louts);
}

/* segment2box: a square half outside the right border keeps its visible part */
static void test_segment2box(void) {
    const float sq[8] = {50, 10, 80, 10, 80, 30, 50, 30};
    float b[4];
    cy_aug_segment2box(sq, 4, 64, 64, b);
    CHECK(b[0] == 50 && b[1] == 10 && b[2] == 64 && b[3] == 30, "crossing box (%g %g %g %g)", b[0], b[1], b[2], b[3]);
    /* a triangle covering the corner (64, 64): the corner is part of the box */
    const float tri[6] = {40, 70, 70, 40, 90, 90};
    cy_aug_segment2box(tri, 3, 64, 64, b);
    CHECK(fabsf(b[0] - 46) < 1e-4f && fabsf(b[1] - 46) < 1e-4f && b[2] == 64 && b[3] == 64,
          "corner box (%g %g %g %g), want (46 46 64 64)", b[0], b[1], b[2], b[3]);
    const float out[6] = {70, 70, 90, 70, 80, 90};
    cy_aug_segment2box(out, 3, 64, 64, b);
    CHECK(b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0, "outside polygon gives zeros");
}

/* MixUp of samples whose polygons differ in count: all resampled to the longest */
static void test_concat_and_detect(void) {
    cy_error err = {0};
    cy_aug_sample a = {0}, b = {0}, d = {0};
    cy_image_alloc(&a.img, 32, 32, 3, NULL), cy_image_alloc(&b.img, 32, 32, 3, NULL), cy_image_alloc(&d.img, 32, 32, 3, NULL);
    memset(a.img.data, 10, 32 * 32 * 3), memset(b.img.data, 200, 32 * 32 * 3), memset(d.img.data, 5, 32 * 32 * 3);
    cy_aug_box box = {1, 4, 4, 12, 12};
    cy_aug_sample_push(&a, box, NULL), cy_aug_sample_push(&b, box, NULL), cy_aug_sample_push(&d, box, NULL);
    cy_polygons pa, pb;
    cy_polygons_alloc(&pa, 1, 4, NULL), cy_polygons_alloc(&pb, 1, 5, NULL);
    const float q[10] = {0.1f, 0.1f, 0.4f, 0.1f, 0.4f, 0.4f, 0.1f, 0.4f, 0.2f, 0.3f};
    memcpy(pa.xy, q, 8 * sizeof(float)), memcpy(pb.xy, q, 10 * sizeof(float));
    /* 1200 points: the resample count becomes 1201 for b */
    cy_polygons big;
    cy_polygons_alloc(&big, 1, 1200, NULL);
    for (int k = 0; k < 1200; k++) big.xy[2 * k] = 0.1f + 0.3f * k / 1200, big.xy[2 * k + 1] = k < 600 ? 0.1f : 0.4f;
    CHECK(cy_aug_sample_set_polygons(&a, &pa, &err) == CY_OK && cy_aug_sample_set_polygons(&b, &big, &err) == CY_OK,
          "%s", err.msg);
    CHECK(cy_aug_seg_len(&a.seg, 0) == 1000 && cy_aug_seg_len(&b.seg, 0) == 1201, "resample counts %d %d",
          cy_aug_seg_len(&a.seg, 0), cy_aug_seg_len(&b.seg, 0));
    CHECK(fabsf(a.seg.xy[0] - 3.2f) < 1e-5f && fabsf(a.seg.xy[1] - 3.2f) < 1e-5f, "denormalised first point (%g %g)",
          a.seg.xy[0], a.seg.xy[1]);
    CHECK(cy_aug_mixup_apply(&a, &b, 0.5, &err) == CY_OK, "%s", err.msg);
    CHECK(a.n == 2 && a.seg.n == 2 && cy_aug_seg_len(&a.seg, 0) == 1201 && cy_aug_seg_len(&a.seg, 1) == 1201,
          "mixup unifies counts: %d polygons of %d, %d", a.seg.n, cy_aug_seg_len(&a.seg, 0), cy_aug_seg_len(&a.seg, 1));
    /* a detection sample (boxes, no polygons) cannot be mixed with polygons */
    CHECK(cy_aug_mixup_apply(&d, &a, 0.5, &err) == CY_ERR_ARG, "boxes-only with polygons refused");
    /* and a detection sample stays without polygons through the transforms */
    cy_aug_affine_draw dr = {0, 0, 10, 1.1, 2, 0, 0.5, 0.5};
    CHECK(cy_aug_perspective_apply(&d, &dr, 0, 0, &err) == CY_OK && d.seg.n == 0 && d.n == 1, "detect sample keeps no polygons");
    uint8_t mk[64];
    int order[2];
    CHECK(cy_aug_format_masks(&d, 4, 1, mk, order, &err) == CY_ERR_ARG, "masks of boxes without polygons refused");
    cy_polygons_free(&pa), cy_polygons_free(&pb), cy_polygons_free(&big);
    cy_aug_sample_free(&a), cy_aug_sample_free(&b), cy_aug_sample_free(&d);
}

int main(void) {
    test_ultralytics();
    test_segment2box();
    test_concat_and_detect();
    return test_summary();
}
