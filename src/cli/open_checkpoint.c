#include "cli/open_checkpoint.h"
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "engine/checkpoint.h"

int cli_model_is_checkpoint(cli_args *a) {
    return cy_is_checkpoint_path(cli_get(a, "model", NULL));
}

int cli_open_checkpoint(cli_args *a, cy_model **m) {
    *m = NULL;
    const char *model = cli_get(a, "model", NULL);
    cy_model_params p = cy_model_default_params();
    long threads;
    if (cli_get_int(a, "threads", 0, 0, 1024, &threads)) return 2;
    p.threads = (int)threads;
    if (cli_get_backend(a, &p.backend)) return 2;
    if (cli_get(a, "init", NULL) || cli_get(a, "nc", NULL)) {
        fprintf(stderr, "error: %s is a checkpoint: it brings its own weights and classes (init= and nc= are for YAML models)\n",
                model);
        return 2;
    }
    cy_error err = {0};
    if (cy_checkpoint_load_model(model, &p, 1, m, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}
