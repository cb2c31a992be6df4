/* The aggregation kernel (src/compute) against a brute-force reference written from the
 * contract (include/morsel/compute.h, repo.h's ms_aggregation_def, docs/compute.md).
 *
 * Each case is random data from a seed: int or string join keys (with nulls and keys that
 * differ only in width), timestamps on a coarse grid (so many ties) with nulls, duplicated
 * rows, int / float (nulls, NaN, -0.0) / string / timestamp inputs, random filters, and
 * every function over finite backward and forward windows and unbounded ones, mean_gap
 * with and without `by`. Queries are (key, T) pairs with T on row timestamps, exactly at
 * T - w and T + w of rows, between grid points and outside the data, keys that exist, do not
 * exist or are null.
 *
 * The reference, for each (key, T), scans every input row, applies the key, timestamp,
 * window and filter conditions directly, orders the counted rows by (timestamp, input
 * position) with an insertion sort, and computes each function naively (sums in that order,
 * so floats are compared bit for bit). Also checked: the population at T (the snapshot's
 * rows) equals the reference's, a snapshot-style batch (population keys at one T) and an
 * as-of batch (arbitrary rows) agree bit for bit, and a store built on 1 or 4 threads gives
 * the same bits.
 *
 * MORSEL_COMPUTE_SEED=<n> runs one case (printed on failure); MORSEL_COMPUTE_CASES=<n> sets
 * how many run (default 150). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "compute/compute_int.h"
#include "morsel/alloc.h"
#include "ms_test.h"

#define NS_DAY INT64_C(86400000000000)
#define NS_HOUR INT64_C(3600000000000)

typedef struct rng {
  uint64_t s;
} rng;
static uint64_t rnext(rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}
static int64_t rint_(rng *r, int64_t lo, int64_t hi) { return lo + (int64_t)(rnext(r) % (uint64_t)(hi - lo + 1)); }
static bool rchance(rng *r, int pct) { return (int)(rnext(r) % 100) < pct; }

/* ---- a case: raw rows as plain arrays, then columns ---- */
#define MAX_AGGS 40

typedef struct tcase {
  uint64_t seed;
  int64_t n;
  bool str_keys;
  /* per row */
  int64_t *key;      /* int key value, or index into key strings */
  uint8_t *key_ok;
  int64_t *ts;
  uint8_t *ts_ok;
  int64_t *iv;  uint8_t *iv_ok;   /* int input */
  double *fv;   uint8_t *fv_ok;   /* float input (NaN, -0.0 included) */
  int64_t *sv;  uint8_t *sv_ok;   /* string input: index into words */
  int64_t *tv;  uint8_t *tv_ok;   /* timestamp input (us) */
  uint8_t *filt[3];               /* random filters */
  uint8_t *pop;                   /* population filter */
  int64_t pop_w;
  ms_column *kcol, *icol, *fcol, *scol, *tcol;
  int n_aggs;
  cmp_agg_input aggs[MAX_AGGS];
  int agg_input[MAX_AGGS];        /* 0 none, 1 int, 2 float, 3 string, 4 ts */
  int agg_filter[MAX_AGGS];       /* -1 none, else filt index */
  int agg_by[MAX_AGGS];           /* mean_gap: 0 none, 3 string by, 1 int by */
  char names[MAX_AGGS][32];
} tcase;

static const char *k_words[] = {"a", "b", "ab", "ba", "", "zz", "a\xc3\xa9", "b2", "A", "aa"};
#define N_WORDS 10

static void tcase_free(tcase *c) {
  ms_free(c->key); ms_free(c->key_ok); ms_free(c->ts); ms_free(c->ts_ok);
  ms_free(c->iv); ms_free(c->iv_ok); ms_free(c->fv); ms_free(c->fv_ok);
  ms_free(c->sv); ms_free(c->sv_ok); ms_free(c->tv); ms_free(c->tv_ok);
  for (int f = 0; f < 3; f++) ms_free(c->filt[f]);
  ms_free(c->pop);
  ms_column_release(c->kcol); ms_column_release(c->icol); ms_column_release(c->fcol);
  ms_column_release(c->scol); ms_column_release(c->tcol);
}

static char g_keybuf[32];
static const char *key_str(int64_t k) {
  snprintf(g_keybuf, sizeof g_keybuf, "k%lld", (long long)k);
  return g_keybuf;
}

static ms_column *finish(ms_column_builder *b) {
  ms_column *c = NULL;
  ms_error err;
  ms_error_init(&err);
  if (ms_builder_finish(b, &c, &err) != MS_OK) c = NULL;
  ms_column_builder_destroy(b);
  return c;
}

static ms_column *build_key_col(const tcase *c, bool as_query, const int64_t *vals, const uint8_t *ok, int64_t n) {
  ms_datatype t;
  if (c->str_keys) t = ms_type(as_query ? MS_TYPE_LARGE_UTF8 : MS_TYPE_UTF8);
  else t = ms_type(as_query ? MS_TYPE_INT64 : (c->seed % 2 ? MS_TYPE_INT32 : MS_TYPE_UINT16));
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL)) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (!ok[i]) ms_builder_append_null(b);
    else if (c->str_keys) {
      const char *s = key_str(vals[i]);
      ms_builder_append_bytes(b, s, (int64_t)strlen(s));
    } else ms_builder_append_i64(b, vals[i]);
  }
  return finish(b);
}

static void gen_case(tcase *c, uint64_t seed) {
  memset(c, 0, sizeof *c);
  c->seed = seed;
  rng r = {seed * 0x9E3779B97F4A7C15ull + 12345};
  for (int i = 0; i < 5; i++) rnext(&r);
  int64_t n = seed % 10 == 0 ? rint_(&r, 0, 3) : rint_(&r, 5, 400);
  c->n = n;
  c->str_keys = seed % 3 == 1;
  size_t nn = (size_t)(n ? n : 1);
  c->key = ms_calloc(nn, 8); c->key_ok = ms_calloc(nn, 1);
  c->ts = ms_calloc(nn, 8); c->ts_ok = ms_calloc(nn, 1);
  c->iv = ms_calloc(nn, 8); c->iv_ok = ms_calloc(nn, 1);
  c->fv = ms_calloc(nn, 8); c->fv_ok = ms_calloc(nn, 1);
  c->sv = ms_calloc(nn, 8); c->sv_ok = ms_calloc(nn, 1);
  c->tv = ms_calloc(nn, 8); c->tv_ok = ms_calloc(nn, 1);
  for (int f = 0; f < 3; f++) c->filt[f] = ms_calloc(nn, 1);
  c->pop = ms_calloc(nn, 1);
  int64_t n_keys = rint_(&r, 1, 12);
  int64_t grid = rchance(&r, 50) ? NS_DAY : NS_HOUR * 6;
  int64_t base = INT64_C(1291191960) * 1000000000; /* 2010-12-01 08:26 */
  int null_pct = (int)rint_(&r, 0, 20);
  for (int64_t i = 0; i < n; i++) {
    if (i > 0 && rchance(&r, 10)) { /* duplicate of an earlier row */
      int64_t j = rint_(&r, 0, i - 1);
      c->key[i] = c->key[j]; c->key_ok[i] = c->key_ok[j]; c->ts[i] = c->ts[j]; c->ts_ok[i] = c->ts_ok[j];
      c->iv[i] = c->iv[j]; c->iv_ok[i] = c->iv_ok[j]; c->fv[i] = c->fv[j]; c->fv_ok[i] = c->fv_ok[j];
      c->sv[i] = c->sv[j]; c->sv_ok[i] = c->sv_ok[j]; c->tv[i] = c->tv[j]; c->tv_ok[i] = c->tv_ok[j];
    } else {
      c->key[i] = rint_(&r, 0, n_keys - 1) * (c->str_keys ? 1 : 7) + (c->str_keys ? 0 : 3);
      c->key_ok[i] = !rchance(&r, null_pct / 2);
      c->ts[i] = base + rint_(&r, 0, 40) * grid + (rchance(&r, 10) ? rint_(&r, 0, 3) : 0);
      c->ts_ok[i] = !rchance(&r, null_pct / 2);
      c->iv[i] = rchance(&r, 5) && seed % 3 != 2 ? rint_(&r, -1000000000000, 1000000000000) : rint_(&r, -20, 50);
      c->iv_ok[i] = !rchance(&r, null_pct);
      int fk = (int)rint_(&r, 0, 19);
      c->fv[i] = fk == 0 ? NAN : fk == 1 ? -0.0 : fk == 2 ? 0.0 : (double)rint_(&r, -1000, 1000) / 8.0 + 0.1;
      c->fv_ok[i] = !rchance(&r, null_pct);
      c->sv[i] = rint_(&r, 0, N_WORDS - 1);
      c->sv_ok[i] = !rchance(&r, null_pct);
      c->tv[i] = c->ts[i] / 1000 + (rchance(&r, 30) ? rint_(&r, -3, 3) * (grid / 1000) : 0);
      c->tv_ok[i] = !rchance(&r, null_pct);
    }
    for (int f = 0; f < 3; f++) c->filt[f][i] = rchance(&r, f == 0 ? 70 : f == 1 ? 40 : 95);
    c->pop[i] = rchance(&r, 60);
  }
  /* columns */
  c->kcol = build_key_col(c, false, c->key, c->key_ok, n);
  /* int input: int64, or int32 for every third seed (values then small) */
  ms_datatype ti = ms_type(seed % 3 == 2 ? MS_TYPE_INT32 : MS_TYPE_INT64), tf = ms_type(MS_TYPE_FLOAT64), ts = ms_type(MS_TYPE_UTF8),
              tt = ms_type_timestamp(MS_UNIT_MICRO, seed % 4 == 0 ? "UTC" : "");
  ms_column_builder *bi, *bf, *bs, *bt;
  ms_column_builder_create(&ti, n, &bi, NULL);
  ms_column_builder_create(&tf, n, &bf, NULL);
  ms_column_builder_create(&ts, n, &bs, NULL);
  ms_column_builder_create(&tt, n, &bt, NULL);
  for (int64_t i = 0; i < n; i++) {
    if (c->iv_ok[i]) ms_builder_append_i64(bi, c->iv[i]); else ms_builder_append_null(bi);
    if (c->fv_ok[i]) ms_builder_append_f64(bf, c->fv[i]); else ms_builder_append_null(bf);
    if (c->sv_ok[i]) ms_builder_append_bytes(bs, k_words[c->sv[i]], (int64_t)strlen(k_words[c->sv[i]]));
    else ms_builder_append_null(bs);
    if (c->tv_ok[i]) ms_builder_append_i64(bt, c->tv[i]); else ms_builder_append_null(bt);
  }
  c->icol = finish(bi);
  c->fcol = finish(bf);
  c->scol = finish(bs);
  c->tcol = finish(bt);
  /* aggregations: every function, several windows */
  const int64_t windows[] = {-1, 3 * grid, 10 * grid, grid, 90 * NS_DAY};
  c->pop_w = rchance(&r, 30) ? -1 : windows[rint_(&r, 1, 4)];
  int na = 0;
  for (int fn = CMP_COUNT; fn <= CMP_MEAN_GAP; fn++) {
    int reps = fn == CMP_MEAN_GAP ? 4 : 3;
    for (int k = 0; k < reps && na < MAX_AGGS; k++) {
      cmp_agg_input *a = &c->aggs[na];
      int input;
      switch (fn) {
        case CMP_COUNT: input = k == 0 ? 0 : (int)rint_(&r, 1, 4); break;
        case CMP_COUNT_DISTINCT: input = (int)rint_(&r, 1, 4); break;
        case CMP_SUM: case CMP_MEAN: case CMP_STDDEV: case CMP_VAR: input = (int)rint_(&r, 1, 2); break;
        case CMP_MEAN_GAP: input = 4; break;
        default: input = (int)rint_(&r, 1, 4); break;
      }
      /* huge ints only where overflow cannot happen in this test (sum of int64 of at most 400
       * values of |v| <= 1e12 fits) */
      c->agg_input[na] = input;
      c->agg_filter[na] = rchance(&r, 25) ? -1 : (int)rint_(&r, 0, 2);
      c->agg_by[na] = fn == CMP_MEAN_GAP ? (k == 0 ? 0 : k == 1 ? 3 : (int)(rchance(&r, 50) ? 1 : 3)) : 0;
      snprintf(c->names[na], sizeof c->names[na], "%s_%d", cmp_fn_name((cmp_fn)fn), k);
      a->name = c->names[na];
      a->fn = (cmp_fn)fn;
      a->window_ns = windows[rint_(&r, 0, 4)];
      a->forward = rchance(&r, 25);
      a->unit_ns = rchance(&r, 50) ? NS_DAY : NS_HOUR;
      a->input = input == 1 ? c->icol : input == 2 ? c->fcol : input == 3 ? c->scol : input == 4 ? c->tcol : NULL;
      a->filter = c->agg_filter[na] < 0 ? NULL : c->filt[c->agg_filter[na]];
      a->by = c->agg_by[na] == 3 ? c->scol : c->agg_by[na] == 1 ? c->icol : NULL;
      a->input_key = input == 1 ? "i" : input == 2 ? "f" : input == 3 ? "s" : input == 4 ? "t" : NULL;
      na++;
    }
  }
  c->n_aggs = na;
}

static ms_status build_store(const tcase *c, int threads, cmp_store **out, ms_error *err) {
  ms_pool *pool = NULL;
  ms_status st = ms_pool_create(threads, &pool, err);
  if (st) return st;
  const char *kn[] = {"customer_id"};
  cmp_input in;
  memset(&in, 0, sizeof in);
  in.n = c->n;
  in.n_keys = 1;
  in.keys = &c->kcol;
  in.key_names = kn;
  in.ts_ns = c->ts;
  in.ts_ok = c->ts_ok;
  in.pop_filter = c->seed % 5 == 2 ? NULL : c->pop;
  in.pop_window_ns = c->pop_w;
  in.n_aggs = c->n_aggs;
  in.aggs = c->aggs;
  st = cmp_store_build(&in, pool, out, err);
  ms_pool_destroy(pool);
  return st;
}

/* ---- the reference ---- */

typedef struct oref {
  bool valid;
  int64_t i;   /* int results */
  double f;    /* float results */
  int64_t row; /* min/max/first/last: input row */
} oref;

static bool in_window(const cmp_agg_input *a, int64_t ts, int64_t t) {
  if (!a->forward) {
    if (ts >= t) return false;
    if (a->window_ns < 0) return true;
    return (__int128)ts >= (__int128)t - a->window_ns;
  }
  if (ts < t) return false;
  if (a->window_ns < 0) return true;
  return (__int128)ts < (__int128)t + a->window_ns;
}

static bool input_present(const tcase *c, int input, int64_t i) {
  switch (input) {
    case 1: return c->iv_ok[i];
    case 2: return c->fv_ok[i] && !isnan(c->fv[i]);
    case 3: return c->sv_ok[i];
    case 4: return c->tv_ok[i];
    default: return true;
  }
}

static int cmp_input_vals(const tcase *c, int input, int64_t i, int64_t j) {
  switch (input) {
    case 1: return c->iv[i] < c->iv[j] ? -1 : c->iv[i] > c->iv[j];
    case 2: return c->fv[i] < c->fv[j] ? -1 : c->fv[i] > c->fv[j];
    case 3: {
      const char *a = k_words[c->sv[i]], *b = k_words[c->sv[j]];
      size_t la = strlen(a), lb = strlen(b), m = la < lb ? la : lb;
      int r = memcmp(a, b, m);
      if (r) return r < 0 ? -1 : 1;
      return la < lb ? -1 : la > lb;
    }
    default: return c->tv[i] < c->tv[j] ? -1 : c->tv[i] > c->tv[j];
  }
}

static bool row_has_key(const tcase *c, int64_t i, int64_t qkey, bool qok) {
  return qok && c->key_ok[i] && c->ts_ok[i] && c->key[i] == qkey;
}

/* Rows counted by aggregation a at (key, t), in (ts, input position) order. */
static int64_t counted_rows(const tcase *c, int a, int64_t qkey, bool qok, int64_t t, int64_t *rows) {
  const cmp_agg_input *ag = &c->aggs[a];
  int64_t m = 0;
  for (int64_t i = 0; i < c->n; i++) {
    if (!row_has_key(c, i, qkey, qok) || !in_window(ag, c->ts[i], t)) continue;
    if (ag->filter && !ag->filter[i]) continue;
    if (!input_present(c, c->agg_input[a], i)) continue;
    if (c->agg_by[a] && !input_present(c, c->agg_by[a], i)) continue;
    /* insertion by (ts, position) */
    int64_t p = m++;
    while (p > 0 && c->ts[rows[p - 1]] > c->ts[i]) {
      rows[p] = rows[p - 1];
      p--;
    }
    rows[p] = i;
  }
  return m;
}

static bool ref_population(const tcase *c, int64_t qkey, bool qok, int64_t t) {
  bool use_filter = c->seed % 5 != 2;
  for (int64_t i = 0; i < c->n; i++) {
    if (!row_has_key(c, i, qkey, qok) || c->ts[i] >= t) continue;
    if (c->pop_w >= 0 && (__int128)c->ts[i] < (__int128)t - c->pop_w) continue;
    if (use_filter && !c->pop[i]) continue;
    return true;
  }
  return false;
}

static double in_f(const tcase *c, int input, int64_t i) { return input == 1 ? (double)c->iv[i] : c->fv[i]; }

static int i64cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static oref ref_agg(const tcase *c, int a, int64_t qkey, bool qok, int64_t t, int64_t *rows, int64_t *tmp) {
  oref o = {0};
  o.row = -1;
  const cmp_agg_input *ag = &c->aggs[a];
  int in = c->agg_input[a];
  int64_t m = counted_rows(c, a, qkey, qok, t, rows);
  switch (ag->fn) {
    case CMP_COUNT:
      o.valid = true;
      o.i = m;
      break;
    case CMP_COUNT_DISTINCT: {
      int64_t d = 0;
      for (int64_t x = 0; x < m; x++) {
        bool seen = false;
        for (int64_t y = 0; y < x && !seen; y++) {
          int64_t i = rows[x], j = rows[y];
          if (in == 2) seen = c->fv[i] == c->fv[j]; /* -0.0 == 0.0 */
          else seen = cmp_input_vals(c, in, i, j) == 0;
        }
        d += !seen;
      }
      o.valid = true;
      o.i = d;
      break;
    }
    case CMP_SUM:
      o.valid = m > 0;
      if (in == 1) for (int64_t x = 0; x < m; x++) o.i += c->iv[rows[x]];
      else {
        double s = 0;
        for (int64_t x = 0; x < m; x++) s += c->fv[rows[x]];
        o.f = s;
      }
      break;
    case CMP_MEAN:
    case CMP_STDDEV:
    case CMP_VAR: {
      double mean;
      if (in == 1) {
        __int128 s = 0;
        for (int64_t x = 0; x < m; x++) s += c->iv[rows[x]];
        mean = m ? (double)s / (double)m : 0;
      } else {
        double s = 0;
        for (int64_t x = 0; x < m; x++) s += c->fv[rows[x]];
        mean = m ? s / (double)m : 0;
      }
      if (ag->fn == CMP_MEAN) {
        o.valid = m > 0;
        o.f = mean;
        break;
      }
      if (m < 2) break;
      double ss = 0;
      for (int64_t x = 0; x < m; x++) {
        double d = in_f(c, in, rows[x]) - mean;
        ss += d * d;
      }
      o.valid = true;
      o.f = ag->fn == CMP_VAR ? ss / (double)(m - 1) : sqrt(ss / (double)(m - 1));
      break;
    }
    case CMP_MIN:
    case CMP_MAX:
      for (int64_t x = 0; x < m; x++) {
        int r = o.row < 0 ? 0 : cmp_input_vals(c, in, rows[x], o.row);
        if (o.row < 0 || (ag->fn == CMP_MIN ? r < 0 : r > 0)) o.row = rows[x];
      }
      o.valid = o.row >= 0;
      break;
    case CMP_FIRST:
      if (m) o.row = rows[0];
      o.valid = m > 0;
      break;
    case CMP_LAST:
      if (m) o.row = rows[m - 1];
      o.valid = m > 0;
      break;
    case CMP_MEAN_GAP: {
      int64_t np = 0;
      for (int64_t x = 0; x < m; x++) {
        int64_t i = rows[x];
        bool seen = false;
        if (c->agg_by[a])
          for (int64_t y = 0; y < x && !seen; y++) seen = cmp_input_vals(c, c->agg_by[a], rows[y], i) == 0;
        if (!seen) tmp[np++] = c->tv[i] * 1000; /* us -> ns */
      }
      if (np < 2) break;
      qsort(tmp, (size_t)np, sizeof *tmp, i64cmp);
      int64_t s = 0;
      for (int64_t x = 1; x < np; x++) {
        int64_t d = tmp[x] - tmp[x - 1];
        s += d / ag->unit_ns; /* d >= 0: the floor */
      }
      o.valid = true;
      o.f = (double)s / (double)(np - 1);
      break;
    }
  }
  return o;
}

/* Does cell `row` of the kernel's column equal the reference? */
static bool cell_matches(const tcase *c, int a, const ms_column *col, int64_t row, const oref *o, char *why, size_t wsz) {
  bool valid = !ms_column_is_null(col, row);
  if (valid != o->valid) {
    snprintf(why, wsz, "valid: got %d, want %d", valid, o->valid);
    return false;
  }
  if (!valid) return true;
  const ms_datatype *t = ms_column_type(col);
  cmp_fn fn = c->aggs[a].fn;
  if (fn == CMP_MIN || fn == CMP_MAX || fn == CMP_FIRST || fn == CMP_LAST) {
    int in = c->agg_input[a];
    const ms_column *src = c->aggs[a].input;
    if (!ms_type_equal(t, ms_column_type(src))) {
      snprintf(why, wsz, "type differs from the input's");
      return false;
    }
    bool eq;
    if (in == 2) {
      double x = ms_column_get_f64(col, row), y = ms_column_get_f64(src, o->row);
      eq = memcmp(&x, &y, sizeof x) == 0;
      snprintf(why, wsz, "got %.17g want %.17g (row %lld)", x, y, (long long)o->row);
    } else if (in == 3) {
      int64_t la, lb;
      const uint8_t *x = ms_column_get_bytes(col, row, &la), *y = ms_column_get_bytes(src, o->row, &lb);
      eq = la == lb && memcmp(x, y, (size_t)la) == 0;
      snprintf(why, wsz, "got '%.*s' want '%.*s'", (int)la, x, (int)lb, y);
    } else {
      int64_t x = ms_column_get_i64(col, row), y = ms_column_get_i64(src, o->row);
      eq = x == y;
      snprintf(why, wsz, "got %lld want %lld", (long long)x, (long long)y);
    }
    return eq;
  }
  if (t->id == MS_TYPE_INT64) {
    int64_t x = ms_column_get_i64(col, row);
    snprintf(why, wsz, "got %lld want %lld", (long long)x, (long long)o->i);
    return x == o->i;
  }
  double x = ms_column_get_f64(col, row);
  snprintf(why, wsz, "got %.17g want %.17g", x, o->f);
  return memcmp(&x, &o->f, sizeof x) == 0;
}

static bool columns_identical(ms_column *const *a, ms_column *const *b, int n) {
  for (int i = 0; i < n; i++)
    if (!ms_column_equal(a[i], b[i])) return false;
  return true;
}

static void release_cols(ms_column **cols, int n) {
  for (int i = 0; i < n; i++) ms_column_release(cols[i]);
}

static uint64_t g_failed_seed;

/* One case; false on a mismatch (printed). */
static bool run_case(uint64_t seed) {
  tcase c;
  gen_case(&c, seed);
  ms_error err;
  ms_error_init(&err);
  cmp_store *s1 = NULL, *s4 = NULL;
  bool ok = true;
  char buf[2048];
  if (build_store(&c, 1, &s1, &err) || build_store(&c, 4, &s4, &err)) {
    fprintf(stderr, "seed %" PRIu64 ": build: %s\n", seed, ms_error_format(&err, buf, sizeof buf));
    cmp_store_free(s1);
    tcase_free(&c);
    return false;
  }
  rng r = {seed + 777};
  /* queries: (key, T) */
  int64_t nq = 60;
  int64_t *qkey = ms_calloc((size_t)nq, 8), *qt = ms_calloc((size_t)nq, 8);
  uint8_t *qok = ms_calloc((size_t)nq, 1);
  for (int64_t q = 0; q < nq; q++) {
    int64_t i = c.n ? rint_(&r, 0, c.n - 1) : 0;
    qkey[q] = c.n ? c.key[i] : 3;
    qok[q] = !rchance(&r, 5);
    if (rchance(&r, 10)) qkey[q] = 10000 + q; /* a key with no rows */
    int64_t t = c.n ? c.ts[i] : 0;
    int mode = (int)rint_(&r, 0, 5);
    int a = (int)rint_(&r, 0, c.n_aggs - 1);
    int64_t w = c.aggs[a].window_ns < 0 ? NS_DAY : c.aggs[a].window_ns;
    if (mode == 1) t += w;  /* a row exactly at T - w */
    if (mode == 2) t -= w;  /* a row exactly at T + w (forward) */
    if (mode == 3) t += rint_(&r, -5, 5) * NS_HOUR + rint_(&r, -2, 2);
    if (mode == 4) t += rint_(&r, -100, 100) * NS_DAY;
    if (mode == 5) t = INT64_C(1291191960) * 1000000000 + rint_(&r, -5, 60) * NS_DAY;
    qt[q] = t;
  }
  ms_column *qcol = build_key_col(&c, true, qkey, qok, nq);
  const char *kn[] = {"customer_id"};
  int na = c.n_aggs;
  ms_column *res1[MAX_AGGS] = {0}, *res4[MAX_AGGS] = {0};
  int64_t *kid = ms_calloc((size_t)nq, 8);
  uint8_t *active = ms_calloc((size_t)nq, 1);
  int64_t *rows = ms_calloc((size_t)(c.n + 1), 8), *tmp = ms_calloc((size_t)(c.n + 1), 8);
  if (cmp_enc_check_query(s1->keys, &qcol, kn, &err) != MS_OK) {
    fprintf(stderr, "seed %" PRIu64 ": check_query: %s\n", seed, ms_error_format(&err, buf, sizeof buf));
    ok = false;
  }
  for (int64_t q = 0; ok && q < nq; q++) {
    kid[q] = cmp_enc_lookup(s1->keys, &qcol, q);
    bool want_pop = ref_population(&c, qkey[q], qok[q], qt[q]);
    active[q] = cmp_in_population(s1, kid[q], qt[q]);
    if (active[q] != want_pop) {
      fprintf(stderr, "seed %" PRIu64 ": query %lld (key %lld ok %d, T %lld): population %d, reference %d\n", seed,
              (long long)q, (long long)qkey[q], qok[q], (long long)qt[q], active[q], want_pop);
      ok = false;
    }
  }
  cmp_batch b = {nq, kid, qt, active};
  if (ok && (cmp_compute_batch(s1, &b, res1, &err) || cmp_compute_batch(s4, &b, res4, &err))) {
    fprintf(stderr, "seed %" PRIu64 ": compute: %s\n", seed, ms_error_format(&err, buf, sizeof buf));
    ok = false;
  }
  for (int64_t q = 0; ok && q < nq; q++) {
    for (int a = 0; ok && a < na; a++) {
      oref o = {0};
      if (active[q]) o = ref_agg(&c, a, qkey[q], qok[q], qt[q], rows, tmp);
      char why[512];
      if (!cell_matches(&c, a, res1[a], q, &o, why, sizeof why)) {
        fprintf(stderr,
                "seed %" PRIu64 ": query %lld (key %lld, T %lld), aggregation %s (window %lld, %s, input %d, filter %d, by %d): %s\n",
                seed, (long long)q, (long long)qkey[q], (long long)qt[q], c.names[a], (long long)c.aggs[a].window_ns,
                c.aggs[a].forward ? "forward" : "backward", c.agg_input[a], c.agg_filter[a], c.agg_by[a], why);
        ok = false;
      }
    }
  }
  if (ok && !columns_identical(res1, res4, na)) {
    fprintf(stderr, "seed %" PRIu64 ": 1 and 4 threads differ\n", seed);
    ok = false;
  }
  /* snapshot-style: the population keys at each distinct query T, in one batch per T; the
   * cells must equal the as-of batch's cells for the same (key, T) bit for bit */
  for (int64_t q = 0; ok && q < nq; q += 7) {
    int64_t *pk = NULL, np = 0;
    if (cmp_population(s4, qt[q], &pk, &np, &err)) {
      ok = false;
      break;
    }
    /* reference population: distinct keys with ref_population true */
    int64_t want = 0;
    for (int64_t k = 0; k < s4->n_keys; k++) {
      int64_t rep = cmp_enc_rep_row(s4->keys, k);
      if (ref_population(&c, c.key[rep], true, qt[q])) want++;
    }
    if (want != np) {
      fprintf(stderr, "seed %" PRIu64 ": population at T %lld: %lld keys, reference %lld\n", seed, (long long)qt[q],
              (long long)np, (long long)want);
      ok = false;
    }
    int64_t *tt = ms_calloc((size_t)(np ? np : 1), 8);
    for (int64_t j = 0; j < np; j++) tt[j] = qt[q];
    ms_column *snap[MAX_AGGS] = {0};
    cmp_batch sb = {np, pk, tt, NULL};
    if (ok && cmp_compute_batch(s4, &sb, snap, &err)) ok = false;
    /* compare with a one-item as-of batch per key */
    for (int64_t j = 0; ok && j < np; j++) {
      ms_column *one[MAX_AGGS] = {0};
      cmp_batch ob = {1, &pk[j], &tt[j], NULL};
      if (cmp_compute_batch(s1, &ob, one, &err)) {
        ok = false;
        break;
      }
      for (int a = 0; a < na && ok; a++) {
        ms_column *cell = NULL;
        ms_column_slice(snap[a], j, 1, &cell, NULL);
        if (!ms_column_equal(cell, one[a])) {
          fprintf(stderr, "seed %" PRIu64 ": snapshot and as-of differ: key %lld, %s\n", seed, (long long)pk[j], c.names[a]);
          ok = false;
        }
        ms_column_release(cell);
      }
      /* and against the reference */
      int64_t rep = cmp_enc_rep_row(s4->keys, pk[j]);
      for (int a = 0; a < na && ok; a++) {
        oref o = ref_agg(&c, a, c.key[rep], true, qt[q], rows, tmp);
        char why[512];
        if (!cell_matches(&c, a, snap[a], j, &o, why, sizeof why)) {
          fprintf(stderr, "seed %" PRIu64 ": snapshot key %lld, %s: %s\n", seed, (long long)c.key[rep], c.names[a], why);
          ok = false;
        }
      }
      release_cols(one, na);
    }
    release_cols(snap, na);
    ms_free(tt);
    ms_free(pk);
  }
  if (!ok) g_failed_seed = seed;
  release_cols(res1, na);
  release_cols(res4, na);
  ms_column_release(qcol);
  ms_free(qkey); ms_free(qt); ms_free(qok); ms_free(kid); ms_free(active); ms_free(rows); ms_free(tmp);
  cmp_store_free(s1);
  cmp_store_free(s4);
  tcase_free(&c);
  return ok;
}

static void test_oracle_random(void) {
  const char *one = getenv("MORSEL_COMPUTE_SEED");
  if (one && *one) {
    uint64_t seed = strtoull(one, NULL, 10);
    CHECK_MSG(run_case(seed), "seed %" PRIu64, seed);
    return;
  }
  int cases = 150;
  const char *nc = getenv("MORSEL_COMPUTE_CASES");
  if (nc && *nc) cases = atoi(nc);
  int failed = 0;
  for (int k = 1; k <= cases && failed < 3; k++)
    if (!run_case((uint64_t)k)) failed++;
  CHECK_MSG(failed == 0, "%d case(s) failed; replay with MORSEL_COMPUTE_SEED=%" PRIu64, failed, g_failed_seed);
}

/* Fixed cases whose answers are known by hand: bounds exactly at T - w and T. */
static void test_window_bounds(void) {
  ms_error err;
  ms_error_init(&err);
  int64_t ts[] = {0, 10, 10, 20, 30};
  uint8_t ok5[] = {1, 1, 1, 1, 1};
  ms_datatype ti = ms_type(MS_TYPE_INT64);
  ms_column_builder *kb, *vb;
  ms_column_builder_create(&ti, 5, &kb, NULL);
  ms_column_builder_create(&ti, 5, &vb, NULL);
  for (int i = 0; i < 5; i++) {
    ms_builder_append_i64(kb, 1);
    ms_builder_append_i64(vb, i + 1);
  }
  ms_column *k = finish(kb), *v = finish(vb);
  cmp_agg_input aggs[4] = {
      {"back", CMP_SUM, 20, false, 1, v, NULL, NULL, "v"},
      {"fwd", CMP_SUM, 20, true, 1, v, NULL, NULL, "v"},
      {"all", CMP_COUNT, -1, false, 1, NULL, NULL, NULL, NULL},
      {"last", CMP_LAST, 20, false, 1, v, NULL, NULL, "v"},
  };
  const char *kn[] = {"k"};
  cmp_input in = {5, 1, &k, kn, ts, ok5, NULL, -1, 4, aggs, NULL};
  cmp_store *s = NULL;
  CHECK_OK(cmp_store_build(&in, NULL, &s, &err), &err);
  int64_t key[] = {0, 0, 0};
  int64_t t[] = {30, 10, 31};
  ms_column *out[4];
  cmp_batch b = {3, key, t, NULL};
  CHECK_OK(cmp_compute_batch(s, &b, out, &err), &err);
  /* T = 30: back [10, 30) = rows 1,2,3 -> 2+3+4 = 9; fwd [30, 50) = row 4 -> 5;
   * (-inf, 30) has 4 rows; last in [10, 30) is row 3 (value 4) */
  CHECK_EQ_INT(ms_column_get_i64(out[0], 0), 9);
  CHECK_EQ_INT(ms_column_get_i64(out[1], 0), 5);
  CHECK_EQ_INT(ms_column_get_i64(out[2], 0), 4);
  CHECK_EQ_INT(ms_column_get_i64(out[3], 0), 4);
  /* T = 10: back [-10, 10) = row 0 -> 1; fwd [10, 30) = rows 1,2,3 -> 9; last = row 0 */
  CHECK_EQ_INT(ms_column_get_i64(out[0], 1), 1);
  CHECK_EQ_INT(ms_column_get_i64(out[1], 1), 9);
  CHECK_EQ_INT(ms_column_get_i64(out[2], 1), 1);
  CHECK_EQ_INT(ms_column_get_i64(out[3], 1), 1);
  /* T = 31: back [11, 31) = rows 3,4 -> 9; fwd empty -> null; last = row 4 (5) */
  CHECK_EQ_INT(ms_column_get_i64(out[0], 2), 9);
  CHECK(ms_column_is_null(out[1], 2));
  CHECK_EQ_INT(ms_column_get_i64(out[3], 2), 5);
  for (int a = 0; a < 4; a++) ms_column_release(out[a]);
  cmp_store_free(s);
  ms_column_release(k);
  ms_column_release(v);
}

/* An int64 sum that overflows is an error, not a wrapped value. */
static void test_sum_overflow(void) {
  ms_error err;
  ms_error_init(&err);
  int64_t ts[] = {0, 1};
  ms_datatype ti = ms_type(MS_TYPE_INT64);
  ms_column_builder *kb, *vb;
  ms_column_builder_create(&ti, 2, &kb, NULL);
  ms_column_builder_create(&ti, 2, &vb, NULL);
  for (int i = 0; i < 2; i++) {
    ms_builder_append_i64(kb, 5);
    ms_builder_append_i64(vb, INT64_MAX - 1);
  }
  ms_column *k = finish(kb), *v = finish(vb);
  cmp_agg_input agg = {"s", CMP_SUM, -1, false, 1, v, NULL, NULL, NULL};
  const char *kn[] = {"k"};
  cmp_input in = {2, 1, &k, kn, ts, NULL, NULL, -1, 1, &agg, NULL};
  cmp_store *s = NULL;
  CHECK_OK(cmp_store_build(&in, NULL, &s, &err), &err);
  int64_t key = 0, t = 10;
  ms_column *out = NULL;
  cmp_batch b = {1, &key, &t, NULL};
  CHECK(cmp_compute_batch(s, &b, &out, &err) == MS_ERR_INVALID);
  CHECK(strstr(err.message, "overflows") != NULL);
  cmp_store_free(s);
  ms_column_release(k);
  ms_column_release(v);
}

/* A float join key is refused with advice to cast it. */
static void test_float_key_refused(void) {
  ms_error err;
  ms_error_init(&err);
  ms_datatype tf = ms_type(MS_TYPE_FLOAT64);
  ms_column_builder *kb;
  ms_column_builder_create(&tf, 1, &kb, NULL);
  ms_builder_append_f64(kb, 1.0);
  ms_column *k = finish(kb);
  int64_t ts[] = {0};
  cmp_agg_input agg = {"c", CMP_COUNT, -1, false, 1, NULL, NULL, NULL, NULL};
  const char *kn[] = {"CustomerID"};
  cmp_input in = {1, 1, &k, kn, ts, NULL, NULL, -1, 1, &agg, NULL};
  cmp_store *s = NULL;
  CHECK(cmp_store_build(&in, NULL, &s, &err) == MS_ERR_TYPE);
  CHECK(strstr(err.message, "cast(CustomerID as int64)") != NULL);
  ms_column_release(k);
}

MS_TEST_MAIN(MS_TEST(test_window_bounds), MS_TEST(test_sum_overflow), MS_TEST(test_float_key_refused),
             MS_TEST(test_oracle_random))
