#include "engine/distill_setup.h"
#include <stdlib.h>
#include <string.h>
#include "engine/checkpoint.h"
#include "engine/pretrained.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* class names differ: a teacher that carries names must carry the dataset's */
static cy_status check_names(const char *path, const cy_model *teacher, char *const *names, int nc, cy_error *err) {
    if (!names || !cy_is_checkpoint_path(path)) return CY_OK;
    char **tn = NULL;
    cy_status st = cy_checkpoint_load_names(path, teacher->nc, &tn, err);
    for (int i = 0; st == CY_OK && i < nc && i < teacher->nc; i++) {
        char deflt[32];
        snprintf(deflt, sizeof deflt, "class%d", i);
        if (strcmp(tn[i], names[i]) && strcmp(tn[i], deflt)) /* class<i>: the checkpoint has no names */
            st = cy_fail(err, CY_ERR_ARG,
                         "distill_model=%s: the teacher's class %d is '%s', the dataset's is '%s': distillation needs "
                         "a teacher trained on the same classes",
                         path, i, tn[i], names[i]);
    }
    for (int i = 0; tn && i < teacher->nc; i++) free(tn[i]);
    free(tn);
    return st;
}

/* distill_weights=: every tensor of the YAML's teacher from the checkpoint,
 * same name and shape (a teacher with missing weights would teach noise) */
static cy_status load_weights(const char *path, const char *weights, cy_model *teacher, FILE *log, cy_error *err) {
    cy_model *src = NULL;
    cy_status st = cy_checkpoint_load_model(weights, NULL, 1, &src, err);
    if (st != CY_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        return cy_fail(err, st, "distill_weights=%s: %s", weights, msg);
    }
    for (int i = 0; i < teacher->nentries && st == CY_OK; i++) {
        const cy_entry *d = &teacher->entries[i];
        int j = cy_model_find_entry(src, d->name);
        int same = j >= 0 && src->entries[j].ndim == d->ndim && src->entries[j].kind == d->kind;
        for (int k = 0; same && k < d->ndim; k++) same = src->entries[j].shape[k] == d->shape[k];
        if (!same)
            st = cy_fail(err, CY_ERR_ARG, "distill_weights=%s: %s for the teacher %s: '%s'", weights,
                         j < 0 ? "no tensor" : "another shape", path, d->name);
    }
    int n = 0;
    if (st == CY_OK) cy_model_transfer(teacher, src, &n);
    cy_model_free(src);
    if (st == CY_OK && log)
        fprintf(log, "distill: teacher weights from %s (%d/%d items)\n", weights, n, teacher->nentries);
    return st;
}

/* Ultralytics rebuilds a teacher with other input channels from its YAML with
 * the student's, then loads its weights (the first conv's overlapping block) */
static cy_status match_channels(const char *path, cy_model **teacher, int channels, const cy_model_params *mp,
                                FILE *log, cy_error *err) {
    cy_model *old = *teacher, *fresh = NULL;
    if (old->channels == channels) return CY_OK;
    cy_model_params p = *mp;
    p.channels = channels;
    p.nc = old->nc;
    cy_status st = cy_model_create_from_text(&fresh, path, old->name, old->yaml_text, old->scale, &p, err);
    if (st != CY_OK) return st;
    int n = 0;
    cy_model_transfer(fresh, old, &n);
    if (log)
        fprintf(log, "distill: teacher %s rebuilt for %d input channels (it has %d): transferred %d/%d items\n", path,
                channels, old->channels, n, fresh->nentries);
    cy_model_free(old);
    *teacher = fresh;
    return CY_OK;
}

static cy_status parse_precision(const char *text, cy_precision *p, cy_error *err) {
    if (!text || !*text || !strcmp(text, "fp32")) *p = CY_PREC_F32;
    else if (!strcmp(text, "bf16")) *p = CY_PREC_BF16;
    else if (!strcmp(text, "int8")) *p = CY_PREC_INT8;
    else return cy_fail(err, CY_ERR_ARG, "distill_precision=%s: expected fp32, bf16 or int8", text);
    return CY_OK;
}

cy_status cy_distill_setup_create(const cy_distill_setup *s, const cy_model *student, FILE *log, cy_distill **out,
                                  cy_error *err) {
    *out = NULL;
    const char *path = s->teacher;
    if (!path || !*path) return cy_fail(err, CY_ERR_ARG, "distill_model= is empty");
    cy_precision prec = CY_PREC_F32;
    CY_TRY(parse_precision(s->precision, &prec, err));
    int is_yaml = ends_with(path, ".yaml") || ends_with(path, ".yml"); /* may name a built-in model */
    const int has_weights = s->weights && *s->weights;
    if (has_weights && !is_yaml)
        return cy_fail(err, CY_ERR_ARG,
                       "distill_weights=%s is for a model YAML teacher; distill_model=%s carries its own weights",
                       s->weights, path);
    FILE *f = is_yaml ? NULL : fopen(path, "rb");
    if (!is_yaml && !f)
        return cy_fail(err, CY_ERR_IO, "distill_model=%s: the teacher file does not exist or cannot be read", path);
    if (f) fclose(f);
    cy_model_params mp = cy_model_default_params();
    mp.backend = s->backend;
    cy_model *teacher = NULL;
    if (is_yaml) {
        mp.nc = student->nc;
        mp.init = s->formula ? CY_INIT_FORMULA : CY_INIT_DEFAULT;
        CY_TRY(cy_model_create(&teacher, path, &mp, err));
        if (has_weights) {
            cy_status wst = load_weights(path, s->weights, teacher, log, err);
            if (wst != CY_OK) {
                cy_model_free(teacher);
                return wst;
            }
        } else if (!s->formula && log) {
            fprintf(log, "WARNING distill_model=%s is a model YAML without distill_weights=: the teacher has untrained "
                         "weights\n", path);
        }
    } else {
        cy_status st = cy_checkpoint_load_model(path, &mp, 1, &teacher, err);
        if (st != CY_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            return cy_fail(err, st, "distill_model: %s", msg);
        }
    }
    cy_status st = CY_OK;
    if (teacher->task != student->task)
        st = cy_fail(err, CY_ERR_ARG,
                     "distill_model=%s: the teacher is a %s model and the student (%s) a %s model: distillation needs a "
                     "teacher of the student's task",
                     path, cy_task_name(teacher->task), student->name, cy_task_name(student->task));
    if (st == CY_OK) st = match_channels(path, &teacher, student->channels, &mp, log, err);
    if (st == CY_OK && s->nc > 0 && teacher->nc != s->nc)
        st = cy_fail(err, CY_ERR_ARG,
                     "distill_model=%s: the teacher predicts %d classes, the dataset has %d: distillation needs a "
                     "teacher trained on the same classes",
                     path, teacher->nc, s->nc);
    if (st == CY_OK) st = check_names(path, teacher, s->names, s->nc, err);
    cy_model_summary ts, ss;
    cy_model_summarize(teacher, &ts);
    cy_model_summarize(student, &ss);
    if (st == CY_OK) st = cy_distill_create(out, student, teacher, s->dis, s->seed, err);
    if (st != CY_OK) {
        cy_model_free(teacher);
        if (err && !strstr(err->msg, path)) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            cy_fail(err, st, "distill_model=%s: %s", path, msg);
        }
        return st;
    }
    if (s->formula) cy_distill_init_formula(*out);
    int slow = 0;
    if ((st = cy_distill_set_teacher_precision(*out, prec, &slow, err)) != CY_OK) {
        cy_distill_free(*out);
        *out = NULL;
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        return cy_fail(err, st, "distill_precision=%s: %s", s->precision, msg);
    }
    if (slow && log)
        fprintf(log, "WARNING distill_precision=%s: the %s backend emulates %s convolutions (no %s): the teacher may run "
                     "slower than in fp32\n", s->precision, cy_distill_teacher(*out)->backend->name, s->precision,
                prec == CY_PREC_BF16 ? "AVX512-BF16" : "AVX512-VNNI");
    if (log) {
        if (ts.params < ss.params)
            fprintf(log,
                    "WARNING the teacher %s (%lld parameters) is smaller than the student (%lld): distillation usually "
                    "needs a larger teacher (n<-s, s<-m, m<-x, l<-x)\n",
                    path, (long long)ts.params, (long long)ss.params);
        const char *pname = prec == CY_PREC_BF16 ? "bf16" : prec == CY_PREC_INT8 ? "int8" : "fp32";
        fprintf(log, "distill: teacher %s (%lld parameters, frozen, %s), dis=%g, %d levels\n", path,
                (long long)ts.params, pname, s->dis, cy_distill_levels(*out));
    }
    return CY_OK;
}
