/**
 * Ring tone made with WebAudio, no asset: the Chinese ringback cadence (450 Hz, 1 s on, 4 s off) would
 * be too slow to notice, so a desk ring of two short 450/500 Hz bursts every 2 s is used. The
 * AudioContext is created on the login click (a user gesture) so that autoplay rules let it sound later.
 */
export class Ringer {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** How many ring bursts started (for tests and diagnostics). */
  bursts = 0;

  /** Call from a click handler. */
  unlock(): void {
    try {
      this.ctx ??= new AudioContext();
      void this.ctx.resume();
    } catch {
      this.ctx = null;
    }
  }

  start(): void {
    if (this.timer !== null) return;
    this.burst();
    this.timer = setInterval(() => this.burst(), 2000);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  get ringing(): boolean {
    return this.timer !== null;
  }

  private burst(): void {
    this.bursts++;
    const ctx = this.ctx;
    if (!ctx) return;
    const t0 = ctx.currentTime;
    for (const [i, hz] of [450, 500, 450, 500].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = hz;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(ctx.destination);
      const start = t0 + i * 0.2 + (i >= 2 ? 0.2 : 0);
      osc.start(start);
      osc.stop(start + 0.18);
    }
  }

  close(): void {
    this.stop();
    void this.ctx?.close().catch(() => undefined);
    this.ctx = null;
  }
}
