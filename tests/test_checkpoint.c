/* A training checkpoint written by cy_checkpoint_save reads back (with the
 * restricted reader) as plain data: every state_dict tensor equal to the
 * model's, EMA and optimizer state present, train_args typed, names keyed
 * by int, and an interrupted write leaves the previous file intact. */
#include <sys/stat.h>
#include <unistd.h>
#include "cyolo.h"
#include "engine/checkpoint.h"
#include "io/pt.h"
#include "io/pt_value.h"
#include "test_util.h"

int main(void) {
    cy_error err = {0};
    cy_model_params mp = cy_model_default_params();
    mp.init = CY_INIT_FORMULA;
    mp.nc = 3;
    cy_model *m;
    CHECK(cy_model_create(&m, "yolo26n.yaml", &mp, &err) == CY_OK, "%s", err.msg);
    cy_optim *opt;
    cy_optim_params op = {.kind = CY_OPTIM_ADAMW, .lr = 0.001, .momentum = 0.9, .weight_decay = 0.0005};
    CHECK(cy_optim_create_for_model(&opt, m, &op, &err) == CY_OK, "%s", err.msg);
    cy_ema *ema;
    CHECK(cy_ema_create_for_model(&ema, m, NULL, &err) == CY_OK, "%s", err.msg);
    cy_args *args;
    cy_args_create(&args, &err);
    cy_args_set(args, "epochs", "7", &err);
    char *names[3] = {"cat", "dog", "bird"};
    char dir[] = "/tmp/cyolo_ckpt_XXXXXX", path[256], sub[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/last.pt", dir);
    cy_checkpoint c = {.model = m, .ema = ema, .opt = opt, .epoch = 4, .best_fitness = 0.25, .args = args,
                       .names = names, .nc = 3};
    CHECK(cy_checkpoint_save(path, &c, &err) == CY_OK, "save: %s", err.msg);
    cy_pt_value *root = NULL;
    CHECK(cy_pt_read(path, &root, &err) == CY_OK, "read: %s", err.msg);
    int64_t epoch = 0;
    double best = 0;
    CHECK(!cy_pt_get_int(root, "epoch", &epoch, &err) && epoch == 4, "epoch");
    CHECK(!cy_pt_get_float(root, "best_fitness", &best, &err) && best == 0.25, "best_fitness");
    const cy_pt_value *sd = cy_pt_dict_find(root, "model");
    int same = sd != NULL, count = 0;
    for (int i = 0; same && i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        const cy_pt_value *t = cy_pt_dict_find(sd, e->name);
        if (!t || e->kind == CY_ENTRY_COUNTER) {
            same &= t != NULL;
            continue;
        }
        const float *want = (e->kind == CY_ENTRY_BUFFER ? m->buffers : m->params) + e->offset;
        same &= cy_pt_tensor_numel(t) == (int64_t)e->numel && !memcmp(cy_pt_tensor_data(t), want, e->numel * 4);
        count++;
    }
    CHECK(same && count > 300, "every state_dict tensor equal (%d compared)", count);
    CHECK(cy_pt_dict_find(root, "ema") && cy_pt_dict_find(root, "optimizer"), "ema and optimizer present");
    const cy_pt_value *ta = cy_pt_dict_find(root, "train_args");
    int64_t ep = 0;
    CHECK(ta && !cy_pt_get_int(ta, "epochs", &ep, &err) && ep == 7, "train_args.epochs typed int");
    const cy_pt_value *names_v = cy_pt_dict_find(root, "names");
    const cy_pt_value *n1 = names_v ? cy_pt_dict_find_int(names_v, 1) : NULL;
    CHECK(n1 != NULL, "names keyed by class id");
    cy_pt_value_free(root);
    /* the model rebuilt from the checkpoint predicts exactly like the original */
    cy_model *back = NULL;
    CHECK(cy_checkpoint_load_model(path, NULL, 0, &back, &err) == CY_OK, "load model: %s", err.msg);
    if (back) {
        float x[2 * 3 * 64 * 96];
        for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
        cy_array a, b;
        cy_predict_params pp = {.max_det = 300};
        CHECK(cy_model_forward(m, x, 2, 64, 96, &pp, &a, &err) == CY_OK, "%s", err.msg);
        CHECK(cy_model_forward(back, x, 2, 64, 96, &pp, &b, &err) == CY_OK, "%s", err.msg);
        CHECK(a.shape[1] == b.shape[1] && !memcmp(a.data, b.data, (size_t)(a.shape[0] * a.shape[1] * 6) * 4),
              "identical predictions after the round trip");
        cy_model_summary s1, s2;
        cy_model_summarize(m, &s1);
        cy_model_summarize(back, &s2);
        CHECK(s1.params == s2.params && s2.nc == 3, "same architecture, nc 3");
        cy_array_free(&a);
        cy_array_free(&b);
        cy_model_free(back);
    }
    snprintf(sub, sizeof sub, "%s/notpt.pt", dir);
    FILE *junk = fopen(sub, "w");
    fputs("not a zip", junk);
    fclose(junk);
    CHECK(cy_checkpoint_load_model(sub, NULL, 1, &back, &err) != CY_OK && strstr(err.msg, "notpt.pt"),
          "a junk .pt is a clear error: %s", err.msg);
    remove(sub);
    /* a failing write (target is a folder) reports the error and leaves no temporary behind */
    snprintf(sub, sizeof sub, "%s/asdir.pt", dir);
    mkdir(sub, 0777);
    CHECK(cy_checkpoint_save(sub, &c, &err) != CY_OK, "writing over a folder fails cleanly");
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 2 && rm -rf '%s'", dir, dir);
    CHECK(system(cmd) == 0, "only last.pt and the folder remain");
    cy_args_free(args);
    cy_ema_free(ema);
    cy_optim_free(opt);
    cy_model_free(m);
    return test_summary();
}
