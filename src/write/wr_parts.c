/* Writing a table into a managed dataset as new token part files (src/write/write_int.h).
 *
 * Rows are grouped by the values of the partition columns into hive folders
 * (`col=value/` per column, in the order given): integers in decimal, dates as YYYY-MM-DD,
 * timestamps as ISO-8601 (as the CSV writer writes them), bools as true/false, strings as
 * they are, nulls as __HIVE_DEFAULT_PARTITION__ (what the dataset reader reads back as
 * null). A string value the dataset reader could not read back as the same folder (empty,
 * containing '/', or equal to the null folder name) is refused with its row and column.
 * Groups are written in sorted folder order; inside a group rows keep their input order,
 * and a group of more than max_file_rows rows is cut into several files in that order. Partition columns are not stored inside the files.
 *
 * Each file gets a fresh token path from ms_store_new_path (so it sorts after every file
 * written before it) and is written through the atomic writer (temporary hidden name, fsync,
 * rename): Parquet with zstd and statistics, CSV with a header. Nothing is committed here;
 * the caller commits the returned list (crash tests: MORSEL_CRASH_POINT=mid-data kills the
 * process after the first file of several is renamed). When any file fails, the files this call already
 * renamed into place are removed again (they would be orphans for ms_store_gc otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"
#include "store/store_int.h"
#include "write/write_int.h"

#define HIVE_NULL "__HIVE_DEFAULT_PARTITION__"

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

void wr_files_free(ms_store_file *files, int n) {
  if (!files) return;
  for (int i = 0; i < n; i++) ms_free(files[i].path);
  ms_free(files);
}

/* The folder text of one partition value into buf; false (with *why) when a string value
 * cannot round-trip through a folder name. */
static bool part_value(const ms_column *c, int64_t row, char *buf, size_t size, const char **why) {
  if (ms_column_is_null(c, row)) {
    snprintf(buf, size, "%s", HIVE_NULL);
    return true;
  }
  const ms_datatype *t = ms_column_type(c);
  if (t->id == MS_TYPE_DATE32) {
    char d[MS_DATE_BUF_SIZE];
    ms_format_date32((int32_t)ms_column_get_i64(c, row), d);
    snprintf(buf, size, "%s", d);
  } else if (t->id == MS_TYPE_TIMESTAMP) {
    char d[MS_TIMESTAMP_BUF_SIZE];
    ms_format_timestamp(ms_column_get_i64(c, row), t->unit, t->tz[0] != 0, d);
    snprintf(buf, size, "%s", d);
  } else if (t->id == MS_TYPE_BOOL) {
    snprintf(buf, size, "%s", ms_column_get_bool(c, row) ? "true" : "false");
  } else if (t->id == MS_TYPE_UINT64) {
    snprintf(buf, size, "%llu", (unsigned long long)ms_column_get_u64(c, row));
  } else if (ms_type_is_integer(t)) {
    snprintf(buf, size, "%lld", (long long)ms_column_get_i64(c, row));
  } else if (ms_type_is_float(t)) {
    snprintf(buf, size, "%.17g", ms_column_get_f64(c, row));
  } else if (ms_type_is_string(t)) {
    int64_t len = 0;
    const uint8_t *p = ms_column_get_bytes(c, row, &len);
    if (len == 0) *why = "an empty string cannot name a partition folder";
    else if (memchr(p, '/', (size_t)len)) *why = "a partition value cannot contain '/'";
    else if ((size_t)len >= size) *why = "a partition value longer than 200 bytes";
    else if ((size_t)len == strlen(HIVE_NULL) && !memcmp(p, HIVE_NULL, (size_t)len)) *why = "the value " HIVE_NULL " means null";
    if (*why) return false;
    memcpy(buf, p, (size_t)len);
    buf[len] = '\0';
  } else {
    *why = "this type cannot be a partition column";
    return false;
  }
  return true;
}

/* ---- grouping rows by their folder ---- */

typedef struct group {
  char *dir;       /* "a=1/b=x" */
  int64_t *rows;
  int64_t n, cap;
} group;

typedef struct grouping {
  group *g;
  int n, cap;
  int *slots;      /* open addressing: group index + 1, 0 = empty */
  int n_slots;
} grouping;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return h;
}

static void grouping_free(grouping *gr) {
  for (int i = 0; i < gr->n; i++) {
    ms_free(gr->g[i].dir);
    ms_free(gr->g[i].rows);
  }
  ms_free(gr->g);
  ms_free(gr->slots);
}

static bool grouping_rehash(grouping *gr, int n_slots) {
  int *s = ms_calloc((size_t)n_slots, sizeof(int));
  if (!s) return false;
  for (int i = 0; i < gr->n; i++) {
    uint64_t h = hash_str(gr->g[i].dir) & (uint64_t)(n_slots - 1);
    while (s[h]) h = (h + 1) & (uint64_t)(n_slots - 1);
    s[h] = i + 1;
  }
  ms_free(gr->slots);
  gr->slots = s;
  gr->n_slots = n_slots;
  return true;
}

static bool grouping_add(grouping *gr, const char *dir, int64_t row) {
  if (gr->n * 2 >= gr->n_slots && !grouping_rehash(gr, gr->n_slots ? gr->n_slots * 2 : 64)) return false;
  uint64_t mask = (uint64_t)(gr->n_slots - 1), h = hash_str(dir) & mask;
  while (gr->slots[h] && strcmp(gr->g[gr->slots[h] - 1].dir, dir)) h = (h + 1) & mask;
  if (!gr->slots[h]) {
    if (gr->n == gr->cap) {
      int cap = gr->cap ? gr->cap * 2 : 16;
      group *ng = ms_realloc(gr->g, (size_t)cap * sizeof *ng);
      if (!ng) return false;
      gr->g = ng;
      gr->cap = cap;
    }
    group *g = &gr->g[gr->n];
    memset(g, 0, sizeof *g);
    if (!(g->dir = ms_strdup(dir))) return false;
    gr->slots[h] = ++gr->n;
  }
  group *g = &gr->g[gr->slots[h] - 1];
  if (g->n == g->cap) {
    int64_t cap = g->cap ? g->cap * 2 : 64;
    int64_t *nr = ms_realloc(g->rows, (size_t)cap * sizeof *nr);
    if (!nr) return false;
    g->rows = nr;
    g->cap = cap;
  }
  g->rows[g->n++] = row;
  return true;
}

static int cmp_group(const void *a, const void *b) {
  return strcmp(((const group *)a)->dir, ((const group *)b)->dir);
}

/* ---- writing ---- */

typedef struct written {
  ms_store_file *files;
  int n, cap;
} written;

static void remove_written(ms_store *s, written *w) {
  for (int i = 0; i < w->n; i++) {
    char *full = ms_asprintf("%s/%s", ms_store_root(s), w->files[i].path);
    if (full) (void)ms_fs_remove(NULL, full, NULL);
    ms_free(full);
  }
}

static ms_status write_one(ms_store *s, const ms_table *t, const char *subdir, ms_file_format format,
                           ms_pool *pool, written *w, ms_error *err) {
  if (w->n == w->cap) {
    int cap = w->cap ? w->cap * 2 : 8;
    ms_store_file *nf = ms_realloc(w->files, (size_t)cap * sizeof *nf);
    if (!nf) return oom(err);
    w->files = nf;
    w->cap = cap;
  }
  char *rel = NULL;
  ms_status st = ms_store_new_path(s, subdir, NULL, format == MS_FORMAT_CSV ? "csv" : "parquet", &rel, err);
  if (st != MS_OK) return st;
  char *full = ms_asprintf("%s/%s", ms_store_root(s), rel);
  if (!full) {
    ms_free(rel);
    return oom(err);
  }
  /* The folder may be new (ms_store_new_path creates it too; this is cheap when present). */
  char *slash = strrchr(full, '/');
  *slash = '\0';
  st = ms_fs_mkdirs(NULL, full, err);
  *slash = '/';
  if (st == MS_OK && format == MS_FORMAT_CSV) {
    ms_csv_write_options o;
    ms_csv_write_options_init(&o);
    st = ms_csv_write(NULL, full, t, &o, err);
  } else if (st == MS_OK) {
    ms_pq_write_options o;
    ms_pq_write_options_init(&o);
    o.compression = MS_CODEC_ZSTD;
    o.statistics = true;
    o.pool = pool;
    st = ms_pq_write_table(NULL, full, t, &o, err);
  }
  ms_file_info fi;
  memset(&fi, 0, sizeof fi);
  if (st == MS_OK) st = ms_fs_stat(NULL, full, &fi, err);
  if (st != MS_OK) {
    if (err && !err->file[0]) ms_error_set_file(err, full);
    ms_free(full);
    ms_free(rel);
    return st;
  }
  ms_free(fi.path);
  ms_free(full);
  ms_store_file *f = &w->files[w->n++];
  memset(f, 0, sizeof *f);
  f->path = rel;
  f->rows = ms_table_num_rows(t);
  f->bytes = fi.size;
  return MS_OK;
}

ms_status wr_write_parts(ms_store *s, const ms_table *t, const char *const *partition_cols,
                         int n_partition_cols, ms_file_format format, int64_t max_file_rows,
                         ms_pool *pool, const ms_write_options *opts, ms_store_file **out_files,
                         int *out_n, ms_error *err) {
  *out_files = NULL;
  *out_n = 0;
  int64_t n_rows = ms_table_num_rows(t);
  int n_cols = ms_table_num_columns(t);
  int *pidx = ms_calloc((size_t)n_partition_cols + 1, sizeof(int));
  bool *is_part = ms_calloc((size_t)n_cols + 1, sizeof(bool));
  const char **keep = ms_calloc((size_t)n_cols + 1, sizeof(char *));
  grouping gr;
  memset(&gr, 0, sizeof gr);
  written w;
  memset(&w, 0, sizeof w);
  ms_table *data = NULL;
  ms_status st = pidx && is_part && keep ? MS_OK : oom(err);
  for (int k = 0; st == MS_OK && k < n_partition_cols; k++) {
    pidx[k] = ms_table_find_column(t, partition_cols[k]);
    if (pidx[k] < 0) {
      ms_error_set_column(err, partition_cols[k]);
      st = ms_error_set(err, MS_ERR_INVALID, "partition column '%s' is not in the table", partition_cols[k]);
    } else {
      is_part[pidx[k]] = true;
    }
  }
  /* The file columns: everything but the partition columns. */
  int n_keep = 0;
  for (int c = 0; st == MS_OK && c < n_cols; c++)
    if (!is_part[c]) keep[n_keep++] = ms_table_field(t, c)->name;
  if (st == MS_OK) st = ms_table_select(t, keep, n_keep, &data, err);
  /* Group rows by folder. */
  if (st == MS_OK && n_partition_cols == 0 && n_rows > 0) {
    if (!grouping_add(&gr, "", 0)) st = oom(err);
    group *g = gr.g;
    if (st == MS_OK) {
      int64_t *rows = ms_realloc(g->rows, (size_t)n_rows * sizeof *rows);
      if (!rows) st = oom(err);
      else {
        g->rows = rows;
        g->cap = n_rows;
        for (int64_t i = 0; i < n_rows; i++) rows[i] = i;
        g->n = n_rows;
      }
    }
  } else if (st == MS_OK && n_rows > 0) {
    size_t cap = (size_t)n_partition_cols * 512 + 1;
    char *dir = ms_malloc(cap);
    if (!dir) st = oom(err);
    for (int64_t i = 0; st == MS_OK && i < n_rows; i++) {
      size_t len = 0;
      dir[0] = '\0';
      for (int k = 0; st == MS_OK && k < n_partition_cols; k++) {
        char v[256];
        const char *why = NULL;
        if (!part_value(ms_table_column(t, pidx[k]), i, v, 201, &why)) {
          ms_error_set_row(err, i + 1);
          ms_error_set_column(err, partition_cols[k]);
          st = ms_error_set(err, MS_ERR_INVALID, "%s: row %lld, column '%s': %s",
                            opts && opts->input_name ? opts->input_name : "batch", (long long)(i + 1),
                            partition_cols[k], why);
          break;
        }
        len += (size_t)snprintf(dir + len, cap - len, "%s%s=%s", k ? "/" : "", partition_cols[k], v);
      }
      if (st == MS_OK && !grouping_add(&gr, dir, i)) st = oom(err);
    }
    ms_free(dir);
  }
  if (st == MS_OK) qsort(gr.g, (size_t)gr.n, sizeof *gr.g, cmp_group);
  /* Write each group, cut into files of at most max_file_rows rows. */
  int64_t done = 0, n_files = 0;
  for (int gi = 0; gi < gr.n; gi++)
    n_files += max_file_rows > 0 ? (gr.g[gi].n + max_file_rows - 1) / max_file_rows : 1;
  for (int gi = 0; st == MS_OK && gi < gr.n; gi++) {
    group *g = &gr.g[gi];
    int64_t per = max_file_rows > 0 ? max_file_rows : g->n;
    for (int64_t off = 0; st == MS_OK && off < g->n; off += per) {
      int64_t m = g->n - off < per ? g->n - off : per;
      ms_table *part = NULL;
      if (n_partition_cols == 0 && m == n_rows) part = ms_table_retain(data);
      else st = ms_table_take(data, g->rows + off, m, &part, err);
      if (st == MS_OK) st = write_one(s, part, g->dir, format, pool, &w, err);
      ms_table_release(part);
      if (st != MS_OK) break;
      /* Crash tests: killed with one file of several renamed (an orphan, never live). */
      if (w.n == 1 && n_files > 1) ms_store_crash_point("mid-data");
      done += m;
      if (opts && opts->progress) opts->progress(opts->progress_ctx, "write", done, n_rows);
    }
  }
  if (st != MS_OK) {
    remove_written(s, &w);
    wr_files_free(w.files, w.n);
  } else {
    *out_files = w.files;
    *out_n = w.n;
  }
  ms_table_release(data);
  grouping_free(&gr);
  ms_free(pidx);
  ms_free(is_part);
  ms_free(keep);
  return st;
}
