// 32-bit string hashing for consistent hashing: FNV-1a over UTF-16 code units, then murmur3's
// fmix32 finaliser, because raw FNV-1a has weak avalanche in its high bits (ring positions).
// Works on a [start, end) range so callers hash a slice (the path of a URI) without allocating.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** murmur3 fmix32: a bijection on uint32 with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashString(s: string, start = 0, end = s.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    // Both bytes of the code unit, so non-ASCII keys spread as well as ASCII ones.
    h ^= c & 0xff;
    h = Math.imul(h, FNV_PRIME);
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, FNV_PRIME);
    }
  }
  return fmix32(h);
}
