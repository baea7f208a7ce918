/* The common shape of a server's response head, recognised in C so the response can be forwarded
 * without JavaScript seeing its bytes. The rules are those of the JS raw scan
 * (src/proxy/http1/response-parser.ts, rawHead): anything else is left to the JS parser. Pure. */
#ifndef HALB_RESPONSE_HEAD_H
#define HALB_RESPONSE_HEAD_H

#include <stddef.h>
#include <stdint.h>

/* hop-by-hop lines the scan can cut out; more leave the head to the JS parser */
#define RH_MAX_DROPS 8

typedef struct {
  int status;
  size_t head_end;        /* offset just after the blank line */
  int64_t content_length; /* -1: none (only when bodiless) */
  int bodiless;           /* HEAD request, 204 or 304 */
  int close;              /* the server sent Connection: close */
  int ndrops;
  size_t drops[RH_MAX_DROPS * 2]; /* [start, end) of each line cut out, in order */
} response_head_t;

/* 1: `buf` starts with a complete head of the common shape, described in `out`; 0: incomplete,
 * or another shape (interim, chunked, close-delimited, HTTP/1.0, malformed...). `max_head` bounds
 * the search for the blank line. */
int scan_response_head(const unsigned char *buf, size_t len, size_t max_head, int head_request, response_head_t *out);

#endif
