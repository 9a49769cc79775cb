# SPDX-License-Identifier: GPL-2.0-only
#
# Checks what a real guest's own drivers read against libvmsr's trace of the
# same run, and that its energy_uj never went back across live migration.
#
# usage: awk -v cpu=MODEL -v migration=STATUS -f check.awk SOURCE_OUT DEST_OUT \
#            LIBVMSR_TRACE QEMU_TRACE
#   SOURCE_OUT, DEST_OUT: the guest's ttyS1 (l2-init.sh) on the source and
#   on the destination QEMU; LIBVMSR_TRACE, QEMU_TRACE: the source's traces
#   (LIBVMSR_TRACE; QEMU's rapl_vmsr_tick and rapl_vmsr_rdmsr events, -D);
#   STATUS: the source's last query-migrate status ("completed").
#   Prints TAP result lines 1-7, then
#   "guest-linux: cpu=MODEL powercap_uj=A perf_uj=B turbostat_pkgwatt=W
#    attributed_uj=C migrated=yes|no".
#
# energy-window read the package energy MSR before and after its window and
# found it unchanged around its powercap and perf reads, so RAW_START and
# RAW_END are the counter values those reads saw. Each was published by a
# tick of the host's sampler, which traced the energy it had attributed to
# the virtual package so far (uJ, rounded). Where QEMU converts that energy
# into the guest's unit, QEMU's trace has it: a value V was published by the
# last rapl_vmsr_tick before the first rapl_vmsr_rdmsr that returned V.
# Otherwise the guest's value is libvmsr's, and LIBVMSR_TRACE has it next
# to the energy. The counter is that energy in whole guest units, so over
# the window:
#   |RAW_DELTA * UNIT - ATTRIBUTED| < UNIT + 1 uJ              (perf)
# perf counts exactly RAW_DELTA << (32 - ESU) at a scale of 2^-32 J.
# powercap converts with a unit truncated to whole nJ (1e9 >> ESU), and
# truncates the result to whole uJ, which adds less than RAW_DELTA / 1000 uJ
# and 1 uJ:
#   |POWERCAP_DELTA - ATTRIBUTED| < UNIT + 2 uJ + RAW_DELTA / 1000 uJ
# turbostat's two reads of the MSR lie inside the window, and it prints
# watts with two decimals over an interval it prints in seconds:
#   0 < PKGWATT * SECONDS <= RAW_DELTA * UNIT + 0.005 W * SECONDS

function result(ok, name, why) {
	printf "%s %d %s\n", ok ? "ok" : "not ok", ++n, name
	if (!ok)
		printf "# FAIL %s: %s\n", name, why
}

function abs(x) { return x < 0 ? -x : x }

BEGIN { powercap = perf = unit = raw_start = raw_end = pc_start = pc_end = perf_uj = "none" }

# A line is complete only with the CR LF the serial port ends it with: the
# last line on the source may have been cut off by the switch-over.
{ complete = sub(/\r$/, "") }

FILENAME == ARGV[1] && /^found: / { powercap = substr($2, 10); perf = substr($3, 6) }

FILENAME == ARGV[1] && /^write: / { write = substr($0, 8) }
FILENAME == ARGV[1] && /^### begin window/ { in_window = 1 }
FILENAME == ARGV[1] && /^### end window/ { in_window = 0 }
in_window && /^PkgWatt/ { tb_header = 1; next }
in_window && tb_header && pkgwatt == "" && /^[0-9.]+$/ { pkgwatt = $1 }
in_window && /^[0-9.]+ sec$/ { tb_sec = $1 }
in_window && /^turbostat: / { tb_error = $0 }
in_window && /^window: / {
	unit = field("unit", "none"); raw_start = field("raw_start", "none"); raw_end = field("raw_end", "none")
	pc_start = field("powercap_start_uj", "none"); pc_end = field("powercap_end_uj", "none")
	perf_uj = field("perf_uj", "none")
}

FILENAME == ARGV[2] && /^sample / { dest_lines++ }

FILENAME != ARGV[3] && complete && /^sample energy_uj=[0-9]+$/ {
	sample[ns++] = substr($2, 11) + 0
	if (FILENAME == ARGV[2])
		dest_samples++
	else
		source_samples++
}

FILENAME == ARGV[3] && /^libvmsr: / && field("vpackage") == "0" {
	v = field("energy_status")
	if (!(v in attributed))
		attributed[v] = field("attributed_uj") + 0
}

FILENAME == ARGV[4] && /rapl_vmsr_tick / && field("socket") == "0" { pkg_uj = field("pkg_uj") + 0 }
FILENAME == ARGV[4] && /rapl_vmsr_rdmsr / && field("vcpu") == "0" &&
(field("msr") == "0x611" || field("msr") == "0xc001029b") {
	v = hex(field("value")) % 4294967296
	if (!(v in qemu_attributed))
		qemu_attributed[v] = pkg_uj
	qemu_trace = 1
}

END {
	if (qemu_trace) {
		delete attributed
		for (v in qemu_attributed)
			attributed[v] = qemu_attributed[v]
	}
	result(powercap ~ /^package-/, "powercap_zone_found", "powercap zone intel-rapl:0 is " powercap)
	result(perf == "energy-pkg", "perf_event_found", "no power/energy-pkg/ event")

	esu = unit == "none" ? 0 : rshift(hex(unit), 8) % 32
	unit_uj = 1e6
	for (i = 0; i < esu; i++)	# no 2 ^ esu: busybox's awk has no libm
		unit_uj /= 2
	found = esu && (raw_start in attributed) && (raw_end in attributed)
	raw_delta = found ? (raw_end - raw_start + 4294967296) % 4294967296 : 0
	attr = found ? attributed[raw_end] - attributed[raw_start] : 0
	nofind = esu ? sprintf("counter values %s and %s not both in the trace", raw_start, raw_end) :
		       "the guest could not read its energy unit register"

	pc_uj = pc_start == "none" || pc_end == "none" ? "none" : pc_end - pc_start
	bound = unit_uj + 2 + raw_delta / 1000
	result(found && pc_uj != "none" && pc_uj > 0 && abs(pc_uj - attr) < bound,
	       "powercap_matches_attribution",
	       found ? sprintf("powercap %s uJ, attributed %.0f uJ, bound %.0f uJ", pc_uj, attr, bound) :
		       nofind)

	result(found && perf_uj != "none" && perf_uj + 0 > 0 && abs(perf_uj - attr) < unit_uj + 1,
	       "perf_matches_attribution",
	       found ? sprintf("perf %s uJ, attributed %.0f uJ, bound %.0f uJ", perf_uj, attr,
			       unit_uj + 1) : nofind)

	tb_uj = pkgwatt * tb_sec * 1e6
	result(pkgwatt != "" && tb_sec > 0 && tb_uj > 0 && tb_uj <= raw_delta * unit_uj + 5000 * tb_sec,
	       "turbostat_pkgwatt_within_window",
	       pkgwatt == "" ? "turbostat showed no PkgWatt value" (tb_error == "" ? "" : " (" tb_error ")") :
		       sprintf("turbostat %s W x %s s = %.0f uJ, window %.0f uJ", pkgwatt, tb_sec, tb_uj,
			       raw_delta * unit_uj))

	why = ""
	migrated = migration == "completed"
	if (!migrated)
		why = "migration status: " migration
	else if (!dest_lines)
		why = "the guest printed nothing on the destination"
	else if (!source_samples || !dest_samples)
		why = sprintf("%d energy_uj values read on the source, %d on the destination",
			      source_samples, dest_samples)
	for (i = 1; i < ns && why == ""; i++)
		if (sample[i] < sample[i - 1])
			why = sprintf("energy_uj went from %d to %d (sample %d of %d, %d before migration)",
				      sample[i - 1], sample[i], i, ns, source_samples)
	if (why == "" && sample[ns - 1] <= sample[source_samples - 1])
		why = sprintf("energy_uj stayed at %d after migration", sample[ns - 1])
	result(why == "", "energy_uj_grows_across_migration", why)

	# The msr driver turns the #GP of its wrmsr into EIO.
	result(write ~ /^refused: .*(Input\/output|I\/O) error/ && source_samples > 0,
	       "guest_write_faults_and_guest_runs",
	       write !~ /^refused: .*(Input\/output|I\/O) error/ ? "the write to the package energy counter: " \
	       (write == "" ? "no result" : write) : "the guest sampled nothing after its write")

	printf "guest-linux: cpu=%s powercap_uj=%s perf_uj=%s turbostat_pkgwatt=%s attributed_uj=%s migrated=%s\n",
	       cpu, pc_uj, perf_uj, pkgwatt == "" ? "none" : pkgwatt,
	       found ? sprintf("%.0f", attr) : "none", migrated ? "yes" : "no"
}
