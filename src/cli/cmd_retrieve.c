/* Offline retrieval commands: `morsel get-historical-features`, `pull-latest`, `pull-all`
 * (of a view, a source, or with --logs a feature service's logs),
 * and `saved-datasets get` (the other saved-datasets actions are the registry listing of
 * cmd_registry.c).
 *
 * Every check that can fail without reading data happens first, before the repository is
 * even loaded: the output extension, the option combinations, the --start/--end times.
 * Then the job is planned (ms_get_historical_features / ms_pull: unknown references, name
 * collisions and missing entity columns fail here, before any output), then, depending on
 * the options, explained, run and written (atomically, by the job), explained with actual
 * numbers, and persisted as a saved dataset. The progress line (progress.c) is wiped before
 * anything is printed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repo_cli.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/dataset.h"
#include "morsel/offline.h"
#include "morsel/parquet.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --start / --end: ISO-8601 date or timestamp; naive means UTC. */
static ms_status time_opt(const cli_args *a, const char *name, bool *has, int64_t *ns,
                          ms_error *err) {
  const char *v = cli_opt(a, name);
  *has = v != NULL;
  if (!v) return MS_OK;
  if (!ms_parse_timestamp_ns(v, strlen(v), ns, NULL))
    return ms_error_set(err, MS_ERR_INVALID,
                        "--%s wants an ISO-8601 date or timestamp (2024-01-31, "
                        "2024-01-31T12:00:00, 2024-01-31T12:00:00+02:00; naive = UTC), got '%s'",
                        name, v);
  return MS_OK;
}

/* The output path's format, refused before any work when the extension is unknown. */
static ms_status output_format(const char *path, ms_error *err) {
  ms_file_format f = ms_format_from_path(path);
  if (f == MS_FORMAT_AUTO) {
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_INVALID,
                        "cannot tell the output format from the extension (use .parquet or .csv)");
  }
  return MS_OK;
}

/* A relative path made absolute against the current directory (the library resolves
 * relative saved-dataset paths against the repository, the shell user means here). */
static char *absolute_path(const char *path) {
  if (path[0] == '/') return ms_strdup(path);
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd)) return ms_strdup(path);
  return ms_asprintf("%s/%s", cwd, path);
}

static ms_status print_text(const char *text, ms_error *err) {
  cli_buf b = {0};
  cli_buf_puts(&b, text);
  if (b.len == 0 || b.data[b.len - 1] != '\n') cli_buf_putc(&b, '\n');
  bool ok = cli_write(stdout, &b);
  cli_buf_reset(&b);
  return ok ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
}

typedef struct run_opts {
  const char *output;
  bool explain, analyze, quiet;
  const char *save_name;
  char *storage; /* absolute, or NULL */
  bool allow_overwrite;
  const char *feature_service;
} run_opts;

static ms_status common_opts(const cli_args *a, run_opts *o, ms_error *err) {
  memset(o, 0, sizeof *o);
  o->output = cli_opt(a, "output");
  o->explain = cli_opt(a, "explain") != NULL;
  o->analyze = cli_opt(a, "explain-analyze") != NULL;
  o->quiet = cli_opt(a, "quiet") != NULL;
  o->save_name = cli_opt(a, "save-dataset");
  o->allow_overwrite = cli_opt(a, "allow-overwrite") != NULL;
  const char *storage = cli_opt(a, "storage");
  if (o->explain && o->analyze)
    return ms_error_set(err, MS_ERR_INVALID, "--explain and --explain-analyze exclude each other");
  if (o->explain && o->save_name)
    return ms_error_set(err, MS_ERR_INVALID,
                        "--explain writes nothing: drop --save-dataset, or use --explain-analyze");
  if (!o->save_name && (storage || o->allow_overwrite))
    return ms_error_set(err, MS_ERR_INVALID, "--%s goes with --save-dataset NAME",
                        storage ? "storage" : "allow-overwrite");
  if (!o->output && !o->explain && !o->save_name)
    return ms_error_set(err, MS_ERR_INVALID, "--output FILE is required (.parquet or .csv)");
  ms_status st = MS_OK;
  if (o->output && !o->explain) st = output_format(o->output, err);
  if (st == MS_OK && storage) {
    st = output_format(storage, err);
    if (st == MS_OK && !(o->storage = absolute_path(storage)))
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  int64_t threads = 0;
  if (st == MS_OK) st = cli_opt_int(a, "threads", 0, 4096, &threads, err);
  return st;
}

static ms_status report_written(const run_opts *o, ms_retrieval_job *job, double seconds,
                                ms_error *err) {
  if (o->quiet) return MS_OK;
  ms_table *t = NULL;
  ms_status st = ms_retrieval_job_to_table(job, &t, err);
  if (st) return st;
  cli_buf b = {0};
  cli_buf_printf(&b, "Wrote %lld rows, %d columns to %s in %.3f s\n",
                 (long long)ms_table_num_rows(t), ms_table_num_columns(t), o->output, seconds);
  ms_table_release(t);
  bool ok = cli_write(stdout, &b);
  cli_buf_reset(&b);
  return ok ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
}

/* Explain, run, write, explain-analyze, persist: whatever the options ask for. */
static ms_status run_job(cli_repo *r, ms_retrieval_job *job, const run_opts *o,
                         cli_progress *prog, ms_error *err) {
  ms_status st = MS_OK;
  char *plan = NULL;
  if (o->explain) {
    cli_progress_finish(prog); /* planning may have drawn (reading the entity input) */
    st = ms_retrieval_job_explain(job, false, &plan, err);
    if (st == MS_OK) st = print_text(plan, err);
    ms_free(plan);
    return st;
  }
  double t0 = now_s();
  if (o->output) {
    st = ms_retrieval_job_write(job, o->output, err);
    cli_progress_finish(prog);
    if (st == MS_OK && !o->analyze) st = report_written(o, job, now_s() - t0, err);
  }
  if (st == MS_OK && o->save_name) {
    if (!r->reg) st = ms_registry_open(r->cfg->registry_location, &r->reg, err);
    ms_saved_dataset_options so = {0};
    so.name = o->save_name;
    so.storage_path = o->storage;
    so.allow_overwrite = o->allow_overwrite;
    so.feature_service = o->feature_service;
    if (st == MS_OK) st = ms_retrieval_job_persist(job, r->repo, r->reg, &so, err);
    cli_progress_finish(prog);
    if (st == MS_OK && !o->quiet) {
      cli_buf b = {0};
      cli_buf_printf(&b, "Saved dataset %s registered in project %s%s\n", o->save_name,
                     r->cfg->project, o->allow_overwrite ? " (overwrite allowed)" : "");
      if (!cli_write(stdout, &b)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
      cli_buf_reset(&b);
    }
  }
  if (st == MS_OK && o->analyze) {
    st = ms_retrieval_job_explain(job, true, &plan, err);
    cli_progress_finish(prog);
    if (st == MS_OK) st = print_text(plan, err);
    ms_free(plan);
  }
  return st;
}

/* Plans the job of one command's prepared request (historical or pull) with the run's
 * thread count and progress line. */
typedef ms_status (*plan_fn)(ms_repo *repo, void *request, int threads, cli_progress *prog,
                             ms_retrieval_job **job, ms_error *err);

static ms_status plan_historical(ms_repo *repo, void *request, int threads, cli_progress *prog,
                                 ms_retrieval_job **job, ms_error *err) {
  ms_historical_request *req = request;
  req->threads = threads;
  req->progress = cli_progress_update;
  req->progress_ctx = prog;
  return ms_get_historical_features(repo, req, job, err);
}

static ms_status plan_pull(ms_repo *repo, void *request, int threads, cli_progress *prog,
                           ms_retrieval_job **job, ms_error *err) {
  ms_pull_request *req = request;
  req->threads = threads;
  req->progress = cli_progress_update;
  req->progress_ctx = prog;
  return ms_pull(repo, req, job, err);
}

/* What every retrieval command does once its own options are checked (st carries the
 * result of those checks): open the repository, plan, run, clean up. */
static ms_status plan_and_run(const cli_args *a, const run_opts *o, ms_status st, plan_fn plan,
                              void *request, ms_error *err) {
  int64_t threads = 0;
  if (st == MS_OK) st = cli_opt_int(a, "threads", 0, 4096, &threads, err);
  cli_repo r;
  memset(&r, 0, sizeof r);
  if (st == MS_OK) st = cli_repo_open(a, false, &r, err);
  cli_progress prog;
  cli_progress_init(&prog, o->quiet);
  ms_retrieval_job *job = NULL;
  if (st == MS_OK) st = plan(r.repo, request, (int)threads, &prog, &job, err);
  if (st == MS_OK) st = run_job(&r, job, o, &prog, err);
  cli_progress_finish(&prog);
  ms_retrieval_job_free(job);
  if (r.repo) cli_repo_close(&r);
  return st;
}

ms_status cli_cmd_get_historical_features(const cli_args *a, ms_error *err) {
  run_opts o;
  ms_status st = common_opts(a, &o, err);
  const char *entity = cli_opt(a, "entity-df");
  const char *features = cli_opt(a, "features");
  o.feature_service = cli_opt(a, "feature-service");
  ms_historical_request req;
  ms_historical_request_init(&req);
  if (st == MS_OK && !features == !o.feature_service)
    st = ms_error_set(err, MS_ERR_INVALID, "give exactly one of --features v:f1,v:f2 and --feature-service NAME");
  if (st == MS_OK) st = time_opt(a, "start", &req.has_start, &req.start_ns, err);
  if (st == MS_OK) st = time_opt(a, "end", &req.has_end, &req.end_ns, err);
  if (st == MS_OK && entity && (req.has_start || req.has_end))
    st = ms_error_set(err, MS_ERR_INVALID, "--entity-df and --start/--end exclude each other");
  if (st == MS_OK && !entity && !(req.has_start && req.has_end))
    st = ms_error_set(err, MS_ERR_INVALID, "give --entity-df FILE, or both --start T and --end T");
  if (st == MS_OK && req.has_start && req.has_end && req.start_ns > req.end_ns)
    st = ms_error_set(err, MS_ERR_INVALID, "--start is after --end");
  char **refs = NULL;
  int n_refs = 0;
  if (st == MS_OK && features) st = cli_split_list(features, &refs, &n_refs, err);
  req.feature_refs = (const char *const *)refs;
  req.n_feature_refs = n_refs;
  req.feature_service = o.feature_service;
  req.entity_path = entity;
  req.full_feature_names = cli_opt(a, "full-feature-names") != NULL;
  req.filter_by_created_timestamp = cli_opt(a, "filter-by-created-timestamp") != NULL;
  const char *aggs = cli_opt(a, "aggregations");
  if (st == MS_OK && aggs) {
    if (strcmp(aggs, "auto") == 0) req.aggregation_mode = MS_AGGREGATIONS_AUTO;
    else if (strcmp(aggs, "stored") == 0) req.aggregation_mode = MS_AGGREGATIONS_STORED;
    else if (strcmp(aggs, "as-of") == 0 || strcmp(aggs, "asof") == 0) req.aggregation_mode = MS_AGGREGATIONS_AS_OF;
    else st = ms_error_set(err, MS_ERR_INVALID, "--aggregations wants auto, stored or as-of, got '%s'", aggs);
  }
  st = plan_and_run(a, &o, st, plan_historical, &req, err);
  cli_free_list(refs, n_refs);
  ms_free(o.storage);
  return st;
}

static ms_status pull_cmd(const cli_args *a, ms_pull_mode mode, ms_error *err) {
  run_opts o;
  ms_status st = common_opts(a, &o, err);
  ms_pull_request req;
  ms_pull_request_init(&req);
  req.mode = mode;
  req.feature_view = cli_opt(a, "feature-view");
  req.source = cli_opt(a, "source");
  req.feature_service_logs = cli_opt(a, "logs");
  if (st == MS_OK && req.feature_service_logs && mode != MS_PULL_ALL)
    st = ms_error_set(err, MS_ERR_INVALID, "--logs SERVICE goes with pull-all");
  if (st == MS_OK && !!req.feature_view + !!req.source + !!req.feature_service_logs != 1)
    st = ms_error_set(err, MS_ERR_INVALID,
                      "give exactly one of --feature-view NAME, --source NAME and --logs SERVICE");
  if (st == MS_OK) st = time_opt(a, "start", &req.has_start, &req.start_ns, err);
  if (st == MS_OK) st = time_opt(a, "end", &req.has_end, &req.end_ns, err);
  if (st == MS_OK && req.has_start && req.has_end && req.start_ns > req.end_ns)
    st = ms_error_set(err, MS_ERR_INVALID, "--start is after --end");
  const char *features = cli_opt(a, "features");
  bool no_features = cli_opt(a, "no-features") != NULL;
  if (st == MS_OK && features && no_features)
    st = ms_error_set(err, MS_ERR_INVALID, "--features and --no-features exclude each other");
  char **names = NULL;
  int n_names = 0;
  if (st == MS_OK && features) st = cli_split_list(features, &names, &n_names, err);
  if (st == MS_OK && features && n_names == 0)
    st = ms_error_set(err, MS_ERR_INVALID, "--features wants a comma-separated list of feature names (or use --no-features)");
  req.select_features = features || no_features;
  req.features = (const char *const *)names;
  req.n_features = n_names;
  st = plan_and_run(a, &o, st, plan_pull, &req, err);
  cli_free_list(names, n_names);
  ms_free(o.storage);
  return st;
}

ms_status cli_cmd_pull_latest(const cli_args *a, ms_error *err) {
  return pull_cmd(a, MS_PULL_LATEST, err);
}

ms_status cli_cmd_pull_all(const cli_args *a, ms_error *err) { return pull_cmd(a, MS_PULL_ALL, err); }

/* `saved-datasets get NAME --output FILE`: the registered file read back and written. */
ms_status cli_saved_dataset_get(const cli_args *a, cli_repo *r, const char *name, ms_error *err) {
  const char *out = cli_opt(a, "output");
  ms_table *t = NULL;
  ms_status st = ms_saved_dataset_read(r->repo, r->reg, name, &t, err);
  if (st == MS_OK && ms_format_from_path(out) == MS_FORMAT_PARQUET) {
    ms_pq_write_options wo;
    ms_pq_write_options_init(&wo);
    st = ms_pq_write_table(NULL, out, t, &wo, err);
  } else if (st == MS_OK) {
    ms_csv_write_options co;
    ms_csv_write_options_init(&co);
    const char *dot = strrchr(out, '.');
    if (dot && strcmp(dot, ".tsv") == 0) co.delimiter = '\t';
    st = ms_csv_write(NULL, out, t, &co, err);
  }
  if (st == MS_OK && !cli_opt(a, "quiet")) {
    cli_buf b = {0};
    cli_buf_printf(&b, "Wrote %lld rows, %d columns of saved dataset %s to %s\n",
                   (long long)ms_table_num_rows(t), ms_table_num_columns(t), name, out);
    if (!cli_write(stdout, &b)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
    cli_buf_reset(&b);
  }
  ms_table_release(t);
  return st;
}

/* Checks of `saved-datasets get` made before the repository is opened. */
ms_status cli_saved_dataset_get_check(const cli_args *a, ms_error *err) {
  const char *out = cli_opt(a, "output");
  if (!out) return ms_error_set(err, MS_ERR_INVALID, "get needs --output FILE (.parquet or .csv)");
  return output_format(out, err);
}
