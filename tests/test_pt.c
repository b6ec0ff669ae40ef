/* .pt checkpoints: round trip of a cyolo-style checkpoint, the exact zip
 * layout, reading files made by real torch.save (tests/fixtures/pt, made by
 * tools/refgen/make_pt_fixtures.py with torch 1.13 and 2.x), and hostile
 * input: truncated or corrupt archives, forbidden globals, absurd sizes,
 * deep nesting, recursion. Set CYOLO_PT_OUT=dir to keep the written files
 * for `make_pt_fixtures.py --check`. */
#include "io/pickle.h"
#include "io/pt.h"
#include "test_util.h"
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define T(expr) CHECK((expr) == CY_OK, "%s -> %s", #expr, err.msg)

static cy_error err;
static char tmpdir[256];

static float ramp_f(int i) { return (float)(i % 17) * 0.125f - 1.0f; }

static uint16_t f32_to_f16_exact(float f) { /* values of ramp_f only: normal or zero */
    uint32_t b;
    memcpy(&b, &f, 4);
    uint16_t sign = (uint16_t)((b >> 16) & 0x8000);
    if ((b & 0x7fffffff) == 0) return sign;
    int e = (int)((b >> 23) & 0xff) - 127 + 15;
    return (uint16_t)(sign | (e << 10) | ((b >> 13) & 0x3ff));
}

static cy_pt_value *ramp_tensor(cy_pt_dtype dt, int ndim, const int64_t *shape, float scale, float add) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    uint8_t buf[4096];
    for (int64_t i = 0; i < n; i++) {
        float v = ramp_f((int)i) * scale + add;
        if (dt == CY_PT_DT_F32) memcpy(buf + 4 * i, &v, 4);
        else if (dt == CY_PT_DT_F16) { uint16_t h = f32_to_f16_exact(v); memcpy(buf + 2 * i, &h, 2); }
        else if (dt == CY_PT_DT_BF16) { uint32_t b; memcpy(&b, &v, 4); uint16_t h = (uint16_t)(b >> 16); memcpy(buf + 2 * i, &h, 2); }
    }
    cy_pt_value *t = NULL;
    T(cy_pt_tensor_new(&t, dt, ndim, shape, buf, &err));
    return t;
}

static void set(cy_pt_value *d, const char *k, cy_pt_value *v) { T(cy_pt_dict_set_str(d, k, v, &err)); }

/* Mirrors expected_ckpt() in tools/refgen/make_pt_fixtures.py. */
static cy_pt_value *make_ckpt(int with_floats) {
    cy_pt_value *ck, *model, *ema, *opt, *state, *s0, *groups, *g0, *params, *args, *names, *tup, *inner, *v;
    T(cy_pt_dict_new(&ck, 0, &err));
    T(cy_pt_dict_put_int(ck, "epoch", 3, &err));
    if (with_floats) T(cy_pt_dict_put_float(ck, "best_fitness", 0.5, &err));
    T(cy_pt_dict_new(&model, 1, &err));
    cy_pt_value *conv = ramp_tensor(CY_PT_DT_F32, 4, (int64_t[]){4, 3, 3, 3}, 1, 0);
    set(model, "model.0.conv.weight", conv);
    set(model, "model.0.bn.weight", ramp_tensor(CY_PT_DT_F32, 1, (int64_t[]){4}, 1, 0));
    set(model, "model.0.bn.bias", ramp_tensor(CY_PT_DT_F32, 1, (int64_t[]){4}, 0.5f, 0));
    set(model, "model.0.bn.running_mean", ramp_tensor(CY_PT_DT_F32, 1, (int64_t[]){4}, 1, 0));
    set(model, "model.0.bn.running_var", ramp_tensor(CY_PT_DT_F32, 1, (int64_t[]){4}, 1, 2));
    int64_t nbt = 7;
    T(cy_pt_tensor_new(&v, CY_PT_DT_I64, 0, NULL, &nbt, &err));
    set(model, "model.0.bn.num_batches_tracked", v);
    set(ck, "model", model);
    T(cy_pt_dict_new(&ema, 1, &err));
    set(ema, "model.0.conv.weight", ramp_tensor(CY_PT_DT_F16, 4, (int64_t[]){4, 3, 3, 3}, 1, 0));
    set(ck, "ema", ema);
    T(cy_pt_dict_put_int(ck, "updates", 10, &err));
    T(cy_pt_dict_new(&opt, 0, &err));
    T(cy_pt_dict_new(&state, 0, &err));
    T(cy_pt_dict_new(&s0, 0, &err));
    set(s0, "momentum_buffer", ramp_tensor(CY_PT_DT_F32, 1, (int64_t[]){4}, 1, 0));
    T(cy_pt_dict_set_intkey(state, 0, s0, &err));
    set(opt, "state", state);
    T(cy_pt_list_new(&groups, &err));
    T(cy_pt_dict_new(&g0, 0, &err));
    T(cy_pt_list_new(&params, &err));
    T(cy_pt_int_new(&v, 0, &err));
    T(cy_pt_append(params, v, &err));
    set(g0, "params", params);
    T(cy_pt_dict_put_bool(g0, "nesterov", 1, &err));
    if (with_floats) T(cy_pt_dict_put_float(g0, "lr", 0.01, &err));
    T(cy_pt_append(groups, g0, &err));
    set(opt, "param_groups", groups);
    set(ck, "optimizer", opt);
    T(cy_pt_dict_new(&args, 0, &err));
    T(cy_pt_dict_put_str(args, "model", "yolo26n.yaml", &err));
    T(cy_pt_dict_put_str(args, "data", "coco8.yaml", &err));
    T(cy_pt_dict_put_int(args, "epochs", 100, &err));
    T(cy_pt_dict_put_int(args, "imgsz", 640, &err));
    T(cy_pt_dict_put_none(args, "device", &err));
    T(cy_pt_dict_put_bool(args, "amp", 1, &err));
    T(cy_pt_dict_put_str(args, "name", "train", &err));
    if (with_floats) T(cy_pt_dict_put_float(args, "lr0", 0.01, &err));
    set(ck, "train_args", args);
    if (with_floats) {
        cy_pt_value *tm;
        T(cy_pt_dict_new(&tm, 0, &err));
        T(cy_pt_dict_put_float(tm, "metrics/mAP50(B)", 0.25, &err));
        T(cy_pt_dict_put_float(tm, "fitness", INFINITY, &err));
        set(ck, "train_metrics", tm);
    }
    T(cy_pt_dict_put_str(ck, "date", "2025-01-01T00:00:00", &err));
    T(cy_pt_dict_put_str(ck, "version", "8.3.0", &err));
    T(cy_pt_dict_new(&names, 0, &err));
    T(cy_pt_str_new(&v, "a", &err));
    T(cy_pt_dict_set_intkey(names, 0, v, &err));
    T(cy_pt_str_new(&v, "b", &err));
    T(cy_pt_dict_set_intkey(names, 1, v, &err));
    set(ck, "names", names);
    T(cy_pt_dict_put_int(ck, "big", INT64_C(1) << 40, &err));
    T(cy_pt_dict_put_int(ck, "neg", -5, &err));
    T(cy_pt_dict_put_str(ck, "unicode", "h\xc3\xa9llo \xe2\x9c\x93", &err));
    T(cy_pt_tuple_new(&tup, &err));
    T(cy_pt_int_new(&v, 1, &err)); T(cy_pt_append(tup, v, &err));
    T(cy_pt_str_new(&v, "x", &err)); T(cy_pt_append(tup, v, &err));
    T(cy_pt_none_new(&v, &err)); T(cy_pt_append(tup, v, &err));
    T(cy_pt_tuple_new(&inner, &err));
    T(cy_pt_int_new(&v, 2, &err)); T(cy_pt_append(inner, v, &err));
    T(cy_pt_int_new(&v, 3, &err)); T(cy_pt_append(inner, v, &err));
    T(cy_pt_append(tup, inner, &err));
    set(ck, "tuple", tup);
    set(ck, "bf16", ramp_tensor(CY_PT_DT_BF16, 2, (int64_t[]){2, 2}, 1, 0));
    /* conv.view(4, 27).t()[1:20:3]: shape (7, 4), stride (3, 27), offset 1 */
    T(cy_pt_tensor_view(&v, conv, 2, (int64_t[]){7, 4}, (int64_t[]){3, 27}, 1, &err));
    set(ck, "view", v);
    T(cy_pt_tensor_new(&v, CY_PT_DT_F32, 2, (int64_t[]){0, 3}, NULL, &err));
    set(ck, "empty", v);
    return ck;
}

static void path_in_tmp(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static uint8_t *slurp(const char *p, size_t *n) {
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}
static void spit(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

static uint32_t le32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Walks the local headers: names, stored, 64-aligned, "FB" padding. */
static void check_layout(const char *p) {
    size_t n;
    uint8_t *b = slurp(p, &n);
    const char *want[] = {"last/data.pkl", "last/.format_version", "last/.storage_alignment",
                          "last/byteorder", "last/data/0", NULL};
    size_t off = 0;
    int i = 0, ndata = 0, has_version = 0;
    while (off + 30 <= n && le32(b + off) == 0x04034b50) {
        uint16_t flags = le16(b + off + 6), method = le16(b + off + 8);
        uint32_t csize = le32(b + off + 18);
        uint16_t nl = le16(b + off + 26), el = le16(b + off + 28);
        char name[128] = {0};
        memcpy(name, b + off + 30, nl < 127 ? nl : 127);
        size_t data = off + 30 + nl + el;
        CHECK(method == 0, "%s compressed", name);
        CHECK(data % 64 == 0, "%s data at %zu, not 64-aligned", name, data);
        CHECK(el >= 4 && b[off + 30 + nl] == 'F' && b[off + 31 + nl] == 'B', "%s: no FB pad", name);
        CHECK(!(flags & 8), "%s: data descriptor", name);
        if (want[i]) { CHECK(!strcmp(name, want[i]), "record %d is %s, want %s", i, name, want[i]); i++; }
        if (!strncmp(name, "last/data/", 10)) ndata++;
        if (!strcmp(name, "last/version")) {
            has_version = 1;
            CHECK(csize == 2 && !memcmp(b + data, "3\n", 2), "version record");
        }
        if (!strcmp(name, "last/byteorder")) CHECK(csize == 6 && !memcmp(b + data, "little", 6), "byteorder");
        off = data + csize;
    }
    CHECK(i == 5, "saw %d of the leading records", i);
    CHECK(ndata == 10, "%d storages, want 10 (view shares the conv's)", ndata);
    CHECK(has_version, "no version record");
    free(b);
}

static void test_round_trip(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "last.pt");
    cy_pt_value *ck = make_ckpt(1), *back = NULL;
    T(cy_pt_write(p, ck, &err));
    T(cy_pt_read(p, &back, &err));
    CHECK(cy_pt_equal(ck, back), "round trip differs");
    check_layout(p);
    int64_t e = 0;
    double bf = 0;
    const char *date = NULL;
    T(cy_pt_get_int(back, "epoch", &e, &err));
    T(cy_pt_get_float(back, "best_fitness", &bf, &err));
    T(cy_pt_get_str(back, "date", &date, &err));
    CHECK(e == 3 && bf == 0.5 && date && !strcmp(date, "2025-01-01T00:00:00"), "getters");
    CHECK(cy_pt_get_int(back, "nope", &e, &err) == CY_ERR_FORMAT && strstr(err.msg, "'nope'"), "%s", err.msg);
    CHECK(cy_pt_get_str(back, "epoch", &date, &err) == CY_ERR_FORMAT && strstr(err.msg, "is a int"), "%s", err.msg);
    const cy_pt_value *model = cy_pt_dict_find(back, "model");
    CHECK(model && model->kind == CY_PT_DICT && model->u.dict.ordered, "model is an OrderedDict");
    const cy_pt_value *nbt = cy_pt_dict_find(model, "model.0.bn.num_batches_tracked");
    CHECK(nbt && nbt->kind == CY_PT_TENSOR && nbt->u.tensor.ndim == 0 && nbt->u.tensor.dtype == CY_PT_DT_I64 &&
              *(const int64_t *)cy_pt_tensor_data(nbt) == 7, "num_batches_tracked");
    const cy_pt_value *names = cy_pt_dict_find(back, "names");
    const cy_pt_value *b1 = cy_pt_dict_find_int(names, 1);
    CHECK(b1 && b1->kind == CY_PT_STR && !strcmp(b1->u.str.s, "b"), "names[1]");
    /* the view still shares the conv weight's storage */
    const cy_pt_value *view = cy_pt_dict_find(back, "view");
    const cy_pt_value *conv = cy_pt_dict_find(model, "model.0.conv.weight");
    CHECK(view && conv && view->u.tensor.storage == conv->u.tensor.storage, "view shares storage");
    CHECK(!cy_pt_tensor_is_contiguous(view) && cy_pt_tensor_data(view) == NULL, "view is strided");
    float vf[28];
    T(cy_pt_tensor_to_f32(view, vf, 28, &err));
    CHECK(vf[0] == ramp_f(1) && vf[1] == ramp_f(28) && vf[4] == ramp_f(4), "view elements");
    const cy_pt_value *h = cy_pt_dict_find(cy_pt_dict_find(back, "ema"), "model.0.conv.weight");
    float hf[108];
    T(cy_pt_tensor_to_f32(h, hf, 108, &err));
    int hok = 1;
    for (int i = 0; i < 108; i++) hok &= hf[i] == ramp_f(i);
    CHECK(hok, "float16 ema converts back");

    const char *keep = getenv("CYOLO_PT_OUT");
    if (keep) {
        char k[512];
        snprintf(k, sizeof k, "%s/ckpt.pt", keep);
        T(cy_pt_write(k, ck, &err));
        cy_pt_value *nf = make_ckpt(0);
        snprintf(k, sizeof k, "%s/ckpt_nofloat.pt", keep);
        T(cy_pt_write(k, nf, &err));
        cy_pt_value_free(nf);
    }
    /* deterministic: the same tree gives the same bytes */
    char p2[512];
    path_in_tmp(p2, sizeof p2, "last2.pt");
    mkdir(p2, 0755); /* same basename "last" needs another folder */
    strcat(p2, "/last.pt");
    T(cy_pt_write(p2, ck, &err));
    size_t n1, n2;
    uint8_t *x1 = slurp(p, &n1), *x2 = slurp(p2, &n2);
    CHECK(x1 && x2 && n1 == n2 && !memcmp(x1, x2, n1), "output is deterministic");
    free(x1);
    free(x2);
    cy_pt_value_free(back);
    cy_pt_value_free(ck);
}

static void test_atomic(void) {
    char p[512];
    path_in_tmp(p, sizeof p, "atomic.pt");
    cy_pt_value *a, *bad, *back = NULL;
    T(cy_pt_dict_new(&a, 0, &err));
    T(cy_pt_dict_put_int(a, "epoch", 1, &err));
    T(cy_pt_write(p, a, &err));
    T(cy_pt_dict_new(&bad, 0, &err));
    T(cy_pt_dict_put_str(bad, "s", "ok", &err));
    cy_pt_value *s = (cy_pt_value *)cy_pt_dict_find(bad, "s");
    s->u.str.s[0] = (char)0xff; /* invalid UTF-8 sneaked past the constructor */
    CHECK(cy_pt_write(p, bad, &err) == CY_ERR_ARG, "bad tree refused: %s", err.msg);
    T(cy_pt_read(p, &back, &err));
    CHECK(back && cy_pt_equal(a, back), "failed write left the old file intact");
    cy_pt_value_free(back);
    DIR *d = opendir(tmpdir);
    int leftovers = 0;
    for (struct dirent *e; d && (e = readdir(d));) leftovers += strstr(e->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    CHECK(leftovers == 0, "%d temporary files left", leftovers);
    CHECK(cy_pt_write("/nonexistent-dir-cyolo/x.pt", a, &err) == CY_ERR_IO &&
              strstr(err.msg, "/nonexistent-dir-cyolo/x.pt"), "%s", err.msg);
    /* API ownership rules */
    cy_pt_value *l, *l2, *v;
    T(cy_pt_list_new(&l, &err));
    T(cy_pt_list_new(&l2, &err));
    T(cy_pt_append(l, l2, &err));
    CHECK(cy_pt_append(l2, l, &err) == CY_ERR_ARG, "cycle refused");
    CHECK(cy_pt_append(l, l2, &err) == CY_ERR_ARG, "second parent refused");
    T(cy_pt_int_new(&v, 1, &err));
    CHECK(cy_pt_dict_set(a, v, v, &err) == CY_ERR_ARG, "key == value refused");
    cy_pt_value_free(v);
    cy_pt_value *deep = l2;
    int depth_ok = 1;
    for (int i = 0; i < CY_PT_MAX_DEPTH + 5; i++) {
        cy_pt_value *n;
        T(cy_pt_list_new(&n, &err));
        if (cy_pt_append(deep, n, &err)) { cy_pt_value_free(n); depth_ok = 0; break; }
        deep = n;
    }
    CHECK(!depth_ok && strstr(err.msg, "deep"), "depth limit: %s", err.msg);
    cy_pt_value_free(l);
    cy_pt_value_free(a);
    cy_pt_value_free(bad);
}

static cy_pt_value *read_fixture(const char *name) {
    char p[256];
    snprintf(p, sizeof p, "tests/fixtures/pt/%s", name);
    cy_pt_value *v = NULL;
    T(cy_pt_read(p, &v, &err));
    return v;
}

static int tensor_is(const cy_pt_value *t, cy_pt_dtype dt, int ndim, const int64_t *shape) {
    if (!t || t->kind != CY_PT_TENSOR || t->u.tensor.dtype != dt || t->u.tensor.ndim != ndim) return 0;
    for (int d = 0; d < ndim; d++) if (t->u.tensor.shape[d] != shape[d]) return 0;
    return 1;
}

static int ramp_matches(const cy_pt_value *t, int64_t n, float scale, float add) {
    float *f = malloc((size_t)n * 4 + 4);
    int ok = cy_pt_tensor_to_f32(t, f, (size_t)n, NULL) == CY_OK;
    for (int64_t i = 0; ok && i < n; i++) ok = f[i] == ramp_f((int)i) * scale + add;
    free(f);
    return ok;
}

static void test_fixtures(const char *tag) {
    char n[64];
    snprintf(n, sizeof n, "%s_state_dict.pt", tag);
    cy_pt_value *sd = read_fixture(n);
    if (sd) {
        CHECK(sd->kind == CY_PT_DICT && sd->u.dict.ordered && sd->u.dict.len == 6, "%s state_dict", tag);
        const char *keys[] = {"0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"};
        for (int i = 0; i < 6 && i < (int)sd->u.dict.len; i++)
            CHECK(!strcmp(sd->u.dict.keys[i]->u.str.s, keys[i]), "%s key %d", tag, i);
        CHECK(tensor_is(cy_pt_dict_find(sd, "0.weight"), CY_PT_DT_F32, 4, (int64_t[]){4, 3, 3, 3}) &&
                  ramp_matches(cy_pt_dict_find(sd, "0.weight"), 108, 1, 0), "%s conv weight", tag);
        const cy_pt_value *nbt = cy_pt_dict_find(sd, "1.num_batches_tracked");
        CHECK(tensor_is(nbt, CY_PT_DT_I64, 0, NULL) && *(const int64_t *)cy_pt_tensor_data(nbt) == 7, "%s nbt", tag);
        /* and it writes back out and reads the same */
        char p[512];
        path_in_tmp(p, sizeof p, "resaved.pt");
        cy_pt_value *again = NULL;
        T(cy_pt_write(p, sd, &err));
        T(cy_pt_read(p, &again, &err));
        CHECK(cy_pt_equal(sd, again), "%s state_dict re-saved", tag);
        cy_pt_value_free(again);
    }
    cy_pt_value_free(sd);

    snprintf(n, sizeof n, "%s_nested.pt", tag);
    cy_pt_value *ne = read_fixture(n);
    if (ne) {
        const cy_pt_value *ints = cy_pt_dict_find(ne, "ints");
        const int64_t want[] = {0, 1, 255, 256, 65535, 65536, -1, -129, INT32_MAX, INT32_MIN,
                                INT64_C(1) << 40, -(INT64_C(1) << 40), INT64_MAX, INT64_MIN};
        int ok = ints && ints->kind == CY_PT_LIST && ints->u.seq.len == 14;
        for (int i = 0; ok && i < 14; i++) ok = ints->u.seq.items[i]->kind == CY_PT_INT && ints->u.seq.items[i]->u.i == want[i];
        CHECK(ok, "%s ints", tag);
        const cy_pt_value *fl = cy_pt_dict_find(ne, "floats");
        ok = fl && fl->u.seq.len == 5 && fl->u.seq.items[0]->u.f == 0.5 && signbit(fl->u.seq.items[1]->u.f) &&
             fl->u.seq.items[2]->u.f == 1e300 && isinf(fl->u.seq.items[3]->u.f) && fl->u.seq.items[4]->u.f == -2.25;
        CHECK(ok, "%s floats", tag);
        const cy_pt_value *m = cy_pt_dict_find(ne, "misc");
        ok = m && m->u.seq.len == 5 && m->u.seq.items[0]->kind == CY_PT_NONE && m->u.seq.items[1]->kind == CY_PT_BOOL &&
             m->u.seq.items[1]->u.b == 1 && m->u.seq.items[2]->u.b == 0 && m->u.seq.items[3]->u.str.len == 0 &&
             !strcmp(m->u.seq.items[4]->u.str.s, "h\xc3\xa9llo \xe2\x9c\x93");
        CHECK(ok, "%s misc", tag);
        const cy_pt_value *t = cy_pt_dict_find(ne, "tuple");
        ok = t && t->kind == CY_PT_TUPLE && t->u.seq.len == 6 && t->u.seq.items[2]->kind == CY_PT_TUPLE &&
             t->u.seq.items[3]->u.seq.len == 0 && t->u.seq.items[5]->u.seq.len == 4;
        CHECK(ok, "%s tuple", tag);
        const cy_pt_value *a = cy_pt_dict_find(ne, "shared_a"), *b = cy_pt_dict_find(ne, "shared_b");
        CHECK(a && b && a != b && cy_pt_equal(a, b) && a->u.seq.len == 2, "%s shared list read as two equal lists", tag);
        const cy_pt_value *od = cy_pt_dict_find(ne, "od");
        CHECK(od && od->u.dict.ordered && !strcmp(od->u.dict.keys[0]->u.str.s, "z"), "%s ordered dict order", tag);
        const cy_pt_value *nm = cy_pt_dict_find(ne, "names");
        CHECK(nm && !nm->u.dict.ordered && !strcmp(cy_pt_dict_find_int(nm, 0)->u.str.s, "a"), "%s names", tag);
    }
    cy_pt_value_free(ne);

    snprintf(n, sizeof n, "%s_dtypes.pt", tag);
    cy_pt_value *dt = read_fixture(n);
    if (dt) {
        CHECK(tensor_is(cy_pt_dict_find(dt, "f16"), CY_PT_DT_F16, 2, (int64_t[]){3, 2}) &&
                  ramp_matches(cy_pt_dict_find(dt, "f16"), 6, 1, 0), "%s f16", tag);
        CHECK(tensor_is(cy_pt_dict_find(dt, "bf16"), CY_PT_DT_BF16, 1, (int64_t[]){4}) &&
                  ramp_matches(cy_pt_dict_find(dt, "bf16"), 4, 1, 0), "%s bf16", tag);
        CHECK(ramp_matches(cy_pt_dict_find(dt, "f64"), 3, 1, 0), "%s f64", tag);
        const cy_pt_value *i64 = cy_pt_dict_find(dt, "i64");
        const int64_t *q = i64 ? cy_pt_tensor_data(i64) : NULL;
        CHECK(q && q[0] == 0 && q[1] == -1 && q[2] == INT64_C(1) << 40 && q[3] == -(INT64_C(1) << 62), "%s i64", tag);
        const cy_pt_value *u8 = cy_pt_dict_find(dt, "u8");
        const uint8_t *u = u8 ? cy_pt_tensor_data(u8) : NULL;
        CHECK(u8 && u8->u.tensor.dtype == CY_PT_DT_U8 && u[1] == 200, "%s u8", tag);
        CHECK(cy_pt_dict_find(dt, "bool")->u.tensor.dtype == CY_PT_DT_BOOL, "%s bool", tag);
        CHECK(cy_pt_dict_find(dt, "i8")->u.tensor.dtype == CY_PT_DT_I8, "%s i8", tag);
        CHECK(cy_pt_dict_find(dt, "i16")->u.tensor.dtype == CY_PT_DT_I16, "%s i16", tag);
        CHECK(cy_pt_dict_find(dt, "i32")->u.tensor.dtype == CY_PT_DT_I32, "%s i32", tag);
        CHECK(tensor_is(cy_pt_dict_find(dt, "scalar"), CY_PT_DT_I64, 0, NULL), "%s scalar", tag);
        CHECK(tensor_is(cy_pt_dict_find(dt, "empty"), CY_PT_DT_F32, 2, (int64_t[]){0, 3}), "%s empty", tag);
    }
    cy_pt_value_free(dt);

    snprintf(n, sizeof n, "%s_views.pt", tag);
    cy_pt_value *vw = read_fixture(n);
    if (vw) {
        const cy_pt_value *base = cy_pt_dict_find(vw, "base"), *tr = cy_pt_dict_find(vw, "t"),
                          *blk = cy_pt_dict_find(vw, "block"), *row = cy_pt_dict_find(vw, "row"),
                          *stp = cy_pt_dict_find(vw, "step");
        CHECK(base && tr && blk && row && stp, "%s views present", tag);
        if (base && tr && blk && row && stp) {
            CHECK(tr->u.tensor.storage == base->u.tensor.storage && blk->u.tensor.storage == base->u.tensor.storage,
                  "%s views share one storage", tag);
            float f[24];
            T(cy_pt_tensor_to_f32(tr, f, 24, &err));
            CHECK(f[1] == ramp_f(6) && f[4] == ramp_f(1), "%s transpose", tag);
            T(cy_pt_tensor_to_f32(blk, f, 6, &err));
            CHECK(blk->u.tensor.offset == 8 && f[0] == ramp_f(8) && f[3] == ramp_f(14), "%s block", tag);
            T(cy_pt_tensor_to_f32(row, f, 6, &err));
            CHECK(row->u.tensor.offset == 12 && f[5] == ramp_f(17), "%s row", tag);
            T(cy_pt_tensor_to_f32(stp, f, 12, &err));
            CHECK(f[1] == ramp_f(2) && f[3] == ramp_f(6), "%s step", tag);
            char p[512];
            path_in_tmp(p, sizeof p, "views.pt");
            cy_pt_value *again = NULL;
            T(cy_pt_write(p, vw, &err));
            T(cy_pt_read(p, &again, &err));
            CHECK(again && cy_pt_equal(vw, again) &&
                      cy_pt_dict_find(again, "t")->u.tensor.storage == cy_pt_dict_find(again, "base")->u.tensor.storage,
                  "%s views re-saved, still shared", tag);
            cy_pt_value_free(again);
        }
    }
    cy_pt_value_free(vw);
}

/* What cyolo wrote, read by torch.load(weights_only=True) and saved again
 * (tools/refgen/make_pt_fixtures.py --resave): torch's restricted loader
 * accepted the file and got exactly these values. */
static void test_torch_resaved(void) {
    cy_pt_value *t1 = read_fixture("t1_resaved_nofloat.pt"), *t2 = read_fixture("t2_resaved.pt");
    cy_pt_value *nf = make_ckpt(0), *wf = make_ckpt(1);
    CHECK(t1 && cy_pt_equal(t1, nf), "torch 1.13 weights_only re-save equals what cyolo wrote");
    CHECK(t2 && cy_pt_equal(t2, wf), "torch 2.x weights_only re-save equals what cyolo wrote");
    const cy_pt_value *view = cy_pt_dict_find(t2, "view"), *model = cy_pt_dict_find(t2, "model");
    const cy_pt_value *conv = cy_pt_dict_find(model, "model.0.conv.weight");
    CHECK(view && conv && view->u.tensor.storage == conv->u.tensor.storage && view->u.tensor.offset == 1,
          "torch kept the view on the conv weight's storage");
    cy_pt_value_free(t1);
    cy_pt_value_free(t2);
    cy_pt_value_free(nf);
    cy_pt_value_free(wf);
}

/* ---- hostile input ---- */

static cy_status load_bytes(const char *b, size_t n, cy_pt_value **out) {
    cy_pickle_storages st = {0};
    cy_status s = cy_pickle_load((const uint8_t *)b, n, "hostile: data.pkl", out, &st, &err);
    cy_pickle_storages_free(&st);
    return s;
}
#define LOAD(lit, out) load_bytes(lit, sizeof(lit) - 1, out)

static void write_zip(const char *path, const char *name, const void *data, size_t n) {
    int e;
    unlink(path);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
    zip_source_t *s = zip_source_buffer(z, data, n, 0);
    zip_file_add(z, name, s, 0);
    zip_close(z);
}

static void test_hostile_pickles(void) {
    cy_pt_value *v = NULL;
    cy_status s;
    s = LOAD("\x80\x02" "cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.", &v);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "os.system, which is not allowed"), "%s", err.msg);
    s = LOAD("\x80\x02" "cbuiltins\neval\n.", &v);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "builtins.eval"), "%s", err.msg);
    s = LOAD("\x80\x04\x8c\x02os\x8c\x06system\x93.", &v); /* STACK_GLOBAL */
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "os.system"), "%s", err.msg);
    s = LOAD("\x80\x02" "ctorch\nFloatStorage\n)R.", &v); /* calling a class */
    CHECK(s == CY_ERR_UNSUPPORTED, "%s", err.msg);
    s = LOAD("\x80\x02" "ccollections\nOrderedDict\n)\x81.", &v); /* NEWOBJ */
    CHECK(s == CY_ERR_UNSUPPORTED, "%s", err.msg);
    s = LOAD("\x80\x02]}b.", &v); /* BUILD on a list */
    CHECK(s == CY_ERR_UNSUPPORTED, "%s", err.msg);
    s = LOAD("\x80\x02" "ccollections\nOrderedDict\n.", &v); /* a bare class as the result */
    CHECK(s == CY_ERR_UNSUPPORTED, "%s", err.msg);
    s = LOAD("\x80\x02X\xf0\xff\xff\x0f" "abc.", &v); /* string longer than the pickle */
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "ends early"), "%s", err.msg);
    s = LOAD("\x80\x02Nr\xff\xff\xff\xff.", &v); /* memo index 4G */
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "memo"), "%s", err.msg);
    s = LOAD("\x80\x02h\x05.", &v);
    CHECK(s == CY_ERR_FORMAT, "%s", err.msg);
    s = LOAD("\x80\x02" "a.", &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "empty stack"), "%s", err.msg);
    s = LOAD("\x80\x02}K\x01", &v); /* no STOP */
    CHECK(s == CY_ERR_FORMAT, "%s", err.msg);
    s = LOAD("\x80\x02]q\x00h\x00" "a.", &v); /* list containing itself */
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "recursive"), "%s", err.msg);
    s = LOAD("\x80\x02\xff.", &v);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "0xff"), "%s", err.msg);
    s = LOAD("\x80\x02X\x02\x00\x00\x00\xc3\x28.", &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "UTF-8"), "%s", err.msg);
    s = LOAD("\x80\x02}]K\x01s.", &v); /* list as dict key */
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "key"), "%s", err.msg);
    /* a memo'd list placed twice becomes two equal lists */
    s = LOAD("\x80\x02}(X\x01\x00\x00\x00x]q\x00K\x01" "aX\x01\x00\x00\x00yh\x00u.", &v);
    CHECK(s == CY_OK && v && cy_pt_equal(cy_pt_dict_find(v, "x"), cy_pt_dict_find(v, "y")), "%s", err.msg);
    cy_pt_value_free(v);
    v = NULL;
    /* deep nesting: 100000 lists each appended into the one before */
    size_t n = 200000 + 4;
    char *b = malloc(n);
    b[0] = (char)0x80;
    b[1] = 2;
    for (size_t i = 0; i < 100000; i++) b[2 + i] = ']';
    for (size_t i = 0; i < 99999; i++) b[100002 + i] = 'a';
    b[200001] = '.';
    s = load_bytes(b, 200002, &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "deeper"), "%s", err.msg);
    /* deep tuples: TUPLE1 around TUPLE1 ... */
    b[2] = 'N';
    for (size_t i = 3; i < 100003; i++) b[i] = (char)0x85;
    b[100003] = '.';
    s = load_bytes(b, 100004, &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "deeper"), "%s", err.msg);
    /* a million MARKs */
    memset(b + 2, '(', 150000);
    b[150002] = '.';
    s = load_bytes(b, 150003, &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "MARK"), "%s", err.msg);
    /* exponential sharing: [x, x] where x = the previous list, 40 times */
    size_t o = 0;
    memcpy(b + o, "\x80\x02]q\x00", 5);
    o += 5;
    for (int i = 0; i < 40; i++) {
        memcpy(b + o, "](h\x00h\x00" "eq\x00", 9);
        o += 9;
    }
    b[o++] = '.';
    {
        cy_pickle_storages st = {0};
        s = cy_pickle_load_limited((const uint8_t *)b, o, "hostile", 20000, &v, &st, &err);
        cy_pickle_storages_free(&st);
    }
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "too many values"), "%s", err.msg);
    free(b);
    CHECK(v == NULL, "no result on failure");

    /* tensors: storage numel absurd, view outside storage */
    const char tens_hdr[] = "\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
                            "X\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpu";
    char t[512];
    size_t tl = sizeof tens_hdr - 1;
    memcpy(t, tens_hdr, tl);
    const char huge[] = "\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7ftQK\x00K\x02\x85K\x01\x85\x89}tR.";
    memcpy(t + tl, huge, sizeof huge - 1);
    s = load_bytes(t, tl + sizeof huge - 1, &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "impossible size"), "%s", err.msg);
    const char outside[] = "K\x04tQK\x03K\x02\x85K\x01\x85\x89}tR.";
    memcpy(t + tl, outside, sizeof outside - 1);
    s = load_bytes(t, tl + sizeof outside - 1, &v);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "outside its storage"), "%s", err.msg);
    const char inside[] = "K\x04tQK\x02K\x02\x85K\x01\x85\x89}tR.";
    memcpy(t + tl, inside, sizeof inside - 1);
    s = load_bytes(t, tl + sizeof inside - 1, &v);
    CHECK(s == CY_OK && v && v->kind == CY_PT_TENSOR && v->u.tensor.offset == 2, "%s", err.msg);
    cy_pt_value_free(v);
    v = NULL;

    /* the same tensor pickle in a zip whose data/0 is too short */
    char p[512];
    path_in_tmp(p, sizeof p, "short.pt");
    {
        int e;
        unlink(p);
        zip_t *z = zip_open(p, ZIP_CREATE | ZIP_TRUNCATE, &e);
        zip_file_add(z, "short/data.pkl", zip_source_buffer(z, t, tl + sizeof inside - 1, 0), 0);
        zip_file_add(z, "short/data/0", zip_source_buffer(z, "12345678", 8, 0), 0);
        zip_close(z);
    }
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "data/0") && strstr(err.msg, "short.pt"), "%s", err.msg);
    /* forbidden global inside a real archive */
    path_in_tmp(p, sizeof p, "evil.pt");
    const char evil[] = "\x80\x02" "cposix\nsystem\nX\x02\x00\x00\x00lsq\x01\x85R.";
    write_zip(p, "evil/data.pkl", evil, sizeof evil - 1);
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "evil.pt") && strstr(err.msg, "posix.system"), "%s", err.msg);
    /* no data.pkl */
    path_in_tmp(p, sizeof p, "nopkl.pt");
    write_zip(p, "nopkl/version", "3\n", 2);
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "data.pkl"), "%s", err.msg);
    /* files not in a folder */
    path_in_tmp(p, sizeof p, "flat.pt");
    write_zip(p, "data.pkl", "\x80\x02N.", 4);
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "folder"), "%s", err.msg);
    /* not a zip at all (e.g. a legacy torch file), and a missing file */
    path_in_tmp(p, sizeof p, "legacy.pt");
    spit(p, "\x80\x02\x8a\x0al\xfc\x9c" "F\xf9 j\xa8P\x19.", 16);
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_UNSUPPORTED && strstr(err.msg, "legacy.pt") && strstr(err.msg, "legacy (non-zip)") &&
              strstr(err.msg, "not supported"),
          "%s", err.msg);
    path_in_tmp(p, sizeof p, "junk.pt");
    spit(p, "hello, not a checkpoint", 23);
    s = cy_pt_read(p, &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "junk.pt: not a PyTorch zip checkpoint"), "%s", err.msg);
    /* crafted archives (tests/fuzz/make_hostile.py): nothing unpacks beyond what the file holds */
    s = cy_pt_read("tests/fuzz/regressions/zip_bomb.pt", &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "zip_bomb.pt: record data/0 would unpack to more than the file"),
          "%s", err.msg);
    s = cy_pt_read("tests/fuzz/regressions/nested_records.pt", &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "overlapping records"), "%s", err.msg);
    s = cy_pt_read("tests/fuzz/regressions/huge_storage.pt", &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "record data/0 has 8 bytes, the pickle says 4398046511104"), "%s",
          err.msg);
    s = cy_pt_read("tests/fuzz/regressions/bad_offset.pt", &v, &err);
    CHECK(s == CY_ERR_FORMAT && strstr(err.msg, "outside its storage"), "%s", err.msg);
    s = cy_pt_read("tests/fixtures/pt/does_not_exist.pt", &v, &err);
    CHECK(s == CY_ERR_IO, "%s", err.msg);
    CHECK(v == NULL, "no result on failure");
}

/* Every prefix and many single-byte corruptions of a real file must fail
 * cleanly (or, for bytes in padding, read the same). */
static void test_truncated_and_corrupt(void) {
    char p[512], q[512];
    path_in_tmp(p, sizeof p, "last.pt");
    path_in_tmp(q, sizeof q, "cut.pt");
    size_t n;
    uint8_t *b = slurp(p, &n);
    cy_pt_value *ref = NULL, *v = NULL;
    T(cy_pt_read(p, &ref, &err));
    int crashes_avoided = 0, bad_ok = 0;
    for (size_t cut = 0; cut < n; cut += 97) {
        spit(q, b, cut);
        cy_status s = cy_pt_read(q, &v, &err);
        if (s == CY_OK) { bad_ok++; cy_pt_value_free(v); }
        else crashes_avoided += (s == CY_ERR_FORMAT && strstr(err.msg, "cut.pt")) ? 1 : 0;
    }
    CHECK(bad_ok == 0 && crashes_avoided > 10, "truncations: %d read fine, %d clean errors", bad_ok, crashes_avoided);
    int differ = 0;
    for (size_t i = 0; i < n; i += 13) {
        b[i] ^= 0x5a;
        spit(q, b, n);
        b[i] ^= 0x5a;
        if (cy_pt_read(q, &v, &err) == CY_OK) {
            differ += !cy_pt_equal(ref, v);
            cy_pt_value_free(v);
        }
    }
    CHECK(differ == 0, "%d corruptions read back as different data", differ);
    cy_pt_value_free(ref);
    free(b);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cyolo_test_pt_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    test_round_trip();
    test_atomic();
    test_fixtures("t1");
    test_fixtures("t2");
    test_torch_resaved();
    test_hostile_pickles();
    test_truncated_and_corrupt();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary();
}
