#include "data/mosaic_buffer.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cy_mosaic_buffer {
    int n, batch, lanes, nb;
    int max_len;      /* Ultralytics' max_buffer_length */
    int cap;          /* what a buffer holds between loads */
    int *ring;        /* [lanes][cap + 1]: each lane's buffer, oldest at head */
    int *head, *len;  /* [lanes] */
    uint8_t *in_buf;  /* [lanes][n]: the image is in that lane's buffer (cached) */
    int next_epoch;   /* the lanes hold the state at the start of this epoch */
    int epoch;        /* current (its batches' starting states are in snap), -1: none */
    int *snap;        /* [nb][cap]: each batch's lane buffer at its start, oldest first */
    int *snap_len;    /* [nb] */
    int *order;       /* [n] scratch for an epoch's order */
};

cy_status cy_mosaic_buffer_create(cy_mosaic_buffer **out, int n, int batch, int lanes, cy_error *err) {
    *out = NULL;
    if (n < 1 || batch < 1 || lanes < 1)
        return cy_fail(err, CY_ERR_ARG, "mosaic buffer: n (%d), batch (%d) and lanes (%d) must be positive", n,
                       batch, lanes);
    cy_mosaic_buffer *mb = calloc(1, sizeof *mb);
    if (!mb) return cy_fail(err, CY_ERR_MEMORY, "out of memory");
    mb->n = n, mb->batch = batch, mb->lanes = lanes, mb->nb = (n + batch - 1) / batch;
    long k = n;
    if (8L * batch < k) k = 8L * batch;
    if (k > 1000) k = 1000;
    mb->max_len = (int)k;
    mb->cap = k > 1 ? (int)k - 1 : 1;
    mb->ring = malloc((size_t)lanes * (mb->cap + 1) * sizeof *mb->ring);
    mb->head = calloc(lanes, sizeof *mb->head);
    mb->len = calloc(lanes, sizeof *mb->len);
    mb->in_buf = calloc((size_t)lanes * n, 1);
    mb->snap = malloc((size_t)mb->nb * mb->cap * sizeof *mb->snap);
    mb->snap_len = calloc(mb->nb, sizeof *mb->snap_len);
    mb->order = malloc((size_t)n * sizeof *mb->order);
    if (!mb->ring || !mb->head || !mb->len || !mb->in_buf || !mb->snap || !mb->snap_len || !mb->order) {
        cy_mosaic_buffer_free(mb);
        return cy_fail(err, CY_ERR_MEMORY, "out of memory for the mosaic buffer");
    }
    mb->epoch = -1;
    *out = mb;
    return CY_OK;
}

void cy_mosaic_buffer_free(cy_mosaic_buffer *mb) {
    if (!mb) return;
    free(mb->ring), free(mb->head), free(mb->len), free(mb->in_buf);
    free(mb->snap), free(mb->snap_len), free(mb->order);
    free(mb);
}

/* slots of the open-addressing table candidates() keeps: a power of two,
 * at least twice the images it can hold */
static int hash_slots(const cy_mosaic_buffer *mb) {
    int hs = 1;
    while (hs < 2 * (mb->cap + mb->batch)) hs <<= 1;
    return hs;
}

int cy_mosaic_buffer_room(const cy_mosaic_buffer *mb) { return mb->cap + mb->batch + 2 * hash_slots(mb); }

/* load_image's bookkeeping: append an image not in the buffer, then drop
 * the oldest while 1 < len >= max_len */
static void load(cy_mosaic_buffer *mb, int lane, int idx) {
    uint8_t *in = mb->in_buf + (size_t)lane * mb->n;
    if (in[idx]) return;
    int *ring = mb->ring + (size_t)lane * (mb->cap + 1), size = mb->cap + 1;
    ring[(mb->head[lane] + mb->len[lane]++) % size] = idx;
    in[idx] = 1;
    while (mb->len[lane] > 1 && mb->len[lane] >= mb->max_len) {
        in[ring[mb->head[lane]]] = 0;
        mb->head[lane] = (mb->head[lane] + 1) % size;
        mb->len[lane]--;
    }
}

void cy_mosaic_buffer_reset(cy_mosaic_buffer *mb) {
    memset(mb->head, 0, mb->lanes * sizeof *mb->head);
    memset(mb->len, 0, mb->lanes * sizeof *mb->len);
    memset(mb->in_buf, 0, (size_t)mb->lanes * mb->n);
    mb->next_epoch = 0;
    mb->epoch = -1;
}

static void replay(cy_mosaic_buffer *mb, int epoch, cy_epoch_order_fn order_of, void *ctx, int record) {
    order_of(ctx, epoch, mb->order);
    for (int b = 0; b < mb->nb; b++) {
        int lane = (int)(((int64_t)epoch * mb->nb + b) % mb->lanes);
        if (record) {
            const int *ring = mb->ring + (size_t)lane * (mb->cap + 1);
            for (int k = 0; k < mb->len[lane]; k++)
                mb->snap[(size_t)b * mb->cap + k] = ring[(mb->head[lane] + k) % (mb->cap + 1)];
            mb->snap_len[b] = mb->len[lane];
        }
        int first = b * mb->batch, end = first + mb->batch < mb->n ? first + mb->batch : mb->n;
        for (int i = first; i < end; i++) load(mb, lane, mb->order[i]);
    }
}

cy_status cy_mosaic_buffer_epoch(cy_mosaic_buffer *mb, int epoch, cy_epoch_order_fn order_of, void *ctx,
                                 cy_error *err) {
    if (epoch < 0 || !order_of) return cy_fail(err, CY_ERR_ARG, "mosaic buffer: bad epoch %d", epoch);
    if (epoch < mb->next_epoch) cy_mosaic_buffer_reset(mb); /* again or back: the orders may have changed */
    for (; mb->next_epoch < epoch; mb->next_epoch++) replay(mb, mb->next_epoch, order_of, ctx, 0);
    replay(mb, epoch, order_of, ctx, 1);
    mb->next_epoch = epoch + 1;
    mb->epoch = epoch;
    return CY_OK;
}

int cy_mosaic_buffer_candidates(const cy_mosaic_buffer *mb, int b, int j, int *cand) {
    /* the batch's starting buffer, then its samples 0..j loaded in turn;
     * an image is in the buffer when its newest place is at or after s */
    const int hs = hash_slots(mb);
    int *key = cand + mb->cap + mb->batch, *pos = key + hs;
    int s = 0, e = mb->snap_len[b];
    memcpy(cand, mb->snap + (size_t)b * mb->cap, (size_t)e * sizeof *cand);
    memset(key, 0xff, (size_t)hs * sizeof *key);
    const int n0 = e;
    for (int q = 0; q <= n0 + j; q++) {
        int idx, at;
        if (q < n0) idx = cand[q], at = q;
        else idx = mb->order[b * mb->batch + (q - n0)], at = -1;
        unsigned h = ((unsigned)idx * 2654435761u) & (unsigned)(hs - 1);
        while (key[h] >= 0 && key[h] != idx) h = (h + 1) & (unsigned)(hs - 1);
        if (at < 0) { /* a sample of this batch: loaded unless buffered */
            if (key[h] == idx && pos[h] >= s) continue;
            at = e;
            cand[e++] = idx;
            while (e - s > 1 && e - s >= mb->max_len) s++;
        }
        key[h] = idx, pos[h] = at;
    }
    memmove(cand, cand + s, (size_t)(e - s) * sizeof *cand);
    return e - s;
}
