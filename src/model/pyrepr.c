#include "model/pyrepr.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put(cy_pyrepr *r, const char *fmt, ...) {
    if (r->len >= r->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
    va_end(ap);
    if (k > 0) r->len += (size_t)k < r->cap - r->len ? (size_t)k : r->cap - r->len - 1;
}

static void sep(cy_pyrepr *r) {
    if (r->count++) put(r, ", ");
}

void cy_pyrepr_begin(cy_pyrepr *r, char *buf, size_t cap) {
    r->buf = buf;
    r->cap = cap;
    r->len = 0;
    r->count = 0;
    buf[0] = 0;
    put(r, "[");
}

void cy_pyrepr_int(cy_pyrepr *r, long v) { sep(r); put(r, "%ld", v); }

/* Python's float repr: the shortest text that reads back to the same double. */
void cy_pyrepr_float(cy_pyrepr *r, double v) {
    char t[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*g", p, v);
        if (strtod(t, NULL) == v) break;
    }
    if (!strpbrk(t, ".einn")) strcat(t, ".0");
    sep(r);
    put(r, "%s", t);
}

void cy_pyrepr_bool(cy_pyrepr *r, int v) { sep(r); put(r, v ? "True" : "False"); }
void cy_pyrepr_none(cy_pyrepr *r) { sep(r); put(r, "None"); }
void cy_pyrepr_str(cy_pyrepr *r, const char *s) { sep(r); put(r, "'%s'", s); }

void cy_pyrepr_int_list(cy_pyrepr *r, const int *v, int n) {
    sep(r);
    put(r, "[");
    for (int i = 0; i < n; i++) put(r, i ? ", %d" : "%d", v[i]);
    put(r, "]");
}

void cy_pyrepr_end(cy_pyrepr *r) { put(r, "]"); }
