/* The formula initialisation reproduces every self-check value of
 * shared/reference/manifest.json bit for bit, and the input tensor's sum. */
#include <cjson/cJSON.h>
#include "test_ref.h"

static cy_formula_rule rule_of(const char *name) {
    const char *suffix = strrchr(name, '.');
    if (!strcmp(name, "input")) return CY_FORMULA_INPUT;
    if (strstr(name, ".bn.weight")) return CY_FORMULA_BN_WEIGHT;
    if (strstr(name, ".bn.bias")) return CY_FORMULA_BN_BIAS;
    if (strstr(name, ".bn.running_mean")) return CY_FORMULA_BN_MEAN;
    if (strstr(name, ".bn.running_var")) return CY_FORMULA_BN_VAR;
    if (suffix && !strcmp(suffix, ".bias")) return CY_FORMULA_BIAS;
    return CY_FORMULA_WEIGHT;
}

int main(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", ref_dir());
    char *text = test_slurp(path);
    CHECK(text != NULL, "cannot read %s", path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    cJSON *checks = cJSON_GetObjectItem(root, "formula_selfcheck");
    CHECK(cJSON_GetArraySize(checks) >= 15, "manifest has %d self-checks", cJSON_GetArraySize(checks));
    cJSON *c;
    cJSON_ArrayForEach(c, checks) {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        uint32_t i = (uint32_t)cJSON_GetObjectItem(c, "i")->valuedouble;
        uint32_t seed = (uint32_t)strtoul(cJSON_GetObjectItem(c, "seed_fnv1a")->valuestring, NULL, 16);
        uint32_t hi = (uint32_t)strtoul(cJSON_GetObjectItem(c, "h_i")->valuestring, NULL, 16);
        uint32_t hx = (uint32_t)strtoul(cJSON_GetObjectItem(c, "h_seed_xor_h_i")->valuestring, NULL, 16);
        uint32_t vhex = (uint32_t)strtoul(cJSON_GetObjectItem(c, "value_float32_hex")->valuestring, NULL, 16);
        double u = strtod(cJSON_GetObjectItem(c, "u")->valuestring, NULL);
        CHECK(cy_formula_seed(name) == seed, "%s seed %08x", name, cy_formula_seed(name));
        CHECK(cy_formula_hash(i) == hi, "%s h(%u)", name, i);
        CHECK(cy_formula_hash(seed ^ cy_formula_hash(i)) == hx, "%s h(seed^h(i))", name);
        CHECK(cy_formula_u(seed, i) == u, "%s u(%u) = %.17g, manifest %.17g", name, i, cy_formula_u(seed, i), u);
        /* fan_in from the shape in the model: 3x3x3 for model.0.conv.weight */
        size_t n = i + 1;
        float *x = malloc(n * sizeof *x);
        cy_formula_fill(x, n, name, rule_of(name), 27);
        uint32_t got;
        memcpy(&got, &x[i], 4);
        CHECK(got == vhex, "%s[%u] = %08x, manifest %08x", name, i, got, vhex);
        free(x);
    }
    cJSON *input = cJSON_GetObjectItem(root, "input");
    double want_sum = cJSON_GetObjectItem(input, "sum")->valuedouble;
    float *x = formula_input(2, 128, 160);
    double sum = 0;
    for (size_t i = 0; i < 2 * 3 * 128 * 160; i++) sum += x[i];
    CHECK(fabs(sum - want_sum) < 1e-6, "input sum %.9f, manifest %.9f", sum, want_sum);
    free(x);
    cJSON_Delete(root);
    free(text);
    return test_summary();
}
