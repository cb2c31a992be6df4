/* The local-filesystem back end of ms_fs, plus the back-end-neutral wrappers.
 *
 * Reads use pread and mmap (read-only, MAP_PRIVATE), so a Parquet decoder can work straight
 * from the page cache. Writers create "<dir>/.<name>.tmp-<pid>-<counter>" next to the
 * target, and commit with fsync(file), rename, fsync(dir): the POSIX recipe for a file that
 * appears whole or not at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "morsel/fs.h"

/* ---------------- wrappers ---------------- */

ms_status ms_fs_open(ms_fs *fs, const char *path, ms_file **out, ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->open(fs, path, out, err);
}
ms_status ms_fs_stat(ms_fs *fs, const char *path, ms_file_info *out, ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->stat(fs, path, out, err);
}
ms_status ms_fs_list(ms_fs *fs, const char *dir, ms_file_info **out, int64_t *n_out,
                     ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->list(fs, dir, out, n_out, err);
}
void ms_file_infos_free(ms_file_info *infos, int64_t n) {
  if (!infos) return;
  for (int64_t i = 0; i < n; i++) ms_free(infos[i].path);
  ms_free(infos);
}
ms_status ms_fs_remove(ms_fs *fs, const char *path, ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->remove(fs, path, err);
}
ms_status ms_fs_mkdirs(ms_fs *fs, const char *dir, ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->mkdirs(fs, dir, err);
}
ms_status ms_fs_create_writer(ms_fs *fs, const char *final_path, ms_file_writer **out,
                              ms_error *err) {
  if (!fs) fs = ms_fs_local();
  return fs->ops->create_writer(fs, final_path, out, err);
}

int64_t ms_file_size(ms_file *f) { return f->ops->size(f); }
ms_status ms_file_read_at(ms_file *f, int64_t offset, int64_t len, void *buf, ms_error *err) {
  return f->ops->read_at(f, offset, len, buf, err);
}
const uint8_t *ms_file_map(ms_file *f, int64_t offset, int64_t len) {
  return f->ops->map ? f->ops->map(f, offset, len) : NULL;
}
void ms_file_release(ms_file *f, int64_t offset, int64_t len) {
  if (f && f->ops->release) f->ops->release(f, offset, len);
}
void ms_file_close(ms_file *f) {
  if (f) f->ops->close(f);
}

ms_status ms_writer_write(ms_file_writer *w, const void *data, int64_t len, ms_error *err) {
  return w->ops->write(w, data, len, err);
}
ms_status ms_writer_commit(ms_file_writer *w, ms_error *err) { return w->ops->commit(w, err); }
void ms_writer_abort(ms_file_writer *w) {
  if (w) w->ops->abort(w);
}

ms_status ms_fs_read_all(ms_fs *fs, const char *path, uint8_t **out, int64_t *out_len,
                         ms_error *err) {
  *out = NULL;
  *out_len = 0;
  ms_file *f;
  ms_status st = ms_fs_open(fs, path, &f, err);
  if (st) return st;
  int64_t n = ms_file_size(f);
  uint8_t *buf = ms_malloc((size_t)n + 1);
  if (!buf) {
    ms_file_close(f);
    return ms_error_set(err, MS_ERR_NOMEM, "%s: cannot allocate %lld bytes", path, (long long)n);
  }
  st = ms_file_read_at(f, 0, n, buf, err);
  ms_file_close(f);
  if (st) { ms_free(buf); return st; }
  buf[n] = 0;
  *out = buf;
  *out_len = n;
  return MS_OK;
}

/* ---------------- local back end ---------------- */

typedef struct local_file {
  int fd;
  int64_t size;
  const uint8_t *map; /* whole-file mapping, made on first map() call */
  int map_failed;
} local_file;

static int64_t local_size(ms_file *f) { return ((local_file *)f->impl)->size; }

static ms_status local_read_at(ms_file *f, int64_t offset, int64_t len, void *buf, ms_error *err) {
  local_file *lf = f->impl;
  if (offset < 0 || len < 0 || offset > lf->size || len > lf->size - offset) {
    ms_error_set_file(err, f->path);
    ms_error_set_byte_offset(err, offset);
    return ms_error_set(err, MS_ERR_CORRUPT, "read of %lld bytes past the end of the file (size %lld)",
                        (long long)len, (long long)lf->size);
  }
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = pread(lf->fd, p, (size_t)(len > (1 << 30) ? (1 << 30) : len), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      ms_error_set_file(err, f->path);
      return ms_error_set(err, MS_ERR_IO, "read failed: %s", strerror(errno));
    }
    if (n == 0) {
      ms_error_set_file(err, f->path);
      ms_error_set_byte_offset(err, offset);
      return ms_error_set(err, MS_ERR_CORRUPT, "file shrank while reading");
    }
    p += n;
    offset += n;
    len -= n;
  }
  return MS_OK;
}

static const uint8_t *local_map(ms_file *f, int64_t offset, int64_t len) {
  local_file *lf = f->impl;
  if (offset < 0 || len < 0 || offset > lf->size || len > lf->size - offset) return NULL;
  if (!lf->map && !lf->map_failed) {
    if (lf->size == 0) { lf->map_failed = 1; return NULL; }
    void *m = mmap(NULL, (size_t)lf->size, PROT_READ, MAP_PRIVATE, lf->fd, 0);
    if (m == MAP_FAILED) { lf->map_failed = 1; return NULL; }
    lf->map = m;
  }
  return lf->map ? lf->map + offset : NULL;
}

/* Drops the whole pages inside the range from the mapping (MADV_DONTNEED). The mapping is
 * private and never written, so a later read faults the file's bytes back in unchanged;
 * what this buys is a resident set that holds the decoded columns, not the file too. */
static void local_release(ms_file *f, int64_t offset, int64_t len) {
  local_file *lf = f->impl;
  if (!lf->map || offset < 0 || len <= 0 || offset > lf->size || len > lf->size - offset) return;
  const uintptr_t page = 4096;
  uintptr_t a = ((uintptr_t)(lf->map + offset) + page - 1) & ~(page - 1);
  uintptr_t e = ((uintptr_t)(lf->map + offset + len)) & ~(page - 1);
  if (e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

static void local_close(ms_file *f) {
  local_file *lf = f->impl;
  if (lf->map) munmap((void *)lf->map, (size_t)lf->size);
  close(lf->fd);
  ms_free(lf);
  ms_free(f->path);
  ms_free(f);
}

static const ms_file_ops local_file_ops = {local_size, local_read_at, local_map, local_close,
                                            local_release};

static ms_status local_open(ms_fs *fs, const char *path, ms_file **out, ms_error *err) {
  (void)fs;
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ms_error_set_file(err, path);
    return ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO, "cannot open: %s",
                        strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
    int e = S_ISDIR(sb.st_mode) ? EISDIR : errno;
    close(fd);
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot open: %s", strerror(e));
  }
  ms_file *f = ms_calloc(1, sizeof *f);
  local_file *lf = ms_calloc(1, sizeof *lf);
  char *p = ms_strdup(path);
  if (!f || !lf || !p) {
    ms_free(f); ms_free(lf); ms_free(p); close(fd);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory opening %s", path);
  }
  lf->fd = fd;
  lf->size = sb.st_size;
  f->ops = &local_file_ops;
  f->path = p;
  f->impl = lf;
  *out = f;
  return MS_OK;
}

static ms_status local_stat(ms_fs *fs, const char *path, ms_file_info *out, ms_error *err) {
  (void)fs;
  struct stat sb;
  if (stat(path, &sb) != 0) {
    ms_error_set_file(err, path);
    return ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO, "cannot stat: %s",
                        strerror(errno));
  }
  out->path = ms_strdup(path);
  if (!out->path) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  out->size = sb.st_size;
  out->is_dir = S_ISDIR(sb.st_mode);
  return MS_OK;
}

static int info_cmp(const void *a, const void *b) {
  return strcmp(((const ms_file_info *)a)->path, ((const ms_file_info *)b)->path);
}

static ms_status local_list(ms_fs *fs, const char *dir, ms_file_info **out, int64_t *n_out,
                            ms_error *err) {
  (void)fs;
  *out = NULL;
  *n_out = 0;
  DIR *d = opendir(dir);
  if (!d) {
    ms_error_set_file(err, dir);
    return ms_error_set(err, errno == ENOENT ? MS_ERR_NOT_FOUND : MS_ERR_IO,
                        "cannot list directory: %s", strerror(errno));
  }
  int64_t n = 0, cap = 16;
  ms_file_info *infos = ms_malloc(sizeof *infos * (size_t)cap);
  ms_status st = infos ? MS_OK : MS_ERR_NOMEM;
  struct dirent *e;
  size_t dlen = strlen(dir);
  while (st == MS_OK && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      ms_file_info *grown = ms_realloc(infos, sizeof *infos * (size_t)(cap * 2));
      if (!grown) { st = MS_ERR_NOMEM; break; }
      infos = grown;
      cap *= 2;
    }
    char *full = (dlen > 0 && dir[dlen - 1] == '/') ? ms_asprintf("%s%s", dir, e->d_name)
                                                   : ms_asprintf("%s/%s", dir, e->d_name);
    if (!full) { st = MS_ERR_NOMEM; break; }
    struct stat sb;
    if (stat(full, &sb) != 0) { ms_free(full); continue; } /* vanished or dangling link */
    infos[n].path = full;
    infos[n].size = sb.st_size;
    infos[n].is_dir = S_ISDIR(sb.st_mode);
    n++;
  }
  closedir(d);
  if (st != MS_OK) {
    ms_file_infos_free(infos, n);
    return ms_error_set(err, st, "out of memory listing %s", dir);
  }
  qsort(infos, (size_t)n, sizeof *infos, info_cmp);
  *out = infos;
  *n_out = n;
  return MS_OK;
}

static ms_status local_remove(ms_fs *fs, const char *path, ms_error *err) {
  (void)fs;
  if (unlink(path) != 0 && !(errno == EISDIR || errno == EPERM) ) {
    if (errno == ENOENT) return MS_OK;
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot remove: %s", strerror(errno));
  }
  if (access(path, F_OK) == 0 && rmdir(path) != 0) {
    ms_error_set_file(err, path);
    return ms_error_set(err, MS_ERR_IO, "cannot remove: %s", strerror(errno));
  }
  return MS_OK;
}

static ms_status local_mkdirs(ms_fs *fs, const char *dir, ms_error *err) {
  (void)fs;
  char *p = ms_strdup(dir);
  if (!p) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  for (char *s = p + 1; ; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        ms_error_set_file(err, p);
        ms_status st = ms_error_set(err, MS_ERR_IO, "cannot create directory: %s", strerror(errno));
        ms_free(p);
        return st;
      }
      *s = c;
      if (c == '\0') break;
    }
  }
  ms_free(p);
  return MS_OK;
}

/* ---- atomic writer ---- */

typedef struct local_writer {
  int fd;
  char *tmp_path;
  /* Small writes are buffered: encoders emit many little pieces. */
  uint8_t *buf;
  size_t buf_len;
} local_writer;

#define LOCAL_WRITER_BUF (1 << 20)

static ms_status flush_buf(ms_file_writer *w, ms_error *err) {
  local_writer *lw = w->impl;
  const uint8_t *p = lw->buf;
  size_t left = lw->buf_len;
  while (left > 0) {
    ssize_t n = write(lw->fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      ms_error_set_file(err, w->final_path);
      return ms_error_set(err, MS_ERR_IO, "write failed: %s", strerror(errno));
    }
    p += n;
    left -= (size_t)n;
  }
  lw->buf_len = 0;
  return MS_OK;
}

static ms_status lw_write(ms_file_writer *w, const void *data, int64_t len, ms_error *err) {
  local_writer *lw = w->impl;
  const uint8_t *src = data;
  w->bytes_written += len;
  while (len > 0) {
    size_t room = LOCAL_WRITER_BUF - lw->buf_len;
    size_t n = (size_t)len < room ? (size_t)len : room;
    memcpy(lw->buf + lw->buf_len, src, n);
    lw->buf_len += n;
    src += n;
    len -= (int64_t)n;
    if (lw->buf_len == LOCAL_WRITER_BUF) {
      ms_status st = flush_buf(w, err);
      if (st) return st;
    }
  }
  return MS_OK;
}

static void lw_free(ms_file_writer *w) {
  local_writer *lw = w->impl;
  if (lw->fd >= 0) close(lw->fd);
  ms_free(lw->buf);
  ms_free(lw->tmp_path);
  ms_free(lw);
  ms_free(w->final_path);
  ms_free(w);
}

static void lw_abort(ms_file_writer *w) {
  local_writer *lw = w->impl;
  unlink(lw->tmp_path);
  lw_free(w);
}

static ms_status fsync_dir_of(const char *path, ms_error *err) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? ms_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : ms_strdup(".");
  if (!dir) return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ms_status st = MS_OK;
  if (dfd < 0 || fsync(dfd) != 0) {
    ms_error_set_file(err, dir);
    st = ms_error_set(err, MS_ERR_IO, "cannot fsync directory: %s", strerror(errno));
  }
  if (dfd >= 0) close(dfd);
  ms_free(dir);
  return st;
}

static ms_status lw_commit(ms_file_writer *w, ms_error *err) {
  local_writer *lw = w->impl;
  ms_status st = flush_buf(w, err);
  if (st == MS_OK && fsync(lw->fd) != 0) {
    ms_error_set_file(err, w->final_path);
    st = ms_error_set(err, MS_ERR_IO, "fsync failed: %s", strerror(errno));
  }
  if (st == MS_OK) {
    close(lw->fd);
    lw->fd = -1;
    if (rename(lw->tmp_path, w->final_path) != 0) {
      ms_error_set_file(err, w->final_path);
      st = ms_error_set(err, MS_ERR_IO, "cannot rename temporary file into place: %s",
                        strerror(errno));
    }
  }
  if (st == MS_OK) st = fsync_dir_of(w->final_path, err);
  if (st != MS_OK) { lw_abort(w); return st; }
  lw_free(w);
  return MS_OK;
}

static const ms_file_writer_ops local_writer_ops = {lw_write, lw_commit, lw_abort};

static ms_status local_create_writer(ms_fs *fs, const char *final_path, ms_file_writer **out,
                                     ms_error *err) {
  (void)fs;
  static atomic_uint counter;
  *out = NULL;
  const char *slash = strrchr(final_path, '/');
  const char *base = slash ? slash + 1 : final_path;
  int dir_len = slash ? (int)(slash - final_path) + 1 : 0;
  char *tmp = ms_asprintf("%.*s.%s.tmp-%d-%u", dir_len, final_path, base, (int)getpid(),
                          atomic_fetch_add(&counter, 1));
  ms_file_writer *w = ms_calloc(1, sizeof *w);
  local_writer *lw = ms_calloc(1, sizeof *lw);
  char *fp = ms_strdup(final_path);
  uint8_t *buf = ms_malloc(LOCAL_WRITER_BUF);
  if (!tmp || !w || !lw || !fp || !buf) {
    ms_free(tmp); ms_free(w); ms_free(lw); ms_free(fp); ms_free(buf);
    return ms_error_set(err, MS_ERR_NOMEM, "out of memory");
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) {
    ms_error_set_file(err, final_path);
    ms_status st = ms_error_set(err, MS_ERR_IO, "cannot create temporary file %s: %s", tmp,
                                strerror(errno));
    ms_free(tmp); ms_free(w); ms_free(lw); ms_free(fp); ms_free(buf);
    return st;
  }
  lw->fd = fd;
  lw->tmp_path = tmp;
  lw->buf = buf;
  w->ops = &local_writer_ops;
  w->final_path = fp;
  w->impl = lw;
  *out = w;
  return MS_OK;
}

static void local_destroy(ms_fs *fs) { (void)fs; }

static const ms_fs_ops local_ops = {"local",       local_open,   local_stat,
                                    local_list,    local_create_writer, local_remove,
                                    local_mkdirs,  local_destroy};

static ms_fs g_local_fs = {&local_ops, NULL};

ms_fs *ms_fs_local(void) { return &g_local_fs; }
