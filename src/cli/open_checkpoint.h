/* model=<file.pt> for the commands that take a model: the checkpoint's own
 * architecture and weights (cyolo's or Ultralytics'), no init=. */
#ifndef CY_CLI_OPEN_CHECKPOINT_H
#define CY_CLI_OPEN_CHECKPOINT_H
#include "cli/args.h"
#include "cyolo.h"

/* 1 when model= names a .pt file. */
int cli_model_is_checkpoint(cli_args *a);
/* Loads it (EMA weights when present) with backend= and threads=. Returns
 * 0, or the exit code after printing the error. */
int cli_open_checkpoint(cli_args *a, cy_model **m);

#endif
