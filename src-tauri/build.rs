//! Build script: embeds the Tauri configuration and the front end when the desktop feature is on.
fn main() {}
