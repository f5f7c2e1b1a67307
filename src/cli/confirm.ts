import { createInterface } from 'node:readline/promises';

/**
 * Asks a yes/no question on the terminal. Whatever was typed before the question appeared is thrown away first:
 * a line typed ahead (an Enter pressed while the plan was computed) must not answer a question the user has not
 * read yet.
 */
export async function confirm(question: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stdout): Promise<boolean> {
  await discardTypeAhead(input);
  const rl = createInterface({ input, output });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Reads and drops what is pending on a terminal (raw mode: partial lines too). */
export async function discardTypeAhead(input: NodeJS.ReadStream, settleMs = 50): Promise<void> {
  if (!input.isTTY) return;
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  const drop = () => undefined;
  input.on('data', drop);
  input.resume();
  await new Promise((r) => setTimeout(r, settleMs));
  input.off('data', drop);
  input.pause();
  input.setRawMode(wasRaw);
}
