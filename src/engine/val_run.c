/* `cyolo val`: a model (a cyolo checkpoint's EMA weights, or a YAML) on a
 * dataset split in rectangular batches (pad 0.5), printed as Ultralytics'
 * validator prints it; with plots=True (the default) the confusion
 * matrices, curves and first batches go to runs/detect/val, val2, ... */
#include <string.h>
#include "data/loader.h"
#include "engine/task_support.h"
#include "engine/checkpoint.h"
#include "engine/run_dir.h"
#include "engine/trainer.h"
#include "engine/val_run.h"
#include "engine/validate.h"

void cy_val_print(FILE *log, const cy_val_result *vr, const cy_split *split, char *const *names, int nc) {
    const cy_det_metrics *mt = &vr->metrics;
    fprintf(log, "%22s%11s%11s%11s%11s%11s%11s\n", "Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)");
    fprintf(log, "%22s%11d%11d%11.3g%11.3g%11.3g%11.3g\n", "all", vr->images, vr->instances, mt->mp, mt->mr, mt->map50,
            mt->map);
    if (nc < 2) return;
    for (int i = 0; i < mt->n_ap; i++) {
        int c = mt->ap_class[i], imgs = 0, inst = 0;
        for (int k = 0; k < split->n; k++) {
            int has = 0;
            for (int j = 0; j < split->rec[k].n; j++)
                if ((int)split->rec[k].labels[5 * j] == c) inst++, has = 1;
            imgs += has;
        }
        fprintf(log, "%22s%11d%11d%11.3g%11.3g%11.3g%11.3g\n", names ? names[c] : "item", imgs, inst, mt->p[i], mt->r[i],
                mt->ap50[i], mt->ap5095[i]);
    }
}

cy_status cy_val_run(const cy_args *args, FILE *log, cy_error *err) {
    const char *model_path, *data_arg, *split_name;
    long imgsz, batch, workers, max_det;
    double conf, iou;
    int conf_null, single_cls, plots, exist_ok;
    const char *project, *name;
    CY_TRY(cy_args_get_str(args, "model", &model_path, err));
    CY_TRY(cy_args_get_str(args, "data", &data_arg, err));
    CY_TRY(cy_args_get_str(args, "split", &split_name, err));
    CY_TRY(cy_args_get_int(args, "imgsz", &imgsz, NULL, err));
    CY_TRY(cy_args_get_int(args, "batch", &batch, NULL, err));
    CY_TRY(cy_args_get_int(args, "workers", &workers, NULL, err));
    CY_TRY(cy_args_get_int(args, "max_det", &max_det, NULL, err));
    CY_TRY(cy_args_get_float(args, "conf", &conf, &conf_null, err));
    CY_TRY(cy_args_get_float(args, "iou", &iou, NULL, err));
    CY_TRY(cy_args_get_bool(args, "single_cls", &single_cls, err));
    CY_TRY(cy_args_get_bool(args, "plots", &plots, err));
    CY_TRY(cy_args_get_bool(args, "exist_ok", &exist_ok, err));
    CY_TRY(cy_args_get_str(args, "project", &project, err));
    CY_TRY(cy_args_get_str(args, "name", &name, err));
    if (!*model_path) return cy_fail(err, CY_ERR_ARG, "model= is required (a .pt checkpoint or a model YAML)");
    if (conf_null) conf = 0.001;
    if (imgsz < 32 || imgsz % 32) return cy_fail(err, CY_ERR_ARG, "imgsz=%ld must be a multiple of 32", imgsz);
    if (batch < 1 || batch > CY_VAL_MAX_BATCH) return cy_fail(err, CY_ERR_ARG, "batch=%ld is out of range", batch);
    char data[4096];
    CY_TRY(cy_resolve_data(data_arg, data, sizeof data, err));
    cy_dataset *ds = NULL;
    cy_split *split = NULL;
    cy_loader *loader = NULL;
    cy_model *m = NULL;
    cy_status st = cy_dataset_load(&ds, data, NULL, err);
    int nc = 0;
    if (st == CY_OK) {
        nc = single_cls ? 1 : ds->nc;
        cy_model_params mp = cy_model_default_params();
        mp.nc = nc;
        st = cy_is_checkpoint_path(model_path) ? cy_checkpoint_load_model(model_path, &mp, 1, &m, err)
                                                : cy_model_create(&m, model_path, &mp, err);
    }
    if (st == CY_OK) st = cy_require_detect_task(m, model_path, "validated", err);
    if (st == CY_OK) {
        cy_model_summary s;
        cy_model_summarize(m, &s);
        if (s.nc != nc)
            st = cy_fail(err, CY_ERR_ARG, "%s has %d classes, the dataset %s has %d", model_path, s.nc, data, nc);
        else
            st = cy_loader_check_channels(s.channels, model_path, err);
    }
    if (st == CY_OK) {
        cy_scan_params sp = cy_scan_default_params();
        sp.single_cls = single_cls, sp.threads = (int)workers, sp.prefix = "val: ";
        st = cy_split_scan(&split, ds, split_name, &sp, err);
    }
    if (st == CY_OK) {
        cy_loader_params lp = {.imgsz = (int)imgsz, .augment = 0, .workers = (int)workers, .rect = 1, .pad = 0.5,
                               .batch = (int)batch};
        st = cy_loader_create(&loader, split, &lp, err);
    }
    cy_val_result vr;
    memset(&vr, 0, sizeof vr);
    char dir[4096] = "";
    static char *item_name[] = {"item"};
    if (st == CY_OK && plots) st = cy_run_dir(project, "detect", name, "val", exist_ok, dir, sizeof dir, err);
    if (st == CY_OK) {
        cy_val_params vp = {.batch = (int)batch, .conf = (float)conf, .iou = (float)iou, .max_det = (int)max_det,
                            .workers = (int)workers, .plots = plots, .save_dir = dir,
                            .names = single_cls ? item_name : ds->names};
        st = cy_validate(m, loader, split, nc, &vp, &vr, err);
    }
    if (st == CY_OK) {
        cy_val_print(log, &vr, split, single_cls ? NULL : ds->names, nc);
        cy_det_metrics_free(&vr.metrics);
        if (plots) fprintf(log, "Results saved to %s\n", dir);
    }
    cy_loader_free(loader);
    cy_split_free(split);
    cy_model_free(m);
    cy_dataset_free(ds);
    return st;
}
