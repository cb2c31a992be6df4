/* `morsel write-logs --feature-service NAME --input FILE [--quiet]`: appends logged
 * features to the service's logging destination (ms_write_logs_file, include/morsel/write.h;
 * docs/writing.md, "Feature logging").
 *
 * The input (Parquet, or CSV read with the log schema's types) is checked whole before
 * anything is written: a refusal names the missing, extra and mistyped columns, or the row
 * and column of a bad value, and leaves the destination untouched. On success it prints
 * `wrote R rows to <destination> (F files, generation G)` (R counts the rows kept by
 * sample_rate), unless --quiet. The progress line (progress.c) is wiped first. */
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repo_cli.h"
#include "morsel/alloc.h"
#include "morsel/write.h"

ms_status cli_cmd_write_logs(const cli_args *a, ms_error *err) {
  const char *service = cli_opt(a, "feature-service");
  const char *input = cli_opt(a, "input");
  bool quiet = cli_opt(a, "quiet") != NULL;
  if (!service) return ms_error_set(err, MS_ERR_INVALID, "--feature-service NAME is required");
  if (!input) return ms_error_set(err, MS_ERR_INVALID, "--input FILE is required (.parquet or .csv)");
  if (ms_format_from_path(input) == MS_FORMAT_AUTO) {
    ms_error_set_file(err, input);
    return ms_error_set(err, MS_ERR_INVALID,
                        "cannot tell the input format from the extension (use .parquet or .csv)");
  }
  int64_t threads = 0;
  ms_status st = cli_opt_int(a, "threads", 0, 4096, &threads, err);
  cli_repo r;
  memset(&r, 0, sizeof r);
  if (st == MS_OK) st = cli_repo_open(a, true, &r, err);
  cli_progress prog;
  cli_progress_init(&prog, quiet);
  ms_write_options o;
  memset(&o, 0, sizeof o);
  o.progress = cli_progress_update;
  o.progress_ctx = &prog;
  o.input_name = input;
  o.threads = (int)threads;
  ms_write_result res;
  memset(&res, 0, sizeof res);
  if (st == MS_OK) st = ms_write_logs_file(r.repo, r.reg, service, input, &o, &res, err);
  cli_progress_finish(&prog);
  /* The writers' row errors already say "<input>: row R, column 'c': ..." in the message;
   * printed with the context fields too it would say it twice. */
  if (st != MS_OK && err && err->row >= 0 && strstr(err->message, ": row ")) {
    err->file[0] = '\0';
    err->column[0] = '\0';
    err->row = -1;
  }
  if (st == MS_OK && !quiet) {
    cli_buf b = {0};
    /* the same line as write-batch's */
    cli_buf_printf(&b, "wrote %lld rows to %s (%lld files, generation %lld)\n",
                   (long long)res.rows_written, res.target ? res.target : "?",
                   (long long)res.files_written, (long long)res.generation);
    if (!cli_write(stdout, &b)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
    cli_buf_reset(&b);
  }
  ms_free(res.target);
  if (r.repo) cli_repo_close(&r);
  return st;
}
