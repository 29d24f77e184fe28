/*
 * json: the one JSON writer every --json output goes through, and a small
 * reader for the JSON hvmatrix itself writes (the daemon's status file).
 *
 * The writer places commas, colons and line breaks itself, so a caller
 * only says what comes next; a call out of place (a value in an object
 * without its key, an end that does not match) is a bug and dies. Every
 * string goes through strbuf_add_json_str(): output is valid JSON in
 * UTF-8 whatever bytes a console or a commit subject holds.
 *
 * Layout: the members of a top-level object and the container elements
 * of an array go on lines of their own (two spaces per level), the rest
 * stays on one line, so a table of runs reads one run per line.
 */
#ifndef HVM_JSON_H
#define HVM_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct strbuf *out;	/* appended to */
	unsigned depth;
	unsigned top;		/* top-level values written */
	int keyed;		/* a key waits for its value */
	char kind[JSON_MAX_DEPTH];	/* '{' or '[' per open level */
	unsigned char members[JSON_MAX_DEPTH];	/* level has a member */
	unsigned char broke[JSON_MAX_DEPTH];	/* level used a line break */
};

/* Write to out (appended to, never reset). */
void json_init(struct json *j, struct strbuf *out);
/* 1 when exactly one complete value has been written. */
int json_complete(const struct json *j);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
/* The key of the next value, in an object. */
void json_key(struct json *j, const char *key);

/* A string; NULL writes null. */
void json_str(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
/* Three decimals (seconds, durations); NaN and infinities write null. */
void json_double(struct json *j, double v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);
/* A value already serialised by someone trusted to write valid JSON. */
void json_raw(struct json *j, const char *text);

/* json_key() then the value. */
void json_key_str(struct json *j, const char *key, const char *s);
void json_key_int(struct json *j, const char *key, int64_t v);
void json_key_double(struct json *j, const char *key, double v);
void json_key_bool(struct json *j, const char *key, int v);

/* ---- the reader ---- */

enum json_type {
	JSON_NULL = 0,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	int boolean;
	double number;
	char *string;		/* UTF-8, NUL-terminated (an escaped NUL
				 * cuts it short) */
	struct json_value *items;	/* array elements, object values */
	char **keys;		/* object: the key of items[i] */
	size_t n;
};

/*
 * Parse one JSON value (RFC 8259; surrounding white space allowed) from
 * text[0..len). 0, or -1 + err ("offset N: ...") with *v left empty.
 */
int json_parse(struct json_value *v, const char *text, size_t len,
	       struct strbuf *err);
void json_value_release(struct json_value *v);
/* A parsed value written back as JSON text (compact), appended to out. */
void json_value_write(const struct json_value *v, struct strbuf *out);
/*
 * The file at path parsed into v (release it in every case, as v is
 * always set): 1, 0 when there is no such file (yet), -1 + err naming
 * the file ("PATH: ..."). It blocks: never on the loop.
 */
int json_file_read(struct json_value *v, const char *path,
		   struct strbuf *err);

/* Member key of an object; NULL when v is not an object or lacks it. */
const struct json_value *json_get(const struct json_value *v,
				  const char *key);
/* The member as a string, NULL unless it is one. */
const char *json_get_str(const struct json_value *v, const char *key);
/* 1 and *out set when the member is a number, else 0. */
int json_get_number(const struct json_value *v, const char *key,
		    double *out);

#endif
