/*
 * Unit tests for agent-guest: job directories, the libxl domain config a job
 * becomes, and the protocol lines. No Xen needed: libxl is only used for
 * its config initialisers.
 */
#include "agent/agent-guest.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test-agent.XXXXXX";

static void put(const char *dir, const char *file, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", tmpdir, dir, file);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void drop(const char *dir, const char *file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/%s", tmpdir, dir, file);
	unlink(path);
}

/* A complete, valid job directory. */
static void make_job(const char *id, const char *type)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, id);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put(id, "name", "xen-pv-6.1\n");
	put(id, "type", type);
	put(id, "kernel", "not really a kernel");
	put(id, "initrd", "not really an initrd");
	put(id, "cmdline", "console=hvc0 panic=-1 hvmatrix.nonce=abc\n");
	put(id, "memory", "256\n");
	put(id, "timeout", "120\n");
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test-agent.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char *argv[] = { "rm", "-rf", tmpdir, NULL };
	pid_t pid = fork();

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

/* Load job ID, expecting failure or success; err receives the reason. */
static int load(struct agent_guest *job, const char *id, char *err, size_t len)
{
	return agent_guest_load(job, tmpdir, id, err, len);
}

START_TEST(test_list_name_order)
{
	char **ids;
	size_t n;

	make_job("10", "pv");
	make_job("02", "pv");
	make_job("01", "pvh");
	make_job(".hidden", "pv");
	put(".", "zz-not-a-dir", "x");
	ck_assert_int_eq(agent_guest_list(tmpdir, &ids, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ids[0], "01");
	ck_assert_str_eq(ids[1], "02");
	ck_assert_str_eq(ids[2], "10");
	ck_assert_ptr_null(ids[3]);
	agent_guest_list_free(ids);
}
END_TEST

START_TEST(test_list_missing_dir)
{
	char **ids = NULL;
	size_t n;

	ck_assert_int_lt(agent_guest_list("/nonexistent/jobs", &ids, &n), 0);
	ck_assert_ptr_null(ids);
}
END_TEST

START_TEST(test_load_valid)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pvh\n");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(job.id, "00");
	ck_assert_str_eq(job.name, "xen-pv-6.1");
	ck_assert_int_eq(job.type, AGENT_TYPE_PVH);
	ck_assert_str_eq(job.cmdline,
			 "console=hvc0 panic=-1 hvmatrix.nonce=abc");
	ck_assert_str_eq(job.nonce, "abc");
	ck_assert_uint_eq(job.memory_mib, 256);
	ck_assert_uint_eq(job.timeout_s, 120);
	ck_assert_str_eq(strrchr(job.kernel, '/'), "/kernel");
	ck_assert_str_eq(strrchr(job.initrd, '/'), "/initrd");
	ck_assert_ptr_nonnull(strstr(job.kernel, tmpdir));
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_missing_file)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	drop("00", "initrd");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "initrd: missing"));
	/* The begin/end lines still get the cell's name and type. */
	ck_assert_str_eq(job.name, "xen-pv-6.1");
	ck_assert_int_eq(job.type, AGENT_TYPE_PV);
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_empty_kernel)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	put("00", "kernel", "");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "kernel:"));
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_missing_name_uses_id)
{
	struct agent_guest job;
	char err[256];

	make_job("07", "pv");
	drop("07", "name");
	ck_assert_int_eq(load(&job, "07", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "name: missing"));
	ck_assert_str_eq(job.name, "07");
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_name_with_space)
{
	struct agent_guest job;
	char err[256];

	make_job("03", "pv");
	put("03", "name", "two words\n");
	ck_assert_int_eq(load(&job, "03", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "name:"));
	ck_assert_str_eq(job.name, "03");
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_bad_type)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "xen");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "type:"));
	ck_assert_int_eq(job.type, AGENT_TYPE_NONE);
	ck_assert_str_eq(agent_type_name(job.type), "unknown");
	agent_guest_release(&job);
}
END_TEST

static const char *const bad_memory[] = {
	"256M", "0", "", "-5", "12", "99999999999999999999", "256 512",
};

START_TEST(test_load_bad_memory)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	put("00", "memory", bad_memory[_i]);
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "memory:"), "memory '%s': %s",
		      bad_memory[_i], err);
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_bad_timeout)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	put("00", "timeout", "0\n");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "timeout:"));
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_cmdline_two_lines)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	put("00", "cmdline", "console=hvc0\nrdinit=/bin/sh\n");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cmdline: not one line"));
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_load_reports_every_problem)
{
	struct agent_guest job;
	char err[256];

	make_job("00", "pv");
	drop("00", "kernel");
	put("00", "timeout", "soon");
	ck_assert_int_eq(load(&job, "00", err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "kernel: missing"));
	ck_assert_ptr_nonnull(strstr(err, "timeout:"));
	ck_assert_ptr_null(strchr(err, '\n'));
	agent_guest_release(&job);
}
END_TEST

/* Load job 00 of TYPE and build its config into cfg. */
static void config_of(const char *type, struct agent_guest *job,
		      libxl_domain_config *cfg)
{
	char err[256];

	make_job("00", type);
	ck_assert_int_eq(load(job, "00", err, sizeof(err)), 0);
	libxl_domain_config_init(cfg);
	ck_assert_int_eq(agent_guest_config(job, cfg), 0);
}

static void assert_common_config(const struct agent_guest *job,
				 const libxl_domain_config *cfg)
{
	ck_assert_str_eq(cfg->c_info.name, "hvm-00");
	ck_assert_str_eq(cfg->b_info.kernel, job->kernel);
	ck_assert_str_eq(cfg->b_info.ramdisk, job->initrd);
	ck_assert_str_eq(cfg->b_info.cmdline,
			 "console=hvc0 panic=-1 hvmatrix.nonce=abc");
	ck_assert_uint_eq(cfg->b_info.max_memkb, 256 * 1024);
	ck_assert_uint_eq(cfg->b_info.target_memkb, 256 * 1024);
	ck_assert_int_eq(cfg->on_poweroff, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	ck_assert_int_eq(cfg->on_reboot, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	ck_assert_int_eq(cfg->on_crash, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
	ck_assert_int_eq(cfg->on_watchdog, LIBXL_ACTION_ON_SHUTDOWN_PRESERVE);
}

START_TEST(test_config_pv)
{
	struct agent_guest job;
	libxl_domain_config cfg;

	config_of("pv", &job, &cfg);
	assert_common_config(&job, &cfg);
	ck_assert_int_eq(cfg.c_info.type, LIBXL_DOMAIN_TYPE_PV);
	ck_assert_int_eq(cfg.b_info.type, LIBXL_DOMAIN_TYPE_PV);
	/* PV guests keep libxl's default TSC mode. */
	ck_assert_int_ne(cfg.b_info.tsc_mode, LIBXL_TSC_MODE_NATIVE);
	ck_assert_int_eq(agent_guest_console(&job), LIBXL_CONSOLE_TYPE_PV);
	libxl_domain_config_dispose(&cfg);
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_config_pvh)
{
	struct agent_guest job;
	libxl_domain_config cfg;

	config_of("pvh", &job, &cfg);
	assert_common_config(&job, &cfg);
	ck_assert_int_eq(cfg.c_info.type, LIBXL_DOMAIN_TYPE_PVH);
	ck_assert_int_eq(cfg.b_info.type, LIBXL_DOMAIN_TYPE_PVH);
	ck_assert_int_eq(cfg.b_info.tsc_mode, LIBXL_TSC_MODE_NATIVE);
	ck_assert_int_eq(agent_guest_console(&job), LIBXL_CONSOLE_TYPE_PV);
	libxl_domain_config_dispose(&cfg);
	agent_guest_release(&job);
}
END_TEST

START_TEST(test_config_hvm)
{
	struct agent_guest job;
	libxl_domain_config cfg;

	config_of("hvm", &job, &cfg);
	assert_common_config(&job, &cfg);
	ck_assert_int_eq(cfg.c_info.type, LIBXL_DOMAIN_TYPE_HVM);
	ck_assert_int_eq(cfg.b_info.type, LIBXL_DOMAIN_TYPE_HVM);
	ck_assert_int_eq(cfg.b_info.tsc_mode, LIBXL_TSC_MODE_NATIVE);
	ck_assert_str_eq(cfg.b_info.u.hvm.serial, "pty");
	ck_assert(libxl_defbool_val(cfg.b_info.u.hvm.nographic));
	ck_assert(!libxl_defbool_val(cfg.b_info.u.hvm.vnc.enable));
	ck_assert(!libxl_defbool_val(cfg.b_info.u.hvm.sdl.enable));
	ck_assert_int_eq(cfg.b_info.u.hvm.vga.kind,
			 LIBXL_VGA_INTERFACE_TYPE_NONE);
	ck_assert_int_eq(cfg.b_info.device_model_version,
			 LIBXL_DEVICE_MODEL_VERSION_QEMU_XEN);
	/* Direct kernel boot: the job's kernel, payload and command line. */
	ck_assert_str_eq(cfg.b_info.kernel, job.kernel);
	ck_assert_str_eq(cfg.b_info.ramdisk, job.initrd);
	ck_assert_int_eq(agent_guest_console(&job), LIBXL_CONSOLE_TYPE_SERIAL);
	libxl_domain_config_dispose(&cfg);
	agent_guest_release(&job);
}
END_TEST

/* A device model that died: its log is relayed, its last word kept. */
START_TEST(test_dm_log)
{
	char dir[512], last[64], *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(err);
	snprintf(dir, sizeof(dir), "%s/log", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	put("log", "qemu-dm-hvm-00.log",
	    "qemu: starting\nqemu: could not load\tlinuxboot_dma.bin\n\n");
	ck_assert_int_eq(agent_dm_log(dir, "hvm-00", err, last,
				      sizeof(last)), 3);
	fclose(err);
	ck_assert_str_eq(last, "qemu: could not load linuxboot_dma.bin");
	ck_assert_str_eq(text,
			 AGENT_PREFIX "log: device model: qemu: starting\n"
			 AGENT_PREFIX "log: device model: qemu: could not "
			 "load\tlinuxboot_dma.bin\n"
			 AGENT_PREFIX "log: device model: \n");
	free(text);
	/* No log at all (the device model never started): nothing. */
	ck_assert_int_lt(agent_dm_log(tmpdir, "hvm-01", stderr, last,
				      sizeof(last)), 0);
	ck_assert_str_eq(last, "");
}
END_TEST

START_TEST(test_config_unknown_type)
{
	struct agent_guest job = AGENT_GUEST_INIT;
	libxl_domain_config cfg;

	job.id = "00";
	libxl_domain_config_init(&cfg);
	ck_assert_int_eq(agent_guest_config(&job, &cfg), -1);
	libxl_domain_config_dispose(&cfg);
}
END_TEST

START_TEST(test_fate_of_reason)
{
	ck_assert_str_eq(agent_fate_of_reason(LIBXL_SHUTDOWN_REASON_POWEROFF),
			 "shutdown");
	ck_assert_str_eq(agent_fate_of_reason(LIBXL_SHUTDOWN_REASON_CRASH),
			 "crashed");
	ck_assert_str_eq(agent_fate_of_reason(LIBXL_SHUTDOWN_REASON_REBOOT),
			 "rebooted");
	ck_assert_str_eq(agent_fate_of_reason(LIBXL_SHUTDOWN_REASON_WATCHDOG),
			 "other");
	ck_assert_str_eq(agent_fate_of_reason(LIBXL_SHUTDOWN_REASON_SUSPEND),
			 "other");
}
END_TEST

/* An agent_out writing to memory; text() returns everything written. */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
	struct agent_out out;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	m->f = open_memstream(&m->buf, &m->len);
	ck_assert_ptr_nonnull(m->f);
	agent_out_init(&m->out, m->f);
}

static const char *mem_text(struct mem *m)
{
	fflush(m->f);
	return m->buf;
}

static void mem_close(struct mem *m)
{
	fclose(m->f);
	free(m->buf);
}

START_TEST(test_out_first_line_no_blank)
{
	struct mem m;

	mem_open(&m);
	agent_out_ready(&m.out, 2, "4.17.7");
	ck_assert_str_eq(mem_text(&m),
			 "hvmatrix-agent: ready jobs=2 xen=4.17.7 "
			 "handover=suspend\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_fresh_line_after_partial_guest_line)
{
	struct agent_guest job = AGENT_GUEST_INIT;
	struct mem m;

	job.name = "cell";
	job.type = AGENT_TYPE_PV;
	mem_open(&m);
	agent_out_begin(&m.out, &job);
	agent_out_guest(&m.out, "Kernel panic - not syncing", 26);
	agent_out_end(&m.out, "cell", "crashed", 3.14159, NULL);
	ck_assert_str_eq(mem_text(&m),
			 "hvmatrix-agent: begin job=cell type=pv\n"
			 "Kernel panic - not syncing\n"
			 "hvmatrix-agent: end job=cell fate=crashed "
			 "seconds=3.1\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_no_extra_newline_after_full_line)
{
	struct mem m;

	mem_open(&m);
	agent_out_guest(&m.out, "HVMATRIX-OK nonce=x\r\n", 21);
	agent_out_end(&m.out, "c", "shutdown", 14.06, "");
	agent_out_done(&m.out);
	ck_assert_str_eq(mem_text(&m),
			 "HVMATRIX-OK nonce=x\r\n"
			 "hvmatrix-agent: end job=c fate=shutdown "
			 "seconds=14.1\n"
			 "hvmatrix-agent: done\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_carriage_return_is_not_a_line_end)
{
	struct mem m;

	mem_open(&m);
	agent_out_guest(&m.out, "login:\r", 7);
	agent_out_done(&m.out);
	ck_assert_str_eq(mem_text(&m), "login:\r\nhvmatrix-agent: done\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_end_with_detail)
{
	struct mem m;

	mem_open(&m);
	agent_out_end(&m.out, "c", "error", 0.04, "initrd: missing");
	ck_assert_str_eq(mem_text(&m),
			 "hvmatrix-agent: end job=c fate=error seconds=0.0 "
			 "detail=initrd: missing\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_detail_stays_on_one_line)
{
	struct mem m;
	const char *t;

	mem_open(&m);
	agent_out_end(&m.out, "c", "error", 1,
		      "libxl: bad\nthing\r\thappened\n");
	t = mem_text(&m);
	ck_assert_str_eq(t, "hvmatrix-agent: end job=c fate=error seconds=1.0 "
			 "detail=libxl: bad thing happened\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_out_blank_detail_is_omitted)
{
	struct mem m;

	mem_open(&m);
	agent_out_end(&m.out, "c", "timeout", 120, " \n\t ");
	ck_assert_str_eq(mem_text(&m),
			 "hvmatrix-agent: end job=c fate=timeout "
			 "seconds=120.0\n");
	mem_close(&m);
}
END_TEST

START_TEST(test_detail_clean_truncates)
{
	char s[AGENT_DETAIL_MAX * 2];

	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	agent_detail_clean(s);
	ck_assert_uint_eq(strlen(s), AGENT_DETAIL_MAX);
}
END_TEST


/* The nonce is the guest's: its command line's, the last one winning. */
START_TEST(test_load_nonce)
{
	static const struct {
		const char *cmdline, *nonce;
	} cases[] = {
		{ "hvmatrix.nonce=1f2e quiet\n", "1f2e" },
		{ "a hvmatrix.nonce=x hvmatrix.nonce=y\n", "y" },
		{ "console=hvc0 panic=-1\n", NULL },
		{ "hvmatrix.nonce= quiet\n", NULL },
		{ "xhvmatrix.nonce=abc\n", NULL },
		{ "hvmatrix.nonce=\001bad\n", NULL },
	};
	struct agent_guest job;
	char err[256];
	size_t i;

	make_job("00", "pv\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		put("00", "cmdline", cases[i].cmdline);
		ck_assert_int_eq(load(&job, "00", err, sizeof(err)), 0);
		if (cases[i].nonce)
			ck_assert_str_eq(job.nonce, cases[i].nonce);
		else
			ck_assert_ptr_null(job.nonce);
		agent_guest_release(&job);
	}
}
END_TEST

/* Feed text to a fresh matcher in chunks of `chunk` bytes. */
static int ready_in(const char *text, size_t chunk)
{
	struct agent_ready r;
	size_t off, len = strlen(text), n;
	int hits = 0;

	agent_ready_init(&r, "n1", "suspend");
	for (off = 0; off < len; off += n) {
		n = off + chunk > len ? len - off : chunk;
		hits += agent_ready_feed(&r, text + off, n);
	}
	return hits;
}

START_TEST(test_ready_line)
{
	static const char *yes[] = {
		"HVMATRIX-PROBE nonce=n1 name=suspend result=ready\n",
		"boot\r\nHVMATRIX-PROBE nonce=n1 name=suspend "
		"result=ready\r\r\nmore",
		"\rHVMATRIX-PROBE nonce=n1 name=suspend result=ready\r\n",
		"HVMATRIX-PROBE nonce=n1 name=suspend result=ready extra=1\n",
	};
	static const char *no[] = {
		/* Not yet a whole line. */
		"HVMATRIX-PROBE nonce=n1 name=suspend result=ready",
		/* Another nonce, another probe, another result. */
		"HVMATRIX-PROBE nonce=n12 name=suspend result=ready\n",
		"HVMATRIX-PROBE nonce=n name=suspend result=ready\n",
		"HVMATRIX-PROBE nonce=n1 name=migrate result=ready\n",
		"HVMATRIX-PROBE nonce=n1 name=suspend result=readyx\n",
		"HVMATRIX-PROBE nonce=n1 name=suspend result=start\n",
		/* Not at the start of a line: the echoed command line. */
		"[ 0.0] Kernel command line: x HVMATRIX-PROBE nonce=n1 "
		"name=suspend result=ready\n",
		" HVMATRIX-PROBE nonce=n1 name=suspend result=ready\n",
	};
	size_t i, chunk;

	for (chunk = 1; chunk <= 80; chunk++) {
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
			ck_assert_msg(ready_in(yes[i], chunk) == 1,
				      "chunk %zu: missed '%s'", chunk, yes[i]);
		for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
			ck_assert_msg(ready_in(no[i], chunk) == 0,
				      "chunk %zu: took '%s'", chunk, no[i]);
	}
}
END_TEST

/* A line longer than the matcher holds is never taken for the request. */
START_TEST(test_ready_long_line)
{
	static const char want[] =
		"HVMATRIX-PROBE nonce=n1 name=suspend result=ready\n";
	char buf[3 * AGENT_READY_MAX];
	struct agent_ready r;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf + AGENT_READY_MAX + 5, want, sizeof(want) - 1);
	agent_ready_init(&r, "n1", "suspend");
	ck_assert(!agent_ready_feed(&r, buf, AGENT_READY_MAX + 5 +
				    sizeof(want) - 1));
	/* The next line starts afresh. */
	ck_assert(agent_ready_feed(&r, want, sizeof(want) - 1));
}
END_TEST

/* No nonce, no request: a guest without one is never suspended. */
START_TEST(test_ready_without_nonce)
{
	static const char line[] =
		"HVMATRIX-PROBE nonce= name=suspend result=ready\n";
	struct agent_ready r;

	agent_ready_init(&r, NULL, "suspend");
	ck_assert(!agent_ready_feed(&r, line, sizeof(line) - 1));
}
END_TEST

START_TEST(test_go_line)
{
	char buf[64];

	ck_assert_int_eq(agent_go_line(buf, sizeof(buf), "n1"), 21);
	ck_assert_str_eq(buf, "HVMATRIX-GO nonce=n1\n");
	ck_assert_int_eq(agent_go_line(buf, 10, "n1"), -1);
}
END_TEST

START_TEST(test_out_suspend_lines)
{
	struct mem m;

	mem_open(&m);
	agent_out_guest(&m.out, "[ 3.1] Freezing", 15);
	agent_out_saved(&m.out, "c@n1", 268973472LL, 5.94);
	agent_out_restored(&m.out, "c@n1", 6.02);
	ck_assert_str_eq(mem_text(&m),
			 "[ 3.1] Freezing\n"
			 "hvmatrix-agent: suspend job=c@n1 saved "
			 "bytes=268973472 seconds=5.9\n"
			 "hvmatrix-agent: suspend job=c@n1 restored "
			 "seconds=6.0\n");
	mem_close(&m);
}
END_TEST

/*
 * A memory image: the kernel's format string (skipped), zeroed pages, a
 * log record with the panic, binary after it. Fed in chunks of every size
 * from 1 byte up, the same message comes out.
 */
static size_t panic_image(char *buf, size_t size)
{
	static const char fmt[] = "Kernel panic - not syncing: %s\n";
	static const char rec[] = "Kernel panic - not syncing: hvmatrix test: "
				  "broken Xen PV setup";
	size_t n = 0;

	memset(buf, 0, size);
	memcpy(buf + 100, fmt, sizeof(fmt) - 1);
	/* A stale copy with no newline after it. */
	memcpy(buf + 2000, rec, sizeof(rec) - 1);
	memcpy(buf + 2000 + sizeof(rec) - 1, "xy", 3);
	n = 5000;
	memcpy(buf + n, rec, sizeof(rec) - 1);
	n += sizeof(rec) - 1;
	/* As Linux leaves a record: its last two bytes again, a newline. */
	memcpy(buf + n, "up\n", 3);
	n += 3;
	buf[n++] = 0;
	buf[n++] = (char)0x81;
	return n + 64;
}

START_TEST(test_panic_scan_any_chunking)
{
	char img[6000];
	size_t len = panic_image(img, sizeof(img)), chunk, off;
	struct panicscan s;
	int found;

	for (chunk = 1; chunk <= 300; chunk += (chunk < 40 ? 1 : 37)) {
		panicscan_init(&s);
		found = 0;
		for (off = 0; off < len && !found; off += chunk)
			found = panicscan_feed(&s, img + off,
						      off + chunk > len ?
						      len - off : chunk);
		ck_assert_msg(found, "chunk %zu: not found", chunk);
		ck_assert_str_eq(s.found, "Kernel panic - not syncing: "
				 "hvmatrix test: broken Xen PV setup");
	}
}
END_TEST

START_TEST(test_panic_scan_format_string_only)
{
	static const char fmt[] = "xx Kernel panic - not syncing: %s\n"
				  "---[ end Kernel panic - not syncing: %s ]---";
	struct panicscan s;

	panicscan_init(&s);
	ck_assert_int_eq(panicscan_feed(&s, fmt, sizeof(fmt) - 1), 0);
	ck_assert_str_eq(s.found, "");
}
END_TEST

/* A message at the very end is only taken once it is known to end. */
START_TEST(test_panic_scan_message_cut_at_end)
{
	static const char a[] = "Kernel panic - not syncing: abc";
	static const char b[] = "def\r\nlater";
	struct panicscan s;

	panicscan_init(&s);
	ck_assert_int_eq(panicscan_feed(&s, a, sizeof(a) - 1), 0);
	ck_assert_int_eq(panicscan_feed(&s, b, sizeof(b) - 1), 1);
	ck_assert_str_eq(s.found, "Kernel panic - not syncing: abcdef");
	/* On a console, a message that ends in a repeated pair stays. */
	panicscan_init(&s);
	ck_assert_int_eq(panicscan_feed(&s, "Kernel panic - not syncing: "
					"abab\r\n", 34), 1);
	ck_assert_str_eq(s.found, "Kernel panic - not syncing: abab");
}
END_TEST

/* A message longer than the bound is cut there, not lost. */
START_TEST(test_panic_scan_long_message)
{
	char buf[PANICSCAN_NEEDLE_LEN + 3 * PANICSCAN_MAX];
	struct panicscan s;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, PANICSCAN_NEEDLE, PANICSCAN_NEEDLE_LEN);
	panicscan_init(&s);
	ck_assert_int_eq(panicscan_feed(&s, buf, sizeof(buf)), 1);
	ck_assert_uint_eq(strlen(s.found),
			  PANICSCAN_NEEDLE_LEN + PANICSCAN_MAX);
}
END_TEST

static Suite *agent_suite(void)
{
	Suite *s = suite_create("agent");
	TCase *tc = tcase_create("job");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_name_order);
	tcase_add_test(tc, test_list_missing_dir);
	tcase_add_test(tc, test_load_valid);
	tcase_add_test(tc, test_load_missing_file);
	tcase_add_test(tc, test_load_empty_kernel);
	tcase_add_test(tc, test_load_missing_name_uses_id);
	tcase_add_test(tc, test_load_name_with_space);
	tcase_add_test(tc, test_load_bad_type);
	tcase_add_loop_test(tc, test_load_bad_memory, 0,
			    sizeof(bad_memory) / sizeof(bad_memory[0]));
	tcase_add_test(tc, test_load_bad_timeout);
	tcase_add_test(tc, test_load_cmdline_two_lines);
	tcase_add_test(tc, test_load_reports_every_problem);
	tcase_add_test(tc, test_load_nonce);
	suite_add_tcase(s, tc);

	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_pv);
	tcase_add_test(tc, test_config_pvh);
	tcase_add_test(tc, test_config_hvm);
	tcase_add_test(tc, test_dm_log);
	tcase_add_test(tc, test_config_unknown_type);
	tcase_add_test(tc, test_fate_of_reason);
	suite_add_tcase(s, tc);

	tc = tcase_create("protocol");
	tcase_add_test(tc, test_out_first_line_no_blank);
	tcase_add_test(tc, test_out_fresh_line_after_partial_guest_line);
	tcase_add_test(tc, test_out_no_extra_newline_after_full_line);
	tcase_add_test(tc, test_out_carriage_return_is_not_a_line_end);
	tcase_add_test(tc, test_out_end_with_detail);
	tcase_add_test(tc, test_out_suspend_lines);
	tcase_add_test(tc, test_ready_line);
	tcase_add_test(tc, test_ready_long_line);
	tcase_add_test(tc, test_ready_without_nonce);
	tcase_add_test(tc, test_go_line);
	tcase_add_test(tc, test_out_detail_stays_on_one_line);
	tcase_add_test(tc, test_out_blank_detail_is_omitted);
	tcase_add_test(tc, test_detail_clean_truncates);
	suite_add_tcase(s, tc);

	tc = tcase_create("panic-scan");
	tcase_add_test(tc, test_panic_scan_any_chunking);
	tcase_add_test(tc, test_panic_scan_format_string_only);
	tcase_add_test(tc, test_panic_scan_message_cut_at_end);
	tcase_add_test(tc, test_panic_scan_long_message);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(agent_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
