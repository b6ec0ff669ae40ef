#include "engine/args.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "default_yaml.h"
#include "io/yaml.h"

#define KEY_MAX 32
#define VALUE_MAX 1024

typedef enum { T_BOOL, T_INT, T_FLOAT, T_STR, T_BOOL_STR, T_INT_LIST } arg_type;

typedef struct {
    char key[KEY_MAX];
    char value[VALUE_MAX]; /* "" = None */
    arg_type type;
    int optional;
} arg;

struct cy_args {
    arg *items;
    int n;
};

static const char *FRACTIONS[] = {"lr0", "lrf", "momentum", "weight_decay", "warmup_momentum", "warmup_bias_lr",
                                  "hsv_h", "hsv_s", "hsv_v", "translate", "scale", "perspective", "flipud",
                                  "fliplr", "bgr", "mosaic", "mixup", "cutmix", "copy_paste", "conf", "iou",
                                  "fraction", "erasing", NULL};

static int is_fraction(const char *k) {
    for (int i = 0; FRACTIONS[i]; i++)
        if (!strcmp(FRACTIONS[i], k)) return 1;
    return 0;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    size_t i = 0;
    while (isspace((unsigned char)s[i])) i++;
    memmove(s, s + i, n - i + 1);
}

static arg *find(const cy_args *a, const char *key) {
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->items[i].key, key)) return &a->items[i];
    return NULL;
}

/* one "key: value  # (type) note" line of the defaults */
static int parse_default_line(const char *line, arg *out) {
    const char *colon = strchr(line, ':'), *hash = strchr(line, '#');
    if (!colon || line[0] == '#' || isspace((unsigned char)line[0]) || (hash && hash < colon)) return 0;
    memset(out, 0, sizeof *out);
    snprintf(out->key, sizeof out->key, "%.*s", (int)(colon - line), line);
    size_t vlen = (size_t)((hash ? hash : colon + strlen(colon)) - (colon + 1));
    snprintf(out->value, sizeof out->value, "%.*s", (int)vlen, colon + 1);
    trim(out->value);
    const char *t = hash ? strchr(hash, '(') : NULL;
    out->type = T_STR;
    if (t) {
        if (!strncmp(t, "(bool | str", 11)) out->type = T_BOOL_STR;
        else if (!strncmp(t, "(int | list", 11)) out->type = T_INT_LIST;
        else if (!strncmp(t, "(bool", 5)) out->type = T_BOOL;
        else if (!strncmp(t, "(int", 4)) out->type = T_INT;
        else if (!strncmp(t, "(float", 6)) out->type = T_FLOAT;
        const char *close = strchr(t, ')');
        const char *opt = strstr(t, "optional");
        out->optional = (opt && close && opt < close) || out->type == T_INT_LIST;
    }
    if (!out->value[0]) out->optional = 1;
    return 1;
}

cy_status cy_args_create(cy_args **out, cy_error *err) {
    *out = NULL;
    cy_args *a = calloc(1, sizeof *a);
    if (!a) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    int cap = 256;
    a->items = calloc(cap, sizeof *a->items);
    if (!a->items) {
        free(a);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    const char *p = CY_DEFAULT_YAML;
    char line[2048];
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        p += len + (nl ? 1 : 0);
        if (a->n < cap && parse_default_line(line, &a->items[a->n])) a->n++;
    }
    *out = a;
    return CY_OK;
}

void cy_args_free(cy_args *a) {
    if (!a) return;
    free(a->items);
    free(a);
}

static int edit_distance(const char *s, const char *t) {
    int n = (int)strlen(s), m = (int)strlen(t), d[KEY_MAX + 64][KEY_MAX + 64];
    if (n > KEY_MAX + 62 || m > KEY_MAX + 62) return 99;
    for (int i = 0; i <= n; i++) d[i][0] = i;
    for (int j = 0; j <= m; j++) d[0][j] = j;
    for (int i = 1; i <= n; i++)
        for (int j = 1; j <= m; j++) {
            int c = d[i - 1][j - 1] + (s[i - 1] != t[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[n][m];
}

static cy_status unknown_key(const cy_args *a, const char *key, cy_error *err) {
    /* the (up to) three closest keys, Ultralytics-style */
    int best[3] = {-1, -1, -1}, dist[3] = {99, 99, 99};
    for (int i = 0; i < a->n; i++) {
        int d = edit_distance(key, a->items[i].key);
        int len = (int)(strlen(key) > strlen(a->items[i].key) ? strlen(key) : strlen(a->items[i].key));
        if (d * 10 > len * 4) continue; /* less than ~60% alike */
        for (int k = 0; k < 3; k++)
            if (d < dist[k]) {
                for (int j = 2; j > k; j--) best[j] = best[j - 1], dist[j] = dist[j - 1];
                best[k] = i, dist[k] = d;
                break;
            }
    }
    char sug[512] = "";
    int o = 0;
    for (int k = 0; k < 3 && best[k] >= 0; k++) {
        const arg *x = &a->items[best[k]];
        o += snprintf(sug + o, sizeof sug - o, "%s'%s=%s'", k ? ", " : "", x->key, x->value[0] ? x->value : "None");
    }
    if (best[0] >= 0)
        return cy_fail(err, CY_ERR_ARG, "'%s' is not a valid YOLO argument. Similar arguments are i.e. [%s].", key,
                       sug);
    return cy_fail(err, CY_ERR_ARG, "'%s' is not a valid YOLO argument.", key);
}

static int parse_bool(const char *v, int *out) {
    if (!strcmp(v, "True") || !strcmp(v, "true")) return *out = 1, 0;
    if (!strcmp(v, "False") || !strcmp(v, "false")) return *out = 0, 0;
    return -1;
}

static int parse_long(const char *v, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno) return -1;
    *out = x;
    return 0;
}

static int parse_double(const char *v, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x)) return -1;
    *out = x;
    return 0;
}

static int is_null_text(const char *v) { return !v[0] || !strcmp(v, "None") || !strcmp(v, "null"); }

cy_status cy_args_set(cy_args *a, const char *key, const char *value, cy_error *err) {
    arg *x = find(a, key);
    if (!x) return unknown_key(a, key, err);
    char v[VALUE_MAX];
    if (strlen(value) >= sizeof v) return cy_fail(err, CY_ERR_ARG, "'%s=...' is too long", key);
    snprintf(v, sizeof v, "%s", value);
    trim(v);
    if (is_null_text(v)) {
        if (!x->optional) return cy_fail(err, CY_ERR_ARG, "'%s=%s' needs a value", key, value);
        x->value[0] = 0;
        return CY_OK;
    }
    long l;
    double d;
    int b;
    switch (x->type) {
    case T_BOOL:
        if (parse_bool(v, &b))
            return cy_fail(err, CY_ERR_ARG, "'%s=%s' is of invalid type. '%s' must be a bool (i.e. '%s=True')", key,
                           value, key, key);
        snprintf(x->value, sizeof x->value, "%s", b ? "True" : "False");
        return CY_OK;
    case T_INT:
        if (parse_long(v, &l)) {
            if (!parse_double(v, &d) && d == floor(d)) l = (long)d; /* 10.0 as Python's int(10.0) */
            else
                return cy_fail(err, CY_ERR_ARG, "'%s=%s' is of invalid type. '%s' must be an int (i.e. '%s=8')", key,
                               value, key, key);
        }
        snprintf(x->value, sizeof x->value, "%ld", l);
        return CY_OK;
    case T_FLOAT:
        if (parse_double(v, &d))
            return cy_fail(err, CY_ERR_ARG, "'%s=%s' is of invalid type. '%s' must be a number (i.e. '%s=0.5')", key,
                           value, key, key);
        if (is_fraction(key) && (d < 0 || d > 1))
            return cy_fail(err, CY_ERR_ARG, "'%s=%s' is an invalid value. Valid '%s' values are between 0.0 and 1.0.",
                           key, value, key);
        snprintf(x->value, sizeof x->value, "%s", v);
        return CY_OK;
    case T_BOOL_STR:
        if (!parse_bool(v, &b)) snprintf(x->value, sizeof x->value, "%s", b ? "True" : "False");
        else snprintf(x->value, sizeof x->value, "%s", v);
        return CY_OK;
    case T_INT_LIST:
        if (parse_long(v, &l) && v[0] != '[')
            return cy_fail(err, CY_ERR_ARG, "'%s=%s': expected an int or a list like [0, 1, 2]", key, value);
        snprintf(x->value, sizeof x->value, "%s", v);
        return CY_OK;
    case T_STR:
        snprintf(x->value, sizeof x->value, "%s", v);
        return CY_OK;
    }
    return CY_OK;
}

cy_status cy_args_load_yaml(cy_args *a, const char *path, cy_error *err) {
    cy_yaml *root;
    CY_TRY(cy_yaml_load(path, &root, err));
    cy_status st = CY_OK;
    if (root->kind != CY_YAML_MAP) st = cy_fail(err, CY_ERR_FORMAT, "%s: expected key: value pairs", path);
    for (int i = 0; st == CY_OK && i < root->n; i++) {
        const cy_yaml *v = root->items[i];
        char text[VALUE_MAX] = "";
        if (v->kind == CY_YAML_SCALAR) snprintf(text, sizeof text, "%s", v->str);
        else if (v->kind == CY_YAML_SEQ) {
            int o = snprintf(text, sizeof text, "[");
            for (int j = 0; j < v->n && v->items[j]->kind == CY_YAML_SCALAR; j++)
                o += snprintf(text + o, sizeof text - o, j ? ", %s" : "%s", v->items[j]->str);
            snprintf(text + o, sizeof text - o, "]");
        }
        st = cy_args_set(a, root->keys[i], text, err);
        if (st != CY_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            st = cy_fail(err, st, "%s:%d: %s", path, v->line, msg);
        }
    }
    cy_yaml_free(root);
    return st;
}

static cy_status get(const cy_args *a, const char *key, arg_type want, const arg **out, cy_error *err) {
    const arg *x = find(a, key);
    if (!x) return cy_fail(err, CY_ERR_ARG, "internal: no argument '%s'", key);
    if (x->type != want && !(want == T_STR))
        return cy_fail(err, CY_ERR_ARG, "internal: argument '%s' read with the wrong type", key);
    *out = x;
    return CY_OK;
}

cy_status cy_args_get_str(const cy_args *a, const char *key, const char **out, cy_error *err) {
    const arg *x;
    CY_TRY(get(a, key, T_STR, &x, err));
    *out = x->value;
    return CY_OK;
}

cy_status cy_args_get_int(const cy_args *a, const char *key, long *out, int *is_null, cy_error *err) {
    const arg *x;
    CY_TRY(get(a, key, T_INT, &x, err));
    if (is_null) *is_null = !x->value[0];
    *out = x->value[0] ? strtol(x->value, NULL, 10) : 0;
    return CY_OK;
}

cy_status cy_args_get_float(const cy_args *a, const char *key, double *out, int *is_null, cy_error *err) {
    const arg *x;
    CY_TRY(get(a, key, T_FLOAT, &x, err));
    if (is_null) *is_null = !x->value[0];
    *out = x->value[0] ? strtod(x->value, NULL) : 0;
    return CY_OK;
}

cy_status cy_args_get_bool(const cy_args *a, const char *key, int *out, cy_error *err) {
    const arg *x;
    CY_TRY(get(a, key, T_BOOL, &x, err));
    *out = !strcmp(x->value, "True");
    return CY_OK;
}

cy_status cy_args_write_yaml(const cy_args *a, FILE *f, cy_error *err) {
    for (int i = 0; i < a->n; i++) {
        /* yaml.safe_dump spelling, as Ultralytics writes args.yaml */
        const arg *x = &a->items[i];
        const char *v = !x->value[0] ? "null" : !strcmp(x->value, "True") ? "true"
                                             : !strcmp(x->value, "False") ? "false" : x->value;
        fprintf(f, "%s: %s\n", x->key, v);
    }
    return ferror(f) ? cy_fail(err, CY_ERR_IO, "cannot write args.yaml") : CY_OK;
}

int cy_args_count(const cy_args *a) { return a->n; }

void cy_args_item(const cy_args *a, int i, const char **key, const char **text, char *kind) {
    const arg *x = &a->items[i];
    long l;
    double d;
    int b;
    *key = x->key;
    *text = x->value;
    if (!x->value[0]) *kind = 'n';
    else if (!parse_bool(x->value, &b)) *kind = 'b';
    else if (x->type == T_INT || (x->type == T_INT_LIST && !parse_long(x->value, &l))) *kind = 'i';
    else if (x->type == T_FLOAT && !parse_double(x->value, &d)) *kind = 'f';
    else *kind = 's';
}
