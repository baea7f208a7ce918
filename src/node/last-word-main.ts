// The last-word keeper: a small process beside the node's primary that holds, for every VRRP
// instance the primary is master of, the priority-0 round it would send on stepping down
// (vrrp/last-word.ts), and sends it if the primary dies without a word (kill -9, OOM kill, a
// crash): the IPC channel closes the moment the primary's process is gone. Then it takes that
// instance's VIPs off the interfaces, so the dead node stops answering ARP for them, and exits.
// A planned stop clears every word first (the primary steps down itself), so nothing is sent twice.

import { sendLastWord, type LastWord } from '../vrrp/last-word.ts';
import type { ToKeeper } from './last-word-keeper.ts';

const words = new Map<string, Extract<ToKeeper, { t: 'word' }>>();

process.on('message', (m: unknown) => {
  const msg = m as ToKeeper;
  if (msg?.t === 'quit') {
    words.clear();
    process.exit(0);
  }
  if (msg?.t === 'word') {
    if (msg.word) words.set(msg.instance, msg);
    else words.delete(msg.instance);
  }
});
// Signals are for the primary; the keeper follows the channel (a stop clears it, a death closes it).
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined);

process.on('disconnect', () => {
  const spoken: string[] = [];
  for (const { word } of words.values()) if (word && sendLastWord(word as LastWord) > 0) spoken.push(word.instance);
  if (spoken.length > 0) process.stderr.write(`${JSON.stringify({ level: 40, time: Date.now(), component: 'last-word', instances: spoken, msg: 'the primary died while master: sent priority 0 for it and removed its VIPs' })}\n`);
  // Loaded only now, after the adverts left: the keeper waits small.
  void import('../vip/linux-address.ts')
    .then(({ LinuxAddresses }) => {
      const table = new LinuxAddresses();
      return Promise.all([...words.values()].flatMap((w) => w.addresses.map((a) => table.remove(a, a.device ?? w.word!.interface).catch(() => undefined))));
    })
    .finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
});
