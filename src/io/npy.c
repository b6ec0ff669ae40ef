#include "io/npy.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Finds `'key':` in the header dict and returns the text after the colon. */
static const char *npy_field(const char *hdr, const char *key) {
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(hdr, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static cy_status npy_parse_header(const char *path, const char *hdr, cy_npy *out,
                                  cy_error *err) {
    const char *d = npy_field(hdr, "descr");
    if (!d) return cy_fail(err, CY_ERR_FORMAT, "%s: .npy header has no 'descr'", path);
    if (strncmp(d, "'<f4'", 5) != 0) {
        char got[16] = {0};
        sscanf(d, "%15[^,}]", got);
        return cy_fail(err, CY_ERR_FORMAT,
                       "%s: dtype %s is not supported: expected little-endian float32 ('<f4')",
                       path, got);
    }
    const char *f = npy_field(hdr, "fortran_order");
    if (!f) return cy_fail(err, CY_ERR_FORMAT, "%s: .npy header has no 'fortran_order'", path);
    if (strncmp(f, "False", 5) != 0)
        return cy_fail(err, CY_ERR_FORMAT, "%s: Fortran-order arrays are not supported", path);
    const char *s = npy_field(hdr, "shape");
    if (!s || *s != '(') return cy_fail(err, CY_ERR_FORMAT, "%s: .npy header has no valid 'shape'", path);
    s++;
    out->ndim = 0;
    out->numel = 1;
    for (;;) {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0)
            return cy_fail(err, CY_ERR_FORMAT, "%s: malformed shape in .npy header", path);
        if (out->ndim == CY_NPY_MAX_DIMS)
            return cy_fail(err, CY_ERR_FORMAT, "%s: more than %d dimensions", path, CY_NPY_MAX_DIMS);
        if (v > 0 && out->numel > INT64_MAX / 4 / v)
            return cy_fail(err, CY_ERR_FORMAT, "%s: shape too large", path);
        out->shape[out->ndim++] = v;
        out->numel *= v;
        s = end;
    }
    return CY_OK;
}

cy_status cy_npy_read(const char *path, cy_npy *out, cy_error *err) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp) return cy_fail(err, CY_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    cy_status st = CY_OK;
    unsigned char pre[10];
    char *hdr = NULL;
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        unsigned char more[2];
        if (fread(more, 1, 2, fp) != 2) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: truncated .npy header", path);
            goto done;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    } else {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: unknown .npy version %d", path, pre[6]);
        goto done;
    }
    if (hlen > (1u << 20)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: .npy header too long", path);
        goto done;
    }
    hdr = malloc(hlen + 1);
    if (!hdr) { st = cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", path); goto done; }
    if (fread(hdr, 1, hlen, fp) != hlen) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: truncated .npy header", path);
        goto done;
    }
    hdr[hlen] = 0;
    if ((st = npy_parse_header(path, hdr, out, err)) != CY_OK) goto done;
    size_t bytes = (size_t)out->numel * sizeof(float);
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) { st = cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", path); goto done; }
    if (fread(out->data, 1, bytes, fp) != bytes) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: truncated data: expected %lld float32 values",
                     path, (long long)out->numel);
        goto done;
    }
    if (fgetc(fp) != EOF) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s: trailing bytes after the array data", path);
        goto done;
    }
done:
    free(hdr);
    fclose(fp);
    if (st != CY_OK) cy_npy_free(out);
    return st;
}

cy_status cy_npy_write(const char *path, const float *data, int ndim,
                       const int64_t *shape, cy_error *err) {
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - len, "%lld%s", (long long)shape[i],
                        ndim == 1 ? "," : (i + 1 < ndim ? ", " : ""));
        numel *= (size_t)shape[i];
    }
    len += snprintf(dict + len, sizeof dict - len, "), }");
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    char hdr[512];
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    int hlen = len + pad + 1;
    hdr[8] = (char)(hlen & 0xff);
    hdr[9] = (char)(hlen >> 8);
    memcpy(hdr + 10, dict, len);
    memset(hdr + 10 + len, ' ', pad);
    hdr[10 + len + pad] = '\n';
    FILE *fp = fopen(path, "wb");
    if (!fp) return cy_fail(err, CY_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    int ok = fwrite(hdr, 1, 10 + hlen, fp) == (size_t)(10 + hlen) &&
             fwrite(data, sizeof(float), numel, fp) == numel;
    ok = (fclose(fp) == 0) && ok;
    if (!ok) return cy_fail(err, CY_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return CY_OK;
}

void cy_npy_free(cy_npy *a) {
    free(a->data);
    a->data = NULL;
}
