/* Which tasks each driver runs end to end. Segment models build, load and
 * run their forward (info, dump, benchmark, the C API), validate and
 * predict; training refuses them until the segment loss lands: until a
 * driver handles a task it refuses it by name instead of silently training
 * or scoring boxes only. */
#ifndef CY_ENGINE_TASK_SUPPORT_H
#define CY_ENGINE_TASK_SUPPORT_H
#include "cyolo.h"

/* CY_ERR_UNSUPPORTED "<model_path>: <task> models cannot be <verb> yet ..."
 * for a model whose task the driver does not run; CY_OK otherwise. */
cy_status cy_require_detect_task(const cy_model *m, const char *model_path, const char *verb, cy_error *err);
/* The same for validation and prediction, which also run segment models. */
cy_status cy_require_eval_task(const cy_model *m, const char *model_path, const char *verb, cy_error *err);

#endif
