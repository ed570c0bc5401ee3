// The package as a user installs it: `npm pack`, then publint and @arethetypeswrong/cli on the
// tarball, then the tarball unpacked into a scratch node_modules and loaded by Node with
// `import` and with `require()` (Node 20.19+ loads ES modules through require()).
// Run by `npm test` after the build; exits non-zero when anything is wrong.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'ssemux-package-'));
const run = (command, args, cwd = root) => spawnSync(command, args, { cwd, stdio: 'inherit' }).status ?? 1;
const bin = (name) => join(root, 'node_modules/.bin', name);
let failed = 0;
try {
  const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', scratch], { cwd: root, encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(packed.stderr);
  const tarball = join(scratch, packed.stdout.trim().split('\n').at(-1));
  failed += run(bin('publint'), ['run', tarball, '--strict']) !== 0;
  // ESM only, by design: node10 and CommonJS resolution are not targets (require() works from 20.19).
  failed += run(bin('attw'), [tarball, '--profile', 'esm-only']) !== 0;

  const app = join(scratch, 'app');
  mkdirSync(join(app, 'node_modules/ssemux'), { recursive: true });
  failed += run('tar', ['-xzf', tarball, '-C', join(app, 'node_modules/ssemux'), '--strip-components=1']) !== 0;
  writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const probe = `
    const assert = require('node:assert');
    const core = require('ssemux');
    assert.equal(typeof core.createRealtimeClient, 'function');
    assert.equal(typeof require('ssemux/server').createRealtimeServer, 'function');
    const compat = require('ssemux/eventsource');
    assert.deepEqual([typeof compat.SharedEventSource, typeof compat.EventSourcePolyfill, typeof compat.fetchEventSource], ['function', 'function', 'function']);
    assert.equal(new compat.SharedEventSource('http://127.0.0.1:9/events').readyState, 0); // inert on a server
    const client = core.createRealtimeClient({ url: '/events' });
    assert.equal(client.status.state, 'connecting'); // inert on a server
    client.close();
    import('ssemux').then((m) => assert.equal(m.createRealtimeClient, core.createRealtimeClient)).then(() => console.log('require() and import of the packed ssemux: ok'));
  `;
  failed += run(process.execPath, ['-e', probe], app) !== 0;
} catch (error) {
  console.error(error);
  failed++;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
