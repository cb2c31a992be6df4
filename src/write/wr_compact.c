/* Compaction of a feature view's source directory (include/morsel/write.h, ms_compact_view).
 *
 * Rules. A dataset's row order is the sorted order of its live files' paths (the dataset
 * layer), so compaction may only merge files that are adjacent in that order and must put
 * the merged file exactly where they were:
 *  - candidates are live token files (listed by the manifest) smaller than target / 2;
 *  - a run is a maximal sequence of candidates adjacent in the sorted list of ALL live
 *    files (files without the token, placed by other tools, and big files break runs),
 *    within one folder (one hive partition), of one format and one schema (Parquet: the
 *    same columns and types; CSV: the same header line);
 *  - a run is cut into groups of about target bytes (inputs added while the sum of their
 *    weights stays within the target; a Parquet file's weight is its size without its
 *    footer, which the merged file has once: small files are mostly footer); groups of one
 *    file are left alone;
 *  - a group's merged file is named `<stem of its first input>.m<new token>.<ext>` in the
 *    same folder (ms_store_new_path), so it sorts where its inputs did; the name is checked
 *    against its neighbours in the sorted list after the merge and drawn again if another
 *    file shares the stem and the new token would sort on the wrong side of it;
 *  - Parquet groups are rewritten row group by row group (columns, types, row order and the
 *    first input's footer key-value metadata kept); CSV groups are concatenated byte for
 *    byte (the first file whole, the others without their header line), so every value
 *    reads back exactly as before.
 * Every merged file is written through the atomic writers (temporary name, fsync, rename),
 * then ONE commit adds them and removes their inputs (ms_store_commit_files, kind
 * "compact"): a reader sees all old files or all merged ones, and the removed files stay
 * readable until ms_store_gc deletes them after the retention (run at the end). When a
 * concurrent commit removed an input first (another compaction), the commit fails with
 * MS_ERR_CONFLICT and the merged files are deleted: nothing is left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset/dataset_int.h"
#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/parquet.h"
#include "morsel/store.h"
#include "write/write_int.h"

#define MIB (INT64_C(1) << 20)
#define NAME_TRIES 32

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

void ms_compact_options_init(ms_compact_options *opts) { memset(opts, 0, sizeof *opts); }

/* One live file of the dataset, in sorted path order. */
typedef struct cp_entry {
  char *rel;        /* relative to the root */
  bool token;       /* a morsel-written file listed by the manifest */
  int64_t bytes, rows;
  int64_t weight;   /* candidates: the bytes it adds to a merged file (Parquet: without its footer) */
  char *sig;        /* candidates: format + schema (Parquet) or header line (CSV); NULL = not mergeable */
  int group;        /* the group merging it, or -1 */
} cp_entry;

typedef struct cp_group {
  int first, n;     /* entries [first, first + n) */
  ms_file_format fmt;
  char *out_rel, *out_abs;
  int64_t rows, bytes_in, bytes_out;
  bool dropped;     /* no name sorting between its neighbours could be found */
} cp_group;

typedef struct cp_plan {
  const char *root;
  cp_entry *e;
  int ne;
  cp_group *g;
  int ng;
} cp_plan;

static void plan_reset(cp_plan *p) {
  for (int i = 0; i < p->ne; i++) {
    ms_free(p->e[i].rel);
    ms_free(p->e[i].sig);
  }
  for (int i = 0; i < p->ng; i++) {
    ms_free(p->g[i].out_rel);
    ms_free(p->g[i].out_abs);
  }
  ms_free(p->e);
  ms_free(p->g);
  memset(p, 0, sizeof *p);
}

static int entry_cmp(const void *a, const void *b) {
  return strcmp(((const cp_entry *)a)->rel, ((const cp_entry *)b)->rel);
}

/* The folder part of a relative path ("" for the root), as a length. */
static size_t folder_len(const char *rel) {
  const char *slash = strrchr(rel, '/');
  return slash ? (size_t)(slash - rel) : 0;
}

static bool same_folder(const char *a, const char *b) {
  size_t la = folder_len(a), lb = folder_len(b);
  return la == lb && strncmp(a, b, la) == 0;
}

static const char *ext_of(const char *rel) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  const char *dot = strrchr(base, '.');
  return dot ? dot + 1 : "";
}

/* The stem of a token file's base name: the part before `.m<16 hex>.`. */
static char *stem_of(const char *rel) {
  const char *base = strrchr(rel, '/');
  base = base ? base + 1 : rel;
  const char *dot = strrchr(base, '.');
  size_t n = dot ? (size_t)(dot - base) : strlen(base);
  if (n >= 18 && base[n - 18] == '.' && base[n - 17] == 'm') n -= 18;
  return ms_strndup(base, n);
}

/* Length of a CSV buffer's header line including its line end (quotes respected). */
static int64_t csv_header_len(const uint8_t *b, int64_t len) {
  bool q = false;
  for (int64_t i = 0; i < len; i++) {
    if (b[i] == '"') q = !q;
    else if (b[i] == '\n' && !q) return i + 1;
  }
  return len;
}

/* The signature that must be equal for two files to be merged; NULL (and MS_OK) when the
 * file cannot be merged (nested Parquet columns, unknown format). */
/* Appends "name:type;" for each field to the growing signature. Nullability is left out:
 * a writer may mark a column required in one file and optional in the next (the merged
 * file's column is optional when any input's is). */
static ms_status sig_fields(char **s, size_t *len, size_t *cap, const ms_field *f, int n, ms_error *err) {
  for (int i = 0; i < n; i++) {
    char tb[128];
    ms_type_to_string(&f[i].type, tb, sizeof tb);
    size_t need = *len + strlen(f[i].name) + strlen(tb) + 8;
    if (need > *cap) {
      size_t nc = *cap;
      while (nc < need) nc *= 2;
      char *ns = ms_realloc(*s, nc);
      if (!ns) return oom(err);
      *s = ns;
      *cap = nc;
    }
    *len += (size_t)snprintf(*s + *len, *cap - *len, "%s:%s;", f[i].name, tb);
  }
  return MS_OK;
}

/* The signature that must be equal for two files to be merged; NULL (and MS_OK) when the
 * file cannot be merged (nested Parquet columns, unknown format). Parquet: the columns and
 * types. CSV: the header line and the types inferred from the file's sample, so that the
 * merged file (whose sample is made of rows of the inputs' samples) infers the same types
 * the dataset layer gave each input. */
static ms_status file_sig(const char *abs, char **out, ms_error *err) {
  *out = NULL;
  ms_file_format fmt = ms_format_from_path(abs);
  if (fmt != MS_FORMAT_CSV && fmt != MS_FORMAT_PARQUET) return MS_OK;
  size_t cap = 256, len = 0;
  char *s = ms_malloc(cap);
  if (!s) return oom(err);
  ms_status st = MS_OK;
  if (fmt == MS_FORMAT_CSV) {
    uint8_t *buf = NULL;
    int64_t blen = 0;
    st = ms_fs_read_all(ms_fs_local(), abs, &buf, &blen, err);
    int64_t h = st == MS_OK ? csv_header_len(buf, blen) : 0;
    while (h > 0 && (buf[h - 1] == '\n' || buf[h - 1] == '\r')) h--;
    if (st == MS_OK && (size_t)h + 8 > cap) {
      cap = (size_t)h + 64;
      char *ns = ms_realloc(s, cap);
      if (!ns) st = oom(err);
      else s = ns;
    }
    if (st == MS_OK) {
      memcpy(s, "csv:", 4);
      memcpy(s + 4, buf, (size_t)h);
      len = 4 + (size_t)h;
      s[len++] = '\n';
      s[len] = '\0';
    }
    ms_free(buf);
    ms_csv_read_options o;
    ms_csv_read_options_init(&o);
    size_t al = strlen(abs);
    if (al > 4 && strcmp(abs + al - 4, ".tsv") == 0) o.delimiter = '\t';
    ms_field *f = NULL;
    int nf = 0;
    if (st == MS_OK) st = ms_csv_infer_schema(ms_fs_local(), abs, &o, &f, &nf, err);
    if (st == MS_OK) st = sig_fields(&s, &len, &cap, f, nf, err);
    for (int i = 0; i < nf; i++) ms_field_reset(&f[i]);
    ms_free(f);
  } else {
    ms_pq_file *f = NULL;
    st = ms_pq_open(ms_fs_local(), abs, &f, err);
    if (st == MS_OK) len = (size_t)snprintf(s, cap, "parquet:");
    bool nested = false;
    for (int i = 0; st == MS_OK && !nested && i < ms_pq_num_fields(f); i++) {
      nested = ms_pq_field_is_nested(f, i);
      if (!nested) st = sig_fields(&s, &len, &cap, ms_pq_field(f, i), 1, err);
    }
    ms_pq_close(f);
    if (nested) { /* unreadable columns: leave the file alone */
      ms_free(s);
      return st;
    }
  }
  if (st) {
    ms_free(s);
    return st;
  }
  *out = s;
  return MS_OK;
}

/* The bytes a Parquet file's data takes: its size without the footer and magic numbers
 * (the footer length is stored in the 4 bytes before the final "PAR1"). */
static int64_t parquet_payload(const char *abs, int64_t bytes) {
  ms_file *f = NULL;
  uint8_t tail[8];
  int64_t payload = bytes;
  if (bytes > 12 && ms_fs_open(ms_fs_local(), abs, &f, NULL) == MS_OK &&
      ms_file_read_at(f, bytes - 8, 8, tail, NULL) == MS_OK) {
    int64_t footer = (int64_t)tail[0] | (int64_t)tail[1] << 8 | (int64_t)tail[2] << 16 | (int64_t)tail[3] << 24;
    if (footer > 0 && footer < bytes - 12) payload = bytes - footer - 12;
  }
  ms_file_close(f);
  return payload > 0 ? payload : 1;
}

/* The live files: the manifest's token files and every other file below the root. */
static ms_status list_live(const char *root, const ms_manifest *m, cp_plan *p, ms_error *err) {
  ms__strvec files = {0};
  ms_status st = ms__list_files_recursive(ms_fs_local(), root, &files, err);
  size_t rl = strlen(root);
  int cap = m->n_files + (int)files.n + 1;
  p->e = ms_calloc((size_t)cap, sizeof *p->e);
  if (st == MS_OK && !p->e) st = oom(err);
  for (int i = 0; st == MS_OK && i < m->n_files; i++) {
    cp_entry *e = &p->e[p->ne++];
    e->rel = ms_strdup(m->files[i].path);
    e->token = true;
    e->bytes = m->files[i].bytes;
    e->rows = m->files[i].rows;
    e->group = -1;
    if (!e->rel) st = oom(err);
  }
  for (int64_t i = 0; st == MS_OK && i < files.n; i++) {
    const char *abs = files.items[i];
    const char *base = strrchr(abs, '/');
    base = base ? base + 1 : abs;
    if (ms_store_is_token_name(base)) continue; /* live only through the manifest */
    if (strncmp(abs, root, rl) != 0 || abs[rl] != '/') continue;
    cp_entry *e = &p->e[p->ne++];
    e->rel = ms_strdup(abs + rl + 1);
    e->group = -1;
    if (!e->rel) st = oom(err);
  }
  ms__strvec_reset(&files);
  if (st == MS_OK) qsort(p->e, (size_t)p->ne, sizeof *p->e, entry_cmp);
  return st;
}

/* Runs of candidates cut into groups (see the top of the file). */
static ms_status plan_groups(cp_plan *p, int64_t target, ms_error *err) {
  ms_status st = MS_OK;
  for (int i = 0; st == MS_OK && i < p->ne; i++) {
    cp_entry *e = &p->e[i];
    if (!e->token || e->bytes >= target / 2) continue;
    char *abs = ms_asprintf("%s/%s", p->root, e->rel);
    if (!abs) return oom(err);
    st = file_sig(abs, &e->sig, err);
    e->weight = ms_format_from_path(abs) == MS_FORMAT_PARQUET ? parquet_payload(abs, e->bytes) : e->bytes;
    ms_free(abs);
  }
  p->g = ms_calloc((size_t)(p->ne ? p->ne : 1), sizeof *p->g);
  if (st == MS_OK && !p->g) st = oom(err);
  for (int i = 0; st == MS_OK && i < p->ne;) {
    if (!p->e[i].sig) {
      i++;
      continue;
    }
    /* the run [i, j) */
    int j = i + 1;
    while (j < p->ne && p->e[j].sig && strcmp(p->e[j].sig, p->e[i].sig) == 0 &&
           same_folder(p->e[j].rel, p->e[i].rel) && strcmp(ext_of(p->e[j].rel), ext_of(p->e[i].rel)) == 0)
      j++;
    for (int a = i; a < j;) {
      int b = a + 1;
      int64_t sum = p->e[a].weight;
      while (b < j && sum + p->e[b].weight <= target) sum += p->e[b++].weight;
      if (b - a >= 2) {
        cp_group *g = &p->g[p->ng];
        g->first = a;
        g->n = b - a;
        g->fmt = ms_format_from_path(p->e[a].rel);
        g->bytes_in = sum;
        for (int k = a; k < b; k++) {
          p->e[k].group = p->ng;
          g->rows += p->e[k].rows;
        }
        p->ng++;
      }
      a = b;
    }
    i = j;
  }
  return st;
}

/* The name at sequence position of entry i after the merge, or NULL when the entry is not
 * the first of its group (it disappears). */
static const char *name_after(const cp_plan *p, int i) {
  const cp_entry *e = &p->e[i];
  if (e->group < 0) return e->rel;
  const cp_group *g = &p->g[e->group];
  if (g->dropped) return e->rel;
  return g->first == i ? g->out_rel : NULL;
}

/* Marks bad[g] for every group whose merged name does not sort strictly between its
 * neighbours in the list after the merge; returns how many. */
static int check_order(const cp_plan *p, bool *bad) {
  int nbad = 0;
  const char *prev = NULL;
  int prev_group = -1;
  for (int g = 0; g < p->ng; g++) bad[g] = false;
  for (int i = 0; i < p->ne; i++) {
    const char *name = name_after(p, i);
    if (!name) continue;
    int grp = p->e[i].group >= 0 && !p->g[p->e[i].group].dropped ? p->e[i].group : -1;
    if (prev && strcmp(prev, name) >= 0) {
      if (grp >= 0 && !bad[grp]) bad[grp] = true, nbad++;
      if (prev_group >= 0 && !bad[prev_group]) bad[prev_group] = true, nbad++;
    }
    prev = name;
    prev_group = grp;
  }
  return nbad;
}

static ms_status name_group(ms_store *s, const cp_plan *p, cp_group *g, ms_error *err) {
  ms_free(g->out_rel);
  ms_free(g->out_abs);
  g->out_rel = g->out_abs = NULL;
  const char *first = p->e[g->first].rel;
  char *folder = ms_strndup(first, folder_len(first));
  char *stem = stem_of(first);
  ms_status st = folder && stem ? ms_store_new_path(s, folder, stem, ext_of(first), &g->out_rel, err) : oom(err);
  if (st == MS_OK && !(g->out_abs = ms_asprintf("%s/%s", p->root, g->out_rel))) st = oom(err);
  ms_free(folder);
  ms_free(stem);
  return st;
}

static ms_status name_groups(ms_store *s, cp_plan *p, ms_error *err) {
  ms_status st = MS_OK;
  for (int g = 0; st == MS_OK && g < p->ng; g++) st = name_group(s, p, &p->g[g], err);
  bool *bad = ms_calloc((size_t)(p->ng ? p->ng : 1), sizeof *bad);
  if (st == MS_OK && !bad) st = oom(err);
  for (int round = 0; st == MS_OK && check_order(p, bad) > 0; round++) {
    for (int g = 0; st == MS_OK && g < p->ng; g++) {
      if (!bad[g]) continue;
      if (round < NAME_TRIES) st = name_group(s, p, &p->g[g], err);
      else p->g[g].dropped = true; /* its inputs keep their names, which sort */
    }
  }
  ms_free(bad);
  return st;
}

typedef struct cp_progress {
  const ms_compact_options *o;
  int64_t done, total;
} cp_progress;

static void progress(cp_progress *pr, int64_t rows) {
  pr->done += rows;
  if (pr->o && pr->o->progress) pr->o->progress(pr->o->progress_ctx, "compact", pr->done, pr->total);
}

/* Parquet: the inputs' row groups, in order, into one new file with the first input's
 * columns and footer metadata. */
static ms_status merge_parquet(const cp_plan *p, cp_group *g, ms_pool *pool, cp_progress *pr, ms_error *err) {
  ms_pq_file *f0 = NULL;
  ms_pq_writer *w = NULL;
  char *abs = ms_asprintf("%s/%s", p->root, p->e[g->first].rel);
  ms_status st = abs ? ms_pq_open(ms_fs_local(), abs, &f0, err) : oom(err);
  ms_free(abs);
  int nf = st == MS_OK ? ms_pq_num_fields(f0) : 0, nkv = st == MS_OK ? ms_pq_num_kv(f0) : 0;
  ms_field *fields = ms_calloc((size_t)(nf ? nf : 1), sizeof *fields);
  const char **kk = ms_calloc((size_t)(nkv ? nkv : 1), sizeof *kk);
  const char **kv = ms_calloc((size_t)(nkv ? nkv : 1), sizeof *kv);
  if (st == MS_OK && (!fields || !kk || !kv)) st = oom(err);
  for (int i = 0; st == MS_OK && i < nf; i++) fields[i] = *ms_pq_field(f0, i);
  /* a column is optional in the merged file when it is in any input (same names and types:
   * the group's signature) */
  for (int k = 1; st == MS_OK && k < g->n; k++) {
    char *in = ms_asprintf("%s/%s", p->root, p->e[g->first + k].rel);
    ms_pq_file *f = NULL;
    st = in ? ms_pq_open(ms_fs_local(), in, &f, err) : oom(err);
    for (int i = 0; st == MS_OK && i < nf && i < ms_pq_num_fields(f); i++)
      if (ms_pq_field(f, i)->nullable) fields[i].nullable = true;
    ms_pq_close(f);
    ms_free(in);
  }
  for (int i = 0; st == MS_OK && i < nkv; i++) {
    kk[i] = ms_pq_kv_key(f0, i);
    kv[i] = ms_pq_kv_value(f0, i) ? ms_pq_kv_value(f0, i) : "";
  }
  if (st == MS_OK) {
    ms_pq_write_options o;
    ms_pq_write_options_init(&o);
    o.kv_keys = kk;
    o.kv_values = kv;
    o.n_kv = nkv;
    o.pool = pool;
    st = ms_pq_writer_open(ms_fs_local(), g->out_abs, fields, nf, &o, &w, err);
  }
  for (int k = 0; st == MS_OK && k < g->n; k++) {
    const char *rel = p->e[g->first + k].rel;
    char *in = ms_asprintf("%s/%s", p->root, rel);
    ms_pq_file *f = NULL;
    st = in ? ms_pq_open(ms_fs_local(), in, &f, err) : oom(err);
    for (int rg = 0; st == MS_OK && rg < ms_pq_num_row_groups(f); rg++) {
      ms_pq_read_options ro = {0};
      ro.row_groups = &rg;
      ro.n_row_groups = 1;
      ro.pool = pool;
      ms_table *t = NULL;
      st = ms_pq_read(f, &ro, &t, NULL, err);
      if (st == MS_OK) st = ms_pq_writer_write(w, t, err);
      if (st == MS_OK) progress(pr, ms_table_num_rows(t));
      ms_table_release(t);
    }
    if (st && err && !err->file[0]) ms_error_set_file(err, in);
    ms_pq_close(f);
    ms_free(in);
  }
  if (st == MS_OK) st = ms_pq_writer_close(w, err);
  else ms_pq_writer_abort(w);
  ms_pq_close(f0);
  ms_free(fields);
  ms_free(kk);
  ms_free(kv);
  return st;
}

/* CSV: the first file whole, then each other file without its header line (the headers
 * are equal: the group's signature), so every cell reads back as it did. */
static ms_status merge_csv(const cp_plan *p, cp_group *g, cp_progress *pr, ms_error *err) {
  ms_file_writer *w = NULL;
  ms_status st = ms_fs_create_writer(ms_fs_local(), g->out_abs, &w, err);
  uint8_t last = '\n';
  for (int k = 0; st == MS_OK && k < g->n; k++) {
    const cp_entry *e = &p->e[g->first + k];
    char *in = ms_asprintf("%s/%s", p->root, e->rel);
    uint8_t *buf = NULL;
    int64_t len = 0;
    st = in ? ms_fs_read_all(ms_fs_local(), in, &buf, &len, err) : oom(err);
    int64_t off = st == MS_OK && k > 0 ? csv_header_len(buf, len) : 0;
    if (st == MS_OK && len > off && last != '\n') st = ms_writer_write(w, "\n", 1, err);
    if (st == MS_OK && len > off) {
      st = ms_writer_write(w, buf + off, len - off, err);
      last = buf[len - 1];
    }
    if (st == MS_OK) progress(pr, e->rows);
    ms_free(buf);
    ms_free(in);
  }
  if (st == MS_OK && last != '\n') st = ms_writer_write(w, "\n", 1, err);
  if (st == MS_OK) st = ms_writer_commit(w, err);
  else ms_writer_abort(w);
  return st;
}

static int64_t file_bytes(const char *abs) {
  struct stat sb;
  return stat(abs, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

ms_status ms_compact_view(ms_repo *repo, ms_registry *reg, const char *feature_view,
                          const ms_compact_options *opts, ms_compact_result *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  ms_compact_options defaults;
  if (!opts) {
    ms_compact_options_init(&defaults);
    opts = &defaults;
  }
  const ms_repo_config *cfg = ms_repo_get_config(repo);
  const ms_feature_view_def *fv = ms_repo_find_feature_view(repo, feature_view);
  if (!fv) {
    if (ms_repo_find_odfv(repo, feature_view))
      return ms_error_set(err, MS_ERR_INVALID, "'%s' is an on-demand feature view: it has no source to compact",
                          feature_view);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "unknown feature view '%s'", feature_view);
  }
  const ms_source_def *src = fv->source ? ms_repo_find_source(repo, fv->source) : NULL;
  if (!src || !src->path)
    return ms_error_set(err, MS_ERR_INVALID, "feature view '%s' has no file source to compact", feature_view);
  struct stat sb;
  if (stat(src->path, &sb) != 0 && ms__glob_has_magic(src->path))
    return ms_error_set(err, MS_ERR_UNSUPPORTED,
                        "source '%s' of feature view '%s' is a glob pattern (%s): compaction works on a directory",
                        src->name, feature_view, src->path);
  if (stat(src->path, &sb) != 0) {
    ms_error_set_file(err, src->path);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "source '%s' of feature view '%s': %s does not exist", src->name,
                        feature_view, src->path);
  }
  if (!S_ISDIR(sb.st_mode)) { /* one file: nothing to merge */
    out->single_file = true;
    return MS_OK;
  }
  int64_t target = opts->target_bytes > 0 ? opts->target_bytes : cfg->target_partition_size_mb * MIB;
  if (target <= 0) target = 64 * MIB;

  char *dataset = ms_asprintf("source:%s", src->name);
  if (!dataset) return oom(err);
  ms_store_options so;
  ms_store_options_init(&so);
  so.registry = reg;
  so.project = cfg->project;
  so.dataset = dataset;
  so.retention_seconds = cfg->file_retention_seconds;
  ms_store *s = NULL;
  ms_manifest m = {0};
  cp_plan p = {0};
  ms_pool *pool = NULL;
  ms_status st = ms_store_open(src->path, &so, &s, err);
  if (st == MS_OK) {
    p.root = ms_store_root(s);
    st = ms_manifest_read(p.root, &m, err);
  }
  if (st == MS_OK) st = list_live(p.root, &m, &p, err);
  if (st == MS_OK) st = plan_groups(&p, target, err);
  if (st == MS_OK) st = name_groups(s, &p, err);
  out->files_before = m.n_files;
  cp_progress pr = {opts, 0, 0};
  for (int g = 0; g < p.ng; g++)
    if (!p.g[g].dropped) pr.total += p.g[g].rows;
  int n_active = 0, n_inputs = 0;
  for (int g = 0; g < p.ng; g++)
    if (!p.g[g].dropped) n_active++, n_inputs += p.g[g].n;
  if (st == MS_OK && n_active > 0)
    st = ms_pool_create(opts->threads > 0 ? opts->threads : cfg->threads, &pool, err);
  int written = 0; /* groups [0, written) may have files on disk */
  for (int g = 0; st == MS_OK && g < p.ng; g++) {
    written = g + 1;
    cp_group *grp = &p.g[g];
    if (grp->dropped) continue;
    st = grp->fmt == MS_FORMAT_CSV ? merge_csv(&p, grp, &pr, err) : merge_parquet(&p, grp, pool, &pr, err);
    if (st == MS_OK) grp->bytes_out = file_bytes(grp->out_abs);
  }
  ms_store_file *adds = ms_calloc((size_t)(n_active ? n_active : 1), sizeof *adds);
  const char **removes = ms_calloc((size_t)(n_inputs ? n_inputs : 1), sizeof *removes);
  if (st == MS_OK && (!adds || !removes)) st = oom(err);
  int64_t gen = 0;
  if (st == MS_OK && n_active > 0) {
    int na = 0, nr = 0;
    for (int g = 0; g < p.ng; g++) {
      cp_group *grp = &p.g[g];
      if (grp->dropped) continue;
      adds[na].path = grp->out_rel;
      adds[na].rows = grp->rows;
      adds[na].bytes = grp->bytes_out;
      na++;
      for (int k = 0; k < grp->n; k++) removes[nr++] = p.e[grp->first + k].rel;
    }
    char detail[128];
    snprintf(detail, sizeof detail, "{\"target_bytes\":%lld}", (long long)target);
    ms_store_commit c = {0};
    c.kind = "compact";
    c.adds = adds;
    c.n_adds = na;
    c.removes = removes;
    c.n_removes = nr;
    c.rows_added = pr.total;
    c.rows_removed = pr.total;
    c.detail_json = detail;
    st = ms_store_commit_files(s, &c, &gen, err);
    if (st && err) {
      char msg[sizeof err->message];
      snprintf(msg, sizeof msg, "%s", err->message);
      ms_error_set(err, st, "compaction of feature view '%s' (source '%s'): %s; nothing was changed", feature_view,
                   src->name, msg);
    }
  }
  if (st != MS_OK && written > 0) { /* uncommitted merged files: invisible, delete them now */
    ms_manifest now = {0};
    bool have = p.root && ms_manifest_read(p.root, &now, NULL) == MS_OK;
    for (int g = 0; have && g < written; g++) {
      bool live = false; /* a commit that failed after its rename listed them: keep */
      for (int i = 0; p.g[g].out_rel && i < now.n_files && !live; i++) live = strcmp(now.files[i].path, p.g[g].out_rel) == 0;
      if (p.g[g].out_abs && !p.g[g].dropped && !live) (void)ms_fs_remove(ms_fs_local(), p.g[g].out_abs, NULL);
    }
    ms_manifest_reset(&now);
  }
  if (st == MS_OK) {
    out->files_merged = n_inputs;
    out->files_written = n_active;
    out->files_after = out->files_before - n_inputs + n_active;
    out->rows = pr.total;
    out->generation = gen;
    /* the commit is done: a failed collection only delays deletions to the next one */
    int64_t deleted = 0;
    if (ms_store_gc(s, &deleted, NULL) == MS_OK) out->files_deleted = deleted;
  }
  ms_free(adds);
  ms_free(removes);
  ms_pool_destroy(pool);
  plan_reset(&p);
  ms_manifest_reset(&m);
  ms_store_close(s);
  ms_free(dataset);
  return st;
}
