import type { SendError, SendResult } from '@clarion/plugin-sdk';

/** SendGrid's limit: recipients across all personalizations of one request. */
export const SENDGRID_MAX_PERSONALIZATIONS = 1000;
/**
 * SendGrid refuses custom args over 10,000 bytes; whether per message or per request its pages do
 * not say, and the sandbox counts them per request. A request's personalizations stay under this
 * (about 60 deliveries' ids): the safe reading.
 */
export const CUSTOM_ARGS_BUDGET = 9000;

/** What one recipient's personalization carries: its address, and its own headers and custom args. */
export interface Personalization {
  to: { email: string; name?: string };
  headers?: Record<string, string>;
  customArgs: Record<string, string>;
}

/** The rest of the mail, the same for every recipient of one request. */
export interface SharedMail {
  from: { email: string; name?: string };
  replyTo?: { email: string; name?: string };
  subject: string;
  content: { type: string; value: string }[];
  categories?: string[];
}

/** Sends one request (`personalizations` given), answering SendGrid's X-Message-Id and status. */
export type PostMail = (
  apiKey: string,
  mail: SharedMail & { personalizations: Personalization[] },
) => Promise<{ messageId: string | undefined; status: number }>;

/** Turns a failed request into the error each of its deliveries gets (classify.ts). */
export type Classify = (error: unknown) => SendError;

/** The sends of one mail waiting for their request. */
interface Group {
  apiKey: string;
  mail: SharedMail;
  waiting: Waiting[];
  argBytes: number;
  addresses: Set<string>;
}

interface Waiting {
  personalization: Personalization;
  resolve: (result: SendResult) => void;
  reject: (error: SendError) => void;
}

/**
 * Sends the e-mails that arrive together (a campaign's batch job sends its deliveries at once) as
 * one Mail Send request per identical mail, one personalization per recipient: SendGrid's own
 * batch form. Each recipient keeps its own headers (List-Unsubscribe) and custom args (the
 * delivery id its events come back with). A request fails or succeeds whole, so a 400 naming some
 * personalizations' addresses fails those deliveries and sends the others again without them; any
 * other failure is every delivery's. A lone send is a request of one, as before.
 */
export class MailBatcher {
  /** Open groups by the mail's shape (shapeKey); mails of one shape differ at most in their bodies. */
  private groups = new Map<string, Group[]>();
  private scheduled = false;

  constructor(
    private readonly post: PostMail,
    private readonly classify: Classify,
    private readonly max = SENDGRID_MAX_PERSONALIZATIONS,
  ) {}

  send(apiKey: string, mail: SharedMail, personalization: Personalization): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      // Same key and same mail: one request.
      const key = `${apiKey}\u0000${shapeKey(mail)}`;
      const argBytes = Buffer.byteLength(JSON.stringify(personalization.customArgs));
      const address = personalization.to.email.toLowerCase();
      let group = this.groups.get(key)?.find((g) => sameBodies(g.mail, mail));
      if (group && (group.argBytes + argBytes > CUSTOM_ARGS_BUDGET || group.addresses.has(address))) {
        // Full by its custom args, or holding this address already (SendGrid refuses an address
        // twice in one request): it goes now, this send starts the next request.
        this.close(key, group);
        group = undefined;
      }
      if (!group) {
        group = { apiKey, mail, waiting: [], argBytes: 0, addresses: new Set() };
        this.groups.set(key, [...(this.groups.get(key) ?? []), group]);
      }
      group.waiting.push({ personalization, resolve, reject });
      group.argBytes += argBytes;
      group.addresses.add(address);
      if (group.waiting.length >= this.max) {
        this.close(key, group);
      } else if (!this.scheduled) {
        // Sends started in the same turn of the event loop go together; a lone send waits no timer.
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Takes `group` out of the open ones and sends its request. */
  private close(key: string, group: Group): void {
    const rest = (this.groups.get(key) ?? []).filter((g) => g !== group);
    if (rest.length > 0) this.groups.set(key, rest);
    else this.groups.delete(key);
    void this.request(group.apiKey, group.mail, group.waiting);
  }

  private flush(): void {
    this.scheduled = false;
    const groups = this.groups;
    this.groups = new Map();
    for (const open of groups.values()) for (const g of open) void this.request(g.apiKey, g.mail, g.waiting);
  }

  private async request(apiKey: string, mail: SharedMail, waiting: Waiting[], again = false): Promise<void> {
    try {
      const { messageId, status } = await this.post(apiKey, {
        ...mail,
        personalizations: waiting.map((w) => w.personalization),
      });
      const result: SendResult = {
        ...(messageId !== undefined ? { providerMessageId: messageId } : {}),
        details: { status, recipients: waiting.length },
      };
      for (const w of waiting) w.resolve(result);
    } catch (error) {
      const classified = this.classify(error);
      const refused = waiting.length > 1 && !again ? refusedPersonalizations(error) : undefined;
      if (refused === undefined || refused.size === 0 || refused.size === waiting.length) {
        for (const w of waiting) w.reject(classified);
        return;
      }
      // Nothing was sent: the refused addresses fail, the others go again without them (once).
      waiting.forEach((w, i) => {
        if (refused.has(i)) w.reject(classified);
      });
      await this.request(
        apiKey,
        mail,
        waiting.filter((_, i) => !refused.has(i)),
        true,
      );
    }
  }
}

/**
 * The personalizations a 400 refused for their address alone (`personalizations.N.to.0.email`),
 * or undefined when it refused anything else (then the mail itself is wrong, for everyone).
 */
function refusedPersonalizations(error: unknown): Set<number> | undefined {
  const e = error as { code?: unknown; response?: { body?: { errors?: { field?: string | null }[] } } };
  if (e?.code !== 400) return undefined;
  const fields = (e.response?.body?.errors ?? []).map((i) => i?.field ?? '');
  const indexes = fields.map((f) => /^personalizations\.(\d+)\.(to|cc|bcc)\.\d+\.email$/.exec(f)?.[1]);
  if (indexes.length === 0 || indexes.some((i) => i === undefined)) return undefined;
  return new Set(indexes.map(Number));
}

/**
 * The mail's identity without its bodies (their types and lengths instead): a newsletter's 50 KB
 * of HTML is not serialized again for every recipient. Mails of one shape are told apart by
 * comparing their bodies (sameBodies).
 */
function shapeKey(mail: SharedMail): string {
  return JSON.stringify({ ...mail, content: mail.content.map((c) => [c.type, c.value.length]) });
}

/** The same bodies, in the same order (the shapes being equal). */
function sameBodies(a: SharedMail, b: SharedMail): boolean {
  return a.content.every((c, i) => c.value === b.content[i]?.value);
}
