/* Response forwarding: a server connection sends the next response of the common shape
 * (see response-head.h) straight to a client connection, JavaScript told once it is complete. */
#ifndef HALB_FORWARD_H
#define HALB_FORWARD_H

#include <node_api.h>

#include "conn.h"

/* The server connection `c` read `n` bytes at `buf`: returns how many forwarding took (the
 * responses it follows, pipelined ones one after the other); the rest go to JavaScript as usual. */
size_t forward_read(conn_t *c, const char *buf, size_t n);
/* The server sent FIN: forwarding is off (JavaScript's parser decides what that means). */
void forward_eof(conn_t *c);
/* `c` is closing or detaching: undo any link to or from it. */
void forward_unlink(conn_t *c);
/* The client connection `c` sent everything it had queued. */
void forward_client_drained(conn_t *c);
/* connForward(server, client, headRequest, close, requestHead, pipelineDepth?): writes the request
 * head to the server and arms the forwarding of its response to the client. With pipelineDepth,
 * the request goes behind those written to the server in this turn (fewer than pipelineDepth,
 * still unsent, their responses forwarded here), or nowhere: -2. */
napi_value forward_fn(napi_env env, napi_callback_info info);
/* connForwardClose(client): the response on its way to this client gets Connection: close, unless
 * its head went out already */
napi_value forward_close_fn(napi_env env, napi_callback_info info);
/* scanResponseHead(buffer, headRequest): the head scan alone, for tests */
napi_value scan_fn(napi_env env, napi_callback_info info);

#endif
