// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The Prometheus text and OpenMetrics exposition formats; see expo.h. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expo.h"

const char *expo_content_type(enum expo_format format)
{
	return format == EXPO_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

/* Skips blanks (RFC 9110's OWS). */
static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Whether [p, end) equals @word, case-insensitively. */
static int token_is(const char *p, const char *end, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(end - p) == n && !strncasecmp(p, word, n);
}

/*
 * One media range of an Accept header, [p, end): the format it selects, if
 * any, and its q-value (1 unless given). Returns -1 for an unsupported one.
 */
static int media_range(const char *p, const char *end, double *q)
{
	const char *type_end, *param;
	const char *version = NULL, *version_end = NULL;
	int format;

	p = skip_ows(p, end);
	if (p == end)
		return -1;
	type_end = memchr(p, ';', end - p);
	if (!type_end)
		type_end = end;
	param = type_end;
	while (type_end > p && (type_end[-1] == ' ' || type_end[-1] == '\t'))
		type_end--;

	*q = 1;
	while (param < end) {		/* ";name=value" pairs */
		const char *name = skip_ows(param + 1, end), *eq, *next;

		next = memchr(name, ';', end - name);
		if (!next)
			next = end;
		eq = memchr(name, '=', next - name);
		if (eq) {
			const char *val = skip_ows(eq + 1, next), *val_end = next;

			while (val_end > val && (val_end[-1] == ' ' || val_end[-1] == '\t'))
				val_end--;
			if (token_is(name, eq, "q")) {
				char tmp[16];
				size_t n = val_end - val;

				if (n >= sizeof(tmp))
					n = sizeof(tmp) - 1;
				memcpy(tmp, val, n);
				tmp[n] = '\0';
				*q = strtod(tmp, NULL);
			} else if (token_is(name, eq, "version")) {
				version = val;
				version_end = val_end;
			}
		}
		param = next;
	}

	if (token_is(p, type_end, "application/openmetrics-text")) {
		format = EXPO_OPENMETRICS;
		/* 0.0.1 was OpenMetrics' draft: what we write is 1.0.0. */
		if (version && !token_is(version, version_end, "1.0.0"))
			return -1;
	} else if (token_is(p, type_end, "text/plain")) {
		format = EXPO_TEXT;
		if (version && !token_is(version, version_end, "0.0.4"))
			return -1;
	} else if (token_is(p, type_end, "*/*") || token_is(p, type_end, "text/*")) {
		format = EXPO_TEXT;
	} else {
		return -1;
	}
	return *q > 0 ? format : -1;
}

enum expo_format expo_negotiate(const char *accept)
{
	enum expo_format best = EXPO_TEXT;
	double best_q = 0;

	while (accept && *accept) {
		const char *end = strchr(accept, ',');
		double q;
		int format;

		if (!end)
			end = accept + strlen(accept);
		format = media_range(accept, end, &q);
		if (format >= 0 && q > best_q) {
			best = format;
			best_q = q;
		}
		accept = *end ? end + 1 : end;
	}
	return best;
}

void expo_init(struct expo *e, enum expo_format format)
{
	memset(e, 0, sizeof(*e));
	e->format = format;
}

void expo_free(struct expo *e)
{
	free(e->buf);
	e->buf = NULL;
	e->len = e->cap = 0;
}

static bool reserve(struct expo *e, size_t more)
{
	size_t cap;
	char *buf;

	if (e->oom)
		return false;
	if (e->len + more + 1 <= e->cap)
		return true;
	cap = e->cap ? e->cap : 4096;
	while (cap < e->len + more + 1)
		cap *= 2;
	buf = realloc(e->buf, cap);
	if (!buf) {
		e->oom = true;
		return false;
	}
	e->buf = buf;
	e->cap = cap;
	return true;
}

static void put(struct expo *e, const char *s, size_t n)
{
	if (!reserve(e, n))
		return;
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void puts_(struct expo *e, const char *s)
{
	put(e, s, strlen(s));
}

static void printf_(struct expo *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(struct expo *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(e, n))
		return;
	va_start(ap, fmt);
	vsnprintf(e->buf + e->len, n + 1, fmt, ap);
	va_end(ap);
	e->len += n;
}

/*
 * Writes @s escaped: backslash and newline always, the double quote too
 * when @quote (label values; OpenMetrics' HELP text as well).
 */
static void put_escaped(struct expo *e, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(e, "\\\\");
		else if (*s == '\n')
			puts_(e, "\\n");
		else if (*s == '"' && quote)
			puts_(e, "\\\"");
		else
			put(e, s, 1);
	}
}

static const char *suffix(enum expo_type type)
{
	return type == EXPO_COUNTER ? "_total" : type == EXPO_INFO ? "_info" : "";
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *unit,
		 const char *help)
{
	static const char *const om_type[] = { "gauge", "counter", "info" };
	bool om = e->format == EXPO_OPENMETRICS;
	/* The text format has no info type, and names families by their samples. */
	const char *sfx = om ? "" : suffix(type);

	e->family = name;
	e->type = type;
	printf_(e, "# HELP %s%s ", name, sfx);
	put_escaped(e, help, om);
	printf_(e, "\n# TYPE %s%s %s\n", name, sfx, om ? om_type[type] :
		type == EXPO_COUNTER ? "counter" : "gauge");
	if (om && unit)
		printf_(e, "# UNIT %s %s\n", name, unit);
}

/* The shortest "%g" that reads back as @v; OpenMetrics and Go both parse it. */
static void put_number(struct expo *e, double v)
{
	char tmp[40];

	if (isnan(v)) {
		puts_(e, "NaN");
		return;
	}
	if (isinf(v)) {
		puts_(e, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	puts_(e, tmp);
}

void expo_sample(struct expo *e, double value, ...)
{
	const char *name;
	bool first = true;
	va_list ap;

	printf_(e, "%s%s", e->family, suffix(e->type));
	va_start(ap, value);
	while ((name = va_arg(ap, const char *))) {
		const char *val = va_arg(ap, const char *);

		if (!val)
			continue;
		printf_(e, "%s%s=\"", first ? "{" : ",", name);
		put_escaped(e, val, true);
		puts_(e, "\"");
		first = false;
	}
	va_end(ap);
	puts_(e, first ? " " : "} ");
	put_number(e, value);
	puts_(e, "\n");
}

bool expo_finish(struct expo *e)
{
	if (e->format == EXPO_OPENMETRICS)
		puts_(e, "# EOF\n");
	else
		reserve(e, 0);	/* an empty exposition is still a string */
	return !e->oom;
}
