/* Allocation through replaceable hooks, with current/peak accounting and an optional limit.
 * Each block is preceded by a 64-byte header holding its size (64 keeps the user pointer
 * 64-byte aligned when the underlying allocator returns 64-aligned memory for the aligned
 * variants, and 16-aligned otherwise, as malloc would). */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "morsel/alloc.h"

#define MS_ALLOC_HEADER 64

static void *default_malloc(size_t size, void *ctx) { (void)ctx; return malloc(size); }
static void *default_realloc(void *p, size_t size, void *ctx) { (void)ctx; return realloc(p, size); }
static void default_free(void *p, void *ctx) { (void)ctx; free(p); }

static ms_allocator g_alloc = {default_malloc, default_realloc, default_free, NULL};
static atomic_llong g_current;
static atomic_llong g_peak;
static atomic_llong g_limit;

void ms_set_allocator(const ms_allocator *allocator) {
  if (allocator) g_alloc = *allocator;
  else g_alloc = (ms_allocator){default_malloc, default_realloc, default_free, NULL};
}

/* Reserves `delta` bytes against the limit; returns false when over it. */
static int account(long long delta) {
  long long limit = atomic_load_explicit(&g_limit, memory_order_relaxed);
  long long now = atomic_fetch_add_explicit(&g_current, delta, memory_order_relaxed) + delta;
  if (delta > 0 && limit > 0 && now > limit) {
    atomic_fetch_sub_explicit(&g_current, delta, memory_order_relaxed);
    return 0;
  }
  long long peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&g_peak, &peak, now, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
  return 1;
}

void *ms_malloc(size_t size) {
  if (size > (size_t)1 << 46) return NULL; /* no 64 TiB requests from corrupt sizes */
  if (!account((long long)size)) return NULL;
  unsigned char *p = g_alloc.malloc_fn(size + MS_ALLOC_HEADER, g_alloc.ctx);
  if (!p) { account(-(long long)size); return NULL; }
  memcpy(p, &size, sizeof size);
  return p + MS_ALLOC_HEADER;
}

void *ms_calloc(size_t count, size_t size) {
  if (size && count > ((size_t)-1) / size) return NULL;
  void *p = ms_malloc(count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void *ms_realloc(void *ptr, size_t size) {
  if (!ptr) return ms_malloc(size);
  if (size > (size_t)1 << 46) return NULL;
  unsigned char *base = (unsigned char *)ptr - MS_ALLOC_HEADER;
  size_t old;
  memcpy(&old, base, sizeof old);
  long long delta = (long long)size - (long long)old;
  if (!account(delta)) return NULL;
  unsigned char *p = g_alloc.realloc_fn(base, size + MS_ALLOC_HEADER, g_alloc.ctx);
  if (!p) { account(-delta); return NULL; }
  memcpy(p, &size, sizeof size);
  return p + MS_ALLOC_HEADER;
}

void ms_free(void *ptr) {
  if (!ptr) return;
  unsigned char *base = (unsigned char *)ptr - MS_ALLOC_HEADER;
  size_t size;
  memcpy(&size, base, sizeof size);
  account(-(long long)size);
  g_alloc.free_fn(base, g_alloc.ctx);
}

char *ms_strdup(const char *s) { return s ? ms_strndup(s, strlen(s)) : NULL; }

char *ms_strndup(const char *s, size_t n) {
  char *p = ms_malloc(n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *ms_asprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = ms_malloc((size_t)n + 1);
  if (!p) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

/* Aligned blocks: over-allocate by 64 and keep the offset to the real start just before
 * the user pointer. */
void *ms_malloc_aligned(size_t size) {
  if (size > (size_t)1 << 46) return NULL;
  unsigned char *raw = ms_malloc(size + 64);
  if (!raw) return NULL;
  uintptr_t addr = ((uintptr_t)raw + 64) & ~(uintptr_t)63;
  unsigned char *user = (unsigned char *)addr;
  user[-1] = (unsigned char)(user - raw);
  ms_mem_advise_huge(user, (int64_t)size);
  return user;
}

void ms_mem_advise_huge(void *p, int64_t len) {
#ifdef MADV_HUGEPAGE
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (!p || len < 4 * (int64_t)huge) return;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t e = ((uintptr_t)p + (uintptr_t)len) & ~(huge - 1);
  if (e > a) (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
  (void)p;
  (void)len;
#endif
}

void ms_free_aligned(void *ptr) {
  if (!ptr) return;
  unsigned char *user = ptr;
  ms_free(user - user[-1]);
}

void *ms_realloc_aligned(void *ptr, size_t old_size, size_t new_size) {
  if (!ptr) return ms_malloc_aligned(new_size);
  void *p = ms_malloc_aligned(new_size);
  if (!p) return NULL;
  memcpy(p, ptr, old_size < new_size ? old_size : new_size);
  ms_free_aligned(ptr);
  return p;
}

int64_t ms_mem_current(void) { return atomic_load(&g_current); }
int64_t ms_mem_peak(void) { return atomic_load(&g_peak); }
void ms_mem_reset_peak(void) { atomic_store(&g_peak, atomic_load(&g_current)); }
void ms_mem_set_limit(int64_t limit_bytes) { atomic_store(&g_limit, limit_bytes); }
