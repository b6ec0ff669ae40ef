/* The validator: eval forward over a split (letterboxed, never enlarged),
 * the NMS-free top-k (end2end) or NMS (conf 0.001, iou 0.7, max_det 300),
 * predictions mapped back to original pixels and matched against the
 * labels (metrics.h), and the validation losses.
 *
 * Segment models are the same validator with one more branch, as
 * SegmentationValidator of Ultralytics 8.4.190 is DetectionValidator plus
 * masks: the rows keep their nm mask coefficients (multi-label NMS, as
 * upstream's postprocess), process_mask builds the predicted masks at the
 * prototype resolution (imgsz / 4) from the boxes in the letterboxed input,
 * the batch's gt masks are compared at the same resolution, and box and
 * mask tables go through SegmentMetrics (greedy matching). The detect
 * branch keeps its 8.4.37 choices (single-label NMS, unique matching). */
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
     * confusion_matrix_normalized.png, BoxPR/F1/P/R_curve.png (segment
     * models also MaskPR/F1/P/R_curve.png) and val_batch{0,1,2}_labels.jpg /
     * _pred.jpg (boxes only) written into save_dir */
    int plots;
    const char *save_dir;
    char *const *names;   /* nc class names for the plots; NULL: the class ids */
} cy_val_params;

typedef struct {
    cy_det_metrics metrics; /* the boxes' (B) */
    cy_det_metrics mask;    /* segment models: the masks' (M); zeroed otherwise */
    int has_masks;
    /* results_dict order: keys[k] = values[k], k < nkeys (4 for detect, the
     * (B) columns; 8 for segment, (B) then (M), as SegmentMetrics.keys);
     * what a trainer writes into results.csv after the train losses */
    int nkeys;
    const char *const *keys;
    double values[CY_SEG_NKEYS];
    double fitness;         /* detect: mAP50-95(B); segment: mAP50-95(B) + mAP50-95(M) */
    int nloss;              /* 3 (box, cls, dfl) or 5 for segment models (box, seg, cls, dfl, sem) */
    const char *const *loss_names; /* "box_loss", ... as the model's loss names them */
    double loss[5];         /* mean logged items over batches */
    int images, instances;
} cy_val_result;

/* Frees both metric sets (cy_det_metrics_free(&r->metrics) alone is enough
 * for a detect result). */
void cy_val_result_free(cy_val_result *r);

/* n detection rows (x1 y1 x2 y2 score class) from the letterboxed input to
 * original pixels: (v - pad) / ratio, not clipped to the image (Ultralytics
 * 8.4.37 matches the model's boxes unclipped). */
void cy_val_boxes_to_image(float *dets, int n, double ratio, const double pad[2]);

/* loader: a letterbox loader over the split (augment = 0); for a segment
 * model it must give masks (cy_loader_params.segments). */
#define CY_VAL_MAX_BATCH 1024

/* loader batch sizes above CY_VAL_MAX_BATCH are refused */
cy_status cy_validate(cy_model *m, cy_loader *loader, const cy_split *split, int nc,
                      const cy_val_params *p, cy_val_result *out, cy_error *err);

/* ---- the accumulation behind cy_validate (validate_stats.c), exposed so
 * that fixed model outputs and a hand-built batch can be scored ---------- */

typedef struct cy_val_stats cy_val_stats;

/* nm = 0: a detect model; nm > 0: a segment model with nm coefficients. */
cy_status cy_val_stats_create(cy_val_stats **out, int nc, int nm, const cy_val_params *p, cy_error *err);
void cy_val_stats_free(cy_val_stats *s);

/* One batch's eval outputs: out as cy_model_forward returns it (end2end:
 * rows [n, k, 6 + nm]; else decoded [n, 4 + nc + nm, A]); proto
 * [n, nm, batch->h / 4, batch->w / 4] for segment models (else NULL).
 * The labels are split->rec[batch->index[i]]; segment models read the gt
 * masks from the batch. bi is the batch's number (plots of 0, 1, 2). */
cy_status cy_val_stats_add(cy_val_stats *s, const cy_batch *batch, const cy_split *split, const cy_array *out,
                           int end2end, const float *proto, int bi, cy_error *err);

/* The metrics (and plots) of everything added; out->loss is left to the
 * caller. */
cy_status cy_val_stats_finish(cy_val_stats *s, cy_val_result *out, cy_error *err);

#endif
