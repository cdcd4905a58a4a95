/**
 * Whether a file of the data folder is there and usable. An empty file counts apart: older
 * versions left empty key files when a write failed half-way, and those mean "absent".
 */
import { statSync } from 'node:fs';

export type FileState = 'missing' | 'empty' | 'present';

/** `missing` (no such file), `empty` (0 bytes) or `present`; other errors are thrown. */
export function fileState(file: string): FileState {
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st) return 'missing';
  return st.size === 0 ? 'empty' : 'present';
}
