// Defence in depth for the support bundle: every text that goes in passes through this, which
// replaces each known secret (plain, base64 and URL-encoded) by ********. Nothing the listener
// writes should hold one, but a bundle is sent to strangers, and a library's debug output
// (--mqtt-debug-log) or a payload echoed in a log line is not ours to vouch for.
import { Transform } from 'node:stream';

const MASK = Buffer.from('********');

/** Each secret in the forms it may take in text. Secrets shorter than 4 characters are ignored (they would mask ordinary words). */
export function secretForms(secrets: Iterable<string>): Buffer[] {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < 4) continue;
    forms.add(s);
    forms.add(Buffer.from(s).toString('base64'));
    forms.add(encodeURIComponent(s));
    forms.add(JSON.stringify(s).slice(1, -1));
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...forms].sort((a, b) => b.length - a.length).map((f) => Buffer.from(f));
}

export function scrubBuffer(data: Buffer, forms: readonly Buffer[]): Buffer {
  let out = data;
  for (const f of forms) {
    let at = out.indexOf(f);
    if (at < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(out.subarray(from, at), MASK);
      from = at + f.length;
      at = out.indexOf(f, from);
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

export function scrubText(text: string, forms: readonly Buffer[]): string {
  return scrubBuffer(Buffer.from(text), forms).toString();
}

/**
 * A stream that masks the secrets, also across chunk boundaries: the last (longest form - 1)
 * bytes of each chunk are held back and scanned together with the next chunk.
 */
export class SecretScrubber extends Transform {
  private held = Buffer.alloc(0);
  private readonly keep: number;

  constructor(private readonly forms: readonly Buffer[]) {
    super();
    this.keep = Math.max(0, ...forms.map((f) => f.length - 1));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    const data = scrubBuffer(Buffer.concat([this.held, chunk]), this.forms);
    const cut = Math.max(0, data.length - this.keep);
    this.held = Buffer.from(data.subarray(cut));
    done(null, data.subarray(0, cut));
  }

  override _flush(done: (err?: Error | null, data?: Buffer) => void): void {
    done(null, scrubBuffer(this.held, this.forms));
  }
}
