/* The label cache: what a label check pass found, beside the labels folder
 * (<labels dir>.cyolo.cache, where Ultralytics keeps its <labels dir>.cache,
 * which cyolo leaves alone), in cyolo's own format:
 *
 *   "CYLABELS" u32 version u32 0x01020304 (byte order) u64 key
 *   u64 payload bytes, u64 FNV-1a of the payload, then the payload:
 *   i32 total found missing empty corrupt
 *   u32 warnings, each u32 length + bytes
 *   u32 records, each u32 length + path bytes, i32 h w n, f32 [n][5],
 *     i32 polygons p (0 or n), then when p > 0 i32 start[p + 1] and
 *     f32 [start[p]][2] points
 *
 * Version 2 added the polygons. The key hashes every image and label path
 * with its size and mtime, nc, single_cls and the segment rules; a cache with another key, version, size or checksum is
 * ignored and rebuilt. Written atomically (io/atomic.h: temporary file,
 * fsync, rename). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/dataset_internal.h"
#include "io/atomic.h"

#define CACHE_MAGIC "CYLABELS"
#define CACHE_VERSION 2u
#define CACHE_BOM 0x01020304u
#define CACHE_HEADER 40
#define CACHE_MAX ((size_t)4 << 30)

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV0 0xcbf29ce484222325ull

static uint64_t hash_file(uint64_t h, const char *path) {
    struct stat st;
    int64_t v[3] = {-1, -1, -1};
    if (stat(path, &st) == 0) {
        v[0] = (int64_t)st.st_size;
        v[1] = (int64_t)st.st_mtim.tv_sec;
        v[2] = (int64_t)st.st_mtim.tv_nsec;
    }
    h = fnv(h, path, strlen(path) + 1);
    return fnv(h, v, sizeof v);
}

uint64_t cy_label_cache_key(const cy_strlist *im, const cy_strlist *lb, int nc, int single_cls,
                            int segments) {
    uint64_t h = fnv(FNV0, CACHE_MAGIC, 8);
    int32_t head[5] = {(int32_t)CACHE_VERSION, nc, single_cls, im->n, segments};
    h = fnv(h, head, sizeof head);
    for (int i = 0; i < im->n; i++) {
        h = hash_file(h, im->v[i]);
        h = hash_file(h, lb->v[i]);
    }
    return h;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} buf;

static void put(buf *b, const void *p, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i32(buf *b, int32_t v) { put(b, &v, 4); }
static void put_str(buf *b, const char *s) {
    uint32_t n = (uint32_t)strlen(s);
    put_u32(b, n);
    put(b, s, n);
}

cy_status cy_label_cache_write(const char *path, uint64_t key, const cy_split *s, cy_error *err) {
    buf b = {0};
    int32_t counts[5] = {s->total, s->found, s->missing, s->empty, s->corrupt};
    put(&b, counts, sizeof counts);
    put_u32(&b, (uint32_t)s->warnings.n);
    for (int i = 0; i < s->warnings.n; i++) put_str(&b, s->warnings.v[i]);
    put_u32(&b, (uint32_t)s->n);
    for (int i = 0; i < s->n; i++) {
        const cy_det_record *r = &s->rec[i];
        put_str(&b, r->im_file);
        put_i32(&b, r->h);
        put_i32(&b, r->w);
        put_i32(&b, r->n);
        if (r->n) put(&b, r->labels, (size_t)r->n * 5 * sizeof(float));
        put_i32(&b, r->seg.n);
        if (r->seg.n) {
            put(&b, r->seg.start, ((size_t)r->seg.n + 1) * sizeof(int32_t));
            put(&b, r->seg.xy, (size_t)r->seg.start[r->seg.n] * 2 * sizeof(float));
        }
    }
    if (b.oom) {
        free(b.p);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory writing %s", path);
    }
    unsigned char head[CACHE_HEADER];
    uint32_t ver = CACHE_VERSION, bom = CACHE_BOM;
    uint64_t len = b.n, sum = fnv(FNV0, b.p, b.n);
    memcpy(head, CACHE_MAGIC, 8);
    memcpy(head + 8, &ver, 4);
    memcpy(head + 12, &bom, 4);
    memcpy(head + 16, &key, 8);
    memcpy(head + 24, &len, 8);
    memcpy(head + 32, &sum, 8);

    cy_atomic_file af;
    cy_status st = cy_atomic_open(&af, path, err);
    if (st == CY_OK) {
        if (fwrite(head, 1, sizeof head, af.f) != sizeof head || fwrite(b.p, 1, b.n, af.f) != b.n) {
            cy_atomic_abort(&af);
            st = cy_fail(err, CY_ERR_IO, "%s: cannot write the label cache", path);
        } else {
            st = cy_atomic_commit(&af, err);
        }
    }
    free(b.p);
    return st;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct {
    const unsigned char *p;
    size_t n, at;
    int bad;
} rd;

static void get(rd *r, void *out, size_t n) {
    if (r->bad || n > r->n - r->at) {
        r->bad = 1;
        memset(out, 0, n);
        return;
    }
    memcpy(out, r->p + r->at, n);
    r->at += n;
}
static uint32_t get_u32(rd *r) {
    uint32_t v;
    get(r, &v, 4);
    return v;
}
static char *get_str(rd *r) {
    uint32_t n = get_u32(r);
    if (r->bad || n > r->n - r->at) {
        r->bad = 1;
        return NULL;
    }
    char *s = strndup((const char *)r->p + r->at, n);
    r->at += n;
    if (!s) r->bad = 1;
    return s;
}

/* A record's polygons; anything inconsistent (a count other than 0 or n,
 * offsets that do not rise from 0, sizes past the end) is -1. */
static int get_polygons(rd *r, cy_det_record *q) {
    int32_t np;
    get(r, &np, 4);
    if (r->bad || (np != 0 && np != q->n)) return -1;
    if (!np) return 0;
    if ((size_t)np + 1 > (r->n - r->at) / 4) return -1;
    int32_t *start = malloc(((size_t)np + 1) * sizeof *start);
    if (!start) return -1;
    get(r, start, ((size_t)np + 1) * sizeof *start);
    int ok = !r->bad && start[0] == 0;
    for (int i = 0; ok && i < np; i++) ok = start[i + 1] > start[i];
    ok = ok && (size_t)start[np] <= (r->n - r->at) / 8;
    if (ok && cy_polygons_alloc(&q->seg, np, start[np], NULL) != CY_OK) ok = 0;
    if (ok) {
        memcpy(q->seg.start, start, ((size_t)np + 1) * sizeof *start);
        get(r, q->seg.xy, (size_t)start[np] * 8);
        ok = !r->bad;
    }
    free(start);
    return ok ? 0 : -1;
}

int cy_label_cache_read(const char *path, uint64_t key, cy_split *s) {
    char *data;
    size_t len;
    if (cy_read_text_file(path, CACHE_MAX, &data, &len) || len < CACHE_HEADER) {
        free(data);
        return -1;
    }
    const unsigned char *h = (const unsigned char *)data;
    uint32_t ver, bom;
    uint64_t k, plen, sum;
    memcpy(&ver, h + 8, 4);
    memcpy(&bom, h + 12, 4);
    memcpy(&k, h + 16, 8);
    memcpy(&plen, h + 24, 8);
    memcpy(&sum, h + 32, 8);
    if (memcmp(h, CACHE_MAGIC, 8) || ver != CACHE_VERSION || bom != CACHE_BOM || k != key ||
        plen != len - CACHE_HEADER || sum != fnv(FNV0, h + CACHE_HEADER, plen)) {
        free(data);
        return -1;
    }
    rd r = {.p = h + CACHE_HEADER, .n = plen};
    int32_t counts[5];
    get(&r, counts, sizeof counts);
    cy_strlist warn = {0};
    cy_det_record *rec = NULL;
    uint32_t nrec = 0, done = 0;
    uint32_t nw = get_u32(&r);
    for (uint32_t i = 0; !r.bad && i < nw; i++) {
        char *w = get_str(&r);
        if (w && cy_strlist_push(&warn, w, NULL) != CY_OK) r.bad = 1;
        free(w);
    }
    if (!r.bad) nrec = get_u32(&r);
    if (!r.bad && (nrec > (uint32_t)counts[0] || nrec > plen / 16)) r.bad = 1;
    if (!r.bad && nrec && !(rec = calloc(nrec, sizeof *rec))) r.bad = 1;
    for (; !r.bad && done < nrec; done++) {
        cy_det_record *q = &rec[done];
        q->im_file = get_str(&r);
        int32_t hwn[3];
        get(&r, hwn, sizeof hwn);
        q->h = hwn[0];
        q->w = hwn[1];
        q->n = hwn[2];
        if (r.bad || q->n < 0 || (size_t)q->n > (r.n - r.at) / 20) {
            r.bad = 1;
            done++;
            break;
        }
        if (q->n) {
            if (!(q->labels = malloc((size_t)q->n * 20))) {
                r.bad = 1;
                done++;
                break;
            }
            get(&r, q->labels, (size_t)q->n * 20);
        }
        if (get_polygons(&r, q) != 0) {
            r.bad = 1;
            done++;
            break;
        }
    }
    if (!r.bad && r.at != r.n) r.bad = 1;
    free(data);
    if (r.bad) {
        for (uint32_t i = 0; i < done; i++) {
            free(rec[i].im_file);
            free(rec[i].labels);
            cy_polygons_free(&rec[i].seg);
        }
        free(rec);
        cy_strlist_free(&warn);
        return -1;
    }
    s->total = counts[0];
    s->found = counts[1];
    s->missing = counts[2];
    s->empty = counts[3];
    s->corrupt = counts[4];
    s->rec = rec;
    s->n = (int)nrec;
    s->warnings = warn;
    return 0;
}
