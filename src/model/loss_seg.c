/* v8SegmentationLoss / SegmentLoss26 / E2ELoss of Ultralytics 8.4.190 (see
 * loss_seg.h), on top of the detection loss: the same assignment and box,
 * class and DFL/L1 terms, plus the cropped mask BCE and YOLO26's semantic
 * BCE + Dice, each with its analytic gradient. Per-pixel math is float like
 * torch's, sums are double. */
#include "model/loss_seg.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "model/loss_internal.h"
#include "model/mask_ops.h"

static cy_status check_seg(const cy_seg_masks *mk, const cy_seg_head *sh, cy_error *err) {
    if (!mk || !mk->masks || mk->h < 1 || mk->w < 1)
        return cy_fail(err, CY_ERR_ARG, "segment loss: no gt masks");
    if (!sh || !sh->coef || !sh->proto || sh->nm < 1 || sh->ph < 1 || sh->pw < 1)
        return cy_fail(err, CY_ERR_ARG, "segment loss: no mask coefficients or prototypes");
    if (sh->sem && (sh->sh < 1 || sh->sw < 1))
        return cy_fail(err, CY_ERR_ARG, "segment loss: semantic logits without a size");
    return CY_OK;
}

/* 0/1 gt masks [B][n_max][h*w] of every label from the batch's masks, at the
 * masks' own size (oh = mk->h) or nearest-resized to (oh, ow) as
 * F.interpolate(mode="nearest") does: source index floor(dst * in / out). */
static int gt_bitmaps(uint8_t **buf, size_t *cap, const cy_targets *t, const cy_seg_masks *mk, int oh, int ow) {
    const int nmax = t->n_max, B = t->batch;
    const size_t P = (size_t)oh * ow;
    if (cy_det_grow((void **)buf, cap, (size_t)B * (nmax ? nmax : 1) * P, 1)) return -1;
    memset(*buf, 0, (size_t)B * (nmax ? nmax : 1) * P);
    const float sy = (float)mk->h / (float)oh, sx = (float)mk->w / (float)ow;
    int row0 = 0;
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < t->count[b]; j++) {
            uint8_t *dst = *buf + ((size_t)b * nmax + j) * P;
            const uint8_t *src = mk->overlap ? mk->masks + (size_t)b * mk->h * mk->w
                                             : mk->masks + (size_t)(row0 + j) * mk->h * mk->w;
            const uint8_t want = mk->overlap ? (uint8_t)(j + 1) : 0;
            for (int y = 0; y < oh; y++) {
                int iy = oh == mk->h ? y : (int)floorf((float)y * sy);
                if (iy > mk->h - 1) iy = mk->h - 1;
                for (int x = 0; x < ow; x++) {
                    int ix = ow == mk->w ? x : (int)floorf((float)x * sx);
                    if (ix > mk->w - 1) ix = mk->w - 1;
                    const uint8_t v = src[(size_t)iy * mk->w + ix];
                    dst[(size_t)y * ow + x] = mk->overlap ? v == want : v != 0;
                }
            }
        }
        row0 += t->count[b];
    }
    return 0;
}

/* d/d in of out = bilinear(in) (align_corners=False, size form), added into gin. */
static void bilinear_backward(const float *gout, int n, int ih, int iw, int oh, int ow, float *gin) {
    const float sh = (float)ih / (float)oh, sw = (float)iw / (float)ow;
    for (int c = 0; c < n; c++) {
        const float *go = gout + (size_t)c * oh * ow;
        float *gi = gin + (size_t)c * ih * iw;
        for (int y = 0; y < oh; y++) {
            float fy = ((float)y + 0.5f) * sh - 0.5f;
            if (fy < 0) fy = 0;
            const int y0 = (int)fy, y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
            const float ly = fy - (float)y0;
            for (int x = 0; x < ow; x++) {
                float fx = ((float)x + 0.5f) * sw - 0.5f;
                if (fx < 0) fx = 0;
                const int x0 = (int)fx, x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
                const float lx = fx - (float)x0, g = go[(size_t)y * ow + x];
                gi[(size_t)y0 * iw + x0] += g * (1 - ly) * (1 - lx);
                gi[(size_t)y0 * iw + x1] += g * (1 - ly) * lx;
                gi[(size_t)y1 * iw + x0] += g * ly * (1 - lx);
                gi[(size_t)y1 * iw + x1] += g * ly * lx;
            }
        }
    }
}

static inline float softplus_neg_abs(float x) { return log1pf(expf(-fabsf(x))); }

/* The mask term over the batch: returns sum over fg anchors of
 * mean(crop(BCE)) / area (not yet / n_fg, not x gain); gradients of
 * gscale * that into grad_coef and gproto_t (prototypes at mask size).
 * Per image its fg anchors' coefficients form one matrix, so the logits
 * and both gradients are three GEMMs; *st gets a failure. */
static double mask_term(cy_det_loss_ws *ws, const cy_det_slot *s, const cy_det_grid *g, const cy_targets *t,
                        const cy_seg_head *sh, const float *proto_t, int h, int w, const uint8_t *gt, double gscale,
                        float *gproto_t, int *bad, cy_status *st, cy_error *err) {
    const int B = s->batch, A = s->anchors, nm = sh->nm, nmax = t->n_max;
    const size_t P = (size_t)h * w;
    const float W = (float)(g->w[0] * g->stride[0]), H = (float)(g->h[0] * g->stride[0]);
    double total = 0;
    *st = CY_OK;
    for (int b = 0; b < B && *st == CY_OK; b++) {
        int n = 0;
        for (int a = 0; a < A; a++) n += s->fg[(size_t)b * A + a];
        if (n == 0) continue;
        if (cy_det_grow((void **)&ws->seg_c, &ws->cap_seg_c, (size_t)n * nm, sizeof(float)) ||
            cy_det_grow((void **)&ws->seg_l, &ws->cap_seg_l, (size_t)n * P, sizeof(float)) ||
            cy_det_grow((void **)&ws->seg_dc, &ws->cap_seg_dc, (size_t)n * nm, sizeof(float)) ||
            cy_det_grow((void **)&ws->seg_rows, &ws->cap_seg_rows, (size_t)n, sizeof(int))) {
            *st = cy_fail(err, CY_ERR_MEMORY, "segment loss: out of memory");
            break;
        }
        float *C = ws->seg_c, *L = ws->seg_l;
        const float *pr = proto_t + (size_t)b * nm * P;
        for (int a = 0, r = 0; a < A; a++) {
            if (!s->fg[(size_t)b * A + a]) continue;
            ws->seg_rows[r] = a;
            for (int c = 0; c < nm; c++) C[(size_t)r * nm + c] = sh->coef[((size_t)b * nm + c) * A + a];
            r++;
        }
        if ((*st = cy_loss_gemm(ws, n, (int)P, nm, 0, 0, C, pr, L, 0, err)) != CY_OK) break;
        for (int r = 0; r < n; r++) {
            const size_t i = (size_t)b * A + ws->seg_rows[r];
            const float *tb = s->box_px + i * 4;
            const float n0 = tb[0] / W, n1 = tb[1] / H, n2 = tb[2] / W, n3 = tb[3] / H;
            const float area = (n2 - n0) * (n3 - n1);
            const float x1 = n0 * (float)w, y1 = n1 * (float)h, x2 = n2 * (float)w, y2 = n3 * (float)h;
            const uint8_t *gm = gt + ((size_t)b * nmax + s->gt_idx[i]) * P;
            float *lg = L + (size_t)r * P; /* logits in, d loss / d logit out */
            double sum = 0;
            const double cg = gscale / (double)P / area;
            for (int y = 0; y < h; y++) {
                const int row_in = (float)y >= y1 && (float)y < y2;
                for (int x = 0; x < w; x++) {
                    const size_t p = (size_t)y * w + x;
                    if (!(row_in && (float)x >= x1 && (float)x < x2)) {
                        lg[p] = 0;
                        continue;
                    }
                    const float v = lg[p], tgt = gm[p];
                    sum += (v > 0 ? v : 0.0f) - v * tgt + softplus_neg_abs(v);
                    lg[p] = (float)(cg * (1.0 / (1.0 + exp(-(double)v)) - tgt));
                }
            }
            total += sum / (double)P / area;
        }
        if (!isfinite(total)) *bad = 1;
        if (gscale == 0) continue;
        if (sh->grad_coef) { /* dC = G proto^T, scattered back to [nm][A] */
            if ((*st = cy_loss_gemm(ws, n, nm, (int)P, 0, 1, L, pr, ws->seg_dc, 0, err)) != CY_OK) break;
            for (int r = 0; r < n; r++)
                for (int c = 0; c < nm; c++)
                    sh->grad_coef[((size_t)b * nm + c) * A + ws->seg_rows[r]] += ws->seg_dc[(size_t)r * nm + c];
        }
        if (gproto_t) /* d proto += C^T G */
            *st = cy_loss_gemm(ws, nm, (int)P, n, 1, 0, C, L, gproto_t + (size_t)b * nm * P, 1, err);
    }
    return total;
}

/* The semantic term (BCE mean + Dice, halves) against the classes of the
 * covered pixels; gradient of gscale * it into grad_sem. */
static double sem_term(const cy_targets *t, const cy_seg_masks *mk, const cy_seg_head *sh, int nc, double gscale) {
    const int B = t->batch, Hs = sh->sh, Ws = sh->sw, h = mk->h, w = mk->w;
    const size_t S = (size_t)Hs * Ws;
    const float fy = (float)h / (float)Hs, fx = (float)w / (float)Ws;
    double bce = 0, dice = 0;
    const double nb = (double)B * nc * S;
    int row0 = 0;
    int *cls = malloc(S * sizeof *cls); /* class of each semantic pixel, -1 uncovered */
    long *area = malloc((size_t)(t->n_max ? t->n_max : 1) * sizeof *area);
    if (!cls || !area) {
        free(cls), free(area);
        return NAN;
    }
    for (int b = 0; b < B; b++) {
        const int n = t->count[b];
        const int *tc = t->cls + (size_t)b * t->n_max;
        for (int j = 0; !mk->overlap && j < n; j++) {
            const uint8_t *mj = mk->masks + (size_t)(row0 + j) * h * w;
            area[j] = 0;
            for (size_t p = 0; p < (size_t)h * w; p++) area[j] += mj[p] != 0;
        }
        for (int y = 0; y < Hs; y++) {
            int iy = Hs == h ? y : (int)floorf((float)y * fy);
            if (iy > h - 1) iy = h - 1;
            for (int x = 0; x < Ws; x++) {
                int ix = Ws == w ? x : (int)floorf((float)x * fx);
                if (ix > w - 1) ix = w - 1;
                const size_t q = (size_t)iy * w + ix;
                int c = -1;
                if (mk->overlap) {
                    const int v = mk->masks[(size_t)b * h * w + q];
                    if (v > 0 && v <= n) c = tc[v - 1];
                } else { /* the smallest covering instance wins, as Ultralytics' Format */
                    long best = -1;
                    for (int j = 0; j < n; j++) {
                        if (!mk->masks[(size_t)(row0 + j) * h * w + q]) continue;
                        if (best < 0 || area[j] < best) best = area[j], c = tc[j];
                    }
                }
                cls[(size_t)y * Ws + x] = c;
            }
        }
        row0 += n;
        for (int c = 0; c < nc; c++) {
            const float *x = sh->sem + ((size_t)b * nc + c) * S;
            double inter = 0, ps = 0, ts = 0;
            for (size_t p = 0; p < S; p++) {
                const float v = x[p], tgt = cls[p] == c;
                bce += (v > 0 ? v : 0.0f) - v * tgt + softplus_neg_abs(v);
                const double sg = 1.0 / (1.0 + exp(-(double)v));
                inter += sg * tgt, ps += sg, ts += tgt;
            }
            const double u = ps + ts + 1, d = (2 * inter + 1) / u;
            dice += 1 - d;
            if (!sh->grad_sem || gscale == 0) continue;
            float *gx = sh->grad_sem + ((size_t)b * nc + c) * S;
            const double cb = 0.5 * gscale / nb, cd = 0.5 * gscale / ((double)B * nc);
            for (size_t p = 0; p < S; p++) {
                const double sg = 1.0 / (1.0 + exp(-(double)x[p])), tgt = cls[p] == c;
                const double dd = (2 * tgt * u - (2 * inter + 1)) / (u * u); /* d dice / d sigmoid */
                gx[p] = (float)(cb * (sg - tgt) - cd * dd * sg * (1 - sg));
            }
        }
    }
    free(cls);
    free(area);
    return 0.5 * bce / nb + 0.5 * dice / ((double)B * nc);
}

cy_status cy_seg_loss_branch(cy_det_loss_ws *ws, int slot, const cy_det_grid *g, int B, int nc,
                             const cy_targets *t, const cy_seg_masks *mk, const cy_det_loss_hyp *hyp,
                             int mask_aware, const cy_det_head *det, const cy_seg_head *sh, double grad_scale,
                             cy_seg_branch_result *out, cy_error *err) {
    if (!out || !det || !t || !t->count) return cy_fail(err, CY_ERR_ARG, "segment loss: NULL arguments");
    CY_TRY(check_seg(mk, sh, err));
    const int A = cy_det_grid_anchors(g);
    memset(out, 0, sizeof *out);
    const int nm = sh->nm, ph = sh->ph, pw = sh->pw, h = mk->h, w = mk->w;
    const size_t P = (size_t)h * w, PP = (size_t)ph * pw;
    if (gt_bitmaps(&ws->seg_gt, &ws->cap_seg_gt, t, mk, h, w) ||
        ((ph != h || pw != w) && gt_bitmaps(&ws->seg_gt_p, &ws->cap_seg_gt_p, t, mk, ph, pw)))
        return cy_fail(err, CY_ERR_MEMORY, "segment loss: out of memory for gt masks");
    const uint8_t *gt_p = ph != h || pw != w ? ws->seg_gt_p : ws->seg_gt;
    cy_mask_overlap mo = {.nm = nm, .ph = ph, .pw = pw, .proto = sh->proto, .coef = sh->coef,
                          .mask_scale = (float)ph / (float)(g->h[0] * g->stride[0]), .gt = gt_p,
                          .n_max = t->n_max, .topk3 = 3 * hyp->topk};
    CY_TRY(cy_det_assign_targets_mask(ws, slot, g, B, nc, t, hyp, det->boxes, det->scores, mask_aware ? &mo : NULL,
                                      &out->assign, err));
    double det_items[3];
    CY_TRY(cy_det_loss_assigned(ws, slot, g, B, nc, hyp, det, grad_scale, det_items, err));
    out->items[0] = det_items[0], out->items[2] = det_items[1], out->items[3] = det_items[2];
    if (sh->grad_coef) memset(sh->grad_coef, 0, (size_t)B * nm * A * sizeof(float));
    if (sh->grad_proto) memset(sh->grad_proto, 0, (size_t)B * nm * PP * sizeof(float));
    if (sh->grad_sem) memset(sh->grad_sem, 0, (size_t)B * nc * sh->sh * sh->sw * sizeof(float));
    const cy_det_slot *s = &ws->slot[slot];
    if (s->n_fg == 0) return CY_OK; /* Ultralytics: seg and sem are zero without a foreground */
    /* prototypes at the gt mask size */
    const int resize = ph != h || pw != w;
    const float *proto_t = sh->proto;
    float *gproto_t = sh->grad_proto;
    if (resize) {
        if (cy_det_grow((void **)&ws->seg_proto_t, &ws->cap_seg_proto_t, (size_t)B * nm * P, sizeof(float)) ||
            (sh->grad_proto &&
             cy_det_grow((void **)&ws->seg_gproto_t, &ws->cap_seg_gproto_t, (size_t)B * nm * P, sizeof(float))))
            return cy_fail(err, CY_ERR_MEMORY, "segment loss: out of memory");
        CY_TRY(cy_resize_bilinear(sh->proto, B * nm, ph, pw, ws->seg_proto_t, h, w, 0, err));
        proto_t = ws->seg_proto_t;
        gproto_t = sh->grad_proto ? ws->seg_gproto_t : NULL;
        if (gproto_t) memset(gproto_t, 0, (size_t)B * nm * P * sizeof(float));
    }
    const double box_gain = hyp->box, nfg = (double)s->n_fg;
    int bad = 0;
    cy_status mst;
    const double msum = mask_term(ws, s, g, t, sh, proto_t, h, w, ws->seg_gt, grad_scale * box_gain / nfg, gproto_t,
                                  &bad, &mst, err);
    CY_TRY(mst);
    if (resize && gproto_t) bilinear_backward(gproto_t, B * nm, ph, pw, h, w, sh->grad_proto);
    out->items[1] = msum / nfg * box_gain;
    if (sh->sem) {
        const double v = sem_term(t, mk, sh, nc, grad_scale * box_gain);
        if (isnan(v)) return cy_fail(err, CY_ERR_MEMORY, "segment loss: out of memory (semantic term)");
        out->items[4] = v * box_gain;
    }
    for (int k = 0; k < CY_SEG_ITEMS; k++)
        if (bad || !isfinite(out->items[k]))
            return cy_fail(err, CY_ERR_ARG, "segment loss: the %s loss is not finite (a zero-area target box?)",
                           (const char *[]){"box", "seg", "cls", "dfl", "sem"}[k]);
    return CY_OK;
}

cy_status cy_seg_loss_e2e(cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc, const cy_targets *t,
                          const cy_seg_masks *mk, const cy_det_loss_hyp *o2m_hyp, const cy_det_loss_hyp *o2o_hyp,
                          cy_e2e_weights w, const cy_det_head *det_o2m, const cy_seg_head *seg_o2m,
                          const cy_det_head *det_o2o, const cy_seg_head *seg_o2o, cy_seg_result *out, cy_error *err) {
    if (!out) return cy_fail(err, CY_ERR_ARG, "segment loss: NULL result");
    const cy_det_loss_hyp hm = o2m_hyp ? *o2m_hyp : cy_det_loss_hyp_o2m();
    const cy_det_loss_hyp ho = o2o_hyp ? *o2o_hyp : cy_det_loss_hyp_o2o();
    CY_TRY(cy_seg_loss_branch(ws, 0, g, B, nc, t, mk, &hm, 1, det_o2m, seg_o2m, B * w.o2m, &out->o2m, err));
    CY_TRY(cy_seg_loss_branch(ws, 1, g, B, nc, t, mk, &ho, 1, det_o2o, seg_o2o, B * w.o2o, &out->o2o, err));
    for (int k = 0; k < CY_SEG_ITEMS; k++) {
        out->loss[k] = out->o2m.items[k] * B * w.o2m + out->o2o.items[k] * B * w.o2o;
        out->items[k] = out->o2o.items[k];
    }
    return CY_OK;
}

cy_status cy_seg_loss_v8(cy_det_loss_ws *ws, const cy_det_grid *g, int B, int nc, const cy_targets *t,
                         const cy_seg_masks *mk, const cy_det_loss_hyp *hyp, const cy_det_head *det,
                         const cy_seg_head *seg, cy_seg_result *out, cy_error *err) {
    if (!out) return cy_fail(err, CY_ERR_ARG, "segment loss: NULL result");
    memset(out, 0, sizeof *out);
    const cy_det_loss_hyp h = hyp ? *hyp : cy_det_loss_hyp_default(16);
    CY_TRY(cy_seg_loss_branch(ws, 0, g, B, nc, t, mk, &h, 0, det, seg, B, &out->o2m, err));
    for (int k = 0; k < CY_SEG_ITEMS; k++) out->items[k] = out->o2m.items[k], out->loss[k] = out->o2m.items[k] * B;
    return CY_OK;
}
