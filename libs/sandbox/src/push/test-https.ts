import https from 'node:https';

/** A minimal HTTPS POST for the fakes' own tests (the sandbox has no HTTP client dependency). */
export function httpsPost(
  url: string,
  options: { ca: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca: options.ca, headers: options.headers ?? {} },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('error', reject);
    req.end(options.body ?? '');
  });
}
