#include "data/loader.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

struct cy_loader {
    const cy_split *split;
    cy_loader_params p;
    int *order;
    int epoch;
    cy_aug_sample *cache;   /* [split->n] resized images when cache_ram */
    /* current batch */
    float *x, *targets;
    int cap_images, cap_targets;
    int *index;
    double *ratio, *pad;
    cy_aug_sample *samples; /* one per image of a batch */
};

/* load_image: decode, boxes to pixels, long side to imgsz */
static cy_status load_record(cy_loader *l, int i, cy_aug_sample *out, cy_error *err) {
    if (l->cache && l->cache[i].img.data) return cy_aug_sample_copy(out, &l->cache[i], err);
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
    if (st == CY_OK) st = cy_aug_load_resize(out, l->p.imgsz, err);
    if (st == CY_OK && l->cache) {
        /* two threads may load the same image: the first to finish keeps it */
        cy_aug_sample copy = {0};
        if (cy_aug_sample_copy(&copy, out, err) == CY_OK) {
#pragma omp critical(cy_loader_cache)
            {
                if (!l->cache[i].img.data) l->cache[i] = copy;
                else cy_aug_sample_free(&copy);
            }
        }
    }
    if (st != CY_OK) cy_aug_sample_free(out);
    return st;
}

static cy_status load_cb(void *ctx, int index, cy_aug_sample *out, cy_error *err) {
    return load_record(ctx, index, out, err);
}

cy_status cy_loader_create(cy_loader **out, const cy_split *split, const cy_loader_params *p, cy_error *err) {
    *out = NULL;
    if (!split || split->n < 1) return cy_fail(err, CY_ERR_ARG, "loader: the split has no images");
    if (p->imgsz < 32 || p->imgsz % 32) return cy_fail(err, CY_ERR_ARG, "imgsz=%d must be a multiple of 32", p->imgsz);
    cy_loader *l = calloc(1, sizeof *l);
    if (!l) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    l->split = split;
    l->p = *p;
    l->order = malloc(split->n * sizeof *l->order);
    if (p->cache_ram) l->cache = calloc(split->n, sizeof *l->cache);
    if (!l->order || (p->cache_ram && !l->cache)) {
        cy_loader_free(l);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    }
    for (int i = 0; i < split->n; i++) l->order[i] = i;
    *out = l;
    return CY_OK;
}

void cy_loader_free(cy_loader *l) {
    if (!l) return;
    for (int i = 0; l->cache && i < l->split->n; i++) cy_aug_sample_free(&l->cache[i]);
    for (int i = 0; l->samples && i < l->cap_images; i++) cy_aug_sample_free(&l->samples[i]);
    free(l->cache);
    free(l->samples);
    free(l->order);
    free(l->x);
    free(l->targets);
    free(l->index);
    free(l->ratio);
    free(l->pad);
    free(l);
}

void cy_loader_epoch(cy_loader *l, int epoch, int shuffle) {
    l->epoch = epoch;
    for (int i = 0; i < l->split->n; i++) l->order[i] = i;
    if (!shuffle) return;
    cy_aug_rng r;
    cy_aug_rng_seed(&r, l->p.seed, 0x5eedULL + (uint64_t)epoch);
    for (int i = l->split->n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = cy_aug_rng_int(&r, i + 1), t = l->order[i];
        l->order[i] = l->order[j];
        l->order[j] = t;
    }
}

void cy_loader_set_hyp(cy_loader *l, const cy_aug_hyp *hyp) { l->p.hyp = *hyp; }

int cy_loader_batches(const cy_loader *l, int batch) { return (l->split->n + batch - 1) / batch; }

static cy_status reserve(cy_loader *l, int n, int S, cy_error *err) {
    if (n > l->cap_images) {
        for (int i = 0; l->samples && i < l->cap_images; i++) cy_aug_sample_free(&l->samples[i]);
        free(l->samples), free(l->x), free(l->index), free(l->ratio), free(l->pad);
        l->samples = calloc(n, sizeof *l->samples);
        l->x = malloc((size_t)n * 3 * S * S * sizeof *l->x);
        l->index = malloc(n * sizeof *l->index);
        l->ratio = malloc(n * sizeof *l->ratio);
        l->pad = malloc(2 * n * sizeof *l->pad);
        l->cap_images = n;
        if (!l->samples || !l->x || !l->index || !l->ratio || !l->pad) {
            l->cap_images = 0;
            return cy_fail(err, CY_ERR_MEMORY, "out of memory for a batch");
        }
    }
    return CY_OK;
}

static cy_status prepare(cy_loader *l, int slot, int rec, cy_error *err) {
    cy_aug_sample *s = &l->samples[slot];
    cy_aug_sample_free(s);
    memset(s, 0, sizeof *s);
    int S = l->p.imgsz;
    l->ratio[slot] = 1, l->pad[2 * slot] = l->pad[2 * slot + 1] = 0;
    if (l->p.augment) {
        cy_aug_pipeline pipe = {.imgsz = S, .hyp = l->p.hyp, .n_images = l->split->n, .load = load_cb, .ctx = l};
        cy_aug_rng r;
        cy_aug_rng_seed(&r, l->p.seed ^ ((uint64_t)l->epoch << 32), (uint64_t)rec);
        return cy_aug_train_sample(&pipe, rec, &r, s, err);
    }
    CY_TRY(load_record(l, rec, s, err));
    cy_aug_letterbox_params lp = cy_aug_letterbox_default();
    lp.scaleup = 0; /* validation never enlarges */
    cy_aug_letterbox_info info;
    CY_TRY(cy_aug_letterbox(s, S, S, &lp, &info, err));
    /* letterbox of the already resized image: compose with load_image's scale */
    const cy_det_record *r = &l->split->rec[rec];
    double r0 = (double)info.unpad_w / r->w;
    l->ratio[slot] = r0;
    l->pad[2 * slot] = info.left, l->pad[2 * slot + 1] = info.top;
    return CY_OK;
}

cy_status cy_loader_batch(cy_loader *l, int b, int batch, cy_batch *out, cy_error *err) {
    int first = b * batch, n = l->split->n - first < batch ? l->split->n - first : batch, S = l->p.imgsz;
    if (n < 1) return cy_fail(err, CY_ERR_ARG, "loader: batch %d is past the end", b);
    CY_TRY(reserve(l, n, S, err));
    cy_status st = CY_OK;
    int workers = l->p.workers > 0 ? l->p.workers : 1;
#pragma omp parallel for num_threads(workers) schedule(dynamic) if (workers > 1)
    for (int i = 0; i < n; i++) {
        cy_error e = {0};
        cy_status s = prepare(l, i, l->order[first + i], &e);
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
    for (int i = 0; i < n; i++) total += l->samples[i].n;
    if (total > l->cap_targets) {
        free(l->targets);
        l->targets = malloc((size_t)(total > 0 ? total : 1) * 6 * sizeof *l->targets);
        l->cap_targets = l->targets ? total : 0;
        if (!l->targets) return cy_fail(err, CY_ERR_MEMORY, "out of memory for targets");
    }
    int t = 0;
    for (int i = 0; i < n; i++) {
        const cy_aug_sample *s = &l->samples[i];
        if (s->img.h != S || s->img.w != S || s->img.c != 3)
            return cy_fail(err, CY_ERR_ARG, "loader: internal: sample is %dx%dx%d, not %dx%dx3", s->img.h, s->img.w,
                           s->img.c, S, S);
        float *xi = l->x + (size_t)i * 3 * S * S;
        for (int p = 0; p < S * S; p++)
            for (int c = 0; c < 3; c++) xi[(size_t)c * S * S + p] = s->img.data[(size_t)p * 3 + c] / 255.0f;
        for (int k = 0; k < s->n; k++) {
            const cy_aug_box *q = &s->boxes[k];
            float *row = l->targets + 6 * t++;
            row[0] = (float)i, row[1] = (float)q->cls;
            row[2] = (q->x1 + q->x2) / 2 / S, row[3] = (q->y1 + q->y2) / 2 / S;
            row[4] = (q->x2 - q->x1) / S, row[5] = (q->y2 - q->y1) / S;
        }
        l->index[i] = l->order[first + i];
    }
    out->n = n, out->h = out->w = S;
    out->x = l->x, out->targets = l->targets, out->ntargets = t;
    out->index = l->index, out->ratio = l->ratio, out->pad = l->pad;
    return CY_OK;
}
