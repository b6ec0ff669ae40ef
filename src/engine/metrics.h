/* Detection validation metrics as Ultralytics 8.4.37 computes them
 * (DetectionValidator.update_metrics -> DetMetrics.process -> ap_per_class,
 * plus ConfusionMatrix.process_batch for the plots).
 *
 * Per image, a prediction is a row (x1, y1, x2, y2, conf, cls) in the same
 * pixel space as the ground truth boxes (x1, y1, x2, y2) — the layout cy_nms
 * writes. One validation pass:
 *
 *   cy_det_stats *s;  cy_det_stats_create(&s, nc, NULL, &err);
 *   for each image:   cy_det_stats_add(s, dets, ndet, gt_boxes, gt_cls, ngt, &err);
 *   cy_det_metrics m; cy_det_stats_compute(s, &m, &err);  ... m.map, m.fitness
 *                     cy_det_metrics_free(&m);  cy_det_stats_free(s);
 *
 * Arithmetic follows the reference: IoU in float32 (torch box_iou), the AP
 * and curve math in float64 (numpy), numpy's np.interp, trapezoid and
 * pairwise-summation order. What is not bit-exact: ties in confidence (numpy
 * argsort is unstable; here equal confidences keep their order of arrival) and
 * the rounding of the F1 box filter (numpy's convolve goes through BLAS ddot;
 * here a plain sum) — both only matter at exact ties. */
#ifndef CY_ENGINE_METRICS_H
#define CY_ENGINE_METRICS_H
#include <stdint.h>
#include "core/status.h"

#define CY_NIOU 10     /* IoU thresholds 0.50:0.05:0.95 */
#define CY_NCURVE 1000 /* points of the P/R/F1-confidence curves */

/* torch.linspace(0.5, 0.95, 10) in float32. */
extern const float cy_iouv[CY_NIOU];

/* ---- pieces (exposed for tests and plots) ------------------------------ */

/* Ultralytics box_iou(a, b) in float32: out[i * nb + j] = IoU(a_i, b_j),
 * inter / (area_a + area_b - inter + 1e-7). Boxes are xyxy rows. */
void cy_box_iou_f32(const float *a, int na, const float *b, int nb, float *out);

/* BaseValidator.match_predictions (use_scipy=False). iou: [ngt, npred] from
 * cy_box_iou_f32(gt, pred). correct: [npred, CY_NIOU] bytes, 1 where the
 * prediction is a TP at that threshold. Per threshold: same-class pairs with
 * IoU >= t, sorted by IoU descending, one per prediction (its best), then one
 * per gt (the lowest prediction index among those left, as the numpy code's
 * second np.unique does without re-sorting). */
cy_status cy_match_predictions(const int *pred_cls, int npred, const int *gt_cls, int ngt,
                               const float *iou, uint8_t *correct, cy_error *err);

/* BaseValidator.match_predictions of Ultralytics 8.4.190 (use_scipy=False):
 * predictions in the given order (the validator's: confidence descending),
 * each takes, per threshold, the unclaimed same-class gt of highest IoU
 * (the lowest gt index among equals) and is a TP when that IoU >= t; a TP
 * claims its gt at that threshold. Same arguments as cy_match_predictions. */
cy_status cy_match_predictions_greedy(const int *pred_cls, int npred, const int *gt_cls, int ngt,
                                      const float *iou, uint8_t *correct, cy_error *err);

/* compute_ap for one recall/precision curve of n points (n may be 0):
 * sentinels mrec = [0, recall, recall[-1] (1 when n = 0), 1],
 * mpre = [1, precision, 0, 0], precision envelope, np.interp at
 * linspace(0, 1, 101), np.trapezoid. */
double cy_compute_ap(const double *recall, const double *precision, int n);

/* np.interp(x, xp, fp, left, right) for non-decreasing xp (n >= 1): at a run
 * of equal xp the last one counts, as numpy's binary search does. */
void cy_interp(const double *x, int nx, const double *xp, const double *fp, int n,
               double left, double right, double *out);

/* ---- results ------------------------------------------------------------ */

typedef struct {
    int nc;          /* classes of the dataset */
    int n_ap;        /* classes that have labels (np.unique(target_cls)) */
    int *ap_class;   /* [n_ap] their class ids, ascending */
    /* per labelled class, at the max mean-F1 confidence */
    double *p, *r, *f1, *tp, *fp; /* [n_ap] */
    double *ap;      /* [n_ap * CY_NIOU] AP per class per IoU threshold */
    double *ap50, *ap75, *ap5095; /* [n_ap] */
    double *maps;    /* [nc] mAP50-95 per class id; classes without labels get map */
    int64_t *nt_per_class, *nt_per_image; /* [nc] labels, images with that class */
    /* overall (Metric.mean_results and friends) */
    double mp, mr, map50, map75, map;
    double fitness;  /* 8.4.37: mAP50-95 alone (weights [0, 0, 0, 1]), NaN -> 0 */
    /* curves for plots: px = linspace(0, 1, 1000) (confidence, or recall for
     * prec_values); each [n_ap * CY_NCURVE] */
    double *px, *p_curve, *r_curve, *f1_curve, *prec_values;
    int best_index;  /* argmax of smooth(mean F1, 0.1): where p, r, f1 are read */
    int64_t n_pred;  /* predictions accumulated */
    int64_t seen;    /* images accumulated */
} cy_det_metrics;

/* ap_per_class + Metric over accumulated stats: tp [n * CY_NIOU] bytes, conf,
 * pred_cls [n], target_cls [nt], all class ids in [0, nc). target_img [nti]
 * (np.unique of each image's classes, concatenated) may be NULL.
 * *out is filled (free with cy_det_metrics_free). */
cy_status cy_ap_per_class(const uint8_t *tp, const float *conf, const int *pred_cls, int64_t n,
                          const int *target_cls, int64_t nt, const int *target_img, int64_t nti,
                          int nc, cy_det_metrics *out, cy_error *err);
void cy_det_metrics_free(cy_det_metrics *m);

/* ---- confusion matrix ---------------------------------------------------- */

/* ConfusionMatrix.process_batch (detect): matrix [(nc + 1) * (nc + 1)],
 * row = predicted class, column = true class, index nc = background.
 * Detections with conf > conf_thres are matched class-agnostically to gt at
 * IoU > iou_thres (best IoU per detection, then per gt); a matched gt counts
 * at [det class, gt class], an unmatched gt at [nc, gt class], an unmatched
 * detection at [det class, nc]. Validation passes 0.25 for the default
 * conf 0.001 (see cy_confusion_conf). */
cy_status cy_confusion_process_batch(int64_t *matrix, int nc, const float *dets, int ndet,
                                     const float *gt_boxes, const int *gt_cls, int ngt,
                                     float conf_thres, float iou_thres, cy_error *err);
/* The threshold the validator's ConfusionMatrix uses for args.conf: 0.25 when
 * conf is unset (<= 0) or the val default 0.001, else conf. */
float cy_confusion_conf(float args_conf);

/* ---- accumulation over a validation set ---------------------------------- */

typedef struct cy_det_stats cy_det_stats;

/* Which match_predictions the TP table follows. */
typedef enum {
    CY_MATCH_UNIQUE = 0, /* 8.4.37: IoU-sorted pairs, np.unique per prediction then per gt */
    CY_MATCH_GREEDY = 1, /* 8.4.190: greedy in prediction order */
} cy_match_rule;

typedef struct {
    float cm_conf; /* 0.25 */
    float cm_iou;  /* 0.45 */
    cy_match_rule match; /* CY_MATCH_UNIQUE */
} cy_det_stats_params;

/* params may be NULL (defaults). */
cy_status cy_det_stats_create(cy_det_stats **out, int nc, const cy_det_stats_params *params,
                              cy_error *err);
/* One image: dets [ndet * 6] rows (x1, y1, x2, y2, conf, cls), gt_boxes
 * [ngt * 4] xyxy, gt_cls [ngt]. Classes must lie in [0, nc). Updates the
 * TP table and the confusion matrix. */
cy_status cy_det_stats_add(cy_det_stats *s, const float *dets, int ndet, const float *gt_boxes,
                           const int *gt_cls, int ngt, cy_error *err);
/* One image whose TP table [ndet * CY_NIOU] is already known (another IoU
 * than boxes', e.g. masks): appends it with conf, pred_cls [ndet] and the
 * labels' classes; the confusion matrix is left alone. */
cy_status cy_det_stats_add_tp(cy_det_stats *s, const uint8_t *tp, const float *conf, const int *pred_cls,
                              int ndet, const int *gt_cls, int ngt, cy_error *err);
cy_status cy_det_stats_compute(const cy_det_stats *s, cy_det_metrics *out, cy_error *err);
/* [(nc + 1) * (nc + 1)] counts so far (owned by s). */
const int64_t *cy_det_stats_confusion(const cy_det_stats *s);
/* Forgets everything accumulated (the confusion matrix too). */
void cy_det_stats_reset(cy_det_stats *s);
void cy_det_stats_free(cy_det_stats *s);

/* ---- instance segmentation (SegmentationValidator, SegmentMetrics 8.4.190) */

/* mask_iou(gt, pred) of binary masks [n, npix] (uint8 0/1): out[i * nb + j] =
 * inter / (area_i + area_j - inter + 1e-7) in float32. Counts are exact
 * integers, as torch's float32 sums are for masks under 2^24 pixels. */
cy_status cy_mask_iou_f32(const uint8_t *a, int na, const uint8_t *b, int nb, int64_t npix, float *out,
                          cy_error *err);

/* SegmentationValidator._prepare_batch's gt masks, out [nl, oh, ow] (0/1).
 * overlap = 1: masks is one image's index mask [ih, iw] (pixel value k + 1 is
 * instance k); overlap = 0: masks holds the image's nl instance masks
 * [nl, ih, iw]. When (ih, iw) != (oh, ow) and nl > 0 they are resized
 * bilinearly (float32, as F.interpolate) and kept where > 0.5. (oh, ow) is
 * imgsz / 4 for process_mask, imgsz for process_mask_native. */
cy_status cy_seg_gt_masks(const float *masks, int overlap, int nl, int ih, int iw, int oh, int ow,
                          uint8_t *out, cy_error *err);

/* SegmentationValidator._process_batch's tp_m: correct [npred * CY_NIOU]
 * from the mask IoU of pred masks [npred, npix] against gt masks [ngt, npix]
 * (the same resolution), matched by `rule`. */
cy_status cy_seg_correct(const uint8_t *pred_masks, const int *pred_cls, int npred, const uint8_t *gt_masks,
                         const int *gt_cls, int ngt, int64_t npix, cy_match_rule rule, uint8_t *correct,
                         cy_error *err);

/* SegmentMetrics.keys, then "fitness": results_dict's order. */
#define CY_SEG_NKEYS 8
extern const char *const cy_seg_metric_keys[CY_SEG_NKEYS + 1];

typedef struct {
    cy_det_metrics box, mask;
    double fitness; /* mask.fitness + box.fitness (mAP50-95(M) + mAP50-95(B)) */
} cy_seg_metrics;

/* mean_results then fitness, in cy_seg_metric_keys' order: P, R, mAP50,
 * mAP50-95 of (B), the same of (M), fitness. */
void cy_seg_metrics_results(const cy_seg_metrics *m, double out[CY_SEG_NKEYS + 1]);
void cy_seg_metrics_free(cy_seg_metrics *m);

typedef struct cy_seg_stats cy_seg_stats;

/* params may be NULL (8.4.190's greedy matching and the detection defaults). */
cy_status cy_seg_stats_create(cy_seg_stats **out, int nc, const cy_det_stats_params *params, cy_error *err);
/* One image: dets [ndet * 6] as cy_det_stats_add, pred_masks [ndet, h, w]
 * and gt_masks [ngt, h, w] binary at one resolution (cy_process_mask and
 * cy_seg_gt_masks). */
cy_status cy_seg_stats_add(cy_seg_stats *s, const float *dets, const uint8_t *pred_masks, int ndet,
                           const float *gt_boxes, const int *gt_cls, const uint8_t *gt_masks, int ngt, int h,
                           int w, cy_error *err);
cy_status cy_seg_stats_compute(const cy_seg_stats *s, cy_seg_metrics *out, cy_error *err);
/* The box stats (its confusion matrix is the validator's). */
const cy_det_stats *cy_seg_stats_box(const cy_seg_stats *s);
void cy_seg_stats_free(cy_seg_stats *s);

#endif
