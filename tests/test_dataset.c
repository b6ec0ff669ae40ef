/* The dataset layer on a small tree built in a temporary folder: dataset
 * YAML forms and their errors, image lists (folder, .txt list, YAML list),
 * img2label paths, every label edge case of verify_image_label with its
 * message, the counts, the label cache (written, reused without a rescan,
 * rebuilt when stale or corrupt), fraction and single_cls. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "data/dataset.h"
#include "io/image.h"
#include "test_ref.h"
#include "test_util.h"

static char tmp[256];

static void mkdirs(const char *path) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static const char *P(const char *fmt, ...) {
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ % 8];
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(b, 512, "%s/", tmp);
    vsnprintf(b + n, 512 - n, fmt, ap);
    va_end(ap);
    return b;
}

static void write_text(const char *path, const char *text) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    mkdirs(dir);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* A minimal 24-bit bottom-up BMP. */
static void write_bmp(const char *path, int w, int h) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = 0;
    mkdirs(dir);
    int stride = (w * 3 + 3) & ~3;
    uint32_t size = 54 + (uint32_t)(stride * h);
    uint8_t hd[54] = {'B', 'M'};
    memcpy(hd + 2, &size, 4);
    uint32_t off = 54, dib = 40, comp = 0, img = (uint32_t)(stride * h), ppm = 2835, zero = 0;
    int32_t ww = w, hh = h;
    uint16_t planes = 1, bpp = 24;
    memcpy(hd + 10, &off, 4);
    memcpy(hd + 14, &dib, 4);
    memcpy(hd + 18, &ww, 4);
    memcpy(hd + 22, &hh, 4);
    memcpy(hd + 26, &planes, 2);
    memcpy(hd + 28, &bpp, 2);
    memcpy(hd + 30, &comp, 4);
    memcpy(hd + 34, &img, 4);
    memcpy(hd + 38, &ppm, 4);
    memcpy(hd + 42, &ppm, 4);
    memcpy(hd + 46, &zero, 4);
    memcpy(hd + 50, &zero, 4);
    FILE *f = fopen(path, "wb");
    fwrite(hd, 1, 54, f);
    uint8_t *row = calloc(1, (size_t)stride);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w * 3; x++) row[x] = (uint8_t)(x * 7 + y * 13);
        fwrite(row, 1, (size_t)stride, f);
    }
    free(row);
    fclose(f);
}

static int has_warning(const cy_strlist *w, const char *a, const char *b) {
    for (int i = 0; i < w->n; i++)
        if (strstr(w->v[i], a) && (!b || strstr(w->v[i], b))) return 1;
    return 0;
}

static const cy_det_record *find_rec(const cy_split *s, const char *name) {
    for (int i = 0; i < s->n; i++) {
        const char *b = strrchr(s->rec[i].im_file, '/');
        if (b && !strcmp(b + 1, name)) return &s->rec[i];
    }
    return NULL;
}

/* ---- the tree ----------------------------------------------------------- */

static void build_tree(void) {
    /* train: one image per label case */
    write_bmp(P("ds/images/train/a.bmp"), 16, 12);
    write_text(P("ds/labels/train/a.txt"), "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n");
    write_bmp(P("ds/images/train/b.bmp"), 16, 12);
    write_text(P("ds/labels/train/b.txt"), "");                          /* empty: background */
    write_bmp(P("ds/images/train/c.bmp"), 16, 12);                       /* no label: missing */
    write_bmp(P("ds/images/train/d.bmp"), 16, 12);
    write_text(P("ds/labels/train/d.txt"), "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n"); /* 4 columns */
    write_bmp(P("ds/images/train/e.bmp"), 16, 12);
    write_text(P("ds/labels/train/e.txt"), "1 0.5 0.5 0.2 0.2\n5 0.5 0.5 0.2 0.2\n"); /* class >= nc */
    write_bmp(P("ds/images/train/f.bmp"), 16, 12);
    write_text(P("ds/labels/train/f.txt"), "0 0.5 0.5 -0.2 0.2\n");      /* negative width */
    write_bmp(P("ds/images/train/g.bmp"), 16, 12);
    write_text(P("ds/labels/train/g.txt"),
               "2 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n2 0.5 0.5 0.2 0.2\n"); /* a duplicate */
    write_text(P("ds/images/train/h.jpg"), "this is not a JPEG at all\n"); /* corrupt image */
    write_text(P("ds/labels/train/h.txt"), "0 0.5 0.5 0.2 0.2\n");
    write_bmp(P("ds/images/train/i.bmp"), 8, 8);                          /* < 10 px */
    write_bmp(P("ds/images/train/j.bmp"), 16, 12);
    write_text(P("ds/labels/train/j.txt"), "0 0.5 abc 0.1 0.1\n");       /* not a number */
    write_bmp(P("ds/images/train/sub/k.bmp"), 16, 12);                   /* nested folder */
    write_text(P("ds/labels/train/sub/k.txt"), "0 0.1 0.2 0.5 0.2 0.3 0.6\n"); /* polygon */
    write_bmp(P("ds/images/train/l.BMP"), 20, 10);                       /* suffix in capitals */
    write_text(P("ds/labels/train/l.txt"), "\n\n1 0.5 0.5 1.005 0.2\n\n"); /* within the 1% tolerance */
    write_text(P("ds/images/train/notes.txt"), "not an image");
    write_bmp(P("ds/images/train/.hidden.bmp"), 16, 12);
    /* val and a second val folder */
    write_bmp(P("ds/images/val/v1.bmp"), 16, 16);
    write_text(P("ds/labels/val/v1.txt"), "0 0.5 0.5 0.5 0.5\n");
    write_bmp(P("ds/images/val2/v2.bmp"), 16, 16);
    write_text(P("ds/labels/val2/v2.txt"), "1 0.5 0.5 0.5 0.5\n");
}

/* ---- YAML --------------------------------------------------------------- */

static cy_status load_yaml(const char *name, const char *text, cy_dataset **ds, cy_error *err,
                           const char *datasets_dir) {
    write_text(P("%s", name), text);
    cy_dataset_params dp = {.datasets_dir = datasets_dir};
    return cy_dataset_load(ds, P("%s", name), &dp, err);
}

static void test_yaml(void) {
    cy_error err = {0};
    cy_dataset *ds = NULL;
    char text[1024];

    /* absolute path, names as a list, a test split absent */
    snprintf(text, sizeof text,
             "path: %s/ds\ntrain: images/train\nval: images/val\nnames: [cat, dog, bird]\n"
             "download: https://example.com/ds.zip\n", tmp);
    cy_status st = load_yaml("d1.yaml", text, &ds, &err, NULL);
    CHECK(st == CY_OK, "list names: %s", err.msg);
    if (st == CY_OK) {
        CHECK(ds->nc == 3 && !strcmp(ds->names[2], "bird"), "nc %d", ds->nc);
        CHECK(ds->channels == 3, "channels default 3, got %d", ds->channels);
        CHECK(ds->split[CY_SPLIT_TRAIN].n == 1 && !strcmp(ds->split[CY_SPLIT_TRAIN].v[0], P("ds/images/train")),
              "train resolved to %s", ds->split[CY_SPLIT_TRAIN].n ? ds->split[CY_SPLIT_TRAIN].v[0] : "-");
        CHECK(ds->split[CY_SPLIT_TEST].n == 0, "no test split");
        CHECK(has_warning(&ds->notes, "'download' ignored", NULL), "download note");
        cy_dataset_free(ds);
    }

    /* no path (the YAML's folder), names as a dict, nc agreeing, a .txt
     * split, a list split, channels */
    write_text(P("ds/train.txt"), "./images/train/a.bmp\n./images/train/b.bmp\n"
                                  "images/train/c.bmp\nimages/train/notes.txt\n");
    st = load_yaml("ds/d2.yaml",
                   "train: train.txt\nval: [images/val, images/val2]\nnc: 2\nnames:\n  0: person\n  1: car\n"
                   "channels: 1\n", &ds, &err, NULL);
    CHECK(st == CY_OK, "dict names: %s", err.msg);
    if (st == CY_OK) {
        CHECK(ds->nc == 2 && !strcmp(ds->names[0], "person") && !strcmp(ds->names[1], "car"), "dict names");
        CHECK(ds->channels == 1, "channels 1");
        CHECK(!strcmp(ds->root, P("ds")), "root %s", ds->root);
        CHECK(ds->split[CY_SPLIT_VAL].n == 2, "two val folders");
        cy_scan_params sp = cy_scan_default_params();
        sp.prefix = "val: ";
        cy_split *s = NULL;
        st = cy_split_scan(&s, ds, "val", &sp, &err);
        CHECK(st == CY_OK && s->n == 2 && s->found == 2, "list split scan: %s", err.msg);
        cy_split_free(s);
        st = cy_split_scan(&s, ds, "train", &sp, &err);
        CHECK(st == CY_OK && s->total == 3, "txt split: 3 images (./ entries and one relative to the list), %d: %s",
              st == CY_OK ? s->total : -1, err.msg);
        if (st == CY_OK) CHECK(find_rec(s, "a.bmp") && find_rec(s, "c.bmp"), "txt split records");
        cy_split_free(s);
        cy_dataset_free(ds);
    }

    /* dict names in another order, a gap is an error */
    st = load_yaml("ds/d3.yaml", "train: images/train\nval: images/val\nnames: {1: b, 0: a}\n", &ds, &err, NULL);
    CHECK(st == CY_OK && !strcmp(ds->names[0], "a"), "dict names out of order: %s", err.msg);
    if (st == CY_OK) cy_dataset_free(ds);
    st = load_yaml("ds/d4.yaml", "train: images/train\nval: images/val\nnames: {0: a, 2: b}\n", &ds, &err, NULL);
    CHECK(st != CY_OK && strstr(err.msg, "d4.yaml") && strstr(err.msg, "2-class dataset requires class indices 0-1"),
          "names gap: %s", err.msg);
    st = load_yaml("ds/d4b.yaml", "train: images/train\nval: images/val\nnames: {0: a, 1: b, 1: c}\n", &ds, &err,
                   NULL);
    CHECK(st != CY_OK && strstr(err.msg, "d4b.yaml:3:") && strstr(err.msg, "'names' has class index 1 twice"),
          "names index twice: %s", err.msg);
    st = load_yaml("ds/d4c.yaml", "train: images/train\nval: images/val\nnames: {0: a, 1: [b, c]}\n", &ds, &err,
                   NULL);
    CHECK(st != CY_OK && strstr(err.msg, "d4c.yaml") && strstr(err.msg, "class 1: the name must be a string"),
          "names list value: %s", err.msg);

    /* only nc: class_0 ... */
    st = load_yaml("ds/d5.yaml", "train: images/train\nval: images/val\nnc: 2\n", &ds, &err, NULL);
    CHECK(st == CY_OK && ds->nc == 2 && !strcmp(ds->names[1], "class_1"), "nc only: %s", err.msg);
    if (st == CY_OK) cy_dataset_free(ds);

    /* a relative path: not in the current folder, found beside the YAML */
    st = load_yaml("cfg/d6.yaml", "path: ../ds\ntrain: images/train\nval: images/val\nnames: [a]\n", &ds, &err, NULL);
    CHECK(st == CY_OK && !strcmp(ds->root, P("ds")), "relative path beside the YAML: %s / %s", err.msg,
          st == CY_OK ? ds->root : "");
    if (st == CY_OK) cy_dataset_free(ds);
    /* ... and in datasets_dir, as Ultralytics' DATASETS_DIR */
    st = load_yaml("cfg/d7.yaml", "path: ds\ntrain: images/train\nval: images/val\nnames: [a]\n", &ds, &err, tmp);
    CHECK(st == CY_OK && !strcmp(ds->root, P("ds")), "relative path in datasets_dir: %s", err.msg);
    if (st == CY_OK) cy_dataset_free(ds);
    /* a "../" split that does not exist is retried without it */
    st = load_yaml("ds/d8.yaml", "train: ../images/train\nval: ../images/val\nnames: [a]\n", &ds, &err, NULL);
    CHECK(st == CY_OK && !strcmp(ds->split[CY_SPLIT_VAL].v[0], P("ds/images/val")), "../ retry: %s", err.msg);
    if (st == CY_OK) cy_dataset_free(ds);

    /* 'validation' is renamed to 'val', with a note */
    st = load_yaml("ds/d9.yaml", "train: images/train\nvalidation: images/val\nnames: [a]\n", &ds, &err, NULL);
    CHECK(st == CY_OK && ds->split[CY_SPLIT_VAL].n == 1 && has_warning(&ds->notes, "'validation' key to 'val'", NULL),
          "validation key: %s", err.msg);
    if (st == CY_OK) cy_dataset_free(ds);

    /* errors */
    st = load_yaml("ds/e1.yaml", "train: images/train\nval: images/nope\nnames: [a]\n", &ds, &err, NULL);
    char want[600];
    snprintf(want, sizeof want, "val: %s does not exist", P("ds/images/nope"));
    CHECK(st == CY_ERR_IO && strstr(err.msg, want) && strstr(err.msg, "e1.yaml"), "missing val: %s", err.msg);
    st = load_yaml("ds/e2.yaml", "train: images/train\nnames: [a]\n", &ds, &err, NULL);
    CHECK(st == CY_ERR_FORMAT && strstr(err.msg, "e2.yaml") && strstr(err.msg, "'val:' key missing"),
          "val key missing: %s", err.msg);
    st = load_yaml("ds/e3.yaml", "train: images/train\nval: images/val\n", &ds, &err, NULL);
    CHECK(st == CY_ERR_FORMAT && strstr(err.msg, "e3.yaml") && strstr(err.msg, "either 'names' or 'nc'"),
          "names missing: %s", err.msg);
    st = load_yaml("ds/e4.yaml", "train: images/train\nval: images/val\nnc: 3\nnames: [a, b]\n", &ds, &err, NULL);
    CHECK(st == CY_ERR_FORMAT && strstr(err.msg, "e4.yaml") && strstr(err.msg, "'names' length 2 and 'nc: 3' must match"),
          "nc mismatch: %s", err.msg);
    st = load_yaml("ds/e5.yaml", "- train\n- val\n", &ds, &err, NULL);
    CHECK(st == CY_ERR_FORMAT && strstr(err.msg, "e5.yaml") && strstr(err.msg, "not a mapping"), "not a mapping: %s",
          err.msg);
    st = cy_dataset_load(&ds, P("ds/absent.yaml"), NULL, &err);
    CHECK(st == CY_ERR_IO && strstr(err.msg, "absent.yaml"), "missing file: %s", err.msg);
    st = load_yaml("ds/e6.yaml", "train: images/nothing\nval: images/val\nnames: [a]\n", &ds, &err, NULL);
    CHECK(st == CY_OK, "a missing train folder is found when train is scanned: %s", err.msg);
    if (st == CY_OK) {
        cy_split *s = NULL;
        cy_scan_params sp = cy_scan_default_params();
        sp.prefix = "train: ";
        st = cy_split_scan(&s, ds, "train", &sp, &err);
        snprintf(want, sizeof want, "train: %s does not exist", P("ds/images/nothing"));
        CHECK(st == CY_ERR_IO && strstr(err.msg, want), "missing train: %s", err.msg);
        cy_dataset_free(ds);
    }
}

/* ---- paths -------------------------------------------------------------- */

static void test_img2label(void) {
    struct { const char *im, *lb; } c[] = {
        {"/d/images/train/a.jpg", "/d/labels/train/a.txt"},
        {"/d/images/x/images/a.b.png", "/d/images/x/labels/a.b.txt"},  /* the last images/ only */
        {"/d/imgs/a.jpeg", "/d/imgs/a.txt"},
        {"images/a.jpg", "images/a.txt"},                              /* needs "/images/" */
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *l = cy_img2label_path(c[i].im);
        CHECK(l && !strcmp(l, c[i].lb), "%s -> %s, want %s", c[i].im, l, c[i].lb);
        free(l);
    }
    char *cp = cy_label_cache_path("/d/labels/train/a.txt");
    CHECK(cp && !strcmp(cp, "/d/labels/train.cyolo.cache"), "cache path %s", cp);
    free(cp);
    cp = cy_label_cache_path("/d/labels/train.v2/a.txt");
    CHECK(cp && !strcmp(cp, "/d/labels/train.cyolo.cache"), "cache path with_suffix %s", cp);
    free(cp);
    CHECK(cy_is_image_suffix("a.JPG") && cy_is_image_suffix("a.tiff") && !cy_is_image_suffix("a.txt") &&
          !cy_is_image_suffix("a.gif"), "IMG_FORMATS");
}

/* ---- labels, counts, cache ----------------------------------------------- */

static cy_split *scan(const char *split_dir, int nc, double fraction, int single_cls, cy_error *err) {
    const char *paths[1] = {P("%s", split_dir)};
    cy_scan_params sp = cy_scan_default_params();
    sp.fraction = fraction;
    sp.single_cls = single_cls;
    sp.prefix = "train: ";
    cy_split *s = NULL;
    cy_status st = cy_split_scan_paths(&s, paths, 1, nc, &sp, err);
    CHECK(st == CY_OK, "scan %s: %s", split_dir, err->msg);
    return s;
}

static void check_train(const cy_split *s, const char *what) {
    CHECK(s->total == 12, "%s: total %d", what, s->total);
    CHECK(s->found == 9 && s->missing == 1 && s->empty == 1 && s->corrupt == 6,
          "%s: found %d missing %d empty %d corrupt %d", what, s->found, s->missing, s->empty, s->corrupt);
    CHECK(s->n == 6, "%s: %d kept", what, s->n);
    CHECK(s->instances == 2 + 2 + 1 + 1, "%s: instances %lld", what, s->instances);
    const cy_strlist *w = &s->warnings;
    CHECK(has_warning(w, "d.bmp: ignoring corrupt image/label", "d.txt:2: labels require 5 columns, 4 columns detected"),
          "%s: 4-column row", what);
    CHECK(has_warning(w, "e.bmp: ignoring corrupt image/label", "e.txt:2: Label class 5 exceeds dataset class count 3"),
          "%s: class id >= nc", what);
    CHECK(has_warning(w, "f.bmp: ignoring corrupt image/label", "negative class label or coordinate -0.2 (column 4: width)"),
          "%s: negative width", what);
    CHECK(has_warning(w, "train: ", "g.bmp: 1 duplicate labels removed"), "%s: duplicates", what);
    CHECK(has_warning(w, "h.jpg: ignoring corrupt image/label", NULL), "%s: corrupt JPEG named", what);
    CHECK(has_warning(w, "i.bmp: ignoring corrupt image/label", "image size (8, 8) <10 pixels"), "%s: tiny image", what);
    CHECK(has_warning(w, "j.bmp: ignoring corrupt image/label", "could not convert string to float: 'abc'"),
          "%s: not a number", what);
    CHECK(!has_warning(w, "b.bmp", NULL) && !has_warning(w, "c.bmp", NULL), "%s: backgrounds are silent", what);
    /* k.txt is polygons, the rest boxes: Ultralytics keeps the boxes only */
    CHECK(has_warning(w, "train: Box and segment counts should be equal, but got len(segments) = 1, len(boxes) = 6. "
                         "To resolve this only boxes will be used and all segments will be removed.", NULL),
          "%s: mixed detect/segment split warned", what);
    CHECK(s->polygons == 0, "%s: mixed split drops its polygons (%lld)", what, s->polygons);
    for (int i = 0; i < s->n; i++) CHECK(s->rec[i].seg.n == 0, "%s: record %d keeps no polygon", what, i);

    const cy_det_record *a = find_rec(s, "a.bmp"), *b = find_rec(s, "b.bmp"), *c = find_rec(s, "c.bmp"),
                        *g = find_rec(s, "g.bmp"), *k = find_rec(s, "k.bmp"), *l = find_rec(s, "l.BMP");
    CHECK(a && a->n == 2 && a->h == 12 && a->w == 16 && a->labels[5] == 1.0f && a->labels[6] == 0.3f,
          "%s: a.bmp record", what);
    CHECK(b && b->n == 0 && c && c->n == 0, "%s: background records kept", what);
    /* duplicates removed, the rest in np.unique's sorted order */
    CHECK(g && g->n == 2 && g->labels[0] == 0 && g->labels[5] == 2, "%s: g.bmp deduplicated and sorted", what);
    /* polygon 0.1,0.2 0.5,0.2 0.3,0.6 -> box x 0.1..0.5, y 0.2..0.6 */
    CHECK(k && k->n == 1 && fabsf(k->labels[1] - 0.3f) < 1e-6f && fabsf(k->labels[2] - 0.4f) < 1e-6f &&
              fabsf(k->labels[3] - 0.4f) < 1e-6f && fabsf(k->labels[4] - 0.4f) < 1e-6f,
          "%s: polygon to box", what);
    CHECK(l && l->n == 1 && l->w == 20 && l->h == 10, "%s: capital suffix, blank lines, 1%% tolerance", what);
    CHECK(!find_rec(s, "notes.txt") && !find_rec(s, ".hidden.bmp") && !find_rec(s, "d.bmp"), "%s: excluded", what);
    for (int i = 1; i < s->n; i++)
        CHECK(strcmp(s->rec[i - 1].im_file, s->rec[i].im_file) < 0, "%s: sorted records", what);
}

static void test_labels_and_cache(void) {
    cy_error err = {0};
    const char *cache = P("ds/labels/train.cyolo.cache");
    unlink(cache);
    /* an Ultralytics cache where Ultralytics keeps it: never read nor touched */
    char ul_cache[512];
    snprintf(ul_cache, sizeof ul_cache, "%s", P("ds/labels/train.cache"));
    write_text(ul_cache, "ULTRALYTICS-PICKLE");

    cy_split *s = scan("ds/images/train", 3, 1.0, 0, &err);
    if (!s) return;
    CHECK(!s->from_cache && s->scanned == 12, "first scan rescans (%d, %d)", s->from_cache, s->scanned);
    CHECK(!strcmp(s->cache_path, cache), "cache path %s", s->cache_path);
    CHECK(access(cache, F_OK) == 0, "cache written");
    check_train(s, "scan");
    char sum[600];
    cy_split_summary(s, sum, sizeof sum);
    CHECK(strstr(sum, "9 images, 2 backgrounds, 6 corrupt"), "summary: %s", sum);
    cy_split_free(s);

    /* reused: nothing rescanned, same result and messages */
    s = scan("ds/images/train", 3, 1.0, 0, &err);
    if (!s) return;
    CHECK(s->from_cache && s->scanned == 0, "second scan from the cache (%d, %d)", s->from_cache, s->scanned);
    check_train(s, "cache");
    cy_split_free(s);

    /* stale: a label file deleted -> rebuilt, a missing label more */
    char *saved = NULL;
    {
        FILE *f = fopen(P("ds/labels/train/a.txt"), "rb");
        saved = calloc(1, 256);
        fread(saved, 1, 255, f);
        fclose(f);
    }
    unlink(P("ds/labels/train/a.txt"));
    s = scan("ds/images/train", 3, 1.0, 0, &err);
    if (s) {
        CHECK(!s->from_cache && s->scanned == 12, "stale cache rebuilt");
        CHECK(s->missing == 2 && s->found == 8, "missing %d found %d", s->missing, s->found);
        cy_split_free(s);
    }
    write_text(P("ds/labels/train/a.txt"), saved);
    free(saved);

    /* corrupt cache: silently rebuilt */
    write_text(cache, "CYLABELS garbage garbage garbage garbage garbage");
    s = scan("ds/images/train", 3, 1.0, 0, &err);
    if (s) {
        CHECK(!s->from_cache, "corrupt cache rebuilt");
        check_train(s, "rebuilt");
        cy_split_free(s);
    }
    /* a truncated cache, too */
    if (truncate(cache, 100) == 0) {
        s = scan("ds/images/train", 3, 1.0, 0, &err);
        if (s) {
            CHECK(!s->from_cache && s->n == 6, "truncated cache rebuilt");
            cy_split_free(s);
        }
    }
    char *ul = test_slurp(ul_cache);
    CHECK(ul && !strcmp(ul, "ULTRALYTICS-PICKLE"), "Ultralytics' train.cache untouched: '%s'", ul ? ul : "(gone)");
    free(ul);

    /* single_cls: e.bmp's class 5 is no longer an error, every class is 0 */
    s = scan("ds/images/train", 3, 1.0, 1, &err);
    if (s) {
        CHECK(!s->from_cache, "single_cls has its own cache key");
        CHECK(s->corrupt == 5 && s->n == 7, "single_cls corrupt %d kept %d", s->corrupt, s->n);
        int all0 = 1;
        for (int i = 0; i < s->n; i++)
            for (int j = 0; j < s->rec[i].n; j++) all0 &= s->rec[i].labels[5 * j] == 0;
        CHECK(all0, "single_cls: every class 0");
        cy_split_free(s);
    }

    /* fraction: the first round(n * f) in sorted order, ties to even */
    s = scan("ds/images/train", 3, 0.5, 0, &err);
    if (s) {
        CHECK(s->total == 6, "fraction 0.5: %d images", s->total);
        CHECK(find_rec(s, "a.bmp") && !find_rec(s, "k.bmp"), "fraction keeps the first images");
        cy_split_free(s);
    }
    s = scan("ds/images/train", 3, 0.375, 0, &err); /* 4.5 -> 4 */
    if (s) {
        CHECK(s->total == 4, "fraction 0.375 of 12: %d images (4.5 rounds to 4)", s->total);
        cy_split_free(s);
    }

    /* a split where every image is corrupt is an error naming the reason */
    write_text(P("bad/images/x.jpg"), "garbage");
    const char *paths[1] = {P("bad/images")};
    cy_scan_params sp = cy_scan_default_params();
    s = NULL;
    cy_status st = cy_split_scan_paths(&s, paths, 1, 3, &sp, &err);
    CHECK(st == CY_ERR_FORMAT && strstr(err.msg, "No valid images found") && strstr(err.msg, "x.jpg"),
          "all corrupt: %s", err.msg);
    /* no images at all */
    mkdirs(P("empty/images"));
    paths[0] = P("empty/images");
    st = cy_split_scan_paths(&s, paths, 1, 3, &sp, &err);
    CHECK(st == CY_ERR_IO && strstr(err.msg, "No images found"), "no images: %s", err.msg);
}

/* JPEGs: one with bytes after its end marker decodes and is kept (with a
 * note; Ultralytics would re-save it), a truncated one is dropped. */
static void test_jpeg(void) {
    cy_error err = {0};
    cy_image im = {0};
    if (cy_image_alloc(&im, 24, 32, 3, &err) != CY_OK) {
        CHECK(0, "alloc: %s", err.msg);
        return;
    }
    for (int i = 0; i < 24 * 32 * 3; i++) im.data[i] = (uint8_t)(i * 31);
    mkdirs(P("jp/images"));
    cy_status st = cy_image_write_jpeg(P("jp/images/good.jpg"), &im, 90, &err);
    cy_image_free(&im);
    CHECK(st == CY_OK, "write jpeg: %s", err.msg);
    if (st != CY_OK) return;
    FILE *f = fopen(P("jp/images/good.jpg"), "rb");
    uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(P("jp/images/tail.jpg"), "wb");
    fwrite(buf, 1, n, f);
    fwrite("trailing bytes", 1, 14, f);
    fclose(f);
    f = fopen(P("jp/images/cut.jpg"), "wb");
    fwrite(buf, 1, n * 2 / 3, f);
    fclose(f);
    write_text(P("jp/labels/good.txt"), "0 0.5 0.5 0.1 0.1\n");
    write_text(P("jp/labels/tail.txt"), "0 0.5 0.5 0.1 0.1\n");
    write_text(P("jp/labels/cut.txt"), "0 0.5 0.5 0.1 0.1\n");
    cy_split *s = scan("jp/images", 1, 1.0, 0, &err);
    if (!s) return;
    CHECK(s->n == 2 && s->corrupt == 1 && find_rec(s, "good.jpg") && find_rec(s, "tail.jpg"),
          "jpegs: %d kept, %d corrupt", s->n, s->corrupt);
    const cy_det_record *g = find_rec(s, "good.jpg");
    CHECK(g && g->h == 24 && g->w == 32, "jpeg size");
    CHECK(has_warning(&s->warnings, "tail.jpg: corrupt JPEG (does not end with its end marker) decodes, kept", NULL),
          "trailing bytes noted");
    CHECK(has_warning(&s->warnings, "cut.jpg: ignoring corrupt image/label", NULL), "truncated JPEG dropped, named");
    cy_split_free(s);
}

/* cy_label_parse on its own: whitespace, segments, tolerance edges. */
static void test_parse(void) {
    cy_error err = {0};
    char why[512];
    float *rows;
    cy_polygons seg;
    int n, dup, ex;
    struct {
        const char *text;
        int nc, ok, n;
        const char *why;
    } c[] = {
        {"0 0.5 0.5 0.2 0.2", 1, 1, 1, NULL},
        {"  \n 0 0.5 0.5 0.2 0.2 \r\n\r\n", 1, 1, 1, NULL},
        {"0 0.5 0.5 0.2 0.2\n   \n0 0.1 0.1 0.1 0.1", 1, 0, 0, ":2: labels require 5 columns, 0 columns"},
        {"0 0.5 0.5 1.02 0.2", 1, 0, 0, "non-normalized or out of bounds coordinate 1.02"},
        {"0 0.5 0.5 -0.005 0.2", 1, 1, 1, NULL},
        {"0 nan 0.5 0.2 0.2", 1, 0, 0, "non-normalized"},
        {"-1 0.5 0.5 0.2 0.2", 1, 0, 0, "negative class label or coordinate -1 (column 1: class)"},
        {"0 0.5 0.5 0.2 0.2 0.3", 1, 0, 0, "labels require 5 columns, 6 columns detected"},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5 0.6 0.5", 2, 1, 2, NULL}, /* a 5-column row among polygons is a polygon */
        {"0 0.1 0.1 0.2 0.1 0.2", 1, 0, 0, "labels require 5 columns, 6"},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2 0.3", 1, 0, 0, "x y pairs"},
        {"0x1 0.5 0.5 0.2 0.2", 1, 0, 0, "could not convert string to float: '0x1'"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        write_text(P("parse/l.txt"), c[i].text);
        cy_label_rules rules = {.nc = c[i].nc};
        cy_status st = cy_label_parse(P("parse/l.txt"), &rules, &ex, &rows, &seg, &n, &dup, why, sizeof why, &err);
        if (c[i].ok)
            CHECK(st == CY_OK && n == c[i].n, "case %zu: st %d n %d (%s)", i, st, n, why);
        else
            CHECK(st == CY_ERR_FORMAT && c[i].why && strstr(why, c[i].why), "case %zu: st %d why '%s'", i, st, why);
        if (!c[i].ok && !c[i].why) CHECK(0, "case %zu", i);
        free(rows);
        cy_polygons_free(&seg);
    }
    cy_label_rules one = {.nc = 1};
    cy_status st = cy_label_parse(P("parse/none.txt"), &one, &ex, &rows, &seg, &n, &dup, why, sizeof why, &err);
    CHECK(st == CY_OK && !ex && n == 0, "missing label file");
}

/* ---- segments: polygons kept, checked, cached --------------------------- */

static cy_split *scan_seg(const char *split_dir, int nc, int segments, cy_error *err, cy_status *st) {
    const char *paths[1] = {P("%s", split_dir)};
    cy_scan_params sp = cy_scan_default_params();
    sp.segments = segments;
    sp.prefix = "train: ";
    cy_split *s = NULL;
    *st = cy_split_scan_paths(&s, paths, 1, nc, &sp, err);
    return s;
}

/* Polygon i of r equals the n points pts (exact float32 of the text). */
static int poly_is(const cy_det_record *r, int i, const float *pts, int n) {
    if (!r || i >= r->seg.n || r->seg.start[i + 1] - r->seg.start[i] != n) return 0;
    return !memcmp(r->seg.xy + 2 * r->seg.start[i], pts, (size_t)n * 2 * sizeof(float));
}

static void check_seg_split(const cy_split *s, const char *what) {
    CHECK(s->n == 4 && s->instances == 2 + 3 + 2 && s->polygons == 7, "%s: %d records, %lld boxes, %lld polygons",
          what, s->n, s->instances, s->polygons);
    const cy_det_record *a = find_rec(s, "a.bmp"), *b = find_rec(s, "b.bmp"), *b2 = find_rec(s, "b2.bmp"),
                        *c = find_rec(s, "c.bmp");
    static const float a0[] = {0.1f, 0.2f, 0.5f, 0.2f, 0.3f, 0.6f};
    static const float a1[] = {0.6f, 0.6f, 0.9f, 0.6f, 0.9f, 0.9f, 0.6f, 0.9f};
    CHECK(a && a->n == 2 && a->seg.n == 2 && poly_is(a, 0, a0, 3) && poly_is(a, 1, a1, 4), "%s: a.bmp polygons", what);
    CHECK(a && a->labels[5] == 1 && fabsf(a->labels[6] - 0.75f) < 1e-6f && fabsf(a->labels[8] - 0.3f) < 1e-6f,
          "%s: a.bmp second box from its polygon", what);
    /* one exact duplicate: the rest sorted by class and polygon bytes, each
     * polygon with its row (Ultralytics 8.4.190's order, checked there) */
    static const float p0[] = {0.2f, 0.2f, 0.3f, 0.2f, 0.3f, 0.3f};
    static const float p1[] = {0.1f, 0.1f, 0.4f, 0.1f, 0.4f, 0.4f};
    static const float p2[] = {0.1f, 0.1f, 0.4f, 0.4f, 0.4f, 0.1f};
    CHECK(b && b->n == 3 && b->seg.n == 3 && b->labels[0] == 0 && b->labels[5] == 1 && b->labels[10] == 1 &&
              poly_is(b, 0, p0, 3) && poly_is(b, 1, p1, 3) && poly_is(b, 2, p2, 3),
          "%s: b.bmp deduplicated with its polygons", what);
    CHECK(has_warning(&s->warnings, "b.bmp: 1 duplicate labels removed", NULL), "%s: b.bmp duplicate noted", what);
    /* same class and box, other polygons: not duplicates, file order kept */
    CHECK(b2 && b2->n == 2 && poly_is(b2, 0, p1, 3) && poly_is(b2, 1, p2, 3), "%s: b2.bmp kept in order", what);
    CHECK(!has_warning(&s->warnings, "b2.bmp", NULL), "%s: b2.bmp silent", what);
    CHECK(c && c->n == 0 && c->seg.n == 0, "%s: background", what);
}

static void test_segments(void) {
    cy_error err = {0};
    cy_status st;
    write_bmp(P("sg/images/a.bmp"), 16, 12);
    write_text(P("sg/labels/a.txt"), "0 0.1 0.2 0.5 0.2 0.3 0.6\n1 0.6 0.6 0.9 0.6 0.9 0.9 0.6 0.9\n");
    write_bmp(P("sg/images/b.bmp"), 16, 12);
    write_text(P("sg/labels/b.txt"), "1 0.1 0.1 0.4 0.1 0.4 0.4\n0 0.2 0.2 0.3 0.2 0.3 0.3\n"
                                     "1 0.1 0.1 0.4 0.1 0.4 0.4\n1 0.1 0.1 0.4 0.4 0.4 0.1\n");
    write_bmp(P("sg/images/b2.bmp"), 16, 12);
    write_text(P("sg/labels/b2.txt"), "1 0.1 0.1 0.4 0.1 0.4 0.4\n1 0.1 0.1 0.4 0.4 0.4 0.1\n");
    write_bmp(P("sg/images/c.bmp"), 16, 12);
    write_text(P("sg/labels/c.txt"), "");
    unlink(P("sg/labels.cyolo.cache"));
    cy_split *s = scan_seg("sg/images", 2, 1, &err, &st);
    CHECK(st == CY_OK, "segment scan: %s", err.msg);
    if (!s) return;
    CHECK(!s->from_cache, "first segment scan rescans");
    check_seg_split(s, "segments");
    cy_split_free(s);
    s = scan_seg("sg/images", 2, 1, &err, &st);
    CHECK(st == CY_OK && s && s->from_cache, "segment scan from the cache: %s", err.msg);
    if (s) check_seg_split(s, "segments cached");
    cy_split_free(s);
    /* a detection scan keeps them too (every labelled file is polygons),
     * under its own cache key */
    s = scan_seg("sg/images", 2, 0, &err, &st);
    CHECK(st == CY_OK && s && !s->from_cache, "detection scan of polygons: %s", err.msg);
    if (s) check_seg_split(s, "detect");
    cy_split_free(s);

    /* a box-only label file in a segment split: the split is refused */
    write_bmp(P("sg/images/d.bmp"), 16, 12);
    write_text(P("sg/labels/d.txt"), "0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.1\n");
    s = scan_seg("sg/images", 2, 1, &err, &st);
    char want[1024];
    snprintf(want, sizeof want,
             "train: Segment dataset requires equal numbers of boxes and segments, but got len(segments) = 7, "
             "len(boxes) = 9. Please supply a segment dataset, not a detect dataset (%s: 2 box rows and no polygons)",
             P("sg/labels/d.txt"));
    CHECK(st == CY_ERR_FORMAT && !s && !strcmp(err.msg, want), "detect file in a segment split: %s", err.msg);
    /* the same split for detection: boxes only, with the warning */
    s = scan_seg("sg/images", 2, 0, &err, &st);
    CHECK(st == CY_OK && s && s->polygons == 0 && s->instances == 9 &&
              has_warning(&s->warnings, "train: Box and segment counts should be equal, but got len(segments) = 7, "
                                        "len(boxes) = 9.", NULL),
          "detect split mixing boxes and polygons: %s", err.msg);
    cy_split_free(s);
    unlink(P("sg/labels/d.txt"));
    unlink(P("sg/images/d.bmp"));

    /* bad polygons in a segment split: the image is dropped, named */
    write_bmp(P("sg/images/e.bmp"), 16, 12);
    write_text(P("sg/labels/e.txt"), "0 0.1 0.1 0.2 0.1 0.2 0.2\n0 0.1 0.1 0.2 0.1 0.2 0.2 0.3\n");
    s = scan_seg("sg/images", 2, 1, &err, &st);
    snprintf(want, sizeof want, "train: %s: ignoring corrupt image/label: %s:2: a polygon needs x y pairs, got 7 coordinates",
             P("sg/images/e.bmp"), P("sg/labels/e.txt"));
    CHECK(st == CY_OK && s && s->n == 4 && s->corrupt == 1 && has_warning(&s->warnings, want, NULL),
          "odd polygon dropped: %s", st == CY_OK && s->warnings.n ? s->warnings.v[0] : err.msg);
    cy_split_free(s);
    unlink(P("sg/labels/e.txt"));
    unlink(P("sg/images/e.bmp"));
}

/* The segment rules on single label files, with their exact messages. */
static void test_parse_segments(void) {
    cy_error err = {0};
    char why[512], want[768];
    float *rows;
    cy_polygons seg;
    int n, dup, ex;
    const char *lf = P("parse/s.txt");
    struct {
        const char *text;
        int segments;  /* rules.segments */
        const char *why; /* after "<file>:"; NULL: accepted */
        int n, npts;
    } c[] = {
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n0 0.1 0.1 0.2 0.1 0.2 0.2 0.3", 1, "2: a polygon needs x y pairs, got 7 coordinates", 0, 0},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n0 0.1 0.1 0.2 0.1 0.2 0.2 0.3", 0, "2: a polygon needs x y pairs, got 7 coordinates", 0, 0},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5", 1, "2: a polygon needs at least 3 points, got 1", 0, 0},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5", 0, NULL, 2, 4}, /* detection keeps Ultralytics' leniency */
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n\n1 0.5 0.5 0.6 0.5", 1,
         "3: labels mix segment and detection rows (this row has 5 columns, others are polygons)", 0, 0},
        {"0 0.1 0.1 0.2 0.1 0.2 0.2\n1 0.5 0.5 0.6 0.5", 0, NULL, 2, 5},
        {"0 0.5 0.5 1.2 0.5 0.5 0.9", 1,
         "1: polygon point 2 (1.2, 0.5) is outside the image: coordinates must be in [0, 1] (1% tolerance)", 0, 0},
        {"0 0.5 0.5 1.2 0.5 0.5 0.9", 0, NULL, 1, 3}, /* its box (cx 0.85, w 0.7) passes Ultralytics' check */
        {"0 0.1 0.5 0.5 0.5 0.5 0.9\n0 -0.05 0.5 0.5 0.5 0.5 0.9", 1,
         "2: polygon point 1 (-0.05, 0.5) is outside the image: coordinates must be in [0, 1] (1% tolerance)", 0, 0},
        {"0 1.005 0.5 0.5 0.5 0.5 -0.009", 1, NULL, 1, 3},   /* inside the tolerance */
        {"0 0.5 nan 0.5 0.5 0.5 0.9", 1,
         "1: polygon point 1 (0.5, nan) is outside the image: coordinates must be in [0, 1] (1% tolerance)", 0, 0},
        {"0 0.5 -0.5 1.5 -0.5 1.5 1.5", 0, "1: non-normalized or out of bounds coordinate 2 (column 5)", 0, 0},
        {"0 0.5 0.5 0.2 0.2", 1, NULL, 1, 0}, /* a box file: no polygons; the split decides */
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        write_text(lf, c[i].text);
        cy_label_rules rules = {.nc = 2, .segments = c[i].segments};
        cy_status st = cy_label_parse(lf, &rules, &ex, &rows, &seg, &n, &dup, why, sizeof why, &err);
        if (c[i].why) {
            snprintf(want, sizeof want, "%s:%s", lf, c[i].why);
            CHECK(st == CY_ERR_FORMAT && !strcmp(why, want) && !rows && !seg.n, "seg case %zu: st %d why '%s'", i, st,
                  why);
        } else {
            CHECK(st == CY_OK && n == c[i].n && (c[i].npts ? seg.n == n && seg.start[n] == c[i].npts : seg.n == 0),
                  "seg case %zu: st %d n %d polygons %d (%s)", i, st, n, seg.n, why);
        }
        free(rows);
        cy_polygons_free(&seg);
    }
}

int main(void) {
    snprintf(tmp, sizeof tmp, "/tmp/cy_dataset_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 2;
    }
    build_tree();
    test_img2label();
    test_parse();
    test_yaml();
    test_labels_and_cache();
    test_jpeg();
    test_parse_segments();
    test_segments();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (getenv("CYOLO_KEEP_TMP")) printf("kept %s\n", tmp);
    else if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return test_summary();
}
