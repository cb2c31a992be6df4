/* Tests of the Thrift compact-protocol decoder (pq_metadata_read.c): footers of files
 * written by DuckDB (tests/formats/data, see make_pq_fixtures.js), hand-encoded Thrift for
 * unknown fields and bad input, and a byte-flipping sweep that must never crash. */
#include <string.h>

#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "ms_test.h"

static const char *fixture(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/tests/formats/data/%s", MS_TEST_SOURCE_DIR, name);
  return path;
}

/* Loads a file and returns its footer bytes (inside *file, which the caller frees). */
static const uint8_t *load_footer(const char *name, uint8_t **file, int64_t *footer_len) {
  int64_t len;
  ms_error err;
  ms_error_init(&err);
  if (ms_fs_read_all(NULL, fixture(name), file, &len, &err) != MS_OK) return NULL;
  if (len < 12) return NULL;
  uint32_t fl;
  memcpy(&fl, *file + len - 8, 4);
  *footer_len = fl;
  return *file + len - 8 - fl;
}

static void test_decode_duckdb_footer(void) {
  uint8_t *file = NULL;
  int64_t flen = 0;
  const uint8_t *footer = load_footer("all_v1_zstd.parquet", &file, &flen);
  CHECK(footer);
  ms_pq_metadata md;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_pq_metadata_decode(footer, flen, &md, &err), &err);
  CHECK_EQ_INT(md.num_rows, 2100);
  CHECK_EQ_INT(md.n_row_groups, 2);
  CHECK_EQ_INT(md.row_groups[0].num_rows, 2048);
  CHECK_EQ_INT(md.row_groups[1].num_rows, 52);
  CHECK(md.created_by && strstr(md.created_by, "DuckDB"));
  /* root + 25 flat + lst(3 elements) + stc(3) + nothing */
  CHECK_STR(md.schema[1].name, "id");
  CHECK_EQ_INT(md.schema[1].type, MS_PQ_INT64);
  int found = 0;
  for (int i = 0; i < md.n_schema; i++) {
    ms_pq_schema_element *e = &md.schema[i];
    if (strcmp(e->name, "ts_ns") == 0) {
      CHECK_EQ_INT(e->logical.kind, MS_PQ_LT_TIMESTAMP);
      CHECK_EQ_INT(e->logical.unit, MS_PQ_TU_NANOS);
      CHECK(!e->logical.is_adjusted_to_utc);
      found++;
    } else if (strcmp(e->name, "ts_tz") == 0) {
      CHECK(e->logical.is_adjusted_to_utc);
      CHECK_EQ_INT(e->logical.unit, MS_PQ_TU_MICROS);
      found++;
    } else if (strcmp(e->name, "dec38") == 0) {
      CHECK_EQ_INT(e->type, MS_PQ_FIXED_LEN_BYTE_ARRAY);
      CHECK_EQ_INT(e->type_length, 16);
      CHECK_EQ_INT(e->logical.kind, MS_PQ_LT_DECIMAL);
      CHECK_EQ_INT(e->logical.decimal_precision, 38);
      CHECK_EQ_INT(e->logical.decimal_scale, 10);
      CHECK_EQ_INT(e->converted_type, MS_PQ_CT_DECIMAL);
      found++;
    } else if (strcmp(e->name, "lst") == 0) {
      CHECK_EQ_INT(e->num_children, 1);
      CHECK_EQ_INT(e->converted_type, MS_PQ_CT_LIST);
      found++;
    } else if (strcmp(e->name, "u16") == 0) {
      CHECK_EQ_INT(e->converted_type, MS_PQ_CT_UINT_16);
      found++;
    } else if (strcmp(e->name, "uid") == 0) {
      CHECK_EQ_INT(e->logical.kind, MS_PQ_LT_UUID);
      found++;
    }
  }
  CHECK_EQ_INT(found, 6);
  ms_pq_row_group *rg = &md.row_groups[0];
  ms_pq_column_meta *id = &rg->columns[0].meta_data;
  CHECK(rg->columns[0].has_meta_data);
  CHECK_EQ_INT(id->n_path, 1);
  CHECK_STR(id->path_in_schema[0], "id");
  CHECK_EQ_INT(id->codec, 6);
  CHECK_EQ_INT(id->num_values, 2048);
  CHECK(id->has_statistics && id->statistics.has_min_value && id->statistics.min_value_len == 8);
  int64_t mn, mx;
  memcpy(&mn, id->statistics.min_value, 8);
  memcpy(&mx, id->statistics.max_value, 8);
  CHECK_EQ_INT(mn, 0);
  CHECK_EQ_INT(mx, 2047);
  int kv_found = 0;
  for (int i = 0; i < md.n_kv; i++)
    if (strcmp(md.kv[i].key, "fixture") == 0 && md.kv[i].value &&
        strcmp(md.kv[i].value, "all_v1_zstd") == 0)
      kv_found = 1;
  CHECK(kv_found);
  ms_pq_metadata_free(&md);
  ms_free(file);
}

/* Hand-encoded compact Thrift: unknown fields of every wire type must be skipped. */
static void test_skip_unknown_fields(void) {
  static const uint8_t bytes[] = {
      0x15, 0x02,             /* 1: version i32 = 1 */
      0x19, 0x1c,             /* 2: schema list<struct>, 1 element */
      0x48, 0x04, 'r', 'o', 'o', 't', /*   4: name "root" */
      0x15, 0x00,             /*   5: num_children = 0 */
      0x00,                   /*   STOP */
      0x16, 0x0a,             /* 3: num_rows i64 = 5 */
      0x19, 0x0c,             /* 4: row_groups list<struct>, 0 elements */
      /* field 20 (delta 0, zigzag id 40): a map<i32,string> with one entry */
      0x0b, 0x28, 0x01, 0x58, 0x02, 0x01, 'x',
      /* field 21: a double (delta 1) */
      0x17, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
      /* field 22: nested struct with a list of bools and a true bool */
      0x1c, 0x19, 0x21, 0x01, 0x02, 0x11, 0x00,
      /* field 23: binary */
      0x18, 0x03, 'a', 'b', 'c',
      0x00};
  ms_pq_metadata md;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_pq_metadata_decode(bytes, sizeof bytes, &md, &err), &err);
  CHECK_EQ_INT(md.version, 1);
  CHECK_EQ_INT(md.num_rows, 5);
  CHECK_EQ_INT(md.n_schema, 1);
  CHECK_STR(md.schema[0].name, "root");
  CHECK_EQ_INT(md.n_row_groups, 0);
  ms_pq_metadata_free(&md);
}

static void test_bad_thrift(void) {
  ms_pq_metadata md;
  ms_error err;
  /* A list claiming 2^31 elements in a 10-byte buffer. */
  static const uint8_t huge_list[] = {0x29, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 0, 0};
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_metadata_decode(huge_list, sizeof huge_list, &md, &err), MS_ERR_CORRUPT);
  CHECK(strstr(err.message, "list size"));
  CHECK_EQ_INT(err.byte_offset, 7);
  /* Deep nesting of structs in an unknown field. */
  uint8_t deep[300];
  deep[0] = 0x0c; /* field 20 (unknown), struct */
  deep[1] = 0x28;
  for (int i = 2; i < 299; i++) deep[i] = 0x1c; /* field +1, struct */
  deep[299] = 0;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_metadata_decode(deep, sizeof deep, &md, &err), MS_ERR_CORRUPT);
  CHECK(strstr(err.message, "nested"));
  /* Truncation in the middle of a string. */
  static const uint8_t trunc[] = {0x29, 0x1c, 0x48, 0x10, 'r'};
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_metadata_decode(trunc, sizeof trunc, &md, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(err.byte_offset, 4);
  /* Missing required fields. */
  static const uint8_t empty[] = {0x00};
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_metadata_decode(empty, sizeof empty, &md, &err), MS_ERR_CORRUPT);
  /* Page header with a negative size. */
  static const uint8_t ph[] = {0x15, 0x00, 0x15, 0x03, 0x15, 0x04, 0x00};
  ms_pq_page_header h;
  int64_t used;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_page_header_decode(ph, sizeof ph, &h, &used, &err), MS_ERR_CORRUPT);
  static const uint8_t ph_ok[] = {0x15, 0x06, 0x15, 0x04, 0x15, 0x04,
                                  0x5c, 0x15, 0x02, 0x35, 0x10, 0x00, 0x00, 0xff};
  ms_error_init(&err);
  CHECK_OK(ms_pq_page_header_decode(ph_ok, sizeof ph_ok, &h, &used, &err), &err);
  CHECK_EQ_INT(used, 13);
  CHECK_EQ_INT(h.type, MS_PQ_PAGE_DATA_V2);
  CHECK_EQ_INT(h.uncompressed_page_size, 2);
  CHECK(h.has_data_page_header_v2);
  CHECK_EQ_INT(h.data_page_header_v2.num_values, 1);
  CHECK_EQ_INT(h.data_page_header_v2.encoding, MS_PQ_ENC_RLE_DICTIONARY);
  CHECK(h.data_page_header_v2.is_compressed);
}

/* Every single-byte corruption and every truncation of a real footer decodes or fails
 * cleanly (ASan/UBSan builds catch any out-of-bounds access). */
static void test_flip_every_byte(void) {
  uint8_t *file = NULL;
  int64_t flen = 0;
  const uint8_t *footer = load_footer("small_gzip.parquet", &file, &flen);
  CHECK(footer);
  uint8_t *copy = ms_malloc((size_t)flen);
  int64_t failures = 0;
  for (int64_t i = 0; i < flen; i++) {
    static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x19, 0x1c};
    for (size_t v = 0; v < sizeof vals; v++) {
      memcpy(copy, footer, (size_t)flen);
      copy[i] = copy[i] ^ vals[v] ? vals[v] : (uint8_t)~vals[v];
      ms_pq_metadata md;
      ms_error err;
      ms_error_init(&err);
      ms_status st = ms_pq_metadata_decode(copy, flen, &md, &err);
      if (st == MS_OK) ms_pq_metadata_free(&md);
      else { failures++; CHECK(err.byte_offset >= 0 && err.byte_offset <= flen); }
    }
  }
  CHECK(failures > 0);
  for (int64_t n = 0; n < flen; n++) {
    ms_pq_metadata md;
    ms_status st = ms_pq_metadata_decode(footer, n, &md, NULL);
    CHECK_MSG(st != MS_OK, "truncated footer of %lld bytes decoded", (long long)n);
  }
  ms_free(copy);
  ms_free(file);
}

MS_TEST_MAIN(MS_TEST(test_decode_duckdb_footer), MS_TEST(test_skip_unknown_fields),
             MS_TEST(test_bad_thrift), MS_TEST(test_flip_every_byte))
