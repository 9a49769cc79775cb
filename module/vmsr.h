/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal interfaces between the parts of vmsr.ko (and vmsr_kunit.ko). */
#ifndef VMSR_H
#define VMSR_H

#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/vmsr.h>

/* Caps on the batch sizes; INFO reports them. */
#define VMSR_MAX_READ_ENTRIES	256
#define VMSR_MAX_SAMPLE_PKGS	64
#define VMSR_MAX_SAMPLE_TASKS	4096

/* Default, smallest and largest value of the min_interval_us module parameter. */
#define VMSR_DEFAULT_MIN_INTERVAL_US	5000
#define VMSR_MIN_MIN_INTERVAL_US	1000
#define VMSR_MAX_MIN_INTERVAL_US	10000000

/* No core recorded yet, in the per-core cache keys (topology.c). */
#define VMSR_NO_CORE	U32_MAX

/* whitelist.c: the fixed, read-only set of RAPL MSRs, per vendor */

/* Where an allowed MSR is read from. */
enum vmsr_msr_scope {
	VMSR_SCOPE_CONST,	/* a unit or info MSR: read at CPU online, served from memory */
	VMSR_SCOPE_PLAIN,	/* a limit MSR: read on a housekeeping CPU of the package */
	VMSR_SCOPE_PKG_ENERGY,	/* a package energy counter: cached per package */
	VMSR_SCOPE_CPU_ENERGY,	/* a per-core energy counter: cached per CPU */
};

struct vmsr_msr_desc {
	u32 msr;
	enum vmsr_msr_scope scope;
	int domain;		/* VMSR_DOMAIN_*, for energy counters */
};

struct vmsr_vendor_msrs {
	u32 unit_msr;
	const struct vmsr_msr_desc *msrs;
	unsigned int nr_msrs;
};

u32 vmsr_vendor_from_x86(u8 x86_vendor);
const struct vmsr_vendor_msrs *vmsr_vendor_msrs(u32 vendor);
const struct vmsr_msr_desc *vmsr_msr_lookup(u32 vendor, u32 msr);

/* abi.c: validation of everything that comes in through an ioctl */
int vmsr_check_info(const struct vmsr_info *info);
int vmsr_check_read(const struct vmsr_read *rd);
const struct vmsr_msr_desc *vmsr_check_read_entry(u32 vendor, const struct vmsr_read_entry *e);
int vmsr_check_sample(const struct vmsr_sample *s);
int vmsr_check_pkg_sample(const struct vmsr_pkg_sample *p);
int vmsr_check_min_interval(unsigned int us);

/* topology.c: CPU to RAPL instance (package or die) map, kept current across CPU hotplug */
bool vmsr_rapl_die_scope(u32 vendor, unsigned int dies_per_package);
u32 vmsr_cpu_rapl_id(unsigned int cpu, bool dies);
bool vmsr_die_scope(void);
u32 vmsr_cpu_instance(unsigned int cpu);
int vmsr_topology_init(void);
void vmsr_topology_exit(void);
u32 vmsr_cpu_package(unsigned int cpu);
u32 vmsr_nr_packages(void);
int vmsr_pick_cpu(const u32 *cpu_pkg, unsigned int nr_cpus, const struct cpumask *online,
		  const struct cpumask *housekeeping, u32 pkg, int prefer);
int vmsr_package_cpu(u32 pkg);
u32 vmsr_core_key(const u32 *keys, const struct cpumask *siblings, unsigned int cpu);
u32 vmsr_cpu_core(unsigned int cpu);

/* energy.c: RAPL detection and rate-limited energy counters */
struct vmsr_rapl {
	u32 vendor;		/* VMSR_VENDOR_* */
	u32 domains;		/* package-scope domains present */
	u32 cpu_domains;	/* per-CPU domains present (AMD's core counter) */
	u64 unit_raw;		/* the power-unit MSR */
};

extern struct vmsr_rapl vmsr_rapl;
extern unsigned int vmsr_min_interval_us;

struct vmsr_energy {
	u64 read_ns;
	u32 value[VMSR_NR_DOMAINS];
	s32 result[VMSR_NR_DOMAINS];
};

int vmsr_energy_init(void);
void vmsr_energy_exit(void);
void vmsr_energy_pkg(u32 pkg, struct vmsr_energy *out);
int vmsr_read_msr(const struct vmsr_msr_desc *desc, u32 target, bool by_pkg, u64 *val);

/* rapl_hw.c: where energy.c gets its raw values, the CPU's MSRs */
int vmsr_hw_init(struct vmsr_rapl *rapl);
void vmsr_hw_exit(void);
int vmsr_hw_read(unsigned int cpu, u32 msr, u64 *val);

/* access.c: whether the caller may sample a task */
struct task_struct;
bool vmsr_may_read_task(struct task_struct *t);

/* tasks.c: per-task CPU times */
void vmsr_tasks_sample(struct vmsr_task_sample *ts, u32 count, bool fresh);

#endif /* VMSR_H */
