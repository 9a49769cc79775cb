# SPDX-License-Identifier: GPL-2.0-only
#
# Checks what the test guest read against libvmsr's trace of the same run.
#
# usage: awk -v first=N -f e2e-check.awk GUEST_LOG TRACE
#   GUEST_LOG: the guest's serial output (guest/rapl.c); TRACE: the file
#   LIBVMSR_TRACE named. Prints TAP result lines numbered from N, then
#   "qemu-e2e: guest_delta_uj=A attributed_uj=B host_pkg_uj=C".
#
# The guest's first counter value is the one it found at start; each later
# one was published by a tick of the sampler, which wrote the same value to
# the trace, with the energy it had attributed to the virtual package and
# the host packages' energy, both cumulative, in uJ. Between the guest's
# second and last values:
#   guest_delta = (last - second) mod 2^32 counter units
#   attributed  = attributed_uj(last) - attributed_uj(second)
#   host_pkg    = host_uj(last) - host_uj(second)
# The guest counter is the attributed energy truncated to whole units, so
# the two differ by less than one unit, plus 1 uJ for the trace's rounding.

function hex(s,    v, i) {
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}

function field(name,    i) {
	for (i = 1; i <= NF; i++)
		if (index($i, name "=") == 1)
			return substr($i, length(name) + 2)
	return ""
}

function result(ok, name, why) {
	if (ok)
		printf "ok %d %s\n", n++, name
	else
		printf "not ok %d %s\n# FAIL %s: %s\n", n++, name, name, why
}

FNR == NR && /^rapl: power_unit=0x/ { unit = hex(substr($2, 14)); next }
FNR == NR && /^rapl: energy_status=/ { status[nstatus++] = field("energy_status") + 0; next }
FNR == NR { next }

/^libvmsr: / && field("vpackage") == "0" {
	v = field("energy_status") + 0
	if (!(v in attributed)) {
		attributed[v] = field("attributed_uj") + 0
		host[v] = field("host_uj") + 0
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

	# Power, energy and time unit fields only (bits 3:0, 12:8, 19:16), and
	# an energy unit real parts use (2^-14 J on Intel, 2^-16 J on AMD).
	result(unit && and(unit, 0xf1f0f) == unit && esu >= 8 && esu <= 20,
	       "unit_sane", sprintf("MSR_RAPL_POWER_UNIT=0x%x", unit))

	delta = (end - start + 4294967296) % 4294967296
	guest_uj = delta * unit_uj
	result(nstatus >= 3 && delta > 0, "counter_advanced",
	       sprintf("%d values read, from %d to %d", nstatus, start, end))

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

	printf "qemu-e2e: guest_delta_uj=%.0f attributed_uj=%.0f host_pkg_uj=%.0f\n",
	       guest_uj, attr_uj, host_uj
}
