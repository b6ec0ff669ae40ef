/* Shared by loss.c, assigner.c and box_iou.c; not part of the loss API. */
#ifndef CY_MODEL_LOSS_INTERNAL_H
#define CY_MODEL_LOSS_INTERNAL_H
#include <stddef.h>
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
};

/* Test hook: with on = 1 the loss of slot `slot` reuses the CIoU alphas of
 * its last evaluation, so that finite differences see the function whose
 * gradient torch computes (alpha under no_grad). A new assignment clears it. */
void cy_det_loss_freeze_alpha(cy_det_loss_ws *ws, int slot, int on);

/* Grows *p to n elements of size elem (contents kept); 0 on success. */
int cy_det_grow(void **p, size_t *cap, size_t n, size_t elem);

/* TaskAlignedAssigner.forward for the whole batch into slot s. dist is the
 * decoded prediction [B][A][4] (grid units), scores the logits [B][nc][A];
 * ws->anc/astr/gt must be filled (gt as cy_targets_xyxy_px). */
cy_status cy_det_assign_run(cy_det_loss_ws *ws, cy_det_slot *s, const cy_det_grid *g, int batch,
                            int nc, const cy_targets *t, const cy_det_loss_hyp *hyp,
                            const double *dist, const float *scores, cy_error *err);

#endif
