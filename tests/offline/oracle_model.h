/* The model behind tests/offline/test_offline_oracle.c: a whole retrieval case (feature
 * views, their sources split over files, a feature request, an entity input) as plain
 * arrays, a generator of random cases, and the code that writes a case out as a feature
 * repository (feature_store.yaml, definitions YAML, Parquet/CSV sources, entity file).
 *
 * Keys and timestamps are kept in the model as (value, null) pairs: an int key is its
 * value, a string key the index of its text in a small pool (equal index = equal bytes),
 * a timestamp its UTC nanoseconds. Feature values are generated as morsel columns (they
 * are only ever copied, never compared by the oracle's rules), and every source is read
 * back through the dataset reader once written, so that expected feature cells carry the
 * exact type a reader of that file produces (CSV infers its own types).
 *
 * Only test code includes this header (static functions, one translation unit). */
#ifndef MS_TESTS_OFFLINE_ORACLE_MODEL_H
#define MS_TESTS_OFFLINE_ORACLE_MODEL_H

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "morsel/csv.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/parquet.h"
#include "morsel/table.h"
#include "ms_test.h"

#define OM_MAXV 3  /* feature views per case */
#define OM_MAXF 4  /* features per view */
#define OM_MAXP 4  /* projections (request groups) per case */
#define OM_MAXE 16 /* entity input columns: up to 8 keys (4 service items x 2), ts, 3 extras */

/* ---- random numbers (splitmix64: a case is a pure function of its seed) ---- */
typedef struct om_rng {
  uint64_t s;
} om_rng;

static uint64_t om_next(om_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static int om_int(om_rng *r, int n) { return n <= 1 ? 0 : (int)(om_next(r) % (uint64_t)n); }
static bool om_p(om_rng *r, double p) {
  return (double)(om_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---- entities: fixed names and key kinds ---- */
enum { OM_KINT = 0, OM_KSTR = 1 };
typedef struct om_entity {
  const char *name, *key;
  int kind;
} om_entity;
static const om_entity OM_ENTS[] = {
    {"customer", "customer_id", OM_KINT},
    {"driver", "driver_id", OM_KSTR},
    {"location", "location_id", OM_KINT},
    {"store", "store_code", OM_KSTR},
};
#define OM_NENTS 4

/* Key value pools: index 0.. are the known keys of a case (the first nk), the rest are
 * unknown to every source. Awkward values early so that small cases meet them. */
static const int64_t OM_INT_KEYS[] = {1, 2, -7, 1099511627776LL, 3, 0, 4, 5, 6, 99};
static const char *const OM_STR_KEYS[] = {"k1", "", "k2", "\xc3\xbc\xe2\x86\x92", "a,b",
                                          "k3", "K1", "k1 ", "q\"x", "zz"};
#define OM_NKEYS 10

typedef struct om_kv {
  int64_t v;
  bool null;
} om_kv;

/* Feature types. */
enum { OM_FI64, OM_FI32, OM_FF64, OM_FSTR, OM_FBOOL, OM_FTS, OM_NFT };
static const char *const OM_FT_DTYPE[] = {"int64", "int32", "float64", "string", "bool",
                                          "timestamp"};

typedef struct om_source {
  char name[24];
  bool csv, single_file;
  int n_files;
  char fname[16][64]; /* relative to the source directory, sorted */
  int64_t frows[16];
  bool partitioned;   /* hive date=YYYY-MM-DD/ folders, date_partition_column: date */
  int rg_rows;
  char ts_log[24], ts_phys[24];
  ms_time_unit ts_unit;
  bool ts_tz;
  bool has_cr;
  char cr_log[24], cr_phys[24];
  ms_time_unit cr_unit;
  bool cr_tz;
  char key_phys[2][24];
  char feat_phys[OM_MAXF][24];
  bool junk; /* an extra source column no view uses */
  int64_t n;
  om_kv *key[2], *ts, *cr;
  ms_column *feat[OM_MAXF]; /* model order = sorted file order */
  ms_table *read;           /* the source read back (physical names) */
} om_source;

typedef struct om_view {
  char name[16];
  int n_keys, ent[2];
  int64_t ttl_s;
  int n_feat;
  char feat[OM_MAXF][24];
  int ft[OM_MAXF];
  om_source s;
} om_view;

/* One group of the request: a view (maybe under an alias, maybe joined on other entity
 * columns) and its requested features in request order. */
typedef struct om_proj {
  int view;
  char alias[16];           /* "" = none */
  char keycol[2][32];       /* the entity column each view key is joined on */
  bool mapped;              /* keycol differs from the key name somewhere */
  bool all_feats;           /* service item naming no features = all, schema order */
  int n_feat, feat[OM_MAXF];
} om_proj;

enum { OM_EKEY = 0, OM_ETS = 1, OM_EXTRA = 2 };
typedef struct om_ecol {
  char name[32];
  int role, kind;
  om_kv *v;
  ms_datatype type;
} om_ecol;

enum { OM_ENT_TABLE = 0, OM_ENT_PARQUET = 1, OM_ENT_CSV = 2 };

typedef struct om_case {
  uint64_t seed;
  int size; /* 0 small; 1 medium (a few thousand rows); 2 large (over 65,536 per view) */
  bool dense_keys; /* int keys are 1..nk (else the awkward pool, then 1000 + index) */
  int mem_limit_mb; /* offline_store.memory_limit_mb (0 = none): small, for time windows */
  int64_t window_s; /* offline_store.window_size_for_joins in seconds */
  char dir[1100];
  /* time pool: instants base + k*step (k < nk_t), sometimes nudged by one unit */
  int64_t base_ns, step_ns;
  int n_instants;
  int nk;        /* known key values per kind */
  bool no_empty; /* some CSV file holds string keys: "" would read back as null */
  int n_views;
  om_view v[OM_MAXV];
  int n_proj;
  om_proj p[OM_MAXP];
  bool service;
  int n_refs;
  char refs[OM_MAXV * OM_MAXF][48];
  bool full_names, filter_created;
  bool range_mode;
  int64_t start_ns, end_ns;
  int ent_mode;
  int n_ecols, ets;
  om_ecol ec[OM_MAXE];
  int64_t n_ent;
  ms_table *ent_table;    /* what is handed over (table mode) or written (file modes) */
  ms_table *ent_expected; /* the entity columns as the output must show them */
  char drop_col[32];      /* a required entity column left out on purpose ("" = none) */
  bool ts_problem;        /* no usable entity timestamp column: must be refused */
} om_case;

/* Key text of a string key index: the pool, then generated names for larger cases. */
static const char *om_kstr(const om_case *c, int64_t i) {
  static char more[4096][16];
  if (c->no_empty && i == 1) return "k9";
  if (i < OM_NKEYS) return OM_STR_KEYS[i];
  if (i >= 4096) return "s-overflow";
  if (!more[i][0]) snprintf(more[i], sizeof more[i], "s%lld", (long long)i);
  return more[i];
}

/* Int key value of a key index: the pool, then plain numbers for larger cases. */
static int64_t om_kint(int64_t i) { return i < OM_NKEYS ? OM_INT_KEYS[i] : 1000 + i; }

static int64_t om_unit_ns(ms_time_unit u) {
  switch (u) {
    case MS_UNIT_SECOND: return 1000000000LL;
    case MS_UNIT_MILLI: return 1000000LL;
    case MS_UNIT_MICRO: return 1000LL;
    default: return 1;
  }
}

static ms_datatype om_ts_type(ms_time_unit u, bool tz) { return ms_type_timestamp(u, tz ? "UTC" : ""); }

/* A timestamp from the case's pool, representable in unit u. */
static om_kv om_gen_ts(om_case *c, om_rng *r, ms_time_unit u, double p_null) {
  om_kv k = {0, false};
  if (om_p(r, p_null)) {
    k.null = true;
    return k;
  }
  k.v = c->base_ns + (int64_t)om_int(r, c->n_instants) * c->step_ns;
  if (om_p(r, 0.25)) { /* one second/milli/micro/nano off, as far as the unit can say */
    int64_t d = om_unit_ns((ms_time_unit)om_int(r, (int)u + 1));
    k.v += om_p(r, 0.5) ? d : -d;
  }
  return k;
}

/* ---- columns from model values ---- */

static ms_column *om_finish(ms_column_builder *b) {
  ms_column *col = NULL;
  ms_error err;
  ms_error_init(&err);
  if (ms_builder_finish(b, &col, &err) != MS_OK) col = NULL;
  ms_column_builder_destroy(b);
  return col;
}

static ms_column *om_key_column(const om_case *c, const om_kv *v, int64_t n, int kind,
                                ms_type_id int_type) {
  ms_datatype t = ms_type(kind == OM_KINT ? int_type : MS_TYPE_UTF8);
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (v[i].null) ms_builder_append_null(b);
    else if (kind == OM_KINT) ms_builder_append_i64(b, v[i].v);
    else {
      const char *s = om_kstr(c, v[i].v);
      ms_builder_append_bytes(b, s, (int64_t)strlen(s));
    }
  }
  return om_finish(b);
}

static ms_column *om_ts_column(const om_kv *v, int64_t n, ms_time_unit u, bool tz) {
  ms_datatype t = om_ts_type(u, tz);
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (v[i].null) ms_builder_append_null(b);
    else ms_builder_append_i64(b, v[i].v / om_unit_ns(u));
  }
  return om_finish(b);
}

static const char *const OM_FSTRS[] = {"", "x", "y,z", "say \"hi\"", "na\xc3\xafve",
                                       "a much longer string value to cross a few bytes",
                                       "x\ny"};

/* A random feature column of type ft. csv: values that read back as themselves. */
static ms_column *om_gen_feature(om_case *c, om_rng *r, int ft, int64_t n, bool csv) {
  ms_datatype t;
  ms_time_unit tu = (ms_time_unit)om_int(r, 4);
  switch (ft) {
    case OM_FI64: t = ms_type(MS_TYPE_INT64); break;
    case OM_FI32: t = ms_type(MS_TYPE_INT32); break;
    case OM_FF64: t = ms_type(MS_TYPE_FLOAT64); break;
    case OM_FSTR: t = ms_type(MS_TYPE_UTF8); break;
    case OM_FBOOL: t = ms_type(MS_TYPE_BOOL); break;
    default: t = om_ts_type(tu, om_p(r, 0.5)); break;
  }
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  double p_null = om_p(r, 0.3) ? 0.0 : 0.25;
  for (int64_t i = 0; i < n; i++) {
    if (om_p(r, p_null) && !(csv && i == 0)) {
      ms_builder_append_null(b);
      continue;
    }
    switch (ft) {
      case OM_FI64: {
        int64_t v = (int64_t)om_int(r, 1000) - 500;
        if (om_p(r, 0.05)) v = om_p(r, 0.5) ? INT64_MAX : INT64_MIN + 1;
        ms_builder_append_i64(b, v);
        break;
      }
      case OM_FI32: ms_builder_append_i64(b, (int64_t)om_int(r, 100000) - 50000); break;
      case OM_FF64: /* never integral in CSV, where "3" would read back as an int */
        ms_builder_append_f64(b, (double)(om_int(r, 400) - 200) * 0.25 + (csv ? 0.125 : 0));
        break;
      case OM_FSTR: {
        const char *s = OM_FSTRS[om_int(r, 7)];
        if (csv && !*s) s = "e";
        ms_builder_append_bytes(b, s, (int64_t)strlen(s));
        break;
      }
      case OM_FBOOL: ms_builder_append_bool(b, om_p(r, 0.5)); break;
      default: ms_builder_append_i64(b, om_gen_ts(c, r, tu, 0).v / om_unit_ns(tu)); break;
    }
  }
  return om_finish(b);
}

/* ---- files ---- */

static int om_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}
static void om_rmtree(const char *dir) { nftw(dir, om_rm_cb, 16, FTW_DEPTH | FTW_PHYS); }

/* The local filesystem without fsync: test files need no durability, and a few thousand
 * fsyncs would dominate the run. Everything but writing is the local fs. */
typedef struct om_fast_writer {
  FILE *f;
  char *tmp;
} om_fast_writer;

static ms_status om_fw_write(ms_file_writer *w, const void *data, int64_t len, ms_error *err) {
  om_fast_writer *fw = w->impl;
  if (len > 0 && fwrite(data, 1, (size_t)len, fw->f) != (size_t)len)
    return ms_error_set(err, MS_ERR_IO, "cannot write %s", fw->tmp);
  w->bytes_written += len;
  return MS_OK;
}
static void om_fw_free(ms_file_writer *w) {
  om_fast_writer *fw = w->impl;
  if (fw->f) fclose(fw->f);
  ms_free(fw->tmp);
  ms_free(fw);
  ms_free(w->final_path);
  ms_free(w);
}
static void om_fw_abort(ms_file_writer *w) {
  om_fast_writer *fw = w->impl;
  if (fw->f) fclose(fw->f);
  fw->f = NULL;
  remove(fw->tmp);
  om_fw_free(w);
}
static ms_status om_fw_commit(ms_file_writer *w, ms_error *err) {
  om_fast_writer *fw = w->impl;
  int bad = fclose(fw->f);
  fw->f = NULL;
  if (bad || rename(fw->tmp, w->final_path) != 0) {
    remove(fw->tmp);
    om_fw_free(w);
    return ms_error_set(err, MS_ERR_IO, "cannot publish a test file");
  }
  om_fw_free(w);
  return MS_OK;
}
static const ms_file_writer_ops om_fw_ops = {om_fw_write, om_fw_commit, om_fw_abort};

static ms_status om_fast_create_writer(ms_fs *fs, const char *final_path, ms_file_writer **out,
                                       ms_error *err) {
  (void)fs;
  ms_file_writer *w = ms_calloc(1, sizeof *w);
  om_fast_writer *fw = ms_calloc(1, sizeof *fw);
  if (w) w->final_path = ms_strdup(final_path);
  if (fw) fw->tmp = ms_asprintf("%s.tmp", final_path);
  if (fw && fw->tmp) fw->f = fopen(fw->tmp, "wb");
  if (!w || !fw || !w->final_path || !fw->tmp || !fw->f) {
    if (fw && fw->f) fclose(fw->f);
    if (fw) ms_free(fw->tmp);
    ms_free(fw);
    if (w) ms_free(w->final_path);
    ms_free(w);
    return ms_error_set(err, MS_ERR_IO, "cannot create %s", final_path);
  }
  w->ops = &om_fw_ops;
  w->impl = fw;
  *out = w;
  return MS_OK;
}

static ms_fs *om_fast_fs(void) {
  static ms_fs_ops ops;
  static ms_fs fs;
  if (!fs.ops) {
    ops = *ms_fs_local()->ops;
    ops.name = "oracle-fast";
    ops.create_writer = om_fast_create_writer;
    fs.impl = ms_fs_local()->impl;
    fs.ops = &ops;
  }
  return &fs;
}

/* Where cases are written: a tmpfs when there is one (thousands of tiny files on a disk
 * file system cost seconds of inode work), else the test's scratch directory. */
static char om_scratch_dir[1024];
static void om_scratch_cleanup(void) { /* only when empty: kept failing cases stay */
  if (!strncmp(om_scratch_dir, "/dev/shm/", 9)) rmdir(om_scratch_dir);
}
static const char *om_scratch(void) {
  char *dir = om_scratch_dir;
  if (!dir[0]) {
    atexit(om_scratch_cleanup);
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) {
      snprintf(dir, sizeof om_scratch_dir, "/dev/shm/morsel-oracle-%d", (int)getpid());
      if (mkdir(dir, 0777) != 0) dir[0] = 0;
    }
    if (!dir[0]) snprintf(dir, sizeof om_scratch_dir, "%s", ms_test_tmpdir());
  }
  return dir;
}

static ms_status om_write_table(const char *path, const ms_table *t, bool csv, int rg_rows,
                                ms_error *err) {
  if (csv) {
    ms_csv_write_options o;
    ms_csv_write_options_init(&o);
    return ms_csv_write(om_fast_fs(), path, t, &o, err);
  }
  ms_pq_write_options o;
  ms_pq_write_options_init(&o);
  if (rg_rows > 0) o.row_group_rows = rg_rows;
  /* zstd's per-chunk contexts cost more than these tiny files; snappy now and then */
  o.compression = rg_rows % 3 == 0 ? MS_CODEC_SNAPPY : MS_CODEC_UNCOMPRESSED;
  o.dictionary = rg_rows % 2 == 0;
  return ms_pq_write_table(om_fast_fs(), path, t, &o, err);
}

static ms_status om_read_dataset(const char *path, ms_table **out, ms_error *err) {
  ms_dataset *ds = NULL;
  ms_dataset_options o;
  ms_dataset_options_init(&o);
  ms_status st = ms_dataset_open(ms_fs_local(), path, &o, &ds, err);
  if (st == MS_OK) {
    ms_dataset_read_options ro;
    memset(&ro, 0, sizeof ro);
    st = ms_dataset_read(ds, &ro, out, NULL, err);
  }
  ms_dataset_close(ds);
  return st;
}

/* Path of a source relative to the repository ("data/<name>" or one file in it). */
static void om_source_path(const om_source *s, char *buf, size_t n) {
  if (s->single_file) snprintf(buf, n, "data/%s/%s", s->name, s->fname[0]);
  else snprintf(buf, n, "data/%s", s->name);
}

/* Checks that column `name` of t holds the model values mv (keys or timestamps). */
static ms_status om_check_model(const om_case *c, const ms_table *t, const char *name,
                                const om_kv *mv, ms_error *err) {
  int ci = ms_table_find_column(t, name);
  if (ci < 0) return ms_error_set(err, MS_ERR_INTERNAL, "column %s did not read back", name);
  const ms_column *col = ms_table_column(t, ci);
  const ms_datatype *ty = ms_column_type(col);
  for (int64_t i = 0; i < ms_table_num_rows(t); i++) {
    bool same = ms_column_is_null(col, i) == mv[i].null;
    if (same && !mv[i].null) {
      if (ty->id == MS_TYPE_TIMESTAMP)
        same = ms_column_get_i64(col, i) * om_unit_ns(ty->unit) == mv[i].v;
      else if (ms_type_is_integer(ty)) same = ms_column_get_i64(col, i) == mv[i].v;
      else {
        int64_t len;
        const uint8_t *p = ms_column_get_bytes(col, i, &len);
        const char *want = om_kstr(c, mv[i].v);
        same = len == (int64_t)strlen(want) && !memcmp(p, want, (size_t)len);
      }
    }
    if (!same)
      return ms_error_set(err, MS_ERR_INTERNAL,
                          "column %s row %lld reads back differently from the model", name,
                          (long long)i);
  }
  return MS_OK;
}

/* Writes a source's files (rows split in sorted file order) and reads it back. */
static ms_status om_write_source(om_case *c, om_view *v, om_rng *r, ms_error *err) {
  om_source *s = &v->s;
  char dir[1300];
  snprintf(dir, sizeof dir, "%s/data/%s", c->dir, s->name);
  mkdir(dir, 0777);
  ms_field fields[16];
  ms_column *cols[16];
  int nc = 0;
  for (int k = 0; k < v->n_keys; k++) {
    /* now and then an int32 key column (when the values fit) against int64 entity keys;
     * not in entity-less mode, where the derived key column takes the source type */
    bool fits = true;
    for (int64_t i = 0; i < s->n; i++) fits &= s->key[k][i].v == (int32_t)s->key[k][i].v;
    ms_type_id kt = fits && !s->csv && !c->range_mode && om_p(r, 0.15) ? MS_TYPE_INT32 : MS_TYPE_INT64;
    cols[nc] = om_key_column(c, s->key[k], s->n, OM_ENTS[v->ent[k]].kind, kt);
    fields[nc].name = s->key_phys[k];
    nc++;
  }
  cols[nc] = om_ts_column(s->ts, s->n, s->ts_unit, s->ts_tz);
  fields[nc++].name = s->ts_phys;
  if (s->has_cr) {
    cols[nc] = om_ts_column(s->cr, s->n, s->cr_unit, s->cr_tz);
    fields[nc++].name = s->cr_phys;
  }
  for (int f = 0; f < v->n_feat; f++) {
    cols[nc] = ms_column_retain(s->feat[f]);
    fields[nc++].name = s->feat_phys[f];
  }
  if (s->junk) {
    om_kv *jv = calloc((size_t)s->n + 1, sizeof *jv);
    for (int64_t i = 0; i < s->n; i++) jv[i].v = (int64_t)om_int(r, 3);
    cols[nc] = om_key_column(c, jv, s->n, OM_KINT, MS_TYPE_INT64);
    free(jv);
    fields[nc++].name = (char *)"junk";
  }
  for (int i = nc - 1; i > 0; i--) { /* file column order is no contract: shuffle it */
    int j = om_int(r, i + 1);
    ms_field tf = fields[i];
    fields[i] = fields[j];
    fields[j] = tf;
    ms_column *tc = cols[i];
    cols[i] = cols[j];
    cols[j] = tc;
  }
  ms_status st = MS_OK;
  for (int i = 0; i < nc; i++) {
    if (!cols[i]) st = ms_error_set(err, MS_ERR_NOMEM, "building a source column");
    else {
      fields[i].type = *ms_column_type(cols[i]);
      fields[i].nullable = true;
    }
  }
  ms_table *all = NULL;
  if (st == MS_OK) st = ms_table_create(fields, cols, nc, &all, err);
  for (int i = 0; i < nc; i++) ms_column_release(cols[i]);
  int64_t off = 0;
  for (int f = 0; st == MS_OK && f < s->n_files; f++) {
    ms_table *part = NULL;
    st = ms_table_slice(all, off, s->frows[f], &part, err);
    off += s->frows[f];
    char path[1800];
    snprintf(path, sizeof path, "%s/%s", dir, s->fname[f]);
    char *slash = strrchr(path, '/');
    *slash = 0;
    mkdir(path, 0777); /* a partition folder */
    *slash = '/';
    if (st == MS_OK) st = om_write_table(path, part, s->csv, s->rg_rows, err);
    if (part) ms_table_release(part);
  }
  if (all) ms_table_release(all);
  char rel[200], path[1400];
  om_source_path(s, rel, sizeof rel);
  snprintf(path, sizeof path, "%s/%s", c->dir, rel);
  if (st == MS_OK) st = om_read_dataset(path, &s->read, err);
  if (st == MS_OK && ms_table_num_rows(s->read) != s->n)
    st = ms_error_set(err, MS_ERR_INTERNAL, "source %s read back %lld rows, wrote %lld",
                      s->name, (long long)ms_table_num_rows(s->read), (long long)s->n);
  /* the model's keys and times are what the files say (guards the model itself) */
  for (int k = -2; st == MS_OK && k < v->n_keys; k++) {
    const char *name = k == -2 ? s->ts_phys : k == -1 ? (s->has_cr ? s->cr_phys : NULL) : s->key_phys[k];
    if (!name) continue;
    const om_kv *mv = k == -2 ? s->ts : k == -1 ? s->cr : s->key[k];
    st = om_check_model(c, s->read, name, mv, err);
  }
  return st;
}

/* The definitions YAML of a case. */
static void om_write_defs(const om_case *c, FILE *f) {
  fprintf(f, "entities:\n");
  for (int e = 0; e < OM_NENTS; e++)
    fprintf(f, "  - name: %s\n    join_keys: [%s]\n    value_type: %s\n", OM_ENTS[e].name,
            OM_ENTS[e].key, OM_ENTS[e].kind == OM_KINT ? "int64" : "string");
  fprintf(f, "sources:\n");
  for (int i = 0; i < c->n_views; i++) {
    const om_view *v = &c->v[i];
    const om_source *s = &v->s;
    char rel[200];
    om_source_path(s, rel, sizeof rel);
    fprintf(f, "  - name: %s\n    path: %s\n    file_format: %s\n    timestamp_field: %s\n",
            s->name, rel, s->csv ? "csv" : "parquet", s->ts_log);
    if (s->has_cr) fprintf(f, "    created_timestamp_column: %s\n", s->cr_log);
    if (s->partitioned) fprintf(f, "    date_partition_column: date\n");
    int nm = 0;
    char map[1024] = "";
    size_t used = 0;
#define OM_MAP(phys, log)                                                                   \
  if (strcmp((phys), (log)) != 0) {                                                        \
    used += (size_t)snprintf(map + used, sizeof map - used, "%s%s: %s", nm++ ? ", " : "", \
                             (phys), (log));                                               \
  }
    for (int k = 0; k < v->n_keys; k++) OM_MAP(s->key_phys[k], OM_ENTS[v->ent[k]].key);
    OM_MAP(s->ts_phys, s->ts_log);
    if (s->has_cr) OM_MAP(s->cr_phys, s->cr_log);
    for (int k = 0; k < v->n_feat; k++) OM_MAP(s->feat_phys[k], v->feat[k]);
#undef OM_MAP
    if (nm) fprintf(f, "    field_mapping: {%s}\n", map);
  }
  fprintf(f, "feature_views:\n");
  for (int i = 0; i < c->n_views; i++) {
    const om_view *v = &c->v[i];
    fprintf(f, "  - name: %s\n    entities: [", v->name);
    for (int k = 0; k < v->n_keys; k++) fprintf(f, "%s%s", k ? ", " : "", OM_ENTS[v->ent[k]].name);
    fprintf(f, "]\n    ttl: %llds\n    source: %s\n    schema:\n", (long long)v->ttl_s, v->s.name);
    for (int k = 0; k < v->n_feat; k++)
      fprintf(f, "      - {name: %s, dtype: %s}\n", v->feat[k], OM_FT_DTYPE[v->ft[k]]);
  }
  if (!c->service) return;
  fprintf(f, "feature_services:\n  - name: svc\n    features:\n");
  for (int i = 0; i < c->n_proj; i++) {
    const om_proj *p = &c->p[i];
    const om_view *v = &c->v[p->view];
    fprintf(f, "      - feature_view: %s\n", v->name);
    if (!p->all_feats) {
      fprintf(f, "        features: [");
      for (int k = 0; k < p->n_feat; k++) fprintf(f, "%s%s", k ? ", " : "", v->feat[p->feat[k]]);
      fprintf(f, "]\n");
    }
    if (p->alias[0]) fprintf(f, "        alias: %s\n", p->alias);
    if (p->mapped) {
      fprintf(f, "        join_key_map: {");
      int nm = 0;
      for (int k = 0; k < v->n_keys; k++)
        if (strcmp(p->keycol[k], OM_ENTS[v->ent[k]].key))
          fprintf(f, "%s%s: %s", nm++ ? ", " : "", OM_ENTS[v->ent[k]].key, p->keycol[k]);
      fprintf(f, "}\n");
    }
  }
}

static ms_status om_write_repo(om_case *c, int cfg_threads, ms_error *err) {
  char path[1600];
  mkdir(c->dir, 0777);
  snprintf(path, sizeof path, "%s/data", c->dir);
  mkdir(path, 0777);
  snprintf(path, sizeof path, "%s/feature_store.yaml", c->dir);
  FILE *f = fopen(path, "w");
  if (!f) return ms_error_set(err, MS_ERR_IO, "cannot write %s", path);
  fprintf(f, "project: oracle\nprovider: local\nregistry: data/registry.db\n"
             "offline_store:\n  type: morsel\n  threads: %d\n", cfg_threads);
  if (c->mem_limit_mb)
    fprintf(f, "  memory_limit_mb: %d\n  window_size_for_joins: %llds\n", c->mem_limit_mb,
            (long long)c->window_s);
  fclose(f);
  snprintf(path, sizeof path, "%s/defs.yaml", c->dir);
  f = fopen(path, "w");
  if (!f) return ms_error_set(err, MS_ERR_IO, "cannot write %s", path);
  om_write_defs(c, f);
  fclose(f);
  return MS_OK;
}

/* ---- cleanup ---- */

static void om_case_free(om_case *c) {
  for (int i = 0; i < c->n_views; i++) {
    om_source *s = &c->v[i].s;
    for (int k = 0; k < 2; k++) free(s->key[k]);
    free(s->ts);
    free(s->cr);
    for (int k = 0; k < OM_MAXF; k++) ms_column_release(s->feat[k]);
    if (s->read) ms_table_release(s->read);
  }
  for (int i = 0; i < c->n_ecols; i++) free(c->ec[i].v);
  if (c->ent_table) ms_table_release(c->ent_table);
  if (c->ent_expected) ms_table_release(c->ent_expected);
  memset(c, 0, sizeof *c);
}

#endif
