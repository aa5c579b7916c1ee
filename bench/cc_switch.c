// SPDX-License-Identifier: GPL-2.0
/* make bench: what struct_ops links buy a running system, measured in the guest.
 *
 * 1. Switching a BPF TCP congestion control under connection churn. Threads
 *    open loopback connections with setsockopt(TCP_CONGESTION, "tcp_ca_update")
 *    as fast as they can, while the main thread switches between two BPF CAs of
 *    that name, SWITCHES times:
 *    (a) "link": BPF_LINK_UPDATE of one struct_ops link between two maps;
 *    (b) "6.1": the way without links: delete the element of the registered
 *        map (unregister), update a fresh map (register).
 *    Counted: setsockopt() calls that failed, and connections that ended up on
 *    another CC (read back with getsockopt() after connect()); and the latency
 *    of each switch. Beside them, the baseline: the same churn for as long as
 *    (a) took, with the CA linked and no switch.
 * 2. Latency of link create, update, detach and close on a toy struct_ops type,
 *    beside a null bpf() call (an unknown command: entry, attr copy, -EINVAL)
 *    measured in the same run, so that the ratio holds on any machine.
 *
 * Each part runs ROUNDS times; the table gives the median over the rounds of
 * each round's count, median and p99. Progress goes to stderr.
 *
 * Built by scripts/bench.sh against the selftests' libbpf and skeletons.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "tcp_ca_update.skel.h"
#include "struct_ops_link_toys.skel.h"

#define CA_NAME "tcp_ca_update"
#define CA_NAME_MAX 16	/* TCP_CA_NAME_MAX */

static int rounds = 3, switches = 1000, nconn = 2, calls = 1000;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the q-quantile of n samples (sorts them) */
static double quantile(double *v, int n, double q)
{
	int i;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	i = (int)(q * (n - 1) + 0.5);
	return v[i];
}

static double median_of(double *v, int n)
{
	return quantile(v, n, 0.5);
}

/* ---- part 1: connection churn ---- */

struct churn {
	struct sockaddr_in addr;
	int lfd;
	volatile int stop;
	long conns, failed_setsockopt, wrong_cc;
	double start_us;
};

static void *accepter(void *arg)
{
	struct churn *c = arg;
	int fd;

	while (!c->stop) {
		fd = accept(c->lfd, NULL, NULL);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void *connector(void *arg)
{
	struct churn *c = arg;
	char cc[CA_NAME_MAX];
	socklen_t len;
	int fd;

	while (!c->stop) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, CA_NAME, strlen(CA_NAME)))
			__sync_fetch_and_add(&c->failed_setsockopt, 1);
		if (!connect(fd, (struct sockaddr *)&c->addr, sizeof(c->addr))) {
			len = sizeof(cc);
			memset(cc, 0, sizeof(cc));
			if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len) ||
			    strcmp(cc, CA_NAME))
				__sync_fetch_and_add(&c->wrong_cc, 1);
			__sync_fetch_and_add(&c->conns, 1);
		}
		close(fd);
	}
	return NULL;
}

struct result {
	long conns, failed_setsockopt, wrong_cc;
	double secs, conns_per_s, med_us, p99_us;
};

static int churn_start(struct churn *c, pthread_t *th)
{
	socklen_t len = sizeof(c->addr);
	int i;

	memset(c, 0, sizeof(*c));
	c->lfd = socket(AF_INET, SOCK_STREAM, 0);
	c->addr.sin_family = AF_INET;
	c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&c->addr, sizeof(c->addr)) ||
	    listen(c->lfd, 1024) || getsockname(c->lfd, (struct sockaddr *)&c->addr, &len))
		return -errno;
	c->start_us = now_us();
	pthread_create(&th[0], NULL, accepter, c);
	for (i = 0; i < nconn; i++)
		pthread_create(&th[i + 1], NULL, connector, c);
	return 0;
}

/* stop the churn; its counts and the switch latencies @lat[@n] go to @r */
static void churn_stop(struct churn *c, pthread_t *th, struct result *r, double *lat, int n)
{
	double end = now_us();
	int i, fd;

	c->stop = 1;
	for (i = 0; i < nconn; i++)
		pthread_join(th[i + 1], NULL);
	/* wake the accepter */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	connect(fd, (struct sockaddr *)&c->addr, sizeof(c->addr));
	close(fd);
	pthread_join(th[0], NULL);
	close(c->lfd);
	r->conns = c->conns;
	r->failed_setsockopt = c->failed_setsockopt;
	r->wrong_cc = c->wrong_cc;
	r->secs = (end - c->start_us) / 1e6;
	r->conns_per_s = r->secs > 0 ? r->conns / r->secs : 0;
	r->med_us = median_of(lat, n);
	r->p99_us = quantile(lat, n, 0.99);
}

/* (a) one link, BPF_LINK_UPDATE between ca1 and ca2, @n times; with @n 0,
 * the baseline: the same churn for @secs with ca1 linked and no switch
 */
static int switch_link(struct result *r, double *lat, int n, double secs)
{
	struct tcp_ca_update *skel;
	struct bpf_link *link;
	pthread_t th[1 + 64];
	struct churn c;
	int i = 0, fd1, fd2, err = 0;
	double t;

	skel = tcp_ca_update__open_and_load();
	if (!skel)
		return -errno;
	/* populate both maps; link ca1 */
	bpf_link__destroy(bpf_map__attach_struct_ops(skel->maps.ca2));
	link = bpf_map__attach_struct_ops(skel->maps.ca1);
	if (!link) {
		err = -errno;
		goto out;
	}
	fd1 = bpf_map__fd(skel->maps.ca1);
	fd2 = bpf_map__fd(skel->maps.ca2);
	err = churn_start(&c, th);
	if (err)
		goto out;
	usleep(100000);
	if (!n)
		usleep(secs * 1e6);
	for (i = 0; i < n; i++) {
		t = now_us();
		err = bpf_link_update(bpf_link__fd(link), i % 2 ? fd1 : fd2, NULL);
		lat[i] = now_us() - t;
		if (err)
			break;
		usleep(1000);	/* let connections use each version */
	}
	churn_stop(&c, th, r, lat, i);
out:
	bpf_link__destroy(link);
	tcp_ca_update__destroy(skel);
	return err;
}

/* A lookup of a struct_ops map reports its programs by id, an update takes
 * fds: replace each program id in @value (of vmlinux type @vtype_id) with an
 * fd of that program, found through vmlinux BTF. The fds go to @fds (at most
 * @max); returns how many, or a negative errno.
 */
static int prog_ids_to_fds(void *value, __u32 vtype_id, int *fds, int max)
{
	const struct btf_type *vt, *dt = NULL, *mt;
	const struct btf_member *m;
	__u32 data_off = 0, i;
	struct btf *btf;
	int n = 0, fd;
	__u64 *slot;

	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -errno;
	vt = btf__type_by_id(btf, vtype_id);
	for (i = 0, m = btf_members(vt); i < btf_vlen(vt); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), "data")) {
			data_off = btf_member_bit_offset(vt, i) / 8;
			dt = btf__type_by_id(btf, m->type);
			break;
		}
	}
	for (i = 0, m = dt ? btf_members(dt) : NULL; dt && i < btf_vlen(dt); i++, m++) {
		mt = btf__type_by_id(btf, m->type);
		if (!btf_is_ptr(mt) || !btf_is_func_proto(btf__type_by_id(btf, mt->type)))
			continue;
		slot = value + data_off + btf_member_bit_offset(dt, i) / 8;
		if (!*slot)
			continue;
		fd = n < max ? bpf_prog_get_fd_by_id(*slot) : -E2BIG;
		if (fd < 0) {
			while (n > 0)
				close(fds[--n]);
			n = fd;
			break;
		}
		*slot = fd;
		fds[n++] = fd;
	}
	btf__free(btf);
	return dt ? n : -ENOENT;
}

/* (b) the 6.1 way: delete the element of the registered map (unregister),
 * update a fresh map (register). A map of 6.1 cannot be registered again
 * once deleted, so each switch needs a new one: all are made before the
 * churn starts, with the value the first map was registered with (its
 * programs' fds and the name), as a loader that keeps its programs would,
 * so that only the switch itself falls in the window, as with a link. The
 * timed part is the two calls.
 */
static int switch_61(struct result *r, double *lat)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct tcp_ca_update *skel;
	struct bpf_link *link;
	int i, cur, first, err = 0, zero = 0, fds[16], nfds = 0, *maps = NULL, nmaps = 0;
	pthread_t th[1 + 64];
	const char *step;
	struct churn c;
	void *value;
	double t;

	skel = tcp_ca_update__open();
	if (!skel)
		return -errno;
	/* ca1 as a plain struct_ops map; none of the others */
	bpf_map__set_map_flags(skel->maps.ca1, 0);
	bpf_map__set_autocreate(skel->maps.ca2, false);
	bpf_map__set_autocreate(skel->maps.ca_other_name, false);
	bpf_map__set_autocreate(skel->maps.ca_no_link, false);
	bpf_program__set_autoload(skel->progs.ca2_init, false);
	if (tcp_ca_update__load(skel)) {
		err = -errno;
		tcp_ca_update__destroy(skel);
		return err;
	}
	link = bpf_map__attach_struct_ops(skel->maps.ca1);	/* a map update: registered */
	if (!link) {
		err = -errno;
		tcp_ca_update__destroy(skel);
		return err;
	}
	first = cur = bpf_map__fd(skel->maps.ca1);
	value = NULL;
	if (bpf_obj_get_info_by_fd(cur, &info, &len)) {
		err = -errno;
		fprintf(stderr, "6.1 way: map info: %d\n", err);
		goto out;
	}
	value = calloc(1, info.value_size);
	if (!value) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(cur, &zero, value)) {
		err = -errno;
		fprintf(stderr, "6.1 way: lookup of the registered map: %d\n", err);
		goto out;
	}
	/* the lookup reports refcnt and state in front; an update wants both 0 */
	memset(value, 0, 8);
	nfds = prog_ids_to_fds(value, info.btf_vmlinux_value_type_id, fds, 16);
	if (nfds < 0) {
		err = nfds;
		fprintf(stderr, "6.1 way: program ids to fds: %d\n", err);
		goto out;
	}
	/* 6.1 wants a BTF fd beside the vmlinux type: the object's, as libbpf gives */
	opts.btf_fd = bpf_object__btf_fd(skel->obj);
	opts.btf_vmlinux_value_type_id = info.btf_vmlinux_value_type_id;
	/* every fresh map before the churn: in the timed window, only the switch */
	maps = calloc(switches, sizeof(*maps));
	if (!maps) {
		err = -ENOMEM;
		goto out;
	}
	for (nmaps = 0; nmaps < switches; nmaps++) {
		maps[nmaps] = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "ca1", info.key_size,
					     info.value_size, 1, &opts);
		if (maps[nmaps] < 0) {
			err = maps[nmaps];
			fprintf(stderr, "6.1 way: map create %d: %d\n", nmaps, err);
			goto out;
		}
	}
	err = churn_start(&c, th);
	if (err)
		goto out;
	usleep(100000);
	cur = first;
	for (i = 0; i < switches; i++) {
		t = now_us();
		step = "delete";
		err = bpf_map_delete_elem(cur, &zero);
		if (!err) {
			step = "update";
			err = bpf_map_update_elem(maps[i], &zero, value, 0);
		}
		lat[i] = now_us() - t;
		if (err) {
			fprintf(stderr, "6.1 way: switch %d: %s: %d\n", i, step, err);
			break;
		}
		cur = maps[i];
		usleep(1000);	/* let connections use each version */
		if ((i + 1) % 250 == 0)
			fprintf(stderr, "  6.1 way: %d switches\n", i + 1);
	}
	churn_stop(&c, th, r, lat, i);
	if (cur != first)
		bpf_map_delete_elem(cur, &zero);
out:
	while (nmaps > 0)
		close(maps[--nmaps]);
	free(maps);
	while (nfds > 0)
		close(fds[--nfds]);
	free(value);
	bpf_link__destroy(link);	/* deletes the first map's element if it is still there */
	tcp_ca_update__destroy(skel);
	return err;
}

/* ---- part 2: the calls on a toy type ---- */

enum { NULL_BPF, CREATE, UPDATE, DETACH, CLOSE, NR_CALLS };
static const char *call_name[] = { "null bpf() (unknown cmd)", "link create (toy)",
				   "link update (toy)", "link detach (toy)",
				   "link close (toy)" };

static int toy_calls(double med[NR_CALLS], double p99[NR_CALLS])
{
	struct struct_ops_link_toys *skel;
	union bpf_attr attr;
	double *lat[NR_CALLS], t;
	int i, k, fd, fd_a, fd_b, err = 0;

	skel = struct_ops_link_toys__open_and_load();
	if (!skel)
		return -errno;
	bpf_link__destroy(bpf_map__attach_struct_ops(skel->maps.swap_b));
	bpf_link__destroy(bpf_map__attach_struct_ops(skel->maps.swap_a));
	fd_a = bpf_map__fd(skel->maps.swap_a);
	fd_b = bpf_map__fd(skel->maps.swap_b);
	for (k = 0; k < NR_CALLS; k++)
		lat[k] = calloc(calls, sizeof(double));
	for (i = 0; i < calls && !err; i++) {
		memset(&attr, 0, sizeof(attr));
		t = now_us();
		syscall(__NR_bpf, 0xffff, &attr, sizeof(attr));
		lat[NULL_BPF][i] = now_us() - t;

		t = now_us();
		fd = bpf_link_create(fd_a, 0, BPF_STRUCT_OPS, NULL);
		lat[CREATE][i] = now_us() - t;
		if (fd < 0) {
			err = fd;
			break;
		}
		t = now_us();
		err = bpf_link_update(fd, fd_b, NULL);
		lat[UPDATE][i] = now_us() - t;
		t = now_us();
		err = err ?: bpf_link_detach(fd);
		lat[DETACH][i] = now_us() - t;
		t = now_us();
		close(fd);
		lat[CLOSE][i] = now_us() - t;
	}
	for (k = 0; k < NR_CALLS; k++) {
		med[k] = median_of(lat[k], i);
		p99[k] = quantile(lat[k], i, 0.99);
		free(lat[k]);
	}
	struct_ops_link_toys__destroy(skel);
	return err;
}

int main(int argc, char **argv)
{
	struct result ra[32], rb[32], r0[32];
	double med[NR_CALLS][32], p99[NR_CALLS][32], m[NR_CALLS], p[NR_CALLS];
	double v[5][32], *lat;
	int opt, i, k, err;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "r:n:t:c:")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'n': switches = atoi(optarg); break;
		case 't': nconn = atoi(optarg); break;
		case 'c': calls = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-r rounds] [-n switches] [-t connecting threads] [-c calls]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > 32 || nconn < 1 || nconn > 64 || switches < 1 || calls < 1)
		return 2;
	/* the 6.1 way holds a map fd per switch */
	rl.rlim_cur = rl.rlim_max = switches + 1024;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fprintf(stderr, "setrlimit(RLIMIT_NOFILE, %d): %s\n", switches + 1024, strerror(errno));
	lat = calloc(switches, sizeof(double));
	for (i = 0; i < rounds; i++) {
		fprintf(stderr, "round %d/%d: %d switches through a link\n", i + 1, rounds, switches);
		err = switch_link(&ra[i], lat, switches, 0);
		if (err) {
			fprintf(stderr, "link switching failed: %d\n", err);
			return 1;
		}
		fprintf(stderr, "round %d/%d: the same churn without switching\n", i + 1, rounds);
		err = switch_link(&r0[i], NULL, 0, ra[i].secs);
		if (err) {
			fprintf(stderr, "churn without switching failed: %d\n", err);
			return 1;
		}
		fprintf(stderr, "round %d/%d: %d switches the 6.1 way\n", i + 1, rounds, switches);
		err = switch_61(&rb[i], lat);
		if (err) {
			fprintf(stderr, "6.1 switching failed: %d\n", err);
			return 1;
		}
		fprintf(stderr, "round %d/%d: %d calls of each kind on a toy\n", i + 1, rounds, calls);
		err = toy_calls(m, p);
		if (err) {
			fprintf(stderr, "toy calls failed: %d\n", err);
			return 1;
		}
		for (k = 0; k < NR_CALLS; k++) {
			med[k][i] = m[k];
			p99[k][i] = p[k];
		}
	}

	printf("CC switch under churn (%d connecting threads, %d switches a round, medians of %d rounds)\n",
	       nconn, switches, rounds);
	printf("  %-34s %12s %12s %12s\n", "", "no switch", "link update", "6.1 way");
	/* the medians over the rounds; the baseline has no switch latency */
#define ROW(label, field, fmt, base)						\
	do {								\
		for (i = 0; i < rounds; i++) {				\
			v[0][i] = r0[i].field;				\
			v[1][i] = ra[i].field;				\
			v[2][i] = rb[i].field;				\
		}							\
		printf("  %-34s ", label);				\
		if (base)						\
			printf(fmt, median_of(v[0], rounds));		\
		else							\
			printf("%12s", "-");				\
		printf(" " fmt " " fmt "\n", median_of(v[1], rounds),	\
		       median_of(v[2], rounds));			\
	} while (0)
	ROW("churn time (s)", secs, "%12.1f", 1);
	ROW("connections", conns, "%12.0f", 1);
	ROW("connections per second", conns_per_s, "%12.0f", 1);
	ROW("failed setsockopt(TCP_CONGESTION)", failed_setsockopt, "%12.0f", 1);
	ROW("connections on another CC", wrong_cc, "%12.0f", 1);
	ROW("switch latency, median (us)", med_us, "%12.1f", 0);
	ROW("switch latency, p99 (us)", p99_us, "%12.1f", 0);
	printf("Calls on a toy struct_ops type (%d of each a round, medians of %d rounds)\n",
	       calls, rounds);
	printf("  %-34s %12s %12s %12s\n", "", "median (us)", "p99 (us)", "x null bpf()");
	for (k = 0; k < NR_CALLS; k++) {
		double mk = median_of(med[k], rounds), pk = median_of(p99[k], rounds);
		double m0 = median_of(med[NULL_BPF], rounds);

		printf("  %-34s %12.1f %12.1f %12.1f\n", call_name[k], mk, pk, m0 ? mk / m0 : 0);
	}
	return 0;
}
