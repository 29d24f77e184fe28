/*
 * nonce: the random names that tell runs apart (a run's nonce on the
 * kernel command line and in its logs, a Slurm build's job name). Two
 * nonces made by one process never repeat, even on a host without an
 * entropy source.
 */
#ifndef HVM_NONCE_H
#define HVM_NONCE_H

#define NONCE_LEN 16		/* hex digits, without the '\0' */

/* NONCE_LEN lowercase hex digits and a '\0' into out. */
void nonce_make(char out[NONCE_LEN + 1]);

/* Tests: make every nonce as if getrandom() had failed. */
extern int nonce_force_fallback;

#endif
