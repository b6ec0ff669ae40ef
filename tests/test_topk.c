/* cy_topk_indices (heap selection) equals a full stable sort by value
 * descending, index ascending, on random data with many exact ties. */
#include "model/topk.h"
#include "test_util.h"

typedef struct { float v; int i; } pair;
static int by_desc(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

int main(void) {
    uint64_t seed = 42;
    static const int sizes[][2] = {{1, 1}, {5, 5}, {10, 3}, {1000, 300}, {8400, 300}, {24000, 300}, {77, 76}};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        int n = sizes[t][0], k = sizes[t][1];
        float *v = malloc(n * sizeof *v);
        pair *p = malloc(n * sizeof *p);
        int *idx = malloc(k * sizeof *idx);
        for (int i = 0; i < n; i++) {
            v[i] = (float)(test_rand_u32(&seed) % 50) / 7.0f; /* 50 distinct values: ties everywhere */
            p[i].v = v[i];
            p[i].i = i;
        }
        qsort(p, n, sizeof *p, by_desc);
        cy_topk_indices(v, n, k, idx);
        int same = 1;
        for (int j = 0; j < k; j++) same &= idx[j] == p[j].i;
        CHECK(same, "n=%d k=%d: heap top-k differs from the stable sort", n, k);
        free(v);
        free(p);
        free(idx);
    }
    return test_summary();
}
