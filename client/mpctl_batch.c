/*
 * mpctl_batch.c: `mpctl batch` (or `mpctl -`): commands from stdin, one
 * a line, sent on one connection, pipelined, each printing one line.
 *
 * A line is split into words as a shell would ('single quotes', "double
 * quotes" with \ escapes, \ outside quotes; a word starting with # starts
 * a comment) and parsed by mpctl_parse.c's grammar as the arguments of
 * one mpctl command. Blank lines and comments print nothing. A command is
 * sent as soon as its line is read (into libmpmgr's buffer, which goes
 * out when a reply is read); replies are read, half a window of them,
 * when BATCH_WINDOW commands are outstanding, all of them when stdin has
 * no complete line ready (so that typed commands answer at once), and at
 * the end. The
 * daemon answers a connection's requests in order, so results print in
 * the order of the lines; a command that waits (queue get without -t)
 * holds back the ones after it.
 *
 * One line out per command: the result as mpctl prints it (--json on the
 * batch: every result as JSON), an empty line when the verb prints
 * nothing, or "(error) CODE: message" (CODE USAGE for a line that does not
 * parse). The exit status is the worst of the commands' statuses; losing
 * the connection ends the batch with 3 and a message on stderr.
 *
 * Only verbs that are one request go in a batch: those without a runner
 * of their own, and F_BATCH ones (queue put and get, stats) as their
 * plain request. exec, acquire and release, condition wait and notify,
 * ls, rm and version are refused, as are -s, -k, -x, -q and --lines on a
 * line: the batch has chosen its daemon, and stdin is the batch.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../proto/mpmgr_proto.h"
#include "mpctl.h"

/* Commands sent and not yet answered, at most. */
#define BATCH_WINDOW 1024
/* The longest line: a value up to the largest message, and its words. */
#define BATCH_LINE_MAX ((size_t)64 << 20)
#define BATCH_READ (64u << 10)

/* A command sent, waiting for its reply: what printing it needs. */
struct pending {
	const struct verb *verb;
	const struct type *type;
	bool json;
	char name[MPMGR_MAX_NAME + 1];
};

struct batch {
	struct ctx *top;                /* the connection, --json, --string */
	struct pending ring[BATCH_WINDOW];
	size_t head;                    /* the oldest */
	size_t n;
	int worst;                      /* the exit status so far */
	bool lost;                      /* the connection is gone */
	char *in;                       /* stdin's bytes not yet used */
	size_t off, len, cap;
	bool eof;                       /* stdin ended (not an error) */
	unsigned long lineno;
	char **words;
	size_t maxwords;
	FILE *errs;                     /* a line's usage message */
	char *errbuf;
	size_t errlen;
};

static void
batch_status(struct batch *b, int status)
{
	if (status > b->worst)
		b->worst = status;
}

/*
 * Read the oldest reply and print its line. A client-side error (the
 * connection lost) ends the batch: said on stderr, b->lost.
 */
static void
batch_reply(struct batch *b)
{
	struct pending *p = &b->ring[b->head];
	struct ctx view = { .verb = p->verb, .type = p->type,
	    .name = p->name, .h = b->top->h };
	msgpack_object res;
	char text[1600];
	int err;

	b->head = (b->head + 1) % BATCH_WINDOW;
	b->n--;
	if (p->json)
		view.opt[OPT_JSON] = "";
	err = mpmgr_reply(b->top->h, &res);
	if (err == MPMGR_OK) {
		if ((p->verb->flags & F_NIL) && res.type == MSGPACK_OBJECT_NIL)
			putc('\n', stdout);
		else
			batch_status(b, mpctl_print_result(&view, &res));
		return;
	}
	if (err <= MPMGR_ECONNECT) {
		b->lost = true;
		batch_status(b, mpctl_fail(&view, err));
		return;
	}
	batch_status(b, mpctl_status(err));
	printf("(error) %s\n", mpctl_error_text(&view, err, text,
	    sizeof(text)));
}

/* Every outstanding reply, printed and flushed out. */
static void
batch_drain(struct batch *b)
{
	while (b->n > 0 && !b->lost)
		batch_reply(b);
	fflush(stdout);
}

/*
 * A line that is not sent: every reply before it first, then its line,
 * why (NULL: what mpctl_say wrote to b->errs since the line began).
 */
static void
batch_refuse(struct batch *b, const char *why)
{
	long n;

	batch_drain(b);
	fputs("(error) USAGE: ", stdout);
	if (why != NULL) {
		fputs(why, stdout);
	} else {
		/* mpctl_say's message, less its newline */
		fflush(b->errs);
		n = ftell(b->errs);
		while (n > 0 && b->errbuf[n - 1] == '\n')
			n--;
		fwrite(b->errbuf, 1, n > 0 ? (size_t)n : 0, stdout);
	}
	putc('\n', stdout);
	batch_status(b, EXIT_USAGE);
}

/* Room for one more word: false when out of memory. */
static bool
batch_word_room(struct batch *b, size_t n)
{
	char **w;
	size_t max;

	if (n + 1 < b->maxwords)
		return true;
	max = b->maxwords > 0 ? b->maxwords * 2 : 64;
	if ((w = reallocarray(b->words, max, sizeof(*w))) == NULL)
		return false;
	b->words = w;
	b->maxwords = max;
	return true;
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One escape of a double-quoted word, at *r (after the backslash): the
 * byte it means, *r moved past it. \\ \" \n \t \r \xHH; in any other
 * pair the backslash stays, and *r is left at what follows it.
 */
static char
batch_escape(const char **r)
{
	const char *p = *r;
	int hi, lo;

	switch (*p) {
	case 'n':
		*r = p + 1;
		return '\n';
	case 't':
		*r = p + 1;
		return '\t';
	case 'r':
		*r = p + 1;
		return '\r';
	case 'x':
		if ((hi = hex_digit(p[1])) >= 0 && (lo = hex_digit(p[2])) >= 0) {
			*r = p + 3;
			return (char)(hi * 16 + lo);
		}
		break;
	case '"':
	case '\\':
		*r = p + 1;
		return *p;
	}
	return '\\';
}

/*
 * Split line (NUL-terminated, changed in place) into b->words: their
 * count, or -1 with *why.
 */
static int
batch_split(struct batch *b, char *line, const char **why)
{
	const char *r = line;
	char *w = line;
	size_t n = 0;

	if (!batch_word_room(b, 0)) {
		*why = "out of memory";
		return -1;
	}
	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r')
			r++;
		if (*r == '\0' || *r == '#')
			break;
		if (!batch_word_room(b, n)) {
			*why = "out of memory";
			return -1;
		}
		b->words[n++] = w;
		while (*r != '\0' && *r != ' ' && *r != '\t' && *r != '\r') {
			if (*r == '\'') {
				for (r++; *r != '\0' && *r != '\''; r++)
					*w++ = *r;
				if (*r++ != '\'') {
					*why = "unterminated '";
					return -1;
				}
			} else if (*r == '"') {
				for (r++; *r != '\0' && *r != '"';) {
					if (*r != '\\') {
						*w++ = *r++;
						continue;
					}
					r++;
					*w++ = batch_escape(&r);
				}
				if (*r++ != '"') {
					*why = "unterminated \"";
					return -1;
				}
			} else if (*r == '\\' && r[1] != '\0') {
				*w++ = r[1];
				r += 2;
			} else {
				*w++ = *r++;
			}
		}
		/* Past the separator, w < r: its byte is free for the NUL. */
		if (*r != '\0')
			r++;
		*w++ = '\0';
	}
	b->words[n] = NULL;
	return (int)n;
}

/* One line: parsed, checked, sent. */
static void
batch_line(struct batch *b, char *line)
{
	struct ctx c = { .timeout = -1, .wait = -1, .conflict = EXIT_FALSE,
	    .batch = true };
	const struct verb *v;
	struct pending *p;
	const char *why = NULL;
	int n, rc, err;

	b->lineno++;
	if ((n = batch_split(b, line, &why)) <= 0) {
		if (n < 0)
			batch_refuse(b, why);
		return;
	}
	c.start = mpctl_now();
	c.h = b->top->h;
	msgpack_sbuffer_init(&c.args);
	rewind(b->errs);
	mpctl_say_stream = b->errs;
	mpctl_say_prefix = "";
	rc = parse_line(&c, n, b->words);
	if (rc == -1 && (v = c.verb)->run != NULL && !(v->flags & F_BATCH))
		rc = mpctl_say(EXIT_USAGE, "%s: not in batch mode (see mpctl "
		    "batch --help)", c.who);
	if (rc == -1) {
		if (b->top->opt[OPT_JSON] != NULL)
			c.opt[OPT_JSON] = "";
		if (b->top->opt[OPT_STRING] != NULL &&
		    (parse_allowed(c.verb) & O(OPT_STRING)))
			c.opt[OPT_STRING] = "";
		rc = mpctl_pack(&c);
	}
	mpctl_say_stream = NULL;
	mpctl_say_prefix = "mpctl: ";
	if (rc != -1 && rc != 0) {
		batch_refuse(b, NULL);
	} else if ((err = mpctl_send(&c)) != MPMGR_OK) {
		batch_drain(b);
		batch_status(b, mpctl_fail(&c, err));
		b->lost = err <= MPMGR_ECONNECT;
	} else {
		p = &b->ring[(b->head + b->n) % BATCH_WINDOW];
		p->verb = c.verb;
		p->type = c.type;
		p->json = c.opt[OPT_JSON] != NULL;
		snprintf(p->name, sizeof(p->name), "%s",
		    c.name != NULL ? c.name : "");
		/* A full window: half of it answered, so that what is sent
		 * next goes out together, not a request a send(). */
		if (++b->n == BATCH_WINDOW)
			while (b->n > BATCH_WINDOW / 2 && !b->lost)
				batch_reply(b);
	}
	msgpack_sbuffer_destroy(&c.args);
	free(c.opbuf);
	free(c.input);
}

/* Whether stdin has bytes to read now. */
static bool
batch_ready(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * More of stdin into b->in (keeping what is not used yet): false at EOF
 * or on an error (said). Before waiting for input that is not there yet,
 * the replies of what was sent are printed.
 */
static bool
batch_fill(struct batch *b)
{
	size_t cap;
	ssize_t r;
	char *p;

	if (b->off > 0) {
		memmove(b->in, b->in + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < BATCH_READ) {
		cap = b->cap > 0 ? b->cap * 2 : 4 * BATCH_READ;
		if (cap > BATCH_LINE_MAX + BATCH_READ) {
			mpctl_say(EXIT_USAGE, "batch: line %lu is longer than "
			    "%zu bytes", b->lineno + 1, BATCH_LINE_MAX);
			batch_status(b, EXIT_USAGE);
			return false;
		}
		if ((p = realloc(b->in, cap)) == NULL) {
			batch_status(b, mpctl_say(EXIT_ERROR, "batch: out of "
			    "memory"));
			return false;
		}
		b->in = p;
		b->cap = cap;
	}
	if (b->n > 0 && !batch_ready())
		batch_drain(b);
	for (;;) {
		r = read(STDIN_FILENO, b->in + b->len, b->cap - b->len - 1);
		if (r > 0) {
			b->len += (size_t)r;
			return true;
		}
		if (r == 0) {
			b->eof = true;
			return false;
		}
		if (errno != EINTR) {
			batch_status(b, mpctl_say(EXIT_ERROR, "batch: cannot "
			    "read stdin: %s", strerror(errno)));
			return false;
		}
	}
}

int
batch_run(struct ctx *top)
{
	struct batch b = { .top = top };
	char *nl;
	int rc;

	if ((rc = mpctl_connect(top, false)) != 0)
		return rc;
	if ((b.errs = open_memstream(&b.errbuf, &b.errlen)) == NULL)
		return mpctl_say(EXIT_ERROR, "batch: %s", strerror(errno));
	while (!b.lost) {
		nl = b.len > b.off ? memchr(b.in + b.off, '\n',
		    b.len - b.off) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			batch_line(&b, b.in + b.off);
			b.off = (size_t)(nl - b.in) + 1;
			continue;
		}
		if (!batch_fill(&b)) {
			/* The last line may lack its newline. */
			if (b.eof && b.len > b.off && !b.lost) {
				b.in[b.len] = '\0';
				batch_line(&b, b.in + b.off);
			}
			break;
		}
	}
	batch_drain(&b);
	fclose(b.errs);
	free(b.errbuf);
	free(b.words);
	free(b.in);
	return b.worst;
}
