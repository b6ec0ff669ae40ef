/* `cyolo synth out=<dir> [task=detect|segment] [n_train=320] [n_val=80]
 * [imgsz=320] [max_objects=6] [seed=0]`: writes a synthetic dataset (the
 * built-in one, or variants for benchmarks) in Ultralytics' layout: box
 * labels and synth.yaml for detect, the same images with polygon labels
 * and synth-seg.yaml for segment. Prints the YAML's path. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"
#include "data/synth.h"

int cmd_synth(cli_args *a) {
    cy_synth_params p = cy_synth_default_params();
    long nt, nv, sz, mo, seed;
    const char *out = cli_get(a, "out", NULL), *task = cli_get(a, "task", "detect");
    if (cli_get_int(a, "n_train", p.n_train, 1, 1000000, &nt) || cli_get_int(a, "n_val", p.n_val, 1, 1000000, &nv) ||
        cli_get_int(a, "imgsz", p.imgsz, 32, 4096, &sz) || cli_get_int(a, "max_objects", p.max_objects, 1, 64, &mo) ||
        cli_get_int(a, "seed", 0, 0, 1L << 40, &seed) || cli_check_unused(a, "synth"))
        return 2;
    if (!out) {
        fprintf(stderr, "error: synth needs out=<dir>\n");
        return 2;
    }
    if (strcmp(task, "detect") && strcmp(task, "segment")) {
        fprintf(stderr, "error: synth task=%s: synthetic data exists for task=detect and task=segment\n", task);
        return 2;
    }
    p.n_train = (int)nt, p.n_val = (int)nv, p.imgsz = (int)sz, p.max_objects = (int)mo, p.seed = (uint64_t)seed;
    p.segment = !strcmp(task, "segment");
    cy_error err = {0};
    if (cy_synth_generate(out, &p, &err) != CY_OK) return cli_report(&err);
    printf("%s/%s\n", out, cy_synth_yaml_name(&p));
    return 0;
}
