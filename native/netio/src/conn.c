// Lean socket I/O for halb's HTTP path: a connected TCP socket driven by uv_poll on the Node event
// loop, with reads delivered to JavaScript as a length into a Buffer JS owns, and writes copied
// into a per-connection queue that is sent once per loop turn (after the poll phase, from a
// uv_check handle), so the responses of one turn leave in one send per socket and the peers
// woken by them get several at once. Node's net.Socket spends most of a small request's
// JavaScript time in stream bookkeeping (Readable/Writable state, a Buffer and a write request
// object per operation, nextTick callbacks); this keeps only what a proxy needs: data, end,
// drain, idle timeout, close.
//
// JS hands over a connected socket's descriptor (duplicated here; JS then closes its own handle)
// and gets it back with detach() when the connection must go to node's HTTP server after all.
// Events reach JS through five functions registered once with init(), called with the
// connection's JS owner object as `this`.

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "conn.h"
#include "forward.h"
#include "reuseport.h"
#include "tls.h"

static void on_poll(uv_poll_t *h, int status, int events);

/* ---------- calling JS ---------- */

void conn_call_owner(conn_t *c, napi_ref fn_ref, size_t argc, napi_value *argv) {
  netio_t *io = c->io;
  napi_env env = io->env;
  napi_value fn, owner, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  if (napi_get_reference_value(env, c->owner, &owner) != napi_ok || owner == NULL) return;
  napi_status st = napi_make_callback(env, io->async, owner, fn, argc, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    if (napi_get_and_clear_last_exception(env, &exc) == napi_ok) napi_fatal_exception(env, exc);
  }
}

static void emit0(conn_t *c, napi_ref fn) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(c->io->env, &scope) != napi_ok) return;
  conn_call_owner(c, fn, 0, NULL);
  napi_close_handle_scope(c->io->env, scope);
}

/* ---------- write queue ---------- */

int conn_queue_reserve(conn_t *c, size_t more) {
  if (c->qoff > 0 && c->qoff + c->qlen + more > c->qcap) {
    memmove(c->q, c->q + c->qoff, c->qlen);
    c->qoff = 0;
  }
  if (c->qlen + more <= c->qcap) return 0;
  size_t cap = c->qcap == 0 ? 4096 : c->qcap;
  while (cap < c->qlen + more) cap *= 2;
  char *p = realloc(c->q, cap);
  if (p == NULL) return -1;
  c->q = p;
  c->qcap = cap;
  return 0;
}

void conn_mark_dirty(conn_t *c) {
  netio_t *io = c->io;
  if (c->in_dirty) return;
  c->in_dirty = 1;
  c->next_dirty = NULL;
  if (io->dirty == NULL) io->dirty = c;
  else io->dirty_tail->next_dirty = c;
  io->dirty_tail = c;
  turn_end_arm(&io->flush);
}

/* Sends what is queued (plus `extra`, not copied unless the kernel leaves some of it). Returns 0,
 * or -1 when the connection failed (and is closing). */
int conn_flush(conn_t *c, const char *extra, size_t extra_len) {
  while (c->qlen > 0 || extra_len > 0) {
    struct iovec iov[2];
    int n = 0;
    if (c->qlen > 0) iov[n++] = (struct iovec){c->q + c->qoff, c->qlen};
    if (extra_len > 0) iov[n++] = (struct iovec){(void *)extra, extra_len};
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      conn_close(c, errno, "write");
      return -1;
    }
    c->last_active = uv_now(c->io->loop);
    size_t sent = (size_t)w;
    size_t from_q = sent < c->qlen ? sent : c->qlen;
    c->qoff += from_q;
    c->qlen -= from_q;
    sent -= from_q;
    extra += sent;
    extra_len -= sent;
    if (c->qlen == 0) c->qoff = 0;
  }
  if (extra_len > 0) {
    if (conn_queue_reserve(c, extra_len) < 0) {
      conn_close(c, ENOMEM, "write");
      return -1;
    }
    memcpy(c->q + c->qoff + c->qlen, extra, extra_len);
    c->qlen += extra_len;
  }
  /* an empty queue gives its memory back: 10k idle keep-alive connections would otherwise hold
   * 4 KiB each; malloc hands the same block back on the next turn anyway */
  if (c->qlen == 0 && c->q != NULL) {
    free(c->q);
    c->q = NULL;
    c->qcap = 0;
    c->qoff = 0;
  }
  if (c->qlen == 0 && c->ending && !c->shut) {
    c->shut = 1;
    if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
      conn_close(c, errno, "shutdown");
      return -1;
    }
    /* both directions done: nothing left to wait for */
    if (c->read_eof) {
      conn_close(c, 0, NULL);
      return -1;
    }
  }
  conn_update_poll(c);
  return 0;
}

static void after_flush(conn_t *c) {
  if (c->closing || c->qlen > 0) return;
  if (c->fwd_from != NULL) forward_client_drained(c);
  if (!c->want_drain) return;
  c->want_drain = 0;
  emit0(c, c->io->on_drain);
}

static void flush_dirty(void *arg) {
  netio_t *io = arg;
  while (io->dirty != NULL) {
    conn_t *list = io->dirty;
    io->dirty = NULL;
    io->dirty_tail = NULL;
    while (list != NULL) {
      conn_t *c = list;
      list = c->next_dirty;
      c->in_dirty = 0;
      c->next_dirty = NULL;
      if (c->closing) continue;
      if (conn_flush(c, NULL, 0) == 0) after_flush(c);
    }
  }
}

int conn_send(conn_t *c, const char *data, size_t len) {
  if (c->tls != NULL) return halb_tls_send(c, data, len);
  if (len >= DIRECT_WRITE) {
    /* big: out now, together with what is queued, no copy of what the kernel takes */
    if (conn_flush(c, data, len) < 0) return -1;
    if (c->qlen > 0 && !c->in_dirty) conn_update_poll(c);
  } else if (len > 0) {
    if (conn_queue_reserve(c, len) < 0) {
      conn_close(c, ENOMEM, "write");
      return -1;
    }
    memcpy(c->q + c->qoff + c->qlen, data, len);
    c->qlen += len;
    conn_mark_dirty(c);
  }
  return 0;
}

int conn_send_string(conn_t *c, napi_value str) {
  napi_env env = c->io->env;
  size_t len;
  if (napi_get_value_string_latin1(env, str, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "netio: a string expected");
    return -2;
  }
  if (c->tls != NULL) {
    char *tmp = malloc(len + 1);
    if (tmp == NULL) {
      conn_close(c, ENOMEM, "write");
      return -1;
    }
    size_t n;
    napi_get_value_string_latin1(env, str, tmp, len + 1, &n);
    int rc = halb_tls_send(c, tmp, n);
    free(tmp);
    return rc;
  }
  if (conn_queue_reserve(c, len + 1) < 0) {
    conn_close(c, ENOMEM, "write");
    return -1;
  }
  size_t got;
  /* +1: napi always writes a terminating NUL */
  napi_get_value_string_latin1(env, str, c->q + c->qoff + c->qlen, len + 1, &got);
  c->qlen += got;
  conn_mark_dirty(c);
  return 0;
}

/* ---------- polling ---------- */

void conn_update_poll(conn_t *c) {
  if (c->closing) return;
  int ev = 0;
  if (!c->paused && !c->fwd_blocked && !c->read_eof && !c->sock_eof) ev |= UV_READABLE;
  /* queued bytes the check phase could not send: wait until the socket takes more */
  if (c->qlen > 0 && !c->in_dirty) ev |= UV_WRITABLE;
  if (ev == c->polled) return;
  int rc = ev == 0 ? uv_poll_stop(&c->poll) : uv_poll_start(&c->poll, ev, on_poll);
  if (rc < 0) {
    conn_close(c, -rc, "poll");
    return;
  }
  c->polled = ev;
}

/* n bytes read into buf (the connection's read buffer): what forwarding does not take goes to JS. */
void conn_deliver(conn_t *c, char *buf, size_t n) {
  netio_t *io = c->io;
  c->last_active = uv_now(io->loop);
  size_t js = n;
  if (c->fwd_state != FWD_NONE) {
    size_t used = forward_read(c, buf, n);
    if (c->closing) return;
    /* what follows the forwarded responses goes to JS, from the buffer's start */
    if (used > 0 && used < js) memmove(buf, buf + used, js - used);
    js -= used;
  }
  if (js > 0) {
    napi_handle_scope scope;
    if (napi_open_handle_scope(io->env, &scope) != napi_ok) return;
    napi_value argv[1];
    napi_create_int32(io->env, (int32_t)js, &argv[0]);
    conn_call_owner(c, io->on_read, 1, argv);
    napi_close_handle_scope(io->env, scope);
  }
}

/* The peer is done sending (FIN, or TLS close_notify). */
void conn_eof(conn_t *c) {
  c->read_eof = 1;
  if (c->fwd_state != FWD_NONE) forward_eof(c);
  conn_update_poll(c);
  emit0(c, c->io->on_end);
  if (c->closing) return;
  if (c->shut) {
    /* our FIN went out before: both directions are done */
    conn_close(c, 0, NULL);
  } else if (!c->allow_half_open) {
    /* node's default: our side ends too once the queue is out */
    if (c->tls != NULL) halb_tls_close_notify(c);
    c->ending = 1;
    if (!c->in_dirty) conn_flush(c, NULL, 0);
  }
}

static void do_read(conn_t *c) {
  netio_t *io = c->io;
  if (c->tls != NULL) {
    halb_tls_read(c);
    return;
  }
  for (int i = 0; i < READS_PER_WAKE && !c->closing && !c->paused && !c->fwd_blocked && !c->read_eof; i++) {
    char *buf = c->rbuf_ref != NULL ? c->rbuf : io->shared_buf;
    size_t len = c->rbuf_ref != NULL ? c->rlen : io->shared_len;
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n > 0) {
      conn_deliver(c, buf, (size_t)n);
      if (c->closing) return;
      if ((size_t)n < len) return; /* drained: the next epoll round says when there is more */
      continue;
    }
    if (n == 0) {
      conn_eof(c);
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) conn_close(c, errno, "read");
    return;
  }
}

static void on_poll(uv_poll_t *h, int status, int events) {
  conn_t *c = h->data;
  if (c->closing) return;
  if (status < 0) {
    /* libuv reports EPOLLERR as UV_EBADF and stops the poll: the socket's error says what */
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = -status;
    conn_close(c, err, "read");
    return;
  }
  if ((events & UV_WRITABLE) && c->qlen > 0) {
    if (conn_flush(c, NULL, 0) < 0) return;
    after_flush(c);
    if (c->closing) return;
  }
  if (events & (UV_READABLE | UV_DISCONNECT)) do_read(c);
}

/* ---------- timeout ---------- */

static void on_timer(uv_timer_t *t) {
  conn_t *c = t->data;
  if (c->closing || c->timeout_ms == 0) return;
  uint64_t now = uv_now(c->io->loop);
  uint64_t due = c->last_active + c->timeout_ms;
  if (now >= due) {
    c->last_active = now; /* like node: the timer fires again after another full period */
    uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
    emit0(c, c->io->on_timeout);
    return;
  }
  uv_timer_start(&c->timer, on_timer, due - now, 0);
}

/* ---------- closing ---------- */

static void free_conn(conn_t *c) {
  napi_env env = c->io->env;
  if (c->tls != NULL) halb_tls_free(c);
  if (c->rbuf_ref != NULL) napi_delete_reference(env, c->rbuf_ref);
  napi_delete_reference(env, c->owner);
  free(c->q);
  free(c);
}

static void on_handle_closed(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles > 0) return;
  napi_env env = c->io->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) == napi_ok) {
    napi_value argv[2];
    if (c->err != 0) {
      const char *code = strerrorname_np(c->err);
      napi_create_string_utf8(env, code == NULL ? "EUNKNOWN" : code, NAPI_AUTO_LENGTH, &argv[0]);
      napi_create_string_utf8(env, c->err_syscall == NULL ? "" : c->err_syscall, NAPI_AUTO_LENGTH, &argv[1]);
    } else {
      napi_get_undefined(env, &argv[0]);
      napi_get_undefined(env, &argv[1]);
    }
    conn_call_owner(c, c->io->on_close, 2, argv);
    napi_close_handle_scope(env, scope);
  }
  free_conn(c);
}

static void stop_handles(conn_t *c, uv_close_cb cb) {
  c->closing = 1;
  c->open_handles = 2;
  forward_unlink(c);
  /* uv_close takes the descriptor out of the loop's epoll set now */
  uv_close((uv_handle_t *)&c->poll, cb);
  uv_close((uv_handle_t *)&c->timer, cb);
}

/* 'close' reaches JS once libuv has let go of the handles. */
void conn_close(conn_t *c, int err, const char *syscall) {
  if (c->closing) return;
  c->err = err;
  c->err_syscall = syscall;
  stop_handles(c, on_handle_closed);
  close(c->fd);
  c->fd = -1;
}

/* ---------- JS API ---------- */

#define CHECK(call)                                 \
  do {                                              \
    if ((call) != napi_ok) {                        \
      napi_throw_error(env, NULL, "netio: " #call); \
      return NULL;                                  \
    }                                               \
  } while (0)

static netio_t *get_io(napi_env env) {
  netio_t *io = NULL;
  if (napi_get_instance_data(env, (void **)&io) != napi_ok) return NULL;
  return io;
}

conn_t *conn_from_handle(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "netio: not a connection handle");
    return NULL;
  }
  return p;
}

/* The arguments of a conn* call (missing ones read as undefined); the first must be a handle.
 * NULL after throwing. */
static conn_t *conn_args(napi_env env, napi_callback_info info, size_t n, napi_value *argv) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "netio: a connection handle expected");
    return NULL;
  }
  return conn_from_handle(env, argv[0]);
}

static int get_buffer(napi_env env, napi_value v, char **data, size_t *len) {
  bool is_buf = false;
  if (napi_is_buffer(env, v, &is_buf) != napi_ok || !is_buf) return -1;
  void *p;
  if (napi_get_buffer_info(env, v, &p, len) != napi_ok) return -1;
  *data = p;
  return 0;
}

/* init(sharedReadBuffer, onRead, onEnd, onDrain, onTimeout, onClose, onForward) */
static napi_value init_fn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  netio_t *io = get_io(env);
  if (io == NULL) {
    napi_throw_error(env, NULL, "netio: module not initialised");
    return NULL;
  }
  if (io->on_read != NULL) {
    napi_throw_error(env, NULL, "netio.init: already initialised");
    return NULL;
  }
  if (argc < 7 || get_buffer(env, argv[0], &io->shared_buf, &io->shared_len) < 0 || io->shared_len == 0) {
    napi_throw_type_error(env, NULL, "netio.init: a read Buffer and six callbacks expected");
    return NULL;
  }
  CHECK(napi_create_reference(env, argv[0], 1, &io->shared_ref));
  napi_ref *refs[6] = {&io->on_read, &io->on_end, &io->on_drain, &io->on_timeout, &io->on_close, &io->on_forward};
  for (int i = 0; i < 6; i++) CHECK(napi_create_reference(env, argv[1 + i], 1, refs[i]));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "halb:netio", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_async_init(env, NULL, name, &io->async));
  return NULL;
}

/* The first four arguments of open(): a connection made (not yet polled) and its JS handle in
 * *handle; NULL after throwing. */
conn_t *conn_open_args(napi_env env, size_t argc, napi_value *argv, napi_value *handle) {
  netio_t *io = get_io(env);
  int32_t fd, hw;
  bool half;
  if (io == NULL || io->on_read == NULL) {
    napi_throw_error(env, NULL, "netio.open: init() first");
    return NULL;
  }
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 || napi_get_value_bool(env, argv[2], &half) != napi_ok ||
      napi_get_value_int32(env, argv[3], &hw) != napi_ok || hw <= 0) {
    napi_throw_type_error(env, NULL, "netio.open(fd, owner, allowHalfOpen, highWater)");
    return NULL;
  }
  int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dfd < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "netio.open: dup: %s", strerror(errno));
    napi_throw_error(env, strerrorname_np(errno), msg);
    return NULL;
  }
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(dfd);
    napi_throw_error(env, NULL, "netio: out of memory");
    return NULL;
  }
  c->io = io;
  c->fd = dfd;
  c->allow_half_open = half;
  c->high_water = (size_t)hw;
  c->last_active = uv_now(io->loop);
  if (napi_create_reference(env, argv[1], 1, &c->owner) != napi_ok) {
    close(dfd);
    free(c);
    napi_throw_error(env, NULL, "netio: reference failed");
    return NULL;
  }
  int rc = uv_poll_init(io->loop, &c->poll, dfd);
  if (rc < 0) {
    close(dfd);
    napi_delete_reference(env, c->owner);
    free(c);
    napi_throw_error(env, uv_err_name(rc), uv_strerror(rc));
    return NULL;
  }
  uv_timer_init(io->loop, &c->timer);
  c->poll.data = c;
  c->timer.data = c;
  /* no finalizer: the connection lives until closed, whatever JS holds */
  if (napi_create_external(env, c, NULL, NULL, handle) != napi_ok) {
    conn_close(c, ENOMEM, "open");
    napi_throw_error(env, NULL, "netio: napi_create_external failed");
    return NULL;
  }
  return c;
}

/* open(fd, owner, allowHalfOpen, highWater) -> handle; fd is duplicated, close yours after */
static napi_value open_fn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], handle;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  conn_t *c = conn_open_args(env, argc, argv, &handle);
  if (c == NULL) return NULL;
  conn_update_poll(c);
  return handle;
}

/* setReadBuffer(h, buffer | undefined): where reads land; undefined = the shared buffer */
static napi_value set_read_buffer_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  if (c->rbuf_ref != NULL) {
    napi_delete_reference(env, c->rbuf_ref);
    c->rbuf_ref = NULL;
  }
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t == napi_undefined) return NULL;
  if (get_buffer(env, argv[1], &c->rbuf, &c->rlen) < 0 || c->rlen == 0) {
    napi_throw_type_error(env, NULL, "netio.setReadBuffer: a non-empty Buffer expected");
    return NULL;
  }
  CHECK(napi_create_reference(env, argv[1], 1, &c->rbuf_ref));
  return NULL;
}

/* write(h, data: Buffer | latin1 string) -> bytes now waiting to be sent (JS compares with its
 * high-water mark for backpressure; 'drain' follows when a write found it over). */
static napi_value write_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  napi_value out;
  if (c->closing || c->ending) {
    CHECK(napi_create_int32(env, -1, &out));
    return out;
  }
  napi_valuetype t;
  CHECK(napi_typeof(env, argv[1], &t));
  if (t == napi_string) {
    if (conn_send_string(c, argv[1]) == -2) return NULL;
  } else {
    char *data;
    size_t len;
    if (get_buffer(env, argv[1], &data, &len) < 0) {
      napi_throw_type_error(env, NULL, "netio.write: a Buffer or string expected");
      return NULL;
    }
    conn_send(c, data, len);
  }
  size_t pending = c->closing ? 0 : c->qlen;
  if (pending >= c->high_water) c->want_drain = 1;
  CHECK(napi_create_double(env, c->closing ? -1 : (double)pending, &out));
  return out;
}

static napi_value pending_fn(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  conn_t *c = conn_args(env, info, 1, argv);
  if (c == NULL) return NULL;
  CHECK(napi_create_double(env, c->closing ? 0 : (double)c->qlen, &out));
  return out;
}

/* pause(h, paused): stop / restart reading */
static napi_value pause_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool p;
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  CHECK(napi_get_value_bool(env, argv[1], &p));
  if (c->closing) return NULL;
  c->paused = p;
  conn_update_poll(c);
  /* records already read from the socket wait in OpenSSL, and no poll event will say so */
  if (!p && c->tls != NULL) halb_tls_resume_later(c);
  return NULL;
}

/* end(h): FIN after the queued bytes, sent now (not at the end of the loop turn), so a destroy
 * right after loses nothing the kernel took */
static napi_value end_fn(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  conn_t *c = conn_args(env, info, 1, argv);
  if (c == NULL || c->closing || c->ending) return NULL;
  if (c->tls != NULL) halb_tls_close_notify(c);
  c->ending = 1;
  conn_flush(c, NULL, 0);
  return NULL;
}

/* destroy(h, reset): close now; reset sends RST instead of FIN */
static napi_value destroy_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool reset = false;
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL || c->closing) return NULL;
  napi_get_value_bool(env, argv[1], &reset); /* undefined: no reset */
  if (reset) {
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  conn_close(c, 0, NULL);
  return NULL;
}

/* setTimeout(h, ms): inactivity (no byte read or sent) timeout; 0 disables */
static napi_value set_timeout_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  double ms;
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  CHECK(napi_get_value_double(env, argv[1], &ms));
  if (c->closing) return NULL;
  c->timeout_ms = ms > 0 ? (uint64_t)ms : 0;
  c->last_active = uv_now(c->io->loop);
  if (c->timeout_ms == 0) {
    uv_timer_stop(&c->timer);
  } else {
    /* re-armed lazily: activity only moves last_active */
    uv_timer_start(&c->timer, on_timer, c->timeout_ms, 0);
  }
  return NULL;
}

/* ref(h, on): whether this connection keeps the event loop alive (an idle pooled one does not) */
static napi_value ref_fn(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bool on;
  conn_t *c = conn_args(env, info, 2, argv);
  if (c == NULL) return NULL;
  CHECK(napi_get_value_bool(env, argv[1], &on));
  if (c->closing) return NULL;
  if (on) {
    uv_ref((uv_handle_t *)&c->poll);
    uv_ref((uv_handle_t *)&c->timer);
  } else {
    uv_unref((uv_handle_t *)&c->poll);
    uv_unref((uv_handle_t *)&c->timer);
  }
  return NULL;
}

static void on_detached(uv_handle_t *h) {
  conn_t *c = h->data;
  if (--c->open_handles > 0) return;
  free_conn(c);
}

/* detach(h) -> { fd, unsent: Buffer | undefined }: stops everything and gives the descriptor
 * back (no 'close' event); bytes still queued are returned for the new owner to send first. */
static napi_value detach_fn(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  conn_t *c = conn_args(env, info, 1, argv);
  if (c == NULL) return NULL;
  if (c->closing) {
    napi_throw_error(env, NULL, "netio.detach: connection already closed");
    return NULL;
  }
  if (c->tls != NULL) {
    napi_throw_error(env, NULL, "netio.detach: a TLS connection stays in the C layer");
    return NULL;
  }
  napi_value out, fdv, unsent;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_int32(env, c->fd, &fdv));
  if (c->qlen > 0) {
    void *p;
    CHECK(napi_create_buffer_copy(env, c->qlen, c->q + c->qoff, &p, &unsent));
  } else {
    CHECK(napi_get_undefined(env, &unsent));
  }
  CHECK(napi_set_named_property(env, out, "fd", fdv));
  CHECK(napi_set_named_property(env, out, "unsent", unsent));
  c->qlen = 0;
  stop_handles(c, on_detached);
  return out;
}

static void finalize_io(napi_env env, void *data, void *hint) {
  netio_t *io = data;
  /* the env is going away with its loop; the handles close with it */
  (void)io;
}

napi_value netio_conn_init(napi_env env, napi_value exports) {
  netio_t *io = calloc(1, sizeof *io);
  if (io == NULL) return NULL;
  io->env = env;
  if (napi_get_uv_event_loop(env, &io->loop) != napi_ok) return NULL;
  turn_end_init(&io->flush, io->loop, flush_dirty, io);
  halb_tls_io_init(io);
  if (napi_set_instance_data(env, io, finalize_io, NULL) != napi_ok) return NULL;
  napi_property_descriptor props[] = {
      {"connInit", NULL, init_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connOpen", NULL, open_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connSetReadBuffer", NULL, set_read_buffer_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connWrite", NULL, write_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connPending", NULL, pending_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connPause", NULL, pause_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connEnd", NULL, end_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connDestroy", NULL, destroy_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connSetTimeout", NULL, set_timeout_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connDetach", NULL, detach_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connRef", NULL, ref_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connForward", NULL, forward_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connForwardClose", NULL, forward_close_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scanResponseHead", NULL, scan_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reuseportSpread", NULL, reuseport_spread_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tlsInit", NULL, halb_tls_init_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"tlsContext", NULL, halb_tls_context_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connOpenTls", NULL, halb_tls_open_fn, NULL, NULL, NULL, napi_enumerable, NULL},
      {"connTlsFacts", NULL, halb_tls_facts_fn, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
