/* Work deferred to the end of the current loop turn's I/O: a uv_check handle runs it after the
 * poll phase, and while it is armed a uv_idle handle keeps the poll phase from blocking. Used by
 * the connection layer and the TCP relay to send what one turn queued in one send per socket. */
#ifndef HALB_TURN_END_H
#define HALB_TURN_END_H

#include <uv.h>

typedef struct {
  uv_check_t check;
  uv_idle_t idle;
  int armed;
  void (*run)(void *arg);
  void *arg;
} turn_end_t;

/* Neither handle keeps the loop alive. */
void turn_end_init(turn_end_t *t, uv_loop_t *loop, void (*run)(void *arg), void *arg);
/* run() is called at the end of this turn's I/O (once, however often this is called). */
void turn_end_arm(turn_end_t *t);

#endif
