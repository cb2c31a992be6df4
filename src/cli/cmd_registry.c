/* Registry inspection commands: `morsel entities|data-sources|feature-views|
 * feature-services|saved-datasets list|describe|history`, `morsel lineage` and
 * `morsel registry-dump`.
 *
 * The registry stores each object as canonical JSON (no insignificant whitespace), so this
 * file needs only two small JSON tools: a pretty-printer that re-indents a valid document
 * token by token, and a lookup of one top-level key's raw value for the list tables. Both
 * work on the registry's own output, and stop at the end of the text whatever it holds.
 *
 * Lineage walks the project's edges from the named object upstream (edges into it) and
 * downstream (edges out of it), each direction to any depth; a node already on the current
 * path is not expanded again, so a cycle cannot loop. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/repo_cli.h"
#include "morsel/alloc.h"

/* ---------------- JSON helpers ---------------- */

/* Appends `json` re-indented by two spaces per level. */
static void json_pretty(cli_buf *b, const char *json, int base_indent) {
  int depth = base_indent;
  bool in_str = false;
  for (const char *p = json; *p; p++) {
    char c = *p;
    if (in_str) {
      cli_buf_putc(b, c);
      if (c == '\\' && p[1]) cli_buf_putc(b, *++p);
      else if (c == '"') in_str = false;
      continue;
    }
    switch (c) {
      case '"': in_str = true; cli_buf_putc(b, c); break;
      case '{': case '[': {
        const char *q = p + 1;
        while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r') q++;
        if (*q == (c == '{' ? '}' : ']')) { /* empty: keep on one line */
          cli_buf_putc(b, c);
          cli_buf_putc(b, *q);
          p = q;
          break;
        }
        cli_buf_putc(b, c);
        depth++;
        cli_buf_printf(b, "\n%*s", depth * 2, "");
        break;
      }
      case '}': case ']':
        depth--;
        cli_buf_printf(b, "\n%*s%c", depth * 2, "", c);
        break;
      case ',': cli_buf_printf(b, ",\n%*s", depth * 2, ""); break;
      case ':': cli_buf_puts(b, ": "); break;
      case ' ': case '\n': case '\t': case '\r': break;
      default: cli_buf_putc(b, c);
    }
  }
}

/* End of the JSON value starting at p (p itself when it is not a value). */
static const char *json_skip(const char *p) {
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++)
      if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : p;
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    for (; *p; p++) {
      if (*p == '"') { p = json_skip(p) - 1; continue; }
      if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
    }
    return p;
  }
  while (*p && *p != ',' && *p != '}' && *p != ']') p++;
  return p;
}

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  return p;
}

/* The raw text of top-level key `key` of a JSON object (*len = 0 when absent). */
static const char *json_get(const char *json, const char *key, size_t *len) {
  *len = 0;
  const char *p = ws(json);
  if (*p != '{') return NULL;
  p = ws(p + 1);
  size_t klen = strlen(key);
  while (*p == '"') {
    const char *kend = json_skip(p);
    bool match = (size_t)(kend - p) == klen + 2 && strncmp(p + 1, key, klen) == 0;
    p = ws(kend);
    if (*p != ':') return NULL;
    p = ws(p + 1);
    const char *vend = json_skip(p);
    if (vend == p) return NULL;
    if (match) {
      *len = (size_t)(vend - p);
      return p;
    }
    p = ws(vend);
    if (*p != ',') return NULL;
    p = ws(p + 1);
  }
  return NULL;
}

/* A table cell from a JSON value: strings without quotes, lists as a,b,c. */
static void cell_from_json(cli_buf *b, const char *v, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = v[i];
    if (c == '"' || c == '[' || c == ']' || c == '{' || c == '}') continue;
    if (c == '\\' && i + 1 < len) { cli_buf_putc(b, v[++i]); continue; }
    cli_buf_putc(b, c);
  }
}

/* ---------------- object commands ---------------- */

typedef struct kind_columns {
  const char *kind;
  const char *keys[4]; /* the JSON keys shown by list, after NAME */
} kind_columns;

static const kind_columns k_kind_columns[] = {
    {"entity", {"join_keys", "value_type", "description", NULL}},
    {"data_source", {"path", "file_format", "timestamp_field", NULL}},
    {"feature_view", {"entities", "source", "ttl", NULL}},
    {"on_demand_feature_view", {"sources", "description", NULL, NULL}},
    {"feature_service", {"description", NULL, NULL, NULL}},
    {"saved_dataset", {"features", "rows", "path", NULL}},
};

static const kind_columns *columns_of(const char *kind) {
  for (size_t i = 0; i < sizeof k_kind_columns / sizeof k_kind_columns[0]; i++)
    if (strcmp(k_kind_columns[i].kind, kind) == 0) return &k_kind_columns[i];
  return &k_kind_columns[0];
}

/* Prints rows of cells (each row n_cols strings) aligned, the first row a header. */
static void print_table(cli_buf *out, char **cells, int n_rows, int n_cols) {
  size_t width[8] = {0};
  for (int r = 0; r < n_rows; r++)
    for (int c = 0; c < n_cols; c++) {
      size_t w = cli_display_width(cells[r * n_cols + c], strlen(cells[r * n_cols + c]));
      if (w > 60) w = 60;
      if (w > width[c]) width[c] = w;
    }
  for (int r = 0; r < n_rows; r++) {
    for (int c = 0; c < n_cols; c++) {
      const char *s = cells[r * n_cols + c];
      size_t w = cli_display_width(s, strlen(s));
      cli_buf_puts(out, s);
      if (c + 1 < n_cols) /* at least two spaces, also after a cell wider than the cap */
        for (size_t k = w < width[c] ? w : width[c]; k < width[c] + 2; k++) cli_buf_putc(out, ' ');
    }
    while (out->len > 0 && out->data[out->len - 1] == ' ') out->len--;
    cli_buf_putc(out, '\n');
  }
}

static char *buf_take(cli_buf *b) {
  cli_buf_putc(b, '\0');
  char *s = b->failed ? NULL : b->data;
  if (!s) cli_buf_reset(b);
  memset(b, 0, sizeof *b);
  return s ? s : ms_strdup("");
}

/* The first 12 characters of a hash (ms_strndup copies n bytes, so bound n first). */
static char *hash_prefix(const char *h) {
  if (!h) h = "";
  size_t n = strlen(h);
  return ms_strndup(h, n < 12 ? n : 12);
}

static ms_status obj_list(cli_repo *r, const char *kind, bool json, ms_error *err) {
  ms_reg_object *objs = NULL;
  int n = 0;
  ms_status st = ms_registry_list(r->reg, r->cfg->project, kind, &objs, &n, err);
  if (st) return st;
  cli_buf out = {0};
  if (json) {
    cli_buf_putc(&out, '[');
    for (int i = 0; i < n; i++) {
      cli_buf_puts(&out, i ? ",{\"name\":" : "{\"name\":");
      cli_json_string(&out, objs[i].name, strlen(objs[i].name));
      cli_buf_puts(&out, ",\"hash\":");
      cli_json_string(&out, objs[i].hash, strlen(objs[i].hash));
      cli_buf_printf(&out, ",\"definition\":%s}", objs[i].json);
    }
    cli_buf_puts(&out, "]\n");
  } else {
    const kind_columns *kc = columns_of(kind);
    int n_cols = 2;
    while (n_cols - 2 < 4 && kc->keys[n_cols - 2]) n_cols++;
    char **cells = ms_calloc((size_t)(n + 1) * (size_t)n_cols, sizeof *cells);
    if (!cells) {
      ms_reg_objects_free(objs, n);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
    cells[0] = ms_strdup("NAME");
    for (int c = 1; c < n_cols - 1; c++) {
      cli_buf h = {0};
      for (const char *k = kc->keys[c - 1]; *k; k++) cli_buf_putc(&h, *k == '_' ? ' ' : (char)(*k >= 'a' && *k <= 'z' ? *k - 32 : *k));
      cells[c] = buf_take(&h);
    }
    cells[n_cols - 1] = ms_strdup("HASH");
    for (int i = 0; i < n; i++) {
      char **row = cells + (size_t)(i + 1) * (size_t)n_cols;
      row[0] = ms_strdup(objs[i].name);
      for (int c = 1; c < n_cols - 1; c++) {
        size_t len;
        const char *v = json_get(objs[i].json, kc->keys[c - 1], &len);
        cli_buf cb = {0};
        if (v && !(len == 4 && strncmp(v, "null", 4) == 0)) cell_from_json(&cb, v, len);
        row[c] = buf_take(&cb);
      }
      row[n_cols - 1] = hash_prefix(objs[i].hash);
    }
    if (n == 0) cli_buf_printf(&out, "no %ss in project %s\n", cli_kind_label(kind), r->cfg->project);
    else print_table(&out, cells, n + 1, n_cols);
    for (int i = 0; i < (n + 1) * n_cols; i++) ms_free(cells[i]);
    ms_free(cells);
  }
  bool ok = cli_write(stdout, &out);
  cli_buf_reset(&out);
  ms_reg_objects_free(objs, n);
  return ok ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
}

/* The command that shows a kind ("feature-views" for "feature_view"). */
static const char *command_of(const char *kind) {
  static const char *const map[][2] = {
      {"entity", "entities"}, {"data_source", "data-sources"}, {"feature_view", "feature-views"},
      {"on_demand_feature_view", "on-demand-feature-views"}, {"feature_service", "feature-services"},
      {"saved_dataset", "saved-datasets"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i][0], kind) == 0) return map[i][1];
  return kind;
}

static ms_status obj_describe(cli_repo *r, const char *kind, const char *name, int64_t version,
                              bool json, ms_error *err) {
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  ms_status st = ms_registry_get(r->reg, r->cfg->project, kind, name, version, &v, err);
  if (st == MS_ERR_NOT_FOUND) {
    ms_error_init(err);
    if (version > 0)
      return ms_error_set(err, MS_ERR_NOT_FOUND, "%s '%s' has no version %lld in project %s (see morsel %s history %s)",
                          cli_kind_label(kind), name, (long long)version, r->cfg->project, command_of(kind),
                          name);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "no %s named '%s' in project %s", cli_kind_label(kind),
                        name, r->cfg->project);
  }
  if (st) return st;
  cli_buf out = {0};
  if (json) {
    cli_buf_puts(&out, "{\"kind\":");
    cli_json_string(&out, kind, strlen(kind));
    cli_buf_puts(&out, ",\"name\":");
    cli_json_string(&out, name, strlen(name));
    cli_buf_printf(&out, ",\"version\":%lld,\"hash\":", (long long)v.version);
    cli_json_string(&out, v.hash ? v.hash : "", v.hash ? strlen(v.hash) : 0);
    cli_buf_puts(&out, ",\"created_at\":");
    cli_json_string(&out, v.created_at ? v.created_at : "", v.created_at ? strlen(v.created_at) : 0);
    cli_buf_puts(&out, ",\"user\":");
    cli_json_string(&out, v.user ? v.user : "", v.user ? strlen(v.user) : 0);
    cli_buf_puts(&out, ",\"host\":");
    cli_json_string(&out, v.host ? v.host : "", v.host ? strlen(v.host) : 0);
    cli_buf_printf(&out, ",\"deleted\":%s,\"definition\":%s}\n", v.deleted ? "true" : "false",
                   v.json ? v.json : "null");
  } else {
    cli_buf_printf(&out, "%s %s, version %lld%s (%s by %s@%s, hash %.12s)\n", cli_kind_label(kind), name,
                   (long long)v.version, v.deleted ? ", deleted" : "", v.created_at ? v.created_at : "?",
                   v.user ? v.user : "?", v.host ? v.host : "?", v.hash ? v.hash : "");
    if (v.json) json_pretty(&out, v.json, 0);
    cli_buf_putc(&out, '\n');
  }
  bool ok = cli_write(stdout, &out);
  cli_buf_reset(&out);
  ms_reg_version_reset(&v);
  return ok ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
}

static ms_status obj_history(cli_repo *r, const char *kind, const char *name, bool json, ms_error *err) {
  ms_reg_version *v = NULL;
  int n = 0;
  ms_status st = ms_registry_history(r->reg, r->cfg->project, kind, name, &v, &n, err);
  if (st == MS_OK && n == 0) {
    ms_reg_versions_free(v, n);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "no %s named '%s' in project %s", cli_kind_label(kind),
                        name, r->cfg->project);
  }
  if (st) return st;
  cli_buf out = {0};
  if (json) {
    cli_buf_putc(&out, '[');
    for (int i = 0; i < n; i++) {
      cli_buf_printf(&out, "%s{\"version\":%lld,\"created_at\":", i ? "," : "", (long long)v[i].version);
      const char *f[4] = {v[i].created_at, v[i].user, v[i].host, v[i].hash};
      const char *k[4] = {"created_at", "user", "host", "hash"};
      for (int j = 0; j < 4; j++) {
        if (j) cli_buf_printf(&out, ",\"%s\":", k[j]);
        cli_json_string(&out, f[j] ? f[j] : "", f[j] ? strlen(f[j]) : 0);
      }
      cli_buf_printf(&out, ",\"deleted\":%s,\"summary\":", v[i].deleted ? "true" : "false");
      if (v[i].summary) cli_json_string(&out, v[i].summary, strlen(v[i].summary));
      else cli_buf_puts(&out, "null");
      cli_buf_putc(&out, '}');
    }
    cli_buf_puts(&out, "]\n");
  } else {
    char **cells = ms_calloc((size_t)(n + 1) * 5, sizeof *cells);
    if (!cells) {
      ms_reg_versions_free(v, n);
      return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    }
    const char *head[5] = {"VERSION", "TIME", "BY", "HASH", "SUMMARY"};
    for (int c = 0; c < 5; c++) cells[c] = ms_strdup(head[c]);
    for (int i = 0; i < n; i++) {
      char **row = cells + (size_t)(i + 1) * 5;
      cli_buf t = {0};
      cli_buf_printf(&t, "%lld", (long long)v[i].version);
      row[0] = buf_take(&t);
      row[1] = ms_strdup(v[i].created_at ? v[i].created_at : "");
      cli_buf_reset(&t);
      cli_buf_printf(&t, "%s@%s", v[i].user ? v[i].user : "?", v[i].host ? v[i].host : "?");
      row[2] = buf_take(&t);
      row[3] = hash_prefix(v[i].hash);
      cli_buf_reset(&t);
      if (v[i].deleted) cli_buf_puts(&t, "deleted");
      else if (v[i].summary && *v[i].summary) cli_buf_puts(&t, v[i].summary);
      else if (i == 0 || (i > 0 && v[i - 1].deleted)) cli_buf_puts(&t, "created");
      row[4] = buf_take(&t);
    }
    print_table(&out, cells, n + 1, 5);
    for (int i = 0; i < (n + 1) * 5; i++) ms_free(cells[i]);
    ms_free(cells);
  }
  bool ok = cli_write(stdout, &out);
  cli_buf_reset(&out);
  ms_reg_versions_free(v, n);
  return ok ? MS_OK : ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
}

static ms_status objects_cmd(const cli_args *a, const char *kind, ms_error *err) {
  const char *verb = a->pos[0];
  bool is_list = strcmp(verb, "list") == 0;
  bool is_describe = strcmp(verb, "describe") == 0;
  bool is_history = strcmp(verb, "history") == 0;
  bool is_get = strcmp(kind, "saved_dataset") == 0 && strcmp(verb, "get") == 0;
  if (!is_list && !is_describe && !is_history && !is_get)
    return ms_error_set(err, MS_ERR_INVALID, "unknown action '%s': use list, describe NAME or history NAME%s",
                        verb, strcmp(kind, "saved_dataset") == 0 ? " or get NAME --output FILE" : "");
  if (is_list && a->n_pos != 1) return ms_error_set(err, MS_ERR_INVALID, "list takes no NAME");
  if (!is_list && a->n_pos != 2) return ms_error_set(err, MS_ERR_INVALID, "%s needs a NAME", verb);
  int64_t version = 0;
  ms_status st = cli_opt_int(a, "version", 1, INT64_MAX, &version, err);
  if (st) return st;
  if (cli_opt(a, "version") && !is_describe)
    return ms_error_set(err, MS_ERR_INVALID, "--version goes with describe");
  if (cli_opt(a, "output") && !is_get) return ms_error_set(err, MS_ERR_INVALID, "--output goes with get");
  if (is_get && (st = cli_saved_dataset_get_check(a, err))) return st;
  cli_repo r;
  st = cli_repo_open(a, true, &r, err);
  if (st) return st;
  bool json = cli_opt(a, "json") != NULL;
  if (is_list) st = obj_list(&r, kind, json, err);
  else if (is_describe) st = obj_describe(&r, kind, a->pos[1], version, json, err);
  else if (is_get) st = cli_saved_dataset_get(a, &r, a->pos[1], err);
  else st = obj_history(&r, kind, a->pos[1], json, err);
  cli_repo_close(&r);
  return st;
}

ms_status cli_cmd_entities(const cli_args *a, ms_error *err) { return objects_cmd(a, "entity", err); }
ms_status cli_cmd_data_sources(const cli_args *a, ms_error *err) { return objects_cmd(a, "data_source", err); }
ms_status cli_cmd_feature_views(const cli_args *a, ms_error *err) { return objects_cmd(a, "feature_view", err); }
ms_status cli_cmd_on_demand_feature_views(const cli_args *a, ms_error *err) {
  return objects_cmd(a, "on_demand_feature_view", err);
}
ms_status cli_cmd_feature_services(const cli_args *a, ms_error *err) {
  return objects_cmd(a, "feature_service", err);
}
ms_status cli_cmd_saved_datasets(const cli_args *a, ms_error *err) { return objects_cmd(a, "saved_dataset", err); }

/* ---------------- lineage ---------------- */

typedef struct lineage {
  const ms_reg_edge *edges;
  int n_edges;
  bool *used; /* edges reached by the walk */
  cli_buf *out;
  bool tree;
} lineage;

static bool node_eq(const char *k1, const char *n1, const char *k2, const char *n2) {
  return strcmp(k1, k2) == 0 && strcmp(n1, n2) == 0;
}

/* path: the nodes from the root to here (kinds and names), to stop at cycles */
static void walk(lineage *L, const char *kind, const char *name, bool up, int depth, const char **path_k,
                 const char **path_n) {
  if (depth >= 64) return;
  path_k[depth] = kind;
  path_n[depth] = name;
  for (int i = 0; i < L->n_edges; i++) {
    const ms_reg_edge *e = &L->edges[i];
    const char *nk, *nn;
    if (up && node_eq(e->to_kind, e->to_name, kind, name)) { nk = e->from_kind; nn = e->from_name; }
    else if (!up && node_eq(e->from_kind, e->from_name, kind, name)) { nk = e->to_kind; nn = e->to_name; }
    else continue;
    L->used[i] = true;
    bool cycle = false;
    for (int d = 0; d <= depth; d++) cycle |= node_eq(path_k[d], path_n[d], nk, nn);
    if (L->tree)
      cli_buf_printf(L->out, "%*s%s %s %s%s\n", 2 * (depth + 1), "", up ? "<-" : "->", nk, nn,
                     cycle ? " (cycle)" : "");
    if (!cycle) walk(L, nk, nn, up, depth + 1, path_k, path_n);
  }
}

/* Edges in one order whatever the back end returns: by from kind, from name, to kind, to name. */
static int edge_cmp(const void *x, const void *y) {
  const ms_reg_edge *a = x, *b = y;
  int c = strcmp(a->from_kind, b->from_kind);
  if (!c) c = strcmp(a->from_name, b->from_name);
  if (!c) c = strcmp(a->to_kind, b->to_kind);
  if (!c) c = strcmp(a->to_name, b->to_name);
  return c;
}

static void json_node(cli_buf *b, const char *kind, const char *name) {
  cli_buf_puts(b, "{\"kind\":");
  cli_json_string(b, kind, strlen(kind));
  cli_buf_puts(b, ",\"name\":");
  cli_json_string(b, name, strlen(name));
  cli_buf_putc(b, '}');
}

static void dot_id(cli_buf *b, const char *kind, const char *name) {
  cli_buf_putc(b, '"');
  for (const char *s = kind; *s; s++) cli_buf_putc(b, *s);
  cli_buf_putc(b, ':');
  for (const char *s = name; *s; s++) {
    if (*s == '"' || *s == '\\') cli_buf_putc(b, '\\');
    cli_buf_putc(b, *s);
  }
  cli_buf_putc(b, '"');
}

ms_status cli_cmd_lineage(const cli_args *a, ms_error *err) {
  const char *format = cli_opt(a, "format");
  if (!format) format = cli_opt(a, "json") ? "json" : "tree";
  if (strcmp(format, "tree") != 0 && strcmp(format, "dot") != 0 && strcmp(format, "json") != 0)
    return ms_error_set(err, MS_ERR_INVALID, "--format wants tree, dot or json, got '%s'", format);
  cli_repo r;
  ms_status st = cli_repo_open(a, true, &r, err);
  if (st) return st;
  /* find the object: KIND:NAME or NAME */
  const char *arg = a->pos[0];
  const char *colon = strchr(arg, ':');
  char kind_buf[64] = "";
  const char *name = arg;
  if (colon && (size_t)(colon - arg) < sizeof kind_buf) {
    memcpy(kind_buf, arg, (size_t)(colon - arg));
    kind_buf[colon - arg] = '\0';
    name = colon + 1;
  }
  ms_reg_object *objs = NULL;
  int n_objs = 0;
  ms_reg_edge *edges = NULL;
  int n_edges = 0;
  st = ms_registry_list(r.reg, r.cfg->project, kind_buf[0] ? kind_buf : NULL, &objs, &n_objs, err);
  if (st == MS_OK) st = ms_registry_edges(r.reg, r.cfg->project, &edges, &n_edges, err);
  if (st == MS_OK && n_edges > 1) qsort(edges, (size_t)n_edges, sizeof *edges, edge_cmp);
  const char *kind = NULL;
  int matches = 0;
  for (int i = 0; st == MS_OK && i < n_objs; i++)
    if (strcmp(objs[i].name, name) == 0) {
      if (!kind) kind = objs[i].kind;
      matches++;
    }
  /* nodes that are not registry objects (source files) can be named by kind:name too */
  for (int i = 0; st == MS_OK && !kind && kind_buf[0] && i < n_edges; i++) {
    if (node_eq(edges[i].from_kind, edges[i].from_name, kind_buf, name)) kind = edges[i].from_kind;
    else if (node_eq(edges[i].to_kind, edges[i].to_name, kind_buf, name)) kind = edges[i].to_kind;
  }
  if (st == MS_OK && !kind)
    st = ms_error_set(err, MS_ERR_NOT_FOUND, "no object named '%s' in project %s", arg, r.cfg->project);
  if (st == MS_OK && matches > 1)
    st = ms_error_set(err, MS_ERR_INVALID, "'%s' names %d objects of different kinds: use KIND:NAME", name,
                      matches);
  cli_buf out = {0};
  bool *used = st == MS_OK ? ms_calloc((size_t)(n_edges ? n_edges : 1), sizeof *used) : NULL;
  if (st == MS_OK && !used) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  if (st == MS_OK) {
    const char *pk[65], *pn[65];
    bool tree = strcmp(format, "tree") == 0;
    lineage L = {edges, n_edges, used, &out, tree};
    if (tree) cli_buf_printf(&out, "%s %s\n", kind, name);
    size_t mark = out.len;
    if (tree) cli_buf_puts(&out, "upstream:\n");
    walk(&L, kind, name, true, 0, pk, pn);
    if (tree && out.len == mark + strlen("upstream:\n")) cli_buf_puts(&out, "  (none)\n");
    if (tree) cli_buf_puts(&out, "downstream:\n");
    mark = out.len;
    walk(&L, kind, name, false, 0, pk, pn);
    if (tree && out.len == mark) cli_buf_puts(&out, "  (none)\n");
    if (strcmp(format, "dot") == 0) {
      cli_buf_puts(&out, "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n  ");
      dot_id(&out, kind, name);
      cli_buf_puts(&out, " [style=bold];\n");
      for (int i = 0; i < n_edges; i++) {
        if (!used[i]) continue;
        cli_buf_puts(&out, "  ");
        dot_id(&out, edges[i].from_kind, edges[i].from_name);
        cli_buf_puts(&out, " -> ");
        dot_id(&out, edges[i].to_kind, edges[i].to_name);
        cli_buf_puts(&out, ";\n");
      }
      cli_buf_puts(&out, "}\n");
    } else if (strcmp(format, "json") == 0) {
      cli_buf_puts(&out, "{\"root\":");
      json_node(&out, kind, name);
      cli_buf_puts(&out, ",\"edges\":[");
      bool first = true;
      for (int i = 0; i < n_edges; i++) {
        if (!used[i]) continue;
        cli_buf_puts(&out, first ? "{\"from\":" : ",{\"from\":");
        first = false;
        json_node(&out, edges[i].from_kind, edges[i].from_name);
        cli_buf_puts(&out, ",\"to\":");
        json_node(&out, edges[i].to_kind, edges[i].to_name);
        cli_buf_putc(&out, '}');
      }
      cli_buf_puts(&out, "]}\n");
    }
    if (!cli_write(stdout, &out)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
  }
  cli_buf_reset(&out);
  ms_free(used);
  ms_reg_objects_free(objs, n_objs);
  ms_reg_edges_free(edges, n_edges);
  cli_repo_close(&r);
  return st;
}

/* ---------------- registry-dump ---------------- */

ms_status cli_cmd_registry_dump(const cli_args *a, ms_error *err) {
  cli_repo r;
  ms_status st = cli_repo_open(a, true, &r, err);
  if (st) return st;
  ms_reg_object *objs = NULL;
  int n_objs = 0;
  ms_reg_edge *edges = NULL;
  int n_edges = 0;
  int64_t gen = 0;
  st = ms_registry_generation(r.reg, r.cfg->project, &gen, err);
  if (st == MS_OK) st = ms_registry_list(r.reg, r.cfg->project, NULL, &objs, &n_objs, err);
  if (st == MS_OK) st = ms_registry_edges(r.reg, r.cfg->project, &edges, &n_edges, err);
  if (st == MS_OK && n_edges > 1) qsort(edges, (size_t)n_edges, sizeof *edges, edge_cmp);
  cli_buf out = {0};
  if (st == MS_OK) {
    cli_buf_puts(&out, "{\"project\":");
    cli_json_string(&out, r.cfg->project, strlen(r.cfg->project));
    cli_buf_puts(&out, ",\"backend\":");
    const char *be = ms_registry_backend(r.reg);
    cli_json_string(&out, be, strlen(be));
    cli_buf_printf(&out, ",\"generation\":%lld,\"objects\":[", (long long)gen);
    for (int i = 0; st == MS_OK && i < n_objs; i++) {
      ms_reg_version v;
      memset(&v, 0, sizeof v);
      st = ms_registry_get(r.reg, r.cfg->project, objs[i].kind, objs[i].name, 0, &v, err);
      if (st) break;
      cli_buf_puts(&out, i ? ",{\"kind\":" : "{\"kind\":");
      cli_json_string(&out, objs[i].kind, strlen(objs[i].kind));
      cli_buf_puts(&out, ",\"name\":");
      cli_json_string(&out, objs[i].name, strlen(objs[i].name));
      cli_buf_printf(&out, ",\"version\":%lld,\"hash\":", (long long)v.version);
      cli_json_string(&out, objs[i].hash, strlen(objs[i].hash));
      cli_buf_puts(&out, ",\"created_at\":");
      cli_json_string(&out, v.created_at ? v.created_at : "", v.created_at ? strlen(v.created_at) : 0);
      cli_buf_printf(&out, ",\"definition\":%s}", objs[i].json);
      ms_reg_version_reset(&v);
    }
    cli_buf_puts(&out, "],\"lineage\":[");
    for (int i = 0; i < n_edges; i++) {
      cli_buf_puts(&out, i ? ",{\"from\":" : "{\"from\":");
      json_node(&out, edges[i].from_kind, edges[i].from_name);
      cli_buf_puts(&out, ",\"to\":");
      json_node(&out, edges[i].to_kind, edges[i].to_name);
      cli_buf_putc(&out, '}');
    }
    cli_buf_puts(&out, "]}");
  }
  if (st == MS_OK) {
    cli_buf pretty = {0};
    cli_buf_putc(&out, '\0');
    json_pretty(&pretty, out.data, 0);
    cli_buf_putc(&pretty, '\n');
    if (!cli_write(stdout, &pretty)) st = ms_error_set(err, MS_ERR_IO, "cannot write to standard output");
    cli_buf_reset(&pretty);
  }
  cli_buf_reset(&out);
  ms_reg_objects_free(objs, n_objs);
  ms_reg_edges_free(edges, n_edges);
  cli_repo_close(&r);
  return st;
}
