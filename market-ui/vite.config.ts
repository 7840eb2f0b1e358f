import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig({
  plugins: [svelte()],
  // The app is static files: any web server, or `vite preview`, serves `dist/`.
  base: "./",
  build: { target: "es2022", chunkSizeWarningLimit: 2048 },
  test: { include: ["src/**/*.test.ts"] },
});
