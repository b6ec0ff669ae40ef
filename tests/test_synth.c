/* The built-in synthetic dataset: Ultralytics layout, valid YOLO labels,
 * deterministic bytes for a seed, different for another seed, and a second
 * call on a complete set changes nothing. */
#include <sys/stat.h>
#include "data/synth.h"
#include "io/image.h"
#include "test_util.h"

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) ? -1 : (long)st.st_size;
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

int main(void) {
    char dir[] = "/tmp/cyolo_synth_XXXXXX", a[512], b[512], c[512], p1[600], p2[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    snprintf(c, sizeof c, "%s/c", dir);
    cy_synth_params p = {.n_train = 6, .n_val = 3, .imgsz = 96, .max_objects = 5, .seed = 1};
    cy_error err = {0};
    CHECK(cy_synth_generate(a, &p, &err) == CY_OK, "%s", err.msg);
    CHECK(cy_synth_generate(b, &p, &err) == CY_OK, "%s", err.msg);
    p.seed = 2;
    CHECK(cy_synth_generate(c, &p, &err) == CY_OK, "%s", err.msg);
    int labels = 0, bad = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(p1, sizeof p1, "%s/images/train/%06d.jpg", a, i);
        snprintf(p2, sizeof p2, "%s/images/train/%06d.jpg", b, i);
        CHECK(file_size(p1) > 0 && same_file(p1, p2), "image %d identical for one seed", i);
        cy_image im;
        CHECK(cy_image_read(p1, &im, &err) == CY_OK && im.w == 96 && im.h == 96, "image %d readable", i);
        cy_image_free(&im);
        snprintf(p1, sizeof p1, "%s/labels/train/%06d.txt", a, i);
        FILE *f = fopen(p1, "r");
        int cls;
        float x, y, w, h;
        while (f && fscanf(f, "%d %f %f %f %f", &cls, &x, &y, &w, &h) == 5) {
            labels++;
            bad += cls < 0 || cls >= CY_SYNTH_CLASSES || x < 0 || x > 1 || y < 0 || y > 1 || w <= 0 || w > 1 ||
                   h <= 0 || h > 1;
        }
        if (f) fclose(f);
    }
    CHECK(labels >= 6 && bad == 0, "%d labels, %d invalid", labels, bad);
    snprintf(p1, sizeof p1, "%s/images/train/000000.jpg", a);
    snprintf(p2, sizeof p2, "%s/images/train/000000.jpg", c);
    CHECK(!same_file(p1, p2), "another seed gives another image");
    snprintf(p1, sizeof p1, "%s/images/val/000002.jpg", a);
    CHECK(file_size(p1) > 0, "val images");
    snprintf(p1, sizeof p1, "%s/synth.yaml", a);
    struct stat s1, s2;
    stat(p1, &s1);
    p.seed = 1;
    CHECK(cy_synth_generate(a, &p, &err) == CY_OK, "%s", err.msg);
    stat(p1, &s2);
    CHECK(s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec && s1.st_mtim.tv_sec == s2.st_mtim.tv_sec,
          "a complete set is not regenerated");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return test_summary();
}
