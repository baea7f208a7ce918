// The relay tests again, on the Node-streams relay (TcpRelay): the path a session takes when a
// socket cannot be handed to the native relay, and the reference the native one must match.
process.env.HALB_TEST_TCP_RELAY = 'js';
await import('./relay.test.ts');
