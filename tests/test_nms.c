/* cy_nms behaves like Ultralytics' non_max_suppression on hand-made
 * predictions: confidence filter, class-aware vs agnostic suppression, the
 * IoU threshold (strictly greater suppresses), score order, max_det. */
#include "cyolo.h"
#include "test_util.h"

#define NC 3
#define A 5

/* pred[4 + NC][A]: xywh boxes then class scores */
static void set(float *p, int a, float cx, float cy, float w, float h, int cls, float score) {
    p[0 * A + a] = cx; p[1 * A + a] = cy; p[2 * A + a] = w; p[3 * A + a] = h;
    for (int c = 0; c < NC; c++) p[(4 + c) * A + a] = c == cls ? score : 0.01f;
}

int main(void) {
    float p[(4 + NC) * A];
    set(p, 0, 50, 50, 20, 20, 0, 0.9f);   /* kept */
    set(p, 1, 52, 50, 20, 20, 0, 0.8f);   /* IoU 0.82 with 0: suppressed */
    set(p, 2, 52, 50, 20, 20, 1, 0.7f);   /* same place, other class: kept unless agnostic */
    set(p, 3, 200, 200, 10, 10, 2, 0.6f); /* far away: kept */
    set(p, 4, 300, 300, 10, 10, 2, 0.2f); /* below conf 0.25 */
    cy_nms_params np = cy_nms_default_params();
    float dets[2 * 300 * 6];
    int count;
    cy_error err = {0};
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_OK, "%s", err.msg);
    CHECK(count == 3, "class-aware keeps 3, got %d", count);
    CHECK(dets[4] == 0.9f && dets[10] == 0.7f && dets[16] == 0.6f, "score order %g %g %g", dets[4], dets[10], dets[16]);
    CHECK(dets[0] == 40 && dets[1] == 40 && dets[2] == 60 && dets[3] == 60, "xyxy of the first box");
    CHECK(dets[5] == 0 && dets[11] == 1 && dets[17] == 2, "classes");
    np.agnostic = 1;
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_OK, "%s", err.msg);
    CHECK(count == 2, "agnostic keeps 2, got %d", count);
    np.agnostic = 0;
    np.iou = 0.9f; /* IoU 0.82 is not above 0.9: nothing suppressed */
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_OK, "%s", err.msg);
    CHECK(count == 4, "iou 0.9 keeps 4, got %d", count);
    np.max_det = 2;
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_OK, "%s", err.msg);
    CHECK(count == 2 && dets[4] == 0.9f && dets[10] == 0.8f, "max_det 2 keeps the best two");
    np = cy_nms_default_params();
    np.conf = 0.95f;
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_OK && count == 0, "high conf keeps none");
    np.iou = 1.5f;
    CHECK(cy_nms(p, 1, NC, A, &np, dets, &count, &err) == CY_ERR_ARG, "iou out of range is an error");
    /* batch of two: the second image is independent */
    float p2[2 * (4 + NC) * A];
    memcpy(p2, p, sizeof p);
    memcpy(p2 + (4 + NC) * A, p, sizeof p);
    p2[(4 + NC) * A + (4 + 2) * A + 4] = 0.5f; /* image 2: anchor 4 rises above conf */
    np = cy_nms_default_params();
    int counts[2];
    CHECK(cy_nms(p2, 2, NC, A, &np, dets, counts, &err) == CY_OK, "%s", err.msg);
    CHECK(counts[0] == 3 && counts[1] == 4, "per-image counts %d %d", counts[0], counts[1]);
    return test_summary();
}
