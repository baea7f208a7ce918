// TCP byte relay for halb's TCP mode: moves bytes between an accepted client connection and a
// connected server connection without running JavaScript per chunk.
//
// JS hands over both sockets' file descriptors once the server is connected. We dup() them and
// JS closes its own handles; libuv removes the originals from its epoll set on close (while the
// descriptors are still open, so the registration really goes), and the duplicates keep the TCP
// connections alive. From then on uv_poll on the loop thread drives recv()/send() here, the way
// HAProxy does it: one shared read buffer, data written straight on; only bytes the kernel would
// not take are copied aside, and the side they came from stops being read until they are out
// (backpressure). A FIN read from one side is passed on as shutdown(SHUT_WR) once everything
// before it has been written (half-close); a reset or write error on one side resets the other
// (SO_LINGER 0) so the peer learns the stream was cut. Each side has an idle timeout. When the
// relay ends, JS gets one callback with the byte counts and how it ended.
//
// Everything runs on the Node event loop thread: no locks, no thread-safe functions.

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "turn-end.h"

#define READ_BUF_SIZE (64 * 1024)
/* reads per wake-up while the buffer keeps coming back full; epoll is level-triggered */
#define READS_PER_WAKE 4
/* reads at least this big are sent at once rather than queued for the end of the loop turn */
#define DIRECT_SEND 16384

enum { CLIENT = 0, SERVER = 1 };

/* must match RelayTermination's order in index.d.ts */
enum termination {
  T_CLOSED = 0,
  T_CLIENT_RESET,
  T_SERVER_RESET,
  T_CLIENT_IDLE,
  T_SERVER_IDLE,
  T_ABORTED,
};

typedef struct relay relay_t;

typedef struct side side_t;
struct side {
  relay_t *relay;
  int fd;
  uv_poll_t poll;
  int polled;          /* UV_* events the poll is started with; 0 = stopped */
  char *pending;       /* bytes waiting to be written to this side */
  size_t pending_len;  /* bytes in pending still to write */
  size_t pending_off;  /* start of the unwritten part */
  int read_eof;        /* this side sent FIN (recv returned 0) */
  int shut_pending;    /* pass a FIN on to this side once pending is written */
  int shut_done;       /* shutdown(SHUT_WR) done on this side */
  uint64_t bytes_in;   /* read from this side */
  uint64_t bytes_out;  /* written to this side */
  uint64_t idle_ms;    /* 0 = no idle timeout */
  uint64_t last_active;
  int queued;          /* pending holds bytes queued for the check phase, not refused by the kernel */
  side_t *next_queued;
};

/* Sides with queued bytes, sent after the poll phase (one per thread, like read_buf): the bytes
 * one loop turn relays to a peer leave in one send, after the turn's reads, in the order they
 * were queued. */
static _Thread_local struct {
  int ready;
  turn_end_t flush;
  side_t *head, *tail;
} sendq;

typedef struct {
  relay_t *relay; /* NULL once the relay has ended */
} box_t;

struct relay {
  napi_env env;
  uv_loop_t *loop;
  napi_ref on_done;
  napi_async_context async;
  box_t *box; /* the JS handle's box; NULL when JS dropped it */
  side_t side[2];
  uv_timer_t timer;
  int ending;          /* teardown started: no more I/O */
  int open_handles;    /* uv handles whose close callback is outstanding */
  enum termination termination;
  int first_fin;       /* -1 none, else CLIENT/SERVER */
  int err_side;        /* -1 none */
  int err_errno;
  const char *err_syscall;
};

/* one per thread: a worker_thread loading the addon gets its own */
static _Thread_local char read_buf[READ_BUF_SIZE];

static void update_polling(relay_t *r);
static void end_relay(relay_t *r, enum termination t, int reset_side);
static void on_poll(uv_poll_t *h, int status, int events);

static inline side_t *other(relay_t *r, side_t *s) { return s == &r->side[CLIENT] ? &r->side[SERVER] : &r->side[CLIENT]; }
static inline int side_index(relay_t *r, side_t *s) { return s == &r->side[CLIENT] ? CLIENT : SERVER; }

/* ---------- I/O ---------- */

static void fail(relay_t *r, side_t *s, int err, const char *syscall) {
  int i = side_index(r, s);
  if (r->err_side < 0) {
    r->err_side = i;
    r->err_errno = err;
    r->err_syscall = syscall;
  }
  /* the broken side is gone anyway; the other side is reset so it sees the stream was cut */
  end_relay(r, i == CLIENT ? T_CLIENT_RESET : T_SERVER_RESET, i == CLIENT ? SERVER : CLIENT);
}

static void pass_fin(relay_t *r, side_t *to) {
  if (to->shut_done) return;
  if (to->pending_len > 0) {
    to->shut_pending = 1;
    return;
  }
  to->shut_done = 1;
  to->shut_pending = 0;
  if (shutdown(to->fd, SHUT_WR) < 0 && errno != ENOTCONN) fail(r, to, errno, "shutdown");
}

/* Write to `to`; whatever the kernel does not take is kept. Returns 0, or -1 after fail(). */
static int write_to(relay_t *r, side_t *to, const char *data, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t w = send(to->fd, data + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(r, to, errno, "write");
      return -1;
    }
    break;
  }
  to->bytes_out += done;
  if (done > 0) to->last_active = uv_now(r->loop);
  if (done < len) {
    size_t rest = len - done;
    char *p = malloc(rest);
    if (p == NULL) {
      fail(r, to, ENOMEM, "write");
      return -1;
    }
    memcpy(p, data + done, rest);
    to->pending = p;
    to->pending_off = 0;
    to->pending_len = rest;
  }
  return 0;
}

static int finished(relay_t *r);

/* Appends to `to`'s pending bytes, to be sent from the check phase. -1 after fail(). */
static int queue_to(relay_t *r, side_t *to, const char *data, size_t len) {
  if (to->pending_len > 0 && to->pending_off > 0) {
    memmove(to->pending, to->pending + to->pending_off, to->pending_len);
    to->pending_off = 0;
  }
  char *p = realloc(to->pending, to->pending_len + len);
  if (p == NULL) {
    fail(r, to, ENOMEM, "write");
    return -1;
  }
  memcpy(p + to->pending_len, data, len);
  to->pending = p;
  to->pending_off = 0;
  to->pending_len += len;
  if (!to->queued) {
    to->queued = 1;
    to->next_queued = NULL;
    if (sendq.head == NULL) sendq.head = to;
    else sendq.tail->next_queued = to;
    sendq.tail = to;
    turn_end_arm(&sendq.flush);
  }
  return 0;
}

static void flush_pending(relay_t *r, side_t *to);

/* Small reads are queued and leave after the poll phase; big ones go out at once, after what is
 * queued, without a copy of what the kernel takes. -1 after fail(). */
static int relay_write(relay_t *r, side_t *to, const char *data, size_t len) {
  if (len >= DIRECT_SEND && to->pending_len == 0) return write_to(r, to, data, len);
  if (queue_to(r, to, data, len) < 0) return -1;
  if (len >= DIRECT_SEND) flush_pending(r, to);
  return r->ending ? -1 : 0;
}

static void update_polling(relay_t *r);

static void flush_queued(void *arg) {
  (void)arg;
  while (sendq.head != NULL) {
    side_t *s = sendq.head;
    sendq.head = s->next_queued;
    if (sendq.head == NULL) sendq.tail = NULL;
    s->next_queued = NULL;
    s->queued = 0;
    relay_t *r = s->relay;
    /* an ended relay is freed only in the closing phase, after this one */
    if (r->ending) continue;
    flush_pending(r, s);
    if (r->ending) continue;
    if (finished(r)) end_relay(r, T_CLOSED, -1);
    else update_polling(r);
  }
}

static void sendq_init(uv_loop_t *loop) {
  if (sendq.ready) return;
  sendq.ready = 1;
  turn_end_init(&sendq.flush, loop, flush_queued, NULL);
}

static void flush_pending(relay_t *r, side_t *to) {
  while (to->pending_len > 0) {
    ssize_t w = send(to->fd, to->pending + to->pending_off, to->pending_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0) {
      to->pending_off += (size_t)w;
      to->pending_len -= (size_t)w;
      to->bytes_out += (uint64_t)w;
      to->last_active = uv_now(r->loop);
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      fail(r, to, errno, "write");
      return;
    }
    return; /* still full: wait for the next writable event */
  }
  free(to->pending);
  to->pending = NULL;
  to->pending_off = 0;
  if (to->shut_pending) pass_fin(r, to);
}

static void read_from(relay_t *r, side_t *from) {
  side_t *to = other(r, from);
  for (int i = 0; i < READS_PER_WAKE; i++) {
    ssize_t n = recv(from->fd, read_buf, READ_BUF_SIZE, 0);
    if (n > 0) {
      from->bytes_in += (uint64_t)n;
      from->last_active = uv_now(r->loop);
      if (relay_write(r, to, read_buf, (size_t)n) < 0) return;
      /* a short read means the socket is drained (saves the recv that would say EAGAIN) */
      if (n < READ_BUF_SIZE || (to->pending_len > 0 && !to->queued)) return;
      continue;
    }
    if (n == 0) {
      from->read_eof = 1;
      if (r->first_fin < 0) r->first_fin = side_index(r, from);
      pass_fin(r, to);
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) fail(r, from, errno, "read");
    return;
  }
}

static int finished(relay_t *r) {
  side_t *c = &r->side[CLIENT], *s = &r->side[SERVER];
  return c->read_eof && s->read_eof && c->shut_done && s->shut_done && c->pending_len == 0 && s->pending_len == 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  relay_t *r = h->data;
  if (r->ending) return;
  side_t *s = h == &r->side[CLIENT].poll ? &r->side[CLIENT] : &r->side[SERVER];
  if (status < 0) {
    /* libuv reports EPOLLERR as UV_EBADF and stops the poll: the socket's own error says what
     * happened (a reset, mostly) */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = -status;
    fail(r, s, err, "read");
    return;
  }
  if (events & UV_WRITABLE) {
    flush_pending(r, s);
    if (r->ending) return;
  }
  if (events & (UV_READABLE | UV_DISCONNECT)) {
    read_from(r, s);
    if (r->ending) return;
  }
  if (finished(r)) {
    end_relay(r, T_CLOSED, -1);
    return;
  }
  update_polling(r);
}

/* ---------- timers ---------- */

static uint64_t next_deadline(relay_t *r) {
  uint64_t best = 0;
  for (int i = 0; i < 2; i++) {
    side_t *s = &r->side[i];
    if (s->idle_ms == 0) continue;
    uint64_t d = s->last_active + s->idle_ms;
    if (best == 0 || d < best) best = d;
  }
  return best;
}

/* Activity only moves a timestamp; the timer re-arms itself for the remaining time when it
 * fires early (what Node's socket timeouts do too): no timer syscall per chunk. */
static void on_timer(uv_timer_t *t) {
  relay_t *r = t->data;
  if (r->ending) return;
  uint64_t now = uv_now(r->loop);
  for (int i = 0; i < 2; i++) {
    side_t *s = &r->side[i];
    if (s->idle_ms > 0 && now - s->last_active >= s->idle_ms) {
      end_relay(r, i == CLIENT ? T_CLIENT_IDLE : T_SERVER_IDLE, -1);
      return;
    }
  }
  uint64_t d = next_deadline(r);
  if (d > 0) uv_timer_start(&r->timer, on_timer, d > now ? d - now : 1, 0);
}

/* ---------- polling ---------- */

static void set_poll(relay_t *r, side_t *s, int events) {
  if (events == s->polled) return;
  int rc = events == 0 ? uv_poll_stop(&s->poll) : uv_poll_start(&s->poll, events, on_poll);
  if (rc < 0) {
    fail(r, s, -rc, "poll");
    return;
  }
  s->polled = events;
}

/* A side is read while the other side has nothing waiting to be written (backpressure) and it
 * has not sent FIN; it is watched for writability while bytes wait for it. */
static void update_polling(relay_t *r) {
  for (int i = 0; i < 2 && !r->ending; i++) {
    side_t *s = &r->side[i];
    side_t *o = other(r, s);
    int ev = 0;
    /* queued bytes are not backpressure: the check phase sends them this turn */
    if (!s->read_eof && (o->pending_len == 0 || o->queued)) ev |= UV_READABLE;
    if (s->pending_len > 0 && !s->queued) ev |= UV_WRITABLE;
    set_poll(r, s, ev);
  }
}

/* ---------- ending ---------- */

static void call_done(relay_t *r) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, result, argv[9];
  if (napi_get_reference_value(env, r->on_done, &fn) == napi_ok && fn != NULL) {
    napi_create_int32(env, (int32_t)r->termination, &argv[0]);
    napi_create_int32(env, r->first_fin, &argv[1]);
    napi_create_double(env, (double)r->side[CLIENT].bytes_in, &argv[2]);
    napi_create_double(env, (double)r->side[CLIENT].bytes_out, &argv[3]);
    napi_create_double(env, (double)r->side[SERVER].bytes_in, &argv[4]);
    napi_create_double(env, (double)r->side[SERVER].bytes_out, &argv[5]);
    napi_create_int32(env, r->err_side, &argv[6]);
    if (r->err_side >= 0) {
      const char *code = r->err_errno == 0 ? "EUNKNOWN" : strerrorname_np(r->err_errno);
      napi_create_string_utf8(env, code == NULL ? "EUNKNOWN" : code, NAPI_AUTO_LENGTH, &argv[7]);
      napi_create_string_utf8(env, r->err_syscall, NAPI_AUTO_LENGTH, &argv[8]);
    } else {
      napi_get_undefined(env, &argv[7]);
      napi_get_undefined(env, &argv[8]);
    }
    /* napi_make_callback converts the receiver to an object: undefined throws a TypeError. */
    napi_get_global(env, &recv);
    napi_status st = napi_make_callback(env, r->async, recv, fn, 9, argv, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_handle_closed(uv_handle_t *h) {
  relay_t *r = h->data;
  if (--r->open_handles > 0) return;
  if (r->box != NULL) r->box->relay = NULL;
  call_done(r);
  napi_delete_reference(r->env, r->on_done);
  napi_async_destroy(r->env, r->async);
  free(r);
}

/* Stops all I/O, closes both connections (resetting `reset_side` if >= 0) and reports to JS
 * once libuv has let go of the handles. Safe to call more than once. */
static void end_relay(relay_t *r, enum termination t, int reset_side) {
  if (r->ending) return;
  r->ending = 1;
  r->termination = t;
  for (int i = 0; i < 2; i++) {
    side_t *s = &r->side[i];
    /* uv_close takes the descriptor out of the loop's epoll set now, so closing it is safe */
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
    if (i == reset_side) {
      struct linger lg = {1, 0};
      setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(s->fd);
    s->fd = -1;
    free(s->pending);
    s->pending = NULL;
    s->pending_len = 0;
  }
  uv_close((uv_handle_t *)&r->timer, on_handle_closed);
}

/* ---------- JS API ---------- */

#define CHECK(call)                                     \
  do {                                                  \
    if ((call) != napi_ok) {                            \
      napi_throw_error(env, NULL, "relay: " #call);     \
      return NULL;                                      \
    }                                                   \
  } while (0)

static void finalize_box(napi_env env, void *data, void *hint) {
  box_t *b = data;
  if (b->relay != NULL) b->relay->box = NULL;
  free(b);
}

static int get_bytes(napi_env env, napi_value v, char **data, size_t *len) {
  napi_valuetype t;
  *data = NULL;
  *len = 0;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) return 0;
  bool is_buf;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return -1;
  void *p;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return -1;
  *data = p;
  return 0;
}

static void throw_errno(napi_env env, const char *syscall, int err) {
  const char *code = strerrorname_np(err);
  char msg[160];
  snprintf(msg, sizeof msg, "relay: %s: %s", syscall, strerror(err));
  napi_throw_error(env, code == NULL ? "EUNKNOWN" : code, msg);
}

/* start(clientFd, serverFd, clientIdleMs, serverIdleMs, toServer?, toClient?, clientEof,
 *       serverEof, onDone) -> handle */
static napi_value start_fn(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_type_error(env, NULL, "relay.start: 9 arguments expected");
    return NULL;
  }
  int32_t fds[2];
  double idle[2];
  bool eof[2];
  char *initial[2];
  size_t initial_len[2];
  for (int i = 0; i < 2; i++) {
    if (napi_get_value_int32(env, argv[i], &fds[i]) != napi_ok || fds[i] < 0 ||
        napi_get_value_double(env, argv[2 + i], &idle[i]) != napi_ok || idle[i] < 0 ||
        napi_get_value_bool(env, argv[6 + i], &eof[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "relay.start: bad descriptor, idle time or eof flag");
      return NULL;
    }
  }
  /* argv[4] goes to the server, argv[5] to the client */
  if (get_bytes(env, argv[4], &initial[SERVER], &initial_len[SERVER]) < 0 ||
      get_bytes(env, argv[5], &initial[CLIENT], &initial_len[CLIENT]) < 0) {
    napi_throw_type_error(env, NULL, "relay.start: initial data must be a Buffer or undefined");
    return NULL;
  }
  napi_valuetype cbt;
  CHECK(napi_typeof(env, argv[8], &cbt));
  if (cbt != napi_function) {
    napi_throw_type_error(env, NULL, "relay.start: onDone must be a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));

  int dups[2] = {-1, -1};
  for (int i = 0; i < 2; i++) {
    dups[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    if (dups[i] < 0) {
      int err = errno;
      if (i == 1) close(dups[0]);
      throw_errno(env, "dup", err);
      return NULL;
    }
  }
  relay_t *r = calloc(1, sizeof *r);
  box_t *box = calloc(1, sizeof *box);
  napi_value handle, name;
  const char *failed = NULL;
  if (r == NULL || box == NULL || napi_create_object(env, &handle) != napi_ok ||
      napi_create_string_utf8(env, "halb:tcp-relay", NAPI_AUTO_LENGTH, &name) != napi_ok)
    failed = "relay: out of memory";
  else if (napi_wrap(env, handle, box, finalize_box, NULL, NULL) != napi_ok)
    failed = "relay: napi_wrap failed";
  if (failed != NULL) {
    free(r);
    free(box);
    close(dups[0]);
    close(dups[1]);
    napi_throw_error(env, NULL, failed);
    return NULL;
  }
  sendq_init(loop);
  r->env = env;
  r->loop = loop;
  r->box = box;
  box->relay = r;
  r->first_fin = -1;
  r->err_side = -1;
  napi_create_reference(env, argv[8], 1, &r->on_done);
  napi_async_init(env, NULL, name, &r->async);
  uint64_t now = uv_now(loop);
  for (int i = 0; i < 2; i++) {
    side_t *s = &r->side[i];
    s->relay = r;
    s->fd = dups[i];
    s->idle_ms = (uint64_t)idle[i];
    s->last_active = now;
    uv_poll_init(loop, &s->poll, s->fd);
    s->poll.data = r;
  }
  uv_timer_init(loop, &r->timer);
  r->timer.data = r;
  r->open_handles = 3;

  /* bytes JS already holds (a PROXY header for the server, data read before the hand-over) */
  for (int i = 0; i < 2 && !r->ending; i++)
    if (initial_len[i] > 0) write_to(r, &r->side[i], initial[i], initial_len[i]);
  for (int i = 0; i < 2 && !r->ending; i++) {
    if (!eof[i]) continue;
    r->side[i].read_eof = 1;
    if (r->first_fin < 0) r->first_fin = i;
    pass_fin(r, other(r, &r->side[i]));
  }
  if (!r->ending && finished(r)) end_relay(r, T_CLOSED, -1);
  if (!r->ending) update_polling(r);
  if (!r->ending) {
    uint64_t d = next_deadline(r);
    if (d > 0) uv_timer_start(&r->timer, on_timer, d - now, 0);
  }
  return handle;
}

/* abort(handle): end the relay now (shutdown); a no-op once it has ended */
static napi_value abort_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  box_t *box;
  if (argc < 1 || napi_unwrap(env, argv[0], (void **)&box) != napi_ok) {
    napi_throw_type_error(env, NULL, "relay.abort: not a relay handle");
    return NULL;
  }
  if (box->relay != NULL) end_relay(box->relay, T_ABORTED, -1);
  return NULL;
}

napi_value netio_relay_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"relayStart", NULL, start_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"relayAbort", NULL, abort_fn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
