#include "engine/pretrained.h"
#include <string.h>
#include "engine/checkpoint.h"
#include "io/pt.h"
#include "io/pt_value.h"

/* where an entry's values live, and how big one value is */
static char *entry_data(const cy_model *m, const cy_entry *e, size_t *elem) {
    *elem = e->kind == CY_ENTRY_COUNTER ? sizeof(int64_t) : sizeof(float);
    if (e->kind == CY_ENTRY_COUNTER) return (char *)(m->counters + e->offset);
    if (e->kind == CY_ENTRY_BUFFER) return (char *)(m->buffers + e->offset);
    return (char *)(m->params + e->offset);
}

static int same_shape(const cy_entry *a, const cy_entry *b) {
    if (a->ndim != b->ndim || a->kind != b->kind) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

void cy_model_transfer(cy_model *dst, const cy_model *src, int *transferred) {
    int n = 0;
    for (int i = 0; i < dst->nentries; i++) {
        const cy_entry *d = &dst->entries[i];
        int j = cy_model_find_entry(src, d->name);
        if (j < 0) continue;
        const cy_entry *s = &src->entries[j];
        size_t elem;
        char *to = entry_data(dst, d, &elem);
        const char *from = entry_data(src, s, &elem);
        if (same_shape(d, s)) {
            memcpy(to, from, d->numel * elem);
            n++;
        } else if (!strcmp(d->name, "model.0.conv.weight") && d->ndim == 4 && s->ndim == 4 &&
                   d->shape[2] == s->shape[2] && d->shape[3] == s->shape[3]) {
            int64_t co = d->shape[0] < s->shape[0] ? d->shape[0] : s->shape[0];
            int64_t ci = d->shape[1] < s->shape[1] ? d->shape[1] : s->shape[1], k = d->shape[2] * d->shape[3];
            for (int64_t o = 0; o < co; o++)
                memcpy(to + (o * d->shape[1]) * k * elem, from + (o * s->shape[1]) * k * elem, ci * k * elem);
            n++;
        }
    }
    dst->weights_version++;
    *transferred = n;
}

static cy_status transfer_from(cy_model *dst, const char *weights, FILE *log, cy_error *err) {
    cy_model *src = NULL;
    CY_TRY(cy_checkpoint_load_model(weights, NULL, 1, &src, err)); /* EMA first, as attempt_load_one_weight */
    int n;
    cy_model_transfer(dst, src, &n);
    cy_model_free(src);
    if (log) fprintf(log, "Transferred %d/%d items from pretrained weights\n", n, dst->nentries);
    return CY_OK;
}

cy_status cy_train_models_create(const char *model_arg, const char *pretrained, const cy_model_params *mp,
                                 FILE *log, cy_model **train, cy_model **val, cy_error *err) {
    *train = *val = NULL;
    const char *weights = NULL;
    cy_status st;
    if (cy_is_checkpoint_path(model_arg)) {
        weights = model_arg;
        if ((st = cy_checkpoint_create_model(model_arg, mp, train, err)) == CY_OK) /* cyolo's or Ultralytics' */
            st = cy_checkpoint_create_model(model_arg, mp, val, err);
    } else {
        if (pretrained && *pretrained && strcmp(pretrained, "True") && strcmp(pretrained, "False")) {
            if (!cy_is_checkpoint_path(pretrained))
                return cy_fail(err, CY_ERR_ARG, "pretrained=%s: expected True, False or a .pt checkpoint", pretrained);
            weights = pretrained;
        }
        if ((st = cy_model_create(train, model_arg, mp, err)) == CY_OK) st = cy_model_create(val, model_arg, mp, err);
    }
    if (st == CY_OK && weights) st = transfer_from(*train, weights, log, err);
    if (st != CY_OK) {
        cy_model_free(*train);
        cy_model_free(*val);
        *train = *val = NULL;
    }
    return st;
}
