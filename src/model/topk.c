#include "model/topk.h"
#include <stdlib.h>

/* a ranks before b */
static int better(const float *v, int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); }

static void sift_down(const float *v, int *h, int k, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i; /* w: the worst of i and its children */
        if (l < k && better(v, h[w], h[l])) w = l;
        if (r < k && better(v, h[w], h[r])) w = r;
        if (w == i) return;
        int t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

void cy_topk_indices(const float *v, int n, int k, int *h) {
    if (k <= 0) return;
    /* a heap of the k best so far with the worst of them at the root */
    for (int i = 0; i < k; i++) h[i] = i;
    for (int i = k / 2 - 1; i >= 0; i--) sift_down(v, h, k, i);
    for (int i = k; i < n; i++)
        if (better(v, i, h[0])) {
            h[0] = i;
            sift_down(v, h, k, 0);
        }
    /* heap sort: repeatedly move the worst to the end */
    for (int end = k - 1; end > 0; end--) {
        int t = h[0];
        h[0] = h[end];
        h[end] = t;
        sift_down(v, h, end, 0);
    }
}
