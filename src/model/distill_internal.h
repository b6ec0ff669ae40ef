/* The distillation object's fields, shared by distill.c and distill_loss.c. */
#ifndef CY_MODEL_DISTILL_INTERNAL_H
#define CY_MODEL_DISTILL_INTERNAL_H
#include "model/distill.h"

#define DISTILL_SCRATCH 2

struct cy_distill {
    cy_model *teacher;
    double dis;
    int nl;
    int s_layer[CY_MAX_LEVELS], t_layer[CY_MAX_LEVELS]; /* the Detect heads' inputs */
    int cs[CY_MAX_LEVELS], ct[CY_MAX_LEVELS];           /* their channels */
    cy_entry entries[4 * CY_MAX_LEVELS];
    int nentries;
    float *params, *grads;
    size_t nparams;
    float *w[CY_MAX_LEVELS];                            /* teacher weights of the last forward, [P] */
    size_t w_len[CY_MAX_LEVELS];
    float *tfeat[CY_MAX_LEVELS];                        /* the teacher's features of the batch, [P, Ct] */
    size_t tfeat_len[CY_MAX_LEVELS];
    cy_slot slots[CY_MAX_LEVELS][4];                    /* projector convs: forward 1, 2, backward 2, 1 */
    int teacher_chunk;                                  /* images per teacher forward (0: auto) */
    int w_n, w_hw[CY_MAX_LEVELS];
    float *scratch[DISTILL_SCRATCH];                    /* grown on demand */
    size_t scratch_cap[DISTILL_SCRATCH];
};

#endif
