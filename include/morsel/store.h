/* Managed datasets: the commit protocol every morsel write goes through.
 *
 * A managed dataset is a directory (a source directory, a hive-partitioned source, a
 * feature service's log destination, an aggregation view's snapshot directory) whose live
 * set of morsel-written files is listed in a manifest, `<root>/_morsel_manifest.json`.
 * docs/storage.md describes the on-disk layout; the rules in short:
 *
 *  - Every file morsel writes into a managed directory has a base name carrying the token
 *    `.m<16 lowercase hex>.` before its extension (e.g.
 *    `event_date=2024-01-01/part-20261124T031500.123456789Z.m3f9a0c1d2e4b5a6f.parquet`).
 *    Such a file is live only while the manifest lists it. Files without the token
 *    (placed by hand or by other tools) are live as the dataset layer always took them.
 *    Readers (ms_dataset_open on a directory or glob) apply this rule always - with no
 *    manifest yet, token files are not live (a writer killed before its first commit
 *    leaves orphans that no reader must see) - so every reader - retrieval, pulls,
 *    compute, `morsel cat` - sees exactly one committed state. A manifest that lists a
 *    missing file is MS_ERR_CORRUPT naming both.
 *  - Data files are written under a temporary hidden name, fsynced, and renamed to their
 *    final (token) name; they are invisible until a commit lists them.
 *  - A commit replaces the manifest: new JSON to a temporary name, fsync, rename over
 *    `_morsel_manifest.json`, fsync of the directory. That rename is the commit point.
 *    Commits are serialised by an exclusive flock(2) on `<root>/_morsel.lock`, held only
 *    around the manifest swap, so concurrent appenders write their data in parallel and
 *    never lose each other's files.
 *  - The registry (include/morsel/registry.h, data commits) records every commit in the
 *    same logical step: under the lock, a `prepared` record with the next generation, then
 *    the manifest rename, then the record marked `committed`. A writer killed between the
 *    two leaves a `prepared` record that the next lock holder resolves (recovery): committed
 *    when the manifest has that generation, aborted otherwise. So at any instant the
 *    registry's last committed generation equals the manifest's, or the manifest is at most
 *    one prepared generation ahead or behind, and recovery makes them equal.
 *  - Files a commit removes (compaction, a recompute replacing snapshots) stay on disk for
 *    the retention period (offline_store.file_retention_seconds, default 3600) so that a
 *    reader that listed them before the commit can still read them; ms_store_gc deletes them
 *    afterwards, with orphans (token files never committed, left by killed writers) and
 *    stale temporary files older than the retention.
 *
 * Single-file datasets (a source that is one file) have no manifest: a write rewrites the
 * whole file (old + new rows) to a temporary name and renames it over the old one under a
 * lock `<dir>/_<file name>.morsel.lock`. The registry records the file's identity
 * (device, inode, size, mtime) before (`prepared`) and after (`committed`); recovery
 * compares the current identity with the prepared record's old one.
 *
 * All functions are safe to call from several processes at once on one machine or on a
 * shared POSIX file system with working flock. */
#ifndef MORSEL_STORE_H
#define MORSEL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/registry.h"
#include "morsel/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_MANIFEST_NAME "_morsel_manifest.json"
#define MS_STORE_LOCK_NAME "_morsel.lock"

typedef struct ms_store ms_store;

typedef struct ms_store_options {
  ms_registry *registry;     /* NULL = no registry records (library use without a registry) */
  const char *project;       /* required when registry is set */
  /* The registry's name for the dataset: "source:<name>", "logs:<feature service>",
   * "aggregations:<view>". Required when registry is set. */
  const char *dataset;
  bool single_file;          /* root is one file, not a directory */
  int64_t retention_seconds; /* < 0 = default (3600) */
} ms_store_options;

void ms_store_options_init(ms_store_options *opts);

/* Opens (for a directory, creating the directory when absent) a managed dataset rooted at
 * `root` (an absolute path). Reads nothing else; no lock is taken. */
ms_status ms_store_open(const char *root, const ms_store_options *opts, ms_store **out,
                        ms_error *err);
void ms_store_close(ms_store *s); /* NULL is allowed */
const char *ms_store_root(const ms_store *s);

typedef struct ms_store_file {
  char *path;        /* relative to the root, '/'-separated, e.g. "d=2024-01-01/part-….parquet" */
  int64_t rows;
  int64_t bytes;
  int64_t generation; /* the commit that added it */
} ms_store_file;

typedef struct ms_manifest {
  int64_t generation;      /* 0 = no manifest yet */
  int n_files;
  ms_store_file *files;    /* live token files, sorted by path */
  int n_removed;
  ms_store_file *removed;  /* removed by a commit, awaiting deletion (generation = the removing commit) */
  int64_t *removed_at_ns;  /* [n_removed] UTC ns of the removing commit */
} ms_manifest;

void ms_manifest_reset(ms_manifest *m); /* frees and zeroes; safe on a zeroed struct */

/* Reads `<root>/_morsel_manifest.json` (a zeroed manifest with generation 0 when absent).
 * A malformed manifest is MS_ERR_CORRUPT naming the file and byte offset. */
ms_status ms_manifest_read(const char *root, ms_manifest *out, ms_error *err);

/* True when base_name carries the `.m<16 hex>.` token of a morsel-written file. */
bool ms_store_is_token_name(const char *base_name);

/* A new unique relative path for a data file: `<subdir>/<stem>.m<16 hex>.<ext>`, subdir
 * "" for the root (created when absent). stem NULL = "part-<UTC now, YYYYMMDDTHHMMSS.nnnnnnnnnZ>"
 * so that files sort in write order; compaction passes the stem of the first file it
 * merges so the merged file sorts where its inputs did. Free with ms_free. */
ms_status ms_store_new_path(ms_store *s, const char *subdir, const char *stem, const char *ext,
                            char **out_rel, ms_error *err);

/* One commit of a directory dataset. Data files in `adds` must already be written (under
 * their final names, fsynced). Every path in `removes` must be live at commit time, else
 * MS_ERR_CONFLICT and nothing changes (two compactions racing: one wins). remove_all
 * removes every live token file (a recompute replacing all snapshots). */
typedef struct ms_store_commit {
  const char *kind;          /* "write_batch" | "write_logs" | "compact" | "compute" */
  const ms_store_file *adds; /* generation is filled in by the commit */
  int n_adds;
  const char *const *removes;
  int n_removes;
  bool remove_all;
  int64_t rows_added;        /* for the registry record */
  int64_t rows_removed;
  const char *detail_json;   /* optional extra JSON object for the registry record */
} ms_store_commit;

/* Takes the lock, runs recovery, writes the registry's prepared record, swaps the
 * manifest, marks the record committed, releases the lock. *out_generation = the new
 * generation. On any error before the rename nothing is visible and the record is
 * aborted; the added files become orphans for ms_store_gc. */
ms_status ms_store_commit_files(ms_store *s, const ms_store_commit *c, int64_t *out_generation,
                                ms_error *err);

/* Single-file datasets: begin takes the lock, runs recovery and writes the prepared record
 * (with the current file's identity; the file may not exist yet); the caller then writes
 * the new whole file through ms_fs_create_writer (temp + fsync + rename); finish records
 * the committed identity and rows and releases the lock; abort marks the record aborted
 * and releases the lock (the caller has aborted its writer). */
typedef struct ms_store_txn ms_store_txn;
ms_status ms_store_single_begin(ms_store *s, const char *kind, ms_store_txn **out,
                                ms_error *err);
/* The generation this transaction commits (the registry's last committed + 1; 1 without
 * a registry). (Added by the store: write-batch prints the generation.) */
int64_t ms_store_txn_generation(const ms_store_txn *t);
ms_status ms_store_single_finish(ms_store_txn *t, int64_t rows_added, int64_t total_rows,
                                 ms_error *err);
void ms_store_single_abort(ms_store_txn *t);

/* Under the lock: resolves prepared registry records (see above). Run by every commit and
 * begin; exposed for `morsel data-status --repair` and tests. *out_resolved may be NULL. */
ms_status ms_store_recover(ms_store *s, int *out_resolved, ms_error *err);

/* Under the lock: deletes removed files whose retention has passed, orphan token files
 * and stale hidden temporary files older than the retention; drops deleted files from the
 * manifest's removed list (a manifest rewrite that keeps the generation). */
ms_status ms_store_gc(ms_store *s, int64_t *out_files_deleted, ms_error *err);

/* Agreement between the files and the registry, for `morsel data-status` and tests:
 * manifest (or single-file identity) vs the registry's last committed record, live files
 * present with their recorded sizes, orphans and pending deletions counted. */
typedef struct ms_store_status {
  int64_t manifest_generation;   /* directories; single files: the registry's last commit */
  int64_t registry_generation;   /* last committed record; 0 = none */
  int n_prepared;                /* unresolved prepared records */
  bool agrees;                   /* generations equal and no prepared record, every live
                                    file present with its recorded size */
  int64_t live_files, live_rows, live_bytes;
  int64_t removed_pending, orphans;
  char message[512];             /* what disagrees, when !agrees */
} ms_store_status;

ms_status ms_store_check(ms_store *s, ms_store_status *out, ms_error *err);

#ifdef __cplusplus
}
#endif
#endif
