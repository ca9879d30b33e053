// Output into a closed pipe (`mqtt-iot-listener --help | head -1`, `export | head`): the reader
// is gone, so there is nobody left to tell. Writing then fails with EPIPE, which Node raises as an
// 'error' on process.stdout/stderr and, with no listener, as an uncaught exception with a stack
// trace. Here the first EPIPE marks the stream closed (later lines are dropped) and is otherwise
// ignored: a finite command finishes quietly, a streaming one (export) sees its pipeline fail
// with EPIPE and stops reading, and a running listener keeps running on its log file.

const closed = new WeakSet<NodeJS.WritableStream>();
const watched = new WeakSet<NodeJS.WritableStream>();

/** True for the errors a write into a pipe or socket with no reader gives. */
export function isClosedPipe(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END';
}

/** Installs the quiet EPIPE handling on a stream once; other errors are rethrown as before. */
export function endQuietlyOnClosedPipe(stream: NodeJS.WritableStream & { destroyed?: boolean }): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (err: unknown) => {
    if (isClosedPipe(err)) {
      closed.add(stream);
      return;
    }
    throw err;
  });
}

/** Writes unless the stream's reader has gone. */
export function writeIfOpen(stream: NodeJS.WritableStream & { destroyed?: boolean }, text: string): void {
  if (closed.has(stream) || stream.destroyed) return;
  stream.write(text);
}
