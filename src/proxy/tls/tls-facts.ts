// What a TLS connection's handshake settled, kept on the socket once it is secure: the access log
// writes version, cipher, SNI and ALPN per request, and with client certificates the requests to
// servers carry the client's subject. Read once per connection, not per request.
import type tls from 'node:tls';
import { distinguishedName } from './client-certificate.ts';
import type { NativeSocket } from '../native/native-socket.ts';

export interface TlsFacts {
  version: string;
  cipher: string;
  /** The server name the client asked for (SNI), if any. */
  sni: string | undefined;
  alpn: string | undefined;
  /** An abbreviated handshake: the client came back with a session ticket. */
  resumed: boolean;
  /** With verify optional/required: the client certificate's subject, when it sent a verified one. */
  clientDn: string | undefined;
  clientVerified: boolean;
}

const kFacts = Symbol('halb.tls');
type Tagged = object & { [kFacts]?: TlsFacts };

export function recordTlsFacts(s: tls.TLSSocket, sni: string | undefined, clientVerified: boolean): TlsFacts {
  const facts: TlsFacts = {
    version: s.getProtocol() ?? 'unknown',
    cipher: s.getCipher().standardName,
    sni,
    alpn: typeof s.alpnProtocol === 'string' ? s.alpnProtocol : undefined,
    resumed: s.isSessionReused(),
    clientDn: clientVerified ? distinguishedName(s.getPeerX509Certificate()?.subject ?? '') : undefined,
    clientVerified,
  };
  (s as Tagged)[kFacts] = facts;
  return facts;
}

/** A C-layer TLS connection's facts (no client certificates there: verify none). */
export function recordNativeTlsFacts(s: NativeSocket, sni: string | undefined): TlsFacts | undefined {
  const f = s.tlsFacts();
  if (f === undefined) return undefined;
  const facts: TlsFacts = { version: f.version, cipher: f.cipher, sni, alpn: f.alpn, resumed: f.resumed, clientDn: undefined, clientVerified: false };
  (s as Tagged)[kFacts] = facts;
  return facts;
}

/** The facts go with the connection to the object that carries it on (native-duplex.ts). */
export function moveTlsFacts(from: object, to: object): void {
  const f = (from as Tagged)[kFacts];
  if (f !== undefined) (to as Tagged)[kFacts] = f;
}

/** The facts of a TLS connection; undefined on a plain one. */
export function tlsFacts(socket: object): TlsFacts | undefined {
  return (socket as Tagged)[kFacts];
}
