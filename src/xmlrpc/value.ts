/**
 * The XML-RPC value model: what the codec reads into and writes from.
 *
 * | XML-RPC                                    | TypeScript                               |
 * | ------------------------------------------ | ---------------------------------------- |
 * | `string`, untyped `<value>text</value>`    | `string`                                 |
 * | `int`, `i4` (`i1`, `i2`, `i8` read only)   | `number` (an integer)                    |
 * | `double`                                   | `number`, or {@link Double} to force it  |
 * | `boolean`                                  | `boolean`                                |
 * | `dateTime.iso8601`                         | `Date`                                   |
 * | `base64`                                   | `Buffer` (any Uint8Array when writing)   |
 * | `nil`, `ex:nil`                            | `null`                                   |
 * | `array`                                    | `XmlRpcValue[]`                          |
 * | `struct`                                   | {@link XmlRpcStruct}                     |
 *
 * Plain numbers are written as `<int>` when they are integers within int32 (what every XML-RPC
 * peer reads), and as `<double>` otherwise: integers beyond int32 included, because Python's
 * xmlrpc.client refuses to write them as `<int>` and many peers cannot read `<i8>`.
 */

/** A struct as parsed: a null-prototype object, so member names never reach a prototype. */
export interface XmlRpcStruct {
  [member: string]: XmlRpcValue;
}

/** A value as the parser produces it. */
export type XmlRpcValue =
  string | number | boolean | null | Date | Buffer | XmlRpcValue[] | XmlRpcStruct;

/**
 * What the serializer accepts: every {@link XmlRpcValue}, plus {@link Double}, any Uint8Array
 * and read-only arrays and structs. Kept apart from XmlRpcValue so that code reading parsed
 * values never has to rule out a Double, which the parser never produces.
 */
export type XmlRpcWritable =
  | string
  | number
  | boolean
  | null
  | Date
  | Uint8Array
  | Double
  | readonly XmlRpcWritable[]
  | { readonly [member: string]: XmlRpcWritable };

/**
 * A number to be written as `<double>` even when it is integral (`new Double(3)` gives
 * `<double>3.0</double>`). The parser never produces one: `<double>` reads as a plain number.
 */
export class Double {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  valueOf(): number {
    return this.value;
  }
}

/** The smallest and largest integers written as `<int>` (XML-RPC's i4). */
export const INT32_MIN = -0x8000_0000;
export const INT32_MAX = 0x7fff_ffff;

/** A new empty struct with no prototype (see {@link XmlRpcStruct}). */
export function newStruct(): XmlRpcStruct {
  return Object.create(null) as XmlRpcStruct;
}

/**
 * True for the objects written as `<struct>`: plain objects (prototype Object.prototype or
 * null). Class instances other than Date, Buffer and Double are refused by the serializer
 * rather than written field by field, as Python does, so nothing private leaks by accident.
 */
export function isStruct(v: unknown): v is XmlRpcStruct {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === null || proto === Object.prototype;
}
