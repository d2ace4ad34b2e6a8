// A frontend's data layer in a few lines: follow a Lifeline network's topology and send
// every request through the current primary of its group, failing over on errors and
// after migrations. The TypeScript twin of client/examples/follow_network.rs.
//
//   npm run build   # once: the example imports the package as an app would
//   node examples/follow-network.mjs <RPC_URL> <WS_URL> <NETWORK> [GROUP] [SECONDS]
//
// e.g. against `lifeline demo --keep-running` (which prints the network's address):
//   node examples/follow-network.mjs http://127.0.0.1:8899 ws://127.0.0.1:8900 <NETWORK>
// then fail the primary and watch the requests move:
//   curl -X POST -d frozen http://127.0.0.1:8890/endpoints/ep1/fault
import { address, isAddress } from '@solana/kit';
import { createLifelineRpc, describeError, isLifelineAccountError, primaryOf } from '@lifeline/client';

const [rpcUrl, wsUrl, network, group = '0', seconds] = process.argv.slice(2);
if (!rpcUrl || !wsUrl || !network) {
  console.error('usage: node examples/follow-network.mjs <RPC_URL> <WS_URL> <NETWORK> [GROUP] [SECONDS]');
  process.exit(2);
}
if (!isAddress(network)) {
  console.error(`error: ${JSON.stringify(network)} is not a valid address`);
  process.exit(2);
}

// 1. A kit Rpc whose transport follows the on-chain topology (subscription + polling).
let lifeline;
try {
  lifeline = await createLifelineRpc({
    network: address(network),
    chainRpcUrl: rpcUrl,
    chainWsUrl: wsUrl,
    group: Number(group),
  });
} catch (e) {
  console.error(`error: ${describeError(e)}${isLifelineAccountError(e) ? ` [${e.code}]` : ''}`);
  process.exit(2);
}
const { rpc, watcher, transport } = lifeline;
const show = (view) =>
  `epoch ${view.epoch}, primary of group ${group}: ${primaryOf(view, Number(group))?.url ?? 'none'}`;
console.log(`following ${network}: ${show(watcher.current)}`);

// 2. Every newer epoch, as it lands.
watcher.subscribe((view) => console.log(`topology changed: ${show(view)}`));

// 3. Use it like any kit Rpc. Here: the slot every half second, and who served it.
const stopAt = seconds ? Date.now() + Number(seconds) * 1000 : Infinity;
let stopping = false;
process.on('SIGINT', () => (stopping = true));
while (!stopping && Date.now() < stopAt) {
  try {
    const slot = await rpc.getSlot({ commitment: 'confirmed' }).send();
    console.log(`slot ${slot} from ${transport.lastEndpoint}`);
  } catch (e) {
    console.log(`request failed: ${describeError(e)}`);
  }
  await new Promise((r) => setTimeout(r, 500));
}
lifeline.stop();
