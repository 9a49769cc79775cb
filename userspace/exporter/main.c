// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr_exporter: host and per-VM energy from /dev/vmsr, for Prometheus.
 * Needs no root: membership of group kvm opens /dev/vmsr, and everything
 * it reads in /proc is readable by any user (see vmsr_exporter(1)).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "collector.h"
#include "http.h"

#ifndef VMSR_VERSION
#define VMSR_VERSION "unknown"
#endif

#define DEFAULT_LISTEN	":9863"
#define DEFAULT_PATH	"/metrics"
#define DEFAULT_INTERVAL "1s"
#define DEFAULT_RETENTION "5m"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmsr_exporter [OPTION]...\n"
		"\n"
		"Exports the host's RAPL energy and each QEMU VM's share of it, from\n"
		"/dev/vmsr, in the Prometheus text format and OpenMetrics.\n"
		"\n"
		"  --web.listen-address=ADDR   where to listen: HOST:PORT, [IPv6]:PORT or :PORT\n"
		"                              (default " DEFAULT_LISTEN ")\n"
		"  --web.telemetry-path=PATH   the metrics' URL path (default " DEFAULT_PATH ")\n"
		"  --sampling.interval=TIME    time between samples, independent of scrapes\n"
		"                              (default " DEFAULT_INTERVAL ", 10ms .. 60s)\n"
		"  --vm.retention=TIME         how long an exited VM's counters stay\n"
		"                              (default " DEFAULT_RETENTION ")\n"
		"  --device=PATH               the vmsr device (default /dev/vmsr)\n"
		"  -h, --help                  this text\n"
		"  --version                   the version\n"
		"\n"
		"TIME is a number with a unit: ms, s, m or h (\"500ms\", \"1s\", \"5m\").\n"
		"Reading /dev/vmsr needs membership of group kvm; see vmsr_exporter(1).\n");
}

/* "500ms", "1s", "5m", "1h": seconds, or NAN. */
static double parse_duration(const char *text)
{
	static const struct { const char *unit; double s; } units[] = {
		{ "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
	};
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || v < 0 || !isfinite(v))
		return NAN;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return v * units[i].s;
	return NAN;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

enum { OPT_LISTEN = 256, OPT_PATH, OPT_INTERVAL, OPT_RETENTION, OPT_DEVICE, OPT_VERSION };

/*
 * Each running VM's /proc/PID/stat stays open (vms.h): the soft limit on
 * open files goes up to the hard one, as systemd advises for programs that
 * use no select() (libmicrohttpd runs on epoll here). systemd's defaults
 * are 1024 and 524288. The packaged unit forbids setrlimit() and sets
 * LimitNOFILE itself.
 */
static void raise_open_files_limit(void)
{
	struct rlimit lim;

	if (!getrlimit(RLIMIT_NOFILE, &lim) && lim.rlim_cur < lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &lim);
	}
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "web.listen-address", required_argument, NULL, OPT_LISTEN },
		{ "web.telemetry-path", required_argument, NULL, OPT_PATH },
		{ "sampling.interval", required_argument, NULL, OPT_INTERVAL },
		{ "vm.retention", required_argument, NULL, OPT_RETENTION },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 }
	};
	const char *listen = DEFAULT_LISTEN, *path = DEFAULT_PATH;
	double interval = parse_duration(DEFAULT_INTERVAL);
	double retention = parse_duration(DEFAULT_RETENTION);
	struct collector_config cfg = { 0 };
	struct sockaddr_storage addr;
	struct http_server *http;
	struct collector c;
	struct sigaction sa = { .sa_handler = on_signal };
	socklen_t addr_len;
	sigset_t set, old;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_PATH:
			path = optarg;
			if (path[0] != '/') {
				fprintf(stderr, "vmsr_exporter: --web.telemetry-path must start with '/': %s\n",
					path);
				return 2;
			}
			break;
		case OPT_INTERVAL:
			interval = parse_duration(optarg);
			if (!(interval >= 0.01 && interval <= 60)) {
				fprintf(stderr, "vmsr_exporter: --sampling.interval must be a time from 10ms to 60s, like \"1s\": %s\n",
					optarg);
				return 2;
			}
			break;
		case OPT_RETENTION:
			retention = parse_duration(optarg);
			if (isnan(retention)) {
				fprintf(stderr, "vmsr_exporter: --vm.retention must be a time, like \"5m\": %s\n",
					optarg);
				return 2;
			}
			break;
		case OPT_DEVICE:
			cfg.device = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("vmsr_exporter %s\n", VMSR_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'vmsr_exporter --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vmsr_exporter: unexpected argument: %s\nTry 'vmsr_exporter --help'.\n",
			argv[optind]);
		return 2;
	}
	if (http_parse_listen_address(listen, &addr, &addr_len)) {
		fprintf(stderr, "vmsr_exporter: --web.listen-address must be HOST:PORT, [IPv6]:PORT or :PORT with a numeric host: %s\n",
			listen);
		return 2;
	}

	/* Signals wait for sigsuspend() in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	raise_open_files_limit();
	cfg.interval_ms = (uint32_t)(interval * 1000 + 0.5);
	cfg.retention_s = retention;
	ret = collector_start(&c, &cfg);
	if (ret) {
		fprintf(stderr, "vmsr_exporter: cannot start the sampler: %s\n", strerror(-ret));
		return 1;
	}
	ret = http_start(&http, &addr, path, &c);
	if (ret) {
		fprintf(stderr, "vmsr_exporter: cannot listen on %s: %s\n", listen, strerror(-ret));
		collector_stop(&c);
		return 1;
	}
	fprintf(stderr, "vmsr_exporter %s: listening on %s, metrics at %s\n", VMSR_VERSION,
		listen, path);
	while (!stop)
		sigsuspend(&old);
	http_stop(http);
	collector_stop(&c);
	return 0;
}
