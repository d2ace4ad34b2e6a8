// @lifeline/client: follow a Lifeline network's on-chain topology from a frontend.
// The Codama-generated client of the program is at '@lifeline/client/generated'.
export {
  assertLifelineAccount,
  decodeLifelineAccount,
  fetchBallot,
  fetchNetwork,
  fetchNetworkState,
  fetchRawAccounts,
  fetchTopology,
  findNetworks,
  lifelineAccountKind,
  rawAccount,
  type FetchConfig,
  type LifelineAccount,
  type LifelineAccountData,
  type LifelineAccountKind,
  type NetworkState,
  type RawAccount,
} from './accounts';
export {
  describeError,
  FailoverError,
  isFailoverError,
  isLifelineAccountError,
  LifelineAccountError,
  type FailedAttempt,
  type FailoverErrorCode,
  type LifelineAccountErrorCode,
} from './errors';
export type { FollowOptions, FollowTransport } from './follow';
export {
  AnswerTooLarge,
  createBoundedTransport,
  DEFAULT_MAX_ANSWER_BYTES,
  parseWithBigInts,
  stringifyWithBigInts,
} from './bounded';
export { FLOOR_SLACK, Floors, FUTURE_TOLERANCE } from './floors';
export { findBallotAddress, findNetworkAddress, findTopologyAddress } from './pda';
export {
  ENDPOINT_KIND,
  fixedText,
  LIFELINE_PROGRAM_ADDRESS,
  NO_ENDPOINT,
  ROLE_CODE,
  roleOf,
  type Role,
} from './program';
export {
  answerSlot,
  commitmentOf,
  createFailoverTransport,
  createLifelineRpc,
  type FailoverTransport,
  type FailoverTransportOptions,
  type LifelineRpc,
  type LifelineRpcOptions,
  type TopologySource,
} from './transport';
export {
  primaryOf,
  recentMigrations,
  servingOf,
  standbysOf,
  topologyView,
  type EndpointView,
  type TopologyView,
} from './view';
export {
  watchNetworkState,
  watchTopology,
  type NetworkStateWatcher,
  type TopologyWatcher,
  type WatchNetworkStateOptions,
  type WatchTopologyOptions,
} from './watch';
export type { Ballot, Network, Topology } from './generated/accounts';
export type { Endpoint, KeeperEntry, KeeperReport, MigrationRecord, Policy, Vote } from './generated/types';
