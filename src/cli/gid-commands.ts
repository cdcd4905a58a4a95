/**
 * `sfa gid …`: show and issue GIDs (X.509 certificates naming an SFA principal), and list the
 * GIDs the registry handed out with CreateGid.
 */
import { writeFileAtomic } from '../store/atomic-file.js';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { dataDir } from '../config.js';
import { BadArgs } from '../faults.js';
import { issueGid } from '../credentials/gid.js';
import { generateKeyPair, loadPublicKey } from '../credentials/keys.js';
import { formatRfc3339 } from '../credentials/time.js';
import { Xrn } from '../credentials/xrn.js';
import { openRegistry } from '../registry/open-registry.js';
import type { IssuedGid } from '../store/registry-store.js';
import { action, readGid, readPrivateKey, readText, writeOutputFile } from './io.js';

/** A label and its value, aligned as `sfa peer` prints them. */
const field = (label: string, value: string) => `  ${`${label}:`.padEnd(14)}${value}`;

function describeIssued(g: IssuedGid): string[] {
  return [
    `${formatRfc3339(g.issuedAt)} ${g.urn}`,
    field('sha256', g.fingerprint),
    field('serial', g.serial),
    field('valid', `${formatRfc3339(g.notBefore)} to ${formatRfc3339(g.notAfter)}`),
    field('CA', g.ca ? 'yes' : 'no'),
    field('key', `${g.keySource} (sha256 ${g.keyFingerprint})`),
    field('asked by', g.callerUrn),
    field('caller cert', g.callerFingerprint ?? '-'),
    field('credential', g.credentialUrn),
  ];
}

function issuedJson(g: IssuedGid): Record<string, unknown> {
  return {
    issued_at: formatRfc3339(g.issuedAt),
    hrn: g.hrn,
    type: g.type,
    urn: g.urn,
    fingerprint: g.fingerprint,
    serial: g.serial,
    not_before: formatRfc3339(g.notBefore),
    not_after: formatRfc3339(g.notAfter),
    ca: g.ca,
    key_source: g.keySource,
    key_fingerprint: g.keyFingerprint,
    caller_urn: g.callerUrn,
    caller_fingerprint: g.callerFingerprint,
    credential_urn: g.credentialUrn,
    certificate: g.certificate,
  };
}

export function registerGidCommands(program: Command): void {
  const gid = program
    .command('gid')
    .description('show and issue GIDs, and list those the registry handed out (CreateGid)');

  gid
    .command('show')
    .description('print a GID: URN, uuid, validity, CA bit and its issuer chain')
    .argument('<file>', 'GID (PEM, optionally followed by its issuer chain)')
    .action(
      action((file: string) => {
        const g = readGid(file);
        for (const [i, c] of g.chain().entries()) {
          const pad = '  '.repeat(i);
          process.stdout.write(
            `${pad}${i === 0 ? 'gid' : 'issued by'}: ${c.urn || '(no URN)'}\n` +
              `${pad}  hrn:      ${c.hrn || '-'}  type: ${c.type || '-'}\n` +
              `${pad}  uuid:     ${c.uuid ?? '-'}${c.email ? `  email: ${c.email}` : ''}\n` +
              `${pad}  subject:  CN=${c.subjectCN}   issuer: ${c.issuerDN}\n` +
              `${pad}  valid:    ${formatRfc3339(c.notBefore)} .. ${formatRfc3339(c.notAfter)}\n` +
              `${pad}  CA:       ${c.isCA ? 'yes' : 'no'}   serial: ${c.serial}\n` +
              `${pad}  sha256:   ${c.fingerprint256}\n`,
          );
        }
      }),
    );

  gid
    .command('issued')
    .description(
      'list the GIDs the registry handed out with CreateGid: when, for what, the certificate ' +
        'fingerprint, serial and validity, and who asked (credential owner, TLS certificate)',
    )
    .argument('[hrn]', 'only GIDs for this name and the names below it')
    .option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)')
    .option('--json', 'print one JSON array (with the certificates)')
    .action(
      action((hrn: string | undefined, o: { dir?: string; json?: boolean }) => {
        if (hrn !== undefined) Xrn.fromHrn(hrn, 'authority'); // says what is wrong with the name
        const reg = openRegistry(dataDir(o.dir));
        let issued: IssuedGid[];
        try {
          issued = reg.ctx.store.issuedGids(hrn);
        } finally {
          reg.close();
        }
        if (o.json) {
          process.stdout.write(JSON.stringify(issued.map(issuedJson), null, 2) + '\n');
          return;
        }
        if (issued.length === 0) process.stderr.write('no GIDs issued by CreateGid\n');
        for (const g of issued) process.stdout.write(describeIssued(g).join('\n') + '\n');
      }),
    );

  gid
    .command('issue')
    .description('issue a GID for an HRN (self-signed root when no issuer is given)')
    .requiredOption('--hrn <hrn>', 'name, e.g. ple.inria.alice')
    .requiredOption('--type <type>', 'authority, user, slice or node')
    .option('--issuer-gid <file>', "the issuing authority's GID")
    .option('--issuer-key <file>', "the issuing authority's private key")
    .option('--key <file>', "the subject's private key (PEM)")
    .option('--public-key <file>', "the subject's public key (PEM or OpenSSH ssh-rsa)")
    .option('--key-out <file>', 'generate a new key pair and write its private key here')
    .option('--email <email>', 'e-mail address (users)')
    .option('--lifetime-days <n>', 'validity in days', '1825')
    .option('-o, --out <file>', 'write here instead of standard output')
    .action(
      action(
        (o: {
          hrn: string;
          type: string;
          issuerGid?: string;
          issuerKey?: string;
          key?: string;
          publicKey?: string;
          keyOut?: string;
          email?: string;
          lifetimeDays: string;
          out?: string;
        }) => {
          const xrn = Xrn.fromHrn(o.hrn, o.type);
          const given = [o.key, o.publicKey, o.keyOut].filter((x) => x !== undefined).length;
          if (given !== 1)
            throw new BadArgs('give exactly one of --key, --public-key or --key-out');
          if ((o.issuerGid === undefined) !== (o.issuerKey === undefined)) {
            throw new BadArgs('--issuer-gid and --issuer-key go together');
          }
          const days = Number(o.lifetimeDays);
          if (!Number.isInteger(days) || days < 1)
            throw new BadArgs('--lifetime-days must be a positive whole number');
          let subjectPublicKey: KeyObject;
          let subjectPrivate: KeyObject | undefined;
          let newKeyPem: string | undefined;
          if (o.keyOut) {
            newKeyPem = generateKeyPair().privateKeyPem;
            subjectPrivate = createPrivateKey(newKeyPem);
            subjectPublicKey = createPublicKey(subjectPrivate);
          } else if (o.key) {
            subjectPrivate = readPrivateKey(o.key, '--key');
            subjectPublicKey = createPublicKey(subjectPrivate);
          } else {
            subjectPublicKey = loadPublicKey(readText(o.publicKey!, '--public-key'));
          }
          const issuerGid = o.issuerGid ? readGid(o.issuerGid, '--issuer-gid') : undefined;
          const issuerKey = o.issuerKey
            ? readPrivateKey(o.issuerKey, '--issuer-key')
            : subjectPrivate;
          if (!issuerKey) {
            throw new BadArgs(
              'a self-signed GID needs the subject private key: give --key or --key-out',
            );
          }
          const g = issueGid({
            urn: xrn.urn,
            subjectPublicKey,
            issuerKey,
            issuerGid,
            email: o.email,
            notBefore: new Date(),
            lifetimeDays: days,
          });
          // Only now that the GID is issued: a failure above leaves no stray key file behind.
          if (o.keyOut && newKeyPem) {
            // Whole or not at all, and never over an existing key.
            writeFileAtomic(o.keyOut, newKeyPem, { mode: 0o600, exclusive: true });
            process.stderr.write(`wrote new private key ${o.keyOut}\n`);
          }
          if (o.out) {
            writeOutputFile(o.out, g.pem);
            process.stderr.write(`wrote ${o.out}: ${g.urn}\n`);
          } else {
            process.stdout.write(g.pem);
          }
        },
      ),
    );
}
