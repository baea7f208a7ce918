// The advert pacer: a thread that sends a master's VRRP adverts at their interval, so they
// leave on time while the JS event loop is busy with the proxy (a 20 ms advert interval gives
// the backup 72 ms before it takes over; a loaded loop stalled longer than that and caused
// spurious failovers). JS stays in charge: it hands the thread the next adverts, already encoded
// (and signed, one HMAC sequence number each), at every advert tick. The thread sends only what
// it was given, so a JS side that stops running (hung, not just slow) stops advertising once its
// queue is spent, and the backup takes over as for a dead master.
//
// The thread asks for SCHED_FIFO (it sleeps almost always; needs CAP_SYS_NICE, else it runs at
// normal priority and says so in stats().realtime).

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rawsock.h"

#define MAX_SLOTS 128
#define MAX_DESTS 16

typedef struct {
  unsigned char *data;
  size_t len;
  struct sockaddr_storage dst;
  socklen_t dlen;
} packet_t;

typedef struct {
  packet_t pkts[MAX_DESTS];
  int n;
} slot_t;

typedef struct {
  int fd;
  int family;
  struct sockaddr_storage src;
  int have_src;
  int32_t ifindex;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  slot_t slots[MAX_SLOTS];
  int nslots, next;          /* queue: slots[next..nslots) are still to send */
  int64_t interval_ns;
  int64_t next_due;          /* CLOCK_MONOTONIC ns of slots[next] */
  int quit, closed, realtime;
  /* stats */
  uint64_t sent, errors;
  int last_errno;
  int64_t max_late_ns;
} pacer_t;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void free_slots(pacer_t *p) {
  for (int i = 0; i < p->nslots; i++)
    for (int j = 0; j < p->slots[i].n; j++) free(p->slots[i].pkts[j].data);
  p->nslots = p->next = 0;
}

static void *run(void *arg) {
  pacer_t *p = arg;
  struct sched_param sp = {.sched_priority = 10};
  p->realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  pthread_mutex_lock(&p->mu);
  while (!p->quit) {
    if (p->next >= p->nslots) {
      pthread_cond_wait(&p->cv, &p->mu);
      continue;
    }
    int64_t now = now_ns();
    if (now < p->next_due) {
      struct timespec until = {.tv_sec = p->next_due / 1000000000LL, .tv_nsec = p->next_due % 1000000000LL};
      pthread_cond_timedwait(&p->cv, &p->mu, &until);
      continue; /* re-check: the queue may have been replaced or stopped */
    }
    slot_t *s = &p->slots[p->next++];
    for (int j = 0; j < s->n; j++) {
      packet_t *k = &s->pkts[j];
      ssize_t r = rawsock_sendmsg(p->fd, p->family, k->data, k->len, &k->dst, k->dlen, p->have_src ? &p->src : NULL, p->ifindex);
      if (r < 0) {
        p->errors++;
        p->last_errno = (int)-r;
      } else {
        p->sent++;
      }
    }
    int64_t late = now - p->next_due;
    if (late > p->max_late_ns) p->max_late_ns = late;
    p->next_due += p->interval_ns;
    /* Woken late (more than an interval): go on from now, never in a burst. */
    if (p->next_due < now) p->next_due = now + p->interval_ns;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static pacer_t *get_pacer(napi_env env, napi_value v) {
  pacer_t *p = NULL;
  if (napi_unwrap(env, v, (void **)&p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "rawsock: expected a pacer handle");
    return NULL;
  }
  if (p->closed) {
    napi_throw_error(env, "ERR_PACER_CLOSED", "rawsock: pacer is closed");
    return NULL;
  }
  return p;
}

static void close_pacer(pacer_t *p) {
  if (p->closed) return;
  pthread_mutex_lock(&p->mu);
  p->quit = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  free_slots(p);
  close(p->fd);
  p->closed = 1;
}

static void finalize_pacer(napi_env env, void *data, void *hint) {
  pacer_t *p = data;
  close_pacer(p);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p);
}

/* pacerOpen(socket, source?, ifindex?) -> pacer. Sends through its own dup of the socket. */
static napi_value pacer_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) THROW_TYPE("rawsock: pacerOpen(handle, source?, ifindex?)");
  sock_t *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->family == AF_PACKET) THROW_TYPE("rawsock: a pacer sends on an IP socket");
  pacer_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    napi_throw_error(env, NULL, "rawsock: out of memory");
    return NULL;
  }
  p->family = s->family;
  if (argc >= 2 && !is_nullish(env, argv[1])) {
    socklen_t l;
    if (parse_addr(env, s->family, argv[1], &p->src, &l, "source") < 0) goto fail;
    p->have_src = 1;
  }
  if (argc >= 3 && !is_nullish(env, argv[2]) && get_i32(env, argv[2], &p->ifindex, "ifindex") < 0) goto fail;
  p->fd = dup(s->fd);
  if (p->fd < 0) {
    throw_errno(env, "dup", errno);
    goto fail;
  }
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&p->cv, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&p->mu, NULL);
  int r = pthread_create(&p->thread, NULL, run, p);
  if (r != 0) {
    close(p->fd);
    throw_errno(env, "pthread_create", r);
    goto fail;
  }
  napi_value obj;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_wrap(env, obj, p, finalize_pacer, NULL, NULL));
  return obj;
fail:
  free(p);
  return NULL;
}

/* pacerSchedule(pacer, slots: [[payload, dst], ...][], intervalMs, firstDueMs)
 * Replaces what is still queued. slots[0] is due firstDueMs from now (0: now; < 0: keep the
 * current phase, the due time of the next unsent advert); each next one intervalMs later. */
static napi_value pacer_schedule(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) THROW_TYPE("rawsock: pacerSchedule(pacer, slots, intervalMs, firstDueMs)");
  pacer_t *p = get_pacer(env, argv[0]);
  if (!p) return NULL;
  double interval_ms, first_ms;
  if (napi_get_value_double(env, argv[2], &interval_ms) != napi_ok || !(interval_ms >= 1))
    THROW_TYPE("rawsock: intervalMs must be a number >= 1");
  if (napi_get_value_double(env, argv[3], &first_ms) != napi_ok) THROW_TYPE("rawsock: firstDueMs must be a number");
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok) THROW_TYPE("rawsock: slots must be an array");
  if (n > MAX_SLOTS) THROW_TYPE("rawsock: too many slots");
  /* Build the new queue outside the lock; swap it in under it. */
  slot_t *fresh = calloc(n > 0 ? n : 1, sizeof *fresh);
  if (fresh == NULL) {
    napi_throw_error(env, NULL, "rawsock: out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value slot;
    uint32_t m;
    if (napi_get_element(env, argv[1], i, &slot) != napi_ok || napi_get_array_length(env, slot, &m) != napi_ok || m > MAX_DESTS) {
      napi_throw_type_error(env, NULL, "rawsock: a slot must be an array of at most 16 [payload, dst] pairs");
      goto bad;
    }
    for (uint32_t j = 0; j < m; j++) {
      napi_value pair, payload, dst;
      void *data;
      size_t len;
      bool is_buf = false;
      if (napi_get_element(env, slot, j, &pair) != napi_ok || napi_get_element(env, pair, 0, &payload) != napi_ok ||
          napi_get_element(env, pair, 1, &dst) != napi_ok || napi_is_buffer(env, payload, &is_buf) != napi_ok || !is_buf) {
        napi_throw_type_error(env, NULL, "rawsock: a slot entry must be [Buffer, address]");
        goto bad;
      }
      napi_get_buffer_info(env, payload, &data, &len);
      packet_t *k = &fresh[i].pkts[j];
      if (parse_addr(env, p->family, dst, &k->dst, &k->dlen, "destination") < 0) goto bad;
      k->data = malloc(len > 0 ? len : 1);
      if (k->data == NULL) {
        napi_throw_error(env, NULL, "rawsock: out of memory");
        goto bad;
      }
      memcpy(k->data, data, len);
      k->len = len;
      fresh[i].n = (int)j + 1;
    }
  }
  pthread_mutex_lock(&p->mu);
  int64_t now = now_ns();
  int keep_phase = first_ms < 0 && p->next < p->nslots;
  free_slots(p);
  memcpy(p->slots, fresh, n * sizeof *fresh);
  p->nslots = (int)n;
  p->next = 0;
  p->interval_ns = (int64_t)(interval_ms * 1e6);
  if (!keep_phase) p->next_due = now + (first_ms > 0 ? (int64_t)(first_ms * 1e6) : 0);
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  free(fresh);
  return NULL;
bad:
  for (uint32_t i = 0; i < n; i++)
    for (int j = 0; j < fresh[i].n; j++) free(fresh[i].pkts[j].data);
  free(fresh);
  return NULL;
}

/* pacerStop(pacer): drop what is queued (left master). */
static napi_value pacer_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pacer_t *p = get_pacer(env, argv[0]);
  if (!p) return NULL;
  pthread_mutex_lock(&p->mu);
  free_slots(p);
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* pacerStats(pacer) -> { sent, errors, lastErrno, maxLateMs, queued, realtime } */
static napi_value pacer_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pacer_t *p = get_pacer(env, argv[0]);
  if (!p) return NULL;
  pthread_mutex_lock(&p->mu);
  double sent = (double)p->sent, errors = (double)p->errors, late = (double)p->max_late_ns / 1e6;
  int last = p->last_errno, queued = p->nslots - p->next, rt = p->realtime;
  pthread_mutex_unlock(&p->mu);
  napi_value o, v;
  CHECK(napi_create_object(env, &o));
  CHECK(napi_create_double(env, sent, &v));
  CHECK(napi_set_named_property(env, o, "sent", v));
  CHECK(napi_create_double(env, errors, &v));
  CHECK(napi_set_named_property(env, o, "errors", v));
  CHECK(napi_create_int32(env, last, &v));
  CHECK(napi_set_named_property(env, o, "lastErrno", v));
  CHECK(napi_create_double(env, late, &v));
  CHECK(napi_set_named_property(env, o, "maxLateMs", v));
  CHECK(napi_create_int32(env, queued, &v));
  CHECK(napi_set_named_property(env, o, "queued", v));
  CHECK(napi_get_boolean(env, rt, &v));
  CHECK(napi_set_named_property(env, o, "realtime", v));
  return o;
}

/* pacerClose(pacer): stop the thread and close its socket. */
static napi_value pacer_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  pacer_t *p = NULL;
  if (napi_unwrap(env, argv[0], (void **)&p) != napi_ok || p == NULL) THROW_TYPE("rawsock: expected a pacer handle");
  close_pacer(p);
  return NULL;
}

int pacer_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"pacerOpen", NULL, pacer_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pacerSchedule", NULL, pacer_schedule, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pacerStop", NULL, pacer_stop, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pacerStats", NULL, pacer_stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pacerClose", NULL, pacer_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok ? 0 : -1;
}
