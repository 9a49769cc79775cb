/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* vmsrstat's reports: text or JSON lines, one per interval, and a summary. */
#ifndef VMSRSTAT_REPORT_H
#define VMSRSTAT_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "watch.h"

/* The interval just sampled: packages, the process, each thread. */
void report_interval(FILE *f, const struct watch *w, bool json);

/* @v as a JSON number, or null when it is NaN or infinite. */
void report_json_number(FILE *f, double v);

/* Totals over the whole run, at exit or interruption. */
void report_summary(FILE *f, const struct watch *w, bool json);

#endif /* VMSRSTAT_REPORT_H */
