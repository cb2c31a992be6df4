/* `morsel data-status [DATASET...] [--repair] [--gc]`: the state of the repository's managed
 * datasets (include/morsel/store.h, docs/storage.md).
 *
 * The registry knows every dataset that was ever committed to (ms_registry_data_datasets)
 * and records its root path with each commit, so the command needs nothing but the
 * repository: for each dataset (all, or those named) it opens the store at the last
 * recorded path (a single file when the records carry file identities), optionally runs
 * recovery (--repair) and GC (--gc, with offline_store.file_retention_seconds), then
 * prints what ms_store_check finds. Exit status 1 when any dataset still disagrees. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/repo_cli.h"
#include "morsel/alloc.h"
#include "morsel/store.h"

/* The last recorded root of a dataset and whether it is a single file. */
static ms_status dataset_root(ms_registry *reg, const char *project, const char *dataset,
                              char **out_path, bool *single, ms_error *err) {
  ms_reg_data_commit *c = NULL;
  int n = 0;
  *out_path = NULL;
  *single = false;
  ms_status st = ms_registry_data_commits(reg, project, dataset, &c, &n, err);
  if (st != MS_OK) return st;
  for (int i = 0; i < n; i++) {
    if (c[i].path) {
      ms_free(*out_path);
      *out_path = ms_strdup(c[i].path);
    }
    if (c[i].identity_before) *single = true;
  }
  ms_reg_data_commits_free(c, n);
  if (n == 0)
    return ms_error_set(err, MS_ERR_NOT_FOUND,
                        "no dataset '%s' in the registry of project '%s' (names look like "
                        "source:NAME, logs:SERVICE, aggregations:VIEW; run data-status without "
                        "arguments for the list)",
                        dataset, project);
  if (!*out_path)
    return ms_error_set(err, MS_ERR_CORRUPT, "registry: dataset '%s' has no recorded path",
                        dataset);
  return MS_OK;
}

static ms_status one_dataset(cli_repo *r, const cli_args *a, const char *dataset, bool *agrees,
                             ms_error *err) {
  *agrees = false;
  char *root = NULL;
  bool single = false;
  ms_status st = dataset_root(r->reg, r->cfg->project, dataset, &root, &single, err);
  if (st != MS_OK) return st;
  printf("%s: %s%s\n", dataset, root, single ? " (single file)" : "");
  struct stat sb;
  if (!single && stat(root, &sb) != 0) {
    /* Opening the store would create it; a missing root is a finding, not a repair. */
    printf("  DISAGREES: the dataset directory does not exist\n");
    ms_free(root);
    return MS_OK;
  }
  ms_store_options o;
  ms_store_options_init(&o);
  o.registry = r->reg;
  o.project = r->cfg->project;
  o.dataset = dataset;
  o.single_file = single;
  o.retention_seconds = r->cfg->file_retention_seconds;
  ms_store *s = NULL;
  st = ms_store_open(root, &o, &s, err);
  ms_free(root);
  if (st != MS_OK) return st;
  if (cli_opt(a, "repair")) {
    int resolved = 0;
    st = ms_store_recover(s, &resolved, err);
    if (st == MS_OK)
      printf("  repair: %d prepared record%s resolved\n", resolved, resolved == 1 ? "" : "s");
  }
  if (st == MS_OK && cli_opt(a, "gc")) {
    int64_t deleted = 0;
    st = ms_store_gc(s, &deleted, err);
    if (st == MS_OK)
      printf("  gc: %lld file%s deleted (retention %llds)\n", (long long)deleted,
             deleted == 1 ? "" : "s", (long long)r->cfg->file_retention_seconds);
  }
  ms_store_status ss;
  if (st == MS_OK) st = ms_store_check(s, &ss, err);
  if (st == MS_OK) {
    printf("  generation %lld (%s %lld, registry %lld)", (long long)ss.manifest_generation,
           single ? "file" : "manifest", (long long)ss.manifest_generation,
           (long long)ss.registry_generation);
    if (ss.n_prepared) printf(", %d prepared", ss.n_prepared);
    printf("\n  live: %lld file%s, %lld rows, %lld bytes\n", (long long)ss.live_files,
           ss.live_files == 1 ? "" : "s", (long long)ss.live_rows, (long long)ss.live_bytes);
    if (!single)
      printf("  pending deletions: %lld, orphans: %lld\n", (long long)ss.removed_pending,
             (long long)ss.orphans);
    if (ss.agrees) printf("  agrees\n");
    else printf("  DISAGREES: %s\n", ss.message);
    *agrees = ss.agrees;
  }
  ms_store_close(s);
  return st;
}

ms_status cli_cmd_data_status(const cli_args *a, ms_error *err) {
  cli_repo r;
  ms_status st = cli_repo_open(a, true, &r, err);
  if (st != MS_OK) return st;
  char **names = NULL;
  int n = 0;
  if (a->n_pos > 0) {
    names = ms_calloc((size_t)a->n_pos, sizeof *names);
    if (!names) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
    for (int i = 0; st == MS_OK && i < a->n_pos; i++) {
      names[i] = ms_strdup(a->pos[i]);
      if (!names[i]) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
      n = i + 1;
    }
  } else {
    st = ms_registry_data_datasets(r.reg, r.cfg->project, &names, &n, err);
    if (st == MS_OK && n == 0) printf("no managed datasets in project '%s'\n", r.cfg->project);
  }
  int disagree = 0;
  for (int i = 0; st == MS_OK && i < n; i++) {
    bool ok = false;
    st = one_dataset(&r, a, names[i], &ok, err);
    disagree += !ok;
  }
  ms_registry_strings_free(names, n);
  cli_repo_close(&r);
  if (st == MS_OK && disagree)
    st = ms_error_set(err, MS_ERR_CONFLICT, "%d of %d dataset%s disagree%s", disagree, n,
                      n == 1 ? "" : "s",
                      cli_opt(a, "repair") ? "" : " (--repair runs recovery)");
  return st;
}
