/* cy_find_contours against cv2.findContours(RETR_EXTERNAL,
 * CHAIN_APPROX_SIMPLE) and cy_mask_to_segment against Ultralytics'
 * masks2segments (tests/fixtures/mask_contour,
 * tools/refgen/make_contour_fixture.py): 40 masks (empty, full, blobs
 * touching the border, rings with components inside their holes, lines,
 * lone pixels, noise with dozens of components); every contour, its order
 * and every point must be equal. */
#include <cjson/cJSON.h>
#include "io/npy.h"
#include "model/mask_contour.h"
#include "test_util.h"

#define FX "tests/fixtures/mask_contour/"

static int same_points(const int *xy, int n, const cJSON *ref) {
    if (cJSON_GetArraySize(ref) != n) return 0;
    for (int i = 0; i < n; i++) {
        const cJSON *p = cJSON_GetArrayItem(ref, i);
        if (cJSON_GetArrayItem(p, 0)->valueint != xy[2 * i] || cJSON_GetArrayItem(p, 1)->valueint != xy[2 * i + 1])
            return 0;
    }
    return 1;
}

int main(void) {
    cy_npy m = {0};
    cy_error err = {0};
    CHECK(cy_npy_read(FX "masks.npy", &m, &err) == CY_OK, "%s", err.msg);
    FILE *f = fopen(FX "contours.json", "rb");
    CHECK(f != NULL, "contours.json");
    if (!m.data || !f) return test_summary();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = calloc((size_t)n + 1, 1);
    if (fread(text, 1, (size_t)n, f) != (size_t)n) text[0] = 0;
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    CHECK(root && cJSON_GetArraySize(root) == m.shape[0], "contours.json has one entry per mask");
    int K = (int)m.shape[0], H = (int)m.shape[1], W = (int)m.shape[2];
    uint8_t *mask = malloc((size_t)H * W);
    int bad_contours = 0, bad_segments = 0, total = 0, merged = 0;
    for (int k = 0; root && k < K; k++) {
        for (int i = 0; i < H * W; i++) mask[i] = m.data[(size_t)k * H * W + i] != 0;
        const cJSON *e = cJSON_GetArrayItem(root, k), *rc = cJSON_GetObjectItemCaseSensitive(e, "contours");
        cy_contours c;
        CHECK(cy_find_contours(mask, H, W, &c, &err) == CY_OK, "%s", err.msg);
        int ok = c.n == cJSON_GetArraySize(rc);
        for (int i = 0; ok && i < c.n; i++)
            ok = same_points(c.xy + 2 * c.start[i], c.start[i + 1] - c.start[i], cJSON_GetArrayItem(rc, i));
        if (!ok) {
            bad_contours++;
            fprintf(stderr, "mask %d: %d contours, cv2 %d\n", k, c.n, cJSON_GetArraySize(rc));
        }
        total += c.n, merged += c.n > 1;
        cy_contours_free(&c);
        int *xy, np_;
        CHECK(cy_mask_to_segment(mask, H, W, &xy, &np_, &err) == CY_OK, "%s", err.msg);
        if (!same_points(xy, np_, cJSON_GetObjectItemCaseSensitive(e, "segment"))) {
            bad_segments++;
            fprintf(stderr, "mask %d: segment of %d points differs\n", k, np_);
        }
        free(xy);
    }
    printf("  %d masks, %d contours (%d masks merged from several): %d contour sets and %d segments differ\n", K,
           total, merged, bad_contours, bad_segments);
    CHECK(bad_contours == 0, "%d masks' contours differ from cv2", bad_contours);
    CHECK(bad_segments == 0, "%d masks' segments differ from masks2segments", bad_segments);
    CHECK(total > 200 && merged > 20, "the fixture has many contours (%d)", total);
    int *xy, np_;
    memset(mask, 0, (size_t)H * W);
    CHECK(cy_mask_to_segment(mask, H, W, &xy, &np_, &err) == CY_OK && np_ == 0 && !xy, "empty mask: no points");
    CHECK(cy_mask_to_segment(mask, 0, W, &xy, &np_, &err) == CY_ERR_ARG, "bad size refused");
    free(mask);
    cJSON_Delete(root);
    cy_npy_free(&m);
    return test_summary();
}
