/*
 * publish: the static dashboard. Reads the store, writes a self-contained
 * site (index.html, style.css, grid/, commit/, cell/, run/) to an output
 * directory from the templates in web/, with its bookkeeping (.manifest;
 * the runs cache beside the store: docs/dashboard.md). Every string taken
 * from runs, kernels or cells is HTML-escaped: commit subjects and cell
 * names are user input.
 */
#ifndef HVM_PUBLISH_H
#define HVM_PUBLISH_H

#include "store/record.h"
#include "lib/strbuf.h"

/* The web/ template directory: $HVMATRIX_WEB, else the source tree's. */
const char *publish_web_dir(void);

/* Write the site to out_dir. 0 or -1 + err. Sets *index_path (caller
 * frees) to the absolute path of index.html when not NULL. */
int publish_dashboard(struct record *r, const char *out_dir,
		      char **index_path, struct strbuf *err);

#endif
