// TLS termination inside the C connection layer. JavaScript still reads the ClientHello (SNI,
// ALPN, the ticket's key name) and picks the certificates; it builds an SSL_CTX here once per
// selection (tlsContext) and hands the socket over with the ClientHello it read (connOpenTls).
// From there OpenSSL runs behind two memory BIOs: ciphertext read from the socket goes into
// one, the plaintext OpenSSL gives back goes where a plain connection's reads go (conn_deliver:
// JS or the response forwarding), and whatever JS or forwarding writes is encrypted into the
// other and leaves through the same write queue, once per loop turn. So keep-alive HTTPS runs the
// plain HTTP path (no node stream, no JS TLSSocket) with the crypto as the only extra work.
//
// The OpenSSL is node's own (node exports its symbols; node-gyp's headers include it): session
// tickets sealed with the same keys as node's TLS contexts (ticket-keys.ts, node's key layout and
// cipher: AES-128-CBC + HMAC-SHA256), so a ticket from either path resumes on the other.
//
// OpenSSL keeps an error queue per thread that node's own TLS reads too: every failure here clears
// what it left.

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "conn.h"
#include "tls.h"

/* ciphertext read per recv; a full TLS record is 16 KiB + overhead */
#define TLS_RECV_BYTES (64 * 1024)

typedef struct conn_tls {
  SSL *ssl;
  BIO *rbio, *wbio; /* owned by ssl */
  int secure;       /* handshake done, 'secure' sent to JS */
  int notified;     /* close_notify queued */
} conn_tls_t;

/* what an SSL_CTX made here carries (its app data) */
typedef struct {
  unsigned char alpn[256]; /* wire format: length-prefixed names */
  size_t alpn_len;
  int has_ticket_key;
  unsigned char tk_name[16], tk_hmac[16], tk_aes[16];
} ctx_extra_t;

static char recv_buf[TLS_RECV_BYTES];

/* ---------- errors ---------- */

/* The reason of OpenSSL's last error (a static string), or `fallback`; the queue is cleared. */
static const char *ssl_reason(const char *fallback) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e == 0 ? NULL : ERR_reason_error_string(e);
  ERR_clear_error();
  return r != NULL ? r : fallback;
}

/* The alert OpenSSL wrote goes out first: the client learns why (protocol version, say). */
static void halb_tls_fail(conn_t *c, const char *fallback) {
  const char *why = ssl_reason(fallback);
  char *p;
  long n = BIO_get_mem_data(c->tls->wbio, &p);
  if (n > 0 && conn_queue_reserve(c, (size_t)n) == 0) {
    memcpy(c->q + c->qoff + c->qlen, p, (size_t)n);
    c->qlen += (size_t)n;
  }
  (void)BIO_reset(c->tls->wbio);
  if (c->qlen > 0 && conn_flush(c, NULL, 0) < 0) return;
  conn_close(c, EPROTO, why);
}

/* ---------- output ---------- */

/* Moves what OpenSSL wrote (records) into the connection's write queue; `now`: sent at once. */
static int halb_tls_out(conn_t *c, int now) {
  conn_tls_t *t = c->tls;
  char *p;
  long n = BIO_get_mem_data(t->wbio, &p);
  if (n <= 0) return 0;
  int rc = 0;
  if (now) {
    rc = conn_flush(c, p, (size_t)n);
  } else if (conn_queue_reserve(c, (size_t)n) < 0) {
    conn_close(c, ENOMEM, "write");
    rc = -1;
  } else {
    memcpy(c->q + c->qoff + c->qlen, p, (size_t)n);
    c->qlen += (size_t)n;
    conn_mark_dirty(c);
  }
  (void)BIO_reset(t->wbio);
  return rc;
}

int halb_tls_send(conn_t *c, const char *data, size_t len) {
  conn_tls_t *t = c->tls;
  if (len == 0) return 0;
  if (!t->secure) {
    /* JS writes only after 'secure' */
    conn_close(c, EPROTO, "write before the TLS handshake");
    return -1;
  }
  while (len > 0) {
    int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
    int w = SSL_write(t->ssl, data, chunk);
    if (w <= 0) {
      halb_tls_fail(c, "SSL_write");
      return -1;
    }
    data += w;
    len -= (size_t)w;
  }
  char *p;
  long pending = BIO_get_mem_data(t->wbio, &p);
  return halb_tls_out(c, pending >= DIRECT_WRITE);
}

void halb_tls_close_notify(conn_t *c) {
  conn_tls_t *t = c->tls;
  if (t->notified || !t->secure || c->closing) return;
  t->notified = 1;
  (void)SSL_shutdown(t->ssl);
  ERR_clear_error();
  halb_tls_out(c, 0);
}

/* ---------- input ---------- */

static void emit_secure(conn_t *c) {
  napi_env env = c->io->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  conn_call_owner(c, c->io->on_secure, 0, NULL);
  napi_close_handle_scope(env, scope);
}

/* Runs the handshake, then hands on the plaintext while the connection reads. */
static void halb_tls_pump(conn_t *c) {
  conn_tls_t *t = c->tls;
  netio_t *io = c->io;
  if (!t->secure) {
    int r = SSL_do_handshake(t->ssl);
    /* the server's flight (and, once done, the session tickets) */
    if (halb_tls_out(c, 0) < 0) return;
    if (r != 1) {
      int e = SSL_get_error(t->ssl, r);
      if (e == SSL_ERROR_WANT_READ) {
        ERR_clear_error();
        if (c->sock_eof) conn_close(c, ECONNRESET, "TLS handshake");
        return;
      }
      halb_tls_fail(c, "TLS handshake failed");
      return;
    }
    /* TLS 1.3 session tickets wait for the next write or handshake call: send them now, with
     * the handshake's last flight, as node's server does (a client that only reads, or reads
     * before it writes, would otherwise get none) */
    (void)SSL_do_handshake(t->ssl);
    ERR_clear_error();
    if (halb_tls_out(c, 0) < 0) return;
    t->secure = 1;
    emit_secure(c);
  }
  while (!c->closing && !c->paused && !c->read_eof) {
    char *buf = c->rbuf_ref != NULL ? c->rbuf : io->shared_buf;
    size_t len = c->rbuf_ref != NULL ? c->rlen : io->shared_len;
    int n = SSL_read(t->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    if (n > 0) {
      /* a KeyUpdate answered, say */
      if (halb_tls_out(c, 0) < 0) return;
      conn_deliver(c, buf, (size_t)n);
      continue;
    }
    int e = SSL_get_error(t->ssl, n);
    if (halb_tls_out(c, 0) < 0) return;
    if (e == SSL_ERROR_WANT_READ) {
      ERR_clear_error();
      if (c->sock_eof) conn_eof(c);
      return;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
      /* close_notify: the client is done sending */
      ERR_clear_error();
      conn_eof(c);
      return;
    }
    halb_tls_fail(c, "SSL_read");
    return;
  }
}

void halb_tls_read(conn_t *c) {
  conn_tls_t *t = c->tls;
  for (int i = 0; i < READS_PER_WAKE && !c->sock_eof; i++) {
    ssize_t n = recv(c->fd, recv_buf, sizeof recv_buf, 0);
    if (n > 0) {
      c->last_active = uv_now(c->io->loop);
      if (BIO_write(t->rbio, recv_buf, (int)n) != (int)n) {
        conn_close(c, ENOMEM, "read");
        return;
      }
      if ((size_t)n < sizeof recv_buf) break;
      continue;
    }
    if (n == 0) {
      c->sock_eof = 1;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      conn_close(c, errno, "read");
      return;
    }
    break;
  }
  halb_tls_pump(c);
  /* the poll stops reporting a FIN that was read (conn_update_poll) */
  if (!c->closing && c->sock_eof) conn_update_poll(c);
}

static void run_ready(void *arg) {
  netio_t *io = arg;
  while (io->tls_ready != NULL) {
    conn_t *c = io->tls_ready;
    io->tls_ready = c->next_tls_ready;
    c->next_tls_ready = NULL;
    c->in_tls_ready = 0;
    if (!c->closing && !c->paused) halb_tls_pump(c);
  }
}

void halb_tls_resume_later(conn_t *c) {
  netio_t *io = c->io;
  if (c->in_tls_ready || c->closing) return;
  c->in_tls_ready = 1;
  c->next_tls_ready = io->tls_ready;
  io->tls_ready = c;
  turn_end_arm(&io->tls_turn);
}

void halb_tls_free(conn_t *c) {
  netio_t *io = c->io;
  if (c->in_tls_ready) {
    for (conn_t **p = &io->tls_ready; *p != NULL; p = &(*p)->next_tls_ready) {
      if (*p == c) {
        *p = c->next_tls_ready;
        break;
      }
    }
  }
  SSL_free(c->tls->ssl);
  free(c->tls);
  c->tls = NULL;
}

void halb_tls_io_init(netio_t *io) {
  turn_end_init(&io->tls_turn, io->loop, run_ready, io);
}

/* ---------- contexts ---------- */

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned int inlen, void *arg) {
  ctx_extra_t *x = arg;
  unsigned char *sel;
  /* as node's server: a client whose protocols all differ from ours is refused */
  if (SSL_select_next_proto(&sel, outlen, x->alpn, (unsigned int)x->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

/* node's ticket scheme (SecureContext::TicketCompatibilityCallback): a ticket is opened only by
 * the key whose name it carries */
static int ticket_cb(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc) {
  ctx_extra_t *x = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  OSSL_PARAM params[3];
  params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, x->tk_hmac, sizeof x->tk_hmac);
  params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
  params[2] = OSSL_PARAM_construct_end();
  if (enc) {
    memcpy(name, x->tk_name, 16);
    if (RAND_bytes(iv, 16) <= 0 || EVP_EncryptInit_ex(ectx, EVP_aes_128_cbc(), NULL, x->tk_aes, iv) <= 0 || EVP_MAC_CTX_set_params(hctx, params) <= 0) return -1;
    return 1;
  }
  if (memcmp(name, x->tk_name, 16) != 0) return 0;
  if (EVP_DecryptInit_ex(ectx, EVP_aes_128_cbc(), NULL, x->tk_aes, iv) <= 0 || EVP_MAC_CTX_set_params(hctx, params) <= 0) return -1;
  /* 2, "renew": a TLS 1.3 resumption then gets a fresh ticket, as OpenSSL's own ticket keys give
   * it. With 1 it gets none, and a client that drops a ticket once used (OpenSSL's client
   * cache, wrk) resumed only every other connection: a full handshake in between. TLS 1.2 keeps
   * its ticket (RFC 5077 reuse), as there. */
  return SSL_version(ssl) >= TLS1_3_VERSION ? 2 : 1;
}

static void ctx_finalize(napi_env env, void *data, void *hint) {
  SSL_CTX *ctx = data;
  free(SSL_CTX_get_app_data(ctx));
  SSL_CTX_free(ctx);
}

static char *get_string(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* One certificate (leaf first, then its chain) and its key into ctx; NULL or what went wrong. */
static const char *use_cert(SSL_CTX *ctx, const char *chain_pem, const char *key_pem) {
  const char *err = NULL;
  BIO *cb = BIO_new_mem_buf(chain_pem, -1), *kb = BIO_new_mem_buf(key_pem, -1);
  X509 *leaf = cb == NULL ? NULL : PEM_read_bio_X509_AUX(cb, NULL, NULL, NULL);
  EVP_PKEY *key = kb == NULL ? NULL : PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
  STACK_OF(X509) *chain = sk_X509_new_null();
  if (leaf == NULL || key == NULL || chain == NULL) {
    err = ssl_reason("certificate or key does not parse");
    goto done;
  }
  X509 *ca;
  while ((ca = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL) sk_X509_push(chain, ca);
  ERR_clear_error(); /* the end of the PEM data */
  if (SSL_CTX_use_cert_and_key(ctx, leaf, key, chain, 1) != 1) err = ssl_reason("SSL_CTX_use_cert_and_key");
done:
  X509_free(leaf);
  EVP_PKEY_free(key);
  sk_X509_pop_free(chain, X509_free);
  BIO_free(cb);
  BIO_free(kb);
  return err;
}

#define THROW(msg)                           \
  do {                                       \
    napi_throw_error(env, "ERR_HALB_TLS", msg); \
    goto fail;                               \
  } while (0)

/* tlsContext(chains: string[], keys: string[], minVersion: 'TLSv1.2'|'TLSv1.3', cipherList,
 *            cipherSuites, sessionIdContext, ticketKey: Buffer(48) | undefined, alpn: Buffer,
 *            tickets?: boolean)
 * -> context handle (freed when JS drops it; connections hold their own reference) */
napi_value halb_tls_context_fn(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  char *s = NULL;
  char msg[512];
  SSL_CTX *ctx = NULL;
  ctx_extra_t *x = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 8) {
    napi_throw_type_error(env, NULL, "netio.tlsContext: 8 arguments expected");
    return NULL;
  }
  ctx = SSL_CTX_new(TLS_server_method());
  x = calloc(1, sizeof *x);
  if (ctx == NULL || x == NULL) THROW("netio.tlsContext: out of memory");
  SSL_CTX_set_app_data(ctx, x);
  uint32_t n = 0, nk = 0;
  if (napi_get_array_length(env, argv[0], &n) != napi_ok || napi_get_array_length(env, argv[1], &nk) != napi_ok || n == 0 || n != nk) THROW("netio.tlsContext: as many chains as keys expected");
  for (uint32_t i = 0; i < n; i++) {
    napi_value cv, kv;
    napi_get_element(env, argv[0], i, &cv);
    napi_get_element(env, argv[1], i, &kv);
    char *chain = get_string(env, cv), *key = get_string(env, kv);
    const char *err = chain == NULL || key == NULL ? "a PEM string expected" : use_cert(ctx, chain, key);
    free(chain);
    free(key);
    if (err != NULL) {
      snprintf(msg, sizeof msg, "netio.tlsContext: certificate %u: %s", i, err);
      THROW(msg);
    }
  }
  s = get_string(env, argv[2]);
  if (s == NULL) THROW("netio.tlsContext: minVersion");
  int minv = strcmp(s, "TLSv1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
  free(s);
  s = NULL;
  SSL_CTX_set_min_proto_version(ctx, minv);
  s = get_string(env, argv[3]);
  if (s == NULL || SSL_CTX_set_cipher_list(ctx, s) != 1) {
    if (s != NULL && s[0] == '\0') {
      ERR_clear_error(); /* TLS 1.3 suites only */
    } else {
      snprintf(msg, sizeof msg, "netio.tlsContext: ciphers: %s", ssl_reason("invalid cipher list"));
      THROW(msg);
    }
  }
  free(s);
  s = get_string(env, argv[4]);
  if (s == NULL) THROW("netio.tlsContext: cipherSuites");
  if (s[0] != '\0' && SSL_CTX_set_ciphersuites(ctx, s) != 1) {
    snprintf(msg, sizeof msg, "netio.tlsContext: TLS 1.3 cipher suites: %s", ssl_reason("invalid"));
    THROW(msg);
  }
  free(s);
  s = get_string(env, argv[5]);
  if (s == NULL) THROW("netio.tlsContext: sessionIdContext");
  size_t sid_len = strlen(s);
  if (sid_len > SSL_MAX_SID_CTX_LENGTH) sid_len = SSL_MAX_SID_CTX_LENGTH;
  SSL_CTX_set_session_id_context(ctx, (const unsigned char *)s, (unsigned int)sid_len);
  free(s);
  s = NULL;
  napi_valuetype tt;
  napi_typeof(env, argv[6], &tt);
  if (tt != napi_undefined) {
    void *kp;
    size_t kl;
    bool isbuf = false;
    napi_is_buffer(env, argv[6], &isbuf);
    if (!isbuf || napi_get_buffer_info(env, argv[6], &kp, &kl) != napi_ok || kl != 48) THROW("netio.tlsContext: a 48-byte ticket key expected");
    memcpy(x->tk_name, kp, 16);
    memcpy(x->tk_hmac, (char *)kp + 16, 16);
    memcpy(x->tk_aes, (char *)kp + 32, 16);
    x->has_ticket_key = 1;
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
  }
  {
    void *ap;
    size_t al;
    bool isbuf = false;
    napi_is_buffer(env, argv[7], &isbuf);
    if (!isbuf || napi_get_buffer_info(env, argv[7], &ap, &al) != napi_ok || al > sizeof x->alpn) THROW("netio.tlsContext: ALPN wire bytes expected");
    memcpy(x->alpn, ap, al);
    x->alpn_len = al;
    if (al > 0) SSL_CTX_set_alpn_select_cb(ctx, alpn_select, x);
  }
  /* stateless resumption only (tickets): no internal cache, which would be per worker; "off"
   * would stop OpenSSL from issuing TLS 1.3 tickets at all (node sets the same mode) */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL | SSL_SESS_CACHE_NO_AUTO_CLEAR);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
  bool tickets = true;
  if (argc > 8) {
    napi_typeof(env, argv[8], &tt);
    if (tt == napi_boolean) napi_get_value_bool(env, argv[8], &tickets);
  }
  if (!tickets) {
    /* no ticket of either kind: with no session cache either, nothing resumes */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
  }
  /* idle keep-alive connections give their record buffers back */
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  napi_value handle;
  if (napi_create_external(env, ctx, ctx_finalize, NULL, &handle) != napi_ok) THROW("netio.tlsContext: napi_create_external");
  return handle;
fail:
  free(s);
  if (ctx != NULL) {
    SSL_CTX_set_app_data(ctx, NULL);
    SSL_CTX_free(ctx);
  }
  free(x);
  ERR_clear_error();
  return NULL;
}

/* tlsInit(onSecure): called with the connection's owner as `this` when its handshake is done */
napi_value halb_tls_init_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  netio_t *io = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_instance_data(env, (void **)&io) != napi_ok || io == NULL) {
    napi_throw_type_error(env, NULL, "netio.tlsInit(onSecure)");
    return NULL;
  }
  if (io->on_secure != NULL) return NULL;
  napi_create_reference(env, argv[0], 1, &io->on_secure);
  return NULL;
}

/* connOpenTls(fd, owner, allowHalfOpen, highWater, context, clientHello: Buffer) -> handle:
 * open() with the TLS server side of a handshake whose first bytes JS read already */
napi_value halb_tls_open_fn(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], handle;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    napi_throw_type_error(env, NULL, "netio.connOpenTls(fd, owner, allowHalfOpen, highWater, context, clientHello)");
    return NULL;
  }
  SSL_CTX *ctx = NULL;
  void *hello;
  size_t hello_len;
  bool isbuf = false;
  napi_is_buffer(env, argv[5], &isbuf);
  if (napi_get_value_external(env, argv[4], (void **)&ctx) != napi_ok || ctx == NULL || !isbuf || napi_get_buffer_info(env, argv[5], &hello, &hello_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "netio.connOpenTls: a context handle and a Buffer expected");
    return NULL;
  }
  conn_t *c = conn_open_args(env, argc, argv, &handle);
  if (c == NULL) return NULL;
  conn_tls_t *t = calloc(1, sizeof *t);
  SSL *ssl = SSL_new(ctx);
  BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
  if (t == NULL || ssl == NULL || rb == NULL || wb == NULL) {
    free(t);
    SSL_free(ssl);
    BIO_free(rb);
    BIO_free(wb);
    ERR_clear_error();
    conn_close(c, ENOMEM, "TLS");
    return handle;
  }
  BIO_set_mem_eof_return(rb, -1);
  BIO_set_mem_eof_return(wb, -1);
  SSL_set_bio(ssl, rb, wb);
  SSL_set_accept_state(ssl);
  t->ssl = ssl;
  t->rbio = rb;
  t->wbio = wb;
  c->tls = t;
  if (hello_len > 0 && BIO_write(rb, hello, (int)hello_len) != (int)hello_len) {
    conn_close(c, ENOMEM, "TLS");
    return handle;
  }
  halb_tls_pump(c);
  if (!c->closing) conn_update_poll(c);
  return handle;
}

/* connTlsFacts(h) -> [version, cipher (IANA name), alpn | undefined, resumed] */
napi_value halb_tls_facts_fn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  conn_t *c = conn_from_handle(env, argv[0]);
  if (c == NULL) return NULL;
  napi_create_array_with_length(env, 4, &out);
  if (c->tls == NULL || c->closing) return out;
  SSL *ssl = c->tls->ssl;
  napi_create_string_utf8(env, SSL_get_version(ssl), NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 0, v);
  const SSL_CIPHER *ci = SSL_get_current_cipher(ssl);
  const char *cn = ci == NULL ? NULL : SSL_CIPHER_standard_name(ci);
  napi_create_string_utf8(env, cn == NULL ? "unknown" : cn, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 1, v);
  const unsigned char *alpn;
  unsigned int alen;
  SSL_get0_alpn_selected(ssl, &alpn, &alen);
  if (alen > 0) napi_create_string_latin1(env, (const char *)alpn, alen, &v);
  else napi_get_undefined(env, &v);
  napi_set_element(env, out, 2, v);
  napi_get_boolean(env, SSL_session_reused(ssl) == 1, &v);
  napi_set_element(env, out, 3, v);
  return out;
}
