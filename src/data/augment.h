/* Training augmentations with Ultralytics' semantics (ultralytics/data/
 * augment.py, 8.3/8.4): Mosaic (4 tiles), RandomPerspective, MixUp, CutMix,
 * RandomHSV, RandomFlip, LetterBox, and the v8_transforms order
 *
 *   Mosaic -> RandomPerspective -> MixUp -> CutMix -> RandomHSV
 *          -> RandomFlip(vertical) -> RandomFlip(horizontal)
 *
 * with CopyPaste (copy_paste > 0, samples with polygons only) after Mosaic
 * in flip mode, after RandomPerspective in mixup mode (Albumentations is
 * optional upstream and skipped). When mosaic is off (close_mosaic, or its
 * draw fails) the RandomPerspective pre-transform is LetterBox(imgsz) and no
 * border (8.4.37's order; 8.4.190 warps the load-resized image directly).
 *
 * Images are cy_image (uint8 RGB HWC). Upstream works on BGR; every colour
 * operation here is written so that RGB in gives what BGR in gives there.
 * Labels are boxes in pixels (x1, y1, x2, y2) with an integer class and,
 * for segment data, one polygon per box (pixels too), kept consistent with
 * the image through every transform: one code path whatever geometry a
 * sample carries, the polygon steps running only when polygons are there.
 * Polygon arithmetic is float32 in numpy's order (Ultralytics keeps
 * segments as float32; its matrix products are OpenBLAS sgemm, whose FMA
 * chain is reproduced), so masks made from them match byte for byte.
 *
 * Pixel resampling is plain C that follows OpenCV's uint8 fixed-point
 * paths: cv2.resize INTER_LINEAR (half-pixel centres, 11-bit weights) and
 * cv2.warpAffine / warpPerspective (inverse map, 1/32-pixel coordinates,
 * 15-bit bilinear weights, BORDER_CONSTANT 114 blended at the edges).
 * Randomness comes only from the cy_aug_rng passed in: same seed, same bytes.
 * Nothing here keeps global state; every function is safe to call from
 * several loader threads with their own rng. */
#ifndef CY_DATA_AUGMENT_H
#define CY_DATA_AUGMENT_H
#include <stdint.h>
#include "core/status.h"
#include "data/dataset.h"
#include "io/image.h"

/* ---- randomness: PCG32 (O'Neill), 64-bit state, odd stream increment ---- */

typedef struct {
    uint64_t state, inc;
} cy_aug_rng;

void cy_aug_rng_seed(cy_aug_rng *r, uint64_t seed, uint64_t stream);
uint32_t cy_aug_rng_u32(cy_aug_rng *r);
double cy_aug_rng_unit(cy_aug_rng *r);                      /* [0, 1), 53 bits */
double cy_aug_rng_uniform(cy_aug_rng *r, double lo, double hi); /* lo + (hi-lo)*unit */
int cy_aug_rng_int(cy_aug_rng *r, int n);                   /* [0, n), n >= 1, unbiased */
double cy_aug_rng_normal(cy_aug_rng *r);
double cy_aug_rng_gamma(cy_aug_rng *r, double shape);       /* scale 1 */
double cy_aug_rng_beta(cy_aug_rng *r, double a, double b);

/* ---- samples: one image and its boxes ---- */

typedef struct {
    int cls;
    float x1, y1, x2, y2; /* pixels, x1 <= x2, y1 <= y2 */
} cy_aug_box;

typedef struct {
    cy_image img;      /* owned */
    cy_aug_box *boxes; /* owned, n used of cap */
    int n, cap;
    /* owned: none (seg.n == 0, detection) or one polygon per box, in box
     * order, pixel coordinates of img (data/dataset.h's layout) */
    cy_polygons seg;
} cy_aug_sample;

void cy_aug_sample_free(cy_aug_sample *s);
cy_status cy_aug_sample_reserve(cy_aug_sample *s, int cap, cy_error *err);
cy_status cy_aug_sample_push(cy_aug_sample *s, cy_aug_box b, cy_error *err);
cy_status cy_aug_sample_copy(cy_aug_sample *dst, const cy_aug_sample *src, cy_error *err);
/* Replaces s->img (freeing the old one) with *img, taking ownership. */
void cy_aug_sample_set_image(cy_aug_sample *s, cy_image *img);
/* Gives s (s->n boxes, already in pixels of s->img) the label's normalised
 * polygons (norm->n == s->n) as YOLODataset.update_labels_info and
 * denormalize do: every polygon resampled (resample_segments) to
 * max(1000, longest + 1 when the longest exceeds 1000) points, then times
 * the image's width and height in float32. Replaces s->seg. */
cy_status cy_aug_sample_set_polygons(cy_aug_sample *s, const cy_polygons *norm, cy_error *err);

/* ---- hyperparameters (names and defaults of ultralytics/cfg/default.yaml) ---- */

typedef struct {
    float hsv_h, hsv_s, hsv_v;                      /* 0.015 0.7 0.4 */
    float degrees, translate, scale, shear, perspective; /* 0 0.1 0.5 0 0 */
    float flipud, fliplr;                           /* 0 0.5 */
    float mosaic, mixup, cutmix;                    /* 1 0 0 */
    float copy_paste;     /* 0: fraction of a sample's objects pasted (polygons only) */
    int copy_paste_mixup; /* copy_paste_mode: 0 "flip" (default), 1 "mixup" */
} cy_aug_hyp;

cy_aug_hyp cy_aug_default_hyp(void);
/* What Ultralytics' close_mosaic does: mosaic = mixup = cutmix = 0. */
void cy_aug_close_mosaic(cy_aug_hyp *hyp);

/* ---- resampling kernels ---- */

/* dst is allocated (h x w x src->c); cv2.resize(src, (w, h), INTER_LINEAR). */
cy_status cy_aug_resize(const cy_image *src, int h, int w, cy_image *dst, cy_error *err);

/* M is the forward 3x3 map src -> dst (row-major); dst must be allocated
 * with its size set. Affine uses M's first two rows. Every dst pixel is
 * written; outside the source it is `border` (114 in training). */
void cy_aug_warp_affine(const cy_image *src, cy_image *dst, const double M[9], uint8_t border);
void cy_aug_warp_perspective(const cy_image *src, cy_image *dst, const double M[9], uint8_t border);

/* ---- load_image: long side to imgsz, aspect kept (Ultralytics rect_mode) ---- */

/* h, w after load_image: r = imgsz / max(h0, w0); if r != 1,
 * w = min(ceil(w0 r), imgsz), h = min(ceil(h0 r), imgsz). */
void cy_aug_load_shape(int h0, int w0, int imgsz, int *h, int *w);
/* Resizes s->img to cy_aug_load_shape and scales its boxes with it. */
cy_status cy_aug_load_resize(cy_aug_sample *s, int imgsz, cy_error *err);

/* ---- LetterBox ---- */

typedef struct {
    int auto_pad;   /* pad to a multiple of stride only (minimum rectangle); training: 0 */
    int scale_fill; /* stretch to new shape, no padding */
    int scaleup;    /* allow r > 1; training: 1, validation: 0 */
    int center;     /* padding split on both sides; else bottom/right only */
    int stride;     /* 32 */
    uint8_t pad_value; /* 114 */
} cy_aug_letterbox_params;

typedef struct {
    double ratio_w, ratio_h; /* box scale */
    int left, top;           /* box offset, pixels */
    int unpad_w, unpad_h;    /* resized image size before padding */
} cy_aug_letterbox_info;

cy_aug_letterbox_params cy_aug_letterbox_default(void); /* 0, 0, 1, 1, 32, 114 */
/* Resizes (INTER_LINEAR) and pads s to new_h x new_w (less with auto_pad);
 * boxes follow. info may be NULL. */
cy_status cy_aug_letterbox(cy_aug_sample *s, int new_h, int new_w,
                           const cy_aug_letterbox_params *p,
                           cy_aug_letterbox_info *info, cy_error *err);

/* ---- Mosaic (4 tiles) ---- */

/* The mosaic border: -imgsz // 2 (floor division, as Python). */
int cy_aug_mosaic_border(int imgsz);
/* tiles[0] top-left .. tiles[3] bottom-right around the centre (xc, yc) of a
 * 2*imgsz square canvas filled with 114; boxes shifted, clipped to the
 * canvas, zero-area ones dropped. Tiles are read, not consumed. */
cy_status cy_aug_mosaic4_at(const cy_aug_sample *const tiles[4], int imgsz, int xc, int yc,
                            cy_aug_sample *out, cy_error *err);
/* Draws yc then xc = int(uniform(imgsz/2, 1.5 imgsz)) as upstream. */
cy_status cy_aug_mosaic4(const cy_aug_sample *const tiles[4], int imgsz, cy_aug_rng *rng,
                         cy_aug_sample *out, cy_error *err);

/* ---- RandomPerspective ---- */

/* The random draws of one RandomPerspective call, in upstream order. */
typedef struct {
    double persp_x, persp_y; /* P[2,0], P[2,1] */
    double angle;            /* degrees, counter-clockwise as getRotationMatrix2D */
    double scale;
    double shear_x, shear_y; /* degrees */
    double trans_x, trans_y; /* fractions of the output size, 0.5 = centred */
} cy_aug_affine_draw;

void cy_aug_affine_sample(const cy_aug_hyp *hyp, cy_aug_rng *rng, cy_aug_affine_draw *d);
/* M = T @ S @ R @ P @ C, with C centring the input (in_w x in_h) and T
 * placing it in the output (out_w x out_h). Each factor is float32 and the
 * products are numpy's float32 matmul (OpenBLAS: acc = a0*b0, then two
 * fmaf), left to right, so M has upstream's exact bits. */
void cy_aug_affine_matrix(const cy_aug_affine_draw *d, int in_w, int in_h, int out_w,
                          int out_h, double M[9]);

/* Upstream box_candidates(box1, box2, wh_thr=2, ar_thr=100, area_thr=0.1):
 * box1 is the box before the transform times the scale, box2 after. */
int cy_aug_box_candidate(const cy_aug_box *before_scaled, const cy_aug_box *after,
                         float wh_thr, float ar_thr, float area_thr);

/* segment2box (utils/ops.py, 8.4.190): the box of a polygon's part inside a
 * w x h image: its inside points, its edges' crossings of the borders and
 * the image corners the polygon covers (pointPolygonTest >= 0); all zero
 * when the polygon lies outside. float32 throughout. */
void cy_aug_segment2box(const float *xy, int npts, int w, int h, float box[4]);

/* Applies a drawn transform to s: the output is (w + 2 border) x (h + 2 border),
 * the image is warped (affine unless `perspective` is nonzero) unless the
 * matrix is the identity and border is 0; boxes' four corners are mapped,
 * enclosed, clipped and filtered by box_candidates. With polygons
 * (apply_segments): the points are mapped, each box becomes
 * cy_aug_segment2box of its polygon, the points are clipped to that box and
 * then to the image, and box_candidates keeps area ratios above 0.01. */
cy_status cy_aug_perspective_apply(cy_aug_sample *s, const cy_aug_affine_draw *d,
                                   int perspective, int border, cy_error *err);
/* RandomPerspective with the hyp's ranges; border = cy_aug_mosaic_border(imgsz)
 * after a mosaic, 0 otherwise. */
cy_status cy_aug_random_perspective(cy_aug_sample *s, const cy_aug_hyp *hyp, int border,
                                    cy_aug_rng *rng, cy_error *err);

/* ---- colour and flips ---- */

/* RandomHSV with gains already drawn (r = uniform(-1, 1) * gain per channel):
 * RGB -> HSV (OpenCV uint8, H in 0..179), the upstream LUTs (hue additive mod
 * 180, saturation and value multiplicative, saturation 0 kept), HSV -> RGB. */
void cy_aug_hsv_apply(cy_image *img, double rh, double rs, double rv);
/* Draws the three gains (when any gain is nonzero) and applies them. */
void cy_aug_random_hsv(cy_image *img, float hgain, float sgain, float vgain, cy_aug_rng *rng);

void cy_aug_fliplr(cy_aug_sample *s);
void cy_aug_flipud(cy_aug_sample *s);
/* One draw per call, flip when it is < p, as upstream RandomFlip. */
void cy_aug_random_flip(cy_aug_sample *s, int vertical, float p, cy_aug_rng *rng);

/* ---- MixUp / CutMix (other: a second pre-transformed sample of the same size) ---- */

/* Concatenations (MixUp, CutMix, CopyPaste) keep polygons with their boxes
 * and, as Instances.concatenate, resample every polygon to the longest
 * count when the counts differ. A sample with boxes but no polygons cannot
 * be mixed with one that has polygons (CY_ERR_ARG). */

/* img = (img * r + other * (1 - r)) truncated, r ~ Beta(32, 32); boxes concatenated. */
cy_status cy_aug_mixup_apply(cy_aug_sample *s, const cy_aug_sample *other, double r,
                             cy_error *err);
cy_status cy_aug_mixup(cy_aug_sample *s, const cy_aug_sample *other, cy_aug_rng *rng,
                       cy_error *err);
/* CutMix(beta=1, num_areas=3): picks one of 3 random areas that overlaps no
 * box of s, pastes other's pixels there and the boxes of other that lie at
 * least 10% inside it (clipped to it). May leave s unchanged. */
cy_status cy_aug_cutmix(cy_aug_sample *s, const cy_aug_sample *other, cy_aug_rng *rng,
                        cy_error *err);

/* CopyPaste (8.4.190) with its p = hyp copy_paste: the objects of `other`
 * (NULL: flip mode, s's own objects mirrored left-right) whose boxes cover
 * less than 30% of every box of s (bbox_ioa over s's box), fewest overlaps
 * first (a stable order; numpy's argsort may order ties differently beyond
 * 16 objects), the first round(p * count) of them: their polygons filled
 * (cv2.drawContours FILLED) into a paste mask, other's (or the mirrored)
 * pixels copied under it, their boxes, classes and polygons appended. No
 * draws. Nothing happens without polygons or with p == 0. */
cy_status cy_aug_copy_paste(cy_aug_sample *s, const cy_aug_sample *other, float p, cy_error *err);

/* ---- Format for segments ---- */

/* The masks of one finished sample at (h / ratio) x (w / ratio), as
 * Format(return_mask=True) makes them. overlap: `masks` gets one index mask
 * (polygons2masks_overlap) and order[k] the box shown by value k + 1: the
 * sample's target rows are to be written in that order (Format's sorted_idx
 * reorder); at most 255 boxes. !overlap: `masks` gets s->n 0/1 masks in box
 * order and order the identity. No boxes: an all-zero mask (overlap) or
 * nothing. order has room for s->n ints; CY_ERR_ARG when s has boxes
 * without polygons. */
cy_status cy_aug_format_masks(const cy_aug_sample *s, int ratio, int overlap, uint8_t *masks, int *order,
                              cy_error *err);

/* ---- the training pipeline (v8_transforms) ---- */

/* Loads image `index` as Ultralytics' get_image_and_label does: decoded,
 * resized with cy_aug_load_resize(imgsz), boxes in pixels of that image.
 * `out` arrives zeroed; the pipeline frees it. */
typedef cy_status (*cy_aug_load_fn)(void *ctx, int index, cy_aug_sample *out, cy_error *err);

typedef struct {
    int imgsz;
    cy_aug_hyp hyp;    /* cy_aug_close_mosaic(&hyp) for the last epochs */
    int n_images;      /* dataset size; mosaic / mixup partners are drawn from it */
    cy_aug_load_fn load;
    void *ctx;
    /* Optional: picks a Mosaic partner index (upstream draws them from its
     * buffer of recently loaded images, see data/mosaic_buffer.h); NULL =
     * uniform over n_images. MixUp and CutMix partners are always uniform. */
    int (*pick)(void *ctx, cy_aug_rng *rng);
    /* Rectangular training (rect=True): without mosaic the LetterBox goes to
     * this batch shape (h, w) instead of imgsz x imgsz; 0: square. */
    int rect_h, rect_w;
} cy_aug_pipeline;

/* One training sample, imgsz x imgsz, boxes in its pixels. out arrives
 * zeroed or previously freed. */
cy_status cy_aug_train_sample(const cy_aug_pipeline *p, int index, cy_aug_rng *rng,
                              cy_aug_sample *out, cy_error *err);

#endif
