/* Batches for training and validation from a checked split: decode, resize
 * (load_image), the v8 augmentations (train) or a letterbox (val), then
 * float NCHW in [0, 1] and YOLO target rows. Images of a batch are prepared
 * in parallel (`workers` threads); every image's randomness comes from
 * (seed, epoch, image index), so a batch does not depend on thread timing.
 * Mosaic partners come from Ultralytics' per-worker buffer of recently
 * loaded images (data/mosaic_buffer.h, `mosaic_buffers` lanes, one unless
 * set; uniform with cache_ram, as upstream with cache=ram): a batch is the
 * same for a given seed whatever `workers` is.
 *
 * With workers >= 1 a producer thread builds the next batches (up to
 * min(workers, 2) ahead) while the caller works on the current one, as
 * PyTorch's DataLoader workers do; workers = 0 builds each batch in the
 * caller. Asking for batches in order 0, 1, 2, ... keeps the producer
 * ahead; any other request (or a new epoch, new hyp) restarts it there.
 *
 * rect (Ultralytics' rect=True, and always for validation there): images
 * sorted by aspect ratio (h / w, stable), each batch letterboxed to its own
 * shape, ceil(shape * imgsz / 32 + pad) * 32 with the batch's extreme
 * aspect ratio (BaseDataset.set_rectangle); training then runs without
 * mosaic, mixup and cutmix, and without shuffling when the shapes differ. */
#ifndef CY_DATA_LOADER_H
#define CY_DATA_LOADER_H
#include <stdint.h>
#include "data/augment.h"
#include "data/dataset.h"

typedef struct {
    int imgsz;
    int augment;         /* 1: training pipeline (mosaic ...), 0: letterbox */
    cy_aug_hyp hyp;      /* training augmentation */
    uint64_t seed;
    int workers;         /* threads for a batch; 0: one, in the caller (no prefetch) */
    int cache_ram;       /* keep every resized image in memory after its first load */
    int rect;            /* rectangular batches (see above) */
    double pad;          /* rect padding in strides: 0 train, 0.5 val (Ultralytics) */
    int batch;           /* rect: the batch size the shapes are computed for */
    int mosaic_buffers;  /* Ultralytics loader workers whose Mosaic buffers are replayed; 0: one,
                          * as Ultralytics trains on CPU (it sets workers=0 there) */
    int segments, mask_ratio, overlap_mask; /* segment datasets: batch masks (see cy_batch) */
} cy_loader_params;

typedef struct cy_loader cy_loader;

/* A prepared batch (owned by the loader, valid until the next batch). */
typedef struct {
    int n, h, w;           /* images, height, width (imgsz, or the rect shape) */
    float *x;              /* [n][3][h][w] RGB / 255 */
    float *targets;        /* [ntargets][6] batch_idx, cls, cx, cy, w, h (normalised to h, w) */
    int ntargets;
    const int *index;      /* [n] record index of each image */
    /* validation: how each image maps back to its original pixels */
    const double *ratio;   /* [n] letterbox scale */
    const double *pad;     /* [n][2] left, top */
    /* segments: masks at (h / mask_ratio, w / mask_ratio); NULL otherwise.
     * overlap = 1: [n][mask_h][mask_w] index masks, value k + 1 is the k-th
     * target row of that image (rows grouped by image, in order);
     * overlap = 0: [ntargets][mask_h][mask_w] 0/1, in target-row order. */
    int mask_h, mask_w;
    int overlap;
    uint8_t *masks;
} cy_batch;

cy_status cy_loader_create(cy_loader **out, const cy_split *split, const cy_loader_params *p, cy_error *err);
void cy_loader_free(cy_loader *l);
/* The loader's batches are RGB (3 channels): a model with other input
 * channels (YAML `channels: 1`) is refused, naming it. */
cy_status cy_loader_check_channels(int model_channels, const char *model, cy_error *err);

/* Orders the images for an epoch: a seeded shuffle (train) or file order
 * (aspect-ratio order with rect). shuffle is ignored when rect batches
 * have different shapes (see cy_loader_can_shuffle). */
void cy_loader_epoch(cy_loader *l, int epoch, int shuffle);
/* 0 when rect batch shapes differ: Ultralytics then turns shuffle off
 * ("'rect=True' is incompatible with DataLoader shuffle"). */
int cy_loader_can_shuffle(const cy_loader *l);
/* rect: the shape (h, w) of batch b; else imgsz x imgsz. */
void cy_loader_batch_shape(const cy_loader *l, int b, int *h, int *w);
/* Switches the training augmentation (close_mosaic). */
void cy_loader_set_hyp(cy_loader *l, const cy_aug_hyp *hyp);
int cy_loader_batches(const cy_loader *l, int batch);
/* Batch b of the current epoch (the last one may be smaller). The batch's
 * buffers stay valid until the next call on this loader. */
cy_status cy_loader_batch(cy_loader *l, int b, int batch, cy_batch *out, cy_error *err);

#endif
