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

/* One run of a program: its exit status and what it wrote. */
FIXTURE(vmsrstat) {
	char dir[64];
	char out[4096 * 16], err[4096];
	int status;
};

FIXTURE_SETUP(vmsrstat)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/vmsrstat_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_NE(NULL, getenv("VMSRSTAT")) TH_LOG("set VMSRSTAT to the vmsrstat to test");
	ASSERT_NE(NULL, getenv("VMSR_WORKLOAD")) TH_LOG("set VMSR_WORKLOAD");
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

TEST_F(vmsrstat, version_is_printed)
{
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "--version")));
	EXPECT_NE(NULL, strstr(self->out, "vmsrstat ")) TH_LOG("stdout: %s", self->out);
}

TEST_F(vmsrstat, exit_status_is_the_commands)
{
	EXPECT_EQ(1, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "false")));
	EXPECT_EQ(3, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sh", "-c", "exit 3")));
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "true")));
}

TEST_F(vmsrstat, command_killed_by_a_signal_gives_128_plus_n)
{
	EXPECT_EQ(128 + SIGKILL,
		  EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sh", "-c", "kill -9 $$")));
}

TEST_F(vmsrstat, missing_command_is_an_error_without_report)
{
	EXPECT_EQ(127, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "/nonexistent")));
	EXPECT_NE(NULL, strstr(self->err, "/nonexistent")) TH_LOG("stderr: %s", self->err);
	EXPECT_EQ(NULL, strstr(self->out, "vmsrstat")) TH_LOG("stdout: %s", self->out);
	EXPECT_EQ(NULL, strstr(self->out, "package")) TH_LOG("stdout: %s", self->out);
}

TEST_F(vmsrstat, missing_pid_is_an_error)
{
	EXPECT_NE(0, EXIT_CODE(RUN("vmsrstat", "-n", "1", "-p", "999999")));
	EXPECT_NE(NULL, strstr(self->err, "999999")) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->err, "no such process")) TH_LOG("stderr: %s", self->err);
}

TEST_F(vmsrstat, another_users_process_is_an_error_naming_the_reason)
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
TEST_F(vmsrstat, process_joules_are_monotonic_when_threads_exit)
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

TEST_F(vmsrstat, json_is_valid_for_every_value)
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

TEST_F(vmsrstat, reports_go_to_the_output_file)
{
	char path[96], file[4096];

	snprintf(path, sizeof(path), "%s/report", self->dir);
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-o", path, "-i", "0.05", "--", "sh", "-c",
				   "echo hello; sleep 0.3")));
	EXPECT_STREQ("hello\n", self->out);
	slurp(path, file, sizeof(file));
	EXPECT_NE(NULL, strstr(file, "package 0")) TH_LOG("report file: %s", file);
}

TEST_F(vmsrstat, summary_is_printed_at_exit)
{
	EXPECT_EQ(0, EXIT_CODE(RUN("vmsrstat", "-i", "0.05", "--", "sleep", "0.3")));
	EXPECT_NE(NULL, strstr(self->out, "summary")) TH_LOG("stdout: %s", self->out);
}

static void interrupt_later(pid_t pid)
{
	usleep(400000);
	kill(pid, SIGINT);
}

TEST_F(vmsrstat, summary_is_printed_on_ctrl_c)
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
TEST_F(vmsrstat, ctrl_c_is_passed_on_to_the_command)
{
	spawn_and_wait(self, (char *[]){ "vmsrstat", "-i", "0.05", "--", "sleep", "5", NULL },
		       interrupt_later);
	EXPECT_EQ(128 + SIGINT, EXIT_CODE(self->status)) TH_LOG("stderr: %s", self->err);
	EXPECT_NE(NULL, strstr(self->out, "summary")) TH_LOG("stdout: %s", self->out);
}

/* strace shows every kill(): none may go to the command after it was reaped. */
TEST_F(vmsrstat, no_signal_to_a_reaped_command)
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

TEST_F(vmsrstat, ambiguous_wrap_is_warned_once)
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
 * after the burn, vmsrstat every 20 ms, and at constant power both give
 * the burn's CPU time times power per CPU.
 */
TEST_F(vmsrstat, vmsrstat_and_the_sampler_agree)
{
	double sampler_j = -1, stat_j = -1;
	char key[32], *p;
	int tid = 0;

	ASSERT_EQ(0, EXIT_CODE(RUN("vmsrstat", "--json", "-i", "0.02", "--",
				   getenv("VMSR_WORKLOAD"), "sampler", "200")))
		TH_LOG("stderr: %s", self->err);
	p = strstr(self->out, "sampler tid=");
	ASSERT_NE(NULL, p) TH_LOG("stdout: %s", self->out);
	ASSERT_EQ(2, sscanf(p, "sampler tid=%d joules=%lf", &tid, &sampler_j));
	/* vmsrstat's last report that still lists the thread. */
	snprintf(key, sizeof(key), "{\"tid\":%d,", tid);
	for (p = self->out; (p = strstr(p, key)); p++)
		stat_j = strtod(strstr(p, "\"joules\":") + 9, NULL);
	ASSERT_GT(sampler_j, 0);
	EXPECT_LT(fabs(stat_j - sampler_j), 0.02 * sampler_j)
		TH_LOG("vmsrstat %.6f J, sampler %.6f J", stat_j, sampler_j);
}

TEST_HARNESS_MAIN
