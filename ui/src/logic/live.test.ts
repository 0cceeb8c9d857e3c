import { describe, expect, it } from "vitest";
import type { AlertWatch, RiskPoint } from "../bindings";
import { alert } from "./fixtures";
import { badgeText, bannerLines, escalatedIds, needsReviewText, raisedSummary, timeline } from "./live";

const watch = (critical: [string, boolean, number][], newAlerts = critical.length): AlertWatch => ({
  new_alerts: newAlerts,
  critical: critical.map(([id, escalated, created_ms]) => ({ id, patient_id: `p-${id}`, event: "hypoxia", created_ms, escalated })),
  escalation_minutes: 5,
  at_ms: 0,
});

describe("badgeText", () => {
  it("hides at zero and caps at 99+", () => {
    expect([badgeText(0), badgeText(1), badgeText(99), badgeText(100), badgeText(-1)]).toEqual(["", "1", "99", "99+", ""]);
  });
});

describe("bannerLines", () => {
  it("puts escalated alerts first, then the newest, with names when the inbox has them", () => {
    const lines = bannerLines(watch([["a", false, 1], ["b", false, 3], ["c", true, 2]]), [alert({ id: "b", name: "Ada Example", mrn: "DEMO-0001" })]);
    expect(lines.map((l) => l.id)).toEqual(["c", "b", "a"]);
    expect(lines[0].text).toBe("ESCALATED: Critical hypoxia alert for a patient");
    expect(lines[1].text).toBe("Critical hypoxia alert for Ada Example (DEMO-0001)");
    expect(escalatedIds(watch([["a", false, 1], ["c", true, 2]]))).toEqual(new Set(["c"]));
  });
  it("is empty without a watch", () => {
    expect(bannerLines(null, [])).toEqual([]);
  });
});

describe("raisedSummary and needsReviewText", () => {
  it("counts the raised alerts by level", () => {
    const raised = (risk_level: string) => ({ id: risk_level, patient_id: "p", event: "hypoxia", risk_level, event_time: "" });
    expect(raisedSummary([])).toBe("No alert raised");
    expect(raisedSummary([raised("high"), raised("critical"), raised("critical")])).toBe("3 alerts raised (2 critical, 1 high)");
  });
  it("names the specialties that could not answer", () => {
    expect(needsReviewText([])).toBe("");
    expect(needsReviewText(["early_warning", "cardiac"])).toBe("Needs review: early warning, cardiac unavailable");
  });
});

describe("timeline", () => {
  const point = (at_ms: number, risk_score: number, needs_review: string[] = []): RiskPoint => ({ at_ms, risk_score, risk_level: "low", needs_review, event: null });
  it("maps time to x and score to y, score 1 at the top", () => {
    const g = timeline([point(0, 0), point(50, 0.5), point(100, 1, ["cardiac"])], 200, 100)!;
    expect(g.points).toBe("0,100 100,50 200,0");
    expect(g.review).toEqual([{ x: 200, y: 0 }]);
    expect([g.from, g.to]).toEqual([0, 100]);
  });
  it("is null without history and draws one point at the left", () => {
    expect(timeline([], 10, 10)).toBeNull();
    expect(timeline([point(5, 0.2)], 10, 10)!.points).toBe("0,8");
  });
});
