// SPDX-License-Identifier: GPL-2.0
/* make model (its TCP part), make differential: a model of what the kernel
 * holds for BPF TCP congestion control links, run over a trace that
 * differential/tcp_trace.c printed. The trace names every operation with
 * its arguments and prints what it returned and the state after it; the
 * model predicts both from its own account of the kernel: the state of
 * each map of the tcp_ca_update object (initial, ready, registered the
 * legacy way, deleted), the kernel links and who holds them (libbpf's
 * links, fds, fds by id, pins), the registered list in its order, each
 * algorithm's TCP_CONG_NON_RESTRICTED flag (kept in the map's value
 * across registrations), init_net's default and that of the namespace the
 * trace keeps, and which BPF ->init() a connection runs. The first line
 * that differs from the prediction is a mismatch: the model prints the
 * seed, the operation, both lines and the trace before it, and exits 1.
 *
 * The contract is 6.12's with upstream/6.12/'s fixes, which the series
 * re-implements: the model must hold for the trace of either kernel.
 *
 * Usage: tcp_model TRACE
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NR_MAPS 7
#define NR_SLOTS 4		/* tcp_trace's links[] */
#define NR_PINS 2
#define NR_KLINKS 16		/* kernel links alive at once: at most slots + pins */
#define NR_BUILTINS 2
#define NR_CAS (NR_MAPS + NR_BUILTINS)
#define CONTEXT 12
#define LINK_TYPE_STRUCT_OPS 9	/* BPF_LINK_TYPE_STRUCT_OPS */
#define POLL_HUP 0x10		/* POLLHUP, EPOLLHUP */
#define F_LINK 0x2000		/* BPF_F_LINK */
#define F_REPLACE 0x4		/* BPF_F_REPLACE */

enum { M_INIT, M_READY, M_INUSE, M_TOBEFREE };

/* The maps of progs/tcp_ca_update.c, in tcp_trace's order */
static const struct {
	const char *map, *ca;
	bool flink;		/* in SEC(".struct_ops.link") */
	bool valid;		/* TCP's ->validate() accepts it */
	int impl;		/* the init counter its ->init() adds to, -1: none */
	bool allowed;		/* its .flags has TCP_CONG_NON_RESTRICTED */
} descs[NR_MAPS] = {
	{ "ca1", "tcp_ca_update", true, true, 0, false },
	{ "ca2", "tcp_ca_update", true, true, 1, false },
	{ "ca3", "tcp_ca_update", true, true, 2, false },
	{ "ca_non_restricted", "tcp_ca_update", true, true, 0, true },
	{ "ca_incomplete", "tcp_ca_update", true, false, -1, false },
	{ "ca_other_name", "tcp_ca_other", true, true, -1, false },
	{ "ca_no_link", "tcp_ca_no_link", false, true, -1, false },
};

/* The algorithms: the maps' values (0 to NR_MAPS - 1), then the built-in
 * ones the trace names (reno, cubic)
 */
struct ca {
	char name[16];
	int impl;
	bool allowed;		/* TCP_CONG_NON_RESTRICTED */
};

static struct ca cas[NR_CAS];
static int nr_cas;
static int reg[NR_CAS], nr_reg;	/* the registered list, in its order */
static int def;			/* init_net's default */
static int kept_def = -1;	/* the kept namespace's default, -1: none */
static int map_state[NR_MAPS];

struct klink {
	int refs;		/* fds and pins; 0: no such link */
	int map;		/* the map it holds, -1: detached */
};

static struct klink klinks[NR_KLINKS];

static struct {
	bool live;
	bool libbpf;		/* libbpf's link (else a raw fd) */
	bool legacy;		/* libbpf's link of the map without BPF_F_LINK */
	int map;		/* legacy: its map */
	int kl;			/* the kernel link, -1: none (legacy) */
	bool extra;		/* one more fd, by id */
} slots[NR_SLOTS];

static int pins[NR_PINS];	/* the kernel link pinned, -1: none */

/* What the initial state of a seed said: restored by the trace's teardown */
static char def0[16], allowed0[128];

/* The trace as read, for the report of a mismatch */
static char context[CONTEXT][256];
static long nr_lines, nr_ops, nr_seeds;
static int seed = -1, op = -1;
static const char *trace_path;

static void mismatch(const char *want, const char *got)
{
	long i;

	printf("tcp_model: %s: seed %d, operation %d: not what the model predicts\n",
	       trace_path, seed, op);
	printf("tcp_model:   model: %s\n", want);
	printf("tcp_model:   trace: %s\n", got);
	printf("tcp_model: the trace up to it:\n");
	for (i = nr_lines - CONTEXT; i < nr_lines; i++)
		if (i >= 0)
			printf("tcp_model:   %s\n", context[i % CONTEXT]);
	if (op >= 0)
		printf("tcp_model: replay with make model SEED=%d SEEDS=1 OPS=%d\n", seed, op + 1);
	exit(1);
}

/* @got must be the line the format makes */
static void expect(const char *got, const char *fmt, ...)
{
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	if (strcmp(want, got))
		mismatch(want, got);
}

static void bad_trace(const char *line, const char *why)
{
	printf("tcp_model: %s: seed %d, operation %d: %s: %s\n", trace_path, seed, op, why, line);
	exit(2);
}

static int map_by_name(const char *name)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (!strcmp(descs[i].map, name))
			return i;
	return -1;
}

/* The registered algorithm of @name, -1: none */
static int find(const char *name)
{
	int i;

	for (i = 0; i < nr_reg; i++)
		if (!strcmp(cas[reg[i]].name, name))
			return reg[i];
	return -1;
}

static int tcp_register(int ca)
{
	if (find(cas[ca].name) >= 0)
		return -EEXIST;
	reg[nr_reg++] = ca;
	return 0;
}

static void tcp_unregister(int ca)
{
	int i;

	for (i = 0; i < nr_reg; i++)
		if (reg[i] == ca) {
			memmove(&reg[i], &reg[i + 1], (nr_reg - i - 1) * sizeof(reg[0]));
			nr_reg--;
			return;
		}
}

/* BPF_MAP_UPDATE_ELEM of a map's value: kept for a BPF_F_LINK map,
 * registered (->reg()) for the other
 */
static int map_update(int m)
{
	int err;

	if (map_state[m] != M_INIT)
		return -EBUSY;
	if (!descs[m].valid)
		return -EINVAL;		/* ->validate(), or ->reg()'s own check */
	if (descs[m].flink) {
		map_state[m] = M_READY;
		return 0;
	}
	err = tcp_register(m);
	if (!err)
		map_state[m] = M_INUSE;
	return err;
}

/* libbpf's struct_ops_map_set_value(): -EBUSY of a BPF_F_LINK map is its
 * value set before
 */
static int set_value(int m)
{
	int err = map_update(m);

	return err == -EBUSY && descs[m].flink ? 0 : err;
}

static int klink_new(int m)
{
	int i;

	for (i = 0; i < NR_KLINKS; i++)
		if (!klinks[i].refs) {
			klinks[i] = (struct klink){ .refs = 1, .map = m };
			return i;
		}
	bad_trace("", "more kernel links than the model holds");
	return -1;
}

static void klink_detach(int kl)
{
	if (klinks[kl].map >= 0)
		tcp_unregister(klinks[kl].map);
	klinks[kl].map = -1;
}

/* A reference to a kernel link is gone: the last one unregisters its map */
static void klink_put(int kl)
{
	if (--klinks[kl].refs == 0)
		klink_detach(kl);
}

/* BPF_LINK_CREATE of map @m: a new kernel link, or an errno */
static int link_create(int m, int *kl)
{
	int err;

	if (!descs[m].flink || map_state[m] != M_READY)
		return -EINVAL;
	err = tcp_register(m);
	if (!err)
		*kl = klink_new(m);
	return err;
}

/* The default of each namespace that names @old is @ca now */
static void move_defaults(int ca, int old)
{
	if (def == old)
		def = ca;
	if (kept_def == old)
		kept_def = ca;
}

/* The struct_ops link's ->update_map() and TCP's ->update(): @m is -1 for
 * a map that is not a struct_ops one, @old -1 for no BPF_F_REPLACE
 */
static int link_update(int kl, int m, int old)
{
	int cur = klinks[kl].map;

	if (m < 0 || !descs[m].flink || map_state[m] != M_READY)
		return -EINVAL;
	if (cur < 0)
		return -ENOLINK;
	if (old >= 0 && old != cur)
		return -EPERM;
	if (m == cur)
		return 0;
	if (strcmp(cas[m].name, cas[cur].name) || find(cas[cur].name) != cur)
		return -EINVAL;
	/* the new one takes the old one's allowed flag, and goes in at the
	 * end of the list before the old one goes out
	 */
	cas[m].allowed = cas[cur].allowed;
	reg[nr_reg++] = m;
	tcp_unregister(cur);
	move_defaults(m, cur);
	klinks[kl].map = m;
	return 0;
}

/* BPF_MAP_DELETE_ELEM */
static int map_delete(int m)
{
	if (descs[m].flink)
		return -EOPNOTSUPP;
	switch (map_state[m]) {
	case M_INUSE:
		tcp_unregister(m);
		map_state[m] = M_TOBEFREE;
		return 0;
	case M_TOBEFREE:
		return -EINPROGRESS;
	default:
		return -ENOENT;
	}
}

/* net.ipv4.tcp_congestion_control of init_net */
static int set_default(const char *name)
{
	int ca = find(name);

	if (ca < 0)
		return -ENOENT;
	def = ca;
	cas[ca].allowed = true;		/* the default is allowed */
	return 0;
}

/* net.ipv4.tcp_allowed_congestion_control: all or nothing */
static int set_allowed(const char *list)
{
	char buf[128], *name, *save;
	int i;

	snprintf(buf, sizeof(buf), "%s", list);
	for (name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save))
		if (find(name) < 0)
			return -ENOENT;
	for (i = 0; i < nr_reg; i++)
		cas[reg[i]].allowed = false;
	snprintf(buf, sizeof(buf), "%s", list);
	for (name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save))
		cas[find(name)].allowed = true;
	return 0;
}

/* The ->init() calls a connection runs: the connecting socket's algorithm
 * and the accepted one's (the default of the listener's namespace)
 */
static void ran_add(int ran[3], int ca)
{
	if (cas[ca].impl >= 0)
		ran[cas[ca].impl]++;
}

static const char *ran_str(const int ran[3])
{
	static char buf[48];

	snprintf(buf, sizeof(buf), ", ran ca1 %d ca2 %d ca3 %d", ran[0], ran[1], ran[2]);
	return buf;
}

static int slot_kl(int k, const char *line)
{
	if (k < 0 || k >= NR_SLOTS || !slots[k].live || slots[k].legacy)
		bad_trace(line, "no such link in the model");
	return slots[k].kl;
}

static int map_arg(const char *name, const char *line)
{
	int m = map_by_name(name);

	if (m < 0)
		bad_trace(line, "no such map");
	return m;
}

static int free_slot(int k, const char *line)
{
	if (k < 0 || k >= NR_SLOTS || slots[k].live)
		bad_trace(line, "the link is not free in the model");
	return k;
}

/* One operation's line (after its index): predict it, and apply it */
static void predict_op(const char *line)
{
	char name[128], what[64], old[32];
	int k, i, ret, n = 0, kl, m, ran[3] = { 0 };
	unsigned int flags;
	const char *p, *q;

	if (!strcmp(line, "nothing to act on"))
		return;
	if (sscanf(line, "libbpf attach %31s as link %d:%n", name, &k, &n) == 2 && n) {
		m = map_arg(name, line);
		free_slot(k, line);
		ret = set_value(m);
		if (!ret && descs[m].flink)
			ret = link_create(m, &kl);
		if (!ret)
			slots[k] = (typeof(slots[k])){ .live = true, .libbpf = true,
						      .legacy = !descs[m].flink, .map = m,
						      .kl = descs[m].flink ? kl : -1 };
		expect(line, "libbpf attach %s as link %d: %d", name, k, ret);
	} else if (sscanf(line, "BPF_LINK_CREATE of %31s as link %d:%n", name, &k, &n) == 2 && n) {
		m = map_arg(name, line);
		free_slot(k, line);
		ret = link_create(m, &kl);
		if (!ret)
			slots[k] = (typeof(slots[k])){ .live = true, .map = -1, .kl = kl };
		expect(line, "BPF_LINK_CREATE of %s as link %d: %d", name, k, ret);
	} else if (sscanf(line, "libbpf update link %d to %31[^:]:%n", &k, name, &n) == 2 && n) {
		m = map_arg(name, line);
		if (k < 0 || k >= NR_SLOTS || !slots[k].libbpf)
			bad_trace(line, "not a libbpf link in the model");
		if (!descs[m].flink || slots[k].legacy)
			ret = -EINVAL;
		else
			ret = set_value(m) ?: link_update(slots[k].kl, m, -1);
		expect(line, "libbpf update link %d to %s: %d", k, name, ret);
	} else if (sscanf(line, "BPF_LINK_UPDATE link %d to %n", &k, &n) == 1 && n) {
		p = line + n;
		q = strstr(p, ", flags ");
		if (!q || q - p >= (int)sizeof(name))
			bad_trace(line, "no flags");
		snprintf(name, sizeof(name), "%.*s", (int)(q - p), p);
		n = 0;
		if (sscanf(q, ", flags %x, old %31[^ :]%n", &flags, old, &n) != 2 || !n)
			bad_trace(line, "no old map");
		q += n;
		p = strrchr(q, ':');
		if (!p)
			bad_trace(line, "no result");
		snprintf(what, sizeof(what), "%.*s", (int)(p - q), q);
		kl = slot_kl(k, line);
		m = strcmp(name, ".bss (an array)") ? map_arg(name, line) : -1;
		/* upstream's order: the flags, the new map's fd, the old one's, the maps */
		if (flags & ~F_REPLACE)
			ret = -EINVAL;
		else if ((flags & F_REPLACE) && !strcmp(what, " (old: the link's fd)"))
			ret = -EINVAL;
		else if ((flags & F_REPLACE) && !strcmp(what, " (old: no such fd)"))
			ret = -EBADF;
		else if (!(flags & F_REPLACE) && strcmp(old, "-"))
			ret = -EINVAL;
		else
			ret = link_update(kl, m, flags & F_REPLACE ? map_arg(old, line) : -1);
		expect(line, "BPF_LINK_UPDATE link %d to %s, flags %#x, old %s%s: %d", k, name,
		       flags, old, what, ret);
	} else if (sscanf(line, "BPF_LINK_DETACH link %d:%n", &k, &n) == 1 && n) {
		klink_detach(slot_kl(k, line));
		expect(line, "BPF_LINK_DETACH link %d: 0; its EPOLLOUT waiter: 1, events %#x", k,
		       POLL_HUP);
	} else if (sscanf(line, "BPF_LINK_GET_FD_BY_ID of link %d, no fd free%n", &k, &n) == 1 &&
		   n) {
		/* the link is found, no fd is made: its reference goes again */
		slot_kl(k, line);
		expect(line, "BPF_LINK_GET_FD_BY_ID of link %d, no fd free (RLIMIT_NOFILE): %d", k,
		       -EMFILE);
	} else if (sscanf(line, "BPF_LINK_GET_FD_BY_ID of link %d:%n", &k, &n) == 1 && n) {
		klinks[slot_kl(k, line)].refs++;
		slots[k].extra = true;
		expect(line, "BPF_LINK_GET_FD_BY_ID of link %d: 0", k);
	} else if (sscanf(line, "pin link %d as pin %d:%n", &k, &i, &n) == 2 && n) {
		if (i < 0 || i >= NR_PINS || pins[i] >= 0)
			bad_trace(line, "the pin is taken in the model");
		pins[i] = slot_kl(k, line);
		klinks[pins[i]].refs++;
		expect(line, "pin link %d as pin %d: 0", k, i);
	} else if (sscanf(line, "unpin pin %d:%n", &i, &n) == 1 && n) {
		if (i < 0 || i >= NR_PINS || pins[i] < 0)
			bad_trace(line, "no such pin in the model");
		klink_put(pins[i]);
		pins[i] = -1;
		expect(line, "unpin pin %d: 0", i);
	} else if (sscanf(line, "BPF_OBJ_GET of pin %d as link %d:%n", &i, &k, &n) == 2 && n) {
		if (i < 0 || i >= NR_PINS || pins[i] < 0)
			bad_trace(line, "no such pin in the model");
		free_slot(k, line);
		slots[k] = (typeof(slots[k])){ .live = true, .map = -1, .kl = pins[i] };
		klinks[pins[i]].refs++;
		expect(line, "BPF_OBJ_GET of pin %d as link %d: 0", i, k);
	} else if (sscanf(line, "close the fd by id of link %d%n", &k, &n) == 1 && n) {
		klink_put(slot_kl(k, line));
		slots[k].extra = false;
		expect(line, "close the fd by id of link %d", k);
	} else if (sscanf(line, "libbpf destroy link %d:%n", &k, &n) == 1 && n) {
		if (k < 0 || k >= NR_SLOTS || !slots[k].libbpf)
			bad_trace(line, "not a libbpf link in the model");
		/* libbpf's detach of a link without a kernel link deletes the element */
		if (slots[k].legacy) {
			ret = map_delete(slots[k].map);
		} else {
			klink_put(slots[k].kl);
			ret = 0;
		}
		slots[k] = (typeof(slots[k])){ .map = -1, .kl = -1 };
		expect(line, "libbpf destroy link %d: %d", k, ret);
	} else if (sscanf(line, "close link %d%n", &k, &n) == 1 && n) {
		klink_put(slot_kl(k, line));
		slots[k] = (typeof(slots[k])){ .map = -1, .kl = -1 };
		expect(line, "close link %d", k);
	} else if (sscanf(line, "epoll of link %d:%n", &k, &n) == 1 && n) {
		if (klinks[slot_kl(k, line)].map >= 0)
			expect(line, "epoll of link %d: 0, events 0", k);
		else
			expect(line, "epoll of link %d: 1, events %#x", k, POLL_HUP);
	} else if (sscanf(line, "delete of %31[^']'s element:%n", name, &n) == 1 && n) {
		ret = map_delete(map_arg(name, line));
		expect(line, "delete of %s's element: %d", name, ret);
	} else if (sscanf(line, "BPF_MAP_CREATE of a tcp_congestion_ops map, flags %x:%n",
			  &flags, &n) == 1 && n) {
		/* a struct_ops map takes BPF_F_LINK and no other flag */
		expect(line, "BPF_MAP_CREATE of a tcp_congestion_ops map, flags %#x: %d", flags,
		       flags & ~F_LINK ? -EINVAL : 0);
	} else if (sscanf(line, "default := %31[^:]:%n", name, &n) == 1 && n) {
		ret = set_default(name);
		expect(line, "default := %s: %d", name, ret);
	} else if (sscanf(line, "allowed := %127[^:]:%n", name, &n) == 1 && n) {
		ret = set_allowed(name);
		expect(line, "allowed := %s: %d", name, ret);
	} else if (sscanf(line, "connect in init_net with %31[^:]:%n", name, &n) == 1 && n) {
		char cc[48];

		i = find(name);
		if (!strcmp(name, "the default")) {
			snprintf(cc, sizeof(cc), "%s", cas[def].name);
			ran_add(ran, def);
			ran_add(ran, def);
		} else if (i < 0) {
			snprintf(cc, sizeof(cc), "setsockopt %d", -ENOENT);
		} else {
			/* root may pick any registered one: CAP_NET_ADMIN */
			snprintf(cc, sizeof(cc), "%s", cas[i].name);
			ran_add(ran, i);
			ran_add(ran, def);
		}
		expect(line, "connect in init_net with %s: %s%s", name, cc, ran_str(ran));
	} else if (sscanf(line, "a new netns: copied %31[^,], set %31[^:]:%n",
			  old, name, &n) == 2 && n) {
		/* it copies init_net's default; another namespace may only
		 * name an allowed one its default
		 */
		int ns_def = def, found = find(name);

		ret = found < 0 ? -ENOENT : !cas[found].allowed ? -EPERM : 0;
		if (!ret)
			ns_def = found;
		ran_add(ran, ns_def);
		ran_add(ran, ns_def);
		expect(line, "a new netns: copied %s, set %s: %d, default %s, connect %s%s",
		       cas[def].name, name, ret, cas[ns_def].name, cas[ns_def].name, ran_str(ran));
	} else if (sscanf(line, "the kept netns, %15[^:]:%n", what, &n) == 1 && n) {
		if (strcmp(what, "asked"))
			kept_def = def;		/* made, or made again: a copy of now's */
		if (kept_def < 0)
			bad_trace(line, "asked, and none was made");
		ran_add(ran, kept_def);
		ran_add(ran, kept_def);
		expect(line, "the kept netns, %s: default %s, connect %s%s", what,
		       cas[kept_def].name, cas[kept_def].name, ran_str(ran));
	} else {
		bad_trace(line, "not an operation the model knows");
	}
}

/* The state block's lines, from the model, one at a time */
static int state_line(int i, char *buf, size_t size)
{
	char allowed[128] = "", avail[128] = "";
	size_t na = 0, nv = 0;
	int k, j;

	if (i == 0) {
		for (j = 0; j < nr_reg; j++) {
			nv += snprintf(avail + nv, sizeof(avail) - nv, "%s%s", nv ? " " : "",
				       cas[reg[j]].name);
			if (cas[reg[j]].allowed)
				na += snprintf(allowed + na, sizeof(allowed) - na, "%s%s",
					       na ? " " : "", cas[reg[j]].name);
		}
		snprintf(buf, size, "    default %s; allowed %s; available %s", cas[def].name,
			 allowed, avail);
		return 1;
	}
	for (k = 0, j = 1; k < NR_SLOTS; k++) {
		struct klink *kl;

		if (!slots[k].live || j++ != i)
			continue;
		if (slots[k].legacy) {
			snprintf(buf, size, "    link %d: %s", k,
				 "libbpf's, of a map without BPF_F_LINK");
			return 1;
		}
		kl = &klinks[slots[k].kl];
		snprintf(buf, size, "    link %d: type %d, map %s, fdinfo %s, poll %#x%s", k,
			 LINK_TYPE_STRUCT_OPS, kl->map < 0 ? "-" : descs[kl->map].map,
			 /* a detached link's fdinfo has no map_id line */
			 kl->map < 0 ? "no map_id line" : descs[kl->map].map,
			 kl->map < 0 ? POLL_HUP : 0,
			 slots[k].extra ? ", 2 fds" : "");
		return 1;
	}
	return 0;
}

/* Everything of the seed let go of, as tcp_trace's teardown does */
static void teardown(void)
{
	int k;

	kept_def = -1;
	for (k = 0; k < NR_PINS; k++)
		if (pins[k] >= 0) {
			klink_put(pins[k]);
			pins[k] = -1;
		}
	for (k = 0; k < NR_SLOTS; k++) {
		if (!slots[k].live)
			continue;
		if (slots[k].extra)
			klink_put(slots[k].kl);
		if (slots[k].legacy)
			map_delete(slots[k].map);
		else
			klink_put(slots[k].kl);
		slots[k] = (typeof(slots[k])){ .map = -1, .kl = -1 };
	}
	if (set_default(def0) || set_allowed(allowed0))
		bad_trace(def0, "the initial default or allowed list is not registered");
}

/* A new seed: a new tcp_ca_update object, its maps initial */
static void seed_reset(void)
{
	int i;

	for (i = 0; i < NR_MAPS; i++) {
		cas[i] = (struct ca){ .impl = descs[i].impl, .allowed = descs[i].allowed };
		snprintf(cas[i].name, sizeof(cas[0].name), "%s", descs[i].ca);
		map_state[i] = M_INIT;
	}
	memset(klinks, 0, sizeof(klinks));
	for (i = 0; i < NR_SLOTS; i++)
		slots[i] = (typeof(slots[i])){ .map = -1, .kl = -1 };
	for (i = 0; i < NR_PINS; i++)
		pins[i] = -1;
	kept_def = -1;
}

/* The first seed: the state its first block says (the built-in
 * algorithms, the default and the allowed list) is where the model
 * starts; each later seed starts from the model's state after the
 * teardown before it
 */
static void first_seed(const char *block)
{
	char avail[128], *name, *save;
	int i;

	if (sscanf(block, "    default %15[^;]; allowed %127[^;]; available %127[^\n]", def0,
		   allowed0, avail) != 3) {
		/* an empty list reads as none */
		allowed0[0] = 0;
		if (sscanf(block, "    default %15[^;]; allowed ; available %127[^\n]", def0,
			   avail) != 2)
			bad_trace(block, "the seed does not begin with its state");
	}
	seed_reset();
	nr_cas = NR_MAPS;
	nr_reg = 0;
	for (name = strtok_r(avail, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		if (nr_cas == NR_CAS)
			bad_trace(block, "more built-in algorithms than the model knows");
		cas[nr_cas] = (struct ca){ .impl = -1 };
		snprintf(cas[nr_cas].name, sizeof(cas[0].name), "%s", name);
		reg[nr_reg++] = nr_cas++;
	}
	def = find(def0);
	if (def < 0)
		bad_trace(block, "the default is none of the algorithms the trace names");
	for (i = NR_MAPS; i < nr_cas; i++)
		cas[i].allowed = false;
	snprintf(avail, sizeof(avail), "%s", allowed0);
	/* only the built-in algorithms are registered yet */
	for (name = strtok_r(avail, " ", &save); name; name = strtok_r(NULL, " ", &save))
		if (find(name) >= 0)
			cas[find(name)].allowed = true;
}

static FILE *trace;
static char *pending;

/* The next line of the trace, its newline dropped; NULL at its end */
static char *next_line(void)
{
	static char *buf;
	static size_t size;
	ssize_t n;

	if (pending) {
		char *l = pending;

		pending = NULL;
		return l;
	}
	n = getline(&buf, &size, trace);
	if (n < 0)
		return NULL;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	snprintf(context[nr_lines++ % CONTEXT], sizeof(context[0]), "%s", buf);
	return buf;
}

/* The state block after an operation, line by line against the model's */
static void check_state(void)
{
	char want[256], *line;
	int i;

	for (i = 0; state_line(i, want, sizeof(want)); i++) {
		line = next_line();
		if (!line || strncmp(line, "    ", 4))
			mismatch(want, line ? line : "(the end of the trace)");
		expect(line, "%s", want);
	}
	line = next_line();
	if (line && !strncmp(line, "    ", 4))
		mismatch("(no more state)", line);
	pending = line;
}

int main(int argc, char **argv)
{
	bool ended = true, left = false;
	char *line;
	int s, n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TRACE\n", argv[0]);
		return 2;
	}
	trace_path = argv[1];
	trace = fopen(trace_path, "r");
	if (!trace) {
		perror(trace_path);
		return 2;
	}
	while ((line = next_line())) {
		if (left)
			bad_trace(line, "a line after the last");
		if (sscanf(line, "seed %d: end%n", &s, &n) == 1 && n && !line[n]) {
			teardown();
			op = -1;
			ended = true;
			check_state();
		} else if (sscanf(line, "seed %d%n", &s, &n) == 1 && !line[n]) {
			seed = s;
			op = -1;
			if (!ended)
				mismatch("(the seed's end)", line);
			ended = false;
			if (!nr_seeds++) {
				line = next_line();
				if (!line)
					bad_trace("", "the trace ends at its seed's line");
				first_seed(line);
				pending = line;	/* the block is checked as any other */
			} else {
				seed_reset();
			}
			check_state();
		} else if (sscanf(line, "%d %n", &op, &n) == 1 && n) {
			predict_op(line + n);
			nr_ops++;
			check_state();
		} else if (!strncmp(line, "left: ", 6)) {
			if (!ended)
				mismatch("(the seed's end)", line);
			expect(line, "left: 0 struct_ops maps, 0 struct_ops links");
			left = true;
		} else {
			bad_trace(line, "a line the model does not know");
		}
	}
	if (!nr_ops)
		bad_trace("", "no operations");
	if (!left)	/* a trace cut short: what stopped it is the run's verdict */
		mismatch(ended ? "left: 0 struct_ops maps, 0 struct_ops links" : "(the seed's end)",
			 "(the end of the trace)");
	printf("tcp_model: %s: %ld operations of %ld seeds, %s\n", trace_path, nr_ops, nr_seeds,
	       "each result and state as the model predicts");
	return 0;
}
