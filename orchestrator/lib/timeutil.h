/*
 * timeutil: the wall clock as the store keeps it (Unix seconds, a double
 * with sub-second precision). The one definition every module uses.
 */
#ifndef HVM_TIMEUTIL_H
#define HVM_TIMEUTIL_H

double timeutil_now(void);

#endif
