/* Reference elementwise ops: activation and add (any layout). */
#include <math.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

float ref_act1(float x, cy_act act) {
    switch (act) {
    case CY_ACT_SILU: return (float)((double)x / (1.0 + exp(-(double)x)));
    case CY_ACT_RELU: return x > 0 ? x : 0.0f;
    case CY_ACT_SIGMOID: return (float)(1.0 / (1.0 + exp(-(double)x)));
    case CY_ACT_NONE: break;
    }
    return x;
}

cy_status ref_activation(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_act act, cy_error *err) {
    CY_TRY(cy_check_same("activation", in, out, err));
    if (act < CY_ACT_NONE || act > CY_ACT_SIGMOID)
        return cy_fail(err, CY_ERR_ARG, "activation: unknown activation %d", (int)act);
    const size_t n = cy_shape_numel(in->s);
    for (size_t i = 0; i < n; i++) out->data[i] = ref_act1(in->data[i], act);
    return CY_OK;
}

cy_status ref_add(cy_backend *b, const cy_tensor *a, const cy_tensor *x,
                  cy_tensor *out, cy_error *err) {
    CY_TRY(cy_check_same("add", a, x, err));
    CY_TRY(cy_check_same("add", a, out, err));
    const size_t n = cy_shape_numel(a->s);
    for (size_t i = 0; i < n; i++) out->data[i] = a->data[i] + x->data[i];
    return CY_OK;
}
