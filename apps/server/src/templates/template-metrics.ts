import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../config/tokens';

/**
 * Template counters. Labels are small fixed sets; template keys are never labels (they come from
 * users, and one app could publish thousands).
 */
@Injectable()
export class TemplateMetrics {
  /** result: ok | missing_variable | error */
  readonly renders: Counter<'result'>;
  /** cache: version | latest; result: hit | shared (joined a read in flight) | miss */
  readonly cache: Counter<'cache' | 'result'>;
  /** result: published | syntax_error | payload_too_large */
  readonly publishes: Counter<'result'>;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
      (registry.getSingleMetric(name) as Counter<L> | undefined) ??
      new Counter<L>({ name, help, labelNames, registers: [registry] });
    this.renders = counter(
      'clarion_template_renders_total',
      'Stored-template renders (one per channel per recipient, previews included), by result',
      ['result'],
    );
    this.cache = counter(
      'clarion_template_cache_lookups_total',
      'Template cache lookups by cache (version, latest) and result (hit, shared, miss)',
      ['cache', 'result'],
    );
    this.publishes = counter(
      'clarion_template_publishes_total',
      'PUT /v1/templates/:key by result (published, syntax_error, payload_too_large)',
      ['result'],
    );
  }
}
