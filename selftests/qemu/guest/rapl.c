// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest of the QEMU end-to-end test. It reads the virtual RAPL
 * registers with RDMSR, burns CPU until the package energy counter has
 * moved ADVANCES times, prints every value it read on COM1 and leaves
 * through isa-debug-exit.
 *
 * The counter moves once per tick of the VMM's sampler, so each value
 * printed after the first is one the sampler published at a tick: the host
 * finds it in libvmsr's trace. A RDMSR that faults, with no IDT, resets the
 * guest, and QEMU (-no-reboot) exits without the final line.
 */
#include <stdint.h>

#define COM1			0x3f8
#define COM1_LSR		(COM1 + 5)
#define LSR_THRE		0x20	/* transmit holding register empty */
#define DEBUG_EXIT_PORT		0xf4
#define DEBUG_EXIT_DONE		0x10	/* QEMU exits with (0x10 << 1) | 1 = 33 */

#define MSR_RAPL_POWER_UNIT	0x606
#define MSR_PKG_ENERGY_STATUS	0x611

#define ADVANCES		4
#define BURN_LOOPS		(1u << 20)	/* work between two reads */

void guest_main(void);

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

void guest_main(void)
{
	uint64_t last, now;
	int moves = 0;

	put_str("rapl: power_unit=0x");
	put_hex(rdmsr(MSR_RAPL_POWER_UNIT));
	put_str("\n");
	last = rdmsr(MSR_PKG_ENERGY_STATUS);
	report_energy(last);
	while (moves < ADVANCES) {
		burn();
		now = rdmsr(MSR_PKG_ENERGY_STATUS);
		if (now != last) {
			report_energy(now);
			last = now;
			moves++;
		}
	}
	put_str("rapl: done\n");
	outb(DEBUG_EXIT_PORT, DEBUG_EXIT_DONE);
}
