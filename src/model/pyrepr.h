/* Appends Python repr() text of argument values, so `cyolo info` prints the
 * argument lists exactly as Ultralytics' parse_model log does. */
#ifndef CY_MODEL_PYREPR_H
#define CY_MODEL_PYREPR_H
#include <stddef.h>

typedef struct {
    char *buf;
    size_t cap, len;
    int count;   /* items in the current list */
} cy_pyrepr;

void cy_pyrepr_begin(cy_pyrepr *r, char *buf, size_t cap);
void cy_pyrepr_int(cy_pyrepr *r, long v);
void cy_pyrepr_float(cy_pyrepr *r, double v);
void cy_pyrepr_bool(cy_pyrepr *r, int v);
void cy_pyrepr_none(cy_pyrepr *r);
void cy_pyrepr_str(cy_pyrepr *r, const char *s);
void cy_pyrepr_int_list(cy_pyrepr *r, const int *v, int n);
void cy_pyrepr_end(cy_pyrepr *r);

#endif
