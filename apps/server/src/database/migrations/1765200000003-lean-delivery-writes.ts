import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Less WAL per delivery (issue 22; docs/benchmarks.md, "WAL per delivery").
 *
 * `queued_at`: a delivery the request path stores and enqueues at once is written `queued`
 * already, with the time here. Its history shows `queued` at that time without a
 * delivery_events row, as it shows `pending` at `created_at` (deliveries/delivery-queries.ts).
 * That saves the pending → queued UPDATE (a non-HOT update: a second copy of the row with its
 * rendered job, an entry in every index) and one history row with its index entry. A delivery
 * queued later (the relay, a fan-out chunk, a reroute) still gets its `queued` row, and this
 * stays null.
 *
 * `sent_event`: the attempt and detail of a delivery's `sent` step, written by the worker's
 * status update that sets `sent_at` (deliveries/store/record-outcomes.ts) instead of a
 * delivery_events row and its index entry; the history shows it at `sent_at`.
 */
export class LeanDeliveryWrites1765200000003 implements MigrationInterface {
  name = 'LeanDeliveryWrites1765200000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deliveries ADD COLUMN queued_at timestamptz, ADD COLUMN sent_event jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The history the column stood for becomes rows again, before the column goes. A compacted
    // step (store/record-outcomes.ts leaves out the row's own attempt and plugin) gets them back.
    await q.query(`
      INSERT INTO delivery_events (delivery_id, status, at)
      SELECT id, 'queued', queued_at FROM deliveries WHERE queued_at IS NOT NULL;
      INSERT INTO delivery_events (delivery_id, status, at, attempt, detail)
      SELECT id, 'sent', sent_at, COALESCE((sent_event->>'attempt')::int, attempts),
             CASE WHEN jsonb_typeof(sent_event->'detail') <> 'object' OR plugin IS NULL THEN sent_event->'detail'
                  ELSE jsonb_build_object('plugin', plugin) || (sent_event->'detail') END
        FROM deliveries
       WHERE sent_event IS NOT NULL;
      ALTER TABLE deliveries DROP COLUMN queued_at, DROP COLUMN sent_event;
    `);
  }
}
