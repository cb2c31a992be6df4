/* Internal contract between the Parquet reader's modules:
 *   pq_read_schema.c  maps the footer's schema tree to top-level fields and conversions;
 *   pq_read_chunk.c   decodes one column chunk (one row group, one column) into its slice
 *                     of the output column;
 *   pq_reader.c       opens files, prunes row groups and runs chunk tasks on the pool. */
#ifndef MS_PQ_READ_H
#define MS_PQ_READ_H

#include "columnar/column.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/parquet.h"

/* How physical values become output values. */
typedef enum pq_conv {
  PQ_CONV_BOOL,      /* BOOLEAN -> bool bitmap */
  PQ_CONV_COPY,      /* same width: INT32, INT64, FLOAT, DOUBLE, FIXED -> as is */
  PQ_CONV_I32_TO_1,  /* INT32 -> int8/uint8 */
  PQ_CONV_I32_TO_2,  /* INT32 -> int16/uint16 */
  PQ_CONV_I32_DEC,   /* INT32 -> decimal128 (sign-extended) */
  PQ_CONV_I64_DEC,   /* INT64 -> decimal128 */
  PQ_CONV_INT96,     /* INT96 (nanos of day, Julian day) -> timestamp[ns] */
  PQ_CONV_FIXED_DEC, /* FIXED_LEN_BYTE_ARRAY big-endian -> decimal128 */
  PQ_CONV_F16,       /* FIXED_LEN_BYTE_ARRAY(2) half float -> float32 */
  PQ_CONV_BYTES,     /* BYTE_ARRAY -> utf8/binary */
  PQ_CONV_BYTES_DEC  /* BYTE_ARRAY big-endian -> decimal128 */
} pq_conv;

typedef struct pq_column {
  ms_field field;          /* name owned by the file */
  const char *unsupported; /* why this column cannot be read (nested, ...) or NULL */
  bool nested;
  int leaf;                /* index of its (first) column chunk in each row group */
  int n_leaves;
  const ms_pq_schema_element *el; /* the leaf (flat columns) */
  ms_pq_physical_type phys;
  int phys_width;          /* bytes per physical value (0 for BYTE_ARRAY, BOOLEAN) */
  int max_def;             /* 0 (required) or 1 (optional) */
  pq_conv conv;
  int out_width;           /* bytes per output value (0 for bool and var-length) */
} pq_column;

struct ms_pq_file {
  char *path;
  ms_file *file;           /* NULL for in-memory files */
  const uint8_t *data;     /* whole file (mapped or in memory), or NULL: use read_at */
  int64_t size;
  ms_pq_metadata md;
  int n_columns;
  pq_column *columns;
  int n_leaves;
};

/* Builds f->columns from f->md (pq_read_schema.c). */
ms_status ms_pq__build_columns(ms_pq_file *f, ms_error *err);

/* Per-worker reusable memory. */
typedef struct pq_scratch {
  uint8_t *p;
  int64_t cap;
} pq_scratch;
void *ms_pq__scratch(pq_scratch *s, int64_t size); /* NULL on failure */
void ms_pq__scratch_free(pq_scratch *s);

typedef struct pq_worker {
  pq_scratch chunk, page, dict_raw, dict, dict_vals, levels, phys, idx, offs;
} pq_worker;

/* Output of one column chunk. The fixed-width values and the var-length end offsets go
 * straight into the column's shared buffers (disjoint slices); bitmaps (validity, bool
 * values) and string bytes are chunk-local and merged by the reader afterwards. */
typedef struct pq_chunk_out {
  int64_t row0;            /* first output row of this chunk */
  int64_t rows;
  uint8_t *values;         /* column values base (fixed width) */
  int32_t *ends;           /* var-length: offsets array base; chunk writes [row0+1, row0+rows] */
  uint8_t *valid;          /* chunk-local validity (rows bits), NULL when max_def == 0 */
  int64_t null_count;
  uint8_t *bools;          /* chunk-local bool values (rows bits) */
  ms_buffer *data;         /* chunk-local string bytes */
  int64_t bytes_read;
} pq_chunk_out;

/* Decodes column chunk `col` of row group `rg` into out. err gets file/column/row group
 * context from the caller. */
ms_status ms_pq__decode_chunk(ms_pq_file *f, int rg, const pq_column *col, pq_worker *w,
                              pq_chunk_out *out, ms_error *err);

#endif
