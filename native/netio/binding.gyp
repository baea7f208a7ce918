{
  "targets": [
    {
      "target_name": "netio",
      "sources": ["src/netio.c", "src/relay.c", "src/conn.c", "src/forward.c", "src/response-head.c", "src/turn-end.c", "src/reuseport.c", "src/tls.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
