// V8 flags every halb process runs with. bin/halb.js's shebang, the ./halb launcher and
// `npm start` spell the same list; worker processes get it from here.
//
// --max-semi-space-size=8: V8 grows the young generation to 2 x 16 MiB on this kind of machine.
// A proxy's per-request garbage dies young whatever the size, so 2 x 8 MiB scavenges a little
// more often for the same work (no measurable change in req/s or CPU per request in
// side-by-side runs), and holds 15-90 MiB less RSS per process, idle or under load.
export const HALB_V8_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** `execArgv` plus whichever of our flags it does not set itself (a user's own choice wins). */
export function withHalbV8Flags(execArgv: readonly string[]): string[] {
  const extra = HALB_V8_FLAGS.filter((f) => !execArgv.some((a) => a.startsWith(f.split('=')[0]!)));
  return [...execArgv, ...extra];
}
