/*
 * mpctl_complete.c: shell completion, answered by mpctl itself.
 *
 *   mpctl --complete CWORD WORD...
 *
 * WORD... is the command line as the shell split it (WORD 0 is mpctl) and
 * CWORD the index of the word being completed (bash's COMP_CWORD). The
 * candidates that start with that word print one a line; nothing prints
 * where the shell's own completion fits better (a file for -k or --file,
 * exec's CMD), and the script falls back to it. client/mpctl.bash is the
 * script: it only calls this. The words go through the same tables as
 * parsing does (mpctl_parse.c, mpctl_verbs.c, and so the method
 * catalogue): types and their aliases, server verbs, a type's verbs, the
 * options the verb takes, the types for `ls`, and object names from the
 * running daemon (ls_names: obj.scan) for -n, --lock, info and rm, of the
 * type the command is about. A daemon that is not there or slow (2 s and
 * the deadline's grace) gives no names, silently: stderr is the script's
 * to drop.
 *
 * Hidden from --help: it is the scripts' interface, not the user's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpctl.h"

/* What the words before the cursor said. */
struct comp {
	const char *cur;                /* the word being completed */
	const struct type *type;
	const struct verb *verb;
	bool batch;
	bool cmd;                       /* in exec's CMD */
	int want;                       /* the option whose argument cur is,
					   or -1 */
	struct ctx c;                   /* -s and -k, for names */
};

static void
offer(const struct comp *k, const char *word)
{
	if (strncmp(word, k->cur, strlen(k->cur)) == 0)
		printf("%s\n", word);
}

static void
offer_name(void *arg, const char *name, size_t len)
{
	const struct comp *k = arg;
	size_t n = strlen(k->cur);

	if (len >= n && memcmp(name, k->cur, n) == 0 &&
	    memchr(name, '\n', len) == NULL)
		printf("%.*s\n", (int)len, name);
}

/* The objects of type (NULL: every type) whose names start with cur. */
static void
offer_names(struct comp *k, const char *type)
{
	k->c.timeout = 0;
	k->c.start = mpctl_now();
	mpctl_deadline_arm(&k->c);
	ls_names(&k->c, type, offer_name, k);
	mpctl_deadline_disarm();
	mpmgr_free(k->c.h);
	k->c.h = NULL;
}

/*
 * Option word w (and its argument at words[*i + 1]) as parsing reads it:
 * the socket and key it names, or, when cur is its argument, which
 * option that is (k->want).
 */
static void
comp_option(struct comp *k, char **words, int *i, int cword)
{
	const char *w = words[*i], *val = NULL, *p;
	int id = -1;

	if (w[1] == '-') {
		val = strchr(w + 2, '=');
		id = parse_option(w + 2, val != NULL ? (size_t)(val - w - 2) :
		    strlen(w + 2), 0);
		if (val != NULL)
			val++;
	} else {
		/* -qn NAME, -nNAME: the first that takes an argument */
		for (p = w + 1; *p != '\0' && id < 0; p++) {
			id = parse_option(NULL, 0, *p);
			if (id >= 0 && parse_opts[id].arg == NULL)
				id = -1;
			else if (id >= 0 && p[1] != '\0')
				val = p + 1;
		}
	}
	if (id < 0 || parse_opts[id].arg == NULL)
		return;
	if (val == NULL) {
		if (*i + 1 >= cword) {
			k->want = id;
			return;
		}
		val = words[++*i];
	}
	if (id == OPT_SOCKET)
		k->c.socket_path = val;
	else if (id == OPT_AUTHKEY)
		k->c.authkey_file = val;
}

/* The words before the cursor: 0, or -1 when nothing can follow them. */
static int
comp_walk(struct comp *k, char **words, int cword)
{
	bool operands = false;
	int i;

	for (i = 1; i < cword && k->want < 0; i++) {
		if (k->cmd)
			return 0;
		if (!operands && strcmp(words[i], "--") == 0) {
			operands = true;
			continue;
		}
		if (!operands && !parse_is_operand(words[i])) {
			comp_option(k, words, &i, cword);
			continue;
		}
		if (k->verb != NULL) {
			k->cmd = (k->verb->flags & F_CMD) != 0;
			continue;
		}
		if (k->batch)
			return -1;
		if (k->type != NULL) {
			if ((k->verb = parse_verb(k->type->name, words[i])) ==
			    NULL)
				return -1;
		} else if ((k->verb = parse_verb(NULL, words[i])) == NULL) {
			if (strcmp(words[i], "batch") == 0 ||
			    strcmp(words[i], "-") == 0)
				k->batch = true;
			else if ((k->type = parse_type(words[i])) == NULL)
				return -1;
		}
	}
	return 0;
}

int
complete_run(int argc, char **argv)
{
	struct comp k = { .want = -1,
	    .c = { .timeout = -1, .conflict = EXIT_FALSE } };
	char *end, word[64];
	opt_mask allowed;
	long cword;
	size_t i;

	if (argc < 2)
		return EXIT_USAGE;
	cword = strtol(argv[0], &end, 10);
	if (*end != '\0' || cword < 1)
		return EXIT_USAGE;
	argc--;
	argv++;
	k.cur = cword < argc ? argv[cword] : "";
	if (comp_walk(&k, argv, cword < argc ? (int)cword : argc) != 0 ||
	    k.cmd)
		return EXIT_TRUE;
	if (k.want == OPT_NAME) {
		offer_names(&k, k.type != NULL ? k.type->name : NULL);
	} else if (k.want == OPT_LOCK) {
		offer_names(&k, "lock");
		offer_names(&k, "rlock");
	} else if (k.want >= 0) {
		/* a path, a number, a value: the shell's or nobody's */
	} else if (k.cur[0] == '-' && !parse_is_operand(k.cur)) {
		allowed = k.verb != NULL ? parse_allowed(k.verb) :
		    k.batch ? OPTS_GLOBAL | O(OPT_JSON) | O(OPT_STRING) :
		    OPTS_GLOBAL;
		for (i = 0; i < OPT_COUNT; i++) {
			if (!(allowed & O(i)))
				continue;
			snprintf(word, sizeof(word), "--%s",
			    parse_opts[i].long_name);
			offer(&k, word);
		}
	} else if (k.batch) {
		/* batch takes no operands */
	} else if (k.verb == NULL && k.type == NULL) {
		for (i = 0; i < verbs_ntypes; i++) {
			offer(&k, verbs_types[i].name);
			if (verbs_types[i].alias != NULL)
				offer(&k, verbs_types[i].alias);
		}
		for (i = 0; i < verbs_nverbs; i++) {
			if (verbs_table[i].type == NULL)
				offer(&k, verbs_table[i].name);
		}
		offer(&k, "batch");
	} else if (k.verb == NULL) {
		for (i = 0; i < verbs_nverbs; i++) {
			if (verbs_table[i].type == NULL ||
			    strcmp(verbs_table[i].type, k.type->name) != 0)
				continue;
			offer(&k, verbs_table[i].name);
			if (verbs_table[i].alias != NULL)
				offer(&k, verbs_table[i].alias);
		}
	} else if (k.verb->type == NULL && k.verb->method ==
	    MPMGR_MID_obj_list) {
		for (i = 0; i < verbs_ntypes; i++)
			offer(&k, verbs_types[i].name);
	} else if (k.verb->type == NULL && (k.verb->flags & F_NAMES)) {
		offer_names(&k, NULL);
	}
	return EXIT_TRUE;
}
