/* `cyolo val`: a model (a cyolo checkpoint's EMA weights, or a YAML) on a
 * dataset split in rectangular batches (pad 0.5), printed as Ultralytics'
 * validator prints it (segment models: Box and Mask columns, as
 * SegmentationValidator); with plots=True (the default) the confusion
 * matrices, curves and first batches go to runs/<task>/val, val2, ... */
#include <string.h>
#include "data/loader.h"
#include "engine/checkpoint.h"
#include "engine/run_dir.h"
#include "engine/trainer.h"
#include "engine/val_run.h"
#include "engine/validate.h"

/* one row's metrics: box P R mAP50 mAP50-95, then the masks' (segment) */
static void print_metrics(FILE *log, const cy_val_result *vr, int i) {
    const cy_det_metrics *ms[2] = {&vr->metrics, &vr->mask};
    for (int k = 0; k < 1 + vr->has_masks; k++) {
        const cy_det_metrics *mt = ms[k];
        if (i < 0) fprintf(log, "%11.3g%11.3g%11.3g%11.3g", mt->mp, mt->mr, mt->map50, mt->map);
        else fprintf(log, "%11.3g%11.3g%11.3g%11.3g", mt->p[i], mt->r[i], mt->ap50[i], mt->ap5095[i]);
    }
    fputc('\n', log);
}

void cy_val_print(FILE *log, const cy_val_result *vr, const cy_split *split, char *const *names, int nc) {
    const cy_det_metrics *mt = &vr->metrics;
    fprintf(log, "%22s%11s%11s%11s%11s%11s%11s", "Class", "Images", "Instances", "Box(P", "R", "mAP50", "mAP50-95)");
    if (vr->has_masks) fprintf(log, "%11s%11s%11s%11s", "Mask(P", "R", "mAP50", "mAP50-95)");
    fputc('\n', log);
    fprintf(log, "%22s%11d%11d", "all", vr->images, vr->instances);
    print_metrics(log, vr, -1);
    if (nc < 2) return;
    for (int i = 0; i < mt->n_ap; i++) {
        int c = mt->ap_class[i], imgs = 0, inst = 0;
        for (int k = 0; k < split->n; k++) {
            int has = 0;
            for (int j = 0; j < split->rec[k].n; j++)
                if ((int)split->rec[k].labels[5 * j] == c) inst++, has = 1;
            imgs += has;
        }
        fprintf(log, "%22s%11d%11d", names ? names[c] : "item", imgs, inst);
        print_metrics(log, vr, i);
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
    cy_model_summary s = {0};
    if (st == CY_OK) {
        cy_model_summarize(m, &s);
        if (s.nc != nc)
            st = cy_fail(err, CY_ERR_ARG, "%s has %d classes, the dataset %s has %d", model_path, s.nc, data, nc);
        else
            st = cy_loader_check_channels(s.channels, model_path, err);
    }
    if (st == CY_OK) {
        cy_scan_params sp = cy_scan_default_params();
        sp.single_cls = single_cls, sp.threads = (int)workers, sp.prefix = "val: ";
        sp.segments = s.task == CY_TASK_SEGMENT;
        st = cy_split_scan(&split, ds, split_name, &sp, err);
    }
    if (st == CY_OK) {
        /* segment: overlap_mask=True and mask_ratio=4, Ultralytics' defaults */
        int seg = s.task == CY_TASK_SEGMENT;
        cy_loader_params lp = {.imgsz = (int)imgsz, .augment = 0, .workers = (int)workers, .rect = 1, .pad = 0.5,
                               .batch = (int)batch, .segments = seg, .mask_ratio = seg ? 4 : 0,
                               .overlap_mask = seg};
        st = cy_loader_create(&loader, split, &lp, err);
    }
    cy_val_result vr;
    memset(&vr, 0, sizeof vr);
    char dir[4096] = "";
    static char *item_name[] = {"item"};
    if (st == CY_OK && plots) st = cy_run_dir(project, cy_task_name(s.task), name, "val", exist_ok, dir, sizeof dir, err);
    if (st == CY_OK) {
        cy_val_params vp = {.batch = (int)batch, .conf = (float)conf, .iou = (float)iou, .max_det = (int)max_det,
                            .workers = (int)workers, .plots = plots, .save_dir = dir,
                            .names = single_cls ? item_name : ds->names};
        st = cy_validate(m, loader, split, nc, &vp, &vr, err);
    }
    if (st == CY_OK) {
        cy_val_print(log, &vr, split, single_cls ? NULL : ds->names, nc);
        cy_val_result_free(&vr);
        if (plots) fprintf(log, "Results saved to %s\n", dir);
    }
    cy_loader_free(loader);
    cy_split_free(split);
    cy_model_free(m);
    cy_dataset_free(ds);
    return st;
}
