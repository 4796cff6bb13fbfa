/**
 * The client's transaction manager: two-phase commit across the broker and other resources
 * (docs/TRANSACTIONS.md, "Transaction manager").
 */
export { BrokerResource, type BrokerResourceOptions } from './broker-resource.js';
export { type Decision, type DecisionLog, MemoryDecisionLog } from './decision-log.js';
export { FileDecisionLog, type FileDecisionLogOptions } from './file-log.js';
export {
  type RecoveryReport,
  TmCodes,
  type TmEvent,
  TransactionManager,
  type TransactionManagerOptions,
  type TxContext,
} from './manager.js';
export { gidToXid, xidToGid } from './pg-gid.js';
export { type PgQueryable, PostgresResource, type PostgresResourceOptions } from './postgres-resource.js';
export type { ResourceManager } from './resource.js';
export { TM_FORMAT_ID } from './xid.js';
