// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsrstat as a user sees it: exit status, errors, output, --json, signals.
 * It runs $VMSRSTAT (vmsrstat built over tests/fake_device.c) and
 * $VMSR_WORKLOAD (tests/workload.c); neither needs /dev/vmsr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

extern char **environ;

/*
 * One run of a program: its exit status and what it wrote. Each test may
 * take up to 10 minutes, so that a loaded machine slows it but cannot fail it.
 */
FIXTURE(vmsrstat) {
	char dir[64];
	char out[4096 * 16], err[4096];
	int status;
	size_t mark;		/* what a callback saw of out, for the test */
};

/* The test running now, for the callbacks of spawn_and_wait(). */
static FIXTURE_DATA(vmsrstat) *current;

FIXTURE_SETUP(vmsrstat)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vmsrstat_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_NE(NULL, getenv("VMSRSTAT")) TH_LOG("set VMSRSTAT to the vmsrstat to test");
	ASSERT_NE(NULL, getenv("VMSR_WORKLOAD")) TH_LOG("set VMSR_WORKLOAD");
	self->mark = 0;
	current = self;
}

FIXTURE_TEARDOWN(vmsrstat)
{
	char cmd[128];

	/* The programs are built with ASan and UBSan: a report fails the test. */
	EXPECT_EQ(NULL, strstr(self->err, "Sanitizer")) TH_LOG("stderr: %s", self->err);
	EXPECT_EQ(NULL, strstr(self->err, "runtime error")) TH_LOG("stderr: %s", self->err);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->dir);
}

static void slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, len - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

/*
 * Runs @argv (argv[0] "vmsrstat" or "workload" is replaced by the binary
 * under test) with stdout and stderr captured; @on_start, if given, gets
 * the pid first. Returns the wait status.
 */
static int spawn_and_wait(FIXTURE_DATA(vmsrstat) *self, char **argv, void (*on_start)(pid_t))
{
	posix_spawn_file_actions_t fa;
	char out[96], err[96];
	pid_t pid;
	int ret;

	if (!strcmp(argv[0], "vmsrstat"))
		argv[0] = getenv("VMSRSTAT");
	snprintf(out, sizeof(out), "%s/stdout", self->dir);
	snprintf(err, sizeof(err), "%s/stderr", self->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -1;
	if (on_start)
		on_start(pid);
	waitpid(pid, &self->status, 0);
	slurp(out, self->out, sizeof(self->out));
	slurp(err, self->err, sizeof(self->err));
	return self->status;
}

#define RUN(...) spawn_and_wait(self, (char *[]){ __VA_ARGS__, NULL }, NULL)
#define EXIT_CODE(st) (WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st))

/* Every line of @text parses as strict JSON (no NaN, no Infinity). */
static int json_lines_valid(FIXTURE_DATA(vmsrstat) *self, const char *text)
{
	char path[96], cmd[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/json", self->dir);
	f = fopen(path, "we");
	if (!f)
		return 0;
	fputs(text, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys\n"
		 "def bad(c): sys.exit(\"not JSON: \" + c)\n"
		 "n = 0\n"
		 "for line in open(sys.argv[1]):\n"
		 "    json.loads(line, parse_constant=bad); n += 1\n"
		 "sys.exit(0 if n else \"no line\")' %s >&2", path);
	return system(cmd) == 0;
}


/* The first line of the stdout file at or after @from that holds @what. */
static const char *wait_for_output(const char *what, const char *from_line, int *ok)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/stdout", current->dir);
	/* Bounded (10 min) so that a broken vmsrstat fails instead of hanging. */
	for (int i = 0; i < 60000 && *ok; i++) {
		const char *p, *from;

		slurp(path, current->out, sizeof(current->out));
		from = from_line ? strstr(current->out, from_line) : current->out;
		p = from ? strstr(from, what) : NULL;
		if (p)
			return p;
		usleep(10000);
	}
	*ok = 0;
	return NULL;
}

TEST_F_TIMEOUT(vmsrstat, version_is_printed, 600)
{
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "--version")));
	EXPECT_NE(NULL, strstr(self->out, "vmsrstat ")) TH_LOG("stdout: %s", self->out);
}

TEST_F_TIMEOUT(vmsrstat, exit_status_is_the_commands, 600)
{
	EXPECT_EQ(1, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "false")));
	EXPECT_EQ(3, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sh", "-c", "exit 3")));
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "true")));
}

TEST_F_TIMEOUT(vmsrstat, command_killed_by_a_signal_gives_128_plus_n, 600)
{
	EXPECT_EQ(128 + SIGKILL,
		  EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sh", "-c", "kill -9 $$")));
}

TEST_F_TIMEOUT(vmsrstat, missing_command_is_an_error_without_report, 600)
{
	EXPECT_EQ(127, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "/nonexistent")));
	EXPECT_NE(NULL, strstr(self->err, "/nonexistent")) TH_LOG("stderr: %s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "vmsrstat")) TH_LOG("stdout: %s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "package")) TH_LOG("stdout: %s", self->out);
}

TEST_F_TIMEOUT(vmsrstat, device_refused_says_what_to_do, 600)
{
	setenv("VMSR_FAKE_OPEN_ERRNO", "13", 1);	/* EACCES */
	EXPECT_EQ(1, EXIT_CODE(RUN("vmsrstat", "-n", "1", "--", "true")));
	unsetenv("VMSR_FAKE_OPEN_ERRNO");
	/* The file mode's cause, or, where /dev/vmsr's mode lets us in, AppArmor's. */
	EXPECT_TRUE(strstr(self->err, "group kvm") || strstr(self->err, "AppArmor"))
		TH_LOG("stderr: %s", self->err);
}

TEST_F_TIMEOUT(vmsrstat, missing_pid_is_an_error, 600)
{
	EXPECT_NE(0, EXIT_CODE(RUN("vmsrstat", "-n", "1", "-p", "999999")));
	EXPECT_NE(NULL, strstr(self->err, "999999")) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "no such process")) TH_LOG("stderr: %s", self->err);
}

TEST_F_TIMEOUT(vmsrstat, another_users_process_is_an_error_naming_the_reason, 600)
{
	char copy[96], cmd[256];

	if (geteuid())
		SKIP(return, "needs root, to run vmsrstat as user nobody");
	/* A copy that user nobody can run, wherever the build is. */
	snprintf(copy, sizeof(copy), "%s/vmsrstat", self->dir);
	snprintf(cmd, sizeof(cmd), "cp %s %s && chmod 755 %s", getenv("VMSRSTAT"), copy, self->dir);
	ASSERT_EQ(0, system(cmd));
	EXPECT_NE(0, EXIT_CODE(RUN("setpriv", "--reuid=65534", "--regid=65534",
				   "--clear-groups", copy, "-n", "1", "-i", "0.05", "-p", "1")));
	EXPECT_NE(NULL, strstr(self->err, "another user")) TH_LOG("stderr: %s", self->err);
}

/* The process's joules, report after report, never go down. */
TEST_F_TIMEOUT(vmsrstat, process_joules_are_monotonic_when_threads_exit, 600)
{
	double prev = -1, j;
	int lines = 0;

	ASSERT_EQ(0, EXIT_CODE(RUN("vmsrstat", "--json", "-i", "0.05", "--",
				   getenv("VMSR_WORKLOAD"), "thread-burns", "200")));
	for (char *p = self->out; (p = strstr(p, "\"process\":")); p++) {
		char *q = strstr(p, "\"joules\":");

		ASSERT_NE(NULL, q);
		j = strtod(q + 9, NULL);
		EXPECT_GE(j, prev) TH_LOG("report %d: %g J after %g J", lines, j, prev);
		prev = j;
		lines++;
	}
	EXPECT_GT(prev, 0);
	EXPECT_GE(lines, 10);
}

TEST_F_TIMEOUT(vmsrstat, json_is_valid_for_every_value, 600)
{
	/*
	 * Measured values, no RAPL (null), and samples with the same time
	 * stamp (a zero-length interval: NaN and inf, see also report_test.c).
	 */
	static const char *const cases[] = { NULL, "VMSR_FAKE_NO_RAPL", "VMSR_FAKE_FROZEN_CLOCK" };

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i])
			setenv(cases[i], "1", 1);
		RUN("vmsrstat", "--json", "-n", "3", "-i", "0.02", "--", "sleep", "1");
		EXPECT_TRUE(json_lines_valid(self, self->out)) TH_LOG("%s: %s", cases[i], self->out);
		if (cases[i])
			unsetenv(cases[i]);
	}
}

TEST_F_TIMEOUT(vmsrstat, reports_go_to_the_output_file, 600)
{
	char path[96], file[4096];

	snprintf(path, sizeof(path), "%s/report", self->dir);
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-o", path, "-i", "0.05", "--", "sh", "-c",
				   "echo hello; sleep 0.3")));
	EXPECT_STREQ("hello\n", self->out);
	slurp(path, file, sizeof(file));
	EXPECT_NE(NULL, strstr(file, "package 0")) TH_LOG("report file: %s", file);
}

/* Where RAPL is die-scoped (VMSR_INFO_F_DIES), its instances are called dies. */
TEST_F_TIMEOUT(vmsrstat, die_scoped_rapl_reports_dies, 600)
{
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sleep", "0.3")));
	EXPECT_NE(NULL, strstr(self->out, "package 0:")) TH_LOG("stdout: %s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "die 0:")) TH_LOG("stdout: %s", self->out);
	setenv("VMSR_FAKE_DIES", "1", 1);
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sleep", "0.3")));
	EXPECT_NE(NULL, strstr(self->out, "die 0:")) TH_LOG("stdout: %s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "package 0:")) TH_LOG("stdout: %s", self->out);
	RUN("vmsrstat", "--json", "-n", "2", "-i", "0.05", "--", "sleep", "1");
	EXPECT_NE(NULL, strstr(self->out, "\"dies\":true")) TH_LOG("stdout: %s", self->out);
	unsetenv("VMSR_FAKE_DIES");
	RUN("vmsrstat", "--json", "-n", "2", "-i", "0.05", "--", "sleep", "1");
	EXPECT_NE(NULL, strstr(self->out, "\"dies\":false")) TH_LOG("stdout: %s", self->out);
}

TEST_F_TIMEOUT(vmsrstat, summary_is_printed_at_exit, 600)
{
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sleep", "0.3")));
	EXPECT_NE(NULL, strstr(self->out, "summary")) TH_LOG("stdout: %s", self->out);
}

/* SIGINT to vmsrstat once it has printed a report (or given up waiting). */
static void interrupt_later(pid_t pid)
{
	int ok = 1;

	wait_for_output("elapsed", NULL, &ok);
	kill(pid, SIGINT);
}

TEST_F_TIMEOUT(vmsrstat, summary_is_printed_on_ctrl_c, 600)
{
	pid_t sleeper = fork();
	char pid[16];

	ASSERT_LE(0, sleeper);
	if (!sleeper) {
		execlp("sleep", "sleep", "5", NULL);
		_exit(127);
	}
	snprintf(pid, sizeof(pid), "%d", sleeper);
	spawn_and_wait(self, (char *[]){ "vmsrstat", "-i", "0.05", "-p", pid, NULL },
		       interrupt_later);
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	EXPECT_EQ(0, EXIT_CODE(self->status)) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "summary")) TH_LOG("stdout: %s", self->out);
}

/* Interrupted while running a command: passed on to it, and its status is ours. */
TEST_F_TIMEOUT(vmsrstat, ctrl_c_is_passed_on_to_the_command, 600)
{
	spawn_and_wait(self, (char *[]){ "vmsrstat", "-i", "0.05", "--", "sleep", "5", NULL },
		       interrupt_later);
	EXPECT_EQ(128 + SIGINT, EXIT_CODE(self->status)) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "summary")) TH_LOG("stdout: %s", self->out);
}

/* strace shows every kill(): none may go to the command after it was reaped. */
TEST_F_TIMEOUT(vmsrstat, no_signal_to_a_reaped_command, 600)
{
	char trace[96], log[8192];

	if (system("command -v strace >/dev/null"))
		SKIP(return, "strace is not installed");
	snprintf(trace, sizeof(trace), "%s/trace", self->dir);
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);	/* LeakSanitizer cannot run under ptrace */
	RUN("strace", "-f", "-qq", "-e", "trace=kill,tgkill", "-e", "signal=none", "-o", trace,
	    getenv("VMSRSTAT"), "-n", "100", "-i", "0.05", "--", "true");
	unsetenv("ASAN_OPTIONS");
	slurp(trace, log, sizeof(log));
	EXPECT_EQ(NULL, strstr(log, "kill(")) TH_LOG("strace: %s", log);
}

TEST_F_TIMEOUT(vmsrstat, ambiguous_wrap_is_warned_once, 600)
{
	/* 2^32 steps of 2^-30 J at 4000 W: the counter can wrap every millisecond. */
	setenv("VMSR_FAKE_SHIFT", "30", 1);
	setenv("VMSR_FAKE_TDP_W", "4000", 1);
	RUN("vmsrstat", "-n", "3", "-i", "0.05", "--", "sleep", "1");
	unsetenv("VMSR_FAKE_SHIFT");
	unsetenv("VMSR_FAKE_TDP_W");
	char *first = strstr(self->err, "vmsrstat: warning: ");

	ASSERT_NE(NULL, first) TH_LOG("stderr: %s", self->err);
	ASSERT_NE(NULL, strstr(first, "wrap")) TH_LOG("stderr: %s", self->err);
	EXPECT_EQ(NULL, strstr(first + 1, "vmsrstat: warning: ")) TH_LOG("stderr: %s", self->err);
}

/*
 * Done-when of issue 18: the sampler (inside the workload) and vmsrstat
 * (watching it) charge the same joules to the same thread over the same
 * burn. Both follow the fake device; the sampler ticks right before and
 * after the burn, vmsrstat every 20 ms. The burn starts only once
 * vmsrstat has reported the thread twice, and the thread exits only once
 * vmsrstat has reported it twice after the burn, so both cover the whole
 * burn; at constant power both give its CPU time times power per CPU.
 */
/*
 * vmsrstat's second report with @key after @line: the first may hold a
 * sample taken before the line was written; the second's sample was taken
 * after the first report, so after the line too.
 */
static const char *second_report(const char *out, const char *line, const char *key)
{
	const char *p = strstr(out, line);

	p = p ? strstr(p, key) : NULL;
	return p ? strstr(p + 1, key) : NULL;
}

static void drive_workload(pid_t vmsrstat)
{
	char key[48], sampler_line[64];
	const char *p;
	int ok = 1, pid = 0, tid = 0;

	p = wait_for_output("workload pid=", NULL, &ok);
	if (!p || sscanf(p, "workload pid=%d burner=%d", &pid, &tid) != 2)
		goto out;
	snprintf(key, sizeof(key), "{\"tid\":%d,", tid);
	/* vmsrstat has the thread, asleep, twice: the burn's start is in between. */
	wait_for_output(key, "workload pid=", &ok);
	p = ok ? second_report(current->out, "workload pid=", key) : NULL;
	while (ok && !p) {
		wait_for_output(key, "workload pid=", &ok);
		p = second_report(current->out, "workload pid=", key);
		usleep(10000);
	}
	if (!ok)
		goto out;
	current->mark = strlen(current->out);
	kill(pid, SIGUSR1);
	p = wait_for_output("sampler tid=", NULL, &ok);
	if (!p)
		goto out;
	snprintf(sampler_line, sizeof(sampler_line), "%.*s", (int)strcspn(p, "\n"), p);
	wait_for_output(key, sampler_line, &ok);	/* and has sampled it since: */
	p = ok ? second_report(current->out, sampler_line, key) : NULL;
	while (ok && !p) {
		wait_for_output(key, sampler_line, &ok);
		p = second_report(current->out, sampler_line, key);
		usleep(10000);
	}
	if (ok)
		kill(pid, SIGUSR2);
out:
	if (!ok)
		kill(vmsrstat, SIGTERM);
}

TEST_F_TIMEOUT(vmsrstat, vmsrstat_and_the_sampler_agree, 600)
{
	double sampler_j = -1, stat_j = -1, before_j = -1;
	char key[32], line[64], *p;
	int tid = 0;

	spawn_and_wait(self, (char *[]){ "vmsrstat", "--json", "-i", "0.02", "--",
					 getenv("VMSR_WORKLOAD"), "sampler", "200", NULL },
		       drive_workload);
	ASSERT_EQ(0, EXIT_CODE(self->status)) TH_LOG("stderr: %s", self->err);
	p = strstr(self->out, "sampler tid=");
	ASSERT_NE(NULL, p) TH_LOG("stdout: %s", self->out);
	ASSERT_EQ(2, sscanf(p, "sampler tid=%d joules=%lf", &tid, &sampler_j));
	/*
	 * vmsrstat over the same burn: its thread's joules in the second
	 * report after the sampler's line, less those in its last report
	 * before the burn. Not its first and last reports: the fake device's
	 * CPU times lag until a thread is switched out, as the module's do
	 * without VMSR_SAMPLE_F_FRESH, and a new thread's start and its exit
	 * cost CPU time the sampler's ticks do not bracket.
	 */
	snprintf(key, sizeof(key), "{\"tid\":%d,", tid);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	p = (char *)second_report(self->out, line, key);
	ASSERT_NE(NULL, p) TH_LOG("stdout: %s", self->out);
	stat_j = strtod(strstr(p, "\"joules\":") + 9, NULL);
	self->out[self->mark] = '\0';
	for (p = self->out; (p = strstr(p, key)); p++)
		before_j = strtod(strstr(p, "\"joules\":") + 9, NULL);
	ASSERT_LE(0, before_j) TH_LOG("no report before the burn");
	stat_j -= before_j;
	ASSERT_GT(sampler_j, 0);
	EXPECT_LT(fabs(stat_j - sampler_j), 0.005 * sampler_j)
		TH_LOG("vmsrstat %.6f J, sampler %.6f J", stat_j, sampler_j);
}

TEST_HARNESS_MAIN
