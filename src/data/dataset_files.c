/* Image lists (get_img_files), img2label_paths, the cache file's name,
 * and the small path and string-list helpers the dataset files share. */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/dataset_internal.h"

/* ---- string lists ------------------------------------------------------ */

void cy_strlist_free(cy_strlist *l) {
    if (!l) return;
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static cy_status strlist_take(cy_strlist *l, char *s, cy_error *err) {
    if (!s) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(s);
            return cy_fail(err, CY_ERR_MEMORY, "out of memory");
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return CY_OK;
}

cy_status cy_strlist_push(cy_strlist *l, const char *s, cy_error *err) {
    return strlist_take(l, strdup(s), err);
}

cy_status cy_strlist_pushf(cy_strlist *l, cy_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int r = vasprintf(&s, fmt, ap);
    va_end(ap);
    return strlist_take(l, r < 0 ? NULL : s, err);
}

/* ---- paths ------------------------------------------------------------- */

char *cy_path_join(const char *a, const char *b) {
    if (b[0] == '/' || !a[0]) return strdup(b);
    size_t la = strlen(a);
    char *s = malloc(la + strlen(b) + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    size_t k = la;
    if (a[la - 1] != '/') s[k++] = '/';
    strcpy(s + k, b);
    return s;
}

int cy_path_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}
int cy_path_is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}
int cy_path_is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* "/" + components, "." dropped, ".." removing the one before it. */
static char *lexical_normalise(const char *abs) {
    size_t n = strlen(abs);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t k = 0;
    const char *p = abs;
    while (*p) {
        while (*p == '/') p++;
        const char *e = p;
        while (*e && *e != '/') e++;
        size_t len = (size_t)(e - p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            while (k > 0 && out[k - 1] != '/') k--;
            if (k > 0) k--;
        } else {
            out[k++] = '/';
            memcpy(out + k, p, len);
            k += len;
        }
        p = e;
    }
    if (k == 0) out[k++] = '/';
    out[k] = 0;
    return out;
}

char *cy_path_resolve(const char *p) {
    char *abs;
    if (p[0] == '/') {
        abs = strdup(p);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return strdup(p);
        abs = cy_path_join(cwd, p);
    }
    if (!abs) return NULL;
    char *norm = lexical_normalise(abs);
    free(abs);
    if (!norm) return NULL;
    char *real = realpath(norm, NULL);
    if (real) {
        free(norm);
        return real;
    }
    /* Resolve the longest existing prefix, keep the rest as written. */
    for (size_t i = strlen(norm); i-- > 1;) {
        if (norm[i] != '/') continue;
        norm[i] = 0;
        real = realpath(norm, NULL);
        norm[i] = '/';
        if (real) {
            char *r = cy_path_join(real, norm + i + 1);
            free(real);
            free(norm);
            return r;
        }
    }
    return norm;
}

char *cy_path_dirname(const char *p) {
    const char *s = strrchr(p, '/');
    if (!s) return strdup(".");
    if (s == p) return strdup("/");
    return strndup(p, (size_t)(s - p));
}

/* ---- image lists ------------------------------------------------------- */

static const char *const IMG_FORMATS[] = {"bmp", "dng",  "jpeg", "jpg", "mpo", "png",
                                          "tif", "tiff", "webp", "pfm", "heic"};

/* x.rpartition(".")[-1].lower() in IMG_FORMATS: with no dot the whole
 * string is the "suffix", as in Ultralytics. */
int cy_is_image_suffix(const char *path) {
    const char *dot = strrchr(path, '.');
    const char *s = dot ? dot + 1 : path;
    size_t n = strlen(s);
    if (n == 0 || n > 4) return 0;
    char low[5];
    for (size_t i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)s[i]);
    for (size_t i = 0; i < sizeof IMG_FORMATS / sizeof *IMG_FORMATS; i++)
        if (!strcmp(low, IMG_FORMATS[i])) return 1;
    return 0;
}

/* glob(p/'**'/'*.*', recursive=True): names starting with '.' are skipped
 * (glob's rule for hidden entries), symlinked folders followed (to a
 * bounded depth, against loops). Only files are kept. */
static cy_status walk(const char *dir, int depth, cy_strlist *out, cy_error *err) {
    if (depth > 64) return CY_OK;
    DIR *d = opendir(dir);
    if (!d) return CY_OK;
    cy_status st = CY_OK;
    struct dirent *e;
    while (st == CY_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *full = cy_path_join(dir, e->d_name);
        if (!full) {
            st = cy_fail(err, CY_ERR_MEMORY, "out of memory");
            break;
        }
        struct stat sb;
        if (stat(full, &sb) != 0) {
            free(full);
            continue;
        }
        if (S_ISDIR(sb.st_mode)) {
            st = walk(full, depth + 1, out, err);
            free(full);
        } else if (strchr(e->d_name, '.') && cy_is_image_suffix(e->d_name)) {
            st = strlist_take(out, full, err);
        } else {
            free(full);
        }
    }
    closedir(d);
    return st;
}

static int is_line_break(char c) {
    return c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e;
}
static int is_py_space(char c) {
    return c == ' ' || c == '\t' || is_line_break(c) || c == 0x1f;
}

/* A text file listing images: the whole text stripped, split into lines;
 * "./x" means the list's folder (Ultralytics replaces every "./" of such a
 * line; only the leading one is meant). */
static cy_status read_list(const char *list, const char *prefix, cy_strlist *out, cy_error *err) {
    char *text;
    size_t len;
    int e = cy_read_text_file(list, (size_t)1 << 30, &text, &len);
    if (e) return cy_fail(err, CY_ERR_IO, "%s%s: cannot read: %s", prefix, list, strerror(e));
    char *parent = cy_path_dirname(list);
    if (!parent) {
        free(text);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    char *b = text, *end = text + len;
    while (b < end && is_py_space(*b)) b++;
    while (end > b && is_py_space(end[-1])) end--;
    cy_status st = CY_OK;
    while (st == CY_OK && b < end) {
        char *le = b;
        while (le < end && !is_line_break(*le)) le++;
        char *next = le;
        if (next < end) next += (*next == '\r' && next + 1 < end && next[1] == '\n') ? 2 : 1;
        *le = 0;
        if (*b && cy_is_image_suffix(b)) {
            char *path;
            if (b[0] == '.' && b[1] == '/') {
                path = cy_path_join(parent, b + 2);
            } else if (b[0] != '/' && !cy_path_exists(b)) {
                /* Ultralytics reads it relative to the current folder;
                 * cyolo also tries the list's folder. */
                char *alt = cy_path_join(parent, b);
                if (alt && !cy_path_exists(alt)) {
                    free(alt);
                    alt = strdup(b);
                }
                path = alt;
            } else {
                path = strdup(b);
            }
            st = strlist_take(out, path, err);
        }
        b = next;
    }
    free(parent);
    free(text);
    return st;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

cy_status cy_image_files(const char *const *paths, int npaths, const char *prefix,
                         cy_strlist *out, cy_error *err) {
    if (!prefix) prefix = "";
    cy_strlist f = {0};
    for (int i = 0; i < npaths; i++) {
        const char *p = paths[i];
        cy_status st;
        if (cy_path_is_dir(p)) {
            st = walk(p, 0, &f, err);
        } else if (cy_path_exists(p)) {
            st = read_list(p, prefix, &f, err);
        } else {
            st = cy_fail(err, CY_ERR_IO, "%s%s does not exist", prefix, p);
        }
        if (st != CY_OK) {
            cy_strlist_free(&f);
            return st;
        }
    }
    if (f.n == 0) {
        cy_strlist_free(&f);
        return cy_fail(err, CY_ERR_IO,
                       "%sNo images found in %s%s. Supported formats are: bmp, dng, jpeg, jpg, "
                       "mpo, png, tif, tiff, webp, pfm, heic",
                       prefix, npaths ? paths[0] : "(no paths)", npaths > 1 ? " ..." : "");
    }
    qsort(f.v, (size_t)f.n, sizeof *f.v, cmp_str);
    *out = f;
    return CY_OK;
}

/* ---- label paths ------------------------------------------------------- */

char *cy_img2label_path(const char *im) {
    static const char sa[] = "/images/";
    const char *last = NULL;
    for (const char *s = strstr(im, sa); s; s = strstr(s + 1, sa)) last = s;
    size_t n = strlen(im);
    char *r = malloc(n + 8);
    if (!r) return NULL;
    strcpy(r, im);
    if (last) memcpy(r + (last - im), "/labels/", 8);
    char *dot = strrchr(r, '.');
    if (dot) *dot = 0;
    strcat(r, ".txt");
    return r;
}

char *cy_label_cache_path(const char *first_label_file) {
    char *dir = cy_path_dirname(first_label_file);
    if (!dir) return NULL;
    /* Path.with_suffix: replaces the name's suffix (a dot that is neither
     * its first nor its last character). */
    char *name = strrchr(dir, '/');
    name = name ? name + 1 : dir;
    char *dot = strrchr(name, '.');
    if (dot && dot != name && dot[1]) *dot = 0;
    char *r = malloc(strlen(dir) + sizeof ".cyolo.cache");
    if (r) sprintf(r, "%s.cyolo.cache", dir);
    free(dir);
    return r;
}
