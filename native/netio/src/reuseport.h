/* Spreading a port's connections evenly over the worker processes that each listen on it with
 * SO_REUSEPORT. The kernel's default picks a socket by a hash of the connection's addresses,
 * which for a few dozen long-lived keep-alive connections is often uneven (38 against 26 of 64
 * measured), and the busier worker's longer loop turns show as tail latency. An eBPF program
 * attached to the port's socket group hands out connections in turn instead. */
#ifndef HALB_REUSEPORT_H
#define HALB_REUSEPORT_H

#include <node_api.h>

/* Attaches the in-turn program for `workers` sockets to `listen_fd`'s group: 0, or an errno with
 * `what` naming the step that failed (loading eBPF needs CAP_BPF or root). */
int reuseport_spread(int listen_fd, int workers, const char **what);
/* reuseportSpread(listenFd, workers) -> undefined, or a message saying why not */
napi_value reuseport_spread_fn(napi_env env, napi_callback_info info);

#endif
