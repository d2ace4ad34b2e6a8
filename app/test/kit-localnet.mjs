// @solana/kit against the Lifeline localnet: fetch a Topology account over HTTP, then
// receive an accountNotification over WebSocket when the topology changes.
//
// Driven by localnet/tests/kit.rs, which starts the localnet, creates the network, passes
// these variables, and changes the topology once this script prints "subscribed".
//   LIFELINE_RPC_URL, LIFELINE_WS_URL, LIFELINE_TOPOLOGY, LIFELINE_PROGRAM_ID,
//   LIFELINE_EXPECT_EPOCH, LIFELINE_EXPECT_ENDPOINTS
import assert from 'node:assert/strict';
import { address, createSolanaRpc, createSolanaRpcSubscriptions } from '@solana/kit';

// Topology layout (programs/lifeline/src/state/topology.rs, repr(C)): the dashboard will
// decode through a Codama-generated client; this check only needs two fields.
const EPOCH_OFFSET = 8 + 32;
// discriminator, network, epoch, policy_epoch, group_epochs, last_migration_slot,
// history_total, endpoints (32 × 200 bytes), history (8 × 40), next_endpoint_id, version, bump
const ENDPOINT_COUNT_OFFSET = 8 + 32 + 8 + 8 + 8 * 8 + 8 * 8 + 8 + 32 * 200 + 8 * 40 + 4 + 1 + 1;

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return v;
}

function decode(base64) {
  const bytes = Buffer.from(base64, 'base64');
  return {
    epoch: bytes.readBigUInt64LE(EPOCH_OFFSET),
    endpoints: bytes[ENDPOINT_COUNT_OFFSET],
  };
}

const rpc = createSolanaRpc(env('LIFELINE_RPC_URL'));
const subscriptions = createSolanaRpcSubscriptions(env('LIFELINE_WS_URL'));
const topology = address(env('LIFELINE_TOPOLOGY'));
const expectedEpoch = BigInt(env('LIFELINE_EXPECT_EPOCH'));
const expectedEndpoints = Number(env('LIFELINE_EXPECT_ENDPOINTS'));

const { value: account, context } = await rpc
  .getAccountInfo(topology, { encoding: 'base64', commitment: 'confirmed' })
  .send();
assert.ok(account, 'the topology account exists');
assert.equal(account.owner, env('LIFELINE_PROGRAM_ID'));
assert.ok(context.slot > 0n, 'responses carry a context slot');
const before = decode(account.data[0]);
assert.equal(before.epoch, expectedEpoch);
assert.equal(before.endpoints, expectedEndpoints);
console.log(`fetched epoch=${before.epoch} endpoints=${before.endpoints} slot=${context.slot}`);

const abort = new AbortController();
const timer = setTimeout(() => {
  console.error('no accountNotification within 10 s');
  process.exit(1);
}, 10_000);
const notifications = await subscriptions
  .accountNotifications(topology, { encoding: 'base64', commitment: 'confirmed' })
  .subscribe({ abortSignal: abort.signal });
console.log('subscribed');

for await (const notification of notifications) {
  const after = decode(notification.value.data[0]);
  assert.equal(after.epoch, expectedEpoch + 1n, 'the epoch moved');
  assert.equal(after.endpoints, expectedEndpoints + 1, 'one endpoint was added');
  console.log(`notified epoch=${after.epoch} endpoints=${after.endpoints} slot=${notification.context.slot}`);
  break;
}
clearTimeout(timer);
abort.abort();
console.log('ok');
process.exit(0);
