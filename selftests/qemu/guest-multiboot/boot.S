/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Multiboot entry of the test guest. The loader leaves us in 32-bit
 * protected mode with flat segments, paging and interrupts off.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0		/* an ELF image: no address fields */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	mov $stack_top, %esp
	push %ebx		/* the multiboot information */
	call guest_main
	/* guest_main() leaves through isa-debug-exit; if that is missing, stop. */
1:	hlt
	jmp 1b

	.bss
	.align 16
	.space 8192
stack_top:
