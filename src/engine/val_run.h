/* `cyolo val model=... data=...` (see val_run.c). */
#ifndef CY_ENGINE_VAL_RUN_H
#define CY_ENGINE_VAL_RUN_H
#include <stdio.h>
#include "engine/args.h"

cy_status cy_val_run(const cy_args *args, FILE *log, cy_error *err);

#endif
