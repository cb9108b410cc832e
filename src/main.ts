import { main } from './cli/main.js';

// Entry point of the Node bundle (dist/mino.cjs, started by bin/mino).
void main(process.argv.slice(2));
