#include "engine/checkpoint.h"
#include "engine/checkpoint_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "io/pt.h"
#include "io/text_file.h"
#include "io/pt_value.h"
#include "engine/checkpoint_import.h"

/* state_dict of the model's entries, values from params/buffers/counters */
static cy_status state_dict(const cy_model *m, const float *params, const float *buffers, cy_pt_value **out,
                            cy_error *err) {
    CY_TRY(cy_pt_dict_new(out, 1, err));
    for (int i = 0; i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        cy_pt_value *t = NULL;
        cy_status st;
        if (e->kind == CY_ENTRY_COUNTER)
            st = cy_pt_tensor_new(&t, CY_PT_DT_I64, 0, NULL, &m->counters[e->offset], err);
        else
            st = cy_pt_tensor_new(&t, CY_PT_DT_F32, e->ndim, e->shape,
                                  (e->kind == CY_ENTRY_BUFFER ? buffers : params) + e->offset, err);
        if (st == CY_OK) st = cy_pt_dict_set_str(*out, e->name, t, err);
        else cy_pt_value_free(t);
        if (st != CY_OK) return st;
    }
    return CY_OK;
}

#define PUT(expr)                    \
    do {                             \
        if ((st = (expr)) != CY_OK) goto done; \
    } while (0)

static cy_status set(cy_pt_value *d, const char *k, cy_pt_value *v, cy_error *err) {
    cy_status st = cy_pt_dict_set_str(d, k, v, err);
    if (st != CY_OK) cy_pt_value_free(v);
    return st;
}

/* moves *v into d[k] (*v is NULL afterwards, whatever happens) */
static cy_status take(cy_pt_value *d, const char *k, cy_pt_value **v, cy_error *err) {
    cy_pt_value *x = *v;
    *v = NULL;
    return set(d, k, x, err);
}

cy_status cy_checkpoint_optimizer_state(cy_optim *o, cy_pt_value **out, cy_error *err) {
    cy_status st;
    cy_pt_value *groups = NULL, *t = NULL;
    CY_TRY(cy_pt_dict_new(out, 0, err));
    int n;
    cy_optim_group_count(o, &n);
    PUT(cy_pt_list_new(&groups, err));
    for (int g = 0; g < n; g++) {
        cy_optim_group grp;
        cy_pt_value *d = NULL;
        PUT(cy_optim_get_group(o, g, &grp, err));
        PUT(cy_pt_dict_new(&d, 0, err));
        if ((st = cy_pt_dict_put_float(d, "lr", grp.lr, err)) != CY_OK ||
            (st = cy_pt_dict_put_float(d, "initial_lr", grp.initial_lr, err)) != CY_OK ||
            (st = cy_pt_dict_put_float(d, "momentum", grp.momentum, err)) != CY_OK ||
            (st = cy_pt_dict_put_float(d, "weight_decay", grp.weight_decay, err)) != CY_OK ||
            (st = cy_pt_append(groups, d, err)) != CY_OK) {
            cy_pt_value_free(d);
            goto done;
        }
    }
    cy_pt_value *g = groups;
    groups = NULL; /* set() owns it from here, freed on failure too */
    PUT(set(*out, "param_groups", g, err));
    cy_optim_state s;
    PUT(cy_optim_get_state(o, &s));
    int64_t np = (int64_t)s.nparams, ne = s.nentries;
    PUT(cy_pt_tensor_new(&t, CY_PT_DT_F32, 1, &np, s.a, err));
    PUT(set(*out, "state_a", t, err));
    if (s.b) {
        PUT(cy_pt_tensor_new(&t, CY_PT_DT_F32, 1, &np, s.b, err));
        PUT(set(*out, "state_b", t, err));
    }
    if (s.step) {
        PUT(cy_pt_tensor_new(&t, CY_PT_DT_I64, 1, &ne, s.step, err));
        PUT(set(*out, "step", t, err));
    }
    if (s.has_state) {
        PUT(cy_pt_tensor_new(&t, CY_PT_DT_U8, 1, &ne, s.has_state, err));
        PUT(set(*out, "has_state", t, err));
    }
    t = NULL;
done:
    cy_pt_value_free(groups);
    return st;
}

cy_status cy_checkpoint_save(const char *path, const cy_checkpoint *c, cy_error *err) {
    const cy_model *m = c->model;
    cy_pt_value *root = NULL, *v = NULL;
    cy_status st;
    char *csv = NULL;
    PUT(cy_pt_dict_new(&root, 0, err));
    PUT(cy_pt_dict_put_int(root, "epoch", c->epoch, err));
    PUT(cy_pt_dict_put_float(root, "best_fitness", c->best_fitness, err));
    PUT(state_dict(m, m->params, m->buffers, &v, err));
    PUT(take(root, "model", &v, err));
    if (c->ema) {
        const float *p, *b;
        int64_t updates;
        PUT(cy_ema_get(c->ema, &p, &b, &updates));
        PUT(state_dict(m, p, b, &v, err));
        PUT(take(root, "ema", &v, err));
        PUT(cy_pt_dict_put_int(root, "updates", updates, err));
    }
    if (c->opt) {
        PUT(cy_checkpoint_optimizer_state(c->opt, &v, err));
        PUT(take(root, "optimizer", &v, err));
    }
    PUT(cy_pt_dict_new(&v, 0, err));
    char scale[2] = {m->scale, 0};
    if ((st = cy_pt_dict_put_str(v, "yaml_file", m->yaml_path, err)) != CY_OK ||
        (st = cy_pt_dict_put_str(v, "yaml", m->yaml_text ? m->yaml_text : "", err)) != CY_OK ||
        (st = cy_pt_dict_put_str(v, "scale", scale, err)) != CY_OK ||
        (st = cy_pt_dict_put_str(v, "name", m->name, err)) != CY_OK ||
        (st = cy_pt_dict_put_int(v, "nc", m->nc, err)) != CY_OK)
        goto done;
    PUT(take(root, "yaml", &v, err));
    if (c->names) {
        PUT(cy_pt_dict_new(&v, 0, err));
        for (int i = 0; i < c->nc; i++) {
            cy_pt_value *s = NULL;
            PUT(cy_pt_str_new(&s, c->names[i], err));
            if ((st = cy_pt_dict_set_intkey(v, i, s, err)) != CY_OK) {
                cy_pt_value_free(s);
                goto done;
            }
        }
        PUT(take(root, "names", &v, err));
    }
    if (c->args) {
        PUT(cy_pt_dict_new(&v, 0, err));
        for (int i = 0; i < cy_args_count(c->args); i++) {
            const char *k, *text;
            char kind;
            cy_args_item(c->args, i, &k, &text, &kind);
            switch (kind) {
            case 'n': st = cy_pt_dict_put_none(v, k, err); break;
            case 'b': st = cy_pt_dict_put_bool(v, k, !strcmp(text, "True"), err); break;
            case 'i': st = cy_pt_dict_put_int(v, k, strtoll(text, NULL, 10), err); break;
            case 'f': st = cy_pt_dict_put_float(v, k, strtod(text, NULL), err); break;
            default: st = cy_pt_dict_put_str(v, k, text, err); break;
            }
            if (st != CY_OK) goto done;
        }
        PUT(take(root, "train_args", &v, err));
    }
    if (c->pending > 0 && m->grads) { /* a partly accumulated step continues after resume */
        int64_t np = (int64_t)m->nparams;
        PUT(cy_pt_tensor_new(&v, CY_PT_DT_F32, 1, &np, m->grads, err));
        PUT(take(root, "grads", &v, err));
    }
    PUT(cy_pt_dict_put_int(root, "pending", c->pending, err));
    if (c->distill) PUT(cy_checkpoint_put_distill(root, c->distill, c->distill_opt, c->pending, err));
    size_t csv_len;
    if (!c->results_csv || cy_read_text_file(c->results_csv, (size_t)16 << 20, &csv, &csv_len)) csv = NULL;
    if (csv) PUT(cy_pt_dict_put_str(root, "train_results", csv, err));
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    PUT(cy_pt_dict_put_str(root, "date", date, err));
    PUT(cy_pt_dict_put_str(root, "version", "cyolo 0.1.0", err));
    st = cy_pt_write(path, root, err);
done:
    cy_pt_value_free(v);
    cy_pt_value_free(root);
    free(csv);
    return st;
}

/* "[16, 3, 3, 3]" */
static void shape_text(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(out, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++) o += (size_t)snprintf(out + o, cap - o, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (o < cap) snprintf(out + o, cap - o, "]");
}

/* Copies a state_dict's tensors into the model, by name, checking shapes
 * (any float dtype, views included, becomes float32). */
static cy_status load_state(cy_model *m, const cy_pt_value *sd, const char *path, cy_error *err) {
    for (int i = 0; i < m->nentries; i++) {
        const cy_entry *e = &m->entries[i];
        const cy_pt_value *t = cy_pt_dict_find(sd, e->name);
        if (!t || t->kind != CY_PT_TENSOR)
            return cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint has no tensor '%s' (the model built from its YAML needs it)",
                           path, e->name);
        if (e->kind == CY_ENTRY_COUNTER) {
            int64_t c = 0;
            if (cy_pt_tensor_numel(t) != 1 || t->u.tensor.dtype != CY_PT_DT_I64 ||
                cy_pt_tensor_copy(t, &c, sizeof c, err) != CY_OK)
                return cy_fail(err, CY_ERR_FORMAT, "%s: '%s' is not a single int64", path, e->name);
            m->counters[e->offset] = c;
            continue;
        }
        int same = t->u.tensor.ndim == e->ndim;
        for (int d = 0; same && d < e->ndim; d++) same = t->u.tensor.shape[d] == e->shape[d];
        if (!same) {
            char got[160], want[160];
            shape_text(got, sizeof got, t->u.tensor.ndim, t->u.tensor.shape);
            shape_text(want, sizeof want, e->ndim, e->shape);
            return cy_fail(err, CY_ERR_FORMAT,
                           "%s: '%s' has shape %s in the checkpoint, the model built from its YAML expects %s", path,
                           e->name, got, want);
        }
        float *dst = (e->kind == CY_ENTRY_BUFFER ? m->buffers : m->params) + e->offset;
        CY_TRY(cy_pt_tensor_to_f32(t, dst, e->numel, err));
    }
    m->weights_version++;
    return CY_OK;
}

/* load_state, and no tensor the model does not have: a checkpoint that
 * holds more than its YAML builds is not the model it claims to be. */
static cy_status load_state_exact(cy_model *m, const cy_pt_value *sd, const char *path, cy_error *err) {
    CY_TRY(load_state(m, sd, path, err));
    for (size_t i = 0; i < sd->u.dict.len; i++) {
        const cy_pt_value *k = sd->u.dict.keys[i];
        if (k->kind != CY_PT_STR || cy_model_find_entry(m, k->u.str.s) < 0)
            return cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint has '%s', which the model built from its YAML lacks",
                           path, k->kind == CY_PT_STR ? k->u.str.s : "(a key that is not a str)");
    }
    return CY_OK;
}

/* An Ultralytics module tree's SPPF activations win over the YAML rule:
 * they are what its weights were trained with. */
static cy_status apply_pickled_acts(const char *path, const cy_ckpt_model *c, cy_model *m, cy_error *err) {
    for (int i = 0; i < c->nsppf; i++)
        if (cy_model_set_sppf_act(m, c->sppf_layer[i], c->sppf_silu[i], err) != CY_OK)
            return cy_fail(err, CY_ERR_FORMAT, "%s: module model.%d is an SPPF but its YAML row is not", path,
                           c->sppf_layer[i]);
    return CY_OK;
}

/* The model a checkpoint's YAML describes (nc: the checkpoint's, else p's). */
static cy_status create_from(const char *path, const cy_ckpt_model *c, const cy_model_params *p, int nc,
                             cy_model **out, cy_error *err) {
    cy_model_params mp = p ? *p : cy_model_default_params();
    if (nc > 0) mp.nc = nc;
    CY_TRY(cy_model_create_from_text(out, path, c->name, c->yaml_text, c->scale, &mp, err));
    if (apply_pickled_acts(path, c, *out, err) != CY_OK) {
        cy_model_free(*out);
        *out = NULL;
        return CY_ERR_FORMAT;
    }
    /* Ultralytics stores the strides it measured: they must be the graph's */
    for (int l = 0; l < c->nstride; l++)
        if (c->nstride != (*out)->nl || !(c->stride[l] == (double)(*out)->stride[l])) {
            cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint's strides differ from those of the model its YAML builds", path);
            cy_model_free(*out);
            *out = NULL;
            return CY_ERR_FORMAT;
        }
    return CY_OK;
}

cy_status cy_checkpoint_load_model(const char *path, const cy_model_params *p, int use_ema, cy_model **out,
                                   cy_error *err) {
    *out = NULL;
    cy_ckpt_model c;
    CY_TRY(cy_ckpt_model_open(path, use_ema, &c, err));
    cy_status st = create_from(path, &c, p, c.nc, out, err);
    if (st == CY_OK) st = c.ultralytics ? load_state_exact(*out, c.weights, path, err) : load_state(*out, c.weights, path, err);
    if (st != CY_OK) {
        cy_model_free(*out);
        *out = NULL;
    }
    cy_ckpt_model_close(&c);
    return st;
}

cy_status cy_checkpoint_create_model(const char *path, const cy_model_params *p, cy_model **out, cy_error *err) {
    *out = NULL;
    cy_ckpt_model c;
    CY_TRY(cy_ckpt_model_open(path, 1, &c, err));
    cy_model_params mp = p ? *p : cy_model_default_params();
    if (mp.nc <= 0) mp.nc = c.nc;
    cy_status st = cy_model_create_from_text(out, path, c.name, c.yaml_text, c.scale, &mp, err);
    if (st == CY_OK && (st = apply_pickled_acts(path, &c, *out, err)) != CY_OK) {
        cy_model_free(*out);
        *out = NULL;
    }
    cy_ckpt_model_close(&c);
    return st;
}

int cy_is_checkpoint_path(const char *path) {
    size_t n = path ? strlen(path) : 0;
    return n > 3 && !strcmp(path + n - 3, ".pt");
}

cy_status cy_checkpoint_load_names(const char *model_path, int nc, char ***out, cy_error *err) {
    *out = calloc(nc > 0 ? nc : 1, sizeof **out);
    if (!*out) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    cy_ckpt_model c = {0};
    if (cy_is_checkpoint_path(model_path) && cy_ckpt_model_open(model_path, 1, &c, NULL) == CY_OK) {
        for (int i = 0; c.names && i < nc; i++) {
            const cy_pt_value *v = c.names->kind == CY_PT_LIST
                                       ? ((size_t)i < c.names->u.seq.len ? c.names->u.seq.items[i] : NULL)
                                       : cy_pt_dict_find_int(c.names, i);
            if (v && v->kind == CY_PT_STR) (*out)[i] = strdup(v->u.str.s);
        }
    }
    cy_ckpt_model_close(&c);
    for (int i = 0; i < nc; i++) /* Ultralytics' default names: class0, class1, ... */
        if (!(*out)[i]) {
            char b[32];
            snprintf(b, sizeof b, "class%d", i);
            (*out)[i] = strdup(b);
        }
    for (int i = 0; i < nc; i++)
        if (!(*out)[i]) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    return CY_OK;
}

cy_status cy_checkpoint_tensor_into(const cy_pt_value *root, const char *key, void *dst, size_t bytes,
                                    const char *path, cy_error *err) {
    const cy_pt_value *t = cy_pt_dict_find(root, key);
    if (!t) return cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint has no '%s'", path, key);
    return cy_pt_tensor_copy(t, dst, bytes, err);
}

cy_status cy_checkpoint_load_optimizer_state(const cy_pt_value *o, cy_optim *opt, const char *path, cy_error *err) {
    cy_optim_state os;
    cy_optim_get_state(opt, &os);
    CY_TRY(cy_checkpoint_tensor_into(o, "state_a", os.a, os.nparams * sizeof(float), path, err));
    if (os.b) CY_TRY(cy_checkpoint_tensor_into(o, "state_b", os.b, os.nparams * sizeof(float), path, err));
    if (os.step) CY_TRY(cy_checkpoint_tensor_into(o, "step", os.step, os.nentries * sizeof(int64_t), path, err));
    if (os.has_state) CY_TRY(cy_checkpoint_tensor_into(o, "has_state", os.has_state, os.nentries, path, err));
    return CY_OK;
}

cy_status cy_checkpoint_resume(const char *path, cy_model *m, cy_optim *opt, cy_ema *ema, int *epoch,
                               double *best_fitness, int *pending, cy_error *err) {
    cy_pt_value *root = NULL;
    CY_TRY(cy_pt_read(path, &root, err));
    cy_status st = CY_OK;
    int64_t e = 0, pend = 0, updates = 0;
    const cy_pt_value *sd = cy_pt_dict_find(root, "model"), *esd = cy_pt_dict_find(root, "ema");
    const cy_pt_value *o = cy_pt_dict_find(root, "optimizer");
    if (!sd || !esd || !o || cy_pt_get_int(root, "epoch", &e, err) != CY_OK ||
        cy_pt_get_float(root, "best_fitness", best_fitness, err) != CY_OK ||
        cy_pt_get_int(root, "updates", &updates, err) != CY_OK) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: not a resumable cyolo checkpoint (model, ema, optimizer, epoch)", path);
        goto done;
    }
    cy_pt_get_int(root, "pending", &pend, NULL);
    if ((st = load_state(m, sd, path, err)) != CY_OK) goto done;
    /* the EMA through a scratch model-shaped copy */
    float *keep_p = malloc(m->nparams * sizeof(float)), *keep_b = malloc(m->nbuffers * sizeof(float) + 1);
    int64_t *keep_c = malloc(m->ncounters * sizeof(int64_t) + 1);
    if (!keep_p || !keep_b || !keep_c) {
        free(keep_p), free(keep_b), free(keep_c);
        st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
        goto done;
    }
    memcpy(keep_p, m->params, m->nparams * sizeof(float));
    memcpy(keep_b, m->buffers, m->nbuffers * sizeof(float));
    memcpy(keep_c, m->counters, m->ncounters * sizeof(int64_t));
    st = load_state(m, esd, path, err);
    if (st == CY_OK) st = cy_ema_load(ema, m->params, m->buffers, err);
    if (st == CY_OK) st = cy_ema_set_updates(ema, updates, err);
    memcpy(m->params, keep_p, m->nparams * sizeof(float));
    memcpy(m->buffers, keep_b, m->nbuffers * sizeof(float));
    memcpy(m->counters, keep_c, m->ncounters * sizeof(int64_t));
    free(keep_p), free(keep_b), free(keep_c);
    m->weights_version++;
    if (st != CY_OK) goto done;
    if ((st = cy_checkpoint_load_optimizer_state(o, opt, path, err)) != CY_OK) goto done;
    if ((st = cy_model_zero_grad(m, err)) != CY_OK) goto done;
    if (pend > 0 && (st = cy_checkpoint_tensor_into(root, "grads", m->grads, m->nparams * sizeof(float), path, err)) != CY_OK)
        goto done;
    *epoch = (int)e;
    *pending = (int)pend;
done:
    cy_pt_value_free(root);
    return st;
}

cy_status cy_checkpoint_load_args(const char *path, cy_args *args, cy_error *err) {
    cy_pt_value *root = NULL;
    CY_TRY(cy_pt_read(path, &root, err));
    const cy_pt_value *ta = cy_pt_dict_find(root, "train_args");
    cy_status st = ta && ta->kind == CY_PT_DICT ? CY_OK
                                                : cy_fail(err, CY_ERR_FORMAT, "%s: the checkpoint has no train_args", path);
    for (size_t i = 0; st == CY_OK && i < (ta ? ta->u.dict.len : 0); i++) {
        const cy_pt_value *k = ta->u.dict.keys[i], *v = ta->u.dict.vals[i];
        if (k->kind != CY_PT_STR) continue;
        char text[1100] = "";
        switch (v->kind) {
        case CY_PT_BOOL: snprintf(text, sizeof text, "%s", v->u.b ? "True" : "False"); break;
        case CY_PT_INT: snprintf(text, sizeof text, "%lld", (long long)v->u.i); break;
        case CY_PT_FLOAT: /* the shortest text that reads back the same, as Python's repr */
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(text, sizeof text, "%.*g", prec, v->u.f);
                if (strtod(text, NULL) == v->u.f) break;
            }
            break;
        case CY_PT_STR: snprintf(text, sizeof text, "%s", v->u.str.s); break;
        default: break; /* None */
        }
        st = cy_args_set(args, k->u.str.s, text, err);
    }
    cy_pt_value_free(root);
    return st;
}
