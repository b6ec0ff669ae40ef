/* Gt masks for a batch whose loader made none: the records' polygons,
 * through the batch's letterbox (point * original size * ratio + pad), as
 * polygons2masks at mask_ratio 4, one mask per target row (overlap = 0, so
 * the rows need no reordering). The loader's own masks (Ultralytics'
 * Format, overlap_mask) replace these once it makes them (segments=1). */
#include <stdlib.h>
#include <string.h>
#include "data/polygon_mask.h"
#include "engine/validate_masks.h"

cy_status cy_val_masks_from_records(cy_batch *b, const cy_split *split, uint8_t **buf, cy_error *err) {
    int mh = b->h / 4, mw = b->w / 4;
    size_t hw = (size_t)mh * mw;
    uint8_t *m = realloc(*buf, (b->ntargets ? (size_t)b->ntargets : 1) * hw);
    if (!m) return cy_fail(err, CY_ERR_MEMORY, "validation masks: out of memory");
    *buf = m;
    memset(m, 0, (size_t)b->ntargets * hw);
    int row = 0;
    for (int i = 0; i < b->n; i++) {
        const cy_det_record *r = &split->rec[b->index[i]];
        int nl = 0;
        for (int t = 0; t < b->ntargets; t++) nl += (int)b->targets[6 * t] == i;
        if (nl != r->n || r->seg.n != r->n)
            return cy_fail(err, CY_ERR_ARG, "validation masks: %s has %d polygons for %d target rows", r->im_file,
                           r->seg.n, nl);
        cy_polygons p;
        CY_TRY(cy_polygons_copy(&p, &r->seg, err));
        double sx = r->w * b->ratio[i], sy = r->h * b->ratio[i];
        for (int k = 0; p.n && k < p.start[p.n]; k++) {
            p.xy[2 * k] = (float)(p.xy[2 * k] * sx + b->pad[2 * i]);
            p.xy[2 * k + 1] = (float)(p.xy[2 * k + 1] * sy + b->pad[2 * i + 1]);
        }
        cy_status st = cy_polygons2masks(b->h, b->w, &p, 1, 4, m + (size_t)row * hw, err);
        cy_polygons_free(&p);
        CY_TRY(st);
        row += nl;
    }
    b->masks = m, b->mask_h = mh, b->mask_w = mw, b->overlap = 0;
    return CY_OK;
}
