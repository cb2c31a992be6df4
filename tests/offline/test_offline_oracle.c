/* The offline store against a brute-force oracle, through the public API alone
 * (include/morsel/offline.h).
 *
 * Each case is a whole feature repository generated from a seed (tests/offline/
 * oracle_model.h): 1-3 feature views with 0, 1 or 2 join keys (int64, sometimes int32 in
 * the file, and string), each over its own Parquet or CSV source split over several files
 * (sorted path order = source order; sometimes hive date=YYYY-MM-DD folders with
 * date_partition_column) and row groups, with field_mapping on keys/ts/created/features,
 * ttl 0 or a multiple of the timestamp step (so entity times land exactly on the bound), a
 * created column or not, timestamps in s/ms/us/ns, naive or UTC, drawn from a handful of
 * instants (ties everywhere) and nudged by one unit; null keys, null created, duplicate
 * and unknown entity rows, empty sources and empty entity inputs; an entity input given as
 * a table, a Parquet file or a CSV file (sometimes one timestamp column mixing UTC
 * offsets); a request by feature refs (interleaved views) or by a feature service with
 * aliases and join_key_map; full feature names on or off, the created filter on or off.
 * Larger cases sometimes run under a small memory_limit_mb, so that joins go in time
 * windows (or fail with the documented memory error, counted). Requests that must be
 * refused (a name collision without full names, a missing entity column, no or an
 * ambiguous entity timestamp column) must fail naming the problem. The
 * engine runs with 1 and 4 (or the configured) threads, sometimes after explain with
 * analyze, the result taken as a table, through the Arrow C stream or a written Parquet
 * file, and every output cell and type must equal the oracle's.
 *
 * The oracle is the contract written as nested loops: for each entity row and view, scan
 * every source row; keep those whose keys all equal (null never equal), ts <= e.ts, with
 * ttl ts >= e.ts - ttl, with the filter a non-null created <= e.ts (when the source has a
 * created column); the winner is the largest (ts, created) with a null created lowest and
 * an exact tie won by the later row in source order. Entity-less retrieval (start/end)
 * derives the entity rows (distinct keys and ts of the sources in range) and is compared as
 * a multiset; pull_latest/pull_all have their own brute force. Coverage counters printed
 * at the end show how many answers were decided by each rule.
 *
 * The worked vectors of the issue run first, checked against hard-coded answers as well
 * (which also checks the oracle). A failing random case prints its seed: replay it alone
 * with MORSEL_ORACLE_SEED=<seed> (its repository is then kept on disk and its path
 * printed). MORSEL_ORACLE_CASES sets the number of cases, MORSEL_ORACLE_BASE the first
 * seed. Under MORSEL_INTEROP_MATRIX=small (the sanitizer run) fewer cases run. Cases are
 * written to /dev/shm when it exists (thousands of small files). */
#include <inttypes.h>
#include <time.h>

#include "morsel/offline.h"
#include "morsel/repo.h"
#include "ms_test.h"
#include "offline/oracle_compare.h"
#include "offline/oracle_model.h"

/* ---------------------------------------------------------------------------------------
 * The oracle
 * ------------------------------------------------------------------------------------- */

/* Compares source rows a and b by (ts, created with null lowest); 0 = exact tie. */
static int om_rank_cmp(const om_source *s, int64_t a, int64_t b) {
  if (s->ts[a].v != s->ts[b].v) return s->ts[a].v < s->ts[b].v ? -1 : 1;
  if (!s->has_cr) return 0;
  bool na = s->cr[a].null, nb = s->cr[b].null;
  if (na || nb) return na == nb ? 0 : (na ? -1 : 1);
  if (s->cr[a].v != s->cr[b].v) return s->cr[a].v < s->cr[b].v ? -1 : 1;
  return 0;
}

/* What the generated cases exercise, counted over the oracle's decisions (printed at the
 * end so that a weakened generator shows). */
static struct om_coverage {
  int64_t decisions, matched, exact_tie, exact_tie_across_files, created_tiebreak,
      null_created_loses, at_ttl_bound, at_request_time, created_filter_decides, ttl_excludes;
} om_cov;

static int om_file_of(const om_source *s, int64_t row) {
  int64_t off = 0;
  for (int f = 0; f < s->n_files; f++) {
    off += s->frows[f];
    if (row < off) return f;
  }
  return -1;
}

/* The winning source row of view v for an entity row (its key values in view key order
 * and its timestamp), or -1. Written from the contract, not from the engine. */
static int64_t om_winner(const om_view *v, const om_kv *ekeys, om_kv ets, bool filter_created) {
  const om_source *s = &v->s;
  if (ets.null) return -1;
  int64_t best = -1;
  bool ttl_cut = false, created_cut = false;
  for (int64_t r = 0; r < s->n; r++) {
    bool match = true;
    for (int k = 0; k < v->n_keys; k++)
      if (ekeys[k].null || s->key[k][r].null || ekeys[k].v != s->key[k][r].v) match = false;
    if (!match || s->ts[r].null) continue;
    if (s->ts[r].v > ets.v) continue;                                       /* inclusive */
    if (v->ttl_s > 0 && s->ts[r].v < ets.v - v->ttl_s * 1000000000LL) {     /* inclusive */
      ttl_cut = true;
      continue;
    }
    if (filter_created && s->has_cr && (s->cr[r].null || s->cr[r].v > ets.v)) {
      created_cut = true;
      continue;
    }
    if (best < 0 || om_rank_cmp(s, r, best) >= 0) best = r; /* >=: a later tie wins */
  }
  /* coverage only: what decided this answer */
  om_cov.decisions++;
  om_cov.ttl_excludes += ttl_cut;
  om_cov.created_filter_decides += created_cut;
  if (best < 0) return best;
  om_cov.matched++;
  om_cov.at_ttl_bound += v->ttl_s > 0 && s->ts[best].v == ets.v - v->ttl_s * 1000000000LL;
  om_cov.at_request_time += s->ts[best].v == ets.v;
  bool tie = false, across = false, cr_tie = false, null_loses = false;
  for (int64_t r = 0; r < s->n; r++) {
    if (r == best || s->ts[r].null || s->ts[r].v != s->ts[best].v) continue;
    bool match = true;
    for (int k = 0; k < v->n_keys; k++)
      match &= !s->key[k][r].null && s->key[k][r].v == s->key[k][best].v;
    if (!match || (filter_created && s->has_cr && (s->cr[r].null || s->cr[r].v > ets.v))) continue;
    if (om_rank_cmp(s, r, best) == 0) {
      tie = true;
      across |= om_file_of(s, r) != om_file_of(s, best);
    } else {
      cr_tie = true;
      null_loses |= s->cr[r].null;
    }
  }
  om_cov.exact_tie += tie;
  om_cov.exact_tie_across_files += across;
  om_cov.created_tiebreak += cr_tie;
  om_cov.null_created_loses += null_loses;
  return best;
}

static int om_find_ecol(const om_case *c, const char *name) {
  for (int i = 0; i < c->n_ecols; i++)
    if (!strcmp(c->ec[i].name, name)) return i;
  return -1;
}

/* Output name of feature f of projection p. */
static void om_out_name(const om_case *c, const om_proj *p, int f, char *buf, size_t n) {
  const om_view *v = &c->v[p->view];
  if (c->full_names)
    snprintf(buf, n, "%s__%s", p->alias[0] ? p->alias : v->name, v->feat[p->feat[f]]);
  else snprintf(buf, n, "%s", v->feat[p->feat[f]]);
}

/* Two output columns with one name without full names: the request must be refused. */
static bool om_collides(const om_case *c, char *what, size_t n) {
  char a[96], b[96];
  for (int i = 0; i < c->n_proj; i++)
    for (int f = 0; f < c->p[i].n_feat; f++)
      for (int j = i; j < c->n_proj; j++)
        for (int g = (j == i ? f + 1 : 0); g < c->p[j].n_feat; g++) {
          om_out_name(c, &c->p[i], f, a, sizeof a);
          om_out_name(c, &c->p[j], g, b, sizeof b);
          if (!strcmp(a, b)) {
            snprintf(what, n, "%s", a);
            return true;
          }
        }
  return false;
}

static ms_column *om_source_col(const om_source *s, const char *phys) {
  int i = ms_table_find_column(s->read, phys);
  return i < 0 ? NULL : ms_table_column(s->read, i);
}

/* Appends the feature columns of every projection for entity rows given by their key
 * lookup (ent_keys(row, proj, k)) and timestamps. */
typedef om_kv (*om_key_of)(const om_case *c, const void *ctx, int64_t row, const om_proj *p,
                           int k);

static ms_status om_append_features(const om_case *c, const void *ctx, om_key_of key_of,
                                    const om_kv *ets, int64_t n_rows, ms_field *fields,
                                    ms_column **cols, int *nc, ms_error *err) {
  int64_t *win = calloc((size_t)n_rows + 1, sizeof *win);
  if (!win) return ms_error_set(err, MS_ERR_NOMEM, "oracle");
  ms_status st = MS_OK;
  for (int i = 0; st == MS_OK && i < c->n_proj; i++) {
    const om_proj *p = &c->p[i];
    const om_view *v = &c->v[p->view];
    for (int64_t e = 0; e < n_rows; e++) {
      om_kv keys[2];
      for (int k = 0; k < v->n_keys; k++) keys[k] = key_of(c, ctx, e, p, k);
      win[e] = om_winner(v, keys, ets[e], c->filter_created);
    }
    for (int f = 0; st == MS_OK && f < p->n_feat; f++) {
      ms_column *src = om_source_col(&v->s, v->s.feat_phys[p->feat[f]]);
      if (!src) return ms_error_set(err, MS_ERR_INTERNAL, "oracle: lost a source column");
      char name[96];
      om_out_name(c, p, f, name, sizeof name);
      st = ms_column_take(src, win, n_rows, &cols[*nc], err);
      if (st != MS_OK) break;
      fields[*nc].name = ms_strdup(name);
      fields[*nc].type = *ms_column_type(cols[*nc]);
      fields[*nc].nullable = true;
      (*nc)++;
    }
  }
  free(win);
  return st;
}

static om_kv om_entity_key(const om_case *c, const void *ctx, int64_t row, const om_proj *p,
                           int k) {
  (void)ctx;
  int i = om_find_ecol(c, p->keycol[k]);
  om_kv none = {0, true};
  return i < 0 ? none : c->ec[i].v[row];
}

static ms_status om_table_from(ms_field *fields, ms_column **cols, int nc, ms_table **out,
                               ms_error *err) {
  ms_status st = ms_table_create(fields, cols, nc, out, err);
  for (int i = 0; i < nc; i++) {
    ms_column_release(cols[i]);
    ms_free(fields[i].name);
  }
  return st;
}

/* The expected output of a case with an entity input. */
static ms_status om_expected(const om_case *c, ms_table **out, ms_error *err) {
  ms_field fields[64];
  ms_column *cols[64];
  int nc = 0;
  const ms_table *et = c->ent_expected;
  for (int i = 0; i < ms_table_num_columns(et); i++) {
    fields[nc] = *ms_table_field(et, i);
    fields[nc].name = ms_strdup(fields[nc].name);
    cols[nc++] = ms_column_retain(ms_table_column(et, i));
  }
  ms_status st = om_append_features(c, NULL, om_entity_key, c->ec[c->ets].v, c->n_ent, fields,
                                    cols, &nc, err);
  if (st != MS_OK) {
    for (int i = 0; i < nc; i++) {
      ms_column_release(cols[i]);
      ms_free(fields[i].name);
    }
    return st;
  }
  return om_table_from(fields, cols, nc, out, err);
}

/* Entity-less retrieval: entity rows are the distinct (union of join keys, ts) of the
 * requested views' sources with start <= ts <= end; keys a view does not have are null. */
typedef struct om_range_rows {
  int n_keys;
  char key[4][32];
  int kind[4];
  int64_t n;
  om_kv *keys; /* [n][4] */
  om_kv *ts;
} om_range_rows;

static om_kv om_range_key(const om_case *c, const void *ctx, int64_t row, const om_proj *p,
                          int k) {
  const om_range_rows *rr = ctx;
  const char *name = p->keycol[k];
  (void)c;
  for (int j = 0; j < rr->n_keys; j++)
    if (!strcmp(rr->key[j], name)) return rr->keys[row * 4 + j];
  om_kv none = {0, true};
  return none;
}

static ms_status om_expected_range(const om_case *c, om_range_rows *rr, ms_table **out,
                                   ms_error *err) {
  memset(rr, 0, sizeof *rr);
  for (int i = 0; i < c->n_proj; i++) {
    const om_view *v = &c->v[c->p[i].view];
    for (int k = 0; k < v->n_keys; k++) {
      bool seen = false;
      for (int j = 0; j < rr->n_keys; j++) seen |= !strcmp(rr->key[j], OM_ENTS[v->ent[k]].key);
      if (!seen) {
        snprintf(rr->key[rr->n_keys], sizeof rr->key[0], "%s", OM_ENTS[v->ent[k]].key);
        rr->kind[rr->n_keys++] = OM_ENTS[v->ent[k]].kind;
      }
    }
  }
  int64_t cap = 0;
  for (int i = 0; i < c->n_views; i++) cap += c->v[i].s.n;
  rr->keys = calloc((size_t)cap * 4 + 4, sizeof *rr->keys);
  rr->ts = calloc((size_t)cap + 1, sizeof *rr->ts);
  bool used[OM_MAXV] = {false};
  for (int i = 0; i < c->n_proj; i++) used[c->p[i].view] = true;
  for (int vi = 0; vi < c->n_views; vi++) {
    if (!used[vi]) continue;
    const om_view *v = &c->v[vi];
    for (int64_t r = 0; r < v->s.n; r++) {
      om_kv ts = v->s.ts[r];
      if (ts.null || ts.v < c->start_ns || ts.v > c->end_ns) continue;
      om_kv row[4];
      for (int j = 0; j < rr->n_keys; j++) {
        row[j].null = true;
        row[j].v = 0;
        for (int k = 0; k < v->n_keys; k++)
          if (!strcmp(rr->key[j], OM_ENTS[v->ent[k]].key)) row[j] = v->s.key[k][r];
      }
      bool dup = false;
      for (int64_t e = 0; e < rr->n && !dup; e++) {
        bool same = rr->ts[e].v == ts.v;
        for (int j = 0; same && j < rr->n_keys; j++) {
          om_kv a = rr->keys[e * 4 + j], b = row[j];
          same = a.null == b.null && (a.null || a.v == b.v);
        }
        dup = same;
      }
      if (dup) continue;
      for (int j = 0; j < rr->n_keys; j++) rr->keys[rr->n * 4 + j] = row[j];
      rr->ts[rr->n++] = ts;
    }
  }
  ms_field fields[64];
  ms_column *cols[64];
  int nc = 0;
  om_kv *tmp = calloc((size_t)rr->n + 1, sizeof *tmp);
  for (int j = 0; j < rr->n_keys; j++) {
    for (int64_t e = 0; e < rr->n; e++) tmp[e] = rr->keys[e * 4 + j];
    cols[nc] = om_key_column(c, tmp, rr->n, rr->kind[j], MS_TYPE_INT64);
    fields[nc].name = ms_strdup(rr->key[j]);
    fields[nc].type = *ms_column_type(cols[nc]);
    fields[nc++].nullable = true;
  }
  free(tmp);
  cols[nc] = om_ts_column(rr->ts, rr->n, MS_UNIT_NANO, true);
  fields[nc].name = ms_strdup("event_timestamp");
  fields[nc].type = *ms_column_type(cols[nc]);
  fields[nc++].nullable = true;
  ms_status st = om_append_features(c, rr, om_range_key, rr->ts, rr->n, fields, cols, &nc, err);
  if (st != MS_OK) {
    for (int i = 0; i < nc; i++) {
      ms_column_release(cols[i]);
      ms_free(fields[i].name);
    }
    return st;
  }
  return om_table_from(fields, cols, nc, out, err);
}

/* ---------------------------------------------------------------------------------------
 * Generating a case
 * ------------------------------------------------------------------------------------- */

static const char *const OM_FILE_NAMES[] = {"part-10", "part-9", "part-1", "b", "a-2", "a"};

static void om_sort_names(char names[][64], int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
      char t[64];
      memcpy(t, names[j], 64);
      memcpy(names[j], names[j - 1], 64);
      memcpy(names[j - 1], t, 64);
    }
}

/* Civil date of a day count (proleptic Gregorian), after H. Hinnant's public-domain
 * algorithm. */
static void om_civil(int64_t days, int64_t *y, int64_t *m, int64_t *d) {
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

/* The hive folder value of a row: its UTC date, or the null partition. */
static void om_date_dir(om_kv ts, char *buf, size_t n) {
  if (ts.null) {
    snprintf(buf, n, "__HIVE_DEFAULT_PARTITION__");
    return;
  }
  int64_t days = ts.v / 86400000000000LL - (ts.v % 86400000000000LL < 0), y, m, d;
  om_civil(days, &y, &m, &d);
  snprintf(buf, n, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
}

/* Writes the entity input as CSV by hand, every timestamp in a random UTC offset
 * (+01:00, -08:00, +05:45, Z, ...): one column mixing time zones, as Feast's universal
 * test data do. Strings are always quoted (doubled quotes inside). */
static ms_status om_write_entity_csv_mixed(const om_case *c, const char *path, om_rng *r,
                                           ms_error *err) {
  FILE *f = fopen(path, "w");
  if (!f) return ms_error_set(err, MS_ERR_IO, "cannot write %s", path);
  static const int offsets_min[] = {0, 60, -480, 345, -210, 840, -720};
  int cols[OM_MAXE], nc = 0;
  for (int i = 0; i < ms_table_num_columns(c->ent_table); i++) {
    const char *name = ms_table_field(c->ent_table, i)->name;
    for (int k = 0; k < c->n_ecols; k++)
      if (!strcmp(c->ec[k].name, name)) cols[nc++] = k;
    fprintf(f, "%s%s", i ? "," : "", name);
  }
  fputc('\n', f);
  for (int64_t row = 0; row < c->n_ent; row++) {
    for (int i = 0; i < nc; i++) {
      const om_ecol *e = &c->ec[cols[i]];
      om_kv v = e->v[row];
      if (i) fputc(',', f);
      if (v.null) continue;
      if (e->type.id == MS_TYPE_TIMESTAMP) {
        int off = offsets_min[om_int(r, 7)];
        int64_t local = v.v + (int64_t)off * 60 * 1000000000LL;
        int64_t days = local / 86400000000000LL - (local % 86400000000000LL < 0), y, m, d;
        int64_t tod = local - days * 86400000000000LL;
        om_civil(days, &y, &m, &d);
        fprintf(f, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09lld", (long long)y, (long long)m,
                (long long)d, (long long)(tod / 3600000000000LL),
                (long long)(tod / 60000000000LL % 60), (long long)(tod / 1000000000LL % 60),
                (long long)(tod % 1000000000LL));
        if (off == 0) fputc('Z', f);
        else fprintf(f, "%c%02d:%02d", off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
      } else if (e->kind == OM_KINT) {
        fprintf(f, "%lld", (long long)v.v);
      } else {
        fputc('"', f);
        for (const char *p = om_kstr(c, v.v); *p; p++) {
          if (*p == '"') fputc('"', f);
          fputc(*p, f);
        }
        fputc('"', f);
      }
    }
    fputc('\n', f);
  }
  return fclose(f) == 0 ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write %s", path);
}

static char (*om_sort_dirs)[32];
static int om_dir_cmp(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  int c = strcmp(om_sort_dirs[a], om_sort_dirs[b]);
  return c ? c : (a > b) - (a < b);
}

/* Reorders a source's rows by date folder (stable) and gives each folder one file. */
static void om_partition_by_date(om_source *s, int n_keys) {
  char (*dirs)[32] = calloc((size_t)s->n + 1, sizeof *dirs);
  int64_t *perm = calloc((size_t)s->n + 1, sizeof *perm);
  for (int64_t i = 0; i < s->n; i++) {
    om_date_dir(s->ts[i], dirs[i], sizeof dirs[i]);
    perm[i] = i;
  }
  om_sort_dirs = dirs;
  qsort(perm, (size_t)s->n, sizeof *perm, om_dir_cmp); /* stable: ties by row */
  int groups = 0;
  for (int64_t i = 0; i < s->n; i++) groups += i == 0 || strcmp(dirs[perm[i]], dirs[perm[i - 1]]);
  if (groups > 16) {
    free(dirs);
    free(perm);
    return;
  }
  om_kv *tmp = calloc((size_t)s->n + 1, sizeof *tmp);
  for (int k = -2; k < n_keys; k++) {
    om_kv *a = k == -2 ? s->ts : k == -1 ? s->cr : s->key[k];
    for (int64_t i = 0; i < s->n; i++) tmp[i] = a[perm[i]];
    memcpy(a, tmp, (size_t)s->n * sizeof *a);
  }
  free(tmp);
  s->partitioned = true;
  s->single_file = false;
  s->n_files = 0;
  for (int64_t i = 0; i < s->n; i++) {
    if (i == 0 || strcmp(dirs[perm[i]], dirs[perm[i - 1]])) {
      snprintf(s->fname[s->n_files], sizeof s->fname[0], "date=%s/part-0.parquet", dirs[perm[i]]);
      s->frows[s->n_files++] = 0;
    }
    s->frows[s->n_files - 1]++;
  }
  free(dirs);
  free(perm);
}

/* Row i of a source starts a file (CSV files keep a non-null first row so that every file
 * infers the same column types). */
static bool om_file_start(const om_source *s, int64_t i) {
  int64_t off = 0;
  for (int f = 0; f < s->n_files; f++) {
    if (i == off) return true;
    off += s->frows[f];
  }
  return false;
}

static om_kv om_gen_key(const om_case *c, om_rng *r, int kind, int n_known, double p_null) {
  om_kv k = {0, false};
  if (om_p(r, p_null)) {
    k.null = true;
    return k;
  }
  int idx = om_int(r, n_known);
  k.v = kind == OM_KINT ? (c->dense_keys ? idx + 1 : om_kint(idx)) : idx;
  return k;
}

static void om_gen_view(om_case *c, om_rng *r, int vi, bool csv) {
  om_view *v = &c->v[vi];
  om_source *s = &v->s;
  snprintf(v->name, sizeof v->name, "fv_%c", 'a' + vi);
  v->n_keys = c->range_mode ? 1 + om_int(r, 2) : om_int(r, 3);
  int perm[OM_NENTS] = {0, 1, 2, 3};
  for (int i = OM_NENTS - 1; i > 0; i--) {
    int j = om_int(r, i + 1), t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (int k = 0; k < v->n_keys; k++) v->ent[k] = perm[k];
  int64_t step_s = c->step_ns / 1000000000LL;
  v->ttl_s = om_p(r, 0.4) ? 0 : (om_p(r, 0.15) ? 1 : step_s * (1 + om_int(r, 3)));
  v->n_feat = 1 + om_int(r, OM_MAXF);
  char prefix = om_p(r, 0.3) ? 'f' : (char)('a' + vi);
  for (int f = 0; f < v->n_feat; f++) {
    snprintf(v->feat[f], sizeof v->feat[f], "%c%d", prefix, f);
    int ft = om_int(r, OM_NFT);
    if (csv && ft == OM_FI32) ft = OM_FI64;
    if (csv && ft == OM_FTS) ft = OM_FSTR;
    v->ft[f] = ft;
  }
  /* the source */
  snprintf(s->name, sizeof s->name, "src_%c", 'a' + vi);
  s->csv = csv;
  s->n = (!csv && om_p(r, 0.06)) ? 0 : 1 + om_int(r, om_p(r, 0.3) ? 60 : 12);
  if (c->size) s->n = c->size == 2 ? 66000 + om_int(r, 8000) : 4000 + om_int(r, 5000);
  s->n_files = 1 + om_int(r, 3);
  if (csv && s->n_files > s->n) s->n_files = (int)s->n;
  int pick[6] = {0, 1, 2, 3, 4, 5};
  for (int i = 5; i > 0; i--) {
    int j = om_int(r, i + 1), t = pick[i];
    pick[i] = pick[j];
    pick[j] = t;
  }
  for (int f = 0; f < s->n_files; f++)
    snprintf(s->fname[f], sizeof s->fname[f], "%s.%s", OM_FILE_NAMES[pick[f]],
             csv ? "csv" : "parquet");
  om_sort_names(s->fname, s->n_files);
  s->single_file = s->n_files == 1 && om_p(r, 0.5);
  int64_t left = s->n;
  for (int f = 0; f < s->n_files; f++) {
    int64_t min_rows = csv ? 1 : 0, rest = s->n_files - 1 - f;
    int64_t room = left - rest * min_rows;
    s->frows[f] = f == s->n_files - 1 ? left : min_rows + om_int(r, (int)(room - min_rows + 1));
    left -= s->frows[f];
  }
  s->rg_rows = c->size ? 500 + om_int(r, 10000) : 1 + om_int(r, 8);
  snprintf(s->ts_log, sizeof s->ts_log, "%s", om_p(r, 0.5) ? "event_timestamp" : "ts");
  snprintf(s->ts_phys, sizeof s->ts_phys, "%s", om_p(r, 0.3) ? "ts_raw" : s->ts_log);
  s->ts_unit = (ms_time_unit)om_int(r, 4);
  s->ts_tz = om_p(r, 0.5);
  s->has_cr = om_p(r, 0.6);
  snprintf(s->cr_log, sizeof s->cr_log, "created");
  snprintf(s->cr_phys, sizeof s->cr_phys, "%s", om_p(r, 0.3) ? "created_raw" : "created");
  s->cr_unit = (ms_time_unit)om_int(r, 4);
  s->cr_tz = om_p(r, 0.5);
  for (int k = 0; k < v->n_keys; k++)
    snprintf(s->key_phys[k], sizeof s->key_phys[k], "%s%s", OM_ENTS[v->ent[k]].key,
             om_p(r, 0.3) ? "_src" : "");
  for (int f = 0; f < v->n_feat; f++)
    snprintf(s->feat_phys[f], sizeof s->feat_phys[f], "%s%s", om_p(r, 0.2) ? "raw_" : "",
             v->feat[f]);
  s->junk = om_p(r, 0.3);
  double p_null_key = c->range_mode ? 0 : (om_p(r, 0.5) ? 0.1 : 0);
  double p_null_ts = (c->range_mode || csv || om_p(r, 0.5)) ? 0 : 0.05;
  for (int k = 0; k < v->n_keys; k++) s->key[k] = calloc((size_t)s->n + 1, sizeof(om_kv));
  s->ts = calloc((size_t)s->n + 1, sizeof(om_kv));
  s->cr = calloc((size_t)s->n + 1, sizeof(om_kv));
  for (int64_t i = 0; i < s->n; i++) {
    bool first = csv && om_file_start(s, i);
    for (int k = 0; k < v->n_keys; k++)
      s->key[k][i] = om_gen_key(c, r, OM_ENTS[v->ent[k]].kind, c->nk, first ? 0 : p_null_key);
    s->ts[i] = om_gen_ts(c, r, s->ts_unit, p_null_ts);
    s->cr[i] = s->has_cr ? om_gen_ts(c, r, s->cr_unit, first ? 0 : 0.2) : (om_kv){0, true};
  }
  if (!csv && s->n > 0 && om_p(r, 0.2)) om_partition_by_date(s, v->n_keys);
  for (int f = 0; f < v->n_feat; f++) {
    s->feat[f] = om_gen_feature(c, r, v->ft[f], s->n, csv);
    if (csv && s->feat[f] && s->n_files > 1) { /* non-null file starts (see om_file_start) */
      ms_column_builder *b;
      ms_column_builder_create(ms_column_type(s->feat[f]), s->n, &b, NULL);
      int64_t donor = 0; /* row 0 is never null in CSV mode */
      for (int64_t i = 0; i < s->n; i++)
        ms_builder_append_from(b, s->feat[f],
                               om_file_start(s, i) && ms_column_is_null(s->feat[f], i) ? donor : i);
      ms_column_release(s->feat[f]);
      s->feat[f] = om_finish(b);
    }
  }
}

static void om_add_ecol(om_case *c, const char *name, int role, int kind, ms_datatype type) {
  om_ecol *e = &c->ec[c->n_ecols++];
  snprintf(e->name, sizeof e->name, "%s", name);
  e->role = role;
  e->kind = kind;
  e->type = type;
  e->v = calloc((size_t)c->n_ent + 1, sizeof *e->v);
}

/* Builds the projections of a request by feature refs: views and features in a random
 * interleaving; groups in order of first appearance. */
static void om_gen_refs(om_case *c, om_rng *r) {
  int order[OM_MAXV] = {0, 1, 2};
  for (int i = c->n_views - 1; i > 0; i--) {
    int j = om_int(r, i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  int nv = 1 + om_int(r, c->n_views);
  int pv[OM_MAXV * OM_MAXF], pf[OM_MAXV * OM_MAXF], n = 0;
  for (int i = 0; i < nv; i++) {
    const om_view *v = &c->v[order[i]];
    for (int f = 0; f < v->n_feat; f++)
      if (f == 0 || om_p(r, 0.6)) {
        pv[n] = order[i];
        pf[n++] = f;
      }
  }
  for (int i = n - 1; i > 0; i--) {
    int j = om_int(r, i + 1), t = pv[i];
    pv[i] = pv[j];
    pv[j] = t;
    t = pf[i];
    pf[i] = pf[j];
    pf[j] = t;
  }
  c->n_refs = n;
  c->n_proj = 0;
  for (int i = 0; i < n; i++) {
    snprintf(c->refs[i], sizeof c->refs[i], "%s:%s", c->v[pv[i]].name, c->v[pv[i]].feat[pf[i]]);
    int p = 0;
    while (p < c->n_proj && c->p[p].view != pv[i]) p++;
    if (p == c->n_proj) {
      om_proj *np = &c->p[c->n_proj++];
      memset(np, 0, sizeof *np);
      np->view = pv[i];
      for (int k = 0; k < c->v[pv[i]].n_keys; k++)
        snprintf(np->keycol[k], sizeof np->keycol[k], "%s", OM_ENTS[c->v[pv[i]].ent[k]].key);
    }
    c->p[p].feat[c->p[p].n_feat++] = pf[i];
  }
}

/* A feature service: items over the views, the same view twice under two aliases. */
static void om_gen_service(om_case *c, om_rng *r) {
  int n = 1 + om_int(r, OM_MAXP);
  int times[OM_MAXV] = {0};
  c->n_proj = 0;
  for (int i = 0; i < n; i++) {
    om_proj *p = &c->p[c->n_proj++];
    memset(p, 0, sizeof *p);
    p->view = om_int(r, c->n_views);
    const om_view *v = &c->v[p->view];
    if (times[p->view]++ || om_p(r, 0.3)) snprintf(p->alias, sizeof p->alias, "al%d", i);
    for (int k = 0; k < v->n_keys; k++) {
      const char *key = OM_ENTS[v->ent[k]].key;
      if (om_p(r, 0.35)) {
        snprintf(p->keycol[k], sizeof p->keycol[k], "%s_%d", key, i);
        p->mapped = true;
      } else {
        snprintf(p->keycol[k], sizeof p->keycol[k], "%s", key);
      }
    }
    p->all_feats = om_p(r, 0.3);
    if (p->all_feats) {
      for (int f = 0; f < v->n_feat; f++) p->feat[p->n_feat++] = f;
    } else {
      int perm[OM_MAXF] = {0, 1, 2, 3};
      for (int f = v->n_feat - 1; f > 0; f--) {
        int j = om_int(r, f + 1), t = perm[f];
        perm[f] = perm[j];
        perm[j] = t;
      }
      int take = 1 + om_int(r, v->n_feat);
      for (int f = 0; f < take; f++) p->feat[p->n_feat++] = perm[f];
    }
  }
}

/* The entity input (model columns, then the table and maybe its file). */
static ms_status om_gen_entity(om_case *c, om_rng *r, ms_error *err) {
  bool csv = c->ent_mode == OM_ENT_CSV;
  c->n_ent = (!csv && om_p(r, 0.05)) ? 0 : 1 + om_int(r, om_p(r, 0.3) ? 40 : 10);
  if (c->size) c->n_ent = c->size == 2 ? 2000 + om_int(r, 2000) : 500 + om_int(r, 1000);
  c->n_ecols = 0;
  for (int i = 0; i < c->n_proj; i++) {
    const om_view *v = &c->v[c->p[i].view];
    for (int k = 0; k < v->n_keys; k++) {
      if (om_find_ecol(c, c->p[i].keycol[k]) >= 0) continue;
      int kind = OM_ENTS[v->ent[k]].kind;
      ms_type_id it = (c->ent_mode == OM_ENT_TABLE && om_p(r, 0.05)) ? MS_TYPE_INT32 : MS_TYPE_INT64;
      om_add_ecol(c, c->p[i].keycol[k], OM_EKEY, kind, ms_type(kind == OM_KINT ? it : MS_TYPE_UTF8));
    }
  }
  bool named = om_p(r, 0.8);
  c->ets = c->n_ecols;
  om_add_ecol(c, named ? "event_timestamp" : "ts_req", OM_ETS, 0,
              om_ts_type((ms_time_unit)om_int(r, 4), om_p(r, 0.5)));
  char collide[96];
  bool may_refuse = !c->drop_col[0] && (c->full_names || !om_collides(c, collide, sizeof collide));
  if ((named && om_p(r, 0.2)) || (!named && may_refuse && om_p(r, 0.1))) {
    /* a second timestamp column: ignored next to event_timestamp, ambiguous otherwise */
    om_add_ecol(c, "other_ts", OM_EXTRA, 2, om_ts_type((ms_time_unit)om_int(r, 4), om_p(r, 0.5)));
    c->ts_problem = !named;
  } else if (may_refuse && om_p(r, 0.02)) { /* no timestamp column at all */
    snprintf(c->drop_col, sizeof c->drop_col, "%s", c->ec[c->ets].name);
    c->ts_problem = true;
  }
  if (om_p(r, 0.5)) om_add_ecol(c, "extra_i", OM_EXTRA, OM_KINT, ms_type(MS_TYPE_INT64));
  if (om_p(r, 0.3)) om_add_ecol(c, "extra_s", OM_EXTRA, OM_KSTR, ms_type(MS_TYPE_UTF8));
  double p_dup = om_p(r, 0.5) ? 0.2 : 0;
  for (int64_t i = 0; i < c->n_ent; i++) {
    if (i > 0 && om_p(r, p_dup)) {
      int64_t j = om_int(r, (int)i);
      for (int k = 0; k < c->n_ecols; k++) c->ec[k].v[i] = c->ec[k].v[j];
      continue;
    }
    double p_null = (csv && i == 0) ? 0 : 0.08;
    for (int k = 0; k < c->n_ecols; k++) {
      om_ecol *e = &c->ec[k];
      if (e->role == OM_EKEY) e->v[i] = om_gen_key(c, r, e->kind, c->nk + 1, p_null);
      else if (e->type.id == MS_TYPE_TIMESTAMP)
        e->v[i] = om_gen_ts(c, r, e->type.unit, e->role == OM_ETS ? p_null * 0.4 : p_null);
      else e->v[i] = om_gen_key(c, r, e->kind, OM_NKEYS, p_null);
    }
  }
  for (int k = 0; k < c->n_ecols; k++) /* an int32 key column holds what int32 can */
    if (c->ec[k].type.id == MS_TYPE_INT32)
      for (int64_t i = 0; i < c->n_ent; i++) c->ec[k].v[i].v = (int32_t)c->ec[k].v[i].v;
  /* the table, columns in a random order */
  int order[OM_MAXE];
  for (int i = 0; i < c->n_ecols; i++) order[i] = i;
  for (int i = c->n_ecols - 1; i > 0; i--) {
    int j = om_int(r, i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  ms_field fields[OM_MAXE];
  ms_column *cols[OM_MAXE];
  int nc = 0;
  for (int i = 0; i < c->n_ecols; i++) {
    const om_ecol *e = &c->ec[order[i]];
    if (c->drop_col[0] && !strcmp(e->name, c->drop_col)) continue;
    cols[nc] = e->type.id == MS_TYPE_TIMESTAMP
                   ? om_ts_column(e->v, c->n_ent, e->type.unit, e->type.tz[0] != 0)
                   : om_key_column(c, e->v, c->n_ent, e->kind, e->type.id);
    fields[nc].name = (char *)e->name;
    fields[nc].type = e->type;
    fields[nc++].nullable = true;
  }
  ms_status st = ms_table_create(fields, cols, nc, &c->ent_table, err);
  for (int i = 0; i < nc; i++) ms_column_release(cols[i]);
  for (int k = 0; st == MS_OK && k < c->n_ecols; k++)
    if (strcmp(c->ec[k].name, c->drop_col))
      st = om_check_model(c, c->ent_table, c->ec[k].name, c->ec[k].v, err);
  if (st != MS_OK) return st;
  if (c->ent_mode == OM_ENT_TABLE) {
    c->ent_expected = ms_table_retain(c->ent_table);
    return MS_OK;
  }
  char path[1600];
  snprintf(path, sizeof path, "%s/entity.%s", c->dir, csv ? "csv" : "parquet");
  if (csv && om_p(r, 0.5)) st = om_write_entity_csv_mixed(c, path, r, err);
  else st = om_write_table(path, c->ent_table, csv, 1 + om_int(r, 8), err);
  if (st == MS_OK) st = om_read_dataset(path, &c->ent_expected, err);
  for (int k = 0; st == MS_OK && k < c->n_ecols; k++)
    if (strcmp(c->ec[k].name, c->drop_col))
      st = om_check_model(c, c->ent_expected, c->ec[k].name, c->ec[k].v, err);
  return st;
}

/* A whole case from its seed; files are written under c->dir. */
static ms_status om_generate(om_case *c, uint64_t seed, ms_error *err) {
  memset(c, 0, sizeof *c);
  om_rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
  c->seed = seed;
  snprintf(c->dir, sizeof c->dir, "%s/case-%" PRIu64, om_scratch(), seed);
  om_rmtree(c->dir);
  static const int64_t steps[] = {1, 60, 3600, 86400};
  c->step_ns = steps[om_int(&r, 4)] * 1000000000LL;
  c->base_ns = (om_p(&r, 0.05) ? -3 * 86400LL : 1704067200LL) * 1000000000LL;
  c->n_instants = 2 + om_int(&r, 6);
  c->nk = 1 + om_int(&r, 4);
  c->range_mode = om_p(&r, 0.12);
  c->n_views = 1 + om_int(&r, OM_MAXV);
  /* now and then a larger case, for the engine's parallel and partitioned paths (the
   * oracle stays the same nested loops; pulls and entity-less mode skip these) */
  c->size = seed % 400 == 200 ? 2 : seed % 50 == 25 ? 1 : 0;
  if (c->size) {
    c->n_instants = 20 + om_int(&r, 200);
    c->nk = 200 + om_int(&r, 2000);
    c->dense_keys = om_p(&r, 0.5); /* int keys 1..nk: the kernel's dense path */
    if (om_p(&r, 0.5)) { /* a memory limit small enough for joins in time windows */
      c->mem_limit_mb = c->size == 2 ? 4 + om_int(&r, 5) : 1;
      c->window_s = c->step_ns / 1000000000LL * (1 + om_int(&r, 3));
    }
    c->range_mode = false;
    if (c->size == 2 && c->n_views > 2) c->n_views = 2;
  }
  c->ent_mode = c->range_mode ? OM_ENT_TABLE : om_int(&r, 10) < 5 ? OM_ENT_TABLE
                                            : om_int(&r, 10) < 6 ? OM_ENT_PARQUET : OM_ENT_CSV;
  bool csv[OM_MAXV];
  c->no_empty = c->ent_mode == OM_ENT_CSV;
  for (int i = 0; i < c->n_views; i++) {
    csv[i] = om_p(&r, 0.2);
    c->no_empty |= csv[i];
  }
  for (int i = 0; i < c->n_views; i++) om_gen_view(c, &r, i, csv[i]);
  c->full_names = om_p(&r, 0.5);
  c->filter_created = om_p(&r, 0.3);
  c->service = !c->range_mode && om_p(&r, 0.35);
  if (c->service) om_gen_service(c, &r);
  else om_gen_refs(c, &r);
  if (c->range_mode) {
    om_kv a = om_gen_ts(c, &r, MS_UNIT_NANO, 0), b = om_gen_ts(c, &r, MS_UNIT_NANO, 0);
    c->start_ns = a.v < b.v ? a.v : b.v;
    c->end_ns = a.v < b.v ? b.v : a.v;
  }
  ms_status st = om_write_repo(c, 1 + om_int(&r, 3), err);
  for (int i = 0; st == MS_OK && i < c->n_views; i++) st = om_write_source(c, &c->v[i], &r, err);
  if (st == MS_OK && !c->range_mode) {
    /* sometimes leave out a required entity column: the request must be refused */
    char collide[96];
    if (om_p(&r, 0.03) && (c->full_names || !om_collides(c, collide, sizeof collide))) {
      for (int i = 0; i < c->n_proj && !c->drop_col[0]; i++)
        if (c->v[c->p[i].view].n_keys)
          snprintf(c->drop_col, sizeof c->drop_col, "%s", c->p[i].keycol[0]);
    }
    st = om_gen_entity(c, &r, err);
  }
  return st;
}

/* ---------------------------------------------------------------------------------------
 * Running a case
 * ------------------------------------------------------------------------------------- */

typedef struct om_stats {
  int cases, historical, range, refused, pulls, limited, over_limit;
  int64_t entity_rows, matched_cells;
} om_stats;

static void om_describe(const om_case *c) {
  fprintf(stderr, "  case %" PRIu64 " in %s (definitions: defs.yaml)\n", c->seed, c->dir);
  fprintf(stderr, "  request: %s, full_feature_names=%d, filter_by_created=%d, %s\n",
          c->range_mode ? "entity-less start/end" : c->service ? "feature service svc" : "refs",
          c->full_names, c->filter_created,
          c->range_mode ? "" : c->ent_mode == OM_ENT_TABLE ? "entity table"
                               : c->ent_mode == OM_ENT_PARQUET ? "entity.parquet" : "entity.csv");
  for (int i = 0; !c->service && i < c->n_refs; i++) fprintf(stderr, "    ref %s\n", c->refs[i]);
  if (c->range_mode)
    fprintf(stderr, "  start %" PRId64 " end %" PRId64 " (ns)\n", c->start_ns, c->end_ns);
}

static int om_windowed_runs; /* runs whose plan joined in time windows (explain says so) */

/* How a job's result is taken: as a table, through an Arrow C stream, or written to
 * Parquet and read back. */
enum { OM_OUT_TABLE = 0, OM_OUT_ARROW = 1, OM_OUT_PARQUET = 2 };
static const char *const OM_OUT_NAMES[] = {"to_table", "arrow stream", "written Parquet"};

static ms_status om_take_result(om_case *c, ms_retrieval_job *job, int how, ms_table **out,
                                ms_error *err) {
  if (how == OM_OUT_ARROW) {
    struct ArrowArrayStream stream;
    memset(&stream, 0, sizeof stream);
    ms_status st = ms_retrieval_job_to_arrow_stream(job, &stream, err);
    if (st == MS_OK) st = ms_stream_import_table(&stream, out, err);
    if (stream.release) stream.release(&stream);
    return st;
  }
  if (how == OM_OUT_PARQUET) {
    char path[1600];
    snprintf(path, sizeof path, "%s/out.parquet", c->dir);
    ms_status st = ms_retrieval_job_write(job, path, err);
    if (st == MS_OK) st = om_read_dataset(path, out, err);
    remove(path);
    return st;
  }
  return ms_retrieval_job_to_table(job, out, err);
}

/* Parquet has no second unit: the expected table as a Parquet file holds it (seconds as
 * milliseconds, the same instants). */
static ms_table *om_as_parquet_types(const ms_table *t) {
  int n = ms_table_num_columns(t);
  ms_field fields[64];
  ms_column *cols[64];
  for (int i = 0; i < n; i++) {
    fields[i] = *ms_table_field(t, i);
    ms_column *col = ms_table_column(t, i);
    if (fields[i].type.id == MS_TYPE_TIMESTAMP && fields[i].type.unit == MS_UNIT_SECOND) {
      fields[i].type.unit = MS_UNIT_MILLI;
      ms_column_builder *b;
      ms_column_builder_create(&fields[i].type, ms_column_length(col), &b, NULL);
      for (int64_t r = 0; r < ms_column_length(col); r++) {
        if (ms_column_is_null(col, r)) ms_builder_append_null(b);
        else ms_builder_append_i64(b, ms_column_get_i64(col, r) * 1000);
      }
      cols[i] = om_finish(b);
    } else {
      cols[i] = ms_column_retain(col);
    }
  }
  ms_table *out = NULL;
  ms_table_create(fields, cols, n, &out, NULL);
  for (int i = 0; i < n; i++) ms_column_release(cols[i]);
  return out;
}

/* Runs a retrieval request and returns the table (or the planning error). */
static ms_status om_retrieve(om_case *c, ms_repo *repo, int threads, int how, ms_table **out,
                             ms_error *err) {
  ms_historical_request req;
  ms_historical_request_init(&req);
  const char *refs[OM_MAXV * OM_MAXF];
  for (int i = 0; i < c->n_refs; i++) refs[i] = c->refs[i];
  if (c->service) req.feature_service = "svc";
  else {
    req.feature_refs = refs;
    req.n_feature_refs = c->n_refs;
  }
  char path[1600];
  if (c->range_mode) {
    req.has_start = req.has_end = true;
    req.start_ns = c->start_ns;
    req.end_ns = c->end_ns;
  } else if (c->ent_mode == OM_ENT_TABLE) {
    req.entity_table = c->ent_table;
  } else {
    snprintf(path, sizeof path, "%s/entity.%s", c->dir, c->ent_mode == OM_ENT_CSV ? "csv" : "parquet");
    req.entity_path = path;
  }
  req.full_feature_names = c->full_names;
  req.filter_by_created_timestamp = c->filter_created;
  req.threads = threads;
  ms_retrieval_job *job = NULL;
  ms_status st = ms_get_historical_features(repo, &req, &job, err);
  if (st == MS_OK && (c->seed % 11 == 4 || c->mem_limit_mb)) {
    /* explain with analyze runs the job; the result taken afterwards is that run's */
    char *text = NULL;
    st = ms_retrieval_job_explain(job, true, &text, err);
    if (st == MS_OK && (!text || !*text))
      st = ms_error_set(err, MS_ERR_INTERNAL, "explain (analyze) returned no text");
    if (st == MS_OK && strstr(text, "time windows:")) om_windowed_runs++;
    ms_free(text);
  }
  if (st == MS_OK) st = om_take_result(c, job, how, out, err);
  if (st == MS_OK && ms_retrieval_job_metadata(job)) {
    int nf = 0;
    for (int i = 0; i < c->n_proj; i++) nf += c->p[i].n_feat;
    if (ms_retrieval_job_metadata(job)->n_features != nf)
      st = ms_error_set(err, MS_ERR_INTERNAL, "metadata lists %d features, the request has %d",
                        ms_retrieval_job_metadata(job)->n_features, nf);
  }
  ms_retrieval_job_free(job);
  return st;
}

/* pull_latest / pull_all of one view (or its source alone) against a brute force. */
static bool om_check_pull(om_case *c, ms_repo *repo, om_rng *r, om_stats *stats) {
  int vi = om_int(r, c->n_views);
  const om_view *v = &c->v[vi];
  const om_source *s = &v->s;
  for (int64_t i = 0; i < s->n; i++)
    if (s->ts[i].null) return true; /* rows without a time are in no range: not asked */
  bool by_source = om_p(r, 0.25) && !s->partitioned; /* is a date folder a feature? */
  for (int f = 0; f < v->n_feat; f++)
    if (v->ft[f] == OM_FTS) by_source = false; /* "non-timestamp columns" would be ambiguous */
  ms_pull_request req;
  ms_pull_request_init(&req);
  req.mode = om_p(r, 0.5) ? MS_PULL_LATEST : MS_PULL_ALL;
  if (by_source) req.source = s->name;
  else req.feature_view = v->name;
  req.has_start = om_p(r, 0.6);
  req.has_end = om_p(r, 0.6);
  req.start_ns = om_gen_ts(c, r, MS_UNIT_NANO, 0).v;
  req.end_ns = om_gen_ts(c, r, MS_UNIT_NANO, 0).v;
  if (req.start_ns > req.end_ns) { /* start after end is refused (a caller error) */
    int64_t t = req.start_ns;
    req.start_ns = req.end_ns;
    req.end_ns = t;
  }
  req.threads = om_p(r, 0.5) ? 1 : 4;
  /* brute force: rows in range, then all (stable by ts) or the latest per key tuple */
  int64_t *rows = calloc((size_t)s->n + 1, sizeof *rows), n = 0;
  for (int64_t i = 0; i < s->n; i++) {
    if (req.has_start && s->ts[i].v < req.start_ns) continue;
    if (req.has_end && s->ts[i].v > req.end_ns) continue;
    rows[n++] = i;
  }
  int n_keys = by_source ? 0 : v->n_keys;
  if (req.mode == MS_PULL_LATEST) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
      int64_t a = rows[i];
      bool beaten = false; /* by a row of the same key tuple (null equal to null here) */
      for (int64_t j = 0; j < n && !beaten; j++) {
        int64_t b = rows[j];
        if (b == a) continue;
        bool same = true;
        for (int k = 0; k < n_keys; k++) {
          om_kv x = s->key[k][a], y = s->key[k][b];
          same &= x.null == y.null && (x.null || x.v == y.v);
        }
        if (!same) continue;
        int cmp = om_rank_cmp(s, b, a);
        beaten = cmp > 0 || (cmp == 0 && b > a);
      }
      if (!beaten) rows[m++] = a;
    }
    n = m;
  }
  /* both in timestamp order, then source order (docs/retrieval.md) */
  for (int64_t i = 1; i < n; i++) /* stable insertion sort by ts */
    for (int64_t j = i; j > 0 && s->ts[rows[j - 1]].v > s->ts[rows[j]].v; j--) {
      int64_t t = rows[j];
      rows[j] = rows[j - 1];
      rows[j - 1] = t;
    }
  /* expected columns: keys, features, ts, created (logical names) */
  ms_field fields[32];
  ms_column *cols[32];
  int nc = 0;
  const char *phys[32], *logical[32];
  for (int k = 0; k < n_keys; k++) {
    phys[nc] = s->key_phys[k];
    logical[nc++] = OM_ENTS[v->ent[k]].key;
  }
  if (by_source) {
    for (int i = 0; i < ms_table_num_columns(s->read); i++) {
      const char *name = ms_table_field(s->read, i)->name;
      if (!strcmp(name, s->ts_phys) || (s->has_cr && !strcmp(name, s->cr_phys))) continue;
      phys[nc] = name;
      logical[nc] = name;
      for (int k = 0; k < v->n_keys; k++)
        if (!strcmp(name, s->key_phys[k])) logical[nc] = OM_ENTS[v->ent[k]].key;
      for (int f = 0; f < v->n_feat; f++)
        if (!strcmp(name, s->feat_phys[f])) logical[nc] = v->feat[f];
      nc++;
    }
  } else {
    for (int f = 0; f < v->n_feat; f++) {
      phys[nc] = s->feat_phys[f];
      logical[nc++] = v->feat[f];
    }
  }
  phys[nc] = s->ts_phys;
  logical[nc++] = s->ts_log;
  if (s->has_cr) {
    phys[nc] = s->cr_phys;
    logical[nc++] = s->cr_log;
  }
  ms_error err;
  ms_error_init(&err);
  bool ok = true;
  for (int i = 0; i < nc && ok; i++) {
    ms_column *src = om_source_col(s, phys[i]);
    ok = src && ms_column_take(src, rows, n, &cols[i], &err) == MS_OK;
    if (!ok) nc = i;
    else {
      fields[i].name = ms_strdup(logical[i]);
      fields[i].type = *ms_column_type(cols[i]);
      fields[i].nullable = true;
    }
  }
  free(rows);
  ms_table *exp = NULL, *act = NULL;
  if (ok) ok = om_table_from(fields, cols, nc, &exp, &err) == MS_OK;
  ms_retrieval_job *job = NULL;
  ms_status st = ok ? ms_pull(repo, &req, &job, &err) : MS_ERR_INTERNAL;
  if (st == MS_OK) st = ms_retrieval_job_to_table(job, &act, &err);
  ms_retrieval_job_free(job);
  char why[4096] = "";
  if (st != MS_OK) {
    char buf[2048];
    snprintf(why, sizeof why, "failed: %s", ms_error_format(&err, buf, sizeof buf));
    ok = false;
  } else {
    int mode = by_source ? OM_CMP_BY_NAME : OM_CMP_EXACT;
    ok = om_compare(exp, act, mode, NULL, why, sizeof why);
  }
  if (!ok) {
    fprintf(stderr, "oracle case %" PRIu64 ": %s of %s '%s' (start %s%" PRId64 ", end %s%" PRId64
            ", threads %d): %s\n",
            c->seed, req.mode == MS_PULL_LATEST ? "pull_latest" : "pull_all",
            by_source ? "source" : "feature view", by_source ? s->name : v->name,
            req.has_start ? "" : "none/", req.start_ns, req.has_end ? "" : "none/", req.end_ns,
            req.threads, why);
  }
  if (exp) ms_table_release(exp);
  if (act) ms_table_release(act);
  stats->pulls++;
  return ok;
}

/* Generates, writes and checks one case. */
static bool om_run_seed(uint64_t seed, bool keep, om_stats *stats) {
  om_case c;
  ms_error err;
  ms_error_init(&err);
  char buf[2048], why[4096] = "";
  bool ok = true;
  ms_repo *repo = NULL;
  ms_table *exp = NULL;
  om_range_rows rr;
  memset(&rr, 0, sizeof rr);
  ms_status st = om_generate(&c, seed, &err);
  if (st != MS_OK) {
    fprintf(stderr, "oracle case %" PRIu64 ": generating: %s\n", seed,
            ms_error_format(&err, buf, sizeof buf));
    ok = false;
    goto done;
  }
  char **probs = NULL;
  int n_probs = 0;
  st = ms_repo_load(c.dir, NULL, &repo, &probs, &n_probs, &err);
  if (st != MS_OK) {
    fprintf(stderr, "oracle case %" PRIu64 ": the generated repository does not load: %s\n",
            seed, n_probs ? probs[0] : ms_error_format(&err, buf, sizeof buf));
    ms_repo_problems_free(probs, n_probs);
    ok = false;
    goto done;
  }
  char collide[96];
  bool collides = !c.full_names && om_collides(&c, collide, sizeof collide);
  bool refused = collides || c.drop_col[0] || c.ts_problem;
  const char *word = collides ? collide : c.ts_problem ? "event_timestamp" : c.drop_col;
  if (!refused) {
    st = c.range_mode ? om_expected_range(&c, &rr, &exp, &err) : om_expected(&c, &exp, &err);
    if (st != MS_OK) {
      fprintf(stderr, "oracle case %" PRIu64 ": oracle: %s\n", seed,
              ms_error_format(&err, buf, sizeof buf));
      ok = false;
      goto done;
    }
  }
  /* 0 = the repository's offline_store.threads (1 to 3 in these repositories) */
  const int thread_counts[] = {1, seed % 3 == 1 ? 0 : 4};
  /* one thread count takes the result another way now and then */
  int how = (int)(seed % 7 == 3 ? OM_OUT_ARROW : seed % 7 == 5 ? OM_OUT_PARQUET : OM_OUT_TABLE);
  for (int t = 0; t < 2 && ok; t++) {
    ms_table *act = NULL;
    ms_error_init(&err);
    st = om_retrieve(&c, repo, thread_counts[t], t == 0 ? how : OM_OUT_TABLE, &act, &err);
    if (refused) {
      if (st == MS_OK) {
        snprintf(why, sizeof why, "succeeded, expected a refusal naming '%s'", word);
        ok = false;
      } else if (!strstr(err.message, word)) {
        snprintf(why, sizeof why, "refused, but the message does not name '%s': %s", word,
                 err.message);
        ok = false;
      }
    } else if (st == MS_ERR_NOMEM && c.mem_limit_mb) {
      /* over memory_limit_mb even in time windows: a clear error and no output is the
       * documented outcome (counted; the default run shows how often) */
      if (!strstr(err.message, "memory_limit_mb")) {
        snprintf(why, sizeof why, "out of memory without naming memory_limit_mb: %s", err.message);
        ok = false;
      }
      stats->over_limit++;
    } else if (st != MS_OK) {
      snprintf(why, sizeof why, "failed: %s", ms_error_format(&err, buf, sizeof buf));
      ok = false;
    } else {
      ms_table *want = (t == 0 && how == OM_OUT_PARQUET) ? om_as_parquet_types(exp) : ms_table_retain(exp);
      ok = want && om_compare(want, act, c.range_mode ? OM_CMP_SORTED : OM_CMP_EXACT, NULL, why,
                              sizeof why);
      if (want) ms_table_release(want);
    }
    if (act) ms_table_release(act);
    if (!ok) {
      fprintf(stderr, "oracle case %" PRIu64 " (threads %d, %s): %s\n", seed, thread_counts[t],
              OM_OUT_NAMES[t == 0 ? how : OM_OUT_TABLE], why);
      om_describe(&c);
      keep = true;
    }
  }
  stats->limited += c.mem_limit_mb != 0;
  if (refused) stats->refused++;
  else if (c.range_mode) stats->range++;
  else {
    stats->historical++;
    stats->entity_rows += c.n_ent;
  }
  if (ok && c.size == 0) { /* the pull brute force is quadratic */
    om_rng pr = {seed ^ 0x5bd1e995u};
    int n_pulls = om_int(&pr, 3);
    for (int i = 0; i < n_pulls && ok; i++) ok = om_check_pull(&c, repo, &pr, stats);
    if (!ok) keep = true;
  }
done:
  stats->cases++;
  if (!ok)
    fprintf(stderr, "  replay: MORSEL_ORACLE_SEED=%" PRIu64 " %s\n", seed,
            "build/tests/test_offline_oracle oracle_random");
  if (keep) fprintf(stderr, "  repository kept in %s\n", c.dir);
  else om_rmtree(c.dir);
  free(rr.keys);
  free(rr.ts);
  if (exp) ms_table_release(exp);
  ms_repo_free(repo);
  om_case_free(&c);
  return ok;
}

static void test_oracle_random(void) {
  const char *one = getenv("MORSEL_ORACLE_SEED");
  om_stats stats;
  memset(&stats, 0, sizeof stats);
  if (one && *one) {
    uint64_t seed = strtoull(one, NULL, 10);
    CHECK_MSG(om_run_seed(seed, true, &stats), "case %" PRIu64 " failed", seed);
    return;
  }
  const char *small = getenv("MORSEL_INTEROP_MATRIX");
  int n = small && !strcmp(small, "small") ? 100 : 500;
  const char *env_n = getenv("MORSEL_ORACLE_CASES");
  if (env_n && *env_n) n = atoi(env_n);
  const char *env_b = getenv("MORSEL_ORACLE_BASE");
  uint64_t base = env_b && *env_b ? strtoull(env_b, NULL, 10) : 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int failed = 0;
  for (int i = 0; i < n && failed < 5; i++)
    if (!om_run_seed(base + (uint64_t)i, false, &stats)) failed++;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  printf("oracle: %d cases (%d with entity input, %lld entity rows; %d entity-less; %d refused "
         "as expected; %d pulls; %d under a memory limit: %d runs in time windows, %d over the "
         "limit) in %.2f s, %d failed\n",
         stats.cases, stats.historical, (long long)stats.entity_rows, stats.range, stats.refused,
         stats.pulls, stats.limited, om_windowed_runs, stats.over_limit, secs, failed);
  printf("oracle coverage: %lld (entity row, view) decisions, %lld matched; winners decided by "
         "source order in an exact (ts, created) tie %lld (across files %lld), by created %lld "
         "(over a null created %lld); winner at the ttl bound %lld, at the request time %lld; "
         "rows cut by ttl %lld, by the created filter %lld\n",
         (long long)om_cov.decisions, (long long)om_cov.matched, (long long)om_cov.exact_tie,
         (long long)om_cov.exact_tie_across_files, (long long)om_cov.created_tiebreak,
         (long long)om_cov.null_created_loses, (long long)om_cov.at_ttl_bound,
         (long long)om_cov.at_request_time, (long long)om_cov.ttl_excludes,
         (long long)om_cov.created_filter_decides);
  CHECK_EQ_INT(failed, 0);
}

/* ---------------------------------------------------------------------------------------
 * The worked vectors of the issue, as fixed cases
 * ------------------------------------------------------------------------------------- */

#define OM_DAY (86400LL * 1000000000LL)
#define OM_T0 (1704067200LL * 1000000000LL) /* 2024-01-01T00:00:00Z */

typedef struct om_fixed_row {
  int64_t id, ts, cr;
  bool cr_null;
  int64_t f;
} om_fixed_row;

/* One view "fv" keyed by customer_id with feature f (int64), one Parquet file; entity rows
 * (id, ts). Checks the engine against the oracle and both against want (INT64_MIN = null). */
static void om_fixed(const char *tag, int64_t ttl_s, bool filter, const om_fixed_row *rows,
                     int n, const int64_t (*ents)[2], int ne, const int64_t *want) {
  om_case c;
  memset(&c, 0, sizeof c);
  ms_error err;
  ms_error_init(&err);
  snprintf(c.dir, sizeof c.dir, "%s/fixed-%s", om_scratch(), tag);
  om_rmtree(c.dir);
  c.n_views = 1;
  om_view *v = &c.v[0];
  snprintf(v->name, sizeof v->name, "fv");
  v->n_keys = 1;
  v->ent[0] = 0;
  v->ttl_s = ttl_s;
  v->n_feat = 1;
  snprintf(v->feat[0], sizeof v->feat[0], "f");
  v->ft[0] = OM_FI64;
  om_source *s = &v->s;
  snprintf(s->name, sizeof s->name, "src");
  s->n = n;
  s->n_files = 1;
  s->frows[0] = n;
  snprintf(s->fname[0], sizeof s->fname[0], "part-0.parquet");
  snprintf(s->ts_log, sizeof s->ts_log, "event_timestamp");
  snprintf(s->ts_phys, sizeof s->ts_phys, "event_timestamp");
  s->ts_unit = MS_UNIT_MICRO;
  s->ts_tz = true;
  s->has_cr = true;
  snprintf(s->cr_log, sizeof s->cr_log, "created");
  snprintf(s->cr_phys, sizeof s->cr_phys, "created");
  s->cr_unit = MS_UNIT_MICRO;
  s->cr_tz = true;
  snprintf(s->key_phys[0], sizeof s->key_phys[0], "customer_id");
  snprintf(s->feat_phys[0], sizeof s->feat_phys[0], "f");
  s->key[0] = calloc((size_t)n, sizeof(om_kv));
  s->ts = calloc((size_t)n, sizeof(om_kv));
  s->cr = calloc((size_t)n, sizeof(om_kv));
  ms_datatype i64 = ms_type(MS_TYPE_INT64);
  ms_column_builder *b;
  ms_column_builder_create(&i64, n, &b, NULL);
  for (int i = 0; i < n; i++) {
    s->key[0][i].v = rows[i].id;
    s->ts[i].v = rows[i].ts;
    s->cr[i].v = rows[i].cr;
    s->cr[i].null = rows[i].cr_null;
    ms_builder_append_i64(b, rows[i].f);
  }
  s->feat[0] = om_finish(b);
  c.n_refs = 1;
  snprintf(c.refs[0], sizeof c.refs[0], "fv:f");
  c.n_proj = 1;
  c.p[0].view = 0;
  c.p[0].n_feat = 1;
  snprintf(c.p[0].keycol[0], sizeof c.p[0].keycol[0], "customer_id");
  c.filter_created = filter;
  c.n_ent = ne;
  om_add_ecol(&c, "customer_id", OM_EKEY, OM_KINT, i64);
  c.ets = 1;
  om_add_ecol(&c, "event_timestamp", OM_ETS, 0, om_ts_type(MS_UNIT_MICRO, true));
  for (int i = 0; i < ne; i++) {
    c.ec[0].v[i].v = ents[i][0];
    c.ec[1].v[i].v = ents[i][1];
  }
  ms_column *cols[2] = {om_key_column(&c, c.ec[0].v, ne, OM_KINT, MS_TYPE_INT64),
                        om_ts_column(c.ec[1].v, ne, MS_UNIT_MICRO, true)};
  ms_field fields[2] = {{(char *)"customer_id", i64, true},
                        {(char *)"event_timestamp", om_ts_type(MS_UNIT_MICRO, true), true}};
  ms_status st = ms_table_create(fields, cols, 2, &c.ent_table, &err);
  ms_column_release(cols[0]);
  ms_column_release(cols[1]);
  c.ent_expected = c.ent_table ? ms_table_retain(c.ent_table) : NULL;
  ms_repo *repo = NULL;
  ms_table *exp = NULL, *act = NULL;
  om_rng r = {7};
  if (st == MS_OK) st = om_write_repo(&c, 2, &err);
  if (st == MS_OK) st = om_write_source(&c, v, &r, &err);
  if (st == MS_OK) st = ms_repo_load(c.dir, NULL, &repo, NULL, NULL, &err);
  if (st == MS_OK) st = om_expected(&c, &exp, &err);
  char buf[2048], why[4096] = "";
  bool ok = st == MS_OK;
  if (!ok) fprintf(stderr, "fixed case %s: %s\n", tag, ms_error_format(&err, buf, sizeof buf));
  /* the oracle agrees with the worked answer */
  for (int i = 0; ok && i < ne; i++) {
    ms_column *fcol = ms_table_column(exp, 2);
    bool is_null = ms_column_is_null(fcol, i);
    int64_t got = is_null ? INT64_MIN : ms_column_get_i64(fcol, i);
    if (got != want[i]) {
      fprintf(stderr, "fixed case %s: the oracle says %lld for entity row %d, the issue %lld\n",
              tag, (long long)got, i, (long long)want[i]);
      ok = false;
    }
  }
  for (int t = 1; ok && t <= 4; t += 3) {
    st = om_retrieve(&c, repo, t, OM_OUT_TABLE, &act, &err);
    if (st != MS_OK) {
      fprintf(stderr, "fixed case %s (threads %d): %s\n", tag, t,
              ms_error_format(&err, buf, sizeof buf));
      ok = false;
    } else if (!om_compare(exp, act, OM_CMP_EXACT, NULL, why, sizeof why)) {
      fprintf(stderr, "fixed case %s (threads %d): %s\n", tag, t, why);
      ok = false;
    }
    if (act) ms_table_release(act);
    act = NULL;
  }
  if (exp) ms_table_release(exp);
  ms_repo_free(repo);
  if (ok) om_rmtree(c.dir);
  else fprintf(stderr, "  repository kept in %s\n", c.dir);
  om_case_free(&c);
  CHECK(ok);
}

#define NUL INT64_MIN

/* Vector A: ttl 10 days; equal ts included; outside ttl; created tie-break. */
static void test_worked_ttl_and_created(void) {
  const om_fixed_row rows[] = {
      {1, OM_T0 - OM_DAY, OM_T0 - OM_DAY, false, 11},
      {1, OM_T0 + OM_DAY, OM_T0 + OM_DAY, false, 22},
      {1, OM_T0 + 2 * OM_DAY, OM_T0 + 2 * OM_DAY, false, 33},
      {2, OM_T0 - 363 * OM_DAY, 0, true, 22},
      {3, OM_T0, OM_T0 + 2 * OM_DAY, false, 10},
      {3, OM_T0, OM_T0 + OM_DAY, false, 20},
  };
  const int64_t ents[][2] = {{1, OM_T0}, {1, OM_T0 + OM_DAY}, {2, OM_T0}, {3, OM_T0 + 2 * OM_DAY}};
  const int64_t want[] = {11, 22, NUL, 10};
  om_fixed("A", 10 * 86400, false, rows, 6, ents, 4, want);
}

/* Vector B: backfills, no ttl, asked at T+2d: created breaks a ts tie, a later ts beats a
 * later created. */
static void test_worked_backfill(void) {
  const om_fixed_row rows[] = {
      {1001, OM_T0, OM_T0, false, 10},
      {1001, OM_T0, OM_T0 + OM_DAY, false, 20},
      {1002, OM_T0, OM_T0 + OM_DAY, false, 30},
      {1002, OM_T0 + OM_DAY, OM_T0, false, 40},
  };
  const int64_t ents[][2] = {{1001, OM_T0 + 2 * OM_DAY}, {1002, OM_T0 + 2 * OM_DAY}};
  const int64_t want[] = {20, 40};
  om_fixed("B", 0, false, rows, 4, ents, 2, want);
}

/* Vector C: the created filter asked at T+1d; without it the later-created rows win. */
static void test_worked_created_filter(void) {
  const om_fixed_row rows[] = {
      {1001, OM_T0, OM_T0, false, 10},
      {1002, OM_T0, OM_T0, false, 30},
      {1001, OM_T0, OM_T0 + 2 * OM_DAY, false, 20},
      {1002, OM_T0, OM_T0 + 2 * OM_DAY, false, 40},
      {1003, OM_T0, OM_T0 + 2 * OM_DAY, false, 50}, /* every candidate too new: null, kept */
  };
  const int64_t ents[][2] = {{1001, OM_T0 + OM_DAY}, {1002, OM_T0 + OM_DAY}, {1003, OM_T0 + OM_DAY}};
  const int64_t with_filter[] = {10, 30, NUL};
  const int64_t without[] = {20, 40, 50};
  om_fixed("C-filter", 0, true, rows, 5, ents, 3, with_filter);
  om_fixed("C-plain", 0, false, rows, 5, ents, 3, without);
}

/* Exact ties of (ts, created) across rows: the last in source order wins; a null created
 * ranks below any created. */
static void test_worked_ties(void) {
  const om_fixed_row rows[] = {
      {1, OM_T0, OM_T0, false, 1},
      {1, OM_T0, OM_T0, false, 2}, /* exact tie, later: wins */
      {2, OM_T0, 0, true, 3},
      {2, OM_T0, OM_T0 - OM_DAY, false, 4}, /* any created beats null */
      {2, OM_T0, 0, true, 5},
      {3, OM_T0 + 1000, 0, true, 6}, /* one microsecond after the request: invisible */
      {3, OM_T0, 0, true, 7},
  };
  const int64_t ents[][2] = {{1, OM_T0}, {2, OM_T0 + OM_DAY}, {3, OM_T0}, {4, OM_T0}};
  const int64_t want[] = {2, 4, 7, NUL};
  om_fixed("ties", 0, false, rows, 7, ents, 4, want);
}

MS_TEST_MAIN(MS_TEST(test_worked_ttl_and_created), MS_TEST(test_worked_backfill),
             MS_TEST(test_worked_created_filter), MS_TEST(test_worked_ties),
             MS_TEST(test_oracle_random))
