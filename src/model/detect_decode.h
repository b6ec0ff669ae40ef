/* Eval-time decoding of the Detect head and YOLO26's NMS-free top-k. */
#ifndef CY_MODEL_DETECT_DECODE_H
#define CY_MODEL_DETECT_DECODE_H
#include "model/model.h"

/* Total anchors of the current graph. */
int cy_detect_anchors(const cy_model *m);

/* Rows a head carries after its class scores: segment models' nm mask
 * coefficients, else 0 (Ultralytics' "extra" in Detect.postprocess). */
int cy_detect_extra(const cy_model *m);

/* y[n][4 + nc + extra][A]: boxes in input pixels (xyxy for end2end models,
 * else xywh), sigmoid class scores, then the raw extra rows (mask
 * coefficients); `one2one` picks the branch. */
cy_status cy_detect_decode(const cy_model *m, int one2one, float *y, cy_error *err);

/* Ultralytics Detect.postprocess on the one-to-one branch: per image the
 * k = min(max_det, A) anchors with the best class score, then the best k of
 * their k*nc (anchor, class) scores, as rows (x1, y1, x2, y2, score, class,
 * extra...); out is [n][k][6 + extra]. */
cy_status cy_detect_topk(const cy_model *m, int k, float *out, cy_error *err);

#endif
