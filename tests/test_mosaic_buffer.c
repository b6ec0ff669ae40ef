/* Mosaic partner buffers (data/mosaic_buffer.h) against a plain replay of
 * Ultralytics' rules: one list per worker, fed by the endless stream of
 * batches in turn, load_image appending an image that is not in the list
 * and dropping the oldest while 1 < len >= min(n, 8 x batch, 1000). */
#include <stdlib.h>
#include <string.h>
#include "data/mosaic_buffer.h"
#include "test_util.h"

typedef struct {
    int n;
    int identity; /* every epoch in file order */
} order_ctx;

/* a different permutation per epoch (Fisher-Yates on an LCG) */
static void test_order(void *ctx, int epoch, int *out) {
    const order_ctx *c = ctx;
    for (int i = 0; i < c->n; i++) out[i] = i;
    if (c->identity) return;
    unsigned long long x = 0x9e3779b97f4a7c15ull * (unsigned long long)(epoch + 1);
    for (int i = c->n - 1; i > 0; i--) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int j = (int)((x >> 33) % (unsigned long long)(i + 1)), t = out[i];
        out[i] = out[j], out[j] = t;
    }
}

/* the reference: Python's list semantics, straight through the stream */
typedef struct {
    int *items, len;
} list;

static void ref_load(list *l, int idx, int max_len) {
    for (int k = 0; k < l->len; k++)
        if (l->items[k] == idx) return;
    l->items[l->len++] = idx;
    while (l->len > 1 && l->len >= max_len) memmove(l->items, l->items + 1, --l->len * sizeof *l->items);
}

/* every sample of epochs 0..epochs-1 equals the reference; the buffer is
 * asked for the epochs in `visit` order (replays when going back) */
static void check_against_reference(int n, int batch, int lanes, int epochs, const int *visit, int nvisit) {
    order_ctx oc = {n, 0};
    int nb = (n + batch - 1) / batch, max_len = n < 8 * batch ? n : 8 * batch;
    if (max_len > 1000) max_len = 1000;
    /* the reference's buffer after each sample: [epoch][position][max_len] */
    int *want = malloc((size_t)epochs * n * max_len * sizeof *want), *want_len = malloc((size_t)epochs * n * sizeof *want_len);
    list *ref = calloc(lanes, sizeof *ref);
    for (int k = 0; k < lanes; k++) ref[k].items = malloc((max_len + 1) * sizeof(int));
    int *order = malloc(n * sizeof *order);
    for (int e = 0; e < epochs; e++) {
        test_order(&oc, e, order);
        for (int b = 0; b < nb; b++) {
            list *l = &ref[((long)e * nb + b) % lanes];
            for (int p = b * batch; p < n && p < (b + 1) * batch; p++) {
                ref_load(l, order[p], max_len);
                memcpy(want + ((size_t)e * n + p) * max_len, l->items, l->len * sizeof *want);
                want_len[(size_t)e * n + p] = l->len;
            }
        }
    }
    cy_mosaic_buffer *mb = NULL;
    cy_error err = {0};
    CHECK(cy_mosaic_buffer_create(&mb, n, batch, lanes, &err) == CY_OK, "create: %s", err.msg);
    int *cand = malloc(cy_mosaic_buffer_room(mb) * sizeof *cand), bad = 0;
    for (int v = 0; v < nvisit; v++) {
        int e = visit[v];
        CHECK(cy_mosaic_buffer_epoch(mb, e, test_order, &oc, &err) == CY_OK, "epoch %d: %s", e, err.msg);
        for (int p = 0; p < n; p++) {
            int got = cy_mosaic_buffer_candidates(mb, p / batch, p % batch, cand);
            const int *w = want + ((size_t)e * n + p) * max_len;
            if (got != want_len[(size_t)e * n + p] || memcmp(cand, w, got * sizeof *cand)) bad++;
        }
    }
    CHECK(bad == 0, "n %d batch %d lanes %d: %d samples differ from Ultralytics' buffer", n, batch, lanes, bad);
    cy_mosaic_buffer_free(mb);
    for (int k = 0; k < lanes; k++) free(ref[k].items);
    free(ref), free(want), free(want_len), free(order), free(cand);
}

/* n 6, batch 2, two workers, file order: batches 0 and 2 go to worker 0,
 * batch 1 to worker 1, then epoch 1's batch 0 (stream batch 3) to worker 1 */
static void test_hand_case(void) {
    order_ctx oc = {6, 1};
    cy_mosaic_buffer *mb = NULL;
    cy_error err = {0};
    CHECK(cy_mosaic_buffer_create(&mb, 6, 2, 2, &err) == CY_OK, "create: %s", err.msg);
    int *cand = malloc(cy_mosaic_buffer_room(mb) * sizeof *cand);
    CHECK(cy_mosaic_buffer_epoch(mb, 0, test_order, &oc, &err) == CY_OK, "epoch 0");
    int k = cy_mosaic_buffer_candidates(mb, 0, 0, cand);
    CHECK(k == 1 && cand[0] == 0, "the first sample has only itself: %d", k);
    k = cy_mosaic_buffer_candidates(mb, 2, 1, cand);
    CHECK(k == 4 && cand[0] == 0 && cand[1] == 1 && cand[2] == 4 && cand[3] == 5, "worker 0 after batch 2: %d", k);
    CHECK(cy_mosaic_buffer_epoch(mb, 1, test_order, &oc, &err) == CY_OK, "epoch 1");
    k = cy_mosaic_buffer_candidates(mb, 0, 1, cand);
    CHECK(k == 4 && cand[0] == 2 && cand[1] == 3 && cand[2] == 0 && cand[3] == 1, "worker 1 in epoch 1: %d", k);
    /* max_len = min(6, 16, 1000) = 6: worker 0 holds 5 after epoch 1's batch 1 (stream batch 4) */
    k = cy_mosaic_buffer_candidates(mb, 1, 1, cand);
    CHECK(k == 5 && cand[0] == 1 && cand[4] == 3, "worker 0 full (5 of max_len 6), oldest dropped: %d first %d", k,
          cand[0]);
    /* stream batch 5 goes to worker 1: 4 and 5 loaded, 2 dropped */
    k = cy_mosaic_buffer_candidates(mb, 2, 1, cand);
    CHECK(k == 5 && cand[0] == 3 && cand[1] == 0 && cand[2] == 1 && cand[3] == 4 && cand[4] == 5,
          "worker 1 in epoch 1, batch 2: %d", k);
    cy_mosaic_buffer_free(mb);
    free(cand);
    CHECK(cy_mosaic_buffer_create(&mb, 0, 2, 1, &err) != CY_OK && strstr(err.msg, "must be positive"),
          "an empty split is refused: %s", err.msg);
}

int main(void) {
    test_hand_case();
    int forward[4] = {0, 1, 2, 3}, jumps[5] = {2, 3, 1, 0, 3}; /* a resumed start, then back */
    check_against_reference(10, 2, 1, 4, forward, 4);
    check_against_reference(37, 4, 3, 4, forward, 4);
    check_against_reference(5, 8, 2, 4, forward, 4);   /* n below batch: max_len n */
    check_against_reference(100, 16, 2, 4, jumps, 5);
    check_against_reference(300, 2, 8, 4, jumps, 5);   /* max_len 16: windows span epochs */
    check_against_reference(1, 4, 1, 3, forward, 3);   /* max_len 1: holds 1 */
    return test_summary();
}
