declare const __MINO_VERSION__: string | undefined;

/** mino's version, injected at build time from package.json. */
export const VERSION: string = typeof __MINO_VERSION__ === 'string' ? __MINO_VERSION__ : '0.0.0-dev';
