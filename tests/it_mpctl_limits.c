/*
 * it_mpctl_limits.c: mpctl against a real mpmgrd at the daemon's limits.
 *
 * ls on a registry whose obj.list reply is larger than the daemon's output
 * limit pages through obj.scan: it prints what one reply would have (the
 * table, --json, a TYPE), in as many requests as the limit makes needed
 * at least (counted by sys.stats "ops", not timed). The registry is kept
 * small (600 objects) by a small --output-limit.
 *
 * A daemon that refuses a connection because it is full (--max-clients)
 * makes mpctl exit 3, "cannot connect", with the daemon's LIMIT message;
 * once a client leaves, mpctl gets in.
 *
 * Each test starts a daemon of its own (its limits are the test's) and
 * runs $MPCTL (default ./build/mpctl) as a user would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define LS_OBJECTS 600
#define LS_NAME 200            /* bytes of every name */
#define LS_OUTPUT_LIMIT 16384

/* The i-th object's name: LS_NAME bytes, distinct. */
static void
ls_name(char *buf, int i)
{
	snprintf(buf, LS_NAME + 1, "ls-%04d-%0*d", i, LS_NAME - 8, 0);
}

/* Objects of the ls test: every third a value, the others dicts. */
static bool
ls_is_value(int i)
{
	return i % 3 == 0;
}

/* What ls prints for the objects (of type, unless NULL). */
static char *
ls_expected(const char *type, bool json)
{
	char name[LS_NAME + 1], *text = NULL;
	const char *t;
	size_t len = 0;
	FILE *f;
	int i, n = 0;

	f = open_memstream(&text, &len);
	ck_assert(f != NULL);
	if (json)
		putc('[', f);
	else
		fprintf(f, "%-*s  %-5s  SIZE\n", LS_NAME, "NAME", "TYPE");
	for (i = 0; i < LS_OBJECTS; i++) {
		t = ls_is_value(i) ? "value" : "dict";
		if (type != NULL && strcmp(type, t) != 0)
			continue;
		ls_name(name, i);
		if (json)
			fprintf(f, "%s[\"%s\",\"%s\",1]", n > 0 ? "," : "",
			    name, t);
		else
			fprintf(f, "%s  %-5s  1\n", name, t);
		n++;
	}
	if (json)
		fputs("]\n", f);
	ck_assert(fclose(f) == 0);
	return text;
}

/* `mpctl ARGS` exits 0, prints want exactly and nothing on stderr; the
 * requests it made, by sys.stats "ops" on m (less m's own). */
static uint64_t
ls_ok(struct harness *h, mpmgr *m, const char *want, const char *arg1,
    const char *arg2)
{
	uint64_t before, after;
	char *out, *err;
	int rc;

	before = harness_stat(m, "ops");
	rc = harness_mpctl(h, &out, &err, "ls", arg1, arg2, NULL);
	after = harness_stat(m, "ops");
	ck_assert_msg(rc == 0, "mpctl ls %s %s: exit %d: %s",
	    arg1 ? arg1 : "", arg2 ? arg2 : "", rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_msg(strcmp(out, want) == 0, "mpctl ls %s %s: %zu bytes "
	    "printed, %zu wanted, differing from byte %zu",
	    arg1 ? arg1 : "", arg2 ? arg2 : "", strlen(out), strlen(want),
	    strspn(out, want));
	free(out);
	free(err);
	return after - before - 1;
}

START_TEST(test_ls_pages)
{
	static const char *const args[] = { "--output-limit", "16k",
	    "--max-message", "4k", NULL };
	char name[LS_NAME + 1], *want, *err;
	uint64_t requests, least;
	msgpack_packer *pk;
	struct harness h;
	mpmgr *m;
	int i;

	harness_start(&h, args);
	m = harness_connect(&h);
	for (i = 0; i < LS_OBJECTS; i++) {
		ls_name(name, i);
		pk = ls_is_value(i) ? mpmgr_request_begin(m, "value.set", 2) :
		    mpmgr_request_begin(m, "dict.set", 3);
		ck_assert(pk != NULL);
		msgpack_pack_str_with_body(pk, name, LS_NAME);
		if (!ls_is_value(i))
			msgpack_pack_str_with_body(pk, "k", 1);
		msgpack_pack_int(pk, i);
		ck_assert_int_eq(mpmgr_request_end(m), 0);
	}
	for (i = 0; i < LS_OBJECTS; i++)
		ck_assert_int_eq(mpmgr_reply(m, NULL), 0);
	/* Too many for one reply. */
	ck_call_err(m, "obj.list", "[]", MPMGR_ELIMIT);

	/* Each page is within the limit: the names alone need this many. */
	least = (uint64_t)LS_OBJECTS * LS_NAME / LS_OUTPUT_LIMIT + 1;
	want = ls_expected(NULL, false);
	requests = ls_ok(&h, m, want, NULL, NULL);
	ck_assert_msg(requests >= least, "ls made %llu requests, fewer than "
	    "the %llu pages the output limit needs", (unsigned long long)
	    requests, (unsigned long long)least);
	free(want);
	want = ls_expected(NULL, true);
	ls_ok(&h, m, want, "--json", NULL);
	free(want);
	want = ls_expected("value", false);
	ls_ok(&h, m, want, "value", NULL);
	free(want);
	want = ls_expected("dict", true);
	ls_ok(&h, m, want, "--json", "dict");
	free(want);

	/* A type neither mpctl nor the daemon knows: asked, then a usage
	 * error. */
	ck_assert_int_eq(harness_mpctl(&h, NULL, &err, "ls", "bogus", NULL),
	    2);
	ck_assert_msg(strncmp(err, "mpctl: ls: unknown type 'bogus'", 31) ==
	    0, "%s", err);
	free(err);
	mpmgr_free(m);
	ck_assert(harness_stop(&h));
}
END_TEST

/* Connections the full daemon's test may hold: --max-clients and any slots
 * kept for the daemon's own user, which this test's uid is. */
#define FULL_HELD 64

START_TEST(test_full_exits_3)
{
	static const char *const args[] = { "--max-clients", "1", NULL };
	mpmgr *held[FULL_HELD + 1];
	int64_t deadline;
	struct harness h;
	char *out, *err;
	int i, n, rc;

	harness_start(&h, args);
	/* The start's own connection may still count for a moment. */
	deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	while ((rc = mpmgr_connect_key(&held[0], h.sock, h.key,
	    h.keylen)) == MPMGR_ELIMIT && harness_now_ms() < deadline) {
		mpmgr_free(held[0]);
		harness_nap(10);
	}
	ck_assert_msg(rc == 0, "connect: %s", mpmgr_errmsg(held[0]));
	/* Every slot this uid may take, until the daemon says it is full. */
	for (n = 1; n <= FULL_HELD; n++) {
		rc = mpmgr_connect_key(&held[n], h.sock, h.key, h.keylen);
		if (rc != 0)
			break;
	}
	ck_assert_msg(rc == MPMGR_ELIMIT, "connection %d: %s: %s", n,
	    mpmgr_strerror(rc), n <= FULL_HELD ? mpmgr_errmsg(held[n]) : "");
	mpmgr_free(held[n]);

	rc = harness_mpctl(&h, &out, &err, "ping", NULL);
	ck_assert_msg(rc == 3, "mpctl ping on a full daemon: exit %d: %s", rc,
	    err);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strncmp(err, "mpctl: LIMIT: ", 14) == 0 &&
	    strchr(err, '\n') == err + strlen(err) - 1, "stderr: %s", err);
	free(out);
	free(err);

	/* One leaves: there is room again. */
	mpmgr_free(held[0]);
	deadline = harness_now_ms() + HARNESS_DEADLINE_MS;
	while ((rc = harness_mpctl(&h, NULL, NULL, "ping", NULL)) == 3 &&
	    harness_now_ms() < deadline)
		harness_nap(10);
	ck_assert_int_eq(rc, 0);
	for (i = 1; i < n; i++)
		mpmgr_free(held[i]);
	ck_assert(harness_stop(&h));
}
END_TEST

static Suite *
mpctl_limits_suite(void)
{
	Suite *s = suite_create("it_mpctl_limits");
	TCase *tc = harness_tcase(s, "limits", 60, NULL, NULL);

	tcase_add_test(tc, test_ls_pages);
	tcase_add_test(tc, test_full_exits_3);
	return s;
}

int
main(void)
{
	return harness_run(mpctl_limits_suite());
}
