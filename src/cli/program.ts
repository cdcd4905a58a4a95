/**
 * The `sfa` command: operator and researcher tools for an SFA authority.
 */
import { Command } from 'commander';
import { registerCredentialCommands } from './credential-commands.js';
import { registerGidCommands } from './gid-commands.js';
import { registerPeerCommands } from './peer-commands.js';
import { registerInventoryCommands } from './inventory-commands.js';
import { registerNodemanagerCommand } from './nodemanager-command.js';
import { registerRegistryCommands } from './registry-commands.js';
import { registerServerCommands } from './server-commands.js';
import { registerStoreCommands } from './store-commands.js';
import { registerWebCommand } from './web-command.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sfa')
    .description('sfa-ts: Slice-Based Facility Architecture authority, aggregate and tools')
    .showHelpAfterError('(run with --help for usage)');
  registerCredentialCommands(program);
  registerGidCommands(program);
  registerServerCommands(program);
  registerRegistryCommands(program);
  registerInventoryCommands(program);
  registerPeerCommands(program);
  registerNodemanagerCommand(program);
  registerWebCommand(program);
  registerStoreCommands(program);
  return program;
}
