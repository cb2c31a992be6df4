/* A fixed pool of worker threads (pthreads) for data-parallel loops.
 *
 * Work is expressed as ms_pool_run(pool, n_tasks, fn, ctx): fn(ctx, task, worker) is called
 * once for every task in [0, n_tasks), on some worker; the call returns when all are done.
 * `worker` is in [0, ms_pool_size) so callers can keep per-worker scratch. Tasks are handed
 * out in index order from an atomic counter, so results must be written by task index:
 * that is what keeps output independent of the thread count. The calling thread works too.
 * A task's non-OK status stops further tasks from starting; the first (lowest task index)
 * failure's status and error are returned. */
#ifndef MORSEL_THREADPOOL_H
#define MORSEL_THREADPOOL_H

#include <stdint.h>

#include "morsel/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_pool ms_pool;

typedef ms_status (*ms_task_fn)(void *ctx, int64_t task, int worker, ms_error *err);

/* n_threads = 0 means one per online core. The pool includes the calling thread, so
 * n_threads = 1 starts no extra thread. */
ms_status ms_pool_create(int n_threads, ms_pool **out, ms_error *err);
void ms_pool_destroy(ms_pool *pool); /* NULL is allowed */
int ms_pool_size(const ms_pool *pool);
/* pool may be NULL: runs serially on the caller with worker 0. Not reentrant: a task must
 * not call ms_pool_run on the same pool (it runs serially in that case). */
ms_status ms_pool_run(ms_pool *pool, int64_t n_tasks, ms_task_fn fn, void *ctx, ms_error *err);

/* Number of online cores. */
int ms_cpu_count(void);

#ifdef __cplusplus
}
#endif
#endif
