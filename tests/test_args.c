/* Run arguments: Ultralytics' defaults, type checks, fraction ranges, the
 * nearest-key suggestion for an unknown key, cfg= YAML overrides, args.yaml. */
#include "engine/args.h"
#include <unistd.h>
#include "test_util.h"

int main(void) {
    cy_args *a;
    cy_error err = {0};
    CHECK(cy_args_create(&a, &err) == CY_OK, "%s", err.msg);
    long l;
    double d;
    int b, null;
    const char *s;
    CHECK(!cy_args_get_int(a, "epochs", &l, &null, &err) && l == 100 && !null, "epochs default 100");
    CHECK(!cy_args_get_int(a, "batch", &l, NULL, &err) && l == 16, "batch default 16");
    CHECK(!cy_args_get_float(a, "lr0", &d, NULL, &err) && d == 0.01, "lr0 default 0.01");
    CHECK(!cy_args_get_float(a, "dis", &d, NULL, &err) && d == 6.0, "dis default 6.0");
    CHECK(!cy_args_get_bool(a, "save", &b, &err) && b == 1, "save default True");
    CHECK(!cy_args_get_str(a, "optimizer", &s, &err) && !strcmp(s, "auto"), "optimizer default auto");
    CHECK(!cy_args_get_float(a, "time", &d, &null, &err) && null, "time default None");
    CHECK(!cy_args_get_int(a, "close_mosaic", &l, NULL, &err) && l == 10, "close_mosaic 10");

    CHECK(cy_args_set(a, "epochs", "3", &err) == CY_OK && !cy_args_get_int(a, "epochs", &l, NULL, &err) && l == 3,
          "epochs=3");
    CHECK(cy_args_set(a, "epochs", "5.0", &err) == CY_OK, "epochs=5.0 is an int like Python's int(5.0)");
    CHECK(cy_args_set(a, "epochs", "2.5", &err) == CY_ERR_ARG && strstr(err.msg, "'epochs' must be an int"),
          "epochs=2.5: %s", err.msg);
    CHECK(cy_args_set(a, "lr0", "abc", &err) == CY_ERR_ARG && strstr(err.msg, "'lr0=abc' is of invalid type"),
          "lr0=abc: %s", err.msg);
    CHECK(cy_args_set(a, "mosaic", "1.5", &err) == CY_ERR_ARG && strstr(err.msg, "between 0.0 and 1.0"),
          "mosaic=1.5: %s", err.msg);
    CHECK(cy_args_set(a, "cos_lr", "yes", &err) == CY_ERR_ARG && strstr(err.msg, "must be a bool"),
          "cos_lr=yes: %s", err.msg);
    CHECK(cy_args_set(a, "cos_lr", "true", &err) == CY_OK && !cy_args_get_bool(a, "cos_lr", &b, &err) && b,
          "cos_lr=true");
    CHECK(cy_args_set(a, "epoch", "3", &err) == CY_ERR_ARG &&
              strstr(err.msg, "'epoch' is not a valid YOLO argument. Similar arguments are i.e. ['epochs=5'"),
          "epoch=3: %s", err.msg);
    CHECK(cy_args_set(a, "lr", "0.1", &err) == CY_ERR_ARG && strstr(err.msg, "lr0=0.01"), "lr: %s", err.msg);
    CHECK(cy_args_set(a, "zzzzzzzzzz", "1", &err) == CY_ERR_ARG && !strstr(err.msg, "Similar"),
          "no suggestion for nonsense: %s", err.msg);
    CHECK(cy_args_set(a, "epochs", "", &err) == CY_ERR_ARG, "epochs needs a value");
    CHECK(cy_args_set(a, "time", "None", &err) == CY_OK, "time=None");
    CHECK(cy_args_set(a, "freeze", "[0, 1, 2]", &err) == CY_OK && cy_args_set(a, "freeze", "10", &err) == CY_OK,
          "freeze list and int");
    CHECK(cy_args_set(a, "cache", "ram", &err) == CY_OK && cy_args_set(a, "cache", "False", &err) == CY_OK,
          "cache bool or str");

    char dir[] = "/tmp/cyolo_args_XXXXXX", path[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/cfg.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "epochs: 7\nfliplr: 0.25\nbatch: eight\n");
    fclose(f);
    CHECK(cy_args_load_yaml(a, path, &err) == CY_ERR_ARG && strstr(err.msg, "cfg.yaml:3") &&
              strstr(err.msg, "'batch' must be an int"),
          "cfg error names file and line: %s", err.msg);
    CHECK(!cy_args_get_int(a, "epochs", &l, NULL, &err) && l == 7, "cfg epochs applied before the bad line");

    snprintf(path, sizeof path, "%s/args.yaml", dir);
    f = fopen(path, "w");
    CHECK(cy_args_write_yaml(a, f, &err) == CY_OK, "%s", err.msg);
    fclose(f);
    f = fopen(path, "r");
    char line[256];
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        seen += !strcmp(line, "epochs: 7\n") + !strcmp(line, "cos_lr: true\n") + !strcmp(line, "time: null\n") +
                !strcmp(line, "task: detect\n");
    }
    fclose(f);
    CHECK(seen == 4, "args.yaml spelling (%d of 4 lines)", seen);
    remove(path);
    snprintf(path, sizeof path, "%s/cfg.yaml", dir);
    remove(path);
    rmdir(dir);
    cy_args_free(a);
    return test_summary();
}
