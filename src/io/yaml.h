/* A YAML file as a small tree of scalars, sequences and mappings (libyaml
 * does the parsing). Every node keeps its line for error messages. */
#ifndef CY_IO_YAML_H
#define CY_IO_YAML_H
#include <stddef.h>
#include "core/status.h"

typedef enum { CY_YAML_SCALAR, CY_YAML_SEQ, CY_YAML_MAP } cy_yaml_kind;

typedef struct cy_yaml {
    cy_yaml_kind kind;
    int line;            /* 1-based */
    char *str;           /* scalar text */
    int quoted;          /* scalar was quoted: a string, never a number */
    int n;               /* children (seq items or map values) */
    struct cy_yaml **items;
    char **keys;         /* map keys, n of them */
} cy_yaml;

cy_status cy_yaml_load(const char *path, cy_yaml **out, cy_error *err);
/* The same from memory; label names the source in error messages. */
cy_status cy_yaml_load_text(const char *label, const char *text, size_t len, cy_yaml **out, cy_error *err);
void cy_yaml_free(cy_yaml *y);
const cy_yaml *cy_yaml_get(const cy_yaml *map, const char *key);

/* Scalar conversions; return 0 on success. */
int cy_yaml_int(const cy_yaml *y, long *out);
int cy_yaml_double(const cy_yaml *y, double *out);
int cy_yaml_bool(const cy_yaml *y, int *out);   /* true/false/True/False */
int cy_yaml_is_null(const cy_yaml *y);           /* unquoted None/null/~ */

#endif
