/* Tests of the Parquet writer that need no Parquet reader: files are written, their footer
 * is decoded with the Thrift decoder and their pages are walked with the page-header
 * decoder. Expected page bytes, level encodings, schema annotations and statistics were
 * worked out by hand from the Parquet spec. Also: row-group splitting by rows and bytes,
 * dictionary fallback, streaming writes across tables, and atomic publication. */
#include <math.h>
#include <string.h>

#include "columnar/column.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "ms_test.h"

static const char *tmp_path(const char *name) {
  static char path[4][2048];
  static int k;
  k = (k + 1) % 4;
  snprintf(path[k], sizeof path[k], "%.1024s/%.512s", ms_test_tmpdir(), name);
  return path[k];
}

/* A loaded file and its decoded footer. */
typedef struct pqfile {
  uint8_t *data;
  int64_t len;
  ms_pq_metadata md;
  bool ok;
} pqfile;

static void pqfile_load(pqfile *f, const char *path) {
  memset(f, 0, sizeof *f);
  ms_error err;
  ms_error_init(&err);
  if (ms_fs_read_all(NULL, path, &f->data, &f->len, &err) != MS_OK || f->len < 12) return;
  if (memcmp(f->data, "PAR1", 4) != 0 || memcmp(f->data + f->len - 4, "PAR1", 4) != 0) return;
  uint32_t fl;
  memcpy(&fl, f->data + f->len - 8, 4);
  if ((int64_t)fl > f->len - 12) return;
  if (ms_pq_metadata_decode(f->data + f->len - 8 - fl, fl, &f->md, &err) != MS_OK) {
    fprintf(stderr, "footer: %s\n", err.message);
    return;
  }
  f->ok = true;
}

static void pqfile_free(pqfile *f) {
  if (f->ok) ms_pq_metadata_free(&f->md);
  ms_free(f->data);
}

static ms_column *col_i64(const int64_t *v, const bool *valid, int64_t n, ms_type_id id) {
  ms_datatype t = ms_type(id);
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (valid && !valid[i]) ms_builder_append_null(b);
    else ms_builder_append_i64(b, v[i]);
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_table *table1(const char *name, ms_column *c, bool nullable) {
  ms_field f = {(char *)name, c->type, nullable};
  ms_table *t = NULL;
  ms_table_create(&f, &c, 1, &t, NULL);
  ms_column_release(c);
  return t;
}

static void opts_plain(ms_pq_write_options *o) {
  ms_pq_write_options_init(o);
  o->compression = MS_CODEC_UNCOMPRESSED;
  o->dictionary = false;
}

/* ---- exact page bytes ---- */

static void test_required_int32_plain_bytes(void) {
  int64_t v[3] = {1, 2, 3};
  ms_table *t = table1("a", col_i64(v, NULL, 3, MS_TYPE_INT32), false);
  CHECK(t);
  ms_pq_write_options o;
  opts_plain(&o);
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("req.parquet");
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  ms_table_release(t);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  ms_pq_page_header ph;
  int64_t used;
  CHECK_OK(ms_pq_page_header_decode(f.data + 4, f.len - 4, &ph, &used, &err), &err);
  CHECK_EQ_INT(ph.type, MS_PQ_PAGE_DATA);
  CHECK_EQ_INT(ph.data_page_header.num_values, 3);
  CHECK_EQ_INT(ph.data_page_header.encoding, MS_PQ_ENC_PLAIN);
  CHECK_EQ_INT(ph.uncompressed_page_size, 12);
  CHECK_EQ_INT(ph.compressed_page_size, 12);
  static const uint8_t body[12] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
  CHECK(memcmp(f.data + 4 + used, body, 12) == 0);
  ms_pq_metadata *md = &f.md;
  CHECK_EQ_INT(md->version, 1);
  CHECK_EQ_INT(md->num_rows, 3);
  CHECK_STR(md->created_by, "morsel version 0.1.0");
  CHECK_EQ_INT(md->n_schema, 2);
  CHECK_EQ_INT(md->schema[0].num_children, 1);
  ms_pq_schema_element *e = &md->schema[1];
  CHECK_STR(e->name, "a");
  CHECK_EQ_INT(e->type, MS_PQ_INT32);
  CHECK_EQ_INT(e->repetition, MS_PQ_REQUIRED);
  CHECK_EQ_INT(e->converted_type, MS_PQ_CT_INT_32);
  CHECK_EQ_INT(e->logical.kind, MS_PQ_LT_INTEGER);
  CHECK_EQ_INT(e->logical.int_bit_width, 32);
  CHECK(e->logical.int_is_signed);
  CHECK_EQ_INT(md->n_column_orders, 1);
  CHECK_EQ_INT(md->n_row_groups, 1);
  ms_pq_column_meta *m = &md->row_groups[0].columns[0].meta_data;
  CHECK_EQ_INT(m->codec, MS_CODEC_UNCOMPRESSED);
  CHECK_EQ_INT(m->num_values, 3);
  CHECK_EQ_INT(m->data_page_offset, 4);
  CHECK(!m->has_dictionary_page_offset);
  CHECK_EQ_INT(m->total_compressed_size, used + 12);
  CHECK_EQ_INT(m->total_uncompressed_size, used + 12);
  CHECK_EQ_INT(m->n_encodings, 1);
  CHECK_EQ_INT(m->encodings[0], MS_PQ_ENC_PLAIN);
  CHECK(m->has_statistics);
  ms_pq_statistics *s = &m->statistics;
  CHECK(s->has_null_count && s->null_count == 0);
  CHECK(s->has_min_value && s->min_value_len == 4 && s->min_value[0] == 1);
  CHECK(s->has_max_value && s->max_value_len == 4 && s->max_value[0] == 3);
  CHECK(s->has_min && s->min[0] == 1 && s->has_max && s->max[0] == 3); /* signed: legacy too */
  CHECK_EQ_INT(md->row_groups[0].file_offset, 4);
  CHECK_EQ_INT(md->row_groups[0].total_byte_size, used + 12);
  pqfile_free(&f);
}

/* v1 page of an optional int64 column: 4-byte level length, levels, non-null values. */
static void check_levels_page(const int64_t *v, const bool *valid, int n, const uint8_t *levels,
                              int levels_len, const int64_t *vals, int nvals) {
  ms_table *t = table1("x", col_i64(v, valid, n, MS_TYPE_INT64), true);
  CHECK(t);
  ms_pq_write_options o;
  opts_plain(&o);
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("opt.parquet");
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  ms_table_release(t);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  ms_pq_page_header ph;
  int64_t used;
  CHECK_OK(ms_pq_page_header_decode(f.data + 4, f.len - 4, &ph, &used, &err), &err);
  CHECK_EQ_INT(ph.data_page_header.num_values, n);
  CHECK_EQ_INT(ph.data_page_header.definition_level_encoding, MS_PQ_ENC_RLE);
  CHECK_EQ_INT(ph.uncompressed_page_size, 4 + levels_len + 8 * nvals);
  const uint8_t *p = f.data + 4 + used;
  uint32_t ll;
  memcpy(&ll, p, 4);
  CHECK_EQ_INT(ll, levels_len);
  CHECK(memcmp(p + 4, levels, (size_t)levels_len) == 0);
  CHECK(memcmp(p + 4 + levels_len, vals, (size_t)nvals * 8) == 0);
  CHECK_EQ_INT(f.md.schema[1].repetition, MS_PQ_OPTIONAL);
  CHECK(f.md.schema[1].logical.kind == MS_PQ_LT_NONE);
  ms_pq_statistics *s = &f.md.row_groups[0].columns[0].meta_data.statistics;
  CHECK_EQ_INT(s->null_count, n - nvals);
  pqfile_free(&f);
}

static void test_definition_levels(void) {
  /* rows 0..23: valid at 0, 2, 23 -> bytes 0x05 0x00 0x80, one bit-packed run of 3 groups */
  int64_t v[24] = {0};
  bool valid[24] = {0};
  v[0] = 5; v[2] = 7; v[23] = 9;
  valid[0] = valid[2] = valid[23] = true;
  static const uint8_t lev1[] = {0x07, 0x05, 0x00, 0x80};
  int64_t vals1[3] = {5, 7, 9};
  check_levels_page(v, valid, 24, lev1, 4, vals1, 3);
  if (ms_test_failed_flag) return;
  /* 40 rows, row 0 null: literal 0xFE, then an RLE run of 32 ones */
  int64_t w[40];
  bool wv[40];
  for (int i = 0; i < 40; i++) { w[i] = i; wv[i] = i != 0; }
  static const uint8_t lev2[] = {0x03, 0xFE, 0x40, 0x01};
  check_levels_page(w, wv, 40, lev2, 4, w + 1, 39);
  if (ms_test_failed_flag) return;
  /* 10 rows, no nulls in a nullable field: one RLE run of 10 ones */
  static const uint8_t lev3[] = {0x14, 0x01};
  check_levels_page(w, NULL, 10, lev3, 2, w, 10);
  if (ms_test_failed_flag) return;
  /* all null: one RLE run of zeros, no values */
  bool none[5] = {0};
  static const uint8_t lev4[] = {0x0A, 0x00};
  check_levels_page(w, none, 5, lev4, 2, w, 0);
}

/* ---- walking pages ---- */

typedef struct page_census {
  int dict_pages, dict_entries;
  int64_t dict_values, plain_values, levels_bytes;
  int data_pages;
  bool v2;
  bool ok;
} page_census;

static void census(const pqfile *f, const ms_pq_column_meta *m, page_census *c) {
  memset(c, 0, sizeof *c);
  int64_t pos = m->has_dictionary_page_offset ? m->dictionary_page_offset : m->data_page_offset;
  int64_t end = pos + m->total_compressed_size;
  while (pos < end) {
    ms_pq_page_header ph;
    int64_t used;
    if (ms_pq_page_header_decode(f->data + pos, end - pos, &ph, &used, NULL) != MS_OK) return;
    if (ph.type == MS_PQ_PAGE_DICTIONARY) {
      c->dict_pages++;
      c->dict_entries += ph.dictionary_page_header.num_values;
    } else if (ph.type == MS_PQ_PAGE_DATA) {
      c->data_pages++;
      if (ph.data_page_header.encoding == MS_PQ_ENC_RLE_DICTIONARY) c->dict_values += ph.data_page_header.num_values;
      else c->plain_values += ph.data_page_header.num_values;
    } else if (ph.type == MS_PQ_PAGE_DATA_V2) {
      c->data_pages++;
      c->v2 = true;
      c->levels_bytes += ph.data_page_header_v2.definition_levels_byte_length;
      if (ph.data_page_header_v2.encoding == MS_PQ_ENC_RLE_DICTIONARY) c->dict_values += ph.data_page_header_v2.num_values;
      else c->plain_values += ph.data_page_header_v2.num_values;
    }
    pos += used + ph.compressed_page_size;
  }
  c->ok = pos == end;
}

static ms_column *col_str_groups(int64_t n, int per, bool with_nulls) {
  ms_datatype t = ms_type(MS_TYPE_UTF8);
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  char s[32];
  for (int64_t i = 0; i < n; i++) {
    if (with_nulls && i % 7 == 3) { ms_builder_append_null(b); continue; }
    int len = snprintf(s, sizeof s, "v%05lld", (long long)(i / per));
    ms_builder_append_bytes(b, s, len);
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static bool has_encoding(const ms_pq_column_meta *m, ms_pq_encoding e) {
  for (int i = 0; i < m->n_encodings; i++)
    if (m->encodings[i] == e) return true;
  return false;
}

static void test_dictionary_and_fallback(void) {
  /* 40,000 rows, value i/4: 10,000 distinct strings of 6 bytes (10 bytes in a PLAIN
   * dictionary). A 20,000-byte limit holds 2,000 entries = the first 8,000 rows. */
  ms_table *t = table1("s", col_str_groups(40000, 4, false), false);
  CHECK(t);
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.dictionary_limit = 20000;
  o.page_bytes = 4096;
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("dict.parquet");
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  ms_pq_column_meta *m = &f.md.row_groups[0].columns[0].meta_data;
  CHECK_EQ_INT(m->codec, MS_CODEC_ZSTD);
  CHECK(m->has_dictionary_page_offset);
  CHECK_EQ_INT(m->dictionary_page_offset, 4);
  CHECK(m->data_page_offset > 4);
  CHECK(has_encoding(m, MS_PQ_ENC_PLAIN) && has_encoding(m, MS_PQ_ENC_RLE_DICTIONARY));
  CHECK(!has_encoding(m, MS_PQ_ENC_RLE)); /* required: no levels */
  page_census c;
  census(&f, m, &c);
  CHECK(c.ok);
  CHECK_EQ_INT(c.dict_pages, 1);
  CHECK_EQ_INT(c.dict_entries, 2000);
  CHECK_EQ_INT(c.dict_values, 8000);
  CHECK_EQ_INT(c.plain_values, 32000);
  CHECK(c.data_pages > 2);
  ms_pq_statistics *s = &m->statistics;
  CHECK(s->has_min_value && s->min_value_len == 6 && memcmp(s->min_value, "v00000", 6) == 0);
  CHECK(s->has_max_value && s->max_value_len == 6 && memcmp(s->max_value, "v09999", 6) == 0);
  CHECK(!s->has_min && !s->has_max); /* byte order is not the legacy signed order */
  CHECK_EQ_INT(f.md.schema[1].logical.kind, MS_PQ_LT_STRING);
  CHECK_EQ_INT(f.md.schema[1].converted_type, MS_PQ_CT_UTF8);
  pqfile_free(&f);

  /* a big limit: everything in the dictionary; v2 pages; nulls */
  ms_table *t2 = table1("s", col_str_groups(40000, 4, true), true);
  CHECK(t2);
  o.dictionary_limit = 1 << 20;
  o.data_page_version = 2;
  CHECK_OK(ms_pq_write_table(NULL, path, t2, &o, &err), &err);
  ms_table_release(t2);
  pqfile_load(&f, path);
  CHECK(f.ok);
  m = &f.md.row_groups[0].columns[0].meta_data;
  census(&f, m, &c);
  CHECK(c.ok && c.v2);
  CHECK_EQ_INT(c.dict_entries, 10000);
  CHECK_EQ_INT(c.dict_values, 40000);
  CHECK_EQ_INT(c.plain_values, 0);
  CHECK(c.levels_bytes > 0);
  CHECK(has_encoding(m, MS_PQ_ENC_RLE));
  CHECK_EQ_INT(m->statistics.null_count, (40000 + 3) / 7);
  pqfile_free(&f);

  /* dictionary off: all PLAIN */
  o.dictionary = false;
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  ms_table_release(t);
  pqfile_load(&f, path);
  CHECK(f.ok);
  m = &f.md.row_groups[0].columns[0].meta_data;
  census(&f, m, &c);
  CHECK(c.ok);
  CHECK_EQ_INT(c.dict_pages, 0);
  CHECK_EQ_INT(c.plain_values, 40000);
  CHECK(!m->has_dictionary_page_offset);
  pqfile_free(&f);
}

/* ---- row groups ---- */

static void test_row_groups_by_rows_and_bytes(void) {
  int64_t *v = ms_malloc(10000 * sizeof *v);
  CHECK(v);
  for (int i = 0; i < 10000; i++) v[i] = (i * 7919) % 10007 - 5000;
  ms_table *t = table1("k", col_i64(v, NULL, 10000, MS_TYPE_INT64), false);
  CHECK(t);
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.row_group_rows = 3000;
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("rg.parquet");
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.n_row_groups, 4);
  static const int64_t rows[4] = {3000, 3000, 3000, 1000};
  int64_t prev_end = 4;
  for (int g = 0; g < 4; g++) {
    ms_pq_row_group *rg = &f.md.row_groups[g];
    CHECK_EQ_INT(rg->num_rows, rows[g]);
    CHECK_EQ_INT(rg->file_offset, prev_end);
    ms_pq_column_meta *m = &rg->columns[0].meta_data;
    prev_end = (m->has_dictionary_page_offset ? m->dictionary_page_offset : m->data_page_offset) + m->total_compressed_size;
    int64_t mn = INT64_MAX, mx = INT64_MIN, smin, smax;
    for (int64_t i = g * 3000; i < g * 3000 + rows[g]; i++) { mn = v[i] < mn ? v[i] : mn; mx = v[i] > mx ? v[i] : mx; }
    CHECK(m->statistics.min_value_len == 8 && m->statistics.max_value_len == 8);
    memcpy(&smin, m->statistics.min_value, 8);
    memcpy(&smax, m->statistics.max_value, 8);
    CHECK_EQ_INT(smin, mn);
    CHECK_EQ_INT(smax, mx);
  }
  CHECK_EQ_INT(f.md.num_rows, 10000);
  pqfile_free(&f);

  /* by bytes: 8 bytes a row, 20,000 bytes a group -> 2,500 rows */
  o.row_group_rows = 1 << 20;
  o.row_group_bytes = 20000;
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.n_row_groups, 4);
  for (int g = 0; g < 4; g++) CHECK_EQ_INT(f.md.row_groups[g].num_rows, 2500);
  pqfile_free(&f);
  ms_table_release(t);
  ms_free(v);
}

static void test_streaming_across_tables(void) {
  /* 7 tables of 1,000 rows into groups of 3,000: groups span tables (concatenated) */
  ms_datatype ty = ms_type(MS_TYPE_INT64);
  ms_field fields[2] = {{"k", ty, true}, {"s", ms_type(MS_TYPE_UTF8), true}};
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.row_group_rows = 3000;
  o.compression = MS_CODEC_SNAPPY;
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("stream.parquet");
  ms_pq_writer *w;
  CHECK_OK(ms_pq_writer_open(NULL, path, fields, 2, &o, &w, &err), &err);
  int64_t v[1000];
  bool valid[1000];
  for (int b = 0; b < 7; b++) {
    for (int i = 0; i < 1000; i++) { v[i] = b * 1000 + i; valid[i] = (i % 10) != 0; }
    ms_column *cols[2] = {col_i64(v, valid, 1000, MS_TYPE_INT64), col_str_groups(1000, 1, true)};
    ms_table *t;
    CHECK_OK(ms_table_create(fields, cols, 2, &t, &err), &err);
    ms_column_release(cols[0]);
    ms_column_release(cols[1]);
    ms_status st = ms_pq_writer_write(w, t, &err);
    ms_table_release(t);
    CHECK_OK(st, &err);
  }
  CHECK_OK(ms_pq_writer_close(w, &err), &err);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.n_row_groups, 3);
  CHECK_EQ_INT(f.md.row_groups[2].num_rows, 1000);
  for (int g = 0; g < 3; g++) {
    ms_pq_column_meta *m = &f.md.row_groups[g].columns[0].meta_data;
    int64_t smin, smax;
    memcpy(&smin, m->statistics.min_value, 8);
    memcpy(&smax, m->statistics.max_value, 8);
    /* row 0 of every table is null: min is the group's first row + 1 */
    CHECK_EQ_INT(smin, g * 3000 + 1);
    CHECK_EQ_INT(smax, g * 3000 + (g == 2 ? 999 : 2999));
    CHECK_EQ_INT(m->statistics.null_count, g == 2 ? 100 : 300);
    CHECK_EQ_INT(m->codec, MS_CODEC_SNAPPY);
  }
  pqfile_free(&f);
}

/* ---- schema mapping and statistics of every type ---- */

static ms_column *build(ms_datatype t, int n, void (*fill)(ms_column_builder *, int)) {
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int i = 0; i < n; i++) fill(b, i);
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static void f_bool(ms_column_builder *b, int i) { if (i == 1) ms_builder_append_null(b); else ms_builder_append_bool(b, true); }
static void f_i8(ms_column_builder *b, int i) { ms_builder_append_i64(b, i == 0 ? -128 : i == 1 ? 127 : 5); }
static void f_u16(ms_column_builder *b, int i) { ms_builder_append_i64(b, i == 0 ? 65535 : i == 1 ? 0 : 7); }
static void f_u32(ms_column_builder *b, int i) { ms_builder_append_u64(b, i == 0 ? 1 : i == 1 ? 0xFFFFFFFFu : 2); }
static void f_u64(ms_column_builder *b, int i) { ms_builder_append_u64(b, i == 0 ? 3 : i == 1 ? UINT64_MAX : 4); }
static void f_f64(ms_column_builder *b, int i) { ms_builder_append_f64(b, i == 0 ? NAN : i == 1 ? 0.0 : i == 2 ? -0.0 : -2.5); }
static void f_f32(ms_column_builder *b, int i) { ms_builder_append_f64(b, i == 0 ? 0.0 : i == 1 ? -0.0 : NAN); }
static void f_nan(ms_column_builder *b, int i) { ms_builder_append_f64(b, NAN); }
static void f_str(ms_column_builder *b, int i) {
  static const char *s[4] = {"b", "\xff", "a", ""};
  ms_builder_append_bytes(b, s[i], (int64_t)strlen(s[i]));
}
static void f_date(ms_column_builder *b, int i) { ms_builder_append_i64(b, i == 0 ? -3 : i == 1 ? 19000 : 0); }
static void f_ts(ms_column_builder *b, int i) { ms_builder_append_i64(b, i + 1); }
static void f_dec(ms_column_builder *b, int i) {
  uint8_t v[16];
  memset(v, i == 0 ? 0xFF : 0, 16); /* -1, then 1, then 0 */
  if (i == 1) v[0] = 1;
  ms_builder_append_bytes(b, v, 16);
}
static void f_fixed(ms_column_builder *b, int i) { ms_builder_append_bytes(b, i == 0 ? "zz" : i == 1 ? "\x80\x00" : "ab", 2); }

typedef struct expect {
  const char *name;
  ms_datatype type;
  void (*fill)(ms_column_builder *, int);
  ms_pq_physical_type phys;
  int type_length;
  ms_pq_converted_type ct;
  ms_pq_logical_kind lk;
  int min_len;
  const char *min, *max; /* PLAIN bytes; NULL = no min/max */
  bool legacy;
} expect;

static void test_types_and_statistics(void) {
  expect ex[] = {
      {"b", ms_type(MS_TYPE_BOOL), f_bool, MS_PQ_BOOLEAN, 0, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 1, "\x01", "\x01", false},
      {"i8", ms_type(MS_TYPE_INT8), f_i8, MS_PQ_INT32, 0, MS_PQ_CT_INT_8, MS_PQ_LT_INTEGER, 4, "\x80\xff\xff\xff", "\x7f\0\0\0", true},
      {"u16", ms_type(MS_TYPE_UINT16), f_u16, MS_PQ_INT32, 0, MS_PQ_CT_UINT_16, MS_PQ_LT_INTEGER, 4, "\0\0\0\0", "\xff\xff\0\0", false},
      {"u32", ms_type(MS_TYPE_UINT32), f_u32, MS_PQ_INT32, 0, MS_PQ_CT_UINT_32, MS_PQ_LT_INTEGER, 4, "\x01\0\0\0", "\xff\xff\xff\xff", false},
      {"u64", ms_type(MS_TYPE_UINT64), f_u64, MS_PQ_INT64, 0, MS_PQ_CT_UINT_64, MS_PQ_LT_INTEGER, 8, "\x03\0\0\0\0\0\0\0", "\xff\xff\xff\xff\xff\xff\xff\xff", false},
      {"f64", ms_type(MS_TYPE_FLOAT64), f_f64, MS_PQ_DOUBLE, 0, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 8, "\0\0\0\0\0\0\x04\xc0", "\0\0\0\0\0\0\0\0", true},
      {"f32", ms_type(MS_TYPE_FLOAT32), f_f32, MS_PQ_FLOAT, 0, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 4, "\0\0\0\x80", "\0\0\0\0", true},
      {"nan", ms_type(MS_TYPE_FLOAT64), f_nan, MS_PQ_DOUBLE, 0, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 8, NULL, NULL, false},
      {"s", ms_type(MS_TYPE_UTF8), f_str, MS_PQ_BYTE_ARRAY, 0, MS_PQ_CT_UTF8, MS_PQ_LT_STRING, 0, "", "\xff", false},
      {"ls", ms_type(MS_TYPE_LARGE_BINARY), f_str, MS_PQ_BYTE_ARRAY, 0, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 0, "", "\xff", false},
      {"d", ms_type(MS_TYPE_DATE32), f_date, MS_PQ_INT32, 0, MS_PQ_CT_DATE, MS_PQ_LT_DATE, 4, "\xfd\xff\xff\xff", "\x38\x4a\0\0", true},
      {"ts_s", ms_type_timestamp(MS_UNIT_SECOND, "UTC"), f_ts, MS_PQ_INT64, 0, MS_PQ_CT_TIMESTAMP_MILLIS, MS_PQ_LT_TIMESTAMP, 8, "\xe8\x03\0\0\0\0\0\0", "\xa0\x0f\0\0\0\0\0\0", true},
      {"ts_us", ms_type_timestamp(MS_UNIT_MICRO, ""), f_ts, MS_PQ_INT64, 0, MS_PQ_CT_NONE, MS_PQ_LT_TIMESTAMP, 8, "\x01\0\0\0\0\0\0\0", "\x04\0\0\0\0\0\0\0", true},
      {"dec9", ms_type_decimal128(9, 2), f_dec, MS_PQ_INT32, 0, MS_PQ_CT_DECIMAL, MS_PQ_LT_DECIMAL, 4, "\xff\xff\xff\xff", "\x01\0\0\0", false},
      {"dec18", ms_type_decimal128(18, 0), f_dec, MS_PQ_INT64, 0, MS_PQ_CT_DECIMAL, MS_PQ_LT_DECIMAL, 8, "\xff\xff\xff\xff\xff\xff\xff\xff", "\x01\0\0\0\0\0\0\0", false},
      {"dec20", ms_type_decimal128(20, 3), f_dec, MS_PQ_FIXED_LEN_BYTE_ARRAY, 9, MS_PQ_CT_DECIMAL, MS_PQ_LT_DECIMAL, 9, "\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\0\0\0\0\0\0\0\0\x01", false},
      {"dec38", ms_type_decimal128(38, 10), f_dec, MS_PQ_FIXED_LEN_BYTE_ARRAY, 16, MS_PQ_CT_DECIMAL, MS_PQ_LT_DECIMAL, 16, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", false},
      {"fx", ms_type_fixed_binary(2), f_fixed, MS_PQ_FIXED_LEN_BYTE_ARRAY, 2, MS_PQ_CT_NONE, MS_PQ_LT_NONE, 2, "ab", "\x80\x00", false},
  };
  int n = (int)(sizeof ex / sizeof ex[0]);
  int rows = 4;
  ms_field fields[32];
  ms_column *cols[32];
  for (int i = 0; i < n; i++) {
    fields[i].name = (char *)ex[i].name;
    fields[i].type = ex[i].type;
    fields[i].nullable = true;
    cols[i] = build(ex[i].type, rows, ex[i].fill);
    CHECK(cols[i]);
  }
  /* one table per column, written with and without dictionary */
  ms_error err;
  ms_error_init(&err);
  for (int i = 0; i < n; i++) {
    ms_table *t;
    CHECK_OK(ms_table_create(&fields[i], &cols[i], 1, &t, &err), &err);
    ms_column_release(cols[i]);
    cols[i] = NULL;
    for (int dict = 0; dict < 2; dict++) {
      ms_pq_write_options o;
      ms_pq_write_options_init(&o);
      o.dictionary = dict;
      const char *path = tmp_path("types.parquet");
      ms_status st = ms_pq_write_table(NULL, path, t, &o, &err);
      CHECK_OK(st, &err);
      pqfile f;
      pqfile_load(&f, path);
      CHECK(f.ok);
      ms_pq_schema_element *e = &f.md.schema[1];
      CHECK_MSG(e->type == ex[i].phys, "%s: type %d", ex[i].name, e->type);
      if (ex[i].type_length) CHECK_EQ_INT(e->type_length, ex[i].type_length);
      CHECK_MSG(e->converted_type == ex[i].ct, "%s: converted %d", ex[i].name, e->converted_type);
      CHECK_MSG(e->logical.kind == ex[i].lk, "%s: logical %d", ex[i].name, e->logical.kind);
      if (ex[i].lk == MS_PQ_LT_DECIMAL) {
        CHECK_EQ_INT(e->logical.decimal_precision, ex[i].type.precision);
        CHECK_EQ_INT(e->logical.decimal_scale, ex[i].type.scale);
        CHECK_EQ_INT(e->precision, ex[i].type.precision);
        CHECK_EQ_INT(e->scale, ex[i].type.scale);
      }
      if (ex[i].lk == MS_PQ_LT_TIMESTAMP) {
        CHECK_EQ_INT(e->logical.is_adjusted_to_utc, ex[i].type.tz[0] != 0);
        CHECK_EQ_INT(e->logical.unit, ex[i].type.unit == MS_UNIT_MICRO ? MS_PQ_TU_MICROS : MS_PQ_TU_MILLIS);
      }
      if (ex[i].lk == MS_PQ_LT_INTEGER) CHECK(!e->logical.int_is_signed == (ex[i].ct >= MS_PQ_CT_UINT_8 && ex[i].ct <= MS_PQ_CT_UINT_64));
      ms_pq_statistics *s = &f.md.row_groups[0].columns[0].meta_data.statistics;
      CHECK(s->has_null_count);
      if (!ex[i].min) {
        CHECK_MSG(!s->has_min_value && !s->has_max_value, "%s: unexpected min/max", ex[i].name);
      } else {
        int ml = ex[i].min_len ? ex[i].min_len : (int)strlen(ex[i].min);
        int xl = ex[i].min_len ? ex[i].min_len : (int)strlen(ex[i].max);
        CHECK_MSG(s->has_min_value && s->min_value_len == ml && memcmp(s->min_value, ex[i].min, (size_t)ml) == 0,
                  "%s (dict %d): min", ex[i].name, dict);
        CHECK_MSG(s->has_max_value && s->max_value_len == xl && memcmp(s->max_value, ex[i].max, (size_t)xl) == 0,
                  "%s (dict %d): max", ex[i].name, dict);
        CHECK_MSG(s->has_min == ex[i].legacy && s->has_max == ex[i].legacy, "%s: legacy", ex[i].name);
      }
      pqfile_free(&f);
    }
    ms_table_release(t);
  }
}

/* ---- atomic publication ---- */

static bool file_exists(const char *p) { return access(p, F_OK) == 0; }

static void test_atomic(void) {
  const char *path = tmp_path("atomic.parquet");
  unlink(path);
  int64_t v[4] = {1, 2, 3, 4};
  ms_table *t = table1("a", col_i64(v, NULL, 4, MS_TYPE_INT64), false);
  CHECK(t);
  ms_error err;
  ms_error_init(&err);
  ms_pq_writer *w;
  CHECK_OK(ms_pq_writer_open(NULL, path, t->fields, 1, NULL, &w, &err), &err);
  CHECK_OK(ms_pq_writer_write(w, t, &err), &err);
  ms_pq_writer_abort(w);
  CHECK(!file_exists(path));
  /* no stray temporary files either */
  ms_file_info *infos;
  int64_t n;
  CHECK_OK(ms_fs_list(NULL, ms_test_tmpdir(), &infos, &n, &err), &err);
  for (int64_t i = 0; i < n; i++) CHECK_MSG(!strstr(infos[i].path, "atomic"), "left behind: %s", infos[i].path);
  ms_file_infos_free(infos, n);

  /* an existing target stays intact until close */
  FILE *fp = fopen(path, "wb");
  CHECK(fp);
  fputs("old contents", fp);
  fclose(fp);
  CHECK_OK(ms_pq_writer_open(NULL, path, t->fields, 1, NULL, &w, &err), &err);
  CHECK_OK(ms_pq_writer_write(w, t, &err), &err);
  uint8_t *data;
  int64_t len;
  CHECK_OK(ms_fs_read_all(NULL, path, &data, &len, &err), &err);
  CHECK(len == 12 && memcmp(data, "old contents", 12) == 0);
  ms_free(data);
  CHECK_OK(ms_pq_writer_close(w, &err), &err);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.num_rows, 4);
  pqfile_free(&f);

  /* a failed write (null in a non-nullable column) poisons the writer; close publishes
   * nothing and the old file stays */
  bool valid[4] = {true, false, true, true};
  ms_table *bad = table1("a", col_i64(v, valid, 4, MS_TYPE_INT64), false);
  CHECK(bad);
  ms_field nf = {"a", ms_type(MS_TYPE_INT64), false};
  CHECK_OK(ms_pq_writer_open(NULL, path, &nf, 1, NULL, &w, &err), &err);
  CHECK_EQ_INT(ms_pq_writer_write(w, bad, &err), MS_ERR_INVALID);
  CHECK(strstr(err.column, "a") != NULL);
  CHECK(ms_pq_writer_close(w, &err) != MS_OK);
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.num_rows, 4);
  pqfile_free(&f);
  /* ms_pq_write_table makes such a column optional */
  CHECK_OK(ms_pq_write_table(NULL, path, bad, NULL, &err), &err);
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.schema[1].repetition, MS_PQ_OPTIONAL);
  pqfile_free(&f);
  ms_table_release(bad);
  /* schema mismatch */
  ms_field other = {"b", ms_type(MS_TYPE_INT64), false};
  CHECK_OK(ms_pq_writer_open(NULL, path, &other, 1, NULL, &w, &err), &err);
  CHECK_EQ_INT(ms_pq_writer_write(w, t, &err), MS_ERR_TYPE);
  ms_pq_writer_abort(w);
  ms_table_release(t);
}

static void test_empty_table_and_kv(void) {
  ms_table *t = table1("a", col_i64(NULL, NULL, 0, MS_TYPE_INT64), false);
  CHECK(t);
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  const char *keys[2] = {"origin", "note"}, *vals[2] = {"test", NULL};
  o.kv_keys = keys;
  o.kv_values = vals;
  o.n_kv = 2;
  ms_error err;
  ms_error_init(&err);
  const char *path = tmp_path("empty.parquet");
  CHECK_OK(ms_pq_write_table(NULL, path, t, &o, &err), &err);
  ms_table_release(t);
  pqfile f;
  pqfile_load(&f, path);
  CHECK(f.ok);
  CHECK_EQ_INT(f.md.num_rows, 0);
  CHECK_EQ_INT(f.md.n_row_groups, 0);
  CHECK_EQ_INT(f.md.n_kv, 2);
  CHECK_STR(f.md.kv[0].key, "origin");
  CHECK_STR(f.md.kv[0].value, "test");
  CHECK_STR(f.md.kv[1].key, "note");
  CHECK(f.md.kv[1].value == NULL);
  pqfile_free(&f);
}

/* The same file, byte for byte, whatever the thread count. */
static void test_thread_count_independent(void) {
  int n = 50000;
  int64_t *v = ms_malloc((size_t)n * sizeof *v);
  bool *valid = ms_malloc((size_t)n);
  CHECK(v && valid);
  for (int i = 0; i < n; i++) { v[i] = (int64_t)(i * 2654435761u % 1000); valid[i] = i % 9 != 4; }
  ms_field fields[3] = {{"a", ms_type(MS_TYPE_INT64), true}, {"s", ms_type(MS_TYPE_UTF8), true},
                        {"t", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true}};
  ms_column *cols[3] = {col_i64(v, valid, n, MS_TYPE_INT64), col_str_groups(n, 3, true),
                        col_i64(v, NULL, n, MS_TYPE_INT64)};
  CHECK(cols[0] && cols[1] && cols[2]);
  ms_column_release(cols[2]);
  ms_datatype tt = fields[2].type;
  ms_column_builder *b;
  CHECK(ms_column_builder_create(&tt, n, &b, NULL) == MS_OK);
  for (int i = 0; i < n; i++) ms_builder_append_i64(b, 1700000000000000LL + v[i] * 17);
  CHECK(ms_builder_finish(b, &cols[2], NULL) == MS_OK);
  ms_column_builder_destroy(b);
  ms_table *t;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_table_create(fields, cols, 3, &t, &err), &err);
  for (int i = 0; i < 3; i++) ms_column_release(cols[i]);
  uint8_t *ref = NULL;
  int64_t ref_len = 0;
  for (int threads = 0; threads <= 4; threads++) {
    ms_pool *pool = NULL;
    if (threads) CHECK_OK(ms_pool_create(threads, &pool, &err), &err);
    ms_pq_write_options o;
    ms_pq_write_options_init(&o);
    o.pool = pool;
    o.row_group_rows = 4000; /* 13 row groups: more than one batch */
    o.page_bytes = 8192;
    const char *path = tmp_path("threads.parquet");
    ms_status st = ms_pq_write_table(NULL, path, t, &o, &err);
    ms_pool_destroy(pool);
    CHECK_OK(st, &err);
    uint8_t *data;
    int64_t len;
    CHECK_OK(ms_fs_read_all(NULL, path, &data, &len, &err), &err);
    if (!ref) {
      ref = data;
      ref_len = len;
      pqfile f;
      pqfile_load(&f, path);
      CHECK(f.ok && f.md.n_row_groups == 13);
      pqfile_free(&f);
    } else {
      bool same = len == ref_len && memcmp(data, ref, (size_t)len) == 0;
      ms_free(data);
      CHECK_MSG(same, "file differs with %d threads", threads);
    }
  }
  ms_free(ref);
  ms_table_release(t);
  ms_free(v);
  ms_free(valid);
}

MS_TEST_MAIN(MS_TEST(test_thread_count_independent), MS_TEST(test_required_int32_plain_bytes), MS_TEST(test_definition_levels),
             MS_TEST(test_dictionary_and_fallback), MS_TEST(test_row_groups_by_rows_and_bytes),
             MS_TEST(test_streaming_across_tables), MS_TEST(test_types_and_statistics),
             MS_TEST(test_atomic), MS_TEST(test_empty_table_and_kv))
