import WebSocket from 'ws';

/**
 * Minimal socket.io v4 client over a plain WebSocket (Engine.IO 4 framing), because socket.io-client
 * is not installed. Enough for: handshake auth, events, acknowledgements, ping/pong.
 */
export class TestSocket {
  readonly events: Array<{ event: string; data: unknown }> = [];
  private nextAck = 1;
  private readonly acks = new Map<number, (v: unknown) => void>();
  private waiters: Array<{ event: string; pred: (d: unknown) => boolean; resolve: (d: unknown) => void }> = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const s = raw.toString();
      if (s === '2') ws.send('3');
      else if (s.startsWith('42')) {
        const [event, data] = JSON.parse(s.slice(2)) as [string, unknown];
        this.events.push({ event, data });
        this.waiters = this.waiters.filter((w) => {
          if (w.event !== event || !w.pred(data)) return true;
          w.resolve(data);
          return false;
        });
      } else if (s.startsWith('43')) {
        const m = /^43(\d+)(.*)$/s.exec(s)!;
        const [data] = JSON.parse(m[2]!) as [unknown];
        this.acks.get(Number(m[1]))?.(data);
      }
    });
  }

  /** Resolves once connected, rejects with the server's connect_error message. */
  static connect(port: number, auth: object): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
      const sock = new TestSocket(ws);
      ws.on('error', reject);
      ws.on('message', function first(raw) {
        const s = raw.toString();
        if (s.startsWith('0')) ws.send(`40${JSON.stringify(auth)}`);
        else if (s.startsWith('40')) {
          ws.off('message', first);
          resolve(sock);
        } else if (s.startsWith('44')) {
          ws.off('message', first);
          ws.close();
          reject(new Error((JSON.parse(s.slice(2)) as { message: string }).message));
        }
      });
    });
  }

  request<T = unknown>(event: string, payload: unknown): Promise<T> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ack for ${event}`)), 3000);
      this.acks.set(id, (v) => {
        clearTimeout(t);
        resolve(v as T);
      });
      this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  waitFor<T = unknown>(event: string, pred: (d: T) => boolean = () => true, ms = 3000): Promise<T> {
    const seen = this.events.find((e) => e.event === event && pred(e.data as T));
    if (seen) return Promise.resolve(seen.data as T);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${event} event`)), ms);
      this.waiters.push({
        event,
        pred: pred as (d: unknown) => boolean,
        resolve: (d) => {
          clearTimeout(t);
          resolve(d as T);
        },
      });
    });
  }

  get closed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING;
  }

  close(): void {
    this.ws.close();
  }
}
