// Reading Lifeline accounts: each one checked to be what it is read as — owned by the
// program, carrying the type's discriminator, long enough for the layout — before the
// generated decoder turns it into typed data. A failed check is a LifelineAccountError
// naming the address and what is there instead.
import {
  getBase58Decoder,
  getBase64Encoder,
  type Address,
  type Base58EncodedBytes,
  type Commitment,
  type GetMultipleAccountsApi,
  type GetProgramAccountsApi,
  type ReadonlyUint8Array,
  type Rpc,
} from '@solana/kit';

import {
  BALLOT_DISCRIMINATOR,
  NETWORK_DISCRIMINATOR,
  TOPOLOGY_DISCRIMINATOR,
  getBallotDecoder,
  getBallotSize,
  getNetworkDecoder,
  getNetworkSize,
  getTopologyDecoder,
  getTopologySize,
  type Ballot,
  type Network,
  type Topology,
} from './generated/accounts';
import { LifelineAccountError } from './errors';
import { findBallotAddress, findTopologyAddress } from './pda';
import { fixedText, LIFELINE_PROGRAM_ADDRESS } from './program';

export type LifelineAccountKind = 'network' | 'topology' | 'ballot';

/** The decoded data of each account type. */
export interface LifelineAccountData {
  network: Network;
  topology: Topology;
  ballot: Ballot;
}

/** A decoded account and the context slot of the read (or notification) that produced it. */
export interface LifelineAccount<TData> {
  address: Address;
  data: TData;
  slot: bigint;
}

/** Raw account bytes as an RPC returns them (base64 already decoded). */
export interface RawAccount {
  address: Address;
  owner: Address | string;
  data: ReadonlyUint8Array;
}

const LAYOUTS = {
  network: { discriminator: NETWORK_DISCRIMINATOR, size: getNetworkSize, decoder: getNetworkDecoder },
  topology: { discriminator: TOPOLOGY_DISCRIMINATOR, size: getTopologySize, decoder: getTopologyDecoder },
  ballot: { discriminator: BALLOT_DISCRIMINATOR, size: getBallotSize, decoder: getBallotDecoder },
} as const;

const KINDS = Object.keys(LAYOUTS) as LifelineAccountKind[];

function startsWith(data: ReadonlyUint8Array, prefix: ReadonlyUint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** Which Lifeline account `data` holds, by its discriminator; null for anything else. */
export function lifelineAccountKind(data: ReadonlyUint8Array): LifelineAccountKind | null {
  return KINDS.find((k) => startsWith(data, LAYOUTS[k].discriminator)) ?? null;
}

/**
 * Throws a LifelineAccountError unless `account` is a Lifeline account of `kind`: owned by
 * the program, with the type's discriminator, at least as long as the type's layout.
 */
export function assertLifelineAccount(kind: LifelineAccountKind, account: RawAccount | null, address?: Address): void {
  const at = account?.address ?? address!;
  const not = `${at} is not a Lifeline ${kind}`;
  if (!account) {
    throw new LifelineAccountError('AccountNotFound', at, kind, `${not}: no account exists at this address`);
  }
  if (account.owner !== LIFELINE_PROGRAM_ADDRESS) {
    throw new LifelineAccountError(
      'WrongOwner',
      at,
      kind,
      `${not}: it is owned by ${account.owner}, not the Lifeline program ${LIFELINE_PROGRAM_ADDRESS}`,
      { owner: account.owner as Address },
    );
  }
  const actual = lifelineAccountKind(account.data);
  if (actual !== kind) {
    throw new LifelineAccountError(
      'WrongDiscriminator',
      at,
      kind,
      `${not}: ${actual ? `it is a ${actual} account` : 'its data is no Lifeline account type'}`,
      { kind: actual },
    );
  }
  // Accounts are allocated at their layout's size; a shorter one cannot be decoded (a
  // longer one may come from a later layout that appended fields: the known prefix reads).
  const size = LAYOUTS[kind].size();
  if (account.data.length < size) {
    throw new LifelineAccountError(
      'WrongSize',
      at,
      kind,
      `${not}: ${account.data.length} bytes, a ${kind} needs ${size}`,
      { size: account.data.length, minimumSize: size },
    );
  }
}

/** Checks (assertLifelineAccount) and decodes one account. */
export function decodeLifelineAccount<K extends LifelineAccountKind>(
  kind: K,
  account: RawAccount | null,
  address?: Address,
): LifelineAccountData[K] {
  assertLifelineAccount(kind, account, address);
  return LAYOUTS[kind].decoder().decode(account!.data) as LifelineAccountData[K];
}

export interface FetchConfig {
  commitment?: Commitment;
  abortSignal?: AbortSignal;
}

/** The three accounts of a network as one read saw them (client/src/state.rs, ChainState). */
export interface NetworkState {
  /** The context slot of the read. */
  slot: bigint;
  network: LifelineAccount<Network>;
  topology: LifelineAccount<Topology>;
  ballot: LifelineAccount<Ballot>;
}

type EncodedAccountInfo = { owner: Address; data: readonly [string, 'base64'] | [string, 'base64'] } | null;

const base64 = getBase64Encoder();

/** An RPC account (base64 encoding) as RawAccount; null stays null. */
export function rawAccount(address: Address, info: EncodedAccountInfo): RawAccount | null {
  return info && { address, owner: info.owner, data: base64.encode(info.data[0]) };
}

/** Reads `addresses` with one getMultipleAccounts: raw accounts in order, and the read's slot. */
export async function fetchRawAccounts(
  rpc: Rpc<GetMultipleAccountsApi>,
  addresses: Address[],
  config: FetchConfig = {},
): Promise<{ slot: bigint; accounts: (RawAccount | null)[] }> {
  const { value, context } = await rpc
    .getMultipleAccounts(addresses, { encoding: 'base64', commitment: config.commitment ?? 'confirmed' })
    .send(config.abortSignal ? { abortSignal: config.abortSignal } : undefined);
  return { slot: context.slot, accounts: value.map((info, i) => rawAccount(addresses[i], info)) };
}

async function fetchOne<K extends LifelineAccountKind>(
  rpc: Rpc<GetMultipleAccountsApi>,
  kind: K,
  address: Address,
  config?: FetchConfig,
): Promise<LifelineAccount<LifelineAccountData[K]>> {
  const { slot, accounts } = await fetchRawAccounts(rpc, [address], config);
  return { address, data: decodeLifelineAccount(kind, accounts[0], address), slot };
}

/** The Network account at `network`, checked and decoded. */
export function fetchNetwork(rpc: Rpc<GetMultipleAccountsApi>, network: Address, config?: FetchConfig) {
  return fetchOne(rpc, 'network', network, config);
}

/** The Topology of the network at `network` (its PDA), checked and decoded. */
export async function fetchTopology(rpc: Rpc<GetMultipleAccountsApi>, network: Address, config?: FetchConfig) {
  return fetchOne(rpc, 'topology', await findTopologyAddress(network), config);
}

/** The Ballot (every keeper's latest attestation) of the network at `network`, checked and decoded. */
export async function fetchBallot(rpc: Rpc<GetMultipleAccountsApi>, network: Address, config?: FetchConfig) {
  return fetchOne(rpc, 'ballot', await findBallotAddress(network), config);
}

/**
 * Network, topology and ballot with one getMultipleAccounts, so the three are consistent
 * (one slot). The network is checked first: a wrong address is named for what it holds.
 */
export async function fetchNetworkState(
  rpc: Rpc<GetMultipleAccountsApi>,
  network: Address,
  config?: FetchConfig,
): Promise<NetworkState> {
  const addresses = [network, await findTopologyAddress(network), await findBallotAddress(network)];
  const { slot, accounts } = await fetchRawAccounts(rpc, addresses, config);
  const [n, t, b] = addresses;
  return {
    slot,
    network: { address: n, data: decodeLifelineAccount('network', accounts[0], n), slot },
    topology: { address: t, data: decodeLifelineAccount('topology', accounts[1], t), slot },
    ballot: { address: b, data: decodeLifelineAccount('ballot', accounts[2], b), slot },
  };
}

/** Every Lifeline network the RPC knows (the program's Network accounts), by address and name. */
export async function findNetworks(
  rpc: Rpc<GetProgramAccountsApi>,
  config: FetchConfig = {},
): Promise<{ address: Address; name: string }[]> {
  const found = await rpc
    .getProgramAccounts(LIFELINE_PROGRAM_ADDRESS, {
      encoding: 'base64',
      commitment: config.commitment ?? 'confirmed',
      filters: [
        {
          memcmp: {
            offset: 0n,
            bytes: getBase58Decoder().decode(NETWORK_DISCRIMINATOR) as Base58EncodedBytes,
            encoding: 'base58',
          },
        },
      ],
    })
    .send(config.abortSignal ? { abortSignal: config.abortSignal } : undefined);
  return found.flatMap(({ pubkey, account }) => {
    try {
      const n = decodeLifelineAccount('network', rawAccount(pubkey, account));
      return [{ address: pubkey, name: fixedText(n.name) }];
    } catch {
      return []; // not decodable as a network: not one
    }
  });
}
