/*
 * slurm-cmd: one Slurm client as a child of the loop, and squeue's lines.
 * See slurm-cmd.h. Nothing here blocks: the child is uv_spawn'd, its
 * output read as it comes, and a client that hangs (slurmctld away) is
 * killed by a timer.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor/slurm-cmd.h"
#include "lib/xmalloc.h"

static void cmd_closed(uv_handle_t *h)
{
	struct slurm_cmd *p = h->data;

	if (--p->open)
		return;
	p->done(p);
	strbuf_release(&p->out_text);
	strbuf_release(&p->err_text);
	free(p);
}

static void cmd_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[65536];

	(void)h;
	(void)hint;
	/* The loop is one thread and each read is consumed at once. */
	buf->base = slab;
	buf->len = sizeof(slab);
}

static void cmd_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct slurm_cmd *p = st->data;
	struct strbuf *sb = st == (uv_stream_t *)&p->out ? &p->out_text :
			    &p->err_text;

	if (n > 0 && sb->len < SLURM_CMD_OUT_MAX)
		strbuf_add(sb, buf->base, (size_t)n);
	if (n < 0)
		uv_close((uv_handle_t *)st, cmd_closed);
}

static void cmd_exit(uv_process_t *proc, int64_t status, int sig)
{
	struct slurm_cmd *p = proc->data;

	p->status = status;
	p->signal = sig;
	uv_close((uv_handle_t *)proc, cmd_closed);
	uv_close((uv_handle_t *)&p->timer, cmd_closed);
}

static void cmd_timeout(uv_timer_t *t)
{
	struct slurm_cmd *p = t->data;

	p->timed_out = 1;
	uv_process_kill(&p->proc, SIGKILL);
}

void slurm_cmd_run(uv_loop_t *loop, char **argv,
		   void (*done)(struct slurm_cmd *), void *data, void *job)
{
	struct slurm_cmd *p = xcalloc(1, sizeof(*p));
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	int rc;

	p->done = done;
	p->data = data;
	p->job = job;
	strbuf_init(&p->out_text, 0);
	strbuf_init(&p->err_text, 0);
	uv_pipe_init(loop, &p->out, 0);
	uv_pipe_init(loop, &p->err, 0);
	uv_timer_init(loop, &p->timer);
	p->out.data = p->err.data = p->proc.data = p->timer.data = p;
	memset(&po, 0, sizeof(po));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&p->out;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&p->err;
	po.file = argv[0];
	po.args = argv;
	po.exit_cb = cmd_exit;
	po.stdio = stdio;
	po.stdio_count = 3;
	p->open = 4;
	rc = uv_spawn(loop, &p->proc, &po);
	if (rc < 0) {
		p->spawn_error = rc;
		p->status = 127;
		uv_close((uv_handle_t *)&p->proc, cmd_closed);
		uv_close((uv_handle_t *)&p->out, cmd_closed);
		uv_close((uv_handle_t *)&p->err, cmd_closed);
		uv_close((uv_handle_t *)&p->timer, cmd_closed);
		return;
	}
	uv_timer_start(&p->timer, cmd_timeout, SLURM_CMD_TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&p->out, cmd_alloc, cmd_read);
	uv_read_start((uv_stream_t *)&p->err, cmd_alloc, cmd_read);
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
