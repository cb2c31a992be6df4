/* Internal contract between the Parquet writer's front end (pq_writer.c: API, row groups,
 * footer, file) and its column-chunk encoder (pq_write_column.c: type mapping, dictionary,
 * pages, compression, statistics). */
#ifndef MS_PQ_WRITE_H
#define MS_PQ_WRITE_H

#include "columnar/column.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/parquet.h"

/* How a core column becomes Parquet physical values. */
typedef enum ms_pq_conv {
  MS_PQ_CV_NULL, MS_PQ_CV_BOOL,
  MS_PQ_CV_COPY4, MS_PQ_CV_COPY8,          /* layout already equals PLAIN */
  MS_PQ_CV_I8, MS_PQ_CV_I16, MS_PQ_CV_U8, MS_PQ_CV_U16, /* widened to int32 */
  MS_PQ_CV_TS_SECONDS,                     /* int64 seconds -> int64 millis */
  MS_PQ_CV_DEC32, MS_PQ_CV_DEC64, MS_PQ_CV_DEC_FLBA, /* decimal128 -> int32/int64/big-endian */
  MS_PQ_CV_FLBA,                           /* fixed_binary bytes */
  MS_PQ_CV_BYTES, MS_PQ_CV_LBYTES          /* int32 / int64 offsets */
} ms_pq_conv;

/* Order used for min/max statistics. */
typedef enum ms_pq_sort {
  MS_PQ_SORT_NONE, MS_PQ_SORT_BOOL, MS_PQ_SORT_I32, MS_PQ_SORT_U32, MS_PQ_SORT_I64,
  MS_PQ_SORT_U64, MS_PQ_SORT_F32, MS_PQ_SORT_F64, MS_PQ_SORT_BYTES, MS_PQ_SORT_FLBA_SIGNED
} ms_pq_sort;

/* The write plan of one column, fixed at open. */
typedef struct ms_pq_wcol {
  const char *name;
  ms_datatype type;
  ms_pq_physical_type phys;
  int32_t width;       /* bytes per PLAIN value for fixed-width physical types, else 0 */
  bool required;
  ms_pq_conv conv;
  ms_pq_sort sort;
  bool legacy_stats;   /* also write the deprecated min/max (signed order agrees) */
} ms_pq_wcol;

typedef struct ms_pq_wopts {
  ms_codec codec;
  int level;
  int page_version;
  int64_t page_bytes;
  bool dictionary;
  int64_t dictionary_limit;
  bool statistics;
} ms_pq_wopts;

/* One encoded column chunk, offsets relative to its first byte. */
typedef struct ms_pq_chunk {
  ms_buffer *bytes;            /* pages with their headers (borrowed) */
  int64_t num_values;
  int64_t uncompressed_size;   /* headers + uncompressed page bodies */
  bool has_dictionary;         /* the chunk starts with a dictionary page */
  int64_t data_page_rel;       /* first data page */
  uint32_t encodings;          /* bit (1 << ms_pq_encoding) per encoding used */
  bool has_statistics;
  ms_pq_statistics stats;      /* min/max point into stat_min / stat_max */
  uint8_t *stat_min, *stat_max;
  int32_t stat_len_min, stat_len_max;
} ms_pq_chunk;

/* Fills the plan and the schema element of a field (element name points at f->name). */
ms_status ms_pq_wcol_plan(const ms_field *f, bool required, ms_pq_wcol *out,
                          ms_pq_schema_element *elem, ms_error *err);

/* Per-worker scratch memory of the encoder (reused across chunks). */
typedef struct ms_pq_wscratch ms_pq_wscratch;
ms_pq_wscratch *ms_pq_wscratch_create(void);
void ms_pq_wscratch_destroy(ms_pq_wscratch *s); /* NULL is allowed */

/* Encodes rows [off, off + n) of col (n > 0) as one column chunk into `bytes` (emptied
 * first; out->bytes borrows it), using scr, which no other thread may use meanwhile. */
ms_status ms_pq_encode_chunk(const ms_pq_wcol *wc, const ms_pq_wopts *o, const ms_column *col,
                             int64_t off, int64_t n, ms_pq_wscratch *scr, ms_buffer *bytes,
                             ms_pq_chunk *out, ms_error *err);
void ms_pq_chunk_reset(ms_pq_chunk *c); /* frees the statistics bytes */

#endif
