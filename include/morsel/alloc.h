/* Allocation hooks and memory accounting.
 *
 * Every allocation in morsel goes through ms_malloc/ms_calloc/ms_realloc/ms_free so that
 * an embedding program can substitute its allocator and so that current and peak bytes are
 * counted (the numbers benchmarks and --explain-analyze report). Each block carries a
 * 16-byte header with its size; counting is lock-free (atomics). */
#ifndef MORSEL_ALLOC_H
#define MORSEL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ms_allocator {
  void *(*malloc_fn)(size_t size, void *ctx);
  void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
  void (*free_fn)(void *ptr, void *ctx);
  void *ctx;
} ms_allocator;

/* Installs an allocator (NULL restores the C library's). Call before any allocation. */
void ms_set_allocator(const ms_allocator *allocator);

/* Returns NULL on failure (and for size 0 returns a valid unique pointer). */
void *ms_malloc(size_t size);
void *ms_calloc(size_t count, size_t size); /* overflow-checked */
void *ms_realloc(void *ptr, size_t size);
void ms_free(void *ptr);
char *ms_strdup(const char *s);
char *ms_strndup(const char *s, size_t n);
/* Allocates and formats; NULL on failure. */
char *ms_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Aligned (64-byte) allocation for column buffers; freed with ms_free_aligned. */
void *ms_malloc_aligned(size_t size);
void *ms_realloc_aligned(void *ptr, size_t old_size, size_t new_size);
void ms_free_aligned(void *ptr);

/* Asks the kernel for transparent huge pages over [p, p + len) when len is at least 8 MiB.
 * First-touch page faults are a large share of decode, gather and sort time on virtual
 * machines; 2 MiB pages cut them 512-fold. A hint: failures are ignored. Column buffers from
 * ms_malloc_aligned get it automatically; call it for other large scratch memory. */
void ms_mem_advise_huge(void *p, int64_t len);

/* Bytes currently allocated through morsel and the high-water mark. */
int64_t ms_mem_current(void);
int64_t ms_mem_peak(void);
void ms_mem_reset_peak(void);

/* Optional limit in bytes (0 = none). Allocations that would exceed it fail (NULL). */
void ms_mem_set_limit(int64_t limit_bytes);

#ifdef __cplusplus
}
#endif
#endif
