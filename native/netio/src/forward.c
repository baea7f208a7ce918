/* See forward.h. The server connection parses the response head (response-head.c) in the read
 * that brings it; a head of the common shape is written to the client with its hop-by-hop lines
 * cut out, the body follows by Content-Length, and JavaScript hears of it twice at most: once when
 * a head went out whose body is still coming, once when the response is complete. What this does
 * not take (a head split across reads, chunked or close-delimited bodies, interim responses,
 * anything malformed, bytes beyond the response) goes to JavaScript's parser untouched, and the
 * forwarding is off for that response. */
#include "forward.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "response-head.h"

/* the JS parser's default limit (ResponseParser maxHeadBytes) */
#define MAX_HEAD 65536

static const char CLOSE_TAIL[] = "Connection: close\r\n\r\n";

static void unblock(conn_t *server) {
  if (!server->fwd_blocked) return;
  server->fwd_blocked = 0;
  conn_update_poll(server);
}

static void disarm(conn_t *server) {
  conn_t *client = server->fwd_to;
  if (client != NULL && client->fwd_from == server) client->fwd_from = NULL;
  server->fwd_to = NULL;
  server->fwd_state = FWD_NONE;
  unblock(server);
}

static void arm(conn_t *s, conn_t *client, bool head_request, bool close) {
  s->fwd_state = FWD_HEAD;
  s->fwd_to = client;
  if (client != NULL) client->fwd_from = s;
  s->fwd_head_request = head_request;
  s->fwd_close = close;
  s->fwd_body_sent = 0;
  s->fwd_remaining = 0;
}

/* the oldest queued response becomes the one being forwarded */
static void arm_next(conn_t *s) {
  fwd_entry_t e = s->fwd_q[0];
  s->fwd_qn--;
  memmove(s->fwd_q, s->fwd_q + 1, (size_t)s->fwd_qn * sizeof e);
  arm(s, e.client, e.head_request, e.close);
}

static void drop_carry(conn_t *s) {
  free(s->fwd_carry);
  s->fwd_carry = NULL;
  s->fwd_carry_len = 0;
}

static void drop_queue(conn_t *s) {
  for (int i = 0; i < s->fwd_qn; i++) {
    conn_t *client = s->fwd_q[i].client;
    if (client != NULL && client->fwd_from == s) client->fwd_from = NULL;
  }
  free(s->fwd_q);
  s->fwd_q = NULL;
  s->fwd_qn = 0;
  s->fwd_qcap = 0;
  drop_carry(s);
}

static void emit_forward(conn_t *c, bool done, int status, uint64_t body, bool keep_alive) {
  napi_env env = c->io->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value argv[4];
  napi_get_boolean(env, done, &argv[0]);
  napi_create_int32(env, status, &argv[1]);
  napi_create_double(env, (double)body, &argv[2]);
  napi_get_boolean(env, keep_alive, &argv[3]);
  conn_call_owner(c, c->io->on_forward, 4, argv);
  napi_close_handle_scope(env, scope);
}

/* Bytes for a client that may be gone (NULL once closed): they are dropped, the response is still
 * read to its end so the server connection stays usable, and the client's close reaches
 * JavaScript, which ends the exchange. */
static void to_client(conn_t *client, const char *p, size_t n) {
  if (n == 0 || client == NULL || client->closing || client->ending) return;
  conn_send(client, p, n);
}

/* the client's queue is full: stop reading the server until it drains */
static void maybe_block(conn_t *server, conn_t *client) {
  if (client == NULL || client->closing || client->qlen < client->high_water) return;
  server->fwd_blocked = 1;
  conn_update_poll(server);
}

/* The response is complete: the next queued one (if the server keeps the connection) becomes
 * current before JavaScript hears of it, so JavaScript's view and ours move together. */
static void complete(conn_t *server) {
  int status = server->fwd_status;
  bool keep = server->fwd_keep_alive;
  uint64_t body = server->fwd_body_sent;
  disarm(server);
  if (keep && server->fwd_qn > 0) arm_next(server);
  emit_forward(server, true, status, body, keep);
}

/* Pipelined responses that cannot be followed (a head of another shape, or past MAX_HEAD): the
 * connection is closed, so every request still waiting on it is retried elsewhere by JavaScript,
 * which also stops pipelining to this server (the error's syscall says "pipeline"). */
static size_t give_up(conn_t *s, size_t n) {
  conn_close(s, EPROTO, "pipeline");
  return n;
}

/* The head at `buf` was not recognised. Without responses queued behind it, JavaScript's parser
 * takes it (0). With some queued, a head cut by the end of the read is kept until the rest
 * arrives; anything else ends the connection. */
static size_t head_unscanned(conn_t *s, const char *buf, size_t n, bool carried) {
  if (s->fwd_qn == 0 && !carried) {
    disarm(s);
    return 0;
  }
  size_t limit = n < MAX_HEAD ? n : MAX_HEAD;
  bool whole = memmem(buf, limit, "\r\n\r\n", 4) != NULL;
  if (whole || n >= MAX_HEAD) return give_up(s, n);
  char *keep = malloc(n);
  if (keep == NULL) return give_up(s, n);
  memcpy(keep, buf, n);
  free(s->fwd_carry);
  s->fwd_carry = keep;
  s->fwd_carry_len = n;
  return n;
}

/* Forwards the head at `buf` and what of the body follows it in this read; returns the bytes
 * taken (0: all of `buf` goes to JavaScript's parser instead). `at_start`: nothing before it in
 * this read went anywhere else. */
static size_t forward_head(conn_t *s, const char *buf, size_t n, bool at_start, bool carried) {
  conn_t *client = s->fwd_to;
  response_head_t h;
  if (!scan_response_head((const unsigned char *)buf, n, MAX_HEAD, s->fwd_head_request, &h)) return head_unscanned(s, buf, n, carried);
  uint64_t body_len = h.bodiless ? 0 : (uint64_t)h.content_length;
  size_t avail = n - h.head_end;
  size_t body = avail;
  size_t used = n;
  bool queued = s->fwd_qn > 0;
  bool stray = false;
  if (avail > body_len) {
    /* more than this response: the next queued one's, or bytes nobody asked for */
    if (!queued && at_start && !carried) {
      /* the JS parser reports it */
      disarm(s);
      return 0;
    }
    body = (size_t)body_len;
    if (queued) used = h.head_end + body;
    else stray = true;
  }
  size_t from = 0;
  for (int i = 0; i < h.ndrops; i++) {
    to_client(client, buf + from, h.drops[2 * i] - from);
    from = h.drops[2 * i + 1];
  }
  if (s->fwd_close) {
    to_client(client, buf + from, h.head_end - 2 - from);
    to_client(client, CLOSE_TAIL, sizeof CLOSE_TAIL - 1);
    to_client(client, buf + h.head_end, body);
  } else {
    /* the rest of the head, its blank line and the body are contiguous: one piece */
    to_client(client, buf + from, h.head_end + body - from);
  }
  s->fwd_status = h.status;
  /* bytes after the end of the last response expected: dropped, and the connection not reused */
  s->fwd_keep_alive = !h.close && !stray;
  s->fwd_body_sent = body;
  s->fwd_remaining = body_len - body;
  if (s->fwd_remaining == 0) {
    complete(s);
    return used;
  }
  s->fwd_state = FWD_BODY;
  emit_forward(s, false, h.status, body, s->fwd_keep_alive);
  if (!s->closing) maybe_block(s, s->fwd_to);
  return used;
}

static size_t forward_bytes(conn_t *c, const char *buf, size_t n, bool carried) {
  size_t off = 0;
  while (off < n && !c->closing) {
    if (c->fwd_state == FWD_HEAD) {
      size_t used = forward_head(c, buf + off, n - off, off == 0, carried);
      if (used == 0) break;
      off += used;
      continue;
    }
    if (c->fwd_state != FWD_BODY) break;
    conn_t *client = c->fwd_to;
    size_t rest = n - off;
    size_t take = rest < c->fwd_remaining ? rest : (size_t)c->fwd_remaining;
    to_client(client, buf + off, take);
    off += take;
    c->fwd_remaining -= take;
    c->fwd_body_sent += take;
    if (c->fwd_remaining > 0) {
      maybe_block(c, client);
      continue;
    }
    if (take < rest && c->fwd_qn == 0) {
      /* bytes after the end of the last response expected: dropped, the connection not reused */
      c->fwd_keep_alive = 0;
      off = n;
    }
    complete(c);
  }
  return off;
}

size_t forward_read(conn_t *c, const char *buf, size_t n) {
  if (c->fwd_carry_len == 0) return forward_bytes(c, buf, n, false);
  /* the head begun in an earlier read, then these bytes, in one piece */
  size_t len = c->fwd_carry_len + n;
  char *joined = realloc(c->fwd_carry, len);
  if (joined == NULL) return give_up(c, n);
  memcpy(joined + c->fwd_carry_len, buf, n);
  c->fwd_carry = NULL;
  c->fwd_carry_len = 0;
  forward_bytes(c, joined, len, true);
  free(joined);
  return n;
}

void forward_eof(conn_t *c) {
  drop_carry(c);
  disarm(c);
}

/* the client `c` no longer waits for the response it was linked to */
static void forward_unlink_client(conn_t *c) {
  conn_t *server = c->fwd_from;
  if (server == NULL) return;
  c->fwd_from = NULL;
  if (server->fwd_to == c) {
    /* the response goes on into the void (see to_client) */
    server->fwd_to = NULL;
    unblock(server);
    return;
  }
  for (int i = 0; i < server->fwd_qn; i++)
    if (server->fwd_q[i].client == c) server->fwd_q[i].client = NULL;
}

void forward_unlink(conn_t *c) {
  if (c->fwd_to != NULL || c->fwd_state != FWD_NONE) disarm(c);
  if (c->fwd_q != NULL || c->fwd_carry != NULL) drop_queue(c);
  forward_unlink_client(c);
}

void forward_client_drained(conn_t *c) {
  conn_t *s = c->fwd_from;
  if (s->fwd_to == c) unblock(s);
}

napi_value forward_close_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "netio.connForwardClose(client)");
    return NULL;
  }
  conn_t *client = conn_from_handle(env, argv[0]);
  if (client == NULL) return NULL;
  conn_t *s = client->fwd_from;
  if (s == NULL) return NULL;
  if (s->fwd_to == client) {
    if (s->fwd_state == FWD_HEAD) s->fwd_close = 1;
    return NULL;
  }
  for (int i = 0; i < s->fwd_qn; i++)
    if (s->fwd_q[i].client == client) s->fwd_q[i].close = 1;
  return NULL;
}

/* May the request go behind those already written to `s` in this turn? They are still queued
 * (so all go out in one send), and their responses are being forwarded by us. */
static bool can_append(conn_t *s, uint32_t depth) {
  return depth > 1 && s->fwd_state != FWD_NONE && s->in_dirty && s->qlen > 0 && s->fwd_carry == NULL && (uint32_t)s->fwd_qn + 1 < depth;
}

static int queue_push(conn_t *s, conn_t *client, bool head_request, bool close) {
  if (s->fwd_qn == s->fwd_qcap) {
    int cap = s->fwd_qcap == 0 ? 8 : s->fwd_qcap * 2;
    fwd_entry_t *q = realloc(s->fwd_q, (size_t)cap * sizeof *q);
    if (q == NULL) return -1;
    s->fwd_q = q;
    s->fwd_qcap = cap;
  }
  s->fwd_q[s->fwd_qn++] = (fwd_entry_t){client, head_request, close};
  client->fwd_from = s;
  return 0;
}

napi_value forward_fn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  bool head_request, close;
  uint32_t depth = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "netio.connForward(server, client, headRequest, close, requestHead, pipelineDepth?)");
    return NULL;
  }
  conn_t *s = conn_from_handle(env, argv[0]);
  if (s == NULL) return NULL;
  conn_t *client = conn_from_handle(env, argv[1]);
  if (client == NULL) return NULL;
  if (napi_get_value_bool(env, argv[2], &head_request) != napi_ok || napi_get_value_bool(env, argv[3], &close) != napi_ok) {
    napi_throw_type_error(env, NULL, "netio.connForward: headRequest and close are booleans");
    return NULL;
  }
  if (argc > 5 && napi_get_value_uint32(env, argv[5], &depth) != napi_ok) {
    napi_throw_type_error(env, NULL, "netio.connForward: pipelineDepth is a number");
    return NULL;
  }
  napi_value out;
  bool append = depth > 0;
  if (s->closing || s->ending || client->closing || (append && !can_append(s, depth))) {
    napi_create_int32(env, append && !s->closing && !client->closing ? -2 : -1, &out);
    return out;
  }
  napi_valuetype t;
  int rc;
  void *data;
  size_t len;
  bool is_buf = false;
  if (napi_typeof(env, argv[4], &t) == napi_ok && t == napi_string) {
    rc = conn_send_string(s, argv[4]);
    if (rc == -2) return NULL;
  } else if (napi_is_buffer(env, argv[4], &is_buf) == napi_ok && is_buf && napi_get_buffer_info(env, argv[4], &data, &len) == napi_ok) {
    rc = conn_send(s, data, len);
  } else {
    napi_throw_type_error(env, NULL, "netio.connForward: the request head is a string or a Buffer");
    return NULL;
  }
  if (rc == 0 && !s->closing) {
    /* linked to another response still: that one is not this client's any more. (A client has
     * one request in flight at a time, simple-client.ts serving the next only once the last is
     * answered, so `old` is never `s` with this client queued behind its current response.) */
    conn_t *old = client->fwd_from;
    if (old != NULL && old->fwd_to == client) disarm(old);
    else if (old != NULL) forward_unlink_client(client);
    if (append) {
      if (queue_push(s, client, head_request, close) < 0) conn_close(s, ENOMEM, "write");
    } else {
      if (s->fwd_to != NULL || s->fwd_state != FWD_NONE) disarm(s);
      if (s->fwd_qn > 0 || s->fwd_carry != NULL) drop_queue(s);
      arm(s, client, head_request, close);
    }
  }
  napi_create_double(env, s->closing ? -1 : (double)s->qlen, &out);
  return out;
}

/* scanResponseHead(buffer, headRequest) -> { status, headEnd, contentLength, close, drops } or
 * undefined: the scan alone, so tests can hold it against the JS parser's raw scan */
napi_value scan_fn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out, v;
  void *data;
  size_t len;
  bool is_buf = false, head_request = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_is_buffer(env, argv[0], &is_buf) != napi_ok ||
      !is_buf || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || napi_get_value_bool(env, argv[1], &head_request) != napi_ok) {
    napi_throw_type_error(env, NULL, "netio.scanResponseHead(buffer, headRequest)");
    return NULL;
  }
  response_head_t h;
  if (!scan_response_head(data, len, MAX_HEAD, head_request, &h)) {
    napi_get_undefined(env, &out);
    return out;
  }
  napi_create_object(env, &out);
  napi_create_int32(env, h.status, &v);
  napi_set_named_property(env, out, "status", v);
  napi_create_double(env, (double)h.head_end, &v);
  napi_set_named_property(env, out, "headEnd", v);
  napi_create_double(env, (double)h.content_length, &v);
  napi_set_named_property(env, out, "contentLength", v);
  napi_get_boolean(env, h.close, &v);
  napi_set_named_property(env, out, "close", v);
  napi_value drops;
  napi_create_array_with_length(env, (size_t)h.ndrops * 2, &drops);
  for (int i = 0; i < h.ndrops * 2; i++) {
    napi_create_double(env, (double)h.drops[i], &v);
    napi_set_element(env, drops, (uint32_t)i, v);
  }
  napi_set_named_property(env, out, "drops", drops);
  return out;
}
