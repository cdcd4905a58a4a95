/**
 * XSD validation of credentials against the GENI/SFA credential schema, with libxml2's own
 * validator (xmllint compiled to WebAssembly, so no native tool is needed at run time).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';
import { CredentialInvalid } from '../faults.js';

/** The schemas shipped with the project (a copy of the published GENI credential schema). */
export const CREDENTIAL_SCHEMA_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../schemas/credential',
);

const loaded = new Map<string, XMLFileInfo[]>();

function schemaFiles(dir: string): XMLFileInfo[] {
  let files = loaded.get(dir);
  if (!files) {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.xsd'))
      .map((f) => ({ fileName: f, contents: readFileSync(join(dir, f), 'utf8') }));
    loaded.set(dir, files);
  }
  return files;
}

/**
 * Validate a signed credential against `credential.xsd`. Resolves when valid; rejects with
 * CredentialInvalid listing the first schema errors otherwise.
 */
export async function validateCredentialSchema(
  xml: string,
  dir: string = CREDENTIAL_SCHEMA_DIR,
): Promise<void> {
  const files = schemaFiles(dir);
  const main = files.find((f) => f.fileName === 'credential.xsd');
  if (!main) throw new Error(`credential.xsd not found in ${dir}`);
  const result = await validateXML({
    xml: { fileName: 'credential.xml', contents: xml },
    schema: main,
    preload: files.filter((f) => f !== main),
  });
  if (!result.valid) {
    const first = result.errors.slice(0, 3).map((e) => e.message.trim());
    throw new CredentialInvalid(
      `credential does not match the credential schema: ${first.join('; ')}`,
    );
  }
}
