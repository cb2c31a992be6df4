/* Datasets: one logical table over many Parquet and CSV files.
 *
 * Opening resolves the path (a file, a directory scanned recursively, or a glob) into a
 * sorted list of files, parses hive `key=value/` directories into partition values, reads
 * every file's schema (the Parquet footer, or the CSV header plus type inference) and
 * unifies them: columns in first-seen order, a column missing from a file reads as nulls,
 * nullability is the OR over files. The same column with different types is an MS_ERR_TYPE
 * naming both files, with one relaxation for CSV, whose types are guesses: when every file
 * holding the column is CSV, int64 and float64 unify to float64 and any other difference
 * to utf8, and the CSV reader is then given the unified type explicitly.
 *
 * Partition typing: a key is int64 when every non-null value parses as one, else date32
 * when every value is a valid YYYY-MM-DD, else utf8. Keys and values are URL-decoded;
 * `__HIVE_DEFAULT_PARTITION__` is null. A partition key that is also a column inside the
 * files is an error (which one wins would be a guess).
 *
 * Reading prunes whole files first: a range on a partition column is tested against the
 * file's value (a null value never satisfies a range), and a range on a file column the
 * file lacks prunes the file too (its rows are all null there). Other ranges go down to
 * ms_pq_read for row-group pruning. Files are decoded in parallel across the pool when
 * there are at least as many files as threads, otherwise one after the other with the pool
 * used inside each file; either way results land by file index, so the row order (sorted
 * path order) never depends on the thread count. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "columnar/column.h"
#include "dataset/dataset_int.h"
#include "formats/csv/csv_internal.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/parquet.h"

#define HIVE_NULL "__HIVE_DEFAULT_PARTITION__"

typedef struct ds_file {
  char *path;
  ms_file_format format;
  int n_fields;
  ms_field *fields;     /* the file's own flat columns, in file order */
  char **part_raw;      /* n_part decoded partition values; NULL = null */
  int64_t *part_int;    /* parsed value for int64/date32 partition keys */
} ds_file;

struct ms_dataset {
  ms_fs *fs;
  char *path;
  ms_csv_read_options csv;
  bool csv_given;
  int64_t n_files;
  ds_file *files;
  int n_part;
  char **part_names;
  ms_datatype *part_types;
  int n_fields;
  ms_field *fields;
  int *part_of_field;   /* partition index of field i, -1 for file columns */
  bool *all_csv;        /* field i was seen only in CSV files */
  ms__strvec nested;    /* names of nested Parquet columns (unreadable) */
};

void ms_dataset_options_init(ms_dataset_options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->format = MS_FORMAT_AUTO;
  opts->hive_partitioning = true;
}

ms_file_format ms_format_from_path(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (!dot) return MS_FORMAT_AUTO;
  dot++;
  if (!strcasecmp(dot, "parquet") || !strcasecmp(dot, "pq") || !strcasecmp(dot, "parq"))
    return MS_FORMAT_PARQUET;
  if (!strcasecmp(dot, "csv") || !strcasecmp(dot, "tsv") || !strcasecmp(dot, "txt"))
    return MS_FORMAT_CSV;
  return MS_FORMAT_AUTO;
}

static bool is_tsv(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && !strcasecmp(dot, ".tsv");
}

/* ---------------- partition values ---------------- */

/* Partition values are parsed with the same rules as CSV cells and ISO dates, so a value
 * means the same thing in a file and in a directory name. */
static bool parse_i64(const char *s, int64_t *out) { return ms_csv_parse_i64(s, strlen(s), out); }

static bool parse_date(const char *s, int64_t *out) {
  int32_t days;
  if (!ms_parse_date(s, strlen(s), &days)) return false;
  *out = days;
  return true;
}

/* Splits the directories of `rel` (a path relative to the dataset root) into key=value
 * pairs. Directories that are not key=value are ignored. */
static ms_status parse_hive(const char *rel, ms__strvec *keys, ms__strvec *values) {
  const char *p = rel;
  for (;;) {
    const char *slash = strchr(p, '/');
    if (!slash) break; /* the last segment is the file name */
    const char *eq = memchr(p, '=', (size_t)(slash - p));
    if (eq && eq > p) {
      char *k = ms_strndup(p, (size_t)(eq - p));
      char *v = ms_strndup(eq + 1, (size_t)(slash - eq - 1));
      if (!k || !v) { ms_free(k); ms_free(v); return MS_ERR_NOMEM; }
      ms__url_decode(k);
      ms__url_decode(v);
      if (ms__strvec_push(keys, k)) { ms_free(v); return MS_ERR_NOMEM; }
      if (ms__strvec_push(values, v)) return MS_ERR_NOMEM;
    }
    p = slash + 1;
  }
  return MS_OK;
}

/* ---------------- open ---------------- */

void ms_dataset_close(ms_dataset *ds) {
  if (!ds) return;
  for (int64_t i = 0; i < ds->n_files; i++) {
    ds_file *f = &ds->files[i];
    ms_free(f->path);
    for (int k = 0; k < f->n_fields; k++) ms_field_reset(&f->fields[k]);
    ms_free(f->fields);
    if (f->part_raw)
      for (int k = 0; k < ds->n_part; k++) ms_free(f->part_raw[k]);
    ms_free(f->part_raw);
    ms_free(f->part_int);
  }
  ms_free(ds->files);
  for (int k = 0; k < ds->n_part; k++) ms_free(ds->part_names[k]);
  ms_free(ds->part_names);
  ms_free(ds->part_types);
  for (int i = 0; i < ds->n_fields; i++) ms_field_reset(&ds->fields[i]);
  ms_free(ds->fields);
  ms_free(ds->part_of_field);
  ms_free(ds->all_csv);
  ms__strvec_reset(&ds->nested);
  ms_free(ds->path);
  ms_free(ds);
}

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

static ms_csv_read_options csv_options_for(const ms_dataset *ds, const char *path) {
  ms_csv_read_options o = ds->csv;
  if (!ds->csv_given && is_tsv(path)) o.delimiter = '\t';
  return o;
}

/* Reads the schema of one file into f->fields (flat columns); nested Parquet columns are
 * remembered by name. */
static ms_status read_file_schema(ms_dataset *ds, ds_file *f, ms_error *err) {
  if (f->format == MS_FORMAT_PARQUET) {
    ms_pq_file *pq;
    ms_status st = ms_pq_open(ds->fs, f->path, &pq, err);
    if (st) return st;
    int n = ms_pq_num_fields(pq);
    f->fields = ms_calloc((size_t)(n ? n : 1), sizeof *f->fields);
    if (!f->fields) { ms_pq_close(pq); return oom(err); }
    for (int i = 0; i < n && st == MS_OK; i++) {
      const ms_field *fld = ms_pq_field(pq, i);
      if (ms_pq_field_is_nested(pq, i)) {
        bool seen = false;
        for (int64_t k = 0; k < ds->nested.n; k++) seen |= strcmp(ds->nested.items[k], fld->name) == 0;
        if (!seen && ms__strvec_push(&ds->nested, ms_strdup(fld->name))) st = oom(err);
        continue;
      }
      if (ms_field_copy(fld, &f->fields[f->n_fields])) st = oom(err);
      else f->n_fields++;
    }
    ms_pq_close(pq);
    return st;
  }
  ms_csv_read_options o = csv_options_for(ds, f->path);
  o.columns = NULL;
  o.n_columns = 0;
  int n = 0;
  ms_status st = ms_csv_infer_schema(ds->fs, f->path, &o, &f->fields, &n, err);
  if (st) return st;
  f->n_fields = n;
  return MS_OK;
}

static int find_field(const ms_dataset *ds, const char *name) {
  for (int i = 0; i < ds->n_fields; i++)
    if (strcmp(ds->fields[i].name, name) == 0) return i;
  return -1;
}

/* Grows the unified field arrays by one. */
static ms_status push_field(ms_dataset *ds, const ms_field *src, int part, bool csv) {
  int n = ds->n_fields + 1;
  ms_field *fields = ms_realloc(ds->fields, sizeof *fields * (size_t)n);
  if (!fields) return MS_ERR_NOMEM;
  ds->fields = fields;
  int *pof = ms_realloc(ds->part_of_field, sizeof *pof * (size_t)n);
  if (!pof) return MS_ERR_NOMEM;
  ds->part_of_field = pof;
  bool *ac = ms_realloc(ds->all_csv, sizeof *ac * (size_t)n);
  if (!ac) return MS_ERR_NOMEM;
  ds->all_csv = ac;
  if (ms_field_copy(src, &ds->fields[ds->n_fields])) return MS_ERR_NOMEM;
  ds->part_of_field[ds->n_fields] = part;
  ds->all_csv[ds->n_fields] = csv;
  ds->n_fields = n;
  return MS_OK;
}

/* First file (by index) holding column `name`, for error messages. */
static const char *first_file_with(const ms_dataset *ds, const char *name, int64_t before) {
  for (int64_t i = 0; i < before; i++)
    for (int k = 0; k < ds->files[i].n_fields; k++)
      if (strcmp(ds->files[i].fields[k].name, name) == 0) return ds->files[i].path;
  return "?";
}

static ms_status unify(ms_dataset *ds, ms_error *err) {
  for (int64_t i = 0; i < ds->n_files; i++) {
    ds_file *f = &ds->files[i];
    bool csv = f->format == MS_FORMAT_CSV;
    for (int k = 0; k < f->n_fields; k++) {
      const ms_field *fld = &f->fields[k];
      int j = find_field(ds, fld->name);
      if (j < 0) {
        if (push_field(ds, fld, -1, csv)) return oom(err);
        /* A column absent from earlier files reads as nulls there. */
        if (i > 0) ds->fields[ds->n_fields - 1].nullable = true;
        continue;
      }
      ms_field *u = &ds->fields[j];
      u->nullable |= fld->nullable;
      if (ms_type_equal(&u->type, &fld->type)) continue;
      if (ds->all_csv[j] && csv) {
        bool num_u = u->type.id == MS_TYPE_INT64 || u->type.id == MS_TYPE_FLOAT64;
        bool num_f = fld->type.id == MS_TYPE_INT64 || fld->type.id == MS_TYPE_FLOAT64;
        u->type = ms_type(num_u && num_f ? MS_TYPE_FLOAT64 : MS_TYPE_UTF8);
        continue;
      }
      char a[96], b[96];
      ms_error_set_file(err, f->path);
      ms_error_set_column(err, fld->name);
      return ms_error_set(err, MS_ERR_TYPE, "conflicting types across files: %s in %s, %s in %s",
                          ms_type_to_string(&u->type, a, sizeof a),
                          first_file_with(ds, fld->name, i),
                          ms_type_to_string(&fld->type, b, sizeof b), f->path);
    }
  }
  /* Columns some file lacks are nullable. */
  for (int j = 0; j < ds->n_fields; j++) {
    for (int64_t i = 0; i < ds->n_files && !ds->fields[j].nullable; i++) {
      bool has = false;
      for (int k = 0; k < ds->files[i].n_fields && !has; k++)
        has = strcmp(ds->files[i].fields[k].name, ds->fields[j].name) == 0;
      if (!has) ds->fields[j].nullable = true;
    }
  }
  return MS_OK;
}

/* Parses hive directories of every file (relative to base) and types the keys. */
static ms_status setup_partitions(ms_dataset *ds, const char *base, ms_error *err) {
  size_t base_len = strlen(base);
  ms__strvec first_keys = {0};
  ms_status st = MS_OK;
  for (int64_t i = 0; i < ds->n_files && st == MS_OK; i++) {
    ds_file *f = &ds->files[i];
    const char *rel = f->path;
    if (base_len > 0 && strncmp(rel, base, base_len) == 0) {
      rel += base_len;
      while (*rel == '/') rel++;
    }
    ms__strvec keys = {0}, values = {0};
    if (parse_hive(rel, &keys, &values)) { st = oom(err); }
    else if (i == 0) {
      first_keys = keys;
      keys = (ms__strvec){0};
      ds->n_part = (int)first_keys.n;
      ds->part_names = ms_calloc((size_t)(ds->n_part ? ds->n_part : 1), sizeof *ds->part_names);
      ds->part_types = ms_calloc((size_t)(ds->n_part ? ds->n_part : 1), sizeof *ds->part_types);
      if (!ds->part_names || !ds->part_types) st = oom(err);
      for (int k = 0; k < ds->n_part && st == MS_OK; k++) {
        ds->part_names[k] = ms_strdup(first_keys.items[k]);
        if (!ds->part_names[k]) st = oom(err);
        for (int j = 0; j < k; j++)
          if (st == MS_OK && strcmp(ds->part_names[j], ds->part_names[k]) == 0) {
            ms_error_set_file(err, f->path);
            st = ms_error_set(err, MS_ERR_INVALID, "partition key '%s' appears twice in the path",
                              ds->part_names[k]);
          }
      }
    } else {
      bool same = keys.n == ds->n_part;
      for (int k = 0; same && k < ds->n_part; k++) same = strcmp(keys.items[k], ds->part_names[k]) == 0;
      if (!same) {
        ms_error_set_file(err, f->path);
        st = ms_error_set(err, MS_ERR_INVALID,
                          "inconsistent hive partitioning: %s has %lld partition keys, %s has %lld "
                          "(or they differ by name or order)",
                          ds->files[0].path, (long long)ds->n_part, f->path, (long long)keys.n);
      }
    }
    if (st == MS_OK) {
      f->part_raw = ms_calloc((size_t)(ds->n_part ? ds->n_part : 1), sizeof *f->part_raw);
      f->part_int = ms_calloc((size_t)(ds->n_part ? ds->n_part : 1), sizeof *f->part_int);
      if (!f->part_raw || !f->part_int) st = oom(err);
      for (int k = 0; k < ds->n_part && st == MS_OK; k++) {
        if (strcmp(values.items[k], HIVE_NULL) == 0) continue;
        f->part_raw[k] = values.items[k];
        values.items[k] = NULL;
      }
    }
    ms__strvec_reset(&keys);
    ms__strvec_reset(&values);
  }
  ms__strvec_reset(&first_keys);
  if (st) return st;
  /* Type each key over all its non-null values. */
  for (int k = 0; k < ds->n_part; k++) {
    bool all_int = true, all_date = true;
    for (int64_t i = 0; i < ds->n_files; i++) {
      const char *v = ds->files[i].part_raw[k];
      int64_t x;
      if (!v) continue;
      if (all_int && !parse_i64(v, &x)) all_int = false;
      if (all_date && !parse_date(v, &x)) all_date = false;
    }
    ms_type_id id = all_int ? MS_TYPE_INT64 : all_date ? MS_TYPE_DATE32 : MS_TYPE_UTF8;
    ds->part_types[k] = ms_type(id);
    for (int64_t i = 0; i < ds->n_files; i++) {
      const char *v = ds->files[i].part_raw[k];
      if (!v) continue;
      if (id == MS_TYPE_INT64) parse_i64(v, &ds->files[i].part_int[k]);
      else if (id == MS_TYPE_DATE32) parse_date(v, &ds->files[i].part_int[k]);
    }
  }
  return MS_OK;
}

/* Collects the dataset's files from the path. */
static ms_status resolve_files(ms_dataset *ds, const char *path, ms_file_format format,
                               ms__strvec *files, char **base, ms_error *err) {
  ms_file_info info = {0};
  ms_error sub;
  ms_error_init(&sub);
  ms_status st = ms_fs_stat(ds->fs, path, &info, &sub);
  bool is_glob = false;
  if (st == MS_OK) {
    bool is_dir = info.is_dir;
    ms_free(info.path);
    if (!is_dir) {
      /* A single file has no partitions: its own directory is the root. */
      const char *slash = strrchr(path, '/');
      *base = slash ? ms_strndup(path, (size_t)(slash - path)) : ms_strdup("");
      if (!*base || ms__strvec_push(files, ms_strdup(path))) return oom(err);
      return MS_OK;
    }
    *base = ms_strdup(path);
    if (!*base) return oom(err);
    /* Managed directory: manifest first, then the listing (see managed.c). */
    ms_manifest m;
    st = ms__dataset_read_manifest(ds->fs, path, &m, err);
    if (st == MS_OK) st = ms__list_files_recursive(ds->fs, path, files, err);
    if (st == MS_OK) st = ms__dataset_apply_manifest(path, &m, true, files, err);
    ms_manifest_reset(&m);
  } else if (st == MS_ERR_NOT_FOUND && ms__glob_has_magic(path)) {
    is_glob = true;
    char *lit = ms__glob_literal_dir(path);
    if (!lit) return oom(err);
    ms_manifest m = {0};
    ms_file_info li = {0};
    /* Only a directory can carry a manifest; the literal prefix may not exist. */
    if (ms_fs_stat(ds->fs, lit[0] ? lit : ".", &li, NULL) == MS_OK && li.is_dir)
      st = ms__dataset_read_manifest(ds->fs, lit, &m, err);
    else
      st = MS_OK;
    ms_free(li.path);
    if (st == MS_OK) st = ms__glob_expand(ds->fs, path, files, base, err);
    if (st == MS_OK) st = ms__dataset_apply_manifest(lit, &m, false, files, err);
    ms_manifest_reset(&m);
    ms_free(lit);
    if (st == MS_OK && files->n == 0) {
      ms_error_set_file(err, path);
      return ms_error_set(err, MS_ERR_NOT_FOUND, "no files match the pattern");
    }
  } else {
    if (err) *err = sub;
    return st;
  }
  if (st) return st;
  /* Directory scans and globs keep only files of a known format (or all, when given). */
  if (format == MS_FORMAT_AUTO) {
    int64_t w = 0;
    for (int64_t i = 0; i < files->n; i++) {
      if (ms_format_from_path(files->items[i]) != MS_FORMAT_AUTO) files->items[w++] = files->items[i];
      else ms_free(files->items[i]);
    }
    files->n = w;
  }
  if (files->n == 0) {
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "no data files (.parquet, .pq, .parq, .csv, .tsv, .txt) %s",
                        is_glob ? "match the pattern" : "in the directory");
  }
  return MS_OK;
}

ms_status ms_dataset_open(ms_fs *fs, const char *path, const ms_dataset_options *opts,
                          ms_dataset **out, ms_error *err) {
  *out = NULL;
  ms_dataset_options defaults;
  if (!opts) {
    ms_dataset_options_init(&defaults);
    opts = &defaults;
  }
  if (!path || !*path) return ms_error_set(err, MS_ERR_INVALID, "empty dataset path");
  ms_dataset *ds = ms_calloc(1, sizeof *ds);
  if (!ds) return oom(err);
  ds->fs = fs ? fs : ms_fs_local();
  ds->path = ms_strdup(path);
  if (opts->csv) {
    ds->csv = *opts->csv;
    ds->csv_given = true;
  } else {
    ms_csv_read_options_init(&ds->csv);
  }
  ms__strvec files = {0};
  char *base = NULL;
  ms_status st = ds->path ? resolve_files(ds, path, opts->format, &files, &base, err) : oom(err);
  if (st == MS_OK) {
    ms__strvec_sort(&files);
    /* Drop duplicates a glob may produce. */
    int64_t w = 0;
    for (int64_t i = 0; i < files.n; i++) {
      if (w > 0 && strcmp(files.items[w - 1], files.items[i]) == 0) ms_free(files.items[i]);
      else files.items[w++] = files.items[i];
    }
    files.n = w;
    ds->files = ms_calloc((size_t)files.n, sizeof *ds->files);
    if (!ds->files) st = oom(err);
  }
  for (int64_t i = 0; st == MS_OK && i < files.n; i++) {
    ds_file *f = &ds->files[i];
    f->path = files.items[i];
    files.items[i] = NULL;
    ds->n_files = i + 1;
    f->format = opts->format != MS_FORMAT_AUTO ? opts->format : ms_format_from_path(f->path);
    if (f->format == MS_FORMAT_AUTO) {
      ms_error_set_file(err, f->path);
      st = ms_error_set(err, MS_ERR_INVALID,
                        "cannot tell the file format from the extension "
                        "(expected .parquet, .pq, .parq, .csv, .tsv or .txt)");
    }
  }
  if (st == MS_OK && opts->hive_partitioning) st = setup_partitions(ds, base, err);
  else if (st == MS_OK) {
    for (int64_t i = 0; i < ds->n_files && st == MS_OK; i++) {
      ds->files[i].part_raw = ms_calloc(1, sizeof(char *));
      ds->files[i].part_int = ms_calloc(1, sizeof(int64_t));
      if (!ds->files[i].part_raw || !ds->files[i].part_int) st = oom(err);
    }
  }
  for (int64_t i = 0; i < ds->n_files && st == MS_OK; i++) st = read_file_schema(ds, &ds->files[i], err);
  if (st == MS_OK) st = unify(ds, err);
  for (int k = 0; k < ds->n_part && st == MS_OK; k++) {
    if (find_field(ds, ds->part_names[k]) >= 0) {
      ms_error_set_column(err, ds->part_names[k]);
      ms_error_set_file(err, path);
      st = ms_error_set(err, MS_ERR_INVALID,
                        "hive partition key '%s' is also a column inside the files",
                        ds->part_names[k]);
      break;
    }
    bool any_null = false;
    for (int64_t i = 0; i < ds->n_files; i++) any_null |= ds->files[i].part_raw[k] == NULL;
    ms_field pf = {ds->part_names[k], ds->part_types[k], any_null};
    if (push_field(ds, &pf, k, false)) st = oom(err);
  }
  ms__strvec_reset(&files);
  ms_free(base);
  if (st) {
    ms_dataset_close(ds);
    return st;
  }
  *out = ds;
  return MS_OK;
}

int64_t ms_dataset_num_files(const ms_dataset *ds) { return ds->n_files; }
const char *ms_dataset_file_path(const ms_dataset *ds, int64_t i) { return ds->files[i].path; }
int ms_dataset_num_fields(const ms_dataset *ds) { return ds->n_fields; }
const ms_field *ms_dataset_field(const ms_dataset *ds, int i) { return &ds->fields[i]; }
bool ms_dataset_field_is_partition(const ms_dataset *ds, int i) { return ds->part_of_field[i] >= 0; }
ms_file_format ms__dataset_file_format(const ms_dataset *ds, int64_t i) { return ds->files[i].format; }

/* ---------------- reading ---------------- */

typedef struct read_plan {
  int n_out;
  int *out_idx;          /* dataset field index of each output column */
  ms_field *out_fields;  /* shallow copies of the dataset's fields */
  const ms_range *ranges;
  int n_ranges;
  int *range_field;      /* dataset field index of each range */
} read_plan;

static void plan_reset(read_plan *p) {
  ms_free(p->out_idx);
  ms_free(p->out_fields);
  ms_free(p->range_field);
  memset(p, 0, sizeof *p);
}

static ms_status unknown_column(const ms_dataset *ds, const char *name, ms_error *err) {
  ms_error_set_column(err, name);
  ms_error_set_file(err, ds->path);
  for (int64_t k = 0; k < ds->nested.n; k++)
    if (strcmp(ds->nested.items[k], name) == 0)
      return ms_error_set(err, MS_ERR_UNSUPPORTED,
                          "nested column (LIST, MAP or STRUCT): morsel reads flat columns only");
  return ms_error_set(err, MS_ERR_NOT_FOUND, "no such column in the dataset");
}

static ms_status plan_init(const ms_dataset *ds, const ms_dataset_read_options *opts,
                           read_plan *p, ms_error *err) {
  memset(p, 0, sizeof *p);
  bool all = !opts || !opts->columns;
  p->n_out = all ? ds->n_fields : opts->n_columns;
  if (p->n_out < 0) return ms_error_set(err, MS_ERR_INVALID, "negative column count");
  p->out_idx = ms_calloc((size_t)(p->n_out ? p->n_out : 1), sizeof *p->out_idx);
  p->out_fields = ms_calloc((size_t)(p->n_out ? p->n_out : 1), sizeof *p->out_fields);
  if (!p->out_idx || !p->out_fields) { plan_reset(p); return oom(err); }
  for (int j = 0; j < p->n_out; j++) {
    int fi = all ? j : find_field(ds, opts->columns[j]);
    if (fi < 0) {
      ms_status st = unknown_column(ds, opts->columns[j], err);
      plan_reset(p);
      return st;
    }
    p->out_idx[j] = fi;
    p->out_fields[j] = ds->fields[fi];
  }
  if (opts && opts->n_ranges > 0) {
    p->ranges = opts->ranges;
    p->n_ranges = opts->n_ranges;
    p->range_field = ms_calloc((size_t)p->n_ranges, sizeof *p->range_field);
    if (!p->range_field) { plan_reset(p); return oom(err); }
    for (int r = 0; r < p->n_ranges; r++) {
      const ms_range *rg = &p->ranges[r];
      int fi = rg->column ? find_field(ds, rg->column) : -1;
      if (fi < 0) {
        ms_status st = unknown_column(ds, rg->column ? rg->column : "(null)", err);
        plan_reset(p);
        return st;
      }
      p->range_field[r] = fi;
      int part = ds->part_of_field[fi];
      if (part >= 0) {
        ms_type_id id = ds->part_types[part].id;
        bool ok = id == MS_TYPE_UTF8 ? rg->kind == MS_RANGE_STRING : rg->kind != MS_RANGE_STRING;
        if (!ok) {
          char tb[64];
          ms_error_set_column(err, rg->column);
          ms_status st = ms_error_set(err, MS_ERR_TYPE, "a %s range cannot apply to partition column of type %s",
                                      rg->kind == MS_RANGE_STRING ? "string" : "numeric",
                                      ms_type_to_string(&ds->part_types[part], tb, sizeof tb));
          plan_reset(p);
          return st;
        }
      }
    }
  }
  return MS_OK;
}

static int cmp_bytes(const char *a, int64_t alen, const char *b, int64_t blen) {
  int64_t n = alen < blen ? alen : blen;
  int c = n > 0 ? memcmp(a, b, (size_t)n) : 0;
  if (c) return c;
  return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Does the partition value satisfy the range? (a null value never does) */
static bool partition_keeps(const ms_range *r, ms_type_id id, const char *raw, int64_t iv) {
  if (!raw) return false;
  if (id == MS_TYPE_UTF8) {
    int64_t len = (int64_t)strlen(raw);
    if (r->has_lo && r->lo_s) {
      int64_t ll = r->lo_s_len >= 0 ? r->lo_s_len : (int64_t)strlen(r->lo_s);
      if (cmp_bytes(raw, len, r->lo_s, ll) < 0) return false;
    }
    if (r->has_hi && r->hi_s) {
      int64_t hl = r->hi_s_len >= 0 ? r->hi_s_len : (int64_t)strlen(r->hi_s);
      if (cmp_bytes(raw, len, r->hi_s, hl) > 0) return false;
    }
    return true;
  }
  if (r->kind == MS_RANGE_FLOAT) {
    double v = (double)iv;
    if (r->has_lo && !(v >= r->lo_f)) return false;
    if (r->has_hi && !(v <= r->hi_f)) return false;
    return true;
  }
  if (r->has_lo && iv < r->lo_i) return false;
  if (r->has_hi && iv > r->hi_i) return false;
  return true;
}

static int file_field(const ds_file *f, const char *name) {
  for (int k = 0; k < f->n_fields; k++)
    if (strcmp(f->fields[k].name, name) == 0) return k;
  return -1;
}

/* A column of n copies of one partition value. */
static ms_status constant_column(const ms_datatype *type, const char *raw, int64_t iv, int64_t n,
                                 ms_column **out, ms_error *err) {
  if (!raw) return ms_column_create_nulls(type, n, out, err);
  if (type->id == MS_TYPE_UTF8) {
    int64_t len = (int64_t)strlen(raw);
    if (len > 0 && n > INT32_MAX / len)
      return ms_error_set(err, MS_ERR_LIMIT, "partition column too large for 32-bit offsets");
    ms_buffer *offs = ms_buffer_create((n + 1) * 4);
    ms_buffer *data = ms_buffer_create(n * len);
    if (!offs || !data) { ms_buffer_release(offs); ms_buffer_release(data); return oom(err); }
    int32_t *o = (int32_t *)offs->data;
    for (int64_t i = 0; i <= n; i++) o[i] = (int32_t)(i * len);
    for (int64_t i = 0; i < n; i++) memcpy(data->data + i * len, raw, (size_t)len);
    offs->size = (n + 1) * 4;
    data->size = n * len;
    return ms_column_from_buffers(type, n, 0, NULL, offs, data, out, err);
  }
  int w = type->id == MS_TYPE_DATE32 ? 4 : 8;
  ms_buffer *vals = ms_buffer_create(n * w);
  if (!vals) return oom(err);
  if (w == 4) {
    int32_t *v = (int32_t *)vals->data;
    for (int64_t i = 0; i < n; i++) v[i] = (int32_t)iv;
  } else {
    int64_t *v = (int64_t *)vals->data;
    for (int64_t i = 0; i < n; i++) v[i] = iv;
  }
  vals->size = n * w;
  return ms_column_from_buffers(type, n, 0, NULL, vals, NULL, out, err);
}

static ms_status read_one(ms_dataset *ds, const read_plan *p, int64_t fidx, const int *row_groups,
                          int n_row_groups, ms_pool *pool, ms_table **out, ms_dataset_read_stats *stats,
                          ms_error *err) {
  *out = NULL;
  ds_file *f = &ds->files[fidx];
  /* File pruning. */
  for (int r = 0; r < p->n_ranges; r++) {
    int fi = p->range_field[r];
    int part = ds->part_of_field[fi];
    if (part >= 0) {
      if (!partition_keeps(&p->ranges[r], ds->part_types[part].id, f->part_raw[part], f->part_int[part]))
        return MS_OK;
    } else if (file_field(f, ds->fields[fi].name) < 0) {
      return MS_OK;
    }
  }
  const char **names = ms_calloc((size_t)p->n_out + 1, sizeof *names);
  ms_range *pq_ranges = ms_calloc((size_t)p->n_ranges + 1, sizeof *pq_ranges);
  ms_field *csv_schema = ms_calloc((size_t)f->n_fields + 1, sizeof *csv_schema);
  ms_column **cols = ms_calloc((size_t)p->n_out + 1, sizeof *cols);
  ms_status st = (names && pq_ranges && csv_schema && cols) ? MS_OK : oom(err);
  int n_names = 0, n_pq_ranges = 0;
  for (int j = 0; j < p->n_out && st == MS_OK; j++) {
    const ms_field *fld = &ds->fields[p->out_idx[j]];
    if (ds->part_of_field[p->out_idx[j]] >= 0 || file_field(f, fld->name) < 0) continue;
    bool dup = false;
    for (int k = 0; k < n_names; k++) dup |= strcmp(names[k], fld->name) == 0;
    if (!dup) names[n_names++] = fld->name;
  }
  /* With no file column asked for, one is still read to learn the row count. */
  if (n_names == 0 && f->n_fields > 0) names[n_names++] = f->fields[0].name;
  for (int r = 0; r < p->n_ranges && st == MS_OK; r++)
    if (ds->part_of_field[p->range_field[r]] < 0) pq_ranges[n_pq_ranges++] = p->ranges[r];

  ms_table *t = NULL;
  int64_t rows = 0;
  if (st == MS_OK && f->format == MS_FORMAT_PARQUET) {
    ms_pq_file *pq = NULL;
    st = ms_pq_open(ds->fs, f->path, &pq, err);
    if (st == MS_OK && n_names == 0) {
      if (!row_groups) rows = ms_pq_num_rows(pq);
      for (int g = 0; row_groups && g < n_row_groups; g++)
        if (row_groups[g] >= 0 && row_groups[g] < ms_pq_num_row_groups(pq))
          rows += ms_pq_row_group_num_rows(pq, row_groups[g]);
    } else if (st == MS_OK) {
      ms_pq_read_options ro = {0};
      ro.columns = names;
      ro.n_columns = n_names;
      ro.ranges = pq_ranges;
      ro.n_ranges = n_pq_ranges;
      ro.row_groups = row_groups;
      ro.n_row_groups = n_row_groups;
      ro.pool = pool;
      ms_pq_read_stats ps = {0};
      st = ms_pq_read(pq, &ro, &t, &ps, err);
      if (st == MS_OK && stats) {
        stats->row_groups_total += ps.row_groups_total;
        stats->row_groups_kept += ps.row_groups_kept;
        stats->bytes_read += ps.bytes_read;
      }
    }
    ms_pq_close(pq);
  } else if (st == MS_OK) {
    ms_csv_read_options o = csv_options_for(ds, f->path);
    /* The unified types, so that files whose guesses differed read alike. */
    for (int k = 0; k < f->n_fields; k++) {
      csv_schema[k] = f->fields[k];
      csv_schema[k].type = ds->fields[find_field(ds, f->fields[k].name)].type;
    }
    o.schema = csv_schema;
    o.n_schema = f->n_fields;
    o.columns = names;
    o.n_columns = n_names;
    o.pool = pool;
    if (n_names > 0) st = ms_csv_read(ds->fs, f->path, &o, &t, err);
    if (st == MS_OK && stats) {
      ms_file_info info = {0};
      if (ms_fs_stat(ds->fs, f->path, &info, NULL) == MS_OK) stats->bytes_read += info.size;
      ms_free(info.path);
    }
  }
  if (st && err && !err->file[0]) ms_error_set_file(err, f->path);
  if (t) rows = ms_table_num_rows(t);

  for (int j = 0; j < p->n_out && st == MS_OK; j++) {
    int fi = p->out_idx[j];
    const ms_field *fld = &ds->fields[fi];
    int part = ds->part_of_field[fi];
    if (part >= 0) {
      st = constant_column(&fld->type, f->part_raw[part], f->part_int[part], rows, &cols[j], err);
      continue;
    }
    int ti = t ? ms_table_find_column(t, fld->name) : -1;
    if (ti < 0) {
      st = ms_column_create_nulls(&fld->type, rows, &cols[j], err);
      continue;
    }
    ms_column *c = ms_table_column(t, ti);
    if (!ms_type_equal(ms_column_type(c), &fld->type)) {
      char a[96], b[96];
      ms_error_set_file(err, f->path);
      ms_error_set_column(err, fld->name);
      st = ms_error_set(err, MS_ERR_TYPE, "the file's column decoded as %s, the dataset's type is %s",
                        ms_type_to_string(ms_column_type(c), a, sizeof a),
                        ms_type_to_string(&fld->type, b, sizeof b));
      continue;
    }
    cols[j] = ms_column_retain(c);
  }
  if (st == MS_OK) st = ms_table_create(p->out_fields, cols, p->n_out, out, err);
  if (st == MS_OK && stats) stats->files_kept++;
  for (int j = 0; cols && j < p->n_out; j++) ms_column_release(cols[j]);
  ms_table_release(t);
  ms_free(cols);
  ms_free(csv_schema);
  ms_free(pq_ranges);
  ms_free(names);
  return st;
}

ms_status ms__dataset_file_row_groups(ms_dataset *ds, int64_t file, int64_t **out_rows, int *out_n,
                                      ms_error *err) {
  *out_rows = NULL;
  *out_n = 0;
  if (file < 0 || file >= ds->n_files) return ms_error_set(err, MS_ERR_INVALID, "no file %lld", (long long)file);
  if (ds->files[file].format != MS_FORMAT_PARQUET) return MS_OK;
  ms_pq_file *pq;
  ms_status st = ms_pq_open(ds->fs, ds->files[file].path, &pq, err);
  if (st) return st;
  int n = ms_pq_num_row_groups(pq);
  int64_t *rows = ms_calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
  if (!rows) { ms_pq_close(pq); return oom(err); }
  for (int g = 0; g < n; g++) rows[g] = ms_pq_row_group_num_rows(pq, g);
  ms_pq_close(pq);
  *out_rows = rows;
  *out_n = n;
  return MS_OK;
}

ms_status ms__dataset_read_file(ms_dataset *ds, int64_t file, const ms_dataset_read_options *opts,
                                const int *row_groups, int n_row_groups, ms_table **out,
                                ms_dataset_read_stats *stats, ms_error *err) {
  *out = NULL;
  if (file < 0 || file >= ds->n_files) return ms_error_set(err, MS_ERR_INVALID, "no file %lld", (long long)file);
  read_plan p;
  ms_status st = plan_init(ds, opts, &p, err);
  if (st) return st;
  if (stats) stats->files_total++;
  st = read_one(ds, &p, file, row_groups, n_row_groups, opts ? opts->pool : NULL, out, stats, err);
  plan_reset(&p);
  return st;
}

typedef struct read_ctx {
  ms_dataset *ds;
  const read_plan *plan;
  ms_table **tables;
  ms_dataset_read_stats *stats;
} read_ctx;

static ms_status read_task(void *ctx, int64_t task, int worker, ms_error *err) {
  read_ctx *c = ctx;
  return read_one(c->ds, c->plan, task, NULL, 0, NULL, &c->tables[task], &c->stats[task], err);
}

ms_status ms_dataset_read(ms_dataset *ds, const ms_dataset_read_options *opts, ms_table **out,
                          ms_dataset_read_stats *stats, ms_error *err) {
  *out = NULL;
  if (stats) memset(stats, 0, sizeof *stats);
  read_plan p;
  ms_status st = plan_init(ds, opts, &p, err);
  if (st) return st;
  ms_pool *pool = opts ? opts->pool : NULL;
  int64_t n = ds->n_files;
  ms_table **tables = ms_calloc((size_t)n, sizeof *tables);
  ms_dataset_read_stats *fst = ms_calloc((size_t)n, sizeof *fst);
  if (!tables || !fst) st = oom(err);
  if (st == MS_OK) {
    int threads = pool ? ms_pool_size(pool) : 1;
    if (threads > 1 && n >= threads) {
      read_ctx ctx = {ds, &p, tables, fst};
      st = ms_pool_run(pool, n, read_task, &ctx, err);
    } else {
      for (int64_t i = 0; i < n && st == MS_OK; i++) st = read_one(ds, &p, i, NULL, 0, pool, &tables[i], &fst[i], err);
    }
  }
  int64_t kept = 0;
  for (int64_t i = 0; i < n && tables; i++) {
    if (tables[i]) tables[kept++] = tables[i];
    if (stats) {
      stats->files_kept += fst[i].files_kept;
      stats->row_groups_total += fst[i].row_groups_total;
      stats->row_groups_kept += fst[i].row_groups_kept;
      stats->bytes_read += fst[i].bytes_read;
    }
  }
  if (stats) stats->files_total = n;
  if (st == MS_OK) {
    if (kept == 1) {
      *out = tables[0];
      tables[0] = NULL;
    } else if (kept > 1) {
      if (kept > INT32_MAX) st = ms_error_set(err, MS_ERR_LIMIT, "too many files");
      else st = ms_table_concat(tables, (int)kept, out, err);
    } else {
      ms_column **cols = ms_calloc((size_t)p.n_out + 1, sizeof *cols);
      if (!cols) st = oom(err);
      for (int j = 0; j < p.n_out && st == MS_OK; j++)
        st = ms_column_create_nulls(&p.out_fields[j].type, 0, &cols[j], err);
      if (st == MS_OK) st = ms_table_create(p.out_fields, cols, p.n_out, out, err);
      for (int j = 0; cols && j < p.n_out; j++) ms_column_release(cols[j]);
      ms_free(cols);
    }
  }
  for (int64_t i = 0; i < kept; i++) ms_table_release(tables[i]);
  ms_free(tables);
  ms_free(fst);
  plan_reset(&p);
  return st;
}
