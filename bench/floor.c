/*
 * floor.c: the floor of a request/reply over a Unix socket.
 *
 * Two processes ping-pong a 32-byte message over an AF_UNIX stream
 * socketpair with blocking read and write: the fastest any one-client
 * round trip through a socket can go on this machine, against which
 * mpmgrd's single-client figure is read. Run it under `taskset -c 0` for
 * the same-CPU floor (both processes inherit the affinity).
 *
 * usage: floor [-n ROUNDS] [--csv]
 * Prints round trips per second and latency like `mpbench --csv` (test
 * name "floor") or as one human line; exit 0, or 1 on a system error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../client/histogram.h"

#define MSG_LEN 32

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* All of len bytes, or false at EOF or on an error. */
static bool
read_all(int fd, char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* The other end: echoes until the parent closes. */
static void
echo(int fd)
{
	char msg[MSG_LEN];

	while (read_all(fd, msg, sizeof(msg)) &&
	    write_all(fd, msg, sizeof(msg)))
		;
	_exit(0);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	static struct histogram hist;
	char msg[MSG_LEN], *end;
	unsigned long long rounds = 100000, i;
	uint64_t start, t, elapsed;
	bool csv = false;
	int sv[2], ch, status;
	pid_t pid;

	while ((ch = getopt_long(argc, argv, "n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			errno = 0;
			rounds = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg == '-' ||
			    rounds == 0)
				goto usage;
			break;
		case 'C':
			csv = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("floor: socketpair");
		return 1;
	}
	if ((pid = fork()) == -1) {
		perror("floor: fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		echo(sv[1]);
	}
	close(sv[1]);
	memset(msg, 'x', sizeof(msg));
	hist_init(&hist);
	start = now_ns();
	for (i = 0; i < rounds; i++) {
		t = now_ns();
		if (!write_all(sv[0], msg, sizeof(msg)) ||
		    !read_all(sv[0], msg, sizeof(msg))) {
			perror("floor: ping-pong");
			return 1;
		}
		hist_record(&hist, now_ns() - t);
	}
	elapsed = now_ns() - start;
	close(sv[0]);
	waitpid(pid, &status, 0);
	if (csv)
		printf("\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\","
		    "\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\","
		    "\"max_latency_ms\"\n"
		    "\"floor\",\"%.2f\",\"%.3f\",\"%.3f\",\"%.3f\",\"%.3f\","
		    "\"%.3f\",\"%.3f\"\n", (double)rounds * 1e9 / (double)elapsed,
		    hist_mean(&hist) / 1e6, (double)hist.min / 1e6,
		    (double)hist_percentile(&hist, 50) / 1e6,
		    (double)hist_percentile(&hist, 95) / 1e6,
		    (double)hist_percentile(&hist, 99) / 1e6,
		    (double)hist.max / 1e6);
	else
		printf("floor: %.2f round trips per second of %d bytes, "
		    "p50=%.3f msec, p99=%.3f msec\n",
		    (double)rounds * 1e9 / (double)elapsed, MSG_LEN,
		    (double)hist_percentile(&hist, 50) / 1e6,
		    (double)hist_percentile(&hist, 99) / 1e6);
	return 0;
usage:
	fprintf(stderr, "usage: floor [-n ROUNDS] [--csv]\n");
	return 2;
}
