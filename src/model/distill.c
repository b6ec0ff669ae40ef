/* Teacher-student pairing and the projectors' parameters (see distill.h);
 * the loss and its backward are in distill_loss.c. */
#include "model/distill.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/formula.h"
#include "model/distill_internal.h"

static const char *kind_name(cy_module_kind k) {
    static const char *names[] = {"Conv", "DWConv", "Bottleneck", "C2f", "C3", "C3k", "C3k2", "SPPF", "C2PSA",
                                  "Concat", "Upsample", "Detect"};
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

/* "yolo26" for yolo26s, "yolo26-seg" for yolo26s-seg (the scale letter after
 * the version digits dropped), else the YAML path (custom models) */
static void family_label(const cy_model *m, char *out, size_t cap) {
    const char *p = m->name;
    if (!strncmp(p, "yolo", 4) && m->scale) {
        const char *q = p + 4;
        if (*q == 'v') q++;
        const char *digits = q;
        while (*q >= '0' && *q <= '9') q++;
        if (q > digits && *q == m->scale) {
            snprintf(out, cap, "%.*s%s", (int)(q - p), p, q + 1);
            return;
        }
    }
    snprintf(out, cap, "%s", *m->name ? m->name : m->yaml_path);
}

/* Same family: the same layer sequence of module kinds wired the same way,
 * the same head (levels, reg_max, end2end, legacy); scales may differ. */
static cy_status check_family(const cy_model *s, const cy_model *t, cy_error *err) {
    char fs[96], ft[96], why[160] = "";
    family_label(s, fs, sizeof fs);
    family_label(t, ft, sizeof ft);
    if (s->nlayers != t->nlayers)
        snprintf(why, sizeof why, "%d layers vs %d", t->nlayers, s->nlayers);
    else if (s->end2end != t->end2end)
        snprintf(why, sizeof why, "end2end=%s vs %s", t->end2end ? "True" : "False", s->end2end ? "True" : "False");
    else if (s->reg_max != t->reg_max)
        snprintf(why, sizeof why, "reg_max %d vs %d", t->reg_max, s->reg_max);
    else if (s->legacy != t->legacy)
        snprintf(why, sizeof why, "a %s Detect head", t->legacy ? "legacy" : "non-legacy");
    else if (s->nl != t->nl)
        snprintf(why, sizeof why, "%d detection levels vs %d", t->nl, s->nl);
    else
        for (int i = 0; i < s->nlayers && !*why; i++) {
            const cy_layer *a = &s->layers[i], *b = &t->layers[i];
            if (a->kind != b->kind)
                snprintf(why, sizeof why, "layer %d is %s in the teacher, %s in the student", i, kind_name(b->kind),
                         kind_name(a->kind));
            else if (a->nfrom != b->nfrom || memcmp(a->from, b->from, sizeof(int) * (size_t)a->nfrom))
                snprintf(why, sizeof why, "layer %d takes other inputs", i);
        }
    if (!*why && strncmp(fs, "yolo", 4) == 0 && strncmp(ft, "yolo", 4) == 0 && strcmp(fs, ft))
        snprintf(why, sizeof why, "%s vs %s", ft, fs);
    if (*why)
        return cy_fail(err, CY_ERR_ARG,
                       "distillation needs a teacher of the student's family: teacher %s and student %s differ (%s)",
                       ft, fs, why);
    return CY_OK;
}

cy_status cy_distill_create(cy_distill **out, const cy_model *student, cy_model *teacher, double dis, uint64_t seed,
                            cy_error *err) {
    *out = NULL;
    if (!(dis >= 0) || !isfinite(dis)) return cy_fail(err, CY_ERR_ARG, "dis=%g must be a number >= 0", dis);
    if (student->detect_layer < 0 || teacher->detect_layer < 0)
        return cy_fail(err, CY_ERR_ARG, "distillation needs a Detect head in both teacher and student");
    if (student->task != teacher->task)
        return cy_fail(err, CY_ERR_ARG, "distillation needs a teacher of the student's task: a %s teacher for a %s student",
                       cy_task_name(teacher->task), cy_task_name(student->task));
    CY_TRY(check_family(student, teacher, err));
    if (student->backend->layout != teacher->backend->layout || strcmp(student->backend->name, teacher->backend->name))
        return cy_fail(err, CY_ERR_ARG, "teacher and student must run on the same backend (%s vs %s)",
                       teacher->backend->name, student->backend->name);
    if (student->nc != teacher->nc)
        return cy_fail(err, CY_ERR_ARG,
                       "the teacher predicts %d classes, the student %d: distillation needs the same classes", teacher->nc,
                       student->nc);
    const cy_layer *hs = &student->layers[student->detect_layer], *ht = &teacher->layers[teacher->detect_layer];
    cy_distill *d = calloc(1, sizeof *d);
    if (!d) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    d->nl = hs->nfrom;
    d->dis = dis;
    size_t off = 0;
    for (int l = 0; l < d->nl; l++) {
        d->s_layer[l] = hs->from[l];
        d->t_layer[l] = ht->from[l];
        d->cs[l] = student->layers[hs->from[l]].c2;
        d->ct[l] = teacher->layers[ht->from[l]].c2;
        for (int k = 0; k < 4; k++) {
            cy_entry *e = &d->entries[d->nentries++];
            int second = k >= 2, bias = k & 1;
            snprintf(e->name, sizeof e->name, "projector.%d.%d.%s", l, second ? 2 : 0, bias ? "bias" : "weight");
            e->kind = CY_ENTRY_PARAM;
            e->role = bias ? CY_ROLE_CONV_B : CY_ROLE_CONV_W;
            e->ndim = bias ? 1 : 4;
            e->shape[0] = d->ct[l];
            if (!bias) e->shape[1] = second ? d->ct[l] : d->cs[l], e->shape[2] = e->shape[3] = 1;
            e->numel = bias ? (size_t)d->ct[l] : (size_t)d->ct[l] * (size_t)e->shape[1];
            e->offset = off;
            off += e->numel;
        }
    }
    d->nparams = off;
    d->params = calloc(off, sizeof(float));
    d->grads = calloc(off, sizeof(float));
    if (!d->params || !d->grads) {
        cy_distill_free(d);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for the projectors");
    }
    /* torch.nn.Conv2d's reset_parameters: kaiming_uniform(a=sqrt(5)) gives
     * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, the same for the bias */
    uint64_t z = seed ^ 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < d->nentries; i++) {
        const cy_entry *e = &d->entries[i];
        int fan_in = (int)d->entries[i - (i & 1)].shape[1];
        double bound = 1.0 / sqrt((double)fan_in);
        for (size_t k = 0; k < e->numel; k++) {
            z += 0x9e3779b97f4a7c15ull; /* splitmix64 */
            uint64_t r = z;
            r = (r ^ (r >> 30)) * 0xbf58476d1ce4e5b9ull;
            r = (r ^ (r >> 27)) * 0x94d049bb133111ebull;
            r ^= r >> 31;
            double u = (double)(r >> 11) / 9007199254740992.0;
            d->params[e->offset + k] = (float)((2 * u - 1) * bound);
        }
    }
    cy_model_set_training(teacher, 0);
    cy_model_set_want_one2many(teacher, 1);
    teacher->skip_boxes = 1;
    cy_status st = cy_model_set_hooks(teacher, d->t_layer, d->nl, err);
    if (st != CY_OK) {
        cy_distill_free(d);
        return st;
    }
    d->teacher = teacher;
    *out = d;
    return CY_OK;
}

void cy_distill_free(cy_distill *d) {
    if (!d) return;
    for (int l = 0; l < CY_MAX_LEVELS; l++)
        for (int k = 0; k < 4; k++)
            if (d->slots[l][k] && d->teacher) d->teacher->backend->slot_free(d->teacher->backend, d->slots[l][k]);
    cy_model_free(d->teacher);
    free(d->params);
    free(d->grads);
    for (int i = 0; i < DISTILL_SCRATCH; i++) free(d->scratch[i]);
    for (int l = 0; l < CY_MAX_LEVELS; l++) free(d->w[l]), free(d->tfeat[l]);
    free(d);
}

void cy_distill_init_formula(cy_distill *d) {
    for (int i = 0; i < d->nentries; i++) {
        const cy_entry *e = &d->entries[i];
        if (e->ndim == 1) cy_formula_fill(d->params + e->offset, e->numel, e->name, CY_FORMULA_BIAS, 0);
        else cy_formula_fill(d->params + e->offset, e->numel, e->name, CY_FORMULA_WEIGHT, (size_t)e->shape[1]);
    }
}

int cy_distill_entries(const cy_distill *d, const cy_entry **entries) {
    *entries = d->entries;
    return d->nentries;
}
float *cy_distill_params(cy_distill *d) { return d->params; }
float *cy_distill_grads(cy_distill *d) { return d->grads; }
size_t cy_distill_nparams(const cy_distill *d) { return d->nparams; }
cy_model *cy_distill_teacher(cy_distill *d) { return d->teacher; }
int cy_distill_levels(const cy_distill *d) { return d->nl; }
double cy_distill_gain(const cy_distill *d) { return d->dis; }
void cy_distill_set_teacher_chunk(cy_distill *d, int images) { d->teacher_chunk = images; }

cy_status cy_distill_set_teacher_precision(cy_distill *d, cy_precision p, int *warn_slow, cy_error *err) {
    const cy_backend *be = d->teacher->backend;
    if (warn_slow) *warn_slow = 0;
    if (p == CY_PREC_BF16 && be->bf16 == CY_LOWP_NONE)
        return cy_fail(err, CY_ERR_ARG, "a bf16 teacher needs a CPU with AVX-512 (backend %s has no bf16 convolution)",
                       be->name);
    if (p == CY_PREC_INT8 && be->int8 == CY_LOWP_NONE)
        return cy_fail(err, CY_ERR_ARG, "an int8 teacher needs a CPU with AVX2 (backend %s has no int8 convolution)",
                       be->name);
    if (p != CY_PREC_F32 && p != CY_PREC_BF16 && p != CY_PREC_INT8)
        return cy_fail(err, CY_ERR_ARG, "unknown teacher precision %d", (int)p);
    if (warn_slow)
        *warn_slow = (p == CY_PREC_BF16 && be->bf16 == CY_LOWP_EMULATED) ||
                     (p == CY_PREC_INT8 && be->int8 == CY_LOWP_EMULATED);
    d->teacher->precision = p;
    free(d->teacher->int8_step); /* calibrate again on the next forward */
    d->teacher->int8_step = NULL;
    return CY_OK;
}
void cy_distill_zero_grad(cy_distill *d) { memset(d->grads, 0, d->nparams * sizeof(float)); }
