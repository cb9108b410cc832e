/** Asks a yes/no question on the terminal (question on stderr); an empty answer means No. */
export async function confirm(question: string): Promise<boolean> {
  // readline is loaded only when a question is asked (most commands ask none).
  const { createInterface } = process.getBuiltinModule('node:readline');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(`${question} [y/N] `, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
