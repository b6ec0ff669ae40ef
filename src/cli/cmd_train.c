/* `cyolo train key=value ...`: Ultralytics' train arguments (cfg/default.yaml),
 * an unknown key or a bad value refused with the key named and the nearest
 * valid keys suggested. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "engine/trainer.h"

int cmd_train(cli_args *a) {
    cy_args *args;
    cy_error err = {0};
    if (cy_args_create(&args, &err) != CY_OK) return cli_report(&err);
    int rc = 0;
    const char *cfg = cli_get(a, "cfg", NULL);
    if (cfg && *cfg && cy_args_load_yaml(args, cfg, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        rc = 2;
    }
    for (int i = 0; i < a->n && !rc; i++) {
        a->used[i] = 1;
        if (cy_args_set(args, a->key[i], a->val[i], &err) != CY_OK) {
            fprintf(stderr, "error: %s\n", err.msg);
            rc = 2;
        }
    }
    if (!rc && cy_args_set(args, "mode", "train", &err) != CY_OK) rc = cli_report(&err);
    if (!rc && cy_train_run(args, stdout, NULL, 0, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        rc = err.status == CY_ERR_ARG ? 2 : 1;
    }
    cy_args_free(args);
    return rc;
}
