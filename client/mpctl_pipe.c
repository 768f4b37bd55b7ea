/*
 * mpctl_pipe.c: the pipe verbs.
 *
 * The one-shot verbs (send, recv, poll, close, handoff) send one request
 * with the end (--end; send defaults to 0, recv and poll to 1, close and
 * handoff want it) after the name (pipe_pack, so that they run in a batch
 * too); they hold nothing, so mpctl's exit closes nothing. cat and write
 * hold an end on their connection while they stream, so that their end
 * closes when they finish or die: cat prints each message for its end
 * until EOF, write sends each line of stdin and closes its end at the end
 * of its input. Both keep a few requests in flight (PIPE_DEPTH) so
 * that a stream costs no round trip a message.
 *
 * Exit statuses: EOF is 5 (mpctl.h), except for cat, for which the other
 * end closing is the stream's normal end (0).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpctl.h"

/* Requests cat and write keep in flight. */
#define PIPE_DEPTH 16

/* --end into *end: dflt when not given (-1: it must be). 0, or
 * EXIT_USAGE after saying why. */
static int
pipe_end(struct ctx *c, int dflt, int *end)
{
	const char *e = c->opt[OPT_END];

	if (e == NULL && dflt < 0)
		return mpctl_say(EXIT_USAGE, "%s: which end? --end 0 or --end 1",
		    c->who);
	if (e == NULL) {
		*end = dflt;
		return 0;
	}
	if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0)
		return mpctl_say(EXIT_USAGE, "%s: --end is 0 or 1, not '%s'",
		    c->who, e);
	*end = e[0] - '0';
	return 0;
}

/* --token into *token (0 when not given): 0, or EXIT_USAGE. */
static int
pipe_token(struct ctx *c, uint64_t *token)
{
	const char *t = c->opt[OPT_TOKEN];
	char *end;

	*token = 0;
	if (t == NULL)
		return 0;
	errno = 0;
	*token = strtoull(t, &end, 10);
	if (end == t || *end != '\0' || errno != 0 || t[0] == '-' ||
	    *token == 0)
		return mpctl_say(EXIT_USAGE, "%s: --token wants the number "
		    "`pipe handoff` printed, not '%s'", c->who, t);
	return 0;
}

static void
pipe_pack_end(struct ctx *c, int end)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
	msgpack_pack_int(&pk, end);
	c->nargs++;
}

/*
 * The end, then the operands; handoff's -t is how long the token keeps
 * the end open, a param of its own (not a wait, which mpctl_send would
 * add).
 */
int
pipe_pack(struct ctx *c)
{
	msgpack_packer pk;
	int dflt, end, rc;

	switch (c->verb->method) {
	case MPMGR_MID_pipe_send:
		dflt = 0;
		break;
	case MPMGR_MID_pipe_recv:
	case MPMGR_MID_pipe_poll:
		dflt = 1;
		break;
	default:
		dflt = -1;
		break;
	}
	if ((rc = pipe_end(c, dflt, &end)) != 0)
		return rc;
	pipe_pack_end(c, end);
	if ((rc = mpctl_pack_operands(c)) != 0)
		return rc;
	if (c->verb->method == MPMGR_MID_pipe_handoff && c->timeout >= 0) {
		msgpack_packer_init(&pk, &c->args, msgpack_sbuffer_write);
		msgpack_pack_double(&pk, c->timeout);
		c->nargs++;
	}
	return 0;
}

/* Connect and hold end, claiming token: 0, or the exit status. */
static int
pipe_hold(struct ctx *c, int end, uint64_t token)
{
	int err, rc;

	if ((rc = mpctl_connect(c, false)) != 0)
		return rc;
	if ((err = mpmgr_pipe_open(c->h, c->name, end, token)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return 0;
}

/* One more recv for cat, at the tail of the pipeline. */
static int
cat_request(struct ctx *c, int end)
{
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, catalogue_methods[MPMGR_MID_pipe_recv].
	    name, 2);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	msgpack_pack_int(pk, end);
	return mpmgr_request_end(c->h);
}

/*
 * Hold the end, keep PIPE_DEPTH recvs in flight, print every message,
 * until EOF: once the other end is closed and drained, every recv in
 * flight answers EOF.
 */
int
pipe_cat(struct ctx *c)
{
	msgpack_object msg;
	uint64_t token;
	size_t i;
	int end, err, rc;
	bool eof = false;

	if ((rc = pipe_end(c, 1, &end)) != 0 || (rc = pipe_token(c,
	    &token)) != 0 || (rc = pipe_hold(c, end, token)) != 0)
		return rc;
	for (i = 0; i < PIPE_DEPTH; i++) {
		if ((err = cat_request(c, end)) != MPMGR_OK)
			return mpctl_fail(c, err);
	}
	while (mpmgr_pending(c->h) > 0) {
		err = mpmgr_reply(c->h, &msg);
		if (err == MPMGR_EEOF) {
			eof = true;
			continue;
		}
		if (err != MPMGR_OK)
			return mpctl_fail(c, err);
		if (eof)
			return mpctl_unexpected(&msg);
		mpctl_print_result(c, &msg);
		/* A reader at the other side of stdout sees it now. */
		if (fflush(stdout) != 0)
			return mpctl_say(EXIT_ERROR, "%s: cannot write the "
			    "output: %s", c->who, strerror(errno));
		if ((err = cat_request(c, end)) != MPMGR_OK)
			return mpctl_fail(c, err);
	}
	return EXIT_TRUE;
}

/* pipe.send of the line already packed in c->args (the end, the item). */
static int
write_request(struct ctx *c)
{
	msgpack_packer *pk;

	pk = mpmgr_request_begin(c->h, catalogue_methods[MPMGR_MID_pipe_send].
	    name, 1 + c->nargs);
	if (pk == NULL)
		return MPMGR_EINVAL;
	msgpack_pack_str_with_body(pk, c->name, strlen(c->name));
	pk->callback(pk->data, c->args.data, c->args.size);
	return mpmgr_request_end(c->h);
}

/* Read the oldest reply of write's pipeline: 0, or the exit status. */
static int
write_reply(struct ctx *c)
{
	int err;

	if ((err = mpmgr_reply(c->h, NULL)) != MPMGR_OK)
		return mpctl_fail(c, err);
	return 0;
}

/*
 * Hold the end, send each line of stdin (at most PIPE_DEPTH sends in
 * flight), then close the end: the reader sees EOF after the last line.
 * A send answered EOF (the reader is gone) ends it at once.
 */
int
pipe_write(struct ctx *c)
{
	uint64_t token;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int end, err, rc;

	if ((rc = pipe_end(c, 0, &end)) != 0 || (rc = pipe_token(c,
	    &token)) != 0 || (rc = pipe_hold(c, end, token)) != 0)
		return rc;
	rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		c->args.size = 0;
		c->nargs = 0;
		pipe_pack_end(c, end);
		if ((rc = mpctl_pack_operand(c, line, false)) != 0)
			break;
		/* Sent now, its reply read later: the reader must not wait
		 * for the writer's next line to see this one. */
		if ((err = write_request(c)) != MPMGR_OK ||
		    (err = mpmgr_flush(c->h)) != MPMGR_OK)
			rc = mpctl_fail(c, err);
		else if (mpmgr_pending(c->h) >= PIPE_DEPTH)
			rc = write_reply(c);
	}
	free(line);
	if (rc == 0 && ferror(stdin))
		rc = mpctl_say(EXIT_ERROR, "%s: cannot read the input: %s",
		    c->who, strerror(errno));
	while (rc == 0 && mpmgr_pending(c->h) > 0)
		rc = write_reply(c);
	if (rc == 0 && (err = mpmgr_pipe_close(c->h, c->name, end)) !=
	    MPMGR_OK)
		rc = mpctl_fail(c, err);
	return rc;
}
