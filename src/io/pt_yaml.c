/* A value tree as YAML text (the model YAML dict of Ultralytics checkpoints
 * back into the form cyolo's model builder reads). Strings that read back
 * as themselves are written bare, as a hand-written model YAML has them
 * (Conv, nn.Upsample, nearest, nc); anything else is double-quoted. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/status.h"
#include "io/pt_module.h"

#define MAX_TEXT ((size_t)16 << 20) /* a model YAML is a few kB */

typedef struct {
    char *s;
    size_t len, cap;
    int failed; /* out of memory or over MAX_TEXT */
} text;

static void put(text *t, const char *s, size_t n) {
    if (t->failed) return;
    if (n > MAX_TEXT - t->len) { t->failed = 1; return; }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1) cap *= 2;
        char *p = realloc(t->s, cap);
        if (!p) { t->failed = 1; return; }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = 0;
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }
static void putf(text *t, const char *fmt, ...) {
    char b[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    if (n > 0) put(t, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

/* Bare when it is a name-like word YAML reads back as the same string, or
 * as the value Python's literal_eval would give the same text (None, True,
 * False: Ultralytics evaluates string arguments that way). */
static int bare_ok(const char *s, size_t n) {
    if (!n || strlen(s) != n) return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_')) return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    /* true/false/null (any case) would read back as a bool or null; True and
     * False may stay bare, as literal_eval reads them the same way */
    if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) return !strcmp(s, "True") || !strcmp(s, "False");
    if (!strcasecmp(s, "null")) return 0;
    /* strtod would read these as numbers */
    if (!strcasecmp(s, "inf") || !strcasecmp(s, "infinity") || !strcasecmp(s, "nan")) return 0;
    return 1;
}

static void put_str(text *t, const char *s, size_t n) {
    if (bare_ok(s, n)) {
        put(t, s, n);
        return;
    }
    put(t, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(t, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            putf(t, "\\x%02x", c);
        } else {
            put(t, (const char *)&c, 1);
        }
    }
    put(t, "\"", 1);
}

/* The shortest decimal that reads back as f, with a '.' or exponent so it
 * stays a float (as Python's repr). */
static void put_float(text *t, double f) {
    if (isnan(f)) { puts_(t, "nan"); return; }
    if (isinf(f)) { puts_(t, f < 0 ? "-inf" : "inf"); return; }
    char b[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(b, sizeof b, "%.*g", prec, f);
        if (strtod(b, NULL) == f) break;
    }
    if (!strpbrk(b, ".e")) strcat(b, ".0");
    puts_(t, b);
}

static cy_status value(text *t, const cy_pt_value *v, const char *what, cy_error *err);

static cy_status key(text *t, const cy_pt_value *k, const char *what, cy_error *err) {
    if (k->kind != CY_PT_STR && k->kind != CY_PT_INT)
        return cy_fail(err, CY_ERR_FORMAT, "%s: a key is a %s, not a str or int", what, cy_pt_kind_name(k->kind));
    return value(t, k, what, err);
}

/* Recursion depth is bounded by the value tree's (CY_PT_MAX_DEPTH). */
static cy_status value(text *t, const cy_pt_value *v, const char *what, cy_error *err) {
    switch (v->kind) {
    case CY_PT_NONE: puts_(t, "None"); break;
    case CY_PT_BOOL: puts_(t, v->u.b ? "True" : "False"); break;
    case CY_PT_INT: putf(t, "%lld", (long long)v->u.i); break;
    case CY_PT_FLOAT: put_float(t, v->u.f); break;
    case CY_PT_STR: put_str(t, v->u.str.s, v->u.str.len); break;
    case CY_PT_LIST:
    case CY_PT_TUPLE:
        puts_(t, "[");
        for (size_t i = 0; i < v->u.seq.len; i++) {
            if (i) puts_(t, ", ");
            CY_TRY(value(t, v->u.seq.items[i], what, err));
        }
        puts_(t, "]");
        break;
    case CY_PT_DICT:
        puts_(t, "{");
        for (size_t i = 0; i < v->u.dict.len; i++) {
            if (i) puts_(t, ", ");
            CY_TRY(key(t, v->u.dict.keys[i], what, err));
            puts_(t, ": ");
            CY_TRY(value(t, v->u.dict.vals[i], what, err));
        }
        puts_(t, "}");
        break;
    default:
        return cy_fail(err, CY_ERR_FORMAT, "%s holds a %s, which a model YAML cannot", what, cy_pt_kind_name(v->kind));
    }
    return CY_OK;
}

cy_status cy_pt_to_yaml_text(const cy_pt_value *v, const char *what, char **out, cy_error *err) {
    *out = NULL;
    if (!v || v->kind != CY_PT_DICT)
        return cy_fail(err, CY_ERR_FORMAT, "%s is a %s, not a dict", what, v ? cy_pt_kind_name(v->kind) : "nothing");
    text t = {0};
    cy_status s = CY_OK;
    for (size_t i = 0; !s && i < v->u.dict.len; i++) {
        s = key(&t, v->u.dict.keys[i], what, err);
        puts_(&t, ": ");
        if (!s) s = value(&t, v->u.dict.vals[i], what, err);
        puts_(&t, "\n");
    }
    if (!s && t.failed) s = cy_fail(err, CY_ERR_FORMAT, "%s is too large for a model YAML (or out of memory)", what);
    if (!s && !t.s) puts_(&t, "{}\n"); /* an empty mapping */
    if (!s && t.failed) s = cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (s) {
        free(t.s);
        return s;
    }
    *out = t.s;
    return CY_OK;
}
