/**
 * `sfa gid …`: show and issue GIDs (X.509 certificates naming an SFA principal).
 */
import { writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { Command } from 'commander';
import { BadArgs } from '../faults.js';
import { issueGid } from '../credentials/gid.js';
import { generateKeyPair, loadPublicKey } from '../credentials/keys.js';
import { formatRfc3339 } from '../credentials/time.js';
import { Xrn } from '../credentials/xrn.js';
import { action, readGid, readPrivateKey, readText } from './io.js';

export function registerGidCommands(program: Command): void {
  const gid = program.command('gid').description('show and issue GIDs');

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
            writeFileSync(o.keyOut, newKeyPem, { mode: 0o600, flag: 'wx' });
            process.stderr.write(`wrote new private key ${o.keyOut}\n`);
          }
          if (o.out) {
            writeFileSync(o.out, g.pem);
            process.stderr.write(`wrote ${o.out}: ${g.urn}\n`);
          } else {
            process.stdout.write(g.pem);
          }
        },
      ),
    );
}
