/* Helpers shared by the dataset files: paths and the label cache. */
#ifndef CY_DATA_DATASET_INTERNAL_H
#define CY_DATA_DATASET_INTERNAL_H
#include <stdint.h>
#include "data/dataset.h"
#include "io/text_file.h"

/* b when it is absolute (or a is empty), else a + "/" + b. malloc'd. */
char *cy_path_join(const char *a, const char *b);
/* Path.resolve(): absolute, "." and ".." folded, symlinks of the existing
 * part resolved. malloc'd. */
char *cy_path_resolve(const char *p);
/* The folder of p ("." when p has none). malloc'd. */
char *cy_path_dirname(const char *p);
int cy_path_exists(const char *p);
int cy_path_is_dir(const char *p);
int cy_path_is_file(const char *p);

/* The hash the cache is keyed by: every image and label path with its
 * size and mtime (or absence), nc, single_cls and the segment rules. */
uint64_t cy_label_cache_key(const cy_strlist *im_files, const cy_strlist *label_files, int nc,
                            int single_cls, int segments);
/* Fills s (records, counts, warnings) from a cache file whose key matches.
 * Returns 0 on a hit; anything else (missing, stale, corrupt) is -1 and
 * leaves s as it was. */
int cy_label_cache_read(const char *path, uint64_t key, cy_split *s);
/* Writes s as the cache (temporary file + rename). */
cy_status cy_label_cache_write(const char *path, uint64_t key, const cy_split *s, cy_error *err);

#endif
