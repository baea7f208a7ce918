// The lab's topology and the halb.yaml each of its nodes runs: the seed topology of a
// HAProxy + keepalived pair, on addresses that exist only inside the lab's namespaces.
//
//   client 10.79.0.50 --+                         +-- web1 10.79.0.21
//   lb1    10.79.0.11 --+-- br0 (namespace sw) --+-- web2 10.79.0.22
//   lb2    10.79.0.12 --+                         +-- web3 10.79.0.23
//                         VIP 10.79.0.100 floats between lb1 and lb2

export const LAB_VIP = '10.79.0.100';
export const LAB_LBS = { lb1: { address: '10.79.0.11', mac: '02:79:00:00:00:11', priority: 101, state: 'MASTER' }, lb2: { address: '10.79.0.12', mac: '02:79:00:00:00:12', priority: 100, state: 'BACKUP' } } as const;
export type LabLb = keyof typeof LAB_LBS;
export const LAB_WEBS = { web1: '10.79.0.21', web2: '10.79.0.22', web3: '10.79.0.23' } as const;
export const LAB_CLIENT = '10.79.0.50';
export const LAB_ADVERT = '100ms';

/**
 * halb.yaml for one load balancer of the lab. Its admin socket is a file, which every network
 * namespace shares, so the lab reaches it from outside; the loopback port inside the namespace
 * serves read-only views to curl run there.
 */
export function labNodeYaml(lb: LabLb, adminSocket: string): string {
  const me = LAB_LBS[lb];
  const peer = LAB_LBS[lb === 'lb1' ? 'lb2' : 'lb1'];
  return [
    '# written by `halb lab`',
    'global:',
    '  workers: 1',
    `  admin: { socket: "${adminSocket}", mode: 600, listen: "127.0.0.1:9100", read_only_open: true }`,
    '  log: { level: info, access: false }',
    '  grace: 2s',
    'frontends:',
    '  web:',
    `    bind: ["${LAB_VIP}:80"]`,
    '    mode: http',
    '    default_backend: webservers',
    '    http-response:',
    `      - { set-header: X-Served-By, value: ${lb} }`,
    'backends:',
    '  webservers:',
    '    balance: roundrobin',
    '    health:',
    '      http: { method: GET, path: /, expect: { status: "200-399" } }',
    '      interval: 500ms',
    '      timeout: 400ms',
    '      rise: 2',
    '      fall: 2',
    '    servers:',
    ...Object.entries(LAB_WEBS).map(([name, a]) => `      - { name: ${name}, address: "${a}:80" }`),
    'vrrp:',
    '  instances:',
    '    LB_VIP:',
    '      interface: eth0',
    `      state: ${me.state}`,
    `      priority: ${me.priority}`,
    '      virtual_router_id: 79',
    '      version: 3',
    `      advert_int: ${LAB_ADVERT}`,
    `      unicast: { source: ${me.address}, peers: [${peer.address}] }`,
    `      virtual_ipaddress: ["${LAB_VIP}/24"]`,
    '      track:',
    '        backends: { webservers: { weight: -60 } }',
    '',
  ].join('\n');
}
