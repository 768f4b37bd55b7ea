/*
 * mem.c: the daemon's allocator wrappers and its memory accounting.
 *
 * Every block that goes through these is counted at its usable size
 * (malloc_usable_size), so mem_used() is exactly what the daemon holds
 * through them, allocator rounding included. ENOMEM is fatal: a daemon that
 * cannot allocate a few bytes cannot answer anyway, and callers are simpler
 * for never seeing NULL. A request for 0 bytes still returns a unique
 * pointer that xfree() accepts. One thread: the counter is not atomic.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/buf.h"
#include "log.h"
#include "mem.h"

static size_t used;

void
mem_init(void)
{
	/* xrealloc takes NULL like realloc, and both abort on ENOMEM, so
	 * proto's buffers never see the -1 path inside the daemon. */
	buf_realloc_fn = xrealloc;
	buf_free_fn = xfree;
}

void *
xmalloc(size_t n)
{
	void *p;

	p = malloc(n != 0 ? n : 1);
	if (p == NULL)
		fatalx("%s: out of memory allocating %zu bytes", __func__, n);
	used += malloc_usable_size(p);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		fatalx("%s: out of memory allocating %zu * %zu bytes", __func__,
		    nmemb, size);
	used += malloc_usable_size(p);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	size_t old;
	void *q;

	/* realloc(p, 0) frees p in glibc and returns NULL: keep a block. */
	if (n == 0)
		n = 1;
	old = p != NULL ? malloc_usable_size(p) : 0;
	q = realloc(p, n);
	if (q == NULL)
		fatalx("%s: out of memory allocating %zu bytes", __func__, n);
	used -= old;
	used += malloc_usable_size(q);
	return q;
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len;
	char *p;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
xfree(void *p)
{
	if (p == NULL)
		return;
	used -= malloc_usable_size(p);
	free(p);
}

size_t
mem_usable(const void *p)
{
	/* malloc_usable_size takes a non-const pointer but only reads it. */
	return p != NULL ? malloc_usable_size((void *)(uintptr_t)p) : 0;
}

size_t
mem_used(void)
{
	return used;
}
