// Requests that Node's HTTP parser refuses before Express sees them (a malformed request
// line, headers too large, bad body framing, a missing Host) get problem details too
// (SPEC §8), instead of Node's bare "400 Bad Request" with no body. Mirrors Node's own
// default: answer only when no response is under way on the socket, then close it.
// Node's own check for a missing Host header answers a bare 400 too, so the server is
// created without it and the app refuses such a request itself (createApp).
import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE } from '../../common/api';

const DETAILS: Record<number, string> = {
  400: 'the request is not well-formed HTTP/1.1 (request line, header names, Host, Content-Length or chunked framing); send a standard request',
  408: 'the request did not arrive in time; send it again',
  431: 'the request line or headers are too large; shorten the URL and headers (values travel in JSON bodies)',
};

export function problemForParserError(code: string | undefined): { status: number; bytes: string } {
  const status = code === 'HPE_HEADER_OVERFLOW' || code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({ type: 'about:blank', title, status, detail: DETAILS[status] });
  return {
    status,
    bytes:
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
  };
}

export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) socket.write(problemForParserError(err.code).bytes);
    socket.destroy();
  });
}

/** The HTTP server for the app: parser errors answered with problem details, keep-alive sized for load. */
export function createHttpServer(app: RequestListener): Server {
  const server = createServer({ requireHostHeader: false }, app);
  answerParserErrors(server);
  // Node's default keep-alive timeout (5 s) is shorter than a busy server can take to get to a
  // request that already waits on a kept-alive socket: the idle timer fires first (timers run
  // before I/O in the event loop), the socket is destroyed and the client sees a reset for a
  // request it sent correctly. Measured under load (test/reliability/load.test.ts).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
