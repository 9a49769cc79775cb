# SPDX-License-Identifier: GPL-2.0-only
#
# Checks what the test guest read against QEMU's trace of the same run.
#
# usage: awk -v first=N -v label=L -f fields.awk -f check.awk GUEST_LOG TRACE
#   GUEST_LOG: the guest's serial output (rapl.c); TRACE: QEMU's log
#   with the rapl_vmsr_tick and rapl_vmsr_rdmsr trace events. Prints TAP
#   result lines numbered from N, then
#   "qemu-e2e: L layout=X guest_delta_uj=A attributed_uj=B host_pkg_uj=C".
#
# qemu-vmsr-helper's backend traces nothing and gives the guest the host's
# unit register: for it, pass -v run_host_uj=E, the host package's energy
# over the whole run, and -v expect_esu=U, the host's unit; TRACE is
# /dev/null. The guest's advance must then be above 0 and at most E.
#
# Each tick traces socket 0's package counter, in uJ, before it publishes
# it, with the energy of the host packages over the same ticks; each RDMSR
# traces the value it returned. So the guest's package value V was published
# by the last tick traced before the first RDMSR that returned V. Between
# the guest's second and last values:
#   guest_delta = (last - second) mod 2^32 counter units
#   attributed  = pkg_uj(last) - pkg_uj(second)
#   host_pkg    = host_pkg_uj(last) - host_pkg_uj(second)
# The guest counter is the attributed energy truncated to whole units, so
# the two differ by less than one unit, plus 1 uJ for the trace's rounding.

function result(ok, name, why) {
	if (ok)
		printf "ok %d %s\n", n++, name
	else
		printf "not ok %d %s\n# FAIL %s: %s\n", n++, name, name, why
}

FNR == NR && /^rapl: layout=/ {
	layout = field("layout")
	cpuid_rapl = field("cpuid_rapl")
	next
}
FNR == NR && /^rapl: power_unit=0x/ { unit = hex(substr($2, 14)); next }
FNR == NR && /^rapl: first/ {
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		firsts = firsts " " $i
		if (hex(kv[2]) == 0 || (kv[1] == "info" && and(hex(kv[2]), 0x7fff) == 0))
			zero = zero " " kv[1]
	}
	next
}
FNR == NR && /^rapl: energy_status=/ { status[nstatus++] = field("energy_status") + 0; next }
FNR == NR { next }

/rapl_vmsr_tick / && field("socket") == "0" {
	pkg_uj = field("pkg_uj") + 0
	host_uj = field("host_pkg_uj") + 0
	next
}
/rapl_vmsr_rdmsr / && field("vcpu") == "0" &&
(field("msr") == "0x611" || field("msr") == "0xc001029b") {
	v = hex(field("value")) % 4294967296
	if (!(v in attributed)) {
		attributed[v] = pkg_uj
		host[v] = host_uj
	}
}

END {
	n = first
	start = status[1]
	end = status[nstatus - 1]
	esu = rshift(unit, 8) % 32
	unit_uj = 1e6
	for (i = 0; i < esu; i++)	# no 2 ^ esu: busybox's awk has no libm
		unit_uj /= 2

	# The layout of the guest's vendor, with the default unit of its
	# vendor (2^-14 J on Intel, 2^-16 J on AMD); power, energy and time
	# unit fields only (bits 3:0, 12:8, 19:16).
	if (expect_esu == "")
		expect_esu = layout == "amd" ? 16 : 14
	result(layout == expect_layout && unit && and(unit, 0xf1f0f) == unit &&
	       esu == expect_esu,
	       "layout_and_unit", sprintf("layout %s (expected %s), unit register 0x%x",
					  layout, expect_layout, unit))
	result(layout != "amd" || cpuid_rapl == 1, "cpuid_rapl_bit",
	       "CPUID 0x80000007 EDX bit 14 is clear on an AMD-layout guest")
	result(nstatus && status[0] != 0 && zero == "", "first_reads_nonzero",
	       sprintf("energy status %d, first values:%s", status[0], firsts))

	delta = 0
	back = 0
	for (i = 1; i < nstatus; i++) {
		d = (status[i] - status[i - 1] + 4294967296) % 4294967296
		if (d >= 2147483648)
			back++
	}
	delta = (end - start + 4294967296) % 4294967296
	guest_uj = delta * unit_uj
	result(nstatus >= 3 && delta > 0 && !back, "counter_advanced_never_back",
	       sprintf("%d values read, from %d to %d, %d steps back", nstatus, start, end, back))

	if (run_host_uj != "") {
		result(guest_uj > 0 && guest_uj <= run_host_uj, "host_pkg_bounds_guest",
		       sprintf("guest %.0f uJ, host package %.0f uJ over the run",
			       guest_uj, run_host_uj))
		printf "qemu-e2e: %s layout=%s guest_delta_uj=%.0f host_pkg_uj=%.0f\n",
		       label, layout, guest_uj, run_host_uj
		exit
	}

	found = (start in attributed) && (end in attributed)
	attr_uj = attributed[end] - attributed[start]
	host_uj = host[end] - host[start]
	diff = guest_uj - attr_uj
	if (diff < 0)
		diff = -diff
	result(found && diff < unit_uj + 1, "guest_delta_matches_attribution",
	       found ? sprintf("guest %.0f uJ, attributed %.0f uJ, bound %.0f uJ",
			       guest_uj, attr_uj, unit_uj + 1) :
		       sprintf("guest values %d and %d not both in the trace", start, end))
	result(found && attr_uj > 0 && attr_uj <= host_uj, "host_pkg_bounds_attribution",
	       sprintf("attributed %.0f uJ, host package %.0f uJ", attr_uj, host_uj))

	printf "qemu-e2e: %s layout=%s guest_delta_uj=%.0f attributed_uj=%.0f host_pkg_uj=%.0f\n",
	       label, layout, guest_uj, attr_uj, host_uj
}
