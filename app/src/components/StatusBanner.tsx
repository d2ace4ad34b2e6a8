import type { Address } from '@solana/kit';

import { shortAddress } from '../lib/format';
import type { Health } from '../lib/live';

export function StatusBanner({
  health,
  problems,
  onChoose,
}: {
  health: Health;
  problems: string[];
  onChoose: (network: Address) => void;
}) {
  return (
    <>
      {problems.map((p) => (
        <div className="banner warn" key={p}>
          Ignored query parameter: {p}
        </div>
      ))}
      {health.kind === 'rpc-unreachable' && (
        <div className="banner bad" role="alert" data-testid="banner">
          <strong>RPC unreachable.</strong> {health.message}. Retrying; the page updates by itself once the RPC answers.
        </div>
      )}
      {health.kind === 'bad-network' && (
        <div className="banner bad" role="alert" data-testid="banner">
          <strong>Network not found.</strong> {health.message}. Check the network address (the <code>network</code> line{' '}
          <code>lifeline demo --keep-running</code> prints) and the RPC URL.
        </div>
      )}
      {health.kind === 'choose-network' && (
        <div className="banner warn" data-testid="banner">
          <strong>{health.candidates.length} Lifeline networks on this RPC.</strong> Pick one:{' '}
          {health.candidates.map((c) => (
            <button key={c.address} className="link" onClick={() => onChoose(c.address)} title={c.address}>
              {c.name} ({shortAddress(c.address)})
            </button>
          ))}
        </div>
      )}
    </>
  );
}
