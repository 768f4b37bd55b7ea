/*
 * errors.c: the error codes' wire names, both ways, from the one X-macro
 * in mpmgr_proto.h so that the enum and the names cannot drift apart.
 */
#include <string.h>

#include "mpmgr_proto.h"

static const char *const err_names[PERR_COUNT] = {
	[PERR_NONE] = NULL,
#define PERR_NAME(n) [PERR_##n] = #n,
	MPMGR_ERRORS(PERR_NAME)
#undef PERR_NAME
};

/* Their lengths, so that a lookup compares bytes only where they match. */
static const unsigned char err_lens[PERR_COUNT] = {
#define PERR_LEN(n) [PERR_##n] = sizeof(#n) - 1,
	MPMGR_ERRORS(PERR_LEN)
#undef PERR_LEN
};

const char *
proto_err_name(int code)
{
	if (code <= PERR_NONE || code >= PERR_COUNT)
		return NULL;
	return err_names[code];
}

size_t
proto_err_name_len(int code)
{
	if (code <= PERR_NONE || code >= PERR_COUNT)
		return 0;
	return err_lens[code];
}

int
proto_err_lookup(const char *name, size_t len)
{
	int code;

	for (code = PERR_NONE + 1; code < PERR_COUNT; code++) {
		if (err_lens[code] == len &&
		    memcmp(err_names[code], name, len) == 0)
			return code;
	}
	return PERR_NONE;
}
