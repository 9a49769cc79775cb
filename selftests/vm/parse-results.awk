# SPDX-License-Identifier: GPL-2.0-only
#
# Turns the framed output of init.sh (the VM's ttyS1) into one line per
# result, "PASS|FAIL|SKIP LABEL/NAME [detail]", and a last line
# "COUNTS passed failed skipped". Set LABEL with -v label=...
#
# Blocks: TAP from kselftest programs, KTAP from KUnit (subtests count),
# kmemleak's report, and kernel logs ("dmesg", and "PHASE/dmesg" after a
# phase), which are scanned for splats.
#
# A test's "SUMMARY name: k=v ..." line is printed as "name: k=v ..." once
# the kernel log of its phase has been scanned, with "splats=?" replaced by
# the number of splat lines found there.

function result(kind, name, detail) {
	printf "%s %s/%s%s\n", kind, label, name, detail == "" ? "" : " " detail
	if (kind == "PASS") passed++
	else if (kind == "FAIL") failed++
	else skipped++
}

# The serial port turns each newline into CR LF.
{ sub(/\r$/, "") }

/^### begin / { block = $3; fails_in_block = 0; tests_in_block = 0; leaks = 0; splats = 0; next }

/^### end / {
	rc = $4; sub(/^rc=/, "", rc)
	if (block ~ /(^|\/)dmesg$/) {
		if (splats) result("FAIL", block, splats " kernel splat line(s)")
		else result("PASS", block, "no BUG/WARNING/KASAN/UBSAN/lockdep reports")
		for (i = 0; i < nr_summaries; i++) {
			sub(/splats=\?/, "splats=" splats, summary[i])
			print summary[i]
		}
		nr_summaries = 0
	} else if (block == "kmemleak") {
		end_object()
		if (leaks) result("FAIL", "kmemleak", leaks " unreferenced object(s)")
		else result("PASS", "kmemleak", "no leaks" (boot_objects ? \
			    " (" boot_objects " from boot ignored)" : ""))
	} else if (tests_in_block == 0) {
		result("FAIL", block, "ran no test (rc=" rc ")")
	} else if (rc != 0 && fails_in_block == 0) {
		result("FAIL", block, "exited with rc=" rc)
	}
	ended[block] = 1
	block = ""
	next
}

/^### load-failed / { result("FAIL", "load", $3); next }
/^### unload-failed / { result("FAIL", "unload", $3); next }
/^### done/ { done = 1; next }

block ~ /(^|\/)dmesg$/ {
	if ($0 ~ /BUG:|WARNING:|cut here|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|Call Trace:|Oops|general protection fault|sleeping function called from invalid context|hung_task|blocked for more than/) {
		splats++
		print "  dmesg: " $0
	}
	next
}

# An object allocated under start_kernel() predates userspace and every
# module (the 6.1 kernel leaks ACPI caches that way under TCG): listed, not
# counted. Every other unreferenced object is a leak. (pid 0 would not do:
# an IPI or softirq on an idle CPU allocates as pid 0 too.)
function end_object() {
	if (in_object) {
		if (boot_time) boot_objects++
		else leaks++
	}
	in_object = 0
}

block == "kmemleak" {
	if ($0 ~ /unreferenced object/) {
		end_object()
		in_object = 1
		boot_time = 0
	}
	if ($0 ~ /start_kernel\+/) boot_time = 1
	print "  kmemleak: " $0
	next
}

block == "kunit" && /^[ \t]+(not )?ok [0-9]+ / {
	line = $0; sub(/^[ \t]+/, "", line)
	tests_in_block++
	split(line, w, " ")
	if (line ~ /^not ok/) { fails_in_block++; result("FAIL", "kunit." w[4]) }
	else if (line ~ /# SKIP/) result("SKIP", "kunit." w[3])
	else result("PASS", "kunit." w[3])
	next
}

# The suite's own line only counts if it failed without a failing case.
block == "kunit" && /^(not )?ok [0-9]+ / {
	if ($0 ~ /^not ok/ && fails_in_block == 0) result("FAIL", "kunit.suite")
	next
}

# A phase's summary waits for the phase's kernel log: see init.sh's phase().
block != "" && /SUMMARY / { line = $0; sub(/.*SUMMARY /, "", line); summary[nr_summaries++] = line; next }

# Summary lines for scripts, "topic: key=value ...": passed on as they are.
block != "" && /^[a-z][a-z0-9-]*: [a-z][a-z0-9_]*=/ { print; next }

# Figures the tests print for the record: TH_LOG("REPORT ...").
block != "" && /REPORT / { line = $0; sub(/.*REPORT /, "", line); print "  " block ": " line; next }

# Both harness generations announce each test; 6.1 leaves the name off SKIP lines.
block != "" && /^# +RUN +/ { current = $3 }

block != "" && /^(not )?ok [0-9]+ / {
	tests_in_block++
	line = $0; sub(/^(not )?ok [0-9]+ */, "", line)
	name = line; sub(/ *#.*/, "", name)
	if (name == "") name = current
	if ($0 ~ /^not ok/) {
		fails_in_block++
		result("FAIL", block "." name)
	} else if ($0 ~ /# SKIP/) {
		reason = $0; sub(/.*# SKIP */, "", reason)
		result("SKIP", block "." name, "(" reason ")")
	} else {
		result("PASS", block "." name)
	}
	next
}

# Show the selftests' own diagnostics for failed cases.
block != "" && /^# .*(Expected|FAIL|TH_LOG|\.c:[0-9]+)/ { print "  " $0 }

END {
	if (block != "") result("FAIL", block, "never finished: crashed or hung")
	if (!done) result("FAIL", "vm", "did not reach the end of /init")
	printf "COUNTS %d %d %d\n", passed, failed, skipped
}
