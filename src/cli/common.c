#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

int cli_report(const cy_error *err) {
    fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : cy_status_name(err->status));
    return err->status == CY_ERR_ARG ? 2 : 1;
}

int cli_open_model(cli_args *a, cy_model **m, int default_formula) {
    const char *model = cli_get(a, "model", NULL);
    if (!model) {
        fprintf(stderr, "error: model=<yaml> is required\n");
        return 2;
    }
    cy_model_params p = cy_model_default_params();
    long nc, threads;
    if (cli_get_int(a, "nc", 0, 1, 100000, &nc) || cli_get_int(a, "threads", 0, 0, 1024, &threads)) return 2;
    p.nc = (int)nc;
    p.threads = (int)threads;
    const char *init = cli_get(a, "init", default_formula ? "formula" : "default");
    if (!strcmp(init, "formula")) p.init = CY_INIT_FORMULA;
    else if (!strcmp(init, "default")) p.init = CY_INIT_DEFAULT;
    else {
        fprintf(stderr, "error: init=%s: expected 'formula' or 'default'\n", init);
        return 2;
    }
    const char *backend = cli_get(a, "backend", "cpu");
    if (!strcmp(backend, "cpu")) p.backend = CY_BACKEND_CPU;
    else if (!strcmp(backend, "ref")) p.backend = CY_BACKEND_REF;
    else {
        fprintf(stderr, "error: backend=%s: expected 'cpu' or 'ref'\n", backend);
        return 2;
    }
    cy_error err = {0};
    if (cy_model_create(m, model, &p, &err) != CY_OK) {
        /* a bad model file is a runtime failure, not a usage error */
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}
