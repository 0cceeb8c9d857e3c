import { describe, expect, it } from "vitest";
import type { SessionInfo, SessionView } from "../bindings";
import {
  breakGlassProblem,
  canOpen,
  endsSession,
  errorKind,
  homeFor,
  landing,
  newAdminProblem,
  phaseOf,
  readsAgents,
  screensFor,
  throttle,
  watchesAlerts,
  whoText,
} from "./session";

const info = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  user: "ada",
  role: "clinician",
  service: false,
  locked: false,
  since: "2026-03-01T08:00:00Z",
  idle_lock_minutes: 15,
  ...over,
});
const view = (over: Partial<SessionView> = {}): SessionView => ({ first_run: false, demo_password: null, session: null, ...over });

describe("screens by role", () => {
  it("gives clinicians and nurses the clinical screens, never the audit trail", () => {
    for (const role of ["clinician", "nurse"] as const) {
      for (const s of ["worklist", "patient", "alerts", "import", "settings"] as const) expect(canOpen(role, s)).toBe(true);
      expect(canOpen(role, "audit")).toBe(false);
      expect(homeFor(role)).toBe("worklist");
      expect(watchesAlerts(role)).toBe(true);
    }
  });
  it("keeps IT, auditors and admins away from patient data", () => {
    for (const role of ["it", "auditor", "admin", "monitor"] as const) {
      for (const s of ["worklist", "patient", "alerts", "import"] as const) expect(canOpen(role, s)).toBe(false);
      expect(watchesAlerts(role)).toBe(false);
    }
    expect(screensFor("it")).toEqual(["agents", "settings"]);
    expect(screensFor("auditor")).toEqual(["audit", "settings"]);
    expect(homeFor("auditor")).toBe("audit");
    expect(homeFor("admin")).toBe("settings");
    expect(readsAgents("auditor")).toBe(false);
    expect(readsAgents("it")).toBe(true);
  });
  it("lands on the asked route when allowed, else on the role's first screen", () => {
    expect(landing("clinician", { view: "patient", id: "x" })).toEqual({ view: "patient", id: "x" });
    expect(landing("it", { view: "worklist" })).toEqual({ view: "agents" });
    expect(landing("auditor", { view: "patient", id: "x" })).toEqual({ view: "audit" });
    expect(landing("it", { view: "not_found", hash: "#/x" })).toEqual({ view: "not_found", hash: "#/x" });
  });
});

describe("session phases", () => {
  it("reads the backend's answer", () => {
    expect(phaseOf(null)).toBe("unavailable");
    expect(phaseOf(view({ first_run: true }))).toBe("first_run");
    expect(phaseOf(view())).toBe("signed_out");
    expect(phaseOf(view({ session: info() }))).toBe("active");
    expect(phaseOf(view({ session: info({ locked: true }) }))).toBe("locked");
  });
  it("says who is signed in", () => {
    expect(whoText(info())).toBe("ada (clinician)");
    expect(whoText(info({ role: "it", locked: true }))).toBe("ada (IT, locked)");
  });
});

describe("errors that end the session", () => {
  it("recognises the backend's words (workstation/error.rs)", () => {
    expect(errorKind("the session is locked: unlock it with your password, or sign in as someone else")).toBe("locked");
    expect(errorKind("the session was idle for 15 minutes or more and has been locked; sign in again")).toBe("locked");
    expect(errorKind("the session was idle for 1 minutes or more and has been locked; sign in again")).toBe("locked");
    expect(errorKind("nobody is signed in: sign in first (`vigil login NAME`, or a service token with --token-file)")).toBe("signed_out");
    expect(errorKind("access denied: the it role may not perform patient.list")).toBe("denied");
    expect(errorKind("patient 0193-ab's record is restricted: open it with a reason (break the glass: ...)")).toBe("restricted");
    expect(errorKind("sign-in failed: wrong user name or password")).toBe(null);
    expect(errorKind("this account is locked after repeated wrong passwords until 2026-03-01T08:15:00Z")).toBe(null);
  });
  it("ends the session only for locks and sign-outs", () => {
    expect(endsSession("the session is locked: unlock it")).toBe(true);
    expect(endsSession("nobody is signed in: sign in first")).toBe(true);
    expect(endsSession("access denied: the nurse role may not perform patient.export")).toBe(false);
    // A locked-out account at sign-in is not the session's lock.
    expect(endsSession("this account is locked after repeated wrong passwords until x")).toBe(false);
  });
});

describe("activity throttle", () => {
  it("lets the first input through, then one per interval", () => {
    const due = throttle(20_000);
    expect(due(1_000)).toBe(true);
    expect(due(1_500)).toBe(false);
    expect(due(20_999)).toBe(false);
    expect(due(21_000)).toBe(true);
    expect(due(21_001)).toBe(false);
    expect(due(60_000)).toBe(true);
  });
  it("keeps separate clocks per throttle", () => {
    const a = throttle(10);
    const b = throttle(10);
    expect(a(0)).toBe(true);
    expect(b(5)).toBe(true);
    expect(a(5)).toBe(false);
  });
});

describe("forms", () => {
  it("asks a break-the-glass reason of at least 8 characters", () => {
    expect(breakGlassProblem("")).toMatch(/at least 8 characters \(0 so far\)/);
    expect(breakGlassProblem("   short  ")).toMatch(/\(5 so far\)/);
    expect(breakGlassProblem("cardiac arrest on ward 3")).toBe(null);
    expect(breakGlassProblem("x".repeat(501))).toMatch(/500/);
  });
  it("checks the first administrator's form before asking the backend", () => {
    expect(newAdminProblem("", "long enough pass", "long enough pass")).toMatch(/user name/);
    expect(newAdminProblem("root", "short", "short")).toMatch(/at least 10/);
    expect(newAdminProblem("root", "long enough pass", "long enough pasS")).toMatch(/differ/);
    expect(newAdminProblem("root", "long enough pass", "long enough pass")).toBe(null);
  });
});
