/* PyTorch .pt checkpoints (zip + pickle), as torch.save writes them and
 * torch.load(path, weights_only=True) reads them.
 *
 *   cy_pt_value *ck;  cy_pt_dict_new(&ck, 0, &err);
 *   cy_pt_dict_put_int(ck, "epoch", 3, &err); ...
 *   cy_pt_write("runs/detect/train/weights/last.pt", ck, &err);
 *   cy_pt_value_free(ck);
 *   cy_pt_read("last.pt", &ck, &err);  cy_pt_get_int(ck, "epoch", &e, &err);
 *
 * Layout written (torch 2.x): <name>/data.pkl, .format_version, .storage_alignment,
 * byteorder, data/<k> (raw little-endian storages, 64-byte aligned), version;
 * all stored uncompressed. The file appears atomically: written to a temporary
 * file beside it, fsync'd, then renamed; on error the target is untouched.
 * Reading never executes anything: see pickle_read.c for what is accepted. */
#ifndef CY_IO_PT_H
#define CY_IO_PT_H
#include "io/pt_value.h"

cy_status cy_pt_write(const char *path, const cy_pt_value *root, cy_error *err);
/* Reads a checkpoint: plain data, plus inert objects (CY_PT_OBJECT) where an
 * Ultralytics checkpoint pickles its modules. */
cy_status cy_pt_read(const char *path, cy_pt_value **root, cy_error *err);
/* The same from memory (label names it in messages). */
cy_status cy_pt_read_buffer(const void *buf, size_t len, const char *label, cy_pt_value **root, cy_error *err);

#endif
