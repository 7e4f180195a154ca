import type { PluginMetricsFactory } from '@clarion/plugin-sdk';

/** Twilio-specific metrics, named `clarion_twilio_…`. */
export function twilioMetrics(m: PluginMetricsFactory) {
  return {
    segments: m.counter('segments_total', 'SMS segments sent (Twilio bills per segment), by encoding', [
      'encoding',
    ] as const),
    optOuts: m.counter('opt_outs_total', 'Sends refused because the recipient replied STOP (Twilio 21610)'),
    errors: m.counter('errors_total', 'Failed sends by Twilio error code', ['code'] as const),
  };
}

export type TwilioMetrics = ReturnType<typeof twilioMetrics>;
