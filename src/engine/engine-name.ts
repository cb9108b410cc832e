import { UsageError } from '../common/errors.js';
import { printable } from '../common/printable.js';

/** The engine of this machine: never a registry entry, always available as `--engine local`. */
export const LOCAL_ENGINE = 'local';

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Checks an engine name (`[a-z][a-z0-9-]{0,31}`); throws a UsageError (exit 2) otherwise. */
export function validateEngineName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(
      `Invalid engine name '${printable(name)}'`,
      'Use a lower-case letter followed by up to 31 lower-case letters, digits or -',
    );
  }
  return name;
}
