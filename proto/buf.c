/*
 * buf.c: the growable byte buffer of buf.h.
 *
 * Owns nothing but the memory it points at. Every size computation is
 * checked for overflow before the allocator is asked, so a caller that
 * bounds what it appends (as conn.c does against the message limit) cannot
 * be tricked into a short allocation. On ENOMEM the buffer is left exactly
 * as it was.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN_CAP 256

void *(*buf_realloc_fn)(void *, size_t) = realloc;
void (*buf_free_fn)(void *) = free;

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->off = 0;
	b->len = 0;
	b->cap = 0;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	if (n <= b->cap - b->len)
		return 0;
	/*
	 * Reclaim consumed space at the front before growing: a buffer fed
	 * and drained in turns then stays at its working size.
	 */
	if (b->off > 0 && n <= b->cap - buf_used(b)) {
		buf_compact(b);
		return 0;
	}
	if (n > SIZE_MAX - b->len) {
		errno = ENOMEM;
		return -1;
	}
	need = b->len + n;
	cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = buf_realloc_fn(b->data, cap);
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	/* The usual case, a small append that fits, without a call. */
	if (n <= b->cap - b->len) {
		if (n > 0)
			memcpy(b->data + b->len, p, n);
		b->len += n;
		return 0;
	}
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
buf_compact(struct buf *b)
{
	size_t used = buf_used(b);

	if (b->off == 0)
		return;
	if (used > 0)
		memmove(b->data, b->data + b->off, used);
	b->off = 0;
	b->len = used;
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

void
buf_free(struct buf *b)
{
	if (b->data != NULL)
		buf_free_fn(b->data);
	buf_init(b);
}

void
buf_shrink(struct buf *b, size_t keep)
{
	uint8_t *p;

	if (b->cap <= keep || buf_used(b) > keep)
		return;
	buf_compact(b);
	if (keep == 0) {
		buf_free(b);
		return;
	}
	p = buf_realloc_fn(b->data, keep);
	if (p == NULL)
		return; /* still valid at its old size */
	b->data = p;
	b->cap = keep;
}

int
buf_pack_write(void *data, const char *p, size_t n)
{
	return buf_append(data, p, n);
}
