/* Instance masks on plots (io/plot_masks.h), pixels predicted by hand from
 * Ultralytics' arithmetic (values checked with numpy / Annotator.masks of
 * PyPI Ultralytics 8.4.190): the grid's 0.4 / 0.6 blend inside a mask and
 * nothing outside, a later mask over an earlier one, overlap index masks
 * matched to each image's boxes in order and upsampled to the cell,
 * predictions under conf 0.25 left out, no masks or no boxes giving
 * cy_plot_images' file byte for byte, a missing resize function refused;
 * and Annotator.masks' float32 blend, independent of the masks' order. */
#include <unistd.h>
#include "data/polygon_mask.h"
#include "io/image.h"
#include "io/plot_images.h"
#include "test_util.h"

enum { H = 64, W = 64 };

static float *grey(int n) {
    float *x = malloc(sizeof(float) * 3 * H * W * (size_t)n);
    for (size_t i = 0; i < 3 * (size_t)H * W * n; i++) x[i] = 0.5f; /* 0.5 * 255 + 0.5 -> 128 */
    return x;
}

static void rect(uint8_t *m, int mw, int x0, int y0, int x1, int y1, uint8_t v) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) m[y * mw + x] = v;
}

static int px_is(const cy_image *im, int x, int y, int r, int g, int b) {
    const uint8_t *p = im->data + ((size_t)y * im->w + x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

static int same_file(const char *a, const char *b) {
    FILE *x = fopen(a, "rb"), *y = fopen(b, "rb");
    int same = x && y;
    while (same) {
        int c = fgetc(x), d = fgetc(y);
        if (c != d) same = 0;
        if (c == EOF || d == EOF) break;
    }
    if (x) fclose(x);
    if (y) fclose(y);
    return same;
}

/* tiny boxes in the cell's top-left corner: their outlines and tags stay
 * out of the pixels the checks read */
#define CORNER(img, cls, conf) {img, cls, 0.05f, 0.05f, 0.02f, 0.02f, conf}

static void grid_overlapping(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/labels.png", dir);
    float *x = grey(1);
    static uint8_t m[2][H][W];
    rect(&m[0][0][0], W, 30, 30, 50, 50, 1);
    rect(&m[1][0][0], W, 40, 40, 60, 60, 1);
    cy_plot_box b[2] = {CORNER(0, 0, -1), CORNER(0, 5, -1)};
    cy_plot_masks pm = {.mask_h = H, .mask_w = W, .overlap = 0, .masks = &m[0][0][0]};
    cy_error err = {0};
    CHECK(cy_plot_images_masks(x, 1, H, W, b, 2, &pm, NULL, NULL, 0, path, &err) == CY_OK, "%s", err.msg);
    cy_image im = {0};
    CHECK(cy_image_read(path, &im, &err) == CY_OK && im.w == W && im.h == H, "labels.png read back");
    if (im.data) {
        /* 128 * 0.4 + colour * 0.6, truncated; class 0 is (4, 42, 255), class 5 (255, 111, 221) */
        CHECK(px_is(&im, 35, 35, 53, 76, 204), "first mask alone");
        CHECK(px_is(&im, 45, 45, 174, 97, 214), "second mask blended over the first");
        CHECK(px_is(&im, 55, 55, 204, 117, 183), "second mask alone");
        CHECK(px_is(&im, 20, 50, 128, 128, 128), "outside the masks");
        int wrong = 0;
        for (int y = 26; y < H - 2; y++)
            for (int xx = 26; xx < W - 2; xx++) {
                int in = m[0][y][xx] || m[1][y][xx];
                wrong += in == px_is(&im, xx, y, 128, 128, 128);
            }
        CHECK(wrong == 0, "%d pixels changed outside or kept inside the masks", wrong);
        cy_image_free(&im);
    }
    free(x);
}

static void grid_overlap_index(const char *dir) {
    char path[600];
    snprintf(path, sizeof path, "%s/index.png", dir);
    float *x = grey(2);
    /* 16 x 16 masks, a quarter of the 64 px images: upsampled by cv2.resize */
    static uint8_t m[2][16][16];
    rect(&m[0][0][0], 16, 4, 4, 8, 8, 1);    /* image 0, its box 0 */
    rect(&m[1][0][0], 16, 4, 4, 8, 8, 1);    /* image 1, its box 0 */
    rect(&m[1][0][0], 16, 10, 10, 14, 14, 2); /* image 1, its box 1 */
    /* image 1's boxes are entries 0 and 2: the index counts within the image */
    cy_plot_box b[3] = {CORNER(1, 2, -1), CORNER(0, 3, -1), CORNER(1, 4, -1)};
    cy_plot_masks pm = {.mask_h = 16, .mask_w = 16, .overlap = 1, .masks = &m[0][0][0], .resize = cy_mask_resize};
    cy_error err = {0};
    CHECK(cy_plot_images_masks(x, 2, H, W, b, 3, &pm, NULL, NULL, 0, path, &err) == CY_OK, "%s", err.msg);
    cy_image im = {0};
    /* two images: a 2 x 2 grid filled column by column, image 1 below image 0 */
    CHECK(cy_image_read(path, &im, &err) == CY_OK && im.w == 2 * W && im.h == 2 * H, "index.png read back");
    if (im.data) {
        CHECK(px_is(&im, 24, 24, 51, 185, 161), "image 0: value 1 is its box of class 3");
        CHECK(px_is(&im, 48, 48, 128, 128, 128), "image 0: no value 2");
        CHECK(px_is(&im, 24, H + 24, 197, 197, 197), "image 1: value 1 is its first box, class 2");
        CHECK(px_is(&im, 48, H + 48, 61, 69, 113), "image 1: value 2 is its second box, class 4");
        CHECK(px_is(&im, 36, H + 36, 128, 128, 128), "image 1: between the masks");
        CHECK(px_is(&im, W + 30, 30, 255, 255, 255), "the empty cells stay white");
        /* upsampled 4x: the [4, 8) block covers [16, 32) give or take the interpolation's rim */
        int in = 0;
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) in += px_is(&im, xx, y, 51, 185, 161);
        CHECK(in >= 14 * 14 && in <= 18 * 18, "image 0's mask covers %d px, about 16 x 16", in);
        cy_image_free(&im);
    }
    free(x);
}

static void grid_preds_and_empty(const char *dir) {
    char p1[600], p2[600];
    float *x = grey(1);
    static uint8_t m[2][H][W];
    rect(&m[0][0][0], W, 30, 30, 50, 50, 1);
    rect(&m[1][0][0], W, 10, 40, 20, 60, 1);
    cy_plot_box b[2] = {CORNER(0, 7, 0.9f), CORNER(0, 7, 0.2f)}; /* the second is under conf 0.25 */
    cy_plot_masks pm = {.mask_h = H, .mask_w = W, .overlap = 0, .masks = &m[0][0][0]};
    cy_error err = {0};
    snprintf(p1, sizeof p1, "%s/pred.png", dir);
    CHECK(cy_plot_images_masks(x, 1, H, W, b, 2, &pm, NULL, NULL, 0, p1, &err) == CY_OK, "%s", err.msg);
    cy_image im = {0};
    CHECK(cy_image_read(p1, &im, &err) == CY_OK, "pred.png read back");
    if (im.data) {
        CHECK(px_is(&im, 40, 40, 173, 193, 51), "a confident prediction's mask (class 7)");
        CHECK(px_is(&im, 15, 50, 128, 128, 128), "a prediction under conf 0.25 has no mask");
        cy_image_free(&im);
    }
    /* no boxes (an empty batch of targets), or no masks: cy_plot_images' bytes */
    snprintf(p1, sizeof p1, "%s/empty_masks.png", dir);
    snprintf(p2, sizeof p2, "%s/empty_plain.png", dir);
    CHECK(cy_plot_images_masks(x, 1, H, W, NULL, 0, &pm, NULL, NULL, 0, p1, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_plot_images(x, 1, H, W, NULL, 0, NULL, NULL, 0, p2, &err) == CY_OK, "%s", err.msg);
    CHECK(same_file(p1, p2), "masks without boxes draw nothing");
    snprintf(p1, sizeof p1, "%s/null_masks.jpg", dir);
    snprintf(p2, sizeof p2, "%s/plain.jpg", dir);
    CHECK(cy_plot_images_masks(x, 1, H, W, b, 2, NULL, NULL, NULL, 0, p1, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_plot_images(x, 1, H, W, b, 2, NULL, NULL, 0, p2, &err) == CY_OK, "%s", err.msg);
    CHECK(same_file(p1, p2), "no masks: the detection plot");
    /* masks of another size with no resize function: refused, nothing written */
    pm.mask_h = pm.mask_w = 16;
    snprintf(p1, sizeof p1, "%s/refused.png", dir);
    CHECK(cy_plot_images_masks(x, 1, H, W, b, 2, &pm, NULL, NULL, 0, p1, &err) == CY_ERR_ARG, "no resize: refused");
    CHECK(access(p1, F_OK) != 0, "no file for a refused plot");
    free(x);
}

static void overlay(void) {
    /* Annotator.masks on a 2 x 3 image; expected values from Ultralytics 8.4.190 */
    static const uint8_t px[6][3] = {{100, 0, 255}, {37, 200, 13}, {128, 128, 128},
                                     {255, 255, 255}, {1, 2, 3}, {250, 17, 90}};
    static const uint8_t want[6][3] = {{52, 21, 255}, {136, 105, 130}, {191, 119, 174},
                                       {191, 119, 191}, {1, 2, 3}, {250, 17, 90}};
    uint8_t m[2][2][3] = {{{1, 1, 0}, {1, 0, 0}}, {{0, 1, 1}, {1, 0, 0}}};
    uint8_t mr[2][2][3];
    memcpy(mr[0], m[1], sizeof m[1]), memcpy(mr[1], m[0], sizeof m[0]);
    int cls[2] = {0, 5}, clsr[2] = {5, 0};
    cy_error err = {0};
    for (int order = 0; order < 2; order++) {
        cy_image im;
        CHECK(cy_image_alloc(&im, 2, 3, 3, &err) == CY_OK, "%s", err.msg);
        memcpy(im.data, px, sizeof px);
        CHECK(cy_plot_overlay_masks(&im, order ? &mr[0][0][0] : &m[0][0][0], 2, order ? clsr : cls, 0.5f, &err) ==
                  CY_OK,
              "%s", err.msg);
        int bad = 0;
        for (int i = 0; i < 6; i++)
            for (int c = 0; c < 3; c++) bad += im.data[3 * i + c] != want[i][c];
        CHECK(bad == 0, "overlay (%s order): %d values differ from Annotator.masks", order ? "reversed" : "given",
              bad);
        CHECK(cy_plot_overlay_masks(&im, NULL, 0, NULL, 0.5f, &err) == CY_OK, "no masks: nothing to do");
        cy_image_free(&im);
    }
}

int main(void) {
    char dir[] = "/tmp/cyolo_plot_masks_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    grid_overlapping(dir);
    grid_overlap_index(dir);
    grid_preds_and_empty(dir);
    overlay();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
