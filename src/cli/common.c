#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/formula.h"
#include "cli/commands.h"
#include "cli/open_checkpoint.h"

int cli_report(const cy_error *err) {
    fprintf(stderr, "error: %s\n", err->msg[0] ? err->msg : cy_status_name(err->status));
    return err->status == CY_ERR_ARG ? 2 : 1;
}

int cli_get_backend(cli_args *a, cy_backend_kind *out) {
    const char *backend = cli_get(a, "backend", "cpu");
    if (!strcmp(backend, "cpu")) *out = CY_BACKEND_CPU;
    else if (!strcmp(backend, "ref")) *out = CY_BACKEND_REF;
    else {
        fprintf(stderr, "error: backend=%s: expected 'cpu' or 'ref'\n", backend);
        return 2;
    }
    return 0;
}

int cli_open_model(cli_args *a, cy_model **m, int default_formula) {
    const char *model = cli_get(a, "model", NULL);
    if (!model) {
        fprintf(stderr, "error: model=<yaml> is required\n");
        return 2;
    }
    if (cli_model_is_checkpoint(a)) return cli_open_checkpoint(a, m); /* its own YAML and weights */
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
    if (cli_get_backend(a, &p.backend)) return 2;
    cy_error err = {0};
    if (cy_model_create(m, model, &p, &err) != CY_OK) {
        /* a bad model file is a runtime failure, not a usage error */
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}

float *cli_builtin_image(int n, int h, int w) {
    size_t numel = (size_t)n * 3 * h * w;
    float *x = malloc(numel * sizeof *x);
    if (x) cy_formula_fill(x, numel, "input", CY_FORMULA_INPUT, 0);
    return x;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_sort_median(double *v, long n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
