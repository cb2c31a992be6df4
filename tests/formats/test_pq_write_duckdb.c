/* DuckDB reads what morsel writes. This program writes a table of every core type (values
 * are formulas of the row id, with nulls and special floats) under several writer settings,
 * then runs tests/formats/pq_write_duckdb.js, which opens each file with real DuckDB
 * (@duckdb/node-api from the test peers) and checks, independently of morsel: the column
 * types DuckDB infers, every value against the same formula evaluated in SQL, the row-group
 * layout, and the min/max/null_count statistics of every row group against DuckDB's own
 * aggregates. Peers are installed on demand by scripts/install-test-peers.sh. */
#include <math.h>
#include <string.h>

#include "columnar/column.h"
#include "morsel/parquet.h"
#include "ms_test.h"

#define N 3000

static ms_column *finish(ms_column_builder *b) {
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_column_builder *mk(ms_datatype t) {
  ms_column_builder *b = NULL;
  ms_column_builder_create(&t, N, &b, NULL);
  return b;
}

/* Mirrors the formulas in pq_write_duckdb.js. */
static ms_table *make_table(void) {
  enum { NCOL = 24 };
  ms_field f[NCOL];
  ms_column *c[NCOL];
  int k = 0;
  ms_column_builder *b;
#define COL(NAME_, TYPE_, NULLABLE_, ...)                     \
  do {                                                        \
    ms_datatype t_ = (TYPE_);                                 \
    b = mk(t_);                                               \
    for (int64_t i = 0; i < N; i++) { __VA_ARGS__; }          \
    f[k].name = (char *)(NAME_);                              \
    f[k].type = t_;                                           \
    f[k].nullable = (NULLABLE_);                              \
    c[k++] = finish(b);                                       \
  } while (0)
  char s[400];
  COL("id", ms_type(MS_TYPE_INT64), false, ms_builder_append_i64(b, i));
  COL("b", ms_type(MS_TYPE_BOOL), true,
      if (i % 11 == 5) ms_builder_append_null(b); else ms_builder_append_bool(b, i % 3 == 0));
  COL("i8", ms_type(MS_TYPE_INT8), true,
      if (i % 13 == 1) ms_builder_append_null(b); else ms_builder_append_i64(b, (i % 256) - 128));
  COL("i16", ms_type(MS_TYPE_INT16), true, ms_builder_append_i64(b, ((i * 37) % 65536) - 32768));
  COL("i32", ms_type(MS_TYPE_INT32), false, ms_builder_append_i64(b, i * 100003 - 150000000));
  COL("u8", ms_type(MS_TYPE_UINT8), true, ms_builder_append_i64(b, i % 256));
  COL("u16", ms_type(MS_TYPE_UINT16), true,
      if (i % 19 == 0) ms_builder_append_null(b); else ms_builder_append_i64(b, (i * 7) % 65536));
  COL("u32", ms_type(MS_TYPE_UINT32), true, ms_builder_append_u64(b, 4294967295u - (uint64_t)i * 1000));
  COL("u64", ms_type(MS_TYPE_UINT64), true, ms_builder_append_u64(b, UINT64_MAX - (uint64_t)i));
  COL("f32", ms_type(MS_TYPE_FLOAT32), true,
      if (i % 101 == 3) ms_builder_append_f64(b, NAN);
      else if (i == 7) ms_builder_append_f64(b, -0.0);
      else ms_builder_append_f64(b, (double)i * 0.25 - 100));
  COL("f64", ms_type(MS_TYPE_FLOAT64), true,
      if (i % 23 == 4) ms_builder_append_null(b);
      else if (i == 11) ms_builder_append_f64(b, INFINITY);
      else ms_builder_append_f64(b, (double)i * 1.5e10 + 0.125));
  COL("s", ms_type(MS_TYPE_UTF8), true,
      if (i % 17 == 2) ms_builder_append_null(b);
      else if (i % 50 == 49) ms_builder_append_bytes(b, "\xc3\xbcn\xc3\xaf", 5);
      else { int n = snprintf(s, sizeof s, "k%d", (int)(i % 50)); ms_builder_append_bytes(b, s, n); });
  COL("ls", ms_type(MS_TYPE_LARGE_UTF8), false,
      int r = (int)(i % 300); memset(s, 'x', (size_t)r);
      int n = snprintf(s + r, sizeof s - (size_t)r, "%d", (int)i);
      ms_builder_append_bytes(b, s, r + n));
  COL("bin", ms_type(MS_TYPE_BINARY), true,
      int n = snprintf(s, sizeof s, "b%d", (int)i); ms_builder_append_bytes(b, s, n));
  COL("d", ms_type(MS_TYPE_DATE32), true, ms_builder_append_i64(b, i - 1000));
  COL("ts_s", ms_type_timestamp(MS_UNIT_SECOND, "UTC"), true, ms_builder_append_i64(b, i * 86400 + 1));
  COL("ts_ms", ms_type_timestamp(MS_UNIT_MILLI, ""), true, ms_builder_append_i64(b, i * 1000003));
  COL("ts_us", ms_type_timestamp(MS_UNIT_MICRO, "UTC"), true,
      if (i % 29 == 0) ms_builder_append_null(b);
      else ms_builder_append_i64(b, 1600000000000000LL + i * 1000001));
  COL("ts_ns", ms_type_timestamp(MS_UNIT_NANO, ""), true, ms_builder_append_i64(b, 1700000000000000000LL + i * 123456789));
  COL("dec9", ms_type_decimal128(9, 2), true, {
    __int128 v = (__int128)(i * 12345 - 5000000);
    ms_builder_append_bytes(b, &v, 16);
  });
  COL("dec18", ms_type_decimal128(18, 4), true, {
    __int128 v = (__int128)(i * 1234567891LL - 99999999999LL);
    ms_builder_append_bytes(b, &v, 16);
  });
  COL("dec38", ms_type_decimal128(38, 6), true, {
    __int128 e25 = (__int128)10000000000000LL * (__int128)1000000000000LL; /* 10^25 */
    __int128 v = (__int128)i * e25 + i - 5 * e25 * 1000;                /* - 5*10^28 */
    if (i % 31 == 9) ms_builder_append_null(b); else ms_builder_append_bytes(b, &v, 16);
  });
  COL("fx", ms_type_fixed_binary(4), true, {
    uint8_t be[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    ms_builder_append_bytes(b, be, 4);
  });
  COL("nul", ms_type(MS_TYPE_NULL), true, ms_builder_append_null(b));
#undef COL
  for (int i = 0; i < k; i++)
    if (!c[i]) return NULL;
  ms_table *t = NULL;
  ms_table_create(f, c, k, &t, NULL);
  for (int i = 0; i < k; i++) ms_column_release(c[i]);
  return t;
}

static void test_duckdb_reads_morsel(void) {
  const char *src = MS_TEST_SOURCE_DIR;
  const char *peers = getenv("MORSEL_PEERS_DIR");
  char peers_buf[1200], cmd[4096];
  if (!peers || !*peers) {
    snprintf(peers_buf, sizeof peers_buf, "%s/build/peers", src);
    peers = peers_buf;
  }
  snprintf(cmd, sizeof cmd, "MORSEL_PEERS_DIR='%s' bash '%s/scripts/install-test-peers.sh' >/dev/null", peers, src);
  CHECK_MSG(system(cmd) == 0, "could not install the npm test peers into %s", peers);

  ms_table *t = make_table();
  CHECK(t);
  struct { const char *name; ms_codec codec; int version; bool dict; int64_t rg_rows; int64_t dict_limit; } cases[] = {
      {"zstd_v1_dict", MS_CODEC_ZSTD, 1, true, 1000, 1 << 20},
      {"snappy_v2_plain", MS_CODEC_SNAPPY, 2, false, 1 << 20, 1 << 20},
      {"gzip_v1_fallback", MS_CODEC_GZIP, 1, true, 700, 600},
      {"none_v2_dict", MS_CODEC_UNCOMPRESSED, 2, true, 1 << 20, 1 << 20},
      {"lz4raw_v1", MS_CODEC_LZ4_RAW, 1, true, 2000, 1 << 20},
      {"brotli_v2", MS_CODEC_BROTLI, 2, true, 1500, 4000},
  };
  int ncases = (int)(sizeof cases / sizeof cases[0]);
  char manifest[1200];
  snprintf(manifest, sizeof manifest, "%.1000s/manifest.txt", ms_test_tmpdir());
  FILE *mf = fopen(manifest, "w");
  CHECK(mf);
  ms_error err;
  ms_error_init(&err);
  for (int i = 0; i < ncases; i++) {
    ms_pq_write_options o;
    ms_pq_write_options_init(&o);
    o.compression = cases[i].codec;
    o.data_page_version = cases[i].version;
    o.dictionary = cases[i].dict;
    o.row_group_rows = cases[i].rg_rows;
    o.dictionary_limit = cases[i].dict_limit;
    o.page_bytes = 2048; /* several pages per chunk */
    char path[1300];
    snprintf(path, sizeof path, "%.1000s/%s.parquet", ms_test_tmpdir(), cases[i].name);
    ms_status st = ms_pq_write_table(NULL, path, t, &o, &err);
    if (st) fclose(mf);
    CHECK_OK(st, &err);
    int64_t groups = (N + cases[i].rg_rows - 1) / cases[i].rg_rows;
    fprintf(mf, "%s %lld %lld %lld %s\n", path, (long long)N, (long long)groups,
            (long long)cases[i].rg_rows, ms_codec_name(cases[i].codec));
  }
  fclose(mf);
  ms_table_release(t);
  snprintf(cmd, sizeof cmd, "MORSEL_PEERS_DIR='%s' node '%s/tests/formats/pq_write_duckdb.js' '%s'", peers, src, manifest);
  CHECK_MSG(system(cmd) == 0, "DuckDB disagrees with morsel's files (see above)");
}

MS_TEST_MAIN(MS_TEST(test_duckdb_reads_morsel))
