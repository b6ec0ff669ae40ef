/* A model's eval forward as an ONNX graph, laid out as Ultralytics' ONNX
 * export lays it out: input "images" [B, C, H, W] float32 in [0, 1];
 * output0 the decoded [B, 4 + nc (+ nm), anchors] (xywh pixels, sigmoid
 * scores, raw mask coefficients) or, through the one-to-one branch and its
 * top-k, [B, k, 6 (+ nm)] rows (x1 y1 x2 y2 score class), k = min(max_det,
 * anchors); segment models add output1, the prototypes [B, nm, H/4, W/4].
 * BatchNorm is folded into the convolutions; the graph holds nothing a
 * training run needs (no one-to-many branch when one-to-one is exported, no
 * semantic branch). */
#ifndef CY_MODEL_MODEL_ONNX_H
#define CY_MODEL_MODEL_ONNX_H
#include "io/onnx_write.h"
#include "model/model.h"

typedef struct {
    int batch, h, w;  /* the traced input shape (multiples of the max stride) */
    int dynamic;      /* batch, height and width symbolic ("batch", "height", "width") */
    int one2one;      /* end2end: the NMS-free branch and its top-k (needs one; see cy_model_summary) */
    int max_det;      /* top-k rows (300) */
    int half;         /* weights stored as float16 (Cast to float32 where read): half the file */
} cy_onnx_model_opts;

/* Adds the graph to o (which names the ONNX opset, >= 11). Builds the
 * model's eval graph for the shape, so m must not be in training mode. */
cy_status cy_model_to_onnx(cy_model *m, const cy_onnx_model_opts *opt, cy_onnx *o, cy_error *err);

#endif
