/**
 * The XML-RPC codec: documents to values and back. Reading is in parse.ts (streaming, bounded,
 * strict), writing in serialize.ts (Python xmlrpc.client's layout); the value model is in
 * value.ts.
 */
export {
  DEFAULT_PARSE_LIMITS,
  parseDateTime,
  parseMethodCall,
  parseMethodResponse,
  type Fault,
  type MethodCall,
  type MethodResponse,
  type ParseLimits,
} from './parse.js';
export {
  formatDateTime,
  serializeFault,
  serializeMethodCall,
  serializeMethodResponse,
} from './serialize.js';
