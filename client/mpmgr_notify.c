/*
 * mpmgr_notify.c: libmpmgr's notifications (the contract is mpmgr.h):
 * the callback a program sets, the hand-over of each notification the
 * reading path meets, and the reading of what has come without waiting
 * (notifications, and whether the next reply is there).
 *
 * mpmgr.c reads every frame; a notification among replies comes here
 * (handle_notify) while its frame is held, and its params are converted
 * into the handle's zone, which the call that read it has free: a
 * notification is met before the reply it precedes is taken, and a
 * reply's result is released before the next frame is read.
 */
#include "../proto/msg.h"
#include "handle.h"
#include "mpmgr.h"

void
mpmgr_set_notify(mpmgr *h, mpmgr_notify_fn *fn, void *arg)
{
	struct handle_notify *n;

	if (h == NULL)
		return;
	n = handle_notify_of(h);
	n->fn = fn;
	n->arg = arg;
}

int
handle_notify(mpmgr *h, const struct msg *m)
{
	struct handle_notify *n = handle_notify_of(h);
	msgpack_object params;

	if (n->fn == NULL)
		return 0;
	if (handle_object(h, &m->params, &params) == -1)
		return handle_fail(h, MPMGR_ENOMEM, "out of memory converting "
		    "a notification");
	n->fn(n->arg, (const char *)m->method.ptr, m->method.len, &params);
	return 0;
}

int
mpmgr_poll_notify(mpmgr *h)
{
	struct msg m;
	int n = 0, r;

	if (h == NULL)
		return MPMGR_EINVAL;
	while ((r = handle_next_notification(h, &m)) == 1) {
		if ((r = handle_notify(h, &m)) != 0)
			return r;
		n++;
	}
	return r < 0 ? r : n;
}

int
mpmgr_reply_ready(mpmgr *h)
{
	struct msg m;
	int r;

	if (h == NULL)
		return MPMGR_EINVAL;
	if (mpmgr_pending(h) == 0)
		return handle_fail(h, MPMGR_ESTATE, "mpmgr_reply_ready: no "
		    "reply is due");
	if ((r = mpmgr_flush(h)) != 0)
		return r;
	while ((r = handle_next_notification(h, &m)) == 1) {
		if ((r = handle_notify(h, &m)) != 0)
			return r;
	}
	return r == HANDLE_REPLY_NEXT ? 1 : r;
}
