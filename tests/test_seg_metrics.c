/* Segmentation metrics against Ultralytics 8.4.190 (tests/fixtures/seg_metrics,
 * tools/refgen/make_mask_fixture.py): mask_iou on fixed masks; then three
 * validation runs of 5 images (nc 3; an image without labels, one without
 * predictions, a label crossing the border) through SegmentationValidator's
 * gt masks, pred masks, box and mask TP tables and SegmentMetrics:
 *   overlap   overlap_mask=True, process_mask (masks at imgsz / 4)
 *   instance  overlap_mask=False, 24x36 instance masks resized to 16x24
 *   native    overlap_mask=True, process_mask_native (masks at imgsz)
 * TP tables must be equal, the 8 results and fitness within 1e-6. */
#include <cjson/cJSON.h>
#include "engine/metrics.h"
#include "io/npy.h"
#include "model/mask_ops.h"
#include "test_util.h"

#define FX "tests/fixtures/seg_metrics/"
#define TOL 1e-6

static cy_npy load(const char *name) {
    char path[512];
    snprintf(path, sizeof path, FX "%s.npy", name);
    cy_npy a = {0};
    cy_error err = {0};
    CHECK(cy_npy_read(path, &a, &err) == CY_OK, "%s: %s", path, err.msg);
    return a;
}

static void test_mask_iou(void) {
    cy_npy a = load("op_iou_a"), b = load("op_iou_b"), ref = load("op_iou");
    if (!a.data || !b.data || !ref.data) goto out;
    int na = (int)a.shape[0], nb = (int)b.shape[0];
    int64_t np_ = a.shape[1];
    uint8_t *ma = malloc((size_t)a.numel), *mb = malloc((size_t)b.numel);
    for (int64_t i = 0; i < a.numel; i++) ma[i] = a.data[i] != 0;
    for (int64_t i = 0; i < b.numel; i++) mb[i] = b.data[i] != 0;
    float iou[64];
    cy_error err = {0};
    CHECK(na * nb <= 64 && cy_mask_iou_f32(ma, na, mb, nb, np_, iou, &err) == CY_OK, "%s", err.msg);
    double worst = 0;
    for (int i = 0; i < na * nb; i++) {
        double d = fabs((double)iou[i] - ref.data[i]);
        if (!(d <= worst)) worst = d;
    }
    printf("  mask_iou: max |d| %.3g over %dx%d\n", worst, na, nb);
    CHECK(worst <= TOL, "mask_iou max |d| %g", worst);
    CHECK(iou[1 * nb + 2] > 0.9999f && iou[1 * nb + 2] <= 1.0f, "identical masks: IoU %.9g", iou[1 * nb + 2]);
    CHECK(iou[4 * nb + 0] == 0.0f, "empty gt mask: IoU 0");
    free(ma), free(mb);
out:
    cy_npy_free(&a), cy_npy_free(&b), cy_npy_free(&ref);
}

/* greedy (8.4.190) and unique (8.4.37) matching part ways when a later
 * prediction overlaps a gt better than the earlier one that claimed it */
static void test_greedy_match(void) {
    cy_error err = {0};
    int pcls[2] = {0, 0}, gcls[2] = {0, 0};
    /* iou[gt][pred]: pred 0 sees gt0 0.6, gt1 0.7; pred 1 sees gt0 0.55, gt1 0.9 */
    float iou[4] = {0.6f, 0.55f, 0.7f, 0.9f};
    uint8_t g[2 * CY_NIOU], u[2 * CY_NIOU];
    CHECK(cy_match_predictions_greedy(pcls, 2, gcls, 2, iou, g, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_match_predictions(pcls, 2, gcls, 2, iou, u, &err) == CY_OK, "%s", err.msg);
    /* greedy at 0.5: pred 0 takes gt1 (0.7), pred 1 falls back on gt0 (0.55): two TPs */
    CHECK(g[0] == 1 && g[CY_NIOU] == 1, "greedy 0.5: %d %d", g[0], g[CY_NIOU]);
    /* greedy at 0.75: pred 0 has nothing >= 0.75, pred 1 takes gt1 */
    CHECK(g[5] == 0 && g[CY_NIOU + 5] == 1, "greedy 0.75: %d %d", g[5], g[CY_NIOU + 5]);
    /* unique at 0.5: both predictions' best is gt1, which keeps pred 0: one TP */
    CHECK(u[0] + u[CY_NIOU] == 1, "unique 0.5: %d %d", u[0], u[CY_NIOU]);
}

typedef struct {
    const char *name;
    int overlap, native;
} run_cfg;

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_run(const run_cfg *cfg, const cJSON *ref) {
    cy_npy proto = load("e2e_proto"), pred = load("e2e_pred"), gt = load("e2e_gt");
    cy_npy ovl = load("e2e_overlap"), inst = load("e2e_inst"), inst_r = load("e2e_inst_resized");
    cy_error err = {0};
    cy_seg_stats *s = NULL;
    if (!proto.data || !pred.data || !gt.data || !ovl.data || !inst.data || !inst_r.data || !ref) goto out;
    int B = (int)proto.shape[0], nm = (int)proto.shape[1], mh = (int)proto.shape[2], mw = (int)proto.shape[3];
    int H = 4 * mh, W = 4 * mw, mhh = cfg->native ? H : mh, mww = cfg->native ? W : mw;
    int ih = (int)inst.shape[1], iw = (int)inst.shape[2];
    size_t hw = (size_t)mhh * mww;
    int P = (int)pred.shape[0], N = (int)gt.shape[0], PC = (int)pred.shape[1];
    CHECK(cy_seg_stats_create(&s, 3, NULL, &err) == CY_OK, "%s", err.msg);
    uint8_t *pm = malloc((size_t)P * hw + 1), *gm = malloc((size_t)N * hw + 1);
    float *dets = malloc((size_t)(P + 1) * 6 * sizeof *dets), *coef = malloc((size_t)(P + 1) * nm * sizeof *coef);
    float *boxes = malloc((size_t)(N + 1) * 4 * sizeof *boxes);
    int *cls = malloc((size_t)(N + 1) * sizeof *cls);
    const cJSON *area = cJSON_GetObjectItemCaseSensitive(ref, "gt_mask_area");
    int64_t resized_diff = 0, area_bad = 0, tp_bad[2] = {0, 0}, tp_on = 0;
    const cJSON *tp_ref[2] = {cJSON_GetObjectItemCaseSensitive(ref, "tp"), cJSON_GetObjectItemCaseSensitive(ref, "tp_m")};
    CHECK(cJSON_GetArraySize(tp_ref[0]) == P && cJSON_GetArraySize(tp_ref[1]) == P, "%s: TP rows", cfg->name);
    int p0 = 0, g0 = 0;
    for (int b = 0; b < B; b++) {
        int np_ = 0, ng = 0;
        while (p0 + np_ < P && (int)pred.data[(size_t)(p0 + np_) * PC] == b) {
            const float *r = pred.data + (size_t)(p0 + np_) * PC;
            memcpy(dets + 6 * np_, r + 1, 6 * sizeof *dets);
            memcpy(coef + (size_t)np_ * nm, r + 7, (size_t)nm * sizeof *coef);
            np_++;
        }
        while (g0 + ng < N && (int)gt.data[(size_t)(g0 + ng) * 6] == b) {
            const float *r = gt.data + (size_t)(g0 + ng) * 6;
            cls[ng] = (int)r[1];
            memcpy(boxes + 4 * ng, r + 2, 4 * sizeof *boxes);
            ng++;
        }
        /* pred masks: as postprocess, from the dets' boxes at imgsz */
        float box4[4 * 64];
        CHECK(np_ <= 64, "fixture size");
        for (int d = 0; d < np_; d++) memcpy(box4 + 4 * d, dets + 6 * d, 4 * sizeof *box4);
        const float *pr = proto.data + (size_t)b * nm * mh * mw;
        cy_status st = cfg->native
                           ? cy_process_mask_native(pr, nm, mh, mw, coef, box4, np_, H, W, pm, &err)
                           : cy_process_mask(pr, nm, mh, mw, coef, box4, np_, H, W, 0, pm, &err);
        CHECK(st == CY_OK, "%s: pred masks: %s", cfg->name, err.msg);
        /* gt masks */
        if (cfg->overlap)
            st = cy_seg_gt_masks(ovl.data + (size_t)b * mh * mw, 1, ng, mh, mw, mhh, mww, gm, &err);
        else
            st = cy_seg_gt_masks(inst.data + (size_t)g0 * ih * iw, 0, ng, ih, iw, mhh, mww, gm, &err);
        CHECK(st == CY_OK, "%s: gt masks: %s", cfg->name, err.msg);
        if (!cfg->overlap)
            for (size_t k = 0; k < (size_t)ng * hw; k++) resized_diff += gm[k] != (inst_r.data[g0 * hw + k] != 0);
        for (int k = 0; k < ng; k++) {
            int64_t a = 0;
            for (size_t q = 0; q < hw; q++) a += gm[k * hw + q];
            area_bad += (double)a != cJSON_GetArrayItem(area, g0 + k)->valuedouble;
        }
        /* the per-image TP tables, against the validator's rows */
        uint8_t tpb[64 * CY_NIOU], tpm[64 * CY_NIOU];
        int pc[64];
        float biou[64 * 64];
        for (int d = 0; d < np_; d++) pc[d] = (int)dets[6 * d + 5];
        CHECK(ng <= 64, "fixture size");
        cy_box_iou_f32(boxes, ng, box4, np_, biou);
        CHECK(cy_match_predictions_greedy(pc, np_, cls, ng, biou, tpb, &err) == CY_OK, "%s", err.msg);
        if (!ng) memset(tpb, 0, sizeof tpb);
        CHECK(cy_seg_correct(pm, pc, np_, gm, cls, ng, (int64_t)hw, CY_MATCH_GREEDY, tpm, &err) == CY_OK, "%s",
              err.msg);
        for (int d = 0; d < np_; d++)
            for (int t = 0; t < CY_NIOU; t++) {
                int rb = cJSON_GetArrayItem(cJSON_GetArrayItem(tp_ref[0], p0 + d), t)->valueint;
                int rm = cJSON_GetArrayItem(cJSON_GetArrayItem(tp_ref[1], p0 + d), t)->valueint;
                tp_bad[0] += tpb[d * CY_NIOU + t] != rb, tp_bad[1] += tpm[d * CY_NIOU + t] != rm;
                tp_on += rm;
            }
        CHECK(cy_seg_stats_add(s, dets, pm, np_, boxes, cls, gm, ng, mhh, mww, &err) == CY_OK, "%s: %s", cfg->name,
              err.msg);
        p0 += np_, g0 += ng;
    }
    CHECK(p0 == P && g0 == N, "all rows used");
    CHECK(resized_diff == 0, "%s: resized gt masks differ in %lld pixels", cfg->name, (long long)resized_diff);
    CHECK(area_bad == 0, "%s: %lld gt mask areas differ", cfg->name, (long long)area_bad);
    cy_seg_metrics m;
    CHECK(cy_seg_stats_compute(s, &m, &err) == CY_OK, "%s", err.msg);
    printf("  %s: box TP entries differing %lld, mask TP entries differing %lld (%lld mask TPs)\n", cfg->name,
           (long long)tp_bad[0], (long long)tp_bad[1], (long long)tp_on);
    CHECK(tp_bad[0] == 0 && tp_bad[1] == 0, "%s: TP tables differ (box %lld, mask %lld)", cfg->name,
          (long long)tp_bad[0], (long long)tp_bad[1]);
    CHECK(tp_on > 10, "%s: mask TPs exist", cfg->name);
    double res[CY_SEG_NKEYS + 1], worst = 0;
    cy_seg_metrics_results(&m, res);
    printf("  %s:\n", cfg->name);
    for (int k = 0; k <= CY_SEG_NKEYS; k++) {
        double r = num(ref, cy_seg_metric_keys[k]), d = fabs(res[k] - r);
        if (!(d <= worst)) worst = d;
        printf("    %-22s %.12f  ref %.12f\n", cy_seg_metric_keys[k], res[k], r);
        CHECK(d <= TOL, "%s %s: %.17g vs %.17g", cfg->name, cy_seg_metric_keys[k], res[k], r);
    }
    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(ref, "keys");
    for (int k = 0; k < CY_SEG_NKEYS; k++)
        CHECK(cJSON_IsString(cJSON_GetArrayItem(keys, k)) &&
                  !strcmp(cJSON_GetArrayItem(keys, k)->valuestring, cy_seg_metric_keys[k]),
              "key %d is %s", k, cy_seg_metric_keys[k]);
    CHECK(m.mask.map > 0.05 && m.box.map > 0.05, "%s: the fixture scores something", cfg->name);
    printf("    max |d| %.3g\n", worst);
    cy_seg_metrics_free(&m);
    free(pm), free(gm), free(dets), free(coef), free(boxes), free(cls);
out:
    cy_seg_stats_free(s);
    cy_npy_free(&proto), cy_npy_free(&pred), cy_npy_free(&gt), cy_npy_free(&ovl), cy_npy_free(&inst),
        cy_npy_free(&inst_r);
}

int main(void) {
    test_mask_iou();
    test_greedy_match();
    char *text = NULL;
    FILE *f = fopen(FX "seg_metrics.json", "rb");
    CHECK(f != NULL, "cannot open seg_metrics.json");
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        text = calloc((size_t)n + 1, 1);
        if (fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = 0;
        fclose(f);
    }
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(root != NULL, "seg_metrics.json parses");
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(root, "runs");
    const run_cfg cfgs[3] = {{"overlap", 1, 0}, {"instance", 0, 0}, {"native", 1, 1}};
    for (int i = 0; i < 3; i++) test_run(&cfgs[i], cJSON_GetObjectItemCaseSensitive(runs, cfgs[i].name));
    cJSON_Delete(root);
    return test_summary();
}
