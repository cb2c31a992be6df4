/* Tests of the Parquet reader against files written by DuckDB (tests/formats/data, made
 * by make_pq_fixtures.js). Every value in those files is a function of the row number i;
 * the formulas below are the ones in the script, recomputed here independently, and every
 * row of every column of every fixture is checked. Also: projection, nested columns,
 * pruning, thread-count independence, and corrupt input (truncation, byte flips, a
 * dictionary index out of range), which must fail cleanly (run under ASan in CI). */
#include <string.h>

#include "columnar/column.h"
#include "formats/parquet/pq_metadata.h"
#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "morsel/threadpool.h"
#include "ms_test.h"

static const char *fixture(const char *name) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/tests/formats/data/%s", MS_TEST_SOURCE_DIR, name);
  return path;
}

static bool is_null_row(int64_t i) { return i % 11 == 5; }

static __int128 dec_at(const ms_column *c, int64_t row) {
  int64_t len;
  const uint8_t *p = ms_column_get_bytes(c, row, &len);
  __int128 v;
  memcpy(&v, p, 16);
  return v;
}

/* Checks row `row` of a column read from an "all"/"small" fixture against the generating
 * formula for file row i. Returns a description of the mismatch, or NULL. */
static const char *check_value(const char *name, const ms_column *c, int64_t row, int64_t i) {
  static char msg[256];
  bool null_expected = strcmp(name, "id") != 0 && (is_null_row(i) || strcmp(name, "nothing") == 0);
  if (ms_column_is_null(c, row) != null_expected) {
    snprintf(msg, sizeof msg, "%s row %lld: null %d, expected %d", name, (long long)i,
             ms_column_is_null(c, row), null_expected);
    return msg;
  }
  if (null_expected) return NULL;
  int64_t e = 0;
  bool check_int = true;
  char sbuf[64];
  if (!strcmp(name, "id")) e = i;
  else if (!strcmp(name, "b")) { if (ms_column_get_bool(c, row) != (i % 3 == 0)) goto bad; return NULL; }
  else if (!strcmp(name, "i8")) e = (i % 256) - 128;
  else if (!strcmp(name, "i16")) e = (i * 13) % 65536 - 32768;
  else if (!strcmp(name, "i32")) e = i * 100003 - 150000000;
  else if (!strcmp(name, "i64")) e = i * 1234567890123LL - 2000000000000000LL;
  else if (!strcmp(name, "u8")) e = i % 256;
  else if (!strcmp(name, "u16")) e = (i * 7) % 65536;
  else if (!strcmp(name, "u32")) e = i * 800003;
  else if (!strcmp(name, "u64")) { if (ms_column_get_u64(c, row) != UINT64_MAX - (uint64_t)i) goto bad; return NULL; }
  else if (!strcmp(name, "f32") || !strcmp(name, "f64")) {
    double ev = !strcmp(name, "f32") ? i * 0.5 - 100 : i * 0.25 - 1000.125;
    if (ms_column_get_f64(c, row) != ev) goto bad;
    return NULL;
  } else if (!strcmp(name, "s") || !strcmp(name, "bl") || !strcmp(name, "cat")) {
    static const char *cats[] = {"red", "green", "blue", ""};
    if (!strcmp(name, "cat")) snprintf(sbuf, sizeof sbuf, "%s", cats[i % 4]);
    else snprintf(sbuf, sizeof sbuf, "%s%lld", name[0] == 's' ? "str" : "bin", (long long)i);
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(c, row, &len);
    if (len != (int64_t)strlen(sbuf) || memcmp(p, sbuf, (size_t)len) != 0) goto bad;
    return NULL;
  } else if (!strcmp(name, "dt")) e = i * 37 - 50000;
  else if (!strcmp(name, "ts_us")) e = i * 86400000123LL - 1000000000000000LL;
  else if (!strcmp(name, "ts_ms")) e = i * 86400123LL - 1000000000000LL;
  else if (!strcmp(name, "ts_ns")) e = i * 86400000000123LL - 1000000000000000000LL;
  else if (!strcmp(name, "ts_tz")) e = i * 3600000001LL;
  else if (!strcmp(name, "tm")) e = (i * 1000003) % 86400000000LL;
  else if (!strcmp(name, "dec4") || !strcmp(name, "dec18") || !strcmp(name, "dec38")) {
    __int128 ev;
    if (!strcmp(name, "dec4")) ev = (i % 10000) - 5000;
    else if (!strcmp(name, "dec18")) ev = i * 123456789LL - 100000000000LL;
    else ev = ((__int128)(i - 1500) * ((__int128)100000000000LL * 1000000000LL) + i) * 10000000000LL;
    if (dec_at(c, row) != ev) goto bad;
    return NULL;
  } else if (!strcmp(name, "uid")) {
    uint8_t u[16] = {0};
    for (int k = 0; k < 4; k++) u[k] = (uint8_t)(i >> (8 * (3 - k)));
    u[6] = 0x40;
    u[8] = 0x80;
    for (int k = 0; k < 6; k++) u[10 + k] = (uint8_t)((i * 7) >> (8 * (5 - k)));
    int64_t len;
    const uint8_t *p = ms_column_get_bytes(c, row, &len);
    if (len != 16 || memcmp(p, u, 16) != 0) goto bad;
    return NULL;
  } else {
    check_int = false;
  }
  if (check_int && ms_column_get_i64(c, row) != e) goto bad;
  return NULL;
bad:
  snprintf(msg, sizeof msg, "%s row %lld: wrong value", name, (long long)i);
  return msg;
}

typedef struct expect_type {
  const char *name;
  const char *type;
} expect_type;

static const expect_type all_types[] = {
    {"id", "int64"}, {"b", "bool"}, {"i8", "int8"}, {"i16", "int16"}, {"i32", "int32"},
    {"i64", "int64"}, {"u8", "uint8"}, {"u16", "uint16"}, {"u32", "uint32"}, {"u64", "uint64"},
    {"f32", "float32"}, {"f64", "float64"}, {"s", "utf8"}, {"cat", "utf8"}, {"bl", "binary"},
    {"dt", "date32"}, {"ts_us", "timestamp[us]"}, {"ts_ms", "timestamp[ms]"},
    {"ts_ns", "timestamp[ns]"}, {"ts_tz", "timestamp[us, tz=UTC]"}, {"dec4", "decimal128(4, 2)"},
    {"dec18", "decimal128(18, 3)"}, {"dec38", "decimal128(38, 10)"}, {"uid", "fixed_binary(16)"},
    {"tm", "int64"}, {"nothing", "int32"}};

static void check_table(const ms_table *t, int64_t first_row, int64_t n_rows) {
  CHECK_EQ_INT(ms_table_num_rows(t), n_rows);
  for (int c = 0; c < ms_table_num_columns(t); c++) {
    const char *name = ms_table_field(t, c)->name;
    const ms_column *col = ms_table_column(t, c);
    for (int64_t i = 0; i < n_rows; i++) {
      const char *bad = check_value(name, col, i, i + first_row);
      CHECK_MSG(bad == NULL, "%s", bad);
    }
  }
}

static void read_fixture_all(const char *file, int64_t rows, int n_rg, bool all_types_file) {
  ms_error err;
  ms_error_init(&err);
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, fixture(file), &f, &err), &err);
  CHECK_EQ_INT(ms_pq_num_rows(f), rows);
  CHECK_EQ_INT(ms_pq_num_row_groups(f), n_rg);
  if (all_types_file) {
    CHECK_EQ_INT(ms_pq_num_fields(f), 28);
    int k = 0;
    for (int i = 0; i < ms_pq_num_fields(f); i++) {
      const ms_field *fd = ms_pq_field(f, i);
      if (!strcmp(fd->name, "lst") || !strcmp(fd->name, "stc")) {
        CHECK(ms_pq_field_is_nested(f, i));
        continue;
      }
      CHECK(!ms_pq_field_is_nested(f, i));
      char buf[64];
      CHECK_STR(fd->name, all_types[k].name);
      CHECK_STR(ms_type_to_string(&fd->type, buf, sizeof buf), all_types[k].type);
      CHECK(fd->nullable);
      k++;
    }
    CHECK_EQ_INT(k, 26);
  }
  bool kv = false;
  for (int i = 0; i < ms_pq_num_kv(f); i++)
    if (!strcmp(ms_pq_kv_key(f, i), "tool") && ms_pq_kv_value(f, i) && !strcmp(ms_pq_kv_value(f, i), "duckdb")) kv = true;
  CHECK(kv);
  ms_table *t;
  ms_pq_read_stats stats;
  CHECK_OK(ms_pq_read(f, NULL, &t, &stats, &err), &err);
  CHECK_EQ_INT(stats.row_groups_total, n_rg);
  CHECK_EQ_INT(stats.row_groups_kept, n_rg);
  CHECK(stats.bytes_read > 0 || rows == 0);
  CHECK_EQ_INT(ms_table_num_columns(t), all_types_file ? 26 : 5);
  check_table(t, 0, rows);
  if (ms_test_failed_flag) { ms_table_release(t); ms_pq_close(f); return; }
  /* Same result on 3 threads. */
  ms_pool *pool;
  CHECK_OK(ms_pool_create(3, &pool, &err), &err);
  ms_pq_read_options o = {0};
  o.pool = pool;
  ms_table *t2;
  CHECK_OK(ms_pq_read(f, &o, &t2, NULL, &err), &err);
  for (int c = 0; c < ms_table_num_columns(t); c++)
    CHECK(ms_column_equal(ms_table_column(t, c), ms_table_column(t2, c)));
  ms_table_release(t2);
  ms_pool_destroy(pool);
  /* The same file through ms_pq_read_buffer (no mmap path). */
  uint8_t *buf;
  int64_t len;
  CHECK_OK(ms_fs_read_all(NULL, fixture(file), &buf, &len, &err), &err);
  CHECK_OK(ms_pq_read_buffer(buf, len, file, NULL, &t2, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t2), ms_table_num_columns(t));
  for (int c = 0; c < ms_table_num_columns(t); c++)
    CHECK(ms_column_equal(ms_table_column(t, c), ms_table_column(t2, c)));
  ms_table_release(t2);
  ms_free(buf);
  ms_table_release(t);
  ms_pq_close(f);
}

static void test_all_v1_zstd(void) { read_fixture_all("all_v1_zstd.parquet", 2100, 2, true); }
static void test_all_v2_zstd(void) { read_fixture_all("all_v2_zstd.parquet", 2100, 2, true); }
static void test_all_nodict_gzip(void) { read_fixture_all("all_nodict_gzip.parquet", 900, 1, true); }
static void test_codecs(void) {
  static const char *files[] = {"small_none.parquet", "small_snappy.parquet", "small_lz4.parquet",
                                "small_lz4_raw.parquet", "small_brotli.parquet"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    read_fixture_all(files[i], 1000, 1, false);
    CHECK_MSG(!ms_test_failed_flag, "%s", files[i]);
  }
  read_fixture_all("small_gzip.parquet", 2100, 2, false);
  read_fixture_all("small_zstd_v2_nodict.parquet", 5000, 3, false);
}

static void test_empty(void) {
  ms_error err;
  ms_error_init(&err);
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, fixture("empty.parquet"), &f, &err), &err);
  CHECK_EQ_INT(ms_pq_num_rows(f), 0);
  CHECK_EQ_INT(ms_pq_num_fields(f), 5);
  ms_table *t;
  CHECK_OK(ms_pq_read(f, NULL, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(t), 0);
  CHECK_EQ_INT(ms_table_num_columns(t), 5);
  ms_table_release(t);
  ms_pq_close(f);
}

static void test_projection_and_nested(void) {
  ms_error err;
  ms_error_init(&err);
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, fixture("all_v2_zstd.parquet"), &f, &err), &err);
  const char *cols[] = {"uid", "nothing", "s", "id"};
  ms_pq_read_options o = {0};
  o.columns = cols;
  o.n_columns = 4;
  ms_table *t;
  CHECK_OK(ms_pq_read(f, &o, &t, NULL, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(t), 4);
  CHECK_STR(ms_table_field(t, 0)->name, "uid");
  CHECK_STR(ms_table_field(t, 3)->name, "id");
  check_table(t, 0, 2100);
  ms_table_release(t);
  /* Asking for a nested column names it. */
  const char *nested[] = {"id", "stc"};
  o.columns = nested;
  o.n_columns = 2;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_read(f, &o, &t, NULL, &err), MS_ERR_UNSUPPORTED);
  CHECK_STR(err.column, "stc");
  CHECK(strstr(err.message, "nested"));
  CHECK(strstr(err.file, "all_v2_zstd.parquet"));
  const char *missing[] = {"nope"};
  o.columns = missing;
  o.n_columns = 1;
  CHECK_EQ_INT(ms_pq_read(f, &o, &t, NULL, &err), MS_ERR_NOT_FOUND);
  /* The column after the nested ones reads from the right chunk. */
  const char *after[] = {"nothing", "tm"};
  o.columns = after;
  o.n_columns = 2;
  CHECK_OK(ms_pq_read(f, &o, &t, NULL, &err), &err);
  check_table(t, 0, 2100);
  ms_table_release(t);
  ms_pq_close(f);
}

static void prune(const char *file, const ms_range *r, int n_ranges, int64_t want_kept,
                  int64_t want_first_row, int64_t want_rows) {
  ms_error err;
  ms_error_init(&err);
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, fixture(file), &f, &err), &err);
  ms_pq_read_options o = {0};
  o.ranges = r;
  o.n_ranges = n_ranges;
  ms_table *t;
  ms_pq_read_stats st;
  CHECK_OK(ms_pq_read(f, &o, &t, &st, &err), &err);
  CHECK_EQ_INT(st.row_groups_total, ms_pq_num_row_groups(f));
  CHECK_EQ_INT(st.row_groups_kept, want_kept);
  check_table(t, want_first_row, want_rows);
  ms_table_release(t);
  ms_pq_close(f);
}

static void test_pruning(void) {
  /* small_zstd_v2_nodict: row groups of ids [0, 2047], [2048, 4095], [4096, 4999]. */
  ms_range r = {0};
  r.column = "id";
  r.kind = MS_RANGE_INT;
  r.has_lo = r.has_hi = true;
  r.lo_i = 2100;
  r.hi_i = 2200;
  prune("small_zstd_v2_nodict.parquet", &r, 1, 1, 2048, 2048);
  r.lo_i = 2047; /* touches two groups */
  prune("small_zstd_v2_nodict.parquet", &r, 1, 2, 0, 4096);
  r.lo_i = 6000;
  r.hi_i = 7000;
  prune("small_zstd_v2_nodict.parquet", &r, 1, 0, 0, 0);
  r.has_hi = false;
  r.lo_i = 4500;
  prune("small_zstd_v2_nodict.parquet", &r, 1, 1, 4096, 904);
  /* float range on f64 = i * 0.25 - 1000.125: group 0 spans [-1000.125, -488.375] */
  ms_range rf = {0};
  rf.column = "f64";
  rf.kind = MS_RANGE_FLOAT;
  rf.has_hi = true;
  rf.hi_f = -600.0;
  prune("small_zstd_v2_nodict.parquet", &rf, 1, 1, 0, 2048);
  /* AND of two ranges that select different groups keeps nothing. */
  ms_range both[2] = {r, rf};
  prune("small_zstd_v2_nodict.parquet", both, 2, 0, 0, 0);
  /* Strings: min_value/max_value ("str0".."str999") */
  ms_range rs = {0};
  rs.column = "s";
  rs.kind = MS_RANGE_STRING;
  rs.has_lo = true;
  rs.lo_s = "zzz";
  rs.lo_s_len = 3;
  prune("small_zstd_v2_nodict.parquet", &rs, 1, 0, 0, 0);
  rs.lo_s = "str1";
  rs.lo_s_len = 4;
  prune("small_zstd_v2_nodict.parquet", &rs, 1, 3, 0, 5000);
  /* Timestamps are compared in nanoseconds: all_v1_zstd ts_ms group 1 holds rows 2048.. */
  ms_range rt = {0};
  rt.column = "ts_ms";
  rt.kind = MS_RANGE_INT;
  rt.has_lo = true;
  rt.lo_i = (2050 * 86400123LL - 1000000000000LL) * 1000000LL;
  prune("all_v1_zstd.parquet", &rt, 1, 1, 2048, 52);
  /* Unknown column: kept. */
  ms_range ru = {0};
  ru.column = "nope";
  ru.kind = MS_RANGE_INT;
  ru.has_lo = true;
  ru.lo_i = 1000000;
  prune("small_gzip.parquet", &ru, 1, 2, 0, 2100);
}

/* Reads a whole buffer; returns the status. Any status is fine, a crash is not. */
static ms_status read_buf(const uint8_t *p, int64_t n, ms_error *err) {
  ms_table *t = NULL;
  ms_error_init(err);
  ms_status st = ms_pq_read_buffer(p, n, "corrupt.parquet", NULL, &t, err);
  if (st == MS_OK) ms_table_release(t);
  return st;
}

static void test_corrupt(void) {
  static const char *files[] = {"small_none.parquet", "all_v2_zstd.parquet", "small_snappy.parquet"};
  for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
    uint8_t *buf;
    int64_t len;
    ms_error err;
    ms_error_init(&err);
    CHECK_OK(ms_fs_read_all(NULL, fixture(files[fi]), &buf, &len, &err), &err);
    uint8_t *copy = ms_malloc((size_t)len);
    /* Truncations: every one must fail (the tail magic moves). */
    for (int64_t n = 0; n < len; n += (n < 64 || n > len - 64) ? 1 : 97) {
      memcpy(copy, buf, (size_t)n);
      ms_status st = read_buf(copy, n, &err);
      CHECK_MSG(st != MS_OK, "%s truncated to %lld bytes read fine", files[fi], (long long)n);
      CHECK(strstr(err.file, "corrupt.parquet"));
    }
    /* Byte flips all over the file: errors or (for bytes inside values) wrong data. */
    int64_t failures = 0, trials = 0;
    int64_t stride = len / (fi == 1 ? 30 : 100) + 1; /* ~400 decodes: fast under ASan */
    for (int64_t at = 0; at < len; at += stride) {
      for (int v = 0; v < 2; v++) {
        memcpy(copy, buf, (size_t)len);
        static const uint8_t x[] = {0xff, 0x80, 0x01, 0x10};
        copy[at] ^= x[(at + v) & 3];
        trials++;
        if (read_buf(copy, len, &err) != MS_OK) {
          failures++;
          CHECK(err.message[0]);
        }
      }
    }
    CHECK(failures > 0 && trials > failures / 2);
    ms_free(copy);
    ms_free(buf);
  }
}

/* Lowers the dictionary size of column 'cat' from 4 to 1: indices 1..3 must be rejected
 * naming the column and row group. */
static void test_dictionary_index_out_of_range(void) {
  uint8_t *buf;
  int64_t len;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_fs_read_all(NULL, fixture("small_none.parquet"), &buf, &len, &err), &err);
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, fixture("small_none.parquet"), &f, &err), &err);
  const ms_pq_metadata *md = ms_pq_metadata_of(f);
  const ms_pq_column_meta *m = &md->row_groups[0].columns[4].meta_data;
  CHECK_STR(m->path_in_schema[0], "cat");
  CHECK(m->has_dictionary_page_offset);
  int64_t off = m->dictionary_page_offset;
  ms_pq_close(f);
  ms_pq_page_header h;
  int64_t used;
  CHECK_OK(ms_pq_page_header_decode(buf + off, len - off, &h, &used, &err), &err);
  CHECK_EQ_INT(h.dictionary_page_header.num_values, 4);
  bool patched = false;
  for (int64_t k = off; k < off + used && !patched; k++) {
    if (buf[k] != 0x08) continue; /* zigzag(4) */
    buf[k] = 0x02;                /* zigzag(1) */
    ms_pq_page_header h2;
    if (ms_pq_page_header_decode(buf + off, len - off, &h2, &used, NULL) == MS_OK &&
        h2.dictionary_page_header.num_values == 1)
      patched = true;
    else
      buf[k] = 0x08;
  }
  CHECK(patched);
  ms_table *t;
  const char *cols[] = {"cat"};
  ms_pq_read_options o = {0};
  o.columns = cols;
  o.n_columns = 1;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_read_buffer(buf, len, "dict.parquet", &o, &t, &err), MS_ERR_CORRUPT);
  CHECK(strstr(err.message, "dictionary index"));
  CHECK_STR(err.column, "cat");
  CHECK_EQ_INT(err.row_group, 0);
  CHECK(err.byte_offset > off);
  const char *other[] = {"s"};
  o.columns = other;
  CHECK_OK(ms_pq_read_buffer(buf, len, "dict.parquet", &o, &t, &err), &err);
  ms_table_release(t);
  ms_free(buf);
}

static void test_bad_files(void) {
  ms_error err;
  static const uint8_t tiny[] = "PAR1PAR1";
  CHECK_EQ_INT(read_buf(tiny, 8, &err), MS_ERR_CORRUPT);
  uint8_t enc[32] = "PAR1";
  memcpy(enc + 28, "PARE", 4);
  CHECK_EQ_INT(read_buf(enc, 32, &err), MS_ERR_UNSUPPORTED);
  CHECK(strstr(err.message, "encrypted"));
  uint8_t lying[32] = "PAR1";
  uint32_t fl = 1000000;
  memcpy(lying + 24, &fl, 4);
  memcpy(lying + 28, "PAR1", 4);
  CHECK_EQ_INT(read_buf(lying, 32, &err), MS_ERR_CORRUPT);
  CHECK_EQ_INT(err.byte_offset, 24);
  ms_pq_file *f;
  ms_error_init(&err);
  CHECK_EQ_INT(ms_pq_open(NULL, fixture("make_pq_fixtures.js"), &f, &err), MS_ERR_CORRUPT);
  CHECK(strstr(err.file, "make_pq_fixtures.js"));
}

MS_TEST_MAIN(MS_TEST(test_all_v1_zstd), MS_TEST(test_all_v2_zstd), MS_TEST(test_all_nodict_gzip),
             MS_TEST(test_codecs), MS_TEST(test_empty), MS_TEST(test_projection_and_nested),
             MS_TEST(test_pruning), MS_TEST(test_corrupt), MS_TEST(test_dictionary_index_out_of_range),
             MS_TEST(test_bad_files))
