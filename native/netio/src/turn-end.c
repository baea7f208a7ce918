/* See turn-end.h. */
#include "turn-end.h"

static void on_idle(uv_idle_t *h) { (void)h; }

static void on_check(uv_check_t *h) {
  turn_end_t *t = h->data;
  if (!t->armed) return;
  t->armed = 0;
  uv_idle_stop(&t->idle);
  t->run(t->arg);
}

void turn_end_init(turn_end_t *t, uv_loop_t *loop, void (*run)(void *arg), void *arg) {
  t->run = run;
  t->arg = arg;
  t->armed = 0;
  uv_check_init(loop, &t->check);
  t->check.data = t;
  uv_check_start(&t->check, on_check);
  uv_unref((uv_handle_t *)&t->check);
  uv_idle_init(loop, &t->idle);
  uv_unref((uv_handle_t *)&t->idle);
}

void turn_end_arm(turn_end_t *t) {
  if (t->armed) return;
  t->armed = 1;
  uv_idle_start(&t->idle, on_idle);
}
