/* `cyolo dump ... mode=train-step`: one training step on a .npy input with
 * JSON targets: train-mode forward, the loss, backward, optionally one
 * optimizer step, written as .npy for numerical checks:
 *   loss.npy        [3] the backpropagated vector (box, cls, dfl) x batch
 *   loss_items.npy  [3] the logged items
 *   grads.npy       [P] every learnable parameter's gradient, state_dict order
 *   assign_o2m.npy  [B, A, 8] per anchor: fg, label, gt index, target x1 y1
 *                   x2 y2 (pixels), target score ( + assign_o2o.npy, end2end)
 *   bn_running.npy  running mean/var of every BN after the forward
 *   params_after.npy  with optimizer=: the watched parameters after the step
 * With distill_model=<teacher .pt|.yaml> (distill_init=formula: formula
 * weights for a YAML teacher and the projectors; distill_weights=<.pt> for
 * a YAML teacher's weights; distill_precision=fp32|bf16|int8) and dis=:
 *   loss.npy        [4] box, cls, dfl, dis_loss x batch (what is backpropagated)
 *   dis_loss.npy    [1] the logged per-sample dis_loss
 *   teacher_w_<l>.npy  [B, 1, h*w] the teacher weights of level l
 *   projector_grads.npy  every projector gradient, projector.{l}.{0|2}.{weight|bias} order */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "engine/distill_setup.h"
#include "engine/optim.h"
#include "io/npy.h"
#include "io/targets_json.h"
#include "model/model_loss.h"

static const char *DEFAULT_WATCH =
    "model.0.conv.weight,model.1.conv.weight,model.2.cv1.conv.weight,model.0.bn.weight,model.0.bn.bias,"
    "model.23.cv2.0.2.bias,model.23.cv3.0.2.weight,model.23.cv3.0.2.bias";

static int save(const char *dir, const char *name, const float *data, int ndim, const int64_t *shape) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    cy_error err = {0};
    if (cy_npy_write(path, data, ndim, shape, &err) != CY_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int save_assign(const char *dir, const char *name, const cy_det_assign *as) {
    int64_t shape[3] = {as->batch, as->anchors, 8};
    size_t n = (size_t)as->batch * as->anchors;
    float *a = malloc(n * 8 * sizeof *a);
    if (!a) return 1;
    for (size_t i = 0; i < n; i++) {
        float *r = a + i * 8;
        r[0] = as->fg[i];
        r[1] = (float)as->label[i];
        r[2] = (float)as->gt_idx[i];
        memcpy(r + 3, as->box_px + i * 4, 4 * sizeof(float));
        r[7] = as->score[i];
    }
    int rc = save(dir, name, a, 3, shape);
    free(a);
    return rc;
}

static int parse_optimizer(cli_args *a, const cy_model *m, cy_optim **opt, double *clip) {
    const char *name = cli_get(a, "optimizer", NULL);
    const char *lr = cli_get(a, "lr0", "0.01"), *mom = cli_get(a, "momentum", "0.937");
    const char *wd = cli_get(a, "weight_decay", "0.0005"), *cl = cli_get(a, "clip", "0");
    *opt = NULL;
    *clip = atof(cl);
    if (!name) return 0;
    cy_optim_params p = {.lr = atof(lr), .momentum = atof(mom), .weight_decay = atof(wd)};
    if (!strcasecmp(name, "SGD")) p.kind = CY_OPTIM_SGD;
    else if (!strcasecmp(name, "AdamW")) p.kind = CY_OPTIM_ADAMW;
    else if (!strcasecmp(name, "MuSGD")) p.kind = CY_OPTIM_MUSGD;
    else {
        fprintf(stderr, "error: optimizer=%s: expected SGD, AdamW or MuSGD\n", name);
        return 2;
    }
    if (!(p.lr > 0) || p.momentum < 0 || p.momentum >= 1 || p.weight_decay < 0 || *clip < 0) {
        fprintf(stderr, "error: lr0 must be > 0, momentum in [0, 1), weight_decay and clip >= 0\n");
        return 2;
    }
    cy_error err = {0};
    if (cy_optim_create_for_model(opt, m, &p, &err) != CY_OK) return cli_report(&err);
    return 0;
}

int cmd_dump_train_step(cli_args *a, cy_model *m, const float *x, int n, int h, int w, const char *out) {
    const char *tpath = cli_get(a, "targets", NULL), *watch = cli_get(a, "watch", DEFAULT_WATCH);
    long epoch, epochs;
    if (cli_get_int(a, "epoch", 0, 0, 1000000, &epoch) || cli_get_int(a, "epochs", 100, 1, 1000000, &epochs))
        return 2;
    const char *dpath = cli_get(a, "distill_model", NULL), *dinit = cli_get(a, "distill_init", "default");
    const char *dis_s = cli_get(a, "dis", "6.0"), *dweights = cli_get(a, "distill_weights", NULL);
    const char *dprec = cli_get(a, "distill_precision", NULL);
    cy_backend_kind backend;
    if (cli_get_backend(a, &backend)) return 2;
    char *end;
    double dis = strtod(dis_s, &end);
    if (*end || !(dis >= 0)) {
        fprintf(stderr, "error: dis=%s: expected a number >= 0\n", dis_s);
        return 2;
    }
    if (strcmp(dinit, "formula") && strcmp(dinit, "default")) {
        fprintf(stderr, "error: distill_init=%s: expected 'formula' or 'default'\n", dinit);
        return 2;
    }
    cy_optim *opt = NULL;
    double clip;
    int rc = parse_optimizer(a, m, &opt, &clip);
    if (rc) return rc;
    if (!tpath) {
        fprintf(stderr, "error: mode=train-step needs targets=<targets.json>\n");
        cy_optim_free(opt);
        return 2;
    }
    if (cli_check_unused(a, "dump")) {
        cy_optim_free(opt);
        return 2;
    }
    cy_error err = {0};
    float *rows = NULL, *tmp = NULL;
    int nrows = 0;
    cy_targets t = {0};
    cy_det_loss_ws *ws = NULL;
    cy_distill *dist = NULL;
    cy_model_summary s;
    cy_model_summarize(m, &s);
    if (dpath) {
        cy_distill_setup ds = {.teacher = dpath, .weights = dweights, .precision = dprec, .dis = dis,
                               .formula = !strcmp(dinit, "formula"), .nc = s.nc, .backend = backend};
        if (cy_distill_setup_create(&ds, m, NULL, &dist, &err) != CY_OK) {
            rc = cli_report(&err);
            goto done;
        }
    }
    if (cy_targets_json_read(tpath, &rows, &nrows, &err) != CY_OK ||
        cy_targets_from_rows(&t, rows, nrows, n, s.nc, &err) != CY_OK) {
        fprintf(stderr, "error: %s: %s\n", tpath, err.msg);
        rc = 1;
        goto done;
    }
    cy_model_set_training(m, 1);
    cy_model_loss_out lo;
    cy_distill_out dout = {0};
    if (cy_det_loss_ws_create(&ws, &err) != CY_OK || cy_model_run(m, x, n, h, w, &err) != CY_OK ||
        cy_model_zero_grad(m, &err) != CY_OK ||
        (dist && cy_distill_forward(dist, m, x, n, h, w, 1, &dout, &err) != CY_OK) ||
        cy_model_loss(m, ws, &t, cy_e2e_weights_at((int)epoch, (int)epochs), 1, &lo, &err) != CY_OK) {
        rc = cli_report(&err);
        goto done;
    }
    float v[4];
    int64_t three = 3, four = 4, one = 1;
    for (int i = 0; i < 3; i++) v[i] = (float)lo.loss[i];
    v[3] = (float)(dout.dis_loss * n);
    if ((rc = save(out, "loss.npy", v, 1, dist ? &four : &three))) goto done;
    if (dist) {
        float dl = (float)dout.dis_loss;
        if ((rc = save(out, "dis_loss.npy", &dl, 1, &one))) goto done;
        for (int l = 0; l < cy_distill_levels(dist); l++) {
            cy_array wl;
            char name[64];
            snprintf(name, sizeof name, "teacher_w_%d.npy", l);
            if (cy_distill_teacher_weights(dist, l, &wl, &err) != CY_OK) {
                rc = cli_report(&err);
                goto done;
            }
            rc = save(out, name, wl.data, wl.ndim, wl.shape);
            cy_array_free(&wl);
            if (rc) goto done;
        }
        int64_t np = (int64_t)cy_distill_nparams(dist);
        if ((rc = save(out, "projector_grads.npy", cy_distill_grads(dist), 1, &np))) goto done;
    }
    for (int i = 0; i < 3; i++) v[i] = (float)lo.items[i];
    if ((rc = save(out, "loss_items.npy", v, 1, &three))) goto done;
    if ((rc = save_assign(out, "assign_o2m.npy", &lo.o2m_assign))) goto done;
    if (s.end2end && (rc = save_assign(out, "assign_o2o.npy", &lo.o2o_assign))) goto done;
    /* learnable gradients (FIXED entries such as the DFL conv have none) and BN stats */
    tmp = malloc((m->nparams > m->nbuffers ? m->nparams : m->nbuffers) * sizeof *tmp);
    if (!tmp) {
        rc = 1;
        goto done;
    }
    int64_t k = 0;
    for (int i = 0; i < m->nentries; i++)
        if (m->entries[i].kind == CY_ENTRY_PARAM) {
            memcpy(tmp + k, m->grads + m->entries[i].offset, m->entries[i].numel * sizeof(float));
            k += (int64_t)m->entries[i].numel;
        }
    if ((rc = save(out, "grads.npy", tmp, 1, &k))) goto done;
    k = 0;
    for (int i = 0; i < m->nentries; i++)
        if (m->entries[i].kind == CY_ENTRY_BUFFER) {
            memcpy(tmp + k, m->buffers + m->entries[i].offset, m->entries[i].numel * sizeof(float));
            k += (int64_t)m->entries[i].numel;
        }
    if ((rc = save(out, "bn_running.npy", tmp, 1, &k))) goto done;
    if (opt) {
        if ((clip > 0 && cy_optim_clip_grad_norm(opt, m->grads, clip, NULL, &err) != CY_OK) ||
            cy_optim_step(opt, m->params, m->grads, &err) != CY_OK) {
            rc = cli_report(&err);
            goto done;
        }
        k = 0;
        char *names = strdup(watch), *save_ptr = NULL;
        for (char *nm = strtok_r(names, ",", &save_ptr); nm && !rc; nm = strtok_r(NULL, ",", &save_ptr)) {
            int e = cy_model_find_entry(m, nm);
            if (e < 0 || m->entries[e].kind == CY_ENTRY_BUFFER || m->entries[e].kind == CY_ENTRY_COUNTER) {
                fprintf(stderr, "error: watch=%s: the model has no parameter '%s'\n", watch, nm);
                rc = 2;
                break;
            }
            memcpy(tmp + k, m->params + m->entries[e].offset, m->entries[e].numel * sizeof(float));
            k += (int64_t)m->entries[e].numel;
        }
        free(names);
        if (!rc) rc = save(out, "params_after.npy", tmp, 1, &k);
    }
done:
    free(tmp);
    free(rows);
    cy_targets_free(&t);
    cy_det_loss_ws_free(ws);
    cy_distill_free(dist);
    cy_optim_free(opt);
    return rc;
}
