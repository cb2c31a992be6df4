/* The point-in-time join kernel (see pit_join.h): for every entity row, the winning feature
 * row or -1.
 *
 * Rules. A feature row f is a candidate for entity row e when both have the same key id
 * (never -1), f.ts <= e.ts, and, when ttl_ns > 0, f.ts >= e.ts - ttl_ns (both bounds
 * inclusive); with filter_by_created, also f.created is not null and f.created <= e.ts.
 * The winner is the largest (ts, created, pos), a null created ranking below every value.
 *
 * Method. Within one key, feature rows are sorted by ts (stably, so equal ts keep row
 * order) and runs of equal ts are re-sorted by (created, null lowest; pos) when a created
 * column or an explicit position is given; entity rows are sorted by ts. One merge sweep
 * then hands each entity row the last feature row with ts <= e.ts: by the sort order that
 * is the largest candidate, so the ttl bound only has to be checked on it (if it is too old,
 * every other candidate is older). With filter_by_created the sweep walks back from there
 * to the last row whose created is valid and <= e.ts, stopping at the ttl bound; when those
 * walks grow long, the key switches to an offline method with a Fenwick tree of prefix
 * maxima (feature rows activated in created order as e.ts grows), O(n log n) whatever the
 * data.
 *
 * Getting rows to their key cheaply is most of the work. Both sides are bucketed by key-id
 * range in one parallel histogram + scatter pass into 16-byte records (ts, row, key within
 * the bucket), about 32K rows per bucket so that a bucket stays in cache; each bucket is then
 * an independent task: a counting sort by key within the bucket, then per key the sorts and
 * the sweep. Keys are independent, so the result does not depend on the bucketing, the
 * caller's partitions or the thread count. The buckets are processed in waves (groups of
 * buckets whose records fill about WAVE_BYTES): each wave re-reads the key and ts arrays
 * but reuses one record buffer, which bounds the scratch memory and, where first-touch page
 * faults are slow (virtual machines), also saves time.
 *
 * One key (an entity-less view puts every row there) would be one task; instead both sides
 * are bucketed by timestamp range, each bucket sorted as its own task (ties never cross a
 * bucket), which makes the concatenation sorted; the sweep then runs over ranges of entity
 * rows in parallel, each starting from a binary search. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "offline/pit_join.h"

typedef struct rec {
  int64_t ts;
  uint32_t row;
  uint32_t key; /* key id within its bucket while grouping */
} rec;

#define ROWS_PER_CHUNK 262144
#define ROWS_PER_BUCKET 32768
#define MAX_KEY_SHIFT 16
#define TS_BUCKETS 4096
#define SERIAL_ROWS 4096
#define WAVE_BYTES ((int64_t)48 << 20)

/* The wave size; tests make it small to run many waves on small inputs. */
static int64_t g_wave_bytes = WAVE_BYTES;
void ms_pit__set_wave_bytes(int64_t bytes); /* internal, for tests; 0 restores the default */
void ms_pit__set_wave_bytes(int64_t bytes) { g_wave_bytes = bytes > 0 ? bytes : WAVE_BYTES; }

static void *big_alloc(int64_t bytes) {
  void *p = ms_malloc((size_t)(bytes > 0 ? bytes : 1));
  if (p) ms_mem_advise_huge(p, bytes);
  return p;
}

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

/* Stable LSD radix sort by ts (8-bit digits; passes whose digit is the same for every
 * record are skipped). tmp holds n records. */
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
    if (cnt[d][k0] == n) continue;
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

/* A tie run element: the order after ts. */
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

/* Per-worker scratch, grown on demand and kept across tasks. */
typedef struct scratch {
  rec *tmp;
  int64_t tmp_cap;
  rec *gf, *ge; /* a bucket's records grouped by key */
  int64_t gf_cap, ge_cap;
  int64_t *cnt;
  int64_t cnt_cap;
  tie *ties;
  int64_t ties_cap;
  int64_t *fen;
  int64_t fen_cap;
  int64_t *prow; /* [n_partitions] rows per caller partition (stats) */
} scratch;

static bool reserve(void **p, int64_t *cap, int64_t n, size_t size) {
  if (n <= *cap) return true;
  int64_t nc = *cap ? *cap : 64;
  while (nc < n) nc *= 2;
  ms_free(*p);
  *p = big_alloc(nc * (int64_t)size);
  *cap = *p ? nc : 0;
  return *p != NULL;
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

static inline int64_t pos_of(const ms_pit_input *in, int64_t row) {
  return in->feature_pos ? in->feature_pos[row] : row;
}

static inline bool created_ok(const ms_pit_input *in, int64_t row, int64_t ets) {
  if (in->feature_created_valid && !in->feature_created_valid[row]) return false;
  return in->feature_created[row] <= ets;
}

static inline bool within_ttl(const ms_pit_input *in, int64_t fts, int64_t ets) {
  /* fts <= ets here; the difference fits in uint64 even when ets - ttl would overflow. */
  return in->ttl_ns <= 0 || (uint64_t)ets - (uint64_t)fts <= (uint64_t)in->ttl_ns;
}

/* Orders feature records: by ts, then (created, null lowest; pos). */
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
      for (int64_t k = 0; k < m; k++) f[i + k].row = (uint32_t)s->ties[k].row;
    }
    i = j;
  }
  return true;
}

/* ---------------- sweeps ---------------- */

/* Entity records e[0..ne) sorted by ts against ordered feature records f[0..nf). Returns
 * false when filter_by_created walks exceeded their budget (nothing counted then; the
 * caller switches to the Fenwick method). */
static bool sweep(const ms_pit_input *in, const rec *f, int64_t nf, const rec *e, int64_t ne,
                  int64_t *out, int64_t *matched) {
  if (ne == 0) return true;
  /* Start after every feature row with ts <= the first entity ts (binary search). */
  int64_t lo = 0, hi = nf;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (f[mid].ts <= e[0].ts) lo = mid + 1;
    else hi = mid;
  }
  int64_t j = lo, m = 0;
  if (in->filter_by_created) {
    if (!in->feature_created) {
      for (int64_t k = 0; k < ne; k++) out[e[k].row] = -1;
      return true;
    }
    int64_t budget = 8 * (nf + ne) + 64, steps = 0;
    for (int64_t k = 0; k < ne; k++) {
      int64_t ets = e[k].ts;
      while (j < nf && f[j].ts <= ets) j++;
      int64_t w = -1;
      for (int64_t p = j - 1; p >= 0; p--) {
        if (++steps > budget) return false;
        if (!within_ttl(in, f[p].ts, ets)) break;
        if (created_ok(in, f[p].row, ets)) {
          w = f[p].row;
          break;
        }
      }
      out[e[k].row] = w;
      m += w >= 0;
    }
    *matched += m;
    return true;
  }
  for (int64_t k = 0; k < ne; k++) {
    int64_t ets = e[k].ts;
    while (j < nf && f[j].ts <= ets) j++;
    int64_t w = -1;
    if (j > 0 && within_ttl(in, f[j - 1].ts, ets)) w = f[j - 1].row;
    out[e[k].row] = w;
    m += w >= 0;
  }
  *matched += m;
  return true;
}

/* filter_by_created, offline: entity rows in ts order; feature rows (position p in the
 * order) become active once created <= e.ts; the winner is the largest active p among the
 * first `hi` (those with ts <= e.ts): a prefix maximum in a Fenwick tree. */
static bool sweep_fenwick(const ms_pit_input *in, const rec *f, int64_t nf, const rec *e,
                          int64_t ne, int64_t *out, int64_t *matched) {
  int64_t *fen = big_alloc((nf + 1) * (int64_t)sizeof(int64_t));
  rec *byc = big_alloc(nf * (int64_t)sizeof(rec));
  rec *tmp = big_alloc(nf * (int64_t)sizeof(rec));
  bool ok = fen && byc && tmp;
  if (ok) {
    int64_t na = 0;
    for (int64_t p = 0; p < nf; p++) {
      int64_t row = f[p].row;
      if (in->feature_created_valid && !in->feature_created_valid[row]) continue;
      byc[na].ts = in->feature_created[row];
      byc[na].row = (uint32_t)p;
      na++;
    }
    if (na > 32) radix_sort_ts(byc, tmp, na);
    else insertion_sort_ts(byc, na);
    for (int64_t i = 0; i <= nf; i++) fen[i] = -1;
    int64_t a = 0, hi = 0, m = 0;
    for (int64_t k = 0; k < ne; k++) {
      int64_t ets = e[k].ts;
      for (; a < na && byc[a].ts <= ets; a++) {
        int64_t p = byc[a].row;
        for (int64_t i = p + 1; i <= nf; i += i & -i)
          if (fen[i] < p) fen[i] = p;
      }
      while (hi < nf && f[hi].ts <= ets) hi++;
      int64_t best = -1;
      for (int64_t i = hi; i > 0; i -= i & -i)
        if (fen[i] > best) best = fen[i];
      int64_t w = -1;
      if (best >= 0 && within_ttl(in, f[best].ts, ets)) w = f[best].row;
      out[e[k].row] = w;
      m += w >= 0;
    }
    *matched += m;
  }
  ms_free(fen);
  ms_free(byc);
  ms_free(tmp);
  return ok;
}

/* ---------------- bucketing ---------------- */

typedef struct side {
  const int64_t *key;
  const int64_t *ts;
  int64_t n, chunk;
  int64_t *hist;  /* [n_chunks * nb]: counts, then scatter cursors */
  int64_t *start; /* [nb + 1] */
  rec *recs;
  int64_t base; /* record index of the current wave's first bucket */
  /* by-timestamp bucketing (one key) */
  int64_t vmin, vmax;
  int vshift;
} side;

typedef struct join_ctx {
  const ms_pit_input *in;
  int64_t n_keys;
  int n_chunks;
  int64_t nb;
  bool by_ts;    /* one key: buckets are timestamp ranges */
  int key_shift; /* by key: bucket = key >> key_shift */
  side sd[2];    /* 0 = features, 1 = entities */
  int64_t *out;
  int n_workers;
  scratch *scr;
  int64_t *task_matched;
  int64_t *chunk_min, *chunk_max; /* [2 * n_chunks] */
  atomic_bool bad_key;
  atomic_bool needs_fenwick;
  int64_t n_ranges; /* sweep ranges (by_ts) */
  int64_t wave_b0, wave_b1; /* by key: the buckets of the current wave */
} join_ctx;

static inline int64_t bucket_of(const join_ctx *c, const side *s, int64_t k, int64_t ts) {
  if (c->by_ts) return (int64_t)(((uint64_t)ts - (uint64_t)s->vmin) >> s->vshift);
  return k >> c->key_shift;
}

static void chunk_of(const join_ctx *c, int64_t task, side **s, int64_t *ch, int64_t *lo,
                     int64_t *hi) {
  int which = task >= c->n_chunks;
  *s = (side *)&c->sd[which];
  *ch = which ? task - c->n_chunks : task;
  *lo = *ch * (*s)->chunk < (*s)->n ? *ch * (*s)->chunk : (*s)->n;
  *hi = *lo + (*s)->chunk < (*s)->n ? *lo + (*s)->chunk : (*s)->n;
}

/* Pass 0 (one key only): timestamp range of each side's keyed rows. */
static ms_status minmax_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  side *s;
  int64_t ch, lo, hi;
  chunk_of(c, task, &s, &ch, &lo, &hi);
  int64_t mn = INT64_MAX, mx = INT64_MIN;
  for (int64_t i = lo; i < hi; i++) {
    if (s->key[i] < 0) continue;
    if (s->key[i] >= c->n_keys) atomic_store(&c->bad_key, true);
    int64_t t = s->ts[i];
    if (t < mn) mn = t;
    if (t > mx) mx = t;
  }
  c->chunk_min[task] = mn;
  c->chunk_max[task] = mx;
  return MS_OK;
}

/* Pass 1: rows per (chunk, bucket). */
static ms_status count_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  side *s;
  int64_t ch, lo, hi;
  chunk_of(c, task, &s, &ch, &lo, &hi);
  int64_t *hist = s->hist + ch * c->nb;
  const int64_t *key = s->key;
  if (c->by_ts) {
    for (int64_t i = lo; i < hi; i++)
      if (key[i] >= 0) hist[bucket_of(c, s, 0, s->ts[i])]++;
    return MS_OK;
  }
  const int64_t n_keys = c->n_keys;
  const int shift = c->key_shift;
  bool bad = false;
  for (int64_t i = lo; i < hi; i++) {
    int64_t k = key[i];
    if (k < 0) continue;
    if (k >= n_keys) { bad = true; continue; }
    hist[k >> shift]++;
  }
  if (bad) atomic_store(&c->bad_key, true);
  return MS_OK;
}

/* Pass 2: records into their bucket's range, rows in order. */
static ms_status scatter_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  side *s;
  int64_t ch, lo, hi;
  chunk_of(c, task, &s, &ch, &lo, &hi);
  int64_t *cur = s->hist + ch * c->nb;
  const int64_t *key = s->key, *ts = s->ts;
  rec *r = s->recs;
  if (c->by_ts) {
    for (int64_t i = lo; i < hi; i++) {
      if (key[i] < 0) continue;
      rec *x = &r[cur[bucket_of(c, s, 0, ts[i])]++];
      x->ts = ts[i];
      x->row = (uint32_t)i;
      x->key = 0;
    }
    return MS_OK;
  }
  const int shift = c->key_shift;
  const int64_t mask = ((int64_t)1 << shift) - 1, n_keys = c->n_keys;
  const int64_t b0 = c->wave_b0, nbw = c->wave_b1 - c->wave_b0;
  r -= s->base;
  for (int64_t i = lo; i < hi; i++) {
    int64_t k = key[i];
    if (k < 0 || k >= n_keys) continue;
    int64_t b = k >> shift;
    if ((uint64_t)(b - b0) >= (uint64_t)nbw) continue; /* another wave's bucket */
    rec *x = &r[cur[b]++];
    x->ts = ts[i];
    x->row = (uint32_t)i;
    x->key = (uint32_t)(k & mask);
  }
  return MS_OK;
}

/* Counting sort of one bucket's records by key within the bucket into g; cnt[0..nk] gets
 * the group starts. */
static void group_records(const rec *r, int64_t n, int64_t nk, rec *g, int64_t *cnt) {
  memset(cnt, 0, (size_t)(nk + 1) * sizeof(int64_t));
  for (int64_t i = 0; i < n; i++) cnt[r[i].key + 1]++;
  for (int64_t k = 0; k < nk; k++) cnt[k + 1] += cnt[k];
  /* cnt[k] is now the start of key k; scatter with a moving copy so cnt survives. */
  for (int64_t i = 0; i < n; i++) g[cnt[r[i].key]++] = r[i];
  for (int64_t k = nk; k > 0; k--) cnt[k] = cnt[k - 1];
  cnt[0] = 0;
}

/* Pass 3 (by key): one bucket: group, then per key order, sort and sweep. */
static ms_status bucket_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  scratch *s = &c->scr[worker];
  const ms_pit_input *in = c->in;
  const side *F = &c->sd[0], *E = &c->sd[1];
  task += c->wave_b0;
  int64_t fb = F->start[task] - F->base, fe = F->start[task + 1] - F->base;
  int64_t eb = E->start[task] - E->base, ee = E->start[task + 1] - E->base;
  int64_t nf = fe - fb, ne = ee - eb, matched = 0;
  if ((ne == 0 || nf == 0) && !s->prow) return MS_OK; /* entity rows stay -1 */
  int64_t key0 = task << c->key_shift;
  int64_t nk = c->n_keys - key0;
  if (nk > ((int64_t)1 << c->key_shift)) nk = (int64_t)1 << c->key_shift;
  if (!reserve((void **)&s->gf, &s->gf_cap, nf, sizeof(rec)) ||
      !reserve((void **)&s->ge, &s->ge_cap, ne, sizeof(rec)) ||
      !reserve((void **)&s->cnt, &s->cnt_cap, 2 * (nk + 1), sizeof(int64_t)))
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  int64_t *fc = s->cnt, *ec = s->cnt + nk + 1;
  group_records(F->recs + fb, nf, nk, s->gf, fc);
  group_records(E->recs + eb, ne, nk, s->ge, ec);
  for (int64_t k = 0; k < nk; k++) {
    int64_t gne = ec[k + 1] - ec[k], gnf = fc[k + 1] - fc[k];
    if (s->prow && (gne || gnf)) {
      int32_t p = in->keys->key_partition[key0 + k];
      if (p >= 0 && p < in->keys->n_partitions) s->prow[p] += gne + gnf;
    }
    if (gne == 0 || gnf == 0) continue;
    rec *f = s->gf + fc[k], *e = s->ge + ec[k];
    if (!order_features(in, f, gnf, s) || !sort_by_ts(e, gne, s))
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    if (!sweep(in, f, gnf, e, gne, c->out, &matched) &&
        !sweep_fenwick(in, f, gnf, e, gne, c->out, &matched))
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  }
  c->task_matched[task] = matched;
  return MS_OK;
}

/* Pass 3 (one key): sort one timestamp bucket of either side. */
static ms_status ts_sort_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  scratch *s = &c->scr[worker];
  int which = task >= c->nb;
  int64_t b = which ? task - c->nb : task;
  const side *sd = &c->sd[which];
  rec *r = sd->recs + sd->start[b];
  int64_t n = sd->start[b + 1] - sd->start[b];
  bool ok = which ? sort_by_ts(r, n, s) : order_features(c->in, r, n, s);
  if (!ok) return ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  return MS_OK;
}

/* Pass 4 (one key): sweep one range of the sorted entity records. */
static ms_status ts_sweep_task(void *vctx, int64_t task, int worker, ms_error *err) {
  join_ctx *c = vctx;
  const side *F = &c->sd[0], *E = &c->sd[1];
  int64_t ne = E->start[c->nb], nf = F->start[c->nb];
  int64_t lo = ne * task / c->n_ranges, hi = ne * (task + 1) / c->n_ranges;
  int64_t matched = 0;
  if (!sweep(c->in, F->recs, nf, E->recs + lo, hi - lo, c->out, &matched))
    atomic_store(&c->needs_fenwick, true);
  c->task_matched[task] = matched;
  return MS_OK;
}

static void setup_side(join_ctx *c, side *s, const int64_t *key, const int64_t *ts, int64_t n) {
  s->key = key;
  s->ts = ts;
  s->n = n;
  s->chunk = (n + c->n_chunks - 1) / c->n_chunks;
  if (s->chunk < 1) s->chunk = 1;
}

/* Prefix sums (bucket-major) turning counts into scatter cursors and bucket starts. */
static void prefix(join_ctx *c, side *s) {
  int64_t sum = 0;
  for (int64_t b = 0; b < c->nb; b++) {
    s->start[b] = sum;
    for (int ch = 0; ch < c->n_chunks; ch++) {
      int64_t x = s->hist[ch * c->nb + b];
      s->hist[ch * c->nb + b] = sum;
      sum += x;
    }
  }
  s->start[c->nb] = sum;
}

ms_status ms_pit_join(const ms_pit_input *in, ms_pool *pool, int64_t *out_winner,
                      ms_pit_stats *stats, ms_error *err) {
  if (stats) memset(stats, 0, sizeof *stats);
  if (!in || !in->keys) return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: no input");
  const ms_pit_keys *keys = in->keys;
  int64_t nf = keys->n_feature_rows, ne = keys->n_entity_rows, K = keys->n_keys;
  if (in->ttl_ns < 0) return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: negative ttl");
  if (nf < 0 || ne < 0 || K < 0)
    return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: negative count");
  if (nf >= (int64_t)UINT32_MAX || ne >= (int64_t)UINT32_MAX)
    return ms_error_set(err, MS_ERR_LIMIT,
                        "point-in-time join: more than 2^32 - 2 rows on one side; split the "
                        "input into partitions");
  if (ne > 0 && (!out_winner || !in->entity_ts || !keys->entity_key))
    return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: missing entity arrays");
  if (nf > 0 && (!in->feature_ts || !keys->feature_key))
    return ms_error_set(err, MS_ERR_INVALID, "point-in-time join: missing feature arrays");
  if (stats) stats->n_partitions = keys->n_partitions;
  ms_mem_advise_huge(out_winner, ne * (int64_t)sizeof(int64_t)); /* often not yet touched */
  for (int64_t i = 0; i < ne; i++) out_winner[i] = -1;
  if (ne == 0 || K == 0) return MS_OK;

  if (nf + ne < SERIAL_ROWS) pool = NULL; /* waking threads costs more than the work */
  join_ctx c;
  memset(&c, 0, sizeof c);
  c.in = in;
  c.n_keys = K;
  c.out = out_winner;
  c.n_workers = pool ? ms_pool_size(pool) : 1;
  c.by_ts = K == 1;
  int64_t big = nf > ne ? nf : ne;
  c.n_chunks = (int)((big + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK);
  if (c.n_chunks < 1) c.n_chunks = 1;
  if (c.n_chunks > 64) c.n_chunks = 64;
  setup_side(&c, &c.sd[0], keys->feature_key, in->feature_ts, nf);
  setup_side(&c, &c.sd[1], keys->entity_key, in->entity_ts, ne);
  ms_status st = MS_OK;
  c.scr = ms_calloc((size_t)c.n_workers, sizeof(scratch));
  c.chunk_min = ms_malloc((size_t)c.n_chunks * 2 * sizeof(int64_t));
  c.chunk_max = ms_malloc((size_t)c.n_chunks * 2 * sizeof(int64_t));
  if (!c.scr || !c.chunk_min || !c.chunk_max)
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
  if (st == MS_OK && stats && keys->key_partition && keys->n_partitions > 0 && !c.by_ts)
    for (int w = 0; w < c.n_workers && st == MS_OK; w++)
      if (!(c.scr[w].prow = ms_calloc((size_t)keys->n_partitions, sizeof(int64_t))))
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");

  if (st == MS_OK && c.by_ts) {
    /* About 2K rows per timestamp bucket, at most TS_BUCKETS. */
    c.nb = 2; /* >= 2: a range of 2^64 - 1 shifted by 63 is still a valid bucket */
    while (c.nb < TS_BUCKETS && c.nb * 2048 < nf + ne) c.nb *= 2;
    st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, minmax_task, &c, err);
    for (int w = 0; w < 2 && st == MS_OK; w++) {
      side *s = &c.sd[w];
      s->vmin = INT64_MAX;
      s->vmax = INT64_MIN;
      for (int ch = 0; ch < c.n_chunks; ch++) {
        if (c.chunk_min[w * c.n_chunks + ch] < s->vmin) s->vmin = c.chunk_min[w * c.n_chunks + ch];
        if (c.chunk_max[w * c.n_chunks + ch] > s->vmax) s->vmax = c.chunk_max[w * c.n_chunks + ch];
      }
      if (s->vmin > s->vmax) s->vmin = s->vmax = 0; /* no keyed rows */
      uint64_t range = (uint64_t)s->vmax - (uint64_t)s->vmin;
      s->vshift = 0;
      while (s->vshift < 63 && (range >> s->vshift) >= (uint64_t)c.nb) s->vshift++;
    }
  } else if (st == MS_OK) {
    /* Key-id ranges of about ROWS_PER_BUCKET rows. */
    int64_t rows = nf + ne;
    c.key_shift = 0;
    while (c.key_shift < MAX_KEY_SHIFT &&
           ((int64_t)2 << c.key_shift) * rows <= (int64_t)ROWS_PER_BUCKET * K)
      c.key_shift++;
    c.nb = ((K - 1) >> c.key_shift) + 1;
  }
  if (st == MS_OK) {
    for (int w = 0; w < 2 && st == MS_OK; w++) {
      c.sd[w].hist = ms_calloc((size_t)c.n_chunks * (size_t)c.nb, sizeof(int64_t));
      c.sd[w].start = ms_calloc((size_t)c.nb + 1, sizeof(int64_t));
      if (!c.sd[w].hist || !c.sd[w].start)
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    }
  }
  if (st == MS_OK) st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, count_task, &c, err);
  if (st == MS_OK && atomic_load(&c.bad_key))
    st = ms_error_set(err, MS_ERR_INVALID, "point-in-time join: a key id is out of range");
  if (st == MS_OK) {
    prefix(&c, &c.sd[0]);
    prefix(&c, &c.sd[1]);
  }
  int64_t n_tasks = 0;
  if (st == MS_OK && !c.by_ts) {
    /* Waves: key-range buckets are independent, so the scatter and the bucket tasks run
     * over a few groups of buckets in turn, each re-reading the key and ts arrays but
     * reusing one record buffer of about WAVE_BYTES: less memory, and on machines where
     * first-touch page faults are slow, less time too. */
    const int64_t *fs = c.sd[0].start, *es = c.sd[1].start;
    int64_t total = fs[c.nb] + es[c.nb];
    int64_t waves = (total * (int64_t)sizeof(rec) + g_wave_bytes - 1) / g_wave_bytes;
    if (waves < 1) waves = 1;
    int64_t target = (total + waves - 1) / waves;
    int64_t *cut = ms_malloc((size_t)(c.nb + 1) * sizeof(int64_t));
    int64_t n_waves = 0, max_f = 0, max_e = 0;
    if (!cut) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    if (st == MS_OK) {
      cut[0] = 0;
      for (int64_t b = 0; b < c.nb; b++) {
        int64_t acc = fs[b + 1] - fs[cut[n_waves]] + es[b + 1] - es[cut[n_waves]];
        if (acc > target && b > cut[n_waves]) cut[++n_waves] = b;
      }
      cut[++n_waves] = c.nb;
      for (int64_t w = 0; w < n_waves; w++) {
        if (fs[cut[w + 1]] - fs[cut[w]] > max_f) max_f = fs[cut[w + 1]] - fs[cut[w]];
        if (es[cut[w + 1]] - es[cut[w]] > max_e) max_e = es[cut[w + 1]] - es[cut[w]];
      }
      c.sd[0].recs = big_alloc(max_f * (int64_t)sizeof(rec));
      c.sd[1].recs = big_alloc(max_e * (int64_t)sizeof(rec));
      n_tasks = c.nb;
      c.task_matched = ms_calloc((size_t)n_tasks, sizeof(int64_t));
      if (!c.sd[0].recs || !c.sd[1].recs || !c.task_matched)
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    }
    for (int64_t w = 0; w < n_waves && st == MS_OK; w++) {
      c.wave_b0 = cut[w];
      c.wave_b1 = cut[w + 1];
      c.sd[0].base = fs[cut[w]];
      c.sd[1].base = es[cut[w]];
      st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, scatter_task, &c, err);
      if (st == MS_OK) st = ms_pool_run(pool, c.wave_b1 - c.wave_b0, bucket_task, &c, err);
    }
    ms_free(cut);
  } else if (st == MS_OK) {
    for (int w = 0; w < 2 && st == MS_OK; w++) {
      c.sd[w].recs = big_alloc(c.sd[w].start[c.nb] * (int64_t)sizeof(rec));
      if (!c.sd[w].recs) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    }
    if (st == MS_OK) st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, scatter_task, &c, err);
    for (int w = 0; w < 2; w++) {
      ms_free(c.sd[w].hist);
      c.sd[w].hist = NULL;
    }
    if (st == MS_OK) st = ms_pool_run(pool, 2 * c.nb, ts_sort_task, &c, err);
    int64_t nek = c.sd[1].start[c.nb];
    c.n_ranges = (int64_t)c.n_workers * 8;
    if (c.n_ranges > nek / 1024 + 1) c.n_ranges = nek / 1024 + 1;
    n_tasks = c.n_ranges;
    c.task_matched = ms_calloc((size_t)n_tasks, sizeof(int64_t));
    if (st == MS_OK && !c.task_matched)
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    if (st == MS_OK) st = ms_pool_run(pool, c.n_ranges, ts_sweep_task, &c, err);
    if (st == MS_OK && atomic_load(&c.needs_fenwick)) {
      memset(c.task_matched, 0, (size_t)n_tasks * sizeof(int64_t));
      if (!sweep_fenwick(in, c.sd[0].recs, c.sd[0].start[c.nb], c.sd[1].recs, nek, out_winner,
                         &c.task_matched[0]))
        st = ms_error_set(err, MS_ERR_NOMEM, "out of memory in the point-in-time join");
    }
    if (stats && keys->n_partitions > 0 && keys->key_partition)
      stats->max_partition_rows = c.sd[0].start[c.nb] + nek;
  }
  if (st == MS_OK && stats) {
    for (int64_t t = 0; t < n_tasks; t++) stats->matched += c.task_matched[t];
    if (!c.by_ts) {
      for (int32_t p = 0; p < keys->n_partitions; p++) {
        int64_t rows = 0;
        for (int w = 0; w < c.n_workers; w++) rows += c.scr[w].prow ? c.scr[w].prow[p] : 0;
        if (rows > stats->max_partition_rows) stats->max_partition_rows = rows;
      }
    }
  }
  if (c.scr) {
    for (int w = 0; w < c.n_workers; w++) {
      scratch *s = &c.scr[w];
      ms_free(s->tmp);
      ms_free(s->gf);
      ms_free(s->ge);
      ms_free(s->cnt);
      ms_free(s->ties);
      ms_free(s->fen);
      ms_free(s->prow);
    }
  }
  for (int w = 0; w < 2; w++) {
    ms_free(c.sd[w].recs);
    ms_free(c.sd[w].start);
    ms_free(c.sd[w].hist);
  }
  ms_free(c.scr);
  ms_free(c.task_matched);
  ms_free(c.chunk_min);
  ms_free(c.chunk_max);
  if (st != MS_OK)
    for (int64_t i = 0; i < ne; i++) out_winner[i] = -1;
  return st;
}
