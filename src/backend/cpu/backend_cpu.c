/* The cpu backend: oneDNN engine + stream, thread count, and the op table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include "backend/cpu/cpu.h"

cy_status cpu_dnnl_fail(cy_error *err, const char *op, const char *call,
                        dnnl_status_t st) {
    int len = (int)strcspn(call, "(");
    return cy_fail(err, CY_ERR_BACKEND, "%s: oneDNN %.*s failed: %s", op, len, call,
                   dnnl_status2str(st));
}

dnnl_status_t cpu_memory_tag(dnnl_memory_t *m, dnnl_engine_t eng, int ndims,
                             const dnnl_dims_t dims, dnnl_format_tag_t tag,
                             void *handle) {
    dnnl_memory_desc_t md;
    dnnl_status_t st = dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag);
    if (st != dnnl_success) return st;
    return dnnl_memory_create(m, &md, eng, handle ? handle : DNNL_MEMORY_NONE);
}

float *cpu_scratch(cpu_impl *c, size_t n) {
    if (n > c->scratch_cap) {
        free(c->scratch);
        c->scratch = malloc(n * sizeof *c->scratch);
        c->scratch_cap = c->scratch ? n : 0;
    }
    return c->scratch;
}

void cpu_add_into(const cpu_impl *c, float *restrict y, const float *restrict x, size_t n) {
    const long m = (long)n;
#pragma omp parallel for simd num_threads(c->threads) if (m > 32768)
    for (long i = 0; i < m; i++) y[i] += x[i];
}

static void cpu_destroy(cy_backend *b) {
    if (!b) return;
    cpu_impl *c = cpu_of(b);
    if (c) {
        if (c->stream) dnnl_stream_destroy(c->stream);
        if (c->engine) dnnl_engine_destroy(c->engine);
        free(c->scratch);
        free(c);
    }
    free(b);
}

static void cpu_slot_free(cy_backend *b, cy_slot slot) {
    cpu_slot_hdr *h = slot;
    if (h) h->free(h);
}


/* As torch and OpenMP read it: a user who sets OMP_NUM_THREADS=1 to share
 * the machine gets one thread, not every core spinning beside the others. */
static int default_threads(void) {
    const char *env = getenv("OMP_NUM_THREADS");
    if (env) {
        char *end;
        errno = 0;
        long v = strtol(env, &end, 10);
        while (*end == ' ' || *end == '\t') end++;
        if (!errno && end != env && (*end == '\0' || *end == ',') && v > 0 && v <= 4096) return (int)v;
    }
    return omp_get_num_procs();
}

cy_status cy_backend_cpu_create(cy_backend **out, int threads, cy_error *err) {
    cy_status rc = CY_OK;
    cy_backend *b = calloc(1, sizeof *b);
    cpu_impl *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!b || !c) {
        free(b);
        free(c);
        return cy_fail(err, CY_ERR_MEMORY, "cpu backend: out of memory");
    }
    b->impl = c;
    b->threads = c->threads = threads > 0 ? threads : default_threads();
    DNNL_GO("cpu backend", dnnl_engine_create(&c->engine, dnnl_cpu, 0));
    DNNL_GO("cpu backend", dnnl_stream_create(&c->stream, c->engine,
                                              dnnl_stream_default_flags));
    b->name = "cpu";
    b->layout = CY_LAYOUT_NHWC;
    /* oneDNN 2.6 runs bf16 convolutions from AVX-512 on, natively with AVX512-BF16 */
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    b->bf16 = isa >= dnnl_cpu_isa_avx512_core_bf16 ? CY_LOWP_NATIVE
              : isa >= dnnl_cpu_isa_avx512_core    ? CY_LOWP_EMULATED
                                                   : CY_LOWP_NONE;
    b->int8 = isa >= dnnl_cpu_isa_avx512_core_vnni ? CY_LOWP_NATIVE
              : isa >= dnnl_cpu_isa_avx2          ? CY_LOWP_EMULATED
                                                   : CY_LOWP_NONE;
    b->destroy = cpu_destroy;
    b->slot_free = cpu_slot_free;
    b->conv2d = cpu_conv2d;
    b->batchnorm = cpu_batchnorm;
    b->activation = cpu_activation;
    b->add = cpu_add;
    b->maxpool2d = cpu_maxpool2d;
    b->upsample_nearest = cpu_upsample_nearest;
    b->conv_transpose = cpu_conv_transpose;
    b->concat = cpu_concat;
    b->slice_channels = cpu_slice_channels;
    b->attention = cpu_attention;
    b->matmul = cpu_matmul;
    b->softmax = cpu_softmax;
    b->conv2d_backward = cpu_conv2d_backward;
    b->batchnorm_backward = cpu_batchnorm_backward;
    b->activation_backward = cpu_activation_backward;
    b->maxpool2d_backward = cpu_maxpool2d_backward;
    b->upsample_nearest_backward = cpu_upsample_nearest_backward;
    b->slice_channels_backward = cpu_slice_channels_backward;
    b->attention_backward = cpu_attention_backward;
    b->conv_transpose_backward = cpu_conv_transpose_backward;
    b->accumulate = cpu_accumulate;
    *out = b;
    return CY_OK;
fail:
    cpu_destroy(b);
    return rc;
}
