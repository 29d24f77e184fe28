/*
 * publish-html: what every dashboard page is made of: how each class
 * looks (and the key of what an entry shows), the page frame from the
 * template, links, marks and labels. Every string from the store goes
 * through strbuf_add_html; names become file names only via
 * publish_html_path_part. Nothing here writes a file.
 */
#include <string.h>

#include "config.h"
#include "publish/publish-priv.h"
#include "lib/xmalloc.h"

#define ID_LEN 12		/* commit and kernel id characters shown */

/* A name as a file name part: [A-Za-z0-9._-], never "." first. */
void publish_html_path_part(struct strbuf *sb, const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
			  "UVWXYZ0123456789.-");

	if (!*s || *s == '.')
		strbuf_addch(sb, '_');
	/* Most names are file names as they are: at once. */
	strbuf_add(sb, s, n);
	for (s += n; *s; s++)
		strbuf_addch(sb, (*s >= 'a' && *s <= 'z') ||
			     (*s >= 'A' && *s <= 'Z') ||
			     (*s >= '0' && *s <= '9') || *s == '.' ||
			     *s == '-' ? *s : '_');
}

static const struct look looks[] = {
	{ "regression", "REG", "c-reg", "regression: passed before, fails "
	  "now (confirmed)" },
	{ "unconfirmed", "new", "c-unc", "new failure, being confirmed" },
	{ "still-failing", "bad", "c-bad", "still failing since an earlier "
	  "regression" },
	{ "never-passed", "nvr", "c-nvr", "never passed" },
	{ "flaky", "FLK", "c-flk", "flaky: passes and fails on one commit" },
	{ "fixed", "FIX", "c-fix", "fixed: failed before, passes now" },
	{ "infra", "inf", "c-inf", "infra: the farm failed (ERROR)" },
	{ "blocked", "blk", "c-blk", "blocked: the build failed" },
	{ "skip", "skp", "c-skp", "skipped: the host cannot run the cell" },
	{ "pass", "ok", "c-ok", "pass" },
	{ "untested", "-", "c-none", "no verdict" },
	/* `hvmatrix boot` runs have verdicts, no history. */
	{ "FAIL", "FAIL", "c-bad", "FAIL" },
};

const struct look *publish_html_look_of(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(looks); i++)
		if (!strcmp(looks[i].name, name))
			return &looks[i];
	return &looks[ARRAY_SIZE(looks) - 2];
}

const char *publish_html_verdict_look(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_FAIL: return "FAIL";
	case VERDICT_ERROR: return "infra";
	case VERDICT_SKIP: return "skip";
	case VERDICT_BLOCKED: return "blocked";
	default: return "untested";
	}
}

/* What a page shows of an entry, as a key (no pointers: the keys must
 * hold from one process to the next). */
static uint64_t mix(uint64_t key, uint64_t v)
{
	key = (key ^ v) * 0x9e3779b97f4a7c15ULL;
	return key ^ (key >> 32);
}

/* A word at a time: 400,000 entries are keyed on every publish. The
 * look by its place in looks[], which only a new SALT may change. */
uint64_t publish_html_entry_key(uint64_t key, const struct entry *e)
{
	key = mix(key, (uint64_t)e->newest);
	key = mix(key, (uint64_t)e->link);
	key = mix(key, (uint64_t)e->cell << 16 | e->runs);
	return mix(key, (uint64_t)(e->look - looks));
}

/* Replace @NAME@ in the template in one pass (a value is never expanded
 * again). Unknown @...@ stay as they are. */
struct subst {
	const char *name;
	const char *value;
};

static void fill_template(struct strbuf *out, const char *tpl,
			  const struct subst *subs, size_t nsubs)
{
	const char *p = tpl;

	while (*p) {
		const char *at = strchr(p, '@');
		size_t len, i;

		if (!at) {
			strbuf_addstr(out, p);
			break;
		}
		strbuf_add(out, p, (size_t)(at - p));
		len = strspn(at + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		p = at + 1;
		if (!len || at[1 + len] != '@') {
			strbuf_addch(out, '@');
			continue;
		}
		for (i = 0; i < nsubs; i++)
			if (strlen(subs[i].name) == len &&
			    !strncmp(subs[i].name, at + 1, len))
				break;
		if (i == nsubs) {
			strbuf_addch(out, '@');
			continue;
		}
		strbuf_addstr(out, subs[i].value);
		p = at + len + 2;
	}
}

/* The page around body; title is plain text (escaped here). */
void publish_html_wrap(const struct site *s, struct strbuf *out,
		       const char *base, const char *title, const char *body)
{
	struct strbuf t = STRBUF_INIT;
	const struct subst subs[] = {
		{ "TITLE", t.buf },
		{ "BASE", base },
		{ "VERSION", PACKAGE_VERSION },
		{ "GENERATED", s->generated },
		{ "BODY", body },
	};
	struct subst fixed[ARRAY_SIZE(subs)];

	strbuf_add_html(&t, title);
	memcpy(fixed, subs, sizeof(subs));
	fixed[0].value = t.buf;
	fill_template(out, s->tpl.buf, fixed, ARRAY_SIZE(fixed));
	strbuf_release(&t);
}

void publish_html_code(struct strbuf *sb, const char *id)
{
	strbuf_addstr(sb, "<code class=\"kid\">");
	strbuf_add_html_n(sb, id, strnlen(id, ID_LEN));
	strbuf_addstr(sb, "</code>");
}

/* A number: the pages have hundreds of thousands, printf is slow. */
void publish_html_num(struct strbuf *sb, int64_t v)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	strbuf_add(sb, p, (size_t)(buf + sizeof(buf) - p));
}

void publish_html_row_link(struct strbuf *sb, const char *base,
			   const struct row *row, int subject)
{
	strbuf_addstr(sb, "<a href=\"");
	strbuf_addstr(sb, base);
	strbuf_add_html(sb, row->page);
	strbuf_addstr(sb, "\">");
	publish_html_code(sb, *row->commit ? row->commit : row->kernel);
	strbuf_addstr(sb, "</a>");
	if (subject && *row->subject) {
		strbuf_addstr(sb, " <span class=\"subject\">");
		strbuf_add_html(sb, row->subject);
		strbuf_addstr(sb, "</span>");
	}
}

void publish_html_cell_link(struct strbuf *sb, const char *base,
			    const char *cell)
{
	strbuf_addstr(sb, "<a class=\"cellname\" href=\"");
	strbuf_addstr(sb, base);
	strbuf_addstr(sb, "cell/");
	publish_html_path_part(sb, cell);
	strbuf_addstr(sb, ".html\">");
	strbuf_add_html(sb, cell);
	strbuf_addstr(sb, "</a>");
}

void publish_html_mark(struct strbuf *sb, const char *base,
		       const struct entry *e)
{
	const struct look *l = e ? e->look : publish_html_look_of("untested");

	strbuf_addstr(sb, "<td class=\"m ");
	strbuf_addstr(sb, l->css);
	strbuf_addstr(sb, "\" title=\"");
	strbuf_addstr(sb, l->words);
	if (e && e->runs > 1) {
		strbuf_addstr(sb, ", ");
		publish_html_num(sb, e->runs);
		strbuf_addstr(sb, " runs");
	}
	if (e && e->reused)
		strbuf_addstr(sb, ", reused: the same image judged before, "
			      "not booted");
	strbuf_addstr(sb, "\">");
	if (!e) {
		strbuf_addstr(sb, "<span>-</span></td>");
		return;
	}
	/* A mark links its log; one without a log is only its text (the
	 * row's commit page has its runs). */
	if (e->link) {
		strbuf_addstr(sb, "<a href=\"");
		strbuf_addstr(sb, base);
		strbuf_addstr(sb, "run/");
		publish_html_num(sb, e->link);
		strbuf_addstr(sb, ".html\">");
		strbuf_addstr(sb, l->code);
		if (e->reused)
			strbuf_addstr(sb, "<sup class=\"ru\">r</sup>");
		strbuf_addstr(sb, "</a></td>");
	} else {
		strbuf_addstr(sb, "<span>");
		strbuf_addstr(sb, l->code);
		if (e->reused)
			strbuf_addstr(sb, "<sup class=\"ru\">r</sup>");
		strbuf_addstr(sb, "</span></td>");
	}
}

void publish_html_legend(struct strbuf *sb)
{
	size_t i;

	strbuf_addstr(sb, "<ul class=\"legend\">");
	for (i = 0; i + 1 < ARRAY_SIZE(looks); i++)
		strbuf_addf(sb, "<li><span class=\"m %s\">%s</span> %s</li>",
			    looks[i].css, looks[i].code, looks[i].words);
	strbuf_addstr(sb, "<li><sup class=\"ru\">r</sup> reused: the same "
		      "image judged in that cell before, not booted</li>"
		      "</ul>\n");
}

void publish_html_nav(struct strbuf *sb, const char *base)
{
	strbuf_addf(sb, "<nav class=\"nav\"><a href=\"%sindex.html\">"
		    "Overview</a> <a href=\"%sregressions.html\">Regressions"
		    "</a> <a href=\"%sreleases.html\">Releases</a> "
		    "<a href=\"%sweb.html\">Web</a> "
		    "<a href=\"%sgrid/1.html\">Grid pages</a></nav>\n",
		    base, base, base, base, base);
}

void publish_html_line(struct strbuf *sb, const char *s)
{
	strbuf_add_clean(sb, s, strlen(s), STRBUF_CLEAN_HTML |
			 STRBUF_CLEAN_LINE);
}
