/**
 * `sfa credential …`: verify, show, delegate and issue credentials.
 */
import type { Command } from 'commander';
import { BadArgs, isGeniFault } from '../faults.js';
import { TrustStore } from '../credentials/chain.js';
import { readCredentialElement } from '../credentials/credential.js';
import { delegateCredential } from '../credentials/delegate-credential.js';
import { issueCredential } from '../credentials/issue-credential.js';
import { defaultPrivilegeNames, expandPrivileges } from '../credentials/privileges.js';
import { validateCredentialSchema } from '../credentials/schema.js';
import { formatRfc3339 } from '../credentials/time.js';
import { verifyCredential } from '../credentials/verify-credential.js';
import { childElements, parseXml } from '../credentials/xml.js';
import {
  action,
  collect,
  parseDateOption,
  readGid,
  readPrivateKey,
  readText,
  writeOutputFile,
} from './io.js';

function writeOut(xml: string, out: string | undefined): void {
  if (out) {
    writeOutputFile(out, xml);
    process.stderr.write(`wrote ${out}\n`);
  } else {
    process.stdout.write(xml);
  }
}

function privilegeList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new BadArgs('--privileges needs at least one privilege name');
  return names;
}

export function registerCredentialCommands(program: Command): void {
  const cred = program
    .command('credential')
    .description('verify, show, delegate and issue credentials');

  cred
    .command('verify')
    .description('verify a signed credential against trusted root GIDs')
    .argument('<file>', 'signed credential (XML)')
    .requiredOption(
      '--trusted <pem-or-dir>',
      'trusted root GID file or directory (repeatable)',
      collect,
    )
    .option('--at <rfc3339>', 'verify at this time instead of now')
    .option('--schema', 'also validate against the credential XSD')
    .option('--json', 'print one JSON object')
    .action(
      action(
        async (
          file: string,
          o: { trusted: string[]; at?: string; schema?: boolean; json?: boolean },
        ) => {
          const xml = readText(file, 'credential');
          const now = parseDateOption(o.at, '--at') ?? new Date();
          const trust = TrustStore.fromFiles(o.trusted);
          try {
            const v = verifyCredential(xml, { trust, now });
            if (o.schema) await validateCredentialSchema(xml);
            const privileges = v.privileges.map((p) => p.name);
            if (o.json) {
              process.stdout.write(
                JSON.stringify({
                  valid: true,
                  geni_code: 0,
                  fault: null,
                  message: 'valid',
                  owner_urn: v.ownerUrn,
                  target_urn: v.targetUrn,
                  privileges,
                  expires: formatRfc3339(v.expires),
                }) + '\n',
              );
            } else {
              process.stdout.write(
                `valid: ${v.ownerUrn} holds [${privileges.join(', ')}] on ${v.targetUrn} until ${formatRfc3339(v.expires)}` +
                  (v.chain.length > 1 ? ` (delegated, chain of ${v.chain.length})` : '') +
                  '\n',
              );
            }
          } catch (e) {
            if (!isGeniFault(e) || !o.json) throw e;
            process.stdout.write(
              JSON.stringify({
                valid: false,
                geni_code: e.geniCode,
                fault: e.fault,
                message: e.message,
                owner_urn: null,
                target_urn: null,
                privileges: [],
                expires: null,
              }) + '\n',
            );
            process.exitCode = 1;
          }
        },
      ),
    );

  cred
    .command('show')
    .description('print what a credential says (without verifying it)')
    .argument('<file>', 'credential (XML)')
    .action(
      action((file: string) => {
        const doc = parseXml(readText(file, 'credential'), 'credential');
        let el = childElements(doc.documentElement!).find((e) => e.localName === 'credential');
        if (!el) throw new BadArgs(`${file} holds no <credential>`);
        let depth = 0;
        while (el) {
          const c = readCredentialElement(el);
          const b = c.body;
          const pad = '  '.repeat(depth);
          const privs = expandPrivileges(b.privileges, b.targetGid.type)
            .map((p) => `${p.name}${p.canDelegate ? '' : ' (no delegation)'}`)
            .join(', ');
          process.stdout.write(
            `${pad}${depth === 0 ? 'credential' : 'parent'} ${c.refid}\n` +
              `${pad}  owner:      ${b.ownerUrn}\n` +
              `${pad}  target:     ${b.targetUrn}\n` +
              `${pad}  expires:    ${formatRfc3339(b.expires)}\n` +
              `${pad}  privileges: ${privs}\n`,
          );
          el = c.parentElement;
          depth++;
        }
      }),
    );

  cred
    .command('delegate')
    .description("delegate a credential you own to another principal (what 'sfi delegate' does)")
    .argument('<file>', 'the credential to delegate (you must be its owner)')
    .requiredOption('--to <gid-file>', 'GID of the principal receiving it')
    .requiredOption('--key <key-file>', "your private key (the credential owner's)")
    .option('--privileges <a,b>', 'privileges to pass on (default: all delegable)')
    .option('--expires <rfc3339>', "expiry, no later than the credential's")
    .option('--sha256', 'sign with RSA-SHA256 instead of RSA-SHA1')
    .option('-o, --out <file>', 'write here instead of standard output')
    .action(
      action(
        (
          file: string,
          o: {
            to: string;
            key: string;
            privileges?: string;
            expires?: string;
            sha256?: boolean;
            out?: string;
          },
        ) => {
          const xml = delegateCredential(readText(file, 'credential'), {
            to: readGid(o.to, '--to GID'),
            signerKey: readPrivateKey(o.key, '--key'),
            privileges: privilegeList(o.privileges),
            expires: parseDateOption(o.expires, '--expires'),
            algorithm: o.sha256 ? 'rsa-sha256' : 'rsa-sha1',
          });
          writeOut(xml, o.out);
        },
      ),
    );

  cred
    .command('issue')
    .description('sign a credential for an owner on a target (operators and tests)')
    .requiredOption('--owner <gid-file>', 'GID of the owner')
    .requiredOption('--target <gid-file>', 'GID of the object')
    .requiredOption('--signer-gid <gid-file>', "the issuing authority's GID")
    .requiredOption('--signer-key <key-file>', "the issuing authority's private key")
    .option('--privileges <a,b>', "privileges (default: the target type's defaults)")
    .option('--no-delegate', 'mark the privileges as not delegable')
    .option('--expires <rfc3339>', 'expiry (default: in 31 days)')
    .option('--sha256', 'sign with RSA-SHA256 instead of RSA-SHA1')
    .option('-o, --out <file>', 'write here instead of standard output')
    .action(
      action(
        (o: {
          owner: string;
          target: string;
          signerGid: string;
          signerKey: string;
          privileges?: string;
          delegate: boolean;
          expires?: string;
          sha256?: boolean;
          out?: string;
        }) => {
          const target = readGid(o.target, '--target GID');
          const names = privilegeList(o.privileges) ?? defaultPrivilegeNames(target.type);
          if (names.length === 0)
            throw new BadArgs(`no default privileges for a ${target.type}: give --privileges`);
          const expires =
            parseDateOption(o.expires, '--expires') ?? new Date(Date.now() + 31 * 86_400_000);
          const xml = issueCredential({
            owner: readGid(o.owner, '--owner GID'),
            target,
            privileges: names.map((name) => ({ name, canDelegate: o.delegate })),
            expires,
            signerKey: readPrivateKey(o.signerKey, '--signer-key'),
            signerGid: readGid(o.signerGid, '--signer-gid'),
            algorithm: o.sha256 ? 'rsa-sha256' : 'rsa-sha1',
          });
          writeOut(xml, o.out);
        },
      ),
    );
}
