/** One kind of work the relay re-adds from PostgreSQL: a small query and what to do with its rows. */
export interface RelaySource {
  /** Names the source in logs and in a pass's counts. */
  readonly name: string;
  /** Re-adds what it finds; returns how many it re-added. Throws when PostgreSQL or Redis is away. */
  run(graceMs: number): Promise<number>;
}
