/* Internals of the connection layer (conn.c) shared with the response forwarding (forward.c). */
#ifndef HALB_CONN_H
#define HALB_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <node_api.h>
#include <uv.h>

#include "turn-end.h"

/* writes at least this big are sent at once (with whatever is queued) rather than copied */
#define DIRECT_WRITE 16384
#define READS_PER_WAKE 4

typedef struct conn conn_t;

/* a response expected after the one being forwarded (pipelined requests, see forward.h) */
typedef struct {
  conn_t *client; /* NULL once that client went away: the response is read and dropped */
  int head_request;
  int close;
} fwd_entry_t;

typedef struct {
  napi_env env;
  uv_loop_t *loop;
  turn_end_t flush; /* sends queued writes after the turn's poll phase */
  /* connections with queued writes, linked through next_dirty in the order they were written
   * to: the check phase sends the answer to the request served first first */
  conn_t *dirty, *dirty_tail;
  napi_ref on_read, on_end, on_drain, on_timeout, on_close, on_forward;
  napi_async_context async;
  char *shared_buf; /* the default read buffer (a JS Buffer kept alive by shared_ref) */
  size_t shared_len;
  napi_ref shared_ref;
  /* TLS (tls.c): the handshake-done callback, and connections resumed with records waiting in
   * OpenSSL, read at the end of the turn */
  napi_ref on_secure;
  turn_end_t tls_turn;
  conn_t *tls_ready;
} netio_t;

/* response forwarding states (server side connection) */
enum { FWD_NONE = 0, FWD_HEAD, FWD_BODY };

struct conn {
  netio_t *io;
  int fd;
  uv_poll_t poll;
  uv_timer_t timer;
  int polled;
  napi_ref owner;
  /* read side */
  char *rbuf;
  size_t rlen;
  napi_ref rbuf_ref; /* NULL: the shared buffer */
  int paused;
  int read_eof;
  /* write side */
  char *q;
  size_t qcap, qoff, qlen; /* unsent bytes are q[qoff .. qoff+qlen) */
  int in_dirty;
  conn_t *next_dirty;
  int ending;   /* end(): shutdown once the queue is out */
  int shut;     /* shutdown(SHUT_WR) done */
  int want_drain;
  size_t high_water;
  int allow_half_open;
  /* timeout */
  uint64_t timeout_ms;
  uint64_t last_active;
  int timer_on;
  /* response forwarding (forward.c): on a server connection, where the next response goes */
  int fwd_state;
  conn_t *fwd_to;
  int fwd_head_request; /* the request was HEAD: no body follows the head */
  int fwd_close;        /* add Connection: close (the client connection ends after it) */
  int fwd_status;
  int fwd_keep_alive;   /* the server allows reuse after this response */
  int fwd_blocked;      /* the client's queue is over its high-water mark: not reading */
  uint64_t fwd_remaining;
  uint64_t fwd_body_sent;
  fwd_entry_t *fwd_q; /* responses expected after the current one, oldest first */
  int fwd_qn, fwd_qcap;
  char *fwd_carry; /* the start of the next pipelined head, when a read ended inside it */
  size_t fwd_carry_len;
  /* on a client connection: the server connection forwarding into it */
  conn_t *fwd_from;
  /* TLS (tls.c): NULL on a plain connection */
  struct conn_tls *tls;
  conn_t *next_tls_ready;
  int in_tls_ready;
  int sock_eof; /* TLS: the socket read 0, OpenSSL may still hold records */
  /* lifecycle */
  int closing;
  int open_handles;
  int err;             /* errno of the failure that closed it, 0 for none */
  const char *err_syscall;
};

int conn_queue_reserve(conn_t *c, size_t more);
/* Sends at the end of this loop turn what is queued. */
void conn_mark_dirty(conn_t *c);
/* Sends what is queued (plus `extra`, copied only when the kernel leaves some). 0, or -1 when the
 * connection failed (and is closing). */
int conn_flush(conn_t *c, const char *extra, size_t extra_len);
/* Bytes read (plaintext, in the connection's read buffer) go to forwarding or JS. */
void conn_deliver(conn_t *c, char *buf, size_t n);
/* The peer sent its last byte. */
void conn_eof(conn_t *c);
conn_t *conn_open_args(napi_env env, size_t argc, napi_value *argv, napi_value *handle);
/* Queues or sends `len` bytes (what write() does with a Buffer). -1 when the connection failed. */
int conn_send(conn_t *c, const char *data, size_t len);
/* Queues a JS string's latin1 bytes. -1 when the connection failed, -2 after throwing. */
int conn_send_string(conn_t *c, napi_value str);
void conn_update_poll(conn_t *c);
/* Closes the socket now (what is still queued is dropped); 'close' reaches JS with `err`. */
void conn_close(conn_t *c, int err, const char *syscall);
/* Calls one of the registered JS functions with the connection's owner as `this` (inside a
 * handle scope the caller opened). */
void conn_call_owner(conn_t *c, napi_ref fn_ref, size_t argc, napi_value *argv);
/* The connection behind a JS handle; NULL after throwing a TypeError. */
conn_t *conn_from_handle(napi_env env, napi_value v);

#endif
