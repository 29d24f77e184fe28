/*
 * signature: a FAIL's decisive console line reduced to the words that name
 * the failure, so that two runs of the same bug compare equal and two bugs
 * do not. It is what a bisection step must match to count as bad, and
 * what groups one regression seen in several cells. Pure string work: it
 * never reads the store or the console log.
 */
#ifndef HVM_SIGNATURE_H
#define HVM_SIGNATURE_H

/* The placeholder left where a variable token (address, pid...) was. */
#define SIGNATURE_VAR "?"

/*
 * The signature of a decisive console line: the kernel timestamp, Xen's
 * "(XEN) " and "(d0v0) " prefixes go; hex numbers (0x..., and bare words
 * of 8 or more hex digits), the numbers after "pid"/"PID" and "CPU",
 * the addresses after "ip", "sp", "address"..., nonces, and numbers
 * inside brackets become SIGNATURE_VAR; what follows
 * the "Comm: name" of an oops header (taint flags, the kernel release,
 * which changes with every commit) goes; runs of white space become one
 * space. The words stay exactly as printed. NULL or "" gives "". Never
 * NULL; free() it.
 */
char *signature_of(const char *line);

#endif
