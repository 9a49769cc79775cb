/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shims that let vmsr, written against the newest kernel API, build on older
 * kernels. One shim per API change, each naming the release that made it.
 */
#ifndef VMSR_COMPAT_H
#define VMSR_COMPAT_H

#include <linux/version.h>
#include <asm/cpufeature.h>
#include <asm/msr-index.h>
#include <asm/processor.h>

/* 6.16 renamed the 64-bit MSR helpers rdmsrl_* to rdmsrq_* (5e404cb7ac4c). */
#if KERNEL_VERSION(6, 16, 0) > LINUX_VERSION_CODE
#define rdmsrq_safe_on_cpu(cpu, msr, q)	rdmsrl_safe_on_cpu(cpu, msr, q)
#endif

/* 6.9 renamed topology_max_die_per_package() to topology_max_dies_per_package() (bd745d1c41e7). */
#if KERNEL_VERSION(6, 9, 0) > LINUX_VERSION_CODE
#define topology_max_dies_per_package()	topology_max_die_per_package()
#endif

/*
 * 5.11 added X86_FEATURE_RAPL for AMD and Hygon (CPUID 0x80000007 EDX bit
 * 14). Before it, the check reads CPUID itself, and the autoload table
 * (module/main.c, which cannot use a macro here: a list of entries is not
 * one expression) matches the families that have RAPL instead.
 */
#ifdef X86_FEATURE_RAPL
#define vmsr_has_amd_rapl()	boot_cpu_has(X86_FEATURE_RAPL)
#else
#define vmsr_has_amd_rapl()	(boot_cpu_data.extended_cpuid_level >= 0x80000007 && \
				 (cpuid_edx(0x80000007) & BIT(14)))
#endif

/*
 * lockdep_assert_cpus_held() exists since 4.13 but modules may call it only
 * where the kernel exports it, which Kbuild finds out. Elsewhere the
 * assertion is left out; it only ever warns on lockdep kernels. Under our
 * own name: the kernel's stays the kernel's.
 */
#ifdef VMSR_HAVE_LOCKDEP_ASSERT_CPUS_HELD
#define vmsr_assert_cpus_held()	lockdep_assert_cpus_held()
#else
#define vmsr_assert_cpus_held()	do { } while (0)
#endif

/*
 * 5.18 turned housekeeping_cpumask()'s flags (HK_FLAG_*) into types
 * (HK_TYPE_*); Kbuild finds out which the tree has.
 */
#ifdef VMSR_HAVE_HK_TYPE
#define VMSR_HK_DOMAIN	HK_TYPE_DOMAIN
#define VMSR_HK_TICK	HK_TYPE_TICK
#else
#define VMSR_HK_DOMAIN	HK_FLAG_DOMAIN
#define VMSR_HK_TICK	HK_FLAG_TICK
#endif

/* RAPL MSR names an older kernel's <asm/msr-index.h> may lack. */
#ifndef MSR_AMD_RAPL_POWER_UNIT
#define MSR_AMD_RAPL_POWER_UNIT		0xc0010299
#endif
#ifndef MSR_AMD_CORE_ENERGY_STATUS
#define MSR_AMD_CORE_ENERGY_STATUS	0xc001029a
#endif
#ifndef MSR_AMD_PKG_ENERGY_STATUS
#define MSR_AMD_PKG_ENERGY_STATUS	0xc001029b
#endif
#ifndef MSR_PLATFORM_ENERGY_STATUS
#define MSR_PLATFORM_ENERGY_STATUS	0x0000064d
#endif

#endif /* VMSR_COMPAT_H */
