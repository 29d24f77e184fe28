/*
 * executor-build: a kernel build as a Slurm job (the executor key
 * builds: true), for job.c: build_start() and build_stop() through Slurm.
 * The node runs `hvmatrix run-build`, which builds with build.c exactly
 * as the daemon would; the daemon reads its result back into the
 * struct build, so job.c sees a local build's results.
 */
#ifndef HVM_EXECUTOR_BUILD_H
#define HVM_EXECUTOR_BUILD_H

#include <uv.h>

#include "build/build.h"
#include "matrix/matrix.h"
#include "lib/strbuf.h"

/*
 * build_start() through Slurm: b set up as for build_start (tree, config,
 * commit, repo_path, jobs, callbacks; state_dir is not used: the node
 * builds under SHARED/builds). 0 (on_done follows, on the loop, with the
 * results a local build gives), or -1 + err and on_done never called.
 * The nodes must see matrix_path and b->repo_path at the same paths.
 */
int executor_build_start(uv_loop_t *loop, const struct matrix_executor *cfg,
			 const char *matrix_path, struct build *b,
			 struct strbuf *err);
/* build_stop(): scancel; on_done follows, BUILD_INTERRUPTED. */
void executor_build_stop(struct build *b);

#endif
