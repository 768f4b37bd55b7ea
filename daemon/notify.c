/*
 * notify.c: mpmgrd's side of the sd_notify(3) protocol (notify.h).
 *
 * STATUS= is one line, "N clients, M objects, K ops", sent only when it
 * differs from the last one sent. It rides along with each WATCHDOG=1 too,
 * so a short watchdog keeps it fresher than NOTIFY_STATUS_SEC would. The
 * watchdog is fed by a timer of the event loop itself: a loop that stops
 * turning stops feeding it, which is what the watchdog is there to catch.
 * Not under systemd ($NOTIFY_SOCKET unset) no timer is armed at all, so a
 * daemon started by hand never wakes up for this. A failing send is
 * logged once, and again only after one has worked in between.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "mpmgrd.h"
#include "notify.h"
#include "registry.h"

#define NOTIFY_STATUS_SEC 5
#define NOTIFY_MIN_USEC 1000 /* a watchdog timer never spins */
#define NOTIFY_LINE 128

static struct event *ev_status;
static struct event *ev_watchdog;
static char last_status[NOTIFY_LINE];
static bool stopping;
static bool send_failed;

static void notify_send(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
notify_send(const char *fmt, ...)
{
	char msg[2 * NOTIFY_LINE];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r = sd_notify(0, msg);
	if (r >= 0) {
		send_failed = false;
		return;
	}
	if (!send_failed)
		log_warnx("sd_notify: cannot reach $NOTIFY_SOCKET: %s",
		    strerror(-r));
	send_failed = true;
}

static const char *
notify_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

static void
notify_status(char *buf, size_t len)
{
	size_t objects = registry_count();

	snprintf(buf, len, "%zu client%s, %zu object%s, %" PRIu64 " op%s",
	    server.nclients, notify_plural(server.nclients), objects,
	    notify_plural(objects), server.ops, notify_plural(server.ops));
}

/* WATCHDOG=1 if asked, and STATUS= if it changed since last sent. */
static void
notify_refresh(bool watchdog)
{
	char status[NOTIFY_LINE];
	bool changed = false;

	if (!stopping) {
		notify_status(status, sizeof status);
		changed = strcmp(status, last_status) != 0;
		if (changed)
			memcpy(last_status, status, sizeof last_status);
	}
	if (watchdog && changed)
		notify_send("WATCHDOG=1\nSTATUS=%s", last_status);
	else if (watchdog)
		notify_send("WATCHDOG=1");
	else if (changed)
		notify_send("STATUS=%s", last_status);
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_refresh(false);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_refresh(true);
}

static struct event *
notify_timer(struct event_base *base, uint64_t usec, event_callback_fn cb)
{
	struct timeval tv = { (time_t)(usec / 1000000),
	    (suseconds_t)(usec % 1000000) };
	struct event *ev;

	ev = event_new(base, -1, EV_PERSIST, cb, NULL);
	if (ev == NULL || event_add(ev, &tv) == -1)
		fatalx("%s: cannot arm a timer", __func__);
	return ev;
}

void
notify_ready(struct event_base *base)
{
	uint64_t usec;
	int r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	notify_status(last_status, sizeof last_status);
	notify_send("READY=1\nSTATUS=%s", last_status);
	ev_status = notify_timer(base, NOTIFY_STATUS_SEC * 1000000ULL,
	    notify_status_cb);

	/* Also checks $WATCHDOG_PID: a watchdog meant for another process
	 * (our parent, say) is not ours to feed. */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0) {
		log_warnx("ignoring $WATCHDOG_USEC: %s", strerror(-r));
		return;
	}
	if (r == 0)
		return;
	usec /= 2;
	if (usec < NOTIFY_MIN_USEC)
		usec = NOTIFY_MIN_USEC;
	ev_watchdog = notify_timer(base, usec, notify_watchdog_cb);
	log_info("watchdog on: WATCHDOG=1 every %" PRIu64 " ms",
	    usec / 1000);
}

void
notify_reloading(void)
{
	/* MONOTONIC_USEC is what systemd 253's Type=notify-reload wants with
	 * RELOADING=1; 252 ignores it. */
	notify_send("RELOADING=1\nSTATUS=reloading the authkey\n"
	    "MONOTONIC_USEC=%" PRIu64, now_usec());
}

void
notify_reloaded(void)
{
	if (stopping)
		return;
	notify_status(last_status, sizeof last_status);
	notify_send("READY=1\nSTATUS=%s", last_status);
}

void
notify_stopping(const char *why)
{
	if (stopping)
		return;
	stopping = true;
	notify_send("STOPPING=1\nSTATUS=stopping (%s)", why);
}

void
notify_teardown(void)
{
	if (ev_status != NULL)
		event_free(ev_status);
	if (ev_watchdog != NULL)
		event_free(ev_watchdog);
	ev_status = ev_watchdog = NULL;
}
