/* `morsel compact VIEW [--target-size-mb N] [--quiet]`: merges the small part files of a
 * feature view's source directory (ms_compact_view, include/morsel/write.h) in one commit
 * recorded in the registry, then collects files whose retention has passed. Prints the live
 * file counts before and after, the rows rewritten and the commit's generation, or says
 * that there was nothing to do. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repo_cli.h"
#include "morsel/write.h"

ms_status cli_cmd_compact(const cli_args *a, ms_error *err) {
  int64_t mb = 0;
  ms_status st = cli_opt_int(a, "target-size-mb", 1, INT64_C(1) << 20, &mb, err);
  bool quiet = cli_opt(a, "quiet") != NULL;
  cli_repo r = {0};
  if (st == MS_OK) st = cli_repo_open(a, true, &r, err);
  cli_progress prog;
  cli_progress_init(&prog, quiet);
  ms_compact_options o;
  ms_compact_options_init(&o);
  o.target_bytes = mb * (INT64_C(1) << 20);
  o.progress = cli_progress_update;
  o.progress_ctx = &prog;
  ms_compact_result res;
  memset(&res, 0, sizeof res);
  const char *view = a->pos[0];
  if (st == MS_OK) st = ms_compact_view(r.repo, r.reg, view, &o, &res, err);
  cli_progress_finish(&prog);
  if (st == MS_OK && !quiet) {
    if (res.single_file)
      printf("nothing to do: the source of %s is a single file\n", view);
    else if (res.generation == 0)
      printf("nothing to do: %lld live part file%s, none to merge (%lld file%s deleted by GC)\n",
             (long long)res.files_before, res.files_before == 1 ? "" : "s", (long long)res.files_deleted,
             res.files_deleted == 1 ? "" : "s");
    else
      printf("compacted %s: %lld -> %lld files (%lld merged into %lld), %lld rows, generation %lld (%lld file%s "
             "deleted by GC)\n",
             view, (long long)res.files_before, (long long)res.files_after, (long long)res.files_merged,
             (long long)res.files_written, (long long)res.rows, (long long)res.generation,
             (long long)res.files_deleted, res.files_deleted == 1 ? "" : "s");
    if (fflush(stdout) != 0) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
  }
  cli_repo_close(&r);
  return st;
}
