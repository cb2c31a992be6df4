/* Saved datasets: a retrieval job's result kept as a file and registered in the registry
 * (kind "saved_dataset"), and read back by name.
 *
 * persist, in this order, so that no failure or crash can leave a registry record that
 * points at a missing or half-written file:
 *   1. checks: the name (it becomes a file name), the format (by extension: Parquet or
 *      CSV), and unless allow_overwrite, that neither the file nor the registered name
 *      exists (MS_ERR_EXISTS, nothing touched, the job not even run);
 *   2. the job writes its result to a hidden temporary file next to the target
 *      (".<name>.<pid>-<n>.tmp.<ext>", itself written atomically by the job's writer);
 *   3. publish: without allow_overwrite link(2) the temporary file to the target, which
 *      fails if another writer got there first (so even a race never overwrites); with
 *      allow_overwrite rename(2) over the target, which replaces the old file whole;
 *      then fsync the directory;
 *   4. register: ms_registry_put with the canonical JSON of the dataset (features, join
 *      keys, full_feature_names, min/max event timestamps, tags, storage path and format,
 *      feature service, and the views used with their definition hashes) and lineage edges
 *      from those views (and the feature service) to the dataset. If this fails on a new
 *      file, the file is removed again.
 * A crash between 3 and 4 leaves an unregistered file; a crash before 3 leaves at most a
 * hidden temporary file that datasets skip.
 *
 * The JSON is built with the repository's canonical JSON tree (sorted keys, no whitespace)
 * and hashed the same way as definitions (XXH3-128, canonical big-endian hex), so the same
 * dataset registered twice is the same version. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "formats/timeparse.h"
#include "morsel/alloc.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/offline.h"
#include "repo/repo_int.h"

#define SD_KIND "saved_dataset"
#define SD_NAME_MAX 200

static atomic_int g_tmp_counter;

/* Names become file names: letters, digits, '_', '-', '.', not starting with '.'. */
static bool valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > SD_NAME_MAX || name[0] == '.') return false;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

static const char *extension_of(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  return dot && (!slash || dot > slash) ? dot : "";
}

/* The storage path: given (relative to the repository directory) or the default. */
static char *storage_path_of(const ms_repo_config *cfg, const ms_saved_dataset_options *opts) {
  if (opts->storage_path && *opts->storage_path) {
    if (opts->storage_path[0] == '/') return ms_strdup(opts->storage_path);
    return ms_asprintf("%s/%s", cfg->repo_dir, opts->storage_path);
  }
  return ms_asprintf("%s/saved_datasets/%s.parquet", cfg->storage_path, opts->name);
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return ms_strdup(".");
  if (slash == path) return ms_strdup("/");
  return ms_strndup(path, (size_t)(slash - path));
}

static void fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)fsync(fd); /* best effort: the rename itself already happened */
  close(fd);
}

static void user_host(char *user, size_t user_size, char *host, size_t host_size) {
  const char *u = getenv("USER");
  if (!u || !*u) {
    struct passwd *pw = getpwuid(getuid());
    u = pw && pw->pw_name ? pw->pw_name : "unknown";
  }
  snprintf(user, user_size, "%s", u);
  if (gethostname(host, host_size) != 0) snprintf(host, host_size, "unknown");
  host[host_size - 1] = '\0';
}

/* ISO-8601 UTC in the coarsest unit that keeps the value exact. */
static ms_jv *ts_json(int64_t ns) {
  char buf[MS_TIMESTAMP_BUF_SIZE];
  if (ns % 1000000000 == 0) ms_format_timestamp(ns / 1000000000, MS_UNIT_SECOND, true, buf);
  else if (ns % 1000000 == 0) ms_format_timestamp(ns / 1000000, MS_UNIT_MILLI, true, buf);
  else if (ns % 1000 == 0) ms_format_timestamp(ns / 1000, MS_UNIT_MICRO, true, buf);
  else ms_format_timestamp(ns, MS_UNIT_NANO, true, buf);
  return ms_jv_str(buf);
}

static ms_jv *str_array(const char *const *v, int n) {
  ms_jv *a = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < n; i++) ms_jv_push(a, ms_jv_str(v[i]));
  return a;
}

/* The canonical JSON of the dataset; NULL on out of memory. */
static char *dataset_json(const ms_retrieval_metadata *md, const ms_saved_dataset_options *opts,
                          const char *path, const char *format, int64_t rows) {
  ms_jv *o = ms_jv_new(MS_J_OBJ);
  if (!o) return NULL;
  ms_jv_set(o, "name", ms_jv_str(opts->name));
  ms_jv_set(o, "description", ms_jv_str(""));
  ms_jv *tags = ms_jv_new(MS_J_OBJ);
  for (int i = 0; i < opts->n_tags; i++)
    ms_jv_set(tags, opts->tags[i].key, ms_jv_str(opts->tags[i].value));
  ms_jv_set(o, "tags", tags);
  ms_jv_set(o, "features", str_array(md->features, md->n_features));
  ms_jv_set(o, "join_keys", str_array(md->join_keys, md->n_join_keys));
  ms_jv_set(o, "full_feature_names", ms_jv_bool(md->full_feature_names));
  /* 0/0 is the metadata's "none" (no entity rows; pulls do not fill the range) */
  bool any = rows > 0 && (md->min_event_ns != 0 || md->max_event_ns != 0);
  ms_jv_set(o, "min_event_timestamp", any ? ts_json(md->min_event_ns) : ms_jv_new(MS_J_NULL));
  ms_jv_set(o, "max_event_timestamp", any ? ts_json(md->max_event_ns) : ms_jv_new(MS_J_NULL));
  ms_jv_set(o, "rows", ms_jv_int(rows));
  ms_jv_set(o, "path", ms_jv_str(path));
  ms_jv_set(o, "file_format", ms_jv_str(format));
  ms_jv_set(o, "feature_service", ms_jv_str(opts->feature_service));
  ms_jv *views = ms_jv_new(MS_J_ARR);
  for (int i = 0; i < md->n_views; i++) {
    ms_jv *v = ms_jv_new(MS_J_OBJ);
    ms_jv_set(v, "name", ms_jv_str(md->view_names[i]));
    ms_jv_set(v, "hash", ms_jv_str(md->view_hashes[i] ? md->view_hashes[i] : ""));
    ms_jv_push(views, v);
  }
  ms_jv_set(o, "feature_views", views);
  char *json = ms_jv_dump(o);
  ms_jv_free(o);
  return json;
}

static char *hash_hex(const char *json) {
  XXH128_hash_t h = XXH3_128bits(json, strlen(json));
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, h);
  char *hex = ms_malloc(33);
  if (!hex) return NULL;
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", canon.digest[i]);
  return hex;
}

/* Is the name registered (MS_OK with *out set) or could the registry not say (error)? */
static ms_status is_registered(ms_registry *reg, const char *project, const char *name, bool *out,
                               ms_error *err) {
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  ms_error e2;
  ms_error_init(&e2);
  ms_status st = ms_registry_get(reg, project, SD_KIND, name, 0, &v, &e2);
  ms_reg_version_reset(&v);
  *out = st == MS_OK;
  if (st == MS_OK || st == MS_ERR_NOT_FOUND) return MS_OK;
  if (err) *err = e2;
  return st;
}

static ms_status register_dataset(ms_retrieval_job *job, const ms_repo_config *cfg,
                                  ms_registry *reg, const ms_saved_dataset_options *opts,
                                  const char *path, const char *format, ms_error *err) {
  ms_table *t = NULL;
  ms_status st = ms_retrieval_job_to_table(job, &t, err); /* already run: the kept result */
  if (st != MS_OK) return st;
  int64_t rows = ms_table_num_rows(t);
  ms_table_release(t);
  const ms_retrieval_metadata *md = ms_retrieval_job_metadata(job);
  if (!md) return ms_error_set(err, MS_ERR_INTERNAL, "saved dataset: the job has no metadata");
  char *json = dataset_json(md, opts, path, format, rows);
  char *hash = json ? hash_hex(json) : NULL;
  int n_edges = md->n_views + (opts->feature_service ? 1 : 0);
  ms_reg_edge *edges = ms_calloc((size_t)n_edges + 1, sizeof *edges);
  if (!json || !hash || !edges) {
    ms_free(json);
    ms_free(hash);
    ms_free(edges);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  for (int i = 0; i < md->n_views; i++)
    edges[i] = (ms_reg_edge){"feature_view", md->view_names[i], SD_KIND, opts->name};
  if (opts->feature_service)
    edges[md->n_views] = (ms_reg_edge){"feature_service", opts->feature_service, SD_KIND, opts->name};
  ms_reg_object obj = {SD_KIND, opts->name, json, hash};
  char user[256], host[256];
  user_host(user, sizeof user, host, sizeof host);
  st = ms_registry_put(reg, cfg->project, &obj, edges, n_edges, user, host,
                       opts->allow_overwrite ? 1 : 0, err);
  ms_free(json);
  ms_free(hash);
  ms_free(edges);
  return st;
}

ms_status ms_retrieval_job_persist(ms_retrieval_job *job, ms_repo *repo, ms_registry *reg,
                                   const ms_saved_dataset_options *opts, ms_error *err) {
  if (!job || !repo || !reg || !opts || !opts->name || (opts->n_tags > 0 && !opts->tags))
    return ms_error_set(err, MS_ERR_INVALID, "saved dataset: bad argument");
  if (!valid_name(opts->name))
    return ms_error_set(err, MS_ERR_INVALID,
                        "saved dataset name '%s' is not usable: use letters, digits, '_', '-' "
                        "and '.' (not first), at most %d characters",
                        opts->name, SD_NAME_MAX);
  const ms_repo_config *cfg = ms_repo_get_config(repo);
  char *path = storage_path_of(cfg, opts);
  if (!path) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  ms_status st = MS_OK;
  ms_file_format fmt = ms_format_from_path(path);
  const char *format = fmt == MS_FORMAT_PARQUET ? "parquet" : fmt == MS_FORMAT_CSV ? "csv" : NULL;
  if (!format) {
    st = ms_error_set(err, MS_ERR_INVALID,
                      "saved dataset storage '%s': unknown extension (use .parquet or .csv)", path);
    ms_free(path);
    return st;
  }
  /* 1. refuse before any work */
  struct stat sb;
  bool file_exists = lstat(path, &sb) == 0;
  if (file_exists && S_ISDIR(sb.st_mode)) {
    ms_error_set_file(err, path);
    st = ms_error_set(err, MS_ERR_EXISTS, "saved dataset storage is a directory");
  }
  bool registered = false;
  if (st == MS_OK) st = is_registered(reg, cfg->project, opts->name, &registered, err);
  if (st == MS_OK && !opts->allow_overwrite && registered)
    st = ms_error_set(err, MS_ERR_EXISTS,
                      "saved dataset '%s' is already registered in project %s (allow overwrite "
                      "to replace it); nothing was written",
                      opts->name, cfg->project);
  if (st == MS_OK && !opts->allow_overwrite && file_exists) {
    ms_error_set_file(err, path);
    st = ms_error_set(err, MS_ERR_EXISTS,
                      "saved dataset storage already exists (allow overwrite to replace it); "
                      "nothing was written");
  }
  char *dir = st == MS_OK ? dir_of(path) : NULL;
  char *tmp = NULL;
  if (st == MS_OK && !dir) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  if (st == MS_OK) st = ms_fs_mkdirs(NULL, dir, err);
  if (st == MS_OK) {
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    tmp = ms_asprintf("%s/.%s.%ld-%d.tmp%s", dir, base, (long)getpid(),
                      atomic_fetch_add(&g_tmp_counter, 1), extension_of(path));
    if (!tmp) st = ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  /* 2. run and write under the temporary name */
  if (st == MS_OK) st = ms_retrieval_job_write(job, tmp, err);
  /* 3. publish */
  bool published = false;
  if (st == MS_OK) {
    if (opts->allow_overwrite) {
      if (rename(tmp, path) != 0) {
        ms_error_set_file(err, path);
        st = ms_error_set(err, MS_ERR_IO, "cannot publish the saved dataset: %s", strerror(errno));
      }
    } else if (link(tmp, path) != 0) {
      int e = errno;
      ms_error_set_file(err, path);
      st = e == EEXIST ? ms_error_set(err, MS_ERR_EXISTS,
                                      "saved dataset storage appeared while writing (another "
                                      "writer?); nothing was replaced")
                       : ms_error_set(err, MS_ERR_IO, "cannot publish the saved dataset: %s",
                                      strerror(e));
    }
    unlink(tmp); /* after rename it is gone already; after link it is a second name */
    if (st == MS_OK) {
      fsync_dir(dir);
      published = true;
    }
  }
  /* 4. register */
  if (st == MS_OK) {
    st = register_dataset(job, cfg, reg, opts, path, format, err);
    if (st != MS_OK && published && !opts->allow_overwrite) {
      unlink(path); /* this call created it: do not leave an unregistered copy behind */
      fsync_dir(dir);
    }
  }
  ms_free(tmp);
  ms_free(dir);
  ms_free(path);
  return st;
}

ms_status ms_saved_dataset_read(ms_repo *repo, ms_registry *reg, const char *name, ms_table **out,
                                ms_error *err) {
  if (out) *out = NULL;
  if (!repo || !reg || !name || !out)
    return ms_error_set(err, MS_ERR_INVALID, "saved dataset: bad argument");
  const ms_repo_config *cfg = ms_repo_get_config(repo);
  ms_reg_version v;
  memset(&v, 0, sizeof v);
  ms_status st = ms_registry_get(reg, cfg->project, SD_KIND, name, 0, &v, err);
  if (st == MS_ERR_NOT_FOUND) {
    ms_error_init(err);
    return ms_error_set(err, MS_ERR_NOT_FOUND, "no saved dataset named '%s' in project %s", name,
                        cfg->project);
  }
  if (st != MS_OK) return st;
  ms_jv *j = ms_jv_parse(v.json);
  const ms_jv *p = ms_jv_get(j, "path");
  if (!p || p->t != MS_J_STR || !p->s || !*p->s) {
    st = ms_error_set(err, MS_ERR_CORRUPT, "saved dataset '%s': its registry record has no path",
                      name);
  }
  ms_dataset *ds = NULL;
  if (st == MS_OK) {
    struct stat sb;
    if (stat(p->s, &sb) != 0) {
      ms_error_set_file(err, p->s);
      st = ms_error_set(err, MS_ERR_NOT_FOUND, "saved dataset '%s': its file is missing (%s)",
                        name, strerror(errno));
    }
  }
  if (st == MS_OK) {
    ms_dataset_options dopts;
    ms_dataset_options_init(&dopts);
    dopts.hive_partitioning = false;
    st = ms_dataset_open(NULL, p->s, &dopts, &ds, err);
  }
  if (st == MS_OK) {
    ms_dataset_read_options ro;
    memset(&ro, 0, sizeof ro);
    st = ms_dataset_read(ds, &ro, out, NULL, err);
  }
  ms_dataset_close(ds);
  ms_jv_free(j);
  ms_reg_version_reset(&v);
  return st;
}
