import type { PluginLogger } from './logger';

/**
 * A child of `parent` with `bindings`, made when first written to. The runtime gives every delivery
 * a logger that is rarely used, and a pino child serialises its bindings as it is made: 200,000 of
 * them in a campaign of 100,000 subscribers, for the few deliveries that log.
 */
export function lazyChild(parent: PluginLogger, bindings: Record<string, unknown>): PluginLogger {
  let made: PluginLogger | undefined;
  const log = (): PluginLogger => {
    made ??= parent.child(bindings);
    return made;
  };
  return {
    debug: (obj, msg) => log().debug(obj, msg),
    info: (obj, msg) => log().info(obj, msg),
    warn: (obj, msg) => log().warn(obj, msg),
    error: (obj, msg) => log().error(obj, msg),
    child: (more) => log().child(more),
  };
}
