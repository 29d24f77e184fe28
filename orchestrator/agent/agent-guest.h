/*
 * agent-guest: the pure half of the libxl guest agent. It reads a job
 * directory of the jobs archive (one guest to create: hvmatrix calls each
 * a job on the wire, "begin job=CELL@NONCE", and a guest here, so that
 * "job" keeps the one meaning the rest of the code gives it), turns it
 * into a libxl_domain_config, and formats the agent's protocol lines.
 * Nothing here talks to Xen, so the unit tests run
 * on any machine with libxen-dev. It must never link the project's
 * libhvmatrix: the agent runs in a dom0 holding only Debian's libraries.
 */
#ifndef HVM_AGENT_GUEST_H
#define HVM_AGENT_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <libxl.h>

#include "judge/panicscan.h"

/* The prefix of every protocol line; the runner matches on it. */
#define AGENT_PREFIX "hvmatrix-agent: "

/* Bounds that keep a typo in a job file from asking Xen for nonsense. */
#define AGENT_MEMORY_MIN_MIB 16UL
#define AGENT_MEMORY_MAX_MIB (1024UL * 1024UL)
#define AGENT_TIMEOUT_MAX_S (7UL * 24UL * 3600UL)
#define AGENT_VCPUS_MAX 64
#define AGENT_DETAIL_MAX 400

enum agent_type {
	AGENT_TYPE_NONE = 0,
	AGENT_TYPE_PV,
	AGENT_TYPE_PVH,
	AGENT_TYPE_HVM,
};

/*
 * One job, as read from JOBDIR/<id>/. Fields are malloc'ed and owned by
 * the job; a field whose file was missing or invalid is NULL (or 0), and
 * agent_guest_load() says which in its error text.
 */
struct agent_guest {
	char *id;		/* the directory's name, e.g. "00" */
	char *dir;		/* JOBDIR/<id> */
	char *name;		/* the cell name, or else the id */
	enum agent_type type;
	char *kernel;		/* JOBDIR/<id>/kernel, as given */
	char *initrd;
	char *cmdline;
	char *nonce;		/* hvmatrix.nonce= of cmdline, or NULL */
	unsigned long memory_mib;
	unsigned long timeout_s;
	unsigned long vcpus;	/* optional file "vcpus"; 1 without it */
};

#define AGENT_GUEST_INIT { 0 }

/*
 * The names of JOBDIR's subdirectories, in name order (strcmp), hidden
 * ones skipped. Returns 0 and a NULL-terminated malloc'ed array (free it
 * with agent_guest_list_free()), or -errno.
 */
int agent_guest_list(const char *jobdir, char ***ids_r, size_t *n_r);
void agent_guest_list_free(char **ids);

/*
 * Read JOBDIR/ID. Returns 0 when every file is present and valid;
 * otherwise -1 with a one-line reason in err (the job's name and type are
 * still filled in where they could be read, for the begin and end lines).
 */
int agent_guest_load(struct agent_guest *job, const char *jobdir,
		     const char *id,
		     char *err, size_t errlen);
void agent_guest_release(struct agent_guest *job);

const char *agent_type_name(enum agent_type type);
enum agent_type agent_type_parse(const char *s);

/*
 * Fill cfg (already libxl_domain_config_init()ed by the caller, released
 * with libxl_domain_config_dispose()) for a loaded job. Returns 0, or -1 if
 * the job's type is unknown.
 */
int agent_guest_config(const struct agent_guest *job, libxl_domain_config *cfg);

/*
 * A guest's request for a hand-over probe (the host saves and restores
 * it, then says go on): the line "HVMATRIX-PROBE nonce=N name=PROBE
 * result=ready" with the guest's own nonce, at the start of a line of its
 * console. The guest prints it and then waits for "HVMATRIX-GO nonce=N".
 */
#define AGENT_READY_MAX 256

struct agent_ready {
	char want[AGENT_READY_MAX];	/* the line sought; "" = none */
	char line[AGENT_READY_MAX];	/* the console's current line */
	size_t len;
	bool skip;		/* the current line cannot be it */
};

/* Seek PROBE's ready line for NONCE; a NULL nonce seeks nothing. */
void agent_ready_init(struct agent_ready *r, const char *nonce,
		      const char *probe);
/*
 * Console bytes as relayed. Returns true when they end a line that is the
 * request (the bytes after it in buf are still the console's: relay them).
 */
bool agent_ready_feed(struct agent_ready *r, const char *buf, size_t len);
/* The line that tells the guest to go on, newline included. */
int agent_go_line(char *buf, size_t len, const char *nonce);

/* The console a job's guest talks on: PV console, or HVM's serial port. */
libxl_console_type agent_guest_console(const struct agent_guest *job);

/*
 * Where libxl writes an HVM guest's device model output (QEMU's stderr):
 * DIR/qemu-dm-NAME.log, NAME being the domain's name.
 */
#define AGENT_DM_LOG_DIR "/var/log/xen"

/*
 * Why a device model died is in its own log, not in libxl's error. Copy
 * each line of DIR/qemu-dm-NAME.log to err as a log line, and the last
 * line that is not blank, cleaned as a detail, to last ("" if none).
 * Returns the number of lines copied, or -errno if the log cannot be read.
 */
int agent_dm_log(const char *dir, const char *name, FILE *err, char *last,
		 size_t len);

/* How a job ended: its fate word and a detail for people. */
struct agent_result {
	const char *fate;
	char detail[AGENT_DETAIL_MAX + 1];
};

/* Set r's fate, and its detail from fmt (cut to AGENT_DETAIL_MAX). */
void agent_result_set(struct agent_result *r, const char *fate,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The fate word for a shut-down domain's reason. */
const char *agent_fate_of_reason(libxl_shutdown_reason reason);

/*
 * Protocol output. The stream carries the guest's console bytes verbatim
 * between protocol lines, and a protocol line must start on a fresh line,
 * so the writer remembers whether the last byte written was a newline.
 */
struct agent_out {
	FILE *f;
	bool bol;		/* at the beginning of a line */
};

void agent_out_init(struct agent_out *out, FILE *f);
/* Relay guest bytes verbatim. Returns 0 or -1 on a write error. */
int agent_out_guest(struct agent_out *out, const void *buf, size_t len);
/* Write one protocol line (printf format, no newline), then flush. */
int agent_out_line(struct agent_out *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int agent_out_ready(struct agent_out *out, size_t jobs, const char *xen);
int agent_out_begin(struct agent_out *out, const struct agent_guest *job);
/* detail may be NULL or empty: then no detail= field is written. */
int agent_out_end(struct agent_out *out, const char *name, const char *fate,
		  double seconds, const char *detail);
int agent_out_done(struct agent_out *out);
/* The suspend probe's progress, for the record (the judge skips them). */
int agent_out_saved(struct agent_out *out, const char *name,
		    long long bytes, double seconds);
int agent_out_restored(struct agent_out *out, const char *name,
		       double seconds);

/*
 * Make text fit on one protocol line: control characters (newlines
 * included) become spaces, runs of spaces collapse, ends are trimmed, and
 * the result is cut to AGENT_DETAIL_MAX bytes. In place.
 */
void agent_detail_clean(char *s);

#endif /* HVM_AGENT_GUEST_H */
