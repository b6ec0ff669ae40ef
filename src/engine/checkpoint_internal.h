/* Pieces of the checkpoint writer shared by checkpoint.c and
 * checkpoint_distill.c. */
#ifndef CY_ENGINE_CHECKPOINT_INTERNAL_H
#define CY_ENGINE_CHECKPOINT_INTERNAL_H
#include "engine/checkpoint.h"
#include "io/pt_value.h"

/* {param_groups: [{lr, initial_lr, momentum, weight_decay}], state_a,
 * state_b, step, has_state} of an optimizer. */
cy_status cy_checkpoint_optimizer_state(cy_optim *o, cy_pt_value **out, cy_error *err);
/* Copies the tensor dict[key] into dst (bytes); an error names path and key
 * when it is missing or of another size. */
cy_status cy_checkpoint_tensor_into(const cy_pt_value *dict, const char *key, void *dst, size_t bytes,
                                    const char *path, cy_error *err);
/* An optimizer's state from what cy_checkpoint_optimizer_state wrote. */
cy_status cy_checkpoint_load_optimizer_state(const cy_pt_value *o, cy_optim *opt, const char *path, cy_error *err);
/* Adds "projector" (state_dict), "projector_optimizer" and, with pending
 * batches, "projector_grads" to a checkpoint's root dict. */
cy_status cy_checkpoint_put_distill(cy_pt_value *root, const cy_distill *d, cy_optim *opt, int pending,
                                    cy_error *err);

#endif
