import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ShutdownState } from './shutdown-state';

export interface GracefulStopOptions {
  app: NestFastifyApplication;
  state: ShutdownState;
  /** How long the process keeps serving after readiness fails (CLARION_SHUTDOWN_DRAIN_MS; 0 for workers). */
  drainMs: number;
  log?: (message: string) => void;
}

/**
 * SIGTERM/SIGINT: fail readiness, keep serving for the drain window (load balancers and
 * Kubernetes endpoints need a few probe periods to stop sending), then close the app (in-flight
 * requests and sends finish) and exit 0. Closing at once would answer 503 to requests still
 * routed here during a rolling deploy.
 */
export function stopGracefullyOnSignals({
  app,
  state,
  drainMs,
  log = (m) => console.error(m),
}: GracefulStopOptions): void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.stopping) return;
    state.begin();
    if (drainMs > 0) log(`clarion: ${signal}: readiness failing, serving for ${drainMs} ms before closing`);
    setTimeout(() => {
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          log(`clarion: shutdown failed: ${(error as Error)?.message ?? error}`);
          process.exit(1);
        },
      );
    }, drainMs);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // An app closed by other means (tests) leaves no listeners behind.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onClose', async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    });
}
