/* Pieces of the checkpoint writer shared by checkpoint.c and
 * checkpoint_distill.c. */
#ifndef CY_ENGINE_CHECKPOINT_INTERNAL_H
#define CY_ENGINE_CHECKPOINT_INTERNAL_H
#include "engine/checkpoint.h"
#include "io/pt_value.h"

/* {param_groups: [{lr, initial_lr, momentum, weight_decay}], state_a,
 * state_b, step, has_state} of an optimizer. */
cy_status cy_checkpoint_optimizer_state(cy_optim *o, cy_pt_value **out, cy_error *err);
/* Adds "projector" (state_dict), "projector_optimizer" and, with pending
 * batches, "projector_grads" to a checkpoint's root dict. */
cy_status cy_checkpoint_put_distill(cy_pt_value *root, const cy_distill *d, cy_optim *opt, int pending,
                                    cy_error *err);

#endif
