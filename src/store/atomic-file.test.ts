import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfa-atomic-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes the whole file with the mode asked for, whatever the umask, and no temporary file', () => {
    const file = join(dir, 'k.pkey');
    const umask = process.umask(0o077);
    try {
      writeFileAtomic(join(dir, 'public.gid'), 'gid', { mode: 0o644 });
    } finally {
      process.umask(umask);
    }
    writeFileAtomic(file, 'secret', { mode: 0o600, exclusive: true });
    expect(readFileSync(file, 'utf8')).toBe('secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'public.gid')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual(['k.pkey', 'public.gid']);
  });

  it('replaces a file whole, and never replaces one in exclusive mode (a key is never overwritten)', () => {
    const file = join(dir, 'a');
    writeFileSync(file, 'old');
    writeFileAtomic(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(() => writeFileAtomic(file, 'other', { exclusive: true })).toThrow(
      expect.objectContaining({ code: 'EEXIST' }),
    );
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a']);
  });

  it('leaves no temporary file behind when the write fails', () => {
    const file = join(dir, 'missing-folder', 'x');
    expect(() => writeFileAtomic(file, 'x')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(readdirSync(dir)).toEqual([]);
  });
});
