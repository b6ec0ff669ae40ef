/* Parameter initialisation: the manifest's formula (for parity tests) and an
 * Ultralytics-like default (PyTorch's kaiming-uniform conv init, BatchNorm
 * 1/0 with running stats 0/1); both end with Detect.bias_init(). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/formula.h"
#include "model/model.h"

static float *entry_data(cy_model *m, const cy_entry *e) {
    switch (e->kind) {
    case CY_ENTRY_PARAM:
    case CY_ENTRY_FIXED: return m->params + e->offset;
    case CY_ENTRY_BUFFER: return m->buffers + e->offset;
    default: return NULL;
    }
}

static void init_dfl(cy_model *m, const cy_entry *e) {
    float *x = entry_data(m, e);
    for (size_t i = 0; i < e->numel; i++) x[i] = (float)i; /* fixed arange(reg_max) */
}

/* Detect.bias_init(): box bias 2.0, class bias log(5 / nc / (640 / stride)^2),
 * for every level of both branches. */
void cy_model_head_bias_init(cy_model *m) {
    const char *branches[2][2] = {{"cv2", "cv3"}, {"one2one_cv2", "one2one_cv3"}};
    for (int br = 0; br < (m->end2end ? 2 : 1); br++) {
        for (int i = 0; i < m->nl; i++) {
            char name[CY_NAME_MAX];
            snprintf(name, sizeof name, "model.%d.%s.%d.2.bias", m->detect_layer, branches[br][0], i);
            int k = cy_model_find_entry(m, name);
            if (k >= 0) {
                float *b = entry_data(m, &m->entries[k]);
                for (size_t j = 0; j < m->entries[k].numel; j++) b[j] = 2.0f;
            }
            snprintf(name, sizeof name, "model.%d.%s.%d.2.bias", m->detect_layer, branches[br][1], i);
            k = cy_model_find_entry(m, name);
            if (k >= 0) {
                float *b = entry_data(m, &m->entries[k]);
                double r = 640.0 / m->stride[i];
                float v = (float)log(5.0 / m->nc / (r * r));
                for (size_t j = 0; j < m->entries[k].numel && j < (size_t)m->nc; j++) b[j] = v;
            }
        }
    }
    m->weights_version++;
}

static cy_status init_formula(cy_model *m) {
    for (int i = 0; i < m->nentries; i++) {
        cy_entry *e = &m->entries[i];
        float *x = entry_data(m, e);
        size_t fan_in = 1;
        for (int d = 1; d < e->ndim; d++) fan_in *= (size_t)e->shape[d];
        switch (e->role) {
        case CY_ROLE_CONV_W: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_WEIGHT, fan_in); break;
        case CY_ROLE_CONV_B: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_BIAS, 0); break;
        case CY_ROLE_BN_W: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_BN_WEIGHT, 0); break;
        case CY_ROLE_BN_B: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_BN_BIAS, 0); break;
        case CY_ROLE_BN_MEAN: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_BN_MEAN, 0); break;
        case CY_ROLE_BN_VAR: cy_formula_fill(x, e->numel, e->name, CY_FORMULA_BN_VAR, 0); break;
        case CY_ROLE_COUNT: m->counters[e->offset] = 0; break;
        case CY_ROLE_DFL: init_dfl(m, e); break;
        }
    }
    return CY_OK;
}

/* splitmix64: a seeded, reproducible stream (no global RNG state). */
static double next_uniform(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static cy_status init_default(cy_model *m, uint64_t seed) {
    uint64_t s = seed;
    size_t last_fan_in = 1;
    for (int i = 0; i < m->nentries; i++) {
        cy_entry *e = &m->entries[i];
        float *x = entry_data(m, e);
        size_t fan_in = 1;
        for (int d = 1; d < e->ndim; d++) fan_in *= (size_t)e->shape[d];
        /* PyTorch Conv2d.reset_parameters: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
         * for weight (kaiming_uniform with a=sqrt(5)) and bias alike. */
        double bound = 1.0 / sqrt((double)(e->role == CY_ROLE_CONV_B ? last_fan_in : fan_in));
        for (size_t j = 0; x && j < e->numel; j++) {
            switch (e->role) {
            case CY_ROLE_CONV_W:
            case CY_ROLE_CONV_B: x[j] = (float)((2 * next_uniform(&s) - 1) * bound); break;
            case CY_ROLE_BN_W:
            case CY_ROLE_BN_VAR: x[j] = 1.0f; break;
            default: x[j] = 0.0f; break;
            }
        }
        if (e->role == CY_ROLE_CONV_W) last_fan_in = fan_in;
        if (e->role == CY_ROLE_COUNT) m->counters[e->offset] = 0;
        if (e->role == CY_ROLE_DFL) init_dfl(m, e);
    }
    return CY_OK;
}

/* Ultralytics' end2end Detect builds one2one_cv2 / one2one_cv3 as deep
 * copies of cv2 / cv3: both branches start from the same weights. */
static void copy_one2one(cy_model *m) {
    static const char tag[] = "one2one_";
    for (int i = 0; i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        const char *at = strstr(e->name, tag);
        if (!at) continue;
        char twin[sizeof e->name];
        snprintf(twin, sizeof twin, "%.*s%s", (int)(at - e->name), e->name, at + sizeof tag - 1);
        int j = cy_model_find_entry(m, twin);
        if (j < 0 || m->entries[j].numel != e->numel || m->entries[j].kind != e->kind) continue;
        float *to = entry_data(m, e);
        const float *from = entry_data(m, &m->entries[j]);
        if (to && from) memcpy(to, from, e->numel * sizeof *to);
    }
}

cy_status cy_model_reinit(cy_model *m, cy_init init, int head_bias_init, cy_error *err) {
    if (init != CY_INIT_FORMULA && init != CY_INIT_DEFAULT)
        return cy_fail(err, CY_ERR_ARG, "unknown initialisation %d", (int)init);
    CY_TRY(init == CY_INIT_FORMULA ? init_formula(m) : init_default(m, m->init_seed));
    if (init == CY_INIT_DEFAULT) copy_one2one(m); /* the formula names each tensor its own values */
    if (head_bias_init) cy_model_head_bias_init(m);
    m->weights_version++;
    return CY_OK;
}
