/* The aggregation kernel: every aggregation of a view for one (entity, T), over the ordered
 * event store (compute_int.h). Both compute modes (snapshots at cutoffs, and as of entity
 * rows) call cmp_compute_batch, so they give the same bits for the same (entity, T).
 *
 * Rules (compute.h has the result types):
 *  - windows are half-open on the row timestamp: backward [T - w, T), forward [T, T + w),
 *    unbounded backward (-inf, T), unbounded forward [T, +inf); T - w and T + w saturate;
 *  - a row counts for an aggregation when its filter is true and its input (and `by`) is
 *    not null (NaN is null); count without input counts rows passing the filter;
 *  - every accumulation runs in row order (timestamp, then input position);
 *  - sum of integers is exact int64 (overflow is an error); of floats a float64 running sum;
 *    mean of integers is the exact (128-bit) sum divided by the count, of floats the running
 *    sum divided by the count; var/stddev: the same mean, then the running sum of squared
 *    deviations divided by (count - 1), null below two values;
 *  - min/max keep the first row (in row order) holding the extreme value; first/last are
 *    the first/last counted row in row order (earliest/latest timestamp, ties by input
 *    order); their result is that row's input value, taken from the input column;
 *  - mean_gap: points are the distinct `by` values, each at its first counted row in row
 *    order in the window (without `by`: every counted row), at the time given by the input;
 *    the point times sorted, the gaps floored to whole units, their int64 sum divided by the
 *    number of gaps; null below two points.
 *
 * Method: each key's rows are one contiguous run sorted by time, so a window is two binary
 * searches; count_distinct marks ids in a per-call array stamped with a generation number,
 * so no per-window clearing is needed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "columnar/column.h"
#include "compute/compute_int.h"
#include "formats/timeparse.h"
#include "morsel/alloc.h"

/* First index in [lo, hi) with ts[i] >= x (hi when none). */
static inline int64_t lower_bound(const int64_t *ts, int64_t lo, int64_t hi, int64_t x) {
  while (lo < hi) {
    int64_t mid = lo + ((hi - lo) >> 1);
    if (ts[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static inline int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? INT64_MIN : r;
}
static inline int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

/* The rows [*lo, *hi) of run [a, b) in a window of (w, forward) at t. */
static inline void window_rows(const int64_t *ts, int64_t a, int64_t b, int64_t w, bool forward,
                               int64_t t, int64_t *lo, int64_t *hi) {
  if (!forward) {
    int64_t h = lower_bound(ts, a, b, t);
    *lo = w < 0 ? a : lower_bound(ts, a, h, sat_sub(t, w));
    *hi = h;
  } else {
    int64_t l = lower_bound(ts, a, b, t);
    *lo = l;
    *hi = w < 0 ? b : lower_bound(ts, l, b, sat_add(t, w));
  }
}

bool cmp_in_population(const cmp_store *s, int64_t key, int64_t t_ns) {
  if (key < 0 || key >= s->n_keys) return false;
  int64_t lo, hi;
  window_rows(s->ts, s->key_off[key], s->key_off[key + 1], s->pop_window_ns, false, t_ns, &lo, &hi);
  if (!s->pop_ok) return hi > lo;
  for (int64_t i = lo; i < hi; i++)
    if (s->pop_ok[i]) return true;
  return false;
}

ms_status cmp_population(const cmp_store *s, int64_t t_ns, int64_t **out_keys, int64_t *out_n,
                         ms_error *err) {
  *out_keys = NULL;
  *out_n = 0;
  int64_t *keys = ms_malloc((size_t)(s->n_keys ? s->n_keys : 1) * sizeof *keys);
  if (!keys) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  int64_t m = 0;
  for (int64_t k = 0; k < s->n_keys; k++)
    if (cmp_in_population(s, k, t_ns)) keys[m++] = k;
  *out_keys = keys;
  *out_n = m;
  return MS_OK;
}

/* ---- result columns ---- */

typedef enum res_kind { RES_I64 = 0, RES_F64, RES_ROW } res_kind;

typedef struct agg_res {
  res_kind kind;
  int64_t *i;   /* RES_I64 values, RES_ROW store rows (-1 = null) */
  double *f;
  uint8_t *valid;
} agg_res;

/* The sum of the float values of the rows in [lo, hi) that ok marks, in row order (so
 * that every mode and thread count gives the same bits); *count += the rows summed. */
static inline double float_sum(const double *vf, const uint8_t *ok, int64_t lo, int64_t hi,
                               int64_t *count) {
  double sum = 0.0;
  for (int64_t i = lo; i < hi; i++) {
    if (!ok[i]) continue;
    sum += vf[i];
    (*count)++;
  }
  return sum;
}

static res_kind kind_of(const cmp_agg *a) {
  switch (a->fn) {
    case CMP_COUNT:
    case CMP_COUNT_DISTINCT:
      return RES_I64;
    case CMP_SUM:
      return a->val->is_int ? RES_I64 : RES_F64;
    case CMP_MIN:
    case CMP_MAX:
    case CMP_FIRST:
    case CMP_LAST:
      return RES_ROW;
    default:
      return RES_F64;
  }
}

static ms_status fixed_column(const ms_datatype *type, const void *vals, size_t width,
                              const uint8_t *valid, int64_t m, ms_column **out, ms_error *err) {
  ms_buffer *vb = ms_buffer_create((int64_t)(m ? m : 1) * (int64_t)width);
  ms_buffer *bb = NULL;
  if (!vb) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  memcpy(vb->data, vals, (size_t)m * width);
  vb->size = m * (int64_t)width;
  int64_t nulls = 0;
  for (int64_t i = 0; i < m; i++) nulls += !valid[i];
  if (nulls) {
    bb = ms_buffer_create_zeroed(ms_bitmap_bytes(m ? m : 1));
    if (!bb) {
      ms_buffer_release(vb);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < m; i++)
      if (valid[i]) ms_bit_set(bb->data, i);
    bb->size = ms_bitmap_bytes(m);
  }
  return ms_column_from_buffers(type, m, nulls, bb, vb, NULL, out, err);
}

/* ---- the kernel ---- */

typedef struct kscratch {
  uint32_t **stamp;  /* [n_aggs] per count_distinct / mean_gap-by aggregation */
  uint32_t gen;
  int64_t *pts;
  int64_t pts_cap;
} kscratch;

static int i64_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Next generation; on wrap-around the stamp arrays are cleared. */
static void next_gen(const cmp_store *s, kscratch *k) {
  if (++k->gen != 0) return;
  for (int a = 0; a < s->n_aggs; a++) {
    if (!k->stamp[a]) continue;
    const cmp_values *v = s->aggs[a].fn == CMP_MEAN_GAP ? s->aggs[a].by : s->aggs[a].val;
    memset(k->stamp[a], 0, (size_t)v->n_ids * sizeof(uint32_t));
  }
  k->gen = 1;
}

static ms_status key_desc_error(const cmp_store *s, int64_t key, int64_t t, const char *agg,
                                const char *what, ms_error *err) {
  char tb[MS_TIMESTAMP_BUF_SIZE];
  ms_format_timestamp(t, MS_UNIT_NANO, false, tb);
  return ms_error_set(err, MS_ERR_INVALID, "aggregation '%s': %s (entity %lld in key order, T = %s)", agg, what,
                      (long long)key, tb);
}

/* One aggregation over rows [lo, hi). */
static ms_status agg_one(const cmp_store *s, int a, int64_t lo, int64_t hi, kscratch *k, agg_res *r,
                         int64_t item, int64_t key, int64_t t, ms_error *err) {
  const cmp_agg *ag = &s->aggs[a];
  const uint8_t *ok = ag->ok;
  const cmp_values *v = ag->val;
  switch (ag->fn) {
    case CMP_COUNT: {
      int64_t c = 0;
      for (int64_t i = lo; i < hi; i++) c += ok[i];
      r->i[item] = c;
      r->valid[item] = 1;
      return MS_OK;
    }
    case CMP_COUNT_DISTINCT: {
      next_gen(s, k);
      uint32_t *st = k->stamp[a], g = k->gen;
      int64_t c = 0;
      for (int64_t i = lo; i < hi; i++) {
        if (!ok[i]) continue;
        int32_t id = v->id[i];
        if (st[id] != g) {
          st[id] = g;
          c++;
        }
      }
      r->i[item] = c;
      r->valid[item] = 1;
      return MS_OK;
    }
    case CMP_SUM: {
      int64_t c = 0;
      if (v->is_int) {
        int64_t sum = 0;
        for (int64_t i = lo; i < hi; i++) {
          if (!ok[i]) continue;
          if (__builtin_add_overflow(sum, v->vi[i], &sum))
            return key_desc_error(s, key, t, ag->name, "the int64 sum overflows", err);
          c++;
        }
        r->i[item] = sum;
      } else {
        double sum = float_sum(v->vf, ok, lo, hi, &c);
        r->f[item] = sum;
      }
      r->valid[item] = c > 0;
      return MS_OK;
    }
    case CMP_MEAN:
    case CMP_STDDEV:
    case CMP_VAR: {
      int64_t c = 0;
      double mean;
      if (v->is_int) {
        __int128 sum = 0;
        for (int64_t i = lo; i < hi; i++) {
          if (!ok[i]) continue;
          sum += v->vi[i];
          c++;
        }
        mean = c ? (double)sum / (double)c : 0.0;
      } else {
        double sum = float_sum(v->vf, ok, lo, hi, &c);
        mean = c ? sum / (double)c : 0.0;
      }
      if (ag->fn == CMP_MEAN) {
        r->f[item] = mean;
        r->valid[item] = c > 0;
        return MS_OK;
      }
      if (c < 2) {
        r->valid[item] = 0;
        return MS_OK;
      }
      double ss = 0.0;
      for (int64_t i = lo; i < hi; i++) {
        if (!ok[i]) continue;
        double d = (v->is_int ? (double)v->vi[i] : v->vf[i]) - mean;
        ss += d * d;
      }
      double var = ss / (double)(c - 1);
      r->f[item] = ag->fn == CMP_VAR ? var : sqrt(var);
      r->valid[item] = 1;
      return MS_OK;
    }
    case CMP_MIN:
    case CMP_MAX: {
      int64_t best = -1;
      bool mx = ag->fn == CMP_MAX;
      if (v->kind == CMP_V_F64) {
        for (int64_t i = lo; i < hi; i++) {
          if (!ok[i]) continue;
          if (best < 0 || (mx ? v->vf[i] > v->vf[best] : v->vf[i] < v->vf[best])) best = i;
        }
      } else {
        for (int64_t i = lo; i < hi; i++) {
          if (!ok[i]) continue;
          if (best < 0 || (mx ? v->vi[i] > v->vi[best] : v->vi[i] < v->vi[best])) best = i;
        }
      }
      r->i[item] = best;
      r->valid[item] = best >= 0;
      return MS_OK;
    }
    case CMP_FIRST: {
      int64_t best = -1;
      for (int64_t i = lo; i < hi && best < 0; i++)
        if (ok[i]) best = i;
      r->i[item] = best;
      r->valid[item] = best >= 0;
      return MS_OK;
    }
    case CMP_LAST: {
      int64_t best = -1;
      for (int64_t i = hi - 1; i >= lo && best < 0; i--)
        if (ok[i]) best = i;
      r->i[item] = best;
      r->valid[item] = best >= 0;
      return MS_OK;
    }
    case CMP_MEAN_GAP: {
      int64_t np = 0;
      if (hi - lo > k->pts_cap) {
        int64_t nc = hi - lo;
        int64_t *p = ms_realloc(k->pts, (size_t)nc * sizeof *p);
        if (!p) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
        k->pts = p;
        k->pts_cap = nc;
      }
      const cmp_values *by = ag->by;
      if (by) {
        next_gen(s, k);
        uint32_t *st = k->stamp[a], g = k->gen;
        for (int64_t i = lo; i < hi; i++) {
          if (!ok[i]) continue;
          int32_t id = by->id[i];
          if (st[id] == g) continue;
          st[id] = g;
          k->pts[np++] = v->vi[i];
        }
      } else {
        for (int64_t i = lo; i < hi; i++)
          if (ok[i]) k->pts[np++] = v->vi[i];
      }
      if (np < 2) {
        r->valid[item] = 0;
        return MS_OK;
      }
      bool sorted = true;
      for (int64_t j = 1; j < np && sorted; j++)
        if (k->pts[j] < k->pts[j - 1]) sorted = false;
      if (!sorted) qsort(k->pts, (size_t)np, sizeof *k->pts, i64_cmp);
      int64_t sum = 0;
      for (int64_t j = 1; j < np; j++) {
        /* the difference of two ns values fits in uint64; floor of a non-negative quotient */
        uint64_t d = (uint64_t)k->pts[j] - (uint64_t)k->pts[j - 1];
        sum += (int64_t)(d / (uint64_t)ag->unit_ns);
      }
      r->f[item] = (double)sum / (double)(np - 1);
      r->valid[item] = 1;
      return MS_OK;
    }
  }
  return MS_OK;
}

ms_status cmp_compute_batch(const cmp_store *s, const cmp_batch *b, ms_column **out_cols,
                            ms_error *err) {
  int na = s->n_aggs;
  int64_t m = b->m;
  size_t mm = (size_t)(m ? m : 1);
  for (int a = 0; a < na; a++) out_cols[a] = NULL;
  agg_res *res = ms_calloc((size_t)(na ? na : 1), sizeof *res);
  kscratch k;
  memset(&k, 0, sizeof k);
  k.stamp = ms_calloc((size_t)(na ? na : 1), sizeof *k.stamp);
  ms_status st = MS_OK;
  if (!res || !k.stamp) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (int a = 0; st == MS_OK && a < na; a++) {
    const cmp_agg *ag = &s->aggs[a];
    res[a].kind = kind_of(ag);
    res[a].valid = ms_calloc(mm, 1);
    if (res[a].kind == RES_F64) res[a].f = ms_calloc(mm, sizeof(double));
    else res[a].i = ms_calloc(mm, sizeof(int64_t));
    if (!res[a].valid || (!res[a].f && !res[a].i)) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    const cmp_values *sv = ag->fn == CMP_COUNT_DISTINCT ? ag->val : ag->fn == CMP_MEAN_GAP ? ag->by : NULL;
    if (st == MS_OK && sv) {
      k.stamp[a] = ms_calloc((size_t)(sv->n_ids ? sv->n_ids : 1), sizeof(uint32_t));
      if (!k.stamp[a]) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
  }
  for (int64_t it = 0; st == MS_OK && it < m; it++) {
    int64_t key = b->key[it];
    if (key < 0 || (b->active && !b->active[it])) continue; /* nulls (valid stays 0) */
    int64_t t = b->t_ns[it];
    int64_t ra = s->key_off[key], rb = s->key_off[key + 1];
    int64_t lo = 0, hi = 0, last_w = INT64_MIN;
    bool last_fwd = false;
    for (int a = 0; st == MS_OK && a < na; a++) {
      const cmp_agg *ag = &s->aggs[a];
      if (ag->window_ns != last_w || ag->forward != last_fwd) {
        window_rows(s->ts, ra, rb, ag->window_ns, ag->forward, t, &lo, &hi);
        last_w = ag->window_ns;
        last_fwd = ag->forward;
      }
      st = agg_one(s, a, lo, hi, &k, &res[a], it, key, t, err);
    }
  }
  /* Columns. */
  for (int a = 0; st == MS_OK && a < na; a++) {
    const cmp_agg *ag = &s->aggs[a];
    if (res[a].kind == RES_I64) {
      st = fixed_column(&ag->type, res[a].i, sizeof(int64_t), res[a].valid, m, &out_cols[a], err);
    } else if (res[a].kind == RES_F64) {
      st = fixed_column(&ag->type, res[a].f, sizeof(double), res[a].valid, m, &out_cols[a], err);
    } else {
      for (int64_t it = 0; it < m; it++) res[a].i[it] = res[a].valid[it] ? s->pos[res[a].i[it]] : -1;
      st = ms_column_take(ag->val->col, res[a].i, m, &out_cols[a], err);
    }
  }
  if (st)
    for (int a = 0; a < na; a++) {
      ms_column_release(out_cols[a]);
      out_cols[a] = NULL;
    }
  for (int a = 0; res && a < na; a++) {
    ms_free(res[a].i);
    ms_free(res[a].f);
    ms_free(res[a].valid);
    if (k.stamp) ms_free(k.stamp[a]);
  }
  ms_free(res);
  ms_free(k.stamp);
  ms_free(k.pts);
  return st;
}
