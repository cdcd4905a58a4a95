/**
 * Every AM API answer is `{geni_api, code: {geni_code, am_type, am_code}, value, output}`.
 * API errors are never XML-RPC faults: clients (sfi, omni) turn a fault into "no answer",
 * while `output` reaches the researcher. sfi prints `ERROR: <output>` and exits 1 whenever
 * `output` is non-empty, so it is `''` on success and says what to fix on failure.
 */
import type { GeniFault } from '../faults.js';
import { messageText } from '../text.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';

/** This implementation's short name in `code.am_type` (the Python SFA says 'sfa'). */
export const AM_TYPE = 'sfa-ts';

export function amSuccess(
  geniApi: number,
  value: XmlRpcValue,
  extra: XmlRpcStruct = {},
): XmlRpcStruct {
  return {
    geni_api: geniApi,
    code: { geni_code: 0, am_type: AM_TYPE, am_code: 0 },
    value,
    output: '',
    ...extra,
  };
}

export function amFailure(geniApi: number, method: string, fault: GeniFault): XmlRpcStruct {
  return {
    geni_api: geniApi,
    code: { geni_code: fault.geniCode, am_type: AM_TYPE, am_code: fault.geniCode },
    value: '',
    output: `${messageText(method, 100)}: ${fault.message}`,
  };
}
