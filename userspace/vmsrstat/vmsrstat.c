// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsrstat: per-package, per-process and per-thread power from /dev/vmsr.
 *
 * Each interval makes one SAMPLE call for every package and every thread of
 * the process, and hands it to libvmsr's attribution core (watch.c), the
 * same code the sampler uses: a thread's energy is its package's energy
 * times the share of the package's online CPU capacity it used.
 *
 * Like time(1) and perf stat, it exits with the command's status (128+N if
 * a signal N killed it), and prints a summary at the end, also on Ctrl-C.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "watch.h"

#ifndef VMSR_VERSION
#define VMSR_VERSION "unknown"
#endif

struct options {
	double interval;
	long count;
	pid_t pid;
	bool json;
	const char *output;
	char **command;
};

static volatile sig_atomic_t interrupted;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmsrstat [-i INTERVAL] [-n COUNT] [--json] [-o FILE] (-p PID | -- COMMAND [ARGS...])\n"
		"\n"
		"Shows each package's power and each thread's share of it, from /dev/vmsr.\n"
		"\n"
		"  -i, --interval SECONDS  time between reports (default 1, at least 0.01)\n"
		"  -n, --count N           stop after N reports (default: until the process exits)\n"
		"  -p, --pid PID           watch a running process\n"
		"  -o, --output FILE       write the reports to FILE, not to standard output\n"
		"      --json              one JSON object per report, one per line\n"
		"  -V, --version           print the version\n"
		"  -h, --help              this text\n"
		"\n"
		"With -- COMMAND, vmsrstat runs COMMAND, watches it until it exits (or, with\n"
		"-n, until the last report, then stops it with SIGTERM), and exits with its\n"
		"status. Ctrl-C ends the watch with a summary.\n"
		"Access needs membership of group kvm (see vmsrstat(1)).\n");
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char *end;
	int opt;

	*o = (struct options){ .interval = 1.0, .count = -1 };
	while ((opt = getopt_long(argc, argv, "+i:n:p:o:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			o->interval = strtod(optarg, &end);
			if (*end || !(o->interval >= 0.01 && o->interval <= 3600)) {
				fprintf(stderr, "vmsrstat: -i takes seconds, 0.01 to 3600\n");
				return 2;
			}
			break;
		case 'n':
			o->count = strtol(optarg, &end, 10);
			if (*end || o->count < 1) {
				fprintf(stderr, "vmsrstat: -n takes a positive count\n");
				return 2;
			}
			break;
		case 'p': {
			long pid = strtol(optarg, &end, 10);

			if (*end || pid < 1 || pid > INT32_MAX) {
				fprintf(stderr, "vmsrstat: -p takes a process id\n");
				return 2;
			}
			o->pid = pid;
			break;
		}
		case 'o':
			o->output = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'V':
			printf("vmsrstat %s\n", VMSR_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!!o->pid == (optind < argc)) {
		fprintf(stderr, "vmsrstat: give either -p PID or -- COMMAND\n");
		usage(stderr);
		return 2;
	}
	o->command = optind < argc ? argv + optind : NULL;
	return -1;
}

/* A process of -p must exist and be ours to read (root reads any). */
static int check_pid(pid_t pid)
{
	if (!kill(pid, 0))
		return 0;
	if (errno == ESRCH)
		fprintf(stderr, "vmsrstat: process %d: no such process\n", pid);
	else if (errno == EPERM)
		fprintf(stderr, "vmsrstat: process %d belongs to another user: only root may watch it\n",
			pid);
	else
		fprintf(stderr, "vmsrstat: process %d: %s\n", pid, strerror(errno));
	return 1;
}

/*
 * Starts @argv. A close-on-exec pipe reports a failed exec, so that a
 * command that does not exist is an error before any report.
 */
static pid_t start_command(char **argv)
{
	int pipefd[2], err = 0;
	pid_t child;

	if (pipe2(pipefd, O_CLOEXEC)) {
		perror("vmsrstat: pipe");
		return -1;
	}
	child = fork();
	if (child < 0) {
		perror("vmsrstat: fork");
		return -1;
	}
	if (!child) {
		close(pipefd[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &err, sizeof(err)) == sizeof(err)) {
		fprintf(stderr, "vmsrstat: %s: %s\n", argv[0], strerror(err));
		waitpid(child, NULL, 0);
		close(pipefd[0]);
		return err == ENOENT ? -127 : -126;
	}
	close(pipefd[0]);
	return child;
}

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: sleeps end */

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Whether @child has exited; it stays a zombie, so its pid is still ours. */
static bool command_exited(pid_t child)
{
	siginfo_t si = { 0 };

	return !waitid(P_PID, child, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == child;
}

static void sleep_interval(double interval)
{
	struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };

	nanosleep(&ts, NULL);	/* a signal cuts it short */
}

static void warn_wrap_once(const struct watch *w, bool *warned)
{
	if (*warned || !w->acct.wrap_ambiguous)
		return;
	*warned = true;
	fprintf(stderr, "vmsrstat: warning: an interval of %.3f s is as long as an energy counter "
		"takes to wrap at the package's TDP: a wrap may go unnoticed; use a shorter -i\n",
		w->acct.interval_ns / 1e9);
}

/* Samples and reports until the process is gone, -n is reached, or a signal. */
static int watch_loop(struct watch *w, const struct options *o, pid_t child, FILE *out)
{
	bool warned = false, last = false;
	long reports = 0;

	for (;;) {
		int ret;

		if (child > 0 && command_exited(child))
			last = true;	/* one more sample: the command's final times */
		ret = watch_sample(w);
		if (ret == -ESRCH)
			return 0;
		if (ret == -EACCES) {
			fprintf(stderr, "vmsrstat: process %d belongs to another user: only root may watch it\n",
				w->pid);
			return 1;
		}
		if (ret && ret != -EAGAIN) {
			fprintf(stderr, "vmsrstat: sampling %d: %s\n", w->pid, strerror(-ret));
			return 1;
		}
		if (!ret && w->acct.interval_ns) {
			warn_wrap_once(w, &warned);
			report_interval(out, w, o->json);
			reports++;
		}
		if (!ret)
			watch_done(w);
		if (last || interrupted || (o->count > 0 && reports >= o->count))
			return 0;
		sleep_interval(ret ? 0.01 : o->interval);
	}
}

/* The command's status as an exit code: its own, or 128+N if signal N killed it. */
static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int main(int argc, char **argv)
{
	struct options o;
	struct watch w;
	pid_t child = 0;
	FILE *out = stdout;
	int ret, status = 0;

	ret = parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.pid && check_pid(o.pid))
		return 1;
	if (o.output && !(out = fopen(o.output, "we"))) {
		fprintf(stderr, "vmsrstat: %s: %s\n", o.output, strerror(errno));
		return 1;
	}
	ret = watch_open(&w, o.pid);
	if (ret) {
		fprintf(stderr, "vmsrstat: %s: %s\n", VMSR_DEVICE_PATH, strerror(-ret));
		if (ret == -EACCES || ret == -EPERM || ret == -ENOENT || ret == -ENXIO ||
		    ret == -ENODEV)
			fprintf(stderr, "vmsrstat: %s\n", vmsr_open_hint(ret));
		return 1;
	}
	if (!w.has_energy && !o.json)
		fprintf(stderr, "vmsrstat: this machine has no RAPL energy counters: showing CPU time only\n");
	catch_signals();
	if (o.command) {
		child = start_command(o.command);
		if (child < 0) {
			watch_close(&w);
			return child < -1 ? -child : 1;
		}
		w.pid = child;
	}

	ret = watch_loop(&w, &o, child, out);
	if (w.samples > 1)
		report_summary(out, &w, o.json);
	if (child > 0) {
		bool stopped = false;

		/*
		 * Not reaped yet, so the pid is still our child's: a signal to
		 * vmsrstat is passed on; -n or an error ended the watch first,
		 * then the command is ours to stop.
		 */
		if (!command_exited(child)) {
			kill(child, interrupted ? interrupted : SIGTERM);
			stopped = !interrupted;
		}
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		if (!ret && !(stopped && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
			ret = exit_code(status);
	}
	watch_close(&w);
	if (out != stdout && fclose(out)) {
		fprintf(stderr, "vmsrstat: %s: %s\n", o.output, strerror(errno));
		return ret ? ret : 1;
	}
	return ret;
}
