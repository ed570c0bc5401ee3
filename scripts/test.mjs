// `npm test`: installs Chromium, Firefox ESR, WebKitGTK's WebDriver, Xvfb and redis-server when
// they are missing, builds, checks the size budgets (size-limit), the package and the types, then
// runs each suite and prints its counts and time: the unit tests (Vitest), what only Chromium can do
// (Playwright, test/e2e), and the multi-tab scenarios once per engine (test/scenarios: Chromium,
// Firefox ESR over WebDriver BiDi, WebKitGTK over WebDriver on Xvfb), against real servers. It
// fails when any of them fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { chromiumPath, DEFAULT_CHROMIUM, hasChromium } from '../test/support/chromium.js';
import { DEFAULT_FIREFOX, firefoxPath, hasFirefox } from '../test/support/firefox.js';
import { DEFAULT_REDIS_SERVER, hasRedisServer, redisServerPath } from '../test/support/redis.js';
import { DEFAULT_WEBKIT_DRIVER, DEFAULT_XVFB, hasWebKit, hasXvfb, webkitDriverPath, xvfbPath } from '../test/support/webkit.js';

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
ensure({ name: 'WebKitWebDriver and MiniBrowser', pkg: 'webkit2gtk-driver', envVar: 'WEBKIT_DRIVER_PATH', has: hasWebKit, path: webkitDriverPath, defaultPath: DEFAULT_WEBKIT_DRIVER });
ensure({ name: 'Xvfb', pkg: 'xvfb', envVar: 'XVFB_PATH', has: hasXvfb, path: xvfbPath, defaultPath: DEFAULT_XVFB });
ensure({ name: 'redis-server', pkg: 'redis-server', envVar: 'REDIS_SERVER_PATH', has: hasRedisServer, path: redisServerPath, defaultPath: DEFAULT_REDIS_SERVER });

if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);
// The size budgets of .size-limit.json, on what the build just wrote; and the package
// as users install it (publint, arethetypeswrong, import and require()).
const size = run(bin('size-limit'), []);
const pack = run(process.execPath, ['scripts/check-package.mjs']);
// The types, the tests' and test/types/*.typetest.tsx (what an application writes from the README) with them.
const types = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);

/** The first line of an error, to name a failure in the summary (the suite printed it whole). */
const firstLine = (message = '') => message.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n')[0].slice(0, 300);
/** Vitest's JSON report: `numPassedTests`, `numFailedTests`, and each failed test's name and error. */
const vitestCounts = (report) => ({
  passed: report.numPassedTests,
  failed: report.numFailedTests,
  failures: report.testResults.flatMap((file) => [
    ...file.assertionResults.filter((t) => t.status === 'failed').map((t) => `${t.fullName}: ${firstLine(t.failureMessages[0])}`),
    // A file that failed to load (or an error outside any test) has no failed test to name.
    ...(file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed') ? [`${file.name}: ${firstLine(file.message)}`] : []),
  ]),
});
/** Every spec of a Playwright report, through its nested suites. */
const playwrightSpecs = (suite) => [...(suite.specs ?? []), ...(suite.suites ?? []).flatMap(playwrightSpecs)];
/** Playwright's JSON report: a flaky test (passed on a retry) counts as failed. */
const playwrightCounts = (report) => ({
  passed: report.stats.expected,
  failed: report.stats.unexpected + report.stats.flaky,
  failures: report.suites.flatMap(playwrightSpecs).filter((spec) => !spec.ok || spec.tests.some((t) => t.status === 'flaky')).map((spec) => {
    const error = spec.tests.flatMap((t) => t.results).flatMap((r) => r.errors)[0];
    return `${spec.file}: ${spec.title}: ${firstLine(error?.message)}`;
  }),
});
const vitest = (name, report, ...args) => ({ name, report, counts: vitestCounts, command: bin('vitest'), args: ['run', ...args, '--reporter=default', '--reporter=json', `--outputFile=${report}`] });

/** Every suite, in the order they run; each writes a JSON report its counts are read from. */
const suites = [
  vitest('unit (Vitest)', 'test-results/unit.json'),
  { name: 'Chromium only (Playwright)', report: 'test-results/e2e.json', counts: playwrightCounts, command: bin('playwright'), args: ['test'] },
  ...['chromium', 'firefox', 'webkit'].map((engine) =>
    vitest(`scenarios in ${engine}`, `test-results/scenarios-${engine}.json`, '--config', 'test/scenarios/vitest.config.ts', '--project', engine),
  ),
  // The web-platform-tests eventsource suite (test/wpt/README.md): SharedEventSource, the platform's
  // EventSource and event-source-polyfill side by side, the three scores printed; it fails when
  // SharedEventSource fails a subtest the platform passes that is not a known difference. Counted:
  // the subtests SharedEventSource passes.
  {
    name: 'eventsource WPT (Chromium)',
    report: 'test-results/wpt.json',
    counts: (runs) => ({ passed: runs.find((r) => r.kind === 'ssemux').results.filter((r) => r.status === 'pass').length, failed: 0, failures: [] }),
    command: process.execPath,
    args: ['test/wpt/run.mjs', '--json', 'test-results/wpt.json'],
  },
];

const results = suites.map(({ name, report, counts, command, args }) => {
  // A report left by an earlier run must not stand in for a suite that wrote none.
  rmSync(report, { force: true });
  const started = Date.now();
  const status = run(command, args);
  const seconds = Math.round((Date.now() - started) / 1000);
  const counted = existsSync(report) ? counts(JSON.parse(readFileSync(report, 'utf8'))) : { passed: 0, failed: 0, failures: [] };
  return { name, status, seconds, ...counted };
});

console.log('');
for (const r of results) console.log(`${r.name.padEnd(28)} ${String(r.passed).padStart(4)} passed, ${r.failed} failed, ${r.seconds} s${r.status !== 0 ? ' (exit ' + r.status + ')' : ''}`);
const passed = results.reduce((sum, r) => sum + r.passed, 0);
const failed = results.reduce((sum, r) => sum + r.failed, 0);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
// Named again at the very end, where a log cut to its last lines still shows them.
for (const r of results) for (const failure of r.failures) console.log(`  failed in ${r.name}: ${failure}`);
if (size !== 0) console.log('size budgets: exceeded (see above)');
if (pack !== 0) console.log('package check: failed (see above)');
if (types !== 0) console.log('type check: failed (see above)');
process.exit(size !== 0 || pack !== 0 || types !== 0 || results.some((r) => r.status !== 0 || r.passed === 0) || failed > 0 ? 1 : 0);
