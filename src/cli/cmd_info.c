#include <stdio.h>
#include "cli/commands.h"

int cmd_info(cli_args *a) {
    cy_model *m;
    int rc = cli_open_model(a, &m, 0);
    if (rc) return rc;
    if (cli_check_unused(a, "info")) {
        cy_model_free(m);
        return 2;
    }
    cy_error err = {0};
    rc = cy_model_print_info(m, stdout, &err) == CY_OK ? 0 : cli_report(&err);
    cy_model_free(m);
    return rc;
}
