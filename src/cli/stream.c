/* Streaming a dataset in pieces for commands that should not hold it all in memory (cat,
 * convert to Parquet). Files are visited in the dataset's row order; a Parquet file is
 * read in runs of consecutive row groups holding at least target_rows rows (one row group
 * when it is larger), a CSV file whole. Each piece has the dataset's unified schema. */
#include "cli/cli.h"
#include "dataset/dataset_int.h"
#include "morsel/alloc.h"

ms_status cli_stream_dataset(ms_dataset *ds, const ms_dataset_read_options *ro, int64_t target_rows,
                             cli_piece_fn fn, void *ctx, ms_error *err) {
  ms_status st = MS_OK;
  bool stop = false;
  for (int64_t i = 0; st == MS_OK && !stop && i < ms_dataset_num_files(ds); i++) {
    int64_t *rows = NULL;
    int n_groups = 0;
    st = ms__dataset_file_row_groups(ds, i, &rows, &n_groups, err);
    if (st) break;
    if (n_groups <= 1) {
      ms_table *t = NULL;
      st = ms__dataset_read_file(ds, i, ro, NULL, 0, &t, NULL, err);
      if (st == MS_OK && t) st = fn(ctx, t, &stop, err);
      ms_table_release(t);
    } else {
      int *groups = ms_malloc(sizeof *groups * (size_t)n_groups);
      if (!groups) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      for (int g = 0; st == MS_OK && !stop && g < n_groups;) {
        int n = 0;
        int64_t acc = 0;
        while (g < n_groups && (n == 0 || acc < target_rows)) {
          acc += rows[g];
          groups[n++] = g++;
        }
        ms_table *t = NULL;
        st = ms__dataset_read_file(ds, i, ro, groups, n, &t, NULL, err);
        if (st == MS_OK && t) st = fn(ctx, t, &stop, err);
        ms_table_release(t);
      }
      ms_free(groups);
    }
    ms_free(rows);
  }
  return st;
}
