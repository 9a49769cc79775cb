// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_perm_test: who may open /dev/vmsr and whose tasks they may read.
 * Starts as root, sets the node up as the udev rule would (root:kvm 0660),
 * and checks each case in a child that has dropped to an unprivileged uid.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define KVM_GID 36
#define USER_UID 1000
#define OTHER_UID 1001

/* Runs @fn in a child as @uid with supplementary groups @gids; returns its exit code. */
static int as_user(uid_t uid, const gid_t *gids, int ngids, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(ngids, gids) || setgid(uid) || setuid(uid))
			_exit(100);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Exit codes: 0 opened, 1 EACCES, 2 something else. */
static int try_open(void *arg)
{
	int fd = open(VMSR_DEV, O_RDWR);

	(void)arg;
	if (fd >= 0)
		return 0;
	return errno == EACCES ? 1 : 2;
}

/* The result of sampling *(pid_t *)arg, as a positive errno; 0 if readable. */
static int sample_tid(void *arg)
{
	struct vmsr_task_sample t = { .tid = *(pid_t *)arg };
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)&t };
	int fd = open(VMSR_DEV, O_RDWR);

	if (fd < 0)
		return 200;
	if (!t.tid)
		t.tid = getpid();
	if (vmsr_ioctl(fd, VMSR_IOC_SAMPLE, &s))
		return 201;
	return -t.result;
}

FIXTURE(node) {
	struct stat orig;
	const char *skip;
};

/* The setup only records why to skip: see NEED_FIXTURE(). */
FIXTURE_SETUP(node)
{
	if (geteuid() != 0) {
		self->skip = "must start as root to switch uids and set up the node";
		return;
	}
	if (stat(VMSR_DEV, &self->orig)) {
		self->skip = "no " VMSR_DEV " (is vmsr.ko loaded?)";
		return;
	}
	ASSERT_EQ(0, chown(VMSR_DEV, 0, 0));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0600));
}

FIXTURE_TEARDOWN(node)
{
	if (self->skip)
		return;
	if (chown(VMSR_DEV, self->orig.st_uid, self->orig.st_gid) ||
	    chmod(VMSR_DEV, self->orig.st_mode & 07777))
		perror("restoring " VMSR_DEV);
}

TEST_F(node, module_creates_the_node_root_only)
{
	NEED_FIXTURE();

	EXPECT_EQ(0, self->orig.st_uid);
	EXPECT_EQ(0, self->orig.st_gid);
	EXPECT_EQ(0600, self->orig.st_mode & 07777);
}

TEST_F(node, user_without_group_is_refused)
{
	gid_t none[] = { USER_UID };

	NEED_FIXTURE();

	EXPECT_EQ(1, as_user(USER_UID, none, 1, try_open, NULL));
	ASSERT_EQ(0, chown(VMSR_DEV, 0, KVM_GID));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0660));
	EXPECT_EQ(1, as_user(USER_UID, none, 1, try_open, NULL));
}

TEST_F(node, kvm_member_may_open_once_the_node_is_kvm_0660)
{
	gid_t kvm[] = { KVM_GID };

	NEED_FIXTURE();

	/* Group membership alone is not enough while the node is 0600. */
	EXPECT_EQ(1, as_user(USER_UID, kvm, 1, try_open, NULL));
	ASSERT_EQ(0, chown(VMSR_DEV, 0, KVM_GID));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0660));
	EXPECT_EQ(0, as_user(USER_UID, kvm, 1, try_open, NULL));
}

TEST_F(node, unprivileged_caller_reads_own_and_same_uid_tasks_only)
{
	gid_t kvm[] = { KVM_GID };
	pid_t self_pid = 0, same, other, init = 1;

	NEED_FIXTURE();

	ASSERT_EQ(0, chown(VMSR_DEV, 0, KVM_GID));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0660));
	same = vmsr_spawn_as(USER_UID, USER_UID, USER_UID, false);
	other = vmsr_spawn_as(OTHER_UID, OTHER_UID, OTHER_UID, false);
	ASSERT_GT(same, 0);
	ASSERT_GT(other, 0);

	EXPECT_EQ(0, as_user(USER_UID, kvm, 1, sample_tid, &self_pid));
	EXPECT_EQ(0, as_user(USER_UID, kvm, 1, sample_tid, &same));
	EXPECT_EQ(EACCES, as_user(USER_UID, kvm, 1, sample_tid, &other));
	EXPECT_EQ(EACCES, as_user(USER_UID, kvm, 1, sample_tid, &init));
	/* Root, with CAP_SYS_PTRACE, reads anyone. */
	EXPECT_EQ(0, sample_tid(&other));

	kill(same, SIGKILL);
	kill(other, SIGKILL);
	waitpid(same, NULL, 0);
	waitpid(other, NULL, 0);
}

/* Real uid alone is not enough: each of the three must be the caller's. */
TEST_F(node, unprivileged_caller_cannot_read_a_process_that_keeps_root_as_a_uid)
{
	gid_t kvm[] = { KVM_GID };
	pid_t setuid_root, saved_root;

	NEED_FIXTURE();

	ASSERT_EQ(0, chown(VMSR_DEV, 0, KVM_GID));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0660));
	setuid_root = vmsr_spawn_as(USER_UID, 0, 0, false);	/* a setuid-root program running */
	saved_root = vmsr_spawn_as(USER_UID, USER_UID, 0, false); /* one that can switch back to root */
	ASSERT_GT(setuid_root, 0);
	ASSERT_GT(saved_root, 0);

	EXPECT_EQ(EACCES, as_user(USER_UID, kvm, 1, sample_tid, &setuid_root));
	EXPECT_EQ(EACCES, as_user(USER_UID, kvm, 1, sample_tid, &saved_root));

	kill(setuid_root, SIGKILL);
	kill(saved_root, SIGKILL);
	waitpid(setuid_root, NULL, 0);
	waitpid(saved_root, NULL, 0);
}

TEST_HARNESS_MAIN
