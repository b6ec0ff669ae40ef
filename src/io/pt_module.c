/* Walking pickled nn.Module trees and collecting their state_dict. */
#include "io/pt_module.h"
#include <stdio.h>
#include <string.h>
#include "core/status.h"

static const char *shown(const char *path) { return *path ? path : "(the model)"; }

/* The three dicts every module pickles; CY_ERR_FORMAT when m is no module. */
static cy_status module_dicts(const char *path, const cy_pt_value *m, const cy_pt_value **params,
                              const cy_pt_value **buffers, const cy_pt_value **children, cy_error *err) {
    if (!m || m->kind != CY_PT_OBJECT)
        return cy_fail(err, CY_ERR_FORMAT, "module %s is a %s, not a torch module", shown(path),
                       m ? cy_pt_kind_name(m->kind) : "nothing");
    *params = cy_pt_object_attr(m, "_parameters");
    *buffers = cy_pt_object_attr(m, "_buffers");
    *children = cy_pt_object_attr(m, "_modules");
    if (!*params || (*params)->kind != CY_PT_DICT || !*buffers || (*buffers)->kind != CY_PT_DICT || !*children ||
        (*children)->kind != CY_PT_DICT)
        return cy_fail(err, CY_ERR_FORMAT, "module %s (%s) lacks the _parameters, _buffers and _modules of a torch module",
                       shown(path), m->u.obj.cls);
    return CY_OK;
}

/* path + "." + name (or name at the root) into out. */
static cy_status join(char *out, const char *path, const cy_pt_value *name, cy_error *err) {
    if (name->kind != CY_PT_STR)
        return cy_fail(err, CY_ERR_FORMAT, "module %s: a member name is a %s, not a str", shown(path),
                       cy_pt_kind_name(name->kind));
    int n = snprintf(out, CY_PT_MODULE_PATH_MAX, "%s%s%s", path, *path ? "." : "", name->u.str.s);
    if (n < 0 || n >= CY_PT_MODULE_PATH_MAX || strlen(name->u.str.s) != name->u.str.len)
        return cy_fail(err, CY_ERR_FORMAT, "module %s: member name too long or not text", shown(path));
    return CY_OK;
}

/* Recursion depth is bounded by the value tree's (CY_PT_MAX_DEPTH). */
static cy_status walk(const char *path, const cy_pt_value *m, cy_pt_module_visit visit, void *ctx, cy_error *err) {
    const cy_pt_value *params, *buffers, *children;
    CY_TRY(module_dicts(path, m, &params, &buffers, &children, err));
    if (visit) CY_TRY(visit(path, m, ctx, err));
    for (size_t i = 0; i < children->u.dict.len; i++) {
        const cy_pt_value *c = children->u.dict.vals[i];
        if (c->kind == CY_PT_NONE) continue; /* torch skips unset submodules */
        char sub[CY_PT_MODULE_PATH_MAX];
        CY_TRY(join(sub, path, children->u.dict.keys[i], err));
        CY_TRY(walk(sub, c, visit, ctx, err));
    }
    return CY_OK;
}

cy_status cy_pt_module_walk(const cy_pt_value *module, cy_pt_module_visit visit, void *ctx, cy_error *err) {
    return walk("", module, visit, ctx, err);
}

static int listed(const cy_pt_value *list, const cy_pt_value *key) {
    if (!list || (list->kind != CY_PT_LIST && list->kind != CY_PT_TUPLE)) return 0;
    for (size_t i = 0; i < list->u.seq.len; i++) {
        const cy_pt_value *x = list->u.seq.items[i];
        if (x->kind == CY_PT_STR && x->u.str.len == key->u.str.len && !memcmp(x->u.str.s, key->u.str.s, x->u.str.len))
            return 1;
    }
    return 0;
}

/* Adds the tensors of one member dict (parameters or buffers) to sd. */
static cy_status add_tensors(const char *path, const cy_pt_value *members, const cy_pt_value *skip,
                             cy_pt_value *sd, cy_error *err) {
    for (size_t i = 0; i < members->u.dict.len; i++) {
        const cy_pt_value *k = members->u.dict.keys[i], *t = members->u.dict.vals[i];
        if (t->kind == CY_PT_NONE) continue;
        char name[CY_PT_MODULE_PATH_MAX];
        CY_TRY(join(name, path, k, err));
        if (skip && listed(skip, k)) continue;
        if (t->kind != CY_PT_TENSOR)
            return cy_fail(err, CY_ERR_FORMAT, "'%s' is a %s, not a tensor", name, cy_pt_kind_name(t->kind));
        cy_pt_value *c = NULL;
        CY_TRY(cy_pt_clone(&c, t, err));
        c->u.tensor.param = 0; /* a state_dict holds plain tensors, as torch's does */
        cy_status s = cy_pt_dict_set_str(sd, name, c, err);
        if (s) {
            cy_pt_value_free(c);
            return s;
        }
    }
    return CY_OK;
}

static cy_status collect(const char *path, const cy_pt_value *m, cy_pt_value *sd, cy_error *err) {
    const cy_pt_value *params, *buffers, *children;
    CY_TRY(module_dicts(path, m, &params, &buffers, &children, err));
    CY_TRY(add_tensors(path, params, NULL, sd, err));
    CY_TRY(add_tensors(path, buffers, cy_pt_object_attr(m, "_non_persistent_buffers_set"), sd, err));
    for (size_t i = 0; i < children->u.dict.len; i++) {
        const cy_pt_value *c = children->u.dict.vals[i];
        if (c->kind == CY_PT_NONE) continue;
        char sub[CY_PT_MODULE_PATH_MAX];
        CY_TRY(join(sub, path, children->u.dict.keys[i], err));
        CY_TRY(collect(sub, c, sd, err));
    }
    return CY_OK;
}

cy_status cy_pt_module_state_dict(const cy_pt_value *module, cy_pt_value **out, cy_error *err) {
    *out = NULL;
    cy_pt_value *sd = NULL;
    CY_TRY(cy_pt_dict_new(&sd, 1, err));
    cy_status s = collect("", module, sd, err);
    if (s) {
        cy_pt_value_free(sd);
        return s;
    }
    *out = sd;
    return CY_OK;
}
