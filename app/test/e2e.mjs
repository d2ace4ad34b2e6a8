// End-to-end: the production build in headless Chromium against a running localnet.
// Driven by tests/tests/dashboard.rs, which starts the localnet, a network whose group 0
// is ep0 (primary) and ep1 (standby), three real keepers and one that attests once and
// then falls silent (in keeper slot LIFELINE_SILENT_KEEPER_SLOT), then runs this with:
//   LIFELINE_RPC_URL, LIFELINE_WS_URL, LIFELINE_ADMIN_URL, LIFELINE_NETWORK,
//   LIFELINE_PRIMARY_URL, LIFELINE_STANDBY_URL, LIFELINE_SILENT_KEEPER_SLOT,
//   [LIFELINE_SCREENSHOT]
// It prints one line per check ("ok - …") and exits non-zero on the first failure.
import { buildAndServe, launchChromium } from './serve.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`e2e: ${name} is not set (run through tests/tests/dashboard.rs)`);
    process.exit(2);
  }
  return v;
};
const rpc = env('LIFELINE_RPC_URL');
const ws = env('LIFELINE_WS_URL');
const admin = env('LIFELINE_ADMIN_URL');
const network = env('LIFELINE_NETWORK');
const primaryUrl = env('LIFELINE_PRIMARY_URL');
const standbyUrl = env('LIFELINE_STANDBY_URL');
const silentSlot = env('LIFELINE_SILENT_KEEPER_SLOT');
const screenshot = process.env.LIFELINE_SCREENSHOT;

let browser;
let server;
const ok = (what) => console.log(`ok - ${what}`);

try {
  server = await buildAndServe();
  ok('production build');
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const query = (params) => `${server.url}/?${new URLSearchParams(params)}`;

  // 1. The topology, live over the subscription.
  await page.goto(query({ rpc, ws, network }));
  await page.getByTestId('primary-g0').filter({ hasText: primaryUrl }).waitFor({ timeout: 20_000 });
  await page.getByTestId('no-migrations').waitFor();
  await page.getByTestId('live-status').filter({ hasText: 'subscription' }).waitFor({ timeout: 10_000 });
  const rows = await page.locator('[data-testid^="endpoint-"]').count();
  if (rows !== 2) throw new Error(`expected 2 endpoint rows, found ${rows}`);
  await page.locator('[data-testid^="verdict-"]', { hasText: 'healthy' }).first().waitFor({ timeout: 20_000 });
  ok(`topology shown: primary ${primaryUrl}, ${rows} endpoints, quorum verdict healthy, live via subscription`);

  // 2. A fault, a migration, and the page follows without a reload.
  await page.evaluate(() => {
    window.__lifelineLoaded = 'first-load';
  });
  const faultAt = Date.now();
  const res = await fetch(`${admin}/endpoints/ep0/fault`, { method: 'POST', body: 'frozen' });
  if (!res.ok) throw new Error(`admin API refused the fault: ${res.status} ${await res.text()}`);
  ok('ep0 frozen through the admin API');
  await page.getByTestId('primary-g0').filter({ hasText: standbyUrl }).waitFor({ timeout: 60_000 });
  const shownAfter = Date.now() - faultAt;
  const row = page.getByTestId('migration-row').first();
  await row.waitFor({ timeout: 20_000 });
  await row.locator('.to', { hasText: standbyUrl }).waitFor();
  await row.locator('code[title]').waitFor({ timeout: 20_000 }); // the transaction: evidence found
  const text = await row.innerText();
  // A frozen node is down as "stalled" (its slot stands still while the cluster moves)
  // long before it is lag_down_slots behind.
  for (const expected of [/stalled|slot lag/, /automatic/]) {
    if (!expected.test(text)) throw new Error(`migration row lacks ${expected}: ${text}`);
  }
  const marker = await page.evaluate(() => window.__lifelineLoaded);
  if (marker !== 'first-load') throw new Error('the page reloaded');
  const role = await page.getByTestId('endpoint-0').getAttribute('data-role');
  if (role !== 'quarantined') throw new Error(`ep0 should be quarantined, is ${role}`);
  ok(
    `new primary ${standbyUrl} and the migration (${text.match(/stalled|slot lag/)[0]}, automatic, with its transaction) shown without a reload; new primary on the page ${(shownAfter / 1000).toFixed(1)} s after the fault`,
  );
  if (screenshot) {
    await page.waitForTimeout(2_000); // a few more chart points
    await page.screenshot({ path: screenshot, fullPage: true });
    ok(`screenshot saved to ${screenshot}`);
  }

  // 2a. Every keeper's ballot cells, and the keeper that stopped attesting.
  const silent = page.locator(`[data-testid="keeper-status-${silentSlot}"][data-kind="silent"]`);
  await silent.waitFor({ timeout: 30_000 });
  const silentText = await silent.innerText();
  if (!/^silent since slot \d+$/.test(silentText)) throw new Error(`silent keeper shown as "${silentText}"`);
  await page.locator(`[data-testid="keeper-col-${silentSlot}"][data-kind="silent"]`).waitFor();
  const counting = await page.locator('[data-testid^="keeper-status-"][data-kind="counted"]').count();
  if (counting !== 3) throw new Error(`expected the 3 running keepers to count, ${counting} do`);
  const failedRow = await page.getByTestId('endpoint-0').innerText();
  if (!failedRow.includes('↓')) throw new Error(`the failed endpoint's cells show no down vote: ${failedRow}`);
  ok(`keeper cells with their votes; the keeper that stopped attesting is shown as "${silentText}"`);

  // 2b. The new primary fails too, with no healthy standby left: the page says why the
  // group does not fail over (the engine's refusal, mirrored).
  const again = await fetch(`${admin}/endpoints/ep1/fault`, { method: 'POST', body: 'frozen' });
  if (!again.ok) throw new Error(`admin API refused the fault: ${again.status}`);
  await page.locator('[data-testid="decision-g0"][data-kind="no healthy standby"]').waitFor({ timeout: 30_000 });
  if ((await page.getByTestId('migration-row').count()) !== 1) throw new Error('a second migration appeared');
  ok('the new primary fails with no healthy standby: the page says why the group holds');

  // 3. No WebSocket: the page falls back to polling and still shows the network.
  const closedWs = 'ws://127.0.0.1:9';
  await page.goto(query({ rpc, ws: closedWs, network }));
  await page.getByTestId('live-status').filter({ hasText: 'polling' }).waitFor({ timeout: 20_000 });
  await page.getByTestId('primary-g0').filter({ hasText: standbyUrl }).waitFor({ timeout: 10_000 });
  ok('without a WebSocket the page polls and shows the topology');

  // 4. A wrong network address: a clear banner.
  const wrong = '11111111111111111111111111111111';
  await page.goto(query({ rpc, network: wrong }));
  await page.getByTestId('banner').filter({ hasText: 'Network not found' }).waitFor({ timeout: 10_000 });
  ok('wrong network address: banner shown');

  // 5. An unreachable RPC: a clear banner.
  await page.goto(query({ rpc: 'http://127.0.0.1:9', network }));
  await page.getByTestId('banner').filter({ hasText: 'RPC unreachable' }).waitFor({ timeout: 10_000 });
  ok('unreachable RPC: banner shown');

  // 6. The form: point the page at the right RPC; it recovers without a reload.
  await page.locator('input[name="rpc"]').fill(rpc);
  await page.locator('input[name="network"]').fill(network);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByTestId('primary-g0').filter({ hasText: standbyUrl }).waitFor({ timeout: 20_000 });
  if ((await page.getByTestId('banner').count()) !== 0) throw new Error('the banner outlived the fix');
  if (!page.url().includes(`network=${network}`)) throw new Error(`the URL does not carry the network: ${page.url()}`);
  ok('the form connects to the right RPC: banner gone, topology shown, URL updated');

  // 7. No network named and two on the RPC: the page asks, and follows the choice.
  await page.goto(query({ rpc, ws }));
  const choice = page.getByTestId('banner').filter({ hasText: '2 Lifeline networks' });
  await choice.waitFor({ timeout: 10_000 });
  const name = process.env.LIFELINE_NETWORK_NAME ?? 'sandbox';
  await choice.getByRole('button', { name: new RegExp(`^${name} `) }).click();
  await page.getByTestId('primary-g0').filter({ hasText: standbyUrl }).waitFor({ timeout: 20_000 });
  if (!page.url().includes(`network=${network}`)) throw new Error(`the choice is not in the URL: ${page.url()}`);
  ok('two networks and none named: the page asks, then shows the chosen one');

  if (errors.length > 0) throw new Error(`uncaught errors in the page: ${errors.join('; ')}`);
  console.log('e2e: 9 passed, 0 failed');
} catch (e) {
  console.error(`not ok - ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await server?.close();
}
