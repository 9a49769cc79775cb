// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_perm_test: who may open /dev/vmsr and whose tasks they may read.
 * Starts as root, sets the node up as the udev rule would (root:kvm 0660),
 * and checks each case in a child that has dropped to an unprivileged uid.
 * The rule is ptrace's read check (vmsr(4)): uid and gid triples,
 * dumpability, CAP_SYS_PTRACE in the target's user namespace, TIDs in the
 * caller's pid namespace.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/capability.h>

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

/* How run_as() sets its caller up, besides uid @uid, gid @uid and group kvm. */
#define CALLER_PTRACE	(1u << 0)	/* keeps CAP_SYS_PTRACE, and only it */
#define CALLER_USERNS	(1u << 1)	/* then enters a user namespace of its own */
#define CALLER_PIDNS	(1u << 2)	/* runs as pid 1 of a new pid namespace */
#define CALLER_NO_PTRACE (1u << 3)	/* root without CAP_SYS_PTRACE */

/* Exit code of a caller whose setup the kernel refuses: the test skips. */
#define CALLER_UNSUPPORTED 202

/* The capability sets become @keep, or all but @drop if @keep is 0. */
static int set_caps(__u32 keep, __u32 drop)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int i;

	if (syscall(SYS_capget, &h, d))
		return -1;
	for (i = 0; i < 2; i++) {
		__u32 k = keep ? (i ? 0 : keep) : d[i].permitted & ~(i ? 0 : drop);

		d[i].permitted = d[i].effective = k;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d);
}

static int run_as(uid_t uid, unsigned int how, int (*fn)(void *), void *arg)
{
	gid_t kvm[] = { KVM_GID };
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		if ((how & CALLER_PIDNS) && unshare(CLONE_NEWPID))
			_exit(CALLER_UNSUPPORTED);
		/* The first child after unshare(CLONE_NEWPID) is the namespace's pid 1. */
		if ((how & CALLER_PIDNS) && (pid = fork()) != 0) {
			if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
				_exit(104);
			_exit(WEXITSTATUS(status));
		}
		if (prctl(PR_SET_KEEPCAPS, !!(how & CALLER_PTRACE)) ||
		    setgroups(1, kvm) || setgid(uid) || setuid(uid))
			_exit(100);
		if ((how & CALLER_PTRACE) && set_caps(1u << CAP_SYS_PTRACE, 0))
			_exit(105);
		if ((how & CALLER_NO_PTRACE) && set_caps(0, 1u << CAP_SYS_PTRACE))
			_exit(106);
		if ((how & CALLER_USERNS) && unshare(CLONE_NEWUSER))
			_exit(CALLER_UNSUPPORTED);
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

static pid_t spawn(uid_t uid, gid_t rgid, gid_t egid, gid_t sgid, unsigned int how)
{
	const uid_t uids[3] = { uid, uid, uid };
	const gid_t gids[3] = { rgid, egid, sgid };

	return vmsr_spawn(uids, gids, how);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void kvm_node(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, chown(VMSR_DEV, 0, KVM_GID));
	ASSERT_EQ(0, chmod(VMSR_DEV, 0660));
}

/* Like the uids, each of the real, effective and saved gids must be the caller's. */
TEST_F(node, unprivileged_caller_cannot_read_a_process_of_another_gid)
{
	pid_t other_gid, other_egid, other_sgid;

	NEED_FIXTURE();
	kvm_node(_metadata);
	other_gid = spawn(USER_UID, OTHER_UID, OTHER_UID, OTHER_UID, 0);
	other_egid = spawn(USER_UID, USER_UID, OTHER_UID, USER_UID, 0);	/* setgid program */
	other_sgid = spawn(USER_UID, USER_UID, USER_UID, OTHER_UID, 0);
	ASSERT_GT(other_gid, 0);
	ASSERT_GT(other_egid, 0);
	ASSERT_GT(other_sgid, 0);

	EXPECT_EQ(EACCES, run_as(USER_UID, 0, sample_tid, &other_gid));
	EXPECT_EQ(EACCES, run_as(USER_UID, 0, sample_tid, &other_egid));
	EXPECT_EQ(EACCES, run_as(USER_UID, 0, sample_tid, &other_sgid));
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PTRACE, sample_tid, &other_gid));

	reap(other_gid);
	reap(other_egid);
	reap(other_sgid);
}

/* prctl(PR_SET_DUMPABLE, 0) shuts out even its own uid, as ptrace does. */
TEST_F(node, non_dumpable_process_needs_cap_sys_ptrace)
{
	pid_t user_nd, root_nd;

	NEED_FIXTURE();
	kvm_node(_metadata);
	user_nd = spawn(USER_UID, USER_UID, USER_UID, USER_UID, VMSR_SPAWN_NONDUMPABLE);
	root_nd = spawn(0, 0, 0, 0, VMSR_SPAWN_NONDUMPABLE);
	ASSERT_GT(user_nd, 0);
	ASSERT_GT(root_nd, 0);

	EXPECT_EQ(EACCES, run_as(USER_UID, 0, sample_tid, &user_nd));
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PTRACE, sample_tid, &user_nd));
	/* Root's ids match root's, but without the capability that is not enough. */
	EXPECT_EQ(EACCES, run_as(0, CALLER_NO_PTRACE, sample_tid, &root_nd));
	EXPECT_EQ(0, run_as(0, 0, sample_tid, &root_nd));

	reap(user_nd);
	reap(root_nd);
}

/* CAP_SYS_PTRACE alone, without root's uid, reads any process. */
TEST_F(node, cap_sys_ptrace_reads_another_uid)
{
	pid_t other, root;

	NEED_FIXTURE();
	kvm_node(_metadata);
	other = spawn(OTHER_UID, OTHER_UID, OTHER_UID, OTHER_UID, 0);
	root = spawn(0, 0, 0, 0, 0);
	ASSERT_GT(other, 0);
	ASSERT_GT(root, 0);

	EXPECT_EQ(EACCES, run_as(USER_UID, 0, sample_tid, &other));
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PTRACE, sample_tid, &other));
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PTRACE, sample_tid, &root));
	/* Without the capability, root reads another uid's process no more than anyone. */
	EXPECT_EQ(EACCES, run_as(0, CALLER_NO_PTRACE, sample_tid, &other));

	reap(other);
	reap(root);
}

/*
 * A user namespace's capabilities reach only into it: its creator reads the
 * tasks inside, and, from inside, CAP_SYS_PTRACE gives nothing outside.
 */
TEST_F(node, child_user_namespace_gives_no_reach_outside)
{
	pid_t inside, other;
	int ret;

	NEED_FIXTURE();
	kvm_node(_metadata);
	inside = spawn(USER_UID, USER_UID, USER_UID, USER_UID, VMSR_SPAWN_USERNS);
	if (inside < 0)
		SKIP(return, "no unprivileged user namespaces in this kernel");
	other = spawn(OTHER_UID, OTHER_UID, OTHER_UID, OTHER_UID, 0);
	ASSERT_GT(other, 0);

	EXPECT_EQ(0, run_as(USER_UID, 0, sample_tid, &inside));
	EXPECT_EQ(EACCES, run_as(OTHER_UID, 0, sample_tid, &inside));
	ret = run_as(USER_UID, CALLER_USERNS, sample_tid, &other);
	if (ret != CALLER_UNSUPPORTED)
		EXPECT_EQ(EACCES, ret);

	reap(inside);
	reap(other);
}

/* A TID is a TID of the caller's pid namespace: others do not exist for it. */
TEST_F(node, tid_outside_the_callers_pid_namespace_is_esrch)
{
	pid_t own = 0, same, init = 1;
	int ret;

	NEED_FIXTURE();
	kvm_node(_metadata);
	same = spawn(USER_UID, USER_UID, USER_UID, USER_UID, 0);
	ASSERT_GT(same, 0);

	ret = run_as(USER_UID, CALLER_PIDNS, sample_tid, &same);
	if (ret == CALLER_UNSUPPORTED)
		SKIP(goto out, "no pid namespaces in this kernel");
	EXPECT_EQ(ESRCH, ret);
	/* Pid 1 in there is the caller itself. */
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PIDNS, sample_tid, &init));
	EXPECT_EQ(0, run_as(USER_UID, CALLER_PIDNS, sample_tid, &own));
	/* Root's view is no wider. */
	EXPECT_EQ(ESRCH, run_as(0, CALLER_PIDNS, sample_tid, &same));
out:
	reap(same);
}

TEST_HARNESS_MAIN
