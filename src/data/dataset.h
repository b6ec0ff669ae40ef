/* Detection datasets as Ultralytics defines them: a dataset YAML (path,
 * train, val, test, names, nc, channels), image lists (folders searched
 * recursively, .txt lists, YAML lists), the images/ -> labels/ path swap,
 * YOLO txt labels checked as verify_image_label does, and a label cache
 * beside the labels folder.
 *
 * Facts kept from Ultralytics (data/utils.py check_det_dataset,
 * img2label_paths, verify_image_label; data/base.py get_img_files;
 * data/dataset.py YOLODataset.cache_labels/get_labels):
 *  - a relative `path` is taken relative to the current directory when it
 *    exists there, else relative to the datasets folder (DATASETS_DIR, here
 *    a parameter); cyolo adds a last fallback, the YAML's own folder. No
 *    `path` at all means the YAML's folder. Splits are joined to it; a
 *    string split starting with "../" that does not exist is retried
 *    without that "../". Only `val` is checked at load time.
 *  - image files are matched by suffix (IMG_FORMATS, any case) and sorted;
 *    `fraction` keeps the first round(n * fraction) (ties to even).
 *  - label rows with more than 6 columns make the whole file polygons
 *    (segments); each row keeps its polygon (float32 x, y pairs, as
 *    written) and gets its bounding box (segments2boxes).
 *  - coordinates must be <= 1.01 and every value >= -0.01 (float32
 *    compares), class < nc (unless single_cls); duplicate rows are
 *    removed (the rows are then in sorted order, as np.unique leaves
 *    them; in a polygon file rows are duplicates when class and polygon
 *    bytes repeat, sorted by those bytes, as 8.4.190 does); an empty file
 *    is a background image, a missing one too.
 *  - a segment dataset (cy_label_rules.segments) is stricter, as
 *    Ultralytics 8.4.190 or beyond it: a polygon file may not mix in
 *    5-column rows ("labels mix segment and detection rows"), a polygon
 *    needs 3 points, and every point must lie in [-0.01, 1.01] (Ultralytics
 *    checks only the polygon's box, cyolo each point); a split whose box
 *    and polygon counts differ (some files boxes only) is an error, as in
 *    YOLODataset.verify_labels. A detection split that mixes the two drops
 *    every polygon with Ultralytics' warning.
 *  - a corrupt image or label file drops the image, with a message
 *    "<image>: ignoring corrupt image/label: <why>".
 * Differences: a JPEG without its end marker is not rewritten on disk
 * (Ultralytics re-saves it); it is decoded once and kept if that works.
 * The label cache is cyolo's own binary file (magic, version, a hash of
 * every image and label path, size and mtime, nc and single_cls), so a
 * changed nc or single_cls rebuilds it too. */
#ifndef CY_DATA_DATASET_H
#define CY_DATA_DATASET_H
#include "core/status.h"

/* A malloc'd list of malloc'd strings. */
typedef struct {
    char **v;
    int n, cap;
} cy_strlist;

void cy_strlist_free(cy_strlist *l);
cy_status cy_strlist_push(cy_strlist *l, const char *s, cy_error *err);
cy_status cy_strlist_pushf(cy_strlist *l, cy_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- the dataset YAML ------------------------------------------------- */

enum { CY_SPLIT_TRAIN, CY_SPLIT_VAL, CY_SPLIT_TEST, CY_SPLIT_COUNT };

typedef struct {
    char *yaml_path;              /* as given */
    char *root;                   /* the resolved `path` (absolute) */
    cy_strlist split[CY_SPLIT_COUNT]; /* resolved absolute paths; n == 0: absent or empty */
    int nc;
    char **names;                 /* nc names, indexed by class id */
    int channels;                 /* `channels`, default 3 */
    cy_strlist notes;             /* things said while loading (renamed keys, ignored download) */
} cy_dataset;

typedef struct {
    /* Ultralytics' DATASETS_DIR (its settings' datasets_dir); NULL: none. */
    const char *datasets_dir;
} cy_dataset_params;

/* Reads and checks a dataset YAML. Errors name the YAML (and its line):
 * missing file, not a mapping, 'train'/'val' missing, neither 'names' nor
 * 'nc', names/nc disagreeing, bad class indices, "val: <path> does not
 * exist". `params` may be NULL. Free with cy_dataset_free. */
cy_status cy_dataset_load(cy_dataset **out, const char *yaml_path,
                          const cy_dataset_params *params, cy_error *err);
void cy_dataset_free(cy_dataset *ds);

/* "train", "val", "test" -> CY_SPLIT_*; -1 for anything else. */
int cy_split_index(const char *name);

/* ---- image lists and label paths ----------------------------------- */

/* IMG_FORMATS: bmp dng jpeg jpg mpo png tif tiff webp pfm heic (any case). */
int cy_is_image_suffix(const char *path);

/* get_img_files: every entry a folder (recursive, hidden names skipped as
 * glob does), a text file listing images (a "./" prefix means the list's
 * folder; other relative entries are relative to the current directory as
 * in Ultralytics, falling back to the list's folder when that exists), in
 * the sorted order Ultralytics uses. `prefix` starts error messages
 * ("train: "). Errors: "<prefix><path> does not exist", "No images found". */
cy_status cy_image_files(const char *const *paths, int npaths, const char *prefix,
                         cy_strlist *out, cy_error *err);

/* img2label_paths for one path: the last "/images/" becomes "/labels/" and
 * the suffix ".txt". malloc'd; NULL when out of memory. */
char *cy_img2label_path(const char *im_file);

/* The cache file for a list of label files: the first one's folder with
 * the suffix ".cyolo.cache" (Path.with_suffix, as Ultralytics places its
 * ".cache"; a name of its own, so that neither tool overwrites the other's
 * file: Ultralytics 8.4.37 crashes on a .cache it cannot unpickle).
 * malloc'd. */
char *cy_label_cache_path(const char *first_label_file);

/* ---- labels of one image ------------------------------------------- */

/* The polygons of one label file, in one allocation: polygon i is the
 * points start[i] .. start[i + 1] - 1 of xy. */
typedef struct {
    int n;        /* 0 (a file of box rows, or none) or one per label row */
    int *start;   /* [n + 1]; NULL when n == 0; owns xy too */
    float *xy;    /* [start[n]][2] normalised x, y */
} cy_polygons;

/* n polygons holding npoints points together; start[0] = 0, the rest is
 * the caller's to fill. */
cy_status cy_polygons_alloc(cy_polygons *p, int n, int npoints, cy_error *err);
cy_status cy_polygons_copy(cy_polygons *dst, const cy_polygons *src, cy_error *err);
void cy_polygons_free(cy_polygons *p);

/* What a label file is checked against. */
typedef struct {
    int nc;          /* class count */
    int single_cls;  /* skip the class check */
    int segments;    /* a segment dataset: the stricter polygon rules above */
} cy_label_rules;

typedef enum {
    CY_LABEL_FOUND = 0,  /* a label file with at least one row */
    CY_LABEL_EMPTY,      /* a label file without rows: background */
    CY_LABEL_MISSING,    /* no label file: background */
    CY_LABEL_CORRUPT     /* the image or the label file is bad: dropped */
} cy_label_state;

/* What verify_image_label finds for one image. */
typedef struct {
    cy_label_state state;
    int label_found;     /* the label file exists (also for CORRUPT, as nf) */
    int h, w;            /* image size after EXIF orientation */
    int n;               /* rows */
    float *labels;       /* [n][5] cls cx cy w h, malloc'd (NULL when n == 0) */
    cy_polygons seg;     /* the rows' polygons (seg.n is 0 or n) */
    char *msg;           /* a warning or the corruption reason, or NULL */
} cy_label_check;

/* Parses and checks one label file (no image access). On CY_ERR_FORMAT
 * the file is corrupt and `why` says which line and what; other statuses
 * are real failures (memory). *ndup counts removed duplicate rows. A
 * missing file is *exists = 0 and CY_OK. *rows and *seg are the caller's
 * (free and cy_polygons_free), also empty on failure. */
cy_status cy_label_parse(const char *label_file, const cy_label_rules *rules, int *exists,
                         float **rows, cy_polygons *seg, int *n, int *ndup, char *why,
                         size_t why_len, cy_error *err);

/* The image checks (readable header, both sides >= 10 px, JPEG end
 * marker) and cy_label_parse together. `prefix` starts the message. Only
 * memory failures return an error; everything about the files lands in
 * `out`. Free with cy_label_check_clear. */
cy_status cy_verify_image_label(const char *im_file, const char *label_file,
                                const cy_label_rules *rules, const char *prefix,
                                cy_label_check *out, cy_error *err);
void cy_label_check_clear(cy_label_check *c);

/* ---- one split, checked --------------------------------------------- */

typedef struct {
    char *im_file;
    int h, w;            /* original image size */
    int n;               /* boxes */
    float *labels;       /* [n][5] cls cx cy w h, normalised; NULL when n == 0 */
    cy_polygons seg;     /* one polygon per box, or none (seg.n == 0) */
} cy_det_record;

typedef struct {
    cy_det_record *rec;  /* kept images (corrupt ones dropped), sorted by path */
    int n;
    int total;           /* images listed, after fraction */
    int found, missing, empty, corrupt; /* as Ultralytics' nf, nm, ne, nc */
    long long instances; /* boxes over all records */
    long long polygons;  /* polygons over all records */
    int from_cache;      /* 1: the records came from a valid cache, nothing rescanned */
    int scanned;         /* images verified by this call (0 when from_cache) */
    char *cache_path;
    cy_strlist warnings; /* per-image messages, then dataset-level ones */
} cy_split;

/* Ultralytics applies fraction to the train split only (val and test scan
 * with 1.0); that choice is the caller's. */
typedef struct {
    double fraction;     /* (0, 1]: keep the first round(n * fraction) images */
    int single_cls;      /* every class becomes 0; the class check is skipped */
    int cache;           /* 1: read and write the label cache */
    int threads;         /* image checks in parallel; <= 0: OpenMP's default */
    const char *prefix;  /* starts every message, e.g. "train: " */
    int segments;        /* 1: task=segment: polygons required (cy_label_rules.segments) */
} cy_scan_params;

cy_scan_params cy_scan_default_params(void);

/* Lists, checks (or reads from a valid cache) and returns the images of a
 * split. Errors: no images, no valid images (naming the first reason),
 * and with p->segments a split whose box and polygon counts differ
 * (naming a label file without polygons). */
cy_status cy_split_scan_paths(cy_split **out, const char *const *paths, int npaths, int nc,
                              const cy_scan_params *p, cy_error *err);
/* The same for a split of a loaded dataset ("train", "val" or "test"). */
cy_status cy_split_scan(cy_split **out, const cy_dataset *ds, const char *split,
                        const cy_scan_params *p, cy_error *err);
void cy_split_free(cy_split *s);

/* "Scanning <cache>... 8 images, 2 backgrounds, 1 corrupt" as Ultralytics
 * prints it (images = found label files). */
void cy_split_summary(const cy_split *s, char *buf, size_t len);

#endif
