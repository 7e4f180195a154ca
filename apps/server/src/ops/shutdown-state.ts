/**
 * Whether this process has been asked to stop. Readiness fails from the first signal on, so a
 * load balancer takes the process out of rotation while it still serves what arrives.
 */
export class ShutdownState {
  private since: number | undefined;

  get stopping(): boolean {
    return this.since !== undefined;
  }

  begin(): void {
    this.since ??= Date.now();
  }
}
