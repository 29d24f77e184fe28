/*
 * hvmatrix-xl-agent: boots each job of a job directory as a Xen guest
 * through libxenlight, relays the guest's console to stdout between
 * protocol lines, and reports how each guest ended. It runs as root in a
 * dom0 (nested in QEMU by the xen-libxl cells, or a real Xen host's dom0).
 *
 * One guest's failure must never stop the next job, and stdout carries
 * nothing but protocol lines and guest bytes: diagnostics go to stderr,
 * prefixed, on a line of their own. It must never link libhvmatrix: dom0
 * holds only Debian's libraries.
 */
#include "agent-guest.h"
#include "judge/early.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xenctrl.h>
#include <xentoollog.h>

/* How often the domain's state is read while its console is relayed. */
#define AGENT_INFO_MS 150
/* After a shutdown: drain the console until it is quiet this long... */
#define AGENT_DRAIN_QUIET_MS 300
/* ...or for this long at most. */
#define AGENT_DRAIN_MAX_MS 1500
/* Consecutive failures to read the domain's state before giving up. */
#define AGENT_INFO_FAILURES 20
/* Console bytes relayed between two looks at the domain's state. */
#define AGENT_PUMP_MAX 65536
/* xenconsoled publishes the console's pty shortly after creation. */
#define AGENT_TTY_WAIT_MS 10000
/* Where the suspend probe saves a guest: dom0's own memory (tmpfs). */
#define AGENT_SAVE_TEMPLATE "/tmp/hvmatrix-save.XXXXXX"

/*
 * A xentoollog logger: libxl's messages go to stderr on lines of their
 * own, and the first error since agent_error_reset() is kept for the
 * job's detail= field: libxl logs the cause first, then its consequences.
 */
struct agent_log {
	xentoollog_logger vtable;	/* first: libxl sees only this */
	xentoollog_level min;
	int verbose;		/* -v: the agent's own progress too */
	struct agent_out *out;	/* to start on a fresh line, if shared */
	bool shared;		/* stderr and stdout are the same file */
	char first[640];
	/* libxl said the guest ignored a suspend request. */
	bool guest_unresponsive;
	/* libxenguest's words that it cannot read the kernel's image (at
	 * any level: its probes log the cause as detail, then fail). */
	char unloadable[640];
};

static struct agent_log agent_log;
static struct agent_out agent_out;
/* The job's console as relayed: did the kernel print its panic there? */
static struct panicscan agent_console_scan;
/* ...and did the guest ask to be suspended (its ready line)? */
static struct agent_ready agent_console_ready;
static bool agent_suspend_asked;

static void agent_log_fresh_line(struct agent_log *log)
{
	if (log->shared && !log->out->bol) {
		fputc('\n', log->out->f);
		fflush(log->out->f);
		log->out->bol = true;
	}
}

static void agent_logf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void agent_logf(const char *fmt, ...)
{
	va_list ap;

	agent_log_fresh_line(&agent_log);
	fputs(AGENT_PREFIX "log: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void agent_log_vmessage(xentoollog_logger *lg, xentoollog_level level,
			       int errnoval, const char *context,
			       const char *format, va_list al)
{
	struct agent_log *log = (struct agent_log *)lg;
	char msg[512];
	int n;

	n = vsnprintf(msg, sizeof(msg), format, al);
	if (n >= 0 && errnoval >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnoval));
	if (level >= XTL_ERROR && !log->first[0])
		snprintf(log->first, sizeof(log->first), "%s%s%s",
			 context ? context : "", context ? ": " : "", msg);
	if (!log->unloadable[0] && early_unloadable(msg))
		snprintf(log->unloadable, sizeof(log->unloadable), "%s%s%s",
			 context ? context : "", context ? ": " : "", msg);
	/* Its words from 4.14 to 4.20 (libxl_dom_suspend.c). */
	if (level >= XTL_ERROR &&
	    (strstr(msg, "guest didn't acknowledge suspend") ||
	     strstr(msg, "guest did not suspend")))
		log->guest_unresponsive = true;
	if (level < log->min)
		return;
	agent_log_fresh_line(log);
	fprintf(stderr, AGENT_PREFIX "log: %s%s%s: %s\n",
		xtl_level_to_string(level), context ? " " : "",
		context ? context : "", msg);
	fflush(stderr);
}

static void agent_log_destroy(xentoollog_logger *lg)
{
}

static double agent_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Progress, for -v: where a job's time goes. */
#define agent_debug(...) \
	do { \
		if (agent_log.verbose) \
			agent_logf(__VA_ARGS__); \
	} while (0)

static void agent_sleep_ms(int ms)
{
	poll(NULL, 0, ms);
}

/* The first libxl error since the last reset, or a fallback. */
static const char *agent_error(const char *fallback)
{
	return agent_log.first[0] ? agent_log.first : fallback;
}

static void agent_error_reset(void)
{
	agent_log.first[0] = '\0';
	agent_log.unloadable[0] = '\0';
	agent_log.guest_unresponsive = false;
}

/* The fate of a domain that shut down, and for odd reasons, which. */
static void agent_result_reason(struct agent_result *r,
				libxl_shutdown_reason why)
{
	const char *name = libxl_shutdown_reason_to_string(why);

	r->fate = agent_fate_of_reason(why);
	r->detail[0] = '\0';
	if (!strcmp(r->fate, "other"))
		snprintf(r->detail, sizeof(r->detail), "shutdown reason %s",
			 name ? name : "unknown");
}

/* Open the console pty raw: the relay must not translate a byte. */
static int agent_console_open(libxl_ctx *ctx, uint32_t domid,
			      libxl_console_type type, struct agent_result *r)
{
	double until = agent_now() + AGENT_TTY_WAIT_MS / 1000.0;
	struct termios t;
	char *tty = NULL;
	int rc, fd;

	/* The pty appears once xenconsoled (or the device model) has it. */
	for (;;) {
		rc = libxl_console_get_tty(ctx, domid, 0, type, &tty);
		if (!rc && tty && tty[0])
			break;
		free(tty);
		tty = NULL;
		if (agent_now() > until) {
			agent_result_set(r, "error",
					 "no console tty for domain %u: %s",
					 domid, agent_error("timed out"));
			return -1;
		}
		agent_sleep_ms(100);
	}
	fd = open(tty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		agent_result_set(r, "error", "open %s: %s", tty,
				 strerror(errno));
		free(tty);
		return -1;
	}
	if (!tcgetattr(fd, &t)) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	free(tty);
	return fd;
}

/*
 * Relay what the console has now, at most AGENT_PUMP_MAX bytes so that a
 * guest that never stops printing cannot starve the timeout. Returns the
 * number of bytes relayed, or -1 once the pty is gone (its backend closed
 * it).
 */
static ssize_t agent_console_pump(int fd)
{
	char buf[4096];
	ssize_t n, total = 0;

	while (total < AGENT_PUMP_MAX) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			agent_out_guest(&agent_out, buf, n);
			panicscan_feed(&agent_console_scan, buf, n);
			if (agent_ready_feed(&agent_console_ready, buf, n))
				agent_suspend_asked = true;
			total += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		return total ? total : -1;	/* EOF or EIO: gone */
	}
	return total;
}

/* Wait up to ms for console bytes (or just sleep when there is no pty). */
static ssize_t agent_console_wait(int *fd, int ms)
{
	struct pollfd p = { .fd = *fd, .events = POLLIN };
	ssize_t n;

	if (*fd < 0) {
		agent_sleep_ms(ms);
		return 0;
	}
	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = agent_console_pump(*fd);
	if (n < 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	return n;
}

/* After a shutdown: the last lines may still be on their way. */
static void agent_console_drain(int *fd)
{
	double start = agent_now(), quiet = start;
	double now;

	while (*fd >= 0) {
		if (agent_console_wait(fd, 50) > 0)
			quiet = agent_now();
		now = agent_now();
		if (now - quiet >= AGENT_DRAIN_QUIET_MS / 1000.0 ||
		    now - start >= AGENT_DRAIN_MAX_MS / 1000.0)
			break;
	}
}

/*
 * Has the domain ended? Returns true with r filled in when it has shut
 * down (or vanished, or cannot be read any more).
 */
static bool agent_domain_ended(libxl_ctx *ctx, uint32_t domid, int *failures,
			       struct agent_result *r)
{
	libxl_dominfo info;
	bool ended = false;
	int rc;

	libxl_dominfo_init(&info);
	rc = libxl_domain_info(ctx, &info, domid);
	if (rc == ERROR_DOMAIN_NOTFOUND) {
		agent_result_set(r, "error", "domain %u vanished before its "
				 "shutdown reason was read", domid);
		ended = true;
	} else if (rc) {
		/* A passing hiccup is survived; a broken libxl is not. */
		if (++*failures >= AGENT_INFO_FAILURES) {
			agent_result_set(r, "error", "libxl_domain_info: %s",
					 agent_error(
					 libxl_error_to_string(rc)));
			ended = true;
		}
	} else {
		*failures = 0;
		if (info.shutdown) {
			agent_result_reason(r, info.shutdown_reason);
			ended = true;
		}
	}
	libxl_dominfo_dispose(&info);
	return ended;
}

/*
 * Relay the console until the domain shuts down or the job's time is up
 * (false, r filled in), or until the guest asks to be suspended (true).
 * The domain is left for the caller to destroy.
 */
static bool agent_watch(libxl_ctx *ctx, uint32_t domid, int *fd,
			double deadline, struct agent_result *r)
{
	double now, next_info = 0;
	int ms, failures = 0;

	for (;;) {
		if (agent_suspend_asked)
			return true;
		now = agent_now();
		if (now >= deadline) {
			/* What the guest said last may tell why it hung. */
			if (*fd >= 0)
				agent_console_pump(*fd);
			agent_result_set(r, "timeout", "%s", "");
			return false;
		}
		if (now >= next_info) {
			next_info = now + AGENT_INFO_MS / 1000.0;
			if (agent_domain_ended(ctx, domid, &failures, r)) {
				agent_console_drain(fd);
				return false;
			}
		}
		ms = AGENT_INFO_MS;
		if ((deadline - now) * 1000 < ms)
			ms = (int)((deadline - now) * 1000) + 1;
		agent_console_wait(fd, ms);
	}
}

/* Each chunk of the crashed guest's memory; non-zero ends the dump. */
static int agent_dump_chunk(xc_interface *xch, void *arg, char *buf,
			    unsigned int len)
{
	(void)xch;
	return panicscan_feed(arg, buf, len);
}

/*
 * A guest that crashed with no panic on its console (it died before its
 * early console was set up) still has the message in its log buffer: read
 * the preserved domain's memory (on_crash=preserve) and relay the panic
 * line as the guest's own output, so that it is the decisive line. The
 * dump stops at the first match.
 */
static void agent_recover_panic(uint32_t domid, double start)
{
	struct panicscan mem;
	xc_interface *xch;
	double t0 = agent_now();
	int rc;

	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch) {
		agent_logf("cannot open libxenctrl to read the crashed "
			   "domain's memory: %s", strerror(errno));
		return;
	}
	panicscan_init(&mem);
	/* A failure is also how a dump we cut short (on a match) ends. */
	rc = xc_domain_dumpcore_via_callback(xch, domid, &mem,
					     agent_dump_chunk);
	xc_interface_close(xch);
	if (!mem.found[0] && rc < 0) {
		/* A PV guest that dies before it has published its p2m. */
		agent_logf("domain %u crashed; no panic message on its console, "
			   "and its memory could not be read", domid);
		return;
	}
	if (!mem.found[0]) {
		agent_logf("domain %u crashed; no panic message on its console "
			   "nor in its memory (read in %.1f s)", domid,
			   agent_now() - t0);
		return;
	}
	agent_logf("domain %u crashed with nothing on its console; its "
		   "kernel log in memory has the message below (read in "
		   "%.1f s, %.1f s into the job)", domid, agent_now() - t0,
		   agent_now() - start);
	agent_out_guest(&agent_out, "\r\n", 2);
	agent_out_guest(&agent_out, mem.found, strlen(mem.found));
	agent_out_guest(&agent_out, "\r\n", 2);
}

static void agent_destroy(libxl_ctx *ctx, uint32_t domid)
{
	int rc;

	agent_error_reset();
	rc = libxl_domain_destroy(ctx, domid, NULL);
	if (rc && rc != ERROR_DOMAIN_NOTFOUND)
		agent_logf("destroy domain %u: %s", domid,
			   agent_error(libxl_error_to_string(rc)));
}

/* A domain left from an earlier run under the same name blocks creation. */
static void agent_destroy_stale(libxl_ctx *ctx, const char *name)
{
	uint32_t domid;

	if (!libxl_name_to_domid(ctx, name, &domid)) {
		agent_logf("destroying stale domain %s (%u)", name, domid);
		agent_destroy(ctx, domid);
	}
}

/*
 * Connect to a created (or restored) domain's console, then let it run:
 * unpaused before, its first lines could be gone before we listen.
 * Returns the console's fd, or -1 with r filled in.
 */
static int agent_start(libxl_ctx *ctx, uint32_t domid,
		       const struct agent_guest *job, double start,
		       struct agent_result *r)
{
	int fd, rc;

	agent_error_reset();
	fd = agent_console_open(ctx, domid, agent_guest_console(job), r);
	if (fd < 0)
		return -1;
	agent_error_reset();
	rc = libxl_domain_unpause(ctx, domid, NULL);
	agent_debug("domain %u unpaused at %.1f s", domid, agent_now() - start);
	if (rc) {
		agent_result_set(r, "error", "unpause failed: %s",
				 agent_error(libxl_error_to_string(rc)));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * libxl_domain_suspend() failed: whose fault? A guest that ended some
 * other way meanwhile (crashed) or never answered the request is the
 * kernel's; anything else (the save stream, dom0, the toolstack) is the
 * farm's. libxl's return code does not tell a guest that never
 * acknowledged the request apart (its helper only sees that the domain
 * did not suspend): its log does.
 */
static void agent_suspend_failed(libxl_ctx *ctx, uint32_t domid, int rc,
				 struct agent_result *r)
{
	libxl_dominfo info;

	libxl_dominfo_init(&info);
	if (!libxl_domain_info(ctx, &info, domid) && info.shutdown &&
	    info.shutdown_reason != LIBXL_SHUTDOWN_REASON_SUSPEND)
		agent_result_reason(r, info.shutdown_reason);
	else if (rc == ERROR_GUEST_TIMEDOUT || agent_log.guest_unresponsive)
		agent_result_set(r, "suspend-failed", "the guest did not "
				 "suspend when asked: %s",
				 agent_error("timed out"));
	else
		agent_result_set(r, "error", "saving the guest failed: %s",
				 agent_error(libxl_error_to_string(rc)));
	libxl_dominfo_dispose(&info);
}

/*
 * The suspend probe's host half, asked for by the guest's ready line:
 * save the running guest to a file in dom0, destroy it, restore it from
 * the file, reconnect to its console and tell the guest to go on.
 * Returns 0 with *domid and *fd those of the restored domain, or -1 with
 * r filled in; a domain left in *domid is the caller's to destroy.
 */
static int agent_suspend(libxl_ctx *ctx, const struct agent_guest *job,
			 double start, uint32_t *domid, int *fd,
			 struct agent_result *r)
{
	char path[] = AGENT_SAVE_TEMPLATE, go[AGENT_READY_MAX];
	libxl_domain_restore_params params;
	libxl_domain_config cfg;
	double t0 = agent_now();
	struct stat st;
	int sfd, n, rc, ret = -1;

	libxl_domain_config_init(&cfg);
	libxl_domain_restore_params_init(&params);
	sfd = mkstemp(path);
	if (sfd < 0) {
		agent_result_set(r, "error", "suspend: cannot create %s: %s",
				 path, strerror(errno));
		goto out;
	}
	/* Gone with its last descriptor, whatever happens below. */
	unlink(path);
	agent_error_reset();
	rc = libxl_domain_suspend(ctx, *domid, sfd, 0, NULL);
	/* What the guest printed while it suspended. */
	if (*fd >= 0)
		agent_console_pump(*fd);
	if (rc) {
		agent_suspend_failed(ctx, *domid, rc, r);
		goto out;
	}
	if (fstat(sfd, &st) || lseek(sfd, 0, SEEK_SET) < 0) {
		agent_result_set(r, "error", "suspend: %s: %s", path,
				 strerror(errno));
		goto out;
	}
	agent_out_saved(&agent_out, job->name, (long long)st.st_size,
			agent_now() - t0);
	/* Its pty goes with it; the restored domain gets another. */
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	agent_destroy(ctx, *domid);
	*domid = (uint32_t)INVALID_DOMID;

	t0 = agent_now();
	agent_guest_config(job, &cfg);
	params.checkpointed_stream = LIBXL_CHECKPOINTED_STREAM_NONE;
	/* What libxl_domain_suspend() writes; 1 would be xl's old format. */
	params.stream_version = 2;
	agent_error_reset();
	rc = libxl_domain_create_restore(ctx, &cfg, domid, sfd, -1, &params,
					 NULL, NULL);
	if (rc) {
		agent_result_set(r, "error", "restoring the saved guest "
				 "failed: %s",
				 agent_error(libxl_error_to_string(rc)));
		if (rc != ERROR_ABORTED)
			*domid = (uint32_t)INVALID_DOMID;
		goto out;
	}
	agent_debug("domain %u restored at %.1f s", *domid,
		    agent_now() - start);
	*fd = agent_start(ctx, *domid, job, start, r);
	if (*fd < 0)
		goto out;
	agent_out_restored(&agent_out, job->name, agent_now() - t0);
	/*
	 * The guest's console driver reconnects as it resumes; xenconsoled
	 * keeps what we write until then.
	 */
	n = agent_go_line(go, sizeof(go), job->nonce);
	if (n < 0 || write(*fd, go, n) != n) {
		agent_result_set(r, "error", "cannot tell the restored guest "
				 "to go on: %s", n < 0 ? "nonce too long" :
				 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	libxl_domain_restore_params_dispose(&params);
	libxl_domain_config_dispose(&cfg);
	return ret;
}

static void agent_boot(libxl_ctx *ctx, const struct agent_guest *job,
		       double start, struct agent_result *r)
{
	libxl_domain_config cfg;
	uint32_t domid = (uint32_t)INVALID_DOMID;
	int fd = -1, rc;
	double limit;

	libxl_domain_config_init(&cfg);
	if (agent_guest_config(job, &cfg)) {
		agent_result_set(r, "error", "no config for type %s",
				 agent_type_name(job->type));
		goto out;
	}
	agent_destroy_stale(ctx, cfg.c_info.name);
	agent_error_reset();
	rc = libxl_domain_create_new(ctx, &cfg, &domid, NULL, NULL);
	if (rc && agent_log.unloadable[0]) {
		/* The kernel's image, not the farm: the judge's
		 * image-unloadable finding, with libxenguest's words. */
		agent_result_set(r, "unloadable", "%s", agent_log.unloadable);
		if (rc != ERROR_ABORTED)
			domid = (uint32_t)INVALID_DOMID;
		goto out;
	}
	if (rc) {
		char dm[AGENT_DETAIL_MAX + 1] = "";

		agent_log_fresh_line(&agent_log);
		if (job->type == AGENT_TYPE_HVM)
			agent_dm_log(AGENT_DM_LOG_DIR, cfg.c_info.name, stderr,
				     dm, sizeof(dm));
		agent_result_set(r, "error", "domain creation failed: %s%s%s",
				 agent_error(libxl_error_to_string(rc)),
				 dm[0] ? "; device model: " : "", dm);
		/* libxl destroys what it half built, except on ABORTED. */
		if (rc != ERROR_ABORTED)
			domid = (uint32_t)INVALID_DOMID;
		goto out;
	}
	agent_debug("domain %u created at %.1f s", domid, agent_now() - start);
	panicscan_init(&agent_console_scan);
	agent_ready_init(&agent_console_ready, job->nonce, "suspend");
	agent_suspend_asked = false;
	fd = agent_start(ctx, domid, job, start, r);
	if (fd < 0)
		goto out;
	limit = start + job->timeout_s;
	while (agent_watch(ctx, domid, &fd, limit, r)) {
		double t0 = agent_now();

		/* One hand-over per guest: a second request is ignored. */
		agent_ready_init(&agent_console_ready, NULL, NULL);
		agent_suspend_asked = false;
		if (agent_suspend(ctx, job, start, &domid, &fd, r))
			break;
		/* The save and restore are the farm's time, not the
		 * guest's: its limit is moved on by as much. */
		limit += agent_now() - t0;
	}
	if (domid != (uint32_t)INVALID_DOMID && !strcmp(r->fate, "crashed") &&
	    !agent_console_scan.found[0])
		agent_recover_panic(domid, start);
	agent_debug("domain %u: %s at %.1f s", domid, r->fate,
		    agent_now() - start);
out:
	if (fd >= 0)
		close(fd);
	if (domid != (uint32_t)INVALID_DOMID) {
		agent_destroy(ctx, domid);
		agent_debug("domain %u destroyed at %.1f s", domid,
			    agent_now() - start);
	}
	libxl_domain_config_dispose(&cfg);
}

static void agent_run_job(libxl_ctx *ctx, const char *jobdir, const char *id)
{
	struct agent_guest job = AGENT_GUEST_INIT;
	struct agent_result r = { .fate = "error" };
	double start = agent_now();

	int rc;

	rc = agent_guest_load(&job, jobdir, id, r.detail, sizeof(r.detail));
	agent_out_begin(&agent_out, &job);
	if (!rc)
		agent_boot(ctx, &job, start, &r);
	agent_out_end(&agent_out, job.name, r.fate, agent_now() - start,
		      r.detail);
	agent_guest_release(&job);
}

/* "4.17.7": major.minor and the extra part, whatever it starts with. */
static void agent_xen_version(libxl_ctx *ctx, char *buf, size_t len)
{
	const libxl_version_info *v = libxl_get_version_info(ctx);
	const char *extra;

	if (!v) {
		snprintf(buf, len, "unknown");
		return;
	}
	extra = v->xen_version_extra ? v->xen_version_extra : "";
	snprintf(buf, len, "%d.%d%s%s", v->xen_version_major,
		 v->xen_version_minor,
		 extra[0] && extra[0] != '.' && extra[0] != '-' ? "." : "",
		 extra);
	agent_detail_clean(buf);
	for (char *p = buf; *p; p++)
		if (*p == ' ')
			*p = '_';
}

/* stderr reaches the same console as stdout (dom0's /dev/console)? */
static bool agent_same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static void agent_usage(FILE *f)
{
	fputs("usage: hvmatrix-xl-agent [-v] JOBDIR\n"
	      "Boots each JOBDIR/<job>/ (name order) as a Xen guest through "
	      "libxl and\nrelays its console to stdout between "
	      "'hvmatrix-agent:' protocol lines.\n"
	      "  -v  log progress to stderr (-vv: libxl's debug messages "
	      "too)\n", f);
}

int main(int argc, char **argv)
{
	struct termios saved, t;
	bool restore_tty = false;
	libxl_ctx *ctx = NULL;
	char **ids = NULL;
	char xen[64];
	size_t n, i;
	int c, rc, ret = 1;

	agent_log.min = XTL_WARN;
	while ((c = getopt(argc, argv, "vh")) != -1) {
		switch (c) {
		case 'v':
			/* -v: progress; -vv: libxl's debug messages too. */
			if (agent_log.verbose++)
				agent_log.min = XTL_DEBUG;
			break;
		case 'h':
			agent_usage(stdout);
			return 0;
		default:
			agent_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		agent_usage(stderr);
		return 2;
	}

	signal(SIGPIPE, SIG_IGN);
	agent_out_init(&agent_out, stdout);
	agent_log.vtable.vmessage = agent_log_vmessage;
	agent_log.vtable.destroy = agent_log_destroy;
	agent_log.out = &agent_out;
	agent_log.shared = agent_same_file(STDOUT_FILENO, STDERR_FILENO);

	/*
	 * On a tty (dom0's console) the line discipline would turn the
	 * guest's "\r\n" into "\r\r\n": pass bytes through untouched.
	 */
	if (isatty(STDOUT_FILENO) && !tcgetattr(STDOUT_FILENO, &saved)) {
		t = saved;
		t.c_oflag &= ~OPOST;
		restore_tty = !tcsetattr(STDOUT_FILENO, TCSANOW, &t);
	}

	rc = agent_guest_list(argv[optind], &ids, &n);
	if (rc) {
		agent_logf("%s: %s", argv[optind], strerror(-rc));
		agent_out_line(&agent_out, "setup-failed step=jobdir");
		goto out;
	}
	rc = libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0,
			     (xentoollog_logger *)&agent_log);
	if (rc) {
		agent_logf("libxl_ctx_alloc: %s",
			   agent_error(libxl_error_to_string(rc)));
		agent_out_line(&agent_out, "setup-failed step=libxl");
		goto out;
	}
	agent_xen_version(ctx, xen, sizeof(xen));
	agent_out_ready(&agent_out, n, xen);
	for (i = 0; i < n; i++)
		agent_run_job(ctx, argv[optind], ids[i]);
	agent_out_done(&agent_out);
	ret = 0;
out:
	libxl_ctx_free(ctx);
	agent_guest_list_free(ids);
	if (restore_tty)
		tcsetattr(STDOUT_FILENO, TCSANOW, &saved);
	return ret;
}
