/*
 * mem.h: the daemon's allocator wrappers and its own memory accounting.
 *
 * xmalloc and friends abort on ENOMEM (a daemon that cannot allocate a few
 * bytes cannot answer anyway) and count the usable size of every block, so
 * sys.stats reports what the daemon holds and --max-memory can refuse
 * writes with LIMIT before the kernel's OOM killer decides for us.
 * Everything in daemon/ allocates through these; proto's buffers are
 * pointed here by mem_init().
 */
#ifndef MPMGR_MEM_H
#define MPMGR_MEM_H

#include <stddef.h>

void mem_init(void);
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrndup(const char *s, size_t n);
void xfree(void *p);
/* Bytes currently allocated through the wrappers. */
size_t mem_used(void);
/* What a block from the wrappers counts for in mem_used() (0 for NULL). */
size_t mem_usable(const void *p);

#endif
