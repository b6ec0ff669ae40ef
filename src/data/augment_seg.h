/* Polygon helpers shared by the augmentation files (augment*.c), not a
 * public interface. A sample's polygons are a cy_polygons in pixels, one
 * per box (or none); these keep that pairing through filtering,
 * concatenation and the coordinate maps, in float32 as numpy does. */
#ifndef CY_DATA_AUGMENT_SEG_H
#define CY_DATA_AUGMENT_SEG_H
#include "data/augment.h"

static inline float *cy_aug_seg_pts(const cy_polygons *p, int i) { return p->xy + 2 * (size_t)p->start[i]; }
static inline int cy_aug_seg_len(const cy_polygons *p, int i) { return p->start[i + 1] - p->start[i]; }

/* Polygons of a (all) then of b (bidx[0..nb) or all of b when bidx is NULL)
 * into *out (replaced), resampled to the longest count when counts differ
 * (Instances.concatenate). */
cy_status cy_aug_seg_concat(const cy_polygons *a, const cy_polygons *b, const int *bidx, int nb,
                            cy_polygons *out, cy_error *err);
/* Keeps polygon i where keep[i] (in place, order kept). */
void cy_aug_seg_compact(cy_polygons *p, const uint8_t *keep);
/* x += dx, y += dy for polygon i (float32 adds). */
void cy_aug_seg_shift(cy_polygons *p, int i, float dx, float dy);
/* Every point clipped to [x1, x2] x [y1, y2] (np.clip). */
void cy_aug_seg_clip(cy_polygons *p, int i, float x1, float y1, float x2, float y2);
/* Boxes and polygons of s together: keep[i] (0/1), n shrinks. */
void cy_aug_sample_compact(cy_aug_sample *s, const uint8_t *keep);
/* The polygons after RandomPerspective's M (apply_segments + clip + the
 * box_candidates filter, area_thr 0.01): s->boxes become the polygons'
 * boxes. sc is the drawn scale. */
cy_status cy_aug_seg_perspective(cy_aug_sample *s, const double M[9], int out_w, int out_h, double sc,
                                 cy_error *err);
/* Whether a and b can be concatenated: not one with polygons and the other
 * with boxes but none. */
cy_status cy_aug_seg_compatible(const cy_aug_sample *a, const cy_aug_sample *b, const char *what,
                                cy_error *err);

#endif
