/* `cyolo train key=value ...`: Ultralytics' train arguments (cfg/default.yaml),
 * an unknown key or a bad value refused with the key named and the nearest
 * valid keys suggested. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "engine/trainer.h"
#include "engine/predict_run.h"
#include "engine/val_run.h"

/* Ultralytics-style key=value arguments into cy_args (cfg= first). */
static int load_args(cli_args *a, const char *mode, cy_args **out) {
    cy_error err = {0};
    if (cy_args_create(out, &err) != CY_OK) return cli_report(&err);
    const char *cfg = cli_get(a, "cfg", NULL);
    if (cfg && *cfg && cy_args_load_yaml(*out, cfg, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 2;
    }
    for (int i = 0; i < a->n; i++) {
        a->used[i] = 1;
        if (cy_args_set(*out, a->key[i], a->val[i], &err) != CY_OK) {
            fprintf(stderr, "error: %s\n", err.msg);
            return 2;
        }
    }
    if (cy_args_set(*out, "mode", mode, &err) != CY_OK) return cli_report(&err);
    return 0;
}

static int finish(cy_status st, const cy_error *err) {
    if (st == CY_OK) return 0;
    fprintf(stderr, "error: %s\n", err->msg);
    return err->status == CY_ERR_ARG ? 2 : 1;
}

int cmd_train(cli_args *a) {
    cy_args *args = NULL;
    cy_error err = {0};
    int rc = load_args(a, "train", &args);
    if (!rc) rc = finish(cy_train_run(args, stdout, NULL, 0, &err), &err);
    cy_args_free(args);
    return rc;
}

int cmd_val(cli_args *a) {
    cy_args *args = NULL;
    cy_error err = {0};
    int rc = load_args(a, "val", &args);
    if (!rc) rc = finish(cy_val_run(args, stdout, &err), &err);
    cy_args_free(args);
    return rc;
}

/* source= images: the file mode of `cyolo predict` */
int cmd_predict_files(cli_args *a) {
    cy_args *args = NULL;
    cy_error err = {0};
    int rc = load_args(a, "predict", &args);
    if (!rc) rc = finish(cy_predict_run(args, stdout, NULL, 0, &err), &err);
    cy_args_free(args);
    return rc;
}
