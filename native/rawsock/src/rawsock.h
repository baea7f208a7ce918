// Shared between rawsock.c (sockets) and pacer.c (the advert sending thread).
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <node_api.h>
#include <uv.h>

typedef struct {
  napi_env env;
  int fd;
  int family; /* AF_INET, AF_INET6 or AF_PACKET */
  uv_poll_t *poll;
  napi_ref on_packet;
  napi_ref on_error;
  napi_async_context async;
  unsigned char *buf;
  int closed;
} sock_t;

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      bool pending_;                                                  \
      napi_is_exception_pending(env, &pending_);                      \
      if (!pending_) napi_throw_error(env, NULL, "rawsock: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

#define THROW_TYPE(msg)                       \
  do {                                        \
    napi_throw_type_error(env, NULL, (msg));  \
    return NULL;                              \
  } while (0)

void throw_errno(napi_env env, const char *syscall, int err);
sock_t *get_sock(napi_env env, napi_value v);
int get_str(napi_env env, napi_value v, char *out, size_t size, const char *what);
int get_i32(napi_env env, napi_value v, int32_t *out, const char *what);
int is_nullish(napi_env env, napi_value v);
int parse_addr(napi_env env, int family, napi_value v, struct sockaddr_storage *ss, socklen_t *len, const char *what);
ssize_t rawsock_sendmsg(int fd, int family, const void *data, size_t len, struct sockaddr_storage *dst, socklen_t dlen,
                        const struct sockaddr_storage *src, int32_t ifindex);
int pacer_register(napi_env env, napi_value exports);
