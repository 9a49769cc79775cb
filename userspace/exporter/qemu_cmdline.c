// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* VMs and their identity from QEMU's command line; see qemu_cmdline.h. */
#include <ctype.h>
#include <string.h>

#include "qemu_cmdline.h"

bool qemu_is_vmm(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base ? base + 1 : argv0;
	return !strncmp(base, "qemu-system-", strlen("qemu-system-")) ||
		!strcmp(base, "qemu-kvm") || !strcmp(base, "kvm");
}

bool qemu_parse_uuid(const char *value, char out[QEMU_UUID_LEN + 1])
{
	static const char layout[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(value) != QEMU_UUID_LEN)
		return false;
	for (int i = 0; i < QEMU_UUID_LEN; i++) {
		if (layout[i] == '-' ? value[i] != '-' : !isxdigit((unsigned char)value[i]))
			return false;
		out[i] = tolower((unsigned char)value[i]);
	}
	out[QEMU_UUID_LEN] = '\0';
	return true;
}

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are invalid. */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Copies @n bytes at @s to @out (@size bytes with the NUL), invalid UTF-8
 * as '?', cut at a character boundary. Returns false if any byte was invalid.
 */
static bool copy_utf8(const char *s, size_t n, char *out, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;
	bool valid = true;

	while (i < n) {
		size_t len = utf8_char(u + i, n - i);

		if (!len) {
			valid = false;
			if (o + 1 >= size)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= size)
			break;
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return valid;
}

bool qemu_decode_name(const char *value, char *out, size_t size)
{
	/*
	 * QEMU's option syntax: elements separated by ",", each "key=value",
	 * where ",," in a value is a literal comma. The key ends at the first
	 * "=" or ","; if a "," or the end comes first, the first element is the
	 * value of the implied key "guest".
	 */
	char decoded[4 * QEMU_NAME_MAX];
	const char *p = value;
	bool found = false, first = true;

	out[0] = '\0';
	do {
		size_t key_len = strcspn(p, "=,"), n = 0;
		bool is_guest;

		if (p[key_len] == '=') {
			is_guest = key_len == 5 && !memcmp(p, "guest", 5);
			p += key_len + 1;
		} else {
			is_guest = first;
		}
		/* The value, decoded, up to an undoubled comma. */
		while (*p && !(*p == ',' && p[1] != ',')) {
			if (n < sizeof(decoded) - 1)
				decoded[n++] = *p;
			p += *p == ',' ? 2 : 1;
		}
		if (*p == ',')
			p++;
		if (is_guest) {
			found = copy_utf8(decoded, n, out, size);
			if (!found)
				return false;
		}
		first = false;
	} while (*p);
	return found;
}

bool qemu_parse_cmdline(const char *cmdline, size_t len, struct qemu_vm_id *id)
{
	const char *end = cmdline + len, *arg = cmdline;

	memset(id, 0, sizeof(*id));
	/* /proc gives NUL-terminated arguments; a last one without is cut off. */
	if (!len || !memchr(cmdline, '\0', len) || !qemu_is_vmm(cmdline))
		return false;

	while (arg < end) {
		const char *next = memchr(arg, '\0', end - arg);
		const char *opt = arg;

		if (!next)
			break;
		next++;
		if (opt[0] == '-' && opt[1] == '-')
			opt++;
		if (!strcmp(opt, "-uuid") || !strcmp(opt, "-name")) {
			const char *val = next;

			if (val >= end || !memchr(val, '\0', end - val)) {
				id->problems |= opt[1] == 'u' ? QEMU_ID_BAD_UUID : QEMU_ID_BAD_NAME;
				break;
			}
			if (opt[1] == 'u') {
				id->problems &= ~QEMU_ID_BAD_UUID;
				if (!qemu_parse_uuid(val, id->uuid)) {
					id->uuid[0] = '\0';
					id->problems |= QEMU_ID_BAD_UUID;
				}
			} else {
				id->problems &= ~QEMU_ID_BAD_NAME;
				if (!qemu_decode_name(val, id->name, sizeof(id->name)))
					id->problems |= QEMU_ID_BAD_NAME;
			}
			next = val + strlen(val) + 1;
		}
		arg = next;
	}
	return true;
}
