// Where the dashboard reads from: query parameters first (?rpc=…&ws=…&network=…), then
// the localnet's defaults. The network may be left out: the dashboard then lists the
// Lifeline networks the RPC knows and picks the only one if there is just one.
import { isAddress } from '@solana/kit';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8899';

export interface DashboardConfig {
  rpcUrl: string;
  wsUrl: string;
  /** Base58 address of the Network account; null = discover. */
  network: string | null;
}

export interface ParsedConfig {
  config: DashboardConfig;
  /** One line per parameter that was present but unusable (the default is used instead). */
  problems: string[];
}

/** The Solana convention (and the localnet's): PubSub listens on the RPC port + 1. */
export function deriveWsUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  if (url.port !== '') {
    url.port = String(Math.min(Number(url.port) + 1, 65535));
  }
  return url.toString().replace(/\/$/, '');
}

function httpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function wsUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'ws:' || u.protocol === 'wss:';
  } catch {
    return false;
  }
}

export function parseConfig(search: string): ParsedConfig {
  const params = new URLSearchParams(search);
  const problems: string[] = [];
  let rpcUrl = DEFAULT_RPC_URL;
  const rpc = params.get('rpc')?.trim();
  if (rpc) {
    if (httpUrl(rpc)) rpcUrl = rpc.replace(/\/$/, '');
    else problems.push(`rpc "${rpc}" is not an http(s) URL; using ${DEFAULT_RPC_URL}`);
  }
  let ws = deriveWsUrl(rpcUrl);
  const wsParam = params.get('ws')?.trim();
  if (wsParam) {
    if (wsUrl(wsParam)) ws = wsParam.replace(/\/$/, '');
    else problems.push(`ws "${wsParam}" is not a ws(s) URL; using ${ws}`);
  }
  let network: string | null = null;
  const net = params.get('network')?.trim();
  if (net) {
    if (isAddress(net)) network = net;
    else problems.push(`network "${net}" is not a base58 address`);
  }
  return { config: { rpcUrl, wsUrl: ws, network }, problems };
}

/** The query string that reproduces `config` (the ws URL only when it is not derived). */
export function toSearch(config: DashboardConfig): string {
  const params = new URLSearchParams();
  params.set('rpc', config.rpcUrl);
  if (config.wsUrl !== deriveWsUrl(config.rpcUrl)) params.set('ws', config.wsUrl);
  if (config.network) params.set('network', config.network);
  return `?${params.toString()}`;
}
