#include "engine/trainer.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "data/loader.h"
#include "data/multi_scale.h"
#include "engine/builtin_data.h"
#include "engine/checkpoint.h"
#include "engine/distill_setup.h"
#include "engine/metrics.h"
#include "engine/optim.h"
#include "engine/pretrained.h"
#include "engine/run_dir.h"
#include "engine/train_plots.h"
#include "engine/train_step.h"
#include "engine/val_run.h"
#include "engine/validate.h"
#include "io/atomic.h"
#include "io/plot_results.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

cy_status cy_resolve_data(const char *data, char *out, size_t cap, cy_error *err) {
    return cy_resolve_data_task(data, "detect", out, cap, err);
}

typedef struct {
    const cy_args *a;
    cy_error *err;
    cy_status st;
} argr;

static long geti(argr *r, const char *k) {
    long v = 0;
    if (r->st == CY_OK) r->st = cy_args_get_int(r->a, k, &v, NULL, r->err);
    return v;
}
static double getf(argr *r, const char *k) {
    double v = 0;
    if (r->st == CY_OK) r->st = cy_args_get_float(r->a, k, &v, NULL, r->err);
    return v;
}
static int getb(argr *r, const char *k) {
    int v = 0;
    if (r->st == CY_OK) r->st = cy_args_get_bool(r->a, k, &v, r->err);
    return v;
}
static const char *gets_(argr *r, const char *k) {
    const char *v = "";
    if (r->st == CY_OK) r->st = cy_args_get_str(r->a, k, &v, r->err);
    return v;
}

static cy_aug_hyp hyp_from_args(argr *r) {
    cy_aug_hyp h = cy_aug_default_hyp();
    h.hsv_h = (float)getf(r, "hsv_h"), h.hsv_s = (float)getf(r, "hsv_s"), h.hsv_v = (float)getf(r, "hsv_v");
    h.degrees = (float)getf(r, "degrees"), h.translate = (float)getf(r, "translate");
    h.scale = (float)getf(r, "scale"), h.shear = (float)getf(r, "shear");
    h.perspective = (float)getf(r, "perspective"), h.flipud = (float)getf(r, "flipud");
    h.fliplr = (float)getf(r, "fliplr"), h.mosaic = (float)getf(r, "mosaic");
    h.mixup = (float)getf(r, "mixup"), h.cutmix = (float)getf(r, "cutmix");
    return h;
}

typedef struct {
    cy_model *model, *val_model;
    cy_dataset *ds;
    cy_split *train, *val;
    cy_loader *train_loader, *val_loader;
    cy_optim *opt;
    cy_ema *ema;
    cy_det_loss_ws *ws;
    cy_distill *distill;  /* distill_model=: teacher + projectors */
    cy_optim *distill_opt;
    float *ms_buf; /* multi_scale: the resized batch */
    size_t ms_cap;
    cy_args *run_args; /* the arguments as the run stores them */
} run_state;

/* the loss columns of the progress bar: box, cls, dfl (, dis) */
static const char *loss_text(char *buf, size_t cap, const double *tl, int nloss) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < nloss && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%11.4g", tl[i]);
    return buf;
}

static void run_free(run_state *s) {
    cy_args_free(s->run_args);
    cy_model_free(s->model);
    cy_model_free(s->val_model);
    cy_dataset_free(s->ds);
    cy_split_free(s->train);
    cy_split_free(s->val);
    cy_loader_free(s->train_loader);
    cy_loader_free(s->val_loader);
    cy_optim_free(s->opt);
    cy_ema_free(s->ema);
    cy_det_loss_ws_free(s->ws);
    cy_distill_free(s->distill);
    cy_optim_free(s->distill_opt);
    free(s->ms_buf);
}

static cy_status copy_ema(run_state *s, cy_error *err) {
    const float *p, *b;
    int64_t updates;
    CY_TRY(cy_ema_get(s->ema, &p, &b, &updates));
    memcpy(s->val_model->params, p, s->val_model->nparams * sizeof(float));
    memcpy(s->val_model->buffers, b, s->val_model->nbuffers * sizeof(float));
    s->val_model->weights_version++;
    (void)err;
    return CY_OK;
}

/* last.pt every epoch, best.pt when fitness improved, epochN.pt every
 * save_period epochs, as BaseTrainer.save_model */
static cy_status save_checkpoints(run_state *s, const cy_args *args, const char *dir, int epoch, double best,
                                  int improved, long save_period, int single_cls, int pending, cy_error *err) {
    char wdir[4200], path[4300], csv[4300];
    snprintf(wdir, sizeof wdir, "%s/weights", dir);
    snprintf(csv, sizeof csv, "%s/results.csv", dir);
    CY_TRY(cy_mkdirs(wdir, err));
    static char *item[] = {"item"};
    cy_checkpoint c = {.model = s->model, .ema = s->ema, .opt = s->opt, .epoch = epoch, .best_fitness = best,
                       .args = args, .names = single_cls ? item : s->ds->names, .nc = single_cls ? 1 : s->ds->nc,
                       .results_csv = csv, .pending = pending, .distill = s->distill,
                       .distill_opt = s->distill_opt};
    snprintf(path, sizeof path, "%s/last.pt", wdir);
    CY_TRY(cy_checkpoint_save(path, &c, err));
    if (improved) { /* the student alone: the projectors only serve resuming */
        cy_checkpoint b = c;
        b.distill = NULL, b.distill_opt = NULL;
        snprintf(path, sizeof path, "%s/best.pt", wdir);
        CY_TRY(cy_checkpoint_save(path, &b, err));
    }
    if (save_period > 0 && epoch % save_period == 0) {
        snprintf(path, sizeof path, "%s/epoch%d.pt", wdir, epoch);
        CY_TRY(cy_checkpoint_save(path, &c, err));
    }
    return CY_OK;
}

/* Validates best.pt (its EMA weights) with the per-class table, as the
 * trainer's final_eval. */
static cy_status final_validation(run_state *s, const char *dir, int enabled, int batch, int workers, int nc,
                                  int single_cls, int plots, char *const *names, FILE *log, cy_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/weights/best.pt", dir);
    FILE *f = enabled ? fopen(path, "rb") : NULL;
    if (!f) return CY_OK;
    fclose(f);
    fprintf(log, "\nValidating %s...\n", path);
    cy_model *best = NULL;
    cy_model_params mp = cy_model_default_params();
    mp.nc = nc;
    CY_TRY(cy_checkpoint_load_model(path, &mp, 1, &best, err));
    cy_val_result vr;
    cy_val_params vp = {.batch = 2 * batch, .conf = 0.001f, .iou = 0.7f, .max_det = 300, .workers = workers,
                        .plots = plots, .save_dir = dir, .names = names};
    cy_status st = cy_validate(best, s->val_loader, s->val, nc, &vp, &vr, err);
    if (st == CY_OK) {
        cy_val_print(log, &vr, s->val, single_cls ? NULL : s->ds->names, nc);
        cy_val_result_free(&vr);
    }
    cy_model_free(best);
    return st;
}

/* freeze=N (the first N layers) or freeze=[i, j, ...] (those layers), plus
 * the DFL conv Ultralytics always freezes */
static cy_status apply_freeze(cy_model *m, cy_optim *o, const char *spec, FILE *log, cy_error *err) {
    if (!spec || !*spec) return CY_OK;
    int layers[256], nl = 0;
    char *end;
    long n = strtol(spec, &end, 10);
    if (!*end) {
        for (int i = 0; i < n && nl < 256; i++) layers[nl++] = i;
    } else {
        for (const char *p = spec; *p && nl < 256;) {
            if (*p == '[' || *p == ',' || *p == ' ' || *p == ']') { p++; continue; }
            long v = strtol(p, &end, 10);
            if (end == p) return cy_fail(err, CY_ERR_ARG, "freeze=%s: expected an int or a list of layer indices", spec);
            layers[nl++] = (int)v;
            p = end;
        }
    }
    for (int i = 0; i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        if (e->kind != CY_ENTRY_PARAM) continue;
        for (int k = 0; k < nl; k++) {
            char pre[32];
            snprintf(pre, sizeof pre, "model.%d.", layers[k]);
            if (!strncmp(e->name, pre, strlen(pre))) {
                CY_TRY(cy_optim_set_frozen(o, i, 1, err));
                fprintf(log, "Freezing layer '%s'\n", e->name);
                break;
            }
        }
    }
    return CY_OK;
}

static cy_status train(const cy_args *args, const char *resume_path, FILE *log, char *save_dir, size_t save_dir_cap,
                       cy_error *err) {
    argr r = {args, err, CY_OK};
    run_state s;
    memset(&s, 0, sizeof s);
    const char *model_path = gets_(&r, "model"), *data_arg = gets_(&r, "data"), *opt_name = gets_(&r, "optimizer");
    const char *project = gets_(&r, "project"), *name = gets_(&r, "name");
    long epochs = geti(&r, "epochs"), batch = geti(&r, "batch"), imgsz = geti(&r, "imgsz"), seed = geti(&r, "seed");
    long workers = geti(&r, "workers"), close_mosaic = geti(&r, "close_mosaic"), nbs = geti(&r, "nbs");
    long patience = geti(&r, "patience");
    int plots = getb(&r, "plots"), rect = getb(&r, "rect");
    double multi_scale = getf(&r, "multi_scale");
    const char *pretrained = gets_(&r, "pretrained"), *distill_model = gets_(&r, "distill_model");
    double dis = getf(&r, "dis");
    const char *distill_weights = gets_(&r, "distill_weights"), *distill_precision = gets_(&r, "distill_precision");
    double gain_box = getf(&r, "box"), gain_cls = getf(&r, "cls"), gain_dfl = getf(&r, "dfl");
    const char *cache = gets_(&r, "cache"), *freeze = gets_(&r, "freeze"), *task_arg = gets_(&r, "task");
    int overlap_mask = getb(&r, "overlap_mask");
    long mask_ratio = geti(&r, "mask_ratio");
    double hours = 0;
    int hours_null = 1;
    if (r.st == CY_OK) r.st = cy_args_get_float(args, "time", &hours, &hours_null, err);
    double lr0 = getf(&r, "lr0"), lrf = getf(&r, "lrf"), momentum = getf(&r, "momentum");
    double weight_decay = getf(&r, "weight_decay"), warmup_epochs = getf(&r, "warmup_epochs");
    double warmup_momentum = getf(&r, "warmup_momentum"), warmup_bias_lr = getf(&r, "warmup_bias_lr");
    double fraction = getf(&r, "fraction");
    int cos_lr = getb(&r, "cos_lr"), exist_ok = getb(&r, "exist_ok"), do_val = getb(&r, "val");
    int single_cls = getb(&r, "single_cls"), save = getb(&r, "save");
    long save_period = geti(&r, "save_period");
    cy_aug_hyp hyp = hyp_from_args(&r);
    CY_TRY(r.st);
    if (!*model_path) return cy_fail(err, CY_ERR_ARG, "model= is required (e.g. model=yolo26n.yaml)");
    if (multi_scale < 0 || multi_scale >= 1) return cy_fail(err, CY_ERR_ARG, "multi_scale=%g must be in [0, 1)", multi_scale);
    if (epochs < 1 || batch < 1 || imgsz < 32 || imgsz % 32 || nbs < 1)
        return cy_fail(err, CY_ERR_ARG, "epochs and batch must be >= 1, imgsz a multiple of 32 (got imgsz=%ld)", imgsz);
    if (!(fraction > 0)) return cy_fail(err, CY_ERR_ARG, "fraction=%g must be > 0", fraction);
    if (mask_ratio < 1 || imgsz % mask_ratio)
        return cy_fail(err, CY_ERR_ARG, "mask_ratio=%ld must be >= 1 and divide imgsz=%ld", mask_ratio, imgsz);
    char data[4096], dir[4096];
    /* the built-in data behind an empty data= depends on the task, known
     * before the model is built from task= or a "-seg" model name */
    const char *task_guess = !strcmp(task_arg, "segment") || strstr(model_path, "-seg") ? "segment" : "detect";
    cy_status st = cy_resolve_data_task(data_arg, task_guess, data, sizeof data, err);
    if (st == CY_OK) st = cy_dataset_load(&s.ds, data, NULL, err);
    if (st != CY_OK) goto done;
    int nc = single_cls ? 1 : s.ds->nc;
    cy_model_params mp = cy_model_default_params();
    mp.nc = nc;
    mp.seed = (uint64_t)seed; /* the weights differ per seed, as torch's init after init_seeds */
    if (resume_path) {
        if ((st = cy_checkpoint_load_model(resume_path, &mp, 0, &s.model, err)) != CY_OK ||
            (st = cy_checkpoint_load_model(resume_path, &mp, 1, &s.val_model, err)) != CY_OK)
            goto done;
    } else if ((st = cy_train_models_create(model_path, pretrained, &mp, log, &s.model, &s.val_model, err)) != CY_OK) {
        goto done;
    }
    cy_model_summary msum;
    cy_model_summarize(s.model, &msum);
    const int segment = msum.task == CY_TASK_SEGMENT;
    /* the run's arguments as stored (args.yaml, train_args): task is the model's, as Ultralytics records it */
    if ((st = cy_args_create(&s.run_args, err)) != CY_OK) goto done;
    for (int i = 0, n = cy_args_count(args); i < n && st == CY_OK; i++) {
        const char *key, *text;
        char kind;
        cy_args_item(args, i, &key, &text, &kind);
        st = cy_args_set(s.run_args, key, strcmp(key, "task") ? text : cy_task_name(msum.task), err);
    }
    if (st != CY_OK) goto done;
    if (strcmp(task_arg, "detect") && strcmp(task_arg, cy_task_name(msum.task))) {
        st = cy_fail(err, CY_ERR_ARG, "task=%s, but %s is a %s model", task_arg, model_path, cy_task_name(msum.task));
        goto done;
    }
    if (segment && multi_scale > 0) {
        st = cy_fail(err, CY_ERR_UNSUPPORTED, "multi_scale=%g: segment models train at one size in this build",
                     multi_scale);
        goto done;
    }
    if ((st = cy_loader_check_channels(s.model->channels, model_path, err)) != CY_OK ||
        (st = cy_model_set_loss_gains(s.model, gain_box, gain_cls, gain_dfl, err)) != CY_OK ||
        (st = cy_model_set_loss_gains(s.val_model, gain_box, gain_cls, gain_dfl, err)) != CY_OK)
        goto done;
    if (*distill_model) { /* the teacher, checked before the run folder exists */
        static char *one_class[] = {"item"};
        cy_distill_setup ds = {.teacher = distill_model, .weights = distill_weights, .precision = distill_precision,
                               .dis = dis, .seed = (uint64_t)seed,
                               .names = single_cls ? one_class : s.ds->names, .nc = nc};
        if ((st = cy_distill_setup_create(&ds, s.model, log, &s.distill, err)) != CY_OK) goto done;
    }
    cy_scan_params sp = cy_scan_default_params();
    sp.fraction = fraction, sp.single_cls = single_cls, sp.threads = (int)workers, sp.prefix = "train: ";
    sp.segments = segment;
    if ((st = cy_split_scan(&s.train, s.ds, "train", &sp, err)) != CY_OK) goto done;
    sp.fraction = 1.0, sp.prefix = "val: ";
    if ((st = cy_split_scan(&s.val, s.ds, "val", &sp, err)) != CY_OK) goto done;
    char summary[512];
    cy_split_summary(s.train, summary, sizeof summary);
    fprintf(log, "train: %s\n", summary);
    for (int i = 0; i < s.train->warnings.n; i++) fprintf(log, "train: WARNING %s\n", s.train->warnings.v[i]);
    cy_split_summary(s.val, summary, sizeof summary);
    fprintf(log, "val: %s\n", summary);
    for (int i = 0; i < s.val->warnings.n; i++) fprintf(log, "val: WARNING %s\n", s.val->warnings.v[i]);

    if (resume_path) { /* the run folder holding weights/last.pt */
        snprintf(dir, sizeof dir, "%s", resume_path);
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0;
            else snprintf(dir, sizeof dir, ".");
        }
    } else if ((st = cy_run_dir(project, cy_task_name(msum.task), name, "train", exist_ok, dir, sizeof dir, err)) !=
               CY_OK) {
        goto done;
    }
    if (save_dir) snprintf(save_dir, save_dir_cap, "%s", dir);
    if (!resume_path) {
        char path[4200];
        snprintf(path, sizeof path, "%s/args.yaml", dir);
        cy_atomic_file f;
        if ((st = cy_atomic_open(&f, path, err)) != CY_OK) goto done;
        if ((st = cy_args_write_yaml(s.run_args, f.f, err)) != CY_OK || (st = cy_atomic_commit(&f, err)) != CY_OK) {
            cy_atomic_abort(&f);
            goto done;
        }
    }

    /* optimizer as the trainer builds it */
    int nb = (s.train->n + (int)batch - 1) / (int)batch, accumulate;
    int64_t iterations, nw;
    double wd;
    cy_optim_choice choice;
    if ((st = cy_train_accumulate((int)nbs, (int)batch, &accumulate, err)) != CY_OK ||
        (st = cy_train_weight_decay(weight_decay, (int)batch, accumulate, (int)nbs, &wd, err)) != CY_OK ||
        (st = cy_train_iterations(s.train->n, (int)batch, (int)nbs, (int)epochs, &iterations, err)) != CY_OK ||
        (st = cy_optim_resolve(opt_name, lr0, momentum, nc, (double)iterations, &choice, err)) != CY_OK ||
        (st = cy_warmup_iters(warmup_epochs, nb, &nw, err)) != CY_OK)
        goto done;
    if (choice.auto_chosen) warmup_bias_lr = 0.0;
    cy_optim_params op = {.kind = choice.kind, .lr = choice.lr, .momentum = choice.momentum, .weight_decay = wd};
    if ((st = cy_optim_create_for_model(&s.opt, s.model, &op, err)) != CY_OK ||
        (st = cy_ema_create_for_model(&s.ema, s.model, NULL, err)) != CY_OK ||
        (st = cy_det_loss_ws_create(&s.ws, err)) != CY_OK)
        goto done;
    static const char *kinds[] = {"SGD", "AdamW", "MuSGD"};
    fprintf(log, "optimizer: %s(lr=%g, momentum=%g) %s, weight_decay %g, accumulate %d\n", kinds[choice.kind],
            choice.lr, choice.momentum, choice.auto_chosen ? "(auto)" : "", wd, accumulate);

    if ((st = apply_freeze(s.model, s.opt, freeze, log, err)) != CY_OK) goto done;
    if (s.distill) { /* the projectors' optimizer: Ultralytics' groups, the same hyperparameters */
        const cy_entry *pe;
        int npe = cy_distill_entries(s.distill, &pe);
        if ((st = cy_optim_create(&s.distill_opt, pe, npe, cy_distill_nparams(s.distill), &op, err)) != CY_OK)
            goto done;
    }
    int nmodel_loss;
    const char *const *loss_names = cy_model_loss_names(s.model, &nmodel_loss);
    const int nloss = nmodel_loss + (s.distill ? 1 : 0); /* the model's items (, dis) */
    int cache_ram = strcmp(cache, "False") && strcmp(cache, "");  /* True, ram, disk: RAM here */
    cy_loader_params lp = {.imgsz = (int)imgsz, .augment = 1, .hyp = hyp, .seed = (uint64_t)seed,
                           .workers = (int)workers, .cache_ram = cache_ram, .rect = rect, .pad = 0.0,
                           .batch = (int)batch, .segments = segment, .mask_ratio = (int)mask_ratio,
                           .overlap_mask = overlap_mask};
    if ((st = cy_loader_create(&s.train_loader, s.train, &lp, err)) != CY_OK) goto done;
    if (!cy_loader_can_shuffle(s.train_loader))
        fprintf(log, "WARNING 'rect=True' is incompatible with DataLoader shuffle, setting shuffle=False\n");
    lp.augment = 0, lp.rect = 1, lp.pad = 0.5, lp.batch = 2 * (int)batch; /* val: rect batches, as Ultralytics */
    if ((st = cy_loader_create(&s.val_loader, s.val, &lp, err)) != CY_OK) goto done;
    static char *item_name[] = {"item"};
    char *const *plot_names = single_cls ? item_name : s.ds->names;
    if (plots && !resume_path && (st = cy_train_plot_labels(s.train, plot_names, nc, dir, err)) != CY_OK) goto done;
    int max_stride = s.model->stride[s.model->nl - 1] > 32 ? s.model->stride[s.model->nl - 1] : 32;

    int ngroups;
    cy_optim_group_count(s.opt, &ngroups);
    const char *names[64];
    char lrnames[16][16];
    int ncol = 0;
    char loss_cols[2][CY_SEG_ITEMS + 1][24];
    for (int i = 0; i < nloss; i++) {
        const char *ln = i < nmodel_loss ? loss_names[i] : "dis_loss";
        snprintf(loss_cols[0][i], sizeof loss_cols[0][i], "train/%s", ln);
        snprintf(loss_cols[1][i], sizeof loss_cols[1][i], "val/%s", ln);
    }
    const int nmetric = segment ? CY_SEG_NKEYS : 4; /* SegmentMetrics' keys: (B) then (M) */
    for (int i = 0; i < nloss; i++) names[ncol++] = loss_cols[0][i];
    for (int i = 0; i < nmetric; i++) names[ncol++] = cy_seg_metric_keys[i];
    for (int i = 0; i < nloss; i++) names[ncol++] = loss_cols[1][i];
    for (int g = 0; g < ngroups && g < 16; g++) {
        snprintf(lrnames[g], sizeof lrnames[g], "lr/pg%d", g);
        names[ncol++] = lrnames[g];
    }
    cy_lr_schedule sched = {.cos_lr = cos_lr, .lrf = lrf, .epochs = (int)epochs};
    cy_warmup_params wp = {.warmup_bias_lr = warmup_bias_lr, .warmup_momentum = warmup_momentum,
                           .momentum = momentum, .nbs = (int)nbs, .batch = (int)batch};
    cy_train_ctx ctx = {.ws = s.ws, .opt = s.opt, .ema = s.ema, .clip = 10.0, .accumulate = accumulate,
                        .distill = s.distill, .distill_opt = s.distill_opt};
    double best = -1, t_start = now_s();
    int tty = isatty(fileno(log));
    int best_epoch = 0, start_epoch = 0, closed = 0;
    if (resume_path) {
        int last;
        if ((st = cy_checkpoint_resume(resume_path, s.model, s.opt, s.ema, &last, &best, &ctx.pending, err)) != CY_OK)
            goto done;
        int found = 0;
        if (s.distill &&
            (st = cy_checkpoint_resume_distill(resume_path, s.distill, s.distill_opt, ctx.pending, &found, err)) != CY_OK)
            goto done;
        if (s.distill && !found)
            fprintf(log, "WARNING %s holds no projectors (a run without distillation): they start afresh\n",
                    resume_path);
        start_epoch = last + 1, best_epoch = last;
        if (start_epoch >= epochs) {
            st = cy_fail(err, CY_ERR_ARG, "%s training to %ld epochs is finished, nothing to resume", resume_path,
                         epochs);
            goto done;
        }
        fprintf(log, "Resuming training %s from epoch %d to %ld total epochs\n", resume_path, start_epoch + 1, epochs);
    }
    fprintf(log, "\n%11s%11s", "Epoch", "GPU_mem");
    for (int i = 0; i < nloss; i++) fprintf(log, "%11s", i < nmodel_loss ? loss_names[i] : "dis_loss");
    fprintf(log, "%11s%11s\n", "Instances", "Size");
    for (int epoch = start_epoch; epoch < epochs && st == CY_OK; epoch++) {
        double lf;
        if ((st = cy_lr_lambda(&sched, epoch, &lf, err)) != CY_OK || (st = cy_optim_schedule_epoch(s.opt, lf, err)) ||
            (s.distill_opt && (st = cy_optim_schedule_epoch(s.distill_opt, lf, err)) != CY_OK))
            break;
        if (!closed && close_mosaic > 0 && epoch >= epochs - close_mosaic) {
            closed = 1;
            cy_aug_close_mosaic(&hyp);
            cy_loader_set_hyp(s.train_loader, &hyp);
            fprintf(log, "Closing dataloader mosaic\n");
        }
        ctx.e2e = cy_e2e_weights_at(epoch, (int)epochs);
        cy_loader_epoch(s.train_loader, epoch, 1); /* no shuffle with rect batches of different shapes */
        double tl[CY_SEG_ITEMS + 1] = {0}, t_epoch = now_s();
        char lt[96];
        int inst = 0, seen = 0;
        for (int i = 0; i < nb && st == CY_OK; i++) {
            int64_t ni = i + (int64_t)nb * epoch;
            int applied;
            if (nw >= 0 && (st = cy_optim_warmup(s.opt, &wp, ni, nw, lf, &ctx.accumulate, &applied, err)) != CY_OK)
                break;
            int acc_unused;
            if (nw >= 0 && s.distill_opt &&
                (st = cy_optim_warmup(s.distill_opt, &wp, ni, nw, lf, &acc_unused, &applied, err)) != CY_OK)
                break;
            cy_batch b;
            cy_targets t;
            cy_model_loss_out lo;
            if ((st = cy_loader_batch(s.train_loader, i, (int)batch, &b, err)) != CY_OK) break;
            if (multi_scale > 0 && (st = cy_multi_scale_batch(&b, (int)imgsz, multi_scale, max_stride, (uint64_t)seed,
                                                              ni, &s.ms_buf, &s.ms_cap, err)) != CY_OK)
                break;
            if ((st = cy_targets_from_rows(&t, b.targets, b.ntargets, b.n, nc, err)) != CY_OK) break;
            cy_seg_masks bm = {.overlap = b.overlap, .h = b.mask_h, .w = b.mask_w, .masks = b.masks};
            if (segment && !b.masks) {
                cy_targets_free(&t);
                st = cy_fail(err, CY_ERR_ARG, "internal: the train loader gave a segment batch without masks");
                break;
            }
            ctx.masks = segment ? &bm : NULL;
            st = cy_train_step(s.model, &ctx, b.x, b.n, b.h, b.w, &t, &lo, err);
            cy_targets_free(&t);
            if (st == CY_OK && plots && cy_train_plot_iteration(ni, nb, (int)epochs, (int)close_mosaic)) {
                char stem[64];
                snprintf(stem, sizeof stem, "train_batch%lld", (long long)ni);
                st = cy_plot_batch_labels(&b, s.train, plot_names, nc, dir, stem, err);
            }
            for (int k = 0; k < nmodel_loss; k++) tl[k] = (tl[k] * i + lo.items[k]) / (i + 1); /* running mean */
            tl[nmodel_loss] = (tl[nmodel_loss] * i + ctx.dis_loss) / (i + 1);
            inst = b.ntargets;
            seen += b.n;
            if (tty) { /* Ultralytics-style bar: row, percent, count, elapsed<eta, it/s */
                double el = now_s() - t_epoch, rate = (i + 1) / el;
                char ep[32], bar[21];
                int fill = (int)(20.0 * (i + 1) / nb);
                for (int k = 0; k < 20; k++) bar[k] = k < fill ? '#' : '-';
                bar[20] = 0;
                snprintf(ep, sizeof ep, "%d/%ld", epoch + 1, epochs);
                fprintf(log, "\r%11s%11s%s%11d%11ld: %3d%% %s %d/%d %.0fs<%.0fs, %.2fit/s", ep, "0G",
                        loss_text(lt, sizeof lt, tl, nloss), inst, imgsz, 100 * (i + 1) / nb, bar, i + 1, nb, el,
                        (nb - i - 1) / rate, rate);
                fflush(log);
            }
        }
        if (tty) fputc('\n', log);
        t_epoch = now_s() - t_epoch;
        if (st != CY_OK) break;
        char ep[32];
        snprintf(ep, sizeof ep, "%d/%ld", epoch + 1, epochs);
        if (!tty) /* a plain line per epoch when the output is not a terminal */
            fprintf(log, "%11s%11s%s%11d%11ld  %d batches in %.2fs, %.1f img/s\n", ep, "0G",
                    loss_text(lt, sizeof lt, tl, nloss), inst, imgsz, nb, t_epoch, seen / t_epoch);
        fflush(log);
        double vals[64] = {0}; /* in the column order above; val/dis_loss stays 0 */
        for (int k = 0; k < nloss; k++) vals[k] = tl[k];
        double fitness = 0;
        if (do_val || epoch == epochs - 1) {
            cy_val_result vr;
            /* the validator plots at the last epoch or when early stopping may come next */
            int possible_stop = patience > 0 && epoch > 0 && epoch - 1 - best_epoch >= patience - 1;
            cy_val_params vp = {.batch = (int)batch * 2, .conf = 0.001f, .iou = 0.7f, .max_det = 300,
                                .workers = (int)workers, .plots = plots && (epoch == epochs - 1 || possible_stop),
                                .save_dir = dir, .names = plot_names};
            if ((st = copy_ema(&s, err)) != CY_OK ||
                (st = cy_validate(s.val_model, s.val_loader, s.val, nc, &vp, &vr, err)) != CY_OK)
                break;
            fprintf(log, "%22s%11s%11s%11s%11s%11s%11s", "Class", "Images", "Instances", "Box(P", "R", "mAP50",
                    "mAP50-95)");
            if (vr.has_masks) fprintf(log, "%11s%11s%11s%11s", "Mask(P", "R", "mAP50", "mAP50-95)");
            fprintf(log, "\n%22s%11d%11d", "all", vr.images, vr.instances);
            for (int k = 0; k < vr.nkeys; k++) fprintf(log, "%11.3g", vr.values[k]);
            fputc('\n', log);
            for (int k = 0; k < nmetric && k < vr.nkeys; k++) vals[nloss + k] = vr.values[k];
            for (int k = 0; k < vr.nloss && k < nmodel_loss; k++) vals[nloss + nmetric + k] = vr.loss[k];
            fitness = vr.fitness;
            cy_val_result_free(&vr);
        }
        for (int g = 0; g < ngroups && g < 16; g++) {
            cy_optim_group grp;
            cy_optim_get_group(s.opt, g, &grp, err);
            vals[2 * nloss + nmetric + g] = grp.lr;
        }
        if ((st = cy_results_csv_append(dir, epoch + 1, now_s() - t_start, names, vals, ncol, err)) != CY_OK) break;
        if (plots) {
            char csv[4200], png[4200];
            snprintf(csv, sizeof csv, "%s/results.csv", dir);
            snprintf(png, sizeof png, "%s/results.png", dir);
            if ((st = cy_plot_results(csv, png, err)) != CY_OK) break;
        }
        int improved = fitness > best;
        if (improved) best = fitness, best_epoch = epoch;
        if (save && (st = save_checkpoints(&s, s.run_args, dir, epoch, best, improved, save_period, single_cls, ctx.pending,
                                           err)) != CY_OK)
            break;
        if (!hours_null && hours > 0 && now_s() - t_start > hours * 3600) {
            fprintf(log, "Stopping training: time=%g hours reached.\n", hours);
            break;
        }
        if (patience > 0 && epoch - best_epoch >= patience) {
            fprintf(log, "Stopping training early as no improvement observed in last %ld epochs.\n", patience);
            break;
        }
    }
    if (st == CY_OK) {
        fprintf(log, "\n%ld epochs completed in %.3f hours.\n", epochs, (now_s() - t_start) / 3600);
        st = final_validation(&s, dir, save && do_val, (int)batch, (int)workers, nc, single_cls, plots, plot_names, log,
                              err);
    }
    if (st == CY_OK) fprintf(log, "Results saved to %s\n", dir);
done:
    run_free(&s);
    return st;
}

cy_status cy_train_run(const cy_args *args, FILE *log, char *save_dir, size_t save_dir_cap, cy_error *err) {
    const char *resume, *model;
    CY_TRY(cy_args_get_str(args, "resume", &resume, err));
    CY_TRY(cy_args_get_str(args, "model", &model, err));
    if (!strcmp(resume, "False") || !*resume) return train(args, NULL, log, save_dir, save_dir_cap, err);
    /* resume=True continues model=.../last.pt; resume=<path> continues that file */
    const char *path = !strcmp(resume, "True") ? model : resume;
    if (!path || !*path || !strstr(path, ".pt"))
        return cy_fail(err, CY_ERR_ARG, "resume=True needs model=<run>/weights/last.pt (got model=%s)", path);
    FILE *f = fopen(path, "rb");
    if (!f) return cy_fail(err, CY_ERR_IO, "%s: cannot open the checkpoint to resume", path);
    fclose(f);
    cy_args *ra;
    CY_TRY(cy_args_create(&ra, err));
    cy_status st = cy_checkpoint_load_args(path, ra, err);
    if (st == CY_OK) st = cy_args_set(ra, "model", path, err);
    if (st == CY_OK) st = cy_args_set(ra, "resume", path, err);
    const char *teacher = NULL; /* a distill_model= given on resume overrides the stored one */
    if (st == CY_OK && cy_args_get_str(args, "distill_model", &teacher, NULL) == CY_OK && teacher && *teacher)
        st = cy_args_set(ra, "distill_model", teacher, err);
    if (st == CY_OK) st = train(ra, path, log, save_dir, save_dir_cap, err);
    cy_args_free(ra);
    return st;
}
