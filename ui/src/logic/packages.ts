// Model packages: which buttons a row offers and what each action will do, in words. Pure.
import type { ModelEventView, PackageRowView } from "../bindings";
import { humanize } from "./format";

const CANDIDATE = ["canary", "shadow"];

export function isCandidate(state: string): boolean {
  return CANDIDATE.includes(state);
}

/**
 * Promote: any version that is not active. Rollback acts on a package *name*: it drops the
 * name's candidate when there is one, otherwise it retires the active version. So the button
 * shows on the one row it would change.
 */
export function packageActions(
  row: PackageRowView,
  all: readonly PackageRowView[],
): { promote: boolean; rollback: boolean } {
  const sameName = all.filter((p) => p.name === row.name && p.agent === row.agent);
  const hasCandidate = sameName.some((p) => isCandidate(p.state));
  const rollback = isCandidate(row.state) || (row.state === "active" && !hasCandidate);
  return { promote: row.state !== "active", rollback };
}

const title = (p: PackageRowView) => `${p.name} ${p.version}`;
const agentName = (agent: string) => humanize(agent).toLowerCase();

/** What promoting `row` will do. */
export function promoteEffect(row: PackageRowView, all: readonly PackageRowView[]): string {
  const agent = agentName(row.agent);
  const active = all.find((p) => p.agent === row.agent && p.state === "active" && p !== row);
  const start = isCandidate(row.state)
    ? `The ${row.state} rollout of ${title(row)} ends: it becomes the active model of the ${agent} agent`
    : `${title(row)} becomes the active model of the ${agent} agent`;
  const after = active
    ? `${title(active)} stops serving and is kept as the previous version (a rollback restores it).`
    : "No model serves this agent now; from the next assessment this one does.";
  return `${start}. ${after}`;
}

/** What rolling back `row` will do. */
export function rollbackEffect(row: PackageRowView, all: readonly PackageRowView[]): string {
  const agent = agentName(row.agent);
  if (isCandidate(row.state)) {
    const active = all.find((p) => p.agent === row.agent && p.state === "active");
    const stays = active ? `${title(active)} stays active.` : "The agent keeps answering with its rules.";
    return `The ${row.state} rollout of ${title(row)} for the ${agent} agent stops and the candidate is dropped. ${stays}`;
  }
  const previous = all.find((p) => p.agent === row.agent && p.state === "previous");
  const then = previous
    ? `${title(previous)} becomes active again.`
    : `There is no previous version: the ${agent} agent answers with its rules alone.`;
  return `${title(row)} stops serving the ${agent} agent. ${then}`;
}

/** Newest first (a copy). */
export function eventsNewestFirst(events: readonly ModelEventView[]): ModelEventView[] {
  return [...events].sort((a, b) => (b.at_ms ?? 0) - (a.at_ms ?? 0));
}

/** "automatic" or the person who did it. */
export function eventActor(e: ModelEventView): string {
  return e.automatic ? "automatic" : e.actor || "unknown";
}

/** Demonstration packages carry this label wherever they appear. */
export const DEMONSTRATION_LABEL = "demonstration model, not for clinical use";
