/* The fuzz harness (tests/fuzz/fuzz_pt.c) over the committed inputs, as a
 * CI smoke run: the seed corpus (valid checkpoints and pickles of every
 * protocol, each must read) and tests/fuzz/regressions/ (inputs that once
 * crashed or hung the reader, or crafted ones: each must come back, in
 * time). Under CYOLO_SANITIZE this is the sanitizer run of the harness. */
#include <dirent.h>
#include <time.h>
#include "fuzz/fuzz_pt.c"
#include "test_util.h"

static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

/* 1 when the input reads (zip or bare pickle) without error. */
static int reads(const uint8_t *b, size_t n) {
    cy_error err = {0};
    cy_pt_value *v = NULL;
    cy_status s;
    if (n >= 2 && b[0] == 'P' && b[1] == 'K') {
        s = cy_pt_read_buffer(b, n, "seed", &v, &err);
    } else {
        cy_pickle_storages st = {0};
        s = cy_pickle_load(b, n, "seed", &v, &st, &err);
        cy_pickle_storages_free(&st);
    }
    if (s) fprintf(stderr, "  %s\n", err.msg);
    cy_pt_value_free(v);
    return s == CY_OK;
}

static int replay(const char *dir, int must_read) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n = 0;
        uint8_t *b = slurp(path, &n);
        if (!b) continue;
        clock_t t0 = clock();
        LLVMFuzzerTestOneInput(b, n);
        double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
        CHECK(s < 2.0, "%s took %.2f s", path, s);
        if (must_read) CHECK(reads(b, n), "seed %s reads", path);
        free(b);
        count++;
    }
    closedir(d);
    return count;
}

int main(void) {
    int seeds = replay("tests/fuzz/corpus", 1);
    CHECK(seeds >= 10, "%d seeds replayed", seeds);
    int reg = replay("tests/fuzz/regressions", 0);
    CHECK(reg >= 1, "%d regression inputs replayed", reg);
    return test_summary();
}
