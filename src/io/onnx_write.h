/* Building an ONNX model in memory and writing it as a .onnx file (the ONNX
 * protobuf, encoded by protobuf-c from src/io/proto/onnx_subset.proto).
 *
 *   cy_onnx *o;  cy_onnx_create(&o, 18, &err);
 *   const char *x = cy_onnx_input(o, "images", CY_ONNX_FLOAT, 4, dims, dim_names);
 *   const char *w = cy_onnx_initializer(o, "model.0.conv.weight", CY_ONNX_FLOAT, 4, wdims, wdata);
 *   cy_onnx_attr a[] = {CY_ONNX_INTS("strides", 2, s2)};
 *   const char *y = cy_onnx_node(o, "Conv", (const char *[]){x, w}, 2, a, 1, NULL);
 *   cy_onnx_output(o, y, CY_ONNX_FLOAT, 3, odims, NULL);
 *   cy_onnx_meta(o, "task", "detect");
 *   cy_onnx_save(o, "best.onnx", &err);  cy_onnx_free(o);
 *
 * Errors are sticky: a failing call (out of memory, a NULL input from an
 * earlier failure) records the first error and returns NULL; every later call
 * is a no-op, and cy_onnx_save (or cy_onnx_status) reports it. Names the
 * builder returns stay valid until cy_onnx_free. */
#ifndef CY_IO_ONNX_WRITE_H
#define CY_IO_ONNX_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "core/status.h"

/* TensorProto.DataType values */
typedef enum { CY_ONNX_FLOAT = 1, CY_ONNX_INT64 = 7, CY_ONNX_FLOAT16 = 10 } cy_onnx_dtype;

typedef enum { CY_ONNX_A_FLOAT = 1, CY_ONNX_A_INT = 2, CY_ONNX_A_STRING = 3, CY_ONNX_A_INTS = 7 } cy_onnx_attr_type;

typedef struct {
    const char *name;
    cy_onnx_attr_type type;
    int64_t i;
    float f;
    const char *s;
    int n;
    const int64_t *ints;
} cy_onnx_attr;

#define CY_ONNX_INT(nm, v) ((cy_onnx_attr){.name = (nm), .type = CY_ONNX_A_INT, .i = (v)})
#define CY_ONNX_FLT(nm, v) ((cy_onnx_attr){.name = (nm), .type = CY_ONNX_A_FLOAT, .f = (v)})
#define CY_ONNX_STR(nm, v) ((cy_onnx_attr){.name = (nm), .type = CY_ONNX_A_STRING, .s = (v)})
#define CY_ONNX_INTS(nm, cnt, v) ((cy_onnx_attr){.name = (nm), .type = CY_ONNX_A_INTS, .n = (cnt), .ints = (v)})

typedef struct cy_onnx cy_onnx;

/* opset: the default domain's version; the IR version follows from it. */
cy_status cy_onnx_create(cy_onnx **out, int opset, cy_error *err);
void cy_onnx_free(cy_onnx *o);
int cy_onnx_opset(const cy_onnx *o);
/* The first recorded error (CY_OK when none), copied into err. */
cy_status cy_onnx_status(const cy_onnx *o, cy_error *err);

/* Records an error (the first one counts) from a caller that builds nodes. */
void cy_onnx_error(cy_onnx *o, cy_status st, const char *msg);

/* Node names start with the scope ("/model.3/"), as torch's exporter names
 * them; NULL or "" clears it. */
void cy_onnx_scope(cy_onnx *o, const char *scope);

/* A graph input; dims[i] < 0 is symbolic, named dim_names[i]. */
const char *cy_onnx_input(cy_onnx *o, const char *name, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                          const char *const *dim_names);
/* Marks value as a graph output (type and shape as for inputs). */
void cy_onnx_output(cy_onnx *o, const char *value, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                    const char *const *dim_names);

/* A constant tensor (data copied; numel * element size bytes, little-endian).
 * name NULL: a generated unique name. */
const char *cy_onnx_initializer(cy_onnx *o, const char *name, cy_onnx_dtype dt, int ndim, const int64_t *dims,
                                const void *data);
/* Shorthands: a 1-D int64 constant, a scalar float constant (0-d). */
const char *cy_onnx_const_i64(cy_onnx *o, int n, const int64_t *v);
const char *cy_onnx_const_f32(cy_onnx *o, float v);

/* A node with one output; out_name NULL: generated ("/scope/Op_output_0"). */
const char *cy_onnx_node(cy_onnx *o, const char *op, const char *const *in, int nin, const cy_onnx_attr *attrs,
                         int nattr, const char *out_name);
/* A node with nout outputs, whose names are written to outs. */
void cy_onnx_node_n(cy_onnx *o, const char *op, const char *const *in, int nin, const cy_onnx_attr *attrs,
                    int nattr, int nout, const char **outs);

/* A metadata_props entry (key and value copied). */
void cy_onnx_meta(cy_onnx *o, const char *key, const char *value);

/* Encodes the model and writes it atomically (temporary file + rename): on
 * any failure path is left as it was. */
cy_status cy_onnx_save(cy_onnx *o, const char *path, const char *producer, const char *producer_version,
                       cy_error *err);
/* The encoded model (malloc'd) without writing it. */
cy_status cy_onnx_encode(cy_onnx *o, const char *producer, const char *producer_version, uint8_t **buf,
                         size_t *len, cy_error *err);

#endif
