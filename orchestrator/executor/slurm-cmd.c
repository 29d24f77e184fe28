/*
 * slurm-cmd: one Slurm client as a child of the loop, and squeue's lines.
 * See slurm-cmd.h. Nothing here blocks: the client is a struct child,
 * its output read as it comes, and one that hangs (slurmctld away) is
 * killed by its timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/slurm-cmd.h"
#include "lib/xmalloc.h"

static void cmd_closed(struct child *c)
{
	struct slurm_cmd *p = container_of(c, struct slurm_cmd, child);

	p->timed_out = c->timed_out;
	p->signal = c->term_signal;
	p->spawn_error = c->spawn_error;
	/* A client that could not start: as if the shell had said so. */
	p->status = c->spawn_error ? 127 : c->exit_status;
	p->done(p);
	strbuf_release(&p->out_text);
	strbuf_release(&p->err_text);
	free(p);
}

static void cmd_output(struct strbuf *sb, const char *buf, size_t len)
{
	if (sb->len < SLURM_CMD_OUT_MAX)
		strbuf_add(sb, buf, len);
}

static void cmd_out(struct child *c, const char *buf, size_t len)
{
	cmd_output(&container_of(c, struct slurm_cmd, child)->out_text, buf,
		   len);
}

static void cmd_err(struct child *c, const char *buf, size_t len)
{
	cmd_output(&container_of(c, struct slurm_cmd, child)->err_text, buf,
		   len);
}

void slurm_cmd_run(uv_loop_t *loop, char **argv,
		   void (*done)(struct slurm_cmd *), void *data, void *job)
{
	struct slurm_cmd *p = xcalloc(1, sizeof(*p));

	p->done = done;
	p->data = data;
	p->job = job;
	strbuf_init(&p->out_text, 0);
	strbuf_init(&p->err_text, 0);
	child_init(&p->child);
	p->child.argv = argv;
	p->child.via = SPAWN_DIRECT;
	p->child.on_out = cmd_out;
	p->child.on_err = cmd_err;
	p->child.timeout_ms = SLURM_CMD_TIMEOUT_MS;
	p->child.on_closed = cmd_closed;
	/* Failed or not, cmd_closed() follows. */
	child_start(&p->child, loop);
}

void slurm_cmd_said(const struct slurm_cmd *p, struct strbuf *out)
{
	const char *t = p->err_text.len ? p->err_text.buf : p->out_text.buf;

	if (p->spawn_error) {
		strbuf_addf(out, "cannot run it: %s",
			    uv_strerror(p->spawn_error));
		return;
	}
	if (p->timed_out) {
		strbuf_addf(out, "no answer in %d s",
			    SLURM_CMD_TIMEOUT_MS / 1000);
		return;
	}
	strbuf_add(out, t, strcspn(t, "\n"));
	if (!out->len)
		strbuf_addf(out, "exit status %lld", (long long)p->status);
}

int slurm_cmd_ok(const struct slurm_cmd *p)
{
	return !p->spawn_error && !p->timed_out && p->status == 0 &&
	       p->signal == 0;
}

static int state_is(const char *st, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(st, *list))
			return 1;
	return 0;
}

enum slurm_state_class slurm_cmd_state_class(const char *state)
{
	static const char *const waiting[] = {
		"PENDING", "CONFIGURING", "RESV_DEL_HOLD", "SUSPENDED", NULL
	};
	static const char *const requeued[] = {
		"REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", NULL
	};
	static const char *const active[] = {
		"RUNNING", "COMPLETING", "STAGE_OUT", "SIGNALING",
		"RESIZING", "STOPPED", NULL
	};

	if (state_is(state, waiting))
		return SLURM_WAITING;
	if (state_is(state, requeued))
		return SLURM_REQUEUED;
	if (state_is(state, active))
		return SLURM_ACTIVE;
	return SLURM_ENDED;
}

int slurm_cmd_fields(char *line, char **f, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		f[k] = line;
		line = strchrnul(line, '|');
		if (*line)
			*line++ = '\0';
		else if (k + 1 < n)
			return -1;
	}
	return 0;
}

int slurm_cmd_task_id(const char *id, char *job, size_t len,
		      unsigned *task)
{
	size_t n = strspn(id, "0123456789");
	char *end;
	unsigned long t;

	if (!n || id[n] != '_' || n >= len)
		return -1;
	t = strtoul(id + n + 1, &end, 10);
	if (end == id + n + 1 || *end || t > 0xffffffffUL)
		return -1;
	memcpy(job, id, n);
	job[n] = '\0';
	*task = (unsigned)t;
	return 0;
}
