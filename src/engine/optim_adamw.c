/* torch.optim.AdamW (torch 1.13 _single_tensor_adamw, amsgrad off) on one
 * group, betas (momentum, 0.999), eps 1e-8:
 *   p *= 1 - lr*wd;  m = m*b1 + (1-b1)*g;  v = v*b2 + (1-b2)*g*g;
 *   p += -(lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * in float32 with torch's op boundaries (add with alpha fused; addcmul and
 * addcdiv as (value*t1)*t2 + self and (value*t1)/t2 + self). */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "engine/optim_impl.h"

cy_status cy_optim_step_adamw(cy_optim *o, const cy_optim_group *g, float *params,
                              const float *grads, cy_error *err) {
    const double lr = g->lr, b1 = g->momentum, b2 = g->beta2;
    const float decay = cy_f32(1 - lr * g->weight_decay);
    const float fb1 = cy_f32(b1), fb2 = cy_f32(b2), omb1 = cy_f32(1 - b1), omb2 = cy_f32(1 - b2);
    const float eps = cy_f32(g->eps);
    for (int k = 0; k < g->nentries; k++) {
        const int e = g->entries[k];
        if (!cy_optim_trainable(o, e)) continue;
        const size_t off = o->entries[e].offset, n = o->entries[e].numel;
        const int64_t t = ++o->step[e];
        o->has_state[e] = 1;
        const double bc1 = 1 - pow(b1, (double)t), bc2 = 1 - pow(b2, (double)t);
        const float nstep = cy_f32(-(lr / bc1)), bc2s = cy_f32(sqrt(bc2));
        float *p = params + off, *m = o->a + off, *v = o->b + off;
        const float *gr = grads + off;
#pragma omp parallel for if (n > 65536) schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float gi = gr[i];
            float pi = p[i] * decay;
            m[i] = fmaf(gi, omb1, m[i] * fb1);
            const float sq = (omb2 * gi) * gi;
            v[i] = v[i] * fb2 + sq;
            const float denom = sqrtf(v[i]) / bc2s + eps;
            p[i] = (nstep * m[i]) / denom + pi;
        }
    }
    (void)err;
    return CY_OK;
}
