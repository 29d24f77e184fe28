/*
 * url: a repository URL as it may be shown or exported. A tree's URL can
 * carry a secret (https://user:token@host/..., ?private_token=...), and
 * libgit2's errors repeat it; every place that prints, logs or exports
 * one goes through here, so that the secret stays in the matrix file.
 */
#ifndef HVM_URL_H
#define HVM_URL_H

#include "lib/strbuf.h"

/*
 * url with its userinfo ("user:token@"), query ("?...") and fragment
 * ("#...") removed; NULL gives NULL. Newly allocated.
 */
char *url_display(const char *url);

/*
 * Every "scheme://" URL inside the text of sb (an error message, a log
 * line) rewritten in place as url_display() would. A URL ends at a space,
 * a control or a quote.
 */
void url_redact(struct strbuf *sb);

#endif
