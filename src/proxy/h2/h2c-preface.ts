// Prior-knowledge h2c (RFC 9113 §3.3) on a plain listener that also serves HTTP/1.1: a connection
// that opens with the HTTP/2 client preface is HTTP/2, any other is HTTP/1.1. Pure: the first
// bytes in, a verdict out; "more" while they are a strict prefix of the preface (no HTTP/1.1
// request line starts with "PRI * HTTP/2.0", so the verdict never has to be taken back).

export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function sniffPreface(first: Buffer): 'h2' | 'h1' | 'more' {
  const n = Math.min(first.length, H2_PREFACE.length);
  if (first.compare(H2_PREFACE, 0, n, 0, n) !== 0) return 'h1';
  return n === H2_PREFACE.length ? 'h2' : 'more';
}
