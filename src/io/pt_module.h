/* torch.nn.Module trees as a pickled checkpoint holds them: inert objects
 * (CY_PT_OBJECT) whose state dicts carry _parameters, _buffers,
 * _non_persistent_buffers_set and _modules. Nothing here runs module code;
 * it only reads those dicts the way torch's state_dict() would. */
#ifndef CY_IO_PT_MODULE_H
#define CY_IO_PT_MODULE_H
#include "io/pt_value.h"

#define CY_PT_MODULE_PATH_MAX 512

/* Called for a module and then each submodule, depth first in _modules
 * order; path is "" for the root, then "model", "model.0", "model.0.conv".
 * A non-OK return stops the walk and is returned. */
typedef cy_status (*cy_pt_module_visit)(const char *path, const cy_pt_value *module, void *ctx,
                                        cy_error *err);

/* CY_ERR_FORMAT (naming the module path) when something in the tree is not
 * a module: not an object, or without the _parameters/_buffers/_modules
 * dicts every nn.Module pickles. */
cy_status cy_pt_module_walk(const cy_pt_value *module, cy_pt_module_visit visit, void *ctx, cy_error *err);

/* The module's state_dict: an ordered dict from "model.0.conv.weight"-style
 * names to tensors (sharing the checkpoint's storages), parameters then
 * persistent buffers of each module, submodules after, as torch orders it.
 * *out is a new root the caller frees. */
cy_status cy_pt_module_state_dict(const cy_pt_value *module, cy_pt_value **out, cy_error *err);

/* Serialises a tree of plain values (dicts with str keys, lists, tuples,
 * str, int, float, bool, None) as YAML text that cyolo's YAML reader turns
 * back into the same values: a block mapping at the top, flow style below.
 * For the model YAML dict Ultralytics stores on its models. *out is
 * malloc'd; CY_ERR_FORMAT (naming what) when v holds anything else. */
cy_status cy_pt_to_yaml_text(const cy_pt_value *v, const char *what, char **out, cy_error *err);

/* The other way (pt_yaml_read.c): YAML text (label names it in errors) as
 * the dict PyYAML's safe_load makes of it, scalars typed as YAML 1.1 types
 * them (what Ultralytics' yaml_model_load stores on a model). */
cy_status cy_pt_from_yaml_text(const char *label, const char *text, cy_pt_value **out, cy_error *err);

#endif
