/* Round trips through morsel's Parquet writer and reader: random tables of every core type
 * with nulls (and NaN, infinities, -0.0, empty strings, decimal extremes) are written with
 * every codec, data page v1 and v2, dictionary on, off and overflowing into PLAIN, small
 * pages and many row groups, in one call and streamed in slices, then read back with
 * ms_pq_read_buffer and compared column by column with ms_column_equal. Expected columns
 * account for the documented mappings: timestamp[s] comes back as timestamp[ms] with
 * values * 1000, large_utf8/large_binary as utf8/binary, the null type as an all-null
 * int32. */
#include <math.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "ms_test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  uint64_t x = rng_state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return rng_state = x;
}

typedef struct colspec {
  const char *name;
  ms_datatype type;
  bool nullable;
  int null_pct;    /* percent of nulls (0 for none) */
  int cardinality; /* 0 = random values, else values drawn from this many */
} colspec;

static __int128 pow10_128(int p) {
  __int128 v = 1;
  for (int i = 0; i < p; i++) v *= 10;
  return v;
}

static void append_random(ms_column_builder *b, const ms_datatype *t, int card, int64_t row) {
  uint64_t r = card ? rnd() % (uint64_t)card : rnd();
  char s[64];
  switch (t->id) {
    case MS_TYPE_BOOL: ms_builder_append_bool(b, r & 1); break;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
    case MS_TYPE_DATE32: {
      int bits = t->id == MS_TYPE_INT8 ? 8 : t->id == MS_TYPE_INT16 ? 16 : t->id == MS_TYPE_INT64 ? 64 : 32;
      int64_t v = bits == 64 ? (int64_t)r : (int64_t)(r & ((1ull << bits) - 1)) - ((int64_t)1 << (bits - 1));
      if (t->id == MS_TYPE_DATE32) v = (int64_t)(r % 200000) - 100000;
      if (row == 0 && bits == 64) v = INT64_MIN;
      if (row == 1 && bits == 64) v = INT64_MAX;
      ms_builder_append_i64(b, v);
      break;
    }
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32: case MS_TYPE_UINT64: {
      int bits = t->id == MS_TYPE_UINT8 ? 8 : t->id == MS_TYPE_UINT16 ? 16 : t->id == MS_TYPE_UINT32 ? 32 : 64;
      uint64_t v = bits == 64 ? r : r & ((1ull << bits) - 1);
      if (row == 0) v = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
      ms_builder_append_u64(b, v);
      break;
    }
    case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: {
      double v = ((double)(int64_t)r) / 1e6;
      if (t->id == MS_TYPE_FLOAT32) v = (float)v;
      switch (row % 97) {
        case 3: v = NAN; break;
        case 5: v = -0.0; break;
        case 7: v = INFINITY; break;
        case 11: v = -INFINITY; break;
        case 13: v = 0.0; break;
        default: break;
      }
      ms_builder_append_f64(b, v);
      break;
    }
    case MS_TYPE_UTF8: case MS_TYPE_LARGE_UTF8: case MS_TYPE_BINARY: case MS_TYPE_LARGE_BINARY: {
      int len = (int)(r % 41);
      if (card) len = (int)(r % 13);
      for (int i = 0; i < len; i++) s[i] = (char)('a' + (r >> (i % 8 * 4)) % 26 + (i & 1));
      if (t->id == MS_TYPE_BINARY || t->id == MS_TYPE_LARGE_BINARY)
        for (int i = 0; i < len; i++) s[i] = (char)(s[i] * 7 + (int)(r >> 3)); /* any bytes */
      ms_builder_append_bytes(b, s, len);
      break;
    }
    case MS_TYPE_TIMESTAMP: {
      int64_t v = (int64_t)(r % 4000000000ull) - 1000000000;
      if (t->unit == MS_UNIT_MILLI) v *= 1000;
      if (t->unit == MS_UNIT_MICRO) v = v * 1000000 + (int64_t)(r % 1000000);
      if (t->unit == MS_UNIT_NANO) v = v * 1000000000 + (int64_t)(r % 1000000000);
      ms_builder_append_i64(b, v);
      break;
    }
    case MS_TYPE_DECIMAL128: {
      __int128 lim = pow10_128(t->precision);
      unsigned __int128 u = ((unsigned __int128)rnd() << 64) | rnd();
      __int128 v = (__int128)(u % (unsigned __int128)lim);
      if (r & 1) v = -v;
      if (row == 0) v = lim - 1;
      if (row == 1) v = -(lim - 1);
      if (card) v = (__int128)(r % (uint64_t)card) - card / 2;
      ms_builder_append_bytes(b, &v, 16);
      break;
    }
    case MS_TYPE_FIXED_BINARY:
      for (int i = 0; i < t->byte_width; i++) s[i] = (char)(r >> (i % 8 * 8));
      ms_builder_append_bytes(b, s, t->byte_width);
      break;
    default: ms_builder_append_null(b); break;
  }
}

static ms_column *random_column(const colspec *c, int64_t n) {
  ms_column_builder *b;
  if (ms_column_builder_create(&c->type, n, &b, NULL)) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (c->type.id == MS_TYPE_NULL || (c->null_pct && (int)(rnd() % 100) < c->null_pct)) ms_builder_append_null(b);
    else append_random(b, &c->type, c->cardinality, i);
  }
  ms_column *col = NULL;
  ms_builder_finish(b, &col, NULL);
  ms_column_builder_destroy(b);
  return col;
}

/* What the reader should return for a column the writer was given. */
static ms_column *expected_column(const ms_column *col) {
  const ms_datatype *t = ms_column_type(col);
  ms_datatype et = *t;
  if (t->id == MS_TYPE_TIMESTAMP && t->unit == MS_UNIT_SECOND) et.unit = MS_UNIT_MILLI;
  else if (t->id == MS_TYPE_LARGE_UTF8) et = ms_type(MS_TYPE_UTF8);
  else if (t->id == MS_TYPE_LARGE_BINARY) et = ms_type(MS_TYPE_BINARY);
  else if (t->id == MS_TYPE_NULL) et = ms_type(MS_TYPE_INT32);
  else return ms_column_retain((ms_column *)col);
  int64_t n = ms_column_length(col);
  ms_column_builder *b;
  if (ms_column_builder_create(&et, n, &b, NULL)) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (ms_column_is_null(col, i)) { ms_builder_append_null(b); continue; }
    if (t->id == MS_TYPE_TIMESTAMP) {
      ms_builder_append_i64(b, ms_column_get_i64(col, i) * 1000);
    } else {
      int64_t len;
      const uint8_t *p = ms_column_get_bytes(col, i, &len);
      ms_builder_append_bytes(b, p, len);
    }
  }
  ms_column *out = NULL;
  ms_builder_finish(b, &out, NULL);
  ms_column_builder_destroy(b);
  return out;
}

static const colspec SPECS[] = {
    {"b", {.id = MS_TYPE_BOOL}, true, 20, 0},
    {"b_req", {.id = MS_TYPE_BOOL}, false, 0, 0},
    {"i8", {.id = MS_TYPE_INT8}, true, 10, 0},
    {"i16", {.id = MS_TYPE_INT16}, true, 10, 50},
    {"i32", {.id = MS_TYPE_INT32}, false, 0, 0},
    {"i64", {.id = MS_TYPE_INT64}, true, 30, 0},
    {"i64_lowcard", {.id = MS_TYPE_INT64}, true, 5, 300},
    {"u8", {.id = MS_TYPE_UINT8}, true, 10, 0},
    {"u16", {.id = MS_TYPE_UINT16}, false, 0, 0},
    {"u32", {.id = MS_TYPE_UINT32}, true, 10, 0},
    {"u64", {.id = MS_TYPE_UINT64}, true, 10, 0},
    {"f32", {.id = MS_TYPE_FLOAT32}, true, 10, 0},
    {"f64", {.id = MS_TYPE_FLOAT64}, true, 10, 0},
    {"f64_lowcard", {.id = MS_TYPE_FLOAT64}, false, 0, 40},
    {"s", {.id = MS_TYPE_UTF8}, true, 15, 0},
    {"s_lowcard", {.id = MS_TYPE_UTF8}, true, 15, 200},
    {"s_req", {.id = MS_TYPE_UTF8}, false, 0, 30},
    {"bin", {.id = MS_TYPE_BINARY}, true, 10, 0},
    {"ls", {.id = MS_TYPE_LARGE_UTF8}, true, 10, 50},
    {"lb", {.id = MS_TYPE_LARGE_BINARY}, true, 10, 0},
    {"d", {.id = MS_TYPE_DATE32}, true, 10, 0},
    {"nul", {.id = MS_TYPE_NULL}, true, 0, 0},
};

static ms_table *random_table(int64_t n) {
  int k = (int)(sizeof SPECS / sizeof SPECS[0]);
  colspec extra[] = {
      {"ts_s", ms_type_timestamp(MS_UNIT_SECOND, "UTC"), true, 10, 0},
      {"ts_ms", ms_type_timestamp(MS_UNIT_MILLI, ""), true, 10, 0},
      {"ts_us", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true, 10, 0},
      {"ts_ns", ms_type_timestamp(MS_UNIT_NANO, ""), false, 0, 0},
      {"dec5", ms_type_decimal128(5, 2), true, 10, 0},
      {"dec15", ms_type_decimal128(15, 15), true, 10, 0},
      {"dec30", ms_type_decimal128(30, 4), true, 10, 0},
      {"dec38", ms_type_decimal128(38, 0), true, 10, 0},
      {"dec38_lowcard", ms_type_decimal128(38, 10), false, 0, 20},
      {"fx", ms_type_fixed_binary(3), true, 10, 0},
      {"fx_lowcard", ms_type_fixed_binary(17), true, 10, 9},
  };
  int ke = (int)(sizeof extra / sizeof extra[0]);
  ms_field fields[64];
  ms_column *cols[64];
  for (int i = 0; i < k + ke; i++) {
    const colspec *c = i < k ? &SPECS[i] : &extra[i - k];
    fields[i].name = (char *)c->name;
    fields[i].type = c->type;
    fields[i].nullable = c->nullable;
    if (c->type.id == MS_TYPE_NULL) fields[i].nullable = true;
    cols[i] = random_column(c, n);
    if (!cols[i]) return NULL;
  }
  ms_table *t = NULL;
  ms_table_create(fields, cols, k + ke, &t, NULL);
  for (int i = 0; i < k + ke; i++) ms_column_release(cols[i]);
  return t;
}

/* Reads path back and compares every column with what was written. */
static bool read_and_compare(const char *path, const ms_table *t, const char *what) {
  ms_error err;
  ms_error_init(&err);
  uint8_t *data;
  int64_t len;
  if (ms_fs_read_all(NULL, path, &data, &len, &err) != MS_OK) {
    fprintf(stderr, "%s: read_all: %s\n", what, err.message);
    return false;
  }
  ms_pq_read_options ro;
  memset(&ro, 0, sizeof ro);
  ms_table *back = NULL;
  ms_status st = ms_pq_read_buffer(data, len, path, &ro, &back, &err);
  ms_free(data);
  if (st) {
    char buf[2048];
    fprintf(stderr, "%s: read: %s\n", what, ms_error_format(&err, buf, sizeof buf));
    return false;
  }
  bool ok = ms_table_num_columns(back) == ms_table_num_columns(t) && ms_table_num_rows(back) == ms_table_num_rows(t);
  if (!ok) fprintf(stderr, "%s: shape %d x %lld\n", what, ms_table_num_columns(back), (long long)ms_table_num_rows(back));
  for (int i = 0; ok && i < ms_table_num_columns(t); i++) {
    ms_column *exp = expected_column(ms_table_column(t, i));
    ms_column *got = ms_table_column(back, i);
    if (!exp || !ms_column_equal(exp, got)) {
      char a[128], b[128];
      fprintf(stderr, "%s: column %s differs (%s written, %s read, %lld/%lld nulls)\n", what,
              ms_table_field(t, i)->name, ms_type_to_string(ms_column_type(ms_table_column(t, i)), a, sizeof a),
              ms_type_to_string(ms_column_type(got), b, sizeof b), (long long)ms_column_null_count(exp),
              (long long)ms_column_null_count(got));
      ok = false;
    }
    ms_column_release(exp);
  }
  ms_table_release(back);
  return ok;
}

static void test_roundtrip_matrix(void) {
  ms_table *t = random_table(3000);
  CHECK(t);
  static const ms_codec codecs[] = {MS_CODEC_UNCOMPRESSED, MS_CODEC_SNAPPY, MS_CODEC_GZIP,
                                    MS_CODEC_ZSTD, MS_CODEC_LZ4_RAW, MS_CODEC_BROTLI};
  ms_pool *pool;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_pool_create(2, &pool, &err), &err);
  char path[1200];
  snprintf(path, sizeof path, "%.1100s/rt.parquet", ms_test_tmpdir());
  int cases = 0;
  for (int ci = 0; ci < 6; ci++)
    for (int v = 1; v <= 2; v++)
      for (int dict = 0; dict < 3; dict++) {
        ms_pq_write_options o;
        ms_pq_write_options_init(&o);
        o.compression = codecs[ci];
        o.data_page_version = v;
        o.dictionary = dict > 0;
        if (dict == 2) o.dictionary_limit = 700; /* overflow into PLAIN mid-chunk */
        o.row_group_rows = (ci + v) % 3 == 0 ? 3000 : (ci % 2 ? 777 : 1024);
        o.page_bytes = (ci + dict) % 2 ? 1500 : 1 << 20;
        o.pool = ci % 2 ? pool : NULL;
        ms_status st = ms_pq_write_table(NULL, path, t, &o, &err);
        if (st) ms_pool_destroy(pool);
        CHECK_OK(st, &err);
        char what[128];
        snprintf(what, sizeof what, "%s v%d dict %d rg %lld", ms_codec_name(codecs[ci]), v, dict,
                 (long long)o.row_group_rows);
        bool ok = read_and_compare(path, t, what);
        if (!ok) ms_pool_destroy(pool);
        CHECK_MSG(ok, "%s", what);
        cases++;
      }
  ms_pool_destroy(pool);
  ms_table_release(t);
  CHECK_EQ_INT(cases, 36);
}

static void test_roundtrip_streamed_slices(void) {
  ms_table *t = random_table(2500);
  CHECK(t);
  ms_error err;
  ms_error_init(&err);
  char path[1200];
  snprintf(path, sizeof path, "%.1100s/rt_stream.parquet", ms_test_tmpdir());
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  o.row_group_rows = 600; /* groups straddle the slices below */
  ms_pq_writer *w;
  CHECK_OK(ms_pq_writer_open(NULL, path, t->fields, t->n_columns, &o, &w, &err), &err);
  static const int64_t cuts[] = {0, 1, 450, 451, 1700, 2500};
  for (int i = 0; i + 1 < 6; i++) {
    ms_table *s;
    CHECK_OK(ms_table_slice(t, cuts[i], cuts[i + 1] - cuts[i], &s, &err), &err);
    ms_status st = ms_pq_writer_write(w, s, &err);
    ms_table_release(s);
    CHECK_OK(st, &err);
  }
  CHECK_OK(ms_pq_writer_close(w, &err), &err);
  CHECK(read_and_compare(path, t, "streamed"));
  ms_pq_file *f;
  CHECK_OK(ms_pq_open(NULL, path, &f, &err), &err);
  CHECK_EQ_INT(ms_pq_num_row_groups(f), 5);
  CHECK_EQ_INT(ms_pq_row_group_num_rows(f, 4), 100);
  ms_pq_close(f);
  ms_table_release(t);
}

static void test_roundtrip_empty_and_all_null(void) {
  ms_error err;
  ms_error_init(&err);
  char path[1200];
  snprintf(path, sizeof path, "%.1100s/rt_empty.parquet", ms_test_tmpdir());
  for (int n = 0; n <= 1; n++) {
    colspec c = {"x", {.id = MS_TYPE_UTF8}, true, 100, 0};
    ms_column *col = random_column(&c, n ? 1000 : 0);
    ms_field f = {"x", c.type, true};
    ms_table *t;
    CHECK_OK(ms_table_create(&f, &col, 1, &t, &err), &err);
    ms_column_release(col);
    CHECK_OK(ms_pq_write_table(NULL, path, t, NULL, &err), &err);
    CHECK(read_and_compare(path, t, n ? "all null" : "empty"));
    ms_table_release(t);
  }
}

MS_TEST_MAIN(MS_TEST(test_roundtrip_matrix), MS_TEST(test_roundtrip_streamed_slices),
             MS_TEST(test_roundtrip_empty_and_all_null))
