import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CHARTS, chartRequest, clampWidth, debounce, utcOffsetSeconds } from "./charts";

describe("chart requests", () => {
  it("clamps the width to what the backend draws", () => {
    expect(clampWidth(0)).toBe(100);
    expect(clampWidth(99.6)).toBe(100);
    expect(clampWidth(612.4)).toBe(612);
    expect(clampWidth(5000)).toBe(4000);
    expect(clampWidth(Number.NaN)).toBe(100);
  });
  it("asks for all six charts at once with the screen's offset", () => {
    const now = new Date(Date.UTC(2026, 0, 1));
    const r = chartRequest("p1", "7d", 640.7, now);
    expect(r).toEqual({
      patient: "p1",
      charts: ["heart_rate", "spo2", "respiratory_rate", "body_temperature", "blood_pressure", "weight"],
      range: "7d",
      width: 641,
      height: 220,
      utc_offset_s: utcOffsetSeconds(now),
      until_ms: null,
    });
    expect(CHARTS).toHaveLength(6);
  });
  it("gives the offset east of UTC in seconds", () => {
    const fake = { getTimezoneOffset: () => -120 } as Date;
    expect(utcOffsetSeconds(fake)).toBe(7200);
  });
});

describe("debounce", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  it("runs once after the last call", () => {
    const fn = vi.fn();
    const run = debounce(fn, 200);
    run(1);
    vi.advanceTimersByTime(150);
    run(2);
    vi.advanceTimersByTime(150);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(60);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(fn).toHaveBeenCalledWith(2);
  });
  it("can be cancelled", () => {
    const fn = vi.fn();
    const run = debounce(fn, 100);
    run();
    run.cancel();
    vi.advanceTimersByTime(500);
    expect(fn).not.toHaveBeenCalled();
  });
});
