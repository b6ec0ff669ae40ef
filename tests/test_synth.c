/* The built-in synthetic datasets: Ultralytics layout, valid YOLO labels,
 * deterministic bytes for a seed, different for another seed, and a second
 * call on a complete set changes nothing. Detection labels hash to what
 * the generator wrote before segment labels existed. The segment set: the
 * detection set's images byte for byte, rows that cy_label_parse takes in
 * segment mode, every outline's cv2.fillPoly raster matching the pixels
 * the generator painted for that shape (IoU >= 0.9 from 16 px up), exact
 * vertex counts, border clipping, the ring's hole, and the data= names
 * that resolve to either set. */
#include <sys/stat.h>
#include "data/dataset.h"
#include "data/polygon_mask.h"
#include "data/synth.h"
#include "engine/builtin_data.h"
#include "io/image.h"
#include "test_util.h"

/* FNV-1a over a file's bytes, chained */
static uint64_t hash_file(const char *p, uint64_t h) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    for (int c; (c = fgetc(f)) != EOF;) h = (h ^ (uint64_t)c) * 0x100000001b3ULL;
    fclose(f);
    return h;
}

static uint64_t hash_labels(const char *root, int nt, int nv) {
    uint64_t h = 0xcbf29ce484222325ULL;
    char p[600];
    for (int i = 0; i < nt + nv; i++) {
        snprintf(p, sizeof p, "%s/labels/%s/%06d.txt", root, i < nt ? "train" : "val", i < nt ? i : i - nt);
        h = hash_file(p, h);
    }
    return h;
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) ? -1 : (long)st.st_size;
}

static int same_file(const char *a, const char *b) {
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    int same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        if (c != d) same = 0;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

#define DET_LABEL_HASH 0x9b18ce2b6702d398ULL

/* IoU of a 0/1 raster with the pixels of coverage >= thr */
static float iou(const uint8_t *a, const uint8_t *cov, size_t n, int thr) {
    size_t i = 0, u = 0;
    for (size_t k = 0; k < n; k++) i += a[k] && cov[k] >= thr, u += a[k] || cov[k] >= thr;
    return u ? (float)i / (float)u : 1.f;
}

/* the share of the pixels of coverage >= thr that the raster holds */
static float covered(const uint8_t *a, const uint8_t *cov, size_t n, int thr) {
    size_t i = 0, c = 0;
    for (size_t k = 0; k < n; k++) i += a[k] && cov[k] >= thr, c += cov[k] >= thr;
    return c ? (float)i / (float)c : 1.f;
}

/* the circle's vertex count as synth.h documents it */
static int circle_points(double r) {
    int n = (int)ceil(M_PI / acos(1 - 0.2 / r));
    return n < 24 ? 24 : n;
}

/* det: the detection set of the same parameters (seed 1) */
static void test_segment(const char *dir, const char *det) {
    char s1[512], s2[512], p1[600], p2[600], why[256];
    snprintf(s1, sizeof s1, "%s/seg1", dir);
    snprintf(s2, sizeof s2, "%s/seg2", dir);
    cy_synth_params p = {.n_train = 6, .n_val = 3, .imgsz = 96, .max_objects = 5, .seed = 1, .segment = 1};
    cy_error err = {0};
    CHECK(cy_synth_generate(s1, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_synth_generate(s2, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(!strcmp(cy_synth_yaml_name(&p), "synth-seg.yaml"), "segment YAML name");
    snprintf(p1, sizeof p1, "%s/synth-seg.yaml", s1);
    FILE *f = fopen(p1, "r");
    char line[256] = "";
    CHECK(f && fgets(line, sizeof line, f), "synth-seg.yaml written");
    CHECK(!strncmp(line, "# cyolo synth-seg v1 ", 21), "segment marker: %s", line);
    if (f) fclose(f);
    snprintf(p1, sizeof p1, "%s/synth.yaml", s1);
    CHECK(file_size(p1) < 0, "no detection YAML in the segment set");
    for (int i = 0; i < 9; i++) {
        const char *sp = i < 6 ? "train" : "val";
        int k = i < 6 ? i : i - 6;
        snprintf(p1, sizeof p1, "%s/images/%s/%06d.jpg", s1, sp, k);
        snprintf(p2, sizeof p2, "%s/images/%s/%06d.jpg", det, sp, k);
        CHECK(same_file(p1, p2), "segment image %s/%d is the detection image", sp, k);
        snprintf(p1, sizeof p1, "%s/labels/%s/%06d.txt", s1, sp, k);
        snprintf(p2, sizeof p2, "%s/labels/%s/%06d.txt", s2, sp, k);
        CHECK(file_size(p1) > 0 && same_file(p1, p2), "segment labels %s/%d identical for one seed", sp, k);
    }
    /* another seed: other polygons */
    snprintf(p1, sizeof p1, "%s/seg3", dir);
    p.seed = 2;
    CHECK(cy_synth_generate(p1, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(hash_labels(p1, 6, 3) != hash_labels(s1, 6, 3), "another seed gives other polygons");

    /* the built-in's image size for the geometry: every row against its
     * shape's pixels (at 160 px a 17 px triangle's half-pixel rims already
     * pull the IoU to 0.89) */
    p = (cy_synth_params){.n_train = 16, .n_val = 1, .imgsz = 320, .max_objects = 12, .seed = 3, .segment = 1};
    snprintf(s2, sizeof s2, "%s/seg4", dir);
    CHECK(cy_synth_generate(s2, &p, &err) == CY_OK, "%s", err.msg);
    int S = p.imgsz, rows_total = 0, checked = 0, border = 0, below = 0, lost = 0, bad_pts = 0, bad_count = 0;
    float worst = 1.f, worst_core = 1.f;
    uint8_t *drawn = malloc((size_t)S * S), *raster = malloc((size_t)S * S);
    cy_image im;
    CHECK(cy_image_alloc(&im, S, S, 3, &err) == CY_OK, "%s", err.msg);
    cy_label_rules rules = {.nc = CY_SYNTH_CLASSES, .segments = 1};
    for (int i = 0; i < 16; i++) {
        cy_synth_object obj[CY_SYNTH_MAX_OBJECTS];
        int nobj = 0;
        CHECK(cy_synth_image(&p, 0, i, &im, obj, &nobj, &err) == CY_OK, "%s", err.msg);
        snprintf(p1, sizeof p1, "%s/labels/train/%06d.txt", s2, i);
        int exists = 0, n = 0, ndup = 0;
        float *rows = NULL;
        cy_polygons seg = {0};
        cy_status st = cy_label_parse(p1, &rules, &exists, &rows, &seg, &n, &ndup, why, sizeof why, &err);
        CHECK(st == CY_OK && exists && ndup == 0 && seg.n == n, "%s parses as segment labels: %s", p1, why);
        CHECK(n <= nobj, "%s: %d rows for %d shapes", p1, n, nobj);
        rows_total += n;
        /* rows follow the shapes' order; a shape may lack one (outline outside) */
        int j = 0;
        for (int r = 0; r < n && st == CY_OK; r++) {
            int cls = (int)rows[5 * r], np = seg.start[r + 1] - seg.start[r];
            const float *xy = seg.xy + 2 * seg.start[r];
            for (int q = 0; q < np; q++) bad_pts += !(xy[2 * q] >= 0 && xy[2 * q] <= 1 && xy[2 * q + 1] >= 0 &&
                                                      xy[2 * q + 1] <= 1);
            float *px = malloc(sizeof(float) * 2 * (size_t)np);
            for (int q = 0; q < 2 * np; q++) px[q] = xy[q] * S;
            memset(raster, 0, (size_t)S * S);
            CHECK(cy_polygon2mask(S, S, px, np, 1, 1, raster, &err) == CY_OK, "%s", err.msg);
            free(px);
            float best = -1.f;
            for (; j < nobj; j++) {
                if (obj[j].cls != cls) continue;
                CHECK(cy_synth_object_mask(&obj[j], S, drawn, &err) == CY_OK, "%s", err.msg);
                best = iou(raster, drawn, (size_t)S * S, 1);
                if (best > 0.5f) break;
                lost++; /* a skipped shape of the same class */
            }
            CHECK(j < nobj, "%s row %d (class %d) matches a drawn shape", p1, r, cls);
            if (j >= nobj) break;
            const cy_synth_object *o = &obj[j++];
            int x0 = S, y0 = S, x1 = -1, y1 = -1;
            for (int y = 0; y < S; y++)
                for (int x = 0; x < S; x++)
                    if (drawn[(size_t)y * S + x] > 0)
                        x0 = x < x0 ? x : x0, x1 = x > x1 ? x : x1, y0 = y < y0 ? y : y0, y1 = y > y1 ? y : y1;
            int inside = o->cx - o->r >= 0 && o->cy - o->r >= 0 && o->cx + o->r <= S && o->cy + o->r <= S;
            border += !inside;
            if (inside) { /* the documented vertex counts */
                static const int fixed[6] = {0, 4, 3, 10, 0, 12};
                int want = o->cls == 0   ? circle_points(o->r)
                           : o->cls == 4 ? circle_points(o->r) + circle_points(o->r * 0.55) + 2
                                         : fixed[o->cls];
                bad_count += np != want;
            }
            /* cv2.fillPoly fills every pixel the outline touches: the painted
             * pixels (coverage > 0) are its match, and it must hold all of
             * the shape's at least half-covered pixels */
            float core = covered(raster, drawn, (size_t)S * S, 128);
            worst_core = core < worst_core ? core : worst_core;
            CHECK(core >= 0.99f, "%s row %d (class %d): %.3f of the half-covered pixels in the raster", p1, r, cls,
                  core);
            if (x1 - x0 + 1 >= 16 && y1 - y0 + 1 >= 16) {
                checked++;
                worst = best < worst ? best : worst;
                CHECK(best >= 0.9f, "%s row %d (class %d, r %.1f, %s): IoU %.3f with the drawn pixels", p1, r, cls,
                      o->r, inside ? "inside" : "on the border", best);
            } else {
                below++;
            }
        }
        free(rows);
        cy_polygons_free(&seg);
    }
    printf("segment rows %d: %d of >= 16 px (worst IoU %.3f), %d smaller, %d on the border, %d shapes unlabelled; "
           "at least %.3f of the half-covered pixels rasterised\n",
           rows_total, checked, worst, below, border, lost, worst_core);
    CHECK(checked >= 40 && border >= 3, "enough shapes checked: %d, %d on the border", checked, border);
    CHECK(bad_pts == 0, "%d points outside [0, 1]", bad_pts);
    CHECK(bad_count == 0, "%d outlines with another vertex count than documented", bad_count);
    cy_image_free(&im);
    free(drawn), free(raster);
}

/* hand cases: a square cut by the corner, the ring's hole */
static void test_geometry(void) {
    cy_error err = {0};
    double *xy = NULL;
    int n = 0;
    /* corners (10,0) (0,10) (-10,0) (0,-10): the image keeps the triangle (10,0) (0,10) (0,0) */
    cy_synth_object sq = {.cls = 1, .cx = 0, .cy = 0, .r = 10, .a = 0};
    CHECK(cy_synth_polygon(&sq, 64, &xy, &n, &err) == CY_OK && n == 3, "corner square: %d points", n);
    if (n == 3) {
        double want[6] = {10, 0, 0, 10, 0, 0};
        int ok = 1;
        for (int k = 0; k < 6; k++) ok &= fabs(xy[k] - want[k]) < 1e-9;
        CHECK(ok, "corner square clipped to (10,0) (0,10) (0,0): (%g,%g) (%g,%g) (%g,%g)", xy[0], xy[1], xy[2], xy[3],
              xy[4], xy[5]);
    }
    free(xy);
    /* wholly outside: no outline */
    cy_synth_object out = {.cls = 2, .cx = -30, .cy = 20, .r = 10, .a = 1};
    CHECK(cy_synth_polygon(&out, 64, &xy, &n, &err) == CY_OK && n == 0 && xy == NULL, "outside: %d points", n);
    /* a ring: the hole stays empty in cv2.fillPoly's raster, the band is filled */
    cy_synth_object ring = {.cls = 4, .cx = 32, .cy = 32, .r = 24, .a = 0};
    CHECK(cy_synth_polygon(&ring, 64, &xy, &n, &err) == CY_OK && n == circle_points(24) + circle_points(13.2) + 2,
          "ring: %d points", n);
    uint8_t m[64 * 64] = {0}, d[64 * 64];
    float *f = malloc(sizeof(float) * 2 * (size_t)(n > 0 ? n : 1));
    for (int k = 0; k < 2 * n; k++) f[k] = (float)xy[k];
    CHECK(cy_polygon2mask(64, 64, f, n, 1, 1, m, &err) == CY_OK, "%s", err.msg);
    CHECK(m[32 * 64 + 32] == 0 && m[32 * 64 + 40] == 0 && m[32 * 64 + 51] == 1 && m[12 * 64 + 32] == 1 &&
              m[2 * 64 + 2] == 0,
          "ring raster: centre %d, inside the hole %d, band %d %d, corner %d", m[32 * 64 + 32], m[32 * 64 + 40],
          m[32 * 64 + 51], m[12 * 64 + 32], m[2 * 64 + 2]);
    CHECK(cy_synth_object_mask(&ring, 64, d, &err) == CY_OK && d[32 * 64 + 32] == 0 && d[32 * 64 + 51] == 255,
          "ring drawn with its hole");
    float v = iou(m, d, sizeof m, 1);
    CHECK(v >= 0.9f, "ring raster vs drawn: IoU %.3f", v);
    free(f), free(xy);
}

/* data= names: "" per task, the two explicit names, anything else as it is */
static void test_resolve(const char *dir) {
    char out[4096], want[4096], base[600];
    cy_error err = {0};
    snprintf(base, sizeof base, "%s/datasets", dir);
    setenv("CYOLO_DATASETS", base, 1);
    CHECK(cy_resolve_data_task("", "segment", out, sizeof out, &err) == CY_OK, "%s", err.msg);
    snprintf(want, sizeof want, "%s/synth-seg/synth-seg.yaml", base);
    CHECK(!strcmp(out, want) && file_size(out) > 0, "segment built-in: %s", out);
    CHECK(cy_resolve_data_task(NULL, "detect", out, sizeof out, &err) == CY_OK, "%s", err.msg);
    snprintf(want, sizeof want, "%s/synth/synth.yaml", base);
    CHECK(!strcmp(out, want) && file_size(out) > 0, "detect built-in: %s", out);
    CHECK(cy_resolve_data_task("synth-seg.yaml", "detect", out, sizeof out, &err) == CY_OK &&
              strstr(out, "/synth-seg/synth-seg.yaml"),
          "synth-seg.yaml names the segment set: %s", out);
    CHECK(cy_resolve_data_task("synth", "segment", out, sizeof out, &err) == CY_OK && strstr(out, "/synth/synth.yaml"),
          "synth names the detection set: %s", out);
    CHECK(cy_resolve_data_task("my.yaml", "segment", out, sizeof out, &err) == CY_OK && !strcmp(out, "my.yaml"),
          "another name is kept: %s", out);
    unsetenv("CYOLO_DATASETS");
}

int main(void) {
    char dir[] = "/tmp/cyolo_synth_XXXXXX", a[512], b[512], c[512], p1[600], p2[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    cy_synth_params p = {.n_train = 6, .n_val = 3, .imgsz = 96, .max_objects = 5, .seed = 1};
    cy_error err = {0};
    CHECK(cy_synth_generate(a, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_synth_generate(b, &p, &err) == CY_OK, "%s", err.msg);
    p.seed = 2;
    CHECK(cy_synth_generate(c, &p, &err) == CY_OK, "%s", err.msg);
    int labels = 0, bad = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(p1, sizeof p1, "%s/images/train/%06d.jpg", a, i);
        snprintf(p2, sizeof p2, "%s/images/train/%06d.jpg", b, i);
        CHECK(file_size(p1) > 0 && same_file(p1, p2), "image %d identical for one seed", i);
        cy_image im;
        CHECK(cy_image_read(p1, &im, &err) == CY_OK && im.w == 96 && im.h == 96, "image %d readable", i);
        cy_image_free(&im);
        snprintf(p1, sizeof p1, "%s/labels/train/%06d.txt", a, i);
        FILE *f = fopen(p1, "r");
        int cls;
        float x, y, w, h;
        while (f && fscanf(f, "%d %f %f %f %f", &cls, &x, &y, &w, &h) == 5) {
            labels++;
            bad += cls < 0 || cls >= CY_SYNTH_CLASSES || x < 0 || x > 1 || y < 0 || y > 1 || w <= 0 || w > 1 ||
                   h <= 0 || h > 1;
        }
        if (f) fclose(f);
    }
    CHECK(labels >= 6 && bad == 0, "%d labels, %d invalid", labels, bad);
    snprintf(p1, sizeof p1, "%s/images/train/000000.jpg", a);
    snprintf(p2, sizeof p2, "%s/images/train/000000.jpg", c);
    CHECK(!same_file(p1, p2), "another seed gives another image");
    snprintf(p1, sizeof p1, "%s/images/val/000002.jpg", a);
    CHECK(file_size(p1) > 0, "val images");
    snprintf(p1, sizeof p1, "%s/synth.yaml", a);
    struct stat s1, s2;
    stat(p1, &s1);
    p.seed = 1;
    CHECK(cy_synth_generate(a, &p, &err) == CY_OK, "%s", err.msg);
    stat(p1, &s2);
    CHECK(s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec && s1.st_mtim.tv_sec == s2.st_mtim.tv_sec,
          "a complete set is not regenerated");
    /* the detection labels of before segment labels existed (commit 31b2e88) */
    uint64_t hl = hash_labels(a, 6, 3);
    CHECK(hl == DET_LABEL_HASH, "detection labels changed: hash %016llx", (unsigned long long)hl);
    test_segment(dir, a);
    test_geometry();
    test_resolve(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
