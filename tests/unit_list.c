/*
 * unit_list.c: the list type through request handling, row by row against
 * what Python's list does (the expected values were computed with
 * /usr/bin/python3): every verb, Python's index, slice and insert rules,
 * equality and the stable sort, implicit vanishing and incremental freeing.
 *
 * Object names differ between scenarios so that they also pass with
 * CK_FORK=no.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "../daemon/dispatch.h"
#include "../daemon/mem.h"
#include "../daemon/mpmgrd.h"
#include "../daemon/registry.h"
#include "unit_util.h"

/* --- the method tables ------------------------------------------------- */

static const char *const list_methods[] = {
	"list.create", "list.append", "list.extend", "list.insert",
	"list.pop", "list.remove", "list.index", "list.count",
	"list.reverse", "list.sort", "list.get", "list.slice", "list.set",
	"list.delete", "list.len", "list.contains", "list.clear", "list.copy",
};

START_TEST(test_tables)
{
	const struct method *m;
	size_t i;

	for (i = 0; i < sizeof list_methods / sizeof list_methods[0]; i++) {
		m = dispatch_lookup(list_methods[i], strlen(list_methods[i]));
		ck_assert_msg(m != NULL, "%s missing", list_methods[i]);
		ck_assert_ptr_eq(m->type, &list_type);
	}
	ck_assert_ptr_eq(registry_type("list", 4), &list_type);
}
END_TEST

/* --- list: the basic verbs --------------------------------------------- */

static const struct row list_basic[] = {
	/* Reads of a missing list act on an empty one and create nothing. */
	{ "list.len", "['l1']", PERR_NONE, "0", NULL },
	{ "list.copy", "['l1']", PERR_NONE, "[]", NULL },
	{ "list.contains", "['l1', 1]", PERR_NONE, "false", NULL },
	{ "list.count", "['l1', 1]", PERR_NONE, "0", NULL },
	{ "list.slice", "['l1', nil, nil]", PERR_NONE, "[]", NULL },
	{ "list.get", "['l1', 0]", PERR_NOINDEX, NULL,
	  "list index out of range" },
	{ "list.index", "['l1', 1]", PERR_NOTFOUND, NULL, "not in list 'l1'" },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	/* Writes that find nothing create nothing either. */
	{ "list.pop", "['l1']", PERR_NOINDEX, NULL, "pop from empty list" },
	{ "list.pop", "['l1', 0]", PERR_NOINDEX, NULL, "pop from empty list" },
	{ "list.set", "['l1', 0, 1]", PERR_NOINDEX, NULL,
	  "list assignment index out of range" },
	{ "list.delete", "['l1', -1]", PERR_NOINDEX, NULL,
	  "list assignment index out of range" },
	{ "list.remove", "['l1', 1]", PERR_NOTFOUND, NULL,
	  "list.remove(x): x not in list" },
	{ "list.reverse", "['l1']", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l1']", PERR_NONE, "nil", NULL },
	{ "list.clear", "['l1']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l1', []]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	/* Values are stored canonical and answered as stored. */
	{ "list.append", "['l1', h'cd0001']", PERR_NONE, "nil", NULL },
	{ "list.append", "['l1', [f32:0.5, {'a': h'd9016e'}]]", PERR_NONE,
	  "nil", NULL },
	{ "list.append", "['l1', nil]", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l1', ['x', b'y', x5'z']]", PERR_NONE, "nil", NULL },
	{ "list.len", "['l1']", PERR_NONE, "6", NULL },
	{ "list.copy", "['l1']", PERR_NONE,
	  "[1, [0.5, {'a': 'n'}], nil, 'x', b'y', x5'z']", NULL },
	{ "list.get", "['l1', 0]", PERR_NONE, "1", NULL },
	{ "list.get", "['l1', 5]", PERR_NONE, "x5'z'", NULL },
	{ "list.get", "['l1', -1]", PERR_NONE, "x5'z'", NULL },
	{ "list.get", "['l1', -6]", PERR_NONE, "1", NULL },
	{ "list.get", "['l1', h'd0fe']", PERR_NONE, "b'y'", NULL },
	{ "list.get", "['l1', 6]", PERR_NOINDEX, NULL, NULL },
	{ "list.get", "['l1', -7]", PERR_NOINDEX, NULL, NULL },
	{ "list.get", "['l1', 18446744073709551615]", PERR_NOINDEX, NULL, NULL },
	{ "list.get", "['l1', -9223372036854775808]", PERR_NOINDEX, NULL, NULL },
	{ "obj.info", "['l1']", PERR_NONE, NULL, NULL },
	/* set and delete, negative indexes included. */
	{ "list.set", "['l1', 2, 'two']", PERR_NONE, "nil", NULL },
	{ "list.set", "['l1', -1, h'd9016e']", PERR_NONE, "nil", NULL },
	{ "list.set", "['l1', 6, 0]", PERR_NOINDEX, NULL,
	  "list assignment index out of range" },
	{ "list.set", "['l1', -7, 0]", PERR_NOINDEX, NULL, NULL },
	{ "list.delete", "['l1', 1]", PERR_NONE, "nil", NULL },
	{ "list.delete", "['l1', -2]", PERR_NONE, "nil", NULL },
	{ "list.delete", "['l1', 4]", PERR_NOINDEX, NULL,
	  "list assignment index out of range" },
	{ "list.copy", "['l1']", PERR_NONE, "[1, 'two', 'x', 'n']", NULL },
	{ "list.reverse", "['l1']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l1']", PERR_NONE, "['n', 'x', 'two', 1]", NULL },
	{ "list.contains", "['l1', 'x']", PERR_NONE, "true", NULL },
	{ "list.contains", "['l1', 'y']", PERR_NONE, "false", NULL },
	{ "list.remove", "['l1', 'x']", PERR_NONE, "nil", NULL },
	{ "list.remove", "['l1', 'x']", PERR_NOTFOUND, NULL, NULL },
	/* An implicit list goes when it is empty again, by any verb. */
	{ "list.pop", "['l1']", PERR_NONE, "1", NULL },
	{ "list.pop", "['l1', 0]", PERR_NONE, "'n'", NULL },
	{ "list.pop", "['l1', -1]", PERR_NONE, "'two'", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	{ "list.append", "['l1', 1]", PERR_NONE, "nil", NULL },
	{ "list.delete", "['l1', 0]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	{ "list.insert", "['l1', 5, 1]", PERR_NONE, "nil", NULL },
	{ "list.remove", "['l1', 1.0]", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
	{ "list.extend", "['l1', [1, 2]]", PERR_NONE, "nil", NULL },
	{ "list.clear", "['l1']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l1']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_list_basic)
{
	RUN(list_basic);
}
END_TEST

static const struct row list_pop_insert[] = {
	{ "list.extend", "['l2', [0, 1, 2, 3, 4]]", PERR_NONE, "nil", NULL },
	{ "list.pop", "['l2', 5]", PERR_NOINDEX, NULL, "pop index out of range" },
	{ "list.pop", "['l2', -6]", PERR_NOINDEX, NULL,
	  "pop index out of range" },
	{ "list.pop", "['l2', 9223372036854775807]", PERR_NOINDEX, NULL, NULL },
	{ "list.pop", "['l2', 1]", PERR_NONE, "1", NULL },
	{ "list.pop", "['l2', -2]", PERR_NONE, "3", NULL },
	{ "list.pop", "['l2']", PERR_NONE, "4", NULL },
	{ "list.copy", "['l2']", PERR_NONE, "[0, 2]", NULL },
	{ "list.clear", "['l2']", PERR_NONE, "nil", NULL },
	/* insert clamps like Python: l = [0, 1, 2]; l.insert(-1, 'a')... */
	{ "list.extend", "['l2', [0, 1, 2]]", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', -1, 'a']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', -100, 'b']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', 100, 'c']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', -9223372036854775808, 'e']", PERR_NONE, "nil",
	  NULL },
	{ "list.insert", "['l2', 9223372036854775807, 'd']", PERR_NONE, "nil",
	  NULL },
	{ "list.copy", "['l2']", PERR_NONE,
	  "['e', 'b', 0, 1, 'a', 2, 'c', 'd']", NULL },
	/* Past int64 saturates (Python raises OverflowError). */
	{ "list.insert", "['l2', 18446744073709551615, 'f']", PERR_NONE, "nil",
	  NULL },
	{ "list.insert", "['l2', 0, 'g']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', 2, 'h']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', -2, 'i']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l2']", PERR_NONE,
	  "['g', 'e', 'h', 'b', 0, 1, 'a', 2, 'c', 'i', 'd', 'f']", NULL },
	{ "list.len", "['l2']", PERR_NONE, "12", NULL },
	/* After pops from the front, inserts near it reuse the room there. */
	{ "list.pop", "['l2', 0]", PERR_NONE, "'g'", NULL },
	{ "list.pop", "['l2', 0]", PERR_NONE, "'e'", NULL },
	{ "list.insert", "['l2', 1, 'j']", PERR_NONE, "nil", NULL },
	{ "list.insert", "['l2', 0, 'k']", PERR_NONE, "nil", NULL },
	{ "list.delete", "['l2', 2]", PERR_NONE, "nil", NULL },
	{ "list.delete", "['l2', 8]", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l2']", PERR_NONE,
	  "['k', 'h', 'b', 0, 1, 'a', 2, 'c', 'd', 'f']", NULL },
};

START_TEST(test_list_pop_insert)
{
	RUN(list_pop_insert);
}
END_TEST

/* --- list: equality ---------------------------------------------------- */

static const struct row list_equality[] = {
	{ "list.extend", "['l3', [1, 2.0, 'a', [1], -1, 0.0, "
	  "9007199254740993, 18446744073709551615, -9223372036854775808, "
	  "h'cb7ff8000000000000', 1, 2]]", PERR_NONE, "nil", NULL },
	/* Numbers compare as Python's ==: 1 == 1.0, exactly. */
	{ "list.index", "['l3', 1.0]", PERR_NONE, "0", NULL },
	{ "list.index", "['l3', 2]", PERR_NONE, "1", NULL },
	{ "list.index", "['l3', h'cd0002']", PERR_NONE, "1", NULL },
	{ "list.index", "['l3', f32:2.0]", PERR_NONE, "1", NULL },
	{ "list.index", "['l3', -1.0]", PERR_NONE, "4", NULL },
	{ "list.index", "['l3', -0.0]", PERR_NONE, "5", NULL },
	{ "list.index", "['l3', 0]", PERR_NONE, "5", NULL },
	{ "list.contains", "['l3', 9007199254740992.0]", PERR_NONE, "false",
	  NULL },
	{ "list.contains", "['l3', 9007199254740992]", PERR_NONE, "false",
	  NULL },
	{ "list.contains", "['l3', 9007199254740993]", PERR_NONE, "true", NULL },
	{ "list.contains", "['l3', 18446744073709551615.0]", PERR_NONE,
	  "false", NULL },
	{ "list.index", "['l3', -9223372036854775808.0]", PERR_NONE, "8",
	  NULL },
	{ "list.contains", "['l3', 1.5]", PERR_NONE, "false", NULL },
	/* NaN equals nothing, itself included. */
	{ "list.contains", "['l3', h'cb7ff8000000000000']", PERR_NONE, "false",
	  NULL },
	{ "list.count", "['l3', h'cb7ff8000000000000']", PERR_NONE, "0", NULL },
	/* Everything else compares by canonical bytes, also inside arrays. */
	{ "list.contains", "['l3', [1]]", PERR_NONE, "true", NULL },
	{ "list.contains", "['l3', [h'cd0001']]", PERR_NONE, "true", NULL },
	{ "list.contains", "['l3', [1.0]]", PERR_NONE, "false", NULL },
	{ "list.contains", "['l3', b'a']", PERR_NONE, "false", NULL },
	{ "list.contains", "['l3', true]", PERR_NONE, "false", NULL },
	{ "list.count", "['l3', 1]", PERR_NONE, "2", NULL },
	{ "list.count", "['l3', 1.0]", PERR_NONE, "2", NULL },
	{ "list.count", "['l3', 'a']", PERR_NONE, "1", NULL },
	/* index's start and stop, as Python's list.index clamps them. */
	{ "list.index", "['l3', 1, 1]", PERR_NONE, "10", NULL },
	{ "list.index", "['l3', 1, -2]", PERR_NONE, "10", NULL },
	{ "list.index", "['l3', 1, -100, 100]", PERR_NONE, "0", NULL },
	{ "list.index", "['l3', 2, 2, 11]", PERR_NOTFOUND, NULL, NULL },
	{ "list.index", "['l3', 2, 2, 12]", PERR_NONE, "11", NULL },
	{ "list.index", "['l3', 2, 2, -1]", PERR_NOTFOUND, NULL, NULL },
	{ "list.index", "['l3', 1, 12]", PERR_NOTFOUND, NULL, NULL },
	{ "list.index", "['l3', 1, 18446744073709551615]", PERR_NOTFOUND, NULL,
	  NULL },
	{ "list.index", "['l3', 'a', -9223372036854775808, 3]", PERR_NONE, "2",
	  NULL },
	{ "list.index", "['l3', 1, 5, 2]", PERR_NOTFOUND, NULL, NULL },
	{ "list.index", "['l3', 1, nil]", PERR_BADARG, NULL,
	  "start must be an int" },
	{ "list.index", "['l3', 1, 0, 1.5]", PERR_BADARG, NULL,
	  "stop must be an int" },
	/* remove takes the first equal one. */
	{ "list.remove", "['l3', 1.0]", PERR_NONE, "nil", NULL },
	{ "list.index", "['l3', 1]", PERR_NONE, "9", NULL },
	{ "list.remove", "['l3', [1]]", PERR_NONE, "nil", NULL },
	{ "list.remove", "['l3', h'cb7ff8000000000000']", PERR_NOTFOUND, NULL,
	  NULL },
	{ "list.len", "['l3']", PERR_NONE, "10", NULL },
};

START_TEST(test_list_equality)
{
	RUN(list_equality);
}
END_TEST

/* --- list: sort -------------------------------------------------------- */

static const struct row list_sort[] = {
	/* Numbers numerically; equal ones (1 and 1.0) keep their order. */
	{ "list.extend", "['l4', [3, 1.5, -2, 2.5, 1, 1.0, 0, -0.5]]",
	  PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE,
	  "[-2, -0.5, 0, 1, 1.0, 1.5, 2.5, 3]", NULL },
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [1.0, 1, 1.0]]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE, "[1.0, 1, 1.0]", NULL },
	{ "list.sort", "['l4', true]", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE, "[1.0, 1, 1.0]", NULL },
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [2, 1.0, 2.0, 1, 0, 1.0, 2, 0.0, 1]]",
	  PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4', false]", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE,
	  "[0, 0.0, 1.0, 1, 1.0, 1, 2, 2.0, 2]", NULL },
	/* reverse=True is stable too: sorted(x, reverse=True). */
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [2, 1.0, 2.0, 1, 0, 1.0, 2, 0.0, 1]]",
	  PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4', true]", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE,
	  "[2, 2.0, 2, 1.0, 1, 1.0, 1, 0, 0.0]", NULL },
	/* Ints and floats exactly, past 2**53 and at the int64 edges. */
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [18446744073709551615, -9223372036854775808, "
	  "1e300, -1e300, 9007199254740993, 9007199254740992.0, "
	  "-9223372036854775809.0]]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE, "[-1e300, -9223372036854775808, "
	  "-9223372036854775809.0, 9007199254740992.0, 9007199254740993, "
	  "18446744073709551615, 1e300]", NULL },
	/* strs by bytes, which is code point order; bins by bytes. */
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', ['b', 'a', 'B', '\xc3\xa9', 'ab', '']]",
	  PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE,
	  "['', 'B', 'a', 'ab', 'b', '\xc3\xa9']", NULL },
	{ "list.sort", "['l4', true]", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE,
	  "['\xc3\xa9', 'b', 'ab', 'a', 'B', '']", NULL },
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [b'b', b'a', b'ab', b'']]", PERR_NONE, "nil",
	  NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.copy", "['l4']", PERR_NONE, "[b'', b'a', b'ab', b'b']", NULL },
	/* A mix, or a kind without an order: BADTYPE, the list unchanged. */
	{ "list.append", "['l4', 'a']", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "cannot order bin and str" },
	{ "list.copy", "['l4']", PERR_NONE, "[b'', b'a', b'ab', b'b', 'a']",
	  NULL },
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.extend", "['l4', [3, 2, 1, 'a', 0]]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "cannot order int and str" },
	{ "list.sort", "['l4', true]", PERR_BADTYPE, NULL, NULL },
	{ "list.copy", "['l4']", PERR_NONE, "[3, 2, 1, 'a', 0]", NULL },
	{ "list.set", "['l4', 3, nil]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "cannot order nil values" },
	{ "list.set", "['l4', 3, true]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "bool" },
	{ "list.set", "['l4', 3, [1]]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "array" },
	{ "list.set", "['l4', 3, {}]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "map" },
	{ "list.set", "['l4', 3, x1'e']", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, "ext" },
	{ "list.copy", "['l4']", PERR_NONE, "[3, 2, 1, x1'e', 0]", NULL },
	/* Python compares nothing in a list of one: any kind sorts. */
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.append", "['l4', nil]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_NONE, "nil", NULL },
	{ "list.append", "['l4', nil]", PERR_NONE, "nil", NULL },
	{ "list.sort", "['l4']", PERR_BADTYPE, NULL, NULL },
	{ "list.sort", "['l4', 1]", PERR_BADARG, NULL, "reverse must be a bool" },
	{ "list.sort", "['l4', nil]", PERR_BADARG, NULL, NULL },
	{ "list.clear", "['l4']", PERR_NONE, "nil", NULL },
};

START_TEST(test_list_sort)
{
	RUN(list_sort);
}
END_TEST

/* A stable insertion sort of (key, tag) by key: the reference. */
struct pair {
	int key;   /* half-units: 2 is 1, 3 is 1.5 */
	bool flt;  /* sent as a float */
};

static void
ref_sort(struct pair *p, size_t n, bool desc)
{
	size_t i, j;
	struct pair t;

	for (i = 1; i < n; i++) {
		t = p[i];
		for (j = i; j > 0 && (desc ? p[j - 1].key < t.key :
		    p[j - 1].key > t.key); j--)
			p[j] = p[j - 1];
		p[j] = t;
	}
}

static void
pack_pair(msgpack_packer *pk, const struct pair *p)
{
	if (p->flt)
		msgpack_pack_double(pk, p->key / 2.0);
	else
		msgpack_pack_int64(pk, p->key / 2);
}

/*
 * Many equal keys in two spellings (3 and 3.0), in random order: the
 * sorted list must be the stable reference's, element for element.
 */
START_TEST(test_list_sort_random)
{
	enum { N = 777 };
	static struct pair p[N];
	msgpack_packer pk;
	struct mpv_iter it;
	struct mpv v;
	bool desc = _i == 1;
	size_t i;

	srand(42 + (unsigned)_i);
	begin_request(&pk, "list.extend");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, "l5");
	msgpack_pack_array(&pk, N);
	for (i = 0; i < N; i++) {
		p[i].flt = rand() % 2;
		/* Floats may be halves; ints are whole. */
		p[i].key = rand() % 40 - 20;
		if (!p[i].flt)
			p[i].key &= ~1;
		pack_pair(&pk, &p[i]);
	}
	send_packed();
	ck_assert_int_eq(reply_err, PERR_NONE);
	send_req("list.sort", desc ? "['l5', true]" : "['l5']");
	ck_assert_int_eq(reply_err, PERR_NONE);
	ref_sort(p, N, desc);
	send_req("list.copy", "['l5']");
	ck_assert_int_eq(reply.result.type, MPV_ARRAY);
	ck_assert_uint_eq(reply.result.len, N);
	mpv_iter_init(&it, &reply.result);
	for (i = 0; mpv_iter_next(&it, &v); i++) {
		double d;

		ck_assert_msg((v.type == MPV_FLOAT) == p[i].flt,
		    "element %zu: int and float out of order", i);
		ck_assert(mpv_to_double(&v, &d));
		ck_assert_double_eq(d, p[i].key / 2.0);
	}
	OK("list.clear", "['l5']", "nil");
}
END_TEST

/* --- list: slices ------------------------------------------------------ */

/* Bounds and steps tried, nil included; step nil and 1 agree. */
static const char *const slice_bounds[] = {
	"nil", "0", "2", "-2", "7", "-8", "12", "-1"
};
static const char *const slice_steps[] = {
	"nil", "1", "2", "3", "-1", "-2", "-3", "10", "-10"
};

/*
 * list(range(7))[start:stop:step] for step in slice_steps, start and stop
 * in slice_bounds (in loop order), from /usr/bin/python3.
 */
static const char *const slice_expect[] = {
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]", "[0, 1, 2, 3, 4]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1, 2, 3, 4, 5, 6]",
	"[0, 1, 2, 3, 4, 5]", "[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]",
	"[0, 1, 2, 3, 4]", "[0, 1, 2, 3, 4, 5, 6]", "[]",
	"[0, 1, 2, 3, 4, 5, 6]", "[0, 1, 2, 3, 4, 5]", "[2, 3, 4, 5, 6]",
	"[]", "[]", "[2, 3, 4]", "[2, 3, 4, 5, 6]", "[]", "[2, 3, 4, 5, 6]",
	"[2, 3, 4, 5]", "[5, 6]", "[]", "[]", "[]", "[5, 6]", "[]", "[5, 6]",
	"[5]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]", "[0, 1, 2, 3, 4]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1, 2, 3, 4, 5, 6]",
	"[0, 1, 2, 3, 4, 5]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[6]", "[]", "[]", "[]", "[6]", "[]", "[6]", "[]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]", "[0, 1, 2, 3, 4]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1, 2, 3, 4, 5, 6]",
	"[0, 1, 2, 3, 4, 5]", "[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]",
	"[0, 1, 2, 3, 4]", "[0, 1, 2, 3, 4, 5, 6]", "[]",
	"[0, 1, 2, 3, 4, 5, 6]", "[0, 1, 2, 3, 4, 5]", "[2, 3, 4, 5, 6]",
	"[]", "[]", "[2, 3, 4]", "[2, 3, 4, 5, 6]", "[]", "[2, 3, 4, 5, 6]",
	"[2, 3, 4, 5]", "[5, 6]", "[]", "[]", "[]", "[5, 6]", "[]", "[5, 6]",
	"[5]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1]", "[0, 1, 2, 3, 4]",
	"[0, 1, 2, 3, 4, 5, 6]", "[]", "[0, 1, 2, 3, 4, 5, 6]",
	"[0, 1, 2, 3, 4, 5]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[6]", "[]", "[]", "[]", "[6]", "[]", "[6]", "[]", "[0, 2, 4, 6]",
	"[]", "[0]", "[0, 2, 4]", "[0, 2, 4, 6]", "[]", "[0, 2, 4, 6]",
	"[0, 2, 4]", "[0, 2, 4, 6]", "[]", "[0]", "[0, 2, 4]",
	"[0, 2, 4, 6]", "[]", "[0, 2, 4, 6]", "[0, 2, 4]", "[2, 4, 6]", "[]",
	"[]", "[2, 4]", "[2, 4, 6]", "[]", "[2, 4, 6]", "[2, 4]", "[5]",
	"[]", "[]", "[]", "[5]", "[]", "[5]", "[5]", "[]", "[]", "[]", "[]",
	"[]", "[]", "[]", "[]", "[0, 2, 4, 6]", "[]", "[0]", "[0, 2, 4]",
	"[0, 2, 4, 6]", "[]", "[0, 2, 4, 6]", "[0, 2, 4]", "[]", "[]", "[]",
	"[]", "[]", "[]", "[]", "[]", "[6]", "[]", "[]", "[]", "[6]", "[]",
	"[6]", "[]", "[0, 3, 6]", "[]", "[0]", "[0, 3]", "[0, 3, 6]", "[]",
	"[0, 3, 6]", "[0, 3]", "[0, 3, 6]", "[]", "[0]", "[0, 3]",
	"[0, 3, 6]", "[]", "[0, 3, 6]", "[0, 3]", "[2, 5]", "[]", "[]",
	"[2]", "[2, 5]", "[]", "[2, 5]", "[2, 5]", "[5]", "[]", "[]", "[]",
	"[5]", "[]", "[5]", "[5]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[0, 3, 6]", "[]", "[0]", "[0, 3]", "[0, 3, 6]", "[]",
	"[0, 3, 6]", "[0, 3]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[6]", "[]", "[]", "[]", "[6]", "[]", "[6]", "[]",
	"[6, 5, 4, 3, 2, 1, 0]", "[6, 5, 4, 3, 2, 1]", "[6, 5, 4, 3]", "[6]",
	"[]", "[6, 5, 4, 3, 2, 1, 0]", "[]", "[]", "[0]", "[]", "[]", "[]",
	"[]", "[0]", "[]", "[]", "[2, 1, 0]", "[2, 1]", "[]", "[]", "[]",
	"[2, 1, 0]", "[]", "[]", "[5, 4, 3, 2, 1, 0]", "[5, 4, 3, 2, 1]",
	"[5, 4, 3]", "[]", "[]", "[5, 4, 3, 2, 1, 0]", "[]", "[]",
	"[6, 5, 4, 3, 2, 1, 0]", "[6, 5, 4, 3, 2, 1]", "[6, 5, 4, 3]", "[6]",
	"[]", "[6, 5, 4, 3, 2, 1, 0]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[]", "[]", "[]", "[6, 5, 4, 3, 2, 1, 0]",
	"[6, 5, 4, 3, 2, 1]", "[6, 5, 4, 3]", "[6]", "[]",
	"[6, 5, 4, 3, 2, 1, 0]", "[]", "[]", "[6, 5, 4, 3, 2, 1, 0]",
	"[6, 5, 4, 3, 2, 1]", "[6, 5, 4, 3]", "[6]", "[]",
	"[6, 5, 4, 3, 2, 1, 0]", "[]", "[]", "[6, 4, 2, 0]", "[6, 4, 2]",
	"[6, 4]", "[6]", "[]", "[6, 4, 2, 0]", "[]", "[]", "[0]", "[]", "[]",
	"[]", "[]", "[0]", "[]", "[]", "[2, 0]", "[2]", "[]", "[]", "[]",
	"[2, 0]", "[]", "[]", "[5, 3, 1]", "[5, 3, 1]", "[5, 3]", "[]", "[]",
	"[5, 3, 1]", "[]", "[]", "[6, 4, 2, 0]", "[6, 4, 2]", "[6, 4]",
	"[6]", "[]", "[6, 4, 2, 0]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[]", "[]", "[]", "[6, 4, 2, 0]", "[6, 4, 2]", "[6, 4]", "[6]",
	"[]", "[6, 4, 2, 0]", "[]", "[]", "[6, 4, 2, 0]", "[6, 4, 2]",
	"[6, 4]", "[6]", "[]", "[6, 4, 2, 0]", "[]", "[]", "[6, 3, 0]",
	"[6, 3]", "[6, 3]", "[6]", "[]", "[6, 3, 0]", "[]", "[]", "[0]",
	"[]", "[]", "[]", "[]", "[0]", "[]", "[]", "[2]", "[2]", "[]", "[]",
	"[]", "[2]", "[]", "[]", "[5, 2]", "[5, 2]", "[5]", "[]", "[]",
	"[5, 2]", "[]", "[]", "[6, 3, 0]", "[6, 3]", "[6, 3]", "[6]", "[]",
	"[6, 3, 0]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[6, 3, 0]", "[6, 3]", "[6, 3]", "[6]", "[]", "[6, 3, 0]",
	"[]", "[]", "[6, 3, 0]", "[6, 3]", "[6, 3]", "[6]", "[]",
	"[6, 3, 0]", "[]", "[]", "[0]", "[]", "[0]", "[0]", "[0]", "[]",
	"[0]", "[0]", "[0]", "[]", "[0]", "[0]", "[0]", "[]", "[0]", "[0]",
	"[2]", "[]", "[]", "[2]", "[2]", "[]", "[2]", "[2]", "[5]", "[]",
	"[]", "[]", "[5]", "[]", "[5]", "[5]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[]", "[]", "[0]", "[]", "[0]", "[0]", "[0]", "[]", "[0]",
	"[0]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[6]", "[]",
	"[]", "[]", "[6]", "[]", "[6]", "[]", "[6]", "[6]", "[6]", "[6]",
	"[]", "[6]", "[]", "[]", "[0]", "[]", "[]", "[]", "[]", "[0]", "[]",
	"[]", "[2]", "[2]", "[]", "[]", "[]", "[2]", "[]", "[]", "[5]",
	"[5]", "[5]", "[]", "[]", "[5]", "[]", "[]", "[6]", "[6]", "[6]",
	"[6]", "[]", "[6]", "[]", "[]", "[]", "[]", "[]", "[]", "[]", "[]",
	"[]", "[]", "[6]", "[6]", "[6]", "[6]", "[]", "[6]", "[]", "[]",
	"[6]", "[6]", "[6]", "[6]", "[]", "[6]", "[]", "[]",
};

START_TEST(test_list_slice)
{
	char params[128];
	size_t a, b, s, k = 0;
	const size_t nb = sizeof slice_bounds / sizeof slice_bounds[0];
	const size_t ns = sizeof slice_steps / sizeof slice_steps[0];

	ck_assert_uint_eq(nb * nb * ns,
	    sizeof slice_expect / sizeof slice_expect[0]);
	OK("list.extend", "['l6', [0, 1, 2, 3, 4, 5, 6]]", "nil");
	for (s = 0; s < ns; s++)
		for (a = 0; a < nb; a++)
			for (b = 0; b < nb; b++, k++) {
				snprintf(params, sizeof params, "['l6', %s, %s, %s]",
				    slice_bounds[a], slice_bounds[b],
				    slice_steps[s]);
				expect(__LINE__, &(struct row){ "list.slice",
				    params, PERR_NONE, slice_expect[k], NULL });
			}
}
END_TEST

static const struct row list_slice_edges[] = {
	{ "list.extend", "['l7', [0, 1, 2, 3, 4, 5, 6]]", PERR_NONE, "nil",
	  NULL },
	{ "list.slice", "['l7', 1, 3]", PERR_NONE, "[1, 2]", NULL },
	{ "list.slice", "['l7', nil, nil, 0]", PERR_BADARG, NULL,
	  "slice step cannot be zero" },
	{ "list.slice", "['l7', 'a', nil]", PERR_BADARG, NULL,
	  "start must be an int" },
	{ "list.slice", "['l7', nil, 1.0]", PERR_BADARG, NULL,
	  "stop must be an int" },
	{ "list.slice", "['l7', nil, nil, true]", PERR_BADARG, NULL,
	  "step must be an int" },
	/* Huge bounds and steps clamp as Python's slices do. */
	{ "list.slice", "['l7', -9223372036854775808, 18446744073709551615, "
	  "-9223372036854775808]", PERR_NONE, "[]", NULL },
	{ "list.slice", "['l7', 18446744073709551615, -9223372036854775808, "
	  "-9223372036854775807]", PERR_NONE, "[6]", NULL },
	{ "list.slice", "['l7', -9223372036854775808, 18446744073709551615, "
	  "18446744073709551615]", PERR_NONE, "[0]", NULL },
	{ "list.slice", "['l7', nil, nil, -9223372036854775808]", PERR_NONE,
	  "[6]", NULL },
	{ "list.slice", "['l7', 3, nil, 9223372036854775807]", PERR_NONE,
	  "[3]", NULL },
	{ "list.slice", "['l7', 6, 0, -9223372036854775807]", PERR_NONE,
	  "[6]", NULL },
	{ "list.slice", "['l7', nil, nil, -1]", PERR_NONE,
	  "[6, 5, 4, 3, 2, 1, 0]", NULL },
	{ "list.clear", "['l7']", PERR_NONE, "nil", NULL },
};

START_TEST(test_list_slice_edges)
{
	RUN(list_slice_edges);
}
END_TEST

/* --- list: params, types, explicit lists ------------------------------- */

static const struct row list_args[] = {
	{ "list.get", "['l8', 'a']", PERR_BADARG, NULL,
	  "the index must be an int, not str" },
	{ "list.get", "['l8', 1.0]", PERR_BADARG, NULL, NULL },
	{ "list.get", "['l8', true]", PERR_BADARG, NULL, NULL },
	{ "list.get", "['l8', nil]", PERR_BADARG, NULL, NULL },
	{ "list.pop", "['l8', 'a']", PERR_BADARG, NULL, NULL },
	{ "list.insert", "['l8', 'a', 1]", PERR_BADARG, NULL, NULL },
	{ "obj.info", "['l8']", PERR_NOOBJ, NULL, NULL },
	{ "list.extend", "['l8', {'a': 1}]", PERR_BADTYPE, NULL,
	  "list.extend takes an array, not map" },
	{ "list.extend", "['l8', 'ab']", PERR_BADTYPE, NULL, NULL },
	{ "obj.info", "['l8']", PERR_NOOBJ, NULL, NULL },
	{ "list.append", "['l8']", PERR_BADARG, NULL, NULL },
	{ "list.slice", "['l8', 1]", PERR_BADARG, NULL, NULL },
	{ "list.index", "['l8', 1, 2, 3, 4]", PERR_BADARG, NULL, NULL },
	{ "list.set", "['l8.d', 0, 1]", PERR_NOINDEX, NULL, NULL },
	{ "dict.set", "['l8.d', 0, 1]", PERR_NONE, "nil", NULL },
	{ "list.len", "['l8.d']", PERR_WRONGTYPE, NULL,
	  "'l8.d' is a dict, not a list" },
	{ "list.append", "['l8.d', 1]", PERR_WRONGTYPE, NULL, NULL },
	{ "dict.get", "['l8', 0]", PERR_NOKEY, NULL, NULL },
	/* An explicit list stays when empty; create is idempotent. */
	{ "list.create", "['l8']", PERR_NONE, "nil", NULL },
	{ "list.create", "['l8', {}]", PERR_NONE, "nil", NULL },
	{ "list.create", "['l8', nil]", PERR_NONE, "nil", NULL },
	{ "list.create", "['l8', {'maxsize': 1}]", PERR_BADARG, NULL,
	  "list has no options" },
	{ "list.create", "['l8', [1]]", PERR_BADARG, NULL, NULL },
	{ "list.append", "['l8', 1]", PERR_NONE, "nil", NULL },
	{ "list.pop", "['l8']", PERR_NONE, "1", NULL },
	{ "list.len", "['l8']", PERR_NONE, "0", NULL },
	{ "list.pop", "['l8']", PERR_NOINDEX, NULL, "pop from empty list" },
	{ "obj.info", "['l8']", PERR_NONE, NULL, NULL },
	{ "dict.set", "['l8', 0, 1]", PERR_WRONGTYPE, NULL, NULL },
	/* An implicit list becomes explicit by create. */
	{ "list.append", "['l8.i', 1]", PERR_NONE, "nil", NULL },
	{ "list.create", "['l8.i']", PERR_NONE, "nil", NULL },
	{ "list.clear", "['l8.i']", PERR_NONE, "nil", NULL },
	{ "list.len", "['l8.i']", PERR_NONE, "0", NULL },
	{ "obj.info", "['l8.i']", PERR_NONE, NULL, NULL },
	{ "obj.delete", "['l8.i']", PERR_NONE, "nil", NULL },
	{ "obj.delete", "['l8']", PERR_NONE, "nil", NULL },
	{ "obj.info", "['l8']", PERR_NOOBJ, NULL, NULL },
};

START_TEST(test_list_args)
{
	RUN(list_args);
}
END_TEST

START_TEST(test_list_info)
{
	struct mpv v;
	uint64_t m1, m2;

	OK("list.extend", "['l9', [1, 'two', [3]]]", "nil");
	info_field("l9", "size", &v);
	ck_assert_uint_eq(v.v.u, 3);
	info_field("l9", "type", &v);
	ck_assert(mpv_str_eq(&v, "list"));
	info_field("l9", "options", &v);
	ck_assert_int_eq(v.type, MPV_MAP);
	ck_assert_uint_eq(v.len, 0);
	info_field("l9", "memory", &v);
	m1 = v.v.u;
	OK("list.append", "['l9', 'x'*1000]", "nil");
	info_field("l9", "memory", &v);
	m2 = v.v.u;
	ck_assert_uint_ge(m2, m1 + 1000);
	OK("list.pop", "['l9']", "'x'*1000");
	info_field("l9", "memory", &v);
	ck_assert_uint_eq(v.v.u, m1);
	OK("obj.list", "['list']", NULL);
	OK("list.clear", "['l9']", "nil");
}
END_TEST

/* Append n ints from base through one list.extend. */
static void
fill_list(const char *name, size_t n, int64_t base)
{
	msgpack_packer pk;
	size_t i;

	begin_request(&pk, "list.extend");
	msgpack_pack_array(&pk, 2);
	msg_pack_cstr(&pk, name);
	msgpack_pack_array(&pk, n);
	for (i = 0; i < n; i++)
		msgpack_pack_int64(&pk, base + (int64_t)i);
	send_packed();
	ck_assert_int_eq(reply_err, PERR_NONE);
}

/*
 * Used as a queue (append at the end, pop(0)) a list does not grow: the
 * room freed at the front is reused. Emptied, it gives its vector back.
 */
START_TEST(test_list_queue_use)
{
	struct mpv v;
	uint64_t steady;
	int i;

	fill_list("l10", 100, 0);
	info_field("l10", "memory", &v);
	steady = v.v.u;
	for (i = 0; i < 20000; i++) {
		OK("list.append", "['l10', 7]", "nil");
		send_req("list.pop", "['l10', 0]");
		ck_assert_int_eq(reply_err, PERR_NONE);
	}
	OK("list.len", "['l10']", "100");
	OK("list.get", "['l10', 0]", "7");
	OK("list.get", "['l10', -1]", "7");
	info_field("l10", "memory", &v);
	ck_assert_uint_le(v.v.u, steady * 2);
	/* Grown large and popped down, the vector shrinks. */
	fill_list("l10", 20000, 0);
	info_field("l10", "memory", &v);
	steady = v.v.u;
	for (i = 0; i < 20090; i++) {
		send_req("list.pop", (i & 1) ? "['l10']" : "['l10', 0]");
		ck_assert_int_eq(reply_err, PERR_NONE);
	}
	OK("list.len", "['l10']", "10");
	info_field("l10", "memory", &v);
	ck_assert_uint_lt(v.v.u, steady / 100);
	OK("list.clear", "['l10']", "nil");
}
END_TEST

/* A large list is freed in slices, by clear and by obj.delete. */
START_TEST(test_list_free_big)
{
	enum { BIG = 10 * REGISTRY_FREE_SLICE };
	size_t m0, m1;
	int steps;

	ck_assert(registry_free_step(REGISTRY_FREE_SLICE));
	/* Warm the request buffers up so that they do not count. */
	fill_list("l11", BIG, 0);
	OK("list.clear", "['l11']", "nil");
	while (!registry_free_step(REGISTRY_FREE_SLICE))
		;
	m0 = mem_used();
	OK("list.create", "['l11']", "nil");
	fill_list("l11", BIG, 0);
	m1 = mem_used();
	ck_assert_uint_gt(m1, m0 + BIG * 16);
	OK("list.clear", "['l11']", "nil");
	OK("list.len", "['l11']", "0");
	/* Still held: freed by the slices to come. */
	ck_assert_uint_gt(mem_used(), m0 + (m1 - m0) / 2);
	for (steps = 1; !registry_free_step(REGISTRY_FREE_SLICE); steps++)
		;
	ck_assert_int_ge(steps, BIG / REGISTRY_FREE_SLICE - 1);
	fill_list("l11", BIG, 0);
	OK("obj.delete", "['l11']", "nil");
	OK("list.len", "['l11']", "0");
	for (steps = 1; !registry_free_step(REGISTRY_FREE_SLICE); steps++)
		;
	ck_assert_int_ge(steps, BIG / REGISTRY_FREE_SLICE - 1);
	ck_assert_uint_le(mem_used(), m0 + 4096);
}
END_TEST

static Suite *
list_suite(void)
{
	Suite *s = suite_create("list");
	TCase *tc;

	tc = tcase_create("list");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tables);
	tcase_add_test(tc, test_list_basic);
	tcase_add_test(tc, test_list_pop_insert);
	tcase_add_test(tc, test_list_equality);
	tcase_add_test(tc, test_list_sort);
	tcase_add_loop_test(tc, test_list_sort_random, 0, 2);
	tcase_add_test(tc, test_list_slice);
	tcase_add_test(tc, test_list_slice_edges);
	tcase_add_test(tc, test_list_args);
	tcase_add_test(tc, test_list_info);
	tcase_add_test(tc, test_list_queue_use);
	tcase_add_test(tc, test_list_free_big);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(list_suite());
}
