/*
 * log.c: the daemon's one way to log.
 *
 * Each message is one line on stderr, "<N>message\n", N the syslog
 * priority: journald (and systemd's stderr reader) takes the priority from
 * the prefix and adds the program name and the time itself, so neither is
 * written here. The line goes out in one write(2) so that it is never
 * interleaved with another writer's. Control characters in the message
 * (names from clients may hold them) are written as '?', so that nobody
 * can forge a second line with a priority of their choosing.
 *
 * errno is the same after a call as before it, so a caller may log and
 * then still look at errno. Until log_init() the level is LOG_INFO.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Longer messages are cut: a log line is not a place for bulk data. */
#define LOG_LINE_MAX 4096

static int log_max = LOG_INFO;

static const char *const log_names[] = {
	[LOG_ERR] = "err",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

void
log_init(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_max = level;
}

int
log_level(void)
{
	return log_max;
}

int
log_parse_level(const char *s)
{
	size_t i;

	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (log_names[i] != NULL && strcmp(s, log_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static void
log_write(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDERR_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report it */
		}
		p += w;
		n -= (size_t)w;
	}
}

static void __attribute__((format(printf, 3, 0)))
log_vlog(int pri, bool with_errno, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved = errno;
	size_t n, start, i;
	int r;

	if (pri > log_max) {
		errno = saved;
		return;
	}
	r = snprintf(line, sizeof line, "<%d>", pri);
	start = (size_t)r;
	r = vsnprintf(line + start, sizeof line - start, fmt, ap);
	n = r < 0 ? start : start + (size_t)r;
	if (with_errno && n < sizeof line) {
		r = snprintf(line + n, sizeof line - n, ": %s",
		    strerror(saved));
		if (r > 0)
			n += (size_t)r;
	}
	/* Leave room for the newline when the message was cut. */
	if (n > sizeof line - 1)
		n = sizeof line - 1;
	for (i = start; i < n; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	}
	line[n++] = '\n';
	log_write(line, n);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, true, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_WARNING, false, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_INFO, false, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_DEBUG, false, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, true, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_CRIT, false, fmt, ap);
	va_end(ap);
	exit(1);
}
