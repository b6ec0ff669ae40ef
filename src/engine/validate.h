/* The validator: eval forward over a split (letterboxed, never enlarged),
 * the NMS-free top-k (end2end) or NMS (conf 0.001, iou 0.7, max_det 300),
 * predictions mapped back to original pixels and matched against the
 * labels (metrics.h), and the validation losses. */
#ifndef CY_ENGINE_VALIDATE_H
#define CY_ENGINE_VALIDATE_H
#include "data/loader.h"
#include "engine/metrics.h"
#include "model/model.h"

typedef struct {
    int batch;            /* 16 (the trainer passes 2 x batch, as Ultralytics) */
    float conf;           /* 0.001 */
    float iou;            /* 0.7 (NMS models) */
    int max_det;          /* 300 */
    int workers;
    /* plots (Ultralytics' validator with plots=True): confusion_matrix.png,
     * confusion_matrix_normalized.png, BoxPR/F1/P/R_curve.png and
     * val_batch{0,1,2}_labels.jpg / _pred.jpg written into save_dir */
    int plots;
    const char *save_dir;
    char *const *names;   /* nc class names for the plots; NULL: the class ids */
} cy_val_params;

typedef struct {
    cy_det_metrics metrics; /* free with cy_det_metrics_free */
    double loss[3];         /* mean box, cls, dfl over batches (the logged items) */
    int images, instances;
} cy_val_result;

/* n detection rows (x1 y1 x2 y2 score class) from the letterboxed input to
 * original pixels: (v - pad) / ratio, not clipped to the image (Ultralytics
 * 8.4.37 matches the model's boxes unclipped). */
void cy_val_boxes_to_image(float *dets, int n, double ratio, const double pad[2]);

/* loader: a letterbox loader over the split (augment = 0). */
#define CY_VAL_MAX_BATCH 1024

/* loader batch sizes above CY_VAL_MAX_BATCH are refused */
cy_status cy_validate(cy_model *m, cy_loader *loader, const cy_split *split, int nc,
                      const cy_val_params *p, cy_val_result *out, cy_error *err);

#endif
