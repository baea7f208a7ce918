// kill -9 of lb1's halb at advert 100ms (v3) while a client requests the VIP at 50 req/s:
// lb2 serves within 0.5 s (median of 3 trials; each trial within twice that).
import { killFailoverSuite } from './kill-failover.ts';

killFailoverSuite('100ms', 100, 500, '0.5 s');
