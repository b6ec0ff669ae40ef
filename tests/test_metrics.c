/* Detection metrics against Ultralytics 8.4.37 (c7_metrics.json: predictions
 * and labels of a 3-image, 3-class synthetic set, with the numbers
 * DetectionValidator / DetMetrics produced), plus hand cases of compute_ap,
 * matching and the confusion matrix.
 *
 * The json also holds pycocotools' numbers for the same set; this test checks
 * Ultralytics' ones (to 1e-6), not COCO's. They differ because:
 *  - COCO averages the 101 interpolated precisions (a perfect class scores
 *    1.0), Ultralytics integrates them with np.trapezoid, whose last sample
 *    (recall 1, precision 0 from the sentinel) halves the final step: a
 *    perfect class scores 0.995. Here AP50 of classes a and b: COCO 1.0,
 *    Ultralytics 0.995; mAP50 0.7772 vs 0.7742, mAP50-95 0.4492 vs 0.4488.
 *  - COCO matches per image greedily by score with crowd/area rules and
 *    caps detections per image (maxDets); Ultralytics matches per IoU
 *    threshold by IoU (match_predictions) with no cap. On this set both
 *    matchings agree; the gap is the integration rule alone.
 *  - Ultralytics' P and R are read off interpolated confidence curves at the
 *    smoothed max-F1 point; COCO reports AR at fixed maxDets instead. */
#include <cjson/cJSON.h>
#include <time.h>
#include "engine/metrics.h"
#include "engine/validate.h"
#include "test_ref.h"

#define TOL 1e-6

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void test_reference(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/c7_metrics.json", ref_dir());
    char *text = test_slurp(path);
    CHECK(text != NULL, "cannot read %s", path);
    if (!text) return;
    cJSON *root = cJSON_Parse(text);
    free(text);
    CHECK(root != NULL, "c7_metrics.json does not parse");
    if (!root) return;
    int nc = (int)num(root, "nc");
    const cJSON *thr = cJSON_GetObjectItemCaseSensitive(root, "iou_thresholds");
    CHECK(cJSON_GetArraySize(thr) == CY_NIOU, "10 IoU thresholds");
    for (int i = 0; i < CY_NIOU && i < cJSON_GetArraySize(thr); i++)
        CHECK((double)cy_iouv[i] == cJSON_GetArrayItem(thr, i)->valuedouble, "iouv[%d] %.17g vs %.17g", i,
              (double)cy_iouv[i], cJSON_GetArrayItem(thr, i)->valuedouble);

    cy_det_stats *s = NULL;
    cy_error err = {0};
    CHECK(cy_det_stats_create(&s, nc, NULL, &err) == CY_OK, "%s", err.msg);
    const cJSON *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItemCaseSensitive(root, "images")) {
        const cJSON *gt = cJSON_GetObjectItemCaseSensitive(img, "gt");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(img, "pred");
        int ng = cJSON_GetArraySize(gt), np_ = cJSON_GetArraySize(pr);
        float *boxes = malloc((size_t)(ng + 1) * 4 * sizeof *boxes);
        int *cls = malloc((size_t)(ng + 1) * sizeof *cls);
        float *dets = malloc((size_t)(np_ + 1) * 6 * sizeof *dets);
        for (int g = 0; g < ng; g++) { /* [cls, x1, y1, x2, y2] */
            const cJSON *row = cJSON_GetArrayItem(gt, g);
            cls[g] = cJSON_GetArrayItem(row, 0)->valueint;
            for (int k = 0; k < 4; k++) boxes[4 * g + k] = (float)cJSON_GetArrayItem(row, 1 + k)->valuedouble;
        }
        for (int d = 0; d < np_; d++) { /* [x1, y1, x2, y2, conf, cls] */
            const cJSON *row = cJSON_GetArrayItem(pr, d);
            for (int k = 0; k < 6; k++) dets[6 * d + k] = (float)cJSON_GetArrayItem(row, k)->valuedouble;
        }
        CHECK(cy_det_stats_add(s, dets, np_, boxes, cls, ng, &err) == CY_OK, "%s", err.msg);
        free(boxes), free(cls), free(dets);
    }
    cy_det_metrics m;
    CHECK(cy_det_stats_compute(s, &m, &err) == CY_OK, "%s", err.msg);

    const cJSON *ul = cJSON_GetObjectItemCaseSensitive(root, "ultralytics");
    const cJSON *ov = cJSON_GetObjectItemCaseSensitive(ul, "overall");
    struct { const char *key; double mine; } o[] = {
        {"metrics/precision(B)", m.mp}, {"metrics/recall(B)", m.mr}, {"metrics/mAP50(B)", m.map50},
        {"metrics/mAP50-95(B)", m.map}, {"fitness", m.fitness}};
    double worst = 0;
    for (size_t i = 0; i < sizeof o / sizeof *o; i++) {
        double ref = num(ov, o[i].key), d = fabs(o[i].mine - ref);
        if (!(d <= worst)) worst = d;
        printf("  %-22s %.17g  ref %.17g  |d| %.3g\n", o[i].key, o[i].mine, ref, d);
        CHECK(d <= TOL, "%s: %.17g vs %.17g", o[i].key, o[i].mine, ref);
    }
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(ul, "per_class");
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(root, "names");
    CHECK(m.n_ap == cJSON_GetArraySize(pc), "classes with labels: %d", m.n_ap);
    for (int a = 0; a < m.n_ap; a++) {
        char id[16];
        snprintf(id, sizeof id, "%d", m.ap_class[a]);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(names, id);
        const cJSON *c = nm ? cJSON_GetObjectItemCaseSensitive(pc, nm->valuestring) : NULL;
        CHECK(c != NULL, "class %d in the reference", m.ap_class[a]);
        if (!c) continue;
        double mine[4] = {m.p[a], m.r[a], m.ap50[a], m.ap5095[a]};
        const char *keys[4] = {"P", "R", "mAP50", "mAP50-95"};
        for (int k = 0; k < 4; k++) {
            double ref = num(c, keys[k]), d = fabs(mine[k] - ref);
            if (!(d <= worst)) worst = d;
            CHECK(d <= TOL, "class %s %s: %.17g vs %.17g", nm->valuestring, keys[k], mine[k], ref);
        }
        const cJSON *api = cJSON_GetObjectItemCaseSensitive(c, "AP_per_iou");
        for (int j = 0; j < CY_NIOU; j++) {
            double ref = cJSON_GetArrayItem(api, j)->valuedouble, d = fabs(m.ap[a * CY_NIOU + j] - ref);
            if (!(d <= worst)) worst = d;
            CHECK(d <= TOL, "class %s AP[%d]: %.17g vs %.17g", nm->valuestring, j, m.ap[a * CY_NIOU + j], ref);
        }
        printf("  class %s: P %.6f R %.6f AP50 %.6f AP75 %.6f AP50-95 %.6f\n", nm->valuestring, m.p[a],
               m.r[a], m.ap50[a], m.ap75[a], m.ap5095[a]);
    }
    printf("  max |difference| vs Ultralytics: %.3g (max-F1 index %d)\n", worst, m.best_index);
    const cJSON *coco = cJSON_GetObjectItemCaseSensitive(root, "pycocotools");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(coco, "stats");
    if (cJSON_GetArraySize(st) >= 2)
        printf("  pycocotools (not checked): mAP50-95 %.6f mAP50 %.6f\n", cJSON_GetArrayItem(st, 0)->valuedouble,
               cJSON_GetArrayItem(st, 1)->valuedouble);
    /* conf > 0.25, IoU > 0.45, worked out by hand: img0's label a (50, 60,
     * 200, 220) goes to the exact class-b box (IoU 1), leaving the two a boxes
     * on it as FPs; the c predictions at 0.65 and 0.35 miss, the one at 0.2
     * is below conf. */
    const int64_t *cm = cy_det_stats_confusion(s);
    const int64_t want_cm[16] = {2, 0, 0, 3, /**/ 1, 3, 0, 1, /**/ 0, 0, 1, 2, /**/ 0, 0, 2, 0};
    CHECK(nc == 3, "nc 3");
    printf("  confusion matrix (rows predicted, cols true, last = background):\n");
    for (int i = 0; i <= nc; i++) {
        printf("   ");
        for (int j = 0; j <= nc; j++) {
            printf(" %lld", (long long)cm[i * (nc + 1) + j]);
            if (nc == 3) CHECK(cm[i * 4 + j] == want_cm[i * 4 + j], "c7 confusion [%d][%d]", i, j);
        }
        printf("\n");
    }
    cy_det_metrics_free(&m);
    cy_det_stats_free(s);
    cJSON_Delete(root);
}

static void test_compute_ap(void) {
    /* perfect: every prediction a TP, 4 labels. Ultralytics' trapezoid gives
     * 0.995 (COCO's mean of the 101 samples would give 1.0). */
    double r[4] = {0.25, 0.5, 0.75, 1.0}, p[4] = {1, 1, 1, 1};
    double ap = cy_compute_ap(r, p, 4);
    CHECK(fabs(ap - 0.995) < 1e-12, "perfect AP %.17g", ap);
    /* one FP, then one TP (1 label): envelope 0.5 up to recall 1 */
    double r2[2] = {0, 1}, p2[2] = {0, 0.5};
    ap = cy_compute_ap(r2, p2, 2);
    CHECK(fabs(ap - 0.4975) < 1e-12, "FP then TP: AP %.17g", ap);
    /* only FPs */
    double r3[3] = {0, 0, 0}, p3[3] = {0, 0, 0};
    ap = cy_compute_ap(r3, p3, 3);
    CHECK(ap == 0.0, "all FP: AP %.17g", ap);
    /* half the labels found at precision 1: 8.4's extra sentinel
     * (recall[-1], 0) drops the curve to 0 at recall 0.5 (8.3 ramped it
     * linearly to (1, 0)): 49 full steps + half a step = 0.495 */
    double r4[1] = {0.5}, p4[1] = {1};
    ap = cy_compute_ap(r4, p4, 1);
    CHECK(fabs(ap - 0.495) < 1e-12, "half recall: AP %.17g", ap);

    /* through ap_per_class: a perfect detector scores 0.995 at every
     * threshold; a class with labels and no predictions scores 0 and still
     * counts in the means; no predictions at all -> all 0 */
    cy_error err = {0};
    cy_det_metrics m;
    uint8_t tp[3 * CY_NIOU];
    memset(tp, 1, sizeof tp);
    float conf[3] = {0.9f, 0.8f, 0.7f};
    int pcls[3] = {0, 0, 0}, tcls[4] = {0, 0, 0, 1};
    CHECK(cy_ap_per_class(tp, conf, pcls, 3, tcls, 3, NULL, 0, 2, &m, &err) == CY_OK, "%s", err.msg);
    CHECK(m.n_ap == 1, "one labelled class");
    for (int j = 0; j < CY_NIOU; j++) CHECK(fabs(m.ap[j] - 0.995) < 1e-12, "perfect AP[%d] %.17g", j, m.ap[j]);
    CHECK(fabs(m.map - 0.995) < 1e-12 && m.mp == 1.0 && m.mr == 1.0, "perfect map %g P %g R %g", m.map, m.mp, m.mr);
    cy_det_metrics_free(&m);
    CHECK(cy_ap_per_class(tp, conf, pcls, 3, tcls, 4, NULL, 0, 2, &m, &err) == CY_OK, "%s", err.msg);
    CHECK(m.n_ap == 2 && m.ap[CY_NIOU] == 0.0 && fabs(m.map - 0.995 / 2) < 1e-12, "unfound class: map %.17g", m.map);
    CHECK(m.maps[1] == 0.0 && fabs(m.maps[0] - 0.995) < 1e-12, "maps");
    cy_det_metrics_free(&m);
    CHECK(cy_ap_per_class(tp, conf, pcls, 0, tcls, 4, NULL, 0, 2, &m, &err) == CY_OK, "%s", err.msg);
    CHECK(m.map == 0.0 && m.map50 == 0.0 && m.mp == 0.0 && m.mr == 0.0 && m.fitness == 0.0, "no predictions: all 0");
    cy_det_metrics_free(&m);
    CHECK(cy_ap_per_class(tp, conf, pcls, 3, tcls, 0, NULL, 0, 2, &m, &err) == CY_OK, "%s", err.msg);
    CHECK(m.n_ap == 0 && m.map == 0.0 && m.fitness == 0.0, "no labels: all 0");
    cy_det_metrics_free(&m);
    int bad = 5;
    CHECK(cy_ap_per_class(tp, conf, &bad, 1, tcls, 1, NULL, 0, 2, &m, &err) == CY_ERR_ARG, "class out of range refused");
}

static void test_interp(void) {
    /* numpy: np.interp([0, 0.5, 1, 1.5, -1], [0, 0, 1, 1], [1, 2, 3, 4]) = [2, 2.5, 4, 4, 1] */
    double xp[4] = {0, 0, 1, 1}, fp[4] = {1, 2, 3, 4}, x[5] = {0, 0.5, 1, 1.5, -1}, y[5];
    cy_interp(x, 5, xp, fp, 4, fp[0], fp[3], y);
    CHECK(y[0] == 2 && y[1] == 2.5 && y[2] == 4 && y[3] == 4 && y[4] == 1, "interp %g %g %g %g %g", y[0], y[1],
          y[2], y[3], y[4]);
}

static void test_matching(void) {
    cy_error err = {0};
    float gt[4] = {0, 0, 100, 100};
    int gcls[1] = {0};
    /* two detections of one gt, in confidence order: IoU 0.7 then 0.9.
     * Each prediction's best gt is the same, and the gt keeps the first
     * prediction (np.unique over the prediction-ordered list): exactly one
     * TP per threshold — the first while it passes, the other above it. */
    float pb[8] = {0, 0, 100, 70, 0, 0, 100, 90};
    int pcls[2] = {0, 0};
    float iou[2];
    cy_box_iou_f32(gt, 1, pb, 2, iou);
    uint8_t c[2 * CY_NIOU];
    CHECK(cy_match_predictions(pcls, 2, gcls, 1, iou, c, &err) == CY_OK, "%s", err.msg);
    for (int t = 0; t < CY_NIOU; t++) {
        CHECK(c[t] + c[CY_NIOU + t] <= 1, "one TP per gt at threshold %d", t);
        int want0 = iou[0] >= cy_iouv[t], want1 = !want0 && iou[1] >= cy_iouv[t];
        CHECK(c[t] == want0 && c[CY_NIOU + t] == want1, "threshold %d: %d %d", t, c[t], c[CY_NIOU + t]);
    }
    /* an exact box of another class never matches */
    float same[4] = {0, 0, 100, 100};
    int other[1] = {1};
    cy_box_iou_f32(gt, 1, same, 1, iou);
    CHECK(cy_match_predictions(other, 1, gcls, 1, iou, c, &err) == CY_OK, "%s", err.msg);
    int any = 0;
    for (int t = 0; t < CY_NIOU; t++) any |= c[t];
    CHECK(!any && iou[0] > 0.99f, "class mismatch never matches");
    /* two gts, two predictions each best on its own gt: both TP */
    float gt2[8] = {0, 0, 100, 100, 200, 200, 300, 300};
    int gcls2[2] = {0, 0};
    float pb2[8] = {200, 200, 300, 300, 0, 0, 100, 98};
    float iou2[4];
    cy_box_iou_f32(gt2, 2, pb2, 2, iou2);
    CHECK(cy_match_predictions(pcls, 2, gcls2, 2, iou2, c, &err) == CY_OK, "%s", err.msg);
    CHECK(c[0] && c[CY_NIOU] && c[9] && c[CY_NIOU + 9], "two gts, two TPs");
}

static void test_confusion(void) {
    cy_error err = {0};
    enum { NC = 2, W = NC + 1 };
    int64_t cm[W * W] = {0};
    float gt[12] = {0, 0, 100, 100, 200, 0, 300, 100, 400, 400, 450, 450};
    int gcls[3] = {0, 1, 0};
    float dets[5 * 6] = {
        2, 0, 100, 100, 0.9f, 0,       /* on gt0, right class: [0][0] */
        200, 0, 300, 105, 0.8f, 0,     /* on gt1 (class 1), says 0: [0][1] */
        600, 600, 650, 650, 0.7f, 1,   /* nothing there: FP [1][bg] */
        0, 0, 100, 100, 0.1f, 0,       /* below conf 0.25: ignored */
        0, 0, 100, 80, 0.6f, 1,        /* second, weaker box on gt0: FP [1][bg] */
    };
    CHECK(cy_confusion_process_batch(cm, NC, dets, 5, gt, gcls, 3, 0.25f, 0.45f, &err) == CY_OK, "%s", err.msg);
    int64_t want[W * W] = {1, 1, 0, /* */ 0, 0, 2, /* */ 1, 0, 0}; /* gt2 unmatched: [bg][0] */
    /* an image without labels: detections above conf are FPs */
    float d2[12] = {0, 0, 10, 10, 0.5f, 1, 0, 0, 10, 10, 0.2f, 0};
    CHECK(cy_confusion_process_batch(cm, NC, d2, 2, NULL, NULL, 0, 0.25f, 0.45f, &err) == CY_OK, "%s", err.msg);
    want[1 * W + NC]++;
    /* an image without detections: every label is background */
    int g3[1] = {1};
    CHECK(cy_confusion_process_batch(cm, NC, NULL, 0, gt, g3, 1, 0.25f, 0.45f, &err) == CY_OK, "%s", err.msg);
    want[NC * W + 1]++;
    for (int i = 0; i < W * W; i++)
        CHECK(cm[i] == want[i], "confusion [%d][%d] = %lld, want %lld", i / W, i % W, (long long)cm[i],
              (long long)want[i]);
    CHECK(cy_confusion_conf(0.001f) == 0.25f && cy_confusion_conf(0.5f) == 0.5f, "val conf 0.001 -> 0.25");
    float badd[6] = {0, 0, 1, 1, 0.9f, 7};
    CHECK(cy_confusion_process_batch(cm, NC, badd, 1, gt, gcls, 1, 0.25f, 0.45f, &err) == CY_ERR_ARG,
          "class out of range refused");
}

/* The validator's boxes go back to image pixels unclipped, as Ultralytics
 * 8.4.37 matches them: a box reaching 16 px past the left border keeps IoU
 * 0.733 with its label (clipped it would be 1.0), so it is a true positive
 * at IoU 0.50..0.70 only: mAP50-95 0.5. */
static void test_unclipped(void) {
    cy_error err = {0};
    float det[6] = {0, 16, 60, 66, 0.9f, 0}; /* letterboxed, pad 16 each side, ratio 1 */
    const double pad[2] = {16, 16};
    cy_val_boxes_to_image(det, 1, 1.0, pad);
    CHECK(det[0] == -16 && det[1] == 0 && det[2] == 44 && det[3] == 50, "to image: %g %g %g %g", det[0], det[1],
          det[2], det[3]);
    float gt[4] = {0, 0, 44, 50};
    int gtc = 0;
    cy_det_stats *s = NULL;
    cy_det_metrics m;
    CHECK(cy_det_stats_create(&s, 1, NULL, &err) == CY_OK && cy_det_stats_add(s, det, 1, gt, &gtc, 1, &err) == CY_OK &&
              cy_det_stats_compute(s, &m, &err) == CY_OK,
          "%s", err.msg);
    CHECK(fabs(m.map50 - 0.995) < 1e-6 && fabs(m.map - 0.4975) < 1e-6, "unclipped: mAP50 %.6f mAP50-95 %.6f", m.map50,
          m.map);
    cy_det_metrics_free(&m);
    cy_det_stats_free(s);
}

int main(void) {
    clock_t t0 = clock();
    test_unclipped();
    test_interp();
    test_compute_ap();
    test_matching();
    test_confusion();
    test_reference();
    printf("  %.3f s\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return test_summary();
}
