import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { jsonResponse } from '../core/responses.js';
import { SECURITY_HEADERS } from '../core/middleware/security-headers/index.js';

/**
 * An answer the local server gives itself (before or around the handlers), in
 * the same `{"error":{code,message,requestId}}` shape and with the same
 * security headers as every answer of the pipeline.
 */
export const ownError = (
  statusCode: number,
  code: string,
  message: string,
  requestId: string,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult => jsonResponse(statusCode, { error: { code, message, requestId } }, { ...SECURITY_HEADERS, ...headers });

/** Node's parser errors and timeouts, as the answer a client gets before the socket closes. */
const clientErrorAnswer = (error: NodeJS.ErrnoException): [number, string, string] => {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'The request was not received in time.'];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'The request headers are too large.'];
    default:
      return [400, 'bad_request', 'The request is not valid HTTP.'];
  }
};

/**
 * Writes a complete error answer on a socket Node's HTTP parser gave up on
 * (the `clientError` event), then closes it. Nothing is written when an answer
 * has begun already or the peer is gone.
 */
export const answerClientError = (error: NodeJS.ErrnoException, socket: Duplex, requestId: string): void => {
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (error.code === 'ECONNRESET' || started || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, code, message] = clientErrorAnswer(error);
  // An answer to HEAD has no body: writing one would desynchronize whatever reads the connection.
  const head = (error as NodeJS.ErrnoException & { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  writeRawError(socket, status, code, message, requestId, {}, head);
};

/** Writes a complete error answer on a raw socket (no ServerResponse exists for it) and closes it; `head`: the headers only. */
export const writeRawError = (
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Readonly<Record<string, string>> = {},
  head = false,
): void => {
  const result = ownError(status, code, message, requestId, { ...headers, Connection: 'close' });
  const body = Buffer.from(result.body);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd()];
  for (const [name, value] of Object.entries(result.headers ?? {})) lines.push(`${name}: ${String(value)}`);
  lines.push(`Content-Length: ${body.length}`, '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), head ? Buffer.alloc(0) : body]));
};
