/**
 * The delivery store: every write to `deliveries`, `delivery_events` and the stats rollup goes
 * through one of these functions, one per writer of the transition table (transitions.ts), each a
 * single batched statement (or a few in the caller's transaction) whose guard is generated from
 * that table. They take a Queryable (the DataSource, or a transaction's manager) so a caller can
 * join them to its own transaction; group commit (batching concurrent callers) stays with the
 * callers that own the batchers (NotificationStore, StatusWriter, TrackingRecorder, Enqueuer…).
 * Beside them: the rows written in the same transactions (notifications, their eventId claims,
 * contacts an outcome disables), retention's deletes, and the reads these writers decide on.
 */
export {
  CANCELABLE,
  type CancelTarget,
  cancelablePage,
  canceledPage,
  cancelTarget,
  cancelUnsent,
  hasCancelable,
  markNotificationCanceled,
} from './store/cancel-unsent';
export { disableContacts, disableContactsOf, type InvalidContact } from './store/disable-contacts';
export { claimEventIds, type EventIdClaim, findEventIds } from './store/event-ids';
export {
  type DeliveryRow,
  insertDeliveries,
  insertNotifications,
  type NotificationRow,
  type SerializedDelivery,
  type SerializedNotification,
  serializeDeliveries,
  serializeNotification,
} from './store/insert-deliveries';
export { markQueued } from './store/mark-queued';
export {
  type ClaimedStep,
  cancelWaitingSteps,
  claimDueSteps,
  claimEngagedSteps,
  insertWaitingSteps,
  notificationsWaiting,
  type StepOutcome,
  type StepView,
  settleSteps,
  stepsOf,
  type WaitingStep,
  waitingStepCount,
} from './store/notification-steps';
export { deliveryOwners } from './store/owners';
export { purgeEventIds, purgeNotifications, purgeStats } from './store/purge';
export {
  type OutcomeHistory,
  type OutcomeStatus,
  type OutcomeUpdate,
  readSendRecords,
  recordOutcomes,
  type SendRecordRow,
} from './store/record-outcomes';
export {
  findTracked,
  recordTrackedRound,
  type TrackedChange,
  type TrackedMove,
} from './store/record-tracked';
export { type Redrive, redrive } from './store/redrive';
export { type Reroute, reroute } from './store/reroute';
