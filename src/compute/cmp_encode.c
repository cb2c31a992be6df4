/* Dense, order-preserving ids of value tuples (see compute_int.h): join keys of the event
 * store and the distinct values of aggregation inputs (count_distinct, mean_gap's `by`,
 * min/max of strings).
 *
 * Rules: integers of any width and signedness compare by value (an unsigned value above
 * INT64_MAX is kept apart from every signed one), floats by value with -0.0 equal to 0.0
 * (NaN has no id, like null), strings and binary by unsigned bytes with a shorter prefix
 * first. A tuple with any null component has no id.
 *
 * Method: one pass over the rows with an open-addressing hash table of tuples (each slot
 * holds the id; the tuple is compared against the first row that had it), ids in order of
 * first appearance; then the distinct tuples are sorted and the ids renumbered, so id order
 * is value order. Cost: O(n) hashing plus O(d log d) for d distinct tuples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "columnar/column.h"
#include "compute/compute_int.h"
#include "morsel/alloc.h"

typedef enum enc_class { ENC_INT = 0, ENC_F64 = 1, ENC_BYTES = 2 } enc_class;

/* One column viewed for hashing and comparing. */
typedef struct enc_comp {
  const ms_column *col;
  enc_class cls;
  bool is_unsigned;
  int width;             /* bytes per value for fixed-width */
  const uint8_t *valid;  /* NULL = none null */
  const uint8_t *values; /* values buffer */
  const uint8_t *data;   /* var-length bytes */
  bool large;            /* int64 offsets */
  bool fixed_bytes;      /* fixed_binary / decimal128 */
} enc_comp;

struct cmp_enc {
  int n_cols;
  ms_column **cols;
  enc_comp *comp;
  int64_t n_ids;
  int64_t *rep;         /* [n_ids] */
  int64_t cap;          /* slots, power of two */
  int64_t *slot_id;     /* -1 = empty */
  uint64_t *slot_hash;
};

static bool comp_init(enc_comp *c, const ms_column *col) {
  memset(c, 0, sizeof *c);
  c->col = col;
  const ms_datatype *t = &col->type;
  c->valid = col->validity ? col->validity->data : NULL;
  c->values = col->values ? col->values->data : NULL;
  c->data = col->data ? col->data->data : NULL;
  switch (t->id) {
    case MS_TYPE_BOOL:
      c->cls = ENC_INT; c->width = 0; return true;
    case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_INT64:
    case MS_TYPE_DATE32: case MS_TYPE_TIMESTAMP:
      c->cls = ENC_INT; c->width = ms_type_bit_width(t) / 8; return true;
    case MS_TYPE_UINT8: case MS_TYPE_UINT16: case MS_TYPE_UINT32: case MS_TYPE_UINT64:
      c->cls = ENC_INT; c->is_unsigned = true; c->width = ms_type_bit_width(t) / 8; return true;
    case MS_TYPE_FLOAT32: case MS_TYPE_FLOAT64:
      c->cls = ENC_F64; c->width = ms_type_bit_width(t) / 8; return true;
    case MS_TYPE_UTF8: case MS_TYPE_BINARY:
      c->cls = ENC_BYTES; return true;
    case MS_TYPE_LARGE_UTF8: case MS_TYPE_LARGE_BINARY:
      c->cls = ENC_BYTES; c->large = true; return true;
    case MS_TYPE_FIXED_BINARY: case MS_TYPE_DECIMAL128:
      c->cls = ENC_BYTES; c->fixed_bytes = true;
      c->width = t->id == MS_TYPE_DECIMAL128 ? 16 : t->byte_width;
      return true;
    default:
      return false;
  }
}

static inline bool comp_valid(const enc_comp *c, int64_t i) {
  return c->valid == NULL || ms_bit_get(c->valid, i);
}

/* Integer value: v, and big = an unsigned value above INT64_MAX (then v is its bits). */
static inline int64_t comp_int(const enc_comp *c, int64_t i, bool *big) {
  *big = false;
  switch (c->width) {
    case 0: return ms_bit_get(c->values, i);
    case 1: return c->is_unsigned ? (int64_t)((const uint8_t *)c->values)[i] : (int64_t)((const int8_t *)c->values)[i];
    case 2: return c->is_unsigned ? (int64_t)((const uint16_t *)c->values)[i] : (int64_t)((const int16_t *)c->values)[i];
    case 4: return c->is_unsigned ? (int64_t)((const uint32_t *)c->values)[i] : (int64_t)((const int32_t *)c->values)[i];
    default: {
      int64_t v = ((const int64_t *)c->values)[i];
      if (c->is_unsigned && v < 0) *big = true;
      return v;
    }
  }
}

static inline double comp_f64(const enc_comp *c, int64_t i) {
  double v = c->width == 4 ? (double)((const float *)c->values)[i] : ((const double *)c->values)[i];
  return v == 0.0 ? 0.0 : v; /* -0.0 -> 0.0 */
}

static inline const uint8_t *comp_bytes(const enc_comp *c, int64_t i, int64_t *len) {
  if (c->fixed_bytes) {
    *len = c->width;
    return c->values + (size_t)i * (size_t)c->width;
  }
  if (c->large) {
    const int64_t *o = (const int64_t *)c->values;
    *len = o[i + 1] - o[i];
    return c->data + o[i];
  }
  const int32_t *o = (const int32_t *)c->values;
  *len = o[i + 1] - o[i];
  return c->data + o[i];
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= UINT64_C(0xff51afd7ed558ccd);
  x ^= x >> 33;
  x *= UINT64_C(0xc4ceb9fe1a85ec53);
  x ^= x >> 33;
  return x;
}

/* Is the component of row i present (not null, not NaN)? Then its hash in *h. */
static inline bool comp_hash(const enc_comp *c, int64_t i, uint64_t *h) {
  if (!comp_valid(c, i)) return false;
  switch (c->cls) {
    case ENC_INT: {
      bool big;
      int64_t v = comp_int(c, i, &big);
      *h = mix64((uint64_t)v ^ (big ? UINT64_C(0x9e3779b97f4a7c15) : 0));
      return true;
    }
    case ENC_F64: {
      double v = comp_f64(c, i);
      if (isnan(v)) return false;
      uint64_t bits;
      memcpy(&bits, &v, sizeof bits);
      *h = mix64(bits);
      return true;
    }
    default: {
      int64_t len;
      const uint8_t *p = comp_bytes(c, i, &len);
      *h = XXH3_64bits(p, (size_t)len);
      return true;
    }
  }
}

/* Three-way comparison of present components (a row i of ca, b row j of cb, same class). */
static inline int comp_cmp(const enc_comp *ca, int64_t i, const enc_comp *cb, int64_t j) {
  switch (ca->cls) {
    case ENC_INT: {
      bool ba, bb;
      int64_t a = comp_int(ca, i, &ba), b = comp_int(cb, j, &bb);
      if (ba != bb) return ba ? 1 : -1;
      if (ba) return (uint64_t)a < (uint64_t)b ? -1 : (uint64_t)a > (uint64_t)b;
      return a < b ? -1 : a > b;
    }
    case ENC_F64: {
      double a = comp_f64(ca, i), b = comp_f64(cb, j);
      return a < b ? -1 : a > b;
    }
    default: {
      int64_t la, lb;
      const uint8_t *a = comp_bytes(ca, i, &la);
      const uint8_t *b = comp_bytes(cb, j, &lb);
      int64_t m = la < lb ? la : lb;
      int r = m ? memcmp(a, b, (size_t)m) : 0;
      if (r) return r < 0 ? -1 : 1;
      return la < lb ? -1 : la > lb;
    }
  }
}

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory encoding values"); }

void cmp_enc_free(cmp_enc *e) {
  if (!e) return;
  for (int c = 0; c < e->n_cols; c++) ms_column_release(e->cols[c]);
  ms_free(e->cols);
  ms_free(e->comp);
  ms_free(e->rep);
  ms_free(e->slot_id);
  ms_free(e->slot_hash);
  ms_free(e);
}

int64_t cmp_enc_num_ids(const cmp_enc *e) { return e->n_ids; }
int64_t cmp_enc_rep_row(const cmp_enc *e, int64_t id) { return e->rep[id]; }

static bool grow(cmp_enc *e) {
  int64_t ncap = e->cap ? e->cap * 2 : 1024;
  int64_t *ids = ms_malloc((size_t)ncap * sizeof *ids);
  uint64_t *hs = ms_malloc((size_t)ncap * sizeof *hs);
  if (!ids || !hs) {
    ms_free(ids);
    ms_free(hs);
    return false;
  }
  for (int64_t s = 0; s < ncap; s++) ids[s] = -1;
  for (int64_t s = 0; s < e->cap; s++) {
    if (e->slot_id[s] < 0) continue;
    int64_t p = (int64_t)(e->slot_hash[s] & (uint64_t)(ncap - 1));
    while (ids[p] >= 0) p = (p + 1) & (ncap - 1);
    ids[p] = e->slot_id[s];
    hs[p] = e->slot_hash[s];
  }
  ms_free(e->slot_id);
  ms_free(e->slot_hash);
  e->slot_id = ids;
  e->slot_hash = hs;
  e->cap = ncap;
  return true;
}

/* The hash of a tuple (false when a component is absent). */
static inline bool tuple_hash(const enc_comp *comp, int n, int64_t row, uint64_t *out) {
  uint64_t h = 0;
  for (int c = 0; c < n; c++) {
    uint64_t hc;
    if (!comp_hash(&comp[c], row, &hc)) return false;
    h = mix64(h ^ (hc + UINT64_C(0x9e3779b97f4a7c15) + (h << 6)));
  }
  *out = h;
  return true;
}

static inline int tuple_cmp(const enc_comp *ca, int64_t i, const enc_comp *cb, int64_t j, int n) {
  for (int c = 0; c < n; c++) {
    int r = comp_cmp(&ca[c], i, &cb[c], j);
    if (r) return r;
  }
  return 0;
}

/* qsort context for sorting distinct tuples by their representative rows. */
static __thread const cmp_enc *g_sort_enc;
static int rep_cmp(const void *a, const void *b) {
  const cmp_enc *e = g_sort_enc;
  int64_t ia = *(const int64_t *)a, ib = *(const int64_t *)b;
  return tuple_cmp(e->comp, e->rep[ia], e->comp, e->rep[ib], e->n_cols);
}

ms_status cmp_enc_build(ms_column *const *cols, int n_cols, const char *what, cmp_enc **out,
                        int64_t *out_ids, ms_error *err) {
  *out = NULL;
  cmp_enc *e = ms_calloc(1, sizeof *e);
  if (!e) return oom(err);
  e->cols = ms_calloc((size_t)n_cols, sizeof *e->cols);
  e->comp = ms_calloc((size_t)n_cols, sizeof *e->comp);
  if (!e->cols || !e->comp) {
    cmp_enc_free(e);
    return oom(err);
  }
  int64_t n = n_cols ? ms_column_length(cols[0]) : 0;
  for (int c = 0; c < n_cols; c++) {
    e->cols[c] = ms_column_retain(cols[c]);
    e->n_cols = c + 1;
    if (!comp_init(&e->comp[c], cols[c])) {
      char tb[96];
      ms_status st = ms_error_set(err, MS_ERR_TYPE, "%s has type %s, which cannot be compared by value", what,
                                  ms_type_to_string(ms_column_type(cols[c]), tb, sizeof tb));
      cmp_enc_free(e);
      return st;
    }
  }
  int64_t rep_cap = 0;
  for (int64_t i = 0; i < n; i++) {
    uint64_t h;
    if (!tuple_hash(e->comp, n_cols, i, &h)) {
      out_ids[i] = -1;
      continue;
    }
    if ((e->n_ids + 1) * 2 > e->cap && !grow(e)) {
      cmp_enc_free(e);
      return oom(err);
    }
    int64_t p = (int64_t)(h & (uint64_t)(e->cap - 1));
    int64_t id = -1;
    while (e->slot_id[p] >= 0) {
      if (e->slot_hash[p] == h && tuple_cmp(e->comp, e->rep[e->slot_id[p]], e->comp, i, n_cols) == 0) {
        id = e->slot_id[p];
        break;
      }
      p = (p + 1) & (e->cap - 1);
    }
    if (id < 0) {
      if (e->n_ids == rep_cap) {
        int64_t nc = rep_cap ? rep_cap * 2 : 1024;
        int64_t *r = ms_realloc(e->rep, (size_t)nc * sizeof *r);
        if (!r) {
          cmp_enc_free(e);
          return oom(err);
        }
        e->rep = r;
        rep_cap = nc;
      }
      id = e->n_ids++;
      e->rep[id] = i;
      e->slot_id[p] = id;
      e->slot_hash[p] = h;
    }
    out_ids[i] = id;
  }
  /* Renumber in value order. */
  int64_t d = e->n_ids;
  int64_t *order = ms_malloc((size_t)(d ? d : 1) * sizeof *order);
  int64_t *rank = ms_malloc((size_t)(d ? d : 1) * sizeof *rank);
  int64_t *rep2 = ms_malloc((size_t)(d ? d : 1) * sizeof *rep2);
  if (!order || !rank || !rep2) {
    ms_free(order);
    ms_free(rank);
    ms_free(rep2);
    cmp_enc_free(e);
    return oom(err);
  }
  for (int64_t k = 0; k < d; k++) order[k] = k;
  /* ids are in first-appearance order, often already value order (sorted sources) */
  bool sorted = true;
  for (int64_t k = 1; k < d && sorted; k++)
    if (tuple_cmp(e->comp, e->rep[k - 1], e->comp, e->rep[k], n_cols) > 0) sorted = false;
  if (!sorted) {
    g_sort_enc = e;
    qsort(order, (size_t)d, sizeof *order, rep_cmp);
    g_sort_enc = NULL;
  }
  for (int64_t k = 0; k < d; k++) {
    rank[order[k]] = k;
    rep2[k] = e->rep[order[k]];
  }
  if (!sorted) {
    for (int64_t i = 0; i < n; i++)
      if (out_ids[i] >= 0) out_ids[i] = rank[out_ids[i]];
    for (int64_t s = 0; s < e->cap; s++)
      if (e->slot_id[s] >= 0) e->slot_id[s] = rank[e->slot_id[s]];
  }
  ms_free(e->rep);
  e->rep = rep2;
  ms_free(order);
  ms_free(rank);
  if (e->cap == 0 && !grow(e)) {
    cmp_enc_free(e);
    return oom(err);
  }
  *out = e;
  return MS_OK;
}

ms_status cmp_enc_check_query(const cmp_enc *e, ms_column *const *qcols, const char *const *names,
                              ms_error *err) {
  for (int c = 0; c < e->n_cols; c++) {
    enc_comp q;
    char ta[96], tb[96];
    if (!comp_init(&q, qcols[c]) || q.cls != e->comp[c].cls)
      return ms_error_set(err, MS_ERR_TYPE, "join key '%s': the entity column is %s but the view's key is %s",
                          names ? names[c] : "?", ms_type_to_string(ms_column_type(qcols[c]), ta, sizeof ta),
                          ms_type_to_string(ms_column_type(e->cols[c]), tb, sizeof tb));
  }
  return MS_OK;
}

int64_t cmp_enc_lookup(const cmp_enc *e, ms_column *const *qcols, int64_t row) {
  enc_comp q[8];
  enc_comp *qc = q;
  enc_comp *heap = NULL;
  if (e->n_cols > 8) {
    heap = ms_malloc((size_t)e->n_cols * sizeof *heap);
    if (!heap) return -1;
    qc = heap;
  }
  for (int c = 0; c < e->n_cols; c++) comp_init(&qc[c], qcols[c]);
  int64_t id = -1;
  uint64_t h;
  if (tuple_hash(qc, e->n_cols, row, &h)) {
    int64_t p = (int64_t)(h & (uint64_t)(e->cap - 1));
    while (e->slot_id[p] >= 0) {
      if (e->slot_hash[p] == h && tuple_cmp(e->comp, e->rep[e->slot_id[p]], qc, row, e->n_cols) == 0) {
        id = e->slot_id[p];
        break;
      }
      p = (p + 1) & (e->cap - 1);
    }
  }
  ms_free(heap);
  return id;
}
