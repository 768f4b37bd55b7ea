/*
 * obj_list.c: the list type, Python's list over the wire (docs/PROTOCOL.md,
 * list): every index, slice, insert and pop follows Python's rules,
 * negative indexes included.
 *
 * Elements are stored as canonical bytes, one allocation each, in a vector
 * of entry pointers that keeps free slots at both ends: append and pop()
 * are O(1), and so is pop(0), so a list used as a work queue does not
 * move every pointer per item; insert and delete move the shorter side.
 *
 * Equality (remove, index, count, contains) is Python's == for numbers at
 * the top level: ints and floats compare numerically and exactly (1 ==
 * 1.0, NaN equals nothing); every other value, and anything inside a
 * container, compares by canonical bytes. sort is stable; ints and floats
 * order numerically, strs and bins by bytes (code points for UTF-8); any
 * other kind, or a mix of those classes, is BADTYPE and leaves the list
 * as it was. bool is not a number here, as in incr.
 *
 * list has no creation options; an implicit list goes once empty.
 *
 * The journal gets each change with its indexes resolved: pop, remove and
 * delete as the position they took out, insert as the position clamped,
 * sort and reverse as themselves (deterministic on the state: the same
 * stable merge sort runs at replay; changing it changes the journal's
 * meaning).
 */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

/* One element: its canonical bytes. */
struct lent {
	size_t len;
	uint8_t b[];
};

struct list {
	struct lent **v;  /* slots [head, head + n) hold the elements */
	size_t head;
	size_t n;
	size_t cap;
	size_t mem;       /* bytes held: this struct, v and every entry */
	size_t bytes;     /* the elements' canonical bytes: copy's reply */
};

/* Fewest slots a vector is given or shrunk to. */
#define LIST_MIN_CAP 8

/* What index, count, contains and remove look for. */
struct needle {
	const uint8_t *b; /* canonical bytes */
	size_t n;
	bool isnum;
	struct value_num num;
};

/* A list of 0 elements for reads of a missing list. Never written. */
static const struct list list_empty;

/* Scratch for canonical re-encodings of params. */
static struct buf vbuf = BUF_INIT;

static const struct list *
list_of(const struct req *req)
{
	return req->obj == NULL ? &list_empty : req->obj->data;
}

static struct lent *
list_at(const struct list *l, size_t i)
{
	return l->v[l->head + i];
}

static struct list *
list_new(void)
{
	struct list *l = xcalloc(1, sizeof *l);

	l->mem = mem_usable(l);
	return l;
}

static struct lent *
list_ent_new(struct list *l, const uint8_t *bytes, size_t n)
{
	struct lent *e = xmalloc(sizeof *e + n);

	e->len = n;
	memcpy(e->b, bytes, n);
	l->mem += mem_usable(e);
	l->bytes += n;
	return e;
}

static void
list_ent_free(struct list *l, struct lent *e)
{
	l->mem -= mem_usable(e);
	l->bytes -= e->len;
	xfree(e);
}

/* Move the elements to the front of v (head = 0). */
static void
list_slide(struct list *l)
{
	if (l->head == 0)
		return;
	memmove(l->v, l->v + l->head, l->n * sizeof *l->v);
	l->head = 0;
}

static void
list_resize(struct list *l, size_t cap)
{
	list_slide(l);
	l->mem -= mem_usable(l->v);
	l->v = xrealloc(l->v, cap * sizeof *l->v);
	l->mem += mem_usable(l->v);
	l->cap = cap;
}

/*
 * Room for k more slots after the last element. Sliding back over the
 * free front slots is done only when they are at least half of v, so a
 * list used as a queue (append, pop(0)) slides O(1) times per element.
 */
static void
list_reserve(struct list *l, size_t k)
{
	size_t cap;

	if (l->head + l->n + k <= l->cap)
		return;
	if (l->n + k <= l->cap / 2) {
		list_slide(l);
		return;
	}
	cap = l->cap < LIST_MIN_CAP ? LIST_MIN_CAP : l->cap;
	while (cap < l->n + k)
		cap *= 2;
	if (cap == l->cap)
		cap *= 2;
	list_resize(l, cap);
}

/* Give memory back once a list is down to a quarter of its vector. */
static void
list_shrink(struct list *l)
{
	size_t cap;

	if (l->n == 0 && l->cap > LIST_MIN_CAP) {
		l->mem -= mem_usable(l->v);
		xfree(l->v);
		l->v = NULL;
		l->cap = l->head = 0;
		return;
	}
	if (l->cap <= LIST_MIN_CAP || l->n >= l->cap / 4)
		return;
	cap = l->n * 2 < LIST_MIN_CAP ? LIST_MIN_CAP : l->n * 2;
	list_resize(l, cap);
}

/* Store e at position i (0..n), the elements from i on moving up. */
static void
list_put(struct list *l, size_t i, struct lent *e)
{
	if (l->head > 0 && i < l->n - i) {
		l->head--;
		memmove(l->v + l->head, l->v + l->head + 1, i * sizeof *l->v);
	} else {
		list_reserve(l, 1);
		memmove(l->v + l->head + i + 1, l->v + l->head + i,
		    (l->n - i) * sizeof *l->v);
	}
	l->v[l->head + i] = e;
	l->n++;
}

/* Take the element at i out (the caller frees it), moving the shorter
 * side over the gap. */
static struct lent *
list_take(struct list *l, size_t i)
{
	struct lent *e = list_at(l, i);

	if (i < l->n - 1 - i) {
		memmove(l->v + l->head + 1, l->v + l->head, i * sizeof *l->v);
		l->head++;
	} else
		memmove(l->v + l->head + i, l->v + l->head + i + 1,
		    (l->n - 1 - i) * sizeof *l->v);
	if (--l->n == 0)
		l->head = 0;
	list_shrink(l);
	return e;
}

/* --- the journal -------------------------------------------------------- */

enum {
	LIST_J_APPEND, LIST_J_INSERT, LIST_J_EXTEND, LIST_J_DELETE,
	LIST_J_SET, LIST_J_REVERSE, LIST_J_SORT, LIST_J_CLEAR
};

static void __attribute__((noinline))
list_journal_rec(const struct object *o, unsigned op, int64_t pos,
    const uint8_t *b, size_t n)
{
	msgpack_packer *pk = journal_begin(o, op, (pos >= 0) + (b != NULL));

	if (pos >= 0)
		msgpack_pack_uint64(pk, (uint64_t)pos);
	if (b != NULL)
		pack_raw(pk, b, n);
	journal_end();
}

/* A record of op on o with an optional position and value; the test is
 * inline (a load and a branch without a journal). */
static inline void
list_journal(const struct object *o, unsigned op, int64_t pos,
    const uint8_t *b, size_t n)
{
	if (journal_wants(o))
		list_journal_rec(o, op, pos, b, n);
}

/* --- equality ---------------------------------------------------------- */

static void
list_needle(struct req *req, unsigned i, struct needle *nd)
{
	value_canon(&req->argv[i], &vbuf, &nd->b, &nd->n);
	nd->isnum = value_num(&req->argv[i], &nd->num);
}

static bool
list_match(const struct lent *e, const struct needle *nd)
{
	const uint8_t *p = e->b;
	struct mpv v;
	struct value_num x;

	if (!nd->isnum)
		return e->len == nd->n && memcmp(e->b, nd->b, nd->n) == 0;
	if (!value_byte_is_num(e->b[0]))
		return false;
	mpv_read(&p, &v);
	value_num(&v, &x);
	return value_num_cmp(&x, &nd->num) == 0;
}

/* The first element equal to nd in [from, to), or -1. */
static int64_t
list_find(const struct list *l, const struct needle *nd, size_t from,
    size_t to)
{
	size_t i;

	for (i = from; i < to && i < l->n; i++) {
		if (list_match(list_at(l, i), nd))
			return (int64_t)i;
	}
	return -1;
}

/* --- params ------------------------------------------------------------ */

/*
 * Param i as an int64, a uint past INT64_MAX saturating (Python clamps
 * slice bounds; such an index is out of range anyway). true, or false
 * after replying BADARG.
 */
static bool
list_int_arg(struct req *req, unsigned i, const char *what, int64_t *out)
{
	const struct mpv *v = &req->argv[i];

	if (v->type == MPV_UINT)
		*out = v->v.u > INT64_MAX ? INT64_MAX : (int64_t)v->v.u;
	else if (v->type == MPV_INT)
		*out = v->v.i;
	else {
		reply_error(req, PERR_BADARG, "%s: %s must be an int, not %s",
		    req->method->name, what, value_kind(v));
		return false;
	}
	return true;
}

/* Python's index: negative counts from the end. false when outside. */
static bool
list_pos(const struct list *l, int64_t i, size_t *pos)
{
	if (i < 0)
		i += (int64_t)l->n;
	if (i < 0 || (uint64_t)i >= l->n)
		return false;
	*pos = (size_t)i;
	return true;
}

/* Param i as an index of an element: true, or false after BADARG or
 * NOINDEX (with Python's message). */
static bool
list_index_arg(struct req *req, unsigned i, const char *oor, size_t *pos)
{
	int64_t x;

	if (!list_int_arg(req, i, "the index", &x))
		return false;
	if (list_pos(list_of(req), x, pos))
		return true;
	reply_error(req, PERR_NOINDEX, "%s", oor);
	return false;
}

/* A start or stop bound as list.index takes it: clamped into 0..n. */
static size_t
list_bound(const struct list *l, int64_t x)
{
	if (x < 0) {
		x += (int64_t)l->n;
		return x < 0 ? 0 : (size_t)x;
	}
	return (uint64_t)x > l->n ? l->n : (size_t)x;
}

/* --- verbs ------------------------------------------------------------- */

static void
list_append(struct req *req)
{
	struct list *l = req->obj->data;
	const uint8_t *b;
	size_t n;

	value_canon(&req->argv[1], &vbuf, &b, &n);
	list_put(l, l->n, list_ent_new(l, b, n));
	list_journal(req->obj, LIST_J_APPEND, -1, b, n);
	reply_nil(req);
}

/* Append an array's items to o, as a record too when journal: 0, or -1
 * after BADTYPE. */
static int
list_push_all(struct req *req, struct object *o, const struct mpv *items,
    bool journal)
{
	struct list *l = o->data;
	msgpack_packer *pk = NULL;
	struct mpv_iter it;
	struct mpv v;
	const uint8_t *b;
	size_t n;

	if (items->type != MPV_ARRAY) {
		reply_error(req, PERR_BADTYPE, "%s takes an array, not %s",
		    req->method->name, value_kind(items));
		return -1;
	}
	list_reserve(l, items->len);
	if (journal)
		pk = journal_begin(o, LIST_J_EXTEND, items->len);
	mpv_iter_init(&it, items);
	while (mpv_iter_next(&it, &v)) {
		value_canon(&v, &vbuf, &b, &n);
		l->v[l->head + l->n++] = list_ent_new(l, b, n);
		if (journal)
			pack_raw(pk, b, n);
	}
	if (journal)
		journal_end();
	return 0;
}

static void
list_extend(struct req *req)
{
	if (list_push_all(req, req->obj, &req->argv[1],
	    journal_wants(req->obj)) == 0)
		reply_nil(req);
}

static void
list_insert(struct req *req)
{
	struct list *l = req->obj->data;
	const uint8_t *b;
	size_t n;
	int64_t i;
	size_t pos;

	if (!list_int_arg(req, 1, "the index", &i))
		return;
	value_canon(&req->argv[2], &vbuf, &b, &n);
	pos = list_bound(l, i);
	list_put(l, pos, list_ent_new(l, b, n));
	list_journal(req->obj, LIST_J_INSERT, (int64_t)pos, b, n);
	reply_nil(req);
}

static void
list_pop(struct req *req)
{
	struct list *l = req->obj == NULL ? NULL : req->obj->data;
	struct lent *e;
	int64_t i = -1;
	size_t pos;

	if (req->argc > 1 && !list_int_arg(req, 1, "the index", &i))
		return;
	if (l == NULL || l->n == 0) {
		reply_error(req, PERR_NOINDEX, "pop from empty list");
		return;
	}
	if (!list_pos(l, i, &pos)) {
		reply_error(req, PERR_NOINDEX, "pop index out of range");
		return;
	}
	if (!reply_fits_now(req, list_at(l, pos)->len))
		return;
	e = list_take(l, pos);
	list_journal(req->obj, LIST_J_DELETE, (int64_t)pos, NULL, 0);
	reply_raw(req, e->b, e->len);
	list_ent_free(l, e);
}

static void
list_remove(struct req *req)
{
	struct needle nd;
	int64_t i;

	list_needle(req, 1, &nd);
	if ((i = list_find(list_of(req), &nd, 0, SIZE_MAX)) < 0) {
		reply_error(req, PERR_NOTFOUND, "list.remove(x): x not in list");
		return;
	}
	list_ent_free(req->obj->data, list_take(req->obj->data, (size_t)i));
	list_journal(req->obj, LIST_J_DELETE, i, NULL, 0);
	reply_nil(req);
}

static void
list_index(struct req *req)
{
	const struct list *l = list_of(req);
	struct needle nd;
	int64_t start = 0, stop = INT64_MAX, i;

	if (req->argc > 2 && !list_int_arg(req, 2, "start", &start))
		return;
	if (req->argc > 3 && !list_int_arg(req, 3, "stop", &stop))
		return;
	list_needle(req, 1, &nd);
	i = list_find(l, &nd, list_bound(l, start), list_bound(l, stop));
	if (i < 0)
		reply_error(req, PERR_NOTFOUND, "value is not in list '%.*s'",
		    req_namelen(req), req_name(req));
	else
		reply_int(req, i);
}

static void
list_count(struct req *req)
{
	const struct list *l = list_of(req);
	struct needle nd;
	uint64_t count = 0;
	size_t i;

	list_needle(req, 1, &nd);
	for (i = 0; i < l->n; i++)
		count += list_match(list_at(l, i), &nd);
	reply_uint(req, count);
}

static void
list_contains(struct req *req)
{
	struct needle nd;

	list_needle(req, 1, &nd);
	reply_bool(req, list_find(list_of(req), &nd, 0, SIZE_MAX) >= 0);
}

static void
list_reverse_all(struct list *l)
{
	struct lent **a, **b, *t;

	if (l->n < 2)
		return;
	a = l->v + l->head;
	b = a + l->n - 1;
	for (; a < b; a++, b--) {
		t = *a;
		*a = *b;
		*b = t;
	}
}

static void
list_reverse(struct req *req)
{
	struct list *l = req->obj == NULL ? NULL : req->obj->data;

	if (l != NULL && l->n > 1) {
		list_reverse_all(l);
		list_journal(req->obj, LIST_J_REVERSE, -1, NULL, 0);
	}
	reply_nil(req);
}

/* sort's view of one element. */
enum sort_class { SORT_NUM, SORT_STR, SORT_BIN };
struct skey {
	struct lent *e;
	enum sort_class cls;
	union {
		struct value_num num;
		struct {
			const uint8_t *p;
			size_t len;
		} s;
	};
};

static bool
list_key_less(const struct skey *a, const struct skey *b)
{
	size_t n;
	int r;

	if (a->cls == SORT_NUM)
		return value_num_cmp(&a->num, &b->num) == -1;
	n = a->s.len < b->s.len ? a->s.len : b->s.len;
	r = memcmp(a->s.p, b->s.p, n);
	return r < 0 || (r == 0 && a->s.len < b->s.len);
}

/*
 * Stable merge sort of k[0..n) using tmp[0..n). Descending takes the
 * right run's element only when it is strictly greater, so equal keys
 * keep their order both ways, as Python's reverse=True does.
 */
static void
list_merge_sort(struct skey *k, struct skey *tmp, size_t n, bool desc)
{
	size_t mid = n / 2, i = 0, j = mid, o = 0;
	bool right;

	if (n < 2)
		return;
	list_merge_sort(k, tmp, mid, desc);
	list_merge_sort(k + mid, tmp, n - mid, desc);
	while (i < mid && j < n) {
		right = desc ? list_key_less(&k[i], &k[j]) :
		    list_key_less(&k[j], &k[i]);
		tmp[o++] = right ? k[j++] : k[i++];
	}
	while (i < mid)
		tmp[o++] = k[i++];
	/* What is left of the right run is already in place. */
	memcpy(k, tmp, o * sizeof *k);
}

/* e's sort key, or false when its kind cannot be ordered. */
static bool
list_key(struct lent *e, struct skey *k, const char **kind)
{
	const uint8_t *p = e->b;
	struct mpv v;

	mpv_read(&p, &v);
	*kind = value_kind(&v);
	k->e = e;
	if (value_num(&v, &k->num)) {
		k->cls = SORT_NUM;
		return true;
	}
	if (v.type != MPV_STR && v.type != MPV_BIN)
		return false;
	k->cls = v.type == MPV_STR ? SORT_STR : SORT_BIN;
	k->s.p = v.ptr;
	k->s.len = v.len;
	return true;
}

/*
 * Sort l (n >= 2) stably. Every key is checked before anything moves:
 * NULL, or (nothing moved) the BADTYPE text in err.
 */
static const char *
list_sort_all(struct list *l, bool desc, char *err, size_t errlen)
{
	struct skey *keys, *tmp;
	const char *kind, *kind0 = NULL;
	bool ok;
	size_t i;

	keys = xmalloc(l->n * sizeof *keys);
	for (i = 0; i < l->n; i++) {
		ok = list_key(list_at(l, i), &keys[i], &kind);
		if (ok && i > 0 && keys[i].cls != keys[0].cls) {
			snprintf(err, errlen, "cannot order %s and %s", kind0,
			    kind);
			xfree(keys);
			return err;
		}
		if (!ok) {
			snprintf(err, errlen, "cannot order %s values", kind);
			xfree(keys);
			return err;
		}
		if (i == 0)
			kind0 = kind;
	}
	tmp = xmalloc(l->n * sizeof *tmp);
	list_merge_sort(keys, tmp, l->n, desc);
	for (i = 0; i < l->n; i++)
		l->v[l->head + i] = keys[i].e;
	xfree(tmp);
	xfree(keys);
	return NULL;
}

static void
list_sort(struct req *req)
{
	struct list *l = req->obj == NULL ? NULL : req->obj->data;
	const struct mpv *rev = &req->argv[1];
	char err[64];
	bool desc = false;

	if (req->argc > 1) {
		if (rev->type != MPV_BOOL) {
			reply_error(req, PERR_BADARG, "%s: reverse must be a "
			    "bool, not %s", req->method->name, value_kind(rev));
			return;
		}
		desc = rev->v.b;
	}
	/* Python compares nothing in a list of 0 or 1 elements. */
	if (l == NULL || l->n < 2) {
		reply_nil(req);
		return;
	}
	if (list_sort_all(l, desc, err, sizeof err) != NULL) {
		reply_error(req, PERR_BADTYPE, "%s: %s", req->method->name, err);
		return;
	}
	if (journal_wants(req->obj)) {
		msgpack_packer *pk = journal_begin(req->obj, LIST_J_SORT, 1);

		if (desc)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		journal_end();
	}
	reply_nil(req);
}

static void
list_get(struct req *req)
{
	struct lent *e;
	size_t pos;

	if (!list_index_arg(req, 1, "list index out of range", &pos))
		return;
	e = list_at(list_of(req), pos);
	reply_raw(req, e->b, e->len);
}

/* A slice bound: an int, or nil for the default. */
static bool
list_slice_arg(struct req *req, unsigned i, const char *what, int64_t def,
    int64_t *out)
{
	if (i >= req->argc || req->argv[i].type == MPV_NIL) {
		*out = def;
		return true;
	}
	return list_int_arg(req, i, what, out);
}

/* A bound after PySlice_AdjustIndices: -1 .. n. */
static int64_t
list_slice_bound(int64_t x, int64_t n, int64_t step)
{
	if (x < 0) {
		x += n;
		if (x < 0)
			x = step < 0 ? -1 : 0;
	} else if (x >= n)
		x = step < 0 ? n - 1 : n;
	return x;
}

/* The reply of a slice of count elements: each is 1 byte at least, so
 * one too large for that is refused without a walk. */
static size_t
list_slice_size(const struct list *l, int64_t i, int64_t step,
    uint64_t count)
{
	size_t size = msg_array_head_size(count);

	if (count > server.output_limit)
		return size + count; /* at least that: too much */
	for (; count > 0; count--, i += step) {
		size += list_at(l, (size_t)i)->len;
		if (count == 1)
			break;
	}
	return size;
}

static void
list_slice(struct req *req)
{
	const struct list *l = list_of(req);
	msgpack_packer *pk;
	struct lent *e;
	int64_t start, stop, step, n = (int64_t)l->n, i;
	uint64_t count = 0;

	if (!list_slice_arg(req, 3, "step", 1, &step))
		return;
	if (step == 0) {
		reply_error(req, PERR_BADARG, "slice step cannot be zero");
		return;
	}
	/* Python clamps the step so that -step cannot overflow. */
	if (step < -INT64_MAX)
		step = -INT64_MAX;
	if (!list_slice_arg(req, 1, "start", step < 0 ? INT64_MAX : 0,
	    &start) ||
	    !list_slice_arg(req, 2, "stop", step < 0 ? INT64_MIN : INT64_MAX,
	    &stop))
		return;
	start = list_slice_bound(start, n, step);
	stop = list_slice_bound(stop, n, step);
	if (step > 0 && start < stop)
		count = (uint64_t)(stop - start - 1) / (uint64_t)step + 1;
	else if (step < 0 && stop < start)
		count = (uint64_t)(start - stop - 1) / (uint64_t)-step + 1;
	if (!reply_fits(req, list_slice_size(l, start, step, count)))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, count);
	for (i = start; count > 0; count--, i += step) {
		e = list_at(l, (size_t)i);
		pack_raw(pk, e->b, e->len);
		/* The step may be huge: stop before i + step overflows. */
		if (count == 1)
			break;
	}
}

static void
list_set(struct req *req)
{
	const char *oor = "list assignment index out of range";
	struct list *l;
	const uint8_t *b;
	size_t n, pos;

	if (!list_index_arg(req, 1, oor, &pos))
		return;
	l = req->obj->data;
	value_canon(&req->argv[2], &vbuf, &b, &n);
	list_ent_free(l, l->v[l->head + pos]);
	l->v[l->head + pos] = list_ent_new(l, b, n);
	list_journal(req->obj, LIST_J_SET, (int64_t)pos, b, n);
	reply_nil(req);
}

static void
list_delete(struct req *req)
{
	const char *oor = "list assignment index out of range";
	size_t pos;

	if (!list_index_arg(req, 1, oor, &pos))
		return;
	list_ent_free(req->obj->data, list_take(req->obj->data, pos));
	list_journal(req->obj, LIST_J_DELETE, (int64_t)pos, NULL, 0);
	reply_nil(req);
}

static void
list_len(struct req *req)
{
	reply_uint(req, list_of(req)->n);
}

static void
list_free_all(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		list_ent_free(l, list_at(l, i));
	l->n = l->head = 0;
	list_shrink(l);
}

/* A large list is swapped for an empty one and freed in slices. */
static void
list_clear_all(struct object *o)
{
	struct list *l = o->data;

	if (l->n > REGISTRY_FREE_SLICE) {
		registry_defer_free(&list_type, l);
		o->data = list_new();
	} else
		list_free_all(l);
}

static void
list_clear(struct req *req)
{
	if (req->obj != NULL) {
		list_clear_all(req->obj);
		list_journal(req->obj, LIST_J_CLEAR, -1, NULL, 0);
	}
	reply_nil(req);
}

static void
list_pack(const struct list *l, msgpack_packer *pk)
{
	struct lent *e;
	size_t i;

	msgpack_pack_array(pk, l->n);
	for (i = 0; i < l->n; i++) {
		e = list_at(l, i);
		pack_raw(pk, e->b, e->len);
	}
}

static void
list_copy(struct req *req)
{
	const struct list *l = list_of(req);

	if (!reply_fits(req, msg_array_head_size(l->n) + l->bytes))
		return;
	list_pack(l, reply_begin(req));
}

/* --- the type ---------------------------------------------------------- */

static void
list_init(struct object *o, const struct optval *v)
{
	o->data = list_new();
}

/* Frees from the end, so the vector stays valid between slices. */
static bool
list_free_step(struct object *o, size_t budget)
{
	struct list *l = o->data;

	for (; budget > 0 && l->n > 0; budget--) {
		l->n--;
		list_ent_free(l, l->v[l->head + l->n]);
	}
	if (l->n > 0)
		return false;
	xfree(l->v);
	xfree(l);
	return true;
}

static bool
list_is_initial(const struct object *o)
{
	const struct list *l = o->data;

	return l->n == 0;
}

static uint64_t
list_size(const struct object *o)
{
	const struct list *l = o->data;

	return l->n;
}

static size_t
list_mem(const struct object *o)
{
	const struct list *l = o->data;

	return l->mem;
}

/* Contents: the elements, as copy answers them. */
static void
list_contents(const struct object *o, msgpack_packer *pk)
{
	list_pack(o->data, pk);
}

static int
list_restore(struct object *o, const struct mpv *c, struct req *req)
{
	return c->type == MPV_NIL ? 0 : list_push_all(req, o, c, false);
}

/* --- replay ----------------------------------------------------------- */

/* An index arg: below limit. */
static bool
list_replay_pos(struct mpv_iter *args, size_t limit, size_t *pos)
{
	struct mpv v;

	jop_arg(args, &v);
	if (v.type != MPV_UINT || v.v.u >= limit)
		return false;
	*pos = (size_t)v.v.u;
	return true;
}

static const char *
list_replay_append(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	struct mpv v;

	jop_arg(args, &v);
	list_put(l, l->n, list_ent_new(l, v.raw, v.rawlen));
	return NULL;
}

static const char *
list_replay_insert(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	struct mpv v;
	size_t pos;

	if (!list_replay_pos(args, l->n + 1, &pos))
		return "insert past the end";
	jop_arg(args, &v);
	list_put(l, pos, list_ent_new(l, v.raw, v.rawlen));
	return NULL;
}

static const char *
list_replay_extend(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	struct mpv v;

	list_reserve(l, nargs);
	while (mpv_iter_next(args, &v))
		l->v[l->head + l->n++] = list_ent_new(l, v.raw, v.rawlen);
	return NULL;
}

static const char *
list_replay_delete(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	size_t pos;

	if (!list_replay_pos(args, l->n, &pos))
		return "no element at that position";
	list_ent_free(l, list_take(l, pos));
	return NULL;
}

static const char *
list_replay_set(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	struct mpv v;
	size_t pos;

	if (!list_replay_pos(args, l->n, &pos))
		return "no element at that position";
	jop_arg(args, &v);
	list_ent_free(l, l->v[l->head + pos]);
	l->v[l->head + pos] = list_ent_new(l, v.raw, v.rawlen);
	return NULL;
}

static const char *
list_replay_reverse(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	list_reverse_all(o->data);
	return NULL;
}

static const char *
list_replay_sort(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct list *l = o->data;
	struct mpv v;
	char err[64];

	jop_arg(args, &v);
	if (v.type != MPV_BOOL)
		return "sort's reverse must be a bool";
	if (l->n >= 2 && list_sort_all(l, v.v.b, err, sizeof err) != NULL)
		return "the elements cannot be ordered";
	return NULL;
}

static const char *
list_replay_clear(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	list_clear_all(o);
	return NULL;
}

static const struct jop list_jops[] = {
	[LIST_J_APPEND] = { "append", 1, 1, list_replay_append },
	[LIST_J_INSERT] = { "insert", 2, 2, list_replay_insert },
	[LIST_J_EXTEND] = { "extend", 0, JOP_ANY, list_replay_extend },
	[LIST_J_DELETE] = { "delete", 1, 1, list_replay_delete },
	[LIST_J_SET] = { "set", 2, 2, list_replay_set },
	[LIST_J_REVERSE] = { "reverse", 0, 0, list_replay_reverse },
	[LIST_J_SORT] = { "sort", 1, 1, list_replay_sort },
	[LIST_J_CLEAR] = { "clear", 0, 0, list_replay_clear },
	JOP_END
};

/* Its elements in order, about JOURNAL_BATCH bytes a record. */
static void
list_dump(const struct object *o)
{
	const struct list *l = o->data;
	msgpack_packer *pk;
	size_t i = 0, end, bytes;

	while (i < l->n) {
		for (end = i, bytes = 0; end < l->n && bytes < JOURNAL_BATCH;
		    end++)
			bytes += list_at(l, end)->len;
		pk = journal_begin(o, LIST_J_EXTEND, (uint32_t)(end - i));
		for (; i < end; i++)
			pack_raw(pk, list_at(l, i)->b, list_at(l, i)->len);
		journal_end();
	}
}

static const struct method list_methods[] = {
	MPMGR_METHODS_LIST(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type list_type = {
	.name = "list",
	.methods = list_methods,
	.init = list_init,
	.free_step = list_free_step,
	.is_initial = list_is_initial,
	.size = list_size,
	.mem = list_mem,
	.contents = list_contents,
	.restore = list_restore,
	.jcode = JC_LIST,
	.jops = list_jops,
	.dump = list_dump,
};
