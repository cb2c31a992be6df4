/* Internal interface of the `morsel` command-line tool: parsed arguments, the command
 * functions the command table in main.c dispatches to, and the value renderers (JSON, CSV,
 * text) shared by cat and schema. */
#ifndef MS_CLI_H
#define MS_CLI_H

#include <stdio.h>

#include "morsel/dataset.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

#define CLI_MAX_OPTS 24
#define CLI_MAX_POS 4

typedef struct cli_opt_spec {
  const char *name; /* without the leading "--" */
  const char *arg;  /* metavariable, NULL for a flag */
  const char *help;
} cli_opt_spec;

typedef struct cli_args {
  int n_pos;
  const char *pos[CLI_MAX_POS];
  const cli_opt_spec *specs;
  int n_specs;
  const char *values[CLI_MAX_OPTS]; /* NULL = not given; "" for a given flag */
} cli_args;

/* The value of option `name` (NULL when absent). */
const char *cli_opt(const cli_args *a, const char *name);
/* Parses an integer option in [lo, hi]; *out keeps its default when the option is absent. */
ms_status cli_opt_int(const cli_args *a, const char *name, int64_t lo, int64_t hi, int64_t *out,
                      ms_error *err);
/* Splits "a,b,c" into a new array of new strings (cli_free_list). */
ms_status cli_split_list(const char *text, char ***out, int *n, ms_error *err);
void cli_free_list(char **list, int n);
/* Creates the pool --threads asks for (default 0 = all cores). */
ms_status cli_make_pool(const cli_args *a, ms_pool **out, ms_error *err);

ms_status cli_cmd_cat(const cli_args *a, ms_error *err);
ms_status cli_cmd_schema(const cli_args *a, ms_error *err);
ms_status cli_cmd_convert(const cli_args *a, ms_error *err);
ms_status cli_cmd_scan(const cli_args *a, ms_error *err);
ms_status cli_cmd_example_data(const cli_args *a, ms_error *err);
ms_status cli_example_retail(const cli_args *a, const char *out, ms_file_format fmt, ms_error *err);
/* Writes an example table (Parquet with a morsel.example=<name> footer entry, or CSV). */
ms_status cli_example_write(const ms_field *fields, ms_column *const *cols, int n_cols,
                            const char *out, ms_file_format fmt, const char *name, ms_error *err);

/* Feature repository and registry commands (cmd_init.c, cmd_repo.c, cmd_registry.c). */
ms_status cli_cmd_init(const cli_args *a, ms_error *err);
ms_status cli_cmd_plan(const cli_args *a, ms_error *err);
ms_status cli_cmd_apply(const cli_args *a, ms_error *err);
ms_status cli_cmd_teardown(const cli_args *a, ms_error *err);
ms_status cli_cmd_validate(const cli_args *a, ms_error *err);
ms_status cli_cmd_entities(const cli_args *a, ms_error *err);
ms_status cli_cmd_data_sources(const cli_args *a, ms_error *err);
ms_status cli_cmd_feature_views(const cli_args *a, ms_error *err);
ms_status cli_cmd_on_demand_feature_views(const cli_args *a, ms_error *err);
ms_status cli_cmd_feature_services(const cli_args *a, ms_error *err);
ms_status cli_cmd_saved_datasets(const cli_args *a, ms_error *err);
ms_status cli_cmd_lineage(const cli_args *a, ms_error *err);
ms_status cli_cmd_registry_dump(const cli_args *a, ms_error *err);
/* Managed datasets: commit state, recovery, GC (cmd_store.c). */
ms_status cli_cmd_data_status(const cli_args *a, ms_error *err);

/* Aggregation views: snapshots at cutoffs and the cutoff schedule (cmd_compute.c). */
ms_status cli_cmd_compute(const cli_args *a, ms_error *err);
ms_status cli_cmd_cutoffs(const cli_args *a, ms_error *err);

/* offline_write_batch (cmd_write.c). */
ms_status cli_cmd_write_batch(const cli_args *a, ms_error *err);
/* Feature logging: `morsel write-logs` (cmd_logs.c). */
ms_status cli_cmd_write_logs(const cli_args *a, ms_error *err);

/* `compact` (cmd_compact.c). */
ms_status cli_cmd_compact(const cli_args *a, ms_error *err);

/* Offline retrieval commands (cmd_retrieve.c). */
ms_status cli_cmd_get_historical_features(const cli_args *a, ms_error *err);
ms_status cli_cmd_pull_latest(const cli_args *a, ms_error *err);
ms_status cli_cmd_pull_all(const cli_args *a, ms_error *err);
/* `saved-datasets get`: the checks made before opening the repository (--output given,
 * known extension). */
ms_status cli_saved_dataset_get_check(const cli_args *a, ms_error *err);

/* Visits the dataset in row order in pieces (whole CSV files; Parquet files in runs of row
 * groups of at least target_rows rows). fn sets *stop to end early. */
typedef ms_status (*cli_piece_fn)(void *ctx, const ms_table *t, bool *stop, ms_error *err);
ms_status cli_stream_dataset(ms_dataset *ds, const ms_dataset_read_options *ro, int64_t target_rows,
                             cli_piece_fn fn, void *ctx, ms_error *err);

/* ---- a growable text buffer ---- */
typedef struct cli_buf {
  char *data;
  size_t len, cap;
  bool failed; /* sticky: an allocation failed */
} cli_buf;

void cli_buf_reset(cli_buf *b);
void cli_buf_clear(cli_buf *b);
void cli_buf_append(cli_buf *b, const void *data, size_t len);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_putc(cli_buf *b, char c);
void cli_buf_printf(cli_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- rendering one value ---- */
typedef enum cli_style {
  CLI_JSON = 0, /* a complete JSON value */
  CLI_CSV = 1,  /* raw text (the caller quotes); null is empty */
  CLI_TEXT = 2  /* for humans: control characters escaped, null as "null" */
} cli_style;

/* Appends row `row` of column `c` in the style. JSON rules: integers exact, floats in the
 * shortest text that reads back to the same value, NaN/Infinity/-Infinity as strings,
 * timestamps ISO-8601 with every digit of the unit and 'Z' when tz-aware, dates
 * YYYY-MM-DD, decimals as exact decimal strings, binary as base64, invalid UTF-8 in utf8
 * columns replaced by U+FFFD. */
void cli_render_value(cli_buf *b, const ms_column *c, int64_t row, cli_style style);
/* A JSON string literal of the bytes (invalid UTF-8 replaced by U+FFFD). */
void cli_json_string(cli_buf *b, const char *s, size_t len);
/* Number of display characters (UTF-8 code points) in s. */
size_t cli_display_width(const char *s, size_t len);

/* Writes b to out; false on a write error. */
bool cli_write(FILE *out, const cli_buf *b);

#endif
