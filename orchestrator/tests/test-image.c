/*
 * Unit tests for the dom0 of each Xen release: a build's stated version
 * to its release, and a release to its dom0 image (environment first,
 * then the cache's dom0-R.path; 4.17 also through the names it had
 * before releases: $HVMATRIX_DOM0 and dom0.path). The cache here is a
 * temporary directory.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/fsutil.h"
#include "boot/image.h"
#include "boot/boot-env.h"
#include "matrix/cell.h"
#include "lib/xmalloc.h"

static char tmpdir[] = "/tmp/hvm-test-image.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void unset_env(void)
{
	unsetenv("HVMATRIX_DOM0");
	unsetenv("HVMATRIX_DOM0_4_14");
	unsetenv("HVMATRIX_DOM0_4_17");
	unsetenv("HVMATRIX_DOM0_4_20");
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/hvm-test-image.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unset_env();
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	unset_env();
}

static void put(const char *name, const char *text)
{
	char *p = xstrfmt("%s/%s", tmpdir, name);

	ck_assert_int_eq(fsutil_write_atomic(p, text, strlen(text)), 0);
	free(p);
}

/* image_dom0_path() for release, "" for NULL. */
static char *path_of(const char *release)
{
	char *p = image_dom0_path(tmpdir, release);

	return p ? p : xstrdup("");
}

#define ck_path(release, want) do {					\
	char *got_ = path_of(release);					\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(release_of_version)
{
	char buf[16];

	ck_assert_str_eq(image_xen_release("4.20.4+63-g7abfd2bce2-0+deb13u1",
					   buf, sizeof(buf)), "4.20");
	ck_assert_str_eq(image_xen_release("4.14.6-1", buf, sizeof(buf)),
			 "4.14");
	ck_assert_str_eq(image_xen_release("4.17.7+13-g2445b30a44-0+deb12u1",
					   buf, sizeof(buf)), "4.17");
	ck_assert_str_eq(image_xen_release("4.20", buf, sizeof(buf)), "4.20");
	ck_assert_str_eq(image_xen_release("4.21-rc", buf, sizeof(buf)),
			 "4.21");
	ck_assert_str_eq(image_xen_release("4.19.0", buf, sizeof(buf)),
			 "4.19");
	/* An own build of unknown version gets the default release's. */
	ck_assert_str_eq(image_xen_release("unknown", buf, sizeof(buf)),
			 IMAGE_DOM0_DEFAULT);
	ck_assert_str_eq(image_xen_release(NULL, buf, sizeof(buf)),
			 IMAGE_DOM0_DEFAULT);
	ck_assert_str_eq(image_xen_release("4", buf, sizeof(buf)),
			 IMAGE_DOM0_DEFAULT);
	ck_assert_str_eq(image_xen_release("4.", buf, sizeof(buf)),
			 IMAGE_DOM0_DEFAULT);
	ck_assert_str_eq(image_xen_release(".4", buf, sizeof(buf)),
			 IMAGE_DOM0_DEFAULT);
}
END_TEST

START_TEST(each_release_its_own_file)
{
	put("dom0-4.14.path", "/c/dom0-4.14-a.cpio.gz\n");
	put("dom0-4.20.path", "/c/dom0-4.20-b.cpio.gz\n");
	put("dom0-4.17.path", "/c/dom0-4.17-c.cpio.gz\n");
	put("dom0.path", "/c/dom0-old.cpio.gz\n");
	ck_path("4.14", "/c/dom0-4.14-a.cpio.gz");
	ck_path("4.20", "/c/dom0-4.20-b.cpio.gz");
	/* The release's own file wins over the old name. */
	ck_path("4.17", "/c/dom0-4.17-c.cpio.gz");
	ck_path("4.19", "");
}
END_TEST

START_TEST(old_names_are_4_17s_only)
{
	put("dom0.path", "/c/dom0-old.cpio.gz\n");
	ck_path("4.17", "/c/dom0-old.cpio.gz");
	/* Another release never boots 4.17's toolstack. */
	ck_path("4.14", "");
	ck_path("4.20", "");
	setenv("HVMATRIX_DOM0", "/e/old.cpio.gz", 1);
	ck_path("4.17", "/e/old.cpio.gz");
	ck_path("4.20", "");
}
END_TEST

START_TEST(environment_first)
{
	put("dom0-4.20.path", "/c/dom0-4.20-b.cpio.gz\n");
	put("dom0-4.17.path", "/c/dom0-4.17-c.cpio.gz\n");
	setenv("HVMATRIX_DOM0_4_20", "/e/4.20.cpio.gz", 1);
	ck_path("4.20", "/e/4.20.cpio.gz");
	setenv("HVMATRIX_DOM0", "/e/old.cpio.gz", 1);
	ck_path("4.17", "/e/old.cpio.gz");
	setenv("HVMATRIX_DOM0_4_17", "/e/4.17.cpio.gz", 1);
	ck_path("4.17", "/e/4.17.cpio.gz");
	/* An empty variable is unset. */
	setenv("HVMATRIX_DOM0_4_20", "", 1);
	ck_path("4.20", "/c/dom0-4.20-b.cpio.gz");
}
END_TEST

START_TEST(empty_file_is_none)
{
	put("dom0-4.14.path", "\n");
	ck_path("4.14", "");
	put("dom0-4.17.path", "");
	put("dom0.path", "/c/dom0-old.cpio.gz");
	ck_path("4.17", "/c/dom0-old.cpio.gz");
}
END_TEST

/* The HVM part is the file beside the image, and only a non-empty one:
 * anything else is an error naming both. */
START_TEST(hvm_part_beside_the_image)
{
	struct strbuf err = STRBUF_INIT;
	char *img = xstrfmt("%s/dom0-4.17-k.cpio.gz", tmpdir);
	char *want = xstrfmt("%s/dom0-4.17-k.hvm.cpio.gz", tmpdir);
	char *p;

	put("dom0-4.17-k.cpio.gz", "image");
	ck_assert_ptr_null(image_dom0_hvm(img, &err));
	ck_assert_ptr_nonnull(strstr(err.buf, img));
	ck_assert_ptr_nonnull(strstr(err.buf, want));
	strbuf_reset(&err);
	put("dom0-4.17-k.hvm.cpio.gz", "");
	ck_assert_ptr_null(image_dom0_hvm(img, &err));
	strbuf_reset(&err);
	put("dom0-4.17-k.hvm.cpio.gz", "device model");
	p = image_dom0_hvm(img, &err);
	ck_assert_msg(p != NULL, "%s", err.buf);
	ck_assert_str_eq(p, want);
	free(p);
	free(img);
	free(want);
	strbuf_release(&err);
}
END_TEST

/* A QEMU cell whose qemu is a file of tmpdir ("qemu", made executable). */
static void env_cell(struct cell *c, const char *memory)
{
	struct strbuf err = STRBUF_INIT;
	char *qemu = xstrfmt("%s/qemu", tmpdir);

	cell_init(c);
	ck_assert_int_eq(cell_set(c, "name", "plain", &err), 0);
	ck_assert_int_eq(cell_set(c, "qemu", qemu, &err), 0);
	ck_assert_int_eq(cell_set(c, "memory", memory, &err), 0);
	ck_assert_int_eq(chmod(qemu, 0755), 0);
	free(qemu);
	strbuf_release(&err);
}

static void env_of(const char *memory, struct boot_env *env)
{
	struct strbuf err = STRBUF_INIT;
	char *payload = xstrfmt("%s/payload", tmpdir);
	struct cell c;

	env_cell(&c, memory);
	ck_assert_msg(boot_env_key(&c, payload, env, &err) == 0, "%s",
		      err.buf);
	ck_assert_uint_eq(strlen(env->key), BOOT_ENV_HEX);
	ck_assert_uint_eq(strlen(env->hypervisor), BOOT_ENV_HEX);
	cell_release(&c);
	free(payload);
	strbuf_release(&err);
}

/* The key follows each part and nothing else; the hypervisor digest
 * follows the hypervisor's bytes only. */
START_TEST(env_key_parts)
{
	struct boot_env a, b;

	put("qemu", "qemu one");
	put("payload", "payload one");
	env_of("256", &a);
	env_of("256", &b);
	ck_assert_str_eq(a.key, b.key);
	ck_assert_str_eq(a.hypervisor, b.hypervisor);

	env_of("512", &b);			/* the cell's definition */
	ck_assert_str_ne(a.key, b.key);
	ck_assert_str_eq(a.hypervisor, b.hypervisor);

	put("payload", "payload two");		/* the payload's bytes */
	env_of("256", &b);
	ck_assert_str_ne(a.key, b.key);
	ck_assert_str_eq(a.hypervisor, b.hypervisor);

	put("payload", "payload one");
	put("qemu", "qemu two, rebuilt");	/* the hypervisor's bytes */
	env_of("256", &b);
	ck_assert_str_ne(a.key, b.key);
	ck_assert_str_ne(a.hypervisor, b.hypervisor);

	put("qemu", "qemu one");		/* back: the same again */
	env_of("256", &b);
	ck_assert_str_eq(a.key, b.key);
	ck_assert_str_eq(a.hypervisor, b.hypervisor);
}
END_TEST

/* What cannot be read leaves the environment unknown, with the reason. */
START_TEST(env_key_unknown)
{
	struct strbuf err = STRBUF_INIT;
	struct boot_env env;
	struct cell c;
	char *payload = xstrfmt("%s/no-payload", tmpdir);

	put("qemu", "qemu one");
	env_cell(&c, "256");
	ck_assert_int_eq(boot_env_key(&c, payload, &env, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.buf, "no-payload"));
	ck_assert_str_eq(env.key, "");
	ck_assert_str_eq(env.hypervisor, "");
	cell_release(&c);
	free(payload);
	strbuf_release(&err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("dom0");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, release_of_version);
	tcase_add_test(tc, each_release_its_own_file);
	tcase_add_test(tc, old_names_are_4_17s_only);
	tcase_add_test(tc, environment_first);
	tcase_add_test(tc, empty_file_is_none);
	tcase_add_test(tc, hvm_part_beside_the_image);
	suite_add_tcase(s, tc);
	tc = tcase_create("env");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, env_key_parts);
	tcase_add_test(tc, env_key_unknown);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
