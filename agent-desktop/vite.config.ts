import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/**
 * The agent desktop bundle: `vite build agent-desktop` → agent-desktop/dist, served at / by
 * server/api/routes/static.ts. No React plugin: Vite's esbuild compiles the JSX (automatic runtime);
 * fast refresh is not needed for a desktop that is rebuilt and reloaded.
 */
export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'chrome100',
    sourcemap: true,
    // JsSIP alone is ~800 kB unminified; one chunk keeps the first paint to one request.
    chunkSizeWarningLimit: 1500,
    // Two pages: the agent desktop at / and the merchant station portal at /merchant (merchant.html).
    rollupOptions: { input: { main: here('./index.html'), merchant: here('./merchant.html') } },
  },
  server: {
    // The desktop imports the typed socket contract from server/api/socket/events.ts.
    fs: { allow: ['..'] },
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'http://127.0.0.1:8080', ws: true },
      '/sip': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
