/* `morsel scan PATH [--columns a,b] [--threads N]`: the benchmark primitive. Decodes the
 * whole dataset into memory with ms_dataset_read and prints one line:
 *
 *   rows=<n> bytes=<in-memory bytes of the decoded buffers> seconds=<wall clock of the
 *   read> peak_bytes=<ms_mem_peak during the read> threads=<pool size>
 *
 * Opening the dataset (listing files, reading footers) happens before the clock starts. */
#include <time.h>

#include "cli/cli.h"
#include "columnar/column.h"
#include "morsel/alloc.h"

static int64_t column_bytes(const ms_column *c) {
  int64_t n = 0;
  if (c->validity) n += c->validity->size;
  if (c->values) n += c->values->size;
  if (c->data) n += c->data->size;
  return n;
}

ms_status cli_cmd_scan(const cli_args *a, ms_error *err) {
  char **cols = NULL;
  int n_cols = 0;
  ms_status st = MS_OK;
  if (cli_opt(a, "columns") && (st = cli_split_list(cli_opt(a, "columns"), &cols, &n_cols, err))) return st;
  ms_pool *pool = NULL;
  ms_dataset *ds = NULL;
  st = cli_make_pool(a, &pool, err);
  if (st == MS_OK) st = ms_dataset_open(NULL, a->pos[0], NULL, &ds, err);
  if (st == MS_OK) {
    ms_dataset_read_options ro = {0};
    ro.columns = (const char *const *)cols;
    ro.n_columns = n_cols;
    ro.pool = pool;
    ms_table *t = NULL;
    struct timespec t0, t1;
    ms_mem_reset_peak();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = ms_dataset_read(ds, &ro, &t, NULL, err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t peak = ms_mem_peak();
    if (st == MS_OK) {
      int64_t bytes = 0;
      for (int i = 0; i < ms_table_num_columns(t); i++) bytes += column_bytes(ms_table_column(t, i));
      double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
      printf("rows=%lld bytes=%lld seconds=%.3f peak_bytes=%lld threads=%d\n", (long long)ms_table_num_rows(t),
             (long long)bytes, secs, (long long)peak, ms_pool_size(pool));
    }
    ms_table_release(t);
  }
  ms_dataset_close(ds);
  ms_pool_destroy(pool);
  cli_free_list(cols, n_cols);
  return st;
}
