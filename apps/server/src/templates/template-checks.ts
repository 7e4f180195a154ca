import { countSmsSegments, type MessageContent, type SmsSegmentInfo } from '@clarion/plugin-sdk';
import { checkSyntax, renderLoose, stringsOf } from './liquid-renderer';
import { mergeVariants } from './locale-fallback';
import type { ChannelContents } from './notification-request';
import { type PayloadSize, pushSizes, webSizes } from './push-payload-size';
import { normalizeLocale } from './template-schemas';

/** What a channel's rendered content costs: push payload sizes against each provider's limit, SMS segments. */
export interface ChannelChecks {
  push?: { apns: PayloadSize; fcm: PayloadSize };
  web?: { webpush: PayloadSize };
  sms?: SmsSegmentInfo;
}

/** Checks of a whole template at publish time, per locale (`default` is the default content). */
export interface TemplateChecks {
  /** `static`: the template with every variable empty; `sample`: rendered with the sample given. */
  basis: 'static' | 'sample';
  locales: Record<string, ChannelChecks>;
}

export interface SyntaxProblem {
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface SizeProblem {
  locale: string;
  channel: string;
  provider: string;
  bytes: number;
  limit: number;
}

/** Every Liquid syntax error in the default content and the variants, with line and column. */
export function syntaxErrors(
  content: ChannelContents,
  locales: Record<string, ChannelContents>,
): SyntaxProblem[] {
  const sources = [
    ...stringsOf(content, 'content'),
    ...Object.entries(locales).flatMap(([l, c]) => stringsOf(c, `locales.${l}`)),
  ];
  const problems: SyntaxProblem[] = [];
  for (const { path, source } of sources) {
    const error = source.includes('{') ? checkSyntax(source, path) : null;
    if (error) problems.push({ path, ...error });
  }
  return problems;
}

/** Sizes and segments of content already rendered. */
export function channelChecks(content: ChannelContents): ChannelChecks {
  const checks: ChannelChecks = {};
  if (content.push) checks.push = pushSizes(content.push as MessageContent);
  if (content.web) checks.web = webSizes(content.web as MessageContent);
  if (content.sms) checks.sms = countSmsSegments(content.sms.text);
  return checks;
}

/** Estimates every locale's cost by rendering loosely (missing variables empty) with `scope`. */
export function estimateChecks(
  content: ChannelContents,
  locales: Record<string, ChannelContents>,
  scope: Record<string, unknown>,
  basis: TemplateChecks['basis'],
): TemplateChecks {
  // Only the channels that are measured are rendered (an e-mail or webhook body costs nothing here).
  const measured = (c: ChannelContents): ChannelContents => ({ push: c.push, web: c.web, sms: c.sms });
  const out: Record<string, ChannelChecks> = {
    default: channelChecks(renderLoose(measured(content), scope)),
  };
  const merged = mergeVariants(content, locales);
  for (const locale of Object.keys(locales)) {
    out[locale] = channelChecks(renderLoose(measured(merged.get(normalizeLocale(locale)) ?? {}), scope));
  }
  return { basis, locales: out };
}

/** The payloads over a provider's limit, for the 422 that refuses them. */
export function oversized(checks: TemplateChecks): SizeProblem[] {
  const problems: SizeProblem[] = [];
  for (const [locale, c] of Object.entries(checks.locales)) {
    const sizes: [string, Record<string, PayloadSize> | undefined][] = [
      ['push', c.push],
      ['web', c.web],
    ];
    for (const [channel, byProvider] of sizes) {
      for (const [provider, size] of Object.entries(byProvider ?? {})) {
        if (!size.ok) problems.push({ locale, channel, provider, bytes: size.bytes, limit: size.limit });
      }
    }
  }
  return problems;
}
