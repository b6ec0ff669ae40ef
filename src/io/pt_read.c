/* Reads a torch.save zip archive with libzip: finds the archive folder as
 * torch does (the first entry's top folder), unpickles <folder>/data.pkl with
 * the restricted unpickler, then fills each storage from <folder>/data/<key>.
 * Every size is checked against the file before anything is allocated, and
 * all records together may not unpack to more than the file can hold
 * (torch stores records uncompressed; deflated ones may expand at most
 * MAX_EXPANSION times), so overlapping records and zip bombs are refused. */
#include "io/pt.h"
#include "io/pickle.h"
#include "core/status.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#define MAX_PICKLE_BYTES ((zip_uint64_t)1 << 30)
#define MAX_EXPANSION 64

typedef struct {
    zip_t *za;
    const char *path;
    char prefix[256];
    zip_uint64_t file_size;
    zip_uint64_t stored_bytes, packed_bytes, unpacked_bytes; /* of the records read so far */
    cy_error *err;
} zreader;

/* Index of <prefix>/<name>, or -1. */
static zip_int64_t locate(zreader *r, const char *name) {
    char full[512];
    snprintf(full, sizeof full, "%s/%s", r->prefix, name);
    return zip_name_locate(r->za, full, ZIP_FL_ENC_RAW);
}

/* Reads entry idx whole into a new buffer of exactly want bytes (or any
 * size up to max_bytes when want is -1). */
static cy_status read_entry(zreader *r, zip_int64_t idx, const char *name, int64_t want,
                            zip_uint64_t max_bytes, uint8_t **out, size_t *out_len) {
    *out = NULL;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(r->za, (zip_uint64_t)idx, 0, &st) ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: cannot read the size of record %s", r->path, name);
    zip_uint64_t size = st.size;
    if (st.comp_size > r->file_size ||
        (st.comp_method == ZIP_CM_STORE && st.comp_size != size) ||
        size / 1100 > st.comp_size) /* deflate cannot expand beyond ~1032:1 */
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: record %s claims %llu bytes, more than the file holds",
                       r->path, name, (unsigned long long)size);
    if (want >= 0 && size != (zip_uint64_t)want)
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: record %s has %llu bytes, the pickle says %lld",
                       r->path, name, (unsigned long long)size, (long long)want);
    if (want < 0 && size > max_bytes)
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: record %s is too large (%llu bytes)", r->path, name,
                       (unsigned long long)size);
    /* Records may not overlap (their bytes add up to at most the file) nor
     * unpack to much more than they take. */
    if (st.comp_method == ZIP_CM_STORE) r->stored_bytes += size;
    else {
        r->packed_bytes += st.comp_size;
        r->unpacked_bytes += size;
    }
    if (r->stored_bytes + r->packed_bytes > r->file_size ||
        r->unpacked_bytes / MAX_EXPANSION > r->packed_bytes)
        return cy_fail(r->err, CY_ERR_FORMAT,
                       "%s: record %s would unpack to more than the file can hold (overlapping records or a zip bomb)",
                       r->path, name);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return cy_fail(r->err, CY_ERR_MEMORY, "%s: out of memory for record %s", r->path, name);
    zip_file_t *zf = zip_fopen_index(r->za, (zip_uint64_t)idx, 0);
    if (!zf) {
        free(buf);
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: cannot open record %s (libzip: %s)", r->path, name,
                       zip_error_strerror(zip_get_error(r->za)));
    }
    zip_uint64_t got = 0;
    while (got < size) {
        zip_int64_t n = zip_fread(zf, buf + got, size - got);
        if (n <= 0) break;
        got += (zip_uint64_t)n;
    }
    /* One more read hits the end: libzip checks the CRC there. */
    char extra;
    zip_int64_t tail = got == size ? zip_fread(zf, &extra, 1) : -1;
    cy_status s = CY_OK;
    if (got != size || tail != 0)
        s = cy_fail(r->err, CY_ERR_FORMAT, "%s: record %s is truncated or corrupt (libzip: %s)", r->path,
                    name, zip_error_strerror(zip_file_get_error(zf)));
    zip_fclose(zf);
    if (s) { free(buf); return s; }
    *out = buf;
    if (out_len) *out_len = (size_t)size;
    return CY_OK;
}

/* torch.save before torch 1.6 (or with _use_new_zipfile_serialization=False)
 * wrote a bare pickle stream that starts with this magic number. */
static const uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

static cy_status not_zip(zreader *r, const uint8_t *head, size_t n, const char *why) {
    if (n >= sizeof legacy_magic && !memcmp(head, legacy_magic, sizeof legacy_magic))
        return cy_fail(r->err, CY_ERR_UNSUPPORTED,
                       "%s: legacy (non-zip) PyTorch checkpoint format, written by torch < 1.6 or with "
                       "_use_new_zipfile_serialization=False: not supported; load and save it again with a "
                       "current torch",
                       r->path);
    if (n >= 2 && head[0] == 0x80 && head[1] <= 5)
        return cy_fail(r->err, CY_ERR_UNSUPPORTED,
                       "%s: a bare pickle, not a PyTorch zip checkpoint: not supported", r->path);
    return cy_fail(r->err, CY_ERR_FORMAT, "%s: not a PyTorch zip checkpoint (libzip: %s)", r->path, why);
}

/* Opens src as the zip archive, which then owns it (freed here on failure). */
static cy_status open_source(zreader *r, zip_source_t *src, const uint8_t *head, size_t head_len) {
    zip_error_t ze;
    zip_error_init(&ze);
    r->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (!r->za) {
        int code = zip_error_code_zip(&ze);
        zip_source_free(src);
        cy_status s = (code == ZIP_ER_OPEN || code == ZIP_ER_READ || code == ZIP_ER_MEMORY)
                          ? cy_fail(r->err, code == ZIP_ER_MEMORY ? CY_ERR_MEMORY : CY_ERR_IO,
                                    "%s: cannot open: %s", r->path, zip_error_strerror(&ze))
                          : not_zip(r, head, head_len, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return s;
    }
    zip_error_fini(&ze);
    return CY_OK;
}

static cy_status find_prefix(zreader *r) {
    zip_int64_t n = zip_get_num_entries(r->za, 0);
    const char *first = n > 0 ? zip_get_name(r->za, 0, ZIP_FL_ENC_RAW) : NULL;
    const char *slash = first ? strchr(first, '/') : NULL;
    if (!slash || slash == first || (size_t)(slash - first) >= sizeof r->prefix)
        return cy_fail(r->err, CY_ERR_FORMAT, "%s: not a PyTorch checkpoint (%s)", r->path,
                       n <= 0 ? "empty archive" : "its files are not inside one folder");
    memcpy(r->prefix, first, (size_t)(slash - first));
    r->prefix[slash - first] = 0;
    return CY_OK;
}

static cy_status open_archive(zreader *r) {
    struct stat sb;
    if (stat(r->path, &sb)) return cy_fail(r->err, CY_ERR_IO, "%s: cannot open: %s", r->path, strerror(errno));
    if (!S_ISREG(sb.st_mode)) return cy_fail(r->err, CY_ERR_IO, "%s: not a regular file", r->path);
    r->file_size = (zip_uint64_t)sb.st_size;
    uint8_t head[sizeof legacy_magic] = {0};
    size_t head_len = 0;
    FILE *f = fopen(r->path, "rb");
    if (f) {
        head_len = fread(head, 1, sizeof head, f);
        fclose(f);
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_file_create(r->path, 0, -1, &ze);
    if (!src) {
        cy_status s = cy_fail(r->err, CY_ERR_IO, "%s: cannot open: %s", r->path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return s;
    }
    zip_error_fini(&ze);
    CY_TRY(open_source(r, src, head, head_len));
    return find_prefix(r);
}

static cy_status read_archive(zreader *r, cy_pt_value **root);

cy_status cy_pt_read(const char *path, cy_pt_value **root, cy_error *err) {
    if (!root) return cy_fail(err, CY_ERR_ARG, "checkpoint read: no output");
    *root = NULL;
    if (!path || !*path) return cy_fail(err, CY_ERR_ARG, "checkpoint read: no path");
    zreader r = {.path = path, .err = err};
    cy_status s = open_archive(&r);
    if (s) {
        if (r.za) zip_discard(r.za);
        return s;
    }
    return read_archive(&r, root);
}

cy_status cy_pt_read_buffer(const void *buf, size_t len, const char *label, cy_pt_value **root, cy_error *err) {
    if (!root) return cy_fail(err, CY_ERR_ARG, "checkpoint read: no output");
    *root = NULL;
    if (!buf && len) return cy_fail(err, CY_ERR_ARG, "checkpoint read: no buffer");
    zreader r = {.path = label ? label : "checkpoint", .err = err, .file_size = len};
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(len ? buf : "", len, 0, &ze);
    zip_error_fini(&ze);
    if (!src) return cy_fail(err, CY_ERR_MEMORY, "%s: out of memory", r.path);
    size_t hl = len < sizeof legacy_magic ? len : sizeof legacy_magic;
    cy_status s = open_source(&r, src, buf, hl);
    if (!s) s = find_prefix(&r);
    if (s) {
        if (r.za) zip_discard(r.za);
        return s;
    }
    return read_archive(&r, root);
}

/* Reads data.pkl and the storages of an open archive; closes it. */
static cy_status read_archive(zreader *rp, cy_pt_value **root) {
    zreader r = *rp;
    const char *path = r.path;
    cy_error *err = r.err;
    cy_status s = CY_OK;
    uint8_t *pkl = NULL;
    size_t pkl_len = 0;
    cy_pt_value *v = NULL;
    cy_pickle_storages st = {0};

    zip_int64_t bo = locate(&r, "byteorder");
    if (bo >= 0) {
        uint8_t *b;
        size_t bl;
        s = read_entry(&r, bo, "byteorder", -1, 16, &b, &bl);
        if (s) goto done;
        int little = bl == 6 && !memcmp(b, "little", 6);
        free(b);
        if (!little) {
            s = cy_fail(err, CY_ERR_UNSUPPORTED, "%s: only little-endian checkpoints are supported", path);
            goto done;
        }
    }
    zip_int64_t pi = locate(&r, "data.pkl");
    if (pi < 0) {
        s = cy_fail(err, CY_ERR_FORMAT, "%s: no %s/data.pkl: not a PyTorch checkpoint", path, r.prefix);
        goto done;
    }
    s = read_entry(&r, pi, "data.pkl", -1, MAX_PICKLE_BYTES, &pkl, &pkl_len);
    if (s) goto done;
    char what[600];
    snprintf(what, sizeof what, "%s: data.pkl", path);
    s = cy_pickle_load(pkl, pkl_len, what, &v, &st, err);
    if (s) goto done;
    for (size_t i = 0; i < st.len; i++) {
        cy_pt_storage *so = st.items[i].s;
        char name[96];
        snprintf(name, sizeof name, "data/%s", st.items[i].key);
        zip_int64_t di = locate(&r, name);
        if (di < 0) {
            s = cy_fail(err, CY_ERR_FORMAT, "%s: the pickle refers to storage '%s', but record %s/%s is missing",
                        path, st.items[i].key, r.prefix, name);
            goto done;
        }
        int64_t bytes = so->numel * (int64_t)cy_pt_dtype_size(so->dtype);
        s = read_entry(&r, di, name, bytes, 0, &so->data, NULL);
        if (s) goto done;
    }
done:
    if (s) {
        cy_pt_value_free(v);
        v = NULL;
    }
    cy_pickle_storages_free(&st);
    free(pkl);
    if (r.za) zip_discard(r.za);
    *root = v;
    return s;
}
