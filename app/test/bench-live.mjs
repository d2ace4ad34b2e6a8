// How long after a migration lands does the page show it: subscription vs polling, side
// by side on the same migrations. Driven by tests/benches/dashboard.rs:
//   cargo bench -p lifeline-tests --bench dashboard
// Env: LIFELINE_RPC_URL, LIFELINE_WS_URL, LIFELINE_ADMIN_URL, LIFELINE_NETWORK,
// LIFELINE_ENDPOINT_URLS (JSON list; group 0, ep0 primary, the rest standbys by priority).
import { createSolanaRpc, getAddressEncoder, getProgramDerivedAddress, getU64Decoder } from '@solana/kit';

import { buildAndServe, launchChromium } from './serve.mjs';

const {
  LIFELINE_RPC_URL: rpc,
  LIFELINE_WS_URL: ws,
  LIFELINE_ADMIN_URL: admin,
  LIFELINE_NETWORK: network,
} = process.env;
const urls = JSON.parse(process.env.LIFELINE_ENDPOINT_URLS ?? '[]');
if (!rpc || !ws || !admin || !network || urls.length < 2) {
  console.error('bench-live: run through `cargo bench -p lifeline-tests --bench dashboard`');
  process.exit(2);
}
const server = await buildAndServe();
const browser = await launchChromium();

const idl = (await import('../../idl/lifeline.json', { with: { type: 'json' } })).default;
const [topology] = await getProgramDerivedAddress({
  programAddress: idl.address,
  seeds: ['topology', getAddressEncoder().encode(network)],
});
const chain = createSolanaRpc(rpc);
// Topology layout: discriminator 8, network 32, epoch 8, policy_epoch 8, group_epochs 8×8,
// last_migration_slot 8×8, then history_total.
const HISTORY_TOTAL_OFFSET = 8 + 32 + 8 + 8 + 64 + 64;
async function historyTotal() {
  const { value } = await chain.getAccountInfo(topology, { encoding: 'base64', commitment: 'confirmed' }).send();
  const data = Buffer.from(value.data[0], 'base64');
  return getU64Decoder().decode(data.subarray(HISTORY_TOTAL_OFFSET, HISTORY_TOTAL_OFFSET + 8));
}

async function open(params) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${server.url}/?${new URLSearchParams({ rpc, network, ...params })}`);
  await page.getByTestId('primary-g0').filter({ hasText: urls[0] }).waitFor({ timeout: 20_000 });
  return page;
}
const modes = {
  subscription: await open({ ws }),
  polling: await open({ ws: 'ws://127.0.0.1:9' }),
};
await modes.polling.getByTestId('live-status').filter({ hasText: 'polling' }).waitFor();
await modes.subscription.getByTestId('live-status').filter({ hasText: 'subscription' }).waitFor();

/** Page-side time (same machine clock) at which the page first shows `url` as primary. */
function shownAt(page, url) {
  return page
    .waitForFunction(
      (u) => {
        const el = document.querySelector('[data-testid="primary-g0"]');
        return el && el.textContent.includes(u) ? Date.now() : false;
      },
      url,
      { polling: 'raf', timeout: 60_000 },
    )
    .then((h) => h.jsonValue());
}

// Per mode: fault injected → page shows the new primary, and migration confirmed → page
// (signed: a negative value means the page was told before the reference poll saw it).
const results = { subscription: { fault: [], landed: [] }, polling: { fault: [], landed: [] } };
const trials = urls.length - 1;
for (let i = 0; i < trials; i++) {
  const before = await historyTotal();
  const next = urls[i + 1];
  const seen = Object.fromEntries(Object.entries(modes).map(([m, p]) => [m, shownAt(p, next)]));
  const faultAt = Date.now();
  const res = await fetch(`${admin}/endpoints/ep${i}/fault`, { method: 'POST', body: 'frozen' });
  if (!res.ok) throw new Error(`admin API: ${res.status}`);
  // The reference: the first moment a tight confirmed-commitment poll sees the migration.
  let landed;
  for (;;) {
    if ((await historyTotal()) > before) {
      landed = Date.now();
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const line = [`trial ${i + 1}/${trials}: ep${i} frozen → ep${i + 1}`];
  line.push(`landed ${landed - faultAt} ms after the fault;`);
  for (const [mode, promise] of Object.entries(seen)) {
    const shown = await promise;
    results[mode].fault.push(shown - faultAt);
    results[mode].landed.push(shown - landed);
    line.push(`${mode} ${shown - faultAt} ms (${shown - landed >= 0 ? '+' : ''}${shown - landed})`);
  }
  console.log(line.join('  '));
  // The cooldown (30 slots) must pass before the group can fail over again. The random
  // part keeps the next migration from landing at the same phase of the polling page's
  // 1.5 s cycle every time (a fixed pause made every trial land ~0.4 s after a poll).
  await new Promise((r) => setTimeout(r, 3_500 + Math.random() * 1_500));
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const { subscription: sub, polling: poll } = results;
const row = (name, r) =>
  `  ${name.padEnd(14)} fault → page p50 ${pct(r.fault, 50)} ms, max ${Math.max(...r.fault)} ms;` +
  `  confirmed → page p50 ${pct(r.landed, 50)} ms, max ${Math.max(...r.landed)} ms`;
console.log(`\n${trials} migrations, both pages open on each (3 keepers, 300 ms probes, 100 ms slots):`);
console.log(row('subscription', sub));
console.log(row('polling 1.5 s', poll));
console.log(
  `  ratio polling / subscription, fault → page p50: ${(pct(poll.fault, 50) / pct(sub.fault, 50)).toFixed(2)}×`,
);

await browser.close();
await server.close();
