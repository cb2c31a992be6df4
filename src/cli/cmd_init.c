/* `morsel init NAME [-t minimal|retail]`: a new feature repository that works at once.
 *
 * -t retail writes the retail purchase-propensity repository (templates.h,
 * template_retail.c: definitions, run_pipeline.sh, README.md; project retail_purchase); its
 * data is generated or supplied when the pipeline runs.
 *
 * -t minimal (the default) writes NAME/feature_store.yaml, NAME/features.yaml (one entity, one source, one feature
 * view and one feature service over the sample data), NAME/README.md and
 * NAME/data/customer_features.parquet, made by the same generator as
 * `morsel example-data sample` (so its columns are documented in cmd_example.c). The
 * templates are plain text below; NAME's last path component is the project name. An
 * existing non-empty directory is refused before anything is written. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/repo_cli.h"
#include "cli/templates.h"
#include "morsel/alloc.h"

static const char k_minimal_config[] =
    "# morsel feature repository configuration (Feast-shaped; see docs/repository.md)\n"
    "project: %s\n"
    "provider: local\n"
    "registry: data/registry.db            # SQLite file; PostgreSQL: registry_type: sql, path: postgresql://...\n"
    "offline_store:\n"
    "  type: morsel\n"
    "  storage_path: data/morsel_storage\n"
    "  threads: 0                          # 0 = all cores\n"
    "  memory_limit_mb: 0                  # 0 = no limit\n";

static const char k_minimal_definitions[] =
    "# Feature definitions: entities, sources, feature views and feature services.\n"
    "entities:\n"
    "  - name: customer\n"
    "    join_keys: [customer_id]\n"
    "    value_type: int64\n"
    "    description: A retail customer\n"
    "\n"
    "sources:\n"
    "  - name: customer_source\n"
    "    path: data/customer_features.parquet\n"
    "    file_format: parquet\n"
    "    timestamp_field: event_timestamp\n"
    "    created_timestamp_column: created\n"
    "\n"
    "feature_views:\n"
    "  - name: customer_features\n"
    "    entities: [customer]\n"
    "    ttl: 90d\n"
    "    source: customer_source\n"
    "    schema:\n"
    "      - {name: total_spend, dtype: float64}\n"
    "      - {name: avg_order_value, dtype: float64}\n"
    "      - {name: orders_30d, dtype: int64}\n"
    "    online: false\n"
    "    description: Spend and order activity per customer\n"
    "    owner: data@example.com\n"
    "    tags: {team: growth}\n"
    "\n"
    "feature_services:\n"
    "  - name: customer_activity\n"
    "    features:\n"
    "      - customer_features\n"
    "    description: Every customer activity feature\n";

static const char k_minimal_readme[] =
    "# %s: a morsel feature repository\n"
    "\n"
    "- `feature_store.yaml`: the project, its registry (data/registry.db) and the offline store.\n"
    "- `features.yaml`: the definitions (entity, source, feature view, feature service).\n"
    "- `data/customer_features.parquet`: 1000 rows of sample customer features.\n"
    "\n"
    "Next, from this directory:\n"
    "\n"
    "    morsel validate          # check the data files against the definitions\n"
    "    morsel plan              # see what apply would register\n"
    "    morsel apply             # register the definitions\n"
    "    morsel feature-views list\n"
    "    morsel lineage customer_features\n"
    "\n"
    "Edit features.yaml (for example the ttl, or add days_since_signup: int64 to the schema),\n"
    "then `morsel plan` shows the change and `morsel apply` records a new version\n"
    "(`morsel feature-views history customer_features`).\n";

static ms_status write_text(const char *path, const char *fmt, const char *arg, ms_error *err) {
  FILE *f = fopen(path, "wx");
  if (!f) {
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot create: %s", strerror(errno));
  }
  int ok = fprintf(f, fmt, arg) >= 0;
  ok &= fclose(f) == 0;
  if (!ok) {
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot write: %s", strerror(errno));
  }
  return MS_OK;
}

static ms_status make_dir(const char *path, ms_error *err) {
  if (mkdir(path, 0777) == 0 || errno == EEXIST) return MS_OK;
  ms_error_set_file(err, path);
  return ms_error_set(err, MS_ERR_IO, "cannot create the directory: %s", strerror(errno));
}

/* Writes a template's files under dir (which exists). */
static ms_status write_template(const char *dir, size_t len, const cli_template_file *files, ms_error *err) {
  ms_status st = MS_OK;
  for (const cli_template_file *f = files; f->path && st == MS_OK; f++) {
    size_t plen = len + strlen(f->path) + 2;
    char *path = ms_malloc(plen);
    if (!path) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    snprintf(path, plen, "%.*s/%s", (int)len, dir, f->path);
    st = write_text(path, "%s", f->text, err);
    if (st == MS_OK && f->executable && chmod(path, 0755) != 0) {
      ms_error_set_file(err, path);
      st = ms_error_set(err, MS_ERR_IO, "cannot make it executable: %s", strerror(errno));
    }
    ms_free(path);
  }
  return st;
}

ms_status cli_cmd_init(const cli_args *a, ms_error *err) {
  const char *tmpl = cli_opt(a, "template");
  bool retail = tmpl && strcmp(tmpl, "retail") == 0;
  if (tmpl && !retail && strcmp(tmpl, "minimal") != 0)
    return ms_error_set(err, MS_ERR_INVALID, "unknown template '%s' (available: minimal, retail)", tmpl);
  const char *dir = a->pos[0];
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/') len--;
  const char *base = dir + len;
  while (base > dir && base[-1] != '/') base--;
  size_t blen = (size_t)(dir + len - base);
  char project[256];
  if (blen == 0 || blen >= sizeof project)
    return ms_error_set(err, MS_ERR_INVALID, "'%s' is not a usable repository name", dir);
  memcpy(project, base, blen);
  project[blen] = '\0';
  for (size_t i = 0; i < blen && !retail; i++) { /* retail's project is retail_purchase */
    char c = project[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return ms_error_set(err, MS_ERR_INVALID,
                          "project name '%s' may hold only letters, digits and underscores", project);
  }
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
    closedir(d);
    if (!empty) {
      ms_error_set_file(err, dir);
      return ms_error_set(err, MS_ERR_EXISTS, "the directory exists and is not empty: nothing was written");
    }
  } else if (errno != ENOENT) {
    ms_error_set_file(err, dir);
    return ms_error_set(err, MS_ERR_IO, "cannot use the directory: %s", strerror(errno));
  }
  size_t plen = len + 64;
  char *path = ms_malloc(plen);
  if (!path) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = make_dir(dir, err);
  snprintf(path, plen, "%.*s/data", (int)len, dir);
  if (st == MS_OK) st = make_dir(path, err);
  if (retail) {
    if (st == MS_OK) st = write_template(dir, len, cli_template_retail, err);
    if (st == MS_OK)
      printf("Created feature repository %s (project retail_purchase, template retail).\n\nNext:\n"
             "  cd %s\n  bash run_pipeline.sh      # generates data/transactions.csv unless present\n",
             dir, dir);
    ms_free(path);
    return st;
  }
  snprintf(path, plen, "%.*s/feature_store.yaml", (int)len, dir);
  if (st == MS_OK) st = write_text(path, k_minimal_config, project, err);
  snprintf(path, plen, "%.*s/features.yaml", (int)len, dir);
  if (st == MS_OK) st = write_text(path, "%s", k_minimal_definitions, err);
  snprintf(path, plen, "%.*s/README.md", (int)len, dir);
  if (st == MS_OK) st = write_text(path, k_minimal_readme, project, err);
  snprintf(path, plen, "%.*s/data/customer_features.parquet", (int)len, dir);
  if (st == MS_OK) {
    /* the generator behind `morsel example-data sample`, driven through its own options */
    static const cli_opt_spec specs[] = {{"out", "FILE", ""}, {"rows", "N", ""}, {"seed", "S", ""}};
    cli_args ea;
    memset(&ea, 0, sizeof ea);
    ea.n_pos = 1;
    ea.pos[0] = "sample";
    ea.specs = specs;
    ea.n_specs = 3;
    ea.values[0] = path;
    ea.values[1] = "1000";
    ea.values[2] = "42";
    st = cli_cmd_example_data(&ea, err);
  }
  if (st == MS_OK)
    printf("Created feature repository %s (project %s).\n\nNext:\n  cd %s\n  morsel validate\n  morsel plan\n"
           "  morsel apply\n",
           dir, project, dir);
  ms_free(path);
  return st;
}
