/* The loader beyond single images: prefetched batches equal the batches built
 * in the caller (any worker count, in and out of order, across epochs and a
 * hyp switch); rect batches have the shapes Ultralytics' set_rectangle gives
 * on a non-square dataset (train pad 0 and val pad 0.5), with the letterbox
 * ratio and padding; multi_scale's draw and bilinear resize match torch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/dataset.h"
#include "data/loader.h"
#include "data/multi_scale.h"
#include "test_util.h"

static char root[64];

/* an image of h x w with one box, and its label file */
static void make_image(int k, int h, int w) {
    char path[256];
    cy_error err = {0};
    cy_image im;
    CHECK(cy_image_alloc(&im, h, w, 3, &err) == CY_OK, "alloc");
    for (int i = 0; i < h * w * 3; i++) im.data[i] = (uint8_t)(i * 7 + k * 31);
    snprintf(path, sizeof path, "%s/images/im%d.png", root, k);
    CHECK(cy_image_write_png(path, &im, &err) == CY_OK, "%s: %s", path, err.msg);
    cy_image_free(&im);
    snprintf(path, sizeof path, "%s/labels/im%d.txt", root, k);
    FILE *f = fopen(path, "w");
    fprintf(f, "%d 0.5 0.5 0.4 0.3\n", k % 3);
    fclose(f);
}

static cy_split *scan(void) {
    char images[128];
    snprintf(images, sizeof images, "%s/images", root);
    const char *paths[] = {images};
    cy_scan_params sp = cy_scan_default_params();
    sp.cache = 0;
    cy_split *s = NULL;
    cy_error err = {0};
    CHECK(cy_split_scan_paths(&s, paths, 1, 3, &sp, &err) == CY_OK, "scan: %s", err.msg);
    return s;
}

/* an epoch of batches into one malloc'd blob: x then targets of each batch */
static float *epoch_blob(cy_loader *l, int epoch, int batch, const int *order, size_t *len) {
    int nb = cy_loader_batches(l, batch);
    float *blob = NULL;
    *len = 0;
    cy_loader_epoch(l, epoch, 1);
    for (int k = 0; k < nb; k++) {
        int b = order ? order[k] : k;
        cy_batch bt;
        cy_error err = {0};
        CHECK(cy_loader_batch(l, b, batch, &bt, &err) == CY_OK, "batch %d: %s", b, err.msg);
        size_t nx = (size_t)bt.n * 3 * bt.h * bt.w, nt = (size_t)bt.ntargets * 6;
        blob = realloc(blob, (*len + nx + nt + 1) * sizeof *blob);
        memcpy(blob + *len, bt.x, nx * sizeof *blob);
        memcpy(blob + *len + nx, bt.targets, nt * sizeof *blob);
        blob[*len + nx + nt] = (float)(b * 1000 + bt.ntargets);
        *len += nx + nt + 1;
    }
    return blob;
}

static void test_prefetch_same_batches(const cy_split *s) {
    cy_loader_params p = {.imgsz = 64, .augment = 1, .hyp = cy_aug_default_hyp(), .seed = 7};
    cy_loader *sync = NULL, *pre = NULL, *pre1 = NULL;
    cy_error err = {0};
    CHECK(cy_loader_create(&sync, s, &p, &err) == CY_OK, "%s", err.msg);
    p.workers = 2;
    CHECK(cy_loader_create(&pre, s, &p, &err) == CY_OK, "%s", err.msg);
    p.workers = 1;
    CHECK(cy_loader_create(&pre1, s, &p, &err) == CY_OK, "%s", err.msg);
    cy_loader *cached = NULL;
    p.workers = 2, p.cache_ram = 1;
    CHECK(cy_loader_create(&cached, s, &p, &err) == CY_OK, "%s", err.msg);
    for (int epoch = 0; epoch < 2; epoch++) {
        size_t la, lb, lc, ld;
        float *a = epoch_blob(sync, epoch, 2, NULL, &la), *b = epoch_blob(pre, epoch, 2, NULL, &lb);
        float *c = epoch_blob(pre1, epoch, 2, NULL, &lc), *d = epoch_blob(cached, epoch, 2, NULL, &ld);
        CHECK(la == lb && la == lc && !memcmp(a, b, la * sizeof *a) && !memcmp(a, c, la * sizeof *a),
              "epoch %d: prefetched batches (workers 1 and 2) equal the caller's (workers 0)", epoch);
        CHECK(la == ld && !memcmp(a, d, la * sizeof *a), "epoch %d: the same with cache=ram", epoch);
        free(a), free(b), free(c), free(d);
    }
    cy_loader_free(cached);
    /* out of order: each request restarts the producer and still gives batch b */
    int order[3] = {2, 0, 1};
    size_t la, lb;
    float *a = epoch_blob(sync, 3, 2, order, &la), *b = epoch_blob(pre, 3, 2, order, &lb);
    CHECK(la == lb && !memcmp(a, b, la * sizeof *a), "out-of-order requests give the same batches");
    free(a), free(b);
    /* close_mosaic mid-run */
    cy_aug_hyp h = cy_aug_default_hyp();
    cy_aug_close_mosaic(&h);
    cy_loader_set_hyp(sync, &h);
    cy_loader_set_hyp(pre, &h);
    a = epoch_blob(sync, 4, 2, NULL, &la), b = epoch_blob(pre, 4, 2, NULL, &lb);
    CHECK(la == lb && !memcmp(a, b, la * sizeof *a), "after a hyp switch too");
    free(a), free(b);
    cy_loader_free(sync);
    cy_loader_free(pre);
    cy_loader_free(pre1);
}

/* With the batch size known the loader draws Mosaic partners from the
 * replayed buffers (data/mosaic_buffer.h): a batch depends on how many
 * buffers (one unless mosaic_buffers says more, as Ultralytics on CPU) and
 * not on the loader's own workers or prefetch. */
static void test_mosaic_lanes(const cy_split *s) {
    cy_loader_params p = {.imgsz = 64, .augment = 1, .hyp = cy_aug_default_hyp(), .seed = 7, .batch = 2};
    cy_loader *w0 = NULL, *w2 = NULL, *l2 = NULL, *l2b = NULL;
    cy_error err = {0};
    CHECK(cy_loader_create(&w0, s, &p, &err) == CY_OK, "%s", err.msg);
    p.workers = 2;
    CHECK(cy_loader_create(&w2, s, &p, &err) == CY_OK, "%s", err.msg);
    p.mosaic_buffers = 2;
    CHECK(cy_loader_create(&l2, s, &p, &err) == CY_OK, "%s", err.msg);
    p.workers = 0;
    CHECK(cy_loader_create(&l2b, s, &p, &err) == CY_OK, "%s", err.msg);
    int differs = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        size_t la, lb, lc, ld;
        float *a = epoch_blob(w0, epoch, 2, NULL, &la), *b = epoch_blob(w2, epoch, 2, NULL, &lb);
        float *c = epoch_blob(l2, epoch, 2, NULL, &lc), *d = epoch_blob(l2b, epoch, 2, NULL, &ld);
        CHECK(la == lb && !memcmp(a, b, la * sizeof *a), "epoch %d: one buffer with workers 0 and 2", epoch);
        CHECK(lc == ld && !memcmp(c, d, lc * sizeof *c), "epoch %d: two buffers with workers 2 and 0", epoch);
        differs |= la != lc || memcmp(a, c, la * sizeof *a);
        free(a), free(b), free(c), free(d);
    }
    CHECK(differs, "two buffers draw other partners than one");
    /* a resumed run: epoch 3 first on a fresh loader (the buffers replayed), out of order */
    cy_loader *l2c = NULL;
    CHECK(cy_loader_create(&l2c, s, &p, &err) == CY_OK, "%s", err.msg);
    int order[3] = {2, 0, 1};
    size_t lc, ld;
    float *c = epoch_blob(l2, 3, 2, order, &lc), *d = epoch_blob(l2c, 3, 2, order, &ld);
    CHECK(lc == ld && !memcmp(c, d, lc * sizeof *c), "epoch 3 alone equals epoch 3 after 0-2");
    free(c), free(d);
    cy_loader_free(l2c);
    cy_loader_free(w0), cy_loader_free(w2), cy_loader_free(l2), cy_loader_free(l2b);
}

/* Ultralytics (numpy) for these sizes, batch 2, imgsz 64:
 * pad 0.5 -> [[64 96] [96 96] [96 64]], pad 0 -> [[64 64] [64 64] [64 32]] */
static void test_rect_shapes(const cy_split *s) {
    static const int want_val[3][2] = {{64, 96}, {96, 96}, {96, 64}}, want_train[3][2] = {{64, 64}, {64, 64}, {64, 32}};
    cy_error err = {0};
    cy_loader *val = NULL, *train = NULL;
    cy_loader_params p = {.imgsz = 64, .augment = 0, .workers = 2, .rect = 1, .pad = 0.5, .batch = 2};
    CHECK(cy_loader_create(&val, s, &p, &err) == CY_OK, "%s", err.msg);
    p.augment = 1, p.pad = 0, p.hyp = cy_aug_default_hyp();
    CHECK(cy_loader_create(&train, s, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(!cy_loader_can_shuffle(train), "rect shapes differ: no shuffle");
    cy_loader_epoch(val, 0, 0);
    cy_loader_epoch(train, 0, 1);
    CHECK(cy_loader_batches(val, 2) == 3, "3 batches");
    /* sorted by h / w: 40x80, 60x80, 80x80, 80x60, 80x40 (file order im0..im4 is shuffled below) */
    static const int want_h0[5] = {40, 60, 80, 80, 80};
    for (int b = 0; b < 3; b++) {
        cy_batch bt;
        CHECK(cy_loader_batch(val, b, 2, &bt, &err) == CY_OK, "val batch %d: %s", b, err.msg);
        CHECK(bt.h == want_val[b][0] && bt.w == want_val[b][1], "val batch %d is %dx%d, Ultralytics %dx%d", b, bt.h,
              bt.w, want_val[b][0], want_val[b][1]);
        for (int i = 0; i < bt.n; i++)
            CHECK(s->rec[bt.index[i]].h == want_h0[2 * b + i], "aspect-ratio order: batch %d image %d", b, i);
        if (b == 0) { /* 40x80 -> load_image 32x64 -> centred in 64x96 without enlarging */
            CHECK(bt.ratio[0] == 0.8 && bt.pad[0] == 16 && bt.pad[1] == 16, "ratio %g pad %g %g", bt.ratio[0],
                  bt.pad[0], bt.pad[1]);
            CHECK(bt.x[0] == 114 / 255.0f, "letterbox padding is 114");
        }
        CHECK(cy_loader_batch(train, b, 2, &bt, &err) == CY_OK, "train batch %d: %s", b, err.msg);
        CHECK(bt.h == want_train[b][0] && bt.w == want_train[b][1], "train batch %d is %dx%d, Ultralytics %dx%d", b,
              bt.h, bt.w, want_train[b][0], want_train[b][1]);
        CHECK(bt.ntargets == bt.n, "rect training keeps one box per image (no mosaic): %d", bt.ntargets);
    }
    cy_batch bt;
    CHECK(cy_loader_batch(val, 0, 4, &bt, &err) == CY_ERR_ARG && strstr(err.msg, "batch=2"),
          "another batch size is refused: %s", err.msg);
    cy_loader_free(val);
    cy_loader_free(train);
}

static void test_multi_scale(void) {
    for (int64_t ni = 0; ni < 200; ni++) {
        int sz = cy_multi_scale_size(320, 0.5, 32, 1, ni);
        CHECK(sz % 32 == 0 && sz >= 160 && sz <= 480, "size %d in [160, 480], a multiple of 32", sz);
    }
    CHECK(cy_multi_scale_size(320, 0.5, 32, 1, 5) == cy_multi_scale_size(320, 0.5, 32, 1, 5), "same draw for ni");
    /* torch.nn.functional.interpolate(arange(6).reshape(1, 1, 2, 3), (3, 4), mode="bilinear") */
    static const float want[12] = {0.0f, 0.625f, 1.375f, 2.0f, 1.5f, 2.125f, 2.875f, 3.5f, 3.0f, 3.625f, 4.375f, 5.0f};
    float x[6] = {0, 1, 2, 3, 4, 5}, y[12];
    cy_resize_bilinear_planes(x, 1, 2, 3, y, 3, 4);
    CHECK(test_max_rel(y, want, 12) < 1e-6, "bilinear upsampling as torch");
    float x16[16], y4[4], want4[4] = {2.5f, 4.5f, 10.5f, 12.5f};
    for (int i = 0; i < 16; i++) x16[i] = (float)i;
    cy_resize_bilinear_planes(x16, 1, 4, 4, y4, 2, 2);
    CHECK(test_max_rel(y4, want4, 4) < 1e-6, "bilinear downsampling as torch");
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/cyolo_loader_XXXXXX");
    CHECK(mkdtemp(root) != NULL, "mkdtemp");
    char d[128];
    snprintf(d, sizeof d, "%s/images", root);
    mkdir(d, 0755);
    snprintf(d, sizeof d, "%s/labels", root);
    mkdir(d, 0755);
    static const int hw[5][2] = {{80, 80}, {80, 40}, {40, 80}, {80, 60}, {60, 80}};
    for (int k = 0; k < 5; k++) make_image(k, hw[k][0], hw[k][1]);
    cy_split *s = scan();
    if (s) {
        test_prefetch_same_batches(s);
        test_rect_shapes(s);
        test_mosaic_lanes(s);
    }
    test_multi_scale();
    cy_split_free(s);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
