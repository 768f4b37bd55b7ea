/*
 * monitor.c: sys.monitor, every request as a line to the watchers, as
 * Redis's MONITOR (replicationFeedMonitors) does.
 *
 * Owns the list of watchers (server.monitors) and the line: a
 * "sys.monitor" notification [time, client, pid, method, name, args,
 * lost], rendered once a request into a buffer of its own and copied to
 * each watcher's output. Its size is bounded whatever the request
 * carries: the method and each str or bin param are quoted to
 * MONITOR_STR_MAX bytes, the params' text to MONITOR_ARGS_MAX, so a line
 * costs the same for a 1 MB value as for a short one. A watcher whose
 * output holds MONITOR_OUT_MAX (it reads too slowly) gets no more lines
 * until it has read: they are counted, and the next line it gets says
 * how many it missed (lost). Nothing here calls the connection layer:
 * conn.c renders, gives and writes (conn_monitor).
 *
 * Who may watch is dispatch's ADMIN rule (root or the daemon's user),
 * who can read every object anyway; values are shown, truncated for
 * size, not hidden (docs/PROTOCOL.md, "Monitor").
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../proto/mpmgr_methods.h"
#include "dispatch.h"
#include "monitor.h"

/* The rendered params: at most MONITOR_ARGS_MAX bytes, "..." when cut. */
struct text {
	char s[MONITOR_ARGS_MAX + 1];
	size_t len;
	bool full;
};

static struct buf line;
static msgpack_packer line_pk;
static bool line_ready;

void
monitor_add(struct conn *c)
{
	if (c->flags & CONN_MONITOR)
		return;
	c->flags |= CONN_MONITOR;
	c->mlost = 0;
	TAILQ_INSERT_TAIL(&server.monitors, c, mlink);
	server.nmonitors++;
}

void
monitor_remove(struct conn *c)
{
	if (!(c->flags & CONN_MONITOR))
		return;
	c->flags &= ~CONN_MONITOR;
	TAILQ_REMOVE(&server.monitors, c, mlink);
	if (--server.nmonitors == 0) {
		buf_free(&line);
		line_ready = false;
	}
}

/* Append n bytes, or "..." and nothing more once they do not fit. */
static void
text_put(struct text *t, const char *p, size_t n)
{
	if (t->full)
		return;
	if (t->len + n > MONITOR_ARGS_MAX - 3) {
		memcpy(t->s + t->len, "...", 3);
		t->len += 3;
		t->full = true;
		return;
	}
	memcpy(t->s + t->len, p, n);
	t->len += n;
}

static void text_fmt(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
text_fmt(struct text *t, const char *fmt, ...)
{
	char piece[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(piece, sizeof piece, fmt, ap);
	va_end(ap);
	if (n > 0)
		text_put(t, piece, (size_t)n < sizeof piece ? (size_t)n :
		    sizeof piece - 1);
}

/* How much of p[n] a line quotes: MONITOR_STR_MAX bytes at most, cut
 * before a UTF-8 continuation byte. */
static size_t
monitor_cut(const uint8_t *p, size_t n)
{
	if (n <= MONITOR_STR_MAX)
		return n;
	n = MONITOR_STR_MAX;
	while (n > 0 && (p[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* "bytes" as JSON escapes them, but bytes that are not UTF-8 as \xNN;
 * then ...(N bytes) when cut. */
static void
text_str(struct text *t, const uint8_t *p, size_t len)
{
	size_t n = monitor_cut(p, len), i, run;
	bool utf8 = scan_utf8(p, n);

	text_put(t, "\"", 1);
	for (i = 0; i < n && !t->full; i += run) {
		run = 1;
		if (p[i] == '"' || p[i] == '\\')
			text_fmt(t, "\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] == 0x7f)
			text_fmt(t, "\\u%04x", p[i]);
		else if (p[i] < 0x80)
			text_put(t, (const char *)p + i, 1);
		else if (!utf8)
			text_fmt(t, "\\x%02x", p[i]);
		else {
			/* a whole character at once: never cut inside one */
			while (i + run < n && (p[i + run] & 0xc0) == 0x80)
				run++;
			text_put(t, (const char *)p + i, run);
		}
	}
	text_put(t, "\"", 1);
	if (n < len)
		text_fmt(t, "...(%zu bytes)", len);
}

static void
text_value(struct text *t, const struct mpv *v)
{
	struct mpv_iter it;
	struct mpv e;
	uint32_t i;

	switch (v->type) {
	case MPV_NIL:
		text_put(t, "nil", 3);
		break;
	case MPV_BOOL:
		text_fmt(t, "%s", v->v.b ? "true" : "false");
		break;
	case MPV_UINT:
		text_fmt(t, "%" PRIu64, v->v.u);
		break;
	case MPV_INT:
		text_fmt(t, "%" PRId64, v->v.i);
		break;
	case MPV_FLOAT:
		text_fmt(t, "%.17g", v->v.f);
		break;
	case MPV_STR:
		text_str(t, v->ptr, v->len);
		break;
	case MPV_BIN:
		text_fmt(t, "<bin %" PRIu32 " bytes>", v->len);
		break;
	case MPV_EXT:
		text_fmt(t, "<ext %d, %" PRIu32 " bytes>", v->ext_type, v->len);
		break;
	case MPV_ARRAY:
	case MPV_MAP:
		text_put(t, v->type == MPV_ARRAY ? "[" : "{", 1);
		mpv_iter_init(&it, v);
		for (i = 0; !t->full && mpv_iter_next(&it, &e); i++) {
			if (i > 0)
				text_put(t, v->type == MPV_MAP && i % 2 == 1 ?
				    ": " : ", ", 2);
			text_value(t, &e);
		}
		text_put(t, v->type == MPV_ARRAY ? "]" : "}", 1);
		break;
	}
}

/* p[n] as a str of the line: what is not UTF-8 as '?' (names and
 * methods are whatever bytes a client sent). */
static void
monitor_pack_str(const uint8_t *p, size_t n)
{
	char safe[MPMGR_MAX_NAME];
	size_t i;

	msgpack_pack_str(&line_pk, n);
	if (scan_utf8(p, n) || n > sizeof safe) {
		msgpack_pack_str_body(&line_pk, p, n);
		return;
	}
	for (i = 0; i < n; i++)
		safe[i] = p[i] < 0x80 ? (char)p[i] : '?';
	msgpack_pack_str_body(&line_pk, safe, n);
}

void
monitor_render(const struct conn *c, const struct msg *m,
    const struct method *meth)
{
	static struct text t;
	struct timespec ts;
	struct mpv_iter it;
	struct mpv v, name;
	uint32_t i;
	bool named;

	if (!line_ready) {
		buf_init(&line);
		msgpack_packer_init(&line_pk, &line, buf_pack_write);
		line_ready = true;
	}
	buf_reset(&line);
	t.len = 0;
	t.full = false;
	mpv_iter_init(&it, &m->params);
	named = meth != NULL && (meth->flags & MF_OBJ) &&
	    mpv_iter_next(&it, &name) && name.type == MPV_STR;
	if (!named)
		mpv_iter_init(&it, &m->params);
	for (i = 0; !t.full && mpv_iter_next(&it, &v); i++) {
		if (i > 0)
			text_put(&t, " ", 1);
		text_value(&t, &v);
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	msg_pack_notification(&line_pk, MPMGR_NOTIFY_MONITOR, 7);
	msgpack_pack_double(&line_pk, (double)ts.tv_sec +
	    (double)(ts.tv_nsec / 1000) / 1e6);
	msgpack_pack_uint64(&line_pk, c->id);
	msgpack_pack_int64(&line_pk, c->pid);
	/* a method is a str (msg.c checks it), perhaps no method's name */
	monitor_pack_str(m->method.ptr, monitor_cut(m->method.ptr,
	    m->method.len));
	if (named)
		monitor_pack_str(name.ptr, name.len > MPMGR_MAX_NAME ?
		    monitor_cut(name.ptr, name.len) : name.len);
	else
		msgpack_pack_nil(&line_pk);
	msgpack_pack_str(&line_pk, t.len);
	msgpack_pack_str_body(&line_pk, t.s, t.len);
}

bool
monitor_give(struct conn *w)
{
	/* the line, and lost: a uint of 9 bytes at most */
	if (buf_used(&w->out) + buf_used(&line) + 9 > MONITOR_OUT_MAX) {
		w->mlost++;
		return false;
	}
	buf_append(&w->out, buf_head(&line), buf_used(&line));
	msgpack_pack_uint64(&w->pk, w->mlost);
	w->mlost = 0;
	return true;
}
