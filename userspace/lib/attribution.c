// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The sampler's policy, applied to what the attribution core (account.c)
 * charged each thread in the step just taken:
 *
 *   1. each vCPU's own CPU time and energy
 *   2. non-vCPU energy spread over the vCPUs on the same host package, or
 *      over all vCPUs if none is there
 *   3. vCPU energy summed into its virtual package, which is published
 *
 * Per-tick quantities live in s->pkg_ticks[], zeroed first, and in the
 * threads' step fields, which the core overwrites, so nothing carries over
 * from one tick into the next.
 */
#include <string.h>

#include "sampler.h"

static void spread_non_vcpu(struct vmsr_sampler *s, double extra[][VMSR_NR_DOMAINS])
{
	const struct vmsr_registry *r = &s->reg;
	uint32_t nr_vcpus = 0, i;
	double orphan[VMSR_NR_DOMAINS] = { 0 };

	memset(s->pkg_ticks, 0, s->acct.host.info.nr_packages * sizeof(*s->pkg_ticks));
	for (i = 0; i < r->nr; i++) {
		const struct vmsr_thread *t = &r->threads[i];

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		nr_vcpus++;
		if (t->package != VMSR_NO_PACKAGE)
			s->pkg_ticks[t->package].nr_vcpus++;
	}
	for (i = 0; i < r->nr; i++) {
		const struct vmsr_thread *t = &r->threads[i];
		struct vmsr_pkg_tick *pt;

		if (t->vcpu != VMSR_NO_VCPU || t->package == VMSR_NO_PACKAGE)
			continue;
		pt = &s->pkg_ticks[t->package];
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			if (pt->nr_vcpus)
				pt->per_vcpu[d] += t->step_joules[d] / pt->nr_vcpus;
			else
				orphan[d] += t->step_joules[d];
		}
	}
	for (i = 0; nr_vcpus && i < r->nr; i++) {
		const struct vmsr_thread *t = &r->threads[i];

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			extra[i][d] = orphan[d] / nr_vcpus;
			if (t->package != VMSR_NO_PACKAGE)
				extra[i][d] += s->pkg_ticks[t->package].per_vcpu[d];
		}
	}
}

static void trace_tick(struct vmsr_sampler *s, uint64_t end_ns)
{
	for (uint32_t p = 0; p < s->cfg.nr_vpackages; p++) {
		const struct vmsr_vpackage *vp = &s->vpkgs[p];

		fprintf(s->trace,
			"libvmsr: end_ns=%llu interval_ns=%llu vpackage=%u vcpus=%u attributed_uj=%.0f host_uj=%.0f energy_status=%llu\n",
			(unsigned long long)end_ns, (unsigned long long)s->acct.interval_ns, p,
			vp->nr_vcpus, vp->joules[VMSR_DOMAIN_PKG] * 1e6,
			vp->host_joules[VMSR_DOMAIN_PKG] * 1e6,
			(unsigned long long)atomic_load(&vp->vreg[VREG_PKG_ENERGY]));
	}
	fflush(s->trace);
}

void vmsr_attribute_vcpus(struct vmsr_sampler *s)
{
	const struct vmsr_account *a = &s->acct;
	struct vmsr_registry *r = &s->reg;
	double host_joules[VMSR_NR_DOMAINS] = { 0 };
	double (*extra)[VMSR_NR_DOMAINS] = s->spread;
	uint32_t i;

	for (i = 0; i < r->nr; i++) {
		const struct vmsr_thread *t = &r->threads[i];
		struct vmsr_vcpu *v;

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		v = &s->vcpus[t->vcpu];
		v->host_package = t->package;
		v->last_cpu_ns = t->step_cpu_ns;
		v->last_interval_ns = a->interval_ns;
		v->cpu_ns += t->step_cpu_ns;
	}
	if (!a->interval_ns)
		return;

	memset(extra, 0, r->nr * sizeof(*extra));
	spread_non_vcpu(s, extra);
	for (i = 0; i < r->nr; i++) {
		const struct vmsr_thread *t = &r->threads[i];
		struct vmsr_vcpu *v;

		if (t->vcpu == VMSR_NO_VCPU)
			continue;
		v = &s->vcpus[t->vcpu];
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			double j = t->step_joules[d] + extra[i][d];

			v->joules[d] += j;
			s->vpkgs[v->vpackage].joules[d] += j;
		}
	}
	for (uint32_t p = 0; p < a->host.info.nr_packages; p++)
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			host_joules[d] += a->pkgs[p].joules[d];
	for (uint32_t p = 0; p < s->cfg.nr_vpackages; p++) {
		struct vmsr_vpackage *vp = &s->vpkgs[p];

		vp->ticks++;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			vp->host_joules[d] += host_joules[d];
		vmsr_vregs_publish(s, p);
	}
	if (s->trace)
		trace_tick(s, a->prev_end_ns);
}
