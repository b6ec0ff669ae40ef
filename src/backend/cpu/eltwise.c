/* cpu elementwise ops: activation and add, vectorised OpenMP loops (the
 * layout does not matter to them). */
#include "backend/cpu/cpu.h"
#include "backend/cpu/vmath.h"
#include "backend/ref/check.h"

/* below this many elements a parallel region costs more than it saves */
#define PAR_MIN 32768

cy_status cpu_activation(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_act act, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_same("activation", in, out, err));
    const long n = (long)cy_shape_numel(in->s);
    const float *x = in->data;
    float *y = out->data;
    switch (act) {
    case CY_ACT_NONE:
        if (x != y)
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
            for (long i = 0; i < n; i++) y[i] = x[i];
        break;
    case CY_ACT_SILU:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) y[i] = cpu_silu(x[i]);
        break;
    case CY_ACT_RELU:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f;
        break;
    case CY_ACT_SIGMOID:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) y[i] = cpu_sigmoid(x[i]);
        break;
    default:
        return cy_fail(err, CY_ERR_ARG, "activation: unknown activation %d", (int)act);
    }
    return CY_OK;
}

cy_status cpu_add(cy_backend *b, const cy_tensor *a, const cy_tensor *x,
                  cy_tensor *out, cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_same("add", a, x, err));
    CY_TRY(cy_check_same("add", a, out, err));
    const long n = (long)cy_shape_numel(a->s);
    const float *pa = a->data, *px = x->data;
    float *y = out->data;
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
    for (long i = 0; i < n; i++) y[i] = pa[i] + px[i];
    return CY_OK;
}

/* din += dout * f'(x), x the activation's input (see ref/eltwise.c). */
cy_status cpu_activation_backward(cy_backend *b, const cy_tensor *in,
                                  const cy_tensor *dout, cy_tensor *din, cy_act act,
                                  cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_act_backward(in, dout, din, act, err));
    if (!din) return CY_OK;
    const long n = (long)cy_shape_numel(in->s);
    const float *x = in->data, *dy = dout->data;
    float *dx = din->data;
    switch (act) {
    case CY_ACT_NONE:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) dx[i] += dy[i];
        break;
    case CY_ACT_SILU:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) {
            const float s = cpu_sigmoid(x[i]);
            dx[i] += dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
        }
        break;
    case CY_ACT_RELU:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) dx[i] += x[i] > 0 ? dy[i] : 0.0f;
        break;
    case CY_ACT_SIGMOID:
#pragma omp parallel for simd num_threads(c->threads) if (n > PAR_MIN)
        for (long i = 0; i < n; i++) {
            const float s = cpu_sigmoid(x[i]);
            dx[i] += dy[i] * (s * (1.0f - s));
        }
        break;
    }
    return CY_OK;
}

cy_status cpu_accumulate(cy_backend *b, const cy_tensor *in, cy_tensor *out,
                         cy_error *err) {
    CY_TRY(cy_check_accumulate(in, out, err));
    if (out) cpu_add_into(cpu_of(b), out->data, in->data, cy_shape_numel(in->s));
    return CY_OK;
}
