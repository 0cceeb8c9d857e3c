//! Build script: with the `desktop` feature, `tauri-build` reads `tauri.conf.json` and checks the
//! front end that `generate_context!` embeds.

fn main() {
    #[cfg(feature = "desktop")]
    {
        if !std::path::Path::new("ui/dist/index.html").exists() {
            println!(
                "cargo::warning=ui/dist is missing: build the front end first (npm --prefix ui ci && npm --prefix ui run build), \
                 or use scripts/test.sh which does it"
            );
        }
        tauri_build::build();
    }
}
