import { Inject, Injectable } from '@nestjs/common';
import type { AppSettings } from '../apps/app-settings';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { rewriteLinks } from './link-rewriter';
import { LinkSigner } from './link-token';
import type { PlanContext } from './planner';

/** Gives the planner a link rewriter for apps that track clicks or opens. */
@Injectable()
export class LinkTracking {
  readonly signer: LinkSigner;
  private readonly baseUrl: string;

  constructor(@Inject(ENV) env: Env) {
    this.signer = new LinkSigner(env.CLARION_ENCRYPTION_KEY);
    this.baseUrl = env.CLARION_TRACKING_URL ?? env.CLARION_PUBLIC_URL;
  }

  /** `clientSent`: links stay as written (only the open pixel is added), so the tracking domain never redirects where a client chose. */
  forApp(settings: AppSettings, clientSent = false): Pick<PlanContext, 'rewriteLinks'> {
    const options = {
      clicks: settings.trackClicks === true && !clientSent,
      opens: settings.trackOpens === true,
    };
    if (!options.clicks && !options.opens) return {};
    return {
      rewriteLinks: (channel, content, deliveryId) =>
        rewriteLinks(channel, content, deliveryId, options, this.signer, this.baseUrl),
    };
  }
}
