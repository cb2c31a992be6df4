/* Managed datasets: the commit protocol (include/morsel/store.h, docs/storage.md).
 *
 * Directory commit, in order:
 *   1. the caller has written its data files under their final token names (invisible:
 *      readers take token files only from the manifest);
 *   2. flock(LOCK_EX) on `<root>/_morsel.lock` - serialises commits of this dataset, never
 *      held while data is written;
 *   3. recovery: prepared registry records left by a killed writer are resolved against
 *      the manifest's generation (equal = the rename happened = committed, else aborted);
 *   4. the manifest is read, the removes checked (each must still be live, else
 *      MS_ERR_CONFLICT), the new file list built;
 *   5. registry record `prepared` with generation = manifest generation + 1;
 *   6. manifest written to a hidden temporary name, fsynced, renamed over
 *      `_morsel_manifest.json`, root fsynced: THE commit point;
 *   7. registry record `committed`;
 *   8. unlock (closing the descriptor).
 * A failure in 5-6 marks the record aborted; a kill anywhere leaves a state that step 3 of
 * the next commit (or `morsel data-status --repair`) resolves. A failure in 7 after a
 * successful rename is not reported as a failed commit (the data is committed; retrying
 * would duplicate it): the record stays prepared and recovery marks it committed.
 *
 * Single files use the same lock / prepared / committed steps around the caller's atomic
 * rewrite of the whole file, with the file's identity (dev:ino:size:mtime_ns, "absent"
 * when there is no file) standing in for the manifest generation: a rename always gives a
 * new inode, so "identity differs from the prepared record's identity_before" means the
 * rewrite landed. Without a registry (opts.registry NULL) the lock and the manifest still
 * make commits atomic and serialised; only the records are skipped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "morsel/dataset.h"
#include "morsel/fs.h"
#include "morsel/table.h"
#include "store/store_int.h"

#define MS_STORE_DEFAULT_RETENTION 3600

struct ms_store {
  char *root; /* absolute, no trailing '/' */
  bool single_file;
  ms_registry *reg;
  char *project, *dataset;
  int64_t retention_s;
  char *lock_path;
  char user[256], host[256];
};

struct ms_store_txn {
  ms_store *s;
  int lock_fd;
  int64_t generation;
  char *kind;
  char identity_before[128];
};

void ms_store_crash_point(const char *name) {
  const char *want = getenv("MORSEL_CRASH_POINT");
  if (want && name && strcmp(want, name) == 0) kill(getpid(), SIGKILL);
}

void ms_store_options_init(ms_store_options *opts) {
  memset(opts, 0, sizeof *opts);
  opts->retention_seconds = -1;
}

static ms_status oom(ms_error *err) { return ms_error_set(err, MS_ERR_NOMEM, "out of memory"); }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void user_host(ms_store *s) {
  const char *u = getenv("USER");
  if (!u || !*u) {
    struct passwd *pw = getpwuid(getuid());
    u = pw && pw->pw_name ? pw->pw_name : "unknown";
  }
  snprintf(s->user, sizeof s->user, "%s", u);
  if (gethostname(s->host, sizeof s->host) != 0) snprintf(s->host, sizeof s->host, "unknown");
  s->host[sizeof s->host - 1] = '\0';
}

ms_status ms_store_open(const char *root, const ms_store_options *opts, ms_store **out,
                        ms_error *err) {
  if (!out) return ms_error_set(err, MS_ERR_INVALID, "store: no output handle");
  *out = NULL;
  ms_store_options defaults;
  if (!opts) {
    ms_store_options_init(&defaults);
    opts = &defaults;
  }
  if (!root || root[0] != '/')
    return ms_error_set(err, MS_ERR_INVALID, "store: dataset root '%s' is not an absolute path",
                        root ? root : "(null)");
  if (opts->registry && (!opts->project || !*opts->project || !opts->dataset || !*opts->dataset))
    return ms_error_set(err, MS_ERR_INVALID,
                        "store: a registry needs the project and the dataset name");
  ms_store *s = ms_calloc(1, sizeof *s);
  if (!s) return oom(err);
  size_t len = strlen(root);
  while (len > 1 && root[len - 1] == '/') len--;
  s->root = ms_strndup(root, len);
  s->single_file = opts->single_file;
  s->reg = opts->registry;
  s->project = opts->project ? ms_strdup(opts->project) : NULL;
  s->dataset = opts->dataset ? ms_strdup(opts->dataset) : NULL;
  s->retention_s = opts->retention_seconds < 0 ? MS_STORE_DEFAULT_RETENTION : opts->retention_seconds;
  user_host(s);
  ms_status st = MS_OK;
  if (!s->root || (opts->project && !s->project) || (opts->dataset && !s->dataset)) st = oom(err);
  if (st == MS_OK && !s->single_file) {
    s->lock_path = ms_asprintf("%s/%s", s->root, MS_STORE_LOCK_NAME);
    if (!s->lock_path) st = oom(err);
    if (st == MS_OK) st = ms_fs_mkdirs(NULL, s->root, err);
  } else if (st == MS_OK) {
    const char *slash = strrchr(s->root, '/');
    if (!slash[1]) {
      st = ms_error_set(err, MS_ERR_INVALID, "store: single-file dataset '%s' names no file",
                        s->root);
    } else {
      int dlen = slash == s->root ? 0 : (int)(slash - s->root);
      s->lock_path = ms_asprintf("%.*s/_%s.morsel.lock", dlen, s->root, slash + 1);
      char *dir = dlen ? ms_strndup(s->root, (size_t)dlen) : ms_strdup("/");
      if (!s->lock_path || !dir) st = oom(err);
      if (st == MS_OK) st = ms_fs_mkdirs(NULL, dir, err);
      ms_free(dir);
    }
  }
  if (st != MS_OK) {
    ms_store_close(s);
    return st;
  }
  *out = s;
  return MS_OK;
}

void ms_store_close(ms_store *s) {
  if (!s) return;
  ms_free(s->root);
  ms_free(s->project);
  ms_free(s->dataset);
  ms_free(s->lock_path);
  ms_free(s);
}

const char *ms_store_root(const ms_store *s) { return s ? s->root : NULL; }

/* ---------------------------------------------------------------- names */

static void utc_stamp(char *buf, size_t size) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char date[32];
  strftime(date, sizeof date, "%Y%m%dT%H%M%S", &tm);
  snprintf(buf, size, "%s.%09ldZ", date, (long)ts.tv_nsec);
}

static uint64_t random_u64(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) == (ssize_t)sizeof v) return v;
  /* No entropy source: time, pid and an address are unique enough for a file name that is
   * also created with O_EXCL by the atomic writer's rename target check below. */
  static uint64_t counter;
  v = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)&v ^
      (++counter * 0x9E3779B97F4A7C15ull);
  return v;
}

ms_status ms_store_new_path(ms_store *s, const char *subdir, const char *stem, const char *ext,
                            char **out_rel, ms_error *err) {
  if (!out_rel) return ms_error_set(err, MS_ERR_INVALID, "store: no output path");
  *out_rel = NULL;
  if (!s || s->single_file)
    return ms_error_set(err, MS_ERR_INVALID, "store: new paths exist only in directory datasets");
  if (!ext || !*ext) return ms_error_set(err, MS_ERR_INVALID, "store: new path without extension");
  if (ext[0] == '.') ext++;
  if (subdir && *subdir && !ms__store_rel_path_ok(subdir))
    return ms_error_set(err, MS_ERR_INVALID, "store: subdirectory '%s' is not a relative path",
                        subdir);
  if (stem && (!*stem || strchr(stem, '/') || stem[0] == '.' || stem[0] == '_'))
    return ms_error_set(err, MS_ERR_INVALID,
                        "store: file stem '%s' must be a visible name without '/'", stem);
  char stamp[64];
  if (!stem) {
    char t[48];
    utc_stamp(t, sizeof t);
    snprintf(stamp, sizeof stamp, "part-%s", t);
    stem = stamp;
  }
  bool sub = subdir && *subdir;
  if (sub) {
    char *dir = ms_asprintf("%s/%s", s->root, subdir);
    if (!dir) return oom(err);
    ms_status st = ms_fs_mkdirs(NULL, dir, err);
    ms_free(dir);
    if (st != MS_OK) return st;
  }
  char *rel = ms_asprintf("%s%s%s.m%016llx.%s", sub ? subdir : "", sub ? "/" : "", stem,
                          (unsigned long long)random_u64(), ext);
  if (!rel) return oom(err);
  *out_rel = rel;
  return MS_OK;
}

/* ---------------------------------------------------------------- lock */

static ms_status lock_take(const ms_store *s, int *out_fd, ms_error *err) {
  int fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    ms_error_set_file(err, s->lock_path);
    return ms_error_set(err, MS_ERR_IO, "cannot open the dataset's lock file: %s",
                        strerror(errno));
  }
  while (flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    close(fd);
    ms_error_set_file(err, s->lock_path);
    return ms_error_set(err, MS_ERR_IO, "cannot lock the dataset: %s", strerror(e));
  }
  *out_fd = fd;
  return MS_OK;
}

static void lock_release(int fd) {
  if (fd >= 0) close(fd); /* closing the only descriptor drops the flock */
}

/* ---------------------------------------------------------------- identities */

/* "dev:ino:size:mtime_ns" of a file, "absent" when it does not exist. */
static ms_status file_identity(const char *path, char *buf, size_t size, ms_error *err) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    if (errno == ENOENT) {
      snprintf(buf, size, "absent");
      return MS_OK;
    }
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot stat: %s", strerror(errno));
  }
  snprintf(buf, size, "%llu:%llu:%lld:%lld", (unsigned long long)sb.st_dev,
           (unsigned long long)sb.st_ino, (long long)sb.st_size,
           (long long)sb.st_mtim.tv_sec * 1000000000LL + (long long)sb.st_mtim.tv_nsec);
  return MS_OK;
}

/* ---------------------------------------------------------------- registry helpers */

typedef struct reg_state {
  int64_t last_committed; /* 0 = none */
  int n_prepared;
  int64_t last_total_rows;
  char *last_identity; /* identity_after of the last committed record (owned) */
} reg_state;

static ms_status read_reg_state(ms_store *s, reg_state *rs, ms_error *err) {
  memset(rs, 0, sizeof *rs);
  if (!s->reg) return MS_OK;
  ms_reg_data_commit *c = NULL;
  int n = 0;
  ms_status st = ms_registry_data_commits(s->reg, s->project, s->dataset, &c, &n, err);
  if (st != MS_OK) return st;
  for (int i = 0; i < n; i++) {
    if (!strcmp(c[i].state, "prepared")) rs->n_prepared++;
    if (!strcmp(c[i].state, "committed") && c[i].generation >= rs->last_committed) {
      rs->last_committed = c[i].generation;
      rs->last_total_rows = c[i].total_rows;
      ms_free(rs->last_identity);
      rs->last_identity = c[i].identity_after ? ms_strdup(c[i].identity_after) : NULL;
    }
  }
  ms_reg_data_commits_free(c, n);
  return MS_OK;
}

/* The rows of a single-file dataset, read back when recovery (or an abort) finds that a
 * writer's rewrite landed but its counts were never recorded (killed between the rename
 * and finish): without this the committed record would say 0 rows and data-status would
 * report them. -1 when the file cannot be read (the record is then committed without
 * counts, as before). Rare, so a one-column read is cheap enough. */
static int64_t single_file_rows(const char *path) {
  ms_dataset *ds = NULL;
  int64_t rows = -1;
  if (ms_dataset_open(ms_fs_local(), path, NULL, &ds, NULL) == MS_OK &&
      ms_dataset_num_fields(ds) > 0) {
    const char *col = ms_dataset_field(ds, 0)->name;
    ms_dataset_read_options ro = {0};
    ro.columns = &col;
    ro.n_columns = 1;
    ms_table *t = NULL;
    if (ms_dataset_read(ds, &ro, &t, NULL, NULL) == MS_OK) {
      rows = ms_table_num_rows(t);
      ms_table_release(t);
    }
  }
  ms_dataset_close(ds);
  return rows;
}

/* Marks a single-file record committed with the file's current identity and, when the
 * file can be read, its rows (rows_added against the last committed record before it). */
static ms_status single_commit_recovered(ms_store *s, const ms_reg_data_commit *all, int n,
                                         const ms_reg_data_commit *rec, const char *ident,
                                         ms_error *err) {
  int64_t rows = single_file_rows(s->root);
  if (rows < 0)
    return ms_registry_data_finish(s->reg, s->project, s->dataset, rec->generation, true,
                                   ident, err);
  int64_t before = 0, before_gen = 0;
  for (int i = 0; i < n; i++)
    if (!strcmp(all[i].state, "committed") && all[i].generation < rec->generation &&
        all[i].generation >= before_gen) {
      before_gen = all[i].generation;
      before = all[i].total_rows;
    }
  ms_reg_data_commit counts = {0};
  counts.rows_added = rows - before;
  counts.files_added =
      rec->identity_before && strcmp(rec->identity_before, "absent") == 0 ? 1 : 0;
  counts.total_rows = rows;
  counts.total_files = 1;
  return ms_registry_data_finish_counts(s->reg, s->project, s->dataset, rec->generation,
                                        &counts, ident, err);
}

static ms_status recover_locked(ms_store *s, int *out_resolved, ms_error *err) {
  if (out_resolved) *out_resolved = 0;
  if (!s->reg) return MS_OK;
  ms_reg_data_commit *c = NULL;
  int n = 0;
  ms_status st = ms_registry_data_commits(s->reg, s->project, s->dataset, &c, &n, err);
  if (st != MS_OK) return st;
  bool have_manifest = false;
  ms_manifest m = {0};
  char ident[128] = "";
  for (int i = 0; st == MS_OK && i < n; i++) {
    if (strcmp(c[i].state, "prepared") != 0) continue;
    bool committed;
    const char *after = NULL;
    if (s->single_file) {
      if (!ident[0]) st = file_identity(s->root, ident, sizeof ident, err);
      if (st != MS_OK) break;
      committed = c[i].identity_before && strcmp(c[i].identity_before, ident) != 0;
      after = committed ? ident : NULL;
    } else {
      if (!have_manifest) st = ms_manifest_read(s->root, &m, err);
      if (st != MS_OK) break;
      have_manifest = true;
      committed = m.generation == c[i].generation;
    }
    if (s->single_file && committed)
      st = single_commit_recovered(s, c, n, &c[i], after, err);
    else
      st = ms_registry_data_finish(s->reg, s->project, s->dataset, c[i].generation, committed,
                                   after, err);
    if (st == MS_OK && out_resolved) (*out_resolved)++;
  }
  ms_manifest_reset(&m);
  ms_reg_data_commits_free(c, n);
  return st;
}

ms_status ms_store_recover(ms_store *s, int *out_resolved, ms_error *err) {
  if (out_resolved) *out_resolved = 0;
  if (!s) return ms_error_set(err, MS_ERR_INVALID, "store: no dataset");
  int fd;
  ms_status st = lock_take(s, &fd, err);
  if (st != MS_OK) return st;
  st = recover_locked(s, out_resolved, err);
  lock_release(fd);
  return st;
}

/* ---------------------------------------------------------------- directory commits */

static int file_cmp(const void *a, const void *b) {
  return strcmp(((const ms_store_file *)a)->path, ((const ms_store_file *)b)->path);
}

static const ms_store_file *find_file(const ms_manifest *m, const char *path) {
  ms_store_file key = {.path = (char *)path};
  if (m->n_files == 0) return NULL;
  return bsearch(&key, m->files, (size_t)m->n_files, sizeof key, file_cmp);
}

/* Builds the next manifest from the current one. next's strings are copies. */
static ms_status build_next(const ms_store *s, const ms_manifest *cur, const ms_store_commit *c,
                            const int64_t *add_bytes, int64_t gen, int64_t when,
                            ms_manifest *next, int64_t *rows_removed, ms_error *err) {
  memset(next, 0, sizeof *next);
  *rows_removed = 0;
  next->generation = gen;
  bool *gone = cur->n_files ? ms_calloc((size_t)cur->n_files, sizeof *gone) : NULL;
  if (cur->n_files && !gone) return oom(err);
  ms_status st = MS_OK;
  int n_gone = 0;
  for (int i = 0; st == MS_OK && i < c->n_removes; i++) {
    const ms_store_file *f = find_file(cur, c->removes[i]);
    if (!f) {
      st = ms_error_set(err, MS_ERR_CONFLICT,
                        "%s/%s: cannot remove '%s': it is not live at generation %lld (another "
                        "commit removed it first, or it never was committed)",
                        s->root, MS_MANIFEST_NAME, c->removes[i], (long long)cur->generation);
      break;
    }
    size_t k = (size_t)(f - cur->files);
    if (gone[k])
      st = ms_error_set(err, MS_ERR_INVALID, "store: '%s' is removed twice by one commit",
                        c->removes[i]);
    gone[k] = true;
    n_gone++;
  }
  if (st == MS_OK && c->remove_all)
    for (int k = 0; k < cur->n_files; k++)
      if (!gone[k]) {
        gone[k] = true;
        n_gone++;
      }
  int n_live = cur->n_files - n_gone + c->n_adds;
  int n_removed = cur->n_removed + n_gone;
  if (st == MS_OK) {
    next->files = ms_calloc((size_t)n_live + 1, sizeof *next->files);
    next->removed = ms_calloc((size_t)n_removed + 1, sizeof *next->removed);
    next->removed_at_ns = ms_calloc((size_t)n_removed + 1, sizeof *next->removed_at_ns);
    if (!next->files || !next->removed || !next->removed_at_ns) st = oom(err);
  }
  for (int k = 0; st == MS_OK && k < cur->n_files; k++) {
    ms_store_file f = cur->files[k];
    f.path = ms_strdup(f.path);
    if (!f.path) {
      st = oom(err);
      break;
    }
    if (gone[k]) {
      *rows_removed += f.rows;
      f.generation = gen;
      next->removed_at_ns[next->n_removed] = when;
      next->removed[next->n_removed++] = f;
    } else {
      next->files[next->n_files++] = f;
    }
  }
  for (int k = 0; st == MS_OK && k < cur->n_removed; k++) {
    ms_store_file f = cur->removed[k];
    f.path = ms_strdup(f.path);
    if (!f.path) {
      st = oom(err);
      break;
    }
    next->removed_at_ns[next->n_removed] = cur->removed_at_ns[k];
    next->removed[next->n_removed++] = f;
  }
  for (int i = 0; st == MS_OK && i < c->n_adds; i++) {
    ms_store_file f = c->adds[i];
    if (find_file(cur, f.path)) {
      st = ms_error_set(err, MS_ERR_INVALID, "store: '%s' is already live in %s/%s", f.path,
                        s->root, MS_MANIFEST_NAME);
      break;
    }
    f.path = ms_strdup(f.path);
    if (!f.path) {
      st = oom(err);
      break;
    }
    f.bytes = add_bytes[i];
    f.generation = gen;
    next->files[next->n_files++] = f;
  }
  ms_free(gone);
  if (st == MS_OK && next->n_files > 1) {
    qsort(next->files, (size_t)next->n_files, sizeof *next->files, file_cmp);
    for (int i = 1; st == MS_OK && i < next->n_files; i++)
      if (!strcmp(next->files[i - 1].path, next->files[i].path))
        st = ms_error_set(err, MS_ERR_INVALID, "store: '%s' is added twice by one commit",
                          next->files[i].path);
  }
  if (st != MS_OK) ms_manifest_reset(next);
  return st;
}

/* Checks an added file: a token name, relative, present; returns its size. */
static ms_status check_add(const ms_store *s, const ms_store_file *f, int64_t *bytes,
                           ms_error *err) {
  if (!f->path || !ms__store_rel_path_ok(f->path))
    return ms_error_set(err, MS_ERR_INVALID, "store: added file '%s' is not a relative path",
                        f->path ? f->path : "(null)");
  if (!ms_store_is_token_name(f->path))
    return ms_error_set(err, MS_ERR_INVALID,
                        "store: added file '%s' has no '.m<16 hex>.' token (use "
                        "ms_store_new_path)",
                        f->path);
  if (f->rows < 0) return ms_error_set(err, MS_ERR_INVALID, "store: negative row count for '%s'", f->path);
  char *full = ms_asprintf("%s/%s", s->root, f->path);
  if (!full) return oom(err);
  struct stat sb;
  ms_status st = MS_OK;
  if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ms_error_set_file(err, full);
    st = ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_INVALID,
                      "added file is not there (data files must be written before the commit)");
  } else {
    *bytes = (int64_t)sb.st_size;
  }
  ms_free(full);
  return st;
}

static void fill_record(ms_store *s, ms_reg_data_commit *r, const char *kind, int64_t gen) {
  memset(r, 0, sizeof *r);
  r->generation = gen;
  r->dataset = s->dataset;
  r->kind = (char *)kind;
  r->path = s->root;
  r->user = s->user;
  r->host = s->host;
}

ms_status ms_store_commit_files(ms_store *s, const ms_store_commit *c, int64_t *out_generation,
                                ms_error *err) {
  if (out_generation) *out_generation = 0;
  if (!s || !c || !c->kind || !*c->kind || c->n_adds < 0 || c->n_removes < 0 ||
      (c->n_adds && !c->adds) || (c->n_removes && !c->removes))
    return ms_error_set(err, MS_ERR_INVALID, "store: bad commit argument");
  if (s->single_file)
    return ms_error_set(err, MS_ERR_INVALID,
                        "store: %s is a single-file dataset (use ms_store_single_begin)",
                        s->root);
  int64_t *bytes = ms_calloc((size_t)c->n_adds + 1, sizeof *bytes);
  if (!bytes) return oom(err);
  ms_status st = MS_OK;
  int64_t rows_added = 0;
  for (int i = 0; st == MS_OK && i < c->n_adds; i++) {
    st = check_add(s, &c->adds[i], &bytes[i], err);
    rows_added += c->adds[i].rows;
  }
  if (st != MS_OK) {
    ms_free(bytes);
    return st;
  }
  ms_store_crash_point("after-data");
  int fd = -1;
  st = lock_take(s, &fd, err);
  if (st == MS_OK) st = recover_locked(s, NULL, err);
  ms_manifest cur = {0}, next = {0};
  ms__manifest_meta meta;
  if (st == MS_OK) st = ms__manifest_read_meta(s->root, &cur, &meta, err);
  int64_t gen = cur.generation + 1, when = now_ns(), rows_removed = 0;
  if (st == MS_OK) st = build_next(s, &cur, c, bytes, gen, when, &next, &rows_removed, err);
  ms_free(bytes);
  bool prepared = false;
  if (st == MS_OK && s->reg) {
    ms_reg_data_commit r;
    fill_record(s, &r, c->kind, gen);
    r.rows_added = c->rows_added ? c->rows_added : rows_added;
    r.rows_removed = c->rows_removed ? c->rows_removed : rows_removed;
    r.files_added = c->n_adds;
    r.files_removed = cur.n_files - (next.n_files - c->n_adds);
    for (int i = 0; i < next.n_files; i++) r.total_rows += next.files[i].rows;
    r.total_files = next.n_files;
    r.detail_json = (char *)c->detail_json;
    st = ms_registry_data_prepare(s->reg, s->project, &r, err);
    prepared = st == MS_OK;
  }
  if (st == MS_OK) {
    ms_store_crash_point("after-prepare");
    snprintf(meta.kind, sizeof meta.kind, "%s", c->kind);
    meta.committed_at_ns = when;
    st = ms__manifest_write(s->root, &next, &meta, err);
    if (st != MS_OK) {
      /* The rename may have happened before a later step (the directory fsync) failed:
       * the manifest on disk decides, as recovery would. */
      ms_manifest now = {0};
      if (ms_manifest_read(s->root, &now, NULL) == MS_OK && now.generation == gen) st = MS_OK;
      ms_manifest_reset(&now);
    }
  }
  if (st == MS_OK) {
    ms_store_crash_point("after-rename");
    if (prepared) {
      /* Past the commit point: a registry failure here leaves the record prepared for
       * recovery to mark committed; the commit itself stands. */
      ms_error ignored;
      ms_error_init(&ignored);
      ms_registry_data_finish(s->reg, s->project, s->dataset, gen, true, NULL, &ignored);
    }
    ms_store_crash_point("after-commit");
    if (out_generation) *out_generation = gen;
  } else if (prepared) {
    ms_registry_data_finish(s->reg, s->project, s->dataset, gen, false, NULL, NULL);
  }
  lock_release(fd);
  ms_manifest_reset(&cur);
  ms_manifest_reset(&next);
  return st;
}

/* ---------------------------------------------------------------- single files */

ms_status ms_store_single_begin(ms_store *s, const char *kind, ms_store_txn **out,
                                ms_error *err) {
  if (!out) return ms_error_set(err, MS_ERR_INVALID, "store: no output transaction");
  *out = NULL;
  if (!s || !kind || !*kind) return ms_error_set(err, MS_ERR_INVALID, "store: bad argument");
  if (!s->single_file)
    return ms_error_set(err, MS_ERR_INVALID,
                        "store: %s is a directory dataset (use ms_store_commit_files)", s->root);
  ms_store_txn *t = ms_calloc(1, sizeof *t);
  if (!t || !(t->kind = ms_strdup(kind))) {
    if (t) ms_free(t);
    return oom(err);
  }
  t->s = s;
  t->lock_fd = -1;
  ms_status st = lock_take(s, &t->lock_fd, err);
  if (st == MS_OK) st = recover_locked(s, NULL, err);
  if (st == MS_OK) st = file_identity(s->root, t->identity_before, sizeof t->identity_before, err);
  reg_state rs = {0};
  if (st == MS_OK) st = read_reg_state(s, &rs, err);
  t->generation = rs.last_committed + 1;
  ms_free(rs.last_identity);
  if (st == MS_OK && s->reg) {
    ms_reg_data_commit r;
    fill_record(s, &r, kind, t->generation);
    r.identity_before = t->identity_before;
    st = ms_registry_data_prepare(s->reg, s->project, &r, err);
  }
  if (st != MS_OK) {
    lock_release(t->lock_fd);
    ms_free(t->kind);
    ms_free(t);
    return st;
  }
  ms_store_crash_point("after-prepare");
  *out = t;
  return MS_OK;
}

int64_t ms_store_txn_generation(const ms_store_txn *t) { return t ? t->generation : 0; }

static void txn_free(ms_store_txn *t) {
  lock_release(t->lock_fd);
  ms_free(t->kind);
  ms_free(t);
}

ms_status ms_store_single_finish(ms_store_txn *t, int64_t rows_added, int64_t total_rows,
                                 ms_error *err) {
  if (!t) return ms_error_set(err, MS_ERR_INVALID, "store: no transaction");
  ms_store_crash_point("after-rename");
  ms_store *s = t->s;
  char after[128];
  ms_status st = file_identity(s->root, after, sizeof after, err);
  if (st == MS_OK && strcmp(after, t->identity_before) == 0) {
    ms_error_set_file(err, s->root);
    st = ms_error_set(err, MS_ERR_INVALID,
                      "store: the file was not replaced (write it through ms_fs_create_writer "
                      "before finishing the transaction)");
  }
  if (st != MS_OK) {
    if (s->reg)
      ms_registry_data_finish(s->reg, s->project, s->dataset, t->generation, false, NULL, NULL);
    txn_free(t);
    return st;
  }
  if (s->reg) {
    ms_reg_data_commit counts = {0};
    counts.rows_added = rows_added;
    counts.files_added = strcmp(t->identity_before, "absent") == 0 ? 1 : 0;
    counts.total_rows = total_rows;
    counts.total_files = 1;
    /* Past the commit point (the caller's rename): see ms_store_commit_files. */
    ms_error ignored;
    ms_error_init(&ignored);
    ms_registry_data_finish_counts(s->reg, s->project, s->dataset, t->generation, &counts,
                                   after, &ignored);
  }
  ms_store_crash_point("after-commit");
  txn_free(t);
  return MS_OK;
}

void ms_store_single_abort(ms_store_txn *t) {
  if (!t) return;
  ms_store *s = t->s;
  if (s->reg) {
    /* If the caller's rename did happen after all, the record must say committed. */
    char now[128];
    bool changed = file_identity(s->root, now, sizeof now, NULL) == MS_OK &&
                   strcmp(now, t->identity_before) != 0;
    ms_registry_data_finish(s->reg, s->project, s->dataset, t->generation, changed,
                            changed ? now : NULL, NULL);
  }
  txn_free(t);
}

/* ---------------------------------------------------------------- scans (gc, check) */

typedef struct scan_entry {
  char *rel;
  int64_t mtime_ns;
  int64_t size;
  bool token, temp;
} scan_entry;

typedef struct scan_list {
  scan_entry *e;
  int n, cap;
} scan_list;

static void scan_free(scan_list *l) {
  for (int i = 0; i < l->n; i++) ms_free(l->e[i].rel);
  ms_free(l->e);
  memset(l, 0, sizeof *l);
}

/* A hidden temporary file of the atomic writer: ".<name>.tmp-<pid>-<n>". */
static bool is_temp_name(const char *name) { return name[0] == '.' && strstr(name, ".tmp-"); }

/* Every token file and temporary file below root (recursive, symlinks not followed). */
static ms_status scan_dir(const char *root, const char *rel, int depth, scan_list *out,
                          ms_error *err) {
  if (depth > 64) return MS_OK;
  char *dir = rel[0] ? ms_asprintf("%s/%s", root, rel) : ms_strdup(root);
  if (!dir) return oom(err);
  DIR *d = opendir(dir);
  if (!d) {
    ms_status st = MS_OK;
    if (errno != ENOENT) {
      ms_error_set_file(err, dir);
      st = ms_error_set(err, MS_ERR_IO, "cannot list: %s", strerror(errno));
    }
    ms_free(dir);
    return st;
  }
  ms_status st = MS_OK;
  struct dirent *de;
  while (st == MS_OK && (de = readdir(d)) != NULL) {
    const char *name = de->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    char *full = ms_asprintf("%s/%s", dir, name);
    char *sub = rel[0] ? ms_asprintf("%s/%s", rel, name) : ms_strdup(name);
    struct stat sb;
    if (!full || !sub) {
      st = oom(err);
    } else if (lstat(full, &sb) == 0) {
      if (S_ISDIR(sb.st_mode)) {
        st = scan_dir(root, sub, depth + 1, out, err);
      } else if (S_ISREG(sb.st_mode)) {
        bool temp = is_temp_name(name), token = !temp && ms_store_is_token_name(name);
        if (temp || token) {
          if (out->n == out->cap) {
            int nc = out->cap ? out->cap * 2 : 32;
            scan_entry *ne = ms_realloc(out->e, (size_t)nc * sizeof *ne);
            if (!ne) st = oom(err);
            else {
              out->e = ne;
              out->cap = nc;
            }
          }
          if (st == MS_OK) {
            out->e[out->n++] = (scan_entry){sub, (int64_t)sb.st_mtim.tv_sec * 1000000000 +
                                                     sb.st_mtim.tv_nsec,
                                            (int64_t)sb.st_size, token, temp};
            sub = NULL;
          }
        }
      }
    }
    ms_free(full);
    ms_free(sub);
  }
  closedir(d);
  ms_free(dir);
  return st;
}

static bool in_list(const ms_store_file *f, int n, const char *path) {
  for (int i = 0; i < n; i++)
    if (!strcmp(f[i].path, path)) return true;
  return false;
}

static ms_status unlink_rel(const char *root, const char *rel, int64_t *deleted, ms_error *err) {
  char *full = ms_asprintf("%s/%s", root, rel);
  if (!full) return oom(err);
  ms_status st = MS_OK;
  if (unlink(full) == 0) {
    (*deleted)++;
  } else if (errno != ENOENT) {
    ms_error_set_file(err, full);
    st = ms_error_set(err, MS_ERR_IO, "cannot delete: %s", strerror(errno));
  }
  ms_free(full);
  return st;
}

ms_status ms_store_gc(ms_store *s, int64_t *out_files_deleted, ms_error *err) {
  int64_t deleted = 0;
  if (out_files_deleted) *out_files_deleted = 0;
  if (!s) return ms_error_set(err, MS_ERR_INVALID, "store: no dataset");
  int fd = -1;
  ms_status st = lock_take(s, &fd, err);
  if (st == MS_OK) st = recover_locked(s, NULL, err);
  int64_t now = now_ns(), keep_ns = s->retention_s * 1000000000;
  if (st == MS_OK && s->single_file) {
    /* Only stale temporaries of the file's atomic writer: ".<file>.tmp-…". */
    const char *slash = strrchr(s->root, '/');
    char *dir = slash == s->root ? ms_strdup("/") : ms_strndup(s->root, (size_t)(slash - s->root));
    char *prefix = ms_asprintf(".%s.tmp-", slash + 1);
    DIR *d = dir && prefix ? opendir(dir) : NULL;
    if (!dir || !prefix) st = oom(err);
    struct dirent *de;
    while (d && st == MS_OK && (de = readdir(d)) != NULL) {
      if (strncmp(de->d_name, prefix, strlen(prefix)) != 0) continue;
      char *full = ms_asprintf("%s/%s", dir, de->d_name);
      struct stat sb;
      if (full && lstat(full, &sb) == 0 && S_ISREG(sb.st_mode) &&
          now - ((int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec) >= keep_ns)
        st = unlink_rel(dir, de->d_name, &deleted, err);
      ms_free(full);
    }
    if (d) closedir(d);
    ms_free(dir);
    ms_free(prefix);
  } else if (st == MS_OK) {
    ms_manifest m = {0};
    ms__manifest_meta meta;
    scan_list scan = {0};
    st = ms__manifest_read_meta(s->root, &m, &meta, err);
    /* Removed files past the retention go first, then the list is rewritten. */
    int kept = 0;
    for (int i = 0; st == MS_OK && i < m.n_removed; i++) {
      if (now - m.removed_at_ns[i] >= keep_ns) {
        st = unlink_rel(s->root, m.removed[i].path, &deleted, err);
        ms_free(m.removed[i].path);
      } else {
        m.removed_at_ns[kept] = m.removed_at_ns[i];
        m.removed[kept++] = m.removed[i];
      }
    }
    if (st == MS_OK && kept != m.n_removed) {
      m.n_removed = kept;
      st = ms__manifest_write(s->root, &m, &meta, err);
    }
    if (st == MS_OK) st = scan_dir(s->root, "", 0, &scan, err);
    for (int i = 0; st == MS_OK && i < scan.n; i++) {
      const scan_entry *e = &scan.e[i];
      if (now - e->mtime_ns < keep_ns) continue; /* maybe a writer's file not yet committed */
      if (e->token && (find_file(&m, e->rel) || in_list(m.removed, m.n_removed, e->rel)))
        continue;
      st = unlink_rel(s->root, e->rel, &deleted, err);
    }
    scan_free(&scan);
    ms_manifest_reset(&m);
  }
  lock_release(fd);
  if (out_files_deleted) *out_files_deleted = deleted;
  return st;
}

/* ---------------------------------------------------------------- check */

static void add_msg(ms_store_status *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_msg(ms_store_status *o, const char *fmt, ...) {
  size_t n = strlen(o->message);
  if (n + 8 >= sizeof o->message) return;
  if (n) {
    snprintf(o->message + n, sizeof o->message - n, "; ");
    n += 2;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->message + n, sizeof o->message - n, fmt, ap);
  va_end(ap);
}

ms_status ms_store_check(ms_store *s, ms_store_status *out, ms_error *err) {
  if (!s || !out) return ms_error_set(err, MS_ERR_INVALID, "store: bad argument");
  memset(out, 0, sizeof *out);
  reg_state rs;
  ms_status st = read_reg_state(s, &rs, err);
  if (st != MS_OK) return st;
  out->registry_generation = rs.last_committed;
  out->n_prepared = rs.n_prepared;
  out->agrees = true;
  if (rs.n_prepared) {
    out->agrees = false;
    add_msg(out, "%d prepared registry record%s not resolved (run recovery: data-status --repair)",
            rs.n_prepared, rs.n_prepared == 1 ? "" : "s");
  }
  if (s->single_file) {
    char ident[128];
    st = file_identity(s->root, ident, sizeof ident, err);
    out->manifest_generation = rs.last_committed;
    if (st == MS_OK && strcmp(ident, "absent") != 0) {
      struct stat sb;
      if (stat(s->root, &sb) == 0) {
        out->live_files = 1;
        out->live_bytes = (int64_t)sb.st_size;
      }
      out->live_rows = rs.last_total_rows;
    }
    if (st == MS_OK && s->reg && rs.last_committed > 0 &&
        (!rs.last_identity || strcmp(rs.last_identity, ident) != 0)) {
      out->agrees = false;
      add_msg(out, "%s changed since generation %lld was committed (identity %s, recorded %s)",
              s->root, (long long)rs.last_committed, ident,
              rs.last_identity ? rs.last_identity : "none");
    }
    ms_free(rs.last_identity);
    return st;
  }
  ms_free(rs.last_identity);
  ms_manifest m = {0};
  st = ms_manifest_read(s->root, &m, err);
  if (st != MS_OK) return st;
  out->manifest_generation = m.generation;
  if (s->reg && m.generation != rs.last_committed) {
    out->agrees = false;
    add_msg(out, "manifest generation %lld, registry generation %lld", (long long)m.generation,
            (long long)rs.last_committed);
  }
  out->live_files = m.n_files;
  out->removed_pending = m.n_removed;
  for (int i = 0; i < m.n_files; i++) {
    const ms_store_file *f = &m.files[i];
    out->live_rows += f->rows;
    out->live_bytes += f->bytes;
    char *full = ms_asprintf("%s/%s", s->root, f->path);
    struct stat sb;
    if (!full) {
      st = oom(err);
      break;
    }
    if (stat(full, &sb) != 0) {
      out->agrees = false;
      add_msg(out, "live file %s is missing", f->path);
    } else if ((int64_t)sb.st_size != f->bytes) {
      out->agrees = false;
      add_msg(out, "live file %s has %lld bytes, the manifest says %lld", f->path,
              (long long)sb.st_size, (long long)f->bytes);
    }
    ms_free(full);
  }
  scan_list scan = {0};
  if (st == MS_OK) st = scan_dir(s->root, "", 0, &scan, err);
  for (int i = 0; st == MS_OK && i < scan.n; i++)
    if (scan.e[i].token && !find_file(&m, scan.e[i].rel) &&
        !in_list(m.removed, m.n_removed, scan.e[i].rel))
      out->orphans++;
  scan_free(&scan);
  ms_manifest_reset(&m);
  return st;
}
