// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsrstat's reports (report.h). A figure that cannot be known (no RAPL, an
 * interval of zero length) prints as "-" in text and null in JSON, so that
 * every JSON line parses.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static void read_comm(pid_t pid, int tid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	snprintf(out, len, "?");
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* @num / @den, NaN when it cannot be known. */
static double ratio(double num, double den, bool known)
{
	return known && den > 0 ? num / den : NAN;
}

static void text_number(FILE *f, const char *fmt, int width, double v)
{
	if (isfinite(v))
		fprintf(f, fmt, width, v);
	else
		fprintf(f, "%*s", width, "-");
}

void report_json_number(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* This interval's figures of the process: the sum of its threads. */
static void process_step(const struct vmsr_watch *w, double *cpu_ns, double *joules)
{
	*cpu_ns = *joules = 0;
	for (uint32_t i = 0; i < w->reg.nr; i++) {
		*cpu_ns += w->reg.threads[i].step_cpu_ns;
		*joules += w->reg.threads[i].step_joules[VMSR_DOMAIN_PKG];
	}
}

static void process_total(const struct vmsr_watch *w, double *cpu_ns, double *joules)
{
	double j[VMSR_NR_DOMAINS];
	uint64_t ns;

	vmsr_registry_totals(&w->reg, &ns, j);
	*cpu_ns = ns;
	*joules = j[VMSR_DOMAIN_PKG];
}

/* What the host's RAPL instances are: dies where RAPL is die-scoped, else packages. */
static const char *instance_name(const struct vmsr_watch *w)
{
	return w->acct.host.info.flags & VMSR_INFO_F_DIES ? "die" : "package";
}

static void text_interval(FILE *f, const struct vmsr_watch *w)
{
	double secs = w->acct.interval_ns / 1e9, cpu, joules, tcpu, tjoules;
	bool e = w->has_energy;
	char comm[32];

	fprintf(f, "\n-- %.2f s elapsed, interval %.3f s%s\n", (w->last_ns - w->first_ns) / 1e9,
		secs, w->acct.host.info.flags & VMSR_INFO_F_EMULATED ? " (emulated RAPL)" : "");
	for (uint32_t p = 0; p < w->acct.host.info.nr_packages; p++) {
		const struct vmsr_account_pkg *ap = &w->acct.pkgs[p];

		fprintf(f, "   %s %u: ", instance_name(w), p);
		text_number(f, "%*.2f", 8, ratio(ap->joules[VMSR_DOMAIN_PKG], secs, e));
		fputs(" W ", f);
		text_number(f, "%*.2f", 10, e ? ap->total_joules[VMSR_DOMAIN_PKG] : NAN);
		fprintf(f, " J  (%u CPUs%s)\n", ap->online_cpus, e ? "" : ", no RAPL");
	}
	process_step(w, &cpu, &joules);
	process_total(w, &tcpu, &tjoules);
	fprintf(f, "   %7s %7s %-16s %3s %7s %8s %10s\n", "PID", "TID", "COMMAND", "CPU", "CPU%",
		"W", "J");
	read_comm(w->pid, 0, comm, sizeof(comm));
	fprintf(f, "   %7d %7s %-16s %3s ", w->pid, "-", comm, "-");
	text_number(f, "%*.1f", 7, ratio(100 * cpu, w->acct.interval_ns, true));
	fputc(' ', f);
	text_number(f, "%*.2f", 8, ratio(joules, secs, e));
	fputc(' ', f);
	text_number(f, "%*.2f", 10, e ? tjoules : NAN);
	fputc('\n', f);
	for (uint32_t i = 0; i < w->reg.nr; i++) {
		const struct vmsr_thread *t = &w->reg.threads[i];

		read_comm(w->pid, t->tid, comm, sizeof(comm));
		fprintf(f, "   %7s %7d %-16s %3u ", "", t->tid, comm, t->cpu);
		text_number(f, "%*.1f", 7, ratio(100.0 * t->step_cpu_ns, w->acct.interval_ns, true));
		fputc(' ', f);
		text_number(f, "%*.2f", 8, ratio(t->step_joules[VMSR_DOMAIN_PKG], secs, e));
		fputc(' ', f);
		text_number(f, "%*.2f", 10, e ? t->joules[VMSR_DOMAIN_PKG] : NAN);
		fputc('\n', f);
	}
}

static void json_interval(FILE *f, const struct vmsr_watch *w)
{
	double secs = w->acct.interval_ns / 1e9, cpu, joules, tcpu, tjoules;
	bool e = w->has_energy;
	char comm[32];

	fputs("{\"elapsed_s\":", f);
	report_json_number(f, (w->last_ns - w->first_ns) / 1e9);
	fputs(",\"interval_s\":", f);
	report_json_number(f, secs);
	fprintf(f, ",\"emulated\":%s,\"dies\":%s,\"packages\":[",
		w->acct.host.info.flags & VMSR_INFO_F_EMULATED ? "true" : "false",
		w->acct.host.info.flags & VMSR_INFO_F_DIES ? "true" : "false");
	for (uint32_t p = 0; p < w->acct.host.info.nr_packages; p++) {
		const struct vmsr_account_pkg *ap = &w->acct.pkgs[p];

		fprintf(f, "%s{\"package\":%u,\"cpus\":%u,\"watts\":", p ? "," : "", p,
			ap->online_cpus);
		report_json_number(f, ratio(ap->joules[VMSR_DOMAIN_PKG], secs, e));
		fputs(",\"joules\":", f);
		report_json_number(f, e ? ap->total_joules[VMSR_DOMAIN_PKG] : NAN);
		fputc('}', f);
	}
	process_step(w, &cpu, &joules);
	process_total(w, &tcpu, &tjoules);
	read_comm(w->pid, 0, comm, sizeof(comm));
	fprintf(f, "],\"process\":{\"pid\":%d,\"comm\":", w->pid);
	json_string(f, comm);
	fputs(",\"cpu_pct\":", f);
	report_json_number(f, ratio(100 * cpu, w->acct.interval_ns, true));
	fputs(",\"watts\":", f);
	report_json_number(f, ratio(joules, secs, e));
	fputs(",\"joules\":", f);
	report_json_number(f, e ? tjoules : NAN);
	fputs(",\"threads\":[", f);
	for (uint32_t i = 0; i < w->reg.nr; i++) {
		const struct vmsr_thread *t = &w->reg.threads[i];

		read_comm(w->pid, t->tid, comm, sizeof(comm));
		fprintf(f, "%s{\"tid\":%d,\"comm\":", i ? "," : "", t->tid);
		json_string(f, comm);
		fprintf(f, ",\"cpu\":%u,\"package\":", t->cpu);
		if (t->package == VMSR_NO_PACKAGE)
			fputs("null", f);
		else
			fprintf(f, "%u", t->package);
		fputs(",\"cpu_pct\":", f);
		report_json_number(f, ratio(100.0 * t->step_cpu_ns, w->acct.interval_ns, true));
		fputs(",\"watts\":", f);
		report_json_number(f, ratio(t->step_joules[VMSR_DOMAIN_PKG], secs, e));
		fputs(",\"joules\":", f);
		report_json_number(f, e ? t->joules[VMSR_DOMAIN_PKG] : NAN);
		fputc('}', f);
	}
	fputs("]}}\n", f);
}

void report_interval(FILE *f, const struct vmsr_watch *w, bool json)
{
	if (json)
		json_interval(f, w);
	else
		text_interval(f, w);
	fflush(f);
}

void report_summary(FILE *f, const struct vmsr_watch *w, bool json)
{
	double secs = (w->last_ns - w->first_ns) / 1e9, cpu, joules;
	bool e = w->has_energy;

	process_total(w, &cpu, &joules);
	if (json) {
		fprintf(f, "{\"summary\":{\"pid\":%d,\"elapsed_s\":", w->pid);
		report_json_number(f, secs);
		fputs(",\"cpu_s\":", f);
		report_json_number(f, cpu / 1e9);
		fputs(",\"joules\":", f);
		report_json_number(f, e ? joules : NAN);
		fputs(",\"watts\":", f);
		report_json_number(f, ratio(joules, secs, e));
		fputs(",\"packages\":[", f);
		for (uint32_t p = 0; p < w->acct.host.info.nr_packages; p++) {
			fprintf(f, "%s{\"package\":%u,\"joules\":", p ? "," : "", p);
			report_json_number(f, e ? w->acct.pkgs[p].total_joules[VMSR_DOMAIN_PKG] : NAN);
			fputc('}', f);
		}
		fputs("]}}\n", f);
	} else {
		fprintf(f, "\n-- summary of process %d over %.2f s: CPU time %.3f s, ", w->pid, secs,
			cpu / 1e9);
		text_number(f, "%*.2f", 0, e ? joules : NAN);
		fputs(" J, ", f);
		text_number(f, "%*.2f", 0, ratio(joules, secs, e));
		fputs(" W on average\n", f);
		for (uint32_t p = 0; p < w->acct.host.info.nr_packages; p++) {
			fprintf(f, "   %s %u: ", instance_name(w), p);
			text_number(f, "%*.2f", 0,
				    e ? w->acct.pkgs[p].total_joules[VMSR_DOMAIN_PKG] : NAN);
			fputs(" J\n", f);
		}
	}
	fflush(f);
}
