/* Instance segmentation training loss of Ultralytics 8.4.190 beside the
 * detection loss it extends (loss.h): v8SegmentationLoss for YOLOv8/11-seg,
 * SegmentLoss26 (the mask-aware SegTaskAlignedAssigner) inside E2ELoss for
 * YOLO26-seg, with analytic gradients for the mask coefficients, the
 * prototypes and YOLO26's semantic branch. Items, as Ultralytics logs them:
 * [box, seg, cls, dfl, sem] after gains (seg and sem take the box gain).
 *
 * Per branch, with the detection assignment (fg anchors, their gt and
 * target box) and n_fg foreground anchors over the batch:
 *   seg = box * sum over images, over fg anchors of
 *         mean_pixels(crop(BCE(coef . proto, gt mask), target box)) / box area
 *         / n_fg      (box area normalised to the image, crop at mask size)
 *   sem = box * (0.5 * BCE mean + 0.5 * Dice) of the semantic logits against
 *         one-hot classes of the covered pixels (YOLO26-seg only)
 * Both are 0 when no anchor is foreground. Prototypes are resized bilinearly
 * to the gt mask size when they differ (Ultralytics' F.interpolate). */
#ifndef CY_MODEL_LOSS_SEG_H
#define CY_MODEL_LOSS_SEG_H
#include "model/loss.h"

#define CY_SEG_ITEMS 5

/* Gt masks of a batch at (h, w) = image / mask_ratio. overlap = 1: [B][h][w]
 * index masks, pixel value k+1 = label k of that image (cy_targets order);
 * overlap = 0: [N][h][w] 0/1 masks, one per label, images in order. */
typedef struct {
    int overlap, h, w;
    const uint8_t *masks;
} cy_seg_masks;

/* One branch's segment outputs and where their gradients go (overwritten;
 * NULL: not wanted, e.g. YOLO26's one-to-one branch sees proto.detach()). */
typedef struct {
    int nm, ph, pw;
    const float *coef;   /* [B][nm][A] raw mask coefficients */
    float *grad_coef;
    const float *proto;  /* [B][nm][ph][pw] */
    float *grad_proto;
    int sh, sw;          /* semantic logits [B][nc][sh][sw]; sem NULL: no semantic branch */
    const float *sem;
    float *grad_sem;
} cy_seg_head;

typedef struct {
    double items[CY_SEG_ITEMS];
    cy_det_assign assign;
} cy_seg_branch_result;

/* One branch into workspace slot `slot` (0 or 1): assignment (mask_aware:
 * SegTaskAlignedAssigner), detection terms, mask and semantic terms, and the
 * gradients of grad_scale * (sum of the items). */
cy_status cy_seg_loss_branch(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int batch, int nc,
                             const cy_targets *t, const cy_seg_masks *masks, const cy_det_loss_hyp *hyp,
                             int mask_aware, const cy_det_head *det, const cy_seg_head *seg,
                             double grad_scale, cy_seg_branch_result *out, cy_error *err);

typedef struct {
    double loss[CY_SEG_ITEMS];   /* backpropagated: x batch (and the E2E weights) */
    double items[CY_SEG_ITEMS];  /* logged: YOLO26 the one-to-one branch's */
    cy_seg_branch_result o2m, o2o;
} cy_seg_result;

/* YOLO26-seg: E2ELoss over SegmentLoss26 (topk 10 / 7+1, mask-aware). */
cy_status cy_seg_loss_e2e(cy_det_loss_ws *ws, const cy_det_grid *g, int batch, int nc, const cy_targets *t,
                          const cy_seg_masks *masks, const cy_det_loss_hyp *o2m_hyp,
                          const cy_det_loss_hyp *o2o_hyp, cy_e2e_weights w, const cy_det_head *det_o2m,
                          const cy_seg_head *seg_o2m, const cy_det_head *det_o2o, const cy_seg_head *seg_o2o,
                          cy_seg_result *out, cy_error *err);

/* YOLOv8/11-seg: v8SegmentationLoss (DFL, the box assigner). */
cy_status cy_seg_loss_v8(cy_det_loss_ws *ws, const cy_det_grid *g, int batch, int nc, const cy_targets *t,
                         const cy_seg_masks *masks, const cy_det_loss_hyp *hyp, const cy_det_head *det,
                         const cy_seg_head *seg, cy_seg_result *out, cy_error *err);

#endif
