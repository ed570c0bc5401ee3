// `npm test`: installs Chromium, Firefox ESR and redis-server when they are missing, builds, checks
// the size budgets (size-limit), runs the unit tests (Vitest) and the end-to-end tests (Playwright
// in real Chromium, then test/firefox in Firefox ESR over WebDriver BiDi, against the real demo
// server), and fails when any of them fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chromiumPath, DEFAULT_CHROMIUM, hasChromium } from '../test/support/chromium.js';
import { DEFAULT_FIREFOX, firefoxPath, hasFirefox } from '../test/support/firefox.js';
import { DEFAULT_REDIS_SERVER, hasRedisServer, redisServerPath } from '../test/support/redis.js';

const run = (command, args, options = {}) => spawnSync(command, args, { stdio: 'inherit', ...options }).status ?? 1;
const bin = (name) => `node_modules/.bin/${name}`;
const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
const apt = (...args) => run(sudo[0] ?? 'apt-get', sudo.length ? ['apt-get', ...args] : args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });

/**
 * Installs Debian's `pkg` when `has()` says the tool is missing at its default path; a path set
 * in `envVar` that does not exist is a mistake to report, not a reason to install.
 */
function ensure({ name, pkg, envVar, has, path, defaultPath }) {
  if (has()) return;
  if (path() !== defaultPath) {
    console.error(`${envVar}=${path()} does not exist`);
    process.exit(1);
  }
  console.log(`${name} is missing: installing Debian's ${pkg} package`);
  if (apt('update') !== 0 || apt('install', '-y', '--no-install-recommends', pkg) !== 0 || !has()) {
    console.error(`Could not install ${name}; set ${envVar} to a ${name} binary`);
    process.exit(1);
  }
}

ensure({ name: 'Chromium', pkg: 'chromium', envVar: 'CHROMIUM_PATH', has: hasChromium, path: chromiumPath, defaultPath: DEFAULT_CHROMIUM });
ensure({ name: 'Firefox', pkg: 'firefox-esr', envVar: 'FIREFOX_PATH', has: hasFirefox, path: firefoxPath, defaultPath: DEFAULT_FIREFOX });
ensure({ name: 'redis-server', pkg: 'redis-server', envVar: 'REDIS_SERVER_PATH', has: hasRedisServer, path: redisServerPath, defaultPath: DEFAULT_REDIS_SERVER });

if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);
// The size budgets of .size-limit.json, on what the build just wrote; and the package
// as users install it (publint, arethetypeswrong, import and require()).
const size = run(bin('size-limit'), []);
const pack = run(process.execPath, ['scripts/check-package.mjs']);

const unit = run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', '--outputFile=test-results/unit.json']);
const e2e = run(bin('playwright'), ['test']);
const firefox = run(bin('vitest'), ['run', '--config', 'test/firefox/vitest.config.ts', '--reporter=default', '--reporter=json', '--outputFile=test-results/firefox.json']);

// ---- the web-platform-tests eventsource suite (test/wpt/README.md): SharedEventSource, the
// platform's EventSource and event-source-polyfill side by side, their three scores printed.
const wpt = run(process.execPath, ['test/wpt/run.mjs', '--json', 'test-results/wpt.json']);
// ----

const counts = { passed: 0, failed: 0 };
const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
const unitReport = readJson('test-results/unit.json');
if (unitReport) {
  counts.passed += unitReport.numPassedTests;
  counts.failed += unitReport.numFailedTests;
}
const e2eReport = readJson('test-results/e2e.json');
if (e2eReport) {
  counts.passed += e2eReport.stats.expected;
  counts.failed += e2eReport.stats.unexpected + e2eReport.stats.flaky;
}
const firefoxReport = readJson('test-results/firefox.json');
if (firefoxReport) {
  counts.passed += firefoxReport.numPassedTests;
  counts.failed += firefoxReport.numFailedTests;
}
console.log(`\ntests: ${counts.passed} passed, ${counts.failed} failed`);
if (size !== 0) console.log('size budgets: exceeded (see above)');
if (pack !== 0) console.log('package check: failed (see above)');
if (wpt !== 0) console.log('eventsource suite: SharedEventSource fails subtests the platform passes (see above)');
process.exit(size !== 0 || pack !== 0 || unit !== 0 || e2e !== 0 || firefox !== 0 || wpt !== 0 || counts.failed > 0 || counts.passed === 0 ? 1 : 0);
