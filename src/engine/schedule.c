/* Learning-rate lambdas (LambdaLR) and the trainer's warmup block, in the
 * double arithmetic Python and NumPy use (no fused multiply-adds). */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include "engine/optim_impl.h"

cy_status cy_lr_lambda(const cy_lr_schedule *s, double x, double *lf, cy_error *err) {
    if (!s || !lf) return cy_fail(err, CY_ERR_ARG, "lr schedule: NULL");
    if (s->epochs <= 0) return cy_fail(err, CY_ERR_ARG, "lr schedule: epochs must be positive");
    if (s->cos_lr) { /* one_cycle(1, lrf, epochs) */
        double r = (1 - cos(x * M_PI / s->epochs)) / 2;
        *lf = (r > 0 ? r : 0) * (s->lrf - 1.0) + 1.0;
    } else {
        double r = 1 - x / s->epochs;
        *lf = (r > 0 ? r : 0) * (1.0 - s->lrf) + s->lrf;
    }
    return CY_OK;
}

cy_status cy_optim_schedule_epoch(cy_optim *o, double lf, cy_error *err) {
    if (!o) return cy_fail(err, CY_ERR_ARG, "schedule: no optimizer");
    for (int g = 0; g < o->ngroups; g++) o->groups[g].lr = o->groups[g].initial_lr * lf;
    return CY_OK;
}

cy_status cy_warmup_iters(double warmup_epochs, int64_t nb, int64_t *nw, cy_error *err) {
    if (!nw || nb < 0) return cy_fail(err, CY_ERR_ARG, "warmup: bad batch count");
    if (!(warmup_epochs > 0)) {
        *nw = -1;
        return CY_OK;
    }
    double r = rint(warmup_epochs * (double)nb); /* Python round(): half to even */
    *nw = r > 100 ? (int64_t)r : 100;
    return CY_OK;
}

/* numpy's arr_interp for xp = [x0, x1], fp = [y0, y1] */
cy_status cy_np_interp(double x, double x0, double x1, double y0, double y1, double *out) {
    if (!out) return CY_ERR_ARG;
    if (isnan(x)) *out = x;
    else if (x < x0) *out = y0;
    else if (x >= x1) *out = y1;
    else if (x == x0) *out = y0;
    else {
        double slope = (y1 - y0) / (x1 - x0);
        double r = slope * (x - x0) + y0;
        if (isnan(r)) {
            r = slope * (x - x1) + y1;
            if (isnan(r) && y0 == y1) r = y0;
        }
        *out = r;
    }
    return CY_OK;
}

cy_status cy_optim_warmup(cy_optim *o, const cy_warmup_params *w, int64_t ni, int64_t nw,
                          double lf, int *accumulate, int *applied, cy_error *err) {
    if (!o || !w) return cy_fail(err, CY_ERR_ARG, "warmup: NULL");
    if (applied) *applied = 0;
    if (nw < 0 || ni > nw) return CY_OK;
    if (w->batch <= 0 || w->nbs <= 0) return cy_fail(err, CY_ERR_ARG, "warmup: bad batch or nbs");
    const double x = (double)ni, x1 = (double)nw;
    double v;
    if (accumulate) {
        cy_np_interp(x, 0, x1, 1, (double)w->nbs / w->batch, &v);
        v = rint(v); /* numpy round: half to even */
        *accumulate = v > 1 ? (int)v : 1;
    }
    for (int g = 0; g < o->ngroups; g++) {
        cy_optim_group *gr = &o->groups[g];
        cy_np_interp(x, 0, x1, gr->kind == CY_PG_BIAS ? w->warmup_bias_lr : 0.0,
                     gr->initial_lr * lf, &gr->lr);
        if (gr->has_momentum)
            cy_np_interp(x, 0, x1, w->warmup_momentum, w->momentum, &gr->momentum);
    }
    if (applied) *applied = 1;
    return CY_OK;
}
