/*
 * probe: is a host capability really there? A device node is not proof:
 * the KVM probe boots a real kernel for a few seconds through the same
 * runner as every cell, and calls KVM broken when that boot does not reach
 * the marker. The result is cached per host boot and QEMU binary.
 *
 * The precheck (what cannot run at all) lives here too: boot.c runs cells,
 * it never asks the host what it can do, so boot never depends on probe.
 * The probe is a nested boot of up to 40 s, and a QEMU release never asked
 * for its machine types is asked here (up to 20 s): neither may run on a
 * loop thread that has timers to serve (probe_precheck_start).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/boot-argv.h"
#include "lib/fsutil.h"
#include "boot/probe.h"
#include "lib/xmalloc.h"

#define PROBE_TIMEOUT_S 40
#define PROBE_SILENCE_S 12

char *probe_cache_dir(void)
{
	const char *env = getenv("HVMATRIX_CACHE");

	if (env && *env)
		return xstrdup(env);
	env = getenv("XDG_CACHE_HOME");
	if (env && *env)
		return xstrfmt("%s/hvmatrix", env);
	env = getenv("HOME");
	return xstrfmt("%s/.cache/hvmatrix", env && *env ? env : "/tmp");
}

static char *host_boot_id(void)
{
	struct strbuf sb = STRBUF_INIT;

	if (fsutil_read("/proc/sys/kernel/random/boot_id", &sb) < 0)
		strbuf_addstr(&sb, "unknown");
	while (sb.len && sb.buf[sb.len - 1] == '\n')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

/*
 * Cache file: one line "BOOT_ID\tOK\tREASON" per QEMU binary, with the
 * probe's console log beside it (suffix ".log").
 */
static char *cache_path(const char *qemu)
{
	char *dir = probe_cache_dir();
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	char *path;

	for (p = qemu; *p; p++)
		strbuf_addch(&sb, *p == '/' ? '_' : *p);
	path = xstrfmt("%s/kvm-probe.%s", dir, sb.buf);
	strbuf_release(&sb);
	free(dir);
	return path;
}

static int cache_get(const char *path, const char *boot_id, char **reason)
{
	struct strbuf sb = STRBUF_INIT;
	char *tab1, *tab2;
	int ret = -1;

	if (fsutil_read(path, &sb) < 0)
		goto out;
	tab1 = strchr(sb.buf, '\t');
	tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (!tab2 || strncmp(sb.buf, boot_id, tab1 - sb.buf) ||
	    strlen(boot_id) != (size_t)(tab1 - sb.buf))
		goto out;
	tab2[strcspn(tab2, "\n")] = '\0';
	ret = tab1[1] == '1';
	if (!ret)
		*reason = xstrdup(tab2 + 1);
out:
	strbuf_release(&sb);
	return ret;
}

static void cache_put(const char *path, const char *boot_id, int ok,
		      const char *reason)
{
	struct strbuf sb = STRBUF_INIT;
	char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	strbuf_addf(&sb, "%s\t%d\t%s\n", boot_id, ok, ok ? "" : reason);
	/* A cache we cannot write only costs a probe next time. */
	if (fsutil_mkdir_p(dir, 0755) == 0)
		fsutil_write_atomic(path, sb.buf, sb.len);
	strbuf_release(&sb);
	free(dir);
}

/* 1 KVM works, 0 it does not, -1 the probe was interrupted. */
static int boot_probe(const char *qemu, const char *kernel,
		      const char *initrd, const char *log_path, char **reason)
{
	struct boot_opts opts = { .jobs = 1 };
	struct boot_run run;
	struct cell c;
	uv_loop_t loop;
	int ok;

	cell_init(&c);
	c.name = xstrdup("kvm-probe");
	free(c.qemu);
	c.qemu = xstrdup(qemu);
	c.accel = CELL_ACCEL_KVM;
	/* The plainest CPU model: a probe of KVM, not of CPU features. */
	free(c.cpu);
	c.cpu = xstrdup("qemu64");
	c.timeout_s = PROBE_TIMEOUT_S;
	c.silence_s = PROBE_SILENCE_S;
	uv_loop_init(&loop);
	boot_run_init(&run, &c, kernel, initrd, log_path);
	/* Off any loop already (the precheck's worker or a CLI). */
	if (run.release_unchecked) {
		char *why = NULL;
		int rc = boot_argv_check_release(&c, &why);

		if (rc == 1)
			judge_skip(&run.judge, why);
		else if (rc == 2)
			judge_error(&run.judge, "%s", why);
		run.release_unchecked = 0;
		free(why);
	}
	boot_run_all(&loop, &run, 1, &opts);
	ok = run.interrupted ? -1 : judge_verdict(&run.judge) == VERDICT_PASS;
	if (ok <= 0)
		*reason = xstrfmt("/dev/kvm is present but a KVM test boot "
				  "failed: %s (log: %s)",
				  run.interrupted ? "interrupted" :
				  run.judge.reason, run.log_path);
	boot_run_release(&run);
	uv_loop_close(&loop);
	cell_release(&c);
	return ok;
}

/*
 * 1 KVM works, 0 it does not (*reason set). Says "probing KVM..." only
 * when it boots the probe: a cached answer is no news.
 */
static int kvm_works(const char *qemu, const char *kernel,
		     const char *initrd, int quiet, char **reason)
{
	char *boot_id = NULL, *cache = NULL, *log_path = NULL, *dir;
	int fd, ok;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*reason = xstrfmt("no usable /dev/kvm: %s", strerror(errno));
		return 0;
	}
	close(fd);
	boot_id = host_boot_id();
	cache = cache_path(qemu);
	ok = cache_get(cache, boot_id, reason);
	if (ok < 0) {
		if (!quiet)
			fprintf(stderr, "probing KVM (once per host boot)...\n");
		dir = probe_cache_dir();
		fsutil_mkdir_p(dir, 0755);
		free(dir);
		log_path = xstrfmt("%s.log", cache);
		ok = boot_probe(qemu, kernel, initrd, log_path, reason);
		if (ok >= 0)	/* an interrupted probe proves nothing */
			cache_put(cache, boot_id, ok, ok ? "" : *reason);
		if (!quiet)
			fprintf(stderr, "KVM %s%s\n", ok > 0 ? "works" :
				"does not work: ", ok > 0 ? "" : *reason);
	}
	free(boot_id);
	free(cache);
	free(log_path);
	return ok > 0;
}

int probe_kvm(const char *qemu, const char *kernel, const char *initrd,
	      char **reason)
{
	return kvm_works(qemu, kernel, initrd, 1, reason);
}

/* ---- the precheck ---- */

struct precheck {
	uv_work_t req;
	struct boot_run *runs;
	size_t n;
	char *kernel, *kernel_err, *initrd, *qemu;
	int quiet;
	int payload_errno;	/* access() of the payload failed */
	int kvm_ok;
	char *kvm_reason;
	/* Per run: its release to ask (the plan), then the answer. */
	unsigned char *release_ask;
	int *release_rc;	/* boot_argv_check_release's */
	char **release_why;
	void (*done)(void *data);
	void *data;
};

/*
 * What needs asking: the payload, and KVM when some run needs it and is
 * not decided otherwise. Cheap; the loop thread may do it.
 */
static void precheck_plan(struct precheck *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++)
		pc->release_ask[i] = pc->runs[i].release_unchecked &&
				     !judge_verdict(&pc->runs[i].judge);
	if (pc->kernel_err)
		return;
	if (access(pc->initrd, R_OK) < 0) {
		pc->payload_errno = errno;
		return;
	}
	for (i = 0; i < pc->n; i++)
		if (cell_required(pc->runs[i].cell) & CELL_REQUIRE_KVM) {
			pc->qemu = xstrdup(pc->runs[i].cell->qemu);
			return;
		}
}

/* The blocking half: the releases and the probe, when the plan needs them. */
static void precheck_probe(struct precheck *pc)
{
	size_t i;

	/* A second run of one release finds the first's answer cached. */
	for (i = 0; i < pc->n; i++)
		if (pc->release_ask[i])
			pc->release_rc[i] = boot_argv_check_release(
				pc->runs[i].cell, &pc->release_why[i]);
	if (pc->qemu)
		pc->kvm_ok = kvm_works(pc->qemu, pc->kernel, pc->initrd,
				       pc->quiet, &pc->kvm_reason);
}

/* Set the verdicts of what cannot run; on the runs' owner's thread. */
static void precheck_apply(struct precheck *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++) {
		struct judge *j = &pc->runs[i].judge;

		pc->runs[i].release_unchecked = 0;
		if (pc->release_rc[i] == 1)
			judge_skip(j, pc->release_why[i]);
		else if (pc->release_rc[i] == 2)
			judge_error(j, "%s", pc->release_why[i]);
		if (pc->kernel_err) {
			judge_error(j, "kernel image unusable: %s",
				    pc->kernel_err);
		} else if (pc->payload_errno) {
			judge_error(j, "test payload missing: %s: %s",
				    pc->initrd, strerror(pc->payload_errno));
		} else if ((cell_required(pc->runs[i].cell) &
			    CELL_REQUIRE_KVM) && !pc->kvm_ok) {
			struct strbuf sb = STRBUF_INIT;

			strbuf_addf(&sb, "host lacks working KVM: %s",
				    pc->kvm_reason ? pc->kvm_reason :
				    "the probe did not run");
			judge_skip(j, sb.buf);
			strbuf_release(&sb);
		}
	}
}

static struct precheck *precheck_new(struct boot_run *runs, size_t n,
				     const char *kernel,
				     const char *kernel_err,
				     const char *initrd, int quiet)
{
	struct precheck *pc = xcalloc(1, sizeof(*pc));

	pc->runs = runs;
	pc->n = n;
	pc->kernel = xstrdup(kernel);
	pc->kernel_err = kernel_err ? xstrdup(kernel_err) : NULL;
	pc->initrd = xstrdup(initrd);
	pc->quiet = quiet;
	pc->release_ask = xcalloc(n ? n : 1, sizeof(*pc->release_ask));
	pc->release_rc = xcalloc(n ? n : 1, sizeof(*pc->release_rc));
	pc->release_why = xcalloc(n ? n : 1, sizeof(*pc->release_why));
	return pc;
}

static void precheck_free(struct precheck *pc)
{
	size_t i;

	for (i = 0; i < pc->n; i++)
		free(pc->release_why[i]);
	free(pc->release_ask);
	free(pc->release_rc);
	free(pc->release_why);
	free(pc->kernel);
	free(pc->kernel_err);
	free(pc->initrd);
	free(pc->qemu);
	free(pc->kvm_reason);
	free(pc);
}

void probe_precheck(struct boot_run *runs, size_t n, const char *kernel,
		    const char *kernel_err, const char *initrd, int quiet)
{
	struct precheck *pc = precheck_new(runs, n, kernel, kernel_err,
					   initrd, quiet);

	precheck_plan(pc);
	precheck_probe(pc);
	precheck_apply(pc);
	precheck_free(pc);
}

static void precheck_work_cb(uv_work_t *req)
{
	precheck_probe(container_of(req, struct precheck, req));
}

static void precheck_after_cb(uv_work_t *req, int status)
{
	struct precheck *pc = container_of(req, struct precheck, req);
	void (*done)(void *data) = pc->done;
	void *data = pc->data;

	if (status < 0 && pc->qemu && !pc->kvm_reason)
		pc->kvm_reason = xstrfmt("the KVM probe did not run: %s",
					 uv_strerror(status));
	precheck_apply(pc);
	precheck_free(pc);
	done(data);
}

int probe_precheck_start(uv_loop_t *loop, struct boot_run *runs, size_t n,
			 const char *kernel, const char *kernel_err,
			 const char *initrd, int quiet,
			 void (*done)(void *data), void *data)
{
	struct precheck *pc = precheck_new(runs, n, kernel, kernel_err,
					   initrd, quiet);
	int rc;

	pc->done = done;
	pc->data = data;
	precheck_plan(pc);
	/* Always through the pool: done never runs inside this call. */
	rc = uv_queue_work(loop, &pc->req, precheck_work_cb,
			   precheck_after_cb);
	if (rc < 0)
		precheck_free(pc);
	return rc;
}
