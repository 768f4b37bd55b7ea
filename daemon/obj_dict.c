/*
 * obj_dict.c: the dict type, an insertion-ordered map from values to
 * values over ohash (docs/PROTOCOL.md, dict).
 *
 * Keys and values are stored as canonical bytes, so 1 and 1.0 are two keys
 * and replies copy stored bytes as they are. A map, or an array holding one
 * at any depth, is not a key (BADTYPE, Python's unhashable). Keys are
 * canonicalised into reused scratch buffers: a request allocates nothing
 * beyond what it stores. dict has no creation options yet: dict.create
 * is always idempotent.
 *
 * The journal gets each change as the pair stored (incr's sum, cas's new
 * value) or the key removed (popitem's too), update's pairs as one
 * record, clear as clear.
 */
#include <string.h>

#include "dispatch.h"
#include "journal.h"
#include "log.h"
#include "mem.h"
#include "ohash.h"
#include "registry.h"
#include "reply.h"
#include "value.h"

/* Scratch for canonical re-encodings: key, value, cas's expected. */
static struct buf kbuf = BUF_INIT;
static struct buf vbuf = BUF_INIT;
static struct buf ebuf = BUF_INIT;

/* Entries found by one dict.scan, reused from request to request. */
static struct {
	const struct oh_entry **e;
	size_t n;
	size_t cap;
} found;

static struct ohash *
dict_of(const struct req *req)
{
	return req->obj == NULL ? NULL : req->obj->data;
}

static bool
dict_hashable(const struct mpv *v)
{
	struct mpv_iter it;
	struct mpv e;

	if (v->type == MPV_MAP)
		return false;
	if (v->type != MPV_ARRAY)
		return true;
	/* The scanner bounds the depth, and so this recursion, at 64. */
	mpv_iter_init(&it, v);
	while (mpv_iter_next(&it, &e)) {
		if (!dict_hashable(&e))
			return false;
	}
	return true;
}

static bool
dict_check_key(struct req *req, const struct mpv *v)
{
	if (dict_hashable(v))
		return true;
	reply_error(req, PERR_BADTYPE, "unhashable key: map");
	return false;
}

/* Param i as a key: its canonical bytes, or false after BADTYPE. */
static bool
dict_key(struct req *req, unsigned i, const uint8_t **k, size_t *kn)
{
	if (!dict_check_key(req, &req->argv[i]))
		return false;
	value_canon(&req->argv[i], &kbuf, k, kn);
	return true;
}

static void
dict_nokey(struct req *req)
{
	reply_error_name(req, PERR_NOKEY, "no such key in '", "'");
}

/* Answer param i (a default) in canonical form. */
static void
dict_reply_arg(struct req *req, unsigned i)
{
	const uint8_t *v;
	size_t vn;

	value_canon(&req->argv[i], &vbuf, &v, &vn);
	reply_raw(req, v, vn);
}

/* Journal ops. */
enum { DICT_J_SET, DICT_J_DEL, DICT_J_SETMANY, DICT_J_CLEAR };

/*
 * A record of op with a key and maybe a value. The callers test
 * journal_wants inline, so that a daemon without a journal pays a load
 * and a branch, not a call.
 */
static void __attribute__((noinline))
dict_journal(const struct object *o, unsigned op, const uint8_t *k,
    size_t kn, const uint8_t *v, size_t vn)
{
	msgpack_packer *pk = journal_begin(o, op, 1 + (v != NULL));

	pack_raw(pk, k, kn);
	if (v != NULL)
		pack_raw(pk, v, vn);
	journal_end();
}

static inline void
dict_journal_set(const struct object *o, const uint8_t *k, size_t kn,
    const uint8_t *v, size_t vn)
{
	if (journal_wants(o))
		dict_journal(o, DICT_J_SET, k, kn, v, vn);
}

static inline void
dict_journal_del(const struct object *o, const uint8_t *k, size_t kn)
{
	if (journal_wants(o))
		dict_journal(o, DICT_J_DEL, k, kn, NULL, 0);
}

static void
dict_pack_pair(msgpack_packer *pk, struct oh_entry *e)
{
	msgpack_pack_array(pk, 2);
	pack_raw(pk, oh_key(e), e->klen);
	pack_raw(pk, oh_val(e), e->vlen);
}

static void
dict_get(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e = NULL;
	const uint8_t *k;
	size_t kn;

	if (!dict_key(req, 1, &k, &kn))
		return;
	if (h != NULL)
		e = ohash_get(h, k, kn);
	if (e != NULL)
		reply_raw(req, oh_val(e), e->vlen);
	else if (req->argc > 2)
		dict_reply_arg(req, 2);
	else
		dict_nokey(req);
}

static void
dict_set(struct req *req)
{
	const uint8_t *k, *v;
	size_t kn, vn;

	if (!dict_key(req, 1, &k, &kn))
		return;
	value_canon(&req->argv[2], &vbuf, &v, &vn);
	ohash_set(dict_of(req), k, kn, v, vn, NULL);
	dict_journal_set(req->obj, k, kn, v, vn);
	reply_nil(req);
}

static void
dict_setdefault(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e;
	const uint8_t *k, *v = value_nil;
	size_t kn, vn = sizeof value_nil;

	if (!dict_key(req, 1, &k, &kn))
		return;
	if ((e = ohash_get(h, k, kn)) != NULL) {
		reply_raw(req, oh_val(e), e->vlen);
		return;
	}
	if (req->argc > 2)
		value_canon(&req->argv[2], &vbuf, &v, &vn);
	ohash_set(h, k, kn, v, vn, NULL);
	dict_journal_set(req->obj, k, kn, v, vn);
	reply_raw(req, v, vn);
}

static void
dict_pop(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e;
	const uint8_t *k;
	size_t kn;

	if (!dict_key(req, 1, &k, &kn))
		return;
	if (h != NULL && (e = ohash_get(h, k, kn)) != NULL) {
		if (!reply_fits_now(req, e->vlen))
			return;
		ohash_del(h, k, kn, &e);
		dict_journal_del(req->obj, k, kn);
		reply_raw(req, oh_val(e), e->vlen);
		xfree(e);
	} else if (req->argc > 2)
		dict_reply_arg(req, 2);
	else
		dict_nokey(req);
}

static void
dict_popitem(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e;

	if (h == NULL || (e = ohash_last(h)) == NULL) {
		reply_error_name(req, PERR_NOKEY, "popitem: '", "' is empty");
		return;
	}
	/* [key, value]: a fixarray's byte and the two */
	if (!reply_fits_now(req, 1 + (size_t)e->klen + e->vlen))
		return;
	e = ohash_pop_last(h);
	dict_journal_del(req->obj, oh_key(e), e->klen);
	dict_pack_pair(reply_begin(req), e);
	xfree(e);
}

static void
dict_delete(struct req *req)
{
	struct ohash *h = dict_of(req);
	const uint8_t *k;
	size_t kn;

	if (!dict_key(req, 1, &k, &kn))
		return;
	if (h != NULL && ohash_del(h, k, kn, NULL)) {
		dict_journal_del(req->obj, k, kn);
		reply_nil(req);
	} else
		dict_nokey(req);
}

static void
dict_contains(struct req *req)
{
	struct ohash *h = dict_of(req);
	const uint8_t *k;
	size_t kn;

	if (!dict_key(req, 1, &k, &kn))
		return;
	reply_bool(req, h != NULL && ohash_get(h, k, kn) != NULL);
}

static void
dict_len(struct req *req)
{
	struct ohash *h = dict_of(req);

	reply_uint(req, h == NULL ? 0 : ohash_len(h));
}

enum dict_part { DICT_KEYS, DICT_VALUES, DICT_ITEMS, DICT_MAP };

/* The reply of dict_pack_all, known before it is built. */
static size_t
dict_all_size(struct ohash *h, enum dict_part part)
{
	size_t n = ohash_len(h), size = msg_array_head_size(n);

	if (part != DICT_VALUES)
		size += ohash_key_bytes(h);
	if (part != DICT_KEYS)
		size += ohash_value_bytes(h);
	/* each [key, value] pair's fixarray */
	return part == DICT_ITEMS ? size + n : size;
}

/* keys, values, items and copy: one walk in insertion order. */
static void
dict_pack_all(struct req *req, enum dict_part part)
{
	struct ohash *h = dict_of(req);
	msgpack_packer *pk;
	struct oh_entry *e;
	size_t n = h == NULL ? 0 : ohash_len(h), pos = 0;

	if (h != NULL && !reply_fits(req, dict_all_size(h, part)))
		return;
	pk = reply_begin(req);
	if (part == DICT_MAP)
		msgpack_pack_map(pk, n);
	else
		msgpack_pack_array(pk, n);
	if (h == NULL)
		return;
	while ((e = ohash_next(h, &pos)) != NULL) {
		switch (part) {
		case DICT_KEYS:
			pack_raw(pk, oh_key(e), e->klen);
			break;
		case DICT_VALUES:
			pack_raw(pk, oh_val(e), e->vlen);
			break;
		case DICT_ITEMS:
			dict_pack_pair(pk, e);
			break;
		case DICT_MAP:
			pack_raw(pk, oh_key(e), e->klen);
			pack_raw(pk, oh_val(e), e->vlen);
			break;
		}
	}
}

static void
dict_keys(struct req *req)
{
	dict_pack_all(req, DICT_KEYS);
}

static void
dict_values(struct req *req)
{
	dict_pack_all(req, DICT_VALUES);
}

static void
dict_items(struct req *req)
{
	dict_pack_all(req, DICT_ITEMS);
}

static void
dict_copy(struct req *req)
{
	dict_pack_all(req, DICT_MAP);
}

/*
 * The next [key, value] of update's source: a map's pairs, or the
 * elements of an array of 2-element arrays (checked beforehand).
 */
static bool
dict_next_pair(const struct mpv *src, struct mpv_iter *it, struct mpv *k,
    struct mpv *v)
{
	struct mpv_iter in;
	struct mpv pair;

	if (src->type == MPV_MAP)
		return mpv_iter_next(it, k) && mpv_iter_next(it, v);
	if (!mpv_iter_next(it, &pair))
		return false;
	mpv_iter_init(&in, &pair);
	mpv_iter_next(&in, k);
	mpv_iter_next(&in, v);
	return true;
}

/*
 * Store src's pairs (a map, or an array of [key, value]) in o, everything
 * checked before anything is stored: all or nothing. 0, or -1 after
 * replying.
 */
static int
dict_store(struct req *req, struct object *o, const struct mpv *src,
    bool journal)
{
	msgpack_packer *pk = NULL;
	struct mpv_iter it;
	struct mpv k, v;
	const uint8_t *kb, *vb;
	size_t kn, vn;

	if (src->type == MPV_ARRAY) {
		mpv_iter_init(&it, src);
		while (mpv_iter_next(&it, &k)) {
			if (k.type != MPV_ARRAY) {
				reply_error(req, PERR_BADTYPE, "%s: an array "
				    "must hold [key, value] arrays, not %s",
				    req->method->name, value_kind(&k));
				return -1;
			}
			if (k.len != 2) {
				reply_error(req, PERR_BADARG, "%s: a pair of "
				    "%u elements", req->method->name, k.len);
				return -1;
			}
		}
	} else if (src->type != MPV_MAP) {
		reply_error(req, PERR_BADTYPE, "%s takes a map or an array of "
		    "[key, value], not %s", req->method->name, value_kind(src));
		return -1;
	}
	mpv_iter_init(&it, src);
	while (dict_next_pair(src, &it, &k, &v)) {
		if (!dict_check_key(req, &k))
			return -1;
	}
	if (journal)
		pk = journal_begin(o, DICT_J_SETMANY, 2 * src->len);
	mpv_iter_init(&it, src);
	while (dict_next_pair(src, &it, &k, &v)) {
		value_canon(&k, &kbuf, &kb, &kn);
		value_canon(&v, &vbuf, &vb, &vn);
		ohash_set(o->data, kb, kn, vb, vn, NULL);
		if (journal) {
			pack_raw(pk, kb, kn);
			pack_raw(pk, vb, vn);
		}
	}
	if (journal)
		journal_end();
	return 0;
}

static void
dict_update(struct req *req)
{
	if (dict_store(req, req->obj, &req->argv[1],
	    journal_wants(req->obj)) == 0)
		reply_nil(req);
}

/* A large table is swapped for an empty one and freed in slices. */
static void
dict_clear(struct req *req)
{
	struct ohash *h = dict_of(req);

	if (h != NULL && ohash_len(h) > REGISTRY_FREE_SLICE) {
		registry_defer_free(&dict_type, h);
		req->obj->data = ohash_new();
	} else if (h != NULL)
		ohash_clear(h);
	if (h != NULL && journal_wants(req->obj)) {
		journal_begin(req->obj, DICT_J_CLEAR, 0);
		journal_end();
	}
	reply_nil(req);
}

static void
dict_collect(void *arg, const struct oh_entry *e)
{
	if (found.n == found.cap) {
		found.cap = found.cap == 0 ? 64 : found.cap * 2;
		found.e = xrealloc(found.e, found.cap * sizeof *found.e);
	}
	found.e[found.n++] = e;
}

static void
dict_scan(struct req *req)
{
	struct ohash *h = dict_of(req);
	msgpack_packer *pk;
	uint64_t cursor, count = 10, next = 0;
	size_t i, size;

	if (!req_uint_arg(req, 1, 0, UINT64_MAX, "cursor", &cursor))
		return;
	if (req->argc > 2 &&
	    !req_uint_arg(req, 2, 1, UINT32_MAX, "count", &count))
		return;
	found.n = 0;
	if (h != NULL)
		next = ohash_scan(h, cursor, count, dict_collect, NULL);
	size = 1 + msg_uint_size(next) + msg_array_head_size(found.n);
	for (i = 0; i < found.n; i++)
		size += 1 + (size_t)found.e[i]->klen + found.e[i]->vlen;
	if (!reply_fits(req, size))
		return;
	pk = reply_begin(req);
	msgpack_pack_array(pk, 2);
	msgpack_pack_uint64(pk, next);
	msgpack_pack_array(pk, found.n);
	for (i = 0; i < found.n; i++)
		dict_pack_pair(pk, (struct oh_entry *)found.e[i]);
}

static void
dict_incr(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e;
	struct mpv cur;
	const uint8_t *k, *p, *sum;
	size_t kn, n;

	if (!dict_key(req, 1, &k, &kn))
		return;
	if ((e = ohash_get(h, k, kn)) != NULL) {
		p = oh_val(e);
		mpv_read(&p, &cur);
	}
	if (value_add(req, e != NULL ? &cur : NULL,
	    req->argc > 2 ? &req->argv[2] : NULL, &sum, &n) != 0)
		return;
	/* The entry found is still valid: a sum of the same size goes in
	 * place, without a second lookup. */
	if (e != NULL && e->vlen == n)
		memcpy(oh_val(e), sum, n);
	else
		ohash_set(h, k, kn, sum, n, NULL);
	dict_journal_set(req->obj, k, kn, sum, n);
	reply_raw(req, sum, n);
}

static void
dict_cas(struct req *req)
{
	struct ohash *h = dict_of(req);
	struct oh_entry *e;
	const uint8_t *k, *expected, *new, *cur = value_nil;
	size_t kn, en, nn, cn = sizeof value_nil;
	bool ok;

	if (!dict_key(req, 1, &k, &kn))
		return;
	value_canon(&req->argv[2], &ebuf, &expected, &en);
	value_canon(&req->argv[3], &vbuf, &new, &nn);
	if ((e = ohash_get(h, k, kn)) != NULL) {
		cur = oh_val(e);
		cn = e->vlen;
	}
	ok = cn == en && memcmp(cur, expected, en) == 0;
	if (ok) {
		ohash_set(h, k, kn, new, nn, NULL);
		dict_journal_set(req->obj, k, kn, new, nn);
		cur = new;
		cn = nn;
	}
	value_reply_cas(req, ok, cur, cn);
}

/* --- the type ---------------------------------------------------------- */

/* The verbs that look one key up (param 1): their lookup, prefetched. */
static bool
dict_ahead(struct object *o, const struct method *m, const uint8_t *params,
    struct oh_ahead *a)
{
	struct mpv key;

	switch (m->id) {
	case MPMGR_MID_dict_get:
	case MPMGR_MID_dict_set:
	case MPMGR_MID_dict_setdefault:
	case MPMGR_MID_dict_pop:
	case MPMGR_MID_dict_delete:
	case MPMGR_MID_dict_contains:
	case MPMGR_MID_dict_incr:
	case MPMGR_MID_dict_cas:
		break;
	default:
		return false;
	}
	if (!ohash_prefetch_pays(o->data))
		return false;
	mpv_read(&params, &key);
	/* A key the handler would re-encode first is left to it; a fixint
	 * or a fixstr is canonical as it is. */
	if (key.raw[0] > 0x7f && (key.raw[0] & 0xe0) != 0xa0 &&
	    (key.type == MPV_MAP || !canon_is(&key)))
		return false;
	a->h = o->data;
	a->key = key.raw;
	a->klen = key.rawlen;
	return true;
}

static void
dict_init(struct object *o, const struct optval *v)
{
	o->data = ohash_new();
}

static bool
dict_free_step(struct object *o, size_t budget)
{
	return ohash_free_step(o->data, budget);
}

static bool
dict_is_initial(const struct object *o)
{
	return ohash_len(o->data) == 0;
}

static uint64_t
dict_size(const struct object *o)
{
	return ohash_len(o->data);
}

static size_t
dict_mem(const struct object *o)
{
	return ohash_mem(o->data);
}

/* Contents: [[key, value]...] in insertion order. */
static void
dict_contents(const struct object *o, msgpack_packer *pk)
{
	struct ohash *h = o->data;
	struct oh_entry *e;
	size_t pos = 0;

	msgpack_pack_array(pk, ohash_len(h));
	while ((e = ohash_next(h, &pos)) != NULL)
		dict_pack_pair(pk, e);
}

static int
dict_restore(struct object *o, const struct mpv *c, struct req *req)
{
	return c->type == MPV_NIL ? 0 : dict_store(req, o, c, false);
}

/* --- the journal -------------------------------------------------------- */

static const char *
dict_replay_set(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct mpv k, v;

	while (mpv_iter_next(args, &k) && mpv_iter_next(args, &v))
		ohash_set(o->data, k.raw, k.rawlen, v.raw, v.rawlen, NULL);
	return nargs % 2 == 0 ? NULL : "an odd number of keys and values";
}

static const char *
dict_replay_del(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct mpv k;

	jop_arg(args, &k);
	return ohash_del(o->data, k.raw, k.rawlen, NULL) ? NULL :
	    "no such key";
}

static const char *
dict_replay_clear(struct object *o, struct mpv_iter *args, uint32_t nargs)
{
	struct ohash *h = o->data;

	if (ohash_len(h) > REGISTRY_FREE_SLICE) {
		registry_defer_free(&dict_type, h);
		o->data = ohash_new();
	} else
		ohash_clear(h);
	return NULL;
}

static const struct jop dict_jops[] = {
	[DICT_J_SET] = { "set", 2, 2, dict_replay_set },
	[DICT_J_DEL] = { "del", 1, 1, dict_replay_del },
	[DICT_J_SETMANY] = { "setmany", 0, JOP_ANY, dict_replay_set },
	[DICT_J_CLEAR] = { "clear", 0, 0, dict_replay_clear },
	JOP_END
};

/* Its pairs in insertion order, about JOURNAL_BATCH bytes a record. */
static void
dict_dump(const struct object *o)
{
	struct ohash *h = o->data;
	struct oh_entry *e;
	msgpack_packer *pk;
	size_t pos = 0, end, n, bytes;

	for (;;) {
		/* how many pairs go in this record */
		end = pos;
		n = bytes = 0;
		while (bytes < JOURNAL_BATCH &&
		    (e = ohash_next(h, &end)) != NULL) {
			bytes += e->klen + e->vlen;
			n++;
		}
		if (n == 0)
			return;
		pk = journal_begin(o, DICT_J_SETMANY, 2 * (uint32_t)n);
		while (n-- > 0) {
			e = ohash_next(h, &pos);
			pack_raw(pk, oh_key(e), e->klen);
			pack_raw(pk, oh_val(e), e->vlen);
		}
		journal_end();
	}
}

static const struct method dict_methods[] = {
	MPMGR_METHODS_DICT(DISPATCH_ROW)
	DISPATCH_END
};

const struct obj_type dict_type = {
	.name = "dict",
	.methods = dict_methods,
	.init = dict_init,
	.free_step = dict_free_step,
	.is_initial = dict_is_initial,
	.size = dict_size,
	.mem = dict_mem,
	.contents = dict_contents,
	.restore = dict_restore,
	.jcode = JC_DICT,
	.jops = dict_jops,
	.dump = dict_dump,
	.ahead = dict_ahead,
};
