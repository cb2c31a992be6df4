/* Parquet file metadata (the Thrift structs of parquet.thrift that morsel reads and writes)
 * and their Thrift compact-protocol codecs.
 *
 * Decoding: ms_pq_metadata_decode parses a FileMetaData footer; ms_pq_page_header_decode
 * parses one PageHeader. Unknown fields are skipped, as Thrift requires. All strings and
 * arrays of a decoded footer live in the footer's own allocation list and are freed by
 * ms_pq_metadata_free. Every count read from the file is bounded by the bytes remaining,
 * so a lying footer cannot cause a huge allocation.
 *
 * Encoding: ms_pq_metadata_encode and ms_pq_page_header_encode append the compact-protocol
 * bytes to a buffer (the writer's side). Optional fields are written when their has_* flag
 * is set. */
#ifndef MS_PQ_METADATA_H
#define MS_PQ_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "columnar/column.h"
#include "morsel/status.h"

/* parquet.thrift enums (values as in the spec) */
typedef enum { MS_PQ_BOOLEAN = 0, MS_PQ_INT32 = 1, MS_PQ_INT64 = 2, MS_PQ_INT96 = 3,
               MS_PQ_FLOAT = 4, MS_PQ_DOUBLE = 5, MS_PQ_BYTE_ARRAY = 6,
               MS_PQ_FIXED_LEN_BYTE_ARRAY = 7 } ms_pq_physical_type;

typedef enum { MS_PQ_REQUIRED = 0, MS_PQ_OPTIONAL = 1, MS_PQ_REPEATED = 2 } ms_pq_repetition;

typedef enum { MS_PQ_ENC_PLAIN = 0, MS_PQ_ENC_PLAIN_DICTIONARY = 2, MS_PQ_ENC_RLE = 3,
               MS_PQ_ENC_BIT_PACKED = 4, MS_PQ_ENC_DELTA_BINARY_PACKED = 5,
               MS_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, MS_PQ_ENC_DELTA_BYTE_ARRAY = 7,
               MS_PQ_ENC_RLE_DICTIONARY = 8, MS_PQ_ENC_BYTE_STREAM_SPLIT = 9 } ms_pq_encoding;

typedef enum { MS_PQ_PAGE_DATA = 0, MS_PQ_PAGE_INDEX = 1, MS_PQ_PAGE_DICTIONARY = 2,
               MS_PQ_PAGE_DATA_V2 = 3 } ms_pq_page_type;

/* ConvertedType (legacy); -1 when absent */
typedef enum { MS_PQ_CT_NONE = -1, MS_PQ_CT_UTF8 = 0, MS_PQ_CT_MAP = 1, MS_PQ_CT_MAP_KEY_VALUE = 2,
               MS_PQ_CT_LIST = 3, MS_PQ_CT_ENUM = 4, MS_PQ_CT_DECIMAL = 5, MS_PQ_CT_DATE = 6,
               MS_PQ_CT_TIME_MILLIS = 7, MS_PQ_CT_TIME_MICROS = 8,
               MS_PQ_CT_TIMESTAMP_MILLIS = 9, MS_PQ_CT_TIMESTAMP_MICROS = 10,
               MS_PQ_CT_UINT_8 = 11, MS_PQ_CT_UINT_16 = 12, MS_PQ_CT_UINT_32 = 13,
               MS_PQ_CT_UINT_64 = 14, MS_PQ_CT_INT_8 = 15, MS_PQ_CT_INT_16 = 16,
               MS_PQ_CT_INT_32 = 17, MS_PQ_CT_INT_64 = 18, MS_PQ_CT_JSON = 19,
               MS_PQ_CT_BSON = 20, MS_PQ_CT_INTERVAL = 21 } ms_pq_converted_type;

/* LogicalType union member (field id in parquet.thrift); NONE when absent */
typedef enum { MS_PQ_LT_NONE = 0, MS_PQ_LT_STRING = 1, MS_PQ_LT_MAP = 2, MS_PQ_LT_LIST = 3,
               MS_PQ_LT_ENUM = 4, MS_PQ_LT_DECIMAL = 5, MS_PQ_LT_DATE = 6, MS_PQ_LT_TIME = 7,
               MS_PQ_LT_TIMESTAMP = 8, MS_PQ_LT_INTEGER = 10, MS_PQ_LT_UNKNOWN = 11,
               MS_PQ_LT_JSON = 12, MS_PQ_LT_BSON = 13, MS_PQ_LT_UUID = 14,
               MS_PQ_LT_FLOAT16 = 15 } ms_pq_logical_kind;

typedef enum { MS_PQ_TU_MILLIS = 1, MS_PQ_TU_MICROS = 2, MS_PQ_TU_NANOS = 3 } ms_pq_time_unit;

typedef struct ms_pq_logical_type {
  ms_pq_logical_kind kind;
  int32_t decimal_scale, decimal_precision; /* DECIMAL */
  bool is_adjusted_to_utc;                  /* TIME, TIMESTAMP */
  ms_pq_time_unit unit;                     /* TIME, TIMESTAMP */
  int8_t int_bit_width;                     /* INTEGER */
  bool int_is_signed;                       /* INTEGER */
} ms_pq_logical_type;

typedef struct ms_pq_schema_element {
  char *name;
  bool has_type;
  ms_pq_physical_type type;
  int32_t type_length;            /* FIXED_LEN_BYTE_ARRAY width; 0 when absent */
  bool has_repetition;
  ms_pq_repetition repetition;
  int32_t num_children;           /* 0 for leaves */
  ms_pq_converted_type converted_type;
  int32_t scale, precision;       /* legacy decimal; 0 when absent */
  bool has_field_id;
  int32_t field_id;
  ms_pq_logical_type logical;
} ms_pq_schema_element;

typedef struct ms_pq_statistics {
  bool has_min, has_max;          /* legacy min/max (signed sort order) */
  uint8_t *min, *max;
  int32_t min_len, max_len;
  bool has_min_value, has_max_value; /* modern min_value/max_value */
  uint8_t *min_value, *max_value;
  int32_t min_value_len, max_value_len;
  bool has_null_count;
  int64_t null_count;
  bool has_distinct_count;
  int64_t distinct_count;
} ms_pq_statistics;

typedef struct ms_pq_kv {
  char *key;
  char *value; /* may be NULL */
} ms_pq_kv;

typedef struct ms_pq_column_meta {
  ms_pq_physical_type type;
  int32_t n_encodings;
  ms_pq_encoding *encodings;
  int32_t n_path;
  char **path_in_schema;
  int32_t codec;                  /* ms_codec value */
  int64_t num_values;
  int64_t total_uncompressed_size;
  int64_t total_compressed_size;
  int64_t data_page_offset;
  bool has_index_page_offset;
  int64_t index_page_offset;
  bool has_dictionary_page_offset;
  int64_t dictionary_page_offset;
  bool has_statistics;
  ms_pq_statistics statistics;
} ms_pq_column_meta;

typedef struct ms_pq_column_chunk {
  char *file_path;                /* NULL: same file */
  int64_t file_offset;
  bool has_meta_data;
  ms_pq_column_meta meta_data;
} ms_pq_column_chunk;

typedef struct ms_pq_row_group {
  int32_t n_columns;
  ms_pq_column_chunk *columns;
  int64_t total_byte_size;
  int64_t num_rows;
  bool has_file_offset;
  int64_t file_offset;
  bool has_total_compressed_size;
  int64_t total_compressed_size;
  bool has_ordinal;
  int16_t ordinal;
} ms_pq_row_group;

typedef struct ms_pq_metadata {
  int32_t version;
  int32_t n_schema;
  ms_pq_schema_element *schema;   /* depth-first, schema[0] is the root */
  int64_t num_rows;
  int32_t n_row_groups;
  ms_pq_row_group *row_groups;
  int32_t n_kv;
  ms_pq_kv *kv;
  char *created_by;               /* may be NULL */
  int32_t n_column_orders;        /* 0 when absent; otherwise all TYPE_ORDER */
  void *arena;                    /* allocations owned by this struct (decoder side) */
} ms_pq_metadata;

typedef struct ms_pq_data_page_header {
  int32_t num_values;
  ms_pq_encoding encoding;
  ms_pq_encoding definition_level_encoding;
  ms_pq_encoding repetition_level_encoding;
  bool has_statistics;
  ms_pq_statistics statistics;
} ms_pq_data_page_header;

typedef struct ms_pq_dictionary_page_header {
  int32_t num_values;
  ms_pq_encoding encoding;
  bool has_is_sorted;
  bool is_sorted;
} ms_pq_dictionary_page_header;

typedef struct ms_pq_data_page_header_v2 {
  int32_t num_values;
  int32_t num_nulls;
  int32_t num_rows;
  ms_pq_encoding encoding;
  int32_t definition_levels_byte_length;
  int32_t repetition_levels_byte_length;
  bool is_compressed;             /* default true */
  bool has_statistics;
  ms_pq_statistics statistics;
} ms_pq_data_page_header_v2;

typedef struct ms_pq_page_header {
  ms_pq_page_type type;
  int32_t uncompressed_page_size;
  int32_t compressed_page_size;
  bool has_crc;
  int32_t crc;
  bool has_data_page_header;
  ms_pq_data_page_header data_page_header;
  bool has_dictionary_page_header;
  ms_pq_dictionary_page_header dictionary_page_header;
  bool has_data_page_header_v2;
  ms_pq_data_page_header_v2 data_page_header_v2;
} ms_pq_page_header;

/* Decodes a FileMetaData of len bytes. On failure *out is untouched and err names the
 * byte offset (relative to data) of the bad field. */
ms_status ms_pq_metadata_decode(const uint8_t *data, int64_t len, ms_pq_metadata *out,
                                ms_error *err);
void ms_pq_metadata_free(ms_pq_metadata *md);

/* Decodes one PageHeader from at most len bytes; *consumed receives its size. Page
 * headers own no memory except statistics byte strings, which point into data (valid as
 * long as data is). */
ms_status ms_pq_page_header_decode(const uint8_t *data, int64_t len, ms_pq_page_header *out,
                                   int64_t *consumed, ms_error *err);

/* Appends the compact-protocol encoding (writer side; arena is ignored). */
ms_status ms_pq_metadata_encode(const ms_pq_metadata *md, ms_buffer *out);
ms_status ms_pq_page_header_encode(const ms_pq_page_header *ph, ms_buffer *out);

#endif
