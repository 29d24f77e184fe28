/*
 * guest-probes: the probe lines of one run's console (see guest-probes.h).
 * It parses and keeps; the verdict is judge.c's. It never trusts a line
 * without this run's nonce, and it keeps at most GUEST_PROBES_MAX results,
 * so a guest that prints probe lines forever cannot grow it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "judge/guest-probes.h"
#include "lib/xmalloc.h"

static const char *const fp_names[GUEST_FP_N] = {
	"hypervisor", "guest_type", "clocksource", "features", "cpu_flags",
	"boot_seconds",
};

const char *guest_probes_fp_name(enum guest_probes_fp f)
{
	return f < GUEST_FP_N ? fp_names[f] : NULL;
}

void guest_probes_init(struct guest_probes *g, double clock_tolerance)
{
	memset(g, 0, sizeof(*g));
	g->tolerance = clock_tolerance;
	g->failed = g->errored = -1;
}

void guest_probes_release(struct guest_probes *g)
{
	size_t i;

	for (i = 0; i < g->n; i++) {
		free(g->v[i].name);
		free(g->v[i].result);
		free(g->v[i].detail);
		free(g->v[i].line);
	}
	free(g->v);
	for (i = 0; i < GUEST_FP_N; i++)
		free(g->fp[i]);
	free(g->running);
	free(g->running_line);
	free(g->handover);
	free(g->fp_json);
	memset(g, 0, sizeof(*g));
}

/* "key=" at *s: the word after it (to the next blank) and *s past it. */
static char *take_word(const char **s, const char *key)
{
	size_t k = strlen(key), n;
	char *w;

	if (strncmp(*s, key, k))
		return NULL;
	*s += k;
	n = strcspn(*s, " ");
	w = xstrndup(*s, n);
	*s += n;
	*s += strspn(*s, " ");
	return w;
}

static int is_name(const char *s)
{
	size_t n = strlen(s);

	/* Dots part a hand-over from the probe run after it
	 * ("suspend.smp"): never first, last or doubled (a KCIDB path). */
	return n && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_") == n &&
	       s[0] != '.' && s[n - 1] != '.' && !strstr(s, "..");
}

/* After the prefix: "nonce=N " with exactly our nonce; *s past it. */
static int ours(const char **s, const char *nonce)
{
	char *w = take_word(s, "nonce=");
	int ok = w && !strcmp(w, nonce);

	free(w);
	return ok;
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/*
 * How far the host's span between marks a and b strays from the guest's
 * (host minus guest, seconds), and the part of it the tolerance allows.
 */
static double clock_stray(const struct guest_probes *g, int a, int b,
			  double *allowed)
{
	double guest = g->guest_at[b] - g->guest_at[a];

	*allowed = GUEST_PROBES_CLOCK_SLACK_S + g->tolerance * guest;
	return (g->host_at[b] - g->host_at[a]) - guest;
}

/*
 * The clock probe passed in the guest; does the guest's elapsed time
 * agree with the host's, within the tolerance? A line the host reads
 * late (the console's path from the guest to the judge held up: seen for
 * 1.6 s on a host loaded with 8 boots and a kernel build) shortens the
 * span before it and lengthens the span after it, while a guest clock
 * that runs fast or slow strays the same way in both. So the whole span
 * (mark 1 to 3) must stray beyond the tolerance, and so must each half
 * (1 to 2, 2 to 3), all three the same way: one late line is never a
 * FAIL.
 */
static void check_clock(struct guest_probes *g, struct guest_probe *p)
{
	const int all = (1 << GUEST_PROBES_CLOCK_MARKS) - 1;
	double whole, first, second, aw, a1, a2, host;
	char *detail;
	int i, bad;

	if (g->marks != all)
		return;
	for (i = 0; i < GUEST_PROBES_CLOCK_MARKS; i++)
		if (g->host_at[i] <= 0)
			return;
	whole = clock_stray(g, 0, 2, &aw);
	first = clock_stray(g, 0, 1, &a1);
	second = clock_stray(g, 1, 2, &a2);
	bad = fabs(whole) > aw && fabs(first) > a1 && fabs(second) > a2 &&
	      (whole > 0) == (first > 0) && (first > 0) == (second > 0);
	host = g->host_at[2] - g->host_at[0];
	if (!bad) {
		detail = xstrfmt("%s; host span %.3f s", p->detail, host);
	} else {
		detail = xstrfmt("the guest's clock ran %.3f s while the "
				 "host's ran %.3f s (allowed: %.3f s; each "
				 "half strayed too: %+.3f s, %+.3f s; %s)",
				 g->guest_at[2] - g->guest_at[0], host, aw,
				 first, second, p->detail);
		set_str(&p->result, "fail");
	}
	free(p->detail);
	p->detail = detail;
}

static int probe_line(struct guest_probes *g, const char *s,
		      const char *line)
{
	char *name = take_word(&s, "name="), *result = NULL, *secs = NULL;
	struct guest_probe *p;
	const char *kind;
	int ret = 0;

	if (!name || !is_name(name))
		goto out;
	result = take_word(&s, "result=");
	if (!result)
		goto out;
	kind = strrchr(name, '.');
	kind = kind ? kind + 1 : name;
	if (!strcmp(result, "start") || !strcmp(result, "ready")) {
		set_str(&g->running, name);
		set_str(&g->running_line, line);
		if (!strcmp(kind, "clock"))
			g->marks = 0;
		if (!strcmp(result, "ready"))
			set_str(&g->handover, name);
		ret = 1;
		goto out;
	}
	if (strcmp(result, "pass") && strcmp(result, "fail") &&
	    strcmp(result, "skip") && strcmp(result, "error"))
		goto out;
	ret = 1;
	if (g->running && !strcmp(g->running, name)) {
		set_str(&g->running, NULL);
		set_str(&g->running_line, NULL);
	}
	if (g->n == GUEST_PROBES_MAX)
		goto out;
	secs = take_word(&s, "seconds=");
	g->v = xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
	p = &g->v[g->n];
	p->name = name;
	name = NULL;
	p->result = result;
	result = NULL;
	p->seconds = secs ? strtod(secs, NULL) : 0;
	if (!(p->seconds >= 0 && p->seconds < 1e6))
		p->seconds = 0;
	p->detail = xstrdup(!strncmp(s, "detail=", 7) ? s + 7 : "");
	p->line = xstrdup(line);
	if (!strcmp(kind, "clock") && !strcmp(p->result, "pass"))
		check_clock(g, p);
	if (!strcmp(p->result, "fail") && g->failed < 0)
		g->failed = (int)g->n;
	if (!strcmp(p->result, "error") && g->errored < 0)
		g->errored = (int)g->n;
	g->n++;
out:
	free(name);
	free(result);
	free(secs);
	return ret;
}

static int clock_line(struct guest_probes *g, const char *s, double now)
{
	char *mark = take_word(&s, "mark="), *guest = take_word(&s, "guest=");
	int i = mark ? atoi(mark) - 1 : -1, ret = 0;

	if (i >= 0 && i < GUEST_PROBES_CLOCK_MARKS && guest) {
		g->guest_at[i] = strtod(guest, NULL);
		g->host_at[i] = now;
		g->marks |= 1 << i;
		ret = 1;
	}
	free(mark);
	free(guest);
	return ret;
}

static int fp_line(struct guest_probes *g, const char *s)
{
	size_t i, k;

	for (i = 0; i < GUEST_FP_N; i++) {
		k = strlen(fp_names[i]);
		if (!strncmp(s, fp_names[i], k) && s[k] == '=') {
			set_str(&g->fp[i], s + k + 1);
			return 1;
		}
	}
	return 0;
}

int guest_probes_line(struct guest_probes *g, const char *nonce,
		      const char *line, double now)
{
	const char *s = line;

	if (!strncmp(s, GUEST_PROBES_PREFIX, strlen(GUEST_PROBES_PREFIX))) {
		s += strlen(GUEST_PROBES_PREFIX);
		return ours(&s, nonce) && probe_line(g, s, line);
	}
	if (!strncmp(s, GUEST_PROBES_CLOCK, strlen(GUEST_PROBES_CLOCK))) {
		s += strlen(GUEST_PROBES_CLOCK);
		return ours(&s, nonce) && clock_line(g, s, now);
	}
	if (!strncmp(s, GUEST_PROBES_FP, strlen(GUEST_PROBES_FP))) {
		s += strlen(GUEST_PROBES_FP);
		return ours(&s, nonce) && fp_line(g, s);
	}
	return 0;
}

void guest_probes_add(struct guest_probes *g, const char *name,
		      const char *result, const char *detail, double seconds)
{
	struct guest_probe *p;

	if (g->n == GUEST_PROBES_MAX || !is_name(name))
		return;
	g->v = xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
	p = &g->v[g->n];
	p->name = xstrdup(name);
	p->result = xstrdup(result);
	p->detail = xstrdup(detail ? detail : "");
	p->seconds = seconds >= 0 && seconds < 1e6 ? seconds : 0;
	p->line = xstrdup("");
	if (!strcmp(result, "fail") && g->failed < 0)
		g->failed = (int)g->n;
	if (!strcmp(result, "error") && g->errored < 0)
		g->errored = (int)g->n;
	g->n++;
}

void guest_probes_set_fingerprint(struct guest_probes *g, const char *json)
{
	set_str(&g->fp_json, json && *json ? json : NULL);
}

/* A list the guest printed with separator sep, as a JSON array. */
static void json_list(struct strbuf *out, const char *s, char sep)
{
	const char *e;
	int first = 1;

	strbuf_addch(out, '[');
	for (; s && *s; s = *e ? e + 1 : e) {
		e = strchrnul(s, sep);
		if (e == s)
			continue;
		strbuf_addstr(out, first ? "" : ", ");
		first = 0;
		strbuf_add_json_strn(out, s, e - s);
	}
	strbuf_addch(out, ']');
}

void guest_probes_fingerprint_json(const struct guest_probes *g,
				   struct strbuf *out)
{
	double secs;
	size_t i;

	if (g->fp_json) {
		strbuf_addstr(out, g->fp_json);
		return;
	}
	for (i = 0; i < GUEST_FP_N && !g->fp[i]; i++)
		;
	if (i == GUEST_FP_N)
		return;
	strbuf_addstr(out, "{\"hypervisor\": ");
	strbuf_add_json_str(out, g->fp[GUEST_FP_HYPERVISOR]);
	strbuf_addstr(out, ", \"guest_type\": ");
	strbuf_add_json_str(out, g->fp[GUEST_FP_GUEST_TYPE]);
	strbuf_addstr(out, ", \"clocksource\": ");
	strbuf_add_json_str(out, g->fp[GUEST_FP_CLOCKSOURCE]);
	strbuf_addstr(out, ", \"features\": ");
	json_list(out, g->fp[GUEST_FP_FEATURES], ',');
	strbuf_addstr(out, ", \"cpu_flags\": ");
	json_list(out, g->fp[GUEST_FP_CPU_FLAGS], ' ');
	strbuf_addstr(out, ", \"boot_seconds\": ");
	secs = g->fp[GUEST_FP_BOOT_SECONDS] ?
	       strtod(g->fp[GUEST_FP_BOOT_SECONDS], NULL) : NAN;
	if (isfinite(secs) && secs >= 0)
		strbuf_addf(out, "%.2f", secs);
	else
		strbuf_addstr(out, "null");
	strbuf_addch(out, '}');
}
