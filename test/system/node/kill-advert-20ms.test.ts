// kill -9 of lb1's halb at advert 20ms (v3, the fast end RFC 5798 allows: 10 ms steps) while a
// client requests the VIP at 50 req/s: lb2 serves within 0.1 s (median of 3 trials; each trial
// within twice the bound) with at most 3 failed requests (issue 12). lb1's last-word keeper sends
// its priority 0 when the primary dies, so lb2 takes over after Skew_Time (~12 ms after the
// word arrives) instead of Master_Down_Interval (72 ms), and with the hand-off rule armed while
// it followed lb1, it adds the VIP and announces without waiting for nft. The requests started
// between the kill and lb2's GARP reaching the client are the ones that fail.
import { killFailoverSuite } from './kill-failover.ts';

killFailoverSuite('20ms', 20, 100, '0.1 s', 3);
