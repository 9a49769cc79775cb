// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The metrics a scrape returns, rendered from the collector's totals. The
 * names follow Prometheus's rules: base units, counters ending in _total,
 * metadata in an _info metric. docs/exporter.md describes each one.
 */
#include <stdio.h>

#include "collector.h"

#ifndef VMSR_VERSION
#define VMSR_VERSION "unknown"
#endif

static const char *const domain_names[VMSR_NR_DOMAINS] = {
	[VMSR_DOMAIN_PKG] = "package",
	[VMSR_DOMAIN_DRAM] = "dram",
	[VMSR_DOMAIN_CORE] = "core",
	[VMSR_DOMAIN_UNCORE] = "uncore",
	[VMSR_DOMAIN_PSYS] = "psys",
};

static const char *const error_names[NR_COLLECT_ERRORS] = {
	[ERR_DEVICE_OPEN] = "device_open",
	[ERR_SAMPLE] = "sample",
	[ERR_PROC] = "proc_read",
	[ERR_VM_IDENTITY] = "vm_cmdline",
};

static bool has_domain(const struct collector *c, int d)
{
	return c->have_energy && domain_names[d] && (c->info.domains & VMSR_DOMAIN_BIT(d));
}

static const char *identity_problem(unsigned int problems)
{
	if (problems & QEMU_ID_NO_CMDLINE)
		return "no_cmdline";
	if (problems & QEMU_ID_BAD_UUID)
		return "bad_uuid";
	if (problems & QEMU_ID_BAD_NAME)
		return "bad_name";
	return "";
}

static void render_status(struct collector *c, struct expo *e)
{
	char interval[32];

	expo_family(e, "vmsr_build", EXPO_INFO, NULL,
		    "Version of vmsr_exporter and the /dev/vmsr ABI it speaks.");
	snprintf(interval, sizeof(interval), "%d", VMSR_ABI_VERSION);
	expo_sample(e, 1, "version", VMSR_VERSION, "abi_version", interval, NULL);

	expo_family(e, "vmsr_up", EXPO_GAUGE, NULL,
		    "1 if /dev/vmsr was opened and the host has RAPL energy counters, else 0; vmsr_device_status says why.");
	expo_sample(e, c->status == DEVICE_OK, NULL);

	expo_family(e, "vmsr_device_status", EXPO_GAUGE, NULL,
		    "1 for the state /dev/vmsr is in: ok, missing (module not loaded), denied (not in group kvm), no_rapl, error.");
	for (int s = 0; s < NR_DEVICE_STATUS; s++)
		expo_sample(e, c->status == (enum device_status)s, "status",
			    device_status_name(s), NULL);

	expo_family(e, "vmsr_sampling_interval_seconds", EXPO_GAUGE, "seconds",
		    "Time between two samples of the background sampler, independent of scrapes.");
	expo_sample(e, c->cfg.interval_ms / 1000.0, NULL);

	expo_family(e, "vmsr_samples", EXPO_COUNTER, NULL,
		    "Samples that were attributed.");
	expo_sample(e, c->samples, NULL);

	expo_family(e, "vmsr_scrape_errors", EXPO_COUNTER, NULL,
		    "Errors while collecting, by cause: device_open, sample, proc_read, vm_cmdline (a VM exported by pid because its command line could not be parsed).");
	for (int i = 0; i < NR_COLLECT_ERRORS; i++)
		expo_sample(e, c->errors[i], "cause", error_names[i], NULL);
}

static void render_packages(struct collector *c, struct expo *e)
{
	static const char *const consumers[] = { "vms", "other", "idle" };

	if (!c->have_energy)
		return;
	expo_family(e, "vmsr_package_energy_joules", EXPO_COUNTER, "joules",
		    "Energy of each RAPL instance (a package, or a die where RAPL counts per die: then a die label too) and RAPL domain since the exporter started, corrected for counter wraps.");
	for (uint32_t p = 0; p < c->info.nr_packages; p++) {
		const struct instance_label *l = &c->labels[p];

		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			if (has_domain(c, d))
				expo_sample(e, c->split.totals[p].energy[d], "package",
					    l->package, "die", *l->die ? l->die : NULL, "domain",
					    domain_names[d], NULL);
	}

	expo_family(e, "vmsr_package_consumer_energy_joules", EXPO_COUNTER, "joules",
		    "The package energy split by consumer: vms (the VMs' CPU time share), other (other processes' and the kernel's busy time), idle (the rest); the three add up to vmsr_package_energy_joules_total.");
	for (uint32_t p = 0; p < c->info.nr_packages; p++) {
		const struct pkg_totals *t = &c->split.totals[p];
		const double *by[] = { t->vms, t->other, t->idle };
		const struct instance_label *l = &c->labels[p];

		for (int k = 0; k < 3; k++)
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				if (has_domain(c, d))
					expo_sample(e, by[k][d], "package", l->package, "die",
						    *l->die ? l->die : NULL, "domain",
						    domain_names[d], "consumer", consumers[k], NULL);
	}
}

static void render_vms(struct collector *c, struct expo *e)
{
	const struct vm_set *set = &c->vms;

	expo_family(e, "vmsr_vms", EXPO_GAUGE, NULL, "QEMU processes running now.");
	expo_sample(e, vms_running(set), NULL);
	expo_family(e, "vmsr_vms_started", EXPO_COUNTER, NULL,
		    "QEMU processes found since the exporter started.");
	expo_sample(e, set->vms_found, NULL);
	expo_family(e, "vmsr_vms_exited", EXPO_COUNTER, NULL,
		    "QEMU processes that exited since the exporter started.");
	expo_sample(e, set->vms_gone, NULL);
	expo_family(e, "vmsr_vm_retention_seconds", EXPO_GAUGE, "seconds",
		    "How long the counters of a VM that exited are still exported.");
	expo_sample(e, c->cfg.retention_s, NULL);

	expo_family(e, "vmsr_vm", EXPO_INFO, NULL,
		    "One per QEMU process: its -uuid, its -name guest name, its pid, whether it runs, and why its identity is incomplete (problem=no_cmdline, bad_uuid or bad_name).");
	for (uint32_t i = 0; i < set->nr_vms; i++) {
		const struct vm *vm = &set->vms[i];

		expo_sample(e, 1, "uuid", vm->id.uuid, "name", vm->id.name, "pid", vm->pid_label,
			    "running", vm->gone_at ? "0" : "1", "problem",
			    identity_problem(vm->id.problems), NULL);
	}

	expo_family(e, "vmsr_vm_cpu_seconds", EXPO_COUNTER, "seconds",
		    "CPU time of all threads of the QEMU process since it was found.");
	for (uint32_t i = 0; i < set->nr_vms; i++) {
		const struct vm *vm = &set->vms[i];

		expo_sample(e, vm->cpu_seconds, "uuid", vm->id.uuid, "name", vm->id.name, "pid",
			    vm->pid_label, NULL);
	}

	if (!c->have_energy)
		return;
	expo_family(e, "vmsr_vm_energy_joules", EXPO_COUNTER, "joules",
		    "Energy attributed to the QEMU process since it was found: each thread's share of its package's CPU capacity times the package's energy.");
	for (uint32_t i = 0; i < set->nr_vms; i++) {
		const struct vm *vm = &set->vms[i];

		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			if (has_domain(c, d))
				expo_sample(e, vm->joules[d], "uuid", vm->id.uuid, "name",
					    vm->id.name, "pid", vm->pid_label, "domain",
					    domain_names[d], NULL);
	}
}

void collector_render(struct collector *c, struct expo *e)
{
	pthread_mutex_lock(&c->lock);
	render_status(c, e);
	render_packages(c, e);
	render_vms(c, e);
	pthread_mutex_unlock(&c->lock);
	expo_finish(e);
}
