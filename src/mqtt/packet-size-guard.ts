// Caps the size of MQTT packets a client may send to the embedded broker. Neither aedes nor
// mqtt-packet has a limit: the parser buffers a packet until it is complete, up to the 256 MiB
// the protocol allows. This reads each packet's fixed header (type byte, then the remaining
// length, 1-4 bytes of 7 bits) as the bytes go by and closes the connection as soon as a
// header announces a packet over the cap — before its body is buffered.
import type { Socket } from 'node:net';

/**
 * Watches what is read from `socket` ('data' is emitted for every chunk aedes reads, without
 * taking the flow control from its 'readable' handler) and destroys it on an oversized packet.
 */
export function guardPacketSize(socket: Socket, maxBytes: number, onOversized: (announcedBytes: number) => void): void {
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  const onData = (chunk: Buffer): void => {
    let i = 0;
    while (i < chunk.length) {
      if (state === 'body') {
        const skip = Math.min(remaining, chunk.length - i);
        remaining -= skip;
        i += skip;
        if (remaining === 0) state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (state === 'type') {
        state = 'length';
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      lengthBytes++;
      if (byte & 0x80) {
        if (lengthBytes >= 4) return stop(); // malformed: aedes' parser reports it
        continue;
      }
      const total = 1 + lengthBytes + length;
      if (total > maxBytes) {
        stop();
        onOversized(total);
        socket.destroy();
        return;
      }
      remaining = length;
      state = remaining > 0 ? 'body' : 'type';
    }
  };
  const stop = (): void => {
    socket.off('data', onData);
  };
  socket.on('data', onData);
}
