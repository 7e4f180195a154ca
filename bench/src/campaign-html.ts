/**
 * A marketing e-mail's HTML of about `kb` KiB (a table of offers, as newsletters are built), the
 * same every call: `--html-kb` of the campaign scenarios, to see what a realistic e-mail body costs
 * on the campaign path (each delivery's job carries its rendered content, in Redis and PostgreSQL).
 */
export function campaignHtml(kb: number): string {
  const head =
    '<!doctype html><html><head><meta charset="utf-8"><title>Spring sale</title></head>' +
    '<body style="margin:0;padding:0;background:#f4f4f4"><table role="presentation" width="100%" cellpadding="0" cellspacing="0">';
  const tail =
    '</table><p style="font-size:12px;color:#888">You receive this because you subscribed.</p></body></html>';
  const rows: string[] = [];
  let size = head.length + tail.length;
  for (let i = 1; size < kb * 1024; i++) {
    const row =
      `<tr><td style="padding:12px 24px;font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#333">` +
      `<a href="https://shop.example/offers/${i}?utm_source=clarion&amp;utm_campaign=spring" style="color:#0b5cad">Offer ${i}</a>: ` +
      `everything in aisle ${i} is ${10 + (i % 40)} % off until Sunday.</td></tr>`;
    rows.push(row);
    size += row.length;
  }
  return head + rows.join('') + tail;
}
