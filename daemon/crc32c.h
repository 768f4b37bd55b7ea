/*
 * crc32c.h: CRC-32C (Castagnoli, the polynomial iSCSI, ext4 and LevelDB
 * use), which guards each journal record.
 *
 * crc32c(0, p, n) is the CRC of n bytes; feeding pieces in turn,
 * crc32c(crc32c(0, a, na), b, nb), gives the CRC of a then b. The x86
 * SSE4.2 instruction does the work where the CPU has it (asked once);
 * elsewhere a slice-by-8 table does, with the same results.
 */
#ifndef MPMGR_CRC32C_H
#define MPMGR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t crc32c(uint32_t crc, const void *p, size_t n);
/* The table-driven version alone, for tests against the instruction. */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
