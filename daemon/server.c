/*
 * server.c: the server's state (`server`), its clock, and its start and
 * stop.
 *
 * Owns the `server` global and its defaults. server_stop only records the
 * request and wakes the connection layer's stop event (made by conn.c),
 * so that nothing below the connections has to know how a stop is done.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

struct server server;

uint64_t
now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
server_init(void)
{
	memset(&server, 0, sizeof server);
	server.max_message = MPMGR_DEFAULT_MAX_MESSAGE;
	server.max_clients = MPMGR_DEFAULT_MAX_CLIENTS;
	server.max_unauth = MPMGR_DEFAULT_MAX_UNAUTH;
	server.output_limit = MPMGR_DEFAULT_OUTPUT_LIMIT;
	server.frame_timeout_usec = (uint64_t)MPMGRD_DEFAULT_FRAME_TIMEOUT_SEC *
	    1000000;
	server.uid = geteuid();
	server.start_usec = now_usec();
	TAILQ_INIT(&server.clients);
	TAILQ_INIT(&server.unauth);
	TAILQ_INIT(&server.ready);
	TAILQ_INIT(&server.monitors);
}

void
server_stop(const char *why)
{
	if (server.stopping)
		return;
	server.stopping = true;
	server.stop_why = why;
	log_info("stopping: %s", why);
	if (server.ev_stop != NULL)
		event_active(server.ev_stop, EV_TIMEOUT, 0);
}
