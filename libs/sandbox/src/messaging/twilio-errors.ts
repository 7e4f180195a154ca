/** Twilio REST errors the fake can answer with: code → HTTP status and Twilio's own message. */
export const TWILIO_API_ERRORS: Record<string, { status: number; message: string }> = {
  '20003': { status: 401, message: 'Authenticate' },
  '20404': { status: 404, message: 'The requested resource was not found' },
  '20429': { status: 429, message: 'Too Many Requests' },
  '20500': { status: 500, message: 'Internal Server Error' },
  '20503': { status: 503, message: 'Service Unavailable' },
  '21211': { status: 400, message: "Invalid 'To' Phone Number" },
  '21408': {
    status: 400,
    message: 'Permission to send an SMS has not been enabled for the region indicated by the To number',
  },
  '21602': { status: 400, message: 'Message body is required.' },
  '21603': { status: 400, message: "A 'From' phone number is required." },
  '21604': { status: 400, message: "A 'To' phone number is required." },
  '21606': {
    status: 400,
    message:
      "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account",
  },
  '21610': { status: 400, message: 'Attempt to send to unsubscribed recipient' },
  '21614': { status: 400, message: "'To' number is not a valid mobile number" },
  '21617': { status: 400, message: 'The concatenated message body exceeds the 1600 character limit' },
};

/** Generic rule names shared by every fake, mapped to Twilio codes. */
export const TWILIO_ALIASES: Record<string, string> = {
  rate_limit: '20429',
  server_error: '20500',
  unavailable: '20503',
};

/**
 * Carrier-side errors: the API accepts the message (201) and the failure arrives later in the
 * status callback as `MessageStatus=undelivered|failed` with `ErrorCode`.
 */
export const TWILIO_DELIVERY_ERRORS: Record<string, 'undelivered' | 'failed'> = {
  '30003': 'undelivered',
  '30005': 'undelivered',
  '30006': 'undelivered',
  '30007': 'failed',
  '30008': 'undelivered',
};

export function twilioErrorBody(code: string, detail?: string) {
  const known = TWILIO_API_ERRORS[code] ?? { status: 400, message: 'Error' };
  return {
    status: known.status,
    body: {
      code: Number(code),
      message: detail ? `${known.message}: ${detail}` : known.message,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status: known.status,
    },
  };
}

/** The same error in RFC 9457 problem-details form, which twilio-node throws as TwilioServiceException. */
export function twilioProblemBody(code: string) {
  const known = TWILIO_API_ERRORS[code] ?? { status: 400, message: 'Error' };
  return {
    status: known.status,
    body: {
      type: `https://www.twilio.com/docs/errors/${code}`,
      title: known.message,
      status: known.status,
      code: Number(code),
      detail: known.message,
    },
  };
}
