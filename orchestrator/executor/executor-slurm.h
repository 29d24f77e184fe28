/*
 * executor-slurm: the Slurm half of a round, for executor.c (nothing else
 * includes this header). The runs it is given are submitted as Slurm
 * batch jobs that run `hvmatrix run-cell` on a node and reported through
 * opts as boot.c reports its own: on_start when Slurm runs one, on_done
 * with its verdict, on_all_done once.
 */
#ifndef HVM_EXECUTOR_SLURM_H
#define HVM_EXECUTOR_SLURM_H

#include <uv.h>

#include "boot/boot.h"
#include "matrix/matrix.h"

struct executor_slurm;

struct executor_slurm *executor_slurm_start(uv_loop_t *loop,
					    const struct matrix_executor *cfg,
					    struct boot_run *runs, size_t n,
					    const struct boot_opts *opts);
void executor_slurm_stop(struct executor_slurm *s);
void executor_slurm_load(const struct executor_slurm *s, size_t *waiting,
			 unsigned *running);
/* After on_all_done; frees once its timer is closed. */
void executor_slurm_free(struct executor_slurm *s);

#endif
