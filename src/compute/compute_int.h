/* Internals of the compute engine (include/morsel/compute.h): the ordered event store, the
 * value encoder it uses for join keys and distinct counts, and the per-(entity, T)
 * aggregation kernel. The store and the kernel work on plain columns and masks, so they are
 * tested against the brute-force reference (tests/compute/test_agg_oracle.c) without a
 * repository; compute.c binds them to a view: reading the source, expressions, output.
 *
 * Rows of the store are the input rows with a non-null key and timestamp, ordered by
 * (key, timestamp, input position). "Row order" in this module always means that order. */
#ifndef MS_COMPUTE_COMPUTE_INT_H
#define MS_COMPUTE_COMPUTE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/compute.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

/* ---- cmp_encode.c: dense, order-preserving ids of value tuples ----
 *
 * The distinct non-null tuples of one or more columns get ids 0..n_ids-1 in ascending
 * tuple order (integers of any width by value, floats by value with -0.0 = 0.0, strings
 * and binary by unsigned bytes, shorter first on a common prefix). A tuple with a null
 * component (or a NaN) has no id (-1). Query tuples from other columns of the same families
 * are looked up by value. */
typedef struct cmp_enc cmp_enc;

/* Encodes n = ms_column_length rows of cols (all of the same length); out_ids[n] gets each
 * row's id or -1. what names the columns for errors ("join key", "input of 'x'"). */
ms_status cmp_enc_build(ms_column *const *cols, int n_cols, const char *what, cmp_enc **out,
                        int64_t *out_ids, ms_error *err);
void cmp_enc_free(cmp_enc *e);
int64_t cmp_enc_num_ids(const cmp_enc *e);
/* A row of the encoded columns holding the tuple of id (the first such row). */
int64_t cmp_enc_rep_row(const cmp_enc *e, int64_t id);
/* Checks that query columns can be compared with the encoded ones (same families). */
ms_status cmp_enc_check_query(const cmp_enc *e, ms_column *const *qcols, const char *const *names,
                              ms_error *err);
/* The id of row `row` of qcols, or -1 (null component, or a tuple not in the encoder). */
int64_t cmp_enc_lookup(const cmp_enc *e, ms_column *const *qcols, int64_t row);

/* ---- cmp_store.c: the ordered event rows and the pre-evaluated aggregation inputs ---- */
typedef enum cmp_fn {
  CMP_COUNT = 0,
  CMP_COUNT_DISTINCT,
  CMP_SUM,
  CMP_MEAN,
  CMP_MIN,
  CMP_MAX,
  CMP_FIRST,
  CMP_LAST,
  CMP_STDDEV,
  CMP_VAR,
  CMP_MEAN_GAP
} cmp_fn;

/* The function of a name ("count", ...); false when unknown. */
bool cmp_fn_parse(const char *name, cmp_fn *out);
const char *cmp_fn_name(cmp_fn fn);

/* One aggregation as the store receives it: columns over the input rows (input order). */
typedef struct cmp_agg_input {
  const char *name;
  cmp_fn fn;
  int64_t window_ns;      /* -1 = unbounded */
  bool forward;
  int64_t unit_ns;        /* mean_gap */
  ms_column *input;       /* NULL: count rows */
  const uint8_t *filter;  /* [n] 1 = the row counts; NULL = every row */
  ms_column *by;          /* mean_gap points; NULL = one point per row */
  const char *input_key;  /* unused (values are shared by column: pass the same column) */
} cmp_agg_input;

typedef struct cmp_input {
  int64_t n;                    /* input rows */
  int n_keys;
  ms_column *const *keys;       /* join key columns [n_keys] */
  const char *const *key_names;
  const int64_t *ts_ns;         /* [n] UTC ns */
  const uint8_t *ts_ok;         /* [n] 0 = null timestamp; NULL = none null */
  const uint8_t *pop_filter;    /* [n] population filter; NULL = every row */
  int64_t pop_window_ns;        /* -1 = unbounded */
  int n_aggs;
  const cmp_agg_input *aggs;
  /* NULL, or a store built over the same rows (same n, key columns and timestamps): its
   * key encoding and row order are borrowed instead of computed (it must outlive this one) */
  const struct cmp_store *order_from;
} cmp_input;

typedef enum cmp_vkind { CMP_V_NONE = 0, CMP_V_I64, CMP_V_F64, CMP_V_ID } cmp_vkind;

/* Values of an input in row order, shared by the aggregations reading the same input. */
typedef struct cmp_values {
  cmp_vkind kind;    /* how min/max compare: I64 (integers, bool, date, timestamp as ns),
                        F64, ID (ids ordered like the values: strings, binary) */
  int64_t *vi;       /* [n] I64: the value; ID: the id */
  double *vf;        /* [n] F64 */
  uint8_t *valid;    /* [n] 1 = not null (and not NaN) */
  int32_t *id;       /* [n] dense distinct ids (count_distinct, mean_gap by), or NULL */
  int64_t n_ids;
  bool is_int;       /* integer (or bool) input: sum is int64 */
  bool is_time;      /* timestamp/date input: vi are UTC ns */
  ms_column *col;    /* the input column (input order), for min/max/first/last results */
} cmp_values;

typedef struct cmp_agg {
  char *name;
  cmp_fn fn;
  int64_t window_ns;
  bool forward;
  int64_t unit_ns;
  cmp_values *val;   /* NULL: count rows */
  cmp_values *by;    /* mean_gap by */
  uint8_t *ok;       /* [n] the row passes the filter and its input (and by) is not null */
  ms_datatype type;  /* result type */
} cmp_agg;

typedef struct cmp_store {
  int64_t n_input;   /* input rows */
  int64_t n;         /* rows kept (non-null key and timestamp) */
  int64_t *ts;       /* [n] UTC ns */
  int64_t *pos;      /* [n] input row of each store row */
  int n_key_cols;
  ms_column **key_cols; /* the join key columns (input order) */
  char **key_names;
  cmp_enc *keys;
  int64_t n_keys;
  int64_t *key_off;  /* [n_keys + 1]: rows of key k are [key_off[k], key_off[k + 1]) */
  uint8_t *pop_ok;   /* [n] or NULL = every row */
  int64_t pop_window_ns;
  int n_aggs;
  cmp_agg *aggs;
  int n_vals;
  cmp_values **vals;
  int64_t min_ts, max_ts; /* over the kept rows (n > 0) */
  bool borrowed_order;    /* keys, key_off, ts, pos belong to in->order_from */
} cmp_store;

ms_status cmp_store_build(const cmp_input *in, ms_pool *pool, cmp_store **out, ms_error *err);
void cmp_store_free(cmp_store *s);

/* ---- cmp_kernel.c: aggregations for a batch of (key, T) items ----
 *
 * Results of a batch: one column per aggregation, in the types of cmp_agg.type. Items
 * with key < 0 or in_pop[i] == 0 get nulls (counts too). */
typedef struct cmp_batch {
  int64_t m;
  const int64_t *key;    /* [m] key ids (-1 = none) */
  const int64_t *t_ns;   /* [m] */
  const uint8_t *active; /* [m] or NULL: 0 = the item gets nulls */
} cmp_batch;

/* Population test at T for key k. */
bool cmp_in_population(const cmp_store *s, int64_t key, int64_t t_ns);
/* The keys in the population at T, ascending (ms_free). */
ms_status cmp_population(const cmp_store *s, int64_t t_ns, int64_t **out_keys, int64_t *out_n,
                         ms_error *err);
/* Computes every aggregation for the batch; out_cols[s->n_aggs] receive new columns. */
ms_status cmp_compute_batch(const cmp_store *s, const cmp_batch *b, ms_column **out_cols,
                            ms_error *err);

#endif
