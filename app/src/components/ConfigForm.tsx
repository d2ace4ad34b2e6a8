import { useEffect, useState, type FormEvent } from 'react';

import { deriveWsUrl, parseConfig, type DashboardConfig } from '../lib/config';

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
    // The same rules as the query string: a custom PubSub URL is kept while the RPC stays.
    const params = new URLSearchParams({ rpc: rpc.trim() });
    if (network.trim() !== '') params.set('network', network.trim());
    if (rpc.trim() === config.rpcUrl && config.wsUrl !== deriveWsUrl(config.rpcUrl)) params.set('ws', config.wsUrl);
    const parsed = parseConfig(`?${params}`);
    if (parsed.problems.length > 0) {
      setError(parsed.problems[0].replace(/;.*$/, ''));
      return;
    }
    setError(null);
    onConnect(parsed.config);
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
