{
  "targets": [
    {
      "target_name": "rawsock",
      "sources": ["src/rawsock.c", "src/pacer.c"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-lpthread"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
