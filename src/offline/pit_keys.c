/* Join-key encoding for the point-in-time join (see pit_join.h): maps the key tuples of the
 * feature side and the entity side to dense key ids through one hash table built on the
 * feature side.
 *
 * Rules. A null in any key column gives -1 (a feature row that is never a candidate, an
 * entity row that matches nothing). Columns are compared by value: integers of any width
 * and signedness, bool with bool, date32 with date32, timestamps of any unit (naive = UTC),
 * utf8 with large_utf8, binary with large_binary, fixed_binary of one width, decimal128 of
 * one scale. Other pairs are MS_ERR_TYPE naming both columns. Zero key columns: id 0 for
 * every row (one key, when there is at least one feature row).
 *
 * Method. Every value is mapped into the feature column's domain: feature values are taken
 * as they are, an entity value that has no equal in that domain (a negative int against an
 * unsigned column, a uint64 above INT64_MAX against a signed one, a timestamp that is not a
 * whole number of the feature column's unit) makes the row unmatched. So equal tuples have
 * equal canonical bytes. A single fixed-width key column (the common case: one int64
 * customer id) takes a specialised path, a table of 64-bit canonical values with no tuple
 * bytes at all; any other shape hashes the tuple's canonical bytes (XXH3) and keeps the
 * distinct tuples in an arena.
 *
 * When that single column's feature values span a small range (ids 0..K-1, the usual
 * surrogate keys), a presence array over the range becomes the id table instead (the dense
 * path below): no hashing and no scatter at all.
 *
 * Parallelism and determinism. Otherwise rows are first scattered into B internal buckets by
 * hash (one pass, parallel over row chunks, each chunk in row order); each bucket then builds
 * its own table and probes its own entity rows, on the pool. Key ids are numbered bucket by
 * bucket, in first-appearance order within a bucket (dense path: in value order), so ids,
 * partitions and every result are the same for any thread count. A key's partition is
 * hash % n_partitions: a function of the tuple value alone (the same 64-bit hash on both
 * paths), the same on every machine. Large arrays ask for huge pages before first touch. */
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <xxhash.h>

#include "columnar/column.h"
#include "morsel/alloc.h"
#include "offline/pit_join.h"

/* ---------------- key column classes ---------------- */

typedef enum key_class {
  KC_NULL = 0, /* a NULL-typed column on either side: every row is null */
  KC_INT,      /* integers, bool, date32, timestamp: one canonical 64-bit value */
  KC_BYTES,    /* utf8/binary (either offset width): length + bytes */
  KC_FIXED     /* fixed_binary / decimal128: width bytes */
} key_class;

typedef struct key_col {
  const ms_column *f, *e;
  key_class cls;
  bool f_unsigned, e_unsigned; /* KC_INT integers: uint64 domain */
  int64_t e_mul, e_div;        /* KC_INT timestamps: entity value * mul / div = feature unit */
  int width;                   /* KC_FIXED */
} key_col;

static bool is_int_type(ms_type_id id) { return id >= MS_TYPE_INT8 && id <= MS_TYPE_UINT64; }

static ms_status classify(const ms_column *f, const ms_column *e, int i, key_col *kc,
                          ms_error *err) {
  const ms_datatype *ft = ms_column_type(f), *et = ms_column_type(e);
  memset(kc, 0, sizeof *kc);
  kc->f = f;
  kc->e = e;
  kc->e_mul = kc->e_div = 1;
  if (ft->id == MS_TYPE_NULL || et->id == MS_TYPE_NULL) {
    kc->cls = KC_NULL;
    return MS_OK;
  }
  if (is_int_type(ft->id) && is_int_type(et->id)) {
    kc->cls = KC_INT;
    kc->f_unsigned = !ms_type_is_signed_integer(ft);
    kc->e_unsigned = !ms_type_is_signed_integer(et);
    return MS_OK;
  }
  if ((ft->id == MS_TYPE_BOOL && et->id == MS_TYPE_BOOL) ||
      (ft->id == MS_TYPE_DATE32 && et->id == MS_TYPE_DATE32)) {
    kc->cls = KC_INT;
    return MS_OK;
  }
  if (ft->id == MS_TYPE_TIMESTAMP && et->id == MS_TYPE_TIMESTAMP) {
    kc->cls = KC_INT;
    int64_t fu = ms_time_unit_per_second(ft->unit), eu = ms_time_unit_per_second(et->unit);
    if (fu > eu) kc->e_mul = fu / eu;
    else kc->e_div = eu / fu;
    return MS_OK;
  }
  bool f_str = ft->id == MS_TYPE_UTF8 || ft->id == MS_TYPE_LARGE_UTF8;
  bool e_str = et->id == MS_TYPE_UTF8 || et->id == MS_TYPE_LARGE_UTF8;
  bool f_bin = ft->id == MS_TYPE_BINARY || ft->id == MS_TYPE_LARGE_BINARY;
  bool e_bin = et->id == MS_TYPE_BINARY || et->id == MS_TYPE_LARGE_BINARY;
  if ((f_str && e_str) || (f_bin && e_bin)) {
    kc->cls = KC_BYTES;
    return MS_OK;
  }
  if ((ft->id == MS_TYPE_FIXED_BINARY && et->id == MS_TYPE_FIXED_BINARY &&
       ft->byte_width == et->byte_width && ft->byte_width > 0) ||
      (ft->id == MS_TYPE_DECIMAL128 && et->id == MS_TYPE_DECIMAL128 && ft->scale == et->scale)) {
    kc->cls = KC_FIXED;
    kc->width = ft->id == MS_TYPE_DECIMAL128 ? 16 : ft->byte_width;
    return MS_OK;
  }
  char a[96], b[96];
  ms_type_to_string(ft, a, sizeof a);
  ms_type_to_string(et, b, sizeof b);
  return ms_error_set(err, MS_ERR_TYPE,
                      "join key column %d: feature-side key column has type %s but entity-side "
                      "key column has type %s; they cannot be compared",
                      i, a, b);
}

static inline bool col_valid(const ms_column *c, int64_t i) {
  return c->validity == NULL || ms_bit_get(c->validity->data, i);
}

/* Raw 64-bit value of an integer-like column (signed types sign-extend). */
static inline uint64_t load_u64(const ms_column *c, int64_t i) {
  const uint8_t *v = c->values->data;
  switch (c->type.id) {
    case MS_TYPE_BOOL: return ms_bit_get(v, i);
    case MS_TYPE_INT8: return (uint64_t)(int64_t)((const int8_t *)v)[i];
    case MS_TYPE_INT16: return (uint64_t)(int64_t)((const int16_t *)v)[i];
    case MS_TYPE_INT32: case MS_TYPE_DATE32: return (uint64_t)(int64_t)((const int32_t *)v)[i];
    case MS_TYPE_UINT8: return ((const uint8_t *)v)[i];
    case MS_TYPE_UINT16: return ((const uint16_t *)v)[i];
    case MS_TYPE_UINT32: return ((const uint32_t *)v)[i];
    default: return ((const uint64_t *)v)[i]; /* int64, uint64, timestamp */
  }
}

/* Canonical value of row i of a KC_INT column on one side; false when null or (entity side)
 * when the value has no equal in the feature column's domain. */
static inline bool int_canon(const key_col *kc, bool entity, int64_t i, uint64_t *out) {
  const ms_column *c = entity ? kc->e : kc->f;
  if (!col_valid(c, i)) return false;
  uint64_t u = load_u64(c, i);
  if (!entity) {
    *out = u;
    return true;
  }
  if (kc->e_unsigned != kc->f_unsigned && (u >> 63)) return false; /* out of the other domain */
  if (kc->e_mul != 1) {
    int64_t r;
    if (__builtin_mul_overflow((int64_t)u, kc->e_mul, &r)) return false;
    u = (uint64_t)r;
  } else if (kc->e_div != 1) {
    int64_t s = (int64_t)u;
    if (s % kc->e_div != 0) return false;
    u = (uint64_t)(s / kc->e_div);
  }
  *out = u;
  return true;
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* ---------------- tuple bytes (generic path) ---------------- */

/* Appends the canonical bytes of row i's tuple to buf (growing it); false when the row has
 * a null key or cannot match. */
static bool tuple_bytes(const key_col *kcs, int n, bool entity, int64_t i, uint8_t **buf,
                        int64_t *cap, int64_t *len) {
  int64_t at = 0;
  for (int c = 0; c < n; c++) {
    const key_col *kc = &kcs[c];
    const ms_column *col = entity ? kc->e : kc->f;
    int64_t need;
    const uint8_t *src = NULL;
    int64_t slen = 0;
    uint64_t v = 0;
    switch (kc->cls) {
      case KC_NULL: return false;
      case KC_INT:
        if (!int_canon(kc, entity, i, &v)) return false;
        need = 8;
        break;
      case KC_BYTES:
        if (!col_valid(col, i)) return false;
        src = ms_column_get_bytes(col, i, &slen);
        need = 8 + slen;
        break;
      default:
        if (!col_valid(col, i)) return false;
        src = col->values->data + (int64_t)kc->width * i;
        slen = kc->width;
        need = slen;
        break;
    }
    if (at + need > *cap) {
      int64_t nc = (*cap * 2 > at + need) ? *cap * 2 : at + need + 64;
      uint8_t *nb = ms_realloc(*buf, (size_t)nc);
      if (!nb) { *len = -1; return false; }
      *buf = nb;
      *cap = nc;
    }
    if (kc->cls == KC_INT) {
      memcpy(*buf + at, &v, 8);
    } else if (kc->cls == KC_BYTES) {
      memcpy(*buf + at, &slen, 8);
      if (slen) memcpy(*buf + at + 8, src, (size_t)slen);
    } else {
      memcpy(*buf + at, src, (size_t)slen);
    }
    at += need;
  }
  *len = at;
  return true;
}

/* The bytes that identify row i's tuple: for one utf8/binary column the value itself,
 * straight from the column (no copy); otherwise the canonical tuple bytes in *buf. False
 * for a null or unmatchable tuple, with *len = -1 when out of memory. */
static inline bool row_key(const key_col *kcs, int n, bool entity, int64_t i, uint8_t **buf,
                           int64_t *cap, const uint8_t **key, int64_t *len) {
  if (n == 1 && kcs[0].cls == KC_BYTES) {
    const ms_column *col = entity ? kcs[0].e : kcs[0].f;
    *len = 0;
    if (!col_valid(col, i)) return false;
    *key = ms_column_get_bytes(col, i, len);
    return true;
  }
  if (!tuple_bytes(kcs, n, entity, i, buf, cap, len)) return false;
  *key = *buf;
  return true;
}

/* Large arrays ask for huge pages before their first touch: on virtual machines 4 KiB
 * page faults cost more than the work done on the memory. */
static void *big_alloc(int64_t bytes) {
  void *p = ms_malloc((size_t)(bytes > 0 ? bytes : 1));
  if (p) ms_mem_advise_huge(p, bytes);
  return p;
}

/* ---------------- block loading of canonical 64-bit values ---------------- */

#define BLOCK 1024

/* Canonical values of rows [lo, lo + n) of a KC_INT column on one side into v; ok[i] = 0
 * for a null or unmatchable value. The type switch is hoisted out of the row loop. */
static void load_canon(const key_col *kc, bool entity, int64_t lo, int64_t n, uint64_t *v,
                       uint8_t *ok) {
  const ms_column *c = entity ? kc->e : kc->f;
  const uint8_t *d = c->values->data;
  switch (c->type.id) {
    case MS_TYPE_INT64: case MS_TYPE_UINT64: case MS_TYPE_TIMESTAMP:
      memcpy(v, (const uint64_t *)d + lo, (size_t)n * 8);
      break;
    case MS_TYPE_INT32: case MS_TYPE_DATE32:
      for (int64_t i = 0; i < n; i++) v[i] = (uint64_t)(int64_t)((const int32_t *)d)[lo + i];
      break;
    case MS_TYPE_UINT32:
      for (int64_t i = 0; i < n; i++) v[i] = ((const uint32_t *)d)[lo + i];
      break;
    default:
      for (int64_t i = 0; i < n; i++) v[i] = load_u64(c, lo + i);
      break;
  }
  if (c->validity) {
    const uint8_t *bits = c->validity->data;
    for (int64_t i = 0; i < n; i++) ok[i] = ms_bit_get(bits, lo + i);
  } else {
    memset(ok, 1, (size_t)n);
  }
  if (!entity) return;
  if (kc->e_unsigned != kc->f_unsigned)
    for (int64_t i = 0; i < n; i++) ok[i] &= (uint8_t)!(v[i] >> 63);
  if (kc->e_mul != 1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t r;
      if (__builtin_mul_overflow((int64_t)v[i], kc->e_mul, &r)) ok[i] = 0;
      else v[i] = (uint64_t)r;
    }
  } else if (kc->e_div != 1) {
    for (int64_t i = 0; i < n; i++) {
      int64_t s = (int64_t)v[i];
      if (s % kc->e_div != 0) ok[i] = 0;
      else v[i] = (uint64_t)(s / kc->e_div);
    }
  }
}

/* ---------------- per-bucket hash tables ---------------- */

/* Open addressing, linear probing; id1 = bucket-local id + 1 (0 = empty). On the 64-bit
 * path v is the canonical value; on the tuple path v is the tuple's hash and the bytes live
 * in the bucket's arena. */
typedef struct slot64 {
  uint64_t v;
  int64_t id1;
} slot64;

/* Passes (each parallel on the pool):
 *  1. hash: per chunk of rows, each row's hash into key[] (NOKEY = null or unmatchable) and
 *     a count per (chunk, bucket);
 *  2. scatter: per chunk, each row's item (the canonical value on the 64-bit path, the row
 *     number on the tuple path) into its bucket's range, rows in order;
 *  3. build: per bucket, the table over its feature items (in cache), numbering keys in
 *     first-appearance order, then the probe of its entity items; the local id (or
 *     NO_LOCAL) replaces each item in place;
 *  4. gather: per chunk, rows in order, replaying the scatter cursors: key[i] = the bucket's
 *     first id + the local id. Every pass reads and writes sequential streams; the only
 *     random access is into a bucket's small table. */
#define NOKEY UINT64_MAX
#define NO_LOCAL UINT64_MAX
#define ROWS_PER_CHUNK 262144
#define FEATURE_ROWS_PER_BUCKET 16384
#define MAX_BUCKET_BITS 12
#define SERIAL_ROWS 4096

typedef struct enc_ctx {
  const key_col *kcs;
  int n_cols;
  bool fast; /* one KC_INT column */
  int64_t nf, ne;
  int32_t n_partitions;
  int bucket_bits; /* B = 1 << bucket_bits buckets, chosen by the hash's top bits */
  int n_chunks;
  int64_t f_chunk, e_chunk;
  int64_t *f_hist, *e_hist;   /* [n_chunks * B] counts, then scatter cursors */
  int64_t *f_cur, *e_cur;     /* copies of the cursors for the gather pass */
  uint64_t *f_items, *e_items; /* grouped by bucket */
  int64_t *f_start, *e_start; /* [B + 1] bucket ranges in the item arrays */
  int64_t *bucket_keys;       /* [B] keys per bucket, then (prefix) the bucket's first id */
  int32_t **bucket_part;      /* [B] partition of each bucket-local key */
  ms_pit_keys *out;
} enc_ctx;

static inline uint64_t hash64(uint64_t v) {
  uint64_t h = mix64(v);
  return h == NOKEY ? NOKEY - 1 : h;
}

static void chunk_range(const enc_ctx *c, int64_t task, bool *entity, int64_t *lo, int64_t *hi) {
  *entity = task >= c->n_chunks;
  int64_t ch = *entity ? task - c->n_chunks : task;
  int64_t n = *entity ? c->ne : c->nf, step = *entity ? c->e_chunk : c->f_chunk;
  *lo = ch * step < n ? ch * step : n;
  *hi = *lo + step < n ? *lo + step : n;
}

static ms_status hash_task(void *vctx, int64_t task, int worker, ms_error *err) {
  enc_ctx *c = vctx;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  int64_t ch = entity ? task - c->n_chunks : task;
  uint64_t *hash = (uint64_t *)(entity ? c->out->entity_key : c->out->feature_key);
  int64_t *hist = (entity ? c->e_hist : c->f_hist) + (ch << c->bucket_bits);
  const int shift = 64 - c->bucket_bits;
  if (c->fast) {
    uint64_t v[BLOCK];
    uint8_t ok[BLOCK];
    for (int64_t b = lo; b < hi; b += BLOCK) {
      int64_t n = hi - b < BLOCK ? hi - b : BLOCK;
      load_canon(&c->kcs[0], entity, b, n, v, ok);
      for (int64_t i = 0; i < n; i++) {
        uint64_t h = ok[i] ? hash64(v[i]) : NOKEY;
        hash[b + i] = h;
        if (h != NOKEY) hist[h >> shift]++;
      }
    }
    return MS_OK;
  }
  uint8_t *buf = NULL;
  int64_t cap = 0;
  for (int64_t i = lo; i < hi; i++) {
    int64_t len = 0;
    uint64_t h = NOKEY;
    const uint8_t *kb;
    if (row_key(c->kcs, c->n_cols, entity, i, &buf, &cap, &kb, &len)) {
      h = XXH3_64bits(kb, (size_t)len);
      if (h == NOKEY) h = NOKEY - 1;
    } else if (len < 0) {
      ms_free(buf);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
    }
    hash[i] = h;
    if (h != NOKEY) hist[h >> shift]++;
  }
  ms_free(buf);
  return MS_OK;
}

static ms_status scatter_task(void *vctx, int64_t task, int worker, ms_error *err) {
  enc_ctx *c = vctx;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  int64_t ch = entity ? task - c->n_chunks : task;
  const uint64_t *hash = (const uint64_t *)(entity ? c->out->entity_key : c->out->feature_key);
  int64_t *cur = (entity ? c->e_hist : c->f_hist) + (ch << c->bucket_bits);
  uint64_t *items = entity ? c->e_items : c->f_items;
  const int shift = 64 - c->bucket_bits;
  if (c->fast) {
    uint64_t v[BLOCK];
    uint8_t ok[BLOCK];
    for (int64_t b = lo; b < hi; b += BLOCK) {
      int64_t n = hi - b < BLOCK ? hi - b : BLOCK;
      load_canon(&c->kcs[0], entity, b, n, v, ok);
      for (int64_t i = 0; i < n; i++) {
        uint64_t h = hash[b + i];
        if (h != NOKEY) items[cur[h >> shift]++] = v[i];
      }
    }
    return MS_OK;
  }
  for (int64_t i = lo; i < hi; i++) {
    uint64_t h = hash[i];
    if (h != NOKEY) items[cur[h >> shift]++] = (uint64_t)i;
  }
  return MS_OK;
}

static bool table_grow(slot64 **tab, int64_t *cap, bool fast) {
  int64_t nc = *cap * 2;
  slot64 *nt = ms_calloc((size_t)nc, sizeof(slot64));
  if (!nt) return false;
  uint64_t mask = (uint64_t)nc - 1;
  for (int64_t s = 0; s < *cap; s++) {
    slot64 sl = (*tab)[s];
    if (!sl.id1) continue;
    uint64_t h = fast ? hash64(sl.v) : sl.v;
    uint64_t t = h & mask;
    while (nt[t].id1) t = (t + 1) & mask;
    nt[t] = sl;
  }
  ms_free(*tab);
  *tab = nt;
  *cap = nc;
  return true;
}

static ms_status build_task(void *vctx, int64_t task, int worker, ms_error *err) {
  enc_ctx *c = vctx;
  const uint64_t *fhash = (const uint64_t *)c->out->feature_key;
  const uint64_t *ehash = (const uint64_t *)c->out->entity_key;
  /* Start the table at the size a key per row would need, capped; it doubles at half. */
  int64_t rows = c->f_start[task + 1] - c->f_start[task];
  int64_t cap = 64;
  while (cap < 2 * rows && cap < 4096) cap <<= 1;
  slot64 *tab = ms_calloc((size_t)cap, sizeof(slot64));
  int32_t *part = NULL;
  int64_t part_cap = 0, nk = 0;
  uint8_t *buf = NULL, *arena = NULL;
  int64_t bcap = 0, arena_len = 0, arena_cap = 0;
  int64_t *key_off = NULL;
  ms_status st = tab ? MS_OK : MS_ERR_NOMEM;
  for (int64_t r = c->f_start[task]; r < c->f_start[task + 1] && st == MS_OK; r++) {
    uint64_t h, v;
    int64_t len = 0;
    const uint8_t *kb = NULL;
    if (c->fast) {
      v = c->f_items[r];
      h = hash64(v);
    } else {
      int64_t i = (int64_t)c->f_items[r];
      h = fhash[i];
      if (!row_key(c->kcs, c->n_cols, false, i, &buf, &bcap, &kb, &len)) { st = MS_ERR_NOMEM; break; }
      v = h;
    }
    uint64_t mask = (uint64_t)cap - 1;
    for (uint64_t s = h & mask;; s = (s + 1) & mask) {
      slot64 *sl = &tab[s];
      if (sl->id1 == 0) {
        if (nk >= part_cap) {
          part_cap = part_cap ? part_cap * 2 : 64;
          int32_t *np = ms_realloc(part, (size_t)part_cap * sizeof(int32_t));
          if (np) part = np;
          int64_t *no = NULL;
          if (!c->fast) {
            no = ms_realloc(key_off, (size_t)(part_cap + 1) * sizeof(int64_t));
            if (no) key_off = no;
          }
          if (!np || (!c->fast && !no)) { st = MS_ERR_NOMEM; break; }
        }
        part[nk] = (int32_t)(h % (uint64_t)c->n_partitions);
        if (!c->fast) {
          if (arena_len + len > arena_cap) {
            int64_t ac = arena_cap ? arena_cap * 2 : 4096;
            while (ac < arena_len + len) ac *= 2;
            uint8_t *na = ms_realloc(arena, (size_t)ac);
            if (!na) { st = MS_ERR_NOMEM; break; }
            arena = na;
            arena_cap = ac;
          }
          if (nk == 0) key_off[0] = 0;
          if (len) memcpy(arena + arena_len, kb, (size_t)len);
          arena_len += len;
          key_off[nk + 1] = arena_len;
        }
        sl->v = v;
        sl->id1 = nk + 1;
        c->f_items[r] = (uint64_t)nk;
        nk++;
        if (nk * 2 > cap && !table_grow(&tab, &cap, c->fast)) st = MS_ERR_NOMEM;
        break;
      }
      if (sl->v != v) continue;
      int64_t k = sl->id1 - 1;
      if (!c->fast && (key_off[k + 1] - key_off[k] != len ||
                       (len && memcmp(arena + key_off[k], kb, (size_t)len) != 0)))
        continue;
      c->f_items[r] = (uint64_t)k;
      break;
    }
  }
  uint64_t mask = (uint64_t)cap - 1;
  for (int64_t r = c->e_start[task]; r < c->e_start[task + 1] && st == MS_OK; r++) {
    uint64_t h, v;
    int64_t len = 0;
    const uint8_t *kb = NULL;
    if (c->fast) {
      v = c->e_items[r];
      h = hash64(v);
    } else {
      int64_t i = (int64_t)c->e_items[r];
      h = ehash[i];
      if (!row_key(c->kcs, c->n_cols, true, i, &buf, &bcap, &kb, &len)) { st = MS_ERR_NOMEM; break; }
      v = h;
    }
    uint64_t found = NO_LOCAL;
    for (uint64_t s = h & mask; tab[s].id1; s = (s + 1) & mask) {
      const slot64 *sl = &tab[s];
      if (sl->v != v) continue;
      int64_t k = sl->id1 - 1;
      if (!c->fast && (key_off[k + 1] - key_off[k] != len ||
                       (len && memcmp(arena + key_off[k], kb, (size_t)len) != 0)))
        continue;
      found = (uint64_t)k;
      break;
    }
    c->e_items[r] = found;
  }
  ms_free(buf);
  ms_free(tab);
  ms_free(arena);
  ms_free(key_off);
  c->bucket_keys[task] = nk;
  c->bucket_part[task] = part;
  if (st != MS_OK) return ms_error_set(err, st, "out of memory encoding join keys");
  return MS_OK;
}

static ms_status gather_task(void *vctx, int64_t task, int worker, ms_error *err) {
  enc_ctx *c = vctx;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  int64_t ch = entity ? task - c->n_chunks : task;
  int64_t *key = entity ? c->out->entity_key : c->out->feature_key;
  int64_t *cur = (entity ? c->e_cur : c->f_cur) + (ch << c->bucket_bits);
  const uint64_t *items = entity ? c->e_items : c->f_items;
  const int shift = 64 - c->bucket_bits;
  for (int64_t i = lo; i < hi; i++) {
    uint64_t h = (uint64_t)key[i];
    if (h == NOKEY) { key[i] = -1; continue; }
    int64_t b = (int64_t)(h >> shift);
    uint64_t local = items[cur[b]++];
    key[i] = local == NO_LOCAL ? -1 : c->bucket_keys[b] + (int64_t)local;
  }
  return MS_OK;
}

/* ---------------- the dense path ---------------- */

/* One integer key column whose feature-side values span a small range (ids 0..K-1, dates,
 * small surrogate keys: the common case) needs no hashing and no scatter: a presence array
 * over [min, max] becomes the id array (ids in value order, so deterministic), and one
 * sequential pass per side looks every row up in it. The array stays in cache for ranges of
 * a few million. Partitions are hash64(value) % n_partitions, the same as the hashed path. */
#define DENSE_MAX_RANGE ((uint64_t)1 << 26)
#define DENSE_CHUNK 65536
#define SIGN_BIT ((uint64_t)1 << 63)

typedef struct dense_ctx {
  enc_ctx *c;
  uint64_t flip; /* ord = v ^ flip orders values as unsigned */
  uint64_t *cmin, *cmax; /* [n_chunks] per-chunk ord range (cmin > cmax: no value) */
  uint64_t dmin;
  int64_t range; /* max - min + 1 */
  int32_t *ids;  /* [range] presence, then key id or -1 */
  int64_t n_rchunks;
  int64_t *rcount; /* [n_rchunks] keys per range chunk, then first id */
} dense_ctx;

static ms_status dense_minmax_task(void *vctx, int64_t task, int worker, ms_error *err) {
  dense_ctx *d = vctx;
  enc_ctx *c = d->c;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  uint64_t mn = UINT64_MAX, mx = 0, v[BLOCK];
  uint8_t ok[BLOCK];
  bool any = false;
  for (int64_t b = lo; b < hi; b += BLOCK) {
    int64_t n = hi - b < BLOCK ? hi - b : BLOCK;
    load_canon(&c->kcs[0], false, b, n, v, ok);
    for (int64_t i = 0; i < n; i++) {
      if (!ok[i]) continue;
      uint64_t o = v[i] ^ d->flip;
      if (o < mn) mn = o;
      if (o > mx) mx = o;
      any = true;
    }
  }
  d->cmin[task] = any ? mn : UINT64_MAX;
  d->cmax[task] = any ? mx : 0;
  return MS_OK;
}

static ms_status dense_mark_task(void *vctx, int64_t task, int worker, ms_error *err) {
  dense_ctx *d = vctx;
  enc_ctx *c = d->c;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  uint64_t v[BLOCK];
  uint8_t ok[BLOCK];
  for (int64_t b = lo; b < hi; b += BLOCK) {
    int64_t n = hi - b < BLOCK ? hi - b : BLOCK;
    load_canon(&c->kcs[0], false, b, n, v, ok);
    for (int64_t i = 0; i < n; i++)
      if (ok[i]) {
        int32_t *slot = &d->ids[(v[i] ^ d->flip) - d->dmin];
        /* Racing stores of the same value: relaxed atomics keep that well defined. */
        if (!__atomic_load_n(slot, __ATOMIC_RELAXED)) __atomic_store_n(slot, 1, __ATOMIC_RELAXED);
      }
  }
  return MS_OK;
}

static ms_status dense_count_task(void *vctx, int64_t task, int worker, ms_error *err) {
  dense_ctx *d = vctx;
  int64_t lo = task * DENSE_CHUNK, hi = lo + DENSE_CHUNK < d->range ? lo + DENSE_CHUNK : d->range;
  int64_t n = 0;
  for (int64_t x = lo; x < hi; x++) n += d->ids[x] != 0;
  d->rcount[task] = n;
  return MS_OK;
}

static ms_status dense_assign_task(void *vctx, int64_t task, int worker, ms_error *err) {
  dense_ctx *d = vctx;
  enc_ctx *c = d->c;
  int64_t lo = task * DENSE_CHUNK, hi = lo + DENSE_CHUNK < d->range ? lo + DENSE_CHUNK : d->range;
  int64_t k = d->rcount[task];
  int32_t *part = c->out->key_partition;
  for (int64_t x = lo; x < hi; x++) {
    if (!d->ids[x]) {
      d->ids[x] = -1;
      continue;
    }
    uint64_t v = ((uint64_t)x + d->dmin) ^ d->flip;
    part[k] = (int32_t)(hash64(v) % (uint64_t)c->n_partitions);
    d->ids[x] = (int32_t)k++;
  }
  return MS_OK;
}

static ms_status dense_lookup_task(void *vctx, int64_t task, int worker, ms_error *err) {
  dense_ctx *d = vctx;
  enc_ctx *c = d->c;
  bool entity;
  int64_t lo, hi;
  chunk_range(c, task, &entity, &lo, &hi);
  int64_t *key = entity ? c->out->entity_key : c->out->feature_key;
  const uint64_t range = (uint64_t)d->range;
  uint64_t v[BLOCK];
  uint8_t ok[BLOCK];
  for (int64_t b = lo; b < hi; b += BLOCK) {
    int64_t n = hi - b < BLOCK ? hi - b : BLOCK;
    load_canon(&c->kcs[0], entity, b, n, v, ok);
    for (int64_t i = 0; i < n; i++) {
      uint64_t x = (v[i] ^ d->flip) - d->dmin;
      key[b + i] = ok[i] && x < range ? d->ids[x] : -1;
    }
  }
  return MS_OK;
}

/* Tries the dense path; *done tells whether it applied (st is then final). */
static ms_status dense_encode(enc_ctx *c, ms_pool *pool, bool *done, ms_error *err) {
  *done = false;
  dense_ctx d;
  memset(&d, 0, sizeof d);
  d.c = c;
  d.flip = c->kcs[0].f_unsigned ? 0 : SIGN_BIT;
  if (c->nf == 0) return MS_OK;
  d.cmin = ms_malloc((size_t)c->n_chunks * sizeof(uint64_t));
  d.cmax = ms_malloc((size_t)c->n_chunks * sizeof(uint64_t));
  ms_status st = MS_OK;
  if (!d.cmin || !d.cmax) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  if (st == MS_OK) st = ms_pool_run(pool, c->n_chunks, dense_minmax_task, &d, err);
  uint64_t mn = UINT64_MAX, mx = 0;
  for (int i = 0; st == MS_OK && i < c->n_chunks; i++) {
    if (d.cmin[i] < mn) mn = d.cmin[i];
    if (d.cmax[i] > mx) mx = d.cmax[i];
  }
  ms_free(d.cmin);
  ms_free(d.cmax);
  if (st != MS_OK) return st;
  if (mn > mx) mn = mx = 0; /* every feature key is null: an empty range of one value */
  uint64_t span = mx - mn;
  if (span >= DENSE_MAX_RANGE || span > 2 * (uint64_t)c->nf + 65536) return MS_OK;
  *done = true;
  d.dmin = mn;
  d.range = (int64_t)span + 1;
  d.n_rchunks = (d.range + DENSE_CHUNK - 1) / DENSE_CHUNK;
  d.ids = big_alloc(d.range * (int64_t)sizeof(int32_t));
  d.rcount = ms_malloc((size_t)d.n_rchunks * sizeof(int64_t));
  c->out->feature_key = big_alloc(c->nf * (int64_t)sizeof(int64_t));
  c->out->entity_key = big_alloc(c->ne * (int64_t)sizeof(int64_t));
  if (!d.ids || !d.rcount || !c->out->feature_key || !c->out->entity_key)
    st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  if (st == MS_OK) {
    memset(d.ids, 0, (size_t)d.range * sizeof(int32_t));
    st = ms_pool_run(pool, c->n_chunks, dense_mark_task, &d, err);
  }
  if (st == MS_OK) st = ms_pool_run(pool, d.n_rchunks, dense_count_task, &d, err);
  if (st == MS_OK) {
    int64_t k = 0;
    for (int64_t r = 0; r < d.n_rchunks; r++) {
      int64_t n = d.rcount[r];
      d.rcount[r] = k;
      k += n;
    }
    c->out->n_keys = k;
    c->out->key_partition = ms_malloc((size_t)(k ? k : 1) * sizeof(int32_t));
    if (!c->out->key_partition) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  }
  if (st == MS_OK) st = ms_pool_run(pool, d.n_rchunks, dense_assign_task, &d, err);
  if (st == MS_OK) st = ms_pool_run(pool, 2 * (int64_t)c->n_chunks, dense_lookup_task, &d, err);
  ms_free(d.ids);
  ms_free(d.rcount);
  return st;
}

void ms_pit_keys_reset(ms_pit_keys *keys) {
  if (!keys) return;
  ms_free(keys->feature_key);
  ms_free(keys->entity_key);
  ms_free(keys->key_partition);
  memset(keys, 0, sizeof *keys);
}

ms_status ms_pit_keys_init_keyless(int64_t n_feature_rows, int64_t n_entity_rows,
                                   int32_t n_partitions, ms_pit_keys *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  if (n_partitions < 1) return ms_error_set(err, MS_ERR_INVALID, "n_partitions must be >= 1");
  if (n_feature_rows < 0 || n_entity_rows < 0)
    return ms_error_set(err, MS_ERR_INVALID, "negative row count");
  out->n_feature_rows = n_feature_rows;
  out->n_entity_rows = n_entity_rows;
  out->n_partitions = n_partitions;
  out->n_keys = n_feature_rows > 0 ? 1 : 0;
  out->feature_key = big_alloc(n_feature_rows * (int64_t)sizeof(int64_t));
  out->entity_key = big_alloc(n_entity_rows * (int64_t)sizeof(int64_t));
  out->key_partition = ms_calloc(1, sizeof(int32_t));
  if (!out->feature_key || !out->entity_key || !out->key_partition) {
    ms_pit_keys_reset(out);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  }
  memset(out->feature_key, 0, (size_t)n_feature_rows * sizeof(int64_t));
  int64_t e = n_feature_rows > 0 ? 0 : -1;
  for (int64_t i = 0; i < n_entity_rows; i++) out->entity_key[i] = e;
  return MS_OK;
}

ms_status ms_pit_keys_encode(ms_column *const *feature_keys, ms_column *const *entity_keys,
                             int n_key_columns, int32_t n_partitions, ms_pool *pool,
                             ms_pit_keys *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  if (n_partitions < 1) return ms_error_set(err, MS_ERR_INVALID, "n_partitions must be >= 1");
  if (n_key_columns == 0)
    return ms_error_set(err, MS_ERR_INVALID,
                        "no join key columns: an entity-less view uses ms_pit_keys_init_keyless");
  if (n_key_columns < 0 || !feature_keys || !entity_keys)
    return ms_error_set(err, MS_ERR_INVALID, "invalid join key columns");
  int64_t nf = ms_column_length(feature_keys[0]), ne = ms_column_length(entity_keys[0]);
  key_col *kcs = ms_calloc((size_t)n_key_columns, sizeof(key_col));
  if (!kcs) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = MS_OK;
  for (int i = 0; i < n_key_columns && st == MS_OK; i++) {
    if (ms_column_length(feature_keys[i]) != nf || ms_column_length(entity_keys[i]) != ne)
      st = ms_error_set(err, MS_ERR_INVALID, "join key column %d: lengths differ between columns", i);
    else
      st = classify(feature_keys[i], entity_keys[i], i, &kcs[i], err);
  }
  if (nf + ne < SERIAL_ROWS) pool = NULL; /* waking threads costs more than the work */
  enc_ctx c;
  memset(&c, 0, sizeof c);
  c.kcs = kcs;
  c.n_cols = n_key_columns;
  c.fast = n_key_columns == 1 && kcs[0].cls == KC_INT;
  c.nf = nf;
  c.ne = ne;
  c.n_partitions = n_partitions;
  c.out = out;
  c.bucket_bits = 1;
  while (c.bucket_bits < MAX_BUCKET_BITS &&
         ((int64_t)1 << c.bucket_bits) * FEATURE_ROWS_PER_BUCKET < nf)
    c.bucket_bits++;
  int64_t nb = (int64_t)1 << c.bucket_bits;
  int64_t big = nf > ne ? nf : ne;
  c.n_chunks = (int)((big + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK);
  if (c.n_chunks < 1) c.n_chunks = 1;
  if (c.n_chunks > 64) c.n_chunks = 64;
  c.f_chunk = (nf + c.n_chunks - 1) / c.n_chunks;
  c.e_chunk = (ne + c.n_chunks - 1) / c.n_chunks;
  if (c.f_chunk < 1) c.f_chunk = 1;
  if (c.e_chunk < 1) c.e_chunk = 1;
  out->n_feature_rows = nf;
  out->n_entity_rows = ne;
  out->n_partitions = n_partitions;
  size_t hist_n = (size_t)c.n_chunks * (size_t)nb;
  if (st == MS_OK && c.fast) {
    bool done = false;
    st = dense_encode(&c, pool, &done, err);
    if (done || st != MS_OK) {
      ms_free(kcs);
      if (st != MS_OK) ms_pit_keys_reset(out);
      return st;
    }
  }
  if (st == MS_OK) {
    out->feature_key = big_alloc(nf * (int64_t)sizeof(int64_t));
    out->entity_key = big_alloc(ne * (int64_t)sizeof(int64_t));
    c.f_hist = ms_calloc(hist_n, sizeof(int64_t));
    c.e_hist = ms_calloc(hist_n, sizeof(int64_t));
    c.f_cur = ms_malloc(hist_n * sizeof(int64_t));
    c.e_cur = ms_malloc(hist_n * sizeof(int64_t));
    c.f_start = ms_calloc((size_t)nb + 1, sizeof(int64_t));
    c.e_start = ms_calloc((size_t)nb + 1, sizeof(int64_t));
    c.bucket_keys = ms_calloc((size_t)nb, sizeof(int64_t));
    c.bucket_part = ms_calloc((size_t)nb, sizeof(int32_t *));
    if (!out->feature_key || !out->entity_key || !c.f_hist || !c.e_hist || !c.f_cur ||
        !c.e_cur || !c.f_start || !c.e_start || !c.bucket_keys || !c.bucket_part)
      st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  }
  if (st == MS_OK) {
    st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, hash_task, &c, err);
  }
  if (st == MS_OK) {
    /* Bucket-major prefix sums: bucket b's rows, chunk by chunk, each chunk in row order. */
    int64_t fsum = 0, esum = 0;
    for (int64_t b = 0; b < nb; b++) {
      c.f_start[b] = fsum;
      c.e_start[b] = esum;
      for (int ch = 0; ch < c.n_chunks; ch++) {
        int64_t at = ((int64_t)ch << c.bucket_bits) + b;
        int64_t x = c.f_hist[at];
        c.f_hist[at] = fsum;
        fsum += x;
        x = c.e_hist[at];
        c.e_hist[at] = esum;
        esum += x;
      }
    }
    c.f_start[nb] = fsum;
    c.e_start[nb] = esum;
    memcpy(c.f_cur, c.f_hist, hist_n * sizeof(int64_t));
    memcpy(c.e_cur, c.e_hist, hist_n * sizeof(int64_t));
    c.f_items = big_alloc(fsum * (int64_t)sizeof(uint64_t));
    c.e_items = big_alloc(esum * (int64_t)sizeof(uint64_t));
    if (!c.f_items || !c.e_items) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
  }
  if (st == MS_OK) st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, scatter_task, &c, err);
  ms_free(c.f_hist);
  ms_free(c.e_hist);
  if (st == MS_OK) st = ms_pool_run(pool, nb, build_task, &c, err);
  if (st == MS_OK) {
    int64_t k = 0;
    for (int64_t b = 0; b < nb; b++) {
      int64_t n = c.bucket_keys[b];
      c.bucket_keys[b] = k;
      k += n;
    }
    out->n_keys = k;
    out->key_partition = ms_malloc((size_t)(k ? k : 1) * sizeof(int32_t));
    if (!out->key_partition) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding join keys");
    for (int64_t b = 0; b < nb && st == MS_OK; b++) {
      int64_t n = (b + 1 < nb ? c.bucket_keys[b + 1] : k) - c.bucket_keys[b];
      if (n) memcpy(out->key_partition + c.bucket_keys[b], c.bucket_part[b], (size_t)n * sizeof(int32_t));
    }
  }
  if (st == MS_OK) st = ms_pool_run(pool, 2 * (int64_t)c.n_chunks, gather_task, &c, err);
  ms_free(c.f_items);
  ms_free(c.e_items);
  ms_free(c.f_cur);
  ms_free(c.e_cur);
  if (c.bucket_part)
    for (int64_t b = 0; b < nb; b++) ms_free(c.bucket_part[b]);
  ms_free(c.bucket_part);
  ms_free(c.bucket_keys);
  ms_free(c.f_start);
  ms_free(c.e_start);
  ms_free(kcs);
  if (st != MS_OK) ms_pit_keys_reset(out);
  return st;
}
