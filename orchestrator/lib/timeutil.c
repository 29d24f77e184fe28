/*
 * timeutil: see timeutil.h. CLOCK_REALTIME: these times are stored and
 * shown as dates; durations on the loop use uv_now() or uv_hrtime().
 */
#include <time.h>

#include "lib/timeutil.h"

double timeutil_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
