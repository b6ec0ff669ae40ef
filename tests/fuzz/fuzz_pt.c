/* Fuzz target for the .pt reader: the zip container (inputs that start with
 * "PK") or the pickle alone (anything else), then what cyolo does with a
 * checkpoint it read: find the model (cyolo or Ultralytics layout), walk the
 * module tree, serialise its YAML dict and parse that text as a model, convert
 * every weight to float32, clone and compare the tree.
 *
 * Built by tests/fuzz/build.sh (libFuzzer + ASan/UBSan); the same function
 * replays the committed corpus in CI (tests/test_pt_fuzz_corpus.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine/checkpoint_import.h"
#include "io/pickle.h"
#include "io/pt.h"
#include "model/model.h"

/* Storages of a bare pickle have no data record: zeros stand in (small ones only). */
static int fill_storages(cy_pickle_storages *st) {
    for (size_t i = 0; i < st->len; i++) {
        cy_pt_storage *s = st->items[i].s;
        size_t bytes = (size_t)s->numel * cy_pt_dtype_size(s->dtype);
        if (bytes > ((size_t)1 << 20)) return -1;
        if (!(s->data = calloc(bytes ? bytes : 1, 1))) return -1;
    }
    return 0;
}

static void exercise(cy_pt_value *root) {
    cy_error err = {0};
    cy_pt_value *copy = NULL;
    if (cy_pt_clone(&copy, root, &err) == CY_OK) {
        if (!cy_pt_equal(root, copy)) abort(); /* a clone must equal its original */
        cy_pt_value_free(copy);
    }
    for (int ema = 0; ema <= 1; ema++) {
        cy_ckpt_model c;
        if (cy_ckpt_model_from_root("fuzz.pt", root, ema, &c, &err) != CY_OK) continue;
        /* the model YAML text as the model builder parses it (layers only: no graph) */
        cy_model *m = calloc(1, sizeof *m);
        if (m) {
            cy_model_parse_yaml_text(m, "fuzz yaml", c.name, c.yaml_text, c.scale, c.nc, &err);
            free(m->layers);
            free(m);
        }
        const cy_pt_value *w = c.weights;
        for (size_t i = 0; w && w->kind == CY_PT_DICT && i < w->u.dict.len; i++) {
            const cy_pt_value *t = w->u.dict.vals[i];
            int64_t n = cy_pt_tensor_numel(t);
            if (t->kind != CY_PT_TENSOR || n > (1 << 22)) continue;
            float *f = malloc((size_t)(n ? n : 1) * sizeof *f);
            if (f) cy_pt_tensor_to_f32(t, f, (size_t)n, &err);
            free(f);
        }
        cy_ckpt_model_close(&c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cy_error err = {0};
    cy_pt_value *root = NULL;
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') {
        if (cy_pt_read_buffer(data, size, "fuzz.pt", &root, &err) == CY_OK) exercise(root);
    } else {
        cy_pickle_storages st = {0};
        if (cy_pickle_load(data, size, "fuzz: data.pkl", &root, &st, &err) == CY_OK && fill_storages(&st) == 0)
            exercise(root);
        cy_pickle_storages_free(&st);
    }
    cy_pt_value_free(root);
    return 0;
}
