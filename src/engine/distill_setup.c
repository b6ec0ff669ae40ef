#include "engine/distill_setup.h"
#include <stdlib.h>
#include <string.h>
#include "engine/checkpoint.h"

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

cy_status cy_distill_setup_create(const cy_distill_setup *s, const cy_model *student, FILE *log, cy_distill **out,
                                  cy_error *err) {
    *out = NULL;
    const char *path = s->teacher;
    if (!path || !*path) return cy_fail(err, CY_ERR_ARG, "distill_model= is empty");
    int is_yaml = ends_with(path, ".yaml") || ends_with(path, ".yml"); /* may name a built-in model */
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
        if (!s->formula && log)
            fprintf(log, "WARNING distill_model=%s is a model YAML: the teacher has untrained weights\n", path);
    } else {
        cy_status st = cy_checkpoint_load_model(path, &mp, 1, &teacher, err);
        if (st != CY_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
            return cy_fail(err, st, "distill_model: %s", msg);
        }
    }
    cy_status st = CY_OK;
    if (s->nc > 0 && teacher->nc != s->nc)
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
    if (log) {
        if (ts.params < ss.params)
            fprintf(log,
                    "WARNING the teacher %s (%lld parameters) is smaller than the student (%lld): distillation usually "
                    "needs a larger teacher (n<-s, s<-m, m<-x, l<-x)\n",
                    path, (long long)ts.params, (long long)ss.params);
        fprintf(log, "distill: teacher %s (%lld parameters, frozen), dis=%g, %d levels\n", path, (long long)ts.params,
                s->dis, cy_distill_levels(*out));
    }
    return CY_OK;
}
