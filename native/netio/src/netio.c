// @halb/netio: socket I/O in C for halb's data paths, one Node-API module with two parts:
// relay.c moves TCP-mode connections without JavaScript per chunk; conn.c is the lean
// connection layer under the HTTP path.
#include <node_api.h>

napi_value netio_relay_init(napi_env env, napi_value exports);
napi_value netio_conn_init(napi_env env, napi_value exports);

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  if (netio_relay_init(env, exports) == NULL) return NULL;
  return netio_conn_init(env, exports);
}
