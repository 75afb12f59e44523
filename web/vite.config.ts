import { defineConfig } from 'vitest/config';

// The service serves dist/ from the same origin as the API (TICKETING_STATIC_DIR). In `npm run dev`
// the API calls are proxied to a running service (TK_API, default http://127.0.0.1:8080).
export default defineConfig({
  base: '/',
  build: {
    outDir: process.env.TK_WEB_OUT || 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/v1': process.env.TK_API || 'http://127.0.0.1:8080' },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['tests/setup.mjs'],
  },
});
