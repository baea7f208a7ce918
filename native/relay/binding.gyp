{
  "targets": [
    {
      "target_name": "relay",
      "sources": ["src/relay.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
