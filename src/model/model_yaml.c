/* Ultralytics model YAML -> layer table, following parse_model: the scale's
 * depth/width/max_channels gains, make_divisible(…, 8) channels, repeat counts
 * moved into the module arguments, C3k2's c3k forced on for scales m/l/x, and
 * Detect given (reg_max, end2end, input channels). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "io/yaml.h"
#include "model/model.h"
#include "model/pyrepr.h"

#define MAX_ARGS 12

typedef enum { ARG_INT, ARG_FLOAT, ARG_BOOL, ARG_NONE, ARG_STR, ARG_INTLIST } arg_type;

typedef struct {
    arg_type t;
    long i;
    double f;
    char s[32];
    int list[CY_MAX_FROM];
    int nlist;
} arg_val;

typedef struct {
    const char *yaml_name;
    cy_module_kind kind;
    const char *type;   /* as Ultralytics prints it */
    int base;           /* c1/c2 channel rewriting */
    int repeat;         /* n moves into args[2] */
    int max_args;       /* as written in the YAML */
} module_info;

static const module_info MODULES[] = {
    {"Conv", CY_MOD_CONV, "ultralytics.nn.modules.conv.Conv", 1, 0, 7},
    {"DWConv", CY_MOD_DWCONV, "ultralytics.nn.modules.conv.DWConv", 1, 0, 5},
    {"Bottleneck", CY_MOD_BOTTLENECK, "ultralytics.nn.modules.block.Bottleneck", 1, 0, 4},
    {"C2f", CY_MOD_C2F, "ultralytics.nn.modules.block.C2f", 1, 1, 4},
    {"C3", CY_MOD_C3, "ultralytics.nn.modules.block.C3", 1, 1, 4},
    {"C3k", CY_MOD_C3K, "ultralytics.nn.modules.block.C3k", 1, 1, 5},
    {"C3k2", CY_MOD_C3K2, "ultralytics.nn.modules.block.C3k2", 1, 1, 6},
    {"SPPF", CY_MOD_SPPF, "ultralytics.nn.modules.block.SPPF", 1, 0, 4},
    {"C2PSA", CY_MOD_C2PSA, "ultralytics.nn.modules.block.C2PSA", 1, 1, 2},
    {"Concat", CY_MOD_CONCAT, "ultralytics.nn.modules.conv.Concat", 0, 0, 1},
    {"nn.Upsample", CY_MOD_UPSAMPLE, "torch.nn.modules.upsampling.Upsample", 0, 0, 3},
    {"Detect", CY_MOD_DETECT, "ultralytics.nn.modules.head.Detect", 0, 0, 1},
    {"Segment", CY_MOD_DETECT, "ultralytics.nn.modules.head.Segment", 0, 0, 3},
    {"Segment26", CY_MOD_DETECT, "ultralytics.nn.modules.head.Segment26", 0, 0, 3},
};

static int make_divisible(double x, int d) { return (int)ceil(x / d) * d; }

static cy_status eval_arg(const char *path, const cy_yaml *y, int nc, arg_val *a,
                          cy_error *err) {
    memset(a, 0, sizeof *a);
    if (y->kind == CY_YAML_SEQ) {
        a->t = ARG_INTLIST;
        for (int i = 0; i < y->n && i < CY_MAX_FROM; i++) {
            long v;
            if (cy_yaml_int(y->items[i], &v))
                return cy_fail(err, CY_ERR_FORMAT, "%s:%d: unsupported list argument",
                               path, y->line);
            a->list[a->nlist++] = (int)v;
        }
        return CY_OK;
    }
    if (y->kind != CY_YAML_SCALAR)
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: unsupported argument", path, y->line);
    int b;
    if (!cy_yaml_int(y, &a->i)) { a->t = ARG_INT; return CY_OK; }
    if (!cy_yaml_double(y, &a->f)) { a->t = ARG_FLOAT; return CY_OK; }
    if (!cy_yaml_bool(y, &b)) { a->t = ARG_BOOL; a->i = b; return CY_OK; }
    if (cy_yaml_is_null(y) || !strcmp(y->str, "None")) { a->t = ARG_NONE; return CY_OK; }
    if (!strcmp(y->str, "nc")) { a->t = ARG_INT; a->i = nc; return CY_OK; }
    a->t = ARG_STR;
    snprintf(a->s, sizeof a->s, "%s", y->str);
    return CY_OK;
}

static void print_args(char *buf, size_t cap, const arg_val *a, int n) {
    cy_pyrepr r;
    cy_pyrepr_begin(&r, buf, cap);
    for (int i = 0; i < n; i++) {
        switch (a[i].t) {
        case ARG_INT: cy_pyrepr_int(&r, a[i].i); break;
        case ARG_FLOAT: cy_pyrepr_float(&r, a[i].f); break;
        case ARG_BOOL: cy_pyrepr_bool(&r, (int)a[i].i); break;
        case ARG_NONE: cy_pyrepr_none(&r); break;
        case ARG_STR: cy_pyrepr_str(&r, a[i].s); break;
        case ARG_INTLIST: cy_pyrepr_int_list(&r, a[i].list, a[i].nlist); break;
        }
    }
    cy_pyrepr_end(&r);
}

static arg_val arg_int(long v) { arg_val a = {.t = ARG_INT, .i = v}; return a; }
static arg_val arg_bool(int v) { arg_val a = {.t = ARG_BOOL, .i = v}; return a; }

/* Positional argument `i` of the rewritten list as an int/bool/float, or the
 * default when absent. Returns -1 when present with the wrong type. */
static int get_int(const arg_val *a, int n, int i, long def, long *out) {
    if (i >= n) { *out = def; return 0; }
    if (a[i].t == ARG_INT || a[i].t == ARG_BOOL) { *out = a[i].i; return 0; }
    return -1;
}
static int get_num(const arg_val *a, int n, int i, double def, double *out) {
    if (i >= n) { *out = def; return 0; }
    if (a[i].t == ARG_INT) { *out = (double)a[i].i; return 0; }
    if (a[i].t == ARG_FLOAT) { *out = a[i].f; return 0; }
    return -1;
}

/* The scale letter Ultralytics reads from a file stem like "yolo26n" or
 * "yolov8s": yolo, optional "e-", optional "v", digits, then n/s/m/l/x. */
static char scale_from_name(const char *stem) {
    for (const char *p = strstr(stem, "yolo"); p; p = strstr(p + 1, "yolo")) {
        const char *q = p + 4;
        if (!strncmp(q, "e-", 2)) q += 2;
        if (*q == 'v') q++;
        if (!isdigit((unsigned char)*q)) continue;
        while (isdigit((unsigned char)*q)) q++;
        if (*q && strchr("nslmx", *q)) return *q;
    }
    return 0;
}

static void file_stem(const char *path, char *stem, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(stem, cap, "%s", b);
    char *dot = strrchr(stem, '.');
    if (dot) *dot = 0;
}

static cy_status parse_layer(cy_model *m, const char *path, const cy_yaml *row, int i,
                             int *ch, cy_error *err) {
    cy_layer *L = &m->layers[i];
    L->index = i;
    if (row->kind != CY_YAML_SEQ || row->n != 4)
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s:%d: layer %d must be [from, repeats, module, args]", path, row->line, i);
    const cy_yaml *yf = row->items[0], *yn = row->items[1], *ym = row->items[2],
                  *ya = row->items[3];
    /* from */
    long v;
    if (yf->kind == CY_YAML_SEQ) {
        L->from_is_list = 1;
        if (yf->n < 1 || yf->n > CY_MAX_FROM)
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: bad 'from' list", path, yf->line, i);
        for (int j = 0; j < yf->n; j++) {
            if (cy_yaml_int(yf->items[j], &v))
                return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: 'from' must be integers",
                               path, yf->line, i);
            L->from_raw[L->nfrom++] = (int)v;
        }
    } else {
        if (cy_yaml_int(yf, &v))
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: 'from' must be an integer or a list",
                           path, yf->line, i);
        L->from_raw[L->nfrom++] = (int)v;
    }
    for (int j = 0; j < L->nfrom; j++) {
        int f = L->from_raw[j], a = f < 0 ? i + f : f;
        int ok = (i == 0) ? (f == -1) : (a >= 0 && a < i);
        if (!ok)
            return cy_fail(err, CY_ERR_FORMAT,
                           "%s:%d: layer %d: 'from' index %d is out of range (layers 0..%d exist before it)",
                           path, yf->line, i, f, i - 1);
        L->from[j] = (i == 0) ? -1 : a;
    }
    /* repeats */
    long n;
    if (cy_yaml_int(yn, &n) || n < 1)
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: repeats must be an integer >= 1",
                       path, yn->line, i);
    if (n > 1) n = (long)fmax(nearbyint((double)n * m->depth), 1.0); /* Python round: half to even */
    L->n_print = (int)n;
    /* module */
    if (ym->kind != CY_YAML_SCALAR)
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: module must be a name", path, ym->line, i);
    const module_info *mi = NULL;
    for (size_t k = 0; k < sizeof MODULES / sizeof *MODULES; k++)
        if (!strcmp(MODULES[k].yaml_name, ym->str)) mi = &MODULES[k];
    if (!mi)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s:%d: layer %d: unknown module '%s'", path,
                       ym->line, i, ym->str);
    L->kind = mi->kind;
    L->type = mi->type;
    if (ya->kind != CY_YAML_SEQ)
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: args must be a list", path, ya->line, i);
    if (ya->n > mi->max_args || (mi->base && ya->n < 1))
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s:%d: layer %d: %s takes %s%d argument%s, got %d", path, ya->line, i,
                       mi->yaml_name, mi->base ? "1 to " : "at most ", mi->max_args,
                       mi->max_args == 1 ? "" : "s", ya->n);
    if (L->nfrom > 1 && mi->kind != CY_MOD_CONCAT && mi->kind != CY_MOD_DETECT)
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: %s takes one input, 'from' lists %d",
                       path, yf->line, i, mi->yaml_name, L->nfrom);
    arg_val a[MAX_ARGS];
    int na = ya->n;
    for (int j = 0; j < na; j++) CY_TRY(eval_arg(path, ya->items[j], m->nc, &a[j], err));
    int c1 = ch[i == 0 ? 0 : L->from[0] + 1], c2 = c1;
    if (mi->base) {
        if (a[0].t != ARG_INT || a[0].i < 1)
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: output channels must be a positive integer",
                           path, ya->line, i);
        c2 = (int)a[0].i;
        if (c2 != m->nc) c2 = make_divisible(fmin(c2, m->max_channels) * m->width, 8);
        memmove(a + 1, a, sizeof *a * na);
        a[0] = arg_int(c1);
        a[1] = arg_int(c2);
        na++;
        if (mi->repeat) {
            memmove(a + 3, a + 2, sizeof *a * (na - 2));
            a[2] = arg_int(n);
            na++;
            L->repeats = (int)n;
            n = 1;
        }
        if (mi->kind == CY_MOD_C3K2) {
            m->legacy = 0;
            /* Ultralytics tests `scale in "mlx"`, and a model without a scale
             * ("" : a YAML without scales whose name has no scale letter)
             * passes that substring test too. */
            if (!m->scale || strchr("mlx", m->scale)) {
                if (na <= 3)
                    return cy_fail(err, CY_ERR_FORMAT,
                                   "%s:%d: layer %d: C3k2 needs its c3k argument at scale '%c'",
                                   path, ya->line, i, m->scale ? m->scale : '-');
                a[3] = arg_bool(1);
            }
        }
    } else if (mi->kind == CY_MOD_CONCAT) {
        long dim;
        if (get_int(a, na, 0, 1, &dim) || dim != 1)
            return cy_fail(err, CY_ERR_UNSUPPORTED, "%s:%d: layer %d: Concat is supported along dim 1 only",
                           path, ya->line, i);
        c2 = 0;
        for (int j = 0; j < L->nfrom; j++) c2 += ch[L->from[j] + 1];
    } else if (mi->kind == CY_MOD_DETECT) {
        if (L->nfrom > CY_MAX_LEVELS)
            return cy_fail(err, CY_ERR_UNSUPPORTED, "%s:%d: layer %d: %s takes at most %d levels",
                           path, yf->line, i, mi->yaml_name, CY_MAX_LEVELS);
        long dnc = m->nc;
        if (na >= 1 && (get_int(a, na, 0, m->nc, &dnc) || dnc < 1))
            return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: %s's nc must be a positive integer",
                           path, ya->line, i, mi->yaml_name);
        if (na == 0) a[na++] = arg_int(m->nc);
        m->task = CY_TASK_DETECT;
        if (strcmp(mi->yaml_name, "Detect")) {
            /* Segment(nc, nm, npr, reg_max, end2end, ch): parse_model appends
             * after the written arguments, so all three must be there */
            long nm, npr;
            if (na != 3 || get_int(a, na, 1, 32, &nm) || get_int(a, na, 2, 256, &npr) || nm < 1 || nm > 1024 ||
                npr < 1 || npr > 65536)
                return cy_fail(err, CY_ERR_FORMAT,
                               "%s:%d: layer %d: %s takes [nc, masks, prototype channels], e.g. [nc, 32, 256]",
                               path, ya->line, i, mi->yaml_name);
            a[2] = arg_int(make_divisible(fmin((double)npr, m->max_channels) * m->width, 8));
            m->task = CY_TASK_SEGMENT;
            m->nm = (int)nm;
            m->npr = (int)a[2].i;
            m->proto26 = !strcmp(mi->yaml_name, "Segment26");
        }
        a[na++] = arg_int(m->reg_max);
        if (m->end2end_given) a[na++] = arg_bool(m->end2end);
        else a[na++] = (arg_val){.t = ARG_NONE};
        arg_val l = {.t = ARG_INTLIST};
        for (int j = 0; j < L->nfrom; j++) l.list[l.nlist++] = ch[L->from[j] + 1];
        a[na++] = l;
        m->nc = (int)dnc;
        m->detect_layer = i;
        m->nl = L->nfrom;
    } else if (mi->kind == CY_MOD_UPSAMPLE) {
        double sf;
        if (na < 2 || get_num(a, na, 1, 2, &sf) || sf != floor(sf) || sf < 1 ||
            (na >= 1 && a[0].t != ARG_NONE) || (na >= 3 && (a[2].t != ARG_STR || strcmp(a[2].s, "nearest"))))
            return cy_fail(err, CY_ERR_UNSUPPORTED,
                           "%s:%d: layer %d: nn.Upsample is supported as [None, <integer scale>, 'nearest']",
                           path, ya->line, i);
        L->scale = (int)sf;
    }
    if (n != 1)
        return cy_fail(err, CY_ERR_UNSUPPORTED, "%s:%d: layer %d: repeats > 1 are supported only for C2f/C3/C3k/C3k2/C2PSA",
                       path, yn->line, i);
    L->c1 = c1;
    L->c2 = c2;
    print_args(L->args, sizeof L->args, a, na);

    /* Module parameters from the rewritten positional list. */
    long t1 = 0, t2 = 0, t3 = 0, t4 = 0;
    double e = 0;
    int bad = 0;
    L->groups = 1;
    switch (mi->kind) {
    case CY_MOD_CONV:  /* c1, c2, k, s, p, g, d, act */
        bad |= get_int(a, na, 2, 1, &t1) | get_int(a, na, 3, 1, &t2) | get_int(a, na, 5, 1, &t3);
        L->k = (int)t1; L->s = (int)t2; L->groups = (int)t3;
        if (na > 4 && a[4].t != ARG_NONE) bad = 1;   /* explicit padding: not supported */
        if (na > 6 && !(a[6].t == ARG_INT && a[6].i == 1)) bad = 1; /* dilation */
        if (na > 7 && !(a[7].t == ARG_BOOL && a[7].i == 1)) bad = 1; /* act */
        break;
    case CY_MOD_DWCONV: /* c1, c2, k, s, d, act */
        bad |= get_int(a, na, 2, 1, &t1) | get_int(a, na, 3, 1, &t2);
        L->k = (int)t1; L->s = (int)t2;
        if (na > 4 && !(a[4].t == ARG_INT && a[4].i == 1)) bad = 1;
        if (na > 5 && !(a[5].t == ARG_BOOL && a[5].i == 1)) bad = 1;
        break;
    case CY_MOD_BOTTLENECK: /* c1, c2, shortcut, g, k, e */
        bad |= get_int(a, na, 2, 1, &t1) | get_int(a, na, 3, 1, &t2) | get_num(a, na, 5, 0.5, &e);
        L->shortcut = (int)t1; L->groups = (int)t2; L->e = e;
        if (na > 4) bad = 1;
        break;
    case CY_MOD_C2F: /* c1, c2, n, shortcut=False, g, e */
        bad |= get_int(a, na, 3, 0, &t1) | get_int(a, na, 4, 1, &t2) | get_num(a, na, 5, 0.5, &e);
        L->shortcut = (int)t1; L->groups = (int)t2; L->e = e;
        break;
    case CY_MOD_C3: /* c1, c2, n, shortcut=True, g, e */
        bad |= get_int(a, na, 3, 1, &t1) | get_int(a, na, 4, 1, &t2) | get_num(a, na, 5, 0.5, &e);
        L->shortcut = (int)t1; L->groups = (int)t2; L->e = e;
        break;
    case CY_MOD_C3K: /* c1, c2, n, shortcut=True, g, e, k */
        bad |= get_int(a, na, 3, 1, &t1) | get_int(a, na, 4, 1, &t2) | get_num(a, na, 5, 0.5, &e) |
               get_int(a, na, 6, 3, &t3);
        L->shortcut = (int)t1; L->groups = (int)t2; L->e = e; L->k = (int)t3;
        break;
    case CY_MOD_C3K2: /* c1, c2, n, c3k=False, e=0.5, attn=False, g=1, shortcut=True */
        bad |= get_int(a, na, 3, 0, &t1) | get_num(a, na, 4, 0.5, &e) | get_int(a, na, 5, 0, &t2) |
               get_int(a, na, 6, 1, &t3) | get_int(a, na, 7, 1, &t4);
        L->c3k = (int)t1; L->e = e; L->attn = (int)t2; L->groups = (int)t3; L->shortcut = (int)t4;
        break;
    case CY_MOD_SPPF: /* c1, c2, k=5, n=3, shortcut=False */
        bad |= get_int(a, na, 2, 5, &t1) | get_int(a, na, 3, 3, &t2) | get_int(a, na, 4, 0, &t3);
        L->pool_k = (int)t1; L->pool_n = (int)t2; L->shortcut = (int)t3;
        L->sppf_short_row = na <= 3;
        break;
    case CY_MOD_C2PSA: /* c1, c2, n, e=0.5 */
        bad |= get_num(a, na, 3, 0.5, &e);
        L->e = e;
        if (c1 != c2) bad = 1;
        break;
    default:
        break;
    }
    if (bad || (L->k && (L->k < 1 || L->k % 2 == 0 || L->k > 15)) || (L->s && L->s < 1) ||
        L->groups < 1 || (mi->kind == CY_MOD_SPPF && (L->pool_k < 1 || L->pool_k % 2 == 0 || L->pool_n < 1)) ||
        (L->e && (L->e <= 0 || L->e > 4)))
        return cy_fail(err, CY_ERR_FORMAT, "%s:%d: layer %d: unsupported or invalid arguments %s for %s",
                       path, ya->line, i, L->args, mi->yaml_name);
    ch[i + 1] = c2;
    return CY_OK;
}

static cy_status resolve_path(const char *given, char *out, size_t cap, char *scale,
                              cy_error *err) {
    char stem[256];
    file_stem(given, stem, sizeof stem);
    *scale = scale_from_name(stem);
    FILE *fp = fopen(given, "rb");
    if (fp) {
        fclose(fp);
        snprintf(out, cap, "%s", given);
        return CY_OK;
    }
    /* yolo26n.yaml -> yolo26.yaml: drop the scale letter after the version digits */
    char unified[512];
    snprintf(unified, sizeof unified, "%s", given);
    char *base = strrchr(unified, '/');
    base = base ? base + 1 : unified;
    if (*scale) {
        char *p = strstr(base, stem) ? base : NULL;
        if (p) {
            size_t sl = strlen(stem);
            char *letter = NULL;
            for (size_t k = 1; k < sl; k++)
                if (isdigit((unsigned char)p[k - 1]) && p[k] == *scale) letter = p + k;
            if (letter) memmove(letter, letter + 1, strlen(letter));
        }
    }
    const char *dirs[] = {"", "cfg/models/26/", "cfg/models/11/", "cfg/models/v8/",
                          CYOLO_SOURCE_DIR "/cfg/models/26/", CYOLO_SOURCE_DIR "/cfg/models/11/",
                          CYOLO_SOURCE_DIR "/cfg/models/v8/"};
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        char cand[1024];
        if (d == 0) snprintf(cand, sizeof cand, "%s", unified);
        else if (strchr(given, '/')) break; /* an explicit folder is searched only there */
        else snprintf(cand, sizeof cand, "%s%s", dirs[d], base);
        fp = fopen(cand, "rb");
        if (fp) {
            fclose(fp);
            snprintf(out, cap, "%s", cand);
            return CY_OK;
        }
    }
    return cy_fail(err, CY_ERR_IO, "%s: model YAML not found (also looked for %s and the built-in cfg/models)",
                   given, base);
}

static cy_status parse_root(cy_model *m, const char *path, const char *given, cy_yaml *root, int nc_override,
                            cy_error *err);

cy_status cy_model_parse_yaml(cy_model *m, const char *given, int nc_override, cy_error *err) {
    char path[1024];
    CY_TRY(resolve_path(given, path, sizeof path, &m->scale, err));
    snprintf(m->yaml_path, sizeof m->yaml_path, "%s", path);
    char stem[256];
    file_stem(given, stem, sizeof stem);
    snprintf(m->name, sizeof m->name, "%s", stem);
    cy_yaml *root;
    CY_TRY(cy_yaml_load(path, &root, err));
    return parse_root(m, path, given, root, nc_override, err);
}

cy_status cy_model_parse_yaml_text(cy_model *m, const char *label, const char *name, const char *text, char scale,
                                   int nc_override, cy_error *err) {
    snprintf(m->yaml_path, sizeof m->yaml_path, "%s", label);
    snprintf(m->name, sizeof m->name, "%s", name);
    m->scale = scale;
    cy_yaml *root;
    CY_TRY(cy_yaml_load_text(label, text, strlen(text), &root, err));
    return parse_root(m, label, name, root, nc_override, err);
}

/* Takes ownership of root. */
static cy_status parse_root(cy_model *m, const char *path, const char *given, cy_yaml *root, int nc_override,
                            cy_error *err) {
    cy_status st = CY_OK;
    const cy_yaml *y;
    long v;
    int ch[1024];
    if (root->kind != CY_YAML_MAP) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: a model YAML must be a mapping", path);
        goto done;
    }
    m->nc = 80;
    if ((y = cy_yaml_get(root, "nc")) && (cy_yaml_int(y, &v) || v < 1 || v > 100000)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: nc must be a positive integer", path, y->line);
        goto done;
    } else if (y) m->nc = (int)v;
    if (nc_override > 0) m->nc = nc_override;
    m->reg_max = 16;
    if ((y = cy_yaml_get(root, "reg_max")) && (cy_yaml_int(y, &v) || v < 1 || v > 64)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: reg_max must be an integer in 1..64", path, y->line);
        goto done;
    } else if (y) m->reg_max = (int)v;
    m->end2end = 0;
    if ((y = cy_yaml_get(root, "end2end"))) {
        if (cy_yaml_bool(y, &m->end2end)) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: end2end must be True or False", path, y->line);
            goto done;
        }
        m->end2end_given = 1;
    }
    m->legacy = 1;
    int legacy_override = -1;
    if ((y = cy_yaml_get(root, "legacy")) && cy_yaml_bool(y, &legacy_override)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: legacy must be True or False", path, y->line);
        goto done;
    }
    ch[0] = 3;
    if ((y = cy_yaml_get(root, "channels")) && (cy_yaml_int(y, &v) || v < 1 || v > 64)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: channels must be a small positive integer", path, y->line);
        goto done;
    } else if (y) ch[0] = (int)v;
    if (m->channels > 0) ch[0] = m->channels; /* the creator's override */
    m->channels = ch[0];
    m->depth = m->width = 1.0;
    m->max_channels = 1 << 30;
    const cy_yaml *scales = cy_yaml_get(root, "scales");
    if (scales) {
        if (scales->kind != CY_YAML_MAP || scales->n == 0) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: scales must map a letter to [depth, width, max_channels]",
                         path, scales->line);
            goto done;
        }
        if (!m->scale) m->scale = scales->keys[0][0]; /* Ultralytics warns and takes the first */
        char key[2] = {m->scale, 0};
        const cy_yaml *s = cy_yaml_get(scales, key);
        if (!s) {
            st = cy_fail(err, CY_ERR_ARG, "%s: scale '%c' (from the name %s) is not in the file's scales",
                         path, m->scale, given);
            goto done;
        }
        double mc;
        if (s->kind != CY_YAML_SEQ || s->n != 3 || cy_yaml_double(s->items[0], &m->depth) ||
            cy_yaml_double(s->items[1], &m->width) || cy_yaml_double(s->items[2], &mc) ||
            m->depth <= 0 || m->width <= 0 || mc < 8) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s:%d: scale '%c' must be [depth, width, max_channels]",
                         path, s->line, m->scale);
            goto done;
        }
        m->max_channels = (int)mc;
    }
    /* without scales, the letter from the name (if any) still steers C3k2 */
    const cy_yaml *bb = cy_yaml_get(root, "backbone"), *hd = cy_yaml_get(root, "head");
    if (!bb || bb->kind != CY_YAML_SEQ || (hd && hd->kind != CY_YAML_SEQ)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: 'backbone' (and 'head') must be lists of layers", path);
        goto done;
    }
    int total = bb->n + (hd ? hd->n : 0);
    if (total < 1 || total > 1000) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: a model needs 1..1000 layers, got %d", path, total);
        goto done;
    }
    m->layers = calloc(total, sizeof *m->layers);
    if (!m->layers) { st = cy_fail(err, CY_ERR_MEMORY, "out of memory"); goto done; }
    m->nlayers = total;
    m->detect_layer = -1;
    for (int i = 0; i < total; i++) {
        const cy_yaml *row = i < bb->n ? bb->items[i] : hd->items[i - bb->n];
        if ((st = parse_layer(m, path, row, i, ch, err)) != CY_OK) goto done;
        if (m->layers[i].kind == CY_MOD_DETECT && i != total - 1) {
            st = cy_fail(err, CY_ERR_UNSUPPORTED, "%s:%d: the %s head must be the last layer", path, row->line,
                         row->items[2]->str);
            goto done;
        }
    }
    if (m->detect_layer < 0) {
        st = cy_fail(err, CY_ERR_UNSUPPORTED, "%s: the model has no Detect or Segment head (cyolo builds detection and segmentation models)",
                     path);
        goto done;
    }
    if (legacy_override >= 0) m->legacy = legacy_override;
done:
    cy_yaml_free(root);
    return st;
}
