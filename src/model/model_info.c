/* `cyolo info`: the parse_model layer table and the model.info() summary
 * line, in Ultralytics' format. */
#include <stdio.h>
#include <string.h>
#include "model/model.h"

static void thousands(char *buf, size_t cap, int64_t v) {
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", (long long)v);
    int len = (int)strlen(raw), o = 0;
    for (int i = 0; i < len && o + 2 < (int)cap; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = 0;
}

cy_status cy_model_print_info(const cy_model *m, void *file, cy_error *err) {
    FILE *f = file;
    fprintf(f, "\n%3s%20s%3s%10s  %-45s%-30s\n", "", "from", "n", "params", "module", "arguments");
    for (int i = 0; i < m->nlayers; i++) {
        const cy_layer *L = &m->layers[i];
        char from[64];
        if (L->from_is_list) {
            int o = snprintf(from, sizeof from, "[");
            for (int j = 0; j < L->nfrom; j++)
                o += snprintf(from + o, sizeof from - o, j ? ", %d" : "%d", L->from_raw[j]);
            snprintf(from + o, sizeof from - o, "]");
        } else {
            snprintf(from, sizeof from, "%d", L->from_raw[0]);
        }
        fprintf(f, "%3d%20s%3d%10lld  %-45s%-30s\n", i, from, L->n_print, (long long)L->params, L->type,
                L->args);
    }
    cy_model_summary s;
    cy_model_summarize(m, &s);
    char name[80], layers[32], params[32], grads[32];
    /* Ultralytics: the YAML stem with "yolo" -> "YOLO" */
    const char *stem = m->name;
    const char *pos = strstr(stem, "yolo");
    if (pos) snprintf(name, sizeof name, "%.*sYOLO%s", (int)(pos - stem), stem, pos + 4);
    else snprintf(name, sizeof name, "%s", stem[0] ? stem : "Model");
    thousands(layers, sizeof layers, s.modules);
    thousands(params, sizeof params, s.params);
    thousands(grads, sizeof grads, s.gradients);
    fprintf(f, "%s summary: %s layers, %s parameters, %s gradients, %.1f GFLOPs\n", name, layers, params,
            grads, s.gflops_640);
    (void)err;
    return ferror(f) ? cy_fail(err, CY_ERR_IO, "cannot write the model info") : CY_OK;
}
