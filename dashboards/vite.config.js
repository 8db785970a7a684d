// Builds the offline preview page (index.html + src/) into dist/. The bundle contains Splunk's
// proprietary dashboard packages: it is built on demand and never committed (.gitignore).
import { defineConfig } from 'vite';

export default defineConfig({
    // esbuild compiles the JSX (React's automatic runtime); no React plugin is needed for a build.
    esbuild: { jsx: 'automatic' },
    base: './',
    logLevel: 'warn',
    define: {
        'process.env.NODE_ENV': JSON.stringify('production'),
        global: 'globalThis',
    },
    build: {
        outDir: 'dist',
        emptyOutDir: true,
        chunkSizeWarningLimit: 20000,
        reportCompressedSize: false,
    },
});
