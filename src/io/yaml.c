#include "io/yaml.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static cy_yaml *yaml_convert(yaml_document_t *doc, yaml_node_t *node, int depth) {
    if (!node || depth > 64) return NULL;
    cy_yaml *y = calloc(1, sizeof *y);
    if (!y) return NULL;
    y->line = (int)node->start_mark.line + 1;
    switch (node->type) {
    case YAML_SCALAR_NODE:
        y->kind = CY_YAML_SCALAR;
        y->str = strndup((const char *)node->data.scalar.value, node->data.scalar.length);
        y->quoted = node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        if (!y->str) goto fail;
        return y;
    case YAML_SEQUENCE_NODE: {
        y->kind = CY_YAML_SEQ;
        int n = (int)(node->data.sequence.items.top - node->data.sequence.items.start);
        y->items = calloc(n ? n : 1, sizeof *y->items);
        if (!y->items) goto fail;
        for (int i = 0; i < n; i++) {
            yaml_node_t *c = yaml_document_get_node(doc, node->data.sequence.items.start[i]);
            if (!(y->items[i] = yaml_convert(doc, c, depth + 1))) goto fail;
            y->n = i + 1;
        }
        return y;
    }
    case YAML_MAPPING_NODE: {
        y->kind = CY_YAML_MAP;
        int n = (int)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
        y->items = calloc(n ? n : 1, sizeof *y->items);
        y->keys = calloc(n ? n : 1, sizeof *y->keys);
        if (!y->items || !y->keys) goto fail;
        for (int i = 0; i < n; i++) {
            yaml_node_pair_t *p = node->data.mapping.pairs.start + i;
            yaml_node_t *k = yaml_document_get_node(doc, p->key);
            if (!k || k->type != YAML_SCALAR_NODE) goto fail;
            y->keys[i] = strndup((const char *)k->data.scalar.value, k->data.scalar.length);
            y->items[i] = yaml_convert(doc, yaml_document_get_node(doc, p->value), depth + 1);
            if (!y->keys[i] || !y->items[i]) {
                free(y->keys[i]);
                cy_yaml_free(y->items[i]);
                goto fail;
            }
            y->n = i + 1;
        }
        return y;
    }
    default:
        break;
    }
fail:
    cy_yaml_free(y);
    return NULL;
}

/* Parses what the parser was given; label names the source in messages. */
static cy_status yaml_parse(yaml_parser_t *parser, const char *label, cy_yaml **out, cy_error *err) {
    yaml_document_t doc;
    cy_status st = CY_OK;
    if (!yaml_parser_load(parser, &doc)) {
        st = cy_fail(err, CY_ERR_FORMAT, "%s:%d:%d: invalid YAML: %s", label,
                     (int)parser->problem_mark.line + 1, (int)parser->problem_mark.column + 1,
                     parser->problem ? parser->problem : "parse error");
    } else {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: empty YAML file", label);
        } else if (!(*out = yaml_convert(&doc, root, 0))) {
            st = cy_fail(err, CY_ERR_FORMAT, "%s: unsupported or too deeply nested YAML", label);
        }
        yaml_document_delete(&doc);
    }
    return st;
}

cy_status cy_yaml_load(const char *path, cy_yaml **out, cy_error *err) {
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return cy_fail(err, CY_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot initialise the YAML parser", path);
    }
    yaml_parser_set_input_file(&parser, fp);
    cy_status st = yaml_parse(&parser, path, out, err);
    yaml_parser_delete(&parser);
    fclose(fp);
    return st;
}

cy_status cy_yaml_load_text(const char *label, const char *text, size_t len, cy_yaml **out, cy_error *err) {
    *out = NULL;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cy_fail(err, CY_ERR_MEMORY, "%s: cannot initialise the YAML parser", label);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    cy_status st = yaml_parse(&parser, label, out, err);
    yaml_parser_delete(&parser);
    return st;
}

void cy_yaml_free(cy_yaml *y) {
    if (!y) return;
    for (int i = 0; i < y->n; i++) {
        cy_yaml_free(y->items[i]);
        if (y->keys) free(y->keys[i]);
    }
    free(y->items);
    free(y->keys);
    free(y->str);
    free(y);
}

const cy_yaml *cy_yaml_get(const cy_yaml *map, const char *key) {
    if (!map || map->kind != CY_YAML_MAP) return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->keys[i], key) == 0) return map->items[i];
    return NULL;
}

int cy_yaml_int(const cy_yaml *y, long *out) {
    if (!y || y->kind != CY_YAML_SCALAR || y->quoted) return -1;
    char *end;
    errno = 0;
    long v = strtol(y->str, &end, 10);
    if (end == y->str || *end || errno) return -1;
    *out = v;
    return 0;
}

int cy_yaml_double(const cy_yaml *y, double *out) {
    if (!y || y->kind != CY_YAML_SCALAR || y->quoted) return -1;
    char *end;
    errno = 0;
    double v = strtod(y->str, &end);
    if (end == y->str || *end || errno) return -1;
    *out = v;
    return 0;
}

int cy_yaml_bool(const cy_yaml *y, int *out) {
    if (!y || y->kind != CY_YAML_SCALAR || y->quoted) return -1;
    if (!strcmp(y->str, "True") || !strcmp(y->str, "true")) { *out = 1; return 0; }
    if (!strcmp(y->str, "False") || !strcmp(y->str, "false")) { *out = 0; return 0; }
    return -1;
}

int cy_yaml_is_null(const cy_yaml *y) {
    return y && y->kind == CY_YAML_SCALAR && !y->quoted &&
           (!strcmp(y->str, "None") || !strcmp(y->str, "null") || !strcmp(y->str, "~") ||
            !y->str[0]);
}
