/*
 * test-slurm: unit tests for the Slurm executor's pure parts: squeue's
 * lines (slurm-cmd.c: fields, states, array task ids), the executor keys
 * arrays and builds (matrix-sections.c), and one job's life
 * (slurm-job.c: sbatch's command line and answer, squeue's states, the
 * ERROR of a job that never started, was requeued, overran or was lost,
 * and when a scan without a result is conclusive). The shared
 * directory's files are test-rundir.c; the executor against a real
 * slurmctld is t-slurm.sh and t-slurm-faults.sh.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/slurm-cmd.h"
#include "executor/slurm-job.h"
#include "lib/fsutil.h"
#include "lib/spawn.h"
#include "lib/strbuf.h"
#include "lib/xmalloc.h"
#include "matrix/matrix.h"

START_TEST(test_fields)
{
	char line[] = "12_3|hvm-a-00ff|RUNNING|None";
	char short_line[] = "12|hvm-x";
	char *f[4];

	ck_assert_int_eq(slurm_cmd_fields(line, f, 4), 0);
	ck_assert_str_eq(f[0], "12_3");
	ck_assert_str_eq(f[1], "hvm-a-00ff");
	ck_assert_str_eq(f[2], "RUNNING");
	ck_assert_str_eq(f[3], "None");
	ck_assert_int_eq(slurm_cmd_fields(short_line, f, 4), -1);
}
END_TEST

START_TEST(test_states)
{
	ck_assert_int_eq(slurm_cmd_state_class("PENDING"), SLURM_WAITING);
	ck_assert_int_eq(slurm_cmd_state_class("SUSPENDED"), SLURM_WAITING);
	ck_assert_int_eq(slurm_cmd_state_class("REQUEUED"), SLURM_REQUEUED);
	ck_assert_int_eq(slurm_cmd_state_class("REQUEUE_HOLD"),
			 SLURM_REQUEUED);
	ck_assert_int_eq(slurm_cmd_state_class("RUNNING"), SLURM_ACTIVE);
	ck_assert_int_eq(slurm_cmd_state_class("COMPLETING"), SLURM_ACTIVE);
	ck_assert_int_eq(slurm_cmd_state_class("NODE_FAIL"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("PREEMPTED"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("TIMEOUT"), SLURM_ENDED);
	ck_assert_int_eq(slurm_cmd_state_class("COMPLETED"), SLURM_ENDED);
}
END_TEST

START_TEST(test_task_id)
{
	char job[32];
	unsigned task = 99;

	ck_assert_int_eq(slurm_cmd_task_id("123_4", job, sizeof(job), &task),
			 0);
	ck_assert_str_eq(job, "123");
	ck_assert_uint_eq(task, 4);
	/* A plain job, an unsplit pending array, junk: not a task. */
	ck_assert_int_eq(slurm_cmd_task_id("123", job, sizeof(job), &task),
			 -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_[0-3]", job, sizeof(job),
					   &task), -1);
	ck_assert_int_eq(slurm_cmd_task_id("_4", job, sizeof(job), &task), -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_4x", job, sizeof(job), &task),
			 -1);
	ck_assert_int_eq(slurm_cmd_task_id("123_4", job, 3, &task), -1);
}
END_TEST

static int load(struct matrix *m, const char *exec, struct strbuf *err)
{
	char *text = xstrfmt("executor:\n  kind: slurm\n%s"
			     "cells:\n  - name: a\n", exec);
	int rc = matrix_load_buf(m, "t.yaml", text, strlen(text), err);

	free(text);
	return rc;
}

START_TEST(test_keys)
{
	struct matrix m;
	struct strbuf err = STRBUF_INIT;
	const char *text;

	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n", &err), 0);
	ck_assert_int_eq(m.executor.no_arrays, 0);	/* arrays by default */
	ck_assert_int_eq(m.executor.builds, 0);	/* builds here */
	matrix_release(&m);
	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n  arrays: false\n"
			      "  builds: true\n", &err), 0);
	ck_assert_int_eq(m.executor.no_arrays, 1);
	ck_assert_int_eq(m.executor.builds, 1);
	matrix_release(&m);
	ck_assert_int_eq(load(&m, "  shared_dir: /srv/h\n  arrays: yes\n",
			      &err), -1);
	ck_assert_str_eq(err.buf, "t.yaml:4:11: arrays: expected true or "
			 "false, got \"yes\"");
	strbuf_reset(&err);
	text = "executor:\n  builds: true\ncells:\n  - name: a\n";
	ck_assert_int_eq(matrix_load_buf(&m, "t.yaml", text, strlen(text),
					 &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "builds: true needs "
				     "shared_dir"));
	strbuf_release(&err);
}
END_TEST

/* A fake client's end, as slurm-cmd.c hands it to a done callback. */
static void fake_cmd(struct slurm_cmd *p, int64_t status, const char *out,
		     const char *err)
{
	memset(p, 0, sizeof(*p));
	p->status = status;
	strbuf_init(&p->out_text, 0);
	strbuf_init(&p->err_text, 0);
	strbuf_addstr(&p->out_text, out);
	strbuf_addstr(&p->err_text, err);
}

static void fake_cmd_release(struct slurm_cmd *p)
{
	strbuf_release(&p->out_text);
	strbuf_release(&p->err_text);
}

static char *joined(char **argv)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *argv; argv++)
		strbuf_addf(&sb, "%s%s", sb.len ? " " : "", *argv);
	return strbuf_detach(&sb, NULL);
}

/* Exactly what a job needs of our environment, never all of it. */
#define EXPORT "--export=PATH,HOME,LANG,LC_ALL,TZ,TMPDIR,XDG_CACHE_HOME," \
	"HVMATRIX_CCACHE,HVMATRIX_CACHE,HVMATRIX_HYPERVISORS_DIR," \
	"HVMATRIX_XEN_DIR,HVMATRIX_INITRD"

START_TEST(test_job_sbatch_argv)
{
	struct matrix_executor cfg;
	struct slurm_job_request rq = {
		.name = "hvm-a-00ff", .chdir = "/s/arrays/hvm-a-00ff",
		.output = "/s/arrays/hvm-a-00ff/%a.out", .array = 3,
		.cpus = 2, .mem_mb = 768, .minutes = 3,
	};
	const char *run[] = {
		"/usr/bin/hvmatrix", "run-cell", "--quiet", "--tasks",
		"/s/arrays/hvm-a-00ff/tasks", NULL,
	};
	const char *build[] = { "hvmatrix", "run-build", NULL };
	char **argv, *line;

	memset(&cfg, 0, sizeof(cfg));
	cfg.partition = "kvm";
	cfg.qos = "low";
	argv = slurm_job_sbatch_argv(&rq, &cfg, "/s/hvmatrix-job.sh", run);
	line = joined(argv);
	/* Never requeued; the command is argv words after the script. */
	ck_assert_str_eq(line, "sbatch --parsable --no-requeue " EXPORT
			 " --array=0-2 "
			 "--job-name=hvm-a-00ff "
			 "--chdir=/s/arrays/hvm-a-00ff "
			 "--output=/s/arrays/hvm-a-00ff/%a.out --nodes=1 "
			 "--ntasks=1 --cpus-per-task=2 --mem=768 --time=3 "
			 "--partition=kvm --qos=low /s/hvmatrix-job.sh "
			 "/usr/bin/hvmatrix run-cell --quiet --tasks "
			 "/s/arrays/hvm-a-00ff/tasks");
	free(line);
	spawn_argv_free(argv);
	/* A build: one job, Slurm's default memory, no time limit. */
	rq.array = 0;
	rq.mem_mb = 0;
	rq.minutes = 0;
	rq.cpus = 1;
	cfg.partition = NULL;
	cfg.qos = NULL;
	argv = slurm_job_sbatch_argv(&rq, &cfg, "/s/hvmatrix-job.sh", build);
	line = joined(argv);
	ck_assert_str_eq(line, "sbatch --parsable --no-requeue " EXPORT
			 " --job-name=hvm-a-00ff "
			 "--chdir=/s/arrays/hvm-a-00ff "
			 "--output=/s/arrays/hvm-a-00ff/%a.out --nodes=1 "
			 "--ntasks=1 --cpus-per-task=1 /s/hvmatrix-job.sh "
			 "hvmatrix run-build");
	free(line);
	spawn_argv_free(argv);
}
END_TEST

START_TEST(test_job_sbatch_done)
{
	struct slurm_job j;
	struct slurm_cmd p;

	slurm_job_init(&j, "job", 600);
	j.name = "hvm-00ff";
	fake_cmd(&p, 0, "4242;cluster\n", "");
	ck_assert_int_eq(slurm_job_sbatch_done(&j, &p, -1), 1);
	ck_assert_int_eq(j.st, SLURM_JOB_QUEUED);
	ck_assert_str_eq(j.id, "4242");
	/* An array's task: JOB_TASK. */
	ck_assert_int_eq(slurm_job_sbatch_done(&j, &p, 3), 1);
	ck_assert_str_eq(j.id, "4242_3");
	fake_cmd_release(&p);
	/* Refused, or slurmctld away: unsure, what it said kept. */
	fake_cmd(&p, 1, "", "sbatch: error: Batch job submission failed: "
		 "Invalid account\nmore\n");
	ck_assert_int_eq(slurm_job_sbatch_done(&j, &p, -1), 0);
	ck_assert_int_eq(j.st, SLURM_JOB_UNSURE);
	ck_assert_uint_eq(j.submit_failures, 1);
	ck_assert_str_eq(j.submit_error, "sbatch: error: Batch job "
			 "submission failed: Invalid account");
	fake_cmd_release(&p);
	/* Exit 0 without a job id is no submission either. */
	fake_cmd(&p, 0, "", "");
	ck_assert_int_eq(slurm_job_sbatch_done(&j, &p, -1), 0);
	ck_assert_uint_eq(j.submit_failures, 2);
	fake_cmd_release(&p);
	/* No sbatch at all: an ERROR at once, never unsure. */
	fake_cmd(&p, 0, "", "");
	p.spawn_error = UV_ENOENT;
	ck_assert_int_eq(slurm_job_sbatch_done(&j, &p, -1), -1);
	ck_assert_ptr_nonnull(strstr(j.submit_error, "cannot run it"));
	ck_assert_uint_eq(j.submit_failures, 2);
	fake_cmd_release(&p);
	slurm_job_release(&j);
}
END_TEST

static struct slurm_job *queued_job(const char *what)
{
	struct slurm_job *j = xcalloc(1, sizeof(*j));

	slurm_job_init(j, what, 600);
	j->name = "hvm-00ff";
	snprintf(j->id, sizeof(j->id), "%s", "77");
	j->st = SLURM_JOB_QUEUED;
	j->submitted_at = 1000;
	return j;
}

static void free_job(struct slurm_job *j)
{
	slurm_job_release(j);
	free(j);
}

START_TEST(test_job_never_started)
{
	struct slurm_job *j = queued_job("job");
	struct strbuf why = STRBUF_INIT;

	ck_assert_int_eq(slurm_job_listed(j, "PENDING", "Resources", 1600,
					  &why), SLURM_JOB_NOTHING);
	ck_assert_int_eq(j->listed, 1);
	ck_assert_int_eq(slurm_job_listed(j, "PENDING", "Resources", 1601,
					  &why), SLURM_JOB_CANCEL);
	ck_assert_str_eq(why.buf, "Slurm job 77 never started in 600 s "
			 "(PENDING, Resources)");
	strbuf_release(&why);
	free_job(j);
}
END_TEST

START_TEST(test_job_running_and_limit)
{
	struct slurm_job *j = queued_job("job");
	struct strbuf why = STRBUF_INIT;

	j->limit_s = 120;
	j->limit_note = xstrdup(" (the cell's timeout is 60 s)");
	ck_assert_int_eq(slurm_job_listed(j, "RUNNING", "None", 1010, &why),
			 SLURM_JOB_STARTED);
	ck_assert_int_eq(j->running, 1);
	/* Started once only. */
	ck_assert_int_eq(slurm_job_listed(j, "COMPLETING", "None", 1130,
					  &why), SLURM_JOB_NOTHING);
	/* Suspended after it ran: it did start; not "never started". */
	ck_assert_int_eq(slurm_job_listed(j, "SUSPENDED", "None", 9000,
					  &why), SLURM_JOB_NOTHING);
	ck_assert_int_eq(slurm_job_listed(j, "RUNNING", "None", 1131, &why),
			 SLURM_JOB_CANCEL);
	ck_assert_str_eq(why.buf, "Slurm job 77 still running 121 s after it "
			 "started (the cell's timeout is 60 s): cancelled");
	strbuf_release(&why);
	free_job(j);
	/* A build with no timeout has no limit. */
	j = queued_job("build job");
	ck_assert_int_eq(slurm_job_listed(j, "RUNNING", "None", 1000, &why),
			 SLURM_JOB_STARTED);
	ck_assert_int_eq(slurm_job_listed(j, "RUNNING", "None", 1e9, &why),
			 SLURM_JOB_NOTHING);
	ck_assert_uint_eq(why.len, 0);
	free_job(j);
}
END_TEST

START_TEST(test_job_requeued)
{
	struct slurm_job *j = queued_job("build job");
	struct strbuf why = STRBUF_INIT;

	ck_assert_int_eq(slurm_job_listed(j, "REQUEUED", "BeginTime", 1001,
					  &why), SLURM_JOB_CANCEL);
	ck_assert_str_eq(why.buf, "Slurm requeued build job 77 (REQUEUED, "
			 "BeginTime): cancelled, not run twice");
	free_job(j);
	/* It ran and waits again: requeued too (scontrol requeue). */
	strbuf_reset(&why);
	j = queued_job("job");
	ck_assert_int_eq(slurm_job_listed(j, "RUNNING", "None", 1001, &why),
			 SLURM_JOB_STARTED);
	ck_assert_int_eq(slurm_job_listed(j, "PENDING", "BeginTime", 1002,
					  &why), SLURM_JOB_CANCEL);
	ck_assert_str_eq(why.buf, "Slurm requeued job 77 (PENDING, "
			 "BeginTime): cancelled, not run twice");
	strbuf_release(&why);
	free_job(j);
}
END_TEST

START_TEST(test_job_ended_and_scans)
{
	struct slurm_job *j = queued_job("job");
	struct strbuf why = STRBUF_INIT;

	/* Not ended: no scan is conclusive. */
	ck_assert_int_eq(slurm_job_scan_start(j), 0);
	ck_assert_int_eq(slurm_job_listed(j, "NODE_FAIL", "None", 1001,
					  &why), SLURM_JOB_NOTHING);
	ck_assert_str_eq(j->ended, "NODE_FAIL (None)");
	/* The first state Slurm ended it with is the one said. */
	slurm_job_listed(j, "COMPLETED", "None", 1002, &why);
	ck_assert_str_eq(j->ended, "NODE_FAIL (None)");
	/* One scan gives a result written as it ended time to show; the
	 * next without one is conclusive. */
	ck_assert_int_eq(slurm_job_scan_start(j), 0);
	ck_assert_int_eq(slurm_job_scan_start(j), 1);
	ck_assert_uint_eq(why.len, 0);
	strbuf_release(&why);
	free_job(j);
}
END_TEST

START_TEST(test_job_lost)
{
	struct slurm_job *j = queued_job("job");
	struct strbuf why = STRBUF_INIT;
	unsigned i;

	for (i = 1; i < SLURM_JOB_LOST_POLLS; i++)
		slurm_job_unlisted(j);
	ck_assert_ptr_null(j->ended);
	/* Listed again: the count starts over. */
	slurm_job_listed(j, "RUNNING", "None", 1001, &why);
	for (i = 1; i < SLURM_JOB_LOST_POLLS; i++)
		slurm_job_unlisted(j);
	ck_assert_ptr_null(j->ended);
	slurm_job_unlisted(j);
	ck_assert_str_eq(j->ended, "LOST (Slurm no longer lists job 77)");
	strbuf_release(&why);
	free_job(j);
}
END_TEST

START_TEST(test_job_adopt_and_clients)
{
	struct slurm_job *j = queued_job("job");
	const char *ids[] = { "77", "78_1" };
	char **argv, *line;

	j->st = SLURM_JOB_UNSURE;
	j->id[0] = '\0';
	slurm_job_adopt(j, "90", 2);
	ck_assert_int_eq(j->st, SLURM_JOB_QUEUED);
	ck_assert_str_eq(j->id, "90_2");
	j->st = SLURM_JOB_UNSURE;
	slurm_job_adopt(j, "91", -1);
	ck_assert_str_eq(j->id, "91");
	free_job(j);
	argv = slurm_job_squeue_argv("--name=hvm-a,hvm-b", 1);
	line = joined(argv);
	ck_assert_str_eq(line, "squeue --noheader --array --states=all "
			 "--name=hvm-a,hvm-b --format=%i|%j|%T|%r");
	free(line);
	spawn_argv_free(argv);
	argv = slurm_job_squeue_argv("--jobs=77", 0);
	line = joined(argv);
	ck_assert_str_eq(line, "squeue --noheader --states=all --jobs=77 "
			 "--format=%i|%j|%T|%r");
	free(line);
	spawn_argv_free(argv);
	argv = slurm_job_scancel_argv(ids, 2);
	line = joined(argv);
	ck_assert_str_eq(line, "scancel 77 78_1");
	free(line);
	spawn_argv_free(argv);
}
END_TEST

START_TEST(test_job_script)
{
	char tmpl[] = "/tmp/hvm-test-slurm-XXXXXX";
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct stat st;
	char *dir = mkdtemp(tmpl), *path;

	ck_assert_ptr_nonnull(dir);
	path = xstrfmt("%s/%s", dir, SLURM_JOB_SCRIPT);
	ck_assert_int_eq(slurm_job_script_write(path, &err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(st.st_mode & S_IXUSR);
	ck_assert_int_eq(fsutil_read(path, &text), 0);
	/* The command is its arguments, never a shell string. */
	ck_assert_ptr_nonnull(strstr(text.buf, "exec \"$@\"\n"));
	unlink(path);
	rmdir(dir);
	/* Nowhere to write: said, with the path. */
	ck_assert_int_eq(slurm_job_script_write(path, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, path));
	free(path);
	strbuf_release(&text);
	strbuf_release(&err);
}
END_TEST

static Suite *slurm_suite(void)
{
	Suite *s = suite_create("slurm");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fields);
	tcase_add_test(tc, test_states);
	tcase_add_test(tc, test_task_id);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_job_sbatch_argv);
	tcase_add_test(tc, test_job_sbatch_done);
	tcase_add_test(tc, test_job_never_started);
	tcase_add_test(tc, test_job_running_and_limit);
	tcase_add_test(tc, test_job_requeued);
	tcase_add_test(tc, test_job_ended_and_scans);
	tcase_add_test(tc, test_job_lost);
	tcase_add_test(tc, test_job_adopt_and_clients);
	tcase_add_test(tc, test_job_script);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(slurm_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
