/* Average precision and the P/R/F1 curves: ap_per_class, compute_ap, smooth
 * and Metric of Ultralytics 8.4.37 (ultralytics/utils/metrics.py), in float64
 * with numpy's order of operations where it decides the last bits:
 * np.linspace (k * step, last = stop), np.interp (binary search, last of a
 * run of equal xp), np.trapezoid ((dx * (y1 + y0)) / 2, pairwise sum), and
 * reductions (pairwise along a contiguous axis, sequential across rows). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine/metrics.h"

/* numpy's pairwise summation (DOUBLE_pairwise_sum) of n values at stride s. */
static double pw_sum(const double *a, int64_t n, int64_t s) {
    if (n < 8) {
        double res = -0.0;
        for (int64_t i = 0; i < n; i++) res += a[i * s];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j * s];
        int64_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[(i + j) * s];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i * s];
        return res;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pw_sum(a, n2, s) + pw_sum(a + n2 * s, n - n2, s);
}

/* arr.mean() over n values at stride s: add.reduce (identity 0) / n. */
static double np_mean(const double *a, int64_t n, int64_t s) {
    return n ? (0.0 + pw_sum(a, n, s)) / (double)n : NAN;
}

static void np_linspace01(double *x, int num) {
    double step = 1.0 / (num - 1);
    for (int k = 0; k < num; k++) x[k] = (double)k * step + 0.0;
    x[num - 1] = 1.0;
}

/* Index j with xp[j] <= v < xp[j + 1] (the last of a run of equal values);
 * -1 below xp[0], n above xp[n - 1]. */
static int64_t search(double v, const double *xp, int64_t n) {
    if (v > xp[n - 1]) return n;
    if (v < xp[0]) return -1;
    int64_t lo = 0, hi = n; /* first index with xp > v */
    while (lo < hi) {
        int64_t mid = lo + ((hi - lo) >> 1);
        if (v >= xp[mid]) lo = mid + 1;
        else hi = mid;
    }
    return lo - 1;
}

void cy_interp(const double *x, int nx, const double *xp, const double *fp, int n,
               double left, double right, double *out) {
    for (int i = 0; i < nx; i++) {
        double v = x[i];
        if (isnan(v)) { out[i] = v; continue; }
        int64_t j = search(v, xp, n);
        if (j == -1) out[i] = left;
        else if (j == n) out[i] = right;
        else if (j == n - 1) out[i] = fp[j];
        else if (xp[j] == v) out[i] = fp[j];
        else {
            double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
            double r = slope * (v - xp[j]) + fp[j];
            if (isnan(r)) {
                r = slope * (v - xp[j + 1]) + fp[j + 1];
                if (isnan(r) && fp[j] == fp[j + 1]) r = fp[j];
            }
            out[i] = r;
        }
    }
}

/* compute_ap; when env is not NULL it gets the interpolated envelope at x
 * (nenv points of linspace(0, 1, nenv)): ap_per_class's prec_values. */
static double compute_ap_env(const double *recall, const double *precision, int n, double *env,
                             int nenv) {
    int m = n + 3;
    double *mrec = malloc((size_t)m * sizeof *mrec), *mpre = malloc((size_t)m * sizeof *mpre);
    if (!mrec || !mpre) {
        free(mrec), free(mpre);
        return NAN;
    }
    mrec[0] = 0.0, mpre[0] = 1.0;
    for (int i = 0; i < n; i++) mrec[i + 1] = recall[i], mpre[i + 1] = precision[i];
    mrec[n + 1] = n ? recall[n - 1] : 1.0, mpre[n + 1] = 0.0;
    mrec[n + 2] = 1.0, mpre[n + 2] = 0.0;
    /* np.flip(np.maximum.accumulate(np.flip(mpre))); np.maximum keeps NaN */
    for (int i = m - 2; i >= 0; i--)
        if (!(mpre[i] >= mpre[i + 1]) && !isnan(mpre[i])) mpre[i] = mpre[i + 1];
    double x[101], y[101], t[100];
    np_linspace01(x, 101);
    cy_interp(x, 101, mrec, mpre, m, mpre[0], mpre[m - 1], y);
    for (int i = 0; i < 100; i++) t[i] = ((x[i + 1] - x[i]) * (y[i + 1] + y[i])) / 2.0;
    double ap = 0.0 + pw_sum(t, 100, 1);
    if (env) {
        double *xe = malloc((size_t)nenv * sizeof *xe);
        if (xe) {
            np_linspace01(xe, nenv);
            cy_interp(xe, nenv, mrec, mpre, m, mpre[0], mpre[m - 1], env);
            free(xe);
        }
    }
    free(mrec), free(mpre);
    return ap;
}

double cy_compute_ap(const double *recall, const double *precision, int n) {
    return compute_ap_env(recall, precision, n, NULL, 0);
}

/* smooth(y, 0.1) on CY_NCURVE points, then argmax (first maximum). */
static int smooth_argmax(const double *y, int n, double f) {
    int nf = (int)rint((double)n * f * 2) / 2 + 1; /* round(len * f * 2) // 2 + 1: odd */
    int h = nf / 2;
    double w = 1.0 / nf;
    int best = 0;
    double bestv = -INFINITY;
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int k = 0; k < nf; k++) {
            int j = i + k - h;
            double v = j < 0 ? y[0] : j >= n ? y[n - 1] : y[j];
            s += v * w;
        }
        if (s > bestv || (isnan(s) && !isnan(bestv))) {
            best = i, bestv = s;
            if (isnan(s)) break; /* np.argmax stops at the first NaN */
        }
    }
    return best;
}

typedef struct {
    float conf;
    int64_t idx;
} conf_idx;

/* -conf ascending (conf descending, NaN last); ties keep arrival order. */
static int by_conf_desc(const void *x, const void *y) {
    const conf_idx *a = x, *b = y;
    int an = isnan(a->conf), bn = isnan(b->conf);
    if (an != bn) return an - bn;
    if (!an && a->conf != b->conf) return a->conf < b->conf ? 1 : -1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

void cy_det_metrics_free(cy_det_metrics *m) {
    if (!m) return;
    free(m->ap_class), free(m->p), free(m->r), free(m->f1), free(m->tp), free(m->fp);
    free(m->ap), free(m->ap50), free(m->ap75), free(m->ap5095), free(m->maps);
    free(m->nt_per_class), free(m->nt_per_image);
    free(m->px), free(m->p_curve), free(m->r_curve), free(m->f1_curve), free(m->prec_values);
    memset(m, 0, sizeof *m);
}

cy_status cy_ap_per_class(const uint8_t *tp, const float *conf, const int *pred_cls, int64_t n,
                          const int *target_cls, int64_t nt, const int *target_img, int64_t nti,
                          int nc, cy_det_metrics *out, cy_error *err) {
    const double eps = 1e-16;
    const int NP = CY_NCURVE;
    memset(out, 0, sizeof *out);
    if (nc < 1 || n < 0 || nt < 0 || nti < 0)
        return cy_fail(err, CY_ERR_ARG, "ap_per_class: invalid sizes (nc %d)", nc);
    for (int64_t i = 0; i < n; i++)
        if (pred_cls[i] < 0 || pred_cls[i] >= nc)
            return cy_fail(err, CY_ERR_ARG, "ap_per_class: prediction %lld has class %d outside [0, %d)",
                           (long long)i, pred_cls[i], nc);
    for (int64_t i = 0; i < nt; i++)
        if (target_cls[i] < 0 || target_cls[i] >= nc)
            return cy_fail(err, CY_ERR_ARG, "ap_per_class: label %lld has class %d outside [0, %d)",
                           (long long)i, target_cls[i], nc);
    for (int64_t i = 0; target_img && i < nti; i++)
        if (target_img[i] < 0 || target_img[i] >= nc)
            return cy_fail(err, CY_ERR_ARG, "ap_per_class: image class %d outside [0, %d)", target_img[i], nc);

    out->nc = nc;
    out->n_pred = n;
    out->nt_per_class = calloc(nc, sizeof *out->nt_per_class);
    out->nt_per_image = calloc(nc, sizeof *out->nt_per_image);
    out->maps = calloc(nc, sizeof *out->maps);
    out->px = malloc(NP * sizeof *out->px);
    if (!out->nt_per_class || !out->nt_per_image || !out->maps || !out->px) goto oom;
    for (int64_t i = 0; i < nt; i++) out->nt_per_class[target_cls[i]]++;
    for (int64_t i = 0; target_img && i < nti; i++) out->nt_per_image[target_img[i]]++;
    np_linspace01(out->px, NP);
    int na = 0;
    for (int c = 0; c < nc; c++) na += out->nt_per_class[c] > 0;
    out->n_ap = na;
    if (na == 0) return CY_OK; /* no labels: every mean is 0 (Metric's empty case) */

    size_t nac = (size_t)na * NP;
    out->ap_class = malloc(na * sizeof *out->ap_class);
    out->p = malloc(na * sizeof(double)), out->r = malloc(na * sizeof(double));
    out->f1 = malloc(na * sizeof(double)), out->tp = malloc(na * sizeof(double));
    out->fp = malloc(na * sizeof(double)), out->ap50 = malloc(na * sizeof(double));
    out->ap75 = malloc(na * sizeof(double)), out->ap5095 = malloc(na * sizeof(double));
    out->ap = calloc((size_t)na * CY_NIOU, sizeof(double));
    out->p_curve = calloc(nac, sizeof(double)), out->r_curve = calloc(nac, sizeof(double));
    out->f1_curve = calloc(nac, sizeof(double)), out->prec_values = calloc(nac, sizeof(double));
    if (!out->ap_class || !out->p || !out->r || !out->f1 || !out->tp || !out->fp || !out->ap50 ||
        !out->ap75 || !out->ap5095 || !out->ap || !out->p_curve || !out->r_curve || !out->f1_curve ||
        !out->prec_values)
        goto oom;

    size_t nn = n ? (size_t)n : 1;
    conf_idx *order = malloc(nn * sizeof *order);
    double *negc = malloc(nn * sizeof *negc), *rec = malloc(nn * CY_NIOU * sizeof *rec);
    double *prec = malloc(nn * CY_NIOU * sizeof *prec), *col_r = malloc(nn * sizeof *col_r);
    double *col_p = malloc(nn * sizeof *col_p), *negx = malloc(NP * sizeof *negx);
    int64_t *sel = malloc(nn * sizeof *sel);
    if (!order || !negc || !rec || !prec || !col_r || !col_p || !negx || !sel) {
        free(order), free(negc), free(rec), free(prec), free(col_r), free(col_p), free(negx), free(sel);
        goto oom;
    }
    for (int64_t i = 0; i < n; i++) order[i] = (conf_idx){conf[i], i};
    qsort(order, n, sizeof *order, by_conf_desc);
    for (int k = 0; k < NP; k++) negx[k] = -out->px[k];

    int ci = 0;
    for (int c = 0; c < nc; c++) {
        int64_t n_l = out->nt_per_class[c];
        if (!n_l) continue;
        out->ap_class[ci] = c;
        int64_t n_p = 0;
        for (int64_t i = 0; i < n; i++)
            if (pred_cls[order[i].idx] == c) sel[n_p++] = order[i].idx;
        if (n_p > 0) {
            for (int j = 0; j < CY_NIOU; j++) {
                int64_t tpc = 0, fpc = 0;
                for (int64_t i = 0; i < n_p; i++) {
                    int t = tp[sel[i] * CY_NIOU + j] != 0;
                    tpc += t, fpc += 1 - t;
                    rec[i * CY_NIOU + j] = (double)tpc / ((double)n_l + eps);
                    prec[i * CY_NIOU + j] = (double)tpc / (double)(tpc + fpc);
                }
            }
            /* -conf[i]: negated in float32, then float64 for np.interp */
            for (int64_t i = 0; i < n_p; i++) negc[i] = (double)(-conf[sel[i]]);
            for (int64_t i = 0; i < n_p; i++) col_r[i] = rec[i * CY_NIOU], col_p[i] = prec[i * CY_NIOU];
            cy_interp(negx, NP, negc, col_r, (int)n_p, 0.0, col_r[n_p - 1], out->r_curve + (size_t)ci * NP);
            cy_interp(negx, NP, negc, col_p, (int)n_p, 1.0, col_p[n_p - 1], out->p_curve + (size_t)ci * NP);
            for (int j = 0; j < CY_NIOU; j++) {
                for (int64_t i = 0; i < n_p; i++) col_r[i] = rec[i * CY_NIOU + j], col_p[i] = prec[i * CY_NIOU + j];
                out->ap[(size_t)ci * CY_NIOU + j] =
                    compute_ap_env(col_r, col_p, (int)n_p, j == 0 ? out->prec_values + (size_t)ci * NP : NULL, NP);
            }
        }
        ci++;
    }
    free(order), free(negc), free(rec), free(prec), free(col_r), free(col_p), free(negx), free(sel);

    /* F1, its class mean (sequential over rows), smoothed argmax */
    double *f1m = calloc(NP, sizeof *f1m);
    if (!f1m) goto oom;
    for (size_t i = 0; i < nac; i++) {
        double p = out->p_curve[i], r = out->r_curve[i];
        out->f1_curve[i] = 2 * p * r / (p + r + eps);
    }
    for (int a = 0; a < na; a++)
        for (int k = 0; k < NP; k++) f1m[k] = f1m[k] + out->f1_curve[(size_t)a * NP + k];
    for (int k = 0; k < NP; k++) f1m[k] = f1m[k] / na;
    int bi = smooth_argmax(f1m, NP, 0.1);
    free(f1m);
    out->best_index = bi;
    for (int a = 0; a < na; a++) {
        double p = out->p_curve[(size_t)a * NP + bi], r = out->r_curve[(size_t)a * NP + bi];
        out->p[a] = p, out->r[a] = r, out->f1[a] = out->f1_curve[(size_t)a * NP + bi];
        double t = rint(r * (double)out->nt_per_class[out->ap_class[a]]);
        out->tp[a] = t;
        out->fp[a] = rint(t / (p + eps) - t);
        out->ap50[a] = out->ap[(size_t)a * CY_NIOU];
        out->ap75[a] = out->ap[(size_t)a * CY_NIOU + 5];
        out->ap5095[a] = np_mean(out->ap + (size_t)a * CY_NIOU, CY_NIOU, 1);
    }
    /* Metric: mp, mr, map50, map75, map, maps, fitness */
    out->mp = np_mean(out->p, na, 1);
    out->mr = np_mean(out->r, na, 1);
    out->map50 = np_mean(out->ap, na, CY_NIOU);
    out->map75 = np_mean(out->ap + 5, na, CY_NIOU);
    out->map = np_mean(out->ap, (int64_t)na * CY_NIOU, 1);
    for (int c = 0; c < nc; c++) out->maps[c] = 0.0 + out->map;
    for (int a = 0; a < na; a++) out->maps[out->ap_class[a]] = out->ap5095[a];
    out->fitness = isnan(out->map) ? 0.0 : out->map;
    return CY_OK;
oom:
    cy_det_metrics_free(out);
    return cy_fail(err, CY_ERR_MEMORY, "ap_per_class: out of memory");
}
