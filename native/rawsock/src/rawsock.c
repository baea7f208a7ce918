// Raw sockets for halb: IPv4/IPv6 SOCK_RAW (VRRP protocol 112, ICMPv6 for neighbour
// advertisements) and AF_PACKET (gratuitous ARP). Node-API only, so one build serves every
// Node version with the same N-API level; libuv's uv_poll drives receiving on the JS thread.
//
// A socket is a plain JS object wrapping a sock_t. Every function takes that object first.
// Errors are thrown as JS Errors with .code (e.g. "EPERM"), .errno and .syscall, like node's own.

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "rawsock.h"

#define RECV_BUF_SIZE 9216 /* jumbo frame; VRRP adverts are far smaller */
#define RECV_BATCH 64      /* bound work per wake-up; uv_poll is level-triggered */

/* ---------- error helpers ---------- */

void throw_errno(napi_env env, const char *syscall, int err) {
  char msg[256];
  const char *name = strerrorname_np(err);
  if (name == NULL) name = "EUNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error, errno_v, syscall_v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_int32(env, -err, &errno_v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, error, "errno", errno_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  napi_throw(env, error);
}

static napi_value make_errno_error(napi_env env, const char *syscall, int err) {
  /* Same shape as throw_errno, for delivery to a callback instead of throwing. */
  char msg[256];
  const char *name = strerrorname_np(err);
  if (name == NULL) name = "EUNKNOWN";
  snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value code, message, error, syscall_v;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_v);
  napi_set_named_property(env, error, "syscall", syscall_v);
  return error;
}

/* ---------- argument helpers ---------- */

sock_t *get_sock(napi_env env, napi_value v) {
  sock_t *s = NULL;
  if (napi_unwrap(env, v, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "rawsock: expected a socket handle");
    return NULL;
  }
  if (s->closed) {
    napi_throw_error(env, "ERR_SOCKET_CLOSED", "rawsock: socket is closed");
    return NULL;
  }
  return s;
}

int get_str(napi_env env, napi_value v, char *out, size_t size, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, size, &len) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "rawsock: %s must be a string", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  if (len >= size - 1) {
    char msg[128];
    snprintf(msg, sizeof msg, "rawsock: %s is too long", what);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

int get_i32(napi_env env, napi_value v, int32_t *out, const char *what) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "rawsock: %s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  return 0;
}

int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 1;
  return t == napi_undefined || t == napi_null;
}

/* Parse an address of the socket's family into a sockaddr. */
int parse_addr(napi_env env, int family, napi_value v, struct sockaddr_storage *ss, socklen_t *len,
                      const char *what) {
  char text[INET6_ADDRSTRLEN + 1];
  if (get_str(env, v, text, sizeof text, what) < 0) return -1;
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &sin->sin_addr) != 1) goto bad;
    *len = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1) goto bad;
    *len = sizeof *sin6;
  }
  return 0;
bad : {
  char msg[192];
  snprintf(msg, sizeof msg, "rawsock: %s \"%s\" is not an IPv%d address", what, text, family == AF_INET ? 4 : 6);
  napi_throw_type_error(env, "ERR_INVALID_ADDRESS", msg);
  return -1;
}
}

/* ---------- lifecycle ---------- */

static void free_poll(uv_handle_t *h) { free(h); }

static void close_sock(napi_env env, sock_t *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->poll != NULL) {
    uv_poll_stop(s->poll);
    uv_close((uv_handle_t *)s->poll, free_poll);
    s->poll = NULL;
  }
  if (s->on_packet) napi_delete_reference(env, s->on_packet);
  if (s->on_error) napi_delete_reference(env, s->on_error);
  s->on_packet = s->on_error = NULL;
  if (s->async) napi_async_destroy(env, s->async);
  s->async = NULL;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  sock_t *s = data;
  close_sock(env, s);
  free(s->buf);
  free(s);
}

static napi_value wrap_fd(napi_env env, int fd, int family) {
  sock_t *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    napi_throw_error(env, NULL, "rawsock: out of memory");
    return NULL;
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, s, finalize_sock, NULL, NULL) != napi_ok) {
    close(fd);
    free(s);
    napi_throw_error(env, NULL, "rawsock: cannot wrap socket");
    return NULL;
  }
  return obj;
}

/* openInet(family: 4|6, protocol: number) */
static napi_value open_inet(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fam, proto;
  if (argc < 2 || get_i32(env, argv[0], &fam, "family") < 0 || get_i32(env, argv[1], &proto, "protocol") < 0)
    return NULL;
  if (fam != 4 && fam != 6) THROW_TYPE("rawsock: family must be 4 or 6");
  if (proto < 1 || proto > 255) THROW_TYPE("rawsock: protocol must be 1..255");
  int family = fam == 4 ? AF_INET : AF_INET6;
  int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  return wrap_fd(env, fd, family);
}

/* openPacket(): AF_PACKET socket for sending whole Ethernet frames. Protocol 0 so it
 * receives nothing and never queues traffic nobody reads. */
static napi_value open_packet(napi_env env, napi_callback_info info) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket(AF_PACKET)", errno);
    return NULL;
  }
  return wrap_fd(env, fd, AF_PACKET);
}

static napi_value close_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = NULL;
  if (argc < 1 || napi_unwrap(env, argv[0], (void **)&s) != napi_ok || s == NULL)
    THROW_TYPE("rawsock: expected a socket handle");
  close_sock(env, s); /* idempotent */
  return NULL;
}

/* ---------- options ---------- */

static int sockopt(napi_env env, sock_t *s, int level, int name, const void *val, socklen_t len, const char *what) {
  if (setsockopt(s->fd, level, name, val, len) < 0) {
    throw_errno(env, what, errno);
    return -1;
  }
  return 0;
}

/* bindToDevice(h, name): "" unbinds. */
static napi_value bind_to_device(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: bindToDevice(handle, name)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  char name[IFNAMSIZ + 1];
  if (get_str(env, argv[1], name, sizeof name, "interface name") < 0) return NULL;
  sockopt(env, s, SOL_SOCKET, SO_BINDTODEVICE, name, (socklen_t)strlen(name), "setsockopt(SO_BINDTODEVICE)");
  return NULL;
}

/* bindAddress(h, address): note a raw socket bound to an address only receives packets
 * addressed to it, so a multicast receiver must stay unbound (use send's source instead). */
static napi_value bind_address(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: bindAddress(handle, address)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family == AF_PACKET) THROW_TYPE("rawsock: bindAddress is for IP sockets");
  struct sockaddr_storage ss;
  socklen_t len;
  if (parse_addr(env, s->family, argv[1], &ss, &len, "bind address") < 0) return NULL;
  if (bind(s->fd, (struct sockaddr *)&ss, len) < 0) throw_errno(env, "bind", errno);
  return NULL;
}

/* setHopLimit(h, n): unicast TTL/hop limit and multicast TTL/hops together. */
static napi_value set_hop_limit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setHopLimit(handle, hops)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int32_t hops;
  if (get_i32(env, argv[1], &hops, "hops") < 0) return NULL;
  if (hops < 1 || hops > 255) THROW_TYPE("rawsock: hops must be 1..255");
  int v = hops;
  if (s->family == AF_INET) {
    if (sockopt(env, s, IPPROTO_IP, IP_TTL, &v, sizeof v, "setsockopt(IP_TTL)") < 0) return NULL;
    sockopt(env, s, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof v, "setsockopt(IP_MULTICAST_TTL)");
  } else if (s->family == AF_INET6) {
    if (sockopt(env, s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v, "setsockopt(IPV6_UNICAST_HOPS)") < 0)
      return NULL;
    sockopt(env, s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof v, "setsockopt(IPV6_MULTICAST_HOPS)");
  } else {
    THROW_TYPE("rawsock: setHopLimit is for IP sockets");
  }
  return NULL;
}

/* setTrafficClass(h, tos): IP_TOS or IPV6_TCLASS (keepalived sends VRRP with 0xc0). */
static napi_value set_traffic_class(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setTrafficClass(handle, tos)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int32_t tos;
  if (get_i32(env, argv[1], &tos, "tos") < 0) return NULL;
  if (tos < 0 || tos > 255) THROW_TYPE("rawsock: tos must be 0..255");
  int v = tos;
  if (s->family == AF_INET)
    sockopt(env, s, IPPROTO_IP, IP_TOS, &v, sizeof v, "setsockopt(IP_TOS)");
  else if (s->family == AF_INET6)
    sockopt(env, s, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v, "setsockopt(IPV6_TCLASS)");
  else
    THROW_TYPE("rawsock: setTrafficClass is for IP sockets");
  return NULL;
}

/* setDontFragment(h, on): IPv4 DF bit via IP_MTU_DISCOVER (DO when on, DONT when off).
 * keepalived's adverts go out without DF; so do ours. IPv6 never fragments in flight. */
static napi_value set_dont_fragment(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setDontFragment(handle, on)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  bool on;
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) THROW_TYPE("rawsock: on must be a boolean");
  if (s->family != AF_INET) THROW_TYPE("rawsock: setDontFragment is for IPv4 sockets");
  int v = on ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  sockopt(env, s, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof v, "setsockopt(IP_MTU_DISCOVER)");
  return NULL;
}

/* setMulticastInterface(h, ifindex) */
static napi_value set_multicast_if(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setMulticastInterface(handle, ifindex)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int32_t ifindex;
  if (get_i32(env, argv[1], &ifindex, "ifindex") < 0) return NULL;
  if (s->family == AF_INET) {
    struct ip_mreqn m;
    memset(&m, 0, sizeof m);
    m.imr_ifindex = ifindex;
    sockopt(env, s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m, "setsockopt(IP_MULTICAST_IF)");
  } else if (s->family == AF_INET6) {
    int v = ifindex;
    sockopt(env, s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof v, "setsockopt(IPV6_MULTICAST_IF)");
  } else {
    THROW_TYPE("rawsock: setMulticastInterface is for IP sockets");
  }
  return NULL;
}

/* setMulticastLoop(h, on) */
static napi_value set_multicast_loop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setMulticastLoop(handle, on)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  bool on;
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) THROW_TYPE("rawsock: on must be a boolean");
  int v = on ? 1 : 0;
  if (s->family == AF_INET)
    sockopt(env, s, IPPROTO_IP, IP_MULTICAST_LOOP, &v, sizeof v, "setsockopt(IP_MULTICAST_LOOP)");
  else if (s->family == AF_INET6)
    sockopt(env, s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof v, "setsockopt(IPV6_MULTICAST_LOOP)");
  else
    THROW_TYPE("rawsock: setMulticastLoop is for IP sockets");
  return NULL;
}

/* joinGroup / leaveGroup (h, group, ifindex) */
static napi_value membership(napi_env env, napi_callback_info info, int join) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("rawsock: joinGroup/leaveGroup(handle, group, ifindex)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family == AF_PACKET) THROW_TYPE("rawsock: multicast groups are for IP sockets");
  struct sockaddr_storage ss;
  socklen_t len;
  if (parse_addr(env, s->family, argv[1], &ss, &len, "multicast group") < 0) return NULL;
  int32_t ifindex;
  if (get_i32(env, argv[2], &ifindex, "ifindex") < 0) return NULL;
  if (s->family == AF_INET) {
    struct ip_mreqn m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = ((struct sockaddr_in *)&ss)->sin_addr;
    m.imr_ifindex = ifindex;
    sockopt(env, s, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m,
            join ? "setsockopt(IP_ADD_MEMBERSHIP)" : "setsockopt(IP_DROP_MEMBERSHIP)");
  } else {
    struct ipv6_mreq m;
    memset(&m, 0, sizeof m);
    m.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&ss)->sin6_addr;
    m.ipv6mr_interface = (unsigned)ifindex;
    sockopt(env, s, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, sizeof m,
            join ? "setsockopt(IPV6_ADD_MEMBERSHIP)" : "setsockopt(IPV6_DROP_MEMBERSHIP)");
  }
  return NULL;
}
static napi_value join_group(napi_env env, napi_callback_info info) { return membership(env, info, 1); }
static napi_value leave_group(napi_env env, napi_callback_info info) { return membership(env, info, 0); }

/* setIcmp6Filter(h, passTypes: number[]): block every ICMPv6 type except those listed.
 * A send-only NA socket passes [] so the kernel never queues the link's ICMPv6 to it. */
static napi_value set_icmp6_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setIcmp6Filter(handle, passTypes)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family != AF_INET6) THROW_TYPE("rawsock: setIcmp6Filter is for IPv6 sockets");
  bool is_array;
  CHECK(napi_is_array(env, argv[1], &is_array));
  if (!is_array) THROW_TYPE("rawsock: passTypes must be an array");
  struct icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  uint32_t n;
  CHECK(napi_get_array_length(env, argv[1], &n));
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    int32_t t;
    CHECK(napi_get_element(env, argv[1], i, &el));
    if (get_i32(env, el, &t, "ICMPv6 type") < 0) return NULL;
    if (t < 0 || t > 255) THROW_TYPE("rawsock: ICMPv6 type must be 0..255");
    ICMP6_FILTER_SETPASS(t, &f);
  }
  sockopt(env, s, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f, "setsockopt(ICMP6_FILTER)");
  return NULL;
}

/* ---------- receiving ---------- */

static void call_js(sock_t *s, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &fn) != napi_ok || fn == NULL) return;
  /* napi_make_callback converts the receiver to an object: undefined throws a TypeError. */
  napi_get_global(env, &recv);
  napi_status st = napi_make_callback(env, s->async, recv, fn, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void report_error(sock_t *s, const char *syscall, int err) {
  napi_value e = make_errno_error(s->env, syscall, err);
  call_js(s, s->on_error, 1, &e);
}

static int deliver_one(sock_t *s) {
  napi_env env = s->env;
  struct sockaddr_storage from;
  union {
    struct cmsghdr align;
    unsigned char buf[512];
  } control;
  struct iovec iov = {.iov_base = s->buf, .iov_len = RECV_BUF_SIZE};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;

  ssize_t n = recvmsg(s->fd, &msg, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno == EINTR) return 1;
    report_error(s, "recvmsg", errno);
    return 0;
  }
  if (msg.msg_flags & MSG_TRUNC) return 1; /* larger than any VRRP/ICMPv6 we handle: skip */

  char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
  int ttl = -1, ifindex = 0;
  if (s->family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&from)->sin_addr, src, sizeof src);
  } else {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&from)->sin6_addr, src, sizeof src);
  }
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      ifindex = pi.ipi_ifindex;
      inet_ntop(AF_INET, &pi.ipi_addr, dst, sizeof dst);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      ttl = v;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      ifindex = (int)pi.ipi6_ifindex;
      inet_ntop(AF_INET6, &pi.ipi6_addr, dst, sizeof dst);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
      int v;
      memcpy(&v, CMSG_DATA(c), sizeof v);
      ttl = v;
    }
  }

  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  napi_value argv[5];
  void *copy;
  napi_create_buffer_copy(env, (size_t)n, s->buf, &copy, &argv[0]);
  napi_create_string_utf8(env, src, NAPI_AUTO_LENGTH, &argv[1]);
  napi_create_string_utf8(env, dst, NAPI_AUTO_LENGTH, &argv[2]);
  napi_create_int32(env, ttl, &argv[3]);
  napi_create_int32(env, ifindex, &argv[4]);
  call_js(s, s->on_packet, 5, argv);
  napi_close_handle_scope(env, scope);
  return 1;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  sock_t *s = h->data;
  if (s == NULL || s->closed) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  if (status < 0) {
    napi_value e;
    char msg[160];
    snprintf(msg, sizeof msg, "rawsock: poll: %s", uv_strerror(status));
    napi_value code, message;
    napi_create_string_utf8(s->env, uv_err_name(status), NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(s->env, msg, NAPI_AUTO_LENGTH, &message);
    napi_create_error(s->env, code, message, &e);
    call_js(s, s->on_error, 1, &e);
  } else {
    /* the callback may close the socket: check every round */
    for (int i = 0; i < RECV_BATCH && !s->closed; i++)
      if (!deliver_one(s)) break;
  }
  napi_close_handle_scope(s->env, scope);
}

/* startReceiving(h, onPacket(buf, src, dst, ttlOrHops, ifindex), onError(err)) */
static napi_value start_receiving(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("rawsock: startReceiving(handle, onPacket, onError)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family == AF_PACKET) THROW_TYPE("rawsock: AF_PACKET sockets here are send-only");
  if (s->poll != NULL) THROW_TYPE("rawsock: already receiving");
  napi_valuetype t1, t2;
  CHECK(napi_typeof(env, argv[1], &t1));
  CHECK(napi_typeof(env, argv[2], &t2));
  if (t1 != napi_function || t2 != napi_function) THROW_TYPE("rawsock: callbacks must be functions");

  int one = 1;
  if (s->family == AF_INET) {
    if (sockopt(env, s, IPPROTO_IP, IP_PKTINFO, &one, sizeof one, "setsockopt(IP_PKTINFO)") < 0) return NULL;
    if (sockopt(env, s, IPPROTO_IP, IP_RECVTTL, &one, sizeof one, "setsockopt(IP_RECVTTL)") < 0) return NULL;
  } else {
    if (sockopt(env, s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one, "setsockopt(IPV6_RECVPKTINFO)") < 0)
      return NULL;
    if (sockopt(env, s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one, "setsockopt(IPV6_RECVHOPLIMIT)") < 0)
      return NULL;
  }
  if (s->buf == NULL) {
    s->buf = malloc(RECV_BUF_SIZE);
    if (s->buf == NULL) {
      napi_throw_error(env, NULL, "rawsock: out of memory");
      return NULL;
    }
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "halb:rawsock", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &s->async));
  CHECK(napi_create_reference(env, argv[1], 1, &s->on_packet));
  CHECK(napi_create_reference(env, argv[2], 1, &s->on_error));
  uv_poll_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    napi_throw_error(env, NULL, "rawsock: out of memory");
    return NULL;
  }
  int r = uv_poll_init(loop, p, s->fd);
  if (r == 0) {
    p->data = s;
    s->poll = p;
    r = uv_poll_start(p, UV_READABLE, on_readable);
  } else {
    free(p);
  }
  if (r != 0) {
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  return NULL;
}

/* drain(h) -> packets delivered: read what is queued now, synchronously. A timer that fires
 * after the loop was starved runs before libuv polls the socket; the VRRP shell drains first so
 * an advert that arrived in time is not mistaken for a silent master. */
static napi_value drain_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  int n = 0;
  if (s->poll != NULL)
    while (n < 4 * RECV_BATCH && !s->closed && deliver_one(s)) n++;
  napi_value out;
  CHECK(napi_create_int32(env, n, &out));
  return out;
}

/* setRef(h, ref): whether an active receiver keeps the event loop alive (default yes). */
static napi_value set_ref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) THROW_TYPE("rawsock: setRef(handle, ref)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  bool on;
  if (napi_get_value_bool(env, argv[1], &on) != napi_ok) THROW_TYPE("rawsock: ref must be a boolean");
  if (s->poll != NULL) {
    if (on)
      uv_ref((uv_handle_t *)s->poll);
    else
      uv_unref((uv_handle_t *)s->poll);
  }
  return NULL;
}

/* ---------- sending ---------- */

/* sendmsg with the source address and interface in a PKTINFO control message; -errno on failure. */
ssize_t rawsock_sendmsg(int fd, int family, const void *data, size_t len, struct sockaddr_storage *dst, socklen_t dlen,
                        const struct sockaddr_storage *src, int32_t ifindex) {
  union {
    struct cmsghdr align;
    unsigned char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_name = dst;
  msg.msg_namelen = dlen;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (src != NULL || ifindex > 0) {
    msg.msg_control = control.buf;
    struct cmsghdr *c;
    if (family == AF_INET) {
      msg.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
      struct in_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      pi.ipi_ifindex = ifindex;
      if (src != NULL) pi.ipi_spec_dst = ((const struct sockaddr_in *)src)->sin_addr;
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    } else {
      msg.msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
      c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
      struct in6_pktinfo pi;
      memset(&pi, 0, sizeof pi);
      pi.ipi6_ifindex = (unsigned)ifindex;
      if (src != NULL) pi.ipi6_addr = ((const struct sockaddr_in6 *)src)->sin6_addr;
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
      /* link-local destinations (ff02::12, fe80::) need their scope */
      ((struct sockaddr_in6 *)dst)->sin6_scope_id = (uint32_t)ifindex;
    }
  }
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

/* send(h, payload, dst, source?, ifindex?) -> bytes sent. source and ifindex go in a
 * PKTINFO control message, so one unbound socket can both receive multicast and send from
 * a chosen address on a chosen interface. */
static napi_value send_fn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("rawsock: send(handle, payload, dst, source?, ifindex?)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family == AF_PACKET) THROW_TYPE("rawsock: use sendFrame for AF_PACKET sockets");
  void *data;
  size_t len;
  bool is_buf;
  CHECK(napi_is_buffer(env, argv[1], &is_buf));
  if (!is_buf) THROW_TYPE("rawsock: payload must be a Buffer");
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));

  struct sockaddr_storage dst;
  socklen_t dlen;
  if (parse_addr(env, s->family, argv[2], &dst, &dlen, "destination") < 0) return NULL;
  int have_src = argc >= 4 && !is_nullish(env, argv[3]);
  struct sockaddr_storage src;
  socklen_t slen;
  if (have_src && parse_addr(env, s->family, argv[3], &src, &slen, "source") < 0) return NULL;
  int32_t ifindex = 0;
  if (argc >= 5 && !is_nullish(env, argv[4]) && get_i32(env, argv[4], &ifindex, "ifindex") < 0) return NULL;

  ssize_t n = rawsock_sendmsg(s->fd, s->family, data, len, &dst, dlen, have_src ? &src : NULL, ifindex);
  if (n < 0) {
    throw_errno(env, "sendmsg", (int)-n);
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

/* sendFrame(h, ifindex, frame) -> bytes sent. frame is a whole Ethernet frame; its
 * destination MAC and EtherType fill the link-layer address. */
static napi_value send_frame(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) THROW_TYPE("rawsock: sendFrame(handle, ifindex, frame)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family != AF_PACKET) THROW_TYPE("rawsock: sendFrame needs an AF_PACKET socket");
  int32_t ifindex;
  if (get_i32(env, argv[1], &ifindex, "ifindex") < 0) return NULL;
  bool is_buf;
  CHECK(napi_is_buffer(env, argv[2], &is_buf));
  if (!is_buf) THROW_TYPE("rawsock: frame must be a Buffer");
  unsigned char *data;
  size_t len;
  CHECK(napi_get_buffer_info(env, argv[2], (void **)&data, &len));
  if (len < 14) THROW_TYPE("rawsock: frame shorter than an Ethernet header");
  struct sockaddr_ll ll;
  memset(&ll, 0, sizeof ll);
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = ifindex;
  ll.sll_halen = ETH_ALEN;
  memcpy(ll.sll_addr, data, ETH_ALEN);
  memcpy(&ll.sll_protocol, data + 12, 2);
  ssize_t n;
  do {
    n = sendto(s->fd, data, len, 0, (struct sockaddr *)&ll, sizeof ll);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    throw_errno(env, "sendto(AF_PACKET)", errno);
    return NULL;
  }
  napi_value out;
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

/* ---------- interface information ---------- */

/* interfaceInfo(name) -> { name, index, mac, up, running, ipv4: string[], ipv6: string[] }
 * Read through the kernel of the calling thread's network namespace (not /sys, which
 * shows the namespace sysfs was mounted in). Addresses are in kernel order: primary first. */
static napi_value interface_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) THROW_TYPE("rawsock: interfaceInfo(name)");
  char name[IFNAMSIZ + 1];
  if (get_str(env, argv[0], name, sizeof name, "interface name") < 0) return NULL;
  unsigned index = if_nametoindex(name);
  if (index == 0) {
    throw_errno(env, "if_nametoindex", errno);
    return NULL;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name));
  char mac[18] = "";
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == 1 /* ARPHRD_ETHER */) {
    unsigned char *m = (unsigned char *)ifr.ifr_hwaddr.sa_data;
    snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  }
  int flags = 0;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) flags = ifr.ifr_flags;
  close(fd);

  napi_value obj, v, v4, v6;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "name", v));
  CHECK(napi_create_uint32(env, index, &v));
  CHECK(napi_set_named_property(env, obj, "index", v));
  CHECK(napi_create_string_utf8(env, mac, NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "mac", v));
  CHECK(napi_get_boolean(env, (flags & IFF_UP) != 0, &v));
  CHECK(napi_set_named_property(env, obj, "up", v));
  CHECK(napi_get_boolean(env, (flags & IFF_RUNNING) != 0, &v));
  CHECK(napi_set_named_property(env, obj, "running", v));
  CHECK(napi_create_array(env, &v4));
  CHECK(napi_create_array(env, &v6));
  struct ifaddrs *ifa_list = NULL;
  if (getifaddrs(&ifa_list) == 0) {
    uint32_t n4 = 0, n6 = 0;
    for (struct ifaddrs *a = ifa_list; a != NULL; a = a->ifa_next) {
      if (a->ifa_addr == NULL || strcmp(a->ifa_name, name) != 0) continue;
      char text[INET6_ADDRSTRLEN];
      if (a->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, text, sizeof text);
        CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v));
        CHECK(napi_set_element(env, v4, n4++, v));
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, text, sizeof text);
        CHECK(napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v));
        CHECK(napi_set_element(env, v6, n6++, v));
      }
    }
    freeifaddrs(ifa_list);
  }
  CHECK(napi_set_named_property(env, obj, "ipv4", v4));
  CHECK(napi_set_named_property(env, obj, "ipv6", v6));
  return obj;
}

/* ---------- addresses ---------- */

/* addAddress(ifname, family, address, prefix, nodad[, label]) -> true if added, false if it was there.
 * label (IPv4 only, IFA_LABEL) is the marker halb's stale-VIP cleanup looks for.
 * One RTM_NEWADDR over NETLINK_ROUTE, answered by the kernel's ack: what `ip addr add` does,
 * without the fork and exec (10-15 ms on a busy 2-core machine), which a takeover at 20 ms
 * adverts waits on before the VIP accepts the clients its gratuitous ARP turns around. */
static napi_value add_address(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) THROW_TYPE("rawsock: addAddress(ifname, family, address, prefix, nodad[, label])");
  char label[IFNAMSIZ + 1] = "";
  if (argc >= 6) {
    napi_valuetype t;
    CHECK(napi_typeof(env, argv[5], &t));
    if (t == napi_string && get_str(env, argv[5], label, sizeof label, "label") < 0) return NULL;
  }
  char name[IFNAMSIZ + 1];
  if (get_str(env, argv[0], name, sizeof name, "interface name") < 0) return NULL;
  int32_t fam, prefix;
  if (get_i32(env, argv[1], &fam, "family") < 0 || get_i32(env, argv[3], &prefix, "prefix") < 0) return NULL;
  bool nodad = false;
  CHECK(napi_get_value_bool(env, argv[4], &nodad));
  int family = fam == 6 ? AF_INET6 : AF_INET;
  char text[INET6_ADDRSTRLEN + 1];
  if (get_str(env, argv[2], text, sizeof text, "address") < 0) return NULL;
  unsigned char addr[16];
  int alen = family == AF_INET ? 4 : 16;
  if (inet_pton(family, text, addr) != 1 || prefix < 0 || prefix > alen * 8) THROW_TYPE("rawsock: addAddress: bad address or prefix");
  unsigned index = if_nametoindex(name);
  if (index == 0) {
    throw_errno(env, "if_nametoindex", errno);
    return NULL;
  }
  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
    char attrs[128];
  } req;
  memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifa);
  req.nh.nlmsg_type = RTM_NEWADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  req.nh.nlmsg_seq = 1;
  req.ifa.ifa_family = (unsigned char)family;
  req.ifa.ifa_prefixlen = (unsigned char)prefix;
  req.ifa.ifa_flags = nodad ? IFA_F_NODAD : 0;
  req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  req.ifa.ifa_index = index;
  /* IPv4 wants both IFA_LOCAL and IFA_ADDRESS (equal on a broadcast link), as iproute2 sends. */
  int types[2] = {IFA_LOCAL, IFA_ADDRESS};
  for (int i = 0; i < 2; i++) {
    struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = (unsigned short)types[i];
    rta->rta_len = (unsigned short)RTA_LENGTH(alen);
    memcpy(RTA_DATA(rta), addr, (size_t)alen);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  }
  if (family == AF_INET && label[0] != '\0') {
    struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
    size_t len = strlen(label) + 1;
    rta->rta_type = IFA_LABEL;
    rta->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), label, len);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    throw_errno(env, "socket", errno);
    return NULL;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    int err = errno;
    close(fd);
    throw_errno(env, "sendto", err);
    return NULL;
  }
  char reply[4096];
  int result = -1;
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = errno;
      break;
    }
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(h);
        result = -e->error;
        break;
      }
    }
    if (result >= 0) break;
  }
  close(fd);
  if (result != 0 && result != EEXIST) {
    throw_errno(env, "RTM_NEWADDR", result);
    return NULL;
  }
  napi_value out;
  CHECK(napi_get_boolean(env, result == 0, &out));
  return out;
}

/* ---------- module ---------- */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"openInet", NULL, open_inet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openPacket", NULL, open_packet, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bindToDevice", NULL, bind_to_device, NULL, NULL, NULL, napi_enumerable, NULL},
      {"bindAddress", NULL, bind_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setHopLimit", NULL, set_hop_limit, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTrafficClass", NULL, set_traffic_class, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setDontFragment", NULL, set_dont_fragment, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMulticastInterface", NULL, set_multicast_if, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setMulticastLoop", NULL, set_multicast_loop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"joinGroup", NULL, join_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"leaveGroup", NULL, leave_group, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setIcmp6Filter", NULL, set_icmp6_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"startReceiving", NULL, start_receiving, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setRef", NULL, set_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"drain", NULL, drain_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, send_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendFrame", NULL, send_frame, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceInfo", NULL, interface_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addAddress", NULL, add_address, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  if (pacer_register(env, exports) != 0) return NULL;
  return exports;
}
