/* Fixed pthread pool running data-parallel loops (see include/morsel/threadpool.h).
 *
 * One job at a time: ms_pool_run publishes (fn, ctx, n_tasks), bumps a generation counter
 * and wakes the workers; every participant (workers and the caller) claims task indices
 * from an atomic counter until they run out. The caller waits until all participants have
 * left the job. Errors keep the lowest failing task index so the reported error does not
 * depend on scheduling. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "morsel/alloc.h"
#include "morsel/threadpool.h"

struct ms_pool {
  int n_threads; /* including the caller */
  pthread_t *threads;
  pthread_mutex_t mu;
  pthread_cond_t work_cv;
  pthread_cond_t done_cv;
  uint64_t generation;
  bool shutdown;
  bool busy;
  int active; /* workers still inside the current job */
  /* current job */
  ms_task_fn fn;
  void *ctx;
  int64_t n_tasks;
  atomic_llong next_task;
  atomic_bool failed;
  int64_t fail_task;
  ms_status fail_status;
  ms_error fail_err;
};

int ms_cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static void run_tasks(ms_pool *p, int worker) {
  ms_error err;
  for (;;) {
    if (atomic_load_explicit(&p->failed, memory_order_relaxed)) break;
    int64_t t = atomic_fetch_add_explicit(&p->next_task, 1, memory_order_relaxed);
    if (t >= p->n_tasks) break;
    ms_error_init(&err);
    ms_status st = p->fn(p->ctx, t, worker, &err);
    if (st != MS_OK) {
      pthread_mutex_lock(&p->mu);
      if (p->fail_status == MS_OK || t < p->fail_task) {
        p->fail_task = t;
        p->fail_status = st;
        p->fail_err = err;
        if (p->fail_err.status == MS_OK) p->fail_err.status = st;
      }
      pthread_mutex_unlock(&p->mu);
      atomic_store(&p->failed, true);
    }
  }
}

typedef struct worker_arg {
  ms_pool *pool;
  int index;
} worker_arg;

static void *worker_main(void *arg) {
  worker_arg wa = *(worker_arg *)arg;
  ms_free(arg);
  ms_pool *p = wa.pool;
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->shutdown && p->generation == seen) pthread_cond_wait(&p->work_cv, &p->mu);
    if (p->shutdown) break;
    seen = p->generation;
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, wa.index);
    pthread_mutex_lock(&p->mu);
    if (--p->active == 0) pthread_cond_signal(&p->done_cv);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

ms_status ms_pool_create(int n_threads, ms_pool **out, ms_error *err) {
  *out = NULL;
  if (n_threads <= 0) n_threads = ms_cpu_count();
  if (n_threads > 1024) n_threads = 1024;
  ms_pool *p = ms_calloc(1, sizeof *p);
  if (!p) return ms_error_set(err, MS_ERR_NOMEM, "cannot allocate thread pool");
  p->n_threads = n_threads;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->work_cv, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  if (n_threads > 1) {
    p->threads = ms_calloc((size_t)n_threads - 1, sizeof(pthread_t));
    if (!p->threads) { ms_pool_destroy(p); return ms_error_set(err, MS_ERR_NOMEM, "cannot allocate thread pool"); }
    for (int i = 0; i < n_threads - 1; i++) {
      worker_arg *wa = ms_malloc(sizeof *wa);
      if (!wa) { p->n_threads = i + 1; ms_pool_destroy(p); return ms_error_set(err, MS_ERR_NOMEM, "cannot allocate thread pool"); }
      wa->pool = p;
      wa->index = i + 1;
      if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
        ms_free(wa);
        p->n_threads = i + 1;
        ms_pool_destroy(p);
        return ms_error_set(err, MS_ERR_IO, "cannot start worker thread %d", i + 1);
      }
    }
  }
  *out = p;
  return MS_OK;
}

void ms_pool_destroy(ms_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  p->shutdown = true;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; p->threads && i < p->n_threads - 1; i++) pthread_join(p->threads[i], NULL);
  ms_free(p->threads);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->work_cv);
  pthread_cond_destroy(&p->done_cv);
  ms_free(p);
}

int ms_pool_size(const ms_pool *p) { return p ? p->n_threads : 1; }

static ms_status run_serial(int64_t n_tasks, ms_task_fn fn, void *ctx, ms_error *err) {
  for (int64_t t = 0; t < n_tasks; t++) {
    ms_status st = fn(ctx, t, 0, err);
    if (st != MS_OK) return st;
  }
  return MS_OK;
}

ms_status ms_pool_run(ms_pool *p, int64_t n_tasks, ms_task_fn fn, void *ctx, ms_error *err) {
  if (n_tasks <= 0) return MS_OK;
  if (!p || p->n_threads == 1 || n_tasks == 1) return run_serial(n_tasks, fn, ctx, err);
  pthread_mutex_lock(&p->mu);
  if (p->busy) { /* nested use from inside a task: stay correct, run serially */
    pthread_mutex_unlock(&p->mu);
    return run_serial(n_tasks, fn, ctx, err);
  }
  p->busy = true;
  p->fn = fn;
  p->ctx = ctx;
  p->n_tasks = n_tasks;
  atomic_store(&p->next_task, 0);
  atomic_store(&p->failed, false);
  p->fail_status = MS_OK;
  p->fail_task = -1;
  p->active = p->n_threads - 1;
  p->generation++;
  pthread_cond_broadcast(&p->work_cv);
  pthread_mutex_unlock(&p->mu);

  run_tasks(p, 0);

  pthread_mutex_lock(&p->mu);
  while (p->active > 0) pthread_cond_wait(&p->done_cv, &p->mu);
  ms_status st = p->fail_status;
  if (st != MS_OK && err) *err = p->fail_err;
  p->busy = false;
  pthread_mutex_unlock(&p->mu);
  return st;
}
