/* YAML text as a value tree, typed the way PyYAML's safe_load types it
 * (YAML 1.1, which Ultralytics' yaml_model_load uses): the model YAML dict
 * Ultralytics keeps on its models, made from the YAML text cyolo keeps.
 * Plain scalars resolve as PyYAML's implicit resolvers do: null (~, null,
 * empty), bool (true/false/yes/no/on/off in three casings), int (decimal,
 * 0x, 0o-style leading 0, 0b; '_' separators), float (a '.' is required:
 * "1e-3" stays a string, as in PyYAML; .inf, .nan); everything else, and
 * every quoted scalar, is a str ("None" included: Ultralytics evaluates
 * those itself). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/status.h"
#include "io/pt_module.h"
#include "io/yaml.h"

static int one_of(const char *s, const char *const *list) {
    for (; *list; list++)
        if (!strcmp(s, *list)) return 1;
    return 0;
}

static int is_digit_in(char c, int base) {
    if (c >= '0' && c <= '9') return c - '0' < base;
    if (base == 16) return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    return 0;
}

/* s (after an optional sign) as an int of base, '_' allowed after the
 * first digit; 0 when it is one. */
static int parse_int(const char *s, int base, int64_t *out) {
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (base == 16 && !strncmp(s, "0x", 2)) s += 2;
    else if (base == 2 && !strncmp(s, "0b", 2)) s += 2;
    else if (base == 8) s += 1; /* the leading 0 */
    if (!is_digit_in(*s, base)) return -1;
    char digits[80];
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '_') continue;
        if (!is_digit_in(*s, base) || n + 1 >= sizeof digits) return -1;
        digits[n++] = *s;
    }
    digits[n] = 0;
    errno = 0;
    char *end;
    unsigned long long u = strtoull(digits, &end, base);
    if (errno || *end || u > (unsigned long long)INT64_MAX + neg) return -1;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

static int plain_int(const char *s, int64_t *out) {
    const char *p = s + (*s == '-' || *s == '+');
    if (!strncmp(p, "0x", 2)) return parse_int(s, 16, out);
    if (!strncmp(p, "0b", 2)) return parse_int(s, 2, out);
    if (p[0] == '0' && p[1]) return parse_int(s, 8, out);
    if (p[0] == '0') { *out = 0; return 0; }
    return parse_int(s, 10, out);
}

/* [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9][0-9_]*([eE][-+][0-9]+)? */
static int plain_float(const char *s, double *out) {
    const char *p = s;
    int neg = 0;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF") || !strcmp(s, "+.inf") ||
        !strcmp(s, "+.Inf") || !strcmp(s, "+.INF")) { *out = INFINITY; return 0; }
    if (!strcmp(s, "-.inf") || !strcmp(s, "-.Inf") || !strcmp(s, "-.INF")) { *out = -INFINITY; return 0; }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) { *out = NAN; return 0; }
    char buf[128];
    size_t n = 0;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
        if (*p == '.') return -1; /* a signed float needs a digit first */
    }
    if (*p == '.') {
        if (!(p[1] >= '0' && p[1] <= '9')) return -1;
    } else if (!(*p >= '0' && *p <= '9')) {
        return -1;
    }
    int dot = 0;
    if (neg) buf[n++] = '-';
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '_') continue;
        if (*p == '.') {
            if (dot++) return -1;
        } else if (!(*p >= '0' && *p <= '9')) {
            return -1;
        }
        if (n + 1 >= sizeof buf) return -1;
        buf[n++] = *p;
    }
    if (!dot) return -1;
    if (*p) { /* exponent: [eE][-+][0-9]+ */
        if (!(p[1] == '-' || p[1] == '+') || !(p[2] >= '0' && p[2] <= '9')) return -1;
        for (const char *q = p + 2; *q; q++)
            if (!(*q >= '0' && *q <= '9')) return -1;
        size_t rest = strlen(p);
        if (n + rest + 1 >= sizeof buf) return -1;
        memcpy(buf + n, p, rest);
        n += rest;
    }
    buf[n] = 0;
    *out = strtod(buf, NULL);
    return 0;
}

static const char *const NULLS[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const TRUES[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL};
static const char *const FALSES[] = {"no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL};

static cy_status scalar(const char *s, int quoted, cy_pt_value **out, cy_error *err) {
    int64_t i;
    double f;
    if (quoted) return cy_pt_str_new(out, s, err);
    if (one_of(s, NULLS)) return cy_pt_none_new(out, err);
    if (one_of(s, TRUES)) return cy_pt_bool_new(out, 1, err);
    if (one_of(s, FALSES)) return cy_pt_bool_new(out, 0, err);
    if (!plain_int(s, &i)) return cy_pt_int_new(out, i, err);
    if (!plain_float(s, &f)) return cy_pt_float_new(out, f, err);
    return cy_pt_str_new(out, s, err);
}

/* Recursion depth: cy_pt_append / dict_set refuse more than CY_PT_MAX_DEPTH. */
static cy_status node(const cy_yaml *y, cy_pt_value **out, cy_error *err) {
    *out = NULL;
    cy_status s;
    switch (y->kind) {
    case CY_YAML_SCALAR: return scalar(y->str ? y->str : "", y->quoted, out, err);
    case CY_YAML_SEQ:
        CY_TRY(cy_pt_list_new(out, err));
        for (int i = 0; i < y->n; i++) {
            cy_pt_value *v = NULL;
            if ((s = node(y->items[i], &v, err)) == CY_OK && (s = cy_pt_append(*out, v, err)) != CY_OK)
                cy_pt_value_free(v);
            if (s) goto fail;
        }
        return CY_OK;
    case CY_YAML_MAP:
        CY_TRY(cy_pt_dict_new(out, 0, err));
        for (int i = 0; i < y->n; i++) {
            cy_pt_value *k = NULL, *v = NULL;
            if ((s = scalar(y->keys[i], 0, &k, err)) == CY_OK && (s = node(y->items[i], &v, err)) == CY_OK &&
                (s = cy_pt_dict_set(*out, k, v, err)) == CY_OK)
                continue;
            cy_pt_value_free(k);
            cy_pt_value_free(v);
            goto fail;
        }
        return CY_OK;
    }
    return cy_fail(err, CY_ERR_FORMAT, "YAML node of an unknown kind");
fail:
    cy_pt_value_free(*out);
    *out = NULL;
    return s;
}

cy_status cy_pt_from_yaml_text(const char *label, const char *text, cy_pt_value **out, cy_error *err) {
    *out = NULL;
    cy_yaml *y = NULL;
    CY_TRY(cy_yaml_load_text(label, text, strlen(text), &y, err));
    cy_status s = y->kind == CY_YAML_MAP ? node(y, out, err)
                                         : cy_fail(err, CY_ERR_FORMAT, "%s: the model YAML is not a mapping", label);
    cy_yaml_free(y);
    return s;
}
