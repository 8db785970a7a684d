// Builds the offline preview page (index.html + src/) into dist/. The bundle contains Splunk's
// proprietary dashboard packages: it is built on demand and never committed (.gitignore).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
    plugins: [react()],
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
