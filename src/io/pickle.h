/* Pickle (protocol 2, as torch.save writes it) for the value tree. The writer
 * emits tensors as torch._utils._rebuild_tensor_v2 over persistent storage
 * ids; the reader is a restricted unpickler: it knows only the opcodes torch
 * writes and a short whitelist of globals, and never executes anything. */
#ifndef CY_IO_PICKLE_H
#define CY_IO_PICKLE_H
#include "io/pt_internal.h"

/* Pickles root into *out (malloc'd, *out_len bytes). storages receives the
 * distinct tensor storages (cy_pt_storage *, borrowed) in record order: the
 * i-th is saved as data/<i>. */
cy_status cy_pickle_dump(const cy_pt_value *root, uint8_t **out, size_t *out_len,
                         cy_pt_vec *storages, cy_error *err);

/* A storage the pickle refers to; the caller fills s->data from data/<key>. */
typedef struct {
    char *key;
    cy_pt_storage *s; /* one reference held by the table */
} cy_pickle_storage_ref;

typedef struct {
    cy_pickle_storage_ref *items;
    size_t len, cap;
} cy_pickle_storages;

void cy_pickle_storages_free(cy_pickle_storages *t);

/* Unpickles buf. what names the input in messages ("x.pt: data.pkl").
 * On success *root is a new tree whose tensors point at storages listed in
 * st with data still NULL. */
cy_status cy_pickle_load(const uint8_t *buf, size_t len, const char *what,
                         cy_pt_value **root, cy_pickle_storages *st, cy_error *err);

/* The same with a lower budget of values (tests of the limit); 0 = default. */
cy_status cy_pickle_load_limited(const uint8_t *buf, size_t len, const char *what,
                                 size_t max_values, cy_pt_value **root,
                                 cy_pickle_storages *st, cy_error *err);

#endif
