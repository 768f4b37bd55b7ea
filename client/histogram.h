/*
 * histogram.h: a latency histogram for mpbench and bench/floor.
 *
 * Log-linear buckets in the manner of HdrHistogram: values below 2^HIST_BITS
 * nanoseconds have a bucket each, and every power of two above is split
 * into 2^(HIST_BITS-1) equal buckets, so a value is known to within 1/128
 * of itself whatever its size, in a fixed 60 KiB, with O(1) recording.
 * Percentiles answer the highest value of the bucket they fall in (never
 * above the largest value seen), as HdrHistogram does. Header-only so that
 * the floor program, which links nothing, shares it.
 */
#ifndef MPMGR_HISTOGRAM_H
#define MPMGR_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#define HIST_BITS 8
#define HIST_HALF (1u << (HIST_BITS - 1))
/* the largest group of a 64-bit value is 64 - HIST_BITS */
#define HIST_BUCKETS ((64 - HIST_BITS + 2) * HIST_HALF)

struct histogram {
	uint64_t count;
	uint64_t sum;           /* ns; wraps only after 584 years of samples */
	uint64_t min;
	uint64_t max;
	uint64_t bucket[HIST_BUCKETS];
};

static inline void
hist_init(struct histogram *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static inline unsigned
hist_index(uint64_t v)
{
	unsigned group;

	if (v < (1u << HIST_BITS))
		return (unsigned)v;
	group = (unsigned)(63 - __builtin_clzll(v)) - HIST_BITS + 1;
	return group * HIST_HALF + (unsigned)(v >> group);
}

/* The highest value that falls in bucket i. */
static inline uint64_t
hist_bucket_top(unsigned i)
{
	unsigned group;
	uint64_t sub;

	if (i < (1u << HIST_BITS))
		return i;
	group = i / HIST_HALF - 1;
	sub = i - group * HIST_HALF;
	return ((sub + 1) << group) - 1;
}

static inline void
hist_record(struct histogram *h, uint64_t ns)
{
	h->bucket[hist_index(ns)]++;
	h->count++;
	h->sum += ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

/* The value at percentile p (0..100] in ns; 0 for an empty histogram. */
static inline uint64_t
hist_percentile(const struct histogram *h, double p)
{
	uint64_t want, seen = 0, top;
	double rank;
	unsigned i;

	if (h->count == 0)
		return 0;
	rank = p / 100.0 * (double)h->count;
	want = (uint64_t)rank;
	if ((double)want < rank)
		want++;
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			top = hist_bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

static inline double
hist_mean(const struct histogram *h)
{
	return h->count == 0 ? 0.0 : (double)h->sum / (double)h->count;
}

#endif
