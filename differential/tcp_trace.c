// SPDX-License-Identifier: GPL-2.0
/* make differential: seeded sequences of what user space can do with BPF TCP
 * congestion control links, and what each call returned and left visible,
 * printed as a trace that holds no kernel ids or addresses. The same binary
 * (the 6.1 selftests' libbpf and tcp_ca_update skeleton) runs on 6.1 with the
 * series and on 6.12 with upstream/6.12/'s fixes; scripts/differential.sh
 * compares the traces.
 *
 * Operations, drawn from the seed: libbpf's attach of a map (populate, then
 * link create; for the map without BPF_F_LINK, the legacy registration) and
 * bpf_link__update_map(); BPF_LINK_CREATE of a map again; BPF_LINK_UPDATE
 * with every combination of flags and old map (the link's, another, none, a
 * fd that is not a map, no such fd, an unknown flag) and to a map that is not
 * a struct_ops one; BPF_LINK_DETACH (and an epoll waiter's wakeup); more
 * fds by BPF_LINK_GET_FD_BY_ID (and the same with no fd free); pin,
 * BPF_OBJ_GET and unpin of a link (the unpin's put is the kernel's); close
 * of any fd; poll and epoll of a link;
 * the delete of any map's element; BPF_MAP_CREATE of a struct_ops map with
 * any flag both kernels know; writes of the default and the allowed
 * sysctls; a connection in init_net, in a new network namespace (after a
 * write of its own default) and in one that lives as long as the seed
 * (which congestion control it got and which BPF implementation ran). After
 * each, and at the start of each seed: the return value, then the state
 * (the default, the allowed and available lists of the names both kernels
 * can have, each link's map by name in its info and in its fdinfo, its
 * poll events). At the end, once
 * everything is let go of: the struct_ops maps and links the kernel still
 * has.
 *
 * Usage: tcp_trace SEED SEEDS OPS, or tcp_trace --threads SEED SEEDS ROUNDS
 * (the threads of churn(), below)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tcp_ca_update.skel.h"

#define NR_LINKS 4
#define NR_MAPS 7
#define NR_PINS 2

struct link {
	struct bpf_link *l;	/* libbpf's link (NULL: a raw fd or none) */
	int fd;			/* the raw fd from BPF_LINK_CREATE, or -1 */
	int extra;		/* one more fd, by id, or -1 */
	bool legacy;		/* libbpf's link of a map without BPF_F_LINK: no kernel link */
};

static struct tcp_ca_update *skel;
static struct bpf_map *maps[NR_MAPS];
static const char *map_names[NR_MAPS] = {
	"ca1", "ca2", "ca3", "ca_non_restricted", "ca_incomplete", "ca_other_name", "ca_no_link",
};

/* the .name of each map's tcp_congestion_ops */
static const char *ca_names[NR_MAPS] = {
	"tcp_ca_update", "tcp_ca_update", "tcp_ca_update", "tcp_ca_update", "tcp_ca_update",
	"tcp_ca_other", "tcp_ca_no_link",
};

static struct bpf_map_info map_info[NR_MAPS];	/* of maps[], read once a seed */
static struct link links[NR_LINKS];
static bool pinned[NR_PINS];	/* a link pinned at pin_path(i) */
static unsigned int rng;
static int lfd = -1;		/* init_net's listener */

static unsigned int rnd_r(unsigned int *state, unsigned int n)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return n ? *state % n : 0;
}

static unsigned int rnd(unsigned int n)
{
	return rnd_r(&rng, n);
}

static int link_fd(struct link *k)
{
	return k->l ? bpf_link__fd(k->l) : k->fd;
}

static bool link_live(struct link *k)
{
	return k->l || k->fd >= 0;
}

static int err_of(int ret)
{
	return ret < 0 ? (errno ? -errno : ret) : ret;
}

/* The index in maps[] of the map whose id is @id, -1 if none */
static int map_index_by_id(__u32 id)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (id && map_info[i].id == id)
			return i;
	return -1;
}

/* The name of the map whose id is @id, "-" for none, "?" for another */
static const char *map_name_by_id(__u32 id)
{
	int i = map_index_by_id(id);

	return !id ? "-" : i < 0 ? "?" : map_names[i];
}

static void read_sysctl(const char *name, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

static int write_sysctl(const char *name, const char *value)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ret = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* @list, less the names that only one kernel's config builds in (6.12's
 * has bbr and dctcp): what both kernels have is compared
 */
static void common_names(char *list)
{
	static const char * const known[] = {
		"reno", "cubic", "tcp_ca_update", "tcp_ca_other", "tcp_ca_no_link",
	};
	char out[256] = "", *name, *save;
	size_t i;

	for (name = strtok_r(list, " ", &save); name; name = strtok_r(NULL, " ", &save))
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(name, known[i])) {
				if (out[0])
					strcat(out, " ");
				strcat(out, name);
			}
	strcpy(list, out);
}

/* The map line of a link's fdinfo: the map's name, or that it has none */
static const char *fdinfo_map(int fd)
{
	char path[64], line[128];
	const char *name = "no map_id line";
	unsigned int id;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return "no fdinfo";
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "map_id: %u", &id) == 1)
			name = map_name_by_id(id);
	fclose(f);
	return name;
}

/* The state after each operation */
static void print_state(void)
{
	char def[64], allowed[256], avail[256];
	int i;

	read_sysctl("tcp_congestion_control", def, sizeof(def));
	read_sysctl("tcp_allowed_congestion_control", allowed, sizeof(allowed));
	read_sysctl("tcp_available_congestion_control", avail, sizeof(avail));
	common_names(allowed);
	common_names(avail);
	printf("    default %s; allowed %s; available %s\n", def, allowed, avail);
	for (i = 0; i < NR_LINKS; i++) {
		struct pollfd pfd = { .events = POLLIN | POLLOUT | POLLHUP };
		struct bpf_link_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (!link_live(&links[i]))
			continue;
		if (links[i].legacy) {
			printf("    link %d: libbpf's, of a map without BPF_F_LINK\n", i);
			continue;
		}
		fd = link_fd(&links[i]);
		if (bpf_link_get_info_by_fd(fd, &info, &len)) {
			printf("    link %d: info %d\n", i, -errno);
			continue;
		}
		pfd.fd = fd;
		poll(&pfd, 1, 0);
		printf("    link %d: type %u, map %s, fdinfo %s, poll %#x%s\n", i, info.type,
		       info.type == BPF_LINK_TYPE_STRUCT_OPS ?
		       map_name_by_id(info.struct_ops.map_id) : "-", fdinfo_map(fd),
		       pfd.revents, links[i].extra >= 0 ? ", 2 fds" : "");
	}
}

static int pick_map(void)
{
	return rnd(NR_MAPS);
}

/* The index of the map link @k holds, or a random one if it holds none */
static int held_or_any(int k)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int any = pick_map(), i;

	if (bpf_link_get_info_by_fd(link_fd(&links[k]), &info, &len))
		return any;
	i = map_index_by_id(info.struct_ops.map_id);
	return i < 0 ? any : i;
}

static int pick_link(bool live)
{
	int i, n = rnd(NR_LINKS);

	for (i = 0; i < NR_LINKS; i++, n = (n + 1) % NR_LINKS)
		if (link_live(&links[n]) == live)
			return n;
	return -1;
}

static bool op_attach(void)
{
	int k = pick_link(false), i = pick_map();
	struct bpf_link *l;

	if (k < 0)
		return false;
	errno = 0;
	l = bpf_map__attach_struct_ops(maps[i]);
	printf("libbpf attach %s as link %d: %d\n", map_names[i], k, l ? 0 : -errno);
	if (l) {
		links[k].l = l;
		links[k].legacy = !(bpf_map__map_flags(maps[i]) & BPF_F_LINK);
	}
	return true;
}

static bool op_link_create(void)
{
	int k = pick_link(false), i = pick_map(), fd;

	if (k < 0)
		return false;
	fd = bpf_link_create(bpf_map__fd(maps[i]), 0, BPF_STRUCT_OPS, NULL);
	printf("BPF_LINK_CREATE of %s as link %d: %d\n", map_names[i], k, fd < 0 ? -errno : 0);
	if (fd >= 0)
		links[k].fd = fd;
	return true;
}

static bool op_libbpf_update(void)
{
	int k = pick_link(true), i = pick_map(), ret;

	if (k < 0 || !links[k].l)
		return false;
	ret = bpf_link__update_map(links[k].l, maps[i]);
	printf("libbpf update link %d to %s: %d\n", k, map_names[i], ret < 0 ? -errno : ret);
	return true;
}

static bool op_link_update(void)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	int k = pick_link(true), i = pick_map(), old = pick_map(), variant = rnd(7), bit, ret;
	const char *what = "";
	int new_fd = bpf_map__fd(maps[i]);
	const char *new_name = map_names[i];

	if (k < 0 || links[k].legacy)
		return false;
	switch (variant) {
	case 0:		/* the map it holds, as a loader that read it would, or any */
		if (rnd(2))
			old = held_or_any(k);
		opts.flags = BPF_F_REPLACE;
		opts.old_map_fd = bpf_map__fd(maps[old]);
		break;
	case 1:
		opts.old_map_fd = bpf_map__fd(maps[old]);
		what = " (no BPF_F_REPLACE)";
		break;
	case 2:
		bit = rnd(31);
		opts.flags = 1U << (bit + (bit >= 2));
		break;
	case 3:
		opts.flags = BPF_F_REPLACE;
		opts.old_map_fd = link_fd(&links[k]);
		what = " (old: the link's fd)";
		break;
	case 4:
		opts.flags = BPF_F_REPLACE;
		opts.old_map_fd = INT_MAX;
		what = " (old: no such fd)";
		break;
	case 5:
		new_fd = bpf_map__fd(skel->maps.bss);
		new_name = ".bss (an array)";
		break;
	default:
		break;
	}
	ret = bpf_link_update(link_fd(&links[k]), new_fd, &opts);
	printf("BPF_LINK_UPDATE link %d to %s, flags %#x, old %s%s: %d\n", k, new_name,
	       opts.flags, variant <= 1 ? map_names[old] : "-", what, ret < 0 ? -errno : ret);
	return true;
}

/*
 * The detach, seen by an epoll set that waits on the link from before it for
 * EPOLLOUT only: it has an event after the detach if the link's waiters were
 * woken with a key epoll keeps (EPOLLHUP is always in the set's events).
 */
static bool op_detach(void)
{
	struct epoll_event ev = { .events = EPOLLOUT }, got = {};
	int k = pick_link(true), efd, err, n = -1;

	if (k < 0 || links[k].legacy)
		return false;
	efd = epoll_create1(0);
	if (efd >= 0 && epoll_ctl(efd, EPOLL_CTL_ADD, link_fd(&links[k]), &ev)) {
		close(efd);
		efd = -1;
	}
	err = err_of(bpf_link_detach(link_fd(&links[k])));
	if (efd >= 0) {
		n = epoll_wait(efd, &got, 1, 0);
		close(efd);
	}
	printf("BPF_LINK_DETACH link %d: %d; its EPOLLOUT waiter: %d, events %#x\n", k, err, n,
	       n > 0 ? got.events : 0);
	return true;
}

/* A fd of link @k by its id; one time in four with no fd left to make one
 * (RLIMIT_NOFILE at the lowest free fd): the call then lets its reference go.
 */
static bool op_fd_by_id(void)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int k = pick_link(true), fd, err, low = -1;
	struct rlimit old, full;

	if (k < 0 || links[k].legacy || links[k].extra >= 0 ||
	    bpf_link_get_info_by_fd(link_fd(&links[k]), &info, &len))
		return false;
	if (!rnd(4) && !getrlimit(RLIMIT_NOFILE, &old)) {
		low = dup(0);
		if (low >= 0)
			close(low);
		full = (struct rlimit){ .rlim_cur = low, .rlim_max = old.rlim_max };
		if (low < 0 || setrlimit(RLIMIT_NOFILE, &full))
			low = -1;
	}
	fd = bpf_link_get_fd_by_id(info.id);
	err = fd < 0 ? -errno : 0;
	if (low >= 0 && setrlimit(RLIMIT_NOFILE, &old)) {
		perror("setrlimit");
		exit(1);
	}
	printf("BPF_LINK_GET_FD_BY_ID of link %d%s: %d\n", k,
	       low >= 0 ? ", no fd free (RLIMIT_NOFILE)" : "", err);
	if (fd >= 0)
		links[k].extra = fd;
	return true;
}

static void pin_path(int i, char *buf, size_t size)
{
	snprintf(buf, size, "/sys/fs/bpf/tcp_trace_pin%d", i);
}

/* A pin of a link: it lives on once its fds are closed, until the unpin */
static bool op_pin(void)
{
	int k = pick_link(true), i;
	char path[64];

	for (i = 0; i < NR_PINS && pinned[i]; i++)
		;
	if (k < 0 || links[k].legacy || i == NR_PINS)
		return false;
	pin_path(i, path, sizeof(path));
	printf("pin link %d as pin %d: %d\n", k, i, err_of(bpf_obj_pin(link_fd(&links[k]), path)));
	pinned[i] = !access(path, F_OK);
	return true;
}

/* The info of the link pinned as pin @i, through a fd of its own */
static int pin_info(int i, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);
	char path[64];
	int fd, err;

	pin_path(i, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, len);
	err = bpf_link_get_info_by_fd(fd, info, &len) ? -errno : 0;
	close(fd);
	return err;
}

/* Does a fd of the trace, or a pin but pin @i, hold link @id? */
static bool held_elsewhere(int i, __u32 id)
{
	struct bpf_link_info info;
	__u32 len;
	int k;

	for (k = 0; k < NR_LINKS; k++) {
		len = sizeof(info);
		memset(&info, 0, len);
		if (link_live(&links[k]) && !links[k].legacy &&
		    !bpf_link_get_info_by_fd(link_fd(&links[k]), &info, &len) && info.id == id)
			return true;
	}
	for (k = 0; k < NR_PINS; k++)
		if (k != i && pinned[k] && !pin_info(k, &info) && info.id == id)
			return true;
	return false;
}

/* Is @name one of the names of the sysctl's @list (which it cuts up)? */
static bool listed(char *list, const char *name)
{
	char *n, *save;

	for (n = strtok_r(list, " ", &save); n; n = strtok_r(NULL, " ", &save))
		if (!strcmp(n, name))
			return true;
	return false;
}

/* Until no algorithm of @name is registered, 5 s at most */
static void wait_unregistered(const char *name)
{
	char avail[256];
	int tries;

	for (tries = 0; tries < 500; tries++) {
		read_sysctl("tcp_available_congestion_control", avail, sizeof(avail));
		if (!listed(avail, name))
			return;
		usleep(10000);
	}
}

/*
 * The unlink of a pin: the kernel puts the link's reference it held, in a
 * work item. When it is the last reference, the trace waits for the release
 * to unregister the link's map, as the close of a last fd does before it
 * returns, so that what it prints next does not depend on when work runs.
 */
static bool op_unpin(void)
{
	struct bpf_link_info info;
	int i = rnd(NR_PINS), m;
	char path[64];
	bool last;

	if (!pinned[i])
		return false;
	pin_path(i, path, sizeof(path));
	last = !pin_info(i, &info) && !held_elsewhere(i, info.id);
	printf("unpin pin %d: %d\n", i, unlink(path) ? -errno : 0);
	pinned[i] = false;
	m = last ? map_index_by_id(info.struct_ops.map_id) : -1;
	if (m >= 0)
		wait_unregistered(ca_names[m]);
	return true;
}

/* BPF_OBJ_GET of a pin: one more link, by its pin */
static bool op_obj_get(void)
{
	int i = rnd(NR_PINS), k = pick_link(false), fd;
	char path[64];

	if (!pinned[i] || k < 0)
		return false;
	pin_path(i, path, sizeof(path));
	fd = bpf_obj_get(path);
	printf("BPF_OBJ_GET of pin %d as link %d: %d\n", i, k, fd < 0 ? -errno : 0);
	if (fd >= 0)
		links[k].fd = fd;
	return true;
}

/* The fd by id first, then libbpf's link or the raw fd */
static bool op_close(void)
{
	int k = pick_link(true);
	struct link *lk;

	if (k < 0)
		return false;
	lk = &links[k];
	if (lk->extra >= 0) {
		printf("close the fd by id of link %d\n", k);
		close(lk->extra);
		lk->extra = -1;
	} else if (lk->l) {
		printf("libbpf destroy link %d: %d\n", k, bpf_link__destroy(lk->l));
		lk->l = NULL;
		lk->legacy = false;
	} else {
		printf("close link %d\n", k);
		close(lk->fd);
		lk->fd = -1;
	}
	return true;
}

static bool op_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLHUP }, got = {};
	int k = pick_link(true), efd, n;

	if (k < 0 || links[k].legacy)
		return false;
	efd = epoll_create1(0);
	if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, link_fd(&links[k]), &ev)) {
		printf("epoll of link %d: %d\n", k, -errno);
	} else {
		n = epoll_wait(efd, &got, 1, 0);
		printf("epoll of link %d: %d, events %#x\n", k, n, n > 0 ? got.events : 0);
	}
	if (efd >= 0)
		close(efd);
	return true;
}

/* The element of any map: only the legacy map's may be deleted */
static bool op_delete(void)
{
	int i = pick_map(), zero = 0;

	printf("delete of %s's element: %d\n", map_names[i],
	       err_of(bpf_map_delete_elem(bpf_map__fd(maps[i]), &zero)));
	return true;
}

/*
 * A struct_ops map of tcp_congestion_ops made by BPF_MAP_CREATE with a flag
 * both kernels know (bits 0 to 12, BPF_F_LINK's 13 with or without one),
 * closed at once: only 0 and BPF_F_LINK are accepted.
 */
static bool op_map_create(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	unsigned int bit = rnd(14), with_link = rnd(2);
	int fd;

	/* the object's BTF, as libbpf gives: the kernel asks for one */
	opts.btf_fd = bpf_object__btf_fd(skel->obj);
	opts.btf_vmlinux_value_type_id = map_info[0].btf_vmlinux_value_type_id;
	opts.map_flags = (bit < 13 ? 1U << bit : 0) | (with_link ? BPF_F_LINK : 0);
	fd = bpf_map_create(BPF_MAP_TYPE_STRUCT_OPS, "made", sizeof(int), map_info[0].value_size,
			    1, &opts);
	printf("BPF_MAP_CREATE of a tcp_congestion_ops map, flags %#x: %d\n", opts.map_flags,
	       fd < 0 ? -errno : 0);
	if (fd >= 0)
		close(fd);
	return true;
}

static bool op_default(void)
{
	static const char * const names[] = {
		"tcp_ca_update", "tcp_ca_other", "tcp_ca_no_link", "reno", "cubic", "nonesuch",
	};
	const char *name = names[rnd(6)];

	printf("default := %s: %d\n", name, write_sysctl("tcp_congestion_control", name));
	return true;
}

static bool op_allowed(void)
{
	static const char * const lists[] = {
		"reno cubic", "reno cubic tcp_ca_update", "tcp_ca_update", "tcp_ca_other reno",
		"tcp_ca_update tcp_ca_no_link cubic", "cubic nonesuch",
	};
	const char *list = lists[rnd(6)];

	printf("allowed := %s: %d\n", list, write_sysctl("tcp_allowed_congestion_control", list));
	return true;
}

static int listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (void *)&a, sizeof(a)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* A connection to @l with @want (NULL: the default): its CA's name, or an errno */
static void connect_cc(int l, const char *want, char *cc, size_t size)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a), len = size;
	int fd, afd;

	snprintf(cc, size, "%d", -EINVAL);
	if (getsockname(l, (void *)&a, &alen))
		return;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && want && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, want, strlen(want))) {
		snprintf(cc, size, "setsockopt %d", -errno);
	} else if (fd < 0 || connect(fd, (void *)&a, alen)) {
		snprintf(cc, size, "%d", -errno);
	} else {
		afd = accept(l, NULL, NULL);	/* the passive side's ->init() is done */
		if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &len))
			snprintf(cc, size, "%d", -errno);
		if (afd >= 0)
			close(afd);
	}
	if (fd >= 0)
		close(fd);
}

/* How many times each BPF implementation's ->init() has run */
static void read_inits(int n[3])
{
	n[0] = skel->bss->ca1_init_calls;
	n[1] = skel->bss->ca2_init_calls;
	n[2] = skel->bss->ca3_init_calls;
}

/* Which BPF implementation ran since @before */
static void print_ran(const int before[3])
{
	int now[3];

	read_inits(now);
	printf(", ran ca1 %d ca2 %d ca3 %d\n", now[0] - before[0], now[1] - before[1],
	       now[2] - before[2]);
}

static bool op_connect(void)
{
	int before[3];
	static const char * const names[] = { NULL, "tcp_ca_update", "tcp_ca_other" };
	const char *want = names[rnd(3)];
	char cc[32];

	read_inits(before);
	connect_cc(lfd, want, cc, sizeof(cc));
	printf("connect in init_net with %s: %s", want ?: "the default", cc);
	print_ran(before);
	return true;
}

/* Into a network namespace of its own, its loopback up: 0, or what failed in @err */
static int netns_enter(char *err, size_t size)
{
	struct ifreq ifr = { .ifr_name = "lo", .ifr_flags = IFF_UP };
	int s;

	if (unshare(CLONE_NEWNET)) {
		snprintf(err, size, "unshare %d", -errno);
		return -1;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || ioctl(s, SIOCSIFFLAGS, &ifr)) {
		snprintf(err, size, "lo up %d", -errno);
		return -1;
	}
	close(s);
	return 0;
}

/* In the namespace: its default and what a connection got, into @out */
static void netns_probe(int l, char *out, size_t size)
{
	char def[64], cc[32];

	read_sysctl("tcp_congestion_control", def, sizeof(def));
	if (l < 0)
		snprintf(cc, sizeof(cc), "%d", l);
	else
		connect_cc(l, NULL, cc, sizeof(cc));
	snprintf(out, size, "default %s, connect %s", def, cc);
}

static const char * const default_names[] = { "tcp_ca_update", "tcp_ca_other", "reno" };

/*
 * A new namespace, gone at once: what it copied as its default, a write of
 * its own default (a BPF name there is refused unless it is allowed for
 * all), and a connection.
 */
static bool op_netns(void)
{
	const char *name = default_names[rnd(3)];
	char out[160] = "";
	int before[3], p[2], status;
	pid_t pid;

	read_inits(before);
	if (pipe(p))
		return false;
	pid = fork();
	if (pid == 0) {
		char first[64], err[32];
		int ret;

		close(p[0]);
		if (netns_enter(err, sizeof(err))) {
			dprintf(p[1], "%s", err);
			_exit(0);
		}
		read_sysctl("tcp_congestion_control", first, sizeof(first));
		ret = write_sysctl("tcp_congestion_control", name);
		netns_probe(listener(), out, sizeof(out));
		dprintf(p[1], "copied %s, set %s: %d, %s", first, name, ret, out);
		_exit(0);
	}
	close(p[1]);
	if (pid > 0) {
		if (read(p[0], out, sizeof(out) - 1) < 0)
			snprintf(out, sizeof(out), "read %d", -errno);
		waitpid(pid, &status, 0);
	}
	close(p[0]);
	printf("a new netns: %s", pid < 0 ? "fork failed" : out);
	print_ran(before);
	return true;
}

/*
 * A namespace that lives until the seed's end, made by the first call (it
 * copies the default of that moment), asked by the next ones, made again by
 * one in three: what a link update did to the default of a namespace that
 * already existed. Its process keeps no fd of the trace but its two pipes.
 */
static struct {
	pid_t pid;
	int req, rep;
} kept = { -1, -1, -1 };

static void kept_serve(int req, int rep)
{
	char out[160] = "", err[32];
	int fd, l = -1;
	char c;

	for (fd = 3; fd < 1024; fd++)
		if (fd != req && fd != rep)
			close(fd);
	if (netns_enter(err, sizeof(err)))
		snprintf(out, sizeof(out), "%s", err);
	else
		l = listener();
	while (read(req, &c, 1) == 1) {
		if (!out[0] || l >= 0)
			netns_probe(l, out, sizeof(out));
		if (write(rep, out, sizeof(out)) != sizeof(out))
			break;
	}
	_exit(0);
}

static void kept_end(void)
{
	int status;

	if (kept.pid < 0)
		return;
	close(kept.req);
	close(kept.rep);
	waitpid(kept.pid, &status, 0);
	kept.pid = -1;
	kept.req = -1;
	kept.rep = -1;
}

static bool op_netns_kept(void)
{
	char out[160] = "read failed";
	const char *what = kept.pid < 0 ? "made" : "asked";
	int before[3], q[2], r[2];

	read_inits(before);
	if (!rnd(3) && kept.pid >= 0) {	/* rnd() first: the draw is made every time */
		kept_end();	/* and a new one, of the default of now */
		what = "remade";
	}
	if (kept.pid < 0) {
		if (pipe(q))
			return false;
		if (pipe(r)) {
			close(q[0]);
			close(q[1]);
			return false;
		}
		kept.pid = fork();
		if (kept.pid == 0)
			kept_serve(q[0], r[1]);
		close(q[0]);
		close(r[1]);
		kept.req = q[1];
		kept.rep = r[0];
	}
	if (kept.pid < 0 || write(kept.req, "?", 1) != 1 ||
	    read(kept.rep, out, sizeof(out)) != sizeof(out))
		snprintf(out, sizeof(out), "%s", kept.pid < 0 ? "fork failed" : "no answer");
	printf("the kept netns, %s: %s", what, out);
	print_ran(before);
	return true;
}

static bool (*const ops[])(void) = {
	op_attach, op_attach, op_link_create, op_libbpf_update, op_link_update, op_link_update,
	op_link_update, op_detach, op_fd_by_id, op_close, op_close, op_epoll, op_delete,
	op_default, op_allowed, op_connect, op_netns, op_netns_kept, op_map_create, op_pin,
	op_unpin, op_obj_get,
};

/* How many struct_ops maps (@links: links) the kernel has, found by id */
static int count_struct_ops(bool links)
{
	__u32 id = 0;
	int n = 0, fd;

	while (!(links ? bpf_link_get_next_id(id, &id) : bpf_map_get_next_id(id, &id))) {
		fd = links ? bpf_link_get_fd_by_id(id) : bpf_map_get_fd_by_id(id);
		if (fd < 0)
			continue;	/* gone since */
		if (links) {
			struct bpf_link_info info = {};
			__u32 len = sizeof(info);

			if (!bpf_link_get_info_by_fd(fd, &info, &len) &&
			    info.type == BPF_LINK_TYPE_STRUCT_OPS)
				n++;
		} else {
			struct bpf_map_info info = {};
			__u32 len = sizeof(info);

			if (!bpf_map_get_info_by_fd(fd, &info, &len) &&
			    info.type == BPF_MAP_TYPE_STRUCT_OPS)
				n++;
		}
		close(fd);
	}
	return n;
}

/*
 * What the kernel still holds once every fd, link and object of the run is
 * let go of: on both kernels nothing, once the deferred releases (RCU, the
 * exit of the namespaces) are done; waited for up to 30 s.
 */
static int print_left(void)
{
	int maps, links, tries;

	for (tries = 0; tries < 300; tries++) {
		maps = count_struct_ops(false);
		links = count_struct_ops(true);
		if (!maps && !links)
			break;
		usleep(100000);
	}
	printf("left: %d struct_ops maps, %d struct_ops links\n", maps, links);
	return maps + links;
}

/* Everything let go of, and the sysctls as they were */
static void teardown(const char *def, const char *allowed)
{
	int i;

	kept_end();
	for (i = 0; i < NR_PINS; i++) {
		char path[64];

		pin_path(i, path, sizeof(path));
		if (pinned[i])
			unlink(path);
		pinned[i] = false;
	}
	for (i = 0; i < NR_LINKS; i++) {
		if (links[i].extra >= 0)
			close(links[i].extra);
		if (links[i].l)
			bpf_link__destroy(links[i].l);
		if (links[i].fd >= 0)
			close(links[i].fd);
		links[i] = (struct link){ .fd = -1, .extra = -1 };
	}
	tcp_ca_update__destroy(skel);
	skel = NULL;
	/* the pins' releases are work items (op_unpin) */
	for (i = 0; i < NR_MAPS; i++)
		wait_unregistered(ca_names[i]);
	write_sysctl("tcp_congestion_control", def);
	write_sysctl("tcp_allowed_congestion_control", allowed);
}

/* The object of seed @s loaded: skel, maps[] and their map_info[]; 0 or 1 */
static int load_seed(int s)
{
	int i;

	skel = tcp_ca_update__open_and_load();
	if (!skel) {
		fprintf(stderr, "seed %d: tcp_ca_update: %d\n", s, -errno);
		return 1;
	}
	for (i = 0; i < NR_MAPS; i++) {
		__u32 len = sizeof(map_info[i]);

		maps[i] = bpf_object__find_map_by_name(skel->obj, map_names[i]);
		memset(&map_info[i], 0, len);
		if (bpf_map_get_info_by_fd(bpf_map__fd(maps[i]), &map_info[i], &len)) {
			fprintf(stderr, "seed %d: info of %s: %d\n", s, map_names[i], -errno);
			return 1;
		}
	}
	return 0;
}

/*
 * tcp_trace --threads SEED SEEDS ROUNDS: no trace, but what must hold under
 * any interleaving of threads that race the link's update with what reads
 * init_net's default. A link of ca1 (tcp_ca_update) flips between ca1 and
 * ca2 with BPF_F_REPLACE. Each round has two parts:
 * - pairs: CHURN_PAIRS times, one time in two the name taken out of the
 *   allowed list, then one write of the default and one update, each in a
 *   thread started at once and joined; then init_net is checked as below;
 * - namespaces: two threads each make CHURN_NETNS namespaces (each copies
 *   init_net's default, connects, and is kept by a fd until the round ends;
 *   now and then after a pause), while one thread updates the link about
 *   every millisecond and one writes init_net's default (tcp_ca_update twice
 *   as often as cubic or reno), until the first thread of namespaces is done.
 * After it:
 * - every update was accepted: nobody else changes the link's map;
 * - the link's info names the map the updates left it on;
 * - init_net's default is in the allowed list;
 * - in init_net and in each namespace kept, a connection runs the link's
 *   map's ->init() and never the other's if the default is tcp_ca_update,
 *   and neither if not.
 * At each seed's end, the link and the object gone: no struct_ops map or
 * link is left (the namespaces' exits are waited for). A broken rule prints
 * a line "BROKEN: ..." and makes the exit status 1.
 */
#define CHURN_NETNS 5
#define CHURN_PAIRS 10

static const char * const churn_names[] = { "tcp_ca_update", "tcp_ca_update", "cubic", "reno" };

static struct {
	int fd[2];		/* the maps' fds: ca1, ca2 */
	int link;		/* the link's fd */
	int cur;		/* the map the link holds, 0 or 1 */
	int stop;		/* the namespace threads are done (atomic) */
	int updates, writes, bad;
	int kept[2][CHURN_NETNS];
	unsigned int seed;
} ch;

static void broken(const char *fmt, ...)
{
	va_list ap;

	printf("BROKEN: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	__atomic_fetch_add(&ch.bad, 1, __ATOMIC_RELAXED);
}

/* The link to the other map, with BPF_F_REPLACE and the map it holds */
static void *churn_update_once(void *arg)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts, .flags = BPF_F_REPLACE);

	opts.old_map_fd = ch.fd[ch.cur];
	if (bpf_link_update(ch.link, ch.fd[!ch.cur], &opts))
		broken("update from %s to %s: %d", map_names[ch.cur], map_names[!ch.cur], -errno);
	else
		ch.cur = !ch.cur;
	ch.updates++;
	return arg;
}

/* init_net's default := @arg */
static void *churn_write_once(void *arg)
{
	int err = write_sysctl("tcp_congestion_control", arg);

	if (err)
		broken("default := %s: %d", (char *)arg, err);
	ch.writes++;
	return NULL;
}

static void *churn_update(void *arg)
{
	unsigned int st = ch.seed ^ 0x9e3779b9u;

	while (!__atomic_load_n(&ch.stop, __ATOMIC_ACQUIRE)) {
		churn_update_once(NULL);
		usleep(500 + rnd_r(&st, 1000));
	}
	return arg;
}

static void *churn_default(void *arg)
{
	unsigned int st = ch.seed ^ 0x85ebca6bu;

	while (!__atomic_load_n(&ch.stop, __ATOMIC_ACQUIRE)) {
		churn_write_once((void *)churn_names[rnd_r(&st, 4)]);
		usleep(rnd_r(&st, 3000));
	}
	return arg;
}

/* CHURN_NETNS namespaces of this thread's own, each kept by a fd */
static void *churn_netns(void *arg)
{
	int t = (long)arg, i, l;
	unsigned int st = ch.seed + t;
	char err[32], cc[32];

	for (i = 0; i < CHURN_NETNS; i++) {
		usleep(rnd_r(&st, 4) ? 0 : 20000 + rnd_r(&st, 20000));
		if (netns_enter(err, sizeof(err))) {
			broken("a new netns: %s", err);
			break;
		}
		ch.kept[t][i] = open("/proc/thread-self/ns/net", O_RDONLY);
		l = listener();
		if (l >= 0) {
			connect_cc(l, NULL, cc, sizeof(cc));
			close(l);
		}
	}
	return arg;
}

/* In the namespace the thread is in: a connection with its default runs the
 * link's map if the default is tcp_ca_update, and no BPF ->init() if not
 */
static void churn_probe(int round, const char *where)
{
	int before[3], now[3], l, cur_ran, other_ran;
	char out[160];

	read_inits(before);
	l = listener();
	netns_probe(l, out, sizeof(out));
	if (l >= 0)
		close(l);
	read_inits(now);
	cur_ran = now[ch.cur] - before[ch.cur];
	other_ran = now[!ch.cur] - before[!ch.cur];
	if (strstr(out, "default tcp_ca_update,") ? !cur_ran || other_ran : cur_ran || other_ran)
		broken("round %d: %s: %s, ran %s %d and %s %d", round, where, out,
		       map_names[ch.cur], cur_ran, map_names[!ch.cur], other_ran);
}

/* init_net's default is in the allowed list */
static void churn_allowed(int round)
{
	char def[64], allowed[256];

	read_sysctl("tcp_congestion_control", def, sizeof(def));
	read_sysctl("tcp_allowed_congestion_control", allowed, sizeof(allowed));
	if (!listed(allowed, def))
		broken("round %d: init_net's default %s is not allowed", round, def);
}

/* A pair: one time in two the name out of the allowed list first, then a
 * write of the default and an update started at once; once both are done,
 * init_net's default is allowed and runs what it names
 */
static void churn_pair(int round)
{
	const char *name = churn_names[rnd_r(&ch.seed, 4)];
	pthread_t wr, up;

	if (rnd_r(&ch.seed, 2) && write_sysctl("tcp_allowed_congestion_control", "reno cubic"))
		broken("round %d: allowed := reno cubic: %d", round, -errno);
	pthread_create(&wr, NULL, churn_write_once, (void *)name);
	pthread_create(&up, NULL, churn_update_once, NULL);
	pthread_join(wr, NULL);
	pthread_join(up, NULL);
	churn_allowed(round);
	churn_probe(round, "init_net, after a pair");
}

/* The rules of a round's end, in init_net (@self) and each namespace kept */
static void churn_check(int self, int round)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int t, i;

	if (bpf_link_get_info_by_fd(ch.link, &info, &len))
		broken("round %d: link info: %d", round, -errno);
	else if (info.struct_ops.map_id != map_info[ch.cur].id)
		broken("round %d: the link holds %s, not %s", round,
		       map_name_by_id(info.struct_ops.map_id), map_names[ch.cur]);
	churn_allowed(round);
	churn_probe(round, "init_net");
	for (t = 0; t < 2; t++)
		for (i = 0; i < CHURN_NETNS; i++) {
			if (ch.kept[t][i] < 0)
				continue;
			if (setns(ch.kept[t][i], CLONE_NEWNET))
				broken("round %d: setns: %d", round, -errno);
			else
				churn_probe(round, "a kept netns");
			close(ch.kept[t][i]);
			ch.kept[t][i] = -1;
		}
	if (setns(self, CLONE_NEWNET))
		broken("round %d: back to init_net: %d", round, -errno);
}

static int churn(int seed, int seeds, int rounds, const char *def, const char *allowed)
{
	pthread_t up, wr, ns[2];
	struct bpf_link *l;
	int s, r, t, i, self;

	self = open("/proc/self/ns/net", O_RDONLY);
	for (s = seed; s < seed + seeds; s++) {
		if (load_seed(s))
			return 1;
		for (i = 0; i < 2; i++)
			ch.fd[i] = bpf_map__fd(maps[i]);
		/* both maps populated (libbpf does it at attach and update) */
		l = bpf_map__attach_struct_ops(maps[0]);
		if (!l || bpf_link__update_map(l, maps[1])) {
			fprintf(stderr, "seed %d: attach ca1, update to ca2: %d\n", s, -errno);
			return 1;
		}
		ch.link = bpf_link__fd(l);
		ch.cur = 1;
		for (r = 0; r < rounds; r++) {
			ch.seed = s * 2654435761u + r + 1;
			ch.stop = 0;
			ch.updates = 0;
			ch.writes = 0;
			memset(ch.kept, -1, sizeof(ch.kept));
			for (i = 0; i < CHURN_PAIRS; i++)
				churn_pair(r);
			pthread_create(&up, NULL, churn_update, NULL);
			pthread_create(&wr, NULL, churn_default, NULL);
			for (t = 0; t < 2; t++)
				pthread_create(&ns[t], NULL, churn_netns, (void *)(long)t);
			/* the updates end with the first thread of namespaces: the
			 * other one's last namespaces are made after them, or while
			 * the last ones ran, and no later update moves them
			 */
			pthread_join(ns[0], NULL);
			__atomic_store_n(&ch.stop, 1, __ATOMIC_RELEASE);
			pthread_join(up, NULL);
			pthread_join(wr, NULL);
			pthread_join(ns[1], NULL);
			churn_check(self, r);
			printf("threads seed %d round %d: %d updates, %d default writes, ",
			       s, r, ch.updates, ch.writes);
			printf("%d namespaces\n", 2 * CHURN_NETNS);
		}
		write_sysctl("tcp_congestion_control", def);
		write_sysctl("tcp_allowed_congestion_control", allowed);
		bpf_link__destroy(l);
		tcp_ca_update__destroy(skel);
		skel = NULL;
	}
	close(self);
	if (print_left())
		broken("struct_ops maps or links left once all is let go of");
	return ch.bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	char def[64], allowed[256];
	int seed, seeds, nr, s, op, i, tries;

	if (argc != 4 && (argc != 5 || strcmp(argv[1], "--threads"))) {
		fprintf(stderr, "usage: %s [--threads] SEED SEEDS OPS\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	read_sysctl("tcp_congestion_control", def, sizeof(def));
	read_sysctl("tcp_allowed_congestion_control", allowed, sizeof(allowed));
	if (argc == 5)
		return churn(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), def, allowed);
	seed = atoi(argv[1]);
	seeds = atoi(argv[2]);
	nr = atoi(argv[3]);
	lfd = listener();
	if (lfd < 0) {
		fprintf(stderr, "listener: %d\n", lfd);
		return 1;
	}
	for (i = 0; i < NR_LINKS; i++)
		links[i] = (struct link){ .fd = -1, .extra = -1 };
	for (s = seed; s < seed + seeds; s++) {
		if (load_seed(s))
			return 1;
		rng = s * 2654435761u ?: 1;
		printf("seed %d\n", s);
		print_state();		/* where the seed starts from */
		for (op = 0; op < nr; op++) {
			printf("%d ", op);
			/* an operation that finds nothing to act on is drawn again */
			for (tries = 0; tries < 8; tries++)
				if (ops[rnd(sizeof(ops) / sizeof(ops[0]))]())
					break;
			if (tries == 8)
				printf("nothing to act on\n");
			fflush(stdout);
			print_state();
		}
		teardown(def, allowed);
		printf("seed %d: end\n", s);
		print_state();
	}
	close(lfd);
	print_left();
	return 0;
}
