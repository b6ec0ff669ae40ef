/* Complete IoU (Zheng et al.) as Ultralytics' bbox_iou(xywh=False, CIoU=True)
 * computes it, and its gradient with respect to the first box. The formula's
 * order and eps placement are kept: eps is added to both heights, to the
 * union and to the enclosing diagonal, and alpha = v / (v - iou + 1 + eps) is
 * a constant for the gradient (torch.no_grad in Ultralytics). */
#include <math.h>
#include "model/loss_internal.h"

/* d max(a, b) / d a and d min(a, b) / d a as torch defines them: a tie
 * sends half of the gradient to each side. */
static inline double dmax_a(double a, double b) { return a > b ? 1.0 : a == b ? 0.5 : 0.0; }
static inline double dmin_a(double a, double b) { return a < b ? 1.0 : a == b ? 0.5 : 0.0; }

double cy_ciou(const double b1[4], const double b2[4], double eps, double g1[4],
               const double *alpha_in, double *alpha_out) {
    const double x1 = b1[0], y1 = b1[1], x2 = b1[2], y2 = b1[3];
    const double X1 = b2[0], Y1 = b2[1], X2 = b2[2], Y2 = b2[3];
    const double w1 = x2 - x1, h1 = y2 - y1 + eps;
    const double w2 = X2 - X1, h2 = Y2 - Y1 + eps;

    const double ix = fmin(x2, X2) - fmax(x1, X1), iy = fmin(y2, Y2) - fmax(y1, Y1);
    const double iw = ix > 0 ? ix : 0, ih = iy > 0 ? iy : 0;
    const double inter = iw * ih;
    const double uni = w1 * h1 + w2 * h2 - inter + eps;
    const double iou = inter / uni;

    const double cw = fmax(x2, X2) - fmin(x1, X1), ch = fmax(y2, Y2) - fmin(y1, Y1);
    const double c2 = cw * cw + ch * ch + eps;
    const double dx = X1 + X2 - x1 - x2, dy = Y1 + Y2 - y1 - y2;
    const double rho2 = (dx * dx + dy * dy) / 4;
    const double k = 4 / (M_PI * M_PI);
    const double datan = atan(w2 / h2) - atan(w1 / h1);
    const double v = k * datan * datan;
    const double alpha = alpha_in ? *alpha_in : v / (v - iou + (1 + eps));
    if (alpha_out) *alpha_out = alpha;
    const double ciou = iou - (rho2 / c2 + v * alpha);
    if (!g1) return ciou;

    /* iou = inter / (a1 + a2 - inter + eps), a1 = w1 * h1 */
    const double u2 = uni * uni;
    const double d_inter = (uni + inter) / u2;   /* d iou / d inter */
    const double d_a1 = -inter / u2;             /* d iou / d a1 */
    /* clamp(min=0) lets the gradient through at exactly 0 */
    const double d_iw = ix >= 0 ? d_inter * ih : 0, d_ih = iy >= 0 ? d_inter * iw : 0;
    double g[4];
    g[0] = -d_iw * dmax_a(x1, X1) - d_a1 * h1;
    g[2] = d_iw * dmin_a(x2, X2) + d_a1 * h1;
    g[1] = -d_ih * dmax_a(y1, Y1) - d_a1 * w1;
    g[3] = d_ih * dmin_a(y2, Y2) + d_a1 * w1;

    /* - rho2 / c2, c2 = cw^2 + ch^2 + eps */
    const double d_rho2 = -1 / c2, d_c2 = rho2 / (c2 * c2);
    g[0] += d_rho2 * (-dx / 2) - d_c2 * 2 * cw * dmin_a(x1, X1);
    g[2] += d_rho2 * (-dx / 2) + d_c2 * 2 * cw * dmax_a(x2, X2);
    g[1] += d_rho2 * (-dy / 2) - d_c2 * 2 * ch * dmin_a(y1, Y1);
    g[3] += d_rho2 * (-dy / 2) + d_c2 * 2 * ch * dmax_a(y2, Y2);

    /* - alpha * v, v = k (atan(w2/h2) - atan(w1/h1))^2 */
    const double r = w1 * w1 + h1 * h1;
    const double dv_dw1 = r > 0 ? k * 2 * datan * (-h1 / r) : 0;
    const double dv_dh1 = r > 0 ? k * 2 * datan * (w1 / r) : 0;
    g[0] -= alpha * (-dv_dw1);
    g[2] -= alpha * dv_dw1;
    g[1] -= alpha * (-dv_dh1);
    g[3] -= alpha * dv_dh1;
    for (int i = 0; i < 4; i++) g1[i] = g[i];
    return ciou;
}
