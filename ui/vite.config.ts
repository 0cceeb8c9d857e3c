import { defineConfig } from "vite";

// The window loads ui/dist (tauri.conf.json "frontendDist"); `npm run dev` serves it for
// `tauri dev`. No network at run time: everything is bundled.
export default defineConfig({
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: { target: "es2022", outDir: "dist", emptyOutDir: true },
  test: { environment: "node" },
});
