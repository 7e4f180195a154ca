import type { Queryable } from '../database/prepared';

/**
 * The users who stored `address` as a contact of this kind: on a core channel (`channel` null)
 * their phone or e-mail, on a plugin's channel the address kept for it. Used to apply an inbound
 * STOP/START to everyone reachable at that address.
 */
export async function usersReachableAt(
  db: Queryable,
  kind: string,
  channel: string | null,
  address: string,
): Promise<{ app_id: string; user_id: string }[]> {
  return (await db.query(
    `SELECT DISTINCT app_id, user_id FROM contacts
      WHERE kind = $1 AND channel IS NOT DISTINCT FROM $2 AND address = $3`,
    [kind, channel, kind === 'email' ? address.toLowerCase() : address],
  )) as { app_id: string; user_id: string }[];
}
