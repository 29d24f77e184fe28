/*
 * expect: a cell's expectations of its guest, checked for one run.
 *
 * Two forms. "KEY=VALUE" (hypervisor=xen, guest_type=PVH) is checked
 * against facts no kernel release words differently: the payload's
 * "HVMATRIX-FACT nonce=N hypervisor=H cpuid=SIG sys_type=T guest_type=G
 * guest_type_from=F" line (CPUID's hypervisor signature, /sys/hypervisor,
 * see images/payload/hvm-probe.c) and which hypervisor the kernel said it
 * detected (init's "hvmatrix-init: ... hypervisor=NAME", from "Hypervisor
 * detected: NAME", worded alike from 2.6.34 to 7.x). The kernel's banner
 * ("Booting kernel on Xen PVH" and its 5.10 wording "Booting
 * paravirtualized kernel on Xen PVH") is read only when the payload could
 * not tell. Any other string is looked for in the console as it is, except
 * that a string the farm knows as one release's wording of a fact (the
 * banners above) is met by that fact too: a kernel is not blamed for
 * another release's words.
 *
 * It decides no verdict: judge.c asks, at the marker, which expectation
 * is not met and why.
 */
#ifndef HVM_EXPECT_H
#define HVM_EXPECT_H

#include <stddef.h>
#include "lib/strbuf.h"

#define EXPECT_FACT_PREFIX "HVMATRIX-FACT "

enum expect_fact {
	EXPECT_HYPERVISOR = 0,	/* xen, kvm, vmware, hyperv, none */
	EXPECT_GUEST_TYPE,	/* PV, PVH, HVM */
	EXPECT_N_FACTS,
	EXPECT_TEXT = EXPECT_N_FACTS,	/* a console string */
};

struct expect_item {
	char *text;		/* as the cell wrote it */
	enum expect_fact kind;
	char *value;		/* a fact's value, normalised */
	int seen;		/* a console string seen */
};

struct expect {
	struct expect_item *v;
	size_t n;
	/* The payload's facts (NULL: not reported or unknown), its line. */
	char *fact[EXPECT_N_FACTS];
	char *fact_line;
	/* What the kernel said: its detected hypervisor (init's report)
	 * and, from its banners, the Xen guest type and hypervisor. */
	char *detected;
	char *said[EXPECT_N_FACTS];
};

void expect_init(struct expect *e, char *const *list, size_t n);
void expect_release(struct expect *e);
/*
 * Is `s` an expectation of the fact form? Then 1 and, if it is malformed
 * (an unknown value), 1 with *bad set to a message; 0 for a plain string.
 * The matrix checks cells with the same vocabulary (matrix/cell.c).
 */
int expect_is_fact(const char *s, const char **bad);
/* A console line starting with EXPECT_FACT_PREFIX: 1 if ours (nonce). */
int expect_fact_line(struct expect *e, const char *nonce, const char *line);
/* Any other console line of the guest (not the command line's echo). */
void expect_console_line(struct expect *e, const char *line);
/*
 * The first expectation not met: its index, with why (for the reason)
 * and the line that shows it (the fact line, or NULL) set; -1 when all
 * are met.
 */
int expect_unmet(const struct expect *e, struct strbuf *why,
		 const char **line);

#endif
