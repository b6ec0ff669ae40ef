/* key=value command-line arguments, Ultralytics style. */
#ifndef CY_CLI_ARGS_H
#define CY_CLI_ARGS_H

#define CY_MAX_ARGS 64

typedef struct {
    int n;
    const char *key[CY_MAX_ARGS];
    const char *val[CY_MAX_ARGS];
    int used[CY_MAX_ARGS];
} cli_args;

/* Splits argv into pairs; prints an error and returns -1 on a bad token. */
int cli_args_parse(cli_args *a, int argc, char **argv);
void cli_args_free(cli_args *a);
const char *cli_get(cli_args *a, const char *key, const char *def);
/* -1 and an error message when the value is not an integer in [lo, hi]. */
int cli_get_int(cli_args *a, const char *key, long def, long lo, long hi, long *out);
/* -1 and an error message naming the first key no command reads. */
int cli_check_unused(cli_args *a, const char *command);

#endif
