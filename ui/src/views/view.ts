// What every view gets and gives back.
import type { Route } from "../router";

export interface ViewContext {
  /** Where the view's root goes. */
  main: HTMLElement;
  go(route: Route): void;
}

/** Stops the view's timers and requests' effects. */
export type Unmount = () => void;
