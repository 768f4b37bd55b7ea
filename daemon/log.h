/*
 * log.h: the daemon's one way to log, to stderr with sd-daemon(3) "<N>"
 * priority prefixes that journald reads (tmux log.c, OpenBSD log.c).
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx log at
 * LOG_CRIT and exit(1): for impossible states only, never for client input.
 * Prefix messages with __func__ where the origin matters.
 */
#ifndef MPMGR_LOG_H
#define MPMGR_LOG_H

#include <stdarg.h>
#include <syslog.h>

/* Messages above level (LOG_ERR .. LOG_DEBUG) are dropped. */
void log_init(int level);
int log_level(void);
/* "err", "warning", "notice", "info", "debug" or a digit; -1 if unknown. */
int log_parse_level(const char *s);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
