/* cy_polygons: the polygons of one label file, in one allocation (the
 * offsets first, the points after them) so that one free releases all. */
#include <stdlib.h>
#include <string.h>
#include "data/dataset.h"

cy_status cy_polygons_alloc(cy_polygons *p, int n, int npoints, cy_error *err) {
    memset(p, 0, sizeof *p);
    if (n < 0 || npoints < 0)
        return cy_fail(err, CY_ERR_ARG, "polygons: bad size %d polygons, %d points", n, npoints);
    if (n == 0) return CY_OK;
    size_t head = ((size_t)n + 1) * sizeof(int);
    head = (head + sizeof(float) * 2 - 1) / (sizeof(float) * 2) * (sizeof(float) * 2);
    void *mem = malloc(head + (size_t)npoints * 2 * sizeof(float) + 1);
    if (!mem) return cy_fail(err, CY_ERR_MEMORY, "out of memory (%d polygons, %d points)", n, npoints);
    p->n = n;
    p->start = mem;
    p->xy = (float *)((char *)mem + head);
    p->start[0] = 0;
    p->start[n] = npoints;
    return CY_OK;
}

cy_status cy_polygons_copy(cy_polygons *dst, const cy_polygons *src, cy_error *err) {
    int np = src->n ? src->start[src->n] : 0;
    CY_TRY(cy_polygons_alloc(dst, src->n, np, err));
    if (!src->n) return CY_OK;
    memcpy(dst->start, src->start, ((size_t)src->n + 1) * sizeof(int));
    memcpy(dst->xy, src->xy, (size_t)np * 2 * sizeof(float));
    return CY_OK;
}

void cy_polygons_free(cy_polygons *p) {
    free(p->start);
    memset(p, 0, sizeof *p);
}
