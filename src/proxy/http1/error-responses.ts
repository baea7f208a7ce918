// Short bodies for the answers halb gives itself, as HAProxy does.

/** What sendError needs of a response (node's ServerResponse has it). */
export interface ErrorSink {
  readonly headersSent: boolean;
  shouldKeepAlive: boolean;
  writeHead(status: number, reason: string | undefined, headers: string[]): unknown;
  end(data: string): unknown;
  destroy(): unknown;
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

function body(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Error'}\n`;
}

/** Sends a complete error response. */
export function sendError(res: ErrorSink, status: number, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const b = body(status);
  const headers = ['Content-Type', 'text/plain', 'Content-Length', String(b.length), 'Cache-Control', 'no-cache'];
  if (close) {
    headers.push('Connection', 'close');
    res.shouldKeepAlive = false;
  }
  res.writeHead(status, STATUS_TEXT[status], headers);
  res.end(b);
}

/** The same as raw bytes, for sockets node's parser gave up on (clientError, upgrade). */
export function rawError(status: number): string {
  const b = body(status);
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain\r\n` +
    `Content-Length: ${b.length}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n${b}`
  );
}
