/* cpu BatchNorm2d: oneDNN batch normalization on NHWC. Eval uses the running
 * statistics (use_global_stats); training takes oneDNN's batch mean and
 * biased variance and updates the running estimates here (unbiased). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backend/cpu/cpu.h"
#include "backend/ref/check.h"

typedef struct {
    cpu_slot_hdr hdr;
    int built;
    cy_shape s;
    unsigned flags;
    float eps;
    dnnl_primitive_t prim;
    dnnl_memory_t src, dst, scale, shift, mean, var;
    float *stats; /* [2C] batch mean, variance (training) */
} bn_slot;

static void bn_slot_release(bn_slot *s) {
    if (s->prim) dnnl_primitive_destroy(s->prim);
    dnnl_memory_t *m[] = {&s->src, &s->dst, &s->scale, &s->shift, &s->mean, &s->var};
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (*m[i]) dnnl_memory_destroy(*m[i]);
    free(s->stats);
    cpu_slot_hdr h = s->hdr;
    memset(s, 0, sizeof *s);
    s->hdr = h;
}

static void bn_slot_free(cpu_slot_hdr *h) {
    bn_slot_release((bn_slot *)h);
    free(h);
}

static unsigned bn_flags(const cy_bn_params *p) {
    return (p->training ? 0u : (unsigned)dnnl_use_global_stats) |
           (p->gamma ? (unsigned)dnnl_use_scale : 0u) |
           (p->beta ? (unsigned)dnnl_use_shift : 0u);
}

static cy_status bn_build(cpu_impl *c, bn_slot *s, const cy_tensor *in,
                          const cy_bn_params *p, cy_error *err) {
    cy_status rc = CY_OK;
    dnnl_primitive_desc_t pd = NULL;
    const unsigned flags = bn_flags(p);
    const int C = in->s.c;
    bn_slot_release(s);
    dnnl_memory_desc_t md;
    dnnl_dims_t d = {in->s.n, C, in->s.h, in->s.w}, dc = {C};
    DNNL_GO("batchnorm", dnnl_memory_desc_init_by_tag(&md, 4, d, dnnl_f32, dnnl_nhwc));
    dnnl_batch_normalization_desc_t bd;
    DNNL_GO("batchnorm", dnnl_batch_normalization_forward_desc_init(
                             &bd, p->training ? dnnl_forward_training
                                              : dnnl_forward_inference,
                             &md, p->eps, flags));
    DNNL_GO("batchnorm", dnnl_primitive_desc_create(&pd, &bd, NULL, c->engine, NULL));
    DNNL_GO("batchnorm", dnnl_primitive_create(&s->prim, pd));
    DNNL_GO("batchnorm", dnnl_memory_create(&s->src, &md, c->engine, DNNL_MEMORY_NONE));
    DNNL_GO("batchnorm", dnnl_memory_create(&s->dst, &md, c->engine, DNNL_MEMORY_NONE));
    DNNL_GO("batchnorm", cpu_memory_tag(&s->scale, c->engine, 1, dc, dnnl_a, NULL));
    DNNL_GO("batchnorm", cpu_memory_tag(&s->shift, c->engine, 1, dc, dnnl_a, NULL));
    DNNL_GO("batchnorm", cpu_memory_tag(&s->mean, c->engine, 1, dc, dnnl_a, NULL));
    DNNL_GO("batchnorm", cpu_memory_tag(&s->var, c->engine, 1, dc, dnnl_a, NULL));
    if (p->training) {
        s->stats = malloc(2 * (size_t)C * sizeof *s->stats);
        if (!s->stats) {
            rc = cy_fail(err, CY_ERR_MEMORY, "batchnorm: out of memory");
            goto fail;
        }
    }
    s->built = 1;
    s->s = in->s;
    s->flags = flags;
    s->eps = p->eps;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (rc != CY_OK) bn_slot_release(s);
    return rc;
}

cy_status cpu_batchnorm(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                        cy_tensor *out, const cy_bn_params *p, cy_error *err) {
    cy_status rc = CY_OK;
    cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_bn(in, out, p, err));
    if (!slot) return cy_fail(err, CY_ERR_ARG, "batchnorm: no slot");
    cpu_use_threads(c);
    bn_slot *s = *slot;
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return cy_fail(err, CY_ERR_MEMORY, "batchnorm: out of memory");
        s->hdr.free = bn_slot_free;
        *slot = s;
    }
    if (!s->built || memcmp(&s->s, &in->s, sizeof s->s) || s->flags != bn_flags(p) ||
        s->eps != p->eps)
        CY_TRY(bn_build(c, s, in, p, err));

    const int C = in->s.c;
    float *mean = p->training ? s->stats : p->running_mean;
    float *var = p->training ? s->stats + C : p->running_var;
    DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->src, in->data));
    DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->dst, out->data));
    DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->mean, mean));
    DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->var, var));
    dnnl_exec_arg_t args[6] = {{DNNL_ARG_SRC, s->src}, {DNNL_ARG_DST, s->dst},
                               {DNNL_ARG_MEAN, s->mean}, {DNNL_ARG_VARIANCE, s->var}};
    int nargs = 4;
    if (p->gamma) {
        DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->scale, (void *)p->gamma));
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, s->scale};
    }
    if (p->beta) {
        DNNL_GO("batchnorm", dnnl_memory_set_data_handle(s->shift, (void *)p->beta));
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, s->shift};
    }
    DNNL_GO("batchnorm", dnnl_primitive_execute(s->prim, c->stream, nargs, args));
    DNNL_GO("batchnorm", dnnl_stream_wait(c->stream));

    if (p->training) {
        const double m = p->momentum;
        const double M = (double)in->s.n * in->s.h * in->s.w;
        for (int ch = 0; ch < C; ch++) {
            p->running_mean[ch] = (float)((1 - m) * p->running_mean[ch] + m * mean[ch]);
            p->running_var[ch] =
                (float)((1 - m) * p->running_var[ch] + m * var[ch] * M / (M - 1));
            if (p->save_mean) p->save_mean[ch] = mean[ch];
            if (p->save_invstd) p->save_invstd[ch] = (float)(1.0 / sqrt(var[ch] + p->eps));
        }
    }
fail:
    return rc;
}

/* Training-mode backward on NHWC, two passes over channel rows (oneDNN's
 * backward primitive writes diff_src instead of adding to it, which would
 * cost a third pass through a scratch copy):
 *   1. per channel S1 = sum dy, S2 = sum dy (x - mean): float partials over
 *      blocks of rows, summed in double per thread, then across threads;
 *   2. din += a dy + b (x - mean) + d with a = gamma invstd,
 *      b = -gamma invstd^3 S2 / M, d = -a S1 / M.
 * dbeta += S1, dgamma += invstd S2. */
#define BN_BLOCK 64

cy_status cpu_batchnorm_backward(cy_backend *b, cy_slot *slot, const cy_tensor *in,
                                 const cy_tensor *dout, cy_tensor *din,
                                 const cy_bn_params *p, float *dgamma, float *dbeta,
                                 cy_error *err) {
    const cpu_impl *c = cpu_of(b);
    CY_TRY(cy_check_bn_backward(in, dout, din, p, err));
    if (!din && !dgamma && !dbeta) return CY_OK;
    cpu_use_threads(c);
    const int C = in->s.c;
    const long px = (long)in->s.n * in->s.h * in->s.w;
    const long nblk = (px + BN_BLOCK - 1) / BN_BLOCK;
    const int team = px * C > 32768 ? c->threads : 1;
    /* per thread: double S1, S2, then float block partials; then a, b, d */
    const size_t per = 2 * (size_t)C * sizeof(double) + 2 * (size_t)C * sizeof(float);
    char *mem = calloc(1, (size_t)team * per + 3 * (size_t)C * sizeof(float));
    if (!mem) return cy_fail(err, CY_ERR_MEMORY, "batchnorm_backward: out of memory");
    const float *mean = p->save_mean, *x0 = in->data, *dy0 = dout->data;
#pragma omp parallel num_threads(team) if (team > 1)
    {
        double *s1 = (double *)(mem + (size_t)omp_get_thread_num() * per), *s2 = s1 + C;
        float *f1 = (float *)(s2 + C), *f2 = f1 + C;
#pragma omp for schedule(static)
        for (long blk = 0; blk < nblk; blk++) {
            const long r1 = (blk + 1) * BN_BLOCK < px ? (blk + 1) * BN_BLOCK : px;
            for (int k = 0; k < C; k++) f1[k] = f2[k] = 0;
            for (long r = blk * BN_BLOCK; r < r1; r++) {
                const float *x = x0 + (size_t)r * C, *dy = dy0 + (size_t)r * C;
#pragma omp simd
                for (int k = 0; k < C; k++) {
                    f1[k] += dy[k];
                    f2[k] += dy[k] * (x[k] - mean[k]);
                }
            }
            for (int k = 0; k < C; k++) s1[k] += f1[k], s2[k] += f2[k];
        }
    }
    float *ca = (float *)(mem + (size_t)team * per), *cb = ca + C, *cd = cb + C;
    const double M = (double)px;
    for (int k = 0; k < C; k++) {
        double S1 = 0, S2 = 0;
        for (int t = 0; t < team; t++) {
            const double *s1 = (const double *)(mem + (size_t)t * per);
            S1 += s1[k], S2 += s1[C + k];
        }
        const double is = p->save_invstd[k], g = p->gamma ? p->gamma[k] : 1.0;
        if (dbeta) dbeta[k] = (float)(dbeta[k] + S1);
        if (dgamma) dgamma[k] = (float)(dgamma[k] + is * S2);
        ca[k] = (float)(g * is);
        cb[k] = (float)(-g * is * is * is * S2 / M);
        cd[k] = (float)(-g * is * S1 / M);
    }
    if (din) {
        float *dx0 = din->data;
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
        for (long r = 0; r < px; r++) {
            const float *x = x0 + (size_t)r * C, *dy = dy0 + (size_t)r * C;
            float *dx = dx0 + (size_t)r * C;
#pragma omp simd
            for (int k = 0; k < C; k++) dx[k] += ca[k] * dy[k] + cb[k] * (x[k] - mean[k]) + cd[k];
        }
    }
    free(mem);
    return CY_OK;
}
