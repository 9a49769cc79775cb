// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest of the QEMU end-to-end test. It reads the virtual RAPL
 * registers with RDMSR in the layout of its CPU's vendor (CPUID leaf 0):
 * Intel's, or AMD's on AuthenticAMD and HygonGenuine, as Linux's drivers
 * do. It prints the first value of every register, then burns CPU until
 * the package energy counter has moved ADVANCES times (the kernel command
 * line's "advances=N" overrides it), prints every value it read on COM1
 * and leaves through isa-debug-exit.
 *
 * The counter moves once per tick of the VMM's sampler, so each value
 * printed after the first is one the sampler published at a tick: the host
 * finds it in QEMU's trace. With "probe" on the command line it only prints
 * its layout and CPUID's RAPL bit, and leaves. With "pkg-only" it reads the
 * registers of the package domain only, all that qemu-vmsr-helper's backend
 * answers. A RDMSR that faults, with no IDT, resets the guest, and QEMU
 * (-no-reboot) exits without the final line.
 */
#include <stdint.h>

#define COM1			0x3f8
#define COM1_LSR		(COM1 + 5)
#define LSR_THRE		0x20	/* transmit holding register empty */
#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_DONE		0x10	/* QEMU exits with (0x10 << 1) | 1 = 33 */

#define MSR_RAPL_POWER_UNIT	0x606
#define MSR_PKG_POWER_LIMIT	0x610
#define MSR_PKG_ENERGY_STATUS	0x611
#define MSR_PKG_POWER_INFO	0x614
#define MSR_DRAM_ENERGY_STATUS	0x619
#define MSR_PP0_ENERGY_STATUS	0x639
#define MSR_AMD_RAPL_POWER_UNIT	0xc0010299
#define MSR_AMD_CORE_ENERGY	0xc001029a
#define MSR_AMD_PKG_ENERGY	0xc001029b

#define CPUID_APM_RAPL		(1u << 14)	/* 0x80000007 EDX */
#define MB_INFO_CMDLINE		(1u << 2)

#define ADVANCES		4
#define BURN_LOOPS		(1u << 20)	/* work between two reads */

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper, boot_device;
	uint32_t cmdline;
};

void guest_main(const struct multiboot_info *mbi);

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static void put_char(char c)
{
	while (!(inb(COM1_LSR) & LSR_THRE))
		;
	outb(COM1, c);
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

/* Hexadecimal, all 64 bits: shifts only, no 64-bit division in libgcc. */
static void put_hex(uint64_t val)
{
	for (int shift = 60; shift >= 0; shift -= 4)
		put_char("0123456789abcdef"[(val >> shift) & 0xf]);
}

static void put_dec(uint32_t val)
{
	char buf[10];
	int n = 0;

	do {
		buf[n++] = '0' + val % 10;
		val /= 10;
	} while (val);
	while (n)
		put_char(buf[--n]);
}

static void report(const char *name, uint64_t val)
{
	put_str(" ");
	put_str(name);
	put_str("=0x");
	put_hex(val);
}

static void report_energy(uint64_t status)
{
	put_str("rapl: energy_status=");
	put_dec((uint32_t)status);
	put_str(" raw=0x");
	put_hex(status);
	put_str("\n");
}

static void burn(void)
{
	for (volatile uint32_t i = 0; i < BURN_LOOPS; i++)
		;
}

/* What follows KEY on the command line, or 0 if KEY is not there. */
static const char *cmdline(const struct multiboot_info *mbi, const char *key)
{
	const char *p;

	if (!(mbi->flags & MB_INFO_CMDLINE))
		return 0;
	for (p = (const char *)mbi->cmdline; *p; p++) {
		const char *k = key, *q = p;

		while (*k && *q == *k)
			k++, q++;
		if (!*k)
			return q;
	}
	return 0;
}

/* "advances=N" on the command line, else ADVANCES. */
static int advances(const struct multiboot_info *mbi)
{
	const char *q = cmdline(mbi, "advances=");
	int n = 0;

	if (!q)
		return ADVANCES;
	while (*q >= '0' && *q <= '9')
		n = n * 10 + *q++ - '0';
	return n ? n : ADVANCES;
}

/* "AuthenticAMD" or "HygonGenuine": EBX of leaf 0 is "Auth" or "Hygo". */
static int vendor_is_amd(void)
{
	uint32_t r[4];

	cpuid(0, r);
	return r[1] == 0x68747541 || r[1] == 0x6f677948;
}

/* CPUID 0x80000007 EDX, the advanced power management features, or 0. */
static uint32_t cpuid_apm_edx(void)
{
	uint32_t r[4];

	cpuid(0x80000000, r);
	if (r[0] < 0x80000007)
		return 0;
	cpuid(0x80000007, r);
	return r[3];
}

void guest_main(const struct multiboot_info *mbi)
{
	int amd = vendor_is_amd(), moves = 0, todo = advances(mbi);
	uint32_t pkg = amd ? MSR_AMD_PKG_ENERGY : MSR_PKG_ENERGY_STATUS;
	uint32_t apm = cpuid_apm_edx();
	int pkg_only = cmdline(mbi, "pkg-only") != 0;
	uint64_t last, now;

	put_str(amd ? "rapl: layout=amd" : "rapl: layout=intel");
	put_str(apm & CPUID_APM_RAPL ? " cpuid_rapl=1" : " cpuid_rapl=0");
	report("apm_edx", apm);
	put_str("\n");
	/* "probe": what CPUID says only, for a VM that may have no RAPL. */
	if (cmdline(mbi, "probe")) {
		put_str("rapl: done\n");
		outb(DEBUG_EXIT_PORT, DEBUG_EXIT_DONE);
		return;
	}
	put_str("rapl: power_unit=0x");
	put_hex(rdmsr(amd ? MSR_AMD_RAPL_POWER_UNIT : MSR_RAPL_POWER_UNIT));
	put_str("\n");
	/* What a driver probing at boot finds: none of these may be 0. */
	put_str("rapl: first");
	if (amd && !pkg_only) {
		report("core", rdmsr(MSR_AMD_CORE_ENERGY));
	} else if (!amd) {
		if (!pkg_only) {
			report("pp0", rdmsr(MSR_PP0_ENERGY_STATUS));
			report("dram", rdmsr(MSR_DRAM_ENERGY_STATUS));
		}
		report("limit", rdmsr(MSR_PKG_POWER_LIMIT));
		report("info", rdmsr(MSR_PKG_POWER_INFO));
	}
	put_str("\n");
	last = rdmsr(pkg);
	report_energy(last);
	while (moves < todo) {
		burn();
		now = rdmsr(pkg);
		if (now != last) {
			report_energy(now);
			last = now;
			moves++;
		}
	}
	if (amd && !pkg_only) {
		put_str("rapl: last");
		report("core", rdmsr(MSR_AMD_CORE_ENERGY));
		put_str("\n");
	}
	put_str("rapl: done\n");
	outb(DEBUG_EXIT_PORT, DEBUG_EXIT_DONE);
}
