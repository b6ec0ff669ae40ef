/* Polygon masks against Ultralytics' own (tests/fixtures/seg/masks.npy,
 * made by tools/refgen/make_polygon_mask_fixture.py with cv2.fillPoly and
 * cv2.resize underneath): every pixel of every case, per-instance and
 * overlap masks with their sort index; resample_segments against
 * resample.npy; and a few cases worked by hand. CYOLO_SEG_FIXTURE_DIR
 * points at another fixture folder (a bigger one made for development). */
#include <stdlib.h>
#include "data/polygon_mask.h"
#include "io/npy.h"
#include "test_util.h"

typedef struct {
    const float *p, *end;
    int bad;
} stream;

static float next(stream *s) {
    if (s->p >= s->end) {
        s->bad = 1;
        return 0;
    }
    return *s->p++;
}

/* The fixture's run-length code into n bytes; 0 when it does not fit. */
static int unrle(stream *s, uint8_t *out, size_t n) {
    int runs = (int)next(s);
    size_t at = 0;
    for (int r = 0; r < runs && !s->bad; r++) {
        int v = (int)next(s);
        size_t len = (size_t)next(s);
        if (at + len > n) return 0;
        memset(out + at, v, len);
        at += len;
    }
    return !s->bad && at == n;
}

/* First differing pixel, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return (long)i;
    return -1;
}

static void test_fixture_masks(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/masks.npy", dir);
    cy_npy f = {0};
    cy_error err = {0};
    if (cy_npy_read(path, &f, &err) != CY_OK) {
        CHECK(0, "mask fixture: %s", err.msg);
        return;
    }
    stream s = {f.data, f.data + f.numel, 0};
    int cases = 0, overlaps = 0, ratios[5] = {0};
    while (s.p < s.end && !s.bad) {
        int overlap = (int)next(&s), h = (int)next(&s), w = (int)next(&s), ratio = (int)next(&s);
        int color = (int)next(&s), n = (int)next(&s);
        if (s.bad || n < 0 || n > 4096 || ratio < 1 || ratio > 4) {
            CHECK(0, "case %d: bad header", cases);
            break;
        }
        /* the polygons, as cy_polygons */
        const float *first = s.p;
        int npts = 0;
        for (int i = 0; i < n && !s.bad; i++) {
            int k = (int)next(&s);
            npts += k;
            s.p += 2 * k;
            if (s.p > s.end) s.bad = 1;
        }
        if (s.bad) break;
        cy_polygons poly;
        if (cy_polygons_alloc(&poly, n, npts, &err) != CY_OK) break;
        s.p = first;
        for (int i = 0, at = 0; i < n; i++) {
            int k = (int)next(&s);
            poly.start[i] = at;
            memcpy(poly.xy + 2 * at, s.p, (size_t)k * 2 * sizeof(float));
            s.p += 2 * k;
            at += k;
        }
        int oh = h / ratio, ow = w / ratio;
        size_t m = (size_t)oh * ow;
        if (overlap) {
            int *want_idx = malloc(sizeof(int) * (size_t)(n ? n : 1)), *idx = malloc(sizeof(int) * (size_t)(n ? n : 1));
            uint8_t *want = malloc(m), *got = malloc(m);
            for (int i = 0; i < n; i++) want_idx[i] = (int)next(&s);
            int ok = unrle(&s, want, m);
            CHECK(ok, "case %d: overlap mask stream", cases);
            cy_status st = cy_polygons2masks_overlap(h, w, &poly, ratio, got, idx, &err);
            CHECK(st == CY_OK, "case %d: overlap: %s", cases, err.msg);
            if (st == CY_OK && ok) {
                int same = !memcmp(idx, want_idx, sizeof(int) * (size_t)n);
                CHECK(same, "case %d (%dx%d ratio %d, %d polygons): sort index differs (first %d, want %d)", cases,
                      h, w, ratio, n, idx[0], want_idx[0]);
                long d = first_diff(got, want, m);
                CHECK(d < 0, "case %d (%dx%d ratio %d, %d polygons): overlap mask differs at (%ld, %ld): %d, want %d",
                      cases, h, w, ratio, n, d / ow, d % ow, d >= 0 ? got[d] : 0, d >= 0 ? want[d] : 0);
            }
            free(want_idx);
            free(idx);
            free(want);
            free(got);
            overlaps++;
        } else {
            uint8_t *want = malloc(m * (size_t)(n ? n : 1)), *got = malloc(m * (size_t)(n ? n : 1));
            int ok = unrle(&s, want, m * (size_t)n);
            CHECK(ok, "case %d: mask stream", cases);
            cy_status st = cy_polygons2masks(h, w, &poly, (uint8_t)color, ratio, got, &err);
            CHECK(st == CY_OK, "case %d: masks: %s", cases, err.msg);
            if (st == CY_OK && ok)
                for (int i = 0; i < n; i++) {
                    long d = first_diff(got + m * i, want + m * i, m);
                    CHECK(d < 0, "case %d (%dx%d ratio %d color %d) polygon %d (%d points): differs at (%ld, %ld): %d, want %d",
                          cases, h, w, ratio, color, i, poly.start[i + 1] - poly.start[i], d / ow, d % ow,
                          d >= 0 ? got[m * i + d] : 0, d >= 0 ? want[m * i + d] : 0);
                }
            free(want);
            free(got);
        }
        ratios[ratio]++;
        cy_polygons_free(&poly);
        cases++;
    }
    CHECK(!s.bad, "mask fixture ends cleanly after %d cases", cases);
    CHECK(cases >= 40 && overlaps >= 10 && ratios[1] && ratios[2] && ratios[4],
          "fixture coverage: %d cases, %d overlap, ratio 1/2/4: %d/%d/%d", cases, overlaps, ratios[1], ratios[2],
          ratios[4]);
    printf("%d mask cases (%d overlap)\n", cases, overlaps);
    cy_npy_free(&f);
}

static void test_fixture_resample(const char *dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/resample.npy", dir);
    cy_npy f = {0};
    cy_error err = {0};
    if (cy_npy_read(path, &f, &err) != CY_OK) {
        CHECK(0, "resample fixture: %s", err.msg);
        return;
    }
    stream s = {f.data, f.data + f.numel, 0};
    int cases = 0;
    while (s.p < s.end && !s.bad) {
        int n = (int)next(&s), npts = (int)next(&s);
        if (s.bad || n < 1 || npts < 1 || s.p + 2 * (npts + n) > s.end) {
            CHECK(0, "resample case %d: bad header", cases);
            break;
        }
        const float *in = s.p, *want = s.p + 2 * npts;
        s.p += 2 * (npts + n);
        float *got = malloc(sizeof(float) * 2 * (size_t)n);
        cy_status st = cy_resample_segment(in, npts, n, got, &err);
        CHECK(st == CY_OK, "resample case %d: %s", cases, err.msg);
        int d = -1;
        for (int i = 0; st == CY_OK && i < 2 * n && d < 0; i++)
            if (memcmp(&got[i], &want[i], sizeof(float))) d = i;
        CHECK(d < 0, "resample case %d (%d points to %d): point %d is (%.9g), want (%.9g)", cases, npts, n, d / 2,
              d >= 0 ? got[d] : 0, d >= 0 ? want[d] : 0);
        free(got);
        cases++;
    }
    CHECK(cases >= 5, "resample fixture: %d cases", cases);
    cy_npy_free(&f);
}

/* Small cases worked out by hand from OpenCV's rules. */
static void test_by_hand(void) {
    cy_error err = {0};
    uint8_t m[8 * 8];
    /* a square 1..4: outline and inside, both ends inclusive */
    const float sq[] = {1.9f, 1.2f, 4.99f, 1.0f, 4.0f, 4.7f, 1.0f, 4.0f};
    memset(m, 0, sizeof m);
    CHECK(cy_fill_poly(m, 8, 8, sq, 4, 7, &err) == CY_OK, "fill: %s", err.msg);
    int ok = 1;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) ok &= m[y * 8 + x] == ((x >= 1 && x <= 4 && y >= 1 && y <= 4) ? 7 : 0);
    CHECK(ok, "truncated square fills rows and columns 1..4");
    /* one point is one pixel; outside points draw nothing */
    memset(m, 0, sizeof m);
    const float pt[] = {5.5f, 2.5f};
    CHECK(cy_fill_poly(m, 8, 8, pt, 1, 1, &err) == CY_OK && m[2 * 8 + 5] == 1, "one point");
    int sum = 0;
    for (int i = 0; i < 64; i++) sum += m[i];
    CHECK(sum == 1, "one point, one pixel (%d)", sum);
    memset(m, 0, sizeof m);
    const float far[] = {-50, -50, -10, -50, -10, -10};
    CHECK(cy_fill_poly(m, 8, 8, far, 3, 1, &err) == CY_OK, "outside");
    sum = 0;
    for (int i = 0; i < 64; i++) sum += m[i];
    CHECK(sum == 0, "a polygon outside draws nothing (%d)", sum);
    /* NaN points become INT32_MIN as numpy's cast: no crash */
    const float nan[] = {NAN, 1, 3, 3, 1, 6};
    CHECK(cy_fill_poly(m, 8, 8, nan, 3, 1, &err) == CY_OK, "NaN point");

    /* resize: 2x2 blocks averaged, a sum of 2 rounds up in every column
     * (OpenCV's scalar tail would round it to even: cv2 does not) */
    uint8_t src[2 * 18], dst[9];
    memset(src, 0, sizeof src);
    for (int x = 0; x < 18; x += 2) src[x] = src[18 + x] = 1;
    CHECK(cy_mask_resize(src, 2, 18, dst, 1, 9, &err) == CY_OK, "area resize");
    CHECK(dst[0] == 1 && dst[7] == 1 && dst[8] == 1, "area 2x rounds half up: %d %d %d", dst[0], dst[7], dst[8]);
    /* linear 4x: the average of the 2x2 block at offset 1 */
    uint8_t s4[4 * 4] = {0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 41, 0, 0, 0, 0, 0};
    CHECK(cy_mask_resize(s4, 4, 4, dst, 1, 1, &err) == CY_OK && dst[0] == 25, "linear 4x: %d, want 25", dst[0]);

    /* overlap: the smaller square lies on the larger, index 2 over 1 */
    cy_polygons p;
    CHECK(cy_polygons_alloc(&p, 2, 8, &err) == CY_OK, "alloc");
    const float big[] = {0, 0, 7, 0, 7, 7, 0, 7}, small[] = {2, 2, 4, 2, 4, 4, 2, 4};
    memcpy(p.xy, small, sizeof small);
    memcpy(p.xy + 8, big, sizeof big);
    p.start[1] = 4;
    int idx[2];
    CHECK(cy_polygons2masks_overlap(8, 8, &p, 1, m, idx, &err) == CY_OK, "overlap: %s", err.msg);
    CHECK(idx[0] == 1 && idx[1] == 0, "area order: big first (%d %d)", idx[0], idx[1]);
    CHECK(m[0] == 1 && m[3 * 8 + 3] == 2 && m[2 * 8 + 2] == 2 && m[5 * 8 + 5] == 1, "small over big");
    cy_polygons_free(&p);

    /* resample: a triangle closed and cut into 6 points, vertices kept */
    const float tri[] = {0, 0, 4, 0, 0, 4};
    float r[12];
    CHECK(cy_resample_segment(tri, 3, 6, r, &err) == CY_OK, "resample");
    /* x = linspace(0, 3, 2) = {0, 3} with 0 1 2 3 inserted: 0 0 1 2 3 3 */
    const float want[] = {0, 0, 0, 0, 4, 0, 0, 4, 0, 0, 0, 0};
    CHECK(!memcmp(r, want, sizeof want), "resample triangle: %g %g / %g %g / %g %g", r[0], r[1], r[4], r[5], r[10],
          r[11]);
    /* bad arguments are errors, not crashes */
    CHECK(cy_polygon2mask(3, 3, tri, 3, 1, 4, m, &err) == CY_ERR_ARG, "ratio larger than the image");
    CHECK(cy_resample_segment(tri, 0, 6, r, &err) == CY_ERR_ARG, "no points");
}

int main(void) {
    const char *dir = getenv("CYOLO_SEG_FIXTURE_DIR");
    if (!dir) dir = "tests/fixtures/seg";
    test_by_hand();
    test_fixture_masks(dir);
    test_fixture_resample(dir);
    return test_summary();
}
