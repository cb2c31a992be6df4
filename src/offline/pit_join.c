/* The point-in-time join kernel (see pit_join.h): for every entity row, the winning feature
 * row or -1.
 *
 * Rules. A feature row f is a candidate for entity row e when both have the same key id
 * (never -1), f.ts <= e.ts, and, when ttl_ns > 0, f.ts >= e.ts - ttl_ns (both bounds
 * inclusive); with filter_by_created, also f.created is not null and f.created <= e.ts.
 * The winner is the largest (ts, created, pos), a null created ranking below every value.
 *
 * Method. Feature rows are grouped by key id with a counting sort (stable: row order kept),
 * then each key's group is sorted by ts (stable, so equal ts stay in row order) and runs of
 * equal ts are re-sorted by (created, null lowest; pos) when a created column or an explicit
 * position is given. Entity rows are grouped the same way and sorted by ts. One merge sweep
 * per key then hands each entity row the last feature row with ts <= e.ts: by the sort order
 * that is the largest candidate, so the ttl bound only has to be checked on it (if it is
 * too old, every other candidate is older). With filter_by_created the sweep walks back
 * from there to the last row whose created is valid and <= e.ts, stopping at the ttl bound;
 * a group where that walk grows long switches to an offline method with a Fenwick tree of
 * prefix maxima (feature rows activated in created order as e.ts grows), which is
 * O(n log n) whatever the data.
 *
 * Work is split into tasks over contiguous key-id ranges of about equal row counts; keys
 * are independent, so the result does not depend on the split or the thread count. Records
 * are 16 bytes (ts, row) and scratch is freed as soon as each step is done. */
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "offline/pit_join.h"

typedef struct rec {
  int64_t ts;
  int64_t row;
} rec;

/* ---------------- sorting ---------------- */

static void insertion_sort_ts(rec *a, int64_t n) {
  for (int64_t i = 1; i < n; i++) {
    rec x = a[i];
    int64_t j = i;
    while (j > 0 && a[j - 1].ts > x.ts) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = x;
  }
}

/* Stable LSD radix sort by ts (8-bit digits, passes whose digit is constant skipped).
 * tmp holds n records. */
static void radix_sort_ts(rec *a, rec *tmp, int64_t n) {
  int64_t cnt[8][256];
  memset(cnt, 0, sizeof cnt);
  const uint64_t flip = (uint64_t)1 << 63;
  for (int64_t i = 0; i < n; i++) {
    uint64_t k = (uint64_t)a[i].ts ^ flip;
    for (int d = 0; d < 8; d++) cnt[d][(k >> (8 * d)) & 255]++;
  }
  rec *src = a, *dst = tmp;
  for (int d = 0; d < 8; d++) {
    uint64_t k0 = ((uint64_t)a[0].ts ^ flip) >> (8 * d) & 255;
    if (cnt[d][k0] == n) continue; /* every record has this digit */
    int64_t sum = 0;
    for (int b = 0; b < 256; b++) {
      int64_t c = cnt[d][b];
      cnt[d][b] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) {
      uint64_t k = ((uint64_t)src[i].ts ^ flip) >> (8 * d) & 255;
      dst[cnt[d][k]++] = src[i];
    }
    rec *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, (size_t)n * sizeof(rec));
}

/* A tie run element: the order key after ts. */
typedef struct tie {
  int64_t created_valid;
  int64_t created;
  int64_t pos;
  int64_t row;
} tie;

static int tie_cmp(const void *pa, const void *pb) {
  const tie *a = pa, *b = pb;
  if (a->created_valid != b->created_valid) return a->created_valid < b->created_valid ? -1 : 1;
  if (a->created != b->created) return a->created < b->created ? -1 : 1;
  if (a->pos != b->pos) return a->pos < b->pos ? -1 : 1;
  return (a->row > b->row) - (a->row < b->row);
}

typedef struct scratch {
  rec *tmp;
  int64_t tmp_cap;
  tie *ties;
  int64_t ties_cap;
  int64_t *fen;      /* Fenwick tree, 1-based */
  int64_t fen_cap;
} scratch;

static bool reserve(void **p, int64_t *cap, int64_t n, size_t size) {
  if (n <= *cap) return true;
  int64_t nc = *cap ? *cap : 64;
  while (nc < n) nc *= 2;
  void *np = ms_realloc(*p, (size_t)nc * size);
  if (!np) return false;
  *p = np;
  *cap = nc;
  return true;
}

static bool sort_by_ts(rec *a, int64_t n, scratch *s) {
  if (n <= 32) {
    insertion_sort_ts(a, n);
    return true;
  }
  if (!reserve((void **)&s->tmp, &s->tmp_cap, n, sizeof(rec))) return false;
  radix_sort_ts(a, s->tmp, n);
  return true;
}

/* ---------------- the join ---------------- */

typedef struct join_ctx {
  const ms_pit_input *in;
  int64_t n_keys;
  int64_t *fstart, *estart; /* [n_keys + 1] */
  rec *frec, *erec;
  int64_t *task_key; /* [n_tasks + 1] key ranges */
  int64_t *out;
  int64_t *task_matched;
  scratch *scr; /* per worker */
} join_ctx;

static inline int64_t pos_of(const ms_pit_input *in, int64_t row) {
  return in->feature_pos ? in->feature_pos[row] : row;
}

static inline bool created_ok(const ms_pit_input *in, int64_t row, int64_t ets) {
  if (!in->feature_created) return false;
  if (in->feature_created_valid && !in->feature_created_valid[row]) return false;
  return in->feature_created[row] <= ets;
}

static inline bool within_ttl(const ms_pit_input *in, int64_t fts, int64_t ets) {
  /* fts <= ets here; the difference fits in uint64 even when ets - ttl would overflow. */
  return in->ttl_ns <= 0 || (uint64_t)ets - (uint64_t)fts <= (uint64_t)in->ttl_ns;
}

/* Orders one key's feature rows: by ts, then (created, null lowest; pos). */
static bool order_features(const ms_pit_input *in, rec *f, int64_t n, scratch *s) {
  if (!sort_by_ts(f, n, s)) return false;
  if (!in->feature_created && !in->feature_pos) return true; /* row order is pos order */
  for (int64_t i = 0; i < n;) {
    int64_t j = i + 1;
    while (j < n && f[j].ts == f[i].ts) j++;
    if (j - i > 1) {
      int64_t m = j - i;
      if (!reserve((void **)&s->ties, &s->ties_cap, m, sizeof(tie))) return false;
      for (int64_t k = 0; k < m; k++) {
        int64_t row = f[i + k].row;
        tie *t = &s->ties[k];
        t->created_valid = in->feature_created &&
                           (!in->feature_created_valid || in->feature_created_valid[row]);
        t->created = t->created_valid ? in->feature_created[row] : 0;
        t->pos = pos_of(in, row);
        t->row = row;
      }
      qsort(s->ties, (size_t)m, sizeof(tie), tie_cmp);
      for (int64_t k = 0; k < m; k++) f[i + k].row = s->ties[k].row;
    }
    i = j;
  }
  return true;
}

/* filter_by_created, offline: entity rows in ts order; feature rows (sorted order position
 * p) become active once created <= e.ts; the winner is the largest active p among the
 * first `hi` (those with ts <= e.ts), found as a prefix maximum in a Fenwick tree. */
static bool created_group_fenwick(const ms_pit_input *in, const rec *f, int64_t nf,
                                  const rec *e, int64_t ne, int64_t *out, int64_t *matched,
                                  scratch *s) {
  if (!reserve((void **)&s->fen, &s->fen_cap, nf + 1, sizeof(int64_t)) ||
      !reserve((void **)&s->tmp, &s->tmp_cap, nf, sizeof(rec)))
    return false;
  /* Active order: (created, p) for rows with a valid created, via the radix sort. */
  int64_t na = 0;
  rec *byc = s->tmp;
  rec *tmp2 = NULL;
  for (int64_t p = 0; p < nf; p++) {
    int64_t row = f[p].row;
    if (in->feature_created_valid && !in->feature_created_valid[row]) continue;
    byc[na].ts = in->feature_created[row];
    byc[na].row = p;
    na++;
  }
  if (na > 32) {
    tmp2 = ms_malloc((size_t)na * sizeof(rec));
    if (!tmp2) return false;
    radix_sort_ts(byc, tmp2, na);
    ms_free(tmp2);
  } else {
    insertion_sort_ts(byc, na);
  }
  int64_t *fen = s->fen;
  for (int64_t i = 0; i <= nf; i++) fen[i] = -1;
  int64_t a = 0, hi = 0;
  for (int64_t k = 0; k < ne; k++) {
    int64_t ets = e[k].ts;
    while (a < na && byc[a].ts <= ets) {
      int64_t p = byc[a].row;
      for (int64_t i = p + 1; i <= nf; i += i & -i)
        if (fen[i] < p) fen[i] = p;
      a++;
    }
    while (hi < nf && f[hi].ts <= ets) hi++;
    int64_t best = -1;
    for (int64_t i = hi; i > 0; i -= i & -i)
      if (fen[i] > best) best = fen[i];
    int64_t w = -1;
    if (best >= 0 && within_ttl(in, f[best].ts, ets)) w = f[best].row;
    out[e[k].row] = w;
    if (w >= 0) (*matched)++;
  }
  return true;
}

static bool join_group(const ms_pit_input *in, rec *f, int64_t nf, rec *e, int64_t ne,
                       int64_t *out, int64_t *matched, scratch *s) {
  if (ne == 0) return true;
  if (nf == 0) {
    for (int64_t k = 0; k < ne; k++) out[e[k].row] = -1;
    return true;
  }
  if (!order_features(in, f, nf, s) || !sort_by_ts(e, ne, s)) return false;
  if (in->filter_by_created) {
    if (!in->feature_created) {
      for (int64_t k = 0; k < ne; k++) out[e[k].row] = -1;
      return true;
    }
    /* Walk back with a budget; past it, the Fenwick method bounds the work. */
    int64_t budget = 8 * (nf + ne) + 64, steps = 0, j = 0, m = 0;
    for (int64_t k = 0; k < ne; k++) {
      int64_t ets = e[k].ts;
      while (j < nf && f[j].ts <= ets) j++;
      int64_t w = -1;
      for (int64_t p = j - 1; p >= 0; p--) {
        if (++steps > budget) break;
        if (!within_ttl(in, f[p].ts, ets)) break;
        if (created_ok(in, f[p].row, ets)) {
          w = f[p].row;
          break;
        }
      }
      if (steps > budget)
        return created_group_fenwick(in, f, nf, e, ne, out, matched, s);
      out[e[k].row] = w;
      if (w >= 0) m++;
    }
    *matched += m;
    return true;
  }
  int64_t j = 0, m = 0;
  for (int64_t k = 0; k < ne; k++) {
    int64_t ets = e[k].ts;
    while (j < nf && f[j].ts <= ets) j++;
    int64_t w = -1;
    if (j > 0 && within_ttl(in, f[j - 1].ts, ets)) w = f[j - 1].row;
    out[e[k].row] = w;
    if (w >= 0) m++;
  }
  *matched += m;
  return true;
}

static ms_status join_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  scratch *s = &c->scr[worker];
  int64_t matched = 0;
  for (int64_t k = c->task_key[task]; k < c->task_key[task + 1]; k++) {
    int64_t fb = c->fstart[k], fe = c->fstart[k + 1];
    int64_t eb = c->estart[k], ee = c->estart[k + 1];
    if (!join_group(c->in, c->frec + fb, fe - fb, c->erec + eb, ee - eb, c->out, &matched, s))
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  }
  c->task_matched[task] = matched;
  return MS_OK;
}

/* Counting sort of rows by key id into records (ts, row); start[k] .. start[k+1]. */
static ms_status group_by_key(const int64_t *key, const int64_t *ts, int64_t n, int64_t n_keys,
                              int64_t **out_start, rec **out_rec, ms_error *err) {
  int64_t *start = ms_calloc((size_t)n_keys + 2, sizeof(int64_t));
  if (!start) return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  for (int64_t i = 0; i < n; i++) {
    int64_t k = key[i];
    if (k >= n_keys) {
      ms_free(start);
      return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: key id %lld out of range",
                          (long long)k);
    }
    if (k >= 0) start[k + 2]++;
  }
  for (int64_t k = 0; k < n_keys; k++) start[k + 2] += start[k + 1];
  int64_t total = start[n_keys + 1];
  rec *r = ms_malloc((size_t)(total ? total : 1) * sizeof(rec));
  if (!r) {
    ms_free(start);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  }
  ms_mem_advise_huge(r, total * (int64_t)sizeof(rec));
  /* start[k + 1] is the cursor for key k; afterwards start[k] .. start[k + 1] is key k. */
  for (int64_t i = 0; i < n; i++) {
    int64_t k = key[i];
    if (k >= 0) {
      rec *x = &r[start[k + 1]++];
      x->ts = ts[i];
      x->row = i;
    }
  }
  *out_start = start;
  *out_rec = r;
  return MS_OK;
}

ms_status ms_pit_join(const ms_pit_input *in, ms_pool *pool, int64_t *out_winner,
                      ms_pit_stats *stats, ms_error *err) {
  if (stats) memset(stats, 0, sizeof *stats);
  if (!in || !in->keys) return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: no input");
  const ms_pit_keys *keys = in->keys;
  int64_t nf = keys->n_feature_rows, ne = keys->n_entity_rows, K = keys->n_keys;
  if (in->ttl_ns < 0) return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: negative ttl");
  if (ne > 0 && (!out_winner || !in->entity_ts || !keys->entity_key))
    return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: missing entity arrays");
  if (nf > 0 && (!in->feature_ts || !keys->feature_key))
    return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: missing feature arrays");
  for (int64_t i = 0; i < ne; i++) out_winner[i] = -1;
  if (stats) stats->n_partitions = keys->n_partitions;
  if (ne == 0 || nf == 0 || K == 0) return MS_OK;

  join_ctx c;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.n_keys = K;
  c.out = out_winner;
  ms_status st = group_by_key(keys->feature_key, in->feature_ts, nf, K, &c.fstart, &c.frec, err);
  if (st == MS_OK)
    st = group_by_key(keys->entity_key, in->entity_ts, ne, K, &c.estart, &c.erec, err);
  int n_workers = pool ? ms_pool_size(pool) : 1;
  int64_t n_tasks = 0;
  if (st == MS_OK) {
    /* Stats per caller partition; then tasks of about equal rows over key ranges. */
    if (stats && keys->key_partition && keys->n_partitions > 0) {
      int64_t *prow = ms_calloc((size_t)keys->n_partitions, sizeof(int64_t));
      if (prow) {
        for (int64_t k = 0; k < K; k++) {
          int32_t p = keys->key_partition[k];
          if (p >= 0 && p < keys->n_partitions)
            prow[p] += c.fstart[k + 1] - c.fstart[k] + c.estart[k + 1] - c.estart[k];
        }
        for (int32_t p = 0; p < keys->n_partitions; p++)
          if (prow[p] > stats->max_partition_rows) stats->max_partition_rows = prow[p];
        ms_free(prow);
      }
    }
    int64_t total = c.fstart[K] + c.estart[K];
    int64_t want = (int64_t)n_workers * 16;
    if (want > K) want = K;
    if (want < 1) want = 1;
    c.task_key = ms_malloc((size_t)(want + 1) * sizeof(int64_t));
    c.task_matched = ms_calloc((size_t)want, sizeof(int64_t));
    c.scr = ms_calloc((size_t)n_workers, sizeof(scratch));
    if (!c.task_key || !c.task_matched || !c.scr) {
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    } else {
      c.task_key[0] = 0;
      int64_t k = 0;
      for (int64_t t = 1; t < want; t++) {
        int64_t target = total * t / want;
        while (k < K && c.fstart[k] + c.estart[k] < target) k++;
        if (k > c.task_key[n_tasks]) c.task_key[++n_tasks] = k;
      }
      if (c.task_key[n_tasks] < K) c.task_key[++n_tasks] = K;
    }
  }
  if (st == MS_OK) st = ms_pool_run(pool, n_tasks, join_task, &c, err);
  if (st == MS_OK && stats)
    for (int64_t t = 0; t < n_tasks; t++) stats->matched += c.task_matched[t];
  if (c.scr) {
    for (int w = 0; w < n_workers; w++) {
      ms_free(c.scr[w].tmp);
      ms_free(c.scr[w].ties);
      ms_free(c.scr[w].fen);
    }
  }
  ms_free(c.scr);
  ms_free(c.task_key);
  ms_free(c.task_matched);
  ms_free(c.fstart);
  ms_free(c.estart);
  ms_free(c.frec);
  ms_free(c.erec);
  if (st != MS_OK)
    for (int64_t i = 0; i < ne; i++) out_winner[i] = -1;
  return st;
}
