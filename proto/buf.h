/*
 * buf.h: a growable byte buffer, the one kind of buffer both ends use for
 * input, output and scratch space, and the msgpack_packer sink into it.
 *
 * A buffer holds bytes [off, len) of data: consuming from the front only
 * moves off, and buf_compact() moves what is left to the front when that is
 * worth it, so reading many small frames out of one large read costs no
 * memmove per frame.
 *
 * Allocation goes through buf_realloc_fn / buf_free_fn so that the daemon
 * can account for its memory (it points them at its own wrappers before
 * any buffer is used); the defaults are realloc and free.
 */
#ifndef MPMGR_BUF_H
#define MPMGR_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t off; /* first unconsumed byte */
	size_t len; /* end of the bytes held */
	size_t cap;
};

extern void *(*buf_realloc_fn)(void *, size_t);
extern void (*buf_free_fn)(void *);

#define BUF_INIT { NULL, 0, 0, 0 }

static inline const uint8_t *buf_head(const struct buf *b) { return b->data + b->off; }
static inline size_t buf_used(const struct buf *b) { return b->len - b->off; }
static inline uint8_t *buf_tail(struct buf *b) { return b->data + b->len; }
static inline size_t buf_room(const struct buf *b) { return b->cap - b->len; }

void buf_init(struct buf *b);
/* Make room for at least n more bytes after len. 0, or -1 on ENOMEM. */
int buf_reserve(struct buf *b, size_t n);
/* Append n bytes. 0, or -1 on ENOMEM (nothing appended). */
int buf_append(struct buf *b, const void *p, size_t n);
/* Drop n bytes from the front (n <= buf_used). Empties reset off to 0. */
void buf_consume(struct buf *b, size_t n);
/* Move the unconsumed bytes to the front. */
void buf_compact(struct buf *b);
/* Forget the contents, keep the memory. */
void buf_reset(struct buf *b);
/* Free the memory; b is empty and reusable after. */
void buf_free(struct buf *b);
/* Give memory back when a buffer that grew large is empty again. */
void buf_shrink(struct buf *b, size_t keep);

/*
 * msgpack_packer write callback: msgpack_packer_init(&pk, &b, buf_pack_write).
 * Returns -1 on ENOMEM (msgpack-c passes that up from each msgpack_pack_*).
 * The daemon's allocator aborts on ENOMEM, so only libmpmgr sees it.
 */
int buf_pack_write(void *data, const char *p, size_t n);

#endif
