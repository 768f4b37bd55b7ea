/*
 * notify.h: what mpmgrd tells its service manager (sd_notify(3)): READY=1,
 * STATUS= lines, WATCHDOG=1, RELOADING=1 and STOPPING=1.
 *
 * Every call is a no-op when $NOTIFY_SOCKET is unset, so the daemon calls
 * them unconditionally, started by systemd or not.
 */
#ifndef MPMGR_NOTIFY_H
#define MPMGR_NOTIFY_H

#include <event2/event.h>

/*
 * The daemon accepts: send READY=1 with the first STATUS= line, then keep
 * STATUS= current (every NOTIFY_STATUS_SEC, when it changed) and, when
 * sd_watchdog_enabled() says the watchdog is on for this process, send
 * WATCHDOG=1 from a timer on base at half its interval. Call once.
 */
void notify_ready(struct event_base *base);
/* A reload (SIGHUP) begins: RELOADING=1. */
void notify_reloading(void);
/* The reload is over, done or not: READY=1 and the status again. */
void notify_reloaded(void);
/* The graceful stop began (server_stop): STOPPING=1 and a status saying
 * why; later status refreshes no longer overwrite it. Idempotent. */
void notify_stopping(const char *why);
/* After the loop has ended: free the timers. */
void notify_teardown(void);

#endif
