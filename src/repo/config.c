/* feature_store.yaml: the repository's configuration, Feast-shaped.
 *
 * Every scalar has had ${ENV_VAR} substituted before this runs. Keys are checked against
 * fixed tables; an unknown key is a problem with the nearest known key suggested. Keys of
 * Feast's Ray offline store (type: ray, ray_conf, enable_ray_logging, ray_address, KubeRay
 * settings, ...) are accepted: the ones with a morsel meaning are mapped, the others do
 * nothing here, and each adds a one-line note to config.notes saying which. Feast top-level
 * keys morsel does not use (online_store, entity_key_serialization_version, ...) are
 * likewise accepted with a note. Paths are resolved against the repository directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "morsel/alloc.h"
#include "repo_int.h"

char *ms_repo_join(const char *dir, const char *path) {
  if (!path) return NULL;
  if (path[0] == '/' || strstr(path, "://")) return ms_strdup(path);
  size_t dl = strlen(dir);
  while (path[0] == '.' && path[1] == '/') path += 2;
  if (!strcmp(path, ".")) return ms_strdup(dir);
  return ms_asprintf("%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/", path);
}

const char *ms_repo_display(const ms_repo *repo, const char *abs_path) {
  const char *d = repo->config.repo_dir;
  size_t dl = d ? strlen(d) : 0;
  if (d && !strncmp(abs_path, d, dl) && abs_path[dl] == '/') return abs_path + dl + 1;
  return abs_path;
}

void ms_repo_config_reset(ms_repo_config *c) {
  ms_free(c->project);
  ms_free(c->provider);
  ms_free(c->repo_dir);
  ms_free(c->config_path);
  ms_free(c->registry_location);
  ms_free(c->storage_path);
  for (int i = 0; i < c->n_notes; i++) ms_free(c->notes[i]);
  ms_free(c->notes);
  memset(c, 0, sizeof *c);
}

static void add_note(ms_repo_config *c, const char *fmt, const char *arg) {
  char **v = ms_realloc(c->notes, (size_t)(c->n_notes + 1) * sizeof *v);
  if (!v) return;
  c->notes = v;
  char *s = ms_asprintf(fmt, arg);
  if (s) c->notes[c->n_notes++] = s;
}

typedef struct cfgctx {
  ms_repo *repo;
  const char *file;
  ms_probs *probs;
} cfgctx;

static const char *want_str(cfgctx *c, const ms_ynode *n, const char *what) {
  if (!n || n->kind != MS_YN_SCALAR) {
    if (n)
      ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be a text value", what);
    return NULL;
  }
  return n->value;
}

static bool want_int(cfgctx *c, const ms_ynode *n, const char *what, int64_t min, int64_t *out) {
  const char *s = want_str(c, n, what);
  if (!s) return false;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || errno) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be an integer, not '%s'", what, s);
    return false;
  }
  if (v < min) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be at least %lld, not %lld", what,
                 (long long)min, v);
    return false;
  }
  *out = v;
  return true;
}

static bool parse_bool(const char *s, bool *out) {
  static const char *t[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
  static const char *f[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    if (!strcmp(s, t[i])) return *out = true, true;
    if (!strcmp(s, f[i])) return *out = false, true;
  }
  return false;
}

static bool want_bool(cfgctx *c, const ms_ynode *n, const char *what, bool *out) {
  const char *s = want_str(c, n, what);
  if (!s) return false;
  if (!parse_bool(s, out)) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "%s must be true or false, not '%s'", what,
                 s);
    return false;
  }
  return true;
}

static bool is_pg_url(const char *s) {
  return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgresql+psycopg2://", 22) ||
         !strncmp(s, "postgres://", 11);
}

/* A registry path: postgresql URL kept, sqlite:///x stripped to x, files resolved. */
static void set_registry_path(cfgctx *c, const ms_ynode *n) {
  const char *s = want_str(c, n, "registry path");
  if (!s) return;
  if (!*s) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "registry path is empty");
    return;
  }
  ms_free(c->repo->config.registry_location);
  if (is_pg_url(s)) {
    c->repo->config.registry_location = ms_strdup(s);
  } else if (!strncmp(s, "sqlite:///", 10)) {
    c->repo->config.registry_location = ms_repo_join(c->repo->config.repo_dir, s + 10);
  } else if (strstr(s, "://")) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "registry '%s': only SQLite files and postgresql:// URLs are supported", s);
    c->repo->config.registry_location = NULL;
  } else {
    c->repo->config.registry_location = ms_repo_join(c->repo->config.repo_dir, s);
  }
}

static void parse_registry(cfgctx *c, const ms_ynode *n) {
  if (n->kind == MS_YN_SCALAR) {
    set_registry_path(c, n);
    return;
  }
  if (n->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, n->line, n->col,
                 "registry must be a path or a mapping with registry_type and path");
    return;
  }
  static const char *const known[] = {"registry_type", "path", "cache_ttl_seconds",
                                      "registry_store_type", "sqlalchemy_config_kwargs",
                                      "cache_mode"};
  const ms_ynode *path = NULL;
  for (int i = 0; i < n->n; i++) {
    const char *k = n->keys[i]->value;
    const ms_ynode *v = n->items[i];
    if (!strcmp(k, "registry_type")) {
      const char *t = want_str(c, v, "registry_type");
      if (t && strcmp(t, "sql") && strcmp(t, "file"))
        ms_probs_add(c->probs, c->file, v->line, v->col,
                     "registry_type '%s' is not supported (use sql or file)", t);
    } else if (!strcmp(k, "path")) {
      path = v;
    } else if (!strcmp(k, "cache_ttl_seconds")) {
      want_int(c, v, "cache_ttl_seconds", 0, &c->repo->config.cache_ttl_seconds);
    } else if (!strcmp(k, "registry_store_type") || !strcmp(k, "sqlalchemy_config_kwargs") ||
               !strcmp(k, "cache_mode")) {
      add_note(&c->repo->config, "registry.%s: accepted, does nothing in morsel", k);
    } else {
      ms_repo_unknown_key(c->probs, c->file, n->keys[i], "registry", known,
                          (int)(sizeof known / sizeof *known));
    }
  }
  if (!path)
    ms_probs_add(c->probs, c->file, n->line, n->col, "registry is missing required key 'path'");
  else
    set_registry_path(c, path);
}

static void parse_ray_conf(cfgctx *c, const ms_ynode *n) {
  if (n->kind != MS_YN_MAP) {
    if (!ms_ynode_is_null(n))
      ms_probs_add(c->probs, c->file, n->line, n->col, "ray_conf must be a mapping");
    return;
  }
  for (int i = 0; i < n->n; i++) {
    const char *k = n->keys[i]->value;
    if (!strcmp(k, "num_cpus")) {
      int64_t v;
      if (want_int(c, n->items[i], "ray_conf.num_cpus", 0, &v)) {
        c->repo->config.threads = v > 4096 ? 4096 : (int)v;
        add_note(&c->repo->config, "offline_store.ray_conf.%s: used as threads", k);
      }
    } else {
      add_note(&c->repo->config,
               "offline_store.ray_conf.%s: accepted, does nothing (morsel does not use Ray)", k);
    }
  }
}

static void parse_offline_store(cfgctx *c, const ms_ynode *n) {
  ms_repo_config *cfg = &c->repo->config;
  if (n->kind != MS_YN_MAP) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "offline_store must be a mapping");
    return;
  }
  static const char *const known[] = {
      "type", "storage_path", "threads", "memory_limit_mb", "broadcast_join_threshold_mb",
      "target_partition_size_mb", "max_parallelism_multiplier", "window_size_for_joins",
      "enable_logging", "ray_conf", "enable_ray_logging", "ray_address", "staging_location",
      "use_kuberay", "kuberay_conf", "enable_distributed_joins", "cluster_name", "auth_token",
      "num_gpus", "gpu_batch_format", "worker_task_options", "file_retention_seconds"};
  /* Ray keys with no meaning here, and why. */
  static const char *const noop[][2] = {
      {"ray_address", "does nothing: morsel runs in-process or under MPI, not on a Ray cluster"},
      {"staging_location", "does nothing: results are written to storage_path"},
      {"use_kuberay", "does nothing: morsel does not use Ray or KubeRay"},
      {"kuberay_conf", "does nothing: morsel does not use Ray or KubeRay"},
      {"enable_distributed_joins", "does nothing (Feast's Ray store ignores it too)"},
      {"cluster_name", "does nothing: morsel does not use Ray"},
      {"auth_token", "does nothing: morsel does not use Ray"},
      {"num_gpus", "does nothing: morsel runs on CPUs"},
      {"gpu_batch_format", "does nothing: morsel runs on CPUs"},
      {"worker_task_options", "does nothing: morsel does not use Ray tasks"}};
  for (int i = 0; i < n->n; i++) {
    const char *k = n->keys[i]->value;
    const ms_ynode *v = n->items[i];
    int64_t iv;
    bool handled = true;
    if (!strcmp(k, "type")) {
      const char *t = want_str(c, v, "offline_store.type");
      if (t && !strcmp(t, "ray"))
        add_note(cfg, "offline_store.type: %s is treated as morsel", t);
      else if (t && strstr(t, "RayOfflineStore"))
        add_note(cfg, "offline_store.type: %s is treated as morsel", t);
      else if (t && strcmp(t, "morsel"))
        ms_probs_add(c->probs, c->file, v->line, v->col,
                     "offline_store type '%s' is not supported (use morsel; ray is accepted)", t);
    } else if (!strcmp(k, "storage_path")) {
      const char *s = want_str(c, v, "storage_path");
      if (s && *s) {
        ms_free(cfg->storage_path);
        cfg->storage_path = ms_repo_join(cfg->repo_dir, s);
      }
    } else if (!strcmp(k, "threads")) {
      if (want_int(c, v, "threads", 0, &iv)) cfg->threads = iv > 4096 ? 4096 : (int)iv;
    } else if (!strcmp(k, "memory_limit_mb")) {
      want_int(c, v, "memory_limit_mb", 0, &cfg->memory_limit_mb);
    } else if (!strcmp(k, "broadcast_join_threshold_mb")) {
      want_int(c, v, "broadcast_join_threshold_mb", 0, &cfg->broadcast_join_threshold_mb);
    } else if (!strcmp(k, "target_partition_size_mb")) {
      want_int(c, v, "target_partition_size_mb", 1, &cfg->target_partition_size_mb);
    } else if (!strcmp(k, "max_parallelism_multiplier")) {
      want_int(c, v, "max_parallelism_multiplier", 1, &cfg->max_parallelism_multiplier);
    } else if (!strcmp(k, "window_size_for_joins")) {
      const char *s = want_str(c, v, "window_size_for_joins");
      char low[64];
      /* Feast writes pandas frequencies ("1H"): lower-case d/h/s are the same units. */
      if (s) {
        snprintf(low, sizeof low, "%s", s);
        size_t ll = strlen(low);
        if (ll && (low[ll - 1] == 'H' || low[ll - 1] == 'D' || low[ll - 1] == 'S'))
          low[ll - 1] = (char)(low[ll - 1] - 'A' + 'a');
        int64_t secs;
        if (!ms_parse_duration(low, &secs) || secs <= 0)
          ms_probs_add(c->probs, c->file, v->line, v->col,
                       "bad duration '%s' for window_size_for_joins (use e.g. 1h, 30m, 1d)", s);
        else
          cfg->window_size_for_joins_s = secs;
      }
    } else if (!strcmp(k, "file_retention_seconds")) {
      /* How long files removed by a commit stay for readers that listed them (store.h). */
      want_int(c, v, "file_retention_seconds", 0, &cfg->file_retention_seconds);
    } else if (!strcmp(k, "enable_logging")) {
      want_bool(c, v, "enable_logging", &cfg->enable_logging);
    } else if (!strcmp(k, "enable_ray_logging")) {
      if (want_bool(c, v, "enable_ray_logging", &cfg->enable_logging))
        add_note(cfg, "offline_store.%s: used as enable_logging", k);
    } else if (!strcmp(k, "ray_conf")) {
      parse_ray_conf(c, v);
    } else {
      handled = false;
      for (size_t j = 0; j < sizeof noop / sizeof *noop; j++)
        if (!strcmp(k, noop[j][0])) {
          char fmt[256];
          snprintf(fmt, sizeof fmt, "offline_store.%%s: %s", noop[j][1]);
          add_note(cfg, fmt, k);
          handled = true;
        }
    }
    if (!handled)
      ms_repo_unknown_key(c->probs, c->file, n->keys[i], "offline_store", known,
                          (int)(sizeof known / sizeof *known));
  }
}

static void parse_definitions_list(cfgctx *c, const ms_ynode *n) {
  ms_repo *r = c->repo;
  if (n->kind != MS_YN_SEQ) {
    ms_probs_add(c->probs, c->file, n->line, n->col, "definitions must be a list of paths");
    return;
  }
  r->def_files = ms_calloc((size_t)n->n + 1, sizeof *r->def_files);
  if (!r->def_files) return;
  for (int i = 0; i < n->n; i++) {
    const char *s = want_str(c, n->items[i], "each definitions entry");
    if (s) r->def_files[r->n_def_files++] = ms_repo_join(r->config.repo_dir, s);
  }
}

void ms_repo_parse_config(ms_repo *repo, const char *display, const ms_ynode *root,
                          ms_probs *probs) {
  cfgctx c = {repo, display, probs};
  ms_repo_config *cfg = &repo->config;
  cfg->provider = ms_strdup("local");
  cfg->cache_ttl_seconds = 60;
  cfg->storage_path = ms_repo_join(cfg->repo_dir, "data/morsel_storage");
  cfg->registry_location = ms_repo_join(cfg->repo_dir, "data/registry.db");
  cfg->broadcast_join_threshold_mb = 100;
  cfg->target_partition_size_mb = 64;
  cfg->max_parallelism_multiplier = 2;
  cfg->window_size_for_joins_s = 3600;
  cfg->file_retention_seconds = 3600;
  if (!root || root->kind != MS_YN_MAP) {
    ms_probs_add(probs, display, root ? root->line : 0, root ? root->col : 0,
                 "feature_store.yaml must be a mapping with at least 'project'");
    return;
  }
  static const char *const known[] = {
      "project", "provider", "registry", "offline_store", "definitions", "online_store",
      "entity_key_serialization_version", "batch_engine", "auth", "flags", "coerce_tz_aware",
      "feature_server", "repo_path"};
  for (int i = 0; i < root->n; i++) {
    const char *k = root->keys[i]->value;
    const ms_ynode *v = root->items[i];
    if (!strcmp(k, "project")) {
      const char *s = want_str(&c, v, "project");
      if (s) {
        bool ok = *s != 0;
        for (const char *p = s; *p; p++)
          if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                (*p >= '0' && *p <= '9') || *p == '_'))
            ok = false;
        if (!ok)
          ms_probs_add(probs, display, v->line, v->col,
                       "project name '%s' may only contain letters, digits and underscores", s);
        else
          cfg->project = ms_strdup(s);
      }
    } else if (!strcmp(k, "provider")) {
      const char *s = want_str(&c, v, "provider");
      if (s && strcmp(s, "local")) add_note(cfg, "provider: %s is treated as local", s);
    } else if (!strcmp(k, "registry")) {
      parse_registry(&c, v);
    } else if (!strcmp(k, "offline_store")) {
      parse_offline_store(&c, v);
    } else if (!strcmp(k, "definitions")) {
      parse_definitions_list(&c, v);
    } else if (!strcmp(k, "online_store") || !strcmp(k, "batch_engine") ||
               !strcmp(k, "feature_server") || !strcmp(k, "auth") || !strcmp(k, "flags") ||
               !strcmp(k, "entity_key_serialization_version") ||
               !strcmp(k, "coerce_tz_aware") || !strcmp(k, "repo_path")) {
      add_note(cfg, "%s: accepted, not used by morsel", k);
    } else {
      ms_repo_unknown_key(probs, display, root->keys[i], "feature_store.yaml", known,
                          (int)(sizeof known / sizeof *known));
    }
  }
  if (!ms_ynode_get(root, "project"))
    ms_probs_add(probs, display, root->line, root->col, "missing required key 'project'");
}
