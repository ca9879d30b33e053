// gzip for the log rotator and the database archiver: zlib streams (compression runs on libuv's
// thread pool, off the event loop), a SHA-256 of what went in, and a read-back check that the
// written .gz decompresses to exactly those bytes. Callers delete a source only after that.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

export interface GzipResult {
  bytesIn: number;
  bytesOut: number;
  /** SHA-256 (hex) of the uncompressed bytes. */
  sha256: string;
}

function hashingTap(hash: Hash, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * Compresses `source` into `target` (created or truncated), syncs it to disk, then reads it back
 * and checks that it decompresses to the same bytes. Throws on any failure; `target` may then
 * hold a partial file, which the caller removes.
 */
export async function gzipFileVerified(source: string, target: string, signal?: AbortSignal): Promise<GzipResult> {
  const hash = createHash('sha256');
  const counter = { bytes: 0 };
  await pipeline(
    createReadStream(source),
    hashingTap(hash, counter),
    createGzip({ level: 6 }),
    createWriteStream(target),
    signal ? { signal } : {},
  );
  const sha256 = hash.digest('hex');
  // Flushed to the disk before the caller renames it into place and deletes the source: a power
  // cut must not leave an empty archive as the only copy.
  const handle = await open(target, 'r+');
  let bytesOut: number;
  try {
    await handle.sync();
    bytesOut = (await handle.stat()).size;
  } finally {
    await handle.close();
  }
  const back = await gunzipDigest(target, signal);
  if (back.sha256 !== sha256 || back.bytes !== counter.bytes) {
    throw new Error(`${target} does not decompress to what was compressed (read back ${back.bytes} of ${counter.bytes} bytes)`);
  }
  return { bytesIn: counter.bytes, bytesOut, sha256 };
}

/** SHA-256 and length of what a .gz file decompresses to. */
export async function gunzipDigest(file: string, signal?: AbortSignal): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done();
    },
  });
  await pipeline(createReadStream(file), createGunzip(), sink, signal ? { signal } : {});
  return { sha256: hash.digest('hex'), bytes };
}

/** Decompresses a .gz file to `target` (used by `archive` tooling and tests). */
export async function gunzipFile(source: string, target: string): Promise<void> {
  await pipeline(createReadStream(source), createGunzip(), createWriteStream(target));
}
