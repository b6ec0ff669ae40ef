#define _GNU_SOURCE /* gettid */
#include "data/loader.h"
#include "data/mosaic_buffer.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* One batch in the making or made. */
typedef struct {
    enum { SLOT_FREE, SLOT_BUILDING, SLOT_READY, SLOT_HELD } state;
    int b, n, h, w, ntargets;
    float *x, *targets;
    size_t cap_x;
    int cap_images, cap_targets;
    int *index;
    double *ratio, *pad;
    cy_aug_sample *samples; /* one per image of the batch */
    int *cand;              /* Mosaic candidates, cy_mosaic_buffer_room ints per image */
    size_t cap_cand;
    uint8_t *masks;         /* segments: the batch's gt masks (cy_batch.masks) */
    size_t cap_masks;
    int *mask_order;        /* one sample's target order (Format's sorted_idx) */
    int cap_order;
    int mask_h, mask_w;
    cy_status st;
    cy_error err;
} slot;

struct cy_loader {
    const cy_split *split;
    cy_loader_params p;
    int *order;             /* record at each position of the epoch */
    int *base;              /* positions before shuffling: file order, or by aspect ratio (rect) */
    int *shape_hw;          /* rect: [nshapes][2] batch shapes */
    int nshapes, uniform;   /* uniform: every rect batch has the same shape */
    int epoch;
    int shuffled;           /* the current epoch's order is shuffled */
    cy_mosaic_buffer *mbuf; /* Mosaic partners as Ultralytics' buffer; NULL: uniform (cache=ram, rect) */
    size_t cand_room;       /* cy_mosaic_buffer_room(mbuf), 0 without a buffer */
    cy_aug_sample *cache;   /* [split->n] resized images when cache_ram */
    pthread_mutex_t cache_mu;
    slot *slots;
    int nslots;             /* prefetch depth + the one the caller holds */
    /* the producer; everything below is guarded by mu */
    pthread_t thread;
    int threaded;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit;
    int run_batch;          /* batch size of the current run; 0: idle */
    int start, next_build, end, expected;
    unsigned gen;           /* bumped on every restart: a build of an older run is dropped */
};

/* load_image: decode, boxes to pixels, long side to imgsz */
static cy_status load_record(cy_loader *l, int i, cy_aug_sample *out, cy_error *err) {
    if (l->cache) {
        int hit = 0;
        cy_status st = CY_OK;
        pthread_mutex_lock(&l->cache_mu);
        if (l->cache[i].img.data) hit = 1, st = cy_aug_sample_copy(out, &l->cache[i], err);
        pthread_mutex_unlock(&l->cache_mu);
        if (hit) return st;
    }
    const cy_det_record *r = &l->split->rec[i];
    memset(out, 0, sizeof *out);
    CY_TRY(cy_image_read(r->im_file, &out->img, err));
    cy_status st = cy_aug_sample_reserve(out, r->n > 0 ? r->n : 1, err);
    for (int k = 0; k < r->n && st == CY_OK; k++) {
        const float *q = r->labels + 5 * k;
        float W = (float)out->img.w, H = (float)out->img.h;
        cy_aug_box b = {(int)q[0], (q[1] - q[3] / 2) * W, (q[2] - q[4] / 2) * H, (q[1] + q[3] / 2) * W,
                        (q[2] + q[4] / 2) * H};
        st = cy_aug_sample_push(out, b, err);
    }
    /* segments: the polygons in pixels of the decoded image, resampled as
     * YOLODataset.update_labels_info does, then resized with the image */
    if (st == CY_OK && l->p.segments && r->seg.n > 0) st = cy_aug_sample_set_polygons(out, &r->seg, err);
    if (st == CY_OK) st = cy_aug_load_resize(out, l->p.imgsz, err);
    if (st == CY_OK && l->cache) {
        /* two threads may load the same image: the first to finish keeps it */
        cy_aug_sample copy = {0};
        if (cy_aug_sample_copy(&copy, out, err) == CY_OK) {
            pthread_mutex_lock(&l->cache_mu);
            if (!l->cache[i].img.data) l->cache[i] = copy;
            else cy_aug_sample_free(&copy);
            pthread_mutex_unlock(&l->cache_mu);
        }
    }
    if (st != CY_OK) cy_aug_sample_free(out);
    return st;
}

static void epoch_order(void *ctx, int epoch, int *order);

/* what the augmentation pipeline's callbacks see for one sample */
typedef struct {
    cy_loader *l;
    int b, j;   /* batch and place in it */
    int ncand;  /* Mosaic candidates gathered; 0: not yet */
    int *cand;  /* cy_mosaic_buffer_room ints */
} sample_ctx;

static cy_status load_cb(void *ctx, int index, cy_aug_sample *out, cy_error *err) {
    return load_record(((sample_ctx *)ctx)->l, index, out, err);
}

/* Mosaic.get_indexes with the buffer: random.choices over its images */
static int pick_cb(void *ctx, cy_aug_rng *rng) {
    sample_ctx *c = ctx;
    if (!c->ncand) c->ncand = cy_mosaic_buffer_candidates(c->l->mbuf, c->b, c->j, c->cand);
    return c->cand[cy_aug_rng_int(rng, c->ncand)];
}

/* ---- rect: aspect-ratio order and batch shapes (set_rectangle) ---- */

typedef struct {
    double ar;
    int i;
} ar_item;

static int by_ar(const void *a, const void *b) {
    const ar_item *x = a, *y = b;
    if (x->ar != y->ar) return x->ar < y->ar ? -1 : 1;
    return x->i - y->i; /* ties keep file order (numpy's quicksort may not) */
}

static cy_status set_rectangle(cy_loader *l, cy_error *err) {
    int n = l->split->n, bs = l->p.batch;
    if (bs < 1) return cy_fail(err, CY_ERR_ARG, "loader: rect batches need the batch size (got %d)", bs);
    ar_item *it = malloc(n * sizeof *it);
    l->nshapes = (n + bs - 1) / bs;
    l->shape_hw = malloc(2 * l->nshapes * sizeof *l->shape_hw);
    if (!it || !l->shape_hw) {
        free(it);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < n; i++) it[i] = (ar_item){(double)l->split->rec[i].h / l->split->rec[i].w, i};
    qsort(it, n, sizeof *it, by_ar);
    for (int i = 0; i < n; i++) l->base[i] = it[i].i;
    l->uniform = 1;
    for (int b = 0; b < l->nshapes; b++) {
        double mini = it[b * bs].ar, maxi = it[(b + 1) * bs < n ? (b + 1) * bs - 1 : n - 1].ar;
        double sh = 1, sw = 1;
        if (maxi < 1) sh = maxi;
        else if (mini > 1) sw = 1 / mini;
        l->shape_hw[2 * b] = (int)ceil(sh * l->p.imgsz / 32 + l->p.pad) * 32;
        l->shape_hw[2 * b + 1] = (int)ceil(sw * l->p.imgsz / 32 + l->p.pad) * 32;
        if (l->shape_hw[2 * b] != l->shape_hw[0] || l->shape_hw[2 * b + 1] != l->shape_hw[1]) l->uniform = 0;
    }
    free(it);
    return CY_OK;
}

void cy_loader_batch_shape(const cy_loader *l, int b, int *h, int *w) {
    if (l->p.rect && b >= 0 && b < l->nshapes) *h = l->shape_hw[2 * b], *w = l->shape_hw[2 * b + 1];
    else *h = *w = l->p.imgsz;
}

int cy_loader_can_shuffle(const cy_loader *l) { return !l->p.rect || l->uniform; }

/* ---- building one batch ---- */

static int grow_bytes(uint8_t **p, size_t *cap, size_t n) {
    if (n <= *cap && *p) return 0;
    uint8_t *q = realloc(*p, n);
    if (!q) return -1;
    *p = q, *cap = n;
    return 0;
}

static cy_status slot_reserve(slot *s, int n, int H, int W, size_t room, cy_error *err) {
    if (n > s->cap_images) {
        for (int i = 0; s->samples && i < s->cap_images; i++) cy_aug_sample_free(&s->samples[i]);
        free(s->samples), free(s->index), free(s->ratio), free(s->pad);
        s->samples = calloc(n, sizeof *s->samples);
        s->index = malloc(n * sizeof *s->index);
        s->ratio = malloc(n * sizeof *s->ratio);
        s->pad = malloc(2 * n * sizeof *s->pad);
        s->cap_images = n;
        if (!s->samples || !s->index || !s->ratio || !s->pad) {
            s->cap_images = 0;
            return cy_fail(err, CY_ERR_MEMORY, "out of memory for a batch");
        }
    }
    size_t need = (size_t)n * 3 * H * W;
    if (need > s->cap_x) {
        free(s->x);
        s->x = malloc(need * sizeof *s->x);
        s->cap_x = s->x ? need : 0;
        if (!s->x) return cy_fail(err, CY_ERR_MEMORY, "out of memory for a batch");
    }
    if ((size_t)n * room > s->cap_cand) {
        free(s->cand);
        s->cand = malloc((size_t)n * room * sizeof *s->cand);
        s->cap_cand = s->cand ? (size_t)n * room : 0;
        if (!s->cand) return cy_fail(err, CY_ERR_MEMORY, "out of memory for a batch");
    }
    return CY_OK;
}

static cy_status prepare(cy_loader *l, slot *sl, int b, int batch, int i, int rec, int H, int W, cy_error *err) {
    cy_aug_sample *s = &sl->samples[i];
    cy_aug_sample_free(s);
    memset(s, 0, sizeof *s);
    sl->ratio[i] = 1, sl->pad[2 * i] = sl->pad[2 * i + 1] = 0;
    if (l->p.augment) {
        int use_buffer = l->mbuf && batch == l->p.batch;
        sample_ctx ctx = {.l = l, .b = b, .j = i,
                          .cand = use_buffer ? sl->cand + i * l->cand_room : NULL};
        cy_aug_pipeline pipe = {.imgsz = l->p.imgsz, .hyp = l->p.hyp, .n_images = l->split->n, .load = load_cb,
                                .ctx = &ctx, .pick = use_buffer ? pick_cb : NULL};
        if (l->p.rect) { /* build_transforms: no mixing of images in rect mode */
            pipe.hyp.mosaic = pipe.hyp.mixup = pipe.hyp.cutmix = 0;
            pipe.rect_h = H, pipe.rect_w = W;
        }
        cy_aug_rng r;
        cy_aug_rng_seed(&r, l->p.seed ^ ((uint64_t)l->epoch << 32), (uint64_t)rec);
        return cy_aug_train_sample(&pipe, rec, &r, s, err);
    }
    CY_TRY(load_record(l, rec, s, err));
    cy_aug_letterbox_params lp = cy_aug_letterbox_default();
    lp.scaleup = 0; /* validation never enlarges */
    cy_aug_letterbox_info info;
    CY_TRY(cy_aug_letterbox(s, H, W, &lp, &info, err));
    /* letterbox of the already resized image: compose with load_image's scale */
    const cy_det_record *r = &l->split->rec[rec];
    sl->ratio[i] = (double)info.unpad_w / r->w;
    sl->pad[2 * i] = info.left, sl->pad[2 * i + 1] = info.top;
    return CY_OK;
}

/* Fills sl with batch b of the current order: images in parallel, then the
 * float tensor and the target rows in image order. */
static cy_status build(cy_loader *l, slot *sl, int b, int batch, cy_error *err) {
    int first = b * batch, n = l->split->n - first < batch ? l->split->n - first : batch, H, W;
    cy_loader_batch_shape(l, b, &H, &W);
    CY_TRY(slot_reserve(sl, n, H, W, l->cand_room, err));
    cy_status st = CY_OK;
    int workers = l->p.workers > 0 ? l->p.workers : 1;
#pragma omp parallel for num_threads(workers) schedule(dynamic) if (workers > 1)
    for (int i = 0; i < n; i++) {
        cy_error e = {0};
        cy_status s = prepare(l, sl, b, batch, i, l->order[first + i], H, W, &e);
        if (s != CY_OK) {
#pragma omp critical(cy_loader_err)
            if (st == CY_OK) {
                st = s;
                if (err) *err = e;
            }
        }
    }
    CY_TRY(st);
    int total = 0;
    for (int i = 0; i < n; i++) total += sl->samples[i].n;
    if (total > sl->cap_targets) {
        free(sl->targets);
        sl->targets = malloc((size_t)(total > 0 ? total : 1) * 6 * sizeof *sl->targets);
        sl->cap_targets = sl->targets ? total : 0;
        if (!sl->targets) return cy_fail(err, CY_ERR_MEMORY, "out of memory for targets");
    }
    int t = 0, maxn = 0;
    size_t plane = (size_t)H * W;
    const int ratio = l->p.mask_ratio > 0 ? l->p.mask_ratio : 4, mh = H / ratio, mw = W / ratio;
    const size_t mplane = (size_t)mh * mw;
    if (l->p.segments) { /* Format(return_mask=True): index masks per image, or one mask per target */
        for (int i = 0; i < n; i++) maxn = sl->samples[i].n > maxn ? sl->samples[i].n : maxn;
        const size_t need = (l->p.overlap_mask ? (size_t)n : (size_t)total) * mplane;
        int *ord = maxn > sl->cap_order ? realloc(sl->mask_order, (size_t)maxn * sizeof(int)) : sl->mask_order;
        if (ord) sl->mask_order = ord, sl->cap_order = maxn > sl->cap_order ? maxn : sl->cap_order;
        if (!ord || grow_bytes(&sl->masks, &sl->cap_masks, need ? need : 1))
            return cy_fail(err, CY_ERR_MEMORY, "out of memory for masks");
        sl->mask_h = mh, sl->mask_w = mw;
    }
    for (int i = 0; i < n; i++) {
        cy_aug_sample *s = &sl->samples[i];
        if (s->img.h != H || s->img.w != W || s->img.c != 3)
            return cy_fail(err, CY_ERR_ARG, "loader: internal: sample is %dx%dx%d, not %dx%dx3", s->img.h, s->img.w,
                           s->img.c, H, W);
        if (l->p.segments) {
            if (l->p.overlap_mask && s->n > 255)
                return cy_fail(err, CY_ERR_ARG, "%s: %d objects in one image; overlap_mask=True holds at most 255 "
                               "(use overlap_mask=False)", l->split->rec[l->order[first + i]].im_file, s->n);
            uint8_t *dst = sl->masks + (l->p.overlap_mask ? (size_t)i : (size_t)t) * mplane;
            CY_TRY(cy_aug_format_masks(s, ratio, l->p.overlap_mask, dst, sl->mask_order, err));
        }
        float *xi = sl->x + (size_t)i * 3 * plane;
        for (size_t p = 0; p < plane; p++)
            for (int c = 0; c < 3; c++) xi[(size_t)c * plane + p] = s->img.data[p * 3 + c] / 255.0f;
        for (int k = 0; k < s->n; k++) {
            const cy_aug_box *q = &s->boxes[l->p.segments ? sl->mask_order[k] : k]; /* rows in mask order */
            float *row = sl->targets + 6 * t++;
            row[0] = (float)i, row[1] = (float)q->cls;
            row[2] = (q->x1 + q->x2) / 2 / W, row[3] = (q->y1 + q->y2) / 2 / H;
            row[4] = (q->x2 - q->x1) / W, row[5] = (q->y2 - q->y1) / H;
        }
        sl->index[i] = l->order[first + i];
        cy_aug_sample_free(s); /* the pixels live on in x; keep the memory bounded */
    }
    sl->b = b, sl->n = n, sl->h = H, sl->w = W, sl->ntargets = t;
    return CY_OK;
}

/* ---- the producer ---- */

static slot *slot_of(cy_loader *l, int b) { return &l->slots[(b - l->start) % l->nslots]; }

static void *producer(void *arg) {
    cy_loader *l = arg;
    /* The training step keeps both cores busy with its own threads: building
     * ahead should use what they leave idle, not stall them. A lower
     * priority (inherited by this thread's OpenMP team) does that; when the
     * step waits for the batch, the producer has the cores to itself. */
    setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->quit && !(l->run_batch && l->next_build < l->end && slot_of(l, l->next_build)->state == SLOT_FREE))
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->quit) break;
        int b = l->next_build++, batch = l->run_batch;
        unsigned gen = l->gen;
        slot *s = slot_of(l, b);
        s->state = SLOT_BUILDING;
        pthread_mutex_unlock(&l->mu);
        cy_error e = {0};
        cy_status st = build(l, s, b, batch, &e);
        pthread_mutex_lock(&l->mu);
        s->st = st, s->err = e;
        s->state = gen == l->gen ? SLOT_READY : SLOT_FREE;
        pthread_cond_broadcast(&l->cv);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Stops the current run: waits for a build in flight, frees every slot.
 * Called with mu held. */
static void halt_locked(cy_loader *l) {
    l->gen++;
    l->run_batch = 0;
    for (;;) {
        int busy = 0;
        for (int i = 0; i < l->nslots; i++) busy |= l->slots[i].state == SLOT_BUILDING;
        if (!busy) break;
        pthread_cond_wait(&l->cv, &l->mu);
    }
    for (int i = 0; i < l->nslots; i++) l->slots[i].state = SLOT_FREE;
}

static void halt(cy_loader *l) {
    pthread_mutex_lock(&l->mu);
    halt_locked(l);
    pthread_mutex_unlock(&l->mu);
}

cy_status cy_loader_create(cy_loader **out, const cy_split *split, const cy_loader_params *p, cy_error *err) {
    *out = NULL;
    if (!split || split->n < 1) return cy_fail(err, CY_ERR_ARG, "loader: the split has no images");
    if (p->imgsz < 32 || p->imgsz % 32) return cy_fail(err, CY_ERR_ARG, "imgsz=%d must be a multiple of 32", p->imgsz);
    cy_loader *l = calloc(1, sizeof *l);
    if (!l) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    l->split = split;
    l->p = *p;
    pthread_mutex_init(&l->cache_mu, NULL);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    int ahead = p->workers < 1 ? 0 : p->workers < 2 ? 1 : 2;
    l->nslots = ahead + 1;
    l->order = malloc(split->n * sizeof *l->order);
    l->base = malloc(split->n * sizeof *l->base);
    l->slots = calloc(l->nslots, sizeof *l->slots);
    if (p->cache_ram) l->cache = calloc(split->n, sizeof *l->cache);
    if (!l->order || !l->base || !l->slots || (p->cache_ram && !l->cache)) {
        cy_loader_free(l);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < split->n; i++) l->base[i] = l->order[i] = i;
    cy_status st = p->rect ? set_rectangle(l, err) : CY_OK;
    /* Ultralytics' Mosaic uses its buffer unless images are cached in RAM;
     * rect training has no mosaic */
    if (st == CY_OK && p->augment && !p->rect && !p->cache_ram && p->batch >= 1)
        st = cy_mosaic_buffer_create(&l->mbuf, split->n, p->batch, p->mosaic_buffers > 1 ? p->mosaic_buffers : 1, err);
    if (st == CY_OK && l->mbuf) {
        l->cand_room = (size_t)cy_mosaic_buffer_room(l->mbuf);
        st = cy_mosaic_buffer_epoch(l->mbuf, 0, epoch_order, l, err); /* file order */
    }
    if (st == CY_OK && p->rect) memcpy(l->order, l->base, split->n * sizeof *l->order);
    if (st == CY_OK && ahead > 0) {
        if (pthread_create(&l->thread, NULL, producer, l) == 0) l->threaded = 1;
        else st = cy_fail(err, CY_ERR_MEMORY, "loader: cannot start the prefetch thread");
    }
    if (st != CY_OK) {
        cy_loader_free(l);
        return st;
    }
    *out = l;
    return CY_OK;
}

void cy_loader_free(cy_loader *l) {
    if (!l) return;
    if (l->threaded) {
        pthread_mutex_lock(&l->mu);
        halt_locked(l);
        l->quit = 1;
        pthread_cond_broadcast(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    for (int i = 0; l->cache && i < l->split->n; i++) cy_aug_sample_free(&l->cache[i]);
    for (int k = 0; l->slots && k < l->nslots; k++) {
        slot *s = &l->slots[k];
        for (int i = 0; s->samples && i < s->cap_images; i++) cy_aug_sample_free(&s->samples[i]);
        free(s->samples), free(s->x), free(s->targets), free(s->index), free(s->ratio), free(s->pad), free(s->cand);
        free(s->masks), free(s->mask_order);
    }
    pthread_mutex_destroy(&l->cache_mu);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l->slots);
    free(l->cache);
    free(l->order);
    free(l->base);
    free(l->shape_hw);
    cy_mosaic_buffer_free(l->mbuf);
    free(l);
}

/* The order of any epoch: base order, shuffled from (seed, epoch) */
static void epoch_order(void *ctx, int epoch, int *order) {
    const cy_loader *l = ctx;
    memcpy(order, l->base, l->split->n * sizeof *order);
    if (!l->shuffled) return;
    cy_aug_rng r;
    cy_aug_rng_seed(&r, l->p.seed, 0x5eedULL + (uint64_t)epoch);
    for (int i = l->split->n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = cy_aug_rng_int(&r, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

void cy_loader_epoch(cy_loader *l, int epoch, int shuffle) {
    halt(l);
    l->epoch = epoch;
    int shuffled = shuffle && cy_loader_can_shuffle(l);
    if (l->mbuf && shuffled != l->shuffled) cy_mosaic_buffer_reset(l->mbuf); /* every epoch's order changes */
    l->shuffled = shuffled;
    epoch_order(l, epoch, l->order);
    if (l->mbuf) cy_mosaic_buffer_epoch(l->mbuf, epoch, epoch_order, l, NULL); /* cannot fail: epoch >= 0 */
}

void cy_loader_set_hyp(cy_loader *l, const cy_aug_hyp *hyp) {
    halt(l);
    l->p.hyp = *hyp;
}

int cy_loader_batches(const cy_loader *l, int batch) { return (l->split->n + batch - 1) / batch; }

cy_status cy_loader_batch(cy_loader *l, int b, int batch, cy_batch *out, cy_error *err) {
    int nb = batch > 0 ? cy_loader_batches(l, batch) : 0;
    if (b < 0 || b >= nb) return cy_fail(err, CY_ERR_ARG, "loader: batch %d is past the end", b);
    if (l->p.rect && batch != l->p.batch)
        return cy_fail(err, CY_ERR_ARG, "loader: rect shapes were computed for batch=%d, asked for %d", l->p.batch,
                       batch);
    slot *s;
    if (!l->threaded) {
        s = &l->slots[0];
        CY_TRY(build(l, s, b, batch, err));
    } else {
        pthread_mutex_lock(&l->mu);
        if (l->run_batch != batch || b != l->expected) { /* out of order: restart the producer at b */
            halt_locked(l);
            l->start = l->next_build = b, l->end = nb, l->run_batch = batch;
        }
        for (int i = 0; i < l->nslots; i++) /* the caller is done with the batch it held */
            if (l->slots[i].state == SLOT_HELD) l->slots[i].state = SLOT_FREE;
        pthread_cond_broadcast(&l->cv);
        s = slot_of(l, b);
        while (s->state != SLOT_READY) pthread_cond_wait(&l->cv, &l->mu);
        s->state = SLOT_HELD;
        l->expected = b + 1;
        cy_status st = s->st;
        if (st != CY_OK) {
            if (err) *err = s->err;
            halt_locked(l); /* the next request rebuilds from scratch */
        }
        pthread_mutex_unlock(&l->mu);
        CY_TRY(st);
    }
    out->n = s->n, out->h = s->h, out->w = s->w;
    out->x = s->x, out->targets = s->targets, out->ntargets = s->ntargets;
    out->masks = l->p.segments ? s->masks : NULL;
    out->mask_h = l->p.segments ? s->mask_h : 0, out->mask_w = l->p.segments ? s->mask_w : 0;
    out->overlap = l->p.segments ? !!l->p.overlap_mask : 0;
    out->index = s->index, out->ratio = s->ratio, out->pad = s->pad;
    return CY_OK;
}

cy_status cy_loader_check_channels(int model_channels, const char *model, cy_error *err) {
    if (model_channels == 3) return CY_OK;
    return cy_fail(err, CY_ERR_ARG,
                   "%s takes %d input channels (YAML 'channels'); cyolo reads images as RGB, 3 channels", model,
                   model_channels);
}
