/* The point-in-time join kernel: for every entity row, the index of the winning feature
 * row (or -1), computed on plain arrays.
 *
 * The caller (the offline store executor) has already read the key, timestamp and created
 * columns of a view's source (after pre-filtering and pruning) and of the entity input,
 * normalised every timestamp to int64 UTC nanoseconds, and numbered source rows in source
 * order. The kernel does two things:
 *
 * 1. Key encoding (ms_pit_keys_*): the join-key tuples of both sides (any number of key
 *    columns; int/uint of any width, bool, date32, timestamp, utf8/binary, fixed_binary,
 *    decimal128) are mapped to dense key ids through one hash table built on the feature
 *    side. A feature row with a null in any key column gets id -1 (never a candidate); an
 *    entity row with a null key or a tuple absent from the feature side gets -1 (no match).
 *    Key columns of the two sides may differ in integer width/signedness (compared by
 *    value) and in utf8 vs large_utf8; other type mismatches are MS_ERR_TYPE naming both
 *    columns. Zero key columns (an entity-less view): every row gets id 0.
 *    Each key id also carries its partition: partition = hash(tuple) % n_partitions, so that
 *    one partition's work is independent of every other's (the unit of parallelism here and
 *    of distribution over MPI ranks later).
 *
 * 2. The join (ms_pit_join): within each partition, feature rows are ordered by
 *    (key id, ts, created with null lowest, source position) and entity rows by
 *    (key id, ts); one merge sweep per key gives each entity row the last feature row with
 *    ts <= e.ts, which is the winner by the contract; the ttl bound (ts >= e.ts - ttl_ns
 *    when ttl_ns > 0) is then checked on that winner (if the largest candidate is too old,
 *    all are). With filter_by_created the winner is the last row, in that order, with
 *    ts <= e.ts and a non-null created <= e.ts (and the ttl bound).
 *    Partitions run as independent tasks on the pool; results are identical for any
 *    thread count and any partition count.
 *
 * Nothing here reads files or knows about views; it is exercised directly by
 * tests/offline/test_pit_join.c against a nested-loop oracle. */
#ifndef MS_OFFLINE_PIT_JOIN_H
#define MS_OFFLINE_PIT_JOIN_H

#include <stdbool.h>
#include <stdint.h>

#include "morsel/status.h"
#include "morsel/table.h"
#include "morsel/threadpool.h"

/* Dense key ids of both sides. Arrays are owned (ms_free via ms_pit_keys_reset). */
typedef struct ms_pit_keys {
  int64_t n_feature_rows;
  int64_t n_entity_rows;
  int64_t n_keys;            /* distinct non-null feature-side tuples */
  int32_t n_partitions;
  int64_t *feature_key;      /* [n_feature_rows] key id or -1 */
  int64_t *entity_key;       /* [n_entity_rows] key id or -1 */
  int32_t *key_partition;    /* [n_keys] partition of each key id */
} ms_pit_keys;

/* feature_keys / entity_keys: n_key_columns columns each, in the same order (the view's
 * join keys; entity side already mapped through join_key_map). n_partitions >= 1. pool may
 * be NULL (single thread). */
ms_status ms_pit_keys_encode(ms_column *const *feature_keys, ms_column *const *entity_keys,
                             int n_key_columns, int32_t n_partitions, ms_pool *pool,
                             ms_pit_keys *out, ms_error *err);
void ms_pit_keys_reset(ms_pit_keys *keys); /* frees the arrays; zeroes the struct */
/* Zero key columns (an entity-less view): the column arrays carry no row counts, so this
 * variant takes them. Every feature row gets id 0 (n_keys = 1, partition 0); every entity
 * row gets 0, or -1 when there is no feature row. ms_pit_keys_encode with n_key_columns = 0
 * is MS_ERR_INVALID pointing here. */
ms_status ms_pit_keys_init_keyless(int64_t n_feature_rows, int64_t n_entity_rows,
                                   int32_t n_partitions, ms_pit_keys *out, ms_error *err);

typedef struct ms_pit_input {
  const ms_pit_keys *keys;
  const int64_t *feature_ts;        /* [n_feature_rows] UTC ns; rows with a null ts are
                                       given key id -1 by the caller */
  const int64_t *feature_created;   /* [n_feature_rows] UTC ns, or NULL (no created column) */
  const uint8_t *feature_created_valid; /* [n_feature_rows] 1 = not null; NULL = all valid */
  const int64_t *feature_pos;       /* [n_feature_rows] source order position (ties: larger
                                       wins); NULL = the array index is the position */
  const int64_t *entity_ts;         /* [n_entity_rows] UTC ns; an entity row whose ts is null
                                       is given key id -1 by the caller */
  int64_t ttl_ns;                   /* 0 = no lower bound */
  bool filter_by_created;
} ms_pit_input;

typedef struct ms_pit_stats {
  int32_t n_partitions;
  int64_t max_partition_rows;  /* feature + entity rows in the largest partition */
  int64_t matched;             /* entity rows with a winner */
} ms_pit_stats;

/* out_winner: [n_entity_rows], filled with the winning feature row index (into the
 * feature arrays) or -1. stats may be NULL. */
ms_status ms_pit_join(const ms_pit_input *in, ms_pool *pool, int64_t *out_winner,
                      ms_pit_stats *stats, ms_error *err);

#endif
