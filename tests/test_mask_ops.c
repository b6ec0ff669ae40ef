/* Mask ops against Ultralytics 8.4.190 / torch 2.15 on CPU
 * (tests/fixtures/seg_metrics/op_*.npy, tools/refgen/make_mask_fixture.py):
 * binary masks must match bit for bit, float outputs (logits, resized
 * logits) are reported and held to 1e-6 (the resize is expected exact). */
#include "io/npy.h"
#include "model/mask_ops.h"
#include "test_util.h"

#define FX "tests/fixtures/seg_metrics/"

static cy_npy load(const char *name) {
    char path[512];
    snprintf(path, sizeof path, FX "%s.npy", name);
    cy_npy a = {0};
    cy_error err = {0};
    CHECK(cy_npy_read(path, &a, &err) == CY_OK, "%s: %s", path, err.msg);
    return a;
}

/* count of differing pixels between a uint8 mask and a 0/1 float reference */
static int64_t mask_diff(const uint8_t *m, const cy_npy *ref, int64_t n) {
    int64_t d = 0;
    if (ref->numel != n) return -1;
    for (int64_t i = 0; i < n; i++) d += m[i] != (ref->data[i] != 0);
    return d;
}

static double float_diff(const float *a, const cy_npy *ref, int64_t n, int64_t *nexact) {
    double d = 0;
    *nexact = 0;
    if (ref->numel != n) return INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - ref->data[i]);
        if (!(e <= d)) d = e;
        *nexact += a[i] == ref->data[i];
    }
    return d;
}

static void test_crop(void) {
    cy_npy in = load("op_crop_in"), bx = load("op_crop_boxes"), ref = load("op_crop_out");
    if (!in.data || !bx.data || !ref.data) goto out;
    int n = (int)in.shape[0], h = (int)in.shape[1], w = (int)in.shape[2];
    uint8_t *m = malloc((size_t)in.numel);
    for (int64_t i = 0; i < in.numel; i++) m[i] = in.data[i] != 0;
    cy_error err = {0};
    CHECK(cy_crop_mask(m, n, h, w, bx.data, &err) == CY_OK, "%s", err.msg);
    int64_t d = mask_diff(m, &ref, in.numel);
    printf("  crop_mask: %lld / %lld pixels differ\n", (long long)d, (long long)in.numel);
    CHECK(d == 0, "crop_mask differs in %lld pixels", (long long)d);
    /* box 1 is 9.5..9.75 wide: column 10 only would be >= 9.5 but not < 9.75 -> nothing survives */
    int64_t alive = 0;
    for (int i = 0; i < h * w; i++) alive += m[h * w + i];
    CHECK(alive == 0, "a box narrower than a pixel centre keeps nothing (%lld)", (long long)alive);
    free(m);
out:
    cy_npy_free(&in), cy_npy_free(&bx), cy_npy_free(&ref);
}

static void test_process_mask(void) {
    cy_npy pr = load("op_proto"), co = load("op_coef"), bx = load("op_boxes");
    cy_npy lg = load("op_logits"), pm = load("op_pm"), up = load("op_pm_up");
    if (!pr.data || !co.data || !bx.data || !lg.data || !pm.data || !up.data) goto out;
    int nm = (int)pr.shape[0], mh = (int)pr.shape[1], mw = (int)pr.shape[2], n = (int)co.shape[0];
    cy_error err = {0};
    size_t hw = (size_t)mh * mw, big = (size_t)16 * hw;
    float *logits = malloc((size_t)n * hw * sizeof *logits);
    uint8_t *m = malloc((size_t)n * big);
    CHECK(cy_mask_logits(co.data, n, pr.data, nm, mh, mw, logits, &err) == CY_OK, "%s", err.msg);
    int64_t ex;
    double d = float_diff(logits, &lg, (int64_t)n * hw, &ex);
    double rel = test_max_rel(logits, lg.data, (size_t)n * hw);
    printf("  logits: max |d| %.3g (relative %.3g), %lld / %lld exact\n", d, rel, (long long)ex, (long long)(n * hw));
    CHECK(rel <= 1e-6, "logits relative |d| %g (BLAS summation order differs by ulps)", rel);

    CHECK(cy_process_mask(pr.data, nm, mh, mw, co.data, bx.data, n, 4 * mh, 4 * mw, 0, m, &err) == CY_OK, "%s",
          err.msg);
    int64_t dm = mask_diff(m, &pm, (int64_t)n * hw);
    printf("  process_mask(upsample=False): %lld pixels differ\n", (long long)dm);
    CHECK(dm == 0, "process_mask differs in %lld pixels", (long long)dm);
    int64_t on = 0;
    for (size_t i = 0; i < n * hw; i++) on += m[i];
    CHECK(on > 50 && on < (int64_t)(n * hw) - 50, "process_mask is neither empty nor full (%lld on)", (long long)on);

    CHECK(cy_process_mask(pr.data, nm, mh, mw, co.data, bx.data, n, 4 * mh, 4 * mw, 1, m, &err) == CY_OK, "%s",
          err.msg);
    dm = mask_diff(m, &up, (int64_t)n * big);
    printf("  process_mask(upsample=True): %lld pixels differ\n", (long long)dm);
    CHECK(dm == 0, "process_mask upsampled differs in %lld pixels", (long long)dm);

    const int shapes[3][2] = {{37, 61}, {22, 40}, {20, 40}}; /* upsample f = 4, 2, 1 */
    for (int s = 0; s < 3; s++) {
        char a[64], b[64];
        int h = shapes[s][0], w = shapes[s][1];
        snprintf(a, sizeof a, "op_native_%dx%d", h, w);
        snprintf(b, sizeof b, "op_native_boxes_%dx%d", h, w);
        cy_npy ref = load(a), nb = load(b);
        if (ref.data && nb.data) {
            CHECK(cy_process_mask_native(pr.data, nm, mh, mw, co.data, nb.data, n, h, w, m, &err) == CY_OK, "%s",
                  err.msg);
            dm = mask_diff(m, &ref, (int64_t)n * h * w);
            printf("  process_mask_native %dx%d: %lld pixels differ\n", h, w, (long long)dm);
            CHECK(dm == 0, "process_mask_native %dx%d differs in %lld pixels", h, w, (long long)dm);
        }
        cy_npy_free(&ref), cy_npy_free(&nb);
    }
    /* no detections: nothing to write, still OK */
    CHECK(cy_process_mask(pr.data, nm, mh, mw, co.data, bx.data, 0, 48, 80, 1, m, &err) == CY_OK, "n = 0");
    free(logits), free(m);
out:
    cy_npy_free(&pr), cy_npy_free(&co), cy_npy_free(&bx), cy_npy_free(&lg), cy_npy_free(&pm), cy_npy_free(&up);
}

static void test_scale_masks(void) {
    cy_npy lg = load("op_logits"), pm = load("op_pm");
    if (!lg.data || !pm.data) goto out;
    int n = (int)lg.shape[0], ih = (int)lg.shape[1], iw = (int)lg.shape[2];
    cy_error err = {0};
    struct {
        const char *name;
        int oh, ow, padding;
        cy_ratio_pad rp;
        int has_rp;
    } cases[] = {
        {"op_scale_auto", 37, 61, 1, {0, 0, 0, 0}, 0},
        {"op_scale_rp", 25, 51, 1, {0.4, 0.4, 0.0, 0.9}, 1},
        {"op_scale_nopad", 30, 33, 0, {0, 0, 0, 0}, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        cy_npy ref = load(cases[c].name);
        if (!ref.data) continue;
        size_t no = (size_t)n * cases[c].oh * cases[c].ow;
        float *o = malloc(no * sizeof *o);
        CHECK(cy_scale_masks(lg.data, n, ih, iw, o, cases[c].oh, cases[c].ow, cases[c].has_rp ? &cases[c].rp : NULL,
                             cases[c].padding, &err) == CY_OK,
              "%s: %s", cases[c].name, err.msg);
        int64_t ex;
        double d = float_diff(o, &ref, (int64_t)no, &ex);
        printf("  %s: max |d| %.3g, %lld / %zu bit-exact\n", cases[c].name, d, (long long)ex, no);
        CHECK(d <= 1e-6, "%s max |d| %g", cases[c].name, d);
        CHECK(ex == (int64_t)no, "%s: torch's bilinear reproduced bit for bit", cases[c].name);
        int64_t flips = 0; /* the threshold a predictor applies */
        for (size_t i = 0; i < no; i++) flips += (o[i] > 0) != (ref.data[i] > 0);
        CHECK(flips == 0, "%s: %lld sign flips", cases[c].name, (long long)flips);
        free(o);
        cy_npy_free(&ref);
    }
    /* binary masks resized and truncated by .byte(): only exact 1.0 survives */
    cy_npy ref = load("op_scale_bin");
    if (ref.data) {
        size_t no = (size_t)n * 37 * 61;
        float *o = malloc(no * sizeof *o);
        uint8_t *b = malloc(no);
        CHECK(cy_scale_masks(pm.data, n, ih, iw, o, 37, 61, NULL, 1, &err) == CY_OK, "%s", err.msg);
        for (size_t i = 0; i < no; i++) b[i] = (uint8_t)o[i];
        int64_t dm = mask_diff(b, &ref, (int64_t)no);
        printf("  scale_masks(binary).byte(): %lld pixels differ\n", (long long)dm);
        CHECK(dm == 0, "scale_masks binary differs in %lld pixels", (long long)dm);
        free(o), free(b);
    }
    cy_npy_free(&ref);
    float one = 1, out1;
    CHECK(cy_scale_masks(&one, 1, 1, 1, &out1, 1, 1, NULL, 1, &err) == CY_OK && out1 == 1, "equal sizes copy");
out:
    cy_npy_free(&lg), cy_npy_free(&pm);
}

static void test_resize_exact(void) {
    /* x4 upsampling of a step: weights 1/8, 3/8, 5/8, 7/8 are exact, so the
     * values are too (torch: 0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1) */
    float in[2] = {0, 1}, out[8];
    cy_error err = {0};
    CHECK(cy_resize_bilinear(in, 1, 1, 2, out, 1, 8, 0, &err) == CY_OK, "%s", err.msg);
    const float want[8] = {0, 0, 0.125f, 0.375f, 0.625f, 0.875f, 1, 1};
    for (int i = 0; i < 8; i++) CHECK(out[i] == want[i], "x4 step [%d] %g vs %g", i, out[i], want[i]);
    CHECK(cy_resize_bilinear(in, 1, 1, 2, out, 1, 7, 4.0, &err) == CY_ERR_ARG, "scale_factor size mismatch refused");
}

int main(void) {
    test_crop();
    test_process_mask();
    test_scale_masks();
    test_resize_exact();
    return test_summary();
}
