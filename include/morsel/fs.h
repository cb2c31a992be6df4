/* The filesystem interface every format reader and writer goes through.
 *
 * A back end is a table of function pointers (ms_fs_ops); local files are the first, and
 * object stores (S3, Azure, GCS, WebHDFS) plug in later without touching the formats.
 * Reads are ranged (pread-style) so that a Parquet reader can fetch a footer and then only
 * the column chunks it needs. Writes always go to a temporary name next to the target and
 * are published by an atomic rename after fsync of the file and its directory, so a reader
 * sees the old or the new file, never a partial one. */
#ifndef MORSEL_FS_H
#define MORSEL_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_fs ms_fs;
typedef struct ms_file ms_file;         /* an open file for ranged reads */
typedef struct ms_file_writer ms_file_writer;

typedef struct ms_file_info {
  char *path;   /* full path as the back end names it */
  int64_t size;
  bool is_dir;
} ms_file_info;

typedef struct ms_fs_ops {
  const char *name;
  ms_status (*open)(ms_fs *fs, const char *path, ms_file **out, ms_error *err);
  ms_status (*stat)(ms_fs *fs, const char *path, ms_file_info *out, ms_error *err);
  /* Lists entries directly below dir (not recursive), sorted by path. */
  ms_status (*list)(ms_fs *fs, const char *dir, ms_file_info **out, int64_t *n_out,
                    ms_error *err);
  ms_status (*create_writer)(ms_fs *fs, const char *final_path, ms_file_writer **out,
                             ms_error *err);
  ms_status (*remove)(ms_fs *fs, const char *path, ms_error *err);
  ms_status (*mkdirs)(ms_fs *fs, const char *dir, ms_error *err);
  void (*destroy)(ms_fs *fs);
} ms_fs_ops;

struct ms_fs {
  const ms_fs_ops *ops;
  void *impl;
};

/* The local filesystem (a process-wide singleton; never destroy it). */
ms_fs *ms_fs_local(void);

/* Convenience wrappers over fs->ops. fs may be NULL for the local filesystem. */
ms_status ms_fs_open(ms_fs *fs, const char *path, ms_file **out, ms_error *err);
ms_status ms_fs_stat(ms_fs *fs, const char *path, ms_file_info *out, ms_error *err);
ms_status ms_fs_list(ms_fs *fs, const char *dir, ms_file_info **out, int64_t *n_out,
                     ms_error *err);
void ms_file_infos_free(ms_file_info *infos, int64_t n);
ms_status ms_fs_remove(ms_fs *fs, const char *path, ms_error *err);
ms_status ms_fs_mkdirs(ms_fs *fs, const char *dir, ms_error *err);
/* Reads a whole file into a new buffer (ms_free). */
ms_status ms_fs_read_all(ms_fs *fs, const char *path, uint8_t **out, int64_t *out_len,
                         ms_error *err);

/* ---- files open for reading ---- */
typedef struct ms_file_ops {
  int64_t (*size)(ms_file *f);
  /* Reads exactly len bytes at offset into buf; a short file is MS_ERR_CORRUPT. */
  ms_status (*read_at)(ms_file *f, int64_t offset, int64_t len, void *buf, ms_error *err);
  /* Optional: a pointer valid until close to len bytes at offset (e.g. mmap), or NULL
   * when the back end cannot map. */
  const uint8_t *(*map)(ms_file *f, int64_t offset, int64_t len);
  void (*close)(ms_file *f);
  /* Optional: a hint that the mapped bytes [offset, offset + len) will not be read again
   * soon, so their pages may leave this process's resident set (they can still be read:
   * a later access maps them again). */
  void (*release)(ms_file *f, int64_t offset, int64_t len);
} ms_file_ops;

struct ms_file {
  const ms_file_ops *ops;
  char *path;
  void *impl;
};

int64_t ms_file_size(ms_file *f);
ms_status ms_file_read_at(ms_file *f, int64_t offset, int64_t len, void *buf, ms_error *err);
const uint8_t *ms_file_map(ms_file *f, int64_t offset, int64_t len);
void ms_file_close(ms_file *f); /* NULL is allowed */
void ms_file_release(ms_file *f, int64_t offset, int64_t len); /* a hint; may do nothing */

/* ---- atomic writers: temp file in the target's directory, then fsync + rename ---- */
typedef struct ms_file_writer_ops {
  ms_status (*write)(ms_file_writer *w, const void *data, int64_t len, ms_error *err);
  /* fsync, rename onto the final path, fsync the directory. Frees the writer. */
  ms_status (*commit)(ms_file_writer *w, ms_error *err);
  /* Removes the temporary file. Frees the writer. */
  void (*abort)(ms_file_writer *w);
} ms_file_writer_ops;

struct ms_file_writer {
  const ms_file_writer_ops *ops;
  char *final_path;
  int64_t bytes_written;
  void *impl;
};

ms_status ms_fs_create_writer(ms_fs *fs, const char *final_path, ms_file_writer **out,
                              ms_error *err);
ms_status ms_writer_write(ms_file_writer *w, const void *data, int64_t len, ms_error *err);
ms_status ms_writer_commit(ms_file_writer *w, ms_error *err);
void ms_writer_abort(ms_file_writer *w); /* NULL is allowed */

#ifdef __cplusplus
}
#endif
#endif
