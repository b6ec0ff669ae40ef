/* Optimizer construction (Ultralytics build_optimizer), optimizer=auto,
 * per-group setters, the step dispatch and gradient-norm clipping. */
#pragma GCC optimize("fp-contract=off") /* torch rounds every op separately */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/optim_impl.h"

/* ---- trainer arithmetic ------------------------------------------------- */

cy_status cy_train_accumulate(int nbs, int batch, int *accumulate, cy_error *err) {
    if (nbs <= 0 || batch <= 0 || !accumulate)
        return cy_fail(err, CY_ERR_ARG, "accumulate: nbs (%d) and batch (%d) must be positive", nbs,
                       batch);
    double r = rint((double)nbs / batch); /* Python round(): half to even */
    *accumulate = r < 1 ? 1 : (int)r;
    return CY_OK;
}

cy_status cy_train_weight_decay(double weight_decay, int batch, int accumulate, int nbs,
                                double *out, cy_error *err) {
    if (nbs <= 0 || batch <= 0 || accumulate <= 0 || !out)
        return cy_fail(err, CY_ERR_ARG, "weight_decay: batch, accumulate and nbs must be positive");
    /* args.weight_decay * self.batch_size * self.accumulate / self.args.nbs,
     * evaluated left to right */
    *out = weight_decay * batch * accumulate / nbs;
    return CY_OK;
}

cy_status cy_train_iterations(int64_t n_images, int batch, int nbs, int epochs, int64_t *out,
                              cy_error *err) {
    if (n_images < 0 || batch <= 0 || nbs <= 0 || epochs < 0 || !out)
        return cy_fail(err, CY_ERR_ARG, "iterations: bad dataset size, batch, nbs or epochs");
    int64_t d = batch > nbs ? batch : nbs;
    *out = (n_images + d - 1) / d * epochs;
    return CY_OK;
}

/* ---- optimizer choice --------------------------------------------------- */

static int name_is(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

/* Python round(x, 6): the correctly rounded decimal, as printf gives it. */
static double round6(double x) {
    char s[64];
    snprintf(s, sizeof s, "%.6f", x);
    return strtod(s, NULL);
}

cy_status cy_optim_resolve(const char *name, double lr0, double momentum, int nc,
                           double iterations, cy_optim_choice *out, cy_error *err) {
    if (!name || !out) return cy_fail(err, CY_ERR_ARG, "optimizer: no name");
    memset(out, 0, sizeof *out);
    out->lr = lr0;
    out->momentum = momentum;
    if (name_is(name, "auto")) {
        double lr_fit = round6(0.002 * 5 / (4 + nc));
        if (iterations > 10000) {
            out->kind = CY_OPTIM_MUSGD;
            out->lr = 0.01;
        } else {
            out->kind = CY_OPTIM_ADAMW;
            out->lr = lr_fit;
        }
        out->momentum = 0.9;
        out->auto_chosen = 1;
        return CY_OK;
    }
    if (name_is(name, "SGD")) out->kind = CY_OPTIM_SGD;
    else if (name_is(name, "AdamW")) out->kind = CY_OPTIM_ADAMW;
    else if (name_is(name, "MuSGD")) out->kind = CY_OPTIM_MUSGD;
    else if (name_is(name, "Adam") || name_is(name, "Adamax") || name_is(name, "NAdam") ||
             name_is(name, "RAdam") || name_is(name, "RMSprop"))
        return cy_fail(err, CY_ERR_UNSUPPORTED,
                       "optimizer '%s' is an Ultralytics choice cyolo does not implement; use "
                       "SGD, AdamW, MuSGD or auto",
                       name);
    else
        return cy_fail(err, CY_ERR_ARG,
                       "optimizer '%s' not found; available: SGD, AdamW, MuSGD, auto", name);
    return CY_OK;
}

/* ---- construction ------------------------------------------------------- */

/* MuSGD's lr*3 rule: re.search(r"(?=.*23)(?=.*cv3)|proto\.semseg", name) */
static int boosted_name(const char *name) {
    return (strstr(name, "23") && strstr(name, "cv3")) || strstr(name, "proto.semseg");
}

static cy_param_group_kind group_of(const cy_entry *e, int use_muon) {
    if (use_muon && (e->ndim == 2 || e->ndim == 4)) return CY_PG_MUON;
    if (strstr(e->name, "bias")) return CY_PG_BIAS;
    if (e->role == CY_ROLE_BN_W || strstr(e->name, "logit_scale")) return CY_PG_BN;
    return CY_PG_WEIGHT;
}

cy_status cy_optim_create(cy_optim **out, const cy_entry *entries, int nentries,
                          size_t nparams, const cy_optim_params *p, cy_error *err) {
    if (!out || !p || (nentries > 0 && !entries))
        return cy_fail(err, CY_ERR_ARG, "optimizer: missing arguments");
    *out = NULL;
    if (p->kind != CY_OPTIM_SGD && p->kind != CY_OPTIM_ADAMW && p->kind != CY_OPTIM_MUSGD)
        return cy_fail(err, CY_ERR_ARG, "optimizer: unknown kind %d", (int)p->kind);
    if (!(p->lr >= 0) || !(p->weight_decay >= 0) || !(p->momentum >= 0))
        return cy_fail(err, CY_ERR_ARG, "optimizer: lr (%g), momentum (%g) and weight_decay (%g) "
                       "must be >= 0", p->lr, p->momentum, p->weight_decay);
    size_t largest = 0;
    for (int e = 0; e < nentries; e++) {
        const cy_entry *en = &entries[e];
        if (en->kind != CY_ENTRY_PARAM && en->kind != CY_ENTRY_FIXED) continue;
        if (en->offset + en->numel > nparams || en->offset + en->numel < en->offset)
            return cy_fail(err, CY_ERR_ARG, "optimizer: entry '%s' lies outside the %zu params",
                           en->name, nparams);
        if (en->numel > largest) largest = en->numel;
    }
    cy_optim *o = calloc(1, sizeof *o);
    if (!o) return cy_fail(err, CY_ERR_MEMORY, "optimizer: out of memory");
    o->kind = p->kind;
    o->entries = entries;
    o->nentries = nentries;
    o->nparams = nparams;
    o->ns_fp32 = p->ns_fp32;
    o->group_entries = malloc((nentries > 0 ? nentries : 1) * sizeof *o->group_entries);
    o->frozen = calloc(nentries > 0 ? nentries : 1, 1);
    o->has_state = calloc(nentries > 0 ? nentries : 1, 1);
    o->step = calloc(nentries > 0 ? nentries : 1, sizeof *o->step);
    o->a = calloc(nparams ? nparams : 1, sizeof(float));
    if (p->kind != CY_OPTIM_SGD) o->b = calloc(nparams ? nparams : 1, sizeof(float));
    if (p->kind == CY_OPTIM_MUSGD) o->scratch = malloc((largest ? largest : 1) * sizeof(float));
    if (!o->group_entries || !o->frozen || !o->has_state || !o->step || !o->a ||
        (p->kind != CY_OPTIM_SGD && !o->b) || (p->kind == CY_OPTIM_MUSGD && !o->scratch)) {
        cy_optim_free(o);
        return cy_fail(err, CY_ERR_MEMORY, "optimizer: out of memory for %zu parameters", nparams);
    }

    const int muon = p->kind == CY_OPTIM_MUSGD;
    /* build_optimizer's dict order: weight, bn, bias (, muon) */
    static const cy_param_group_kind order[4] = {CY_PG_WEIGHT, CY_PG_BN, CY_PG_BIAS, CY_PG_MUON};
    const int nkinds = muon ? 4 : 3, halves = muon ? 2 : 1;
    int used = 0;
    for (int k = 0; k < nkinds; k++)
        for (int h = 0; h < halves; h++) {
            cy_optim_group *g = &o->groups[o->ngroups++];
            g->kind = order[k];
            g->boosted = muon && h == 0;
            g->use_muon = g->kind == CY_PG_MUON;
            g->nesterov = p->kind != CY_OPTIM_ADAMW;
            g->has_momentum = p->kind != CY_OPTIM_ADAMW;
            g->lr = g->boosted ? p->lr * 3 : p->lr;
            g->initial_lr = g->lr;
            g->momentum = p->momentum;
            g->beta2 = 0.999;
            g->eps = 1e-8;
            g->weight_decay = g->kind == CY_PG_WEIGHT || g->kind == CY_PG_MUON ? p->weight_decay : 0.0;
            g->entries = o->group_entries + used;
            for (int e = 0; e < nentries; e++) {
                const cy_entry *en = &entries[e];
                if (en->kind != CY_ENTRY_PARAM && en->kind != CY_ENTRY_FIXED) continue;
                if (group_of(en, muon) != g->kind) continue;
                if (muon && boosted_name(en->name) != g->boosted) continue;
                o->group_entries[used++] = e;
                g->nentries++;
            }
        }
    *out = o;
    return CY_OK;
}

cy_status cy_optim_create_for_model(cy_optim **out, const cy_model *m, const cy_optim_params *p,
                                    cy_error *err) {
    if (!m) return cy_fail(err, CY_ERR_ARG, "optimizer: no model");
    return cy_optim_create(out, m->entries, m->nentries, m->nparams, p, err);
}

void cy_optim_free(cy_optim *o) {
    if (!o) return;
    free(o->group_entries);
    free(o->frozen);
    free(o->has_state);
    free(o->step);
    free(o->a);
    free(o->b);
    free(o->scratch);
    free(o);
}

/* ---- groups ------------------------------------------------------------- */

cy_status cy_optim_group_count(const cy_optim *o, int *n) {
    if (!o || !n) return CY_ERR_ARG;
    *n = o->ngroups;
    return CY_OK;
}

static cy_status check_group(const cy_optim *o, int g, cy_error *err) {
    if (!o) return cy_fail(err, CY_ERR_ARG, "optimizer: NULL");
    if (g < 0 || g >= o->ngroups)
        return cy_fail(err, CY_ERR_ARG, "optimizer: group %d out of range (0..%d)", g, o->ngroups - 1);
    return CY_OK;
}

cy_status cy_optim_get_group(const cy_optim *o, int g, cy_optim_group *out, cy_error *err) {
    CY_TRY(check_group(o, g, err));
    if (!out) return cy_fail(err, CY_ERR_ARG, "optimizer: no output");
    *out = o->groups[g];
    return CY_OK;
}

cy_status cy_optim_set_group_lr(cy_optim *o, int g, double lr, cy_error *err) {
    CY_TRY(check_group(o, g, err));
    o->groups[g].lr = lr;
    return CY_OK;
}

cy_status cy_optim_set_group_momentum(cy_optim *o, int g, double momentum, cy_error *err) {
    CY_TRY(check_group(o, g, err));
    o->groups[g].momentum = momentum;
    return CY_OK;
}

cy_status cy_optim_set_frozen(cy_optim *o, int entry, int frozen, cy_error *err) {
    if (!o) return cy_fail(err, CY_ERR_ARG, "optimizer: NULL");
    if (entry < 0 || entry >= o->nentries)
        return cy_fail(err, CY_ERR_ARG, "optimizer: entry %d out of range", entry);
    o->frozen[entry] = frozen != 0;
    return CY_OK;
}

cy_status cy_optim_get_state(cy_optim *o, cy_optim_state *out) {
    if (!o || !out) return CY_ERR_ARG;
    out->a = o->a;
    out->b = o->b;
    out->step = o->step;
    out->has_state = o->has_state;
    out->nparams = o->nparams;
    out->nentries = o->nentries;
    return CY_OK;
}

/* ---- step and clipping -------------------------------------------------- */

cy_status cy_optim_step(cy_optim *o, float *params, const float *grads, cy_error *err) {
    if (!o || !params || !grads) return cy_fail(err, CY_ERR_ARG, "optimizer step: NULL buffer");
    for (int i = 0; i < o->ngroups; i++) {
        const cy_optim_group *g = &o->groups[i];
        if (!g->nentries) continue;
        switch (o->kind) {
        case CY_OPTIM_SGD: CY_TRY(cy_optim_step_sgd(o, g, params, grads, err)); break;
        case CY_OPTIM_ADAMW: CY_TRY(cy_optim_step_adamw(o, g, params, grads, err)); break;
        case CY_OPTIM_MUSGD: CY_TRY(cy_optim_step_musgd(o, g, params, grads, err)); break;
        }
    }
    return CY_OK;
}

/* torch.norm(x) of a float32 tensor as torch 1.13's vectorised CPU kernel
 * computes it (AVX2 dispatch, 8 float lanes): lane-wise fused sums of
 * squares, lanes added in order, the tail added one by one, sqrt in float.
 * This reproduces the reference's total norm to the last bit. */
static float torch_norm2(const float *x, size_t n) {
    enum { L = 8 };
    float acc[L] = {0};
    size_t d = 0;
    for (; d + L <= n; d += L)
        for (int l = 0; l < L; l++) acc[l] = fmaf(x[d + l], x[d + l], acc[l]);
    float s = acc[0];
    for (int l = 1; l < L; l++) s = s + acc[l];
    for (; d < n; d++) s = fmaf(x[d], x[d], s);
    return sqrtf(s);
}

cy_status cy_optim_clip_grad_norm(const cy_optim *o, float *grads, double max_norm,
                                  double *total_norm, cy_error *err) {
    return cy_optim_clip_grad_norm_multi(&o, &grads, 1, max_norm, total_norm, err);
}

cy_status cy_optim_clip_grad_norm_multi(const cy_optim *const *opts, float *const *grads, int n, double max_norm,
                                        double *total_norm, cy_error *err) {
    /* total = torch.norm(torch.stack([torch.norm(g) for g in grads])) */
    int count = 0;
    for (int i = 0; i < n; i++) {
        if (!opts[i] || !grads[i]) return cy_fail(err, CY_ERR_ARG, "clip_grad_norm: NULL");
        for (int e = 0; e < opts[i]->nentries; e++) count += cy_optim_trainable(opts[i], e);
    }
    if (!count) {
        if (total_norm) *total_norm = 0;
        return CY_OK;
    }
    float *norms = malloc((size_t)count * sizeof *norms);
    if (!norms) return cy_fail(err, CY_ERR_MEMORY, "clip_grad_norm: out of memory");
    int k = 0;
    for (int i = 0; i < n; i++)
        for (int e = 0; e < opts[i]->nentries; e++)
            if (cy_optim_trainable(opts[i], e))
                norms[k++] = torch_norm2(grads[i] + opts[i]->entries[e].offset, opts[i]->entries[e].numel);
    const float total = torch_norm2(norms, (size_t)count);
    free(norms);
    if (total_norm) *total_norm = total;
    const float denom = total + cy_f32(1e-6);
    float coef = (1.0f / denom) * cy_f32(max_norm); /* max_norm / t == t.reciprocal() * max_norm */
    if (coef > 1.0f) coef = 1.0f;                  /* clamp(max=1.0); NaN passes through */
    for (int i = 0; i < n; i++)
        for (int e = 0; e < opts[i]->nentries; e++) {
            if (!cy_optim_trainable(opts[i], e)) continue;
            float *g = grads[i] + opts[i]->entries[e].offset;
            const size_t ne = opts[i]->entries[e].numel;
            for (size_t j = 0; j < ne; j++) g[j] = g[j] * coef;
        }
    return CY_OK;
}
