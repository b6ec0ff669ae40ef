/* The public training entry points of cyolo.h: a thin layer over the run
 * arguments (engine/args.h) and the trainer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/status.h"
#include "engine/args.h"
#include "engine/trainer.h"

struct cy_train_options {
    cy_args *args;
};

cy_status cy_train_options_create(cy_train_options **out, cy_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    cy_status st = cy_args_create(&(*out)->args, err);
    if (st != CY_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

void cy_train_options_free(cy_train_options *o) {
    if (!o) return;
    cy_args_free(o->args);
    free(o);
}

cy_status cy_train_options_set(cy_train_options *o, const char *key, const char *value, cy_error *err) {
    if (!o || !key || !value) return cy_fail(err, CY_ERR_ARG, "cy_train_options_set: NULL argument");
    return cy_args_set(o->args, key, value, err);
}

cy_status cy_train_options_set_distill(cy_train_options *o, const char *teacher, double dis, cy_error *err) {
    if (!o || !teacher) return cy_fail(err, CY_ERR_ARG, "cy_train_options_set_distill: NULL argument");
    if (!(dis >= 0) || !isfinite(dis)) return cy_fail(err, CY_ERR_ARG, "dis=%g must be a number >= 0", dis);
    char text[64];
    for (int digits = 1; digits <= 17; digits++) { /* the shortest text that reads back as dis */
        snprintf(text, sizeof text, "%.*g", digits, dis);
        if (strtod(text, NULL) == dis) break;
    }
    if (!strpbrk(text, ".en")) strcat(text, ".0"); /* a Python float, as args.yaml shows it */
    CY_TRY(cy_args_set(o->args, "distill_model", teacher, err));
    return cy_args_set(o->args, "dis", text, err);
}

cy_status cy_train(const cy_train_options *o, void *log, char *save_dir, size_t save_dir_cap, cy_error *err) {
    if (!o) return cy_fail(err, CY_ERR_ARG, "cy_train: NULL options");
    FILE *quiet = NULL, *out = log;
    if (!out && !(out = quiet = fopen("/dev/null", "w")))
        return cy_fail(err, CY_ERR_IO, "cy_train: cannot open /dev/null for a quiet run");
    cy_status st = cy_train_run(o->args, out, save_dir, save_dir_cap, err);
    if (quiet) fclose(quiet);
    return st;
}
