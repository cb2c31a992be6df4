/* Internals of the offline store (include/morsel/offline.h): the retrieval job, its plan as
 * plain data, and the pieces shared between the planner (ofs_plan.c), the executor
 * (ofs_exec.c), pull (ofs_pull.c) and timestamp normalisation (ofs_time.c).
 *
 * A job holds one ofs_view per joined feature view (a view joined twice under two aliases
 * is two ofs_views). Everything a view's execution needs is resolved at plan time into
 * physical column names, logical output names, the pre-filter bounds and the ranges used
 * for pruning, so that execution is a loop over plain data (and the same data could be
 * shipped to another process later). */
#ifndef MS_OFFLINE_OFS_INTERNAL_H
#define MS_OFFLINE_OFS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/dataset.h"
#include "morsel/expr.h"
#include "morsel/offline.h"

#define OFS_NS_PER_DAY INT64_C(86400000000000)

/* How an aggregation view is served (ofs_agg.c). */
typedef enum ofs_agg_mode { OFS_AGG_NONE = 0, OFS_AGG_STORED = 1, OFS_AGG_AS_OF = 2 } ofs_agg_mode;

/* A source's cleaning as planned for one view (ofs_clean.c): derived columns and filter. */
typedef struct ofs_clean ofs_clean;

/* One view's part of a plan. */
typedef struct ofs_view {
  const ms_feature_view_def *def; /* NULL for a pull over a source alone */
  const ms_source_def *src;
  char *label;                    /* alias, or the view's name: the output prefix */
  int n_keys;
  char **key_name;                /* logical join key names */
  char **key_phys;                /* their source columns */
  char **entity_col;              /* entity columns they join on (after join_key_map) */
  char *ts_phys, *ts_name;        /* source timestamp column: physical / logical */
  char *created_phys, *created_name; /* NULL when the source has no created column */
  int n_feat;
  char **feat_name;               /* logical feature names (request order) */
  char **feat_phys;
  char **out_name;                /* output column names */
  uint8_t *feat_hidden;           /* [n_feat] 1 = an on-demand view's input only: joined,
                                     not output */
  /* aggregation views: how they are served; stored = the snapshot directory bound as the
   * view's source (synth_src, owned) */
  ofs_agg_mode agg;
  ms_source_def *synth_src;
  char *snap_dir;
  int n_snap_files;
  /* source cleaning (NULL = none): read_cols are then the cleaned table's columns and
   * phys_read the dataset columns read to compute them */
  ofs_clean *clean;
  int n_phys_read;
  char **phys_read;
  /* column types that are not the dataset's (cleaned columns, as-of features) */
  int n_typed;
  ms_field *typed;
  int64_t ttl_ns;                 /* 0 = no lower bound */
  ms_dataset *ds;
  /* columns read (unique physical names) and where each role sits among them */
  int n_read;
  char **read_cols;
  int *key_at, ts_at, created_at, *feat_at;
  /* exact row pre-filter on the source timestamp, and the pruning ranges built from it */
  bool has_lo, has_hi;
  int64_t lo_ns, hi_ns;
  bool nothing;                   /* no entity row can match: nothing is read */
  int n_ranges;
  ms_range ranges[2];
  char date_lo[16], date_hi[16];  /* YYYY-MM-DD bounds of a string date partition column */
  bool date_pruned;               /* a date_partition_column range is in ranges */
  /* planned execution */
  int64_t files_total, row_groups_total, rows_total; /* from metadata */
  int64_t row_groups_est_kept;    /* -1 = unknown before running */
  int32_t n_partitions;
  const char *strategy;
  int32_t n_windows;              /* time windows the join ran in (0/1 = whole) */
  /* actuals (explain analyze) */
  ms_dataset_read_stats rs;
  int64_t rows_read, rows_kept, rows_matched;
  double ms_read, ms_join, ms_gather;
  char *stage_read, *stage_join; /* "read <label>", "join <label>" (progress stages) */
} ofs_view;

static inline bool ofs_hidden(const ofs_view *v, int f) { return v->feat_hidden && v->feat_hidden[f]; }

typedef enum ofs_kind { OFS_HISTORICAL = 0, OFS_PULL = 1 } ofs_kind;

/* Where an on-demand output's compile input comes from: feature `feat` of job view `view`,
 * or (view < 0) entity column `entity_col`. */
typedef struct ofs_odfv_in {
  int view, feat;
  char *entity_col;
} ofs_odfv_in;

/* One requested on-demand feature view (under its name or a service alias). */
typedef struct ofs_odfv {
  const ms_odfv_def *def;
  char *label;
  int n_out;
  int *out_idx;          /* [n_out] index of each requested output in def->schema */
  char **out_name;       /* [n_out] output column names */
  ms_expr **expr;        /* [n_out] compiled against the joined columns' types */
  ms_datatype *out_type; /* [n_out] the declared dtype */
  int *n_in;             /* [n_out] */
  ofs_odfv_in **in;      /* [n_out][n_in] */
  double ms_eval;
} ofs_odfv;

/* A source read and pre-filtered: the decoded rows of the kept files and row groups in
 * source order, which of them pass the pre-filter (row_ok), their timestamps as UTC ns and
 * their join keys; the feature values either in t
 * (every read column, when all of it was read at once) or left in the units (Parquet row
 * groups) to be read for the join's winners only. */
typedef struct ofs_src_data {
  ms_table *t;           /* every read column (ofs_view.read_cols order), or NULL */
  ms_table *keys;        /* the key columns in key order (NULL when no row or no key) */
  int64_t n;
  int64_t *ts_ns;        /* [n] */
  int64_t *created_ns;   /* [n] or NULL */
  uint8_t *created_valid; /* [n] 1 = not null, or NULL = all valid */
  uint8_t *row_ok;       /* [n] 1 = the row passes the pre-filter; NULL = all do */
  void *units;           /* ofs_exec.c's read units (when t is NULL) */
  int64_t n_units;
  int64_t *unit_off;     /* [n_units + 1] first row of each unit */
} ofs_src_data;

void ofs_src_data_reset(ofs_src_data *d);

struct ms_retrieval_job {
  ofs_kind kind;
  ms_repo *repo;
  const ms_repo_config *cfg;
  int threads;
  ms_progress_fn progress;
  void *progress_ctx;
  bool full_names, filter_created;
  /* historical: the entity input (NULL until built in entity-less mode) */
  ms_table *entity;
  char *entity_desc;
  int entity_ts_col;
  int64_t *entity_ts_ns;   /* [rows] */
  uint8_t *entity_ts_ok;   /* [rows] 1 = ts not null */
  int64_t entity_rows;
  bool entityless;
  int64_t start_ns, end_ns;
  /* pull */
  ms_pull_mode pull_mode;
  bool has_start, has_end;
  int n_views;
  ofs_view *views;
  /* on-demand views, evaluated after the joins (historical only) */
  int n_odfvs;
  ofs_odfv *odfvs;
  ms_aggregation_mode agg_mode;
  /* metadata (owned copies) */
  ms_retrieval_metadata md;
  char **md_features, **md_join_keys, **md_view_names, **md_view_hashes;
  /* result and run statistics */
  ms_table *result;
  bool ran;
  double ms_entity, ms_assemble, ms_total;
  int64_t peak_mem;
  int64_t mem_limit_bytes; /* 0 = none */
  ms_pool *pool;           /* created on first use with ofs_job_threads threads */
  double last_progress_ms;
};

/* A growable string (explain text, error lists). On allocation failure it stops growing
 * and oom is set; the text stays NUL-terminated. */
typedef struct ofs_sb {
  char *s;
  size_t len, cap;
  bool oom;
} ofs_sb;
void ofs_sb_printf(ofs_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ofs_sb_reset(ofs_sb *b);

/* ---- ofs_time.c ---- */
/* True for the types the store treats as timestamps (timestamp of any unit, date32). */
bool ofs_is_time_type(const ms_datatype *t);
/* The column as UTC nanoseconds: out_ns[n] (ms_free), out_ok[n] (ms_free; 1 = not null).
 * Naive timestamps are taken as UTC; date32 is midnight. A value outside the int64 ns range
 * is MS_ERR_LIMIT naming what (for error messages) and the row. */
ms_status ofs_time_to_ns(const ms_column *c, const char *what, int64_t **out_ns,
                         uint8_t **out_ok, ms_error *err);
/* "2024-01-02T03:04:05.000000000Z"-style text of a UTC ns value (trailing zero fractions
 * dropped to keep explain output readable). buf >= 48 bytes. */
const char *ofs_format_ns(int64_t ns, char *buf);
/* Fast path of the pre-filter: a timestamp column without nulls converted into ns[] with
 * ok[i] = lo <= ns[i] <= hi; returns the count kept, or -1 when the column has nulls, is
 * not a timestamp or a value overflows (use ofs_time_to_ns_into then). */
int64_t ofs_time_to_ns_bounded(const ms_column *c, int64_t lo, int64_t hi, int64_t *ns, uint8_t *ok);
/* The same into caller arrays of ms_column_length(c) entries (ok may be NULL). */
ms_status ofs_time_to_ns_into(const ms_column *c, const char *what, int64_t *ns, uint8_t *ok, ms_error *err);
/* A dataset opened and read with CSV files' mixed naive/aware timestamp columns fixed
 * to timestamp[ns, UTC] (the reader refuses to guess; the contract says an aware value is
 * converted to UTC and a naive one is UTC already). */
ms_status ofs_dataset_open(const char *path, ms_file_format fmt, ms_dataset **out, ms_error *err);
ms_status ofs_read_table_file(const char *path, ms_pool *pool, ms_table **out, ms_error *err);

/* ---- ofs_plan.c ---- */
ms_status ofs_job_alloc(ms_repo *repo, ofs_kind kind, ms_retrieval_job **out, ms_error *err);
/* Resolves a view's source, ts/created/key/feature columns against its dataset (opened
 * here), fills read_cols; features: n_feat logical names already set in v. */
ms_status ofs_view_bind_source(ms_retrieval_job *job, ofs_view *v, ms_error *err);
/* Sets the pre-filter bounds and pruning ranges of v for [lo, hi] (has_* false = open). */
void ofs_view_set_bounds(ofs_view *v, bool has_lo, int64_t lo, bool has_hi, int64_t hi);
void ofs_view_reset(ofs_view *v);
/* Takes over t as the job's entity input (job->entity_ts_col set): converts its
 * timestamps, fills min/max and, unless entity-less, each view's bounds and partitions. */
ms_status ofs_set_entity(ms_retrieval_job *job, ms_table *t, ms_error *err);
/* Partition count and strategy for a join of n_feat feature rows with n_ent entity rows. */
void ofs_choose_partitions(const ms_retrieval_job *job, ofs_view *v, int64_t n_feat_rows,
                           int64_t n_ent_rows);
int ofs_job_threads(const ms_retrieval_job *job);
ms_status ofs_job_pool(ms_retrieval_job *job, ms_pool **out, ms_error *err);
/* Calls the progress callback: stage starts and ends always, progress within a stage at
 * most ten times a second. stage must live as long as the job. */
void ofs_progress(ms_retrieval_job *job, const char *stage, int64_t done, int64_t total);
double ofs_now_ms(void);

/* ---- ofs_odfv.c ---- */
/* Adds (or finds) feature f of view def as a job view feature; hidden when it is only an
 * on-demand input. Returns its (view, feature) position. */
ms_status ofs_add_hidden_feature(ms_retrieval_job *job, const ms_feature_view_def *def, const char *f,
                                 int *out_view, int *out_feat, ms_error *err);
/* Resolves every requested on-demand output's inputs (request columns, source features:
 * hidden features are added to the job's views). Before the entity input is read. */
ms_status ofs_odfv_resolve(ms_retrieval_job *job, ms_error *err);
/* Checks the request columns against the entity input (all problems in one error). */
ms_status ofs_odfv_check_entity(ms_retrieval_job *job, const ms_table *entity, ms_error *err);
/* Compiles the outputs against the joined columns' types (after the sources are bound). */
ms_status ofs_odfv_compile(ms_retrieval_job *job, ms_error *err);
/* Evaluates odfv o's outputs: fcols are every view's feature columns (view by view). */
ms_status ofs_odfv_eval(ms_retrieval_job *job, ofs_odfv *o, ms_column *const *fcols, const int *view_base,
                        ms_pool *pool, ms_column **out, ms_error *err);
void ofs_odfv_reset(ofs_odfv *o);

/* ---- ofs_agg.c ---- */
/* For an aggregation view (v->def->agg.n_aggregations > 0): decides the mode (pull: always
 * stored) and, when stored, binds v->src to the snapshot directory. Errors when stored is
 * wanted and there are no snapshots. Called before ofs_view_bind_source. */
ms_status ofs_agg_prepare(ms_retrieval_job *job, ofs_view *v, ms_aggregation_mode mode, ms_error *err);
/* Stored: refuses snapshots whose definition hash is not the view's current one. */
ms_status ofs_agg_check_hash(ms_retrieval_job *job, ofs_view *v, ms_error *err);
/* As-of: the declared types of v's features (v->typed). */
ms_status ofs_agg_asof_bind(ms_retrieval_job *job, ofs_view *v, ms_error *err);
/* As-of: out_cols[f] = v's features as of each entity row. */
ms_status ofs_agg_asof_run(ms_retrieval_job *job, ofs_view *v, ms_column **out_cols, ms_error *err);
/* The column type a declared dtype name stands for (timestamp = timestamp[ns]). */
bool ofs_dtype_type(const char *dtype, ms_datatype *out);

/* ---- ofs_clean.c ---- */
/* Plans v's source cleaning when its source has derived columns or a filter: resolves the
 * role columns (keys, ts, created, features: logical names, derived ones included) to the
 * cleaned table's columns, compiles the expressions against the dataset's types and sets
 * read_cols (cleaned), phys_read (dataset) and typed. v->ds must be open. */
ms_status ofs_clean_bind(ms_retrieval_job *job, ofs_view *v, ms_error *err);
/* The cleaned table of a decoded file: derived columns evaluated, the filter applied, the
 * columns v->read_cols in order. */
ms_status ofs_clean_apply(const ofs_view *v, const ms_table *raw, ms_table **out, ms_error *err);
/* Every logical column of a source (dataset columns after field_mapping, then derived
 * columns not replacing one), for a pull over the source alone. */
ms_status ofs_clean_logical_names(const ms_source_def *s, const ms_dataset *ds, char ***out, int *out_n,
                                  ms_error *err);
void ofs_clean_free(ofs_clean *c);
/* The dataset column holding v's timestamp when it is not computed (pruning), else NULL. */
const char *ofs_clean_ts_dataset_column(const ofs_view *v);
/* Text for explain: derived columns computed and the filter. */
void ofs_clean_explain(const ofs_view *v, ofs_sb *b);

/* ---- ofs_exec.c ---- */
/* Reads v's source with pruning and keeps, in source order, the rows whose ts is not null
 * and inside v's bounds (the exact pre-filter). late: Parquet feature columns are left
 * unread (ofs_src_data.units) for a gather after the join; otherwise out->t holds all. */
ms_status ofs_read_source(ms_retrieval_job *job, ofs_view *v, ms_pool *pool, bool late,
                          ofs_src_data *out, ms_error *err);
ms_status ofs_run(ms_retrieval_job *job, ms_error *err);
const ms_datatype *ofs_feature_type(const ofs_view *v, int f);
/* The type of a column v reads (by its read name): v->typed first, else the dataset's. */
const ms_datatype *ofs_column_type(const ofs_view *v, const char *name);
/* Equality of two cells of one column (null equals null). */
bool ofs_cells_equal(const ms_column *c, int64_t i, int64_t j);
/* A timestamp[ns, UTC] (or int64 when tz is NULL) column over n values; ok (may be NULL)
 * marks nulls with 0. */
ms_status ofs_ns_column(const int64_t *ns, const uint8_t *ok, int64_t n, bool as_timestamp,
                        ms_column **out, ms_error *err);

/* ---- ofs_pull.c ---- */
ms_status ofs_run_pull(ms_retrieval_job *job, ms_pool *pool, ms_table **out, ms_error *err);

#endif
