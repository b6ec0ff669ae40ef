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

/* din += dout * f'(x), x the activation's input:
 *   SiLU    s (1 + x (1 - s)), s = sigmoid(x)
 *   ReLU    1 where x > 0, else 0 (PyTorch's threshold_backward)
 *   sigmoid s (1 - s)
 *   none    1 */
cy_status ref_activation_backward(cy_backend *b, const cy_tensor *in,
                                  const cy_tensor *dout, cy_tensor *din, cy_act act,
                                  cy_error *err) {
    CY_TRY(cy_check_act_backward(in, dout, din, act, err));
    if (!din) return CY_OK;
    const size_t n = cy_shape_numel(in->s);
    for (size_t i = 0; i < n; i++) {
        const double x = in->data[i], dy = dout->data[i];
        double g = 1;
        if (act == CY_ACT_SILU || act == CY_ACT_SIGMOID) {
            const double s = 1.0 / (1.0 + exp(-x));
            g = act == CY_ACT_SILU ? s * (1 + x * (1 - s)) : s * (1 - s);
        } else if (act == CY_ACT_RELU) {
            g = x > 0 ? 1 : 0;
        }
        din->data[i] = (float)(din->data[i] + dy * g);
    }
    return CY_OK;
}

cy_status ref_accumulate(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_error *err) {
    CY_TRY(cy_check_accumulate(in, out, err));
    if (!out) return CY_OK;
    const size_t n = cy_shape_numel(in->s);
    for (size_t i = 0; i < n; i++) out->data[i] += in->data[i];
    return CY_OK;
}
