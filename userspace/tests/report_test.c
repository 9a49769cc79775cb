// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* vmsrstat's JSON numbers: every double, NaN and infinities included, is valid JSON. */
#define _GNU_SOURCE
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kselftest_harness.h"
#include "report.h"

TEST(json_numbers_parse_for_every_double)
{
	static const double values[] = {
		0, -0.0, 1, -1, 1e-300, DBL_MIN / 2, DBL_MAX, -DBL_MAX, 123.456789, NAN, -NAN,
		INFINITY, -INFINITY,
	};
	char path[] = "/tmp/report_test.XXXXXX", cmd[512];
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");

	ASSERT_NE(NULL, f);
	for (unsigned int i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		fputs("{\"v\":", f);
		report_json_number(f, values[i]);
		fputs("}\n", f);
	}
	fclose(f);
	/* A strict parser: NaN and Infinity, which Python would accept, are refused. */
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json, sys\n"
		 "def bad(c): sys.exit(\"not JSON: \" + c)\n"
		 "for line in open(sys.argv[1]): json.loads(line, parse_constant=bad)' %s", path);
	EXPECT_EQ(0, system(cmd));
	unlink(path);
}

TEST_HARNESS_MAIN
