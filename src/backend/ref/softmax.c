/* Reference softmax over contiguous rows: max-subtracted (so large logits do
 * not overflow), exponentials and their sum in double. in == out allowed. */
#include <math.h>
#include "backend/ref/check.h"
#include "backend/ref/ref.h"

cy_status ref_softmax(cy_backend *b, const float *in, float *out, int64_t rows,
                      int cols, cy_error *err) {
    CY_TRY(cy_check_softmax(in, out, rows, cols, err));
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * cols;
        float *y = out + r * cols;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < cols; j++)
            if (x[j] > mx) mx = x[j];
        for (int j = 0; j < cols; j++) sum += exp((double)x[j] - mx);
        /* recomputing exp keeps in == out safe without a scratch row */
        for (int j = 0; j < cols; j++) y[j] = (float)(exp((double)x[j] - mx) / sum);
    }
    return CY_OK;
}
