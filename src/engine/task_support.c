#include "engine/task_support.h"
#include "core/status.h"

static cy_status refuse(cy_task t, const char *model_path, const char *verb, const char *what, cy_error *err) {
    return cy_fail(err, CY_ERR_UNSUPPORTED,
                   "%s: %s models cannot be %s yet (cyolo info, dump and benchmark run them; %s in this build)",
                   model_path, cy_task_name(t), verb, what);
}

cy_status cy_require_detect_task(const cy_model *m, const char *model_path, const char *verb, cy_error *err) {
    cy_model_summary s;
    cy_model_summarize(m, &s);
    if (s.task == CY_TASK_DETECT) return CY_OK;
    return refuse(s.task, model_path, verb,
                  s.task == CY_TASK_SEGMENT ? "segment models validate and predict, training is detect-only"
                                            : "training, validation and prediction are detect-only",
                  err);
}

cy_status cy_require_eval_task(const cy_model *m, const char *model_path, const char *verb, cy_error *err) {
    cy_model_summary s;
    cy_model_summarize(m, &s);
    if (s.task == CY_TASK_DETECT || s.task == CY_TASK_SEGMENT) return CY_OK;
    return refuse(s.task, model_path, verb, "validation and prediction run detect and segment models", err);
}
