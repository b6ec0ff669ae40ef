#include "engine/task_support.h"
#include "core/status.h"

cy_status cy_require_detect_task(const cy_model *m, const char *model_path, const char *verb, cy_error *err) {
    cy_model_summary s;
    cy_model_summarize(m, &s);
    if (s.task == CY_TASK_DETECT) return CY_OK;
    return cy_fail(err, CY_ERR_UNSUPPORTED,
                   "%s: %s models cannot be %s yet (cyolo info, dump and benchmark run them; training, "
                   "validation and prediction are detect-only in this build)",
                   model_path, cy_task_name(s.task), verb);
}
