#ifndef CY_CLI_COMMANDS_H
#define CY_CLI_COMMANDS_H
#include "cli/args.h"
#include "cyolo.h"

int cmd_info(cli_args *a);
int cmd_train(cli_args *a);
int cmd_val(cli_args *a);
int cmd_synth(cli_args *a);
int cmd_predict_files(cli_args *a);
int cmd_dump(cli_args *a);
/* mode=train-step of cmd_dump, on a read input (cmd_dump_train.c). */
int cmd_dump_train_step(cli_args *a, cy_model *m, const float *x, int n, int h, int w, const char *out);
int cmd_predict(cli_args *a);
int cmd_benchmark(cli_args *a);
int cmd_export(cli_args *a);
int cmd_benchmark_train(cli_args *a);

/* Shared by the commands: model=, nc=, init=, backend=, threads=. Returns 0,
 * or the exit code after printing the error. */
int cli_open_model(cli_args *a, cy_model **m, int default_formula);
/* backend=cpu|ref (default cpu); 2 after printing an error for another value. */
int cli_get_backend(cli_args *a, cy_backend_kind *out);
int cli_report(const cy_error *err);
/* The built-in image: the manifest's formula input, [n, 3, h, w] (malloc'd). */
float *cli_builtin_image(int n, int h, int w);
/* Sorts v ascending and returns its median. */
double cli_sort_median(double *v, long n);

#endif
