/* Run arguments: Ultralytics' key=value settings with the defaults of
 * cfg/default.yaml (compiled in). Each key's type comes from the "(type)"
 * note of its line there: bool, int, float, str, "bool | str",
 * "int | list"; ", optional" allows an empty value (None). Fractions (lr0,
 * iou, mosaic, ...) must lie in [0, 1], as Ultralytics checks. */
#ifndef CY_ENGINE_ARGS_H
#define CY_ENGINE_ARGS_H
#include <stdio.h>
#include "core/status.h"

typedef struct cy_args cy_args;

cy_status cy_args_create(cy_args **out, cy_error *err);
void cy_args_free(cy_args *a);

/* Sets key to the text value after checking the key exists and the value
 * fits its type. An unknown key: "'epoch' is not a valid YOLO argument.
 * Similar arguments are i.e. ['epochs=100']." */
cy_status cy_args_set(cy_args *a, const char *key, const char *value, cy_error *err);
/* Overrides from a YAML file of key: value pairs (the cfg= argument). */
cy_status cy_args_load_yaml(cy_args *a, const char *path, cy_error *err);

/* Typed reads; a key of the wrong type or an unknown key is a programming
 * error reported as CY_ERR_ARG. *is_null (may be NULL) tells an empty value. */
cy_status cy_args_get_str(const cy_args *a, const char *key, const char **out, cy_error *err);
cy_status cy_args_get_int(const cy_args *a, const char *key, long *out, int *is_null, cy_error *err);
cy_status cy_args_get_float(const cy_args *a, const char *key, double *out, int *is_null, cy_error *err);
cy_status cy_args_get_bool(const cy_args *a, const char *key, int *out, cy_error *err);

/* Iteration, for writing the arguments elsewhere (checkpoints): the key,
 * its text ("" for None) and how the text reads: 'n' None, 'b' bool, 'i'
 * int, 'f' float, 's' string. */
int cy_args_count(const cy_args *a);
void cy_args_item(const cy_args *a, int i, const char **key, const char **text, char *kind);

/* args.yaml of a run: every key: value as yaml.safe_dump spells it (null,
 * true, false). */
cy_status cy_args_write_yaml(const cy_args *a, FILE *f, cy_error *err);

#endif
