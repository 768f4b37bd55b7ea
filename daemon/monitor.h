/*
 * monitor.h: sys.monitor's watchers and the line each gets a request
 * (docs/PROTOCOL.md, "Monitor").
 *
 * A request is rendered once, whatever the number of watchers
 * (monitor_render), then offered to each (monitor_give): conn.c does both,
 * and only when server.nmonitors is not 0, so that a daemon nobody
 * watches pays one branch a request.
 */
#ifndef MPMGR_MONITOR_H
#define MPMGR_MONITOR_H

#include <stdbool.h>

#include "mpmgrd.h"

/* A watcher's unread lines held by the daemon: past this, lines are
 * counted lost instead (the next one given says how many). */
#define MONITOR_OUT_MAX (256 * 1024)
/* The longest piece of a string (a str or bin param, a method name) a
 * line quotes, and the longest text of a request's params. */
#define MONITOR_STR_MAX 64
#define MONITOR_ARGS_MAX 256

/* c watches from now on (sys.monitor; again is a no-op). */
void monitor_add(struct conn *c);
/* c is closing: it watches no more. */
void monitor_remove(struct conn *c);
/* The line for request m of c, kept until the next call; meth is its
 * method (dispatch_lookup), NULL for none: an MF_OBJ method's first
 * param is the line's name. */
struct method;
void monitor_render(const struct conn *c, const struct msg *m,
    const struct method *meth);
/* The line rendered last into w's output, or counted lost when w's
 * output holds MONITOR_OUT_MAX already: true when given (w has output to
 * write). */
bool monitor_give(struct conn *w);

#endif
