// A manual failover sent from TypeScript: the generated instruction builder, a kit
// transaction signed by the network's authority, sent and confirmed. What a protocol's own
// tooling would do with '@lifeline/client/generated'.
import { readFileSync } from 'node:fs';

import {
  appendTransactionMessageInstruction,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createTransactionMessage,
  getProgramDerivedAddress,
  getSignatureFromTransaction,
  getBase64EncodedWireTransaction,
  pipe,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
  type Address,
  type KeyPairSigner,
} from '@solana/kit';

import { findTopologyAddress, LIFELINE_PROGRAM_ADDRESS } from '../../src';
import { getForceFailoverInstruction } from '../../src/generated/instructions';

export interface FailoverSender {
  authority: KeyPairSigner;
  /**
   * Promotes endpoint `toId` in `group`; resolves once the transaction is confirmed, with
   * when (performance.now()) its status was first seen at all and first seen confirmed.
   */
  send(args: {
    group: number;
    toId: number;
    expectedGroupEpoch: bigint;
    quarantineOld?: boolean;
  }): Promise<{ signature: string; landedAt: number; confirmedAt: number }>;
}

export async function failoverSender(rpcUrl: string, network: Address, authorityFile: string): Promise<FailoverSender> {
  const rpc = createSolanaRpc(rpcUrl);
  const authority = await createKeyPairSignerFromBytes(new Uint8Array(JSON.parse(readFileSync(authorityFile, 'utf8'))));
  const topology = await findTopologyAddress(network);
  const [eventAuthority] = await getProgramDerivedAddress({
    programAddress: LIFELINE_PROGRAM_ADDRESS,
    seeds: ['__event_authority'],
  });
  return {
    authority,
    async send({ group, toId, expectedGroupEpoch, quarantineOld = false }) {
      const ix = getForceFailoverInstruction({
        network,
        topology,
        authority,
        eventAuthority,
        program: LIFELINE_PROGRAM_ADDRESS,
        group,
        toId,
        expectedGroupEpoch,
        quarantineOld,
      });
      const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
      const message = pipe(
        createTransactionMessage({ version: 0 }),
        (m) => setTransactionMessageFeePayerSigner(authority, m),
        (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
        (m) => appendTransactionMessageInstruction(ix, m),
      );
      const tx = await signTransactionMessageWithSigners(message);
      const signature = getSignatureFromTransaction(tx);
      await rpc.sendTransaction(getBase64EncodedWireTransaction(tx), { encoding: 'base64' }).send();
      // Confirmation by polling the status (every 5 ms): kit's sendAndConfirmTransaction
      // over the localnet's signature subscription sometimes never hears back when a
      // transaction follows another within a slot or two (the transaction lands).
      const deadline = Date.now() + 30_000;
      let landedAt = 0;
      for (;;) {
        const { value } = await rpc.getSignatureStatuses([signature]).send();
        const status = value[0];
        if (status?.err) throw new Error(`force_failover failed: ${JSON.stringify(status.err)}`);
        if (status && !landedAt) landedAt = performance.now();
        if (status?.confirmationStatus === 'confirmed' || status?.confirmationStatus === 'finalized') {
          return { signature, landedAt, confirmedAt: performance.now() };
        }
        if (Date.now() > deadline) throw new Error(`force_failover ${signature} not confirmed within 30 s`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}
