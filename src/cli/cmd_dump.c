/* `cyolo dump`: eval forward of a model on a .npy input, writing chosen layer
 * outputs and the final output (and a segment model's proto.npy) as float32 .npy,
 * for numerical checks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/commands.h"
#include "io/npy.h"

static int parse_layers(const char *spec, int nlayers, char *want) {
    memset(want, 0, nlayers);
    if (!strcmp(spec, "all")) {
        memset(want, 1, nlayers - 1); /* every layer but the Detect head */
        return 0;
    }
    if (!strcmp(spec, "none") || !*spec) return 0;
    const char *p = spec;
    while (*p) {
        char *end;
        errno = 0;
        long i = strtol(p, &end, 10);
        if (end == p || errno || i < 0 || i >= nlayers - 1 || (*end && *end != ',')) {
            fprintf(stderr, "error: layers=%s: expected 'all' or indices in 0..%d separated by commas\n", spec,
                    nlayers - 2);
            return -1;
        }
        want[i] = 1;
        p = *end ? end + 1 : end;
    }
    return 0;
}

static int write_array(const char *dir, const char *name, const cy_array *a) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cy_error err = {0};
    if (cy_npy_write(path, a->data, a->ndim, a->shape, &err) != CY_OK) return cli_report(&err);
    return 0;
}

int cmd_dump(cli_args *a) {
    const char *input = cli_get(a, "input", NULL), *out = cli_get(a, "out", NULL);
    const char *layers = cli_get(a, "layers", "none");
    long raw;
    if (cli_get_int(a, "raw", 0, 0, 1, &raw)) return 2;
    if (!input || !out) {
        fprintf(stderr, "error: dump needs input=<x.npy> and out=<dir>\n");
        return 2;
    }
    const char *mode = cli_get(a, "mode", "eval");
    int train = !strcmp(mode, "train-step");
    if (!train && strcmp(mode, "eval")) {
        fprintf(stderr, "error: mode=%s: expected 'eval' or 'train-step'\n", mode);
        return 2;
    }
    cy_model *m = NULL;
    int rc = cli_open_model(a, &m, 1);
    if (rc) return rc;
    if (!train && cli_check_unused(a, "dump")) {
        cy_model_free(m);
        return 2;
    }
    cy_model_summary s;
    cy_model_summarize(m, &s);
    char *want = calloc(s.layers, 1);
    cy_npy x = {0};
    cy_error err = {0};
    cy_array res = {0};
    if (!want || parse_layers(layers, s.layers, want)) {
        rc = 2;
        goto done;
    }
    if (cy_npy_read(input, &x, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        rc = 1;
        goto done;
    }
    if (x.ndim != 4 || x.shape[1] != 3) {
        fprintf(stderr, "error: %s: input must be a float32 array of shape (N, 3, H, W), got %d dimensions%s\n",
                input, x.ndim, x.ndim == 4 ? " with channels != 3" : "");
        rc = 1;
        goto done;
    }
    if (x.shape[0] < 1) {
        fprintf(stderr, "error: %s: the batch is empty (N = 0)\n", input);
        rc = 1;
        goto done;
    }
    if (mkdir(out, 0777) && errno != EEXIST) {
        fprintf(stderr, "error: %s: cannot create the output folder: %s\n", out, strerror(errno));
        rc = 1;
        goto done;
    }
    if (train) {
        rc = cmd_dump_train_step(a, m, x.data, (int)x.shape[0], (int)x.shape[2], (int)x.shape[3], out);
        goto done;
    }
    int any = 0;
    for (int i = 0; i < s.layers; i++) any |= want[i];
    cy_model_set_keep_layers(m, any);
    cy_model_set_want_one2many(m, (int)raw);
    cy_predict_params pp = {.max_det = 300};
    if (cy_model_forward(m, x.data, (int)x.shape[0], (int)x.shape[2], (int)x.shape[3], &pp, &res, &err) != CY_OK) {
        fprintf(stderr, "error: %s: %s\n", input, err.msg);
        rc = 1;
        goto done;
    }
    if ((rc = write_array(out, "output.npy", &res))) goto done;
    if (s.task == CY_TASK_SEGMENT) { /* the prototypes the coefficients weight */
        cy_array t;
        if (cy_model_proto(m, &t, &err) != CY_OK) {
            rc = cli_report(&err);
            goto done;
        }
        rc = write_array(out, "proto.npy", &t);
        cy_array_free(&t);
        if (rc) goto done;
    }
    for (int i = 0; i < s.layers && !rc; i++) {
        if (!want[i]) continue;
        cy_array t;
        char name[64];
        if (cy_model_layer_output(m, i, &t, &err) != CY_OK) {
            rc = cli_report(&err);
            break;
        }
        snprintf(name, sizeof name, "layer_%d.npy", i);
        rc = write_array(out, name, &t);
        cy_array_free(&t);
    }
    if (!rc && raw) {
        cy_array t;
        if (cy_model_decoded(m, &t, &err) == CY_OK) {
            rc = write_array(out, "decoded.npy", &t);
            cy_array_free(&t);
        }
        static const char *names[2][2] = {{"one2many_scores.npy", "one2many_boxes.npy"},
                                          {"one2one_scores.npy", "one2one_boxes.npy"}};
        for (int o2o = 0; o2o <= s.end2end && !rc; o2o++)
            for (int boxes = 0; boxes < 2 && !rc; boxes++) {
                if (cy_model_raw_head(m, o2o, boxes, &t, &err) != CY_OK) {
                    rc = cli_report(&err);
                    break;
                }
                rc = write_array(out, names[o2o][boxes], &t);
                cy_array_free(&t);
            }
    }
done:
    cy_array_free(&res);
    cy_npy_free(&x);
    free(want);
    cy_model_free(m);
    return rc;
}
