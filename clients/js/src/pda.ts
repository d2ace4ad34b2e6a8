// Program-derived addresses (client/src/pda.rs). Seeds: programs/lifeline/src/constants.rs.
import { getAddressEncoder, getProgramDerivedAddress, type Address, type ReadonlyUint8Array } from '@solana/kit';

import { LIFELINE_PROGRAM_ADDRESS } from './program';

async function pda(...seeds: (ReadonlyUint8Array | string)[]): Promise<Address> {
  const [address] = await getProgramDerivedAddress({ programAddress: LIFELINE_PROGRAM_ADDRESS, seeds });
  return address;
}

const key = (address: Address) => getAddressEncoder().encode(address);

/** The Network account: PDA ["network", creator, name]. */
export const findNetworkAddress = (creator: Address, name: string) => pda('network', key(creator), name);
/** The network's Topology account: PDA ["topology", network]. */
export const findTopologyAddress = (network: Address) => pda('topology', key(network));
/** The network's Ballot account (every keeper's latest attestation): PDA ["ballot", network]. */
export const findBallotAddress = (network: Address) => pda('ballot', key(network));
