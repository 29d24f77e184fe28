/*
 * agent-guest: job directories, domain configs and protocol lines for the
 * libxl guest agent (see agent-guest.h). Pure: no Xen calls besides libxl's
 * own config initialisers, no output except through struct agent_out.
 */
#include "agent-guest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxl_utils.h>

/* Job text files are one short line; anything bigger is not ours. */
#define AGENT_TEXT_MAX 4096

static void *agent_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fputs(AGENT_PREFIX "log: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *agent_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(agent_xmalloc(n), s, n);
}

static char *agent_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = agent_xmalloc(la + lb + 2);

	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

static int agent_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int agent_guest_list(const char *jobdir, char ***ids_r, size_t *n_r)
{
	DIR *d = opendir(jobdir);
	struct dirent *de;
	char **ids = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (de->d_name[0] == '.')
			continue;
		p = agent_path(jobdir, de->d_name);
		if (stat(p, &st) || !S_ISDIR(st.st_mode)) {
			free(p);
			continue;
		}
		free(p);
		if (n + 2 > cap) {
			char **nids;

			cap = cap ? 2 * cap : 16;
			nids = realloc(ids, cap * sizeof(*ids));
			if (!nids)
				abort();
			ids = nids;
		}
		ids[n++] = agent_xstrdup(de->d_name);
	}
	closedir(d);
	if (!ids)
		ids = agent_xmalloc(sizeof(*ids));
	ids[n] = NULL;
	qsort(ids, n, sizeof(*ids), agent_cmp);
	*ids_r = ids;
	*n_r = n;
	return 0;
}

void agent_guest_list_free(char **ids)
{
	size_t i;

	if (!ids)
		return;
	for (i = 0; ids[i]; i++)
		free(ids[i]);
	free(ids);
}

/*
 * Read a one-line text file: trailing whitespace is dropped, and a second
 * non-empty line or a NUL byte makes it invalid. Returns 0, -ENOENT,
 * -EINVAL (not one line of text) or another -errno.
 */
static int agent_read_line(const char *dir, const char *file, char **out)
{
	char *p = agent_path(dir, file);
	char buf[AGENT_TEXT_MAX + 1];
	ssize_t n;
	size_t len = 0;
	int fd, ret = 0;

	*out = NULL;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return -errno;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len == sizeof(buf) - 1 || memchr(buf, '\0', len)) {
		ret = -EINVAL;
		goto out;
	}
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	if (strchr(buf, '\n') || strchr(buf, '\r')) {
		ret = -EINVAL;
		goto out;
	}
	*out = agent_xstrdup(buf);
out:
	close(fd);
	return ret;
}

/* A decimal number in [min, max], nothing else on the line. */
static int agent_parse_ulong(const char *s, unsigned long min,
			     unsigned long max, unsigned long *v)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

/* Names go into "job=<name> ..." fields: printable, no spaces. */
static bool agent_name_ok(const char *s)
{
	if (!*s || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/*
 * The nonce the guest's payload reads from its command line (the last
 * hvmatrix.nonce= word, as the kernel's own parameter parsing would keep),
 * or NULL. It goes into the lines the agent matches and writes: a word,
 * of bounded length.
 */
#define AGENT_NONCE_KEY "hvmatrix.nonce="
#define AGENT_NONCE_MAX 64

static char *agent_cmdline_nonce(const char *cmdline)
{
	const char *p = cmdline, *v = NULL;
	size_t n = 0, k;

	while (*p) {
		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		if (k > strlen(AGENT_NONCE_KEY) &&
		    !strncmp(p, AGENT_NONCE_KEY, strlen(AGENT_NONCE_KEY))) {
			v = p + strlen(AGENT_NONCE_KEY);
			n = k - strlen(AGENT_NONCE_KEY);
		}
		p += k;
	}
	if (!v || n > AGENT_NONCE_MAX)
		return NULL;
	for (k = 0; k < n; k++)
		if (v[k] <= ' ' || v[k] > '~')
			return NULL;
	p = memcpy(agent_xmalloc(n + 1), v, n);
	((char *)p)[n] = '\0';
	return (char *)p;
}

static int agent_image_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return -EINVAL;
	return 0;
}

const char *agent_type_name(enum agent_type type)
{
	switch (type) {
	case AGENT_TYPE_PV:
		return "pv";
	case AGENT_TYPE_PVH:
		return "pvh";
	case AGENT_TYPE_HVM:
		return "hvm";
	default:
		return "unknown";
	}
}

enum agent_type agent_type_parse(const char *s)
{
	if (!strcmp(s, "pv"))
		return AGENT_TYPE_PV;
	if (!strcmp(s, "pvh"))
		return AGENT_TYPE_PVH;
	if (!strcmp(s, "hvm"))
		return AGENT_TYPE_HVM;
	return AGENT_TYPE_NONE;
}

/* Append "; "-separated problems to err, keeping the first ones. */
static void agent_err_add(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void agent_err_add(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strlen(err);
	va_list ap;

	if (used + 3 >= errlen)
		return;
	if (used) {
		memcpy(err + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

static const char *agent_why(int ret)
{
	if (ret == -ENOENT)
		return "missing";
	if (ret == -EINVAL)
		return "not one line";
	return strerror(-ret);
}

int agent_guest_load(struct agent_guest *job, const char *jobdir,
		     const char *id,
		     char *err, size_t errlen)
{
	char *s = NULL;
	int ret;

	memset(job, 0, sizeof(*job));
	err[0] = '\0';
	job->id = agent_xstrdup(id);
	job->dir = agent_path(jobdir, id);

	ret = agent_read_line(job->dir, "name", &s);
	if (ret)
		agent_err_add(err, errlen, "name: %s", agent_why(ret));
	else if (!agent_name_ok(s))
		agent_err_add(err, errlen, "name: not a single word");
	else
		job->name = s, s = NULL;
	free(s);
	if (!job->name)
		job->name = agent_xstrdup(id);

	ret = agent_read_line(job->dir, "type", &s);
	if (ret)
		agent_err_add(err, errlen, "type: %s", agent_why(ret));
	else if ((job->type = agent_type_parse(s)) == AGENT_TYPE_NONE)
		agent_err_add(err, errlen,
			      "type: '%.20s' is not pv, pvh or hvm", s);
	free(s);

	job->kernel = agent_path(job->dir, "kernel");
	ret = agent_image_ok(job->kernel);
	if (ret)
		agent_err_add(err, errlen, "kernel: %s",
			      ret == -EINVAL ? "empty or not a file" :
			      agent_why(ret));
	job->initrd = agent_path(job->dir, "initrd");
	ret = agent_image_ok(job->initrd);
	if (ret)
		agent_err_add(err, errlen, "initrd: %s",
			      ret == -EINVAL ? "empty or not a file" :
			      agent_why(ret));

	ret = agent_read_line(job->dir, "cmdline", &job->cmdline);
	if (ret)
		agent_err_add(err, errlen, "cmdline: %s", agent_why(ret));
	else
		job->nonce = agent_cmdline_nonce(job->cmdline);

	ret = agent_read_line(job->dir, "memory", &s);
	if (ret)
		agent_err_add(err, errlen, "memory: %s", agent_why(ret));
	else if (agent_parse_ulong(s, AGENT_MEMORY_MIN_MIB,
				   AGENT_MEMORY_MAX_MIB, &job->memory_mib))
		agent_err_add(err, errlen,
			      "memory: '%.20s' is not a size in MiB (%lu-%lu)",
			      s, AGENT_MEMORY_MIN_MIB, AGENT_MEMORY_MAX_MIB);
	free(s);
	s = NULL;

	ret = agent_read_line(job->dir, "timeout", &s);
	if (ret)
		agent_err_add(err, errlen, "timeout: %s", agent_why(ret));
	else if (agent_parse_ulong(s, 1, AGENT_TIMEOUT_MAX_S, &job->timeout_s))
		agent_err_add(err, errlen,
			      "timeout: '%.20s' is not a number of seconds", s);
	free(s);
	s = NULL;

	/* Older hvmatrix wrote no vcpus: one, as it was. */
	job->vcpus = 1;
	ret = agent_read_line(job->dir, "vcpus", &s);
	if (ret && ret != -ENOENT)
		agent_err_add(err, errlen, "vcpus: %s", agent_why(ret));
	else if (!ret && agent_parse_ulong(s, 1, AGENT_VCPUS_MAX,
					   &job->vcpus))
		agent_err_add(err, errlen,
			      "vcpus: '%.20s' is not a count (1-%d)", s,
			      AGENT_VCPUS_MAX);
	free(s);

	return err[0] ? -1 : 0;
}

void agent_guest_release(struct agent_guest *job)
{
	free(job->id);
	free(job->dir);
	free(job->name);
	free(job->kernel);
	free(job->initrd);
	free(job->cmdline);
	free(job->nonce);
	memset(job, 0, sizeof(*job));
}

int agent_guest_config(const struct agent_guest *job, libxl_domain_config *cfg)
{
	libxl_domain_create_info *c = &cfg->c_info;
	libxl_domain_build_info *b = &cfg->b_info;
	libxl_domain_type t;
	size_t n;

	switch (job->type) {
	case AGENT_TYPE_PV:
		t = LIBXL_DOMAIN_TYPE_PV;
		break;
	case AGENT_TYPE_PVH:
		t = LIBXL_DOMAIN_TYPE_PVH;
		break;
	case AGENT_TYPE_HVM:
		t = LIBXL_DOMAIN_TYPE_HVM;
		break;
	default:
		return -1;
	}

	c->type = t;
	/* Domain names are per job dir, not per cell: always a valid name. */
	n = strlen(job->id) + sizeof("hvm-");
	c->name = agent_xmalloc(n);
	snprintf(c->name, n, "hvm-%s", job->id);

	libxl_domain_build_info_init_type(b, t);
	b->kernel = agent_xstrdup(job->kernel);
	b->ramdisk = agent_xstrdup(job->initrd);
	b->cmdline = agent_xstrdup(job->cmdline ? job->cmdline : "");
	b->max_memkb = (uint64_t)job->memory_mib * 1024;
	b->target_memkb = b->max_memkb;
	/*
	 * Every vCPU online from the start, as xl's vcpus= does: libxl
	 * alone would bring up vCPU 0 only. The map is freed by libxl's
	 * dispose with free(), so it is allocated here the same way.
	 */
	b->max_vcpus = (int)job->vcpus;
	libxl_bitmap_init(&b->avail_vcpus);
	b->avail_vcpus.size = (uint32_t)((job->vcpus + 7) / 8);
	b->avail_vcpus.map = agent_xmalloc(b->avail_vcpus.size);
	memset(b->avail_vcpus.map, 0, b->avail_vcpus.size);
	for (n = 0; n < job->vcpus; n++)
		libxl_bitmap_set(&b->avail_vcpus, (int)n);
	/*
	 * Under QEMU TCG, emulated SVM reports RDTSCP without next-RIP and
	 * Xen crashes an HVM-container guest right after "x86/fpu" unless
	 * the TSC is native. A PV guest does not trap there.
	 */
	if (t != LIBXL_DOMAIN_TYPE_PV)
		b->tsc_mode = LIBXL_TSC_MODE_NATIVE;
	if (t == LIBXL_DOMAIN_TYPE_HVM) {
		/*
		 * The upstream-QEMU device model (qemu-system-xen) at the
		 * path libxl was built with, where the dom0 image has it;
		 * it boots the job's kernel directly (QEMU's -kernel,
		 * -initrd, -append), hvmloader and SeaBIOS before it.
		 * Headless: the console is the emulated serial port.
		 */
		b->device_model_version =
			LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN;
		libxl_defbool_set(&b->u.hvm.nographic, true);
		libxl_defbool_set(&b->u.hvm.vnc.enable, false);
		libxl_defbool_set(&b->u.hvm.sdl.enable, false);
		b->u.hvm.vga.kind = LIBXL_VGA_INTERFACE_TYPE_NONE;
		b->u.hvm.serial = agent_xstrdup("pty");
	}

	/*
	 * libxl itself never acts on these (xl does): the domain stays in
	 * its shut-down state until the agent has read the reason and
	 * destroys it. PRESERVE says so to anyone reading the config.
	 */
	cfg->on_poweroff = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_reboot = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_watchdog = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_crash = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	cfg->on_soft_reset = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
	return 0;
}

libxl_console_type agent_guest_console(const struct agent_guest *job)
{
	return job->type == AGENT_TYPE_HVM ? LIBXL_CONSOLE_TYPE_SERIAL :
					     LIBXL_CONSOLE_TYPE_PV;
}

void agent_ready_init(struct agent_ready *r, const char *nonce,
		      const char *probe)
{
	memset(r, 0, sizeof(*r));
	if (nonce && probe)
		snprintf(r->want, sizeof(r->want),
			 "HVMATRIX-PROBE nonce=%s name=%s result=ready", nonce,
			 probe);
}

/* The line just ended: the request itself, or it with more words. */
static bool agent_ready_match(struct agent_ready *r)
{
	size_t k = strlen(r->want);

	while (r->len && r->line[r->len - 1] == '\r')
		r->len--;
	return !r->skip && r->len >= k && !memcmp(r->line, r->want, k) &&
	       (r->len == k || r->line[k] == ' ');
}

bool agent_ready_feed(struct agent_ready *r, const char *buf, size_t len)
{
	size_t i;

	if (!r->want[0])
		return false;
	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			bool hit = agent_ready_match(r);

			r->len = 0;
			r->skip = false;
			if (hit)
				return true;
			continue;
		}
		/* Carriage returns before a line's text are the console's. */
		if (buf[i] == '\r' && !r->len)
			continue;
		if (r->skip)
			continue;
		if (r->len == sizeof(r->line)) {
			r->skip = true;	/* far longer than the request */
			continue;
		}
		r->line[r->len++] = buf[i];
	}
	return false;
}

int agent_go_line(char *buf, size_t len, const char *nonce)
{
	int n = snprintf(buf, len, "HVMATRIX-GO nonce=%s\n", nonce);

	return n < 0 || (size_t)n >= len ? -1 : n;
}

void agent_result_set(struct agent_result *r, const char *fate,
		      const char *fmt, ...)
{
	va_list ap;

	r->fate = fate;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

const char *agent_fate_of_reason(libxl_shutdown_reason reason)
{
	switch (reason) {
	case LIBXL_SHUTDOWN_REASON_POWEROFF:
		return "shutdown";
	case LIBXL_SHUTDOWN_REASON_CRASH:
		return "crashed";
	case LIBXL_SHUTDOWN_REASON_REBOOT:
		return "rebooted";
	default:
		return "other";
	}
}

void agent_out_init(struct agent_out *out, FILE *f)
{
	out->f = f;
	out->bol = true;
}

int agent_out_guest(struct agent_out *out, const void *buf, size_t len)
{
	if (!len)
		return 0;
	if (fwrite(buf, 1, len, out->f) != len)
		return -1;
	out->bol = ((const char *)buf)[len - 1] == '\n';
	/* The runner judges the console as it streams: no buffering. */
	return fflush(out->f) ? -1 : 0;
}

int agent_out_line(struct agent_out *out, const char *fmt, ...)
{
	va_list ap;
	int ret = 0;

	if (!out->bol && fputc('\n', out->f) == EOF)
		ret = -1;
	fputs(AGENT_PREFIX, out->f);
	va_start(ap, fmt);
	if (vfprintf(out->f, fmt, ap) < 0)
		ret = -1;
	va_end(ap);
	if (fputc('\n', out->f) == EOF || fflush(out->f))
		ret = -1;
	out->bol = true;
	return ret;
}

int agent_out_ready(struct agent_out *out, size_t jobs, const char *xen)
{
	/*
	 * handover= names the hand-over probes this agent runs: a runner
	 * can tell an older dom0 image, whose agent would leave a guest
	 * waiting for its go-ahead, from a kernel that never resumes.
	 */
	return agent_out_line(out, "ready jobs=%zu xen=%s handover=suspend",
			      jobs, xen);
}

int agent_out_begin(struct agent_out *out, const struct agent_guest *job)
{
	return agent_out_line(out, "begin job=%s type=%s", job->name,
			      agent_type_name(job->type));
}

int agent_out_end(struct agent_out *out, const char *name, const char *fate,
		  double seconds, const char *detail)
{
	char clean[AGENT_DETAIL_MAX + 1];

	if (seconds < 0)
		seconds = 0;
	if (detail && *detail) {
		snprintf(clean, sizeof(clean), "%s", detail);
		agent_detail_clean(clean);
	} else {
		clean[0] = '\0';
	}
	if (!clean[0])
		return agent_out_line(out, "end job=%s fate=%s seconds=%.1f",
				      name, fate, seconds);
	return agent_out_line(out, "end job=%s fate=%s seconds=%.1f detail=%s",
			      name, fate, seconds, clean);
}

int agent_out_done(struct agent_out *out)
{
	return agent_out_line(out, "done");
}

int agent_out_saved(struct agent_out *out, const char *name,
		    long long bytes, double seconds)
{
	return agent_out_line(out, "suspend job=%s saved bytes=%lld "
			      "seconds=%.1f", name, bytes, seconds);
}

int agent_out_restored(struct agent_out *out, const char *name,
		       double seconds)
{
	return agent_out_line(out, "suspend job=%s restored seconds=%.1f",
			      name, seconds);
}

int agent_dm_log(const char *dir, const char *name, FILE *err, char *last,
		 size_t len)
{
	size_t n = strlen(dir) + strlen(name) + sizeof("/qemu-dm-.log");
	char *path = agent_xmalloc(n), line[1024];
	FILE *f;
	int lines = 0;

	if (len)
		last[0] = '\0';
	snprintf(path, n, "%s/qemu-dm-%s.log", dir, name);
	f = fopen(path, "re");
	free(path);
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		fprintf(err, AGENT_PREFIX "log: device model: %s\n", line);
		lines++;
		agent_detail_clean(line);
		if (line[0] && len)
			snprintf(last, len, "%s", line);
	}
	fclose(f);
	fflush(err);
	return lines;
}

void agent_detail_clean(char *s)
{
	char *w = s;
	const char *r;
	bool space = true;	/* drops leading blanks */

	for (r = s; *r; r++) {
		unsigned char ch = *r;

		if (ch < ' ' || ch == 0x7f || ch == ' ') {
			if (!space)
				*w++ = ' ';
			space = true;
			continue;
		}
		*w++ = ch;
		space = false;
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
	if (strlen(s) > AGENT_DETAIL_MAX)
		s[AGENT_DETAIL_MAX] = '\0';
}
