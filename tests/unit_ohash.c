/*
 * unit_ohash.c: the ordered hash (daemon/ohash.c) against a reference
 * model, through its rehashes, scans and incremental frees; and the two
 * modules it stands on, the allocator accounting (daemon/mem.c) and the
 * logger (daemon/log.c).
 *
 * Every test that builds a table also checks that ohash_mem() is exactly
 * what went through the allocator and that mem_used() is back where it
 * started once the table is freed.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../daemon/log.h"
#include "../daemon/mem.h"
#include "../daemon/ohash.h"
#include "../proto/buf.h"
#include "unit_util.h"

/* --- helpers ---------------------------------------------------------- */

/* splitmix64: a fixed seed makes every run the same run. */
static uint64_t rng_state;

static void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
keyf(char *buf, size_t size, const char *prefix, uint32_t n)
{
	return (size_t)snprintf(buf, size, "%s:%u", prefix, n);
}

/* A value whose bytes and length depend on (key, version). */
static size_t
valf(uint8_t *buf, uint32_t k, uint32_t ver)
{
	size_t len = 1 + (k * 7 + ver * 13) % 29, i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(k + ver + i);
	return len;
}

static bool
entry_is(const struct oh_entry *e, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	return e != NULL && e->klen == klen && e->vlen == vlen &&
	    memcmp(oh_key(e), key, klen) == 0 &&
	    memcmp(e->data + e->klen, val, vlen) == 0;
}

static struct oh_entry *
get_str(struct ohash *h, const char *k)
{
	return ohash_get(h, k, strlen(k));
}

static struct oh_entry *
set_str(struct ohash *h, const char *k, const char *v, bool *added)
{
	return ohash_set(h, k, strlen(k), v, strlen(v), added);
}

/* Everything h holds went through the allocator, and nothing else did. */
static void
check_mem(const struct ohash *h, size_t base)
{
	ck_assert_uint_eq(ohash_mem(h), mem_used() - base);
}

/* --- basics ----------------------------------------------------------- */

START_TEST(test_set_get_overwrite_delete)
{
	size_t base = mem_used();
	struct ohash *h = ohash_new();
	struct oh_entry *e, *e2;
	bool added = false;
	uint64_t seq;

	ck_assert_uint_eq(ohash_len(h), 0);
	ck_assert_ptr_null(get_str(h, "a"));
	e = set_str(h, "a", "one", &added);
	ck_assert(added);
	ck_assert(entry_is(e, "a", 1, "one", 3));
	ck_assert_uint_eq(ohash_len(h), 1);
	ck_assert_uint_ge(e->seq, 1);
	seq = e->seq;

	/* Same length: overwritten in place. */
	e2 = set_str(h, "a", "two", &added);
	ck_assert(!added);
	ck_assert_ptr_eq(e2, e);
	ck_assert(entry_is(get_str(h, "a"), "a", 1, "two", 3));

	/* Different lengths, both ways: the entry is reallocated. */
	e2 = set_str(h, "a", "a much longer value than before", &added);
	ck_assert(!added);
	ck_assert(entry_is(get_str(h, "a"), "a", 1,
	    "a much longer value than before", 31));
	e2 = set_str(h, "a", "", &added);
	ck_assert(entry_is(get_str(h, "a"), "a", 1, "", 0));
	/* A re-set keeps the key's place in the order. */
	ck_assert_uint_eq(e2->seq, seq);
	ck_assert_uint_eq(ohash_len(h), 1);
	check_mem(h, base);

	set_str(h, "b", "bee", &added);
	ck_assert(added);
	ck_assert_uint_eq(ohash_len(h), 2);
	ck_assert(ohash_del(h, "a", 1, NULL));
	ck_assert(!ohash_del(h, "a", 1, NULL));
	ck_assert_ptr_null(get_str(h, "a"));
	ck_assert(entry_is(get_str(h, "b"), "b", 1, "bee", 3));
	ck_assert_uint_eq(ohash_len(h), 1);
	check_mem(h, base);

	/* A re-set after a delete is a new key: it goes last. */
	set_str(h, "a", "again", &added);
	ck_assert(added);
	{
		size_t pos = 0;

		ck_assert(entry_is(ohash_next(h, &pos), "b", 1, "bee", 3));
		ck_assert(entry_is(ohash_next(h, &pos), "a", 1, "again", 5));
		ck_assert_ptr_null(ohash_next(h, &pos));
	}
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_del_hands_over)
{
	size_t base = mem_used();
	struct ohash *h = ohash_new();
	struct oh_entry *e = NULL;

	set_str(h, "k", "v", NULL);
	set_str(h, "j", "w", NULL);
	ck_assert(ohash_del(h, "k", 1, &e));
	ck_assert(entry_is(e, "k", 1, "v", 1));
	ck_assert_uint_eq(ohash_len(h), 1);
	/* The entry is the caller's now, no longer h's. */
	ck_assert_uint_eq(ohash_mem(h) + mem_usable(e), mem_used() - base);
	xfree(e);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_binary_keys)
{
	static const struct {
		const char *k;
		size_t klen;
	} keys[] = {
		{ "", 0 }, { "\0", 1 }, { "\0\0", 2 }, { "a", 1 },
		{ "a\0", 2 }, { "a\0b", 3 }, { "a\0c", 3 }, { "\0a", 2 },
	};
	size_t base = mem_used(), n = sizeof keys / sizeof keys[0], i;
	struct ohash *h = ohash_new();
	uint8_t val[4];
	bool added;

	for (i = 0; i < n; i++) {
		val[0] = 0;
		val[1] = (uint8_t)i;
		val[2] = 0;
		ohash_set(h, keys[i].k, keys[i].klen, val, 3, &added);
		ck_assert_msg(added, "key %zu collided with another", i);
	}
	ck_assert_uint_eq(ohash_len(h), n);
	for (i = 0; i < n; i++) {
		val[0] = 0;
		val[1] = (uint8_t)i;
		val[2] = 0;
		ck_assert_msg(entry_is(ohash_get(h, keys[i].k, keys[i].klen),
		    keys[i].k, keys[i].klen, val, 3), "key %zu", i);
	}
	ck_assert(ohash_del(h, "a\0b", 3, NULL));
	ck_assert_ptr_null(ohash_get(h, "a\0b", 3));
	ck_assert_ptr_nonnull(ohash_get(h, "a\0c", 3));
	ck_assert_ptr_nonnull(ohash_get(h, "a\0", 2));
	ck_assert(ohash_del(h, "", 0, NULL));
	ck_assert_ptr_null(ohash_get(h, "", 0));
	ck_assert_ptr_nonnull(ohash_get(h, "\0", 1));
	ck_assert_uint_eq(ohash_len(h), n - 2);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_keys_differ_in_last_byte)
{
	size_t base = mem_used(), i, lens[] = { 1, 8, 9, 48, 1000 }, l;
	struct ohash *h = ohash_new();
	uint8_t key[1000];
	uint16_t v;
	bool added;

	for (l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		memset(key, 'x', sizeof key);
		for (i = 0; i < 256; i++) {
			key[lens[l] - 1] = (uint8_t)i;
			v = (uint16_t)(l << 8 | i);
			ohash_set(h, key, lens[l], &v, sizeof v, &added);
			ck_assert_msg(added, "length %zu, last byte %zu",
			    lens[l], i);
		}
	}
	for (l = 0; l < sizeof lens / sizeof lens[0]; l++) {
		memset(key, 'x', sizeof key);
		for (i = 0; i < 256; i++) {
			struct oh_entry *e;

			key[lens[l] - 1] = (uint8_t)i;
			e = ohash_get(h, key, lens[l]);
			ck_assert_ptr_nonnull(e);
			ck_assert_uint_eq(e->klen, lens[l]);
			ck_assert_mem_eq(oh_key(e), key, lens[l]);
			memcpy(&v, e->data + e->klen, sizeof v);
			ck_assert_uint_eq(v, l << 8 | i);
		}
	}
	ck_assert_uint_eq(ohash_len(h), 5 * 256);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_pop_last_lifo)
{
	size_t base = mem_used();
	struct ohash *h = ohash_new();
	struct oh_entry *e;
	char k[32];
	size_t kl;
	int i, expect;

	ck_assert_ptr_null(ohash_pop_last(h));
	for (i = 0; i < 1000; i++) {
		kl = keyf(k, sizeof k, "k", (uint32_t)i);
		ohash_set(h, k, kl, &i, sizeof i, NULL);
	}
	/* Holes in the middle and at the end are skipped. */
	for (i = 0; i < 1000; i += 3) {
		kl = keyf(k, sizeof k, "k", (uint32_t)i);
		ck_assert(ohash_del(h, k, kl, NULL));
	}
	for (i = 999; i > 990; i--) {
		if (i % 3 == 0)
			continue;
		kl = keyf(k, sizeof k, "k", (uint32_t)i);
		ck_assert(ohash_del(h, k, kl, NULL));
	}
	/* Re-setting an old key keeps its place: it is not the newest. */
	kl = keyf(k, sizeof k, "k", 1);
	i = 1;
	ohash_set(h, k, kl, &i, sizeof i, NULL);
	for (expect = 990; expect >= 0; expect--) {
		if (expect % 3 == 0)
			continue;
		e = ohash_pop_last(h);
		ck_assert_ptr_nonnull(e);
		kl = keyf(k, sizeof k, "k", (uint32_t)expect);
		ck_assert_msg(e->klen == kl && memcmp(oh_key(e), k, kl) == 0,
		    "popped %.*s, expected %s", (int)e->klen, oh_key(e), k);
		xfree(e);
		/* A key added after a pop is the next one out. */
		if (expect == 500) {
			ohash_set(h, "new", 3, "x", 1, NULL);
			e = ohash_pop_last(h);
			ck_assert(entry_is(e, "new", 3, "x", 1));
			xfree(e);
		}
	}
	ck_assert_uint_eq(ohash_len(h), 0);
	ck_assert_ptr_null(ohash_pop_last(h));
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_clear_and_reuse)
{
	size_t base = mem_used(), pos = 0;
	struct ohash *h = ohash_new();
	char k[32];
	size_t kl;
	uint32_t i;

	for (i = 0; i < 5000; i++) {
		kl = keyf(k, sizeof k, "k", i);
		ohash_set(h, k, kl, &i, sizeof i, NULL);
	}
	ohash_clear(h);
	ck_assert_uint_eq(ohash_len(h), 0);
	ck_assert_ptr_null(ohash_next(h, &pos));
	ck_assert_ptr_null(ohash_get(h, "k:1", 3));
	ck_assert_uint_eq(ohash_scan(h, 0, 10, NULL, NULL), 0);
	check_mem(h, base);
	set_str(h, "z", "1", NULL);
	set_str(h, "y", "2", NULL);
	pos = 0;
	ck_assert(entry_is(ohash_next(h, &pos), "z", 1, "1", 1));
	ck_assert(entry_is(ohash_next(h, &pos), "y", 1, "2", 1));
	ck_assert_ptr_null(ohash_next(h, &pos));
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/* --- against a reference model ---------------------------------------- */

#define MODEL_KEYS 30000

/* Keys in insertion order (-1 for a deleted one) and each key's place. */
struct model {
	int32_t *order;
	size_t n;
	size_t live;
	int64_t pos[MODEL_KEYS];  /* -1: absent */
	uint32_t ver[MODEL_KEYS];
};

static void
model_compact(struct model *m)
{
	size_t i, j = 0;

	for (i = 0; i < m->n; i++) {
		if (m->order[i] >= 0) {
			m->pos[m->order[i]] = (int64_t)j;
			m->order[j++] = m->order[i];
		}
	}
	m->n = j;
}

static void
model_remove(struct model *m, uint32_t k)
{
	m->order[m->pos[k]] = -1;
	m->pos[k] = -1;
	m->live--;
	if (m->n > 2 * m->live + 1000)
		model_compact(m);
}

/* The table holds exactly the model's keys and values, in its order. */
static void
model_check_order(struct model *m, struct ohash *h)
{
	size_t i, pos = 0, kl, vl;
	struct oh_entry *e;
	char k[32];
	uint8_t v[64];

	for (i = 0; i < m->n; i++) {
		if (m->order[i] < 0)
			continue;
		e = ohash_next(h, &pos);
		kl = keyf(k, sizeof k, "key", (uint32_t)m->order[i]);
		vl = valf(v, (uint32_t)m->order[i], m->ver[m->order[i]]);
		ck_assert_msg(entry_is(e, k, kl, v, vl),
		    "order differs at %s", k);
	}
	ck_assert_ptr_null(ohash_next(h, &pos));
}

struct collect {
	char (*keys)[32];
	size_t n;
	size_t cap;
};

static void
collect_fn(void *arg, const struct oh_entry *e)
{
	struct collect *c = arg;

	ck_assert_uint_lt(c->n, c->cap);
	ck_assert_uint_lt(e->klen, 32);
	memcpy(c->keys[c->n], oh_key(e), e->klen);
	c->keys[c->n][e->klen] = '\0';
	c->n++;
}

/* A scan of an unchanging table is its insertion order. */
static void
model_check_scan(struct model *m, struct ohash *h, size_t count)
{
	struct collect c = { NULL, 0, m->live };
	uint64_t cursor = 0;
	size_t i, j = 0, calls = 0;
	char k[32];

	c.keys = malloc((m->live + 1) * sizeof *c.keys);
	do {
		cursor = ohash_scan(h, cursor, count, collect_fn, &c);
		calls++;
	} while (cursor != 0);
	ck_assert_uint_eq(c.n, m->live);
	ck_assert_uint_ge(calls, m->live / count);
	for (i = 0; i < m->n; i++) {
		if (m->order[i] < 0)
			continue;
		keyf(k, sizeof k, "key", (uint32_t)m->order[i]);
		ck_assert_str_eq(c.keys[j], k);
		j++;
	}
	free(c.keys);
}

START_TEST(test_model_random_ops)
{
	size_t base = mem_used(), kl, vl, i;
	struct model *m = calloc(1, sizeof *m);
	struct ohash *h = ohash_new();
	struct oh_entry *e;
	uint64_t moved, r, rehashes = 0;
	bool added, was = false, present;
	uint32_t k;
	unsigned phase, dice;
	char key[32];
	uint8_t v[64];
	/* Percent set, del, pop (the rest gets): grow, churn, shrink, churn. */
	static const unsigned mix[4][3] = {
		{ 70, 15, 5 }, { 40, 40, 5 }, { 10, 60, 20 }, { 40, 40, 5 },
	};

	m->order = malloc(2 * 200000 * sizeof *m->order + 4000 * sizeof
	    *m->order);
	for (k = 0; k < MODEL_KEYS; k++)
		m->pos[k] = -1;
	rng_seed(42);
	for (i = 0; i < 200000; i++) {
		phase = (unsigned)(i / 25000) % 4;
		r = rng();
		k = (uint32_t)(r % MODEL_KEYS);
		dice = (unsigned)((r >> 32) % 100);
		kl = keyf(key, sizeof key, "key", k);
		present = m->pos[k] >= 0;
		moved = ohash_test_moved(h);
		if (dice < mix[phase][0]) {
			m->ver[k]++;
			vl = valf(v, k, m->ver[k]);
			e = ohash_set(h, key, kl, v, vl, &added);
			ck_assert(entry_is(e, key, kl, v, vl));
			ck_assert_int_eq(added, !present);
			if (!present) {
				m->order[m->n] = (int32_t)k;
				m->pos[k] = (int64_t)m->n++;
				m->live++;
			}
		} else if (dice < mix[phase][0] + mix[phase][1]) {
			ck_assert_int_eq(ohash_del(h, key, kl, NULL), present);
			if (present)
				model_remove(m, k);
		} else if (dice < mix[phase][0] + mix[phase][1] +
		    mix[phase][2]) {
			e = ohash_pop_last(h);
			if (m->live == 0) {
				ck_assert_ptr_null(e);
			} else {
				while (m->order[m->n - 1] < 0)
					m->n--;
				k = (uint32_t)m->order[m->n - 1];
				kl = keyf(key, sizeof key, "key", k);
				vl = valf(v, k, m->ver[k]);
				ck_assert(entry_is(e, key, kl, v, vl));
				xfree(e);
				model_remove(m, k);
			}
		} else {
			e = ohash_get(h, key, kl);
			if (present) {
				vl = valf(v, k, m->ver[k]);
				ck_assert(entry_is(e, key, kl, v, vl));
			} else
				ck_assert_ptr_null(e);
		}
		ck_assert_uint_eq(ohash_len(h), m->live);
		ck_assert_uint_le(ohash_test_moved(h) - moved, OHASH_STEP);
		if (ohash_test_rehashing(h) && !was)
			rehashes++;
		was = ohash_test_rehashing(h);
		if (i % 5000 == 4999) {
			model_check_order(m, h);
			check_mem(h, base);
		}
		if (i % 50000 == 49999)
			model_check_scan(m, h, 1 + i % 97);
	}
	/* Growth and shrinking both happened, several times. */
	ck_assert_uint_ge(rehashes, 8);
	model_check_order(m, h);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
	free(m->order);
	free(m);
}
END_TEST

/* --- rehashing -------------------------------------------------------- */

START_TEST(test_growth_lookups_during_migration)
{
	size_t base = mem_used(), kl, pos = 0;
	struct ohash *h = ohash_new();
	struct oh_entry *e;
	uint32_t i, j, n = 300000, rehashes = 0, lookups = 0;
	uint64_t moved;
	bool was = false;
	char k[32];

	rng_seed(7);
	for (i = 0; i < n; i++) {
		kl = keyf(k, sizeof k, "key", i);
		moved = ohash_test_moved(h);
		ohash_set(h, k, kl, &i, sizeof i, NULL);
		ck_assert_uint_le(ohash_test_moved(h) - moved, OHASH_STEP);
		if (!ohash_test_rehashing(h)) {
			was = false;
			continue;
		}
		if (!was)
			rehashes++;
		was = true;
		/* Mid-migration: old keys, the newest, and a missing one. */
		for (j = 0; j < 3; j++) {
			uint32_t x = (uint32_t)(rng() % (i + 1));

			kl = keyf(k, sizeof k, "key", x);
			e = ohash_get(h, k, kl);
			ck_assert_ptr_nonnull(e);
			ck_assert_mem_eq(e->data + e->klen, &x, sizeof x);
			lookups++;
		}
		kl = keyf(k, sizeof k, "key", i);
		ck_assert_ptr_nonnull(ohash_get(h, k, kl));
		kl = keyf(k, sizeof k, "nokey", i);
		ck_assert_ptr_null(ohash_get(h, k, kl));
	}
	ck_assert_uint_ge(rehashes, 10);
	ck_assert_uint_gt(lookups, 1000);
	ck_assert_uint_eq(ohash_len(h), n);
	for (i = 0; i < n; i++) {
		e = ohash_next(h, &pos);
		ck_assert_ptr_nonnull(e);
		ck_assert_mem_eq(e->data + e->klen, &i, sizeof i);
	}
	ck_assert_ptr_null(ohash_next(h, &pos));
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/*
 * ohash_prefetch is a hint: the lookups after it answer as they would
 * without it, through growth and mid-migration, for keys there and keys
 * not; it changes nothing (no migration step); and the hash it keeps for
 * a key's address answers only for the same bytes: a buffer rewritten in
 * place, as a connection's input is, is hashed again.
 */
START_TEST(test_prefetch_is_a_hint)
{
	size_t base = mem_used(), kl[16], len;
	struct ohash *h = ohash_new();
	struct oh_ahead a[16];
	struct oh_entry *e;
	uint32_t i, j, x[16], n = 40000, batches = 0, midway = 0;
	uint64_t moved;
	char keys[16][40], buf[64];
	bool added;

	rng_seed(11);
	for (i = 0; i < n; i++) {
		len = keyf(buf, sizeof buf, "key", i);
		ohash_set(h, buf, len, &i, sizeof i, NULL);
		if (i % 53 != 0)
			continue;
		for (j = 0; j < 16; j++) {
			/* i + 1 is not there yet */
			x[j] = (uint32_t)(rng() % (i + 2));
			kl[j] = keyf(keys[j], sizeof keys[j], "key", x[j]);
			a[j].h = h;
			a[j].key = keys[j];
			a[j].klen = kl[j];
		}
		moved = ohash_test_moved(h);
		midway += ohash_test_rehashing(h);
		ohash_prefetch(a, 16);
		ck_assert_uint_eq(ohash_test_moved(h), moved);
		for (j = 0; j < 16; j++) {
			e = ohash_get(h, keys[j], kl[j]);
			if (x[j] > i) {
				ck_assert_ptr_null(e);
				continue;
			}
			ck_assert_ptr_nonnull(e);
			ck_assert_mem_eq(e->data + e->klen, &x[j], sizeof x[j]);
		}
		batches++;
	}
	ck_assert_uint_gt(batches, 700);
	ck_assert_uint_ge(midway, 5);

	/* The same address, other bytes of the same length. */
	for (j = 0; j < 2; j++) {
		/* a key the hash is kept for, then one too long for that */
		const char *prefix = j == 0 ? "key" : "a key longer than kept:";

		for (i = 0; i < 100; i++) {
			len = keyf(buf, sizeof buf, prefix, 30000 + i);
			ohash_set(h, buf, len, &i, sizeof i, NULL);
		}
		len = keyf(buf, sizeof buf, prefix, 30001);
		a[0].h = h;
		a[0].key = buf;
		a[0].klen = len;
		ohash_prefetch(a, 1);
		ck_assert_uint_eq(keyf(buf, sizeof buf, prefix, 30002), len);
		e = ohash_get(h, buf, len);
		ck_assert_ptr_nonnull(e);
		ck_assert_mem_eq(e->data + e->klen, &(uint32_t){ 2 }, 4);
		ck_assert_uint_eq(keyf(buf, sizeof buf, prefix, 99999), len);
		ck_assert_ptr_null(ohash_get(h, buf, len));
		ohash_set(h, buf, len, "new", 3, &added);
		ck_assert(added);
		ck_assert_uint_eq(keyf(buf, sizeof buf, prefix, 30001), len);
		e = ohash_get(h, buf, len);
		ck_assert_ptr_nonnull(e);
		ck_assert_mem_eq(e->data + e->klen, &(uint32_t){ 1 }, 4);
	}
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/*
 * No operation migrates more than OHASH_STEP cells, whether the table
 * grows, shrinks after deletes, or is rebuilt to drop dummies, and yet
 * all of it is migrated in the end.
 */
START_TEST(test_bounded_work_per_operation)
{
	size_t base = mem_used(), kl, mem_full;
	struct ohash *h = ohash_new();
	uint32_t i, n = 200000, shrinks = 0;
	uint64_t moved, max = 0, d;
	bool was = false;
	char k[32];

#define STEP_CHECK(op) do {						\
	moved = ohash_test_moved(h);					\
	op;								\
	d = ohash_test_moved(h) - moved;				\
	ck_assert_uint_le(d, OHASH_STEP);				\
	if (d > max)							\
		max = d;						\
} while (0)

	for (i = 0; i < n; i++) {
		kl = keyf(k, sizeof k, "key", i);
		STEP_CHECK(ohash_set(h, k, kl, "v", 1, NULL));
	}
	mem_full = ohash_mem(h);
	/* Delete 95% from the front: the table shrinks, more than once. */
	for (i = 0; i < n - n / 20; i++) {
		kl = keyf(k, sizeof k, "key", i);
		STEP_CHECK(ck_assert(ohash_del(h, k, kl, NULL)));
		if (ohash_test_rehashing(h) && !was)
			shrinks++;
		was = ohash_test_rehashing(h);
	}
	ck_assert_uint_ge(shrinks, 2);
	ck_assert_uint_lt(ohash_mem(h), mem_full / 4);
	/* Churn: add one, delete the oldest; dummies force rebuilds. */
	for (i = 0; i < n; i++) {
		kl = keyf(k, sizeof k, "key", n + i);
		STEP_CHECK(ohash_set(h, k, kl, "w", 1, NULL));
		kl = keyf(k, sizeof k, "key", n - n / 20 + i);
		STEP_CHECK(ck_assert(ohash_del(h, k, kl, NULL)));
	}
	ck_assert_uint_eq(ohash_len(h), n / 20);
	/* Pop everything: gets and pops step the migration too. */
	while (ohash_len(h) > 0) {
		struct oh_entry *e;

		STEP_CHECK(e = ohash_pop_last(h));
		xfree(e);
		STEP_CHECK(ohash_get(h, "key:1", 5));
	}
	ck_assert_uint_eq(max, OHASH_STEP);
	ck_assert_uint_gt(ohash_test_moved(h), 2 * n);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
#undef STEP_CHECK
}
END_TEST

/* --- scan ------------------------------------------------------------- */

struct seen {
	uint8_t *a;  /* kept all along: exactly once */
	uint8_t *b;  /* deleted during the walk: at most once */
	uint8_t *c;  /* added during the walk: at most once */
	size_t na, nb, nc;
};

static void
seen_fn(void *arg, const struct oh_entry *e)
{
	struct seen *s = arg;
	char k[32];
	unsigned long n;

	ck_assert_uint_lt(e->klen, sizeof k);
	memcpy(k, oh_key(e), e->klen);
	k[e->klen] = '\0';
	n = strtoul(k + 2, NULL, 10);
	switch (k[0]) {
	case 'a':
		ck_assert_uint_lt(n, s->na);
		ck_assert_msg(s->a[n]++ == 0, "%s seen twice", k);
		break;
	case 'b':
		ck_assert_uint_lt(n, s->nb);
		ck_assert_msg(s->b[n]++ == 0, "%s seen twice", k);
		break;
	case 'c':
		ck_assert_uint_lt(n, s->nc);
		ck_assert_msg(s->c[n]++ == 0, "%s seen twice", k);
		break;
	default:
		ck_abort_msg("unexpected key %s", k);
	}
}

/*
 * Walk with small counts while, between calls, keys are deleted, added
 * (enough to grow the table several times), overwritten with other sizes
 * and popped; or while most keys go and the table shrinks. Every key
 * present for the whole walk is seen exactly once, no key twice.
 */
static void
scan_under_changes(bool shrink)
{
	size_t base = mem_used(), kl, i, vl;
	size_t na = shrink ? 2000 : 20000, nb = shrink ? 38000 : 20000;
	size_t nc = 200000, b_next = 0, b_per_call = shrink ? 40 : 15, full_mem;
	size_t c_per_call = shrink ? 2 : 30;
	struct seen s = { calloc(na, 1), calloc(nb, 1), calloc(nc, 1),
	    na, nb, nc };
	uint32_t *b_order = malloc(nb * sizeof *b_order), x, t;
	uint8_t *c_alive = calloc(nc, 1);
	struct ohash *h = ohash_new();
	uint32_t next_c = 0, rehashes = 0, calls = 0;
	uint64_t cursor = 0;
	bool was = false;
	char k[32], v[64];

	rng_seed(shrink ? 99 : 11);
	/* b keys go in a shuffled order, so that holes are everywhere. */
	for (i = 0; i < nb; i++)
		b_order[i] = (uint32_t)i;
	for (i = nb - 1; i > 0; i--) {
		x = (uint32_t)(rng() % (i + 1));
		t = b_order[i];
		b_order[i] = b_order[x];
		b_order[x] = t;
	}
	/* a spread evenly among b. */
	for (i = 0, x = 0, t = 0; i < na + nb; i++) {
		if (i % ((na + nb) / na) == 0)
			kl = keyf(k, sizeof k, "a", x++);
		else
			kl = keyf(k, sizeof k, "b", t++);
		ohash_set(h, k, kl, "x", 1, NULL);
	}
	ck_assert_uint_eq(x, na);
	full_mem = ohash_mem(h);
	ck_assert_uint_eq(ohash_len(h), na + nb);
	do {
		cursor = ohash_scan(h, cursor, 1 + (size_t)(rng() % 16),
		    seen_fn, &s);
		calls++;
		for (i = 0; i < b_per_call && b_next < nb; i++) {
			kl = keyf(k, sizeof k, "b", b_order[b_next++]);
			ck_assert(ohash_del(h, k, kl, NULL));
		}
		for (i = 0; i < c_per_call && next_c < nc; i++) {
			kl = keyf(k, sizeof k, "c", next_c);
			ohash_set(h, k, kl, "c", 1, NULL);
			c_alive[next_c++] = 1;
		}
		for (i = 0; i < 5; i++) {
			x = (uint32_t)(rng() % na);
			kl = keyf(k, sizeof k, "a", x);
			vl = 1 + rng() % sizeof v;
			memset(v, 'a', vl);
			ohash_set(h, k, kl, v, vl, NULL);
		}
		/* The newest is the last c key added, while it lives. */
		if (next_c > 0 && c_alive[next_c - 1]) {
			struct oh_entry *e = ohash_pop_last(h);

			kl = keyf(k, sizeof k, "c", next_c - 1);
			ck_assert(e->klen == kl &&
			    memcmp(oh_key(e), k, kl) == 0);
			c_alive[next_c - 1] = 0;
			xfree(e);
		}
		for (i = 0; shrink && i < 2 && next_c > 0; i++) {
			x = (uint32_t)(rng() % next_c);
			kl = keyf(k, sizeof k, "c", x);
			ck_assert_int_eq(ohash_del(h, k, kl, NULL),
			    c_alive[x]);
			c_alive[x] = 0;
		}
		if (ohash_test_rehashing(h) && !was)
			rehashes++;
		was = ohash_test_rehashing(h);
	} while (cursor != 0);

	for (i = 0; i < na; i++)
		ck_assert_msg(s.a[i] == 1, "a:%zu seen %u times", i,
		    (unsigned)s.a[i]);
	/* Growing: several rehashes; shrinking: at least the one. */
	ck_assert_uint_ge(rehashes, shrink ? 1 : 3);
	ck_assert_uint_gt(calls, 100);
	if (shrink)
		ck_assert_uint_lt(ohash_mem(h), full_mem / 4);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
	free(s.a);
	free(s.b);
	free(s.c);
	free(b_order);
	free(c_alive);
}

START_TEST(test_scan_while_growing)
{
	scan_under_changes(false);
}
END_TEST

START_TEST(test_scan_while_shrinking)
{
	scan_under_changes(true);
}
END_TEST

static void
count_fn(void *arg, const struct oh_entry *e)
{
	(void)e;
	(*(size_t *)arg)++;
}

/* Long runs of deleted entries cost a bounded number of visits per call
 * (a call may then pass fewer entries than asked), and the walk still
 * ends and sees everyone once. */
START_TEST(test_scan_over_holes)
{
	size_t base = mem_used(), kl, seen = 0, calls = 0, empty = 0, got;
	struct ohash *h = ohash_new();
	uint64_t cursor = 0;
	uint32_t i;
	char k[32];

	for (i = 0; i < 10000; i++) {
		kl = keyf(k, sizeof k, "k", i);
		ohash_set(h, k, kl, "", 0, NULL);
	}
	/* Runs of 999 holes, and enough kept that the table stays. */
	for (i = 0; i < 8600; i++) {
		if (i % 1000 == 0)
			continue;
		kl = keyf(k, sizeof k, "k", i);
		ck_assert(ohash_del(h, k, kl, NULL));
	}
	ck_assert_uint_eq(ohash_len(h), 9 + 1400);
	do {
		got = 0;
		cursor = ohash_scan(h, cursor, 1, count_fn, &got);
		ck_assert_uint_le(got, 1);
		if (got == 0 && cursor != 0)
			empty++;
		seen += got;
		calls++;
	} while (cursor != 0);
	ck_assert_uint_eq(seen, 9 + 1400);
	ck_assert_uint_gt(empty, 0);
	check_mem(h, base);
	ohash_free(h);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/* --- freeing ---------------------------------------------------------- */

START_TEST(test_free_step)
{
	size_t base = mem_used(), kl, calls = 0, before;
	struct ohash *h = ohash_new();
	uint32_t i;
	char k[32];

	for (i = 0; i < 10000; i++) {
		kl = keyf(k, sizeof k, "k", i);
		ohash_set(h, k, kl, &i, sizeof i, NULL);
	}
	for (i = 0; i < 10000; i += 5) {
		kl = keyf(k, sizeof k, "k", i);
		ohash_del(h, k, kl, NULL);
	}
	ck_assert_uint_eq(ohash_len(h), 8000);
	before = mem_used();
	while (!ohash_free_step(h, 100)) {
		calls++;
		/* Each slice gives memory back. */
		ck_assert_uint_lt(mem_used(), before);
		before = mem_used();
	}
	ck_assert_uint_ge(calls, 79);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

START_TEST(test_free_step_during_rehash)
{
	size_t base = mem_used(), kl, calls = 0, before;
	struct ohash *h = ohash_new();
	uint32_t i = 0;
	char k[32];

	/* Stop in the middle of a large migration. */
	do {
		kl = keyf(k, sizeof k, "k", i++);
		ohash_set(h, k, kl, "v", 1, NULL);
	} while (i < 5000 || !ohash_test_rehashing(h));
	before = mem_used();
	while (!ohash_free_step(h, 64)) {
		calls++;
		ck_assert_uint_le(mem_used(), before);
		before = mem_used();
	}
	ck_assert_uint_ge(calls, i / 64 - 1);
	ck_assert_uint_eq(mem_used(), base);

	/* And a budget large enough frees all at once. */
	h = ohash_new();
	set_str(h, "x", "y", NULL);
	ck_assert(ohash_free_step(h, 10));
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/* --- mem -------------------------------------------------------------- */

START_TEST(test_mem_accounting)
{
	size_t base = mem_used(), u;
	char *p, *q, *s;
	uint8_t *z;
	struct buf b = BUF_INIT;
	int i;

	p = xmalloc(0);
	q = xmalloc(0);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_ne(p, q);
	ck_assert_uint_eq(mem_used() - base, mem_usable(p) + mem_usable(q));
	xfree(p);
	xfree(q);
	xfree(NULL);
	ck_assert_uint_eq(mem_used(), base);

	p = xrealloc(NULL, 10);
	ck_assert_uint_ge(mem_used() - base, 10);
	p = xrealloc(p, 100000);
	u = mem_usable(p);
	ck_assert_uint_ge(u, 100000);
	ck_assert_uint_eq(mem_used() - base, u);
	p = xrealloc(p, 5);
	ck_assert_uint_eq(mem_used() - base, mem_usable(p));
	xfree(p);

	s = xstrndup("hello", 3);
	ck_assert_str_eq(s, "hel");
	xfree(s);
	s = xstrndup("hi", 10);
	ck_assert_str_eq(s, "hi");
	xfree(s);

	z = xcalloc(1000, 4);
	for (i = 0; i < 4000; i++)
		ck_assert_uint_eq(z[i], 0);
	xfree(z);
	z = xcalloc(0, 4);
	ck_assert_ptr_nonnull(z);
	xfree(z);
	ck_assert_uint_eq(mem_used(), base);

	/* proto's buffers are counted once mem_init() has run. */
	mem_init();
	ck_assert_int_eq(buf_append(&b, "0123456789", 10), 0);
	ck_assert_uint_ge(mem_used() - base, 10);
	ck_assert_uint_eq(mem_used() - base, mem_usable(b.data));
	buf_free(&b);
	ck_assert_uint_eq(mem_used(), base);
}
END_TEST

/* --- log -------------------------------------------------------------- */

/* Run fn with stderr pointing at a temporary file; return what it wrote. */
static char *
capture_stderr(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	ssize_t n;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	fn();
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	ck_assert_int_eq(lseek(fileno(tmp), 0, SEEK_SET), 0);
	n = read(fileno(tmp), out, sizeof out - 1);
	ck_assert_int_ge(n, 0);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
log_default_level(void)
{
	log_warnx("warn %d", 1);
	log_info("info %s", "two");
	log_debug("not shown");
	errno = ENOENT;
	log_warn("open %s", "/x");
	ck_assert_int_eq(errno, ENOENT);
	errno = EACCES;
	log_info("keeps errno");
	ck_assert_int_eq(errno, EACCES);
}

static void
log_debug_level(void)
{
	log_init(LOG_DEBUG);
	log_debug("dbg %u", 7u);
	log_info("a\nb\rc");
	log_init(LOG_ERR);
	log_warnx("dropped");
	log_info("dropped");
}

START_TEST(test_log_lines)
{
	ck_assert_int_eq(log_level(), LOG_INFO);
	ck_assert_str_eq(capture_stderr(log_default_level),
	    "<4>warn 1\n"
	    "<6>info two\n"
	    "<4>open /x: No such file or directory\n"
	    "<6>keeps errno\n");
	/* Control characters cannot start a forged line. */
	ck_assert_str_eq(capture_stderr(log_debug_level),
	    "<7>dbg 7\n"
	    "<6>a?b?c\n");
	ck_assert_int_eq(log_level(), LOG_ERR);
}
END_TEST

START_TEST(test_log_parse_level)
{
	ck_assert_int_eq(log_parse_level("err"), LOG_ERR);
	ck_assert_int_eq(log_parse_level("warning"), LOG_WARNING);
	ck_assert_int_eq(log_parse_level("notice"), LOG_NOTICE);
	ck_assert_int_eq(log_parse_level("info"), LOG_INFO);
	ck_assert_int_eq(log_parse_level("debug"), LOG_DEBUG);
	ck_assert_int_eq(log_parse_level("7"), 7);
	ck_assert_int_eq(log_parse_level("3"), 3);
	ck_assert_int_eq(log_parse_level("8"), -1);
	ck_assert_int_eq(log_parse_level("33"), -1);
	ck_assert_int_eq(log_parse_level(""), -1);
	ck_assert_int_eq(log_parse_level("Info"), -1);
	ck_assert_int_eq(log_parse_level("verbose"), -1);
}
END_TEST

START_TEST(test_fatalx_exits_1)
{
	int fd = open("/dev/null", O_WRONLY);

	/* Keep the test run's output clean; the exit status is the test. */
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	fatalx("%s: impossible", __func__);
}
END_TEST

static Suite *
ohash_suite(void)
{
	Suite *s = suite_create("ohash");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_test(tc, test_set_get_overwrite_delete);
	tcase_add_test(tc, test_del_hands_over);
	tcase_add_test(tc, test_binary_keys);
	tcase_add_test(tc, test_keys_differ_in_last_byte);
	tcase_add_test(tc, test_pop_last_lifo);
	tcase_add_test(tc, test_clear_and_reuse);
	suite_add_tcase(s, tc);

	/* Generous limits: these run under ASan too. */
	tc = tcase_create("model");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_model_random_ops);
	suite_add_tcase(s, tc);

	tc = tcase_create("rehash");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_growth_lookups_during_migration);
	tcase_add_test(tc, test_bounded_work_per_operation);
	tcase_add_test(tc, test_prefetch_is_a_hint);
	suite_add_tcase(s, tc);

	tc = tcase_create("scan");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_scan_while_growing);
	tcase_add_test(tc, test_scan_while_shrinking);
	tcase_add_test(tc, test_scan_over_holes);
	suite_add_tcase(s, tc);

	tc = tcase_create("free");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_free_step);
	tcase_add_test(tc, test_free_step_during_rehash);
	suite_add_tcase(s, tc);

	tc = tcase_create("mem");
	tcase_add_test(tc, test_mem_accounting);
	suite_add_tcase(s, tc);

	tc = tcase_create("log");
	tcase_add_test(tc, test_log_lines);
	tcase_add_test(tc, test_log_parse_level);
	tcase_add_exit_test(tc, test_fatalx_exits_1, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(ohash_suite());
}
