/* `cyolo val model=... data=...` (see val_run.c). */
#ifndef CY_ENGINE_VAL_RUN_H
#define CY_ENGINE_VAL_RUN_H
#include <stdio.h>
#include "engine/args.h"
#include "engine/validate.h"

cy_status cy_val_run(const cy_args *args, FILE *log, cy_error *err);
/* Ultralytics' validation table: the "all" row, then one row per class with
 * labels (nc > 1). names NULL prints "item". */
void cy_val_print(FILE *log, const cy_val_result *vr, const cy_split *split, char *const *names, int nc);

#endif
