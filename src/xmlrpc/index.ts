/** XML-RPC over HTTPS: the thin transport between SFA's wire protocol and the core. */
export * from './codec.js';
export * from './errors.js';
export * from './value.js';
export {
  createXmlRpcServer,
  INTERNAL_ERROR_FAULT,
  type Peer,
  type XmlRpcCall,
  type XmlRpcHandler,
  type XmlRpcServerOptions,
} from './server.js';
export {
  createKeepAliveAgent,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_RESPONSE_BYTES,
  xmlRpcCall,
  type XmlRpcCallOptions,
} from './client.js';
