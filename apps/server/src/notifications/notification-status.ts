/**
 * The status a reader sees, exact at read time: `scheduled` while sendAt is ahead (a scheduled
 * fan-out included), `accepted` once due even before the relay has stored it.
 */
export const NOTIFICATION_STATUS = `CASE
  WHEN status IN ('scheduled', 'fanout', 'accepted') AND send_at > now() THEN 'scheduled'
  WHEN status = 'scheduled' THEN 'accepted'
  ELSE status END`;
