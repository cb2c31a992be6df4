/* `morsel convert IN OUT [...]`: reads any dataset path and writes one Parquet or CSV
 * file, the format chosen by OUT's extension. Parquet output streams through an
 * ms_pq_writer a piece at a time (a file, or about a million rows of row groups); CSV output goes through
 * ms_csv_write with the whole table. Both writers publish atomically at the end, and a
 * failure aborts the writer, so OUT is never left half-written. */
#include <string.h>

#include "cli/cli.h"
#include "dataset/dataset_int.h"
#include "morsel/compression.h"
#include "morsel/parquet.h"

/* Rows per piece read from the input while writing Parquet: bounds memory to about one
 * piece plus the writer's current row group. */
#define PIECE_ROWS (1 << 20)

static ms_status write_piece(void *ctx, const ms_table *t, bool *stop, ms_error *err) {
  return ms_pq_writer_write(ctx, t, err);
}

static ms_status delimiter_opt(const cli_args *a, char *out, bool *given, ms_error *err) {
  const char *d = cli_opt(a, "delimiter");
  *given = d != NULL;
  if (!d) return MS_OK;
  if (strcmp(d, "\\t") == 0 || strcmp(d, "tab") == 0) { *out = '\t'; return MS_OK; }
  if (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
    return ms_error_set(err, MS_ERR_INVALID, "--delimiter wants one character (or \\t), got '%s'", d);
  *out = d[0];
  return MS_OK;
}

ms_status cli_cmd_convert(const cli_args *a, ms_error *err) {
  const char *in = a->pos[0], *out = a->pos[1];
  ms_file_format out_fmt = ms_format_from_path(out);
  if (out_fmt == MS_FORMAT_AUTO) {
    ms_error_set_file(err, out);
    return ms_error_set(err, MS_ERR_INVALID,
                        "cannot tell the output format from the extension (use .parquet or .csv)");
  }
  ms_pq_write_options wo;
  ms_pq_write_options_init(&wo);
  ms_status st = MS_OK;
  const char *codec = cli_opt(a, "compression");
  if (codec && !ms_codec_parse(codec, &wo.compression))
    return ms_error_set(err, MS_ERR_INVALID, "--compression: unknown codec '%s'", codec);
  if (codec && (wo.compression == MS_CODEC_LZO || wo.compression == MS_CODEC_LZ4))
    return ms_error_set(err, MS_ERR_UNSUPPORTED, "--compression: morsel does not write %s", codec);
  int64_t rg = wo.row_group_rows, pv = 1;
  if ((st = cli_opt_int(a, "row-group-size", 1, INT32_MAX, &rg, err))) return st;
  if ((st = cli_opt_int(a, "page-version", 1, 2, &pv, err))) return st;
  wo.row_group_rows = rg;
  wo.data_page_version = (int)pv;
  if (cli_opt(a, "no-dictionary")) wo.dictionary = false;
  char delim = ',';
  bool delim_given = false;
  if ((st = delimiter_opt(a, &delim, &delim_given, err))) return st;

  ms_csv_read_options csv_in;
  ms_csv_read_options_init(&csv_in);
  if (delim_given) csv_in.delimiter = delim;
  ms_dataset_options dopts;
  ms_dataset_options_init(&dopts);
  if (delim_given) dopts.csv = &csv_in;

  ms_pool *pool = NULL;
  ms_dataset *ds = NULL;
  st = cli_make_pool(a, &pool, err);
  csv_in.pool = pool;
  wo.pool = pool;
  if (st == MS_OK) st = ms_dataset_open(NULL, in, &dopts, &ds, err);
  ms_dataset_read_options ro = {0};
  ro.pool = pool;
  if (st == MS_OK && out_fmt == MS_FORMAT_PARQUET) {
    int n = ms_dataset_num_fields(ds);
    ms_field fields[n > 0 ? n : 1];
    for (int i = 0; i < n; i++) fields[i] = *ms_dataset_field(ds, i);
    ms_pq_writer *w = NULL;
    st = ms_pq_writer_open(NULL, out, fields, n, &wo, &w, err);
    if (st == MS_OK) st = cli_stream_dataset(ds, &ro, PIECE_ROWS, write_piece, w, err);
    if (st == MS_OK) st = ms_pq_writer_close(w, err);
    else ms_pq_writer_abort(w);
  } else if (st == MS_OK) {
    ms_table *t = NULL;
    st = ms_dataset_read(ds, &ro, &t, NULL, err);
    ms_csv_write_options co;
    ms_csv_write_options_init(&co);
    const char *dot = strrchr(out, '.');
    if (delim_given) co.delimiter = delim;
    else if (dot && strcmp(dot, ".tsv") == 0) co.delimiter = '\t';
    if (st == MS_OK) st = ms_csv_write(NULL, out, t, &co, err);
    ms_table_release(t);
  }
  ms_dataset_close(ds);
  ms_pool_destroy(pool);
  return st;
}
