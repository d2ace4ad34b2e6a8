import { isAddress, type Address } from '@solana/kit';
import { useEffect, useState, type FormEvent } from 'react';

import { deriveWsUrl, type DashboardConfig } from '../lib/config';

/** RPC URL and network address; the PubSub URL follows the RPC's (port + 1). */
export function ConfigForm({
  config,
  onConnect,
}: {
  config: DashboardConfig;
  onConnect: (c: DashboardConfig) => void;
}) {
  const [rpc, setRpc] = useState(config.rpcUrl);
  const [network, setNetwork] = useState(config.network ?? '');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setRpc(config.rpcUrl);
    setNetwork(config.network ?? '');
  }, [config]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    let wsUrl: string;
    try {
      const u = new URL(rpc);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      wsUrl = rpc === config.rpcUrl ? config.wsUrl : deriveWsUrl(rpc);
    } catch {
      setError('the RPC URL must be an http(s) URL');
      return;
    }
    const n = network.trim();
    if (n !== '' && !isAddress(n)) {
      setError('the network must be a base58 address (or empty to discover it)');
      return;
    }
    setError(null);
    onConnect({ rpcUrl: rpc.replace(/\/$/, ''), wsUrl, network: n === '' ? null : (n as Address) });
  };

  return (
    <form className="config" onSubmit={submit}>
      <label>
        RPC <input name="rpc" value={rpc} onChange={(e) => setRpc(e.target.value)} size={26} />
      </label>
      <label>
        Network{' '}
        <input
          name="network"
          value={network}
          placeholder="discover"
          onChange={(e) => setNetwork(e.target.value)}
          size={46}
        />
      </label>
      <button type="submit">Connect</button>
      {error && <span className="form-error">{error}</span>}
    </form>
  );
}
