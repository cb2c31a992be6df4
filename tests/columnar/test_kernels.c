/* Randomised tests of the column and table kernels (slice, filter, take, concat, equal,
 * select, sort indices) against brute-force expectations computed row by row through
 * the public accessors (ms_column_get_*, ms_column_is_null), for every type, with nulls,
 * empty and all-null columns and long strings. */
#include <math.h>
#include <stdint.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "morsel/table.h"
#include "ms_test.h"

/* ---- deterministic random numbers (splitmix64) ---- */
static uint64_t g_rng = 0x1234567887654321ull;
static uint64_t rnd(void) {
  uint64_t z = (g_rng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int64_t rnd_range(int64_t n) { return n > 0 ? (int64_t)(rnd() % (uint64_t)n) : 0; }

static ms_datatype k_types[24];
static int n_types;

static void init_types(void) {
  if (n_types) return;
  for (int id = MS_TYPE_NULL; id <= MS_TYPE_FIXED_BINARY; id++) {
    if (id == MS_TYPE_TIMESTAMP) k_types[n_types++] = ms_type_timestamp(MS_UNIT_NANO, "UTC");
    else if (id == MS_TYPE_DECIMAL128) k_types[n_types++] = ms_type_decimal128(38, 4);
    else if (id == MS_TYPE_FIXED_BINARY) k_types[n_types++] = ms_type_fixed_binary(3);
    else k_types[n_types++] = ms_type((ms_type_id)id);
  }
  k_types[n_types++] = ms_type_fixed_binary(16);
  k_types[n_types++] = ms_type_timestamp(MS_UNIT_MICRO, "");
}

/* Random column. null_pct: percent of nulls (100 = all null). domain > 0 limits integer
 * values to [0, domain) and strings to few distinct values, to create ties. */
static ms_column *random_column(const ms_datatype *t, int64_t n, int null_pct, int domain) {
  ms_column_builder *b;
  if (ms_column_builder_create(t, n, &b, NULL)) return NULL;
  for (int64_t i = 0; i < n; i++) {
    if (t->id == MS_TYPE_NULL || rnd_range(100) < null_pct) { ms_builder_append_null(b); continue; }
    uint64_t r = rnd();
    if (domain > 0) r %= (uint64_t)domain;
    switch (t->id) {
      case MS_TYPE_BOOL: ms_builder_append_bool(b, r & 1); break;
      case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
      case MS_TYPE_DATE32: case MS_TYPE_TIMESTAMP:
        ms_builder_append_i64(b, domain > 0 ? (int64_t)r - domain / 2 : (int64_t)r); break;
      case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32: case MS_TYPE_UINT64:
        ms_builder_append_u64(b, r); break;
      case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: {
        static const double specials[] = {0.0, -0.0, NAN, INFINITY, -INFINITY, 1.5, -1.5, 1e300};
        double v;
        if (rnd_range(8) == 0) v = specials[rnd_range(8)];
        else if (domain > 0) v = (double)((int64_t)r - domain / 2) / 4;
        else v = (double)(int64_t)r / 1e6;
        ms_builder_append_f64(b, v);
        break;
      }
      case MS_TYPE_UTF8: case MS_TYPE_BINARY: case MS_TYPE_LARGE_UTF8: case MS_TYPE_LARGE_BINARY: {
        uint8_t buf[700];
        int64_t len = rnd_range(10) == 0 ? 100 + rnd_range(600) : rnd_range(12);
        if (domain > 0) len = (int64_t)(r % 4);
        for (int64_t k = 0; k < len; k++)
          buf[k] = domain > 0 ? (uint8_t)("a\x80z"[(r + (uint64_t)k) % 3]) : (uint8_t)rnd();
        ms_builder_append_bytes(b, buf, len);
        break;
      }
      case MS_TYPE_DECIMAL128: case MS_TYPE_FIXED_BINARY: {
        uint8_t buf[32];
        int w = t->id == MS_TYPE_DECIMAL128 ? 16 : t->byte_width;
        for (int k = 0; k < w; k++) buf[k] = domain > 0 ? (uint8_t)(rnd() % 3 * 0x7f) : (uint8_t)rnd();
        ms_builder_append_bytes(b, buf, w);
        break;
      }
      default: ms_builder_append_null(b);
    }
  }
  ms_column *c = NULL;
  ms_builder_finish(b, &c, NULL);
  ms_column_builder_destroy(b);
  return c;
}

/* Row equality through the accessors only. */
static bool row_equal(const ms_column *a, int64_t i, const ms_column *b, int64_t j) {
  bool na = ms_column_is_null(a, i), nb = ms_column_is_null(b, j);
  if (na || nb) return na == nb;
  const ms_datatype *t = ms_column_type(a);
  switch (t->id) {
    case MS_TYPE_BOOL: return ms_column_get_bool(a, i) == ms_column_get_bool(b, j);
    case MS_TYPE_UINT64: return ms_column_get_u64(a, i) == ms_column_get_u64(b, j);
    case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: {
      double x = ms_column_get_f64(a, i), y = ms_column_get_f64(b, j);
      if (isnan(x) && isnan(y)) return true;
      return memcmp(&x, &y, sizeof x) == 0;
    }
    case MS_TYPE_UTF8: case MS_TYPE_BINARY: case MS_TYPE_LARGE_UTF8: case MS_TYPE_LARGE_BINARY:
    case MS_TYPE_DECIMAL128: case MS_TYPE_FIXED_BINARY: {
      int64_t la, lb;
      const uint8_t *pa = ms_column_get_bytes(a, i, &la), *pb = ms_column_get_bytes(b, j, &lb);
      return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
    }
    default: return ms_column_get_i64(a, i) == ms_column_get_i64(b, j);
  }
}

/* Structural invariants: null count matches, var-length offsets start at 0. */
static bool invariants_ok(const ms_column *c) {
  int64_t nulls = 0;
  for (int64_t i = 0; i < ms_column_length(c); i++) nulls += ms_column_is_null(c, i);
  if (nulls != ms_column_null_count(c)) return false;
  if (ms_type_is_varlen(ms_column_type(c))) {
    if (ms_type_is_large(ms_column_type(c))) return ((const int64_t *)c->values->data)[0] == 0;
    return ((const int32_t *)c->values->data)[0] == 0;
  }
  return true;
}

static const int k_null_pcts[] = {0, 20, 100};
static const int64_t k_lengths[] = {0, 1, 7, 64, 333, 2000};

static void test_slice(void) {
  init_types();
  int64_t base = ms_mem_current();
  for (int ti = 0; ti < n_types; ti++)
    for (int np = 0; np < 3; np++)
      for (int li = 0; li < 6; li++) {
        int64_t n = k_lengths[li];
        ms_column *c = random_column(&k_types[ti], n, k_null_pcts[np], 0);
        CHECK(c);
        for (int rep = 0; rep < 6; rep++) {
          int64_t off = rnd_range(n + 1), len = rnd_range(n - off + 1);
          ms_column *s;
          CHECK_OK(ms_column_slice(c, off, len, &s, NULL), NULL);
          CHECK_EQ_INT(ms_column_length(s), len);
          CHECK(ms_type_equal(ms_column_type(s), &k_types[ti]));
          CHECK(invariants_ok(s));
          for (int64_t i = 0; i < len; i++) CHECK_MSG(row_equal(s, i, c, off + i), "type %d row %lld", ti, (long long)i);
          /* slice of a slice */
          int64_t off2 = rnd_range(len + 1), len2 = rnd_range(len - off2 + 1);
          ms_column *s2;
          CHECK_OK(ms_column_slice(s, off2, len2, &s2, NULL), NULL);
          ms_column_release(s); /* s2 must stay valid on its own */
          CHECK(invariants_ok(s2));
          for (int64_t i = 0; i < len2; i++) CHECK(row_equal(s2, i, c, off + off2 + i));
          ms_column_release(s2);
        }
        ms_column *bad;
        ms_error err;
        ms_error_init(&err);
        CHECK_EQ_INT(ms_column_slice(c, n, 1, &bad, &err), MS_ERR_INVALID);
        CHECK_EQ_INT(ms_column_slice(c, -1, 0, &bad, &err), MS_ERR_INVALID);
        CHECK(bad == NULL);
        ms_column_release(c);
      }
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_take(void) {
  init_types();
  int64_t base = ms_mem_current();
  for (int ti = 0; ti < n_types; ti++)
    for (int np = 0; np < 3; np++)
      for (int li = 0; li < 6; li++) {
        int64_t n = k_lengths[li];
        ms_column *c = random_column(&k_types[ti], n, k_null_pcts[np], 0);
        CHECK(c);
        for (int rep = 0; rep < 3; rep++) {
          int64_t m = rnd_range(2 * n + 3);
          int64_t *idx = ms_malloc((size_t)(m + 1) * sizeof *idx);
          int with_neg = rep > 0;
          for (int64_t i = 0; i < m; i++)
            idx[i] = (n == 0 || (with_neg && rnd_range(5) == 0)) ? -1 : rnd_range(n);
          ms_column *o;
          CHECK_OK(ms_column_take(c, idx, m, &o, NULL), NULL);
          CHECK_EQ_INT(ms_column_length(o), m);
          CHECK(invariants_ok(o));
          for (int64_t i = 0; i < m; i++) {
            if (idx[i] < 0) CHECK(ms_column_is_null(o, i));
            else CHECK_MSG(row_equal(o, i, c, idx[i]), "type %d row %lld", ti, (long long)i);
          }
          ms_column_release(o);
          ms_free(idx);
        }
        int64_t bad_idx[2] = {0, n};
        ms_column *o;
        ms_error err;
        ms_error_init(&err);
        CHECK_EQ_INT(ms_column_take(c, bad_idx, 2, &o, &err), MS_ERR_INVALID);
        bad_idx[1] = -2;
        CHECK_EQ_INT(ms_column_take(c, bad_idx + 1, 1, &o, &err), MS_ERR_INVALID);
        ms_column_release(c);
      }
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_filter(void) {
  init_types();
  int64_t base = ms_mem_current();
  for (int ti = 0; ti < n_types; ti++)
    for (int np = 0; np < 3; np++)
      for (int li = 0; li < 6; li++) {
        int64_t n = k_lengths[li];
        ms_column *c = random_column(&k_types[ti], n, k_null_pcts[np], 0);
        CHECK(c);
        uint8_t *mask = ms_malloc((size_t)n + 1);
        for (int mode = 0; mode < 4; mode++) {
          for (int64_t i = 0; i < n; i++)
            mask[i] = mode == 0 ? 0 : mode == 1 ? (uint8_t)(1 + rnd_range(200)) : mode == 2 ? (uint8_t)(rnd() & 1) : (uint8_t)(rnd_range(10) == 0);
          ms_column *o;
          CHECK_OK(ms_column_filter(c, mask, &o, NULL), NULL);
          CHECK(invariants_ok(o));
          int64_t k = 0;
          for (int64_t i = 0; i < n; i++) {
            if (!mask[i]) continue;
            CHECK(k < ms_column_length(o));
            CHECK_MSG(row_equal(o, k, c, i), "type %d row %lld", ti, (long long)i);
            k++;
          }
          CHECK_EQ_INT(ms_column_length(o), k);
          ms_column_release(o);
        }
        ms_free(mask);
        ms_column_release(c);
      }
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_concat_equal(void) {
  init_types();
  int64_t base = ms_mem_current();
  for (int ti = 0; ti < n_types; ti++)
    for (int np = 0; np < 3; np++)
      for (int li = 0; li < 6; li++) {
        int64_t n = k_lengths[li];
        ms_column *c = random_column(&k_types[ti], n, k_null_pcts[np], 0);
        CHECK(c);
        /* Split into random pieces (some empty), mixing pieces with and without nulls. */
        ms_column *parts[16];
        int np_ = 0;
        int64_t pos = 0;
        while (np_ < 15) {
          int64_t len = np_ == 14 ? n - pos : rnd_range(n - pos + 1) / 2;
          CHECK_OK(ms_column_slice(c, pos, len, &parts[np_], NULL), NULL);
          np_++;
          pos += len;
          if (pos == n && rnd_range(3) == 0) break;
        }
        ms_column *cat;
        CHECK_OK(ms_column_concat(parts, np_, &cat, NULL), NULL);
        CHECK_EQ_INT(ms_column_length(cat), n);
        CHECK(invariants_ok(cat));
        for (int64_t i = 0; i < n; i++) CHECK(row_equal(cat, i, c, i));
        CHECK(ms_column_equal(cat, c));
        CHECK(ms_column_equal(c, cat));
        /* Concat of one column is a copy. */
        ms_column *one;
        CHECK_OK(ms_column_concat(&c, 1, &one, NULL), NULL);
        CHECK(one != c);
        CHECK(ms_column_equal(one, c));
        ms_column_release(one);
        for (int k = 0; k < np_; k++) ms_column_release(parts[k]);
        /* Equality against a row-by-row rebuilt copy, then with one row changed. */
        if (n > 0 && k_types[ti].id != MS_TYPE_NULL) {
          ms_column_builder *b;
          CHECK_OK(ms_column_builder_create(&k_types[ti], n, &b, NULL), NULL);
          int64_t change = rnd_range(n);
          for (int64_t i = 0; i < n; i++) {
            if (i != change) { CHECK_OK(ms_builder_append_from(b, c, i), NULL); continue; }
            if (!ms_column_is_null(c, i) && (rnd() & 1)) { CHECK_OK(ms_builder_append_null(b), NULL); continue; }
            /* a value that differs from row i (null or not) */
            ms_column *other = random_column(&k_types[ti], 1, 0, 0);
            for (int tries = 0; tries < 50 && row_equal(other, 0, c, i); tries++) {
              ms_column_release(other);
              other = random_column(&k_types[ti], 1, 0, 0);
            }
            CHECK(!row_equal(other, 0, c, i));
            CHECK_OK(ms_builder_append_from(b, other, 0), NULL);
            ms_column_release(other);
          }
          ms_column *d;
          CHECK_OK(ms_builder_finish(b, &d, NULL), NULL);
          ms_column_builder_destroy(b);
          CHECK(!ms_column_equal(c, d));
          CHECK(!ms_column_equal(d, c));
          ms_column_release(d);
        }
        ms_column_release(cat);
        ms_column_release(c);
      }
  /* Type mismatch and empty list. */
  ms_datatype i64 = ms_type(MS_TYPE_INT64), i32 = ms_type(MS_TYPE_INT32);
  ms_column *a = random_column(&i64, 3, 0, 0), *b = random_column(&i32, 3, 0, 0), *o;
  ms_column *ab[2] = {a, b};
  CHECK_EQ_INT(ms_column_concat(ab, 2, &o, NULL), MS_ERR_TYPE);
  CHECK_EQ_INT(ms_column_concat(ab, 0, &o, NULL), MS_ERR_INVALID);
  CHECK(!ms_column_equal(a, b));
  ms_column_release(a);
  ms_column_release(b);
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_float_equal_rules(void) {
  ms_datatype f = ms_type(MS_TYPE_FLOAT64);
  ms_column_builder *b;
  CHECK_OK(ms_column_builder_create(&f, 4, &b, NULL), NULL);
  ms_column *x, *y, *z;
  ms_builder_append_f64(b, NAN); ms_builder_append_f64(b, 0.0);
  CHECK_OK(ms_builder_finish(b, &x, NULL), NULL);
  ms_builder_append_f64(b, -NAN); ms_builder_append_f64(b, 0.0);
  CHECK_OK(ms_builder_finish(b, &y, NULL), NULL);
  ms_builder_append_f64(b, NAN); ms_builder_append_f64(b, -0.0);
  CHECK_OK(ms_builder_finish(b, &z, NULL), NULL);
  ms_column_builder_destroy(b);
  CHECK(ms_column_equal(x, y));  /* all NaNs are equal */
  CHECK(!ms_column_equal(x, z)); /* otherwise bitwise: 0.0 != -0.0 */
  ms_column_release(x); ms_column_release(y); ms_column_release(z);
}

/* ---- sort: expected order from qsort with the row index as the final tie-break ---- */

static const ms_table *g_sort_table;
static const ms_sort_key *g_sort_keys;
static int g_sort_nkeys;

static int cmp_values(const ms_column *c, int64_t a, int64_t b) {
  const ms_datatype *t = ms_column_type(c);
  switch (t->id) {
    case MS_TYPE_BOOL: return (int)ms_column_get_bool(c, a) - (int)ms_column_get_bool(c, b);
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32: case MS_TYPE_UINT64: {
      uint64_t x = ms_column_get_u64(c, a), y = ms_column_get_u64(c, b);
      return (x > y) - (x < y);
    }
    case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64: {
      double x = ms_column_get_f64(c, a), y = ms_column_get_f64(c, b);
      return (x > y) - (x < y); /* NaNs are handled by the caller */
    }
    case MS_TYPE_UTF8: case MS_TYPE_BINARY: case MS_TYPE_LARGE_UTF8: case MS_TYPE_LARGE_BINARY:
    case MS_TYPE_FIXED_BINARY: {
      int64_t la, lb;
      const uint8_t *pa = ms_column_get_bytes(c, a, &la), *pb = ms_column_get_bytes(c, b, &lb);
      for (int64_t i = 0; i < la && i < lb; i++)
        if (pa[i] != pb[i]) return pa[i] < pb[i] ? -1 : 1;
      return (la > lb) - (la < lb);
    }
    case MS_TYPE_DECIMAL128: {
      int64_t la;
      __int128 x, y;
      memcpy(&x, ms_column_get_bytes(c, a, &la), 16);
      memcpy(&y, ms_column_get_bytes(c, b, &la), 16);
      return (x > y) - (x < y);
    }
    case MS_TYPE_NULL: return 0;
    default: {
      int64_t x = ms_column_get_i64(c, a), y = ms_column_get_i64(c, b);
      return (x > y) - (x < y);
    }
  }
}

static int sort_ref_cmp(const void *pa, const void *pb) {
  int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
  for (int k = 0; k < g_sort_nkeys; k++) {
    const ms_sort_key *key = &g_sort_keys[k];
    const ms_column *c = ms_table_column(g_sort_table, key->column);
    bool na = ms_column_is_null(c, a), nb = ms_column_is_null(c, b);
    if (na || nb) {
      if (na && nb) continue;
      return (na ? -1 : 1) * (key->nulls_first ? 1 : -1);
    }
    if (ms_type_is_float(ms_column_type(c))) {
      bool xa = isnan(ms_column_get_f64(c, a)), xb = isnan(ms_column_get_f64(c, b));
      if (xa || xb) {
        if (xa && xb) continue;
        return xa ? 1 : -1; /* NaN after numbers, whatever the direction */
      }
    }
    int r = cmp_values(c, a, b);
    if (r) return key->descending ? -r : r;
  }
  return (a > b) - (a < b);
}

static void check_sort(const ms_table *t, const ms_sort_key *keys, int nk) {
  int64_t n = ms_table_num_rows(t);
  int64_t *got;
  ms_error err;
  ms_error_init(&err);
  CHECK_OK(ms_table_sort_indices(t, keys, nk, &got, &err), &err);
  int64_t *want = ms_malloc((size_t)(n + 1) * sizeof *want);
  for (int64_t i = 0; i < n; i++) want[i] = i;
  g_sort_table = t;
  g_sort_keys = keys;
  g_sort_nkeys = nk;
  qsort(want, (size_t)n, sizeof *want, sort_ref_cmp);
  int64_t bad = -1;
  for (int64_t i = 0; i < n; i++)
    if (got[i] != want[i]) { bad = i; break; }
  ms_free(got);
  ms_free(want);
  CHECK_MSG(bad < 0, "sort differs at position %lld (n=%lld, keys=%d, first key col %d desc %d nf %d)",
            (long long)bad, (long long)n, nk, keys[0].column, keys[0].descending, keys[0].nulls_first);
}

static ms_table *table_of(ms_column **cols, int n) {
  ms_field fields[32];
  char names[32][16];
  for (int i = 0; i < n; i++) {
    snprintf(names[i], sizeof names[i], "c%d", i);
    fields[i].name = names[i];
    fields[i].type = *ms_column_type(cols[i]);
    fields[i].nullable = true;
  }
  ms_table *t = NULL;
  ms_table_create(fields, cols, n, &t, NULL);
  return t;
}

static void test_sort_single_key(void) {
  init_types();
  int64_t base = ms_mem_current();
  static const int64_t lens[] = {0, 1, 2, 17, 300, 3000};
  for (int ti = 0; ti < n_types; ti++)
    for (int np = 0; np < 3; np++)
      for (int li = 0; li < 6; li++)
        for (int dom = 0; dom < 2; dom++) {
          ms_column *c = random_column(&k_types[ti], lens[li], np == 1 ? 25 : k_null_pcts[np], dom ? 7 : 0);
          CHECK(c);
          ms_table *t = table_of(&c, 1);
          ms_column_release(c);
          CHECK(t);
          for (int mode = 0; mode < 4; mode++) {
            ms_sort_key key = {0, mode & 1, (mode >> 1) & 1};
            check_sort(t, &key, 1);
            if (ms_test_failed_flag) { fprintf(stderr, "type index %d\n", ti); ms_table_release(t); return; }
          }
          ms_table_release(t);
        }
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_sort_multi_key(void) {
  init_types();
  int64_t base = ms_mem_current();
  for (int rep = 0; rep < 200; rep++) {
    int nc = 1 + (int)rnd_range(4);
    int64_t n = rnd_range(rep % 10 == 0 ? 3000 : 200);
    ms_column *cols[4];
    for (int i = 0; i < nc; i++) {
      cols[i] = random_column(&k_types[rnd_range(n_types)], n, (int)rnd_range(3) * 15, 3 + (int)rnd_range(4));
      CHECK(cols[i]);
    }
    ms_table *t = table_of(cols, nc);
    for (int i = 0; i < nc; i++) ms_column_release(cols[i]);
    CHECK(t);
    ms_sort_key keys[6];
    int nk = 1 + (int)rnd_range(5);
    for (int k = 0; k < nk; k++) keys[k] = (ms_sort_key){(int)rnd_range(nc), rnd() & 1, rnd() & 1};
    check_sort(t, keys, nk);
    ms_table_release(t);
    if (ms_test_failed_flag) return;
  }
  /* A timestamp key with a wide range (all 8 radix passes) and a narrow one. */
  ms_datatype ts = ms_type_timestamp(MS_UNIT_NANO, "UTC");
  for (int wide = 0; wide < 2; wide++) {
    ms_column_builder *b;
    CHECK_OK(ms_column_builder_create(&ts, 50000, &b, NULL), NULL);
    for (int i = 0; i < 50000; i++)
      ms_builder_append_i64(b, wide ? (int64_t)rnd() : 1700000000000000000 + rnd_range(1000000));
    ms_column *c;
    CHECK_OK(ms_builder_finish(b, &c, NULL), NULL);
    ms_column_builder_destroy(b);
    ms_table *t = table_of(&c, 1);
    ms_column_release(c);
    ms_sort_key key = {0, wide, false};
    check_sort(t, &key, 1);
    ms_table_release(t);
  }
  /* Bad key. */
  ms_column *c = random_column(&ts, 5, 0, 0);
  ms_table *t = table_of(&c, 1);
  ms_column_release(c);
  int64_t *idx;
  ms_sort_key bad = {1, false, false};
  CHECK_EQ_INT(ms_table_sort_indices(t, &bad, 1, &idx, NULL), MS_ERR_INVALID);
  ms_table_release(t);
  CHECK_EQ_INT(ms_mem_current(), base);
}

static void test_table_kernels(void) {
  init_types();
  int64_t base = ms_mem_current();
  ms_error err;
  ms_error_init(&err);
  int64_t n = 500;
  ms_column *cols[24];
  for (int i = 0; i < n_types; i++) cols[i] = random_column(&k_types[i], n, 10, 0);
  ms_table *t = table_of(cols, n_types);
  CHECK(t);
  /* slice */
  ms_table *s;
  CHECK_OK(ms_table_slice(t, 100, 250, &s, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(s), 250);
  CHECK_EQ_INT(ms_table_num_columns(s), n_types);
  for (int c = 0; c < n_types; c++) {
    CHECK_STR(ms_table_field(s, c)->name, ms_table_field(t, c)->name);
    for (int64_t i = 0; i < 250; i++) CHECK(row_equal(ms_table_column(s, c), i, cols[c], 100 + i));
  }
  /* take */
  int64_t idx[300];
  for (int i = 0; i < 300; i++) idx[i] = rnd_range(7) == 0 ? -1 : rnd_range(n);
  ms_table *tk;
  CHECK_OK(ms_table_take(t, idx, 300, &tk, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(tk), 300);
  for (int c = 0; c < n_types; c++)
    for (int64_t i = 0; i < 300; i++)
      CHECK(idx[i] < 0 ? ms_column_is_null(ms_table_column(tk, c), i) : row_equal(ms_table_column(tk, c), i, cols[c], idx[i]));
  idx[5] = n;
  ms_table *bad;
  CHECK_EQ_INT(ms_table_take(t, idx, 300, &bad, &err), MS_ERR_INVALID);
  /* filter */
  uint8_t mask[500];
  for (int i = 0; i < 500; i++) mask[i] = rnd() & 1;
  ms_table *f;
  CHECK_OK(ms_table_filter(t, mask, &f, &err), &err);
  for (int c = 0; c < n_types; c++) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
      if (mask[i]) { CHECK(row_equal(ms_table_column(f, c), k, cols[c], i)); k++; }
    CHECK_EQ_INT(ms_table_num_rows(f), k);
  }
  /* concat: slices back together */
  ms_table *a, *b2, *cat;
  CHECK_OK(ms_table_slice(t, 0, 123, &a, &err), &err);
  CHECK_OK(ms_table_slice(t, 123, n - 123, &b2, &err), &err);
  ms_table *parts[3] = {a, b2, s};
  CHECK_OK(ms_table_concat(parts, 3, &cat, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(cat), n + 250);
  for (int c = 0; c < n_types; c++) {
    for (int64_t i = 0; i < n; i++) CHECK(row_equal(ms_table_column(cat, c), i, cols[c], i));
    for (int64_t i = 0; i < 250; i++) CHECK(row_equal(ms_table_column(cat, c), n + i, cols[c], 100 + i));
  }
  /* select (reordered, repeated) and its errors */
  const char *names[3] = {"c5", "c0", "c5"};
  ms_table *sel;
  CHECK_OK(ms_table_select(t, names, 3, &sel, &err), &err);
  CHECK_EQ_INT(ms_table_num_columns(sel), 3);
  CHECK_EQ_INT(ms_table_num_rows(sel), n);
  CHECK(ms_table_column(sel, 0) == cols[5]);
  CHECK(ms_table_column(sel, 1) == cols[0]);
  CHECK_STR(ms_table_field(sel, 2)->name, "c5");
  names[1] = "nope";
  CHECK_EQ_INT(ms_table_select(t, names, 3, &bad, &err), MS_ERR_NOT_FOUND);
  CHECK(strstr(err.message, "nope") != NULL);
  /* concat schema mismatch */
  ms_table *mism[2] = {t, sel};
  CHECK_EQ_INT(ms_table_concat(mism, 2, &bad, &err), MS_ERR_TYPE);
  /* a zero-column selection keeps the row count */
  ms_table *none;
  CHECK_OK(ms_table_select(t, names, 0, &none, &err), &err);
  CHECK_EQ_INT(ms_table_num_rows(none), n);
  ms_table_release(none);
  ms_table_release(sel);
  ms_table_release(cat);
  ms_table_release(a);
  ms_table_release(b2);
  ms_table_release(f);
  ms_table_release(tk);
  ms_table_release(s);
  ms_table_release(t);
  for (int i = 0; i < n_types; i++) ms_column_release(cols[i]);
  CHECK_EQ_INT(ms_mem_current(), base);
}

/* A var-length column may come from a decoder with no data buffer at all (every value
 * empty or null); kernels must not touch the missing buffer. */
static void test_varlen_without_data(void) {
  int64_t base = ms_mem_current();
  ms_datatype t = ms_type(MS_TYPE_UTF8);
  ms_buffer *offs = ms_buffer_create_zeroed(4 * 6);
  ms_buffer *valid = ms_buffer_create_zeroed(1);
  valid->data[0] = 0x1B; /* row 2 is null */
  ms_column *c;
  CHECK_OK(ms_column_from_buffers(&t, 5, -1, valid, offs, NULL, &c, NULL), NULL);
  CHECK_EQ_INT(ms_column_null_count(c), 1);
  int64_t idx[4] = {4, -1, 0, 2};
  ms_column *o, *s, *cat;
  CHECK_OK(ms_column_take(c, idx, 4, &o, NULL), NULL);
  CHECK(!ms_column_is_null(o, 0) && ms_column_is_null(o, 1) && ms_column_is_null(o, 3));
  int64_t len;
  ms_column_get_bytes(o, 0, &len);
  CHECK_EQ_INT(len, 0);
  CHECK_OK(ms_column_slice(c, 1, 3, &s, NULL), NULL);
  ms_column *parts[3] = {c, s, o};
  CHECK_OK(ms_column_concat(parts, 3, &cat, NULL), NULL);
  CHECK_EQ_INT(ms_column_length(cat), 12);
  CHECK_EQ_INT(ms_column_null_count(cat), 1 + 1 + 2);
  uint8_t mask[5] = {1, 0, 1, 1, 0};
  ms_column *f;
  CHECK_OK(ms_column_filter(c, mask, &f, NULL), NULL);
  CHECK_EQ_INT(ms_column_length(f), 3);
  CHECK(ms_column_equal(c, c) && !ms_column_equal(c, o));
  ms_field fld = {"s", t, true};
  ms_table *tab;
  CHECK_OK(ms_table_create(&fld, &c, 1, &tab, NULL), NULL);
  ms_sort_key key = {0, false, false};
  int64_t *perm;
  CHECK_OK(ms_table_sort_indices(tab, &key, 1, &perm, NULL), NULL);
  CHECK(perm[0] == 0 && perm[1] == 1 && perm[2] == 3 && perm[3] == 4 && perm[4] == 2);
  ms_free(perm);
  ms_table_release(tab);
  ms_column_release(f);
  ms_column_release(cat);
  ms_column_release(s);
  ms_column_release(o);
  ms_column_release(c);
  CHECK_EQ_INT(ms_mem_current(), base);
}

MS_TEST_MAIN(MS_TEST(test_varlen_without_data), MS_TEST(test_slice), MS_TEST(test_take), MS_TEST(test_filter),
             MS_TEST(test_concat_equal), MS_TEST(test_float_equal_rules),
             MS_TEST(test_sort_single_key), MS_TEST(test_sort_multi_key),
             MS_TEST(test_table_kernels))
