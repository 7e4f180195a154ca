import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DeliveryQueries } from '../deliveries/delivery-queries';
import { normalisedLink } from '../ingest/link-rewriter';
import { OPEN_PIXEL } from '../ingest/link-token';
import { LinkTracking } from '../ingest/link-tracking.service';
import { TrackingRecorder } from './tracking-recorder';

/** The smallest transparent GIF (1×1). */
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * Public tracking URLs (no key: the token is the credential). A click records `clicked` and
 * redirects to the link stored on the delivery at send time — never to a URL from the request,
 * so there is no open redirect. The pixel records `opened` and always answers the GIF.
 */
@Controller('t')
export class TrackingLinksController {
  constructor(
    private readonly links: LinkTracking,
    private readonly recorder: TrackingRecorder,
    private readonly deliveries: DeliveryQueries,
  ) {}

  @Get('o/:token')
  async open(@Param('token') token: string, @Res() reply: FastifyReply) {
    const parsed = this.links.signer.verify(token.replace(/\.gif$/, ''));
    if (parsed && parsed.index === OPEN_PIXEL)
      await this.recorder.record({ deliveryId: parsed.deliveryId, status: 'opened', source: 'pixel' });
    return reply.code(200).header('cache-control', 'no-store, max-age=0').type('image/gif').send(GIF);
  }

  @Get(':token')
  async click(@Param('token') token: string, @Res() reply: FastifyReply) {
    const parsed = this.links.signer.verify(token);
    const notFound = () =>
      reply.code(404).type('text/plain; charset=utf-8').send('This link is not valid or has expired.');
    if (!parsed || parsed.index === OPEN_PIXEL) return notFound();
    const url = await this.deliveries.trackedLink(parsed.deliveryId, parsed.index);
    // Stored normalised; checked again so a link stored otherwise can never break the header (a 500).
    const target = url ? normalisedLink(url) : undefined;
    if (target === undefined) return notFound();
    await this.recorder.record({
      deliveryId: parsed.deliveryId,
      status: 'clicked',
      source: 'link',
      detail: { link: parsed.index },
    });
    return reply.code(302).header('cache-control', 'no-store').header('location', target).send();
  }
}
