# SPDX-License-Identifier: GPL-2.0-only
#
# Helpers for the checkers of the nested tests (guest-multiboot/check.awk,
# guest-linux/check.awk), which read lines of "name=value" fields from the
# guests' output, QEMU's trace and libvmsr's trace. Load it first:
#   awk -f fields.awk -f CHECKER ...

# hex("0x1f") = 31: awk has no hexadecimal input.
function hex(s,    v, i) {
	s = tolower(s)
	sub(/^0x/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}

# The value of the field "name=value" of the current line, or @absent.
function field(name, absent,    i) {
	for (i = 1; i <= NF; i++)
		if (index($i, name "=") == 1)
			return substr($i, length(name) + 2)
	return absent
}
