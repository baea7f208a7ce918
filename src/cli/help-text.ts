// What `halb <command> --help` prints after commander's option list: examples, signals, exit
// codes and where to read more. Kept apart from main.ts so the option wiring stays readable and
// a test can check that every command has its text.

const docs = 'Docs: README.md, docs/ARCHITECTURE.md, examples/ (in the halb repository).';

const adminExit = [
  'Talks to the node\'s admin unix socket (admin.socket; who may is decided by its file mode and',
  'group), or with --admin URL to a TCP listener (--token-file for its bearer token).',
  'Exit status: 0 done, 1 the node answered with an error (401/403: not allowed), 2 the node could',
  'not be reached.',
].join('\n');

export const helpAfter: Readonly<Record<string, string>> = {
  '': [
    '',
    'Examples:',
    '  halb run --demo                       three web servers on loopback, halb on 127.0.0.1:8080',
    '  halb run -c /etc/halb/halb.yaml       run a node (proxy, health checks, VRRP, admin API)',
    '  halb validate -c halb.yaml            every problem with file:line:column and key path',
    '  halb import haproxy.cfg keepalived.conf -o halb.yaml',
    '  halb status                           the running node: frontends, servers, VRRP',
    '  sudo halb lab                         the failover half live, in network namespaces',
    '',
    docs,
  ].join('\n'),
  run: [
    '',
    'Signals: SIGHUP re-reads the config (a bad one is refused, the running one keeps serving);',
    'SIGTERM/SIGINT stop gracefully: a VRRP master sends priority 0 so a backup takes over at once,',
    'then open requests finish.',
    'Privileges: root, or an unprivileged user with the capabilities the config needs',
    '(CAP_NET_RAW for VRRP/ARP, CAP_NET_ADMIN for VIPs/nft, CAP_NET_BIND_SERVICE below port 1024);',
    'a node missing one is refused before anything starts (packaging/halb.service).',
    'Exit status: 0 stopped cleanly, 1 the config or the start failed, 2 bad command line.',
    '',
    'Examples:',
    '  halb run -c halb.yaml --pid-file /run/halb.pid',
    '  halb run -c halb-pair.yaml --node lb2   one file for both nodes (nodes: map)',
  ].join('\n'),
  validate: [
    '',
    'Checks the file alone (schema, references, VRRP coherence, the pair of a nodes: map) and what',
    'needs this host (a VIP the host already holds, an unreadable HMAC key file).',
    'Exit status: 0 valid (warnings may be printed), 1 errors found.',
    '',
    'Examples:',
    '  halb validate -c halb.yaml',
    '  halb validate -c halb.yaml --explain    routing rules, checks and VRRP as halb reads them',
  ].join('\n'),
  import: [
    '',
    'One halb.yaml per keepalived.conf (each describes one node), sharing the imported proxy half;',
    'with -o and several nodes, one file each (halb-lb1.yaml ...). Directives halb has no',
    'equivalent for are reported as warnings with file:line, never dropped silently.',
    '',
    'Example:',
    '  halb import /etc/haproxy/haproxy.cfg /etc/keepalived/keepalived.conf -o halb.yaml',
  ].join('\n'),
  schema: [
    '',
    'Example (yaml-language-server in editors):',
    '  halb schema > halb.schema.json   and put  # yaml-language-server: $schema=halb.schema.json',
    '  at the top of halb.yaml',
  ].join('\n'),
  reload: ['', adminExit, '', 'Example:', '  halb reload && halb status'].join('\n'),
  handover: [
    '',
    'The master sends priority 0 so the backup takes over at once, keeps serving what still',
    'reaches it and hands open connections over, then stays backup (no preemption back) until it',
    'is master again.',
    adminExit,
  ].join('\n'),
  status: ['', adminExit, '', 'Examples:', '  halb status', '  halb status --json | jq .vrrp', '  halb status --admin https://lb1:9100 --token-file /etc/halb/admin.token --ca-file /etc/halb/ca.pem'].join('\n'),
  server: [
    '',
    adminExit,
    '',
    'Examples:',
    '  halb server webservers web2 --drain      finish what it has, take nothing new',
    '  halb server webservers web2 --ready --weight 50',
  ].join('\n'),
  lab: [
    '',
    'Needs root (namespaces, veths, a bridge; nothing in the host\'s own namespace is touched).',
    'Start it in one shell, then from another:',
    '  halb lab fail master | fail proxy | fail link',
    '  halb lab handover',
    '  halb lab heal',
    '  halb lab timeline',
    'Ctrl-C or `halb lab stop` prints the timeline and removes every namespace; a lab that',
    'crashed is cleaned up by the next `halb lab`.',
  ].join('\n'),
};
