import { describe, expect, it } from 'vitest';

import { DEFAULT_RPC_URL, deriveWsUrl, parseConfig, toSearch } from './config';

const NETWORK = '8Q32oKMsCFjVWmt2bwDNUejVfpvFDBqF1wLJCsUtqqHG';

describe('config', () => {
  it('defaults to the localnet and discovers the network', () => {
    const { config, problems } = parseConfig('');
    expect(config).toEqual({ rpcUrl: DEFAULT_RPC_URL, wsUrl: 'ws://127.0.0.1:8900', network: null });
    expect(problems).toEqual([]);
  });

  it('derives the PubSub URL as the Solana tools do (port + 1, ws/wss)', () => {
    expect(deriveWsUrl('http://127.0.0.1:8899')).toBe('ws://127.0.0.1:8900');
    expect(deriveWsUrl('https://rpc.example.com')).toBe('wss://rpc.example.com');
    expect(deriveWsUrl('https://rpc.example.com:8443/key/abc')).toBe('wss://rpc.example.com:8444/key/abc');
  });

  it('reads rpc, ws and network from the query string', () => {
    const { config, problems } = parseConfig(`?rpc=http://10.0.0.1:9000/&ws=ws://10.0.0.1:7000&network=${NETWORK}`);
    expect(config).toEqual({ rpcUrl: 'http://10.0.0.1:9000', wsUrl: 'ws://10.0.0.1:7000', network: NETWORK });
    expect(problems).toEqual([]);
  });

  it('names each unusable parameter and falls back instead of failing', () => {
    const { config, problems } = parseConfig('?rpc=ftp://x&ws=http://y&network=not-an-address');
    expect(config.rpcUrl).toBe(DEFAULT_RPC_URL);
    expect(config.network).toBeNull();
    expect(problems).toHaveLength(3);
    expect(problems[0]).toContain('rpc "ftp://x"');
    expect(problems[2]).toContain('not a base58 address');
  });

  it('round-trips through the query string, leaving out a derived ws URL', () => {
    const config = { rpcUrl: 'http://127.0.0.1:8899', wsUrl: 'ws://127.0.0.1:8900', network: NETWORK };
    expect(toSearch(config)).not.toContain('ws=');
    expect(parseConfig(toSearch(config)).config).toEqual(config);
    const custom = { ...config, wsUrl: 'ws://other:1' };
    expect(parseConfig(toSearch(custom)).config).toEqual(custom);
  });
});
