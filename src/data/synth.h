/* The built-in datasets: deterministic synthetic sets, generated on first
 * use so that `cyolo train` works with no download. Filled shapes (one
 * class per shape) of varied size, colour, rotation and overlap on textured
 * backgrounds, written as JPEG images + YOLO txt labels + a dataset YAML in
 * Ultralytics' layout:
 *   <root>/images/{train,val}/NNNNNN.jpg, <root>/labels/{train,val}/NNNNNN.txt,
 *   <root>/synth.yaml (detection) or <root>/synth-seg.yaml (segment).
 *
 * The segment set has the same images, byte for byte, as the detection set
 * of the same parameters; its labels are Ultralytics' segment rows
 * `cls x1 y1 x2 y2 ...` (normalised), each shape's outline as drawn:
 *  - square 4 corners, triangle 3, star 10, cross 12 (the drawn vertices);
 *  - circle: a regular polygon inscribed in the drawn circle, with as many
 *    vertices as keep the gap between arc and chord (the sagitta) at most
 *    0.2 px, at least 24: ceil(pi / acos(1 - 0.2 / r)), so a polygon of a
 *    70 px radius has 42 points, one of 900 px 150;
 *  - ring: the outer circle, a zero-width bridge at angle 0 and the inner
 *    circle (0.55 r) the other way round, as Ultralytics' merge_multi_segment
 *    joins a hole into one polygon; cv2.fillPoly's edge pairs leave the
 *    hole empty;
 *  - a shape crossing the border is clipped to the image square
 *    (Sutherland-Hodgman), so every point lies in [0, 1];
 *  - occlusion: a shape drawn later lies on top (the generator never lets
 *    one cover more than half of an earlier one's box), and the shape below
 *    keeps its full outline, as Ultralytics' datasets label whole objects
 *    (polygons2masks_overlap then puts the smaller one on top);
 *  - an object is labelled when the detection set labels it (its clipped
 *    box at least 4 px both ways) and its clipped outline's box is too, so
 *    a segment file can hold fewer rows than its detection twin (a shape
 *    whose box reaches into the image while its outline does not). */
#ifndef CY_DATA_SYNTH_H
#define CY_DATA_SYNTH_H
#include <stdint.h>
#include "core/status.h"
#include "io/image.h"

#define CY_SYNTH_CLASSES 6
#define CY_SYNTH_MAX_OBJECTS 64

typedef struct {
    int n_train, n_val;     /* 320, 80 */
    int imgsz;              /* 320 */
    int max_objects;        /* per image, 1..max: 6 */
    uint64_t seed;          /* 0 */
    int segment;            /* 0: boxes, synth.yaml; 1: polygons, synth-seg.yaml */
} cy_synth_params;

cy_synth_params cy_synth_default_params(void);

/* The class names, in class-id order. */
extern const char *const cy_synth_names[CY_SYNTH_CLASSES];

/* The dataset YAML's file name in root: "synth.yaml" or "synth-seg.yaml". */
const char *cy_synth_yaml_name(const cy_synth_params *p);

/* Writes the dataset under root (created). An existing complete dataset with
 * the same parameters (recorded in its YAML's first line) is left as it is. */
cy_status cy_synth_generate(const char *root, const cy_synth_params *p, cy_error *err);

/* ---- one image, for tests and tools ----------------------------------- */

/* A shape as drawn, in pixels: class, centre, radius, rotation. */
typedef struct {
    int cls;
    double cx, cy, r, a;
} cy_synth_object;

/* Draws image `index` of the train (val = 0) or val split into im (imgsz
 * square, 3 channels, allocated by the caller) and gives the shapes the
 * detection labels list, in label order (at most CY_SYNTH_MAX_OBJECTS). */
cy_status cy_synth_image(const cy_synth_params *p, int val, int index, cy_image *im, cy_synth_object *obj,
                         int *n, cy_error *err);

/* The shape's outline clipped to the S x S image, in pixels: *xy is
 * malloc'd [*n][2] (the caller frees it); *n may be 0 when nothing of the
 * shape is inside. */
cy_status cy_synth_polygon(const cy_synth_object *o, int S, double **xy, int *n, cy_error *err);

/* The pixels the generator paints for the shape alone: mask [S][S] is its
 * anti-aliased coverage, 0 (untouched) to 255 (wholly inside). Note that
 * cv2.fillPoly, hence Ultralytics' polygon2mask, fills every pixel the
 * truncated outline passes through, so an exact outline's raster matches
 * the pixels of coverage > 0, about half a pixel beyond those of
 * coverage >= 128 all round. */
cy_status cy_synth_object_mask(const cy_synth_object *o, int S, uint8_t *mask, cy_error *err);

#endif
