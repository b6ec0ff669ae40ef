#include "engine/builtin_data.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "data/synth.h"

cy_status cy_resolve_data_task(const char *data, const char *task, char *out, size_t cap, cy_error *err) {
    int segment;
    if (!data || !*data) segment = task && !strcmp(task, "segment");
    else if (!strcmp(data, "synth.yaml") || !strcmp(data, "synth")) segment = 0;
    else if (!strcmp(data, "synth-seg.yaml") || !strcmp(data, "synth-seg")) segment = 1;
    else {
        snprintf(out, cap, "%s", data);
        return CY_OK;
    }
    cy_synth_params p = cy_synth_default_params();
    p.segment = segment;
    const char *base = getenv("CYOLO_DATASETS");
    char root[4096];
    /* one folder per set: both hold labels/ of the same images */
    snprintf(root, sizeof root, "%s/%s", base && *base ? base : "datasets", segment ? "synth-seg" : "synth");
    CY_TRY(cy_synth_generate(root, &p, err));
    snprintf(out, cap, "%s/%s", root, cy_synth_yaml_name(&p));
    return CY_OK;
}
