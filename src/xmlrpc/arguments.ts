/**
 * The arguments of a call, checked against its method's signature before the method runs: the
 * count, then each argument's shape, so that a wrong type is BADARGS naming the argument
 * whatever the method would have looked at first.
 */
import { BadArgs } from '../faults.js';
import type { XmlRpcValue } from './value.js';

export interface ArgumentList {
  /** Argument names, for messages; the first `required` are mandatory. */
  readonly args: readonly string[];
  readonly required: number;
}

/** Shape checks by argument name: each throws BadArgs naming its argument. */
export type ArgumentShapes = Readonly<Record<string, (value: XmlRpcValue) => unknown>>;

export function checkArguments(
  spec: ArgumentList,
  params: readonly XmlRpcValue[],
  shapes: ArgumentShapes,
): void {
  if (params.length < spec.required || params.length > spec.args.length) {
    const range =
      spec.required === spec.args.length
        ? `${spec.required}`
        : `${spec.required}-${spec.args.length}`;
    throw new BadArgs(
      `Expected ${range} arguments (${spec.args.join(', ')}), got ${params.length}`,
    );
  }
  params.forEach((value, i) => {
    const shape = Object.hasOwn(shapes, spec.args[i]!) ? shapes[spec.args[i]!] : undefined;
    shape?.(value);
  });
}
