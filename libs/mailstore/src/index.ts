export {
  appendMessage,
  appendMessageTx,
  appendCall,
  appendResultOf,
  APPEND_COLUMNS,
  MailboxNotFound,
  isUniqueViolation,
  type AppendInput,
  type AppendResult,
  type AppendRow,
} from "./append.ts";
export { removeMessages, removeMessagesTx, type RemoveInput, type RemoveResult, type ExpungedMessage } from "./remove.ts";
export { blobGc, type BlobGcResult } from "./blob-gc.ts";
export { addBlobRef, releaseBlobRef, registerUnreferencedBlob, registerUnreferencedSql } from "./blob-refs.ts";
export { findMailboxByName, findMailboxBySpecialUse, type MailboxRef } from "./mailboxes.ts";
export type { CachedStructure, SearchFields } from "./structure.ts";
export {
  QUARANTINE_RELEASED,
  quarantineMessage,
  listQuarantine,
  getQuarantine,
  releaseQuarantine,
  discardQuarantine,
  finishRelease,
  type QuarantineEntry,
  type QuarantineListOptions,
  type DiscardOutcome,
} from "./quarantine.ts";
export { FINAL_DELIVERY_STATUSES, releaseOutboundIfDone } from "./outbound.ts";
export {
  OUTBOUND_STATUSES,
  WAITING_STATUSES,
  DELETED_BY_OPERATOR,
  listOutbound,
  outboundSummary,
  getOutbound,
  retryOutbound,
  deleteOutbound,
  normaliseQueueDomain,
  type OutboundStatus,
  type OutboundRecipient,
  type OutboundMessage,
  type OutboundListOptions,
  type OutboundSummary,
  type OutboundDomainSummary,
  type QueueActionOutcome,
} from "./outbound-queue.ts";
export { contentOf, openContent, openContentRange, readContent, readContentRange, type MessageContent } from "./content.ts";
