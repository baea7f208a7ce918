// kill -9 of lb1's halb at advert 20ms (v3, the fast end RFC 5798 allows: 10 ms steps) while a
// client requests the VIP at 50 req/s: lb2 serves within 0.1 s with at most 3 failed requests
// (median of 3 trials; each trial served within twice the bound). Master_Down_Interval is 72 ms.
import { killFailoverSuite } from './kill-failover.ts';

killFailoverSuite('20ms', 20, 100, '0.1 s', 3);
