/* Writes a value tree as a torch.save zip archive with libzip. Records are
 * stored (not compressed) and each record's data starts on a 64-byte
 * boundary, as torch pads it: an "FB" extra field in the local header filled
 * with 'Z'. libzip lays entries out in the order added with no data
 * descriptors, so the offsets are known before it writes. */
#include "io/pt.h"
#include "io/pickle.h"
#include "core/status.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error ".pt storages are written as host bytes; this host is not little-endian"
#endif

enum { ALIGN = 64, LOCAL_HEADER = 30, FB_HEADER = 4 };

typedef struct {
    zip_t *za;
    const char *path;
    char prefix[256];
    zip_uint64_t cursor; /* offset of the next local header */
    cy_error *err;
} zwriter;

static cy_status zfail(zwriter *w, const char *what) {
    return cy_fail(w->err, CY_ERR_IO, "%s: cannot write %s (libzip: %s)", w->path, what,
                   zip_error_strerror(zip_get_error(w->za)));
}

static cy_status add_record(zwriter *w, const char *name, const void *data, size_t len) {
    char full[512];
    int fl = snprintf(full, sizeof full, "%s/%s", w->prefix, name);
    zip_source_t *src = zip_source_buffer(w->za, len ? data : "", len, 0);
    if (!src) return zfail(w, full);
    zip_int64_t idx = zip_file_add(w->za, full, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return zfail(w, full);
    }
    zip_uint64_t start = w->cursor + LOCAL_HEADER + (zip_uint64_t)fl + FB_HEADER;
    zip_uint16_t pad = (zip_uint16_t)((ALIGN - start % ALIGN) % ALIGN);
    static const zip_uint8_t zs[ALIGN] = {
        'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z',
        'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z',
        'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z',
        'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z', 'Z'};
    if (zip_set_file_compression(w->za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) ||
        zip_file_set_dostime(w->za, (zip_uint64_t)idx, 0, (1 << 5) | 1, 0) || /* 1980-01-01 */
        zip_file_extra_field_set(w->za, (zip_uint64_t)idx, 0x4246 /* "FB" */, ZIP_EXTRA_FIELD_NEW,
                                 zs, pad, ZIP_FL_LOCAL))
        return zfail(w, full);
    w->cursor = start + pad + len;
    return CY_OK;
}

/* Torch names the archive folder after the file, less its extension. */
static void archive_name(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b) n = (size_t)(dot - b);
    if (n >= cap) n = cap - 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        out[o++] = (c < 0x20 || c >= 0x7f || c == '\\') ? '_' : (char)c;
    }
    out[o] = 0;
    if (!o) snprintf(out, cap, "archive");
}

static cy_status fsync_path(const char *p, int dir, cy_error *err, const char *target) {
    int fd = open(p, dir ? O_RDONLY | O_DIRECTORY : O_RDWR);
    if (fd < 0) return dir ? CY_OK : cy_fail(err, CY_ERR_IO, "%s: cannot reopen temporary file: %s", target, strerror(errno));
    if (!dir) (void)fchmod(fd, 0644);
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r && !(dir && (e == EINVAL || e == EBADF)))
        return cy_fail(err, CY_ERR_IO, "%s: fsync failed: %s", target, strerror(e));
    return CY_OK;
}

cy_status cy_pt_write(const char *path, const cy_pt_value *root, cy_error *err) {
    if (!path || !*path || !root) return cy_fail(err, CY_ERR_ARG, "checkpoint write: no path or value");
    uint8_t *pkl = NULL;
    size_t pkl_len = 0;
    cy_pt_vec storages = {0};
    cy_status s = cy_pickle_dump(root, &pkl, &pkl_len, &storages, err);
    if (s) { free(storages.items); return s; }

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) { free(pkl); free(storages.items); return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", path); }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        s = cy_fail(err, CY_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp); free(pkl); free(storages.items);
        return s;
    }
    close(fd);

    int zerr = 0;
    zwriter w = {.path = path, .err = err};
    archive_name(path, w.prefix, sizeof w.prefix);
    w.za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!w.za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        s = cy_fail(err, CY_ERR_IO, "%s: cannot create archive: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto fail;
    }
    s = add_record(&w, "data.pkl", pkl, pkl_len);
    if (!s) s = add_record(&w, ".format_version", "1", 1);
    if (!s) s = add_record(&w, ".storage_alignment", "64", 2);
    if (!s) s = add_record(&w, "byteorder", "little", 6);
    for (size_t i = 0; !s && i < storages.len; i++) {
        const cy_pt_storage *st = storages.items[i];
        char name[40];
        snprintf(name, sizeof name, "data/%zu", i);
        s = add_record(&w, name, st->data, (size_t)st->numel * cy_pt_dtype_size(st->dtype));
    }
    if (!s) s = add_record(&w, "version", "3\n", 2);
    if (s) {
        zip_discard(w.za);
        goto fail;
    }
    if (zip_close(w.za)) {
        s = zfail(&w, "archive");
        zip_discard(w.za);
        goto fail;
    }
    s = fsync_path(tmp, 0, err, path);
    if (s) goto fail;
    if (rename(tmp, path)) {
        s = cy_fail(err, CY_ERR_IO, "%s: cannot rename the temporary file into place: %s", path, strerror(errno));
        goto fail;
    }
    {
        char *dir = strdup(path);
        if (dir) {
            char *sl = strrchr(dir, '/');
            if (sl) *(sl == dir ? sl + 1 : sl) = 0;
            s = fsync_path(sl ? dir : ".", 1, err, path);
            free(dir);
        }
    }
    free(tmp);
    free(pkl);
    free(storages.items);
    return s;
fail:
    unlink(tmp);
    free(tmp);
    free(pkl);
    free(storages.items);
    return s;
}
