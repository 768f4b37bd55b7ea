/*
 * catalogue.c: the method catalogue (mpmgr_methods.h) as data, for the
 * code that walks it at run time: mpctl's help and arity checks, the
 * daemon's start-up check, the docs test.
 */
#include <stddef.h>
#include <string.h>

#include "mpmgr_methods.h"

const struct mpmgr_method_info catalogue_methods[MPMGR_MID_COUNT] = {
#define CATALOGUE_ROW(t, v, mn, mx, fl, p, s) \
	[MPMGR_MID_##t##_##v] = { .name = #t "." #v, .type = #t, .verb = #v, \
	    .min_params = (mn), .max_params = (mx), .flags = (fl), \
	    .params = (p), .summary = (s) },
	MPMGR_METHODS(CATALOGUE_ROW)
#undef CATALOGUE_ROW
};

const struct mpmgr_method_info *
catalogue_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < MPMGR_MID_COUNT; i++) {
		if (strlen(catalogue_methods[i].name) == len &&
		    memcmp(catalogue_methods[i].name, name, len) == 0)
			return &catalogue_methods[i];
	}
	return NULL;
}
