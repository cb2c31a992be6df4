/* `morsel`: the command-line front end.
 *
 * One table (k_commands) is the single source of truth: dispatch, argument checking and
 * the `morsel help` text are all driven by it. Options are `--name value`, `--name=value`
 * or `--name` for flags, anywhere after the command. Every failure is printed as
 * "morsel: <formatted ms_error>" on stderr; the exit status is 2 for a usage error and 1
 * for any other failure. Commands that write files write them atomically, so a failed
 * command leaves no partial output behind. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "morsel/alloc.h"

#ifndef MORSEL_VERSION
#define MORSEL_VERSION "0.1.0"
#endif

#define THREADS_OPT {"threads", "N", "worker threads (0 = all cores, the default)"}

static const cli_opt_spec k_cat_opts[] = {
    {"columns", "a,b", "only these columns, in this order"},
    {"head", "N", "only the first N rows"},
    {"format", "F", "jsonl, csv or table (default: table on a terminal, jsonl otherwise)"},
    THREADS_OPT,
};
static const cli_opt_spec k_schema_opts[] = {
    {"json", NULL, "machine-readable JSON instead of text"},
};
static const cli_opt_spec k_convert_opts[] = {
    {"compression", "C", "Parquet codec: zstd (default), snappy, gzip, lz4_raw, brotli, none"},
    {"row-group-size", "N", "rows per Parquet row group (default 1048576)"},
    {"page-version", "1|2", "Parquet data page version (default 1)"},
    {"no-dictionary", NULL, "disable Parquet dictionary encoding"},
    {"delimiter", "C", "CSV delimiter for input and output (default ',' or tab for .tsv)"},
    THREADS_OPT,
};
static const cli_opt_spec k_scan_opts[] = {
    {"columns", "a,b", "only these columns"},
    THREADS_OPT,
};
static const cli_opt_spec k_example_opts[] = {
    {"out", "FILE", "output file, .parquet or .csv (required)"},
    {"rows", "N", "number of rows (default 1000; sample only)"},
    {"scale", "X", "retail only: multiplies rows, customers, invoices (default 1 = ~541,909 rows)"},
    {"seed", "S", "random seed (default 42)"},
};

#define REPO_OPTS                                                                   \
  {"repo", "DIR", "the feature repository (default: the current directory); also -C DIR"}, \
      {"config", "FILE", "another feature_store.yaml"}
static const cli_opt_spec k_init_opts[] = {
    {"template", "T", "repository template: minimal (the default) or retail (the purchase-propensity pipeline); also -t T"},
};
static const cli_opt_spec k_plan_opts[] = {
    REPO_OPTS,
    {"json", NULL, "machine-readable JSON instead of text"},
};
static const cli_opt_spec k_teardown_opts[] = {REPO_OPTS};
static const cli_opt_spec k_objects_opts[] = {
    REPO_OPTS,
    {"json", NULL, "machine-readable JSON instead of text"},
    {"version", "N", "describe: this version instead of the latest"},
};
static const cli_opt_spec k_lineage_opts[] = {
    REPO_OPTS,
    {"format", "F", "tree (default), dot (Graphviz) or json"},
    {"json", NULL, "same as --format json"},
};
static const cli_opt_spec k_data_status_opts[] = {
    REPO_OPTS,
    {"repair", NULL, "resolve prepared commit records first (recovery)"},
    {"gc", NULL, "delete removed files past the retention, old orphans and temporary files"},
};
static const cli_opt_spec k_dump_opts[] = {
    REPO_OPTS,
    {"json", NULL, "accepted for symmetry: the dump is always JSON"},
};

#define JOB_OPTS                                                                                  \
  {"output", "FILE", "write the result here, .parquet or .csv (atomically: all or nothing)"},     \
      {"explain", NULL, "print the plan (files, row groups kept, bounds, strategy) and write nothing"}, \
      {"explain-analyze", NULL, "run, write the output, and print the plan with actual rows, times and peak memory"}, \
      {"save-dataset", "NAME", "also keep the result as a registered saved dataset NAME"},        \
      {"storage", "PATH", "--save-dataset: the file (default <storage_path>/saved_datasets/NAME.parquet)"}, \
      {"allow-overwrite", NULL, "--save-dataset: replace an existing dataset of that name (whole)"}, \
      {"start", "T", "range start (inclusive; ISO-8601 date or timestamp, naive = UTC): rows from T on"}, \
      {"end", "T", "range end (inclusive): rows up to T"},                                       \
      {"threads", "N", "worker threads (default: offline_store.threads; 0 = all cores)"},          \
      {"quiet", NULL, "no progress line and no summary"}
static const cli_opt_spec k_historical_opts[] = {
    REPO_OPTS,
    {"entity-df", "FILE", "the entity rows: a Parquet/CSV file, directory or glob"},
    {"features", "v:f,...", "feature references (view:feature, comma-separated)"},
    {"feature-service", "NAME", "every feature of a feature service (instead of --features)"},
    {"full-feature-names", NULL, "name feature columns view__feature"},
    {"filter-by-created-timestamp", NULL, "only feature rows created at or before the entity timestamp"},
    {"aggregations", "MODE", "aggregation views: auto (snapshots when computed, else as-of), stored, as-of"},
    JOB_OPTS,
};
static const cli_opt_spec k_pull_opts[] = {
    REPO_OPTS,
    {"feature-view", "NAME", "the feature view to read (its keys, features, timestamps)"},
    {"source", "NAME", "a data source instead: every non-timestamp column is a feature"},
    {"logs", "SERVICE", "pull-all: a feature service's logs instead (timestamp __log_timestamp)"},
    {"features", "a,b,...", "only these features, in this order (default: every feature)"},
    {"no-features", NULL, "no features: join keys and timestamps only"},
    JOB_OPTS,
};
static const cli_opt_spec k_write_batch_opts[] = {
    REPO_OPTS,
    {"feature-view", "NAME", "the feature view whose source the rows are appended to"},
    {"input", "FILE", "the batch: a Parquet or CSV file with the source's columns (logical names)"},
    {"threads", "N", "worker threads (default: offline_store.threads; 0 = all cores)"},
    {"quiet", NULL, "no progress line and no summary"},
};
static const cli_opt_spec k_write_logs_opts[] = {
    REPO_OPTS,
    {"feature-service", "NAME", "the feature service whose logs these are (it needs logging:)"},
    {"input", "FILE", "the logs: a Parquet or CSV file in the service's log schema"},
    {"threads", "N", "worker threads (default: offline_store.threads; 0 = all cores)"},
    {"quiet", NULL, "no progress line and no summary"},
};
static const cli_opt_spec k_saved_opts[] = {
    REPO_OPTS,
    {"json", NULL, "machine-readable JSON instead of text"},
    {"version", "N", "describe: this version instead of the latest"},
    {"output", "FILE", "get: write the dataset's rows here (.parquet or .csv)"},
    {"quiet", NULL, "get: no summary line"},
};

#define CUTOFF_OPTS                                                                              \
  {"start", "T", "first cutoff: a timestamp, or an expression such as 'first_event + 90d'"},      \
      {"every", "D", "time between cutoffs, a duration such as 30d"},                             \
      {"end", "T", "last possible cutoff (cutoffs are <= it): a timestamp or an expression"}
static const cli_opt_spec k_compute_opts[] = {
    REPO_OPTS,
    CUTOFF_OPTS,
    {"threads", "N", "worker threads (default: offline_store.threads; 0 = all cores)"},
    {"quiet", NULL, "no progress line and no summary"},
};
static const cli_opt_spec k_cutoffs_opts[] = {REPO_OPTS, CUTOFF_OPTS};
static const cli_opt_spec k_compact_opts[] = {
    REPO_OPTS,
    {"target-size-mb", "N", "merged file size (default: offline_store.target_partition_size_mb)"},
    {"quiet", NULL, "no progress line and no summary"},
};
#define COMPACT_NOTES                                                                             \
  "Merges runs of adjacent small part files (morsel-written, under half the target size) of\n"   \
  "the view's source directory, within each partition folder, into files of about the target\n" \
  "size, in one atomic commit recorded in the registry; row order is kept exactly. Files\n"      \
  "placed by other tools are never merged. The merged inputs stay readable for\n"               \
  "offline_store.file_retention_seconds, then garbage collection deletes them. A single-file\n"  \
  "source has nothing to compact. Details: docs/writing.md."
#define COMPUTE_NOTES                                                                             \
  "Computes the aggregation view at each cutoff T (start, start + every, ... while T <= end;\n"   \
  "the view's cutoffs: unless given here) and writes one Parquet file per cutoff to\n"          \
  "<storage_path>/aggregations/VIEW/cutoff=YYYYMMDDTHHMMSS.m<token>.parquet, all in one\n"    \
  "commit that replaces the same cutoffs computed before (kept for the retention). Prints\n"    \
  "one line per cutoff (rows and the mean of each numeric feature), totals and stage times.\n"  \
  "Several views (up to 4) in one command share the read of a common source.\n"                  \
  "The full contract: docs/compute.md."

#define HISTORICAL_NOTES                                                                        \
  "One output row per entity row, in input order: the entity columns unchanged, then the\n"     \
  "features. For each feature view the value is that of the source row with the same join\n"   \
  "keys and the latest (timestamp, created) at or before the entity timestamp (and within\n"    \
  "the view's ttl); none: null. The entity timestamp column is event_timestamp, or the only\n"  \
  "timestamp column. Without --entity-df, --start and --end make the entity rows: the\n"       \
  "distinct (join keys, timestamp) of the views' sources in [start, end].\n"                   \
  "The full contract, with examples: docs/retrieval.md."
#define PULL_NOTES                                                                                \
  "Rows with start <= timestamp <= end (both optional, inclusive). pull-latest keeps the latest\n" \
  "row per join-key tuple (largest timestamp, then created, then source order); pull-all keeps\n"  \
  "every row, ordered by timestamp (stable). Columns: join keys, features, timestamp, created.\n" \
  "--features a,b keeps those features (in that order); --no-features keeps keys and timestamps.\n" \
  "pull-all --logs SERVICE reads a feature service's logs: every log column, by __log_timestamp."
#define WRITE_LOGS_NOTES                                                                          \
  "Appends logged features to the service's logging destination, partitioned as configured,\n"  \
  "in one commit. Columns (any order): join keys, VIEW__FEATURE, VIEW__FEATURE__timestamp,\n"   \
  "VIEW__FEATURE__status, __log_timestamp, __request_id, and optionally __log_date (derived from\n" \
  "__log_timestamp when absent; when given it must be that UTC date). With sample_rate < 1 a\n" \
  "request's rows are kept or dropped together, the same way every time. A bad input is refused\n" \
  "whole (missing/extra/mistyped columns, or the row and column of a bad value). docs/writing.md."

#define WRITE_BATCH_NOTES                                                                         \
  "The batch must carry exactly the source's columns by logical name (field_mapping applied),\n"  \
  "in any order, with compatible types; otherwise nothing is written and the error lists every\n" \
  "missing, extra and mistyped column. A null join key, event timestamp or date partition value,\n" \
  "an out-of-range number or an unparseable cell is refused with its row and column. A directory\n" \
  "source gets new part files (hive folders as its files have, or by date_partition_column) in\n" \
  "one commit; a single-file source is rewritten atomically as old rows then new. docs/writing.md."

#define OBJECTS_USAGE "list | describe NAME | history NAME"
#define OBJECTS_NOTES                                                                         \
  "list: one line per current object; describe: the definition as stored (canonical JSON,\n" \
  "pretty-printed; --json for the raw record); history: every version (number, time,\n"     \
  "user@host, hash prefix, what changed). Deleted objects keep their history."

typedef struct cli_command {
  const char *name;
  const char *usage; /* positional arguments */
  int min_pos, max_pos;
  const char *summary;
  const char *notes; /* extra paragraphs for `morsel help COMMAND`, or NULL */
  const cli_opt_spec *opts;
  int n_opts;
  ms_status (*run)(const cli_args *a, ms_error *err);
} cli_command;

#define OPTS(a) a, (int)(sizeof a / sizeof a[0])

static const cli_command k_commands[] = {
    {"cat", "PATH", 1, 1, "print the rows of a file or dataset",
     "jsonl: one object per row, keys in schema order; integers exact; floats in the shortest form\n"
     "that reads back to the same value; NaN, Infinity, -Infinity as strings; timestamps ISO-8601\n"
     "with every digit of the unit and Z when the column has a time zone; dates YYYY-MM-DD;\n"
     "decimals as exact strings; binary as base64; invalid UTF-8 replaced by U+FFFD; null as null.\n"
     "csv: RFC 4180, null as an empty field, an empty string as \"\".\n"
     "table: aligned to the first 100 rows, cells cut at 40 characters.",
     OPTS(k_cat_opts), cli_cmd_cat},
    {"schema", "PATH", 1, 1,
     "print columns, types and nullability; for Parquet also row groups, statistics, "
     "encodings and compression",
     NULL, OPTS(k_schema_opts), cli_cmd_schema},
    {"convert", "IN OUT", 2, 2, "convert between CSV and Parquet (by extension); IN may be a dataset",
     "OUT is written under a temporary name and renamed when complete: on failure nothing is left.",
     OPTS(k_convert_opts), cli_cmd_convert},
    {"scan", "PATH", 1, 1,
     "decode a whole dataset into memory and print rows, bytes, seconds and peak memory",
     "prints one line: rows=N bytes=B seconds=S peak_bytes=P threads=T, where bytes is the size of\n"
     "the decoded buffers, seconds the wall time of the decode (not of opening the dataset) and\n"
     "peak_bytes the high-water mark of morsel's allocations during the decode.",
     OPTS(k_scan_opts), cli_cmd_scan},
    {"example-data", "sample|retail", 1, 1,
     "write a deterministic sample feature table, or UCI Online Retail-shaped transactions (retail)",
     NULL, OPTS(k_example_opts), cli_cmd_example_data},
    {"init", "NAME", 1, 1, "create a feature repository NAME/ (config, definitions, sample data)",
     "Refuses a directory that exists and is not empty. NAME's last component becomes the\n"
     "project name (letters, digits and underscores).",
     OPTS(k_init_opts), cli_cmd_init},
    {"plan", "", 0, 0, "validate the repository and show what apply would change (writes nothing)",
     NULL, OPTS(k_plan_opts), cli_cmd_plan},
    {"apply", "", 0, 0, "validate the repository and write its definitions to the registry",
     "All changes are written in one transaction. If another apply committed after this one\n"
     "planned, nothing is written and the command fails with a conflict: run it again.",
     OPTS(k_plan_opts), cli_cmd_apply},
    {"teardown", "", 0, 0, "remove every object of the project from the registry (history is kept)",
     NULL, OPTS(k_teardown_opts), cli_cmd_teardown},
    {"validate", "", 0, 0,
     "check every source's files against the definitions (columns exist, types compatible)",
     "Checks the timestamp field, created column, date partition column, the join keys of the\n"
     "entities and every schema field of the views reading the source (after field_mapping).\n"
     "Type rules: a declared type accepts the same type and lossless widenings: int64 accepts\n"
     "int8..int64 and uint8..uint32, int32 accepts int8..int32 and uint8..uint16, float64\n"
     "accepts float32, string accepts large strings, bytes accepts any binary, timestamp any\n"
     "unit and time zone. Narrowing (int64 data for an int32 feature) is an error. For CSV the\n"
     "widths come from inference, so only the family (integer, float) is checked.\n"
     "Every problem is reported; exit status 1 if there is any.",
     OPTS(k_plan_opts), cli_cmd_validate},
    {"entities", OBJECTS_USAGE, 1, 2, "list, describe or show the history of entities",
     OBJECTS_NOTES, OPTS(k_objects_opts), cli_cmd_entities},
    {"data-sources", OBJECTS_USAGE, 1, 2, "list, describe or show the history of data sources",
     OBJECTS_NOTES, OPTS(k_objects_opts), cli_cmd_data_sources},
    {"sources", OBJECTS_USAGE, 1, 2, "alias of data-sources", OBJECTS_NOTES, OPTS(k_objects_opts),
     cli_cmd_data_sources},
    {"feature-views", OBJECTS_USAGE, 1, 2, "list, describe or show the history of feature views",
     OBJECTS_NOTES, OPTS(k_objects_opts), cli_cmd_feature_views},
    {"on-demand-feature-views", OBJECTS_USAGE, 1, 2,
     "list, describe or show the history of on-demand feature views", OBJECTS_NOTES,
     OPTS(k_objects_opts), cli_cmd_on_demand_feature_views},
    {"feature-services", OBJECTS_USAGE, 1, 2,
     "list, describe or show the history of feature services", OBJECTS_NOTES,
     OPTS(k_objects_opts), cli_cmd_feature_services},
    {"saved-datasets", OBJECTS_USAGE " | get NAME --output FILE", 1, 2,
     "list, describe, show the history of, or read back saved datasets",
     OBJECTS_NOTES "\nget: the dataset's rows as stored, written to --output (Parquet or CSV).",
     OPTS(k_saved_opts), cli_cmd_saved_datasets},
    {"get-historical-features", "", 0, 0,
     "point-in-time correct training data: entity rows joined with feature values as of their time",
     HISTORICAL_NOTES, OPTS(k_historical_opts), cli_cmd_get_historical_features},
    {"pull-latest", "", 0, 0, "the latest row per entity of a feature view or source, in a time range",
     PULL_NOTES, OPTS(k_pull_opts), cli_cmd_pull_latest},
    {"pull-all", "", 0, 0, "every row of a feature view, source or service's logs in a time range, by timestamp",
     PULL_NOTES, OPTS(k_pull_opts), cli_cmd_pull_all},
    {"write-logs", "", 0, 0, "append logged features of a feature service to its logging destination",
     WRITE_LOGS_NOTES, OPTS(k_write_logs_opts), cli_cmd_write_logs},
    {"compute", "VIEW [VIEW...]", 1, CLI_MAX_POS, "compute aggregation views at their cutoffs and write the snapshots",
     COMPUTE_NOTES, OPTS(k_compute_opts), cli_cmd_compute},
    {"compact", "VIEW", 1, 1, "merge the small part files of a feature view's source, atomically",
     COMPACT_NOTES, OPTS(k_compact_opts), cli_cmd_compact},
    {"cutoffs", "VIEW", 1, 1, "print an aggregation view's cutoffs, one per line",
     "Start and end may use first_event and last_event (the view's first and last event time).",
     OPTS(k_cutoffs_opts), cli_cmd_cutoffs},
    {"write-batch", "", 0, 0, "append a batch of rows to a feature view's source (offline_write_batch)",
     WRITE_BATCH_NOTES, OPTS(k_write_batch_opts), cli_cmd_write_batch},
    {"lineage", "NAME", 1, 1, "the graph around an object: what it reads and what reads it",
     "NAME is an object name, or KIND:NAME when several kinds share it (kinds: entity,\n"
     "data_source, feature_view, on_demand_feature_view, feature_service, saved_dataset).",
     OPTS(k_lineage_opts), cli_cmd_lineage},
    {"data-status", "[DATASET...]", 0, CLI_MAX_POS,
     "the managed datasets' commit state: generations, live files, agreement with the registry",
     "For each managed dataset the registry knows (or those named, e.g. source:driver_source,\n"
     "logs:SERVICE, aggregations:VIEW): the manifest's and the registry's generation, live\n"
     "files, rows and bytes, files awaiting deletion, orphans (token files no commit lists),\n"
     "and whether files and registry agree. --repair resolves records left by a killed\n"
     "writer, --gc deletes what offline_store.file_retention_seconds allows. Exit status 1\n"
     "when any dataset disagrees after the requested repairs. The layout: docs/storage.md.",
     OPTS(k_data_status_opts), cli_cmd_data_status},
    {"registry-dump", "", 0, 0, "print the project's whole registry (objects and lineage) as JSON",
     NULL, OPTS(k_dump_opts), cli_cmd_registry_dump},
};
#define N_COMMANDS ((int)(sizeof k_commands / sizeof k_commands[0]))

static void print_command_help(FILE *out, const cli_command *c) {
  fprintf(out, "usage: morsel %s %s [options]\n  %s\n", c->name, c->usage, c->summary);
  for (int i = 0; i < c->n_opts; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", c->opts[i].name, c->opts[i].arg ? " " : "",
             c->opts[i].arg ? c->opts[i].arg : "");
    fprintf(out, "    %-24s %s\n", left, c->opts[i].help);
  }
  if (c->notes) fprintf(out, "\n%s\n", c->notes);
}

static void print_help(FILE *out) {
  fprintf(out, "morsel %s: a feature store's offline engine (Parquet and CSV tools)\n\n", MORSEL_VERSION);
  fprintf(out, "usage: morsel COMMAND [arguments] [options]\n\ncommands:\n");
  for (int i = 0; i < N_COMMANDS; i++) fprintf(out, "  %-24s %s\n", k_commands[i].name, k_commands[i].summary);
  fprintf(out, "  %-24s %s\n", "help", "this text, or `morsel help COMMAND` for a command's options");
  fprintf(out, "\nA PATH is a file, a directory of files, a glob ('*', '?', '[...]', '**') or a "
               "hive-partitioned directory.\n");
  fprintf(out, "Errors are printed as \"morsel: <message>\"; exit status 1 on failure, 2 on a usage error.\n");
}

static const cli_command *find_command(const char *name) {
  for (int i = 0; i < N_COMMANDS; i++)
    if (strcmp(k_commands[i].name, name) == 0) return &k_commands[i];
  return NULL;
}

/* ---------------- argument helpers ---------------- */

const char *cli_opt(const cli_args *a, const char *name) {
  for (int i = 0; i < a->n_specs; i++)
    if (strcmp(a->specs[i].name, name) == 0) return a->values[i];
  return NULL;
}

ms_status cli_opt_int(const cli_args *a, const char *name, int64_t lo, int64_t hi, int64_t *out,
                      ms_error *err) {
  const char *v = cli_opt(a, name);
  if (!v) return MS_OK;
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || end == v || *end || x < lo || x > hi)
    return ms_error_set(err, MS_ERR_INVALID, "--%s wants an integer from %lld to %lld, got '%s'", name,
                        (long long)lo, (long long)hi, v);
  *out = x;
  return MS_OK;
}

ms_status cli_split_list(const char *text, char ***out, int *n, ms_error *err) {
  *out = NULL;
  *n = 0;
  int count = 1;
  for (const char *p = text; *p; p++) count += *p == ',';
  char **list = ms_calloc((size_t)count, sizeof *list);
  if (!list) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  const char *p = text;
  for (int i = 0; i < count; i++) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    list[i] = ms_strndup(p, len);
    if (!list[i]) { cli_free_list(list, i); return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }
    if (len == 0) {
      cli_free_list(list, i + 1);
      return ms_error_set(err, MS_ERR_INVALID, "empty name in the list '%s'", text);
    }
    p = comma ? comma + 1 : p + len;
  }
  *out = list;
  *n = count;
  return MS_OK;
}

void cli_free_list(char **list, int n) {
  if (!list) return;
  for (int i = 0; i < n; i++) ms_free(list[i]);
  ms_free(list);
}

ms_status cli_make_pool(const cli_args *a, ms_pool **out, ms_error *err) {
  int64_t threads = 0;
  ms_status st = cli_opt_int(a, "threads", 0, 1024, &threads, err);
  if (st) return st;
  return ms_pool_create((int)threads, out, err);
}

/* Parses argv after the command name. Returns false (with err set) on a usage error. */
static bool parse_args(const cli_command *c, int argc, char **argv, cli_args *a, bool *want_help,
                       ms_error *err) {
  memset(a, 0, sizeof *a);
  if (c->n_opts > CLI_MAX_OPTS) {
    ms_error_set(err, MS_ERR_INTERNAL, "'%s' has more options than CLI_MAX_OPTS", c->name);
    return false;
  }
  a->specs = c->opts;
  a->n_specs = c->n_opts;
  bool options_done = false;
  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];
    /* the two short options: -C DIR (as in git and make) and -t T (init's template) */
    if (!options_done && strcmp(arg, "-C") == 0) arg = "--repo";
    if (!options_done && strcmp(arg, "-t") == 0) arg = "--template";
    if (!options_done && strcmp(arg, "--") == 0) { options_done = true; continue; }
    if (!options_done && (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)) {
      *want_help = true;
      return true;
    }
    if (!options_done && arg[0] == '-' && arg[1] == '-') {
      const char *name = arg + 2;
      const char *eq = strchr(name, '=');
      size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
      int k = -1;
      for (int j = 0; j < c->n_opts; j++)
        if (strlen(c->opts[j].name) == nlen && strncmp(c->opts[j].name, name, nlen) == 0) k = j;
      if (k < 0) {
        ms_error_set(err, MS_ERR_INVALID, "unknown option '%.*s' for '%s' (see morsel help %s)",
                     (int)(nlen + 2), arg, c->name, c->name);
        return false;
      }
      if (!c->opts[k].arg) {
        if (eq) {
          ms_error_set(err, MS_ERR_INVALID, "option --%s takes no value", c->opts[k].name);
          return false;
        }
        a->values[k] = "";
      } else if (eq) {
        a->values[k] = eq + 1;
      } else if (i + 1 < argc) {
        a->values[k] = argv[++i];
      } else {
        ms_error_set(err, MS_ERR_INVALID, "option --%s needs a value (%s)", c->opts[k].name, c->opts[k].arg);
        return false;
      }
      continue;
    }
    if (a->n_pos >= c->max_pos) {
      ms_error_set(err, MS_ERR_INVALID, "too many arguments for '%s': usage: morsel %s %s", c->name,
                   c->name, c->usage);
      return false;
    }
    a->pos[a->n_pos++] = arg;
  }
  if (a->n_pos < c->min_pos) {
    ms_error_set(err, MS_ERR_INVALID, "missing arguments: usage: morsel %s %s", c->name, c->usage);
    return false;
  }
  return true;
}

static int fail(const ms_error *err, int code) {
  char buf[4096];
  fflush(stdout);
  fprintf(stderr, "morsel: %s\n", ms_error_format(err, buf, sizeof buf));
  return code;
}

/* The CLI is a short-lived process that decodes column chunks of a few MiB each, frees them
 * and allocates the next: with glibc's defaults every such block is a fresh mmap whose pages
 * the kernel must fault in and zero again (a third of the CPU time of a large
 * point-in-time join went there). Keeping blocks up to 64 MiB in the heap and not trimming
 * it lets freed chunks be reused; peak RSS grows by a little fragmentation. The library
 * itself never changes process-wide malloc settings: embedding programs choose theirs. */
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD)
  (void)mallopt(M_MMAP_THRESHOLD, 1 << 30);
  (void)mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

int main(int argc, char **argv) {
  ms_error err;
  ms_error_init(&err);
  tune_malloc();
  if (argc < 2) {
    print_help(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
    printf("morsel %s\n", MORSEL_VERSION);
    return 0;
  }
  if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
    if (argc > 2) {
      const cli_command *c = find_command(argv[2]);
      if (!c) {
        ms_error_set(&err, MS_ERR_INVALID, "unknown command '%s' (see morsel help)", argv[2]);
        return fail(&err, 2);
      }
      print_command_help(stdout, c);
    } else {
      print_help(stdout);
    }
    return 0;
  }
  const cli_command *c = find_command(name);
  if (!c) {
    ms_error_set(&err, MS_ERR_INVALID, "unknown command '%s' (see morsel help)", name);
    return fail(&err, 2);
  }
  cli_args a;
  bool want_help = false;
  if (!parse_args(c, argc - 2, argv + 2, &a, &want_help, &err)) return fail(&err, 2);
  if (want_help) {
    print_command_help(stdout, c);
    return 0;
  }
  ms_status st = c->run(&a, &err);
  if (st == MS_OK && (fflush(stdout) != 0 || ferror(stdout))) {
    ms_error_init(&err);
    st = ms_error_set(&err, MS_ERR_IO, "cannot write to standard output: %s", strerror(errno));
  }
  if (st != MS_OK) {
    if (err.status == MS_OK) ms_error_set(&err, st, "%s", ms_status_name(st));
    return fail(&err, 1);
  }
  return 0;
}
