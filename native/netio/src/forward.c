/* See forward.h. The server connection parses the response head (response-head.c) in the read
 * that brings it; a head of the common shape is written to the client with its hop-by-hop lines
 * cut out, the body follows by Content-Length, and JavaScript hears of it twice at most: once when
 * a head went out whose body is still coming, once when the response is complete. What this does
 * not take (a head split across reads, chunked or close-delimited bodies, interim responses,
 * anything malformed, bytes beyond the response) goes to JavaScript's parser untouched, and the
 * forwarding is off for that response. */
#include "forward.h"

#include <stdbool.h>

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

static void complete(conn_t *server) {
  int status = server->fwd_status;
  bool keep = server->fwd_keep_alive;
  uint64_t body = server->fwd_body_sent;
  disarm(server);
  emit_forward(server, true, status, body, keep);
}

static int forward_head(conn_t *s, const char *buf, size_t n) {
  conn_t *client = s->fwd_to;
  response_head_t h;
  if (client == NULL || !scan_response_head((const unsigned char *)buf, n, MAX_HEAD, s->fwd_head_request, &h)) {
    disarm(s);
    return 0;
  }
  uint64_t body_len = h.bodiless ? 0 : (uint64_t)h.content_length;
  size_t body = n - h.head_end;
  if (body > body_len) {
    /* more than this response: the JS parser reports it */
    disarm(s);
    return 0;
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
    to_client(client, buf + from, n - from);
  }
  s->fwd_status = h.status;
  s->fwd_keep_alive = !h.close;
  s->fwd_body_sent = body;
  s->fwd_remaining = body_len - body;
  if (s->fwd_remaining == 0) {
    complete(s);
    return 1;
  }
  s->fwd_state = FWD_BODY;
  emit_forward(s, false, h.status, body, s->fwd_keep_alive);
  if (!s->closing) maybe_block(s, s->fwd_to);
  return 1;
}

int forward_read(conn_t *c, const char *buf, size_t n) {
  if (c->fwd_state == FWD_HEAD) return forward_head(c, buf, n);
  conn_t *client = c->fwd_to;
  size_t take = n < c->fwd_remaining ? n : (size_t)c->fwd_remaining;
  to_client(client, buf, take);
  c->fwd_remaining -= take;
  c->fwd_body_sent += take;
  /* bytes after the end of the response: dropped, and the connection is not reused */
  if (take < n) c->fwd_keep_alive = 0;
  if (c->fwd_remaining == 0) complete(c);
  else maybe_block(c, client);
  return 1;
}

void forward_eof(conn_t *c) { disarm(c); }

void forward_unlink(conn_t *c) {
  if (c->fwd_to != NULL) disarm(c);
  conn_t *server = c->fwd_from;
  if (server != NULL) {
    /* the response goes on into the void (see to_client); a head not seen yet goes to JS */
    c->fwd_from = NULL;
    server->fwd_to = NULL;
    unblock(server);
  }
}

void forward_client_drained(conn_t *c) { unblock(c->fwd_from); }

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
  if (s != NULL && s->fwd_state == FWD_HEAD) s->fwd_close = 1;
  return NULL;
}

napi_value forward_fn(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  bool head_request, close;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    napi_throw_type_error(env, NULL, "netio.connForward(server, client, headRequest, close, requestHead)");
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
  napi_value out;
  if (s->closing || s->ending || client->closing) {
    napi_create_int32(env, -1, &out);
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
    if (s->fwd_to != NULL) disarm(s);
    if (client->fwd_from != NULL) disarm(client->fwd_from);
    s->fwd_state = FWD_HEAD;
    s->fwd_to = client;
    client->fwd_from = s;
    s->fwd_head_request = head_request;
    s->fwd_close = close;
    s->fwd_body_sent = 0;
    s->fwd_remaining = 0;
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
