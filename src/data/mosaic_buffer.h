/* Which images Ultralytics' Mosaic may take as partners. Its Mosaic draws
 * the three partners with random.choices from the dataset's `buffer`, the
 * images the loader worker itself read from disk most recently:
 * load_image appends an image it has to read (one not in the buffer) and,
 * once the buffer holds max_len = min(n, 8 x batch, 1000), drops the oldest
 * (upstream's `1 < len(buffer) >= max_len`), so the partners of a sample
 * are images of the last few batches that worker built, the sample itself
 * included (it is loaded before the partners are drawn). Each PyTorch
 * worker has its own copy of the dataset, and batches go to the workers in
 * turn over the endless stream of batches (batch G to worker G % workers),
 * so each buffer follows one worker's share of the stream across epochs.
 *
 * This replays that, exactly, from the epoch orders: one lane per worker,
 * each lane's buffer carried from epoch to epoch, the state at the start of
 * every batch of the current epoch kept so that any sample's candidates
 * can be computed on its own (any thread, any order). What upstream also
 * appends, and this does not: the images MixUp and CutMix load as their
 * partners (drawn at random; both are off by default). */
#ifndef CY_DATA_MOSAIC_BUFFER_H
#define CY_DATA_MOSAIC_BUFFER_H
#include "core/status.h"

typedef struct cy_mosaic_buffer cy_mosaic_buffer;

/* Fills out[n] with the image at each position of epoch `epoch`. */
typedef void (*cy_epoch_order_fn)(void *ctx, int epoch, int *out);

/* n images, batch size, lanes (Ultralytics' loader workers; at least 1). */
cy_status cy_mosaic_buffer_create(cy_mosaic_buffer **out, int n, int batch, int lanes, cy_error *err);
void cy_mosaic_buffer_free(cy_mosaic_buffer *mb);

/* Room cy_mosaic_buffer_candidates needs in cand: what a buffer holds
 * (max_len - 1, or 1) plus the batch size, plus its lookup table. */
int cy_mosaic_buffer_room(const cy_mosaic_buffer *mb);

/* Makes `epoch` current: replays the stream up to its start (from epoch 0
 * when starting late, as a resumed run does, or when asked for an epoch
 * again or an earlier one: the orders may have changed). */
cy_status cy_mosaic_buffer_epoch(cy_mosaic_buffer *mb, int epoch, cy_epoch_order_fn order_of, void *ctx,
                                 cy_error *err);

/* Empty buffers before epoch 0: the next cy_mosaic_buffer_epoch replays
 * from there (when the way epoch orders are made has changed). */
void cy_mosaic_buffer_reset(cy_mosaic_buffer *mb);

/* The buffer as it is when sample j of batch b of the current epoch draws
 * its partners, oldest first, into cand (cy_mosaic_buffer_room ints);
 * returns how many (at least 1: the sample itself). Read-only, thread-safe. */
int cy_mosaic_buffer_candidates(const cy_mosaic_buffer *mb, int b, int j, int *cand);

#endif
