/* Byte-level tests of the Thrift compact-protocol encoder for Parquet page headers and
 * footers. Expected bytes were worked out by hand from the compact-protocol spec:
 * field header (delta from the previous field id << 4) | type, zigzag varints, list headers (size << 4) | type, bool
 * values in the type nibble (1 true, 2 false), stop byte 0 after each struct. */
#include "columnar/column.h"
#include "formats/parquet/pq_metadata.h"
#include "ms_test.h"

static int bytes_equal(const ms_buffer *b, const uint8_t *want, int64_t n) {
  if (b->size != n) {
    fprintf(stderr, "size %lld, want %lld\n", (long long)b->size, (long long)n);
  }
  for (int64_t i = 0; i < n && i < b->size; i++) {
    if (b->data[i] != want[i]) {
      fprintf(stderr, "byte %lld: 0x%02x, want 0x%02x\n", (long long)i, b->data[i], want[i]);
      return 0;
    }
  }
  return b->size == n;
}

static void test_data_page_header_v1(void) {
  ms_pq_page_header ph;
  memset(&ph, 0, sizeof ph);
  ph.type = MS_PQ_PAGE_DATA;
  ph.uncompressed_page_size = 100;
  ph.compressed_page_size = 50;
  ph.has_data_page_header = true;
  ph.data_page_header.num_values = 10;
  ph.data_page_header.encoding = MS_PQ_ENC_PLAIN;
  ph.data_page_header.definition_level_encoding = MS_PQ_ENC_RLE;
  ph.data_page_header.repetition_level_encoding = MS_PQ_ENC_RLE;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_page_header_encode(&ph, b), MS_OK);
  static const uint8_t want[] = {0x15, 0x00, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x2C, 0x15, 0x14,
                                 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00};
  int ok = bytes_equal(b, want, sizeof want);
  ms_buffer_release(b);
  CHECK(ok);
}

static void test_dictionary_page_header(void) {
  ms_pq_page_header ph;
  memset(&ph, 0, sizeof ph);
  ph.type = MS_PQ_PAGE_DICTIONARY;
  ph.uncompressed_page_size = 8;
  ph.compressed_page_size = 8;
  ph.has_crc = true;
  ph.crc = -1; /* zigzag(-1) = 1 */
  ph.has_dictionary_page_header = true;
  ph.dictionary_page_header.num_values = 2;
  ph.dictionary_page_header.encoding = MS_PQ_ENC_PLAIN;
  ph.dictionary_page_header.has_is_sorted = true;
  ph.dictionary_page_header.is_sorted = false;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_page_header_encode(&ph, b), MS_OK);
  static const uint8_t want[] = {0x15, 0x04, 0x15, 0x10, 0x15, 0x10, 0x15, 0x01,
                                 0x3C, 0x15, 0x04, 0x15, 0x00, 0x12, 0x00, 0x00};
  int ok = bytes_equal(b, want, sizeof want);
  ms_buffer_release(b);
  CHECK(ok);
}

static void test_data_page_header_v2_with_stats(void) {
  ms_pq_page_header ph;
  memset(&ph, 0, sizeof ph);
  ph.type = MS_PQ_PAGE_DATA_V2;
  ph.uncompressed_page_size = 300; /* zigzag 600 = 0xD8 0x04 */
  ph.compressed_page_size = 63;    /* zigzag 126 = 0x7E */
  ph.has_data_page_header_v2 = true;
  ms_pq_data_page_header_v2 *d = &ph.data_page_header_v2;
  d->num_values = 64;  /* 128 = 0x80 0x01 */
  d->num_nulls = 1;
  d->num_rows = 64;
  d->encoding = MS_PQ_ENC_RLE_DICTIONARY;
  d->definition_levels_byte_length = 5;
  d->repetition_levels_byte_length = 0;
  d->is_compressed = true;
  d->has_statistics = true;
  uint8_t mn[1] = {0xAA}, mx[2] = {0xBB, 0xCC};
  d->statistics.has_null_count = true;
  d->statistics.null_count = 1;
  d->statistics.has_min_value = true;
  d->statistics.min_value = mn;
  d->statistics.min_value_len = 1;
  d->statistics.has_max_value = true;
  d->statistics.max_value = mx;
  d->statistics.max_value_len = 2;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_page_header_encode(&ph, b), MS_OK);
  static const uint8_t want[] = {
      0x15, 0x06, 0x15, 0xD8, 0x04, 0x15, 0x7E,
      0x5C,                                     /* field 8 struct */
      0x15, 0x80, 0x01, 0x15, 0x02, 0x15, 0x80, 0x01, 0x15, 0x10, 0x15, 0x0A, 0x15, 0x00,
      0x11,                                     /* 7: is_compressed = true */
      0x1C,                                     /* 8: statistics */
      0x36, 0x02,                               /* 3: null_count 1 */
      0x28, 0x02, 0xBB, 0xCC,                   /* 5: max_value */
      0x18, 0x01, 0xAA,                         /* 6: min_value */
      0x00, 0x00, 0x00};
  int ok = bytes_equal(b, want, sizeof want);
  ms_buffer_release(b);
  CHECK(ok);
}

static void test_file_metadata(void) {
  ms_pq_schema_element schema[2];
  memset(schema, 0, sizeof schema);
  schema[0].name = "s";
  schema[0].num_children = 1;
  schema[0].converted_type = MS_PQ_CT_NONE;
  schema[1].name = "a";
  schema[1].has_type = true;
  schema[1].type = MS_PQ_INT64;
  schema[1].has_repetition = true;
  schema[1].repetition = MS_PQ_OPTIONAL;
  schema[1].converted_type = MS_PQ_CT_TIMESTAMP_MICROS;
  schema[1].logical.kind = MS_PQ_LT_TIMESTAMP;
  schema[1].logical.is_adjusted_to_utc = true;
  schema[1].logical.unit = MS_PQ_TU_MICROS;
  ms_pq_kv kv = {"k", "v"};
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  md.version = 1;
  md.n_schema = 2;
  md.schema = schema;
  md.num_rows = 3;
  md.n_kv = 1;
  md.kv = &kv;
  md.created_by = "m";
  md.n_column_orders = 1;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_metadata_encode(&md, b), MS_OK);
  static const uint8_t want[] = {
      0x15, 0x02,                               /* 1: version 1 */
      0x19, 0x2C,                               /* 2: list of 2 structs */
      0x48, 0x01, 's', 0x15, 0x02, 0x00,        /* root: name, num_children 1 */
      0x15, 0x04,                               /* type INT64 */
      0x25, 0x02,                               /* repetition OPTIONAL */
      0x18, 0x01, 'a',                          /* name */
      0x25, 0x14,                               /* converted TIMESTAMP_MICROS (10) */
      0x4C,                                     /* 10: logicalType */
      0x8C,                                     /*   8: TIMESTAMP */
      0x11,                                     /*     1: isAdjustedToUTC true */
      0x1C, 0x2C, 0x00, 0x00,                   /*     2: unit { MICROS {} } */
      0x00, 0x00, 0x00,                         /* end timestamp, union, element */
      0x16, 0x06,                               /* 3: num_rows 3 */
      0x19, 0x0C,                               /* 4: empty list of structs */
      0x19, 0x1C, 0x18, 0x01, 'k', 0x18, 0x01, 'v', 0x00, /* 5: kv */
      0x18, 0x01, 'm',                          /* 6: created_by */
      0x19, 0x1C, 0x1C, 0x00, 0x00,             /* 7: [TYPE_ORDER {}] */
      0x00};
  int ok = bytes_equal(b, want, sizeof want);
  ms_buffer_release(b);
  CHECK(ok);
}

static void test_row_group_and_long_list(void) {
  ms_pq_encoding encs[2] = {MS_PQ_ENC_PLAIN, MS_PQ_ENC_RLE};
  char *path[1] = {"a"};
  uint8_t mn[4] = {1, 0, 0, 0}, mx[4] = {9, 0, 0, 0};
  ms_pq_column_chunk cc;
  memset(&cc, 0, sizeof cc);
  cc.file_offset = 4;
  cc.has_meta_data = true;
  ms_pq_column_meta *m = &cc.meta_data;
  m->type = MS_PQ_INT32;
  m->n_encodings = 2;
  m->encodings = encs;
  m->n_path = 1;
  m->path_in_schema = path;
  m->codec = 6;
  m->num_values = 3;
  m->total_uncompressed_size = 20;
  m->total_compressed_size = 20;
  m->data_page_offset = 4;
  m->has_dictionary_page_offset = true;
  m->dictionary_page_offset = -2; /* zigzag 3 */
  m->has_statistics = true;
  m->statistics.has_min = m->statistics.has_min_value = true;
  m->statistics.has_max = m->statistics.has_max_value = true;
  m->statistics.min = m->statistics.min_value = mn;
  m->statistics.max = m->statistics.max_value = mx;
  m->statistics.min_len = m->statistics.max_len = 4;
  m->statistics.min_value_len = m->statistics.max_value_len = 4;
  ms_pq_row_group rg;
  memset(&rg, 0, sizeof rg);
  rg.n_columns = 1;
  rg.columns = &cc;
  rg.total_byte_size = 20;
  rg.num_rows = 3;
  rg.has_file_offset = true;
  rg.file_offset = 4;
  rg.has_ordinal = true;
  rg.ordinal = 0;
  ms_pq_kv kvs[15];
  for (int i = 0; i < 15; i++) { kvs[i].key = "x"; kvs[i].value = NULL; }
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  md.version = 2;
  md.num_rows = 3;
  md.n_row_groups = 1;
  md.row_groups = &rg;
  md.n_kv = 15;
  md.kv = kvs;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_metadata_encode(&md, b), MS_OK);
  uint8_t want[256];
  int n = 0;
  static const uint8_t head[] = {
      0x15, 0x04, 0x19, 0x0C, 0x16, 0x06,
      0x19, 0x1C,                               /* 4: list of 1 row group */
      0x19, 0x1C,                               /*   1: list of 1 column chunk */
      0x26, 0x08,                               /*     2: file_offset 4 */
      0x1C,                                     /*     3: meta_data */
      0x15, 0x02,                               /*       type INT32 */
      0x19, 0x25, 0x00, 0x06,                   /*       encodings [0, 3] */
      0x19, 0x18, 0x01, 'a',                    /*       path ["a"] */
      0x15, 0x0C,                               /*       codec 6 */
      0x16, 0x06, 0x16, 0x28, 0x16, 0x28,       /*       num_values, sizes */
      0x26, 0x08,                               /*       9: data_page_offset 4 */
      0x26, 0x03,                               /*       11: dictionary_page_offset -2 */
      0x1C,                                     /*       12: statistics */
      0x18, 0x04, 9, 0, 0, 0, 0x18, 0x04, 1, 0, 0, 0,
      0x38, 0x04, 9, 0, 0, 0, 0x18, 0x04, 1, 0, 0, 0, 0x00,
      0x00, 0x00,                               /*     end meta, end chunk */
      0x16, 0x28, 0x16, 0x06,                   /*   2: total_byte_size, 3: num_rows */
      0x26, 0x08,                               /*   5: file_offset */
      0x24, 0x00,                               /*   7: ordinal 0 (i16) */
      0x00,                                     /* end row group */
      0x19, 0xFC, 0x0F};                        /* 5: list header, 15 structs */
  memcpy(want, head, sizeof head);
  n = sizeof head;
  for (int i = 0; i < 15; i++) {
    want[n++] = 0x18; want[n++] = 0x01; want[n++] = 'x'; want[n++] = 0x00;
  }
  want[n++] = 0x00;
  int ok = bytes_equal(b, want, n);
  ms_buffer_release(b);
  CHECK(ok);
}

static void test_logical_kinds(void) {
  /* INTEGER(8, unsigned) with UINT_8, DECIMAL(9, 2) with legacy scale/precision, STRING,
   * FIXED_LEN_BYTE_ARRAY with its width. */
  ms_pq_schema_element e[4];
  memset(e, 0, sizeof e);
  for (int i = 0; i < 4; i++) {
    e[i].has_type = true;
    e[i].has_repetition = true;
    e[i].repetition = MS_PQ_REQUIRED;
    e[i].converted_type = MS_PQ_CT_NONE;
  }
  e[0].name = "u"; e[0].type = MS_PQ_INT32; e[0].converted_type = MS_PQ_CT_UINT_8;
  e[0].logical.kind = MS_PQ_LT_INTEGER; e[0].logical.int_bit_width = 8;
  e[1].name = "d"; e[1].type = MS_PQ_FIXED_LEN_BYTE_ARRAY; e[1].type_length = 4;
  e[1].converted_type = MS_PQ_CT_DECIMAL; e[1].scale = 2; e[1].precision = 9;
  e[1].logical.kind = MS_PQ_LT_DECIMAL; e[1].logical.decimal_scale = 2;
  e[1].logical.decimal_precision = 9;
  e[2].name = "s"; e[2].type = MS_PQ_BYTE_ARRAY; e[2].converted_type = MS_PQ_CT_UTF8;
  e[2].logical.kind = MS_PQ_LT_STRING;
  e[3].name = "f"; e[3].type = MS_PQ_FIXED_LEN_BYTE_ARRAY; e[3].type_length = 16;
  ms_pq_metadata md;
  memset(&md, 0, sizeof md);
  md.version = 1;
  md.n_schema = 4;
  md.schema = e;
  ms_buffer *b = ms_buffer_create(0);
  CHECK(b);
  CHECK_EQ_INT(ms_pq_metadata_encode(&md, b), MS_OK);
  static const uint8_t want[] = {
      0x15, 0x02, 0x19, 0x4C,
      /* u */ 0x15, 0x02, 0x25, 0x00, 0x18, 0x01, 'u', 0x25, 0x16, 0x4C,
      0xAC, 0x13, 0x08, 0x12, 0x00, 0x00, 0x00,
      /* d */ 0x15, 0x0E, 0x15, 0x08, 0x15, 0x00, 0x18, 0x01, 'd', 0x25, 0x0A, 0x15, 0x04,
      0x15, 0x12, 0x2C, 0x5C, 0x15, 0x04, 0x15, 0x12, 0x00, 0x00, 0x00,
      /* s */ 0x15, 0x0C, 0x25, 0x00, 0x18, 0x01, 's', 0x25, 0x00, 0x4C, 0x1C, 0x00, 0x00,
      0x00,
      /* f */ 0x15, 0x0E, 0x15, 0x20, 0x15, 0x00, 0x18, 0x01, 'f', 0x00,
      0x16, 0x00, 0x19, 0x0C, 0x00};
  int ok = bytes_equal(b, want, sizeof want);
  ms_buffer_release(b);
  CHECK(ok);
}

MS_TEST_MAIN(MS_TEST(test_data_page_header_v1), MS_TEST(test_dictionary_page_header),
             MS_TEST(test_data_page_header_v2_with_stats), MS_TEST(test_file_metadata),
             MS_TEST(test_row_group_and_long_list), MS_TEST(test_logical_kinds))
