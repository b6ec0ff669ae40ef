/* The built-in datasets behind an empty data= argument: cyolo's synthetic
 * sets (data/synth.h), generated on first use under $CYOLO_DATASETS or
 * ./datasets, as Ultralytics downloads coco8.yaml / coco8-seg.yaml for a
 * missing data= (cfg TASK2DATA). */
#ifndef CY_ENGINE_BUILTIN_DATA_H
#define CY_ENGINE_BUILTIN_DATA_H
#include <stddef.h>
#include "core/status.h"

/* The dataset YAML a data= argument means for a task ("detect",
 * "segment", ...; NULL is "detect"):
 *  - "" (or NULL): the task's built-in set: <datasets>/synth-seg/synth-seg.yaml
 *    for segment, <datasets>/synth/synth.yaml for every other task;
 *  - "synth.yaml" or "synth": the detection set, whatever the task;
 *  - "synth-seg.yaml" or "synth-seg": the segment set, whatever the task;
 *  - anything else: the argument as it is. */
cy_status cy_resolve_data_task(const char *data, const char *task, char *out, size_t cap, cy_error *err);

#endif
