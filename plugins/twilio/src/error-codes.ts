/**
 * The one table of Twilio error codes Clarion acts on, for API errors at send and for the
 * ErrorCode of status callbacks alike.
 */

/** The number cannot receive SMS (invalid, landline, unreachable, unknown): the contact is disabled. */
export const INVALID_NUMBER = new Set([21211, 21214, 21265, 21407, 21612, 21614, 30005, 30006]);
/** The recipient replied STOP: Twilio refuses to send until they reply START. */
export const OPTED_OUT = 21610;
/** Our account or sender is wrong: the plugin is unhealthy until a send works. */
export const CONFIGURATION = new Set([
  20003, 20005, 20008, 20404, 21212, 21606, 21659, 21703, 21705, 21712, 30032,
]);
/** Carrier-side conditions that may pass (unreachable handset, unknown error): worth another try. */
export const TRANSIENT = new Set([30003, 30008]);

/** A callback's ErrorCode as a number, or undefined when absent or not numeric. */
export function errorCodeOf(value: string | undefined): number | undefined {
  return value && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
}
