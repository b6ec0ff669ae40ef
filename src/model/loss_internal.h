/* Shared by loss.c, assigner.c and box_iou.c; not part of the loss API. */
#ifndef CY_MODEL_LOSS_INTERNAL_H
#define CY_MODEL_LOSS_INTERNAL_H
#include <stddef.h>
#include "backend/backend.h"
#include "model/loss.h"

/* Ultralytics bbox_iou(box1, box2, xywh=False, CIoU=True, eps) on xyxy boxes.
 * When g1 is not NULL it gets d CIoU / d box1 with CIoU's alpha held constant
 * (torch.no_grad), and torch's subgradients: clamp(min=0) passes at 0,
 * maximum/minimum split a tie in halves. alpha_in (may be NULL) replaces the
 * computed alpha; alpha_out (may be NULL) receives the alpha used. */
double cy_ciou(const double b1[4], const double b2[4], double eps, double g1[4],
               const double *alpha_in, double *alpha_out);

/* One assignment: the public view plus what the loss needs in double. */
typedef struct {
    int batch, anchors, nc, valid;
    size_t cap;
    uint8_t *fg;
    int32_t *label, *gt_idx;
    float *box_px, *score;
    double *score_d;
    double *alpha;           /* CIoU alpha of each fg anchor at the last loss */
    int freeze_alpha;        /* reuse alpha[] instead (finite-difference tests) */
    double tss;
    int64_t n_fg;
} cy_det_slot;

typedef struct {
    double v;
    int i;
} cy_det_pair;

struct cy_det_loss_ws {
    cy_det_slot slot[2];
    /* the segment terms' matrix products run on this backend's GEMM when set
     * (cy_det_loss_ws_set_backend), else as plain loops */
    cy_backend *backend;
    /* geometry of the last grid: anchors in grid units and their strides */
    cy_det_grid grid;
    int have_grid;
    double *anc, *astr;
    size_t cap_a;
    double *dist;            /* [B][A][4] decoded ltrb, grid units */
    size_t cap_dist;
    float *gt;               /* [B][n_max][5] cls, x1, y1, x2, y2 px */
    size_t cap_gt;
    /* assigner scratch, one image at a time */
    double *ov, *met;        /* [n][A], valid where inb */
    uint8_t *inb;            /* [n][A] anchor centre inside gt (candidate) */
    size_t cap_na;
    cy_det_pair *pairs;      /* [A] */
    int *zlist, *cnt, *first, *owner;   /* [A] */
    size_t cap_pairs;
    int *sel_j, *sel_a;      /* [n * topk] stage-1 picks */
    int *touched;            /* [n * topk] */
    size_t cap_sel;
    double *pam, *pov;       /* [n] */
    size_t cap_n;
    double *part;            /* per-image partial sums [B] */
    size_t cap_part;
    /* segmentation: predicted masks decoded by the mask-aware assigner for
     * the current image (slot per anchor, -1 none), and the loss's buffers */
    int *pm_slot;
    size_t cap_pm_slot;
    uint8_t *pm_pool;
    size_t cap_pm_pool, pm_used;
    int *pm_area;
    size_t cap_pm_area;
    float *pm_logit;
    size_t cap_pm_logit;
    double *dense;
    size_t cap_dense;
    uint8_t *seg_gt, *seg_gt_p; /* gt masks at the target and prototype sizes */
    size_t cap_seg_gt, cap_seg_gt_p;
    float *seg_proto_t, *seg_gproto_t; /* prototypes resized to the target masks, and their gradient */
    size_t cap_seg_proto_t, cap_seg_gproto_t;
    float *seg_c, *seg_l, *seg_dc; /* one image's fg coefficients [n][nm], logits [n][P], d coefficients */
    size_t cap_seg_c, cap_seg_l, cap_seg_dc;
    int *seg_rows;           /* anchors of those rows */
    size_t cap_seg_rows;
};

/* Test hook: with on = 1 the loss of slot `slot` reuses the CIoU alphas of
 * its last evaluation, so that finite differences see the function whose
 * gradient torch computes (alpha under no_grad). A new assignment clears it. */
void cy_det_loss_freeze_alpha(cy_det_loss_ws *ws, int slot, int on);

/* C [M, N] = A [M, K] @ B [K, N] (+ C when accumulate), with op(A) = A^T
 * (stored [K, M]) when trans_a and op(B) = B^T (stored [N, K]) when trans_b:
 * on ws->backend's GEMM, or plain loops without one. */
cy_status cy_loss_gemm(cy_det_loss_ws *ws, int M, int N, int K, int trans_a, int trans_b, const float *A,
                       const float *B, float *C, int accumulate, cy_error *err);

/* Grows *p to n elements of size elem (contents kept); 0 on success. */
int cy_det_grow(void **p, size_t *cap, size_t n, size_t elem);

/* What SegTaskAlignedAssigner (YOLO26-seg) adds to the assignment: each
 * candidate's overlap becomes (CIoU + mask IoU) / 2, the mask IoU taken for
 * each gt's topk3 = 3 * topk best box-metric candidates only (0 for the
 * rest), between the gt mask and the predicted mask (coefficients x
 * prototypes > 0, cropped to the predicted box scaled by mask_scale). */
typedef struct {
    int nm, ph, pw;
    const float *proto;      /* [B][nm][ph][pw] */
    const float *coef;       /* [B][nm][A] */
    float mask_scale;        /* prototype pixels per input pixel */
    const uint8_t *gt;       /* [B][n_max][ph * pw] 0/1 gt masks at prototype size */
    int n_max;               /* the targets' n_max */
    int topk3;
} cy_mask_overlap;

/* TaskAlignedAssigner.forward for the whole batch into slot s. dist is the
 * decoded prediction [B][A][4] (grid units), scores the logits [B][nc][A];
 * ws->anc/astr/gt must be filled (gt as cy_targets_xyxy_px). mo: NULL for
 * detection, else the mask-aware overlaps of SegTaskAlignedAssigner. */
cy_status cy_det_assign_run(cy_det_loss_ws *ws, cy_det_slot *s, const cy_det_grid *g, int batch,
                            int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                            const double *dist, const float *scores, const cy_mask_overlap *mo,
                            cy_error *err);

/* cy_det_assign_targets with the mask-aware overlaps (mo may be NULL). */
cy_status cy_det_assign_targets_mask(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int batch,
                                     int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                                     const float *boxes, const float *scores, const cy_mask_overlap *mo,
                                     cy_det_assign *out, cy_error *err);

/* assigner_mask.c: for gt j of image b, replaces the overlaps ov[a] and
 * metrics met[a] of its candidates cand[0..ncand) (ascending anchors) by the
 * mask-aware ones; pred_px[a] is the predicted box in input pixels.
 * Returns 0, or -1 when out of memory. */
int cy_mask_refine_overlaps(cy_det_loss_ws *ws, const cy_mask_overlap *mo, const cy_det_loss_hyp *hyp, int b,
                            int j, const int *cand, int ncand, const float *scores_l, const double *dist_b,
                            double *ov, double *met);
/* Forgets the predicted masks decoded for the previous image; -1 when out
 * of memory. */
int cy_mask_cache_reset(cy_det_loss_ws *ws, int anchors);

#endif
