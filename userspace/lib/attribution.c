// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Attribution: from two snapshots to energy per vCPU and virtual package.
 * The rules are stated in libvmsr.h; this file applies them in order:
 *
 *   1. energy per host package and domain since the previous snapshot
 *   2. each thread's share of its host package, and the energy it buys
 *   3. non-vCPU energy spread over the vCPUs on the same host package
 *   4. vCPU energy summed into its virtual package
 *
 * Every per-tick quantity lives in this call's locals or in the thread
 * entries' per-tick fields, which step 2 overwrites, so nothing carries over
 * from one tick into the next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sampler.h"

/* Package energy since @prev, per domain, in joules; 0 where unreadable. */
static void package_delta(const struct vmsr_sampler *s, const struct vmsr_pkg_sample *prev,
			  const struct vmsr_pkg_sample *now, double *joules)
{
	for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
		joules[d] = 0;
		if (!(s->domains & VMSR_DOMAIN_BIT(d)) || prev->result[d] || now->result[d])
			continue;
		/* Unsigned 32-bit subtraction undoes one wrap of the counter. */
		joules[d] = (uint32_t)(now->energy[d] - prev->energy[d]) * s->joules_per_step;
	}
}

/* Share of package @pkg's capacity that @cpu_ns over @interval_ns is. */
static double capacity_share(const struct vmsr_sampler *s, uint32_t pkg, uint64_t cpu_ns,
			     uint64_t interval_ns)
{
	double share = (double)cpu_ns / ((double)s->cpus_in_pkg[pkg] * (double)interval_ns);

	return share > 1 ? 1 : share;
}

/*
 * Step 2 for one thread, over @interval_ns (0 on the first snapshot).
 * Returns false if the thread is gone for good.
 */
static bool charge_thread(struct vmsr_sampler *s, struct vmsr_thread *t,
			  const struct vmsr_task_sample *ts, const double *pkg_joules,
			  uint64_t interval_ns)
{
	uint64_t cpu_ns = 0;
	bool counts;

	memset(t->joules, 0, sizeof(t->joules));
	t->package = VMSR_NO_PACKAGE;
	if (ts->result)		/* reaped, or no longer ours to read */
		return false;

	/* No interval yet, or a TID reused by a younger thread: baseline only. */
	counts = interval_ns && t->has_baseline && ts->cpu_ns >= t->prev_cpu_ns;
	if (counts)
		cpu_ns = ts->cpu_ns - t->prev_cpu_ns;
	t->prev_cpu_ns = ts->cpu_ns;
	t->has_baseline = true;

	if (t->vcpu != VMSR_NO_VCPU) {
		struct vmsr_vcpu *v = &s->vcpus[t->vcpu];

		v->host_package = ts->package;
		v->last_cpu_ns = cpu_ns;
		v->last_interval_ns = interval_ns;
		v->cpu_ns += cpu_ns;
	}
	if (counts && ts->package < s->host.info.nr_packages && s->cpus_in_pkg[ts->package]) {
		double share = capacity_share(s, ts->package, cpu_ns, interval_ns);

		t->package = ts->package;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			t->joules[d] = share * pkg_joules[ts->package * VMSR_NR_DOMAINS + d];
	}
	/* A zombie's times are final: count them, then forget the thread. */
	return !(ts->flags & VMSR_TASK_F_EXITED);
}

/*
 * Step 3: the energy of the non-vCPU threads on each host package, spread
 * evenly over the vCPUs on that package, or over all vCPUs if none is.
 */
static void spread_non_vcpu(struct vmsr_sampler *s, uint32_t nr_pkgs, uint32_t *vcpus_on_pkg,
			    double *extra)
{
	uint32_t nr_vcpus = 0;
	double orphan[VMSR_NR_DOMAINS] = { 0 };

	memset(vcpus_on_pkg, 0, nr_pkgs * sizeof(*vcpus_on_pkg));
	memset(extra, 0, nr_pkgs * VMSR_NR_DOMAINS * sizeof(*extra));
	for (uint32_t i = 0; i < s->nr_threads; i++) {
		struct vmsr_thread *t = &s->threads[i];

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		nr_vcpus++;
		if (t->package != VMSR_NO_PACKAGE)
			vcpus_on_pkg[t->package]++;
	}
	for (uint32_t i = 0; i < s->nr_threads; i++) {
		struct vmsr_thread *t = &s->threads[i];

		if (t->vcpu != VMSR_NO_VCPU || t->package == VMSR_NO_PACKAGE)
			continue;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			if (vcpus_on_pkg[t->package])
				extra[t->package * VMSR_NR_DOMAINS + d] +=
					t->joules[d] / vcpus_on_pkg[t->package];
			else
				orphan[d] += t->joules[d];
		}
	}
	if (!nr_vcpus)
		return;
	for (uint32_t i = 0; i < s->nr_threads; i++) {
		struct vmsr_thread *t = &s->threads[i];

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			t->joules[d] += orphan[d] / nr_vcpus;
			if (t->package != VMSR_NO_PACKAGE)
				t->joules[d] += extra[t->package * VMSR_NR_DOMAINS + d];
		}
	}
}

/* Step 4, and the per-vCPU totals. */
static void sum_into_vpackages(struct vmsr_sampler *s, const double *host_joules)
{
	for (uint32_t i = 0; i < s->nr_threads; i++) {
		struct vmsr_thread *t = &s->threads[i];
		struct vmsr_vcpu *v;

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		v = &s->vcpus[t->vcpu];
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			v->joules[d] += t->joules[d];
			s->vpkgs[v->vpackage].joules[d] += t->joules[d];
		}
	}
	for (uint32_t p = 0; p < s->cfg.nr_vpackages; p++) {
		struct vmsr_vpackage *vp = &s->vpkgs[p];

		vp->ticks++;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			vp->host_joules[d] += host_joules[d];
		vmsr_vregs_publish(s, p);
	}
}

static bool counters_refreshed(const struct vmsr_sampler *s, const struct vmsr_snapshot *snap)
{
	for (uint32_t p = 0; p < snap->nr_pkgs; p++)
		if (snap->pkgs[p].read_ns == s->prev_pkgs[p].read_ns)
			return false;
	return true;
}

static void trace_tick(struct vmsr_sampler *s, const struct vmsr_snapshot *snap,
		       uint64_t interval_ns)
{
	for (uint32_t p = 0; p < s->cfg.nr_vpackages; p++) {
		const struct vmsr_vpackage *vp = &s->vpkgs[p];

		fprintf(s->trace,
			"libvmsr: end_ns=%llu interval_ns=%llu vpackage=%u vcpus=%u attributed_uj=%.0f host_uj=%.0f energy_status=%llu\n",
			(unsigned long long)snap->end_ns, (unsigned long long)interval_ns, p,
			vp->nr_vcpus, vp->joules[VMSR_DOMAIN_PKG] * 1e6,
			vp->host_joules[VMSR_DOMAIN_PKG] * 1e6,
			(unsigned long long)atomic_load(&vp->vreg[VREG_PKG_ENERGY]));
	}
	fflush(s->trace);
}

/*
 * Consumes @snap, whose tasks[] parallel s->threads[]. Returns 0, or
 * -EAGAIN if a package's counters were not refreshed since the previous
 * snapshot, in which case nothing changes.
 */
int vmsr_attribute(struct vmsr_sampler *s, const struct vmsr_snapshot *snap)
{
	uint32_t nr_pkgs = snap->nr_pkgs;
	size_t pkg_cells = (size_t)nr_pkgs * VMSR_NR_DOMAINS;
	double host_joules[VMSR_NR_DOMAINS] = { 0 };
	uint64_t interval_ns = 0;
	double *pkg_joules, *extra;
	uint32_t *vcpus_on_pkg;
	uint32_t i;

	if (s->has_prev && !counters_refreshed(s, snap))
		return -EAGAIN;

	pkg_joules = calloc(pkg_cells, sizeof(*pkg_joules));
	extra = calloc(pkg_cells, sizeof(*extra));
	vcpus_on_pkg = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*vcpus_on_pkg));
	if (!pkg_joules || !extra || !vcpus_on_pkg) {
		free(pkg_joules);
		free(extra);
		free(vcpus_on_pkg);
		return -ENOMEM;
	}

	if (s->has_prev) {
		interval_ns = snap->end_ns - s->prev_end_ns;
		for (uint32_t p = 0; p < nr_pkgs; p++) {
			package_delta(s, &s->prev_pkgs[p], &snap->pkgs[p],
				      &pkg_joules[p * VMSR_NR_DOMAINS]);
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				host_joules[d] += pkg_joules[p * VMSR_NR_DOMAINS + d];
		}
	}

	/* Step 2; a thread that is gone is dropped after the energy is summed. */
	for (i = 0; i < s->nr_threads; i++)
		s->threads[i].drop = !charge_thread(s, &s->threads[i], &snap->tasks[i],
						    pkg_joules, interval_ns);
	if (interval_ns) {
		spread_non_vcpu(s, nr_pkgs, vcpus_on_pkg, extra);
		sum_into_vpackages(s, host_joules);
		if (s->trace)
			trace_tick(s, snap, interval_ns);
	}

	for (i = s->nr_threads; i-- > 0;)
		if (s->threads[i].drop)
			vmsr_drop_thread(s, &s->threads[i]);

	memcpy(s->prev_pkgs, snap->pkgs, nr_pkgs * sizeof(*snap->pkgs));
	s->prev_end_ns = snap->end_ns;
	s->has_prev = true;
	free(pkg_joules);
	free(extra);
	free(vcpus_on_pkg);
	return 0;
}
