/* cy_export_ultralytics_pt: a checkpoint Ultralytics loads (engine/export_ultralytics.h).
 *  - the pickle writer's object forms (modules by NEWOBJ + BUILD, Parameters,
 *    sets, torch.Size, one shared object) read back as written, and are
 *    spelt as torch spells them;
 *  - tests/fixtures/pt/ulx_{v8,11,26,seg26,segv8}.pt (made by
 *    tools/refgen/make_ul_export_fixtures.py: Ultralytics 8.4.190 pickling its
 *    own models of cyolo's YAMLs, in the state its trainer saves them): the
 *    export of that Ultralytics checkpoint is the same object tree, value for
 *    value (classes, attribute keys in order, non-tensor values, tensors with
 *    dtype, shape, Parameter flag and elements); the export of a cyolo
 *    checkpoint of the same model too, but for args (its train_args) and
 *    the activation of a YOLOv8/11 SPPF's cv1 (none in cyolo's checkpoints,
 *    as Ultralytics 8.4.37 built it; SiLU in 8.4.190);
 *  - cyolo reads its export back: the same architecture and names, every
 *    tensor the source's rounded to fp16, the EMA's weights when there is an
 *    EMA; every family's YAML in cfg/models at scale n, two at a larger scale;
 *  - a distillation checkpoint exports the student alone (no projector);
 *  - bad input: a missing or corrupt source, an unwritable output path, the
 *    source as the output: an error naming the file, nothing left behind.
 * Manual use: test_export_ultralytics SRC.pt OUT.pt, or
 * test_export_ultralytics --yaml MODEL.yaml NC OUT.pt (a formula-weight model's
 * cyolo checkpoint exported; tools/check_ultralytics_pt.py uses it). */
#include <dirent.h>
#include <unistd.h>
#include "core/half.h"
#include "engine/checkpoint.h"
#include "engine/checkpoint_import.h"
#include "engine/export_ultralytics.h"
#include "io/pickle.h"
#include "io/pt.h"
#include "io/pt_module.h"
#include "model/distill.h"
#include "test_util.h"

static cy_error err;
static char tmpdir[64];

static void tmp_path(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", tmpdir, name); }

/* The first difference between a and b as "path: what", or "" when equal.
 * skip names one root attribute not to compare (NULL: none). */
static void tree_diff(const cy_pt_value *a, const cy_pt_value *b, const char *path, const char *skip, char *out,
                      size_t cap) {
    char sub[1024];
    if (*out) return;
    if (!a || !b) {
        if (a != b) snprintf(out, cap, "%s: one side missing", path);
        return;
    }
    if (a->kind != b->kind) {
        snprintf(out, cap, "%s: %s vs %s", path, cy_pt_kind_name(a->kind), cy_pt_kind_name(b->kind));
        return;
    }
    switch (a->kind) {
    case CY_PT_OBJECT:
        if (strcmp(a->u.obj.cls, b->u.obj.cls) || a->u.obj.reduce != b->u.obj.reduce) {
            snprintf(out, cap, "%s: object %s vs %s", path, a->u.obj.cls, b->u.obj.cls);
            return;
        }
        snprintf(sub, sizeof sub, "%s()", path);
        tree_diff(a->u.obj.args, b->u.obj.args, sub, NULL, out, cap);
        tree_diff(a->u.obj.state, b->u.obj.state, path, skip, out, cap);
        return;
    case CY_PT_DICT:
        if (a->u.dict.ordered != b->u.dict.ordered || a->u.dict.len != b->u.dict.len) {
            snprintf(out, cap, "%s: dict of %zu vs %zu keys (ordered %d vs %d)", path, a->u.dict.len, b->u.dict.len,
                     a->u.dict.ordered, b->u.dict.ordered);
            for (size_t i = 0; i < a->u.dict.len && i < b->u.dict.len; i++)
                if (!cy_pt_equal(a->u.dict.keys[i], b->u.dict.keys[i]) && a->u.dict.keys[i]->kind == CY_PT_STR &&
                    b->u.dict.keys[i]->kind == CY_PT_STR) {
                    size_t n = strlen(out);
                    snprintf(out + n, cap - n, "; key %zu: %s vs %s", i, a->u.dict.keys[i]->u.str.s,
                             b->u.dict.keys[i]->u.str.s);
                    break;
                }
            return;
        }
        for (size_t i = 0; i < a->u.dict.len && !*out; i++) {
            const cy_pt_value *ka = a->u.dict.keys[i], *kb = b->u.dict.keys[i];
            if (!cy_pt_equal(ka, kb)) {
                snprintf(out, cap, "%s: key %zu differs%s%s%s%s", path, i, ka->kind == CY_PT_STR ? " (" : "",
                         ka->kind == CY_PT_STR ? ka->u.str.s : "", kb->kind == CY_PT_STR ? " vs " : "",
                         kb->kind == CY_PT_STR ? kb->u.str.s : "");
                return;
            }
            if (ka->kind == CY_PT_STR && !*path && skip && !strcmp(ka->u.str.s, skip)) continue;
            if (ka->kind == CY_PT_STR) snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", ka->u.str.s);
            else snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            tree_diff(a->u.dict.vals[i], b->u.dict.vals[i], sub, NULL, out, cap);
        }
        return;
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        if (a->u.seq.len != b->u.seq.len || a->u.seq.py != b->u.seq.py) {
            snprintf(out, cap, "%s: %zu vs %zu items (Python type %d vs %d)", path, a->u.seq.len, b->u.seq.len,
                     a->u.seq.py, b->u.seq.py);
            return;
        }
        for (size_t i = 0; i < a->u.seq.len && !*out; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            tree_diff(a->u.seq.items[i], b->u.seq.items[i], sub, NULL, out, cap);
        }
        return;
    case CY_PT_TENSOR:
        if (a->u.tensor.param != b->u.tensor.param) snprintf(out, cap, "%s: Parameter flag %d vs %d", path,
                                                             a->u.tensor.param, b->u.tensor.param);
        else if (!cy_pt_equal(a, b)) snprintf(out, cap, "%s: tensors differ (dtype, shape or values)", path);
        return;
    default:
        if (!cy_pt_equal(a, b)) snprintf(out, cap, "%s: values differ", path);
        return;
    }
}

/* ---- the pickle writer's object forms ---- */

static int has_bytes(const uint8_t *buf, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(buf + i, s, k)) return 1;
    return 0;
}

static void test_pickle_objects(void) {
    cy_pt_value *root, *st, *params, *w, *set, *size, *silu, *silu2, *mods;
    cy_pt_dict_new(&root, 0, &err);
    cy_pt_dict_new(&st, 0, &err);
    cy_pt_dict_put_bool(st, "training", 0, &err);
    cy_pt_dict_new(&params, 0, &err);
    int64_t shape[2] = {2, 3};
    float x[6] = {1, 2, 3, 4, 5, 6};
    cy_pt_tensor_new(&w, CY_PT_DT_F32, 2, shape, x, &err);
    w->u.tensor.param = 1;
    cy_pt_dict_set_str(params, "weight", w, &err);
    cy_pt_dict_put_none(params, "bias", &err);
    cy_pt_dict_set_str(st, "_parameters", params, &err);
    CHECK(cy_pt_set_new(&set, &err) == CY_OK, "set: %s", err.msg);
    cy_pt_dict_set_str(st, "_non_persistent_buffers_set", set, &err);
    cy_pt_tuple_new(&size, &err);
    for (int i = 0; i < 4; i++) {
        cy_pt_value *d;
        cy_pt_int_new(&d, 8 * (i + 1), &err);
        cy_pt_append(size, d, &err);
    }
    size->u.seq.py = CY_PT_SEQ_SIZE;
    cy_pt_dict_set_str(st, "shape", size, &err);
    cy_pt_dict_new(&mods, 0, &err);
    CHECK(cy_pt_object_new(&silu, "torch.nn.modules.activation.SiLU", 0, NULL, NULL, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_pt_object_new(&silu2, "torch.nn.modules.activation.SiLU", 0, NULL, NULL, &err) == CY_OK, "%s", err.msg);
    silu->u.obj.share = silu2->u.obj.share = 7; /* one object, twice */
    cy_pt_dict_set_str(mods, "a", silu, &err);
    cy_pt_dict_set_str(mods, "b", silu2, &err);
    cy_pt_dict_set_str(st, "_modules", mods, &err);
    cy_pt_value *obj;
    CHECK(cy_pt_object_new(&obj, "torch.nn.modules.conv.Conv2d", 0, NULL, st, &err) == CY_OK, "object: %s", err.msg);
    cy_pt_dict_set_str(root, "ema", obj, &err);
    CHECK(cy_pt_object_new(&obj, "torch.nn", 0, NULL, NULL, &err) == CY_OK && obj, "a dotted name");
    cy_pt_value_free(obj);
    CHECK(cy_pt_object_new(&obj, "nodots", 0, NULL, NULL, &err) != CY_OK, "an undotted class name is refused");

    uint8_t *pkl = NULL;
    size_t n = 0;
    cy_pt_vec storages = {0};
    CHECK(cy_pickle_dump(root, &pkl, &n, &storages, &err) == CY_OK, "dump: %s", err.msg);
    CHECK(pkl && has_bytes(pkl, n, "ctorch.nn.modules.conv\nConv2d\n") && has_bytes(pkl, n, "c__builtin__\nset\n") &&
              has_bytes(pkl, n, "ctorch\nSize\n") && has_bytes(pkl, n, "ctorch._utils\n_rebuild_parameter\n"),
          "the globals torch's pickles name");
    CHECK(pkl && has_bytes(pkl, n, ")\x81"), "modules made by NEWOBJ of an empty tuple");
    free(pkl);
    free(storages.items);

    char path[128];
    tmp_path(path, sizeof path, "objects.pt");
    CHECK(cy_pt_write(path, root, &err) == CY_OK, "write: %s", err.msg);
    cy_pt_value *back = NULL;
    CHECK(cy_pt_read(path, &back, &err) == CY_OK, "read: %s", err.msg);
    char diff[512] = "";
    tree_diff(back, root, "", NULL, diff, sizeof diff);
    CHECK(!*diff, "objects, Parameters, sets and torch.Size read back as written: %s", diff);
    const cy_pt_value *ema = cy_pt_dict_find(back, "ema");
    const cy_pt_value *m = cy_pt_object_attr(ema, "_modules");
    CHECK(m && m->u.dict.len == 2 && !strcmp(cy_pt_object_class(m->u.dict.vals[1]), "torch.nn.modules.activation.SiLU"),
          "the shared object is read (as a copy) wherever it is referred to");
    cy_pt_value_free(back);
    cy_pt_value_free(root);
}

/* ---- against Ultralytics' own pickles ---- */

/* The _modules dict of the module at a dotted path ("model.9.cv1") of a
 * read tree (mutable: the tree is the caller's). */
static cy_pt_value *modules_at(cy_pt_value *obj, const char *path) {
    char part[64];
    while (obj && obj->kind == CY_PT_OBJECT) {
        cy_pt_value *mods = (cy_pt_value *)cy_pt_object_attr(obj, "_modules");
        if (!*path) return mods;
        size_t n = strcspn(path, ".");
        snprintf(part, sizeof part, "%.*s", (int)n, path);
        path += n + (path[n] == '.');
        obj = (cy_pt_value *)cy_pt_dict_find(mods, part);
    }
    return NULL;
}

/* A cyolo checkpoint builds a YOLOv8/11 SPPF row's cv1 without activation
 * (Ultralytics 8.4.37's rule, cyolo's detection reference), where 8.4.190
 * gives it a SiLU: the export says what cyolo computes. For those SPPFs the
 * reference is made to say so too (*n: how many). */
static void expect_sppf_identity(cy_pt_value *ref_ema, const cy_pt_value *got_ema, int *n) {
    *n = 0;
    cy_pt_value *layers = modules_at(ref_ema, "model");
    for (size_t i = 0; layers && i < layers->u.dict.len; i++) {
        const char *cls = cy_pt_object_class(layers->u.dict.vals[i]);
        if (!cls || strcmp(cls, "ultralytics.nn.modules.block.SPPF")) continue;
        char p[64];
        snprintf(p, sizeof p, "model.%s.cv1", layers->u.dict.keys[i]->u.str.s);
        cy_pt_value *want = modules_at(ref_ema, p), *have = modules_at((cy_pt_value *)got_ema, p);
        const cy_pt_value *a = cy_pt_dict_find(have, "act");
        if (!a || strcmp(cy_pt_object_class(a), "torch.nn.modules.linear.Identity") ||
            strcmp(cy_pt_object_class(cy_pt_dict_find(want, "act")), "torch.nn.modules.activation.SiLU"))
            continue;
        cy_pt_value *c = NULL;
        if (cy_pt_clone(&c, a, &err) == CY_OK && cy_pt_dict_set_str(want, "act", c, &err) == CY_OK) (*n)++;
        else cy_pt_value_free(c);
    }
}


static cy_pt_value *read_ema(const char *path) {
    cy_pt_value *root = NULL;
    if (cy_pt_read(path, &root, &err) != CY_OK) {
        CHECK(0, "read %s: %s", path, err.msg);
        return NULL;
    }
    return root;
}

/* every tensor of b equals a's rounded to fp16, names and shapes alike */
static void check_same_weights(const char *what, const cy_model *a, const cy_model *b) {
    int same = a->nentries == b->nentries, bad = -1;
    for (int i = 0; same && i < a->nentries; i++) {
        const cy_entry *x = &a->entries[i], *y = &b->entries[i];
        same = !strcmp(x->name, y->name) && x->kind == y->kind && x->numel == y->numel && x->ndim == y->ndim;
        for (int d = 0; same && d < x->ndim; d++) same = x->shape[d] == y->shape[d];
        if (!same) { bad = i; break; }
        if (x->kind == CY_ENTRY_COUNTER) {
            same = a->counters[x->offset] == b->counters[y->offset];
        } else {
            const float *p = (x->kind == CY_ENTRY_BUFFER ? a->buffers : a->params) + x->offset;
            const float *q = (y->kind == CY_ENTRY_BUFFER ? b->buffers : b->params) + y->offset;
            for (size_t k = 0; same && k < x->numel; k++) {
                float r = cy_half_to_f32(cy_f32_to_half(p[k]));
                same = !memcmp(&r, &q[k], sizeof r);
            }
        }
        if (!same) bad = i;
    }
    CHECK(same, "%s: the export reads back with the source's weights in fp16 (first difference: %s)", what,
          bad >= 0 && bad < a->nentries ? a->entries[bad].name : "the entry count");
    same = a->nlayers == b->nlayers && a->nc == b->nc && a->task == b->task && a->end2end == b->end2end &&
           a->reg_max == b->reg_max && a->nl == b->nl;
    for (int i = 0; same && i < a->nlayers; i++)
        same = a->layers[i].kind == b->layers[i].kind && !strcmp(a->layers[i].args, b->layers[i].args) &&
               a->layers[i].params == b->layers[i].params;
    for (int l = 0; same && l < a->nl; l++) same = a->stride[l] == b->stride[l];
    CHECK(same, "%s: the same architecture (layers, arguments, nc, task, head, strides)", what);
}

static void check_names(const char *what, const char *path, int nc, const char *const *want) {
    char **names = NULL;
    CHECK(cy_checkpoint_load_names(path, nc, &names, &err) == CY_OK, "names: %s", err.msg);
    int same = names != NULL;
    for (int i = 0; same && i < nc; i++) same = !strcmp(names[i], want[i]);
    CHECK(same, "%s: class names read back", what);
    for (int i = 0; names && i < nc; i++) free(names[i]);
    free(names);
}

static void test_fixture(const char *name) {
    static const char *const names[3] = {"cat", "dog", "bird"};
    char fx[128], out[160], ck[160], what[64];
    snprintf(fx, sizeof fx, "tests/fixtures/pt/ulx_%s.pt", name);
    snprintf(out, sizeof out, "%s/%s_ultralytics.pt", tmpdir, name);
    snprintf(ck, sizeof ck, "%s/%s_cyolo.pt", tmpdir, name);
    cy_pt_value *ref = read_ema(fx);
    if (!ref) return;
    const cy_pt_value *ref_ema = cy_pt_dict_find(ref, "ema");

    /* the Ultralytics checkpoint itself: the same tree back */
    snprintf(what, sizeof what, "ulx_%s (Ultralytics source)", name);
    CHECK(cy_export_ultralytics_pt(fx, out, &err) == CY_OK, "%s: export: %s", what, err.msg);
    cy_pt_value *got = read_ema(out);
    if (got) {
        char diff[1024] = "";
        tree_diff(cy_pt_dict_find(got, "ema"), ref_ema, "", NULL, diff, sizeof diff);
        CHECK(!*diff, "%s: the module tree is Ultralytics': %s", what, diff);
        static const char *const keys[] = {"date", "version", "license", "docs", "epoch", "best_fitness", "model",
                                           "ema", "updates", "optimizer", "train_args", "train_metrics",
                                           "train_results"};
        int ok = 1;
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            ok &= got->u.dict.len > i && got->u.dict.keys[i]->kind == CY_PT_STR &&
                  !strcmp(got->u.dict.keys[i]->u.str.s, keys[i]);
        CHECK(ok && cy_pt_dict_find(got, "model")->kind == CY_PT_NONE &&
                  cy_pt_dict_find(got, "optimizer")->kind == CY_PT_NONE,
              "%s: the checkpoint dict as save_model lays it out (model None, ema the model)", what);
        CHECK(cy_pt_equal(cy_pt_dict_find(got, "train_args"), cy_pt_dict_find(ref, "train_args")) &&
                  cy_pt_equal(cy_pt_dict_find(got, "train_metrics"), cy_pt_dict_find(ref, "train_metrics")) &&
                  cy_pt_equal(cy_pt_dict_find(got, "epoch"), cy_pt_dict_find(ref, "epoch")),
              "%s: train_args, train_metrics and epoch carried over", what);
    }
    cy_pt_value_free(got);

    /* cyolo reads it back; then a cyolo checkpoint of that model */
    cy_model *src = NULL, *back = NULL;
    CHECK(cy_checkpoint_load_model(fx, NULL, 1, &src, &err) == CY_OK, "%s: load: %s", what, err.msg);
    CHECK(cy_checkpoint_load_model(out, NULL, 1, &back, &err) == CY_OK, "%s: load the export: %s", what, err.msg);
    if (src && back) check_same_weights(what, src, back);
    if (src) check_names(what, out, src->nc, names);
    cy_model_free(back);
    back = NULL;

    snprintf(what, sizeof what, "ulx_%s (cyolo source)", name);
    cy_args *args = NULL;
    cy_args_create(&args, &err);
    cy_args_set(args, "imgsz", "64", &err); /* the fixtures' anchor cache is for 64 x 64 */
    cy_args_set(args, "task", name[0] == 's' ? "segment" : "detect", &err);
    char csv[] = "/tmp/cyolo_xul_XXXXXX";
    int fd = mkstemp(csv);
    const char *rows = "epoch,time,train/box_loss,metrics/precision(B),metrics/mAP50-95(B),val/box_loss,lr/pg0\n"
                       "1,2.5,3.25,0.125,0.0625,1.5,0.001\n2,5,3,0.25,0.125,1.25,0.002\n";
    CHECK(fd >= 0 && write(fd, rows, strlen(rows)) == (ssize_t)strlen(rows), "results.csv");
    if (fd >= 0) close(fd);
    cy_checkpoint c = {.model = src, .epoch = 1, .best_fitness = 0.125, .args = args,
                       .names = (char *const *)names, .nc = src ? src->nc : 0, .results_csv = csv};
    CHECK(src && cy_checkpoint_save(ck, &c, &err) == CY_OK, "%s: save: %s", what, err.msg);
    unlink(csv);
    CHECK(cy_export_ultralytics_pt(ck, out, &err) == CY_OK, "%s: export: %s", what, err.msg);
    got = read_ema(out);
    if (got) {
        char diff[1024] = "";
        const cy_pt_value *ema = cy_pt_dict_find(got, "ema");
        int nsppf = 0;
        expect_sppf_identity((cy_pt_value *)ref_ema, ema, &nsppf);
        CHECK(nsppf == (!strcmp(name, "v8") || !strcmp(name, "11")), "%s: %d SPPF cv1 without activation", what, nsppf);
        tree_diff(ema, ref_ema, "", "args", diff, sizeof diff);
        CHECK(!*diff, "%s: the module tree is Ultralytics' (args aside): %s", what, diff);
        CHECK(cy_pt_equal(cy_pt_object_attr(ema, "args"), cy_pt_dict_find(got, "train_args")) &&
                  cy_pt_dict_find(got, "train_args")->u.dict.len == (size_t)cy_args_count(args),
              "%s: the model's args are its train_args", what);
        const cy_pt_value *tr = cy_pt_dict_find(got, "train_results"), *tm = cy_pt_dict_find(got, "train_metrics");
        const cy_pt_value *ep = cy_pt_dict_find(tr, "epoch"), *map = cy_pt_dict_find(tm, "metrics/mAP50-95(B)");
        const cy_pt_value *fit = cy_pt_dict_find(tm, "fitness");
        CHECK(ep && ep->kind == CY_PT_LIST && ep->u.seq.len == 2 && ep->u.seq.items[1]->kind == CY_PT_INT &&
                  cy_pt_dict_find(tr, "lr/pg0") && cy_pt_dict_find(tr, "lr/pg0")->u.seq.items[1]->u.f == 0.002,
              "%s: train_results as polars' to_dict gives results.csv (int epochs, float columns)", what);
        CHECK(map && map->u.f == 0.125 && fit && fit->u.f == 0.125 && cy_pt_dict_find(tm, "val/box_loss") &&
                  !cy_pt_dict_find(tm, "lr/pg0") && !cy_pt_dict_find(tm, "epoch"),
              "%s: train_metrics of the saved epoch's row (metrics/, val/, fitness)", what);
    }
    cy_pt_value_free(got);
    CHECK(cy_checkpoint_load_model(out, NULL, 1, &back, &err) == CY_OK, "%s: load the export: %s", what, err.msg);
    if (src && back) check_same_weights(what, src, back);
    cy_model_free(back);
    cy_model_free(src);
    cy_args_free(args);
    cy_pt_value_free(ref);
}

/* ---- cyolo's own models ---- */

static cy_model *formula_from(const char *yaml, int nc) {
    cy_model_params p = cy_model_default_params();
    p.init = CY_INIT_FORMULA;
    p.nc = nc;
    cy_model *m = NULL;
    if (cy_model_create(&m, yaml, &p, &err) != CY_OK) CHECK(0, "create %s: %s", yaml, err.msg);
    return m;
}

/* yaml's formula model (EMA weights: the model's halved) through a cyolo
 * checkpoint and the export, read back */
static void test_roundtrip(const char *yaml, int nc, int with_ema) {
    char ck[160], out[160], what[96];
    snprintf(ck, sizeof ck, "%s/rt.pt", tmpdir);
    snprintf(out, sizeof out, "%s/rt_ultralytics.pt", tmpdir);
    snprintf(what, sizeof what, "%s%s", yaml, with_ema ? " with EMA" : "");
    cy_model *m = formula_from(yaml, nc), *back = NULL;
    if (!m) return;
    cy_ema *ema = NULL;
    float *half = NULL;
    if (with_ema) {
        half = malloc(m->nparams * sizeof *half);
        for (size_t i = 0; i < m->nparams; i++) half[i] = m->params[i] * 0.5f;
        CHECK(cy_ema_create_for_model(&ema, m, NULL, &err) == CY_OK && cy_ema_load(ema, half, m->buffers, &err) == CY_OK,
              "ema: %s", err.msg);
    }
    cy_checkpoint c = {.model = m, .ema = ema, .nc = m->nc};
    CHECK(cy_checkpoint_save(ck, &c, &err) == CY_OK, "%s: save: %s", what, err.msg);
    CHECK(cy_export_ultralytics_pt(ck, out, &err) == CY_OK, "%s: export: %s", what, err.msg);
    CHECK(cy_checkpoint_load_model(out, NULL, 1, &back, &err) == CY_OK, "%s: load the export: %s", what, err.msg);
    if (back) {
        if (half) memcpy(m->params, half, m->nparams * sizeof *half); /* the EMA's weights are the ones exported */
        check_same_weights(what, m, back);
    }
    cy_model_free(back);
    cy_ema_free(ema);
    free(half);
    cy_model_free(m);
}

/* ---- a distillation checkpoint ---- */

static int mentions(const cy_pt_value *v, const char *word) {
    switch (v->kind) {
    case CY_PT_STR: return strstr(v->u.str.s, word) != NULL;
    case CY_PT_OBJECT:
        return strstr(v->u.obj.cls, word) || (v->u.obj.args && mentions(v->u.obj.args, word)) ||
               (v->u.obj.state && mentions(v->u.obj.state, word));
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        for (size_t i = 0; i < v->u.seq.len; i++)
            if (mentions(v->u.seq.items[i], word)) return 1;
        return 0;
    case CY_PT_DICT:
        for (size_t i = 0; i < v->u.dict.len; i++)
            if (mentions(v->u.dict.keys[i], word) || mentions(v->u.dict.vals[i], word)) return 1;
        return 0;
    default: return 0;
    }
}

static void test_distill_student_only(void) {
    cy_model *s = formula_from("yolo26n.yaml", 3), *t = formula_from("yolo26s.yaml", 3), *back = NULL;
    cy_distill *d = NULL;
    if (!s || !t || cy_distill_create(&d, s, t, 6.0, 0, &err) != CY_OK) {
        CHECK(0, "distill setup: %s", err.msg);
        cy_model_free(s);
        cy_model_free(t);
        return;
    }
    cy_distill_init_formula(d);
    char ck[160], out[160];
    snprintf(ck, sizeof ck, "%s/distill_last.pt", tmpdir);
    snprintf(out, sizeof out, "%s/distill_ultralytics.pt", tmpdir);
    cy_checkpoint c = {.model = s, .nc = 3, .distill = d};
    CHECK(cy_checkpoint_save(ck, &c, &err) == CY_OK, "save: %s", err.msg);
    cy_pt_value *src = read_ema(ck);
    CHECK(src && cy_pt_dict_find(src, "projector"), "the distillation checkpoint holds projectors");
    cy_pt_value_free(src);
    CHECK(cy_export_ultralytics_pt(ck, out, &err) == CY_OK, "export: %s", err.msg);
    cy_pt_value *got = read_ema(out);
    if (got) {
        CHECK(!mentions(got, "projector") && !mentions(got, "teacher"), "no projector or teacher in the export");
        cy_pt_value *sd = NULL;
        CHECK(cy_pt_module_state_dict(cy_pt_dict_find(got, "ema"), &sd, &err) == CY_OK &&
                  sd->u.dict.len == (size_t)s->nentries,
              "the exported module's state_dict is the student's (%d entries)", s->nentries);
        cy_pt_value_free(sd);
    }
    cy_pt_value_free(got);
    CHECK(cy_checkpoint_load_model(out, NULL, 1, &back, &err) == CY_OK, "load the export: %s", err.msg);
    if (back) check_same_weights("distillation student", s, back);
    cy_model_free(back);
    cy_distill_free(d); /* frees the teacher */
    cy_model_free(s);
}

/* ---- errors ---- */

static int leftovers(const char *dir) {
    DIR *dd = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (dd) closedir(dd);
    return n;
}

static void test_errors(void) {
    char out[160], bad[160], ck[160];
    snprintf(out, sizeof out, "%s/err_ultralytics.pt", tmpdir);
    snprintf(ck, sizeof ck, "%s/rt.pt", tmpdir); /* written by test_roundtrip */
    unlink(out);
    CHECK(cy_export_ultralytics_pt("/nonexistent/best.pt", out, &err) != CY_OK && strstr(err.msg, "/nonexistent/best.pt"),
          "a missing source is named: %s", err.msg);
    CHECK(access(out, F_OK) != 0, "no output for a missing source");
    tmp_path(bad, sizeof bad, "corrupt.pt");
    FILE *f = fopen(bad, "wb");
    if (f) {
        fputs("PK\003\004 not really a zip", f);
        fclose(f);
    }
    CHECK(cy_export_ultralytics_pt(bad, out, &err) != CY_OK && strstr(err.msg, bad), "a corrupt source is named: %s",
          err.msg);
    CHECK(access(out, F_OK) != 0, "no output for a corrupt source");
    /* an output whose folder is a file */
    char unwritable[200];
    snprintf(unwritable, sizeof unwritable, "%s/x.pt", bad);
    CHECK(cy_export_ultralytics_pt(ck, unwritable, &err) != CY_OK && strstr(err.msg, unwritable),
          "an unwritable output path is named: %s", err.msg);
    snprintf(unwritable, sizeof unwritable, "%s/no/such/dir/x.pt", tmpdir);
    CHECK(cy_export_ultralytics_pt(ck, unwritable, &err) != CY_OK && strstr(err.msg, unwritable),
          "an output in a missing folder is named: %s", err.msg);
    CHECK(cy_export_ultralytics_pt(ck, ck, &err) != CY_OK && strstr(err.msg, ck), "the source as output is refused: %s",
          err.msg);
    cy_model *m = NULL;
    CHECK(cy_checkpoint_load_model(ck, NULL, 1, &m, &err) == CY_OK, "the refused export left the source intact: %s",
          err.msg);
    cy_model_free(m);
    /* an existing output stays as it was when the export fails */
    f = fopen(out, "wb");
    if (f) {
        fputs("keep", f);
        fclose(f);
    }
    CHECK(cy_export_ultralytics_pt(bad, out, &err) != CY_OK, "corrupt source");
    char buf[16] = "";
    f = fopen(out, "rb");
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
    }
    CHECK(!strcmp(buf, "keep"), "a failed export leaves an existing output untouched");
    CHECK(leftovers(tmpdir) == 0, "no temporary file left behind");
    CHECK(cy_export_ultralytics_pt(NULL, out, &err) != CY_OK && cy_export_ultralytics_pt(ck, "", &err) != CY_OK,
          "no paths: an error");
    unlink(out);
    unlink(bad);
}

static void rm_tree(const char *dir) {
    DIR *dd = opendir(dir);
    struct dirent *e;
    char p[512];
    while (dd && (e = readdir(dd))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (dd) closedir(dd);
    rmdir(dir);
}

/* --yaml MODEL.yaml NC OUT: a formula model's cyolo checkpoint, exported */
static int manual_yaml(const char *yaml, int nc, const char *out) {
    cy_model *m = formula_from(yaml, nc);
    if (!m) return 1;
    char ck[512];
    snprintf(ck, sizeof ck, "%s.cyolo.pt", out);
    cy_checkpoint c = {.model = m, .nc = m->nc};
    cy_status s = cy_checkpoint_save(ck, &c, &err);
    if (!s) s = cy_export_ultralytics_pt(ck, out, &err);
    if (s) fprintf(stderr, "error: %s\n", err.msg);
    cy_model_free(m);
    return s ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3) {
        cy_status s = cy_export_ultralytics_pt(argv[1], argv[2], &err);
        if (s) fprintf(stderr, "error: %s\n", err.msg);
        return s ? 1 : 0;
    }
    if (argc == 5 && !strcmp(argv[1], "--yaml")) return manual_yaml(argv[2], atoi(argv[3]), argv[4]);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cyolo_xul_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_pickle_objects();
    static const char *const fixtures[] = {"v8", "11", "26", "seg26", "segv8"};
    for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) test_fixture(fixtures[i]);
    static const char *const yamls[] = {"yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml",
                                        "yolov8n-seg.yaml", "yolo11n-seg.yaml", "yolo26n-seg.yaml"};
    for (size_t i = 0; i < sizeof yamls / sizeof *yamls; i++) test_roundtrip(yamls[i], 3, i == 2);
    test_roundtrip("yolo11m.yaml", 2, 0); /* C3k inner blocks at every C3k2 (scales m, l, x) */
    test_roundtrip("yolo26m-seg.yaml", 2, 0);
    test_distill_student_only();
    test_errors();
    rm_tree(tmpdir);
    return test_summary();
}
