/* See response-head.h. A line-for-line port of rawHead in src/proxy/http1/response-parser.ts; the unit
 * test test/unit/proxy/response-head-native.test.ts feeds both the same heads. */
#include "response-head.h"

#include <string.h>

static unsigned char tchar[256];
static unsigned char vchar[256];
static int tables_ready;

static void init_tables(void) {
  const char *t = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  for (const char *p = t; *p; p++) tchar[(unsigned char)*p] = 1;
  for (int b = 0; b < 256; b++) vchar[b] = (b >= 0x20 && b != 0x7f) || b == 9;
  tables_ready = 1;
}

/* bytes at `at` equal `lower` ignoring ASCII case (`lower` holds letters and '-' only) */
static int lower_is(const unsigned char *at, const char *lower, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((at[i] | 0x20) != (unsigned char)lower[i]) return 0;
  return 1;
}
#define LOWER_IS(at, lit) lower_is((at), (lit), sizeof(lit) - 1)

int scan_response_head(const unsigned char *buf, size_t len, size_t max_head, int head_request, response_head_t *out) {
  if (!tables_ready) init_tables();
  size_t limit = len < max_head + 4 ? len : max_head + 4;
  const unsigned char *blank = memmem(buf, limit, "\r\n\r\n", 4);
  if (blank == NULL) return 0;
  size_t idx = (size_t)(blank - buf);
  /* "HTTP/1.1 DDD" then SP or CR */
  if (idx < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0) return 0;
  int d0 = buf[9] - '0', d1 = buf[10] - '0', d2 = buf[11] - '0';
  if (d0 < 2 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return 0;
  int status = d0 * 100 + d1 * 10 + d2;
  size_t p = 12;
  if (buf[p] == ' ') {
    p++;
    while (p < idx && vchar[buf[p]]) p++;
  }
  if (buf[p] != '\r' || buf[p + 1] != '\n') return 0;
  size_t end = idx + 2; /* just after the last header line's CRLF */
  p += 2;
  int64_t content_length = -1;
  int close = 0, ndrops = 0;
  /* every loop below stops at the CR of idx's CRLFCRLF at the latest */
  while (p < end) {
    size_t line = p;
    while (tchar[buf[p]]) p++;
    size_t name_len = p - line;
    if (name_len == 0 || buf[p] != ':') return 0;
    p++;
    while (buf[p] == ' ' || buf[p] == '\t') p++;
    size_t vstart = p;
    while (vchar[buf[p]]) p++;
    if (buf[p] != '\r' || buf[p + 1] != '\n') return 0;
    size_t vend = p;
    while (vend > vstart && (buf[vend - 1] == ' ' || buf[vend - 1] == '\t')) vend--;
    p += 2;
    int drop = 0;
    const unsigned char *name = buf + line;
    switch (name_len) {
      case 2:
        drop = LOWER_IS(name, "te");
        break;
      case 7:
        drop = LOWER_IS(name, "trailer") || LOWER_IS(name, "upgrade");
        break;
      case 10:
        if (LOWER_IS(name, "connection")) {
          size_t n = vend - vstart;
          if (n == 10 && LOWER_IS(buf + vstart, "keep-alive")) drop = 1;
          else if (n == 5 && LOWER_IS(buf + vstart, "close")) drop = close = 1;
          else return 0;
        } else {
          drop = LOWER_IS(name, "keep-alive");
        }
        break;
      case 14:
        if (LOWER_IS(name, "content-length")) {
          if (content_length >= 0 || vend - vstart > 15 || vend == vstart) return 0;
          int64_t n = 0;
          for (size_t i = vstart; i < vend; i++) {
            int d = buf[i] - '0';
            if (d < 0 || d > 9) return 0;
            n = n * 10 + d;
          }
          content_length = n;
        }
        break;
      case 16:
        drop = LOWER_IS(name, "proxy-connection");
        break;
      case 17:
        if (LOWER_IS(name, "transfer-encoding")) return 0;
        break;
    }
    if (drop) {
      if (ndrops == RH_MAX_DROPS) return 0;
      out->drops[2 * ndrops] = line;
      out->drops[2 * ndrops + 1] = p;
      ndrops++;
    }
  }
  int bodiless = head_request || status == 204 || status == 304;
  if (!bodiless && content_length < 0) return 0;
  out->status = status;
  out->head_end = idx + 4;
  out->content_length = bodiless ? -1 : content_length;
  out->bodiless = bodiless;
  out->close = close;
  out->ndrops = ndrops;
  return 1;
}
