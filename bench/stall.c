/*
 * stall.c: how long one client waits while another floods the daemon with
 * heavy requests (`make bench`; docs/PERFORMANCE.md, "Stalls").
 *
 *	stall SOCKET [ITEMS [FLOOD]]
 *
 * Fills the list bench:stall with ITEMS ints (default 1000000), then one
 * connection pipelines FLOOD (default 100) list.count over it in one
 * write, while a child process pings on a connection of its own until the
 * flood's last reply is in. Prints the flood's duration and the pings' round trips
 * during it (count, median, p99, max), then the same for one list.sort of
 * the list (a single O(n log n) request: a ping waits for all of it).
 * The key is $MPMGR_AUTHKEY_FILE or the default one. Exit 1 on any error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../client/mpmgr.h"

#define NAME "bench:stall"
#define CHUNK 50000
#define MAX_PINGS 1000000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
die(mpmgr *h, const char *what, int rc)
{
	fprintf(stderr, "stall: %s: %s: %s\n", what, mpmgr_strerror(rc),
	    h != NULL ? mpmgr_errmsg(h) : "");
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* What the pinging child and the parent share. */
struct shared {
	volatile int ready;   /* the child is connected and pinging */
	volatile int stop;    /* the flood is over */
	volatile size_t pings;
	double rtt[MAX_PINGS];
};

/* The child: ping until told to stop, recording each round trip. */
static _Noreturn void
pinger(const char *sock, struct shared *sh)
{
	mpmgr *probe = NULL;
	double p;
	int rc;

	if ((rc = mpmgr_connect(&probe, sock, NULL)) != 0)
		die(probe, "connect", rc);
	sh->ready = 1;
	while (!sh->stop) {
		p = now_ms();
		if ((rc = mpmgr_ping(probe)) != 0)
			die(probe, "ping", rc);
		if (sh->pings < MAX_PINGS)
			sh->rtt[sh->pings++] = now_ms() - p;
	}
	mpmgr_free(probe);
	_exit(0);
}

/*
 * Send n requests of method on flood (packed by pack) while a child pings
 * on a connection of its own until all n replies are in; print the line.
 */
static void
run(mpmgr *flood, const char *sock, const char *what, const char *method,
    unsigned n, void (*pack)(msgpack_packer *))
{
	struct shared *sh;
	double t0, t1;
	msgpack_packer *pk;
	unsigned i;
	size_t np;
	pid_t pid;
	int rc, st;

	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || (pid = fork()) == -1) {
		perror("stall");
		exit(1);
	}
	if (pid == 0)
		pinger(sock, sh);
	for (i = 0; i < n; i++) {
		if ((pk = mpmgr_request_begin(flood, method, 2)) == NULL)
			die(flood, method, MPMGR_EPROTO);
		msgpack_pack_str_with_body(pk, NAME, strlen(NAME));
		pack(pk);
		if ((rc = mpmgr_request_end(flood)) != 0)
			die(flood, method, rc);
	}
	while (!sh->ready && waitpid(pid, &st, WNOHANG) == 0)
		usleep(1000);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		if ((rc = mpmgr_reply(flood, NULL)) != 0)
			die(flood, method, rc);
	}
	t1 = now_ms();
	sh->stop = 1;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		exit(1);
	np = sh->pings;
	if (np == 0) {
		printf("  %-34s %8.1f ms; no ping answered during it\n", what,
		    t1 - t0);
		return;
	}
	qsort(sh->rtt, np, sizeof sh->rtt[0], cmp_double);
	printf("  %-34s %8.1f ms; ping during it: %zu, median %.2f ms, "
	    "p99 %.2f ms, max %.2f ms\n", what, t1 - t0, np,
	    sh->rtt[np / 2], sh->rtt[np * 99 / 100], sh->rtt[np - 1]);
	munmap(sh, sizeof *sh);
}

static void
pack_count(msgpack_packer *pk)
{
	msgpack_pack_int(pk, 7);
}

static void
pack_sort(msgpack_packer *pk)
{
	msgpack_pack_false(pk);
}

int
main(int argc, char **argv)
{
	unsigned items = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) :
	    1000000, flood_n = argc > 3 ?
	    (unsigned)strtoul(argv[3], NULL, 10) : 100, i, j;
	mpmgr *flood = NULL;
	msgpack_packer *pk;
	char what[64];
	int rc;

	if (argc < 2 || argc > 4 || items == 0 || flood_n == 0) {
		fprintf(stderr, "usage: stall SOCKET [ITEMS [FLOOD]]\n");
		return 2;
	}
	if ((rc = mpmgr_connect(&flood, argv[1], NULL)) != 0)
		die(flood, "connect", rc);
	for (i = 0; i < items; i += CHUNK) {
		unsigned n = items - i < CHUNK ? items - i : CHUNK;

		if ((pk = mpmgr_request_begin(flood, "list.extend", 2)) == NULL)
			die(flood, "list.extend", MPMGR_EPROTO);
		msgpack_pack_str_with_body(pk, NAME, strlen(NAME));
		msgpack_pack_array(pk, n);
		for (j = 0; j < n; j++)
			msgpack_pack_uint32(pk, (i + j) * 2654435761u % 1000);
		if ((rc = mpmgr_request_end(flood)) != 0 ||
		    (rc = mpmgr_reply(flood, NULL)) != 0)
			die(flood, "list.extend", rc);
	}
	snprintf(what, sizeof what, "%u x list.count of %u items", flood_n,
	    items);
	run(flood, argv[1], what, "list.count", flood_n, pack_count);
	snprintf(what, sizeof what, "1 x list.sort of %u items", items);
	run(flood, argv[1], what, "list.sort", 1, pack_sort);
	mpmgr_free(flood);
	return 0;
}
