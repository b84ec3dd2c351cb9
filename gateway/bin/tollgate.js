#!/usr/bin/env node
// The `tollgate` command: runs the CLI's TypeScript entry point through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
