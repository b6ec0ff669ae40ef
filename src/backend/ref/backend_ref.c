/* The reference backend: plain C, NCHW, no state. */
#include <stdlib.h>
#include "backend/ref/ref.h"

static void ref_destroy(cy_backend *b) { free(b); }
static void ref_slot_free(cy_backend *b, cy_slot slot) { (void)slot; }

cy_status cy_backend_ref_create(cy_backend **out, cy_error *err) {
    cy_backend *b = calloc(1, sizeof *b);
    if (!b) return cy_fail(err, CY_ERR_MEMORY, "ref backend: out of memory");
    b->name = "ref";
    b->layout = CY_LAYOUT_NCHW;
    b->threads = 1;
    b->bf16 = b->int8 = CY_LOWP_EMULATED; /* rounds or quantizes, then the float loop */
    b->destroy = ref_destroy;
    b->slot_free = ref_slot_free;
    b->conv2d = ref_conv2d;
    b->batchnorm = ref_batchnorm;
    b->activation = ref_activation;
    b->add = ref_add;
    b->maxpool2d = ref_maxpool2d;
    b->upsample_nearest = ref_upsample_nearest;
    b->conv_transpose = ref_conv_transpose;
    b->concat = ref_concat;
    b->slice_channels = ref_slice_channels;
    b->attention = ref_attention;
    b->matmul = ref_matmul;
    b->softmax = ref_softmax;
    b->conv2d_backward = ref_conv2d_backward;
    b->batchnorm_backward = ref_batchnorm_backward;
    b->activation_backward = ref_activation_backward;
    b->maxpool2d_backward = ref_maxpool2d_backward;
    b->upsample_nearest_backward = ref_upsample_nearest_backward;
    b->slice_channels_backward = ref_slice_channels_backward;
    b->attention_backward = ref_attention_backward;
    b->conv_transpose_backward = ref_conv_transpose_backward;
    b->accumulate = ref_accumulate;
    *out = b;
    return CY_OK;
}
