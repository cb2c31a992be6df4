/* `morsel compute VIEW` and `morsel cutoffs VIEW`: an aggregation view's snapshots at a
 * cutoff schedule (include/morsel/compute.h, docs/compute.md).
 *
 * compute takes one or more views (views over the same source share one read of it) and
 * prints, unless --quiet, for each view one line per cutoff (the cutoff, the rows written and the
 * mean of every numeric feature, read back from the file just written, so a label view
 * shows its label rate), then totals and the time of each stage (read, compute, write).
 * The progress line (progress.c) is wiped before anything is printed. cutoffs prints only
 * the resolved cutoffs, one per line, `YYYY-MM-DD HH:MM:SS[.fffffffff]`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/repo_cli.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/compute.h"
#include "morsel/parquet.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "2011-03-01 08:26:00" (".5" etc. only when the fraction is not zero). */
static void format_cutoff(int64_t ns, char *buf, size_t size) {
  char iso[MS_TIMESTAMP_BUF_SIZE];
  ms_format_timestamp(ns, MS_UNIT_NANO, false, iso); /* YYYY-MM-DDThh:mm:ss.fffffffff */
  char *t = strchr(iso, 'T');
  if (t) *t = ' ';
  char *dot = strchr(iso, '.');
  if (dot) {
    char *e = dot + strlen(dot);
    while (e > dot + 1 && e[-1] == '0') e--;
    if (e == dot + 1) e = dot;
    *e = '\0';
  }
  snprintf(buf, size, "%s", iso);
}

static ms_status spec_opts(const cli_args *a, ms_cutoff_spec *s, ms_error *err) {
  memset(s, 0, sizeof *s);
  s->start = cli_opt(a, "start");
  s->end = cli_opt(a, "end");
  const char *every = cli_opt(a, "every");
  if (every && (!ms_parse_duration(every, &s->every_seconds) || s->every_seconds <= 0))
    return ms_error_set(err, MS_ERR_INVALID, "--every wants a duration > 0 such as 30d or 12h, got '%s'", every);
  return MS_OK;
}

ms_status cli_cmd_cutoffs(const cli_args *a, ms_error *err) {
  ms_cutoff_spec spec;
  ms_status st = spec_opts(a, &spec, err);
  cli_repo r = {0};
  if (st == MS_OK) st = cli_repo_open(a, false, &r, err);
  int64_t *ns = NULL;
  int n = 0;
  if (st == MS_OK) st = ms_compute_cutoffs(r.repo, a->pos[0], &spec, &ns, &n, err);
  cli_buf b = {0};
  for (int i = 0; st == MS_OK && i < n; i++) {
    char line[64];
    format_cutoff(ns[i], line, sizeof line);
    cli_buf_printf(&b, "%s\n", line);
  }
  if (st == MS_OK && !cli_write(stdout, &b)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
  cli_buf_reset(&b);
  ms_free(ns);
  cli_repo_close(&r);
  return st;
}

/* Means of the numeric feature columns of a snapshot file (NaN when none are valid). */
typedef struct col_means {
  int n;
  char **names;
  double *mean;
} col_means;

static void means_reset(col_means *m) {
  for (int i = 0; i < m->n; i++) ms_free(m->names[i]);
  ms_free(m->names);
  ms_free(m->mean);
  memset(m, 0, sizeof *m);
}

static bool is_numeric(const ms_datatype *t) {
  return ms_type_is_integer(t) || ms_type_is_float(t) || t->id == MS_TYPE_BOOL;
}

static ms_status file_means(const char *path, int n_keys, col_means *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  ms_table *t = NULL;
  ms_pq_file *f = NULL;
  ms_status st = ms_pq_open(ms_fs_local(), path, &f, err);
  if (st == MS_OK) {
    ms_pq_read_options ro = {0};
    st = ms_pq_read(f, &ro, &t, NULL, err);
  }
  ms_pq_close(f);
  if (st) return st;
  int nc = ms_table_num_columns(t);
  out->names = ms_calloc((size_t)(nc ? nc : 1), sizeof *out->names);
  out->mean = ms_calloc((size_t)(nc ? nc : 1), sizeof *out->mean);
  if (!out->names || !out->mean) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int c = n_keys; st == MS_OK && c < nc - 1; c++) {
    const ms_column *col = ms_table_column(t, c);
    const ms_datatype *ty = ms_column_type(col);
    if (!is_numeric(ty)) continue;
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < ms_column_length(col); i++) {
      if (ms_column_is_null(col, i)) continue;
      s += ty->id == MS_TYPE_BOOL ? (double)ms_column_get_bool(col, i)
           : ms_type_is_float(ty) ? ms_column_get_f64(col, i)
                                  : (double)ms_column_get_i64(col, i);
      k++;
    }
    out->names[out->n] = ms_strdup(ms_table_field(t, c)->name);
    out->mean[out->n] = k ? s / (double)k : NAN;
    out->n++;
  }
  ms_table_release(t);
  return st;
}

static int n_join_keys(const ms_repo *repo, const char *view) {
  const ms_feature_view_def *fv = ms_repo_find_feature_view(repo, view);
  int n = 0;
  for (int e = 0; fv && e < fv->n_entities; e++)
    for (int i = 0; i < ms_repo_num_entities(repo); i++)
      if (strcmp(ms_repo_entity(repo, i)->name, fv->entities[e]) == 0) n += ms_repo_entity(repo, i)->n_join_keys;
  return n;
}

/* The summary of one view's run. */
static ms_status print_view(cli_buf *b, const cli_repo *r, const char *view, const ms_compute_result *res,
                            ms_error *err) {
  int nk = n_join_keys(r->repo, view);
  int64_t total = 0;
  char *dir = ms_compute_snapshot_dir(r->repo, view);
  cli_buf_printf(b, "%s: %d cutoff%s, %lld source rows, %lld kept; snapshots in %s (generation %lld)\n", view,
                 res->n_cutoffs, res->n_cutoffs == 1 ? "" : "s", (long long)res->source_rows,
                 (long long)res->rows_kept, dir ? dir : "?", (long long)res->generation);
  ms_free(dir);
  ms_status st = MS_OK;
  for (int i = 0; st == MS_OK && i < res->n_cutoffs; i++) {
    col_means m;
    st = file_means(res->paths[i], nk, &m, err);
    if (st) break;
    if (i == 0) {
      cli_buf_printf(b, "%-20s %9s", "cutoff", "rows");
      for (int c = 0; c < m.n; c++)
        cli_buf_printf(b, "  %*s", (int)(strlen(m.names[c]) < 10 ? 10 : strlen(m.names[c])), m.names[c]);
      cli_buf_printf(b, "   (means)\n");
    }
    char cut[64];
    format_cutoff(res->cutoff_ns[i], cut, sizeof cut);
    cli_buf_printf(b, "%-20s %9lld", cut, (long long)res->rows[i]);
    for (int c = 0; c < m.n; c++) {
      int w = (int)(strlen(m.names[c]) < 10 ? 10 : strlen(m.names[c]));
      if (m.mean[c] != m.mean[c]) cli_buf_printf(b, "  %*s", w, "null");
      else cli_buf_printf(b, "  %*.4f", w, m.mean[c]);
    }
    cli_buf_putc(b, '\n');
    total += res->rows[i];
    means_reset(&m);
  }
  if (st == MS_OK) {
    cli_buf_printf(b, "%-20s %9lld\n", "total", (long long)total);
    cli_buf_printf(b, "time: read %.3f s, compute %.3f s, write %.3f s\n", res->ms_read / 1e3, res->ms_compute / 1e3,
                   res->ms_write / 1e3);
  }
  return st;
}

ms_status cli_cmd_compute(const cli_args *a, ms_error *err) {
  ms_cutoff_spec spec;
  ms_status st = spec_opts(a, &spec, err);
  int64_t threads = 0;
  if (st == MS_OK) st = cli_opt_int(a, "threads", 0, 4096, &threads, err);
  bool quiet = cli_opt(a, "quiet") != NULL;
  cli_repo r = {0};
  /* the registry records each view's snapshot commit (dataset "aggregations:<view>") */
  if (st == MS_OK) st = cli_repo_open(a, true, &r, err);
  cli_progress prog;
  cli_progress_init(&prog, quiet);
  ms_compute_options o = {(int)threads, cli_progress_update, &prog, r.reg};
  int nv = a->n_pos;
  ms_compute_result res[CLI_MAX_POS];
  memset(res, 0, sizeof res);
  double t0 = now_s();
  if (st == MS_OK) st = ms_compute_views(r.repo, a->pos, nv, &spec, &o, res, err);
  double secs = now_s() - t0;
  cli_progress_finish(&prog);
  if (st == MS_OK && !quiet) {
    cli_buf b = {0};
    for (int v = 0; st == MS_OK && v < nv; v++) {
      if (v) cli_buf_putc(&b, '\n');
      st = print_view(&b, &r, a->pos[v], &res[v], err);
    }
    if (st == MS_OK) {
      if (nv > 1) cli_buf_printf(&b, "\n%d views (a source read once for the views over it); ", nv);
      cli_buf_printf(&b, "total %.3f s\n", secs);
      if (!cli_write(stdout, &b)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
    }
    cli_buf_reset(&b);
  }
  for (int v = 0; v < nv; v++) ms_compute_result_reset(&res[v]);
  cli_repo_close(&r);
  return st;
}
