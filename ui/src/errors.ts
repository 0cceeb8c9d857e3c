// Backend errors arrive as strings (tauri-specta ErrorHandlingMode::Throw); they reach the
// user in words, in a view's inline message or in the global banner, never only the console.

/** The words of a thrown value. */
export function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "message" in e) return String((e as { message: unknown }).message);
  return String(e);
}

/** Shows `text` in the global `#error-banner` (errors not tied to a view). */
export function showBanner(text: string): void {
  const banner = document.getElementById("error-banner");
  const body = document.getElementById("error-banner-text");
  if (!banner || !body) return;
  body.textContent = text;
  banner.hidden = false;
}

export function hideBanner(): void {
  const banner = document.getElementById("error-banner");
  if (banner) banner.hidden = true;
}
