/* `cyolo export`: a trained model out of cyolo. format=onnx writes the
 * student's eval graph as ONNX with Ultralytics' input, outputs and metadata
 * (Ultralytics' YOLO("best.onnx"), ONNX Runtime, TensorRT and OpenVINO read
 * it); format=ultralytics writes a .pt of the module tree Ultralytics
 * unpickles (export_ultralytics.h). */
#ifndef CY_ENGINE_EXPORT_H
#define CY_ENGINE_EXPORT_H
#include <stddef.h>
#include "core/status.h"
#include "cyolo.h"

typedef struct {
    int imgsz_h, imgsz_w; /* rounded up to multiples of the max stride */
    int batch;            /* 1 */
    int dynamic;          /* symbolic batch, height, width */
    int half;             /* float16 weights */
    int opset;            /* 0: CY_EXPORT_DEFAULT_OPSET */
    int simplify;         /* recorded in the metadata (the graph is written simplified) */
    int end2end;          /* -1: the model's own head; 0: one-to-many + decoded boxes; 1: NMS-free top-k */
    int max_det;          /* 300 */
} cy_export_onnx_options;

#define CY_EXPORT_DEFAULT_OPSET 18

cy_export_onnx_options cy_export_onnx_defaults(void);

/* The metadata Ultralytics' exporter writes, for models and their run. */
typedef struct {
    const char *data;        /* the dataset it was trained on, or NULL */
    char **names;            /* nc class names */
    const char *date;        /* ISO 8601, local time */
} cy_export_meta;

/* Writes m as ONNX to path (atomically). *used_end2end tells which head was
 * written (the model's, unless options asked otherwise and it has one). */
cy_status cy_export_onnx(cy_model *m, const cy_export_onnx_options *opt, const cy_export_meta *meta,
                         const char *path, int *used_end2end, cy_error *err);

/* Python repr() of a str, as metadata values hold them ('it''s' -> "it's"). */
void cy_export_pyrepr_str(const char *s, char *out, size_t cap);

#endif
