/* Shared by pt_value.c, pickle_read.c, pickle_write.c, pt_read.c and
 * pt_write.c: the storage object and the reader's value registry. */
#ifndef CY_IO_PT_INTERNAL_H
#define CY_IO_PT_INTERNAL_H
#include "io/pt_value.h"

struct cy_pt_storage {
    int refs;
    cy_pt_dtype dtype;
    int64_t numel;
    uint8_t *data; /* numel * dtype size bytes; NULL while a reader fills it */
    int64_t key;   /* scratch for the writer / reader: record number */
};

cy_pt_storage *cy_pt__storage_new(cy_pt_dtype dt, int64_t numel, int alloc_data);
void cy_pt__storage_unref(cy_pt_storage *s);

/* A growable list of pointers. The reader registers every value it makes so
 * that an error (or an unused scratch value) frees each exactly once. */
typedef struct {
    void **items;
    size_t len, cap;
    size_t limit;             /* pushes fail at this many items (0: none) */
    size_t bytes, bytes_limit; /* string bytes made by clones (reader budget) */
} cy_pt_vec;
int cy_pt__vec_push(cy_pt_vec *v, void *p); /* 0 on success */

/* Allocates a value of kind; registered in reg when reg is not NULL. */
cy_pt_value *cy_pt__alloc(cy_pt_kind kind, cy_pt_vec *reg);
cy_status cy_pt__clone_reg(cy_pt_value **out, const cy_pt_value *v, cy_pt_vec *reg,
                           cy_error *err);
/* Checks that child may go under parent (no parent yet, no cycle, depth);
 * 0 when fine, else writes a reason into why. */
int cy_pt__check_link(const cy_pt_value *parent, const cy_pt_value *child,
                      const char **why);
void cy_pt__link(cy_pt_value *parent, cy_pt_value *child);
/* Appends (seq) after cy_pt__check_link passed; 0 on success, -1 on memory. */
int cy_pt__seq_push(cy_pt_value *seq, cy_pt_value *item);
/* Dict insert after the checks. An equal key's old value (and the unused new
 * key) are detached and returned in *old_val / *old_key (caller frees them or
 * leaves them to the registry). 0 on success, -1 on memory. */
int cy_pt__dict_insert(cy_pt_value *dict, cy_pt_value *key, cy_pt_value *val,
                       cy_pt_value **old_key, cy_pt_value **old_val);
/* 0 when a view (shape, stride, offset; elements) stays inside numel. */
int cy_pt__view_ok(int ndim, const int64_t *shape, const int64_t *stride,
                   int64_t offset, int64_t numel);
int cy_pt__key_ok(const cy_pt_value *k);
int cy_pt__utf8_valid(const char *s, size_t len);
/* Storage class name suffix ("Float" for torch.FloatStorage). */
const char *cy_pt__storage_name(cy_pt_dtype dt);

#endif
