/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.0,
 * written into a growing buffer.
 *
 * A metric family is declared once with expo_family(), then its samples
 * follow with expo_sample(). The family's name is the base name: the writer
 * adds the suffix its type requires ("_total" for a counter, "_info" for
 * an info metric) to each sample, and to the HELP and TYPE lines in the
 * text format, which names families by their samples. OpenMetrics output
 * ends with "# EOF" from expo_finish().
 */
#ifndef VMSR_EXPORTER_EXPO_H
#define VMSR_EXPORTER_EXPO_H

#include <stdbool.h>
#include <stddef.h>

enum expo_format {
	EXPO_TEXT,		/* text/plain; version=0.0.4 */
	EXPO_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

enum expo_type {
	EXPO_GAUGE,
	EXPO_COUNTER,
	EXPO_INFO,
};

struct expo {
	enum expo_format format;
	char *buf;
	size_t len, cap;
	bool oom;		/* an allocation failed: the output is incomplete */
	enum expo_type type;	/* of the current family */
	const char *family;
};

/* The Content-Type header value for @format. */
const char *expo_content_type(enum expo_format format);

/*
 * The format an HTTP Accept header asks for: the supported media type with
 * the highest q-value, the earlier one on a tie; text when there is no
 * header or nothing in it is supported.
 */
enum expo_format expo_negotiate(const char *accept);

void expo_init(struct expo *e, enum expo_format format);
void expo_free(struct expo *e);

/* @unit (may be NULL) must be the name's last component, as OpenMetrics requires. */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *unit,
		 const char *help);

/*
 * One sample of the current family: @value, and label pairs given as
 * name, value, ..., NULL. Label values are escaped; a NULL value leaves
 * its label out (Prometheus reads an absent label and an empty one alike).
 */
void expo_sample(struct expo *e, double value, ...) __attribute__((sentinel));

/* Ends the exposition; returns false if memory ran out. */
bool expo_finish(struct expo *e);

#endif /* VMSR_EXPORTER_EXPO_H */
