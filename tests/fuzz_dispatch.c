/*
 * fuzz_dispatch.c: libFuzzer target for the daemon's request handling
 * (dispatch.c, registry.c, obj_*.c, waiter.c, sys.c) without sockets.
 *
 * One fake authenticated connection, set up as tests/unit_util.c does.
 * Each input is a stream of frames; every frame that scans and parses as a
 * request goes to dispatch_request, which must answer with exactly one
 * well-formed response to that msgid, or park (the connection is then
 * closed as conn.c would and reused). The registry keeps its objects from
 * one input to the next, so sequences spanning inputs are explored too;
 * deleted objects are freed to the end after each input, and a memory
 * ceiling keeps the registry from growing without bound.
 * Any broken promise aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/conn.h"
#include "../daemon/dispatch.h"
#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Inputs past this are skipped: they find nothing smaller ones do not. */
#define FUZZ_MAX_INPUT (64 * 1024)
#define FUZZ_MAX_MEMORY ((size_t)64 << 20)

static struct conn *fc;

static void
fuzz_setup(void)
{
	mem_init();
	log_init(LOG_ERR);
	server_init();
	server.base = event_base_new();
	CHECK(server.base != NULL);
	server.uid = getuid();
	server.max_memory = FUZZ_MAX_MEMORY;
	dispatch_init();
	fc = xcalloc(1, sizeof *fc);
	fc->id = 1;
	/* Authenticated, as waiter_shutdown() walks them. */
	TAILQ_INSERT_TAIL(&server.clients, fc, link);
	/* poll() skips fd -1: conn_peer_gone() sees a live peer. */
	fc->fd = -1;
	fc->state = CONN_READY;
	fc->uid = getuid();
	buf_init(&fc->out);
	msgpack_packer_init(&fc->pk, &fc->out, buf_pack_write);
}

/* The connection goes away as conn.c would close it, then comes back. */
static void
fc_reopen(void)
{
	dispatch_conn_closed(fc);
	CHECK(fc->parked == NULL);
	CHECK(fc->holdings == NULL);
	if (fc->flags & CONN_QUEUED)
		TAILQ_REMOVE(&server.ready, fc, qlink);
	fc->flags = 0;
	buf_reset(&fc->out);
}

/*
 * c->out holds exactly one response to msgid, after the notifications a
 * request may send to a holder (process.signal: fc supervises the
 * records it registered).
 */
static void
check_reply(uint32_t msgid)
{
	struct scan_state st;
	struct msg m;
	struct mpv message;
	const uint8_t *p = buf_head(&fc->out);
	size_t left = buf_used(&fc->out), flen = 0;
	const char *why = NULL;

	for (;;) {
		scan_init(&st);
		CHECK(scan_frame(&st, p, left, SIZE_MAX, &flen, &why) ==
		    SCAN_FRAME);
		CHECK(msg_parse_frame(p, flen, &m, &why) == 0);
		if (m.kind != MSG_NOTIFICATION)
			break;
		CHECK(mpv_str_eq(&m.method, MPMGR_NOTIFY_PROCESS_SIGNAL));
		p += flen;
		left -= flen;
	}
	CHECK(flen == left);
	CHECK(m.kind == MSG_RESPONSE);
	CHECK(m.msgid == msgid);
	if (msg_error_code(&m, &message) != PERR_NONE)
		CHECK(message.type == MPV_STR);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_state st;
	struct msg m;
	const char *why;
	size_t off = 0, flen;

	if (fc == NULL)
		fuzz_setup();
	if (size > FUZZ_MAX_INPUT)
		return 0;
	scan_init(&st);
	while (off < size) {
		if (scan_frame(&st, data + off, size - off, server.max_message,
		    &flen, &why) != SCAN_FRAME)
			break;
		if (msg_parse_frame(data + off, flen, &m, &why) == 0 &&
		    m.kind == MSG_REQUEST) {
			buf_reset(&fc->out);
			if (dispatch_request(fc, &m) == DISPATCH_PARKED) {
				CHECK(fc->parked != NULL);
				CHECK(buf_used(&fc->out) == 0);
				fc_reopen();
			} else {
				check_reply(m.msgid);
			}
		}
		off += flen;
	}
	buf_reset(&fc->out);
	while (!registry_free_step(1 << 16))
		;
	return 0;
}
