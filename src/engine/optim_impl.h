/* Private to the optimizer files: the cy_optim object and the per-algorithm
 * steps. */
#ifndef CY_ENGINE_OPTIM_IMPL_H
#define CY_ENGINE_OPTIM_IMPL_H
#include "engine/optim.h"

#define CY_OPTIM_MAX_GROUPS 8

struct cy_optim {
    cy_optim_kind kind;
    const cy_entry *entries;
    int nentries;
    size_t nparams;
    cy_optim_group groups[CY_OPTIM_MAX_GROUPS];
    int ngroups;
    int *group_entries;        /* storage behind groups[].entries */
    unsigned char *frozen;     /* per entry */
    float *a, *b;              /* state, laid out like the params */
    int64_t *step;             /* per entry */
    unsigned char *has_state;  /* per entry */
    int ns_fp32;
    float *scratch;            /* Muon update of the largest tensor */
};

/* An entry the step touches: a learned parameter that is not frozen. */
static inline int cy_optim_trainable(const cy_optim *o, int e) {
    return o->entries[e].kind == CY_ENTRY_PARAM && !o->frozen[e];
}

/* float32 value of a Python float handed to a float32 tensor op */
static inline float cy_f32(double x) { return (float)x; }

cy_status cy_optim_step_sgd(cy_optim *o, const cy_optim_group *g, float *params,
                            const float *grads, cy_error *err);
cy_status cy_optim_step_adamw(cy_optim *o, const cy_optim_group *g, float *params,
                              const float *grads, cy_error *err);
cy_status cy_optim_step_musgd(cy_optim *o, const cy_optim_group *g, float *params,
                              const float *grads, cy_error *err);

#endif
