/*
 * record-web: the released kernels of the compatibility web (schema 10,
 * table web_kernels). Each is also a commit of the tree "release" whose
 * id is the image's sha256, so its runs are recorded, compared and shown
 * like any commit's (tree "release", build "release", purpose "web").
 */
#ifndef HVM_RECORD_WEB_H
#define HVM_RECORD_WEB_H

#include <stddef.h>

#include "store/record.h"

/* The tree, and the build, of every web kernel's runs and job. */
#define RECORD_WEB_TREE "release"
#define RECORD_WEB_BUILD "release"
#define RECORD_WEB_PURPOSE "web"

/*
 * Web boots come after a tree's confirmations and bisection steps and
 * beside the tips of new pushes, ahead of the backlog of older commits:
 * a new hypervisor release fills its column as fast as pushes are seen.
 */
#define RECORD_PRIORITY_WEB RECORD_PRIORITY_TIP

struct record_web_kernel {
	char *id;		/* the image's sha256, hex */
	char *release;		/* "6.12" */
	char *package;		/* Debian's package */
	char *version;		/* Debian's version of it */
	char *path;		/* the image */
	double added_at;	/* when it was first added (read only) */
};

/*
 * Record k (its id, the sha256 of k->path's bytes) as a web kernel and as
 * a commit of the tree "release". Adding one that is there updates where
 * its image is; its added_at is kept. 0 or -1 + err.
 */
int record_web_kernels_add(struct record *r,
			   const struct record_web_kernel *k,
			   struct strbuf *err);
/* Every web kernel, oldest added first. 0 or -1 + err. */
int record_web_kernels_list(struct record *r, struct record_web_kernel **out,
			    size_t *n, struct strbuf *err);
/* One by id: 1 found, 0 not, -1 + err. */
int record_web_kernels_get(struct record *r, const char *id,
			   struct record_web_kernel *out, struct strbuf *err);
void record_web_kernel_release(struct record_web_kernel *k);
void record_web_kernels_free(struct record_web_kernel *k, size_t n);
/* Every run of a web kernel (tree "release", commit_id its id), oldest
 * first (started_at, then id): what the web's views read. 0 or -1 + err. */
int record_web_runs(struct record *r, struct record_run **runs, size_t *n,
		    struct strbuf *err);

/*
 * Web kernel id must boot in cell when no run of it there has env_key
 * (boot-env.h's key of the cell now): then one more run is wanted (a
 * job of the tree "release" at RECORD_PRIORITY_WEB). *wanted is 1 when
 * it was, 0 when a run with that key exists. 0 or -1 + err.
 */
int record_web_want(struct record *r, const char *id, const char *cell,
		    const char *env_key, int *wanted, struct strbuf *err);

#endif
