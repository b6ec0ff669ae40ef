/* Top-k selection by value, best first; equal values keep the lower index
 * first (torch.topk's order on the reference's CPU ties). O(n log k). */
#ifndef CY_MODEL_TOPK_H
#define CY_MODEL_TOPK_H

/* Writes the indices of the k largest v[0..n) to idx, best first. k <= n.
 * heap: scratch of k ints. */
void cy_topk_indices(const float *v, int n, int k, int *idx);

#endif
