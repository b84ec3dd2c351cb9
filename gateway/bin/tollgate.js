#!/usr/bin/env node
// The `tollgate` command: runs the gateway's TypeScript entry point through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('../src/server/main.ts');
