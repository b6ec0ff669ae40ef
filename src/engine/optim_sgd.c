/* torch.optim.SGD (torch 1.13 _single_tensor_sgd, dampening 0) on one group:
 *   d = g + wd*p;  buf = d (first step) | buf*m + d;  d = d + m*buf (nesterov)
 *   | buf;  p = p - lr*d
 * Tensor.add(x, alpha=a) is a fused multiply-add in torch's vectorised CPU
 * kernels; mul_ and add_ without alpha round separately. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "engine/optim_impl.h"

cy_status cy_optim_step_sgd(cy_optim *o, const cy_optim_group *g, float *params,
                            const float *grads, cy_error *err) {
    const float wd = cy_f32(g->weight_decay), m = cy_f32(g->momentum), nlr = cy_f32(-g->lr);
    const int use_wd = g->weight_decay != 0, use_m = g->momentum != 0, nesterov = g->nesterov;
    for (int k = 0; k < g->nentries; k++) {
        const int e = g->entries[k];
        if (!cy_optim_trainable(o, e)) continue;
        const size_t off = o->entries[e].offset, n = o->entries[e].numel;
        float *p = params + off, *buf = o->a + off;
        const float *gr = grads + off;
        const int first = !o->has_state[e];
#pragma omp parallel for if (n > 65536) schedule(static)
        for (size_t i = 0; i < n; i++) {
            float d = gr[i];
            if (use_wd) d = fmaf(p[i], wd, d);
            if (use_m) {
                float b = first ? d : buf[i] * m + d;
                buf[i] = b;
                d = nesterov ? fmaf(b, m, d) : b;
            }
            p[i] = fmaf(d, nlr, p[i]);
        }
        if (use_m) o->has_state[e] = 1;
        o->step[e]++;
    }
    (void)err;
    return CY_OK;
}
