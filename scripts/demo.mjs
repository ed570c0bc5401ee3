// `npm run demo`: builds the library and the demo page, then serves both from the reference
// server on http://localhost:$PORT (8080 by default).
import { spawnSync } from 'node:child_process';

if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) process.exit(1);
await import('../demo-server/cli.js');
