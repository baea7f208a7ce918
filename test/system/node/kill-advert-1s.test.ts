// kill -9 of lb1's halb at advert 1s (v3) while a client requests the VIP at 50 req/s:
// lb2 serves within Master_Down_Interval + 100 ms (median of 3 trials; each trial within twice that).
import { masterDownInterval } from '../../../src/vrrp/state-machine.ts';
import { killFailoverSuite } from './kill-failover.ts';

killFailoverSuite('1s', 1000, masterDownInterval(3, 100, 1000) + 100, 'Master_Down_Interval + 100 ms');
