/*
 * crc32c.c: CRC-32C (crc32c.h), reflected polynomial 0x82f63b78, initial
 * and final value 0xffffffff.
 *
 * The software version is slice-by-8 (eight 256-entry tables, built once):
 * about a byte per cycle. On x86-64 with SSE4.2 the crc32 instruction
 * takes 8 bytes at a time, several times faster; which one runs is decided
 * on the first call. Both give the same answers (tests/unit_journal.c,
 * test_framing).
 */
#include <stdbool.h>
#include <string.h>

#include "crc32c.h"

#define CRC32C_POLY 0x82f63b78u

static uint32_t table[8][256];
static bool table_ready;

static void
crc32c_init_table(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = table[0][i];
		for (k = 1; k < 8; k++) {
			c = table[0][c & 0xff] ^ (c >> 8);
			table[k][i] = c;
		}
	}
	table_ready = true;
}

uint32_t
crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t w;

	if (!table_ready)
		crc32c_init_table();
	crc = ~crc;
	for (; n > 0 && ((uintptr_t)b & 7) != 0; n--)
		crc = table[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		/* little-endian: the first byte is the low one */
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^
		    table[5][(w >> 16) & 0xff] ^ table[4][(w >> 24) & 0xff] ^
		    table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
		    table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
	}
	while (n-- > 0)
		crc = table[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
__attribute__((target("sse4.2")))
static uint32_t
crc32c_hw(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t c = ~crc, w;

	for (; n > 0 && ((uintptr_t)b & 7) != 0; n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&w, b, 8);
		c = __builtin_ia32_crc32di(c, w);
	}
	while (n-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return ~(uint32_t)c;
}

uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	static int hw = -1;

	if (hw == -1) {
		__builtin_cpu_init();
		hw = __builtin_cpu_supports("sse4.2");
	}
	return hw ? crc32c_hw(crc, p, n) : crc32c_sw(crc, p, n);
}
#else
uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	return crc32c_sw(crc, p, n);
}
#endif
