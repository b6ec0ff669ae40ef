#include "cli/args.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_args_parse(cli_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "error: argument '%s' is not of the form key=value\n", argv[i]);
            cli_args_free(a);
            return -1;
        }
        if (a->n == CY_MAX_ARGS) {
            fprintf(stderr, "error: too many arguments\n");
            cli_args_free(a);
            return -1;
        }
        for (int j = 0; j < a->n; j++)
            if (strlen(a->key[j]) == (size_t)(eq - argv[i]) && !strncmp(a->key[j], argv[i], eq - argv[i])) {
                fprintf(stderr, "error: argument '%.*s' given twice\n", (int)(eq - argv[i]), argv[i]);
                cli_args_free(a);
                return -1;
            }
        a->key[a->n] = strndup(argv[i], eq - argv[i]);
        a->val[a->n] = eq + 1;
        a->n++;
    }
    return 0;
}

void cli_args_free(cli_args *a) {
    for (int i = 0; i < a->n; i++) free((char *)a->key[i]);
    a->n = 0;
}

const char *cli_get(cli_args *a, const char *key, const char *def) {
    for (int i = 0; i < a->n; i++)
        if (!strcmp(a->key[i], key)) {
            a->used[i] = 1;
            return a->val[i];
        }
    return def;
}

int cli_get_int(cli_args *a, const char *key, long def, long lo, long hi, long *out) {
    const char *v = cli_get(a, key, NULL);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "error: %s=%s: expected an integer in [%ld, %ld]\n", key, v, lo, hi);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_check_unused(cli_args *a, const char *command) {
    for (int i = 0; i < a->n; i++)
        if (!a->used[i]) {
            fprintf(stderr, "error: '%s' is not a valid argument for 'cyolo %s'\n", a->key[i], command);
            return -1;
        }
    return 0;
}
