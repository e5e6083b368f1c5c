import { describe, expect, it } from 'vitest';
import { ECHO_SLOT_BYTES, EchoLine } from '../../../server/media/engine/echo-line.js';

const frame = (fill: number, n = 160) => new Uint8Array(n).fill(fill);

describe('EchoLine', () => {
  it('is sized for the span at 10 ms packets, within the cap', () => {
    expect(new EchoLine(200, 260, 100).slots).toBe(30);
    expect(new EchoLine(2000, 2060, 100).slots).toBe(100);
    expect(new EchoLine(0, 0, 100).slots).toBe(4);
  });

  it('keeps frames in arrival order across the ring’s wrap, as copies of what was received', () => {
    const line = new EchoLine(0, 0, 100); // 4 slots
    const src = frame(0);
    for (let i = 0; i < 10; i++) {
      src.fill(i);
      expect(line.push(1000 + 20 * i, 160 * i, i % 2 === 0 ? 0 : 8, src, 0, 160)).toBe(true);
      src.fill(0xee); // the received packet's memory is reused: the line must not see it
      if (line.length === 3) {
        const head = i - 2;
        expect(line.headAt).toBe(1000 + 20 * head);
        expect(line.headTs).toBe(160 * head);
        expect(line.lastAt).toBe(1000 + 20 * i);
        const e = line.shift()!;
        expect(e.pt).toBe(head % 2 === 0 ? 0 : 8);
        expect(e.data).toEqual(frame(head));
      }
    }
    expect(line.length).toBe(2);
  });

  it('refuses a frame when full or larger than a slot, and stores the payload range asked for', () => {
    const line = new EchoLine(0, 0, 100);
    for (let i = 0; i < 4; i++) expect(line.push(i, i, 0, frame(i), 0, 160)).toBe(true);
    expect(line.full).toBe(true);
    expect(line.push(9, 9, 0, frame(9), 0, 160)).toBe(false);
    for (let i = 0; i < 4; i++) line.drop();
    expect(line.length).toBe(0);
    line.drop();
    expect(line.length).toBe(0);
    expect(line.shift()).toBeNull();
    expect(line.push(0, 0, 0, frame(1, ECHO_SLOT_BYTES + 1), 0, ECHO_SLOT_BYTES + 1)).toBe(false);
    const packet = new Uint8Array(12 + 240);
    packet.fill(7, 12);
    expect(line.push(0, 0, 8, packet, 12, 240)).toBe(true);
    expect(line.shift()!.data).toEqual(frame(7, 240));
  });
});
