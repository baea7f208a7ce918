// keepalived's command-line quoting, shared by what runs commands: notify hooks
// (vip/exec-hooks.ts) and vrrp_script trackers (vrrp/track/script-tracker.ts). It lives
// here, below both, so neither layer imports the other for it.

/**
 * Split a command line the way keepalived does: whitespace separates words; " and '
 * quote (quotes removed, "ab"cd is one word abcd); backslash escapes the next character
 * (\n \t \r give control characters). Throws on an unterminated quote or an empty command.
 */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === '\\' && i + 1 < cmd.length) {
      const n = cmd[++i]!;
      cur += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
      inWord = true;
    } else if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`command has an unterminated ${quote} quote: ${cmd}`);
  if (inWord) words.push(cur);
  if (words.length === 0) throw new Error('command is empty');
  return words;
}
