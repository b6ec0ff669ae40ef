/* ModelEMA (ultralytics/utils/torch_utils.py): every floating state_dict
 * entry - params, fixed params, BN running stats - is averaged with
 *   d = decay * (1 - exp(-updates / tau)),  v *= d;  v += (1 - d) * x
 * as two separately rounded float32 ops, Python-float scalars cast to
 * float32. int64 counters are not floating and are left out. */
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/optim_impl.h"

struct cy_ema {
    double decay, tau;
    int64_t updates;
    float *params, *buffers;
    size_t nparams, nbuffers;
};

cy_status cy_ema_create(cy_ema **out, const float *params, size_t nparams, const float *buffers,
                        size_t nbuffers, const cy_ema_params *p, cy_error *err) {
    if (!out || (nparams && !params) || (nbuffers && !buffers))
        return cy_fail(err, CY_ERR_ARG, "ema: missing arguments");
    *out = NULL;
    cy_ema_params d = {0.9999, 2000};
    if (p) d = *p;
    if (!(d.tau > 0) || !(d.decay >= 0 && d.decay <= 1))
        return cy_fail(err, CY_ERR_ARG, "ema: decay must lie in [0, 1] and tau be positive");
    cy_ema *e = calloc(1, sizeof *e);
    if (!e) return cy_fail(err, CY_ERR_MEMORY, "ema: out of memory");
    e->decay = d.decay;
    e->tau = d.tau;
    e->nparams = nparams;
    e->nbuffers = nbuffers;
    e->params = malloc((nparams ? nparams : 1) * sizeof(float));
    e->buffers = malloc((nbuffers ? nbuffers : 1) * sizeof(float));
    if (!e->params || !e->buffers) {
        cy_ema_free(e);
        return cy_fail(err, CY_ERR_MEMORY, "ema: out of memory for %zu floats", nparams + nbuffers);
    }
    if (nparams) memcpy(e->params, params, nparams * sizeof(float));
    if (nbuffers) memcpy(e->buffers, buffers, nbuffers * sizeof(float));
    *out = e;
    return CY_OK;
}

cy_status cy_ema_create_for_model(cy_ema **out, const cy_model *m, const cy_ema_params *p,
                                  cy_error *err) {
    if (!m) return cy_fail(err, CY_ERR_ARG, "ema: no model");
    return cy_ema_create(out, m->params, m->nparams, m->buffers, m->nbuffers, p, err);
}

void cy_ema_free(cy_ema *e) {
    if (!e) return;
    free(e->params);
    free(e->buffers);
    free(e);
}

static double decay_at(const cy_ema *e, int64_t updates) {
    return e->decay * (1 - exp(-(double)updates / e->tau));
}

static void blend(float *v, const float *x, size_t n, float d, float omd) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float a = v[i] * d;
        float b = omd * x[i];
        v[i] = a + b;
    }
}

cy_status cy_ema_update(cy_ema *e, const float *params, const float *buffers, cy_error *err) {
    if (!e || (e->nparams && !params) || (e->nbuffers && !buffers))
        return cy_fail(err, CY_ERR_ARG, "ema update: NULL");
    e->updates++;
    const double d = decay_at(e, e->updates);
    const float fd = (float)d, omd = (float)(1 - d);
    blend(e->params, params, e->nparams, fd, omd);
    blend(e->buffers, buffers, e->nbuffers, fd, omd);
    return CY_OK;
}

cy_status cy_ema_next_decay(const cy_ema *e, double *d) {
    if (!e || !d) return CY_ERR_ARG;
    *d = decay_at(e, e->updates + 1);
    return CY_OK;
}

cy_status cy_ema_get(const cy_ema *e, const float **params, const float **buffers,
                     int64_t *updates) {
    if (!e) return CY_ERR_ARG;
    if (params) *params = e->params;
    if (buffers) *buffers = e->buffers;
    if (updates) *updates = e->updates;
    return CY_OK;
}

cy_status cy_ema_set_updates(cy_ema *e, int64_t updates, cy_error *err) {
    if (!e || updates < 0) return cy_fail(err, CY_ERR_ARG, "ema: updates must be >= 0");
    e->updates = updates;
    return CY_OK;
}

cy_status cy_ema_load(cy_ema *e, const float *params, const float *buffers, cy_error *err) {
    if (!e || (e->nparams && !params) || (e->nbuffers && !buffers))
        return cy_fail(err, CY_ERR_ARG, "ema load: NULL");
    if (e->nparams) memcpy(e->params, params, e->nparams * sizeof(float));
    if (e->nbuffers) memcpy(e->buffers, buffers, e->nbuffers * sizeof(float));
    return CY_OK;
}
