/* Repository commands: `morsel plan`, `apply`, `teardown` and `validate`, and the shared
 * step every repository command starts with (cli_repo_open: load and validate the
 * repository named by --repo/-C and --config, print every problem, open its registry).
 *
 * plan and apply share one path: read the registry generation, dry-run the apply to get the
 * diff, print it. apply then writes for real with the generation read before planning, so a
 * concurrent apply that committed in between makes this one fail with a conflict instead of
 * overwriting it. plan never creates a registry: when the SQLite file does not exist yet,
 * every object is shown as created without opening (and so creating) the file.
 *
 * validate opens each source with the dataset API (Parquet footers, a CSV sample for type
 * inference) and checks every column the definitions name; the type rules are in the
 * command's help text (main.c) and in check_type below. plan, apply and validate also run
 * ms_repo_typecheck (expressions of derived columns, filters, aggregation views and
 * on-demand views against real types): its problems are printed to stderr, all at once,
 * and plan/apply then write nothing. */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/repo_cli.h"
#include "morsel/alloc.h"

/* ---------------- shared ---------------- */

void cli_user_host(char *user, size_t user_size, char *host, size_t host_size) {
  const char *u = getenv("USER");
  if (!u || !*u) {
    struct passwd *pw = getpwuid(getuid());
    u = pw && pw->pw_name ? pw->pw_name : "unknown";
  }
  snprintf(user, user_size, "%s", u);
  if (gethostname(host, host_size) != 0) snprintf(host, host_size, "unknown");
  host[host_size - 1] = '\0';
}

ms_status cli_repo_open(const cli_args *a, bool open_registry, cli_repo *out, ms_error *err) {
  memset(out, 0, sizeof *out);
  char **problems = NULL;
  int n_problems = 0;
  ms_status st = ms_repo_load(cli_opt(a, "repo"), cli_opt(a, "config"), &out->repo, &problems,
                              &n_problems, err);
  if (st != MS_OK) {
    fflush(stdout);
    for (int i = 0; i < n_problems; i++) fprintf(stderr, "%s\n", problems[i]);
    ms_repo_problems_free(problems, n_problems);
    if (n_problems > 0) { /* each was printed above; the summary goes last */
      ms_error_init(err);
      ms_error_set(err, st, "%d problem%s in the repository; nothing was written", n_problems,
                   n_problems == 1 ? "" : "s");
    }
    ms_repo_free(out->repo);
    out->repo = NULL;
    return st;
  }
  ms_repo_problems_free(problems, n_problems);
  out->cfg = ms_repo_get_config(out->repo);
  for (int i = 0; i < out->cfg->n_notes; i++) fprintf(stderr, "note: %s\n", out->cfg->notes[i]);
  if (open_registry) {
    st = ms_registry_open(out->cfg->registry_location, &out->reg, err);
    if (st != MS_OK) {
      ms_repo_free(out->repo);
      out->repo = NULL;
      return st;
    }
  }
  return MS_OK;
}

void cli_repo_close(cli_repo *r) {
  ms_registry_close(r->reg);
  ms_repo_free(r->repo);
  memset(r, 0, sizeof *r);
}

const char *cli_kind_label(const char *kind) {
  if (strcmp(kind, "entity") == 0) return "entity";
  if (strcmp(kind, "data_source") == 0) return "data source";
  if (strcmp(kind, "feature_view") == 0) return "feature view";
  if (strcmp(kind, "on_demand_feature_view") == 0) return "on-demand feature view";
  if (strcmp(kind, "feature_service") == 0) return "feature service";
  if (strcmp(kind, "saved_dataset") == 0) return "saved dataset";
  return kind;
}

/* Type-checks the repository's expressions and dtypes (ms_repo_typecheck), printing each
 * problem to stderr; returns how many there were (-1 and err set on a failure that is not
 * a problem list, e.g. out of memory). */
static int typecheck_print(ms_repo *repo, bool print, char ***keep, ms_error *err) {
  char **problems = NULL;
  int n = 0;
  ms_error e;
  ms_error_init(&e);
  ms_status st = ms_repo_typecheck(repo, &problems, &n, &e);
  if (st != MS_OK && n == 0) {
    if (err) *err = e;
    return -1;
  }
  fflush(stdout);
  for (int i = 0; print && i < n; i++) fprintf(stderr, "%s\n", problems[i]);
  if (keep) *keep = problems;
  else ms_repo_problems_free(problems, n);
  return n;
}

static bool is_postgres(const char *loc) { return strncmp(loc, "postgresql", 10) == 0; }

/* ---------------- plan / apply ---------------- */

static const char *const k_change_names[] = {"created", "updated", "deleted", "unchanged"};
static const char *const k_change_verbs[] = {"Created", "Updated", "Deleted", "Unchanged"};

static void print_changes(const ms_reg_change *ch, int n, bool applied, bool json,
                          int64_t generation) {
  int count[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; i++) count[ch[i].type]++;
  cli_buf b = {0};
  if (json) {
    cli_buf_puts(&b, "{\"applied\":");
    cli_buf_puts(&b, applied ? "true" : "false");
    cli_buf_puts(&b, ",\"changes\":[");
    for (int i = 0; i < n; i++) {
      cli_buf_puts(&b, i ? ",{\"kind\":" : "{\"kind\":");
      cli_json_string(&b, ch[i].kind, strlen(ch[i].kind));
      cli_buf_puts(&b, ",\"name\":");
      cli_json_string(&b, ch[i].name, strlen(ch[i].name));
      cli_buf_printf(&b, ",\"change\":\"%s\",\"version\":%lld,\"summary\":", k_change_names[ch[i].type],
                     (long long)ch[i].version);
      if (ch[i].summary) cli_json_string(&b, ch[i].summary, strlen(ch[i].summary));
      else cli_buf_puts(&b, "null");
      cli_buf_putc(&b, '}');
    }
    cli_buf_printf(&b, "],\"created\":%d,\"updated\":%d,\"deleted\":%d,\"unchanged\":%d", count[0],
                   count[1], count[2], count[3]);
    if (applied) cli_buf_printf(&b, ",\"generation\":%lld", (long long)generation);
    cli_buf_puts(&b, "}\n");
  } else {
    for (int i = 0; i < n; i++) {
      cli_buf_printf(&b, "%-9s %s %s", k_change_verbs[ch[i].type], cli_kind_label(ch[i].kind),
                     ch[i].name);
      if (ch[i].type != MS_REG_UNCHANGED && ch[i].version > 0)
        cli_buf_printf(&b, " (version %lld)", (long long)ch[i].version);
      if (ch[i].type == MS_REG_UPDATED && ch[i].summary && *ch[i].summary)
        cli_buf_printf(&b, ": %s", ch[i].summary);
      cli_buf_putc(&b, '\n');
    }
    if (applied)
      cli_buf_printf(&b, "Applied: %d created, %d updated, %d deleted, %d unchanged.\n", count[0],
                     count[1], count[2], count[3]);
    else if (count[0] + count[1] + count[2] == 0)
      cli_buf_printf(&b, "No changes: %d unchanged.\n", count[3]);
    else
      cli_buf_printf(&b, "Plan: %d to create, %d to update, %d to delete, %d unchanged.\n", count[0],
                     count[1], count[2], count[3]);
  }
  cli_write(stdout, &b);
  cli_buf_reset(&b);
}

static ms_status plan_or_apply(const cli_args *a, bool apply, ms_error *err) {
  cli_repo r;
  ms_status st = cli_repo_open(a, false, &r, err);
  if (st) return st;
  /* expressions and dtypes are checked before anything is compared or written */
  int n_type = typecheck_print(r.repo, true, NULL, err);
  if (n_type != 0) {
    if (n_type > 0)
      ms_error_set(err, MS_ERR_INVALID, "%d problem%s in the repository; nothing was written",
                   n_type, n_type == 1 ? "" : "s");
    cli_repo_close(&r);
    return MS_ERR_INVALID;
  }
  const ms_reg_object *objs = NULL;
  const ms_reg_edge *edges = NULL;
  int n_objs = 0, n_edges = 0;
  st = ms_repo_objects(r.repo, &objs, &n_objs, &edges, &n_edges, err);
  const char *loc = r.cfg->registry_location;
  bool json = cli_opt(a, "json") != NULL;
  char user[256], host[256];
  cli_user_host(user, sizeof user, host, sizeof host);
  struct stat sb;
  if (st == MS_OK && !apply && !is_postgres(loc) && stat(loc, &sb) != 0) {
    /* no registry yet: everything is new, and plan must not create the file */
    ms_reg_change *ch = ms_calloc((size_t)(n_objs ? n_objs : 1), sizeof *ch);
    if (!ch) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    for (int i = 0; st == MS_OK && i < n_objs; i++) {
      ch[i].kind = (char *)objs[i].kind;
      ch[i].name = (char *)objs[i].name;
      ch[i].type = MS_REG_CREATED;
      ch[i].version = 1;
    }
    if (st == MS_OK) print_changes(ch, n_objs, false, json, 0);
    ms_free(ch);
    cli_repo_close(&r);
    return st;
  }
  if (st == MS_OK) st = ms_registry_open(loc, &r.reg, err);
  int64_t gen = 0;
  if (st == MS_OK) st = ms_registry_generation(r.reg, r.cfg->project, &gen, err);
  ms_reg_change *ch = NULL;
  int n_ch = 0;
  if (st == MS_OK)
    st = ms_registry_apply(r.reg, r.cfg->project, objs, n_objs, edges, n_edges, gen, user, host, 1,
                           ms_repo_diff_summary, &ch, &n_ch, err);
  if (st == MS_OK && !apply) print_changes(ch, n_ch, false, json, gen);
  if (st == MS_OK && apply) {
    ms_reg_changes_free(ch, n_ch);
    ch = NULL;
    n_ch = 0;
    st = ms_registry_apply(r.reg, r.cfg->project, objs, n_objs, edges, n_edges, gen, user, host, 0,
                           ms_repo_diff_summary, &ch, &n_ch, err);
    int64_t after = gen;
    if (st == MS_OK) st = ms_registry_generation(r.reg, r.cfg->project, &after, err);
    if (st == MS_OK) print_changes(ch, n_ch, true, json, after);
  }
  if (st == MS_ERR_CONFLICT && err && err->status == MS_ERR_CONFLICT) {
    char msg[1024];
    ms_error_format(err, msg, sizeof msg);
    ms_error_init(err);
    ms_error_set(err, MS_ERR_CONFLICT,
                 "%s; another apply changed project '%s' after this one planned, nothing was "
                 "written: run `morsel plan` and apply again",
                 msg, r.cfg->project);
  }
  ms_reg_changes_free(ch, n_ch);
  cli_repo_close(&r);
  return st;
}

ms_status cli_cmd_plan(const cli_args *a, ms_error *err) { return plan_or_apply(a, false, err); }
ms_status cli_cmd_apply(const cli_args *a, ms_error *err) { return plan_or_apply(a, true, err); }

ms_status cli_cmd_teardown(const cli_args *a, ms_error *err) {
  cli_repo r;
  ms_status st = cli_repo_open(a, true, &r, err);
  if (st) return st;
  char user[256], host[256];
  cli_user_host(user, sizeof user, host, sizeof host);
  st = ms_registry_teardown(r.reg, r.cfg->project, user, host, err);
  if (st == MS_OK) printf("Removed every object of project %s (history kept).\n", r.cfg->project);
  cli_repo_close(&r);
  return st;
}

/* ---------------- validate ---------------- */

typedef struct problems {
  cli_buf text; /* one line per problem */
  cli_buf json; /* JSON objects, comma separated */
  int n;
} problems;

static void add_problem(problems *p, const ms_source_def *s, const char *column, const char *declared,
                        const char *actual, const char *what) {
  cli_buf_printf(&p->text, "source %s (%s): column '%s': %s", s->name, s->path, column ? column : "",
                 what);
  if (declared) cli_buf_printf(&p->text, " (declared %s", declared);
  if (actual) cli_buf_printf(&p->text, "%s actual %s", declared ? "," : " (", actual);
  if (declared || actual) cli_buf_putc(&p->text, ')');
  cli_buf_putc(&p->text, '\n');
  cli_buf_puts(&p->json, p->n ? ",{\"source\":" : "{\"source\":");
  cli_json_string(&p->json, s->name, strlen(s->name));
  cli_buf_puts(&p->json, ",\"path\":");
  cli_json_string(&p->json, s->path, strlen(s->path));
  cli_buf_puts(&p->json, ",\"column\":");
  if (column) cli_json_string(&p->json, column, strlen(column));
  else cli_buf_puts(&p->json, "null");
  cli_buf_puts(&p->json, ",\"declared\":");
  if (declared) cli_json_string(&p->json, declared, strlen(declared));
  else cli_buf_puts(&p->json, "null");
  cli_buf_puts(&p->json, ",\"actual\":");
  if (actual) cli_json_string(&p->json, actual, strlen(actual));
  else cli_buf_puts(&p->json, "null");
  cli_buf_puts(&p->json, ",\"problem\":");
  cli_json_string(&p->json, what, strlen(what));
  cli_buf_putc(&p->json, '}');
  p->n++;
}

static bool is_int(ms_type_id t) { return t >= MS_TYPE_INT8 && t <= MS_TYPE_UINT64; }
static bool is_float(ms_type_id t) { return t == MS_TYPE_FLOAT32 || t == MS_TYPE_FLOAT64; }

/* Whether a column of type `t` can serve a feature declared as `dtype`. csv: the file's
 * types are inferred, so only the family counts. Returns -1 for an unknown dtype. */
static int check_type(const char *dtype, const ms_datatype *t, bool csv) {
  ms_type_id id = t->id;
  if (strcmp(dtype, "bool") == 0) return id == MS_TYPE_BOOL;
  if (strcmp(dtype, "int64") == 0 || strcmp(dtype, "int32") == 0) {
    if (csv) return is_int(id);
    bool wide = strcmp(dtype, "int64") == 0;
    switch (id) {
      case MS_TYPE_INT8: case MS_TYPE_INT16: case MS_TYPE_INT32: case MS_TYPE_UINT8: case MS_TYPE_UINT16:
        return 1;
      case MS_TYPE_INT64: case MS_TYPE_UINT32: return wide;
      default: return 0;
    }
  }
  if (strcmp(dtype, "float64") == 0) return is_float(id) || (csv && is_int(id));
  if (strcmp(dtype, "float32") == 0) return id == MS_TYPE_FLOAT32 || (csv && (is_float(id) || is_int(id)));
  if (strcmp(dtype, "string") == 0) return id == MS_TYPE_UTF8 || id == MS_TYPE_LARGE_UTF8;
  if (strcmp(dtype, "bytes") == 0)
    return id == MS_TYPE_BINARY || id == MS_TYPE_LARGE_BINARY || id == MS_TYPE_FIXED_BINARY ||
           (csv && (id == MS_TYPE_UTF8 || id == MS_TYPE_LARGE_UTF8));
  if (strcmp(dtype, "timestamp") == 0) return id == MS_TYPE_TIMESTAMP;
  if (strcmp(dtype, "date") == 0) return id == MS_TYPE_DATE32;
  return -1;
}

/* The file column behind a logical name: the field_mapping key mapped to it, else itself. */
static const char *physical(const ms_source_def *s, const char *logical) {
  for (int i = 0; i < s->n_field_mapping; i++)
    if (strcmp(s->field_mapping[i].value, logical) == 0) return s->field_mapping[i].key;
  return logical;
}

static const ms_field *find_field(ms_dataset *ds, const char *name) {
  for (int i = 0; i < ms_dataset_num_fields(ds); i++)
    if (strcmp(ms_dataset_field(ds, i)->name, name) == 0) return ms_dataset_field(ds, i);
  return NULL;
}

/* Checks one column; dtype NULL = existence only; "timestamp!" = a timestamp or a date. */
static void check_column(problems *p, ms_dataset *ds, const ms_source_def *s, const char *logical,
                         const char *dtype, const char *role, bool csv) {
  const char *col = physical(s, logical);
  char what[512];
  const ms_field *f = find_field(ds, col);
  if (!f) {
    if (strcmp(col, logical) != 0)
      snprintf(what, sizeof what, "%s '%s' (mapped from '%s') is missing", role, logical, col);
    else snprintf(what, sizeof what, "%s is missing", role);
    add_problem(p, s, col, dtype, NULL, what);
    return;
  }
  if (!dtype) return;
  char actual[128];
  ms_type_to_string(&f->type, actual, sizeof actual);
  int ok;
  if (strcmp(dtype, "timestamp!") == 0) {
    ok = f->type.id == MS_TYPE_TIMESTAMP || f->type.id == MS_TYPE_DATE32;
    dtype = "timestamp";
  } else {
    ok = check_type(dtype, &f->type, csv);
  }
  if (ok < 0) {
    snprintf(what, sizeof what, "%s has an unknown declared type", role);
    add_problem(p, s, col, dtype, actual, what);
  } else if (!ok) {
    snprintf(what, sizeof what, "%s has an incompatible type", role);
    add_problem(p, s, col, dtype, actual, what);
  }
}

static bool is_derived(const ms_source_def *s, const char *name) {
  for (int i = 0; i < s->n_columns; i++)
    if (strcmp(s->columns[i].name, name) == 0) return true;
  return false;
}

static const ms_entity_def *find_entity(const ms_repo *repo, const char *name) {
  for (int i = 0; i < ms_repo_num_entities(repo); i++)
    if (strcmp(ms_repo_entity(repo, i)->name, name) == 0) return ms_repo_entity(repo, i);
  return NULL;
}

ms_status cli_cmd_validate(const cli_args *a, ms_error *err) {
  cli_repo r;
  ms_status st = cli_repo_open(a, false, &r, err);
  if (st) return st;
  problems p;
  memset(&p, 0, sizeof p);
  cli_buf_reset(&p.text);
  cli_buf_reset(&p.json);
  int n_sources = ms_repo_num_sources(r.repo);
  for (int i = 0; i < n_sources; i++) {
    const ms_source_def *s = ms_repo_source(r.repo, i);
    bool csv = s->file_format && strcmp(s->file_format, "csv") == 0;
    ms_dataset_options o;
    ms_dataset_options_init(&o);
    o.format = csv ? MS_FORMAT_CSV : MS_FORMAT_PARQUET;
    ms_dataset *ds = NULL;
    ms_error e;
    ms_error_init(&e);
    if (ms_dataset_open(NULL, s->path, &o, &ds, &e) != MS_OK) {
      char msg[1024];
      add_problem(&p, s, NULL, NULL, NULL, ms_error_format(&e, msg, sizeof msg));
      continue;
    }
    if (!is_derived(s, s->timestamp_field))
      check_column(&p, ds, s, s->timestamp_field, "timestamp!", "timestamp field", csv);
    if (s->created_timestamp_column)
      check_column(&p, ds, s, s->created_timestamp_column, "timestamp!", "created timestamp column", csv);
    if (s->date_partition_column)
      check_column(&p, ds, s, s->date_partition_column, NULL, "date partition column", csv);
    for (int v = 0; v < ms_repo_num_feature_views(r.repo); v++) {
      const ms_feature_view_def *fv = ms_repo_feature_view(r.repo, v);
      if (strcmp(fv->source, s->name) != 0) continue;
      char role[512];
      /* derived columns and aggregation outputs are not file columns: the type check
       * (ms_repo_typecheck, below) covers them */
      for (int e2 = 0; e2 < fv->n_entities; e2++) {
        const ms_entity_def *ent = find_entity(r.repo, fv->entities[e2]);
        if (!ent) continue;
        for (int k = 0; k < ent->n_join_keys; k++) {
          if (is_derived(s, ent->join_keys[k]) || fv->agg.n_aggregations) continue;
          snprintf(role, sizeof role, "join key of entity %s (feature view %s)", ent->name, fv->name);
          check_column(&p, ds, s, ent->join_keys[k], ent->value_type, role, csv);
        }
      }
      for (int f = 0; fv->agg.n_aggregations == 0 && f < fv->n_schema; f++) {
        if (is_derived(s, fv->schema[f].name)) continue;
        snprintf(role, sizeof role, "feature %s of feature view %s", fv->schema[f].name, fv->name);
        check_column(&p, ds, s, fv->schema[f].name, fv->schema[f].dtype, role, csv);
      }
    }
    ms_dataset_close(ds);
  }
  /* the expressions and dtypes of every definition, against the same files */
  char **tprobs = NULL;
  int n_type = typecheck_print(r.repo, !cli_opt(a, "json"), &tprobs, err);
  if (n_type < 0) {
    cli_buf_reset(&p.text);
    cli_buf_reset(&p.json);
    cli_repo_close(&r);
    return err ? err->status : MS_ERR_INVALID;
  }
  for (int i = 0; i < n_type; i++) {
    cli_buf_puts(&p.json, p.n ? ",{\"source\":null,\"path\":null,\"column\":null,"
                                "\"declared\":null,\"actual\":null,\"problem\":"
                              : "{\"source\":null,\"path\":null,\"column\":null,"
                                "\"declared\":null,\"actual\":null,\"problem\":");
    cli_json_string(&p.json, tprobs[i], strlen(tprobs[i]));
    cli_buf_putc(&p.json, '}');
    p.n++;
  }
  ms_repo_problems_free(tprobs, n_type);
  if (cli_opt(a, "json")) {
    cli_buf out = {0};
    cli_buf_printf(&out, "{\"ok\":%s,\"sources\":%d,\"problems\":[", p.n ? "false" : "true", n_sources);
    cli_buf_append(&out, p.json.data, p.json.len);
    cli_buf_puts(&out, "]}\n");
    cli_write(stdout, &out);
    cli_buf_reset(&out);
  } else if (p.n) {
    cli_write(stdout, &p.text);
  } else {
    printf("%d source%s checked: no problems.\n", n_sources, n_sources == 1 ? "" : "s");
  }
  if (p.n) st = ms_error_set(err, MS_ERR_INVALID, "validate found %d problem%s", p.n, p.n == 1 ? "" : "s");
  cli_buf_reset(&p.text);
  cli_buf_reset(&p.json);
  cli_repo_close(&r);
  return st;
}
