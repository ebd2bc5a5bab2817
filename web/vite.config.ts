import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => {
  // `npm run dev` proxies the API to a `plaudit api` (or `plaudit demo`) on PLAUDIT_API.
  const api = loadEnv(mode, ".", "PLAUDIT_").PLAUDIT_API ?? "http://127.0.0.1:8000";
  return {
    plugins: [react()],
    build: {
      // No inline module-preload polyfill: every script is a file, as the CSP wants.
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
    },
    server: { proxy: { "/api": api, "/openapi.json": api } },
  };
});
