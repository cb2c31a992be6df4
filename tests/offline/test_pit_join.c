/* Tests of the point-in-time join kernel (src/offline/pit_join.h).
 *
 * The core is a nested-loop oracle written from the contract alone: for every entity row it
 * scans every feature row and keeps the candidates (all keys equal and non-null, ts <= e.ts,
 * ts >= e.ts - ttl when ttl > 0, created non-null and <= e.ts when asked), then the largest
 * (ts, created with null lowest, pos). Thousands of random cases (few distinct timestamps so
 * ties are everywhere, exact ttl bounds, nulls, duplicates, 0-3 key columns of mixed types,
 * empty sides, permuted positions) are compared with ms_pit_keys_encode + ms_pit_join at 1
 * and 4 threads and 1/3/64 partitions. The spec's worked vectors A, B, C are checked too.
 *
 * MORSEL_PIT_BENCH=1 adds a timing run at 10M feature rows x 1M entity rows (1M keys) with
 * 1 and 2 threads, plus an entity-less run; it prints the times and checks nothing. */
#include <stdint.h>
#include <time.h>

#include "morsel/alloc.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"
#include "ms_test.h"
#include "offline/pit_join.h"

/* ---------------- random numbers ---------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static int64_t rnd_below(int64_t n) { return n <= 0 ? 0 : (int64_t)(rnd() % (uint64_t)n); }
static bool chance(int percent) { return rnd_below(100) < percent; }

/* ---------------- key column types used by the tests ---------------- */

typedef enum tk { T_I64, T_I32, T_U32, T_I8, T_STR, T_LSTR, T_BOOL, T_DATE, T_TS_S, T_TS_MS, T_TS_US } tk;

/* (feature side, entity side) pairs that the contract says compare by value. */
static const tk k_pairs[][2] = {
    {T_I64, T_I64},   {T_I32, T_I64},  {T_I64, T_I32},   {T_U32, T_I64}, {T_I64, T_U32},
    {T_I8, T_I64},    {T_STR, T_LSTR}, {T_LSTR, T_STR},  {T_STR, T_STR}, {T_BOOL, T_BOOL},
    {T_DATE, T_DATE}, {T_TS_US, T_TS_US}, {T_TS_S, T_TS_MS}, {T_TS_MS, T_TS_S},
};
#define N_PAIRS ((int)(sizeof k_pairs / sizeof k_pairs[0]))

static ms_datatype tk_type(tk t) {
  switch (t) {
    case T_I64: return ms_type(MS_TYPE_INT64);
    case T_I32: return ms_type(MS_TYPE_INT32);
    case T_U32: return ms_type(MS_TYPE_UINT32);
    case T_I8: return ms_type(MS_TYPE_INT8);
    case T_STR: return ms_type(MS_TYPE_UTF8);
    case T_LSTR: return ms_type(MS_TYPE_LARGE_UTF8);
    case T_BOOL: return ms_type(MS_TYPE_BOOL);
    case T_DATE: return ms_type(MS_TYPE_DATE32);
    case T_TS_S: return ms_type_timestamp(MS_UNIT_SECOND, "");
    case T_TS_MS: return ms_type_timestamp(MS_UNIT_MILLI, "UTC");
    default: return ms_type_timestamp(MS_UNIT_MICRO, "");
  }
}

/* Logical key values are small integers >= 0 (v); a value < 0 marks an entity value that
 * can equal nothing on the feature side (a timestamp that is not a whole second). Each pair
 * maps v to a physical value that is equal across the two sides exactly when v is. */
static int64_t domain_of(const tk *pair) { return pair[0] == T_BOOL ? 2 : 1 + rnd_below(6); }

static ms_status append_value(ms_column_builder *b, tk t, tk other, int64_t v) {
  char s[64];
  switch (t) {
    case T_I64: case T_I32: case T_I8:
      /* Signed on both sides: include negatives. Against an unsigned column: v * 7. */
      return ms_builder_append_i64(b, other == T_U32 ? v * 7 : v * 7 - 10);
    case T_U32: return ms_builder_append_i64(b, v * 7);
    case T_STR: case T_LSTR:
      snprintf(s, sizeof s, "k%lld%s", (long long)v, v % 3 == 0 ? "-a-longer-key-string" : "");
      return ms_builder_append_bytes(b, s, (int64_t)strlen(s));
    case T_BOOL: return ms_builder_append_bool(b, v & 1);
    case T_DATE: return ms_builder_append_i64(b, v * 3 - 5);
    case T_TS_S:
      return ms_builder_append_i64(b, v * 86400);
    case T_TS_MS:
      /* v < 0: an entity value with a millisecond part (no equal in seconds). */
      if (v < 0) return ms_builder_append_i64(b, (-v) * 86400000 + 1);
      return ms_builder_append_i64(b, v * 86400000);
    default: return ms_builder_append_i64(b, v * 1000003);
  }
}

/* ---------------- a random case ---------------- */

#define MAXK 3
typedef struct pit_case {
  int n_keys;
  int pair[MAXK];
  int64_t nf, ne;
  /* feature side */
  int64_t *fk[MAXK];
  uint8_t *fk_null[MAXK];
  int64_t *fts, *fcr, *fpos;
  uint8_t *fcr_valid;
  uint8_t *fts_null;
  bool has_created, has_valid, has_pos;
  /* entity side */
  int64_t *ek[MAXK];
  uint8_t *ek_null[MAXK];
  int64_t *ets;
  uint8_t *ets_null;
  int64_t ttl;
  bool filter;
} pit_case;

static void case_free(pit_case *c) {
  for (int k = 0; k < MAXK; k++) {
    free(c->fk[k]);
    free(c->fk_null[k]);
    free(c->ek[k]);
    free(c->ek_null[k]);
  }
  free(c->fts);
  free(c->fcr);
  free(c->fpos);
  free(c->fcr_valid);
  free(c->fts_null);
  free(c->ets);
  free(c->ets_null);
  memset(c, 0, sizeof *c);
}

static void case_random(pit_case *c, int64_t max_f, int64_t max_e, int64_t n_ts) {
  memset(c, 0, sizeof *c);
  c->n_keys = (int)rnd_below(MAXK + 1);
  c->nf = chance(5) ? 0 : rnd_below(max_f + 1);
  c->ne = chance(5) ? 0 : rnd_below(max_e + 1);
  int64_t nf = c->nf, ne = c->ne;
  size_t fa = (size_t)(nf ? nf : 1), ea = (size_t)(ne ? ne : 1);
  int null_pct = chance(50) ? 0 : 10;
  for (int k = 0; k < c->n_keys; k++) {
    c->pair[k] = (int)rnd_below(N_PAIRS);
    int64_t dom = domain_of(k_pairs[c->pair[k]]);
    c->fk[k] = calloc(fa, 8);
    c->fk_null[k] = calloc(fa, 1);
    c->ek[k] = calloc(ea, 8);
    c->ek_null[k] = calloc(ea, 1);
    for (int64_t i = 0; i < nf; i++) {
      c->fk[k][i] = rnd_below(dom);
      c->fk_null[k][i] = chance(null_pct);
    }
    bool can_miss = k_pairs[c->pair[k]][0] == T_TS_S;
    for (int64_t i = 0; i < ne; i++) {
      c->ek[k][i] = rnd_below(dom + 1); /* one value the feature side may lack */
      if (can_miss && chance(10)) c->ek[k][i] = -(1 + rnd_below(dom));
      c->ek_null[k][i] = chance(null_pct);
    }
  }
  c->fts = calloc(fa, 8);
  c->fcr = calloc(fa, 8);
  c->fpos = calloc(fa, 8);
  c->fcr_valid = calloc(fa, 1);
  c->fts_null = calloc(fa, 1);
  c->ets = calloc(ea, 8);
  c->ets_null = calloc(ea, 1);
  c->has_created = chance(75);
  c->has_valid = c->has_created && chance(60);
  c->has_pos = chance(50);
  /* Few distinct timestamps: ties are common; a large base tests big values. */
  int64_t base = chance(50) ? 0 : (int64_t)1700000000 * 1000000000;
  int64_t step = chance(50) ? 1 : 1000000000;
  int ts_null_pct = chance(70) ? 0 : 5;
  for (int64_t i = 0; i < nf; i++) {
    c->fts[i] = base + rnd_below(n_ts) * step;
    c->fcr[i] = base + rnd_below(n_ts + 3) * step;
    c->fcr_valid[i] = c->has_valid ? !chance(20) : 1;
    c->fts_null[i] = chance(ts_null_pct);
    c->fpos[i] = i;
  }
  if (c->has_pos) /* a permutation */
    for (int64_t i = nf - 1; i > 0; i--) {
      int64_t j = rnd_below(i + 1), t = c->fpos[i];
      c->fpos[i] = c->fpos[j];
      c->fpos[j] = t;
    }
  /* Duplicate rows: copy some feature rows over others (keys, ts, created). */
  for (int64_t i = 0; i < nf; i++)
    if (nf > 1 && chance(10)) {
      int64_t j = rnd_below(nf);
      for (int k = 0; k < c->n_keys; k++) {
        c->fk[k][i] = c->fk[k][j];
        c->fk_null[k][i] = c->fk_null[k][j];
      }
      c->fts[i] = c->fts[j];
      c->fcr[i] = c->fcr[j];
      c->fcr_valid[i] = c->fcr_valid[j];
    }
  for (int64_t i = 0; i < ne; i++) {
    c->ets[i] = base + (rnd_below(n_ts + 2) - 1) * step;
    c->ets_null[i] = chance(ts_null_pct);
    if (ne > 1 && chance(10)) { /* duplicate entity rows */
      int64_t j = rnd_below(i + 1);
      for (int k = 0; k < c->n_keys; k++) {
        c->ek[k][i] = c->ek[k][j];
        c->ek_null[k][i] = c->ek_null[k][j];
      }
      c->ets[i] = c->ets[j];
    }
  }
  int64_t ttls[] = {0, 0, 1, 2, 3, 5};
  c->ttl = ttls[rnd_below(6)] * step;
  c->filter = chance(30);
}

/* The oracle's step for one (entity row, feature row) pair, straight from the contract:
 * is f a candidate for e, and does it beat the best so far? */
static void consider(const pit_case *c, int64_t e, int64_t f, int64_t *best) {
  if (c->ets_null[e] || c->fts_null[f]) return;
  for (int k = 0; k < c->n_keys; k++) {
    if (c->fk_null[k][f] || c->ek_null[k][e]) return;
    int64_t a = c->fk[k][f], b = c->ek[k][e];
    if (k_pairs[c->pair[k]][0] == T_BOOL) { a &= 1; b &= 1; } /* bool holds v & 1 */
    if (a != b) return;
  }
  if (c->fts[f] > c->ets[e]) return;
  if (c->ttl > 0 && c->fts[f] < c->ets[e] - c->ttl) return;
  bool f_cr_null = !c->has_created || !c->fcr_valid[f];
  if (c->filter && (f_cr_null || c->fcr[f] > c->ets[e])) return;
  if (*best < 0) { *best = f; return; }
  /* larger (ts, created with null lowest, pos) wins */
  int64_t g = *best;
  bool g_cr_null = !c->has_created || !c->fcr_valid[g];
  int cmp;
  if (c->fts[f] != c->fts[g]) cmp = c->fts[f] > c->fts[g] ? 1 : -1;
  else if (f_cr_null != g_cr_null) cmp = f_cr_null ? -1 : 1;
  else if (!f_cr_null && c->fcr[f] != c->fcr[g]) cmp = c->fcr[f] > c->fcr[g] ? 1 : -1;
  else cmp = c->fpos[f] > c->fpos[g] ? 1 : -1;
  if (cmp > 0) *best = f;
}

/* The oracle: nested loops over every pair. */
static void oracle(const pit_case *c, int64_t *out) {
  for (int64_t e = 0; e < c->ne; e++) {
    int64_t best = -1;
    for (int64_t f = 0; f < c->nf; f++) consider(c, e, f, &best);
    out[e] = best;
  }
}

/* The same oracle for big single-key cases: each entity row scans only the feature rows
 * whose key value is equal, found through an index sorted by that value. */
static const pit_case *g_sort_case;
static int cmp_by_key0(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  int64_t ka = g_sort_case->fk[0][a], kb = g_sort_case->fk[0][b];
  return (ka > kb) - (ka < kb);
}
static void oracle_by_key(const pit_case *c, int64_t *out) {
  int64_t *idx = malloc((size_t)(c->nf ? c->nf : 1) * 8);
  for (int64_t f = 0; f < c->nf; f++) idx[f] = f;
  g_sort_case = c;
  qsort(idx, (size_t)c->nf, 8, cmp_by_key0);
  for (int64_t e = 0; e < c->ne; e++) {
    int64_t best = -1, v = c->ek[0][e], lo = 0, hi = c->nf;
    while (lo < hi) {
      int64_t mid = (lo + hi) / 2;
      if (c->fk[0][idx[mid]] < v) lo = mid + 1;
      else hi = mid;
    }
    for (int64_t i = lo; i < c->nf && c->fk[0][idx[i]] == v; i++) consider(c, e, idx[i], &best);
    out[e] = best;
  }
  free(idx);
}

static ms_column *build_keys(const pit_case *c, int k, bool entity) {
  const tk *pair = k_pairs[c->pair[k]];
  tk t = pair[entity ? 1 : 0], other = pair[entity ? 0 : 1];
  ms_datatype dt = tk_type(t);
  int64_t n = entity ? c->ne : c->nf;
  const int64_t *v = entity ? c->ek[k] : c->fk[k];
  const uint8_t *nul = entity ? c->ek_null[k] : c->fk_null[k];
  ms_column_builder *b;
  if (ms_column_builder_create(&dt, n, &b, NULL) != MS_OK) return NULL;
  for (int64_t i = 0; i < n; i++) {
    ms_status st;
    if (nul[i]) st = ms_builder_append_null(b);
    else st = append_value(b, t, other, v[i]);
    if (st != MS_OK) {
      ms_column_builder_destroy(b);
      return NULL;
    }
  }
  ms_column *col = NULL;
  ms_builder_finish(b, &col, NULL);
  ms_column_builder_destroy(b);
  return col;
}

/* Runs the kernel on a case; out receives the winners. Returns the status. */
static ms_status run_kernel(const pit_case *c, ms_pool *pool, int32_t parts, int64_t *out,
                            ms_pit_keys *keys_out, ms_error *err) {
  ms_column *fcols[MAXK] = {0}, *ecols[MAXK] = {0};
  ms_status st = MS_OK;
  for (int k = 0; k < c->n_keys; k++) {
    fcols[k] = build_keys(c, k, false);
    ecols[k] = build_keys(c, k, true);
    if (!fcols[k] || !ecols[k]) st = ms_error_set(err, MS_ERR_NOMEM, "test: column build failed");
  }
  ms_pit_keys keys;
  memset(&keys, 0, sizeof keys);
  if (st == MS_OK) {
    if (c->n_keys == 0) st = ms_pit_keys_init_keyless(c->nf, c->ne, parts, &keys, err);
    else st = ms_pit_keys_encode(fcols, ecols, c->n_keys, parts, pool, &keys, err);
  }
  for (int k = 0; k < c->n_keys; k++) {
    ms_column_release(fcols[k]);
    ms_column_release(ecols[k]);
  }
  if (st != MS_OK) return st;
  /* The caller's job: rows with a null ts get key -1. */
  for (int64_t i = 0; i < c->nf; i++)
    if (c->fts_null[i]) keys.feature_key[i] = -1;
  for (int64_t i = 0; i < c->ne; i++)
    if (c->ets_null[i]) keys.entity_key[i] = -1;
  ms_pit_input in;
  memset(&in, 0, sizeof in);
  in.keys = &keys;
  in.feature_ts = c->fts;
  in.feature_created = c->has_created ? c->fcr : NULL;
  in.feature_created_valid = c->has_valid ? c->fcr_valid : NULL;
  in.feature_pos = c->has_pos ? c->fpos : NULL;
  in.entity_ts = c->ets;
  in.ttl_ns = c->ttl;
  in.filter_by_created = c->filter;
  ms_pit_stats stats;
  st = ms_pit_join(&in, pool, out, &stats, err);
  if (st == MS_OK) {
    int64_t m = 0;
    for (int64_t i = 0; i < c->ne; i++) m += out[i] >= 0;
    if (stats.matched != m || stats.n_partitions != parts)
      st = ms_error_set(err, MS_ERR_INTERNAL, "stats disagree: matched %lld vs %lld",
                        (long long)stats.matched, (long long)m);
  }
  if (keys_out) *keys_out = keys;
  else ms_pit_keys_reset(&keys);
  return st;
}

/* Logical tuple equality of feature row f with feature row g (or entity row g). */
static bool tuple_eq(const pit_case *c, int64_t f, int64_t g, bool g_entity) {
  for (int k = 0; k < c->n_keys; k++) {
    if (c->fk_null[k][f] || (g_entity ? c->ek_null[k][g] : c->fk_null[k][g])) return false;
    int64_t a = c->fk[k][f], b = g_entity ? c->ek[k][g] : c->fk[k][g];
    if (k_pairs[c->pair[k]][0] == T_BOOL) { a &= 1; b &= 1; }
    if (a != b) return false;
  }
  return true;
}

/* Checks the key ids themselves: equal ids exactly for equal non-null tuples. */
static bool keys_consistent(const pit_case *c, const ms_pit_keys *keys, char *why, size_t n) {
  if (c->n_keys == 0) return true;
  for (int64_t f = 0; f < c->nf; f++) {
    int64_t kf = keys->feature_key[f];
    if (c->fts_null[f]) continue;
    bool has_null = false;
    for (int k = 0; k < c->n_keys; k++) has_null |= c->fk_null[k][f];
    if (has_null != (kf < 0) || kf >= keys->n_keys) {
      snprintf(why, n, "feature row %lld: key id %lld (null key: %d)", (long long)f,
               (long long)kf, has_null);
      return false;
    }
    if (kf >= 0 && (keys->key_partition[kf] < 0 || keys->key_partition[kf] >= keys->n_partitions)) {
      snprintf(why, n, "key %lld: partition out of range", (long long)kf);
      return false;
    }
    for (int64_t g = 0; g < c->nf; g++) {
      if (c->fts_null[g]) continue;
      bool same = kf >= 0 && kf == keys->feature_key[g];
      if (same != tuple_eq(c, f, g, false)) {
        snprintf(why, n, "feature rows %lld and %lld: ids %lld/%lld", (long long)f,
                 (long long)g, (long long)kf, (long long)keys->feature_key[g]);
        return false;
      }
    }
    for (int64_t e = 0; e < c->ne; e++) {
      if (c->ets_null[e]) continue;
      bool same = kf >= 0 && kf == keys->entity_key[e];
      if (same != tuple_eq(c, f, e, true)) {
        snprintf(why, n, "feature row %lld, entity row %lld: ids %lld/%lld", (long long)f,
                 (long long)e, (long long)kf, (long long)keys->entity_key[e]);
        return false;
      }
    }
  }
  return true;
}

static bool small_matrix(void) {
  const char *m = getenv("MORSEL_INTEROP_MATRIX");
  return m && strcmp(m, "small") == 0;
}

static void run_random_cases(int n_cases, int64_t max_f, int64_t max_e, int64_t n_ts) {
  ms_error err;
  ms_error_init(&err);
  ms_pool *pool4 = NULL;
  CHECK_OK(ms_pool_create(4, &pool4, &err), &err);
  ms_pool *pools[2] = {NULL, pool4};
  int32_t parts[3] = {1, 3, 64};
  for (int it = 0; it < n_cases; it++) {
    pit_case c;
    case_random(&c, max_f, max_e, n_ts);
    int64_t *want = calloc((size_t)(c.ne ? c.ne : 1), 8);
    int64_t *got = calloc((size_t)(c.ne ? c.ne : 1), 8);
    oracle(&c, want);
    /* Every 4th case runs all six (threads, partitions) combinations; the others run three
     * of them (1 thread with 1 and 64 partitions, 4 threads with 3), which keeps the test
     * quick on a loaded machine. */
    for (int pi = 0; pi < 2; pi++)
      for (int qi = 0; qi < 3; qi++) {
        if (it % 4 != 0 && !((pi == 0 && qi != 1) || (pi == 1 && qi == 1))) continue;
        ms_pit_keys keys;
        ms_status st = run_kernel(&c, pools[pi], parts[qi], got, &keys, &err);
        if (st != MS_OK) {
          char buf[2048];
          fprintf(stderr, "case %d: %s\n", it, ms_error_format(&err, buf, sizeof buf));
          ms_test_failed_flag = 1;
          break;
        }
        char why[256] = "";
        bool ok_keys = keys_consistent(&c, &keys, why, sizeof why);
        ms_pit_keys_reset(&keys);
        if (!ok_keys) {
          fprintf(stderr, "case %d (keys %d, nf %lld, ne %lld): %s\n", it, c.n_keys,
                  (long long)c.nf, (long long)c.ne, why);
          ms_test_failed_flag = 1;
          break;
        }
        for (int64_t e = 0; e < c.ne; e++)
          if (got[e] != want[e]) {
            fprintf(stderr,
                    "case %d (keys %d, nf %lld, ne %lld, ttl %lld, filter %d, created %d/%d, "
                    "pos %d, threads %d, parts %d): entity row %lld: got %lld, want %lld\n",
                    it, c.n_keys, (long long)c.nf, (long long)c.ne, (long long)c.ttl, c.filter,
                    c.has_created, c.has_valid, c.has_pos, pi ? 4 : 1, parts[qi],
                    (long long)e, (long long)got[e], (long long)want[e]);
            ms_test_failed_flag = 1;
            break;
          }
        if (ms_test_failed_flag) break;
      }
    free(want);
    free(got);
    case_free(&c);
    if (ms_test_failed_flag) break;
  }
  ms_pool_destroy(pool4);
}

static void test_random_small(void) {
  rng_state = 1;
  run_random_cases(small_matrix() ? 800 : 2000, 40, 30, 6);
}

/* Larger groups: radix sorts, long tie runs, the created filter's fallback path. */
static void test_random_large(void) {
  rng_state = 2;
  run_random_cases(small_matrix() ? 8 : 25, 1500, 600, 50);
  if (ms_test_failed_flag) return;
  rng_state = 3;
  run_random_cases(small_matrix() ? 8 : 25, 1500, 600, 4); /* huge tie runs */
}

/* The created filter where almost every row is created long after its ts: the walk back
 * from the ts position grows long, so the group switches to the Fenwick method. */
static void test_created_filter_long_walk(void) {
  rng_state = 4;
  ms_error err;
  ms_error_init(&err);
  for (int round = 0; round < 6; round++) {
    pit_case c;
    memset(&c, 0, sizeof c);
    c.n_keys = round % 2; /* entity-less and one key */
    c.nf = 3000;
    c.ne = 800;
    if (c.n_keys) {
      c.pair[0] = 0;
      c.fk[0] = calloc(c.nf, 8);
      c.fk_null[0] = calloc(c.nf, 1);
      c.ek[0] = calloc(c.ne, 8);
      c.ek_null[0] = calloc(c.ne, 1);
      for (int64_t i = 0; i < c.nf; i++) c.fk[0][i] = rnd_below(2);
      for (int64_t i = 0; i < c.ne; i++) c.ek[0][i] = rnd_below(3);
    }
    c.fts = calloc(c.nf, 8);
    c.fcr = calloc(c.nf, 8);
    c.fpos = calloc(c.nf, 8);
    c.fcr_valid = calloc(c.nf, 1);
    c.fts_null = calloc(c.nf, 1);
    c.ets = calloc(c.ne, 8);
    c.ets_null = calloc(c.ne, 1);
    c.has_created = true;
    c.has_valid = round >= 2;
    c.has_pos = round >= 4;
    for (int64_t i = 0; i < c.nf; i++) {
      c.fts[i] = rnd_below(10000);
      c.fcr[i] = rnd_below(1000) < 3 ? c.fts[i] : c.fts[i] + 5000 + rnd_below(5000);
      c.fcr_valid[i] = c.has_valid ? !chance(10) : 1;
      c.fpos[i] = c.has_pos ? c.nf - 1 - i : i;
    }
    for (int64_t i = 0; i < c.ne; i++) c.ets[i] = rnd_below(12000);
    c.filter = true;
    c.ttl = round == 3 ? 4000 : 0;
    int64_t *want = calloc(c.ne, 8), *got = calloc(c.ne, 8);
    oracle(&c, want);
    ms_status st = run_kernel(&c, NULL, 1, got, NULL, &err);
    bool same = st == MS_OK;
    int64_t bad = -1;
    for (int64_t e = 0; same && e < c.ne; e++)
      if (got[e] != want[e]) { same = false; bad = e; }
    int64_t g = bad >= 0 ? got[bad] : 0, w = bad >= 0 ? want[bad] : 0;
    if (bad >= 0 && getenv("PIT_DEBUG")) {
      fprintf(stderr, "e.ts %lld\n", (long long)c.ets[bad]);
      if (g >= 0) fprintf(stderr, "got ts %lld cr %lld v %d\n", (long long)c.fts[g], (long long)c.fcr[g], c.fcr_valid[g]);
      if (w >= 0) fprintf(stderr, "want ts %lld cr %lld v %d\n", (long long)c.fts[w], (long long)c.fcr[w], c.fcr_valid[w]);
    }
    free(want);
    free(got);
    case_free(&c);
    CHECK_OK(st, &err);
    CHECK_MSG(same, "round %d, entity row %lld: got %lld, want %lld", round, (long long)bad,
              (long long)g, (long long)w);
  }
}

/* Many keys and rows: the join spreads keys over many buckets and the encoder over many
 * hash buckets and chunks; compared with the per-key oracle. Also one key with a wide
 * timestamp range (many timestamp buckets and sweep ranges). */
static void big_case(pit_case *c, int64_t nf, int64_t ne, int64_t n_keys, int round) {
  memset(c, 0, sizeof *c);
  c->n_keys = n_keys > 0 ? 1 : 0;
  /* int64 / int64 (dense ids) or timestamp[us] values 1000003 apart (hashed ids) */
  c->pair[0] = round % 3 == 2 ? 11 : 0;
  c->nf = nf;
  c->ne = ne;
  for (int k = 0; k < c->n_keys; k++) {
    c->fk[k] = calloc((size_t)nf, 8);
    c->fk_null[k] = calloc((size_t)nf, 1);
    c->ek[k] = calloc((size_t)ne, 8);
    c->ek_null[k] = calloc((size_t)ne, 1);
    for (int64_t i = 0; i < nf; i++) {
      c->fk[k][i] = rnd_below(n_keys);
      c->fk_null[k][i] = chance(2);
    }
    for (int64_t i = 0; i < ne; i++) {
      c->ek[k][i] = rnd_below(n_keys + n_keys / 20 + 1);
      c->ek_null[k][i] = chance(2);
    }
  }
  c->fts = calloc((size_t)nf, 8);
  c->fcr = calloc((size_t)nf, 8);
  c->fpos = calloc((size_t)nf, 8);
  c->fcr_valid = calloc((size_t)nf, 1);
  c->fts_null = calloc((size_t)nf, 1);
  c->ets = calloc((size_t)ne, 8);
  c->ets_null = calloc((size_t)ne, 1);
  c->has_created = round % 2 == 0;
  c->has_valid = round % 3 == 0;
  c->has_pos = round % 4 < 2;
  int64_t span = round % 2 ? 1000 : (int64_t)3600 * 24 * 365 * 1000000000;
  for (int64_t i = 0; i < nf; i++) {
    c->fts[i] = rnd_below(span);
    c->fcr[i] = c->fts[i] + rnd_below(span / 50 + 1);
    c->fcr_valid[i] = c->has_valid ? !chance(10) : 1;
    c->fts_null[i] = chance(1);
    c->fpos[i] = i;
  }
  if (c->has_pos)
    for (int64_t i = nf - 1; i > 0; i--) {
      int64_t j = rnd_below(i + 1), t = c->fpos[i];
      c->fpos[i] = c->fpos[j];
      c->fpos[j] = t;
    }
  for (int64_t i = 0; i < ne; i++) {
    c->ets[i] = rnd_below(span + span / 10);
    c->ets_null[i] = chance(1);
  }
  c->ttl = round % 3 == 1 ? span / 20 : 0;
  c->filter = round % 5 == 2;
}

static void check_big(pit_case *c, bool by_key) {
  ms_error err;
  ms_error_init(&err);
  ms_pool *pool4 = NULL;
  CHECK_OK(ms_pool_create(4, &pool4, &err), &err);
  int64_t *want = calloc((size_t)c->ne, 8), *got = calloc((size_t)c->ne, 8);
  if (by_key) oracle_by_key(c, want);
  else oracle(c, want);
  ms_pool *pools[2] = {NULL, pool4};
  int32_t parts[2] = {1, 64};
  for (int pi = 0; pi < 2 && !ms_test_failed_flag; pi++)
    for (int qi = 0; qi < 2 && !ms_test_failed_flag; qi++) {
      ms_status st = run_kernel(c, pools[pi], parts[qi], got, NULL, &err);
      if (st != MS_OK) {
        char buf[2048];
        fprintf(stderr, "big case: %s\n", ms_error_format(&err, buf, sizeof buf));
        ms_test_failed_flag = 1;
        break;
      }
      for (int64_t e = 0; e < c->ne; e++)
        if (got[e] != want[e]) {
          fprintf(stderr, "big case (keys %d, ttl %lld, filter %d, created %d/%d, pos %d, "
                  "threads %d, parts %d): entity row %lld: got %lld, want %lld\n",
                  c->n_keys, (long long)c->ttl, c->filter, c->has_created, c->has_valid,
                  c->has_pos, pi ? 4 : 1, parts[qi], (long long)e, (long long)got[e],
                  (long long)want[e]);
          ms_test_failed_flag = 1;
          break;
        }
    }
  free(want);
  free(got);
  ms_pool_destroy(pool4);
}

/* Internal (pit_join.c): the join's wave size, made small here so that the join runs over
 * several waves of key-range buckets on these inputs. */
void ms_pit__set_wave_bytes(int64_t bytes);

static void test_many_keys(void) {
  rng_state = 5;
  int rounds = small_matrix() ? 3 : 6;
  for (int round = 0; round < rounds && !ms_test_failed_flag; round++) {
    pit_case c;
    big_case(&c, small_matrix() ? 40000 : 100000, small_matrix() ? 10000 : 25000,
             round % 2 ? 20000 : 3000, round);
    ms_pit__set_wave_bytes(round % 3 == 0 ? 0 : round % 3 == 1 ? 300000 : 64);
    check_big(&c, true);
    ms_pit__set_wave_bytes(0);
    case_free(&c);
  }
}

static void test_one_key_wide_range(void) {
  rng_state = 6;
  for (int round = 0; round < 6 && !ms_test_failed_flag; round++) {
    pit_case c;
    big_case(&c, small_matrix() ? 5000 : 10000, 1500, round < 3 ? 0 : 1, round);
    check_big(&c, false);
    case_free(&c);
  }
}

/* ---------------- the spec's worked vectors (§2.3) ---------------- */

#define DAY ((int64_t)86400 * 1000000000)
/* Days since 2024-01-01 as ns (2023-12-31 = -1). */
static int64_t d(int64_t days) { return (int64_t)19723 * DAY + days * DAY; }

static ms_column *i64_col(const int64_t *v, int64_t n) {
  ms_datatype t = ms_type(MS_TYPE_INT64);
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  for (int64_t i = 0; i < n; i++) ms_builder_append_i64(b, v[i]);
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

/* One key column of int64, plain arrays; returns the winners. */
static ms_status join_simple(const int64_t *fk, const int64_t *fts, const int64_t *fcr,
                             const uint8_t *fcr_valid, int64_t nf, const int64_t *ek,
                             const int64_t *ets, int64_t ne, int64_t ttl, bool filter,
                             int64_t *out, ms_error *err) {
  ms_column *f = i64_col(fk, nf), *e = i64_col(ek, ne);
  ms_pit_keys keys;
  ms_status st = ms_pit_keys_encode(&f, &e, 1, 2, NULL, &keys, err);
  ms_column_release(f);
  ms_column_release(e);
  if (st != MS_OK) return st;
  ms_pit_input in = {.keys = &keys, .feature_ts = fts, .feature_created = fcr,
                     .feature_created_valid = fcr_valid, .entity_ts = ets, .ttl_ns = ttl,
                     .filter_by_created = filter};
  st = ms_pit_join(&in, NULL, out, NULL, err);
  ms_pit_keys_reset(&keys);
  return st;
}

static void test_vector_a(void) {
  /* ttl 10 days; (id, ts, created, f): (1,12-31,12-31,11) (1,01-02,01-02,22)
   * (1,01-03,01-03,33) (2,2023-01-03,null,22) (3,01-01,01-03,10) (3,01-01,01-02,20). */
  int64_t fk[] = {1, 1, 1, 2, 3, 3};
  int64_t fts[] = {d(-1), d(1), d(2), d(-363), d(0), d(0)};
  int64_t fcr[] = {d(-1), d(1), d(2), 0, d(2), d(1)};
  uint8_t fv[] = {1, 1, 1, 0, 1, 1};
  int64_t fval[] = {11, 22, 33, 22, 10, 20};
  int64_t ek[] = {1, 1, 2, 3};
  int64_t ets[] = {d(0), d(1), d(0), d(2)};
  int64_t want[] = {11, 22, -1, 10};
  int64_t out[4];
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(join_simple(fk, fts, fcr, fv, 6, ek, ets, 4, 10 * DAY, false, out, &err), &err);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(out[i] < 0 ? -1 : fval[out[i]], want[i]);
}

static void test_vector_b(void) {
  /* Backfill, no ttl, E at T+2d. 1001: (T, T, 10), (T, T+1d, 20) -> 20;
   * 1002: (T, T+1d, 30), (T+1d, T, 40) -> 40: a later ts beats a later created. */
  int64_t fk[] = {1001, 1001, 1002, 1002};
  int64_t fts[] = {d(0), d(0), d(0), d(1)};
  int64_t fcr[] = {d(0), d(1), d(1), d(0)};
  int64_t fval[] = {10, 20, 30, 40};
  int64_t ek[] = {1001, 1002};
  int64_t ets[] = {d(2), d(2)};
  int64_t want[] = {20, 40};
  int64_t out[2];
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(join_simple(fk, fts, fcr, NULL, 4, ek, ets, 2, 0, false, out, &err), &err);
  for (int i = 0; i < 2; i++) CHECK_EQ_INT(out[i] < 0 ? -1 : fval[out[i]], want[i]);
  /* The same rows in the opposite order: the answer does not depend on row order. */
  int64_t fk2[] = {1002, 1002, 1001, 1001}, fts2[] = {d(1), d(0), d(0), d(0)};
  int64_t fcr2[] = {d(0), d(1), d(1), d(0)}, fval2[] = {40, 30, 20, 10};
  CHECK_OK(join_simple(fk2, fts2, fcr2, NULL, 4, ek, ets, 2, 0, false, out, &err), &err);
  for (int i = 0; i < 2; i++) CHECK_EQ_INT(out[i] < 0 ? -1 : fval2[out[i]], want[i]);
}

static void test_vector_c(void) {
  /* E at T+1d. Rows (1001,T,T,10) (1002,T,T,30) (1001,T,T+2d,20) (1002,T,T+2d,40).
   * Default -> 20/40; with the created filter -> 10/30; when every candidate is created
   * too late -> null (row kept), without leaking another entity's row. */
  int64_t fk[] = {1001, 1002, 1001, 1002};
  int64_t fts[] = {d(0), d(0), d(0), d(0)};
  int64_t fcr[] = {d(0), d(0), d(2), d(2)};
  int64_t fval[] = {10, 30, 20, 40};
  int64_t ek[] = {1001, 1002};
  int64_t ets[] = {d(1), d(1)};
  int64_t out[2];
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(join_simple(fk, fts, fcr, NULL, 4, ek, ets, 2, 0, false, out, &err), &err);
  CHECK_EQ_INT(fval[out[0]], 20);
  CHECK_EQ_INT(fval[out[1]], 40);
  CHECK_OK(join_simple(fk, fts, fcr, NULL, 4, ek, ets, 2, 0, true, out, &err), &err);
  CHECK_EQ_INT(fval[out[0]], 10);
  CHECK_EQ_INT(fval[out[1]], 30);
  int64_t fcr_late[] = {d(0), d(3), d(2), d(2)}; /* 1002's rows are all created too late */
  CHECK_OK(join_simple(fk, fts, fcr_late, NULL, 4, ek, ets, 2, 0, true, out, &err), &err);
  CHECK_EQ_INT(fval[out[0]], 10);
  CHECK_EQ_INT(out[1], -1);
}

/* ---------------- errors and edge cases ---------------- */

static void test_type_mismatch(void) {
  ms_datatype st = ms_type(MS_TYPE_UTF8);
  ms_column_builder *b;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_column_builder_create(&st, 1, &b, &err), &err);
  CHECK_OK(ms_builder_append_bytes(b, "x", 1), &err);
  ms_column *s = NULL;
  CHECK_OK(ms_builder_finish(b, &s, &err), &err);
  ms_column_builder_destroy(b);
  int64_t v = 1;
  ms_column *i = i64_col(&v, 1);
  ms_column *f[2] = {i, s}, *e[2] = {i, i};
  ms_pit_keys keys;
  ms_status rc = ms_pit_keys_encode(f, e, 2, 1, NULL, &keys, &err);
  ms_column_release(s);
  ms_column_release(i);
  CHECK_EQ_INT(rc, MS_ERR_TYPE);
  CHECK_MSG(strstr(err.message, "utf8") && strstr(err.message, "int64") &&
                strstr(err.message, "column 1") && strstr(err.message, "feature") &&
                strstr(err.message, "entity"),
            "message: %s", err.message);
  CHECK(keys.feature_key == NULL && keys.n_keys == 0);
}

/* Key types beyond the random matrix: decimal128, fixed_binary, binary vs large_binary,
 * uint64 against int64 at the sign boundary, timestamps of different units, the null type,
 * and pairs that are type errors. */
static ms_column *bytes_col(ms_datatype t, const char *const *v, const int *len, int n) {
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  for (int i = 0; i < n; i++) {
    if (!v[i]) ms_builder_append_null(b);
    else ms_builder_append_bytes(b, v[i], len[i]);
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

static ms_column *int_col(ms_datatype t, const int64_t *v, int n, bool u) {
  ms_column_builder *b;
  if (ms_column_builder_create(&t, n, &b, NULL) != MS_OK) return NULL;
  for (int i = 0; i < n; i++) {
    if (u) ms_builder_append_u64(b, (uint64_t)v[i]);
    else ms_builder_append_i64(b, v[i]);
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

/* Encodes one key column pair; want_same[i] = feature row matched by entity row i or -1. */
static bool encode_matches(ms_column *f, ms_column *e, const int *want, int ne, char *why,
                           size_t n) {
  ms_error err;
  ms_error_init(&err);
  ms_pit_keys keys;
  ms_status st = ms_pit_keys_encode(&f, &e, 1, 3, NULL, &keys, &err);
  ms_column_release(f);
  ms_column_release(e);
  if (st != MS_OK) {
    snprintf(why, n, "encode failed: %.200s", err.message);
    return false;
  }
  bool ok = true;
  for (int i = 0; i < ne && ok; i++) {
    int64_t want_key = want[i] < 0 ? -1 : keys.feature_key[want[i]];
    if (keys.entity_key[i] != want_key || (want[i] >= 0 && want_key < 0)) {
      snprintf(why, n, "entity row %d: key %lld, want %lld", i, (long long)keys.entity_key[i],
               (long long)want_key);
      ok = false;
    }
  }
  ms_pit_keys_reset(&keys);
  return ok;
}

static void test_other_key_types(void) {
  char why[256] = "";
  /* decimal128(10, 2): 16-byte little-endian values */
  char d1[16] = {1}, d2[16] = {2}, d3[16] = {3};
  const char *fd[] = {d1, d2, d1, NULL}, *ed[] = {d2, d3, d1, NULL};
  int l16[] = {16, 16, 16, 16};
  int want_d[] = {1, -1, 0, -1};
  CHECK_MSG(encode_matches(bytes_col(ms_type_decimal128(10, 2), fd, l16, 4),
                           bytes_col(ms_type_decimal128(12, 2), ed, l16, 4), want_d, 4, why,
                           sizeof why), "decimal: %s", why);
  /* fixed_binary(3) */
  const char *fx[] = {"abc", "abd", NULL}, *ex[] = {"abd", "abc", "zzz"};
  int l3[] = {3, 3, 3};
  int want_x[] = {1, 0, -1};
  CHECK_MSG(encode_matches(bytes_col(ms_type_fixed_binary(3), fx, l3, 3),
                           bytes_col(ms_type_fixed_binary(3), ex, l3, 3), want_x, 3, why,
                           sizeof why), "fixed_binary: %s", why);
  /* binary vs large_binary, with the empty value (not null) */
  const char *fb[] = {"ab", "", "a\0b"}, *eb[] = {"", "a\0b", "ab", NULL};
  int lf[] = {2, 0, 3}, le[] = {0, 3, 2, 0};
  int want_b[] = {1, 2, 0, -1};
  CHECK_MSG(encode_matches(bytes_col(ms_type(MS_TYPE_BINARY), fb, lf, 3),
                           bytes_col(ms_type(MS_TYPE_LARGE_BINARY), eb, le, 4), want_b, 4,
                           why, sizeof why), "binary: %s", why);
  /* uint64 feature values against int64 entity values: -1 is not UINT64_MAX */
  int64_t fu[] = {-1 /* UINT64_MAX */, 5}, eu[] = {-1, 5};
  int want_u[] = {-1, 1};
  CHECK_MSG(encode_matches(int_col(ms_type(MS_TYPE_UINT64), fu, 2, true),
                           int_col(ms_type(MS_TYPE_INT64), eu, 2, false), want_u, 2, why,
                           sizeof why), "uint64/int64: %s", why);
  CHECK_MSG(encode_matches(int_col(ms_type(MS_TYPE_INT64), eu, 2, false),
                           int_col(ms_type(MS_TYPE_UINT64), fu, 2, true), want_u, 2, why,
                           sizeof why), "int64/uint64: %s", why);
  /* timestamp[s] against timestamp[ns] and the reverse */
  int64_t fs[] = {10, 20}, ens[] = {10000000000LL, 10000000001LL, 20000000000LL};
  int want_t[] = {0, -1, 1};
  CHECK_MSG(encode_matches(int_col(ms_type_timestamp(MS_UNIT_SECOND, ""), fs, 2, false),
                           int_col(ms_type_timestamp(MS_UNIT_NANO, "UTC"), ens, 3, false),
                           want_t, 3, why, sizeof why), "ts s/ns: %s", why);
  int64_t fns[] = {10000000001LL, 10000000000LL}, es[] = {10, 11};
  int want_t2[] = {1, -1};
  CHECK_MSG(encode_matches(int_col(ms_type_timestamp(MS_UNIT_NANO, ""), fns, 2, false),
                           int_col(ms_type_timestamp(MS_UNIT_SECOND, ""), es, 2, false),
                           want_t2, 2, why, sizeof why), "ts ns/s: %s", why);
  /* the null type: nothing matches */
  ms_datatype nt = ms_type(MS_TYPE_NULL);
  ms_column *nf = NULL;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_column_create_nulls(&nt, 2, &nf, &err), &err);
  int64_t ev[] = {1, 2};
  int want_n[] = {-1, -1};
  CHECK_MSG(encode_matches(nf, int_col(ms_type(MS_TYPE_INT64), ev, 2, false), want_n, 2, why,
                           sizeof why), "null type: %s", why);
  /* type errors */
  struct { ms_datatype f, e; } bad[] = {
      {ms_type(MS_TYPE_BOOL), ms_type(MS_TYPE_INT64)},
      {ms_type(MS_TYPE_UTF8), ms_type(MS_TYPE_BINARY)},
      {ms_type(MS_TYPE_FLOAT64), ms_type(MS_TYPE_FLOAT64)},
      {ms_type_decimal128(10, 2), ms_type_decimal128(10, 3)},
      {ms_type(MS_TYPE_DATE32), ms_type_timestamp(MS_UNIT_SECOND, "")},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ms_column *f = NULL, *e = NULL;
    CHECK_OK(ms_column_create_nulls(&bad[i].f, 1, &f, &err), &err);
    CHECK_OK(ms_column_create_nulls(&bad[i].e, 1, &e, &err), &err);
    ms_pit_keys keys;
    ms_status st = ms_pit_keys_encode(&f, &e, 1, 1, NULL, &keys, &err);
    ms_column_release(f);
    ms_column_release(e);
    CHECK_MSG(st == MS_ERR_TYPE, "pair %zu: status %d", i, (int)st);
  }
}

static void test_invalid_inputs(void) {
  ms_error err;
  ms_error_init(&err);
  ms_pit_keys keys;
  CHECK_EQ_INT(ms_pit_keys_encode(NULL, NULL, 0, 1, NULL, &keys, &err), MS_ERR_INVALID);
  CHECK_EQ_INT(ms_pit_keys_init_keyless(3, 2, 0, &keys, &err), MS_ERR_INVALID);
  CHECK_OK(ms_pit_keys_init_keyless(0, 2, 4, &keys, &err), &err);
  CHECK_EQ_INT(keys.n_keys, 0);
  CHECK_EQ_INT(keys.entity_key[0], -1);
  int64_t ets[2] = {5, 6}, out[2] = {7, 7};
  ms_pit_input in = {.keys = &keys, .entity_ts = ets};
  CHECK_OK(ms_pit_join(&in, NULL, out, NULL, &err), &err);
  CHECK(out[0] == -1 && out[1] == -1);
  in.ttl_ns = -1;
  CHECK_EQ_INT(ms_pit_join(&in, NULL, out, NULL, &err), MS_ERR_INVALID);
  ms_pit_keys_reset(&keys);
  /* A key id out of range is refused, not read out of bounds. */
  CHECK_OK(ms_pit_keys_init_keyless(2, 2, 1, &keys, &err), &err);
  keys.feature_key[1] = 5;
  int64_t fts[2] = {1, 2};
  ms_pit_input in2 = {.keys = &keys, .feature_ts = fts, .entity_ts = ets};
  CHECK_EQ_INT(ms_pit_join(&in2, NULL, out, NULL, &err), MS_ERR_INVALID);
  ms_pit_keys_reset(&keys);
}

/* A key's partition depends on its value alone: the dense path (values 0..99) and the
 * hashed path (the same values plus one far away) agree, for several partition counts. */
static void test_partition_stable_across_paths(void) {
  ms_error err;
  ms_error_init(&err);
  int64_t a[101], b[101];
  for (int i = 0; i < 100; i++) a[i] = b[i] = i;
  b[100] = (int64_t)1 << 50; /* too far for the dense path */
  ms_column *ca = i64_col(a, 100), *cb = i64_col(b, 101);
  int32_t parts[] = {1, 3, 64, 1000};
  for (int p = 0; p < 4; p++) {
    ms_pit_keys ka, kb;
    CHECK_OK(ms_pit_keys_encode(&ca, &ca, 1, parts[p], NULL, &ka, &err), &err);
    CHECK_OK(ms_pit_keys_encode(&cb, &cb, 1, parts[p], NULL, &kb, &err), &err);
    bool same = ka.n_keys == 100 && kb.n_keys == 101;
    for (int i = 0; i < 100 && same; i++)
      same = ka.key_partition[ka.feature_key[i]] == kb.key_partition[kb.feature_key[i]] &&
             ka.entity_key[i] == ka.feature_key[i] && kb.entity_key[i] == kb.feature_key[i];
    ms_pit_keys_reset(&ka);
    ms_pit_keys_reset(&kb);
    CHECK_MSG(same, "partitions differ between the dense and hashed paths (%d partitions)",
              parts[p]);
  }
  ms_column_release(ca);
  ms_column_release(cb);
}

/* Extreme timestamps and ttl: no overflow in e.ts - ttl. */
static void test_extreme_values(void) {
  ms_error err;
  ms_error_init(&err);
  int64_t fk[] = {1, 1, 2};
  int64_t fts[] = {INT64_MIN, INT64_MIN + 5, INT64_MAX};
  int64_t ek[] = {1, 1, 2, 2};
  int64_t ets[] = {INT64_MIN + 4, INT64_MAX, INT64_MAX, INT64_MIN};
  int64_t out[4];
  CHECK_OK(join_simple(fk, fts, NULL, NULL, 3, ek, ets, 4, 10, false, out, &err), &err);
  CHECK_EQ_INT(out[0], 0);
  CHECK_EQ_INT(out[1], -1); /* outside the ttl */
  CHECK_EQ_INT(out[2], 2);
  CHECK_EQ_INT(out[3], -1);
  CHECK_OK(join_simple(fk, fts, NULL, NULL, 3, ek, ets, 4, INT64_MAX, false, out, &err), &err);
  CHECK_EQ_INT(out[0], 0);
  CHECK_EQ_INT(out[1], -1); /* INT64_MIN + 5 < INT64_MAX - ttl = 0 */
  CHECK_EQ_INT(out[2], 2);
  int64_t ets2[] = {0, 4, INT64_MAX, INT64_MIN};
  CHECK_OK(join_simple(fk, fts, NULL, NULL, 3, ek, ets2, 4, INT64_MAX, false, out, &err), &err);
  CHECK_EQ_INT(out[0], 1); /* 0 - ttl = INT64_MIN + 1 <= INT64_MIN + 5 */
  CHECK_EQ_INT(out[1], 1);
  /* One key (timestamp buckets) over the whole int64 range. */
  ms_pit_keys keys;
  CHECK_OK(ms_pit_keys_init_keyless(3, 4, 1, &keys, &err), &err);
  int64_t kfts[] = {INT64_MIN, INT64_MAX, 0};
  int64_t kets[] = {INT64_MAX, INT64_MIN, -1, 0};
  ms_pit_input in = {.keys = &keys, .feature_ts = kfts, .entity_ts = kets};
  CHECK_OK(ms_pit_join(&in, NULL, out, NULL, &err), &err);
  ms_pit_keys_reset(&keys);
  CHECK_EQ_INT(out[0], 1);
  CHECK_EQ_INT(out[1], 0);
  CHECK_EQ_INT(out[2], 0);
  CHECK_EQ_INT(out[3], 2);
}

/* ---------------- the optional micro-benchmark ---------------- */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void bench_run(int threads, int64_t nf, int64_t ne, int64_t n_keys, bool keyless,
                      int64_t spread) {
  ms_error err;
  ms_error_init(&err);
  ms_pool *pool = NULL;
  CHECK_OK(ms_pool_create(threads, &pool, &err), &err);
  rng_state = 42;
  int64_t *fk = malloc((size_t)nf * 8), *ek = malloc((size_t)ne * 8);
  int64_t *fts = malloc((size_t)nf * 8), *fcr = malloc((size_t)nf * 8);
  int64_t *ets = malloc((size_t)ne * 8), *out = ms_malloc_aligned((size_t)ne * 8);
  memset(out, 0, (size_t)ne * 8); /* the caller's array: its first touch is not the kernel's */
  const int64_t t0 = (int64_t)1700000000 * 1000000000, span = (int64_t)365 * DAY;
  for (int64_t i = 0; i < nf; i++) {
    fk[i] = (int64_t)(rnd() % (uint64_t)n_keys) * (spread ? spread : 1) + 1000;
    fts[i] = t0 + (int64_t)(rnd() % (uint64_t)span);
    fcr[i] = fts[i] + (int64_t)(rnd() % 1000000000);
  }
  for (int64_t i = 0; i < ne; i++) {
    /* ~5% unknown keys */
    ek[i] = (rnd() % 20 == 0) ? -5 : (int64_t)(rnd() % (uint64_t)n_keys) * (spread ? spread : 1) + 1000;
    ets[i] = t0 + (int64_t)(rnd() % (uint64_t)span);
  }
  ms_column *f = NULL, *e = NULL;
  if (spread == 0) { /* utf8 keys "customer-<n>" */
    ms_datatype st = ms_type(MS_TYPE_UTF8);
    for (int side = 0; side < 2; side++) {
      ms_column_builder *bld;
      int64_t n = side ? ne : nf;
      const int64_t *v = side ? ek : fk;
      CHECK_OK(ms_column_builder_create(&st, n, &bld, &err), &err);
      for (int64_t i = 0; i < n; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "customer-%lld", (long long)v[i]);
        ms_builder_append_bytes(bld, buf, len);
      }
      CHECK_OK(ms_builder_finish(bld, side ? &e : &f, &err), &err);
      ms_column_builder_destroy(bld);
    }
  } else if (!keyless) {
    f = i64_col(fk, nf);
    e = i64_col(ek, ne);
  }
  ms_pit_keys keys;
  int64_t peak0 = ms_mem_current();
  ms_mem_reset_peak();
  double a = now_s(), ca = cpu_s();
  if (keyless) CHECK_OK(ms_pit_keys_init_keyless(nf, ne, 64, &keys, &err), &err);
  else CHECK_OK(ms_pit_keys_encode(&f, &e, 1, 64, pool, &keys, &err), &err);
  double b = now_s(), cb = cpu_s();
  int64_t peak_keys = ms_mem_peak() - peak0;
  ms_mem_reset_peak();
  ms_pit_input in = {.keys = &keys, .feature_ts = fts, .feature_created = fcr,
                     .entity_ts = ets, .ttl_ns = 30 * DAY};
  ms_pit_stats stats;
  CHECK_OK(ms_pit_join(&in, pool, out, &stats, &err), &err);
  double c = now_s(), cc = cpu_s();
  int64_t peak_join = ms_mem_peak() - peak0;
  printf("bench %s: %lld feature x %lld entity rows, %lld keys, %d thread(s): encode %.3f s "
         "(cpu %.3f s, scratch peak %.0f MB), join %.3f s (cpu %.3f s, peak above inputs %.0f MB), "
         "matched %lld\n",
         keyless     ? "entity-less"
         : spread == 0 ? "utf8 key"
         : spread == 1 ? "int64 key, dense ids"
                       : "int64 key, spread ids",
         (long long)nf, (long long)ne,
         (long long)keys.n_keys, threads, b - a, cb - ca, peak_keys / 1e6, c - b, cc - cb,
         peak_join / 1e6,
         (long long)stats.matched);
  ms_pit_keys_reset(&keys);
  ms_column_release(f);
  ms_column_release(e);
  free(fk); free(ek); free(fts); free(fcr); free(ets); ms_free_aligned(out);
  ms_pool_destroy(pool);
}

static void test_bench(void) {
  const char *b = getenv("MORSEL_PIT_BENCH");
  if (!b || !*b || strcmp(b, "0") == 0) return;
  int64_t nf = 10000000, ne = 1000000;
  for (int t = 1; t <= 2; t++) bench_run(t, nf, ne, 1000000, false, 1);
  for (int t = 1; t <= 2; t++) bench_run(t, nf, ne, 1000000, false, 7919);
  for (int t = 1; t <= 2; t++) bench_run(t, nf, ne, 1000000, false, 0);
  for (int t = 1; t <= 2; t++) bench_run(t, nf, ne, 1, true, 1);
}

MS_TEST_MAIN(MS_TEST(test_vector_a), MS_TEST(test_vector_b), MS_TEST(test_vector_c),
             MS_TEST(test_type_mismatch), MS_TEST(test_other_key_types),
             MS_TEST(test_invalid_inputs),
             MS_TEST(test_extreme_values), MS_TEST(test_partition_stable_across_paths), MS_TEST(test_random_small),
             MS_TEST(test_random_large), MS_TEST(test_created_filter_long_walk),
             MS_TEST(test_many_keys), MS_TEST(test_one_key_wide_range),
             MS_TEST(test_bench))
