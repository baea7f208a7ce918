// ACME HTTP-01 answers (RFC 8555 §8.3): a plain http frontend answers
// GET /.well-known/acme-challenge/<token> itself with the key authorisation, and never forwards
// it. The tokens are set by whoever runs the ACME order (the primary) and pushed to every process
// that serves, so the CA's request is answered whichever worker the kernel gives it to.

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export class AcmeChallenges {
  private readonly tokens = new Map<string, string>();

  set(token: string, keyAuthorization: string | undefined): void {
    if (keyAuthorization === undefined) this.tokens.delete(token);
    else this.tokens.set(token, keyAuthorization);
  }

  get size(): number {
    return this.tokens.size;
  }

  /**
   * The answer for a request target, or undefined when it is not a challenge path (then the
   * request is routed as any other). A challenge path with an unknown token is answered 404
   * here too: no server behind halb holds halb's tokens.
   */
  answer(method: string, url: string): { status: 200 | 404; body: string } | undefined {
    if (!url.startsWith(CHALLENGE_PREFIX) || (method !== 'GET' && method !== 'HEAD')) return undefined;
    const token = url.slice(CHALLENGE_PREFIX.length).split('?')[0] ?? '';
    const ka = this.tokens.get(token);
    return ka === undefined ? { status: 404, body: 'no such ACME challenge token\n' } : { status: 200, body: ka };
  }
}
