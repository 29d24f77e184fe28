/*
 * mail: the pieces of RFC 5322 headers `hvmatrix report` writes from
 * text it does not trust (a git author, a commit subject): encoded words
 * for non-ASCII text, and mailboxes whose display name is quoted or
 * encoded so that nothing in it can add a recipient.
 */
#ifndef HVM_MAIL_H
#define HVM_MAIL_H

#include <stddef.h>

#include "lib/strbuf.h"

/*
 * Unstructured header text (a Subject): ASCII as it is, else RFC 2047
 * encoded words of at most 45 bytes each, split between UTF-8
 * characters, folded onto continuation lines. s has no controls.
 */
void mail_add_text(struct strbuf *sb, const char *s);

/* Is s[0..len) a plain addr-spec: a dot-atom, '@', a host name? */
int mail_addr_ok(const char *s, size_t len);

/*
 * One mailbox, "addr" or "Display Name <addr>" (git's "Name <email>"):
 * written as one RFC 5322 mailbox, the name an atom phrase, a quoted
 * string or encoded words, so that a ',' or '@' in it stays in the name.
 * Returns 0, or -1 with nothing written when the address is not valid
 * (mail_addr_ok) or the text is not one mailbox.
 */
int mail_add_mailbox(struct strbuf *sb, const char *mailbox);

/*
 * A comma-separated list of mailboxes (a ',' inside quotes or <> does
 * not separate), each as mail_add_mailbox writes it, joined by ", ".
 * Those that are not valid are left out and named in dropped (one per
 * line). Returns how many were written.
 */
size_t mail_add_list(struct strbuf *sb, const char *list,
		     struct strbuf *dropped);

#endif
