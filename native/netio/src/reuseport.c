/* See reuseport.h. The program, in eBPF assembly (socket filter; what it returns is the index of
 * the socket in the port's SO_REUSEPORT group that gets the connection, and an index past the
 * group's end lets the kernel fall back to its hash):
 *
 *     key = 0; slot = map_lookup(counter, &key); if (!slot) return ~0;
 *     n = *slot; *slot = n + 1; return n % workers;
 *
 * The counter is read and written without an atomic: two SYNs handled at the same instant on two
 * CPUs may take the same turn, which only makes the spread a little less even. */
#include "reuseport.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_EBPF
#define SO_ATTACH_REUSEPORT_EBPF 52
#endif

static int bpf(int cmd, union bpf_attr *attr) { return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i;
  memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst;
  i.src_reg = src;
  i.off = off;
  i.imm = imm;
  return i;
}

/* 0 or an errno; `what` names the step that failed */
static int load(int workers, int *prog_fd, const char **what) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = 4;
  attr.max_entries = 1;
  int map = bpf(BPF_MAP_CREATE, &attr);
  if (map < 0) {
    *what = "bpf map";
    return errno;
  }
  struct bpf_insn prog[] = {
      insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0),             /* key = 0 */
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),   /* r2 = &key */
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),           /* */
      insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map), /* r1 = counter */
      insn(0, 0, 0, 0, 0),                                               /* (upper half) */
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),       /* r0 = slot */
      insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 2, 0),               /* found: skip 2 */
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -1),            /* return ~0 */
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                              /* */
      insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_1, BPF_REG_0, 0, 0),       /* r1 = *slot */
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_1, 0, 0),     /* */
      insn(BPF_ALU | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, 1),               /* */
      insn(BPF_STX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_2, 0, 0),       /* *slot = r1 + 1 */
      insn(BPF_ALU | BPF_MOD | BPF_K, BPF_REG_1, 0, 0, workers),         /* */
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0),     /* return r1 % workers */
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  static const char license[] = "GPL";
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = sizeof prog / sizeof prog[0];
  attr.license = (uint64_t)(uintptr_t)license;
  int fd = bpf(BPF_PROG_LOAD, &attr);
  int err = errno;
  /* the program holds the map */
  close(map);
  if (fd < 0) {
    *what = "bpf program";
    return err;
  }
  *prog_fd = fd;
  return 0;
}

int reuseport_spread(int listen_fd, int workers, const char **what) {
  if (workers < 2) return 0;
  int prog = -1;
  int err = load(workers, &prog, what);
  if (err != 0) return err;
  if (setsockopt(listen_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog, sizeof prog) < 0) {
    err = errno;
    *what = "SO_ATTACH_REUSEPORT_EBPF";
  }
  /* the port's socket group holds the program */
  close(prog);
  return err;
}

napi_value reuseport_spread_fn(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t fd, workers;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &workers) != napi_ok || fd < 0 || workers < 1 || workers > 4096) {
    napi_throw_type_error(env, NULL, "netio.reuseportSpread(listenFd, workers)");
    return NULL;
  }
  const char *what = "";
  int err = reuseport_spread(fd, workers, &what);
  if (err == 0) {
    napi_get_undefined(env, &out);
    return out;
  }
  char msg[160];
  const char *code = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s", what, code == NULL ? "EUNKNOWN" : code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &out);
  return out;
}
