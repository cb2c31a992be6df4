/* `morsel example-data sample --out FILE [--rows N] [--seed S]`: a deterministic sample
 * feature table, the README's first data. One row per (customer, event):
 *
 *   customer_id        int64, not null     1001 .. 1000 + max(1, rows/10)
 *   event_timestamp    timestamp[us, UTC]  from 2024-01-01T00:00:00Z, increasing with the
 *                                          row, spread over 90 days, with sub-second jitter
 *   created            timestamp[us, UTC]  event_timestamp + 0..3600 s
 *   total_spend        float64, ~3% null   0.00 .. 99999.99 (two decimals)
 *   avg_order_value    float64             5.00 .. 504.99
 *   orders_30d         int64, ~5% null     0 .. 39
 *   days_since_signup  int64               0 .. 1999
 *   segment            utf8, ~2% null      bronze, silver, gold, platinum
 *
 * Values come from splitmix64 seeded with --seed, so the same arguments always give the
 * same file. The format follows the extension of --out (.parquet or .csv).
 * `retail` (UCI Online Retail-shaped transactions) lives in example_retail.c. */
#include <string.h>

#include "cli/cli.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

#define N_COLS 8

/* Writes an example table to out (Parquet with a morsel.example=<name> footer entry, or
 * CSV), atomically through the writers; shared by every example generator. */
ms_status cli_example_write(const ms_field *fields, ms_column *const *cols, int n_cols,
                            const char *out, ms_file_format fmt, const char *name, ms_error *err) {
  ms_table *t = NULL;
  ms_status st = ms_table_create(fields, cols, n_cols, &t, err);
  if (st == MS_OK && fmt == MS_FORMAT_PARQUET) {
    ms_pq_write_options wo;
    ms_pq_write_options_init(&wo);
    const char *keys[] = {"morsel.example"};
    const char *vals[] = {name};
    wo.kv_keys = keys;
    wo.kv_values = vals;
    wo.n_kv = 1;
    st = ms_pq_write_table(NULL, out, t, &wo, err);
  } else if (st == MS_OK) {
    ms_csv_write_options co;
    ms_csv_write_options_init(&co);
    st = ms_csv_write(NULL, out, t, &co, err);
  }
  ms_table_release(t);
  return st;
}

ms_status cli_cmd_example_data(const cli_args *a, ms_error *err) {
  bool retail = strcmp(a->pos[0], "retail") == 0;
  if (!retail && strcmp(a->pos[0], "sample") != 0)
    return ms_error_set(err, MS_ERR_INVALID, "unknown example '%s' (available: sample, retail)", a->pos[0]);
  const char *out = cli_opt(a, "out");
  if (!out) return ms_error_set(err, MS_ERR_INVALID, "example-data needs --out FILE (.parquet or .csv)");
  ms_file_format fmt = ms_format_from_path(out);
  if (fmt == MS_FORMAT_AUTO) {
    ms_error_set_file(err, out);
    return ms_error_set(err, MS_ERR_INVALID, "cannot tell the output format from the extension (use .parquet or .csv)");
  }
  if (retail) return cli_example_retail(a, out, fmt, err);
  if (cli_opt(a, "scale")) return ms_error_set(err, MS_ERR_INVALID, "--scale is for the retail example");
  int64_t rows = 1000, seed = 42;
  ms_status st = cli_opt_int(a, "rows", 0, 1000000000, &rows, err);
  if (st == MS_OK) st = cli_opt_int(a, "seed", INT64_MIN, INT64_MAX, &seed, err);
  if (st) return st;

  ms_datatype ts = ms_type_timestamp(MS_UNIT_MICRO, "UTC");
  ms_field fields[N_COLS] = {
      {"customer_id", ms_type(MS_TYPE_INT64), false},   {"event_timestamp", ts, false},
      {"created", ts, false},                           {"total_spend", ms_type(MS_TYPE_FLOAT64), true},
      {"avg_order_value", ms_type(MS_TYPE_FLOAT64), true}, {"orders_30d", ms_type(MS_TYPE_INT64), true},
      {"days_since_signup", ms_type(MS_TYPE_INT64), true}, {"segment", ms_type(MS_TYPE_UTF8), true},
  };
  ms_column_builder *b[N_COLS] = {0};
  ms_column *cols[N_COLS] = {0};
  for (int j = 0; j < N_COLS && st == MS_OK; j++) st = ms_column_builder_create(&fields[j].type, rows, &b[j], err);
  static const char *const segments[] = {"bronze", "silver", "gold", "platinum"};
  uint64_t state = (uint64_t)seed;
  int64_t customers = rows / 10 > 1 ? rows / 10 : 1;
  const int64_t start_us = 1704067200LL * 1000000; /* 2024-01-01T00:00:00Z */
  const int64_t span_us = 90LL * 86400 * 1000000;
  int64_t step = rows > 0 ? span_us / rows : span_us;
  if (step < 1) step = 1;
  for (int64_t i = 0; i < rows && st == MS_OK; i++) {
    uint64_t r[8];
    for (int k = 0; k < 8; k++) r[k] = splitmix64(&state);
    int64_t ev = start_us + i * step + (int64_t)(r[1] % (uint64_t)step);
    st = ms_builder_append_i64(b[0], 1001 + (int64_t)(r[0] % (uint64_t)customers));
    if (!st) st = ms_builder_append_i64(b[1], ev);
    if (!st) st = ms_builder_append_i64(b[2], ev + (int64_t)(r[2] % 3600) * 1000000);
    if (!st) st = r[3] % 100 < 3 ? ms_builder_append_null(b[3])
                                 : ms_builder_append_f64(b[3], (double)((r[3] >> 8) % 10000000) / 100.0);
    if (!st) st = ms_builder_append_f64(b[4], 5.0 + (double)(r[4] % 50000) / 100.0);
    if (!st) st = r[5] % 100 < 5 ? ms_builder_append_null(b[5]) : ms_builder_append_i64(b[5], (int64_t)((r[5] >> 8) % 40));
    if (!st) st = ms_builder_append_i64(b[6], (int64_t)(r[6] % 2000));
    if (!st) {
      if (r[7] % 100 < 2) st = ms_builder_append_null(b[7]);
      else {
        const char *s = segments[(r[7] >> 8) % 4];
        st = ms_builder_append_bytes(b[7], s, (int64_t)strlen(s));
      }
    }
    if (st) st = ms_error_set(err, st, "cannot build the sample table (row %lld)", (long long)i);
  }
  for (int j = 0; j < N_COLS && st == MS_OK; j++) st = ms_builder_finish(b[j], &cols[j], err);
  if (st == MS_OK) st = cli_example_write(fields, cols, N_COLS, out, fmt, "sample", err);
  for (int j = 0; j < N_COLS; j++) {
    ms_column_release(cols[j]);
    ms_column_builder_destroy(b[j]);
  }
  return st;
}
