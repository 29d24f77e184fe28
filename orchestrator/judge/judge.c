/*
 * judge: console stream + exit status -> verdict. The first decisive event
 * wins and is never overturned, except that a pending PASS (marker seen,
 * guest powering off) still turns into FAIL if the kernel dies on the way
 * down. Host and tool trouble is ERROR, never FAIL.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "lib/xmalloc.h"

#define JUDGE_MAX_LINE 4096
#define JUDGE_MAX_STDERR 4096

/* Console lines that mean the kernel (or Xen under it) failed. */
static const struct {
	const char *needle;
	const char *reason;
} failures[] = {
	{ "Kernel panic - not syncing", "kernel panic" },
	{ "Unable to boot", "kernel refused to boot on this CPU" },
	{ "BUG: ", "kernel BUG" },
	{ "Oops: ", "kernel oops" },
	{ "general protection fault", "kernel general protection fault" },
	{ "invalid opcode: ", "kernel oops (invalid opcode)" },
	{ "Hardware Dom0 crashed", "Xen: dom0 crashed" },
	{ "Hardware Dom0 halted", "Xen: dom0 halted" },
	{ "Hardware Dom0 shutdown", "Xen: dom0 shut down before the marker" },
	{ "Panic on CPU", "Xen panic" },
	{ "Domain 0 crashed", "Xen: dom0 crashed" },
};

/*
 * Console lines that mean the farm's machinery failed under the kernel:
 * ERROR, never FAIL. QEMU TCG's emulated SVM gives Xen no next-RIP for
 * some instructions (RDTSCP), so Xen cannot emulate them and kills the
 * domain; on real hardware this cannot happen.
 */
static const struct {
	const char *needle;
	const char *reason;
} host_failures[] = {
	{ "SVM Insn len emulation failed", "nested virtualisation gap: Xen "
	  "could not emulate an instruction under QEMU's SVM (host "
	  "limitation, not the kernel; hide the instruction from the CPU "
	  "model, e.g. -rdtscp)" },
};

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_OSC, ESC_OSC_END, ESC_CHARSET };

void judge_init(struct judge *j, const char *nonce, char *const *expect,
		size_t n_expect)
{
	memset(j, 0, sizeof(*j));
	j->nonce = xstrdup(nonce);
	expect_init(&j->expect, expect, n_expect);
	strbuf_init(&j->partial, 256);
	strbuf_init(&j->last_line, 0);
	strbuf_init(&j->stderr_text, 0);
	guest_probes_init(&j->probes, GUEST_PROBES_DEFAULT_TOLERANCE);
}

void judge_set_clock_tolerance(struct judge *j, double tolerance)
{
	j->probes.tolerance = tolerance;
}

char *judge_take_handover(struct judge *j)
{
	char *h = j->probes.handover;

	j->probes.handover = NULL;
	return h;
}

void judge_release(struct judge *j)
{
	expect_release(&j->expect);
	free(j->nonce);
	free(j->hypervisor);
	free(j->wrong_marker);
	free(j->unloadable);
	free(j->reset_line);
	free(j->guest);
	free(j->reason);
	free(j->line);
	strbuf_release(&j->partial);
	strbuf_release(&j->last_line);
	strbuf_release(&j->stderr_text);
	guest_probes_release(&j->probes);
	memset(j, 0, sizeof(*j));
}

void judge_set_guest(struct judge *j, const char *guest)
{
	free(j->guest);
	j->guest = xstrdup(guest);
}

static void decide(struct judge *j, enum verdict v, const char *line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void decide(struct judge *j, enum verdict v, const char *line,
		   const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (j->verdict)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	j->verdict = v;
	j->reason = strbuf_detach(&sb, NULL);
	j->line = xstrdup(line ? line : "");
}

/* QEMU's first line that is not a warning, else its first line. */
static const char *first_stderr_line(struct judge *j, struct strbuf *out)
{
	const char *s = j->stderr_text.buf;
	const char *first = NULL, *err = NULL;

	for (; *s; s = *s ? s + 1 : s) {
		const char *nl = strchrnul(s, '\n');

		if (nl > s && !first)
			first = s;
		if (nl > s && !err && !memmem(s, nl - s, "warning: ", 9))
			err = s;
		s = nl;
	}
	s = err ? err : first;
	if (s)
		strbuf_add(out, s, strchrnul(s, '\n') - s);
	return out->buf;
}

/*
 * Has the kernel itself printed? Firmware speaks first on the same serial
 * line (SeaBIOS, iPXE's "Booting from ROM.."): only printk's time stamp
 * and the setup and decompressor stages' own words count.
 */
static int is_kernel_line(const char *line)
{
	static const char *const words[] = {
		"Linux version", "Probing EDD", "Decompressing Linux",
		"early console in", "Unable to boot",
	};
	const char *p = line;
	size_t i;

	if (*p == '[') {
		p += 1 + strspn(p + 1, " ");
		if (*p >= '0' && *p <= '9' && strchr(p, '.') &&
		    strchr(p, ']'))
			return 1;
	}
	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strstr(line, words[i]))
			return 1;
	return 0;
}

static int is_cmdline_echo(const char *line)
{
	return strstr(line, "Command line:") != NULL;
}

static void parse_init_report(struct judge *j, const char *line)
{
	const char *hv = strstr(line, "hypervisor=");
	size_t len;

	if (!hv)
		return;
	/* The last field: the rest of the line ("Xen PV" has a blank). */
	hv += strlen("hypervisor=");
	len = strlen(hv);
	free(j->hypervisor);
	j->hypervisor = xstrndup(hv, len);
}

/*
 * A probe failed (FAIL, its line decisive) or reported the farm's own
 * trouble (ERROR); or, when `end` names how the run ended, a probe was
 * still running: it hung or reset the guest. Decides and returns 1, else
 * returns 0.
 */
static int probe_failed(struct judge *j, const char *end)
{
	const struct guest_probes *g = &j->probes;
	const struct guest_probe *p;

	if (g->errored >= 0) {
		p = &g->v[g->errored];
		decide(j, VERDICT_ERROR, p->line, "probe %s could not run: %s",
		       p->name, p->detail);
		return 1;
	}
	if (g->failed >= 0) {
		p = &g->v[g->failed];
		decide(j, VERDICT_FAIL, p->line, "probe %s failed: %s",
		       p->name, p->detail);
		return 1;
	}
	if (end && g->running) {
		decide(j, VERDICT_FAIL, g->running_line, "probe %s hung: %s",
		       g->running, end);
		return 1;
	}
	return 0;
}

/*
 * A hypervisor said it cannot read the kernel's image: that, not what
 * followed (its panic, a failed domain creation, an exit), is the
 * finding. Decides and returns 1 when such a line was seen.
 */
static int unloadable(struct judge *j, const char *what)
{
	if (!j->unloadable)
		return 0;
	decide(j, VERDICT_FAIL, j->unloadable, JUDGE_IMAGE_UNLOADABLE ": the "
	       "hypervisor cannot load this kernel's image (%s: %s)", what,
	       early_unloadable(j->unloadable));
	j->action = JUDGE_FAILING;
	return 1;
}

void judge_reset_log(struct judge *j, const char *text)
{
	free(j->reset_line);
	j->reset_line = text ? early_reset_line(text) : NULL;
}

static void marker_line(struct judge *j, const char *line)
{
	const char *nonce = line + strlen(JUDGE_MARKER);
	struct strbuf why = STRBUF_INIT;
	const char *fact_line;
	int unmet;

	if (strcmp(nonce, j->nonce)) {
		if (!j->wrong_marker)
			j->wrong_marker = xstrdup(line);
		return;
	}
	if (probe_failed(j, NULL)) {
		j->action = JUDGE_FAILING;
		return;
	}
	/* A probe that started and never said how it went died in the
	 * guest (a trap in its own process): not a pass. */
	if (j->probes.running) {
		decide(j, VERDICT_FAIL, j->probes.running_line, "probe %s "
		       "ended without a result", j->probes.running);
		j->action = JUDGE_FAILING;
		return;
	}
	unmet = expect_unmet(&j->expect, &why, &fact_line);
	if (unmet >= 0) {
		decide(j, VERDICT_FAIL, fact_line ? fact_line : line,
		       "guest does not meet \"%s\": %s (its init saw "
		       "hypervisor=%s)", j->expect.v[unmet].text, why.buf,
		       j->hypervisor ? j->hypervisor : "?");
		strbuf_release(&why);
		j->action = JUDGE_FAILING;
		return;
	}
	strbuf_release(&why);
	free(j->line);
	j->line = xstrdup(line);
	j->action = JUDGE_PASSING;
}

/* Does `line` start with "hvmatrix-agent: WHAT job=NAME" for our job? */
/* Does s (n bytes) start with the C string p? Then skip past it. */
static int skip_prefix(const char **s, size_t *n, const char *p)
{
	size_t k = strlen(p);

	if (*n < k || memcmp(*s, p, k))
		return 0;
	*s += k;
	*n -= k;
	return 1;
}

const char *judge_agent_guest(const char *line, size_t n, const char *what,
			      size_t *len)
{
	size_t k;

	if (!skip_prefix(&line, &n, JUDGE_AGENT) ||
	    !skip_prefix(&line, &n, what) || !skip_prefix(&line, &n, " job="))
		return NULL;
	for (k = 0; k < n && line[k] != ' ' && line[k] != '\r' &&
	     line[k] != '\n'; k++)
		;
	*len = k;
	return line;
}

/* Our guest's "begin"/"end" line? Then what follows its name. */
static const char *agent_line(struct judge *j, const char *line,
			      const char *what)
{
	size_t k;
	const char *name = judge_agent_guest(line, strlen(line), what, &k);

	if (!name || k != strlen(j->guest) || memcmp(name, j->guest, k))
		return NULL;
	return name + k;
}

/* The agent's "end" line: the guest's fate decides what is left open. */
static void guest_ended(struct judge *j, const char *line, const char *rest)
{
	const char *fate = strstr(rest, " fate=");
	const char *detail = strstr(rest, " detail=");
	const char *secs = strstr(rest, " seconds=");
	char fate_text[80];
	size_t len;

	if (secs)
		j->guest_seconds = strtod(secs + 9, NULL);
	j->in_guest = 0;
	fate = fate ? fate + 6 : "?";
	len = strcspn(fate, " ");
	snprintf(fate_text, sizeof(fate_text), "the agent ended the guest "
		 "(%.*s)", (int)(len < 40 ? len : 40), fate);
	detail = detail ? detail + 8 : "";
	if (j->action == JUDGE_PASSING && !strncmp(fate, "shutdown", len)) {
		free(j->line);
		j->line = NULL;
		decide(j, VERDICT_PASS, line, "marker with this run's nonce%s; "
		       "the guest shut down", j->expect.n ?
		       " and every expected report seen" : "");
	} else if (!strncmp(fate, "unloadable", len) ||
		   (!strncmp(fate, "error", len) && (j->unloadable ||
		    early_unloadable(detail)))) {
		/* An agent from before fate=unloadable said error, with
		 * libxenguest's words in its detail. */
		if (!j->unloadable)
			j->unloadable = xstrdup(*detail ? detail : line);
		unloadable(j, "libxl could not build the guest");
	} else if (!strncmp(fate, "error", len)) {
		decide(j, VERDICT_ERROR, line, "the agent could not run the "
		       "guest: %s", *detail ? detail : "no detail");
	} else if (!strncmp(fate, "suspend-failed", len)) {
		/* The guest did not answer the agent's suspend request. */
		decide(j, VERDICT_FAIL, line, "probe suspend failed: %s",
		       *detail ? detail : "the guest did not suspend");
	} else if (probe_failed(j, fate_text)) {
		/* named by the probe that failed or hung */
	} else if (!strncmp(fate, "timeout", len)) {
		decide(j, VERDICT_FAIL, j->last_line.buf, "guest timeout: no "
		       "marker before the agent's limit (hang)");
	} else {
		decide(j, VERDICT_FAIL, j->last_line.buf, "guest %.*s%s",
		       (int)len, fate, j->action == JUDGE_PASSING ?
		       " after the marker" : " before the marker");
	}
	j->action = j->verdict == VERDICT_PASS ? JUDGE_CONTINUE :
		    JUDGE_FAILING;
}

/* Guest mode, a line outside our job: only the farm can fail here. */
static void host_line(struct judge *j, const char *line)
{
	size_t i;

	if (!strncmp(line, JUDGE_AGENT "ready ", strlen(JUDGE_AGENT "ready "))) {
		const char *h = strstr(line, " handover=");

		j->agent_suspends = h && strstr(h, "suspend") != NULL;
		return;
	}
	if (!strncmp(line, JUDGE_AGENT "setup-failed",
		     strlen(JUDGE_AGENT "setup-failed"))) {
		decide(j, VERDICT_ERROR, line, "dom0 setup failed");
		j->action = JUDGE_FAILING;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(failures); i++) {
		if (strstr(line, failures[i].needle)) {
			decide(j, VERDICT_ERROR, line, "the farm's dom0 or Xen "
			       "failed (%s)%s", failures[i].reason,
			       j->guest_started ? " while the guest ran" :
			       " before the guest started");
			j->action = JUDGE_FAILING;
			return;
		}
	}
}

static void judge_line(struct judge *j, const char *line)
{
	const char *rest;
	size_t i;

	if (!*line)
		return;
	j->n_lines++;
	if (!j->kernel_spoke)
		j->kernel_spoke = is_kernel_line(line);
	if (j->guest && !j->in_guest) {
		if (j->verdict)
			return;
		if (agent_line(j, line, "begin")) {
			j->in_guest = j->guest_started = 1;
			strbuf_reset(&j->last_line);
			return;
		}
		/* Another guest's lines are that guest's business. */
		if (!strncmp(line, JUDGE_AGENT "begin job=",
			     strlen(JUDGE_AGENT "begin job="))) {
			j->in_other_guest = 1;
			return;
		}
		if (!strncmp(line, JUDGE_AGENT "end job=",
			     strlen(JUDGE_AGENT "end job="))) {
			j->in_other_guest = 0;
			return;
		}
		if (!j->in_other_guest || !strncmp(line, "(XEN)", 5))
			host_line(j, line);
		return;
	}
	if (j->guest && (rest = agent_line(j, line, "end"))) {
		guest_ended(j, line, rest);
		return;
	}
	strbuf_reset(&j->last_line);
	strbuf_addstr(&j->last_line, line);
	if (j->verdict)
		return;
	/* Under a guest, Xen's own lines are the farm's, not the kernel's. */
	if (j->guest && !strncmp(line, "(XEN)", 5)) {
		host_line(j, line);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(host_failures); i++) {
		if (strstr(line, host_failures[i].needle)) {
			decide(j, VERDICT_ERROR, line, "%s",
			       host_failures[i].reason);
			j->action = JUDGE_FAILING;
			return;
		}
	}
	/* Only a hypervisor's own lines: Xen's, or libxl's as the agent
	 * relays them. */
	if (!j->unloadable && (!strncmp(line, "(XEN)", 5) ||
			       !strncmp(line, JUDGE_AGENT, strlen(JUDGE_AGENT)))
	    && early_unloadable(line))
		j->unloadable = xstrdup(line);
	for (i = 0; i < ARRAY_SIZE(failures); i++) {
		if (strstr(line, failures[i].needle)) {
			if (unloadable(j, "Xen could not build dom0"))
				return;
			/* A kernel that dies inside a probe (a resume after
			 * the suspend probe's restore) names that probe. */
			decide(j, VERDICT_FAIL, line, "%s%s%s",
			       failures[i].reason, j->probes.running ?
			       " during probe " : "", j->probes.running ?
			       j->probes.running : "");
			j->action = JUDGE_FAILING;
			return;
		}
	}
	if (!strncmp(line, JUDGE_MARKER, strlen(JUDGE_MARKER))) {
		marker_line(j, line);
		return;
	}
	if (expect_fact_line(&j->expect, j->nonce, line))
		return;
	if (!strncmp(line, "HVMATRIX-", 9) &&
	    guest_probes_line(&j->probes, j->nonce, line, j->now)) {
		/* The farm's own trouble ends the run at once; a probe's
		 * FAIL waits for the others and the marker. */
		if (j->probes.errored >= 0 && probe_failed(j, NULL))
			j->action = JUDGE_FAILING;
		/* A dom0 image from before the suspend probe: its agent
		 * would leave the guest waiting, and the hang look like the
		 * kernel's. */
		if (j->guest && !j->agent_suspends && j->probes.handover &&
		    !strcmp(j->probes.handover, "suspend")) {
			decide(j, VERDICT_ERROR, line, "the dom0 image's agent "
			       "does not run the suspend probe: rebuild the "
			       "image (images/xen/build-dom0.sh)");
			j->action = JUDGE_FAILING;
		}
		return;
	}
	if (!strncmp(line, "hvmatrix-init:", strlen("hvmatrix-init:")))
		parse_init_report(j, line);
	if (is_cmdline_echo(line))
		return;
	expect_console_line(&j->expect, line);
}

static void end_line(struct judge *j)
{
	judge_line(j, j->partial.buf);
	strbuf_reset(&j->partial);
}

enum judge_action judge_feed(struct judge *j, const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		switch (j->esc) {
		case ESC_START:
			j->esc = c == '[' ? ESC_CSI : c == ']' ? ESC_OSC :
				 (c == '(' || c == ')') ? ESC_CHARSET :
				 ESC_NONE;
			continue;
		case ESC_CSI:
			if (c >= 0x40 && c <= 0x7e)
				j->esc = ESC_NONE;
			continue;
		case ESC_OSC:
			if (c == 0x07)
				j->esc = ESC_NONE;
			else if (c == 0x1b)
				j->esc = ESC_OSC_END;
			continue;
		case ESC_OSC_END:
		case ESC_CHARSET:
			j->esc = ESC_NONE;
			continue;
		}
		if (c == 0x1b) {
			j->esc = ESC_START;
		} else if (c == '\n') {
			end_line(j);
		} else if (c == '\t' || (c >= 0x20 && c != 0x7f)) {
			strbuf_addch(&j->partial, c);
			if (j->partial.len >= JUDGE_MAX_LINE)
				end_line(j);
		}
		/* other control bytes, '\r' included, carry nothing */
	}
	return j->action;
}

void judge_feed_stderr(struct judge *j, const char *buf, size_t len)
{
	size_t room = JUDGE_MAX_STDERR - j->stderr_text.len;

	if (j->stderr_text.len < JUDGE_MAX_STDERR)
		strbuf_add(&j->stderr_text, buf, len < room ? len : room);
}

static void pending_pass(struct judge *j)
{
	char *line = j->line;

	j->line = NULL;
	decide(j, VERDICT_PASS, line, "marker with this run's nonce%s",
	       j->expect.n ? " and every expected report seen" : "");
	free(line);
}

/*
 * Guest mode: the agent times guests out itself (fate=timeout, a FAIL), so
 * when the whole run stalls it is the farm's dom0 or agent that stopped.
 */
static void guest_stalled(struct judge *j, const char *what)
{
	decide(j, VERDICT_ERROR, j->last_line.buf, "%s %s", what,
	       !j->guest_started ? "before dom0 started the guest" :
	       j->in_guest ? "while the agent ran the guest (the agent did "
	       "not end it)" : "after the guest");
}

void judge_timeout(struct judge *j, unsigned seconds)
{
	end_line(j);
	if (j->action == JUDGE_PASSING)
		pending_pass(j);
	if (j->guest)
		guest_stalled(j, "the run timed out");
	probe_failed(j, "no marker before the run's timeout");
	decide(j, VERDICT_FAIL, j->last_line.buf,
	       "timeout: no marker after %u s (hang)", seconds);
}

void judge_silence(struct judge *j, unsigned seconds)
{
	end_line(j);
	if (j->action == JUDGE_PASSING)
		pending_pass(j);
	if (j->guest)
		guest_stalled(j, "the console went silent");
	probe_failed(j, "the console went silent");
	decide(j, VERDICT_FAIL, j->last_line.buf,
	       "no console output for %u s (hang%s)", seconds,
	       j->n_lines ? "" : ", nothing printed at all");
}

void judge_error(struct judge *j, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	decide(j, VERDICT_ERROR, "", "%s", sb.buf);
	strbuf_release(&sb);
}

void judge_skip(struct judge *j, const char *reason)
{
	decide(j, VERDICT_SKIP, "", "%s", reason);
}

void judge_set(struct judge *j, enum verdict v, const char *reason,
	       const char *line)
{
	decide(j, v, line, "%s", reason ? reason : "");
}

void judge_exit(struct judge *j, int64_t exit_status, int term_signal,
		int killed_by_us)
{
	struct strbuf err = STRBUF_INIT;
	const char *qemu_said;

	end_line(j);
	if (j->verdict)
		goto out;
	if (j->action == JUDGE_PASSING) {
		pending_pass(j);
		goto out;
	}
	qemu_said = first_stderr_line(j, &err);
	if (!j->unloadable && !j->guest && exit_status &&
	    early_unloadable(j->stderr_text.buf)) {
		const char *s = strstr(j->stderr_text.buf,
				       early_unloadable(j->stderr_text.buf));

		while (s > j->stderr_text.buf && s[-1] != '\n')
			s--;
		j->unloadable = xstrndup(s, strchrnul(s, '\n') - s);
	}
	if (unloadable(j, "QEMU could not load it"))
		;
	else if (j->guest && !killed_by_us && !term_signal && !exit_status)
		guest_stalled(j, "QEMU exited");
	else if (killed_by_us)
		decide(j, VERDICT_ERROR, qemu_said, "run stopped by hvmatrix");
	else if (term_signal)
		decide(j, VERDICT_ERROR, qemu_said,
		       "QEMU died from signal %d%s%s", term_signal,
		       *qemu_said ? ": " : "", qemu_said);
	else if (exit_status != 0)
		decide(j, VERDICT_ERROR, qemu_said,
		       "QEMU exited with status %lld%s%s",
		       (long long)exit_status, *qemu_said ? ": " : "",
		       qemu_said);
	else if (probe_failed(j, "the guest powered off or reset"))
		;
	else if (j->wrong_marker)
		decide(j, VERDICT_FAIL, j->wrong_marker,
		       "guest exited; its marker had another run's nonce");
	else if (!j->kernel_spoke && j->reset_line)
		decide(j, VERDICT_FAIL, j->reset_line, "guest reset before "
		       "printing anything (the CPU at the reset, from QEMU's "
		       "reset log)");
	else
		decide(j, VERDICT_FAIL, j->last_line.buf,
		       "guest powered off or reset before the marker");
out:
	strbuf_release(&err);
}

int judge_guest_reset(struct judge *j, const char *log)
{
	char *line;

	if (j->verdict || !log)
		return 0;
	line = early_reset_line(log);
	/* Only a reset whose state is logged: QEMU logs "Triple fault"
	 * first, the CPU's state as it resets it. */
	if (!line || strncmp(line, "CPU 0 reset", 11)) {
		free(line);
		return 0;
	}
	free(j->reset_line);
	j->reset_line = line;
	end_line(j);
	if (j->action == JUDGE_PASSING) {
		pending_pass(j);
		return 1;
	}
	if (!probe_failed(j, "the guest reset"))
		decide(j, VERDICT_FAIL, j->kernel_spoke ? j->last_line.buf :
		       line, "guest reset before the marker%s (%s)",
		       j->kernel_spoke ? "" : ", the kernel having printed "
		       "nothing", line);
	j->action = JUDGE_FAILING;
	return 1;
}
