/*
 * nonce: see nonce.h. getrandom() when the kernel gives it; otherwise
 * (a broken host) a per-process seed plus a counter, scrambled by a
 * bijection, so that the fallback can never repeat within the process.
 * It never fails: a run must be nameable on any host.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "lib/nonce.h"

int nonce_force_fallback;

static pthread_once_t seed_once = PTHREAD_ONCE_INIT;
static uint64_t seed, counter;

static void seed_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	seed ^= (uint64_t)getpid() << 32;
}

/*
 * The splitmix64 finaliser: every step (xor with a shift, multiplication
 * by an odd constant) can be undone, so distinct inputs stay distinct.
 */
static uint64_t scramble(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9u;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebu;
	x ^= x >> 31;
	return x;
}

void nonce_make(char out[NONCE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[NONCE_LEN / 2];
	size_t i;

	if (nonce_force_fallback ||
	    getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		uint64_t x;

		pthread_once(&seed_once, seed_init);
		x = scramble(seed + __atomic_fetch_add(&counter, 1,
						       __ATOMIC_RELAXED));
		memcpy(raw, &x, sizeof(raw));
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[NONCE_LEN] = '\0';
}
