/* TLS on the connection layer's client connections (tls.c): OpenSSL (node's own, whose symbols
 * node exports) with memory BIOs, so the socket I/O, write batching and response forwarding of
 * conn.c and forward.c stay as they are and only see ciphertext at the socket. */
#ifndef HALB_TLS_H
#define HALB_TLS_H

#include <stddef.h>

#include <node_api.h>

#include "conn.h"

void halb_tls_io_init(netio_t *io);
/* Reads ciphertext from the socket and hands on the plaintext (replaces conn.c's recv loop). */
void halb_tls_read(conn_t *c);
/* Encrypts and queues (or sends, when big) `len` plaintext bytes. 0, or -1 when it failed. */
int halb_tls_send(conn_t *c, const char *data, size_t len);
/* Queues close_notify (once), ahead of the FIN. */
void halb_tls_close_notify(conn_t *c);
/* Plaintext OpenSSL already holds is handed on at the end of this turn (after a resume). */
void halb_tls_resume_later(conn_t *c);
void halb_tls_free(conn_t *c);

napi_value halb_tls_init_fn(napi_env env, napi_callback_info info);
napi_value halb_tls_context_fn(napi_env env, napi_callback_info info);
napi_value halb_tls_open_fn(napi_env env, napi_callback_info info);
napi_value halb_tls_facts_fn(napi_env env, napi_callback_info info);

#endif
