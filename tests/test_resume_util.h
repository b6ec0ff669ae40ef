/* Resuming in tests: run <from>'s epoch-0 checkpoint as the interrupted run
 * <to> (its last.pt and the first row of its results.csv), with
 * resume=True, as if <from> had stopped after its first epoch. */
#ifndef CY_TEST_RESUME_UTIL_H
#define CY_TEST_RESUME_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include "engine/trainer.h"

/* last: receives <proj>/<to>/weights/last.pt; log may be NULL (quiet) */
static inline cy_status test_resume_epoch0(const char *proj, const char *from, const char *to, FILE *log, char *last,
                                           size_t cap, cy_error *err) {
    char cmd[4096], save[4096];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/%s/weights' && cp '%s/%s/weights/epoch0.pt' '%s/%s/weights/last.pt' && head -2 "
             "'%s/%s/results.csv' > '%s/%s/results.csv'",
             proj, to, proj, from, proj, to, proj, from, proj, to);
    if (system(cmd) != 0) return cy_fail(err, CY_ERR_IO, "cannot prepare the resume of %s as %s", from, to);
    snprintf(last, cap, "%s/%s/weights/last.pt", proj, to);
    cy_args *a = NULL;
    cy_status st = cy_args_create(&a, err);
    if (st == CY_OK) st = cy_args_set(a, "model", last, err);
    if (st == CY_OK) st = cy_args_set(a, "resume", "True", err);
    FILE *quiet = log ? NULL : fopen("/dev/null", "w");
    if (st == CY_OK) st = cy_train_run(a, log ? log : quiet, save, sizeof save, err);
    if (quiet) fclose(quiet);
    cy_args_free(a);
    return st;
}

#endif
