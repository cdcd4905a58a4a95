/**
 * Every error of the XML-RPC transport, in one place.
 *
 * - {@link XmlRpcParseError}: inbound XML that is not a well-formed XML-RPC document. It is a
 *   BadArgs (GENI code 1), so a server answers it as fault 1 with the message.
 * - {@link XmlRpcSerializeError}: a value that cannot be written (our bug, not the peer's).
 * - {@link XmlRpcFault}: thrown by a handler to answer a fault with an exact code and string.
 * - {@link XmlRpcCallError} and its subclasses: what {@link xmlRpcCall} rejects with, each with a
 *   stable `code` to branch on.
 */
import { BadArgs } from '../faults.js';

/** The request or response body is not a valid XML-RPC document; the message says why. */
export class XmlRpcParseError extends BadArgs {}

/** A value cannot be written as XML-RPC (an unsupported type, an invalid XML character…). */
export class XmlRpcSerializeError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'XmlRpcSerializeError';
  }
}

/**
 * Thrown by a server handler to answer `<fault>` with exactly this faultCode and faultString
 * (for instance the Python SFA's `": Resolve: Record not found: ['plc.nothere']"`, code 2).
 */
export class XmlRpcFault extends Error {
  readonly faultCode: number;
  readonly faultString: string;
  constructor(faultCode: number, faultString: string) {
    super(faultString);
    this.name = 'XmlRpcFault';
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** Stable codes of {@link XmlRpcCallError}. */
export type XmlRpcCallErrorCode =
  'FAULT' | 'TIMEOUT' | 'CONNECTION' | 'HTTP_STATUS' | 'BAD_RESPONSE' | 'SERVER_REJECTED';

/** Base class of everything {@link xmlRpcCall} rejects with. */
export abstract class XmlRpcCallError extends Error {
  abstract readonly code: XmlRpcCallErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The server answered `<fault>`. */
export class XmlRpcFaultError extends XmlRpcCallError {
  readonly code = 'FAULT';
  readonly faultCode: number;
  readonly faultString: string;
  constructor(faultCode: number, faultString: string) {
    super(`XML-RPC fault ${faultCode}: ${faultString}`);
    this.faultCode = faultCode;
    this.faultString = faultString;
  }
}

/** No complete answer within the call's deadline. */
export class XmlRpcTimeoutError extends XmlRpcCallError {
  readonly code = 'TIMEOUT';
  readonly timeoutMs: number;
  constructor(url: string, timeoutMs: number) {
    super(`no answer from ${url} within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The connection could not be made or broke (refused, reset, DNS, TLS handshake). */
export class XmlRpcConnectionError extends XmlRpcCallError {
  readonly code = 'CONNECTION';
  /** The system error code when there is one (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`…). */
  readonly errno: string | undefined;
  constructor(message: string, errno: string | undefined, cause: unknown) {
    super(message, { cause });
    this.errno = errno;
  }
}

/** The server answered with an HTTP status other than 200. */
export class XmlRpcHttpError extends XmlRpcCallError {
  readonly code = 'HTTP_STATUS';
  readonly status: number;
  constructor(url: string, status: number, statusText: string, bodyExcerpt: string) {
    super(
      `${url} answered HTTP ${status}${statusText ? ` ${statusText}` : ''}` +
        (bodyExcerpt ? `: ${bodyExcerpt}` : ''),
    );
    this.status = status;
  }
}

/** The answer is not an XML-RPC methodResponse (not XML, wrong structure, too large…). */
export class XmlRpcResponseError extends XmlRpcCallError {
  readonly code = 'BAD_RESPONSE';
}

/** `verifyServer` refused the server's certificate; nothing was sent. */
export class XmlRpcServerRejectedError extends XmlRpcCallError {
  readonly code = 'SERVER_REJECTED';
}
